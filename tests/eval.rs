//! Snapshots of reports: small fixtures (rules, `---`, trace) and the shipped sample traces.

mod common;

use tariff::driver::Options;

fn run_fixture(src: &str, name: &str) -> String {
    let (rules, trace) = src
        .split_once("\n---\n")
        .expect("a fixture is rules, a `---` line, then the trace");
    let m = common::model(rules, name);
    let opts = Options {
        keep_going: true,
        ..Options::default()
    };
    match common::eval(&m, trace, opts) {
        Ok(r) => format!("{}\n\n{}", r.to_table(), r.to_json()),
        Err(e) => format!("stopped: {e:?}"),
    }
}

#[test]
fn eval_fixtures() {
    insta::glob!("fixtures/eval/*.tariff", |path| {
        let src = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        insta::with_settings!({ description => src.trim_end(), omit_expression => true }, {
            insta::assert_snapshot!(run_fixture(&src, &name));
        });
    });
}

#[test]
fn sample_traces() {
    for product in [
        "tencent-ses",
        "tencent-smop",
        "aliyun-sms",
        "huawei-koomessage",
    ] {
        let rules = format!("rules/{product}.tariff");
        let trace = format!("traces/{product}-sample.jsonl");
        let (Ok(text), Ok(trace_text)) = (
            std::fs::read_to_string(&rules),
            std::fs::read_to_string(&trace),
        ) else {
            continue;
        };
        let m = common::model(&text, &rules);
        let report = common::eval(&m, &trace_text, Options::default())
            .unwrap_or_else(|e| panic!("{trace}: {e:?}"));
        assert!(
            report.invalid.is_empty(),
            "{trace} has invalid lines: {:?}",
            report.invalid
        );
        insta::assert_snapshot!(format!("sample_{product}"), report.to_json());
    }
}

#[test]
fn same_input_same_bytes() {
    let text = std::fs::read_to_string("rules/tencent-ses.tariff").unwrap();
    let trace = std::fs::read_to_string("traces/tencent-ses-sample.jsonl").unwrap();
    let m = common::model(&text, "rules/tencent-ses.tariff");
    let a = common::eval(&m, &trace, Options::default())
        .unwrap()
        .to_json();
    let b = common::eval(&m, &trace, Options::default())
        .unwrap()
        .to_json();
    assert_eq!(a, b);
}

/// The README's worked example prints what the README says it prints.
#[test]
fn readme_example_is_current() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let marker = "`tariff eval rules/tencent-ses.tariff traces/example.jsonl` prints:\n\n```\n";
    let start = readme.find(marker).expect("the README shows the example") + marker.len();
    let shown = &readme[start..start + readme[start..].find("```").unwrap()];
    let text = std::fs::read_to_string("rules/tencent-ses.tariff").unwrap();
    let m = common::model(&text, "rules/tencent-ses.tariff");
    let trace = std::fs::read_to_string("traces/example.jsonl").unwrap();
    let report = common::eval(&m, &trace, Options::default()).unwrap();
    assert_eq!(shown.trim_end(), report.to_table().trim_end());
}
