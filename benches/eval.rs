//! Benchmarks: parsing trace lines, evaluating them, and checking the shipped rules.
//!
//! The trace is generated (`tariff::gen`) for the SES rules: 200,000 events of one account.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tariff::check::CheckOptions;
use tariff::driver::{Options, Run};
use tariff::model::{Model, compile};

const EVENTS: u64 = 200_000;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn model(rel: &str) -> (Model, String) {
    let text = std::fs::read_to_string(root().join(rel)).expect("rules readable");
    let file = tariff::parse_file(&text).expect("rules parse");
    let m = compile(&file, &text, rel).expect("rules compile");
    (m, text)
}

fn trace(m: &Model) -> String {
    let opts = tariff::r#gen::GenOptions {
        events: EVENTS,
        accounts: 1,
        seed: 1,
        start: chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00+08:00").expect("time"),
        days: 90,
    };
    let mut out = Vec::new();
    tariff::r#gen::generate(m, &opts, &mut out).expect("generated");
    String::from_utf8(out).expect("utf-8")
}

fn bench_trace(c: &mut Criterion) {
    let (m, _) = model("rules/tencent-ses.tariff");
    let t = trace(&m);
    let lines: Vec<&str> = t.lines().collect();
    let mut g = c.benchmark_group("trace");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(lines.len() as u64));
    g.bench_function("parse_only", |b| {
        b.iter(|| {
            for (i, l) in lines.iter().enumerate() {
                black_box(tariff::trace::parse_line(&m, l, i as u64 + 1).ok());
            }
        })
    });
    g.bench_function("eval", |b| {
        b.iter(|| {
            let mut run = Run::new(&m, Options::default());
            for (i, l) in lines.iter().enumerate() {
                run.line(l, i as u64 + 1).expect("valid line");
            }
            black_box(run.finish().expect("report"))
        })
    });
    g.finish();
}

fn bench_check(c: &mut Criterion) {
    let dir = root().join("rules");
    let mut files: Vec<(String, CheckOptions)> = Vec::new();
    for name in [
        "aliyun-sms.tariff",
        "huawei-koomessage.tariff",
        "tencent-ses.tariff",
        "tencent-smop.tariff",
    ] {
        let text = std::fs::read_to_string(dir.join(name)).expect("rules readable");
        let mut source_dirs = vec![dir.clone()];
        let seeds = root().join("../shared/seeds");
        if seeds.is_dir() {
            source_dirs.push(seeds);
        }
        files.push((text, CheckOptions { source_dirs }));
    }
    let mut g = c.benchmark_group("check");
    g.sample_size(20)
        .throughput(Throughput::Elements(files.len() as u64));
    g.bench_function("shipped_rules", |b| {
        b.iter(|| {
            for (text, opts) in &files {
                black_box(tariff::cli::check_text(text, opts));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench_trace, bench_check);
criterion_main!(benches);
