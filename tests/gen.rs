//! The trace generator: deterministic, valid for `tariff eval`, and mostly usage.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use tariff::r#gen::{GenOptions, generate};

const RULES: [&str; 4] = [
    "rules/aliyun-sms.tariff",
    "rules/huawei-koomessage.tariff",
    "rules/tencent-ses.tariff",
    "rules/tencent-smop.tariff",
];

fn opts(events: u64, accounts: u32, seed: u64) -> GenOptions {
    GenOptions {
        events,
        accounts,
        seed,
        start: chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00+08:00").unwrap(),
        days: 90,
    }
}

fn trace(rules: &str, o: &GenOptions) -> Vec<u8> {
    let path = format!("{}/{rules}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let m = common::model(&text, rules);
    let mut out = Vec::new();
    let s = generate(&m, o, &mut out).unwrap();
    assert_eq!(s.lines, o.events);
    out
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    for rules in RULES {
        let a = trace(rules, &opts(5_000, 3, 42));
        let b = trace(rules, &opts(5_000, 3, 42));
        let c = trace(rules, &opts(5_000, 3, 43));
        assert_eq!(a, b, "{rules}: same seed, different trace");
        assert_ne!(a, c, "{rules}: different seeds, same trace");
    }
}

#[test]
fn usage_dominates_and_times_never_go_back() {
    for rules in RULES {
        let t = String::from_utf8(trace(rules, &opts(20_000, 3, 1))).unwrap();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 20_000);
        let usage = lines
            .iter()
            .filter(|l| l.contains("\"type\":\"usage\""))
            .count();
        assert!(
            usage * 100 >= lines.len() * 90,
            "{rules}: {usage} usage lines"
        );
        assert!(
            usage < lines.len(),
            "{rules}: nothing but usage, no purchases or top-ups"
        );
        // Same offset, fixed-width times: text order is time order.
        let at = |l: &str| l[7..32].to_string();
        assert!(
            lines.windows(2).all(|w| at(w[0]) <= at(w[1])),
            "{rules}: time goes back"
        );
    }
}

#[test]
fn every_generated_line_is_valid_for_eval() {
    let bin = env!("CARGO_BIN_EXE_tariff");
    let root = env!("CARGO_MANIFEST_DIR");
    for rules in RULES {
        let path = format!("{root}/{rules}");
        let g = Command::new(bin)
            .args([
                "gen",
                &path,
                "--events",
                "20000",
                "--accounts",
                "3",
                "--seed",
                "7",
            ])
            .output()
            .unwrap();
        assert!(
            g.status.success(),
            "{rules}: gen failed: {}",
            String::from_utf8_lossy(&g.stderr)
        );
        assert_eq!(g.stdout.iter().filter(|&&b| b == b'\n').count(), 20_000);
        let mut e = Command::new(bin)
            .args(["eval", &path, "-", "--format", "json", "--keep-going"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = e.stdin.take().unwrap();
        let input = g.stdout.clone();
        let feeder = std::thread::spawn(move || stdin.write_all(&input));
        let out = e.wait_with_output().unwrap();
        feeder.join().unwrap().unwrap();
        assert!(
            out.status.success(),
            "{rules}: eval failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            report["invalid"].as_array().map(Vec::len),
            Some(0),
            "{rules}: invalid lines: {}",
            report["invalid"]
        );
        assert_eq!(report["accounts"].as_array().map(Vec::len), Some(3));
    }
}

#[test]
fn bad_options_are_refused() {
    let m = common::model(
        "product p \"p\" {\n  currency USD\n  timezone UTC\n  meter call\n  price x: 1 USD per call\n}\n",
        "p.tariff",
    );
    let mut out = Vec::new();
    assert!(generate(&m, &opts(10, 0, 1), &mut out).is_err());
    let mut o = opts(10, 1, 1);
    o.days = 0;
    assert!(generate(&m, &o, &mut out).is_err());
    // A tiny product still gets a trace: usage and the odd top-up.
    out.clear();
    let s = generate(&m, &opts(100, 2, 1), &mut out).unwrap();
    assert!(s.usage >= 90, "{s:?}");
    let mut run = tariff::driver::Run::new(&m, tariff::driver::Options::default());
    for (i, l) in String::from_utf8(out).unwrap().lines().enumerate() {
        run.line(l, i as u64 + 1).unwrap();
    }
}

#[test]
fn the_json_report_is_the_same_written_on_any_number_of_threads() {
    for rules in RULES {
        let o = opts(4_000, 150, 7);
        let t = trace(rules, &o);
        let path = format!("{}/{rules}", env!("CARGO_MANIFEST_DIR"));
        let m = common::model(&std::fs::read_to_string(&path).unwrap(), rules);
        let opts = tariff::driver::Options {
            keep_going: true,
            ..Default::default()
        };
        let report = tariff::parallel::eval_stream(&m, &opts, &t[..], 2).unwrap();
        assert!(report.accounts.len() > 100, "{rules}");
        let one_pass = serde_json::to_string_pretty(&report).unwrap();
        for jobs in [1, 2, 3, 8] {
            assert_eq!(
                report.to_json_on(jobs),
                one_pass,
                "{rules} on {jobs} threads"
            );
        }
        let mut empty = report.clone();
        empty.accounts.clear();
        assert_eq!(
            empty.to_json(),
            serde_json::to_string_pretty(&empty).unwrap()
        );
    }
}
