//! Hostile input: a catalogue of rule files and trace lines that are invalid, unusual or built
//! to overflow, each with its documented outcome (a diagnostic and exit 1, an invalid line
//! naming its field, or a correct evaluation); and a million-line trace with one bad line.
//!
//! CLI cases run the debug binary with a deadline, so that no case can hang the suite.

mod common;

use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant as Clock};

use rust_decimal::Decimal;
use serde_json::Value;
use tariff::driver::{Options, Run, Stop};
use tariff::model::Model;
use tariff::trace::parse_line;

/// A product with tiers, a fractional meter, a package and a prorated resource.
const RULES: &str = r#"product hostile "hostile inputs" {
  currency USD
  timezone +08:00

  meter email
  meter gb: fractional

  package pkg: 1_000 email for 5 USD, valid 1 month, lifecycle allowance

  draw email: packages, then payg

  price mail: email, graduated by month volume of email {
    first 1_000 email: 2 USD per email
    above 1_000 email: 9 USD per email
  }
  price storage: 1.5 USD per gb

  param notify = on

  resource ip: 120 USD per month, prorated by days enabled, billed monthly on day 1 at 08:00, lifecycle ip

  bill usage: daily at 00:00

  lifecycle allowance {
    state active: usable
    state exhausted: usable
    state expired: final, drops quota
    active -> exhausted when empty
    exhausted -> active when refilled
    active, exhausted -> expired at expiry
  }

  lifecycle ip {
    state enabled: billed
    state disabled: final
    enabled -> disabled on disable
  }
}
"#;

/// Resource fees near the decimal maximum: prorated, and per unit over many units.
const HUGE_FEES: &str = r#"product huge "huge fees" {
  currency USD
  timezone UTC

  resource big: 9_000_000_000_000_000_000_000_000_000 USD per month, prorated by days enabled, billed monthly on day 1 at 00:00, lifecycle unit
  resource many: 1_000_000_000_000_000_000_000_000 USD per month, billed monthly on day 1 at 00:00, lifecycle unit

  lifecycle unit {
    state enabled: billed
    state disabled: final
    enabled -> disabled on disable
  }
}
"#;

/// Longest a CLI case may take (debug build, busy machine); they take well under a second.
const LIMIT: Duration = Duration::from_secs(30);

fn model() -> Model {
    common::model(RULES, "hostile.tariff")
}

/// A fresh path in this test process's scratch directory.
fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("tariff-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir.join(format!("{}-{name}", N.fetch_add(1, Ordering::Relaxed)))
}

fn write(name: &str, bytes: impl AsRef<[u8]>) -> String {
    let p = scratch(name);
    std::fs::write(&p, bytes).expect("scratch file");
    p.display().to_string()
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// A CLI run in progress, writing to scratch files.
struct Running {
    child: std::process::Child,
    args: String,
    out: (PathBuf, PathBuf),
    start: Clock,
}

fn spawn(args: &[&str]) -> Running {
    let out = (scratch("stdout"), scratch("stderr"));
    let child = Command::new(env!("CARGO_BIN_EXE_tariff"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(File::create(&out.0).unwrap())
        .stderr(File::create(&out.1).unwrap())
        .spawn()
        .expect("the tariff binary runs");
    Running {
        child,
        args: args.join(" "),
        out,
        start: Clock::now(),
    }
}

impl Running {
    /// Waits for the end; a run past `limit` is killed and fails the test.
    fn wait(mut self, limit: Duration) -> Out {
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if self.start.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("`tariff {}` took more than {limit:?}", self.args);
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let read = |p: &PathBuf| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
        Out {
            code: status.code().unwrap_or(-1),
            stdout: read(&self.out.0),
            stderr: read(&self.out.1),
        }
    }
}

/// Runs the CLI; a run past [`LIMIT`] is killed and fails the test.
fn tariff(args: &[&str]) -> Out {
    spawn(args).wait(LIMIT)
}

/// `tariff check --format json` on `bytes`: the exit code and the diagnostic codes.
fn check(bytes: impl AsRef<[u8]>) -> (i32, Vec<String>) {
    let f = write("rules.tariff", bytes);
    let o = tariff(&["check", "--format", "json", &f]);
    let _ = std::fs::remove_file(&f);
    let codes = o
        .stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("one JSON diagnostic per line");
            v["code"].as_str().unwrap().to_string()
        })
        .collect();
    (o.code, codes)
}

/// Asserts exit 1 with `code` among the diagnostics.
fn rejects(bytes: impl AsRef<[u8]>, code: &str) {
    let (exit, codes) = check(bytes);
    assert_eq!(exit, 1, "expected exit 1 with {code}, got {codes:?}");
    assert!(
        codes.iter().any(|c| c == code),
        "expected {code}, got {codes:?}"
    );
}

/// `RULES` with `decl` added before the closing brace.
fn with(decl: &str) -> String {
    let body = RULES.trim_end().strip_suffix('}').unwrap();
    format!("{body}\n{decl}\n}}\n")
}

/// A usage line of `meter` at `at` with a raw JSON `quantity`.
fn usage(at: &str, meter: &str, quantity: &str) -> String {
    format!(r#"{{"at":"{at}","type":"usage","meter":"{meter}","quantity":{quantity}}}"#)
}

const T0: &str = "2026-01-01T00:00:00+08:00";

fn dec(v: &Value) -> Decimal {
    v.as_str().expect("a decimal string").parse().unwrap()
}

/// Evaluates with `--keep-going` through the library; the report as JSON, totals checked.
fn eval(m: &Model, trace: &str) -> Value {
    let opts = Options {
        keep_going: true,
        ..Options::default()
    };
    let r = common::eval(m, trace, opts).unwrap_or_else(|e| panic!("stopped: {e:?}"));
    let v: Value = serde_json::from_str(&r.to_json()).unwrap();
    for a in v["accounts"].as_array().unwrap() {
        let t = &a["totals"];
        assert_eq!(
            dec(&t["charged"]),
            dec(&t["paid"]) + dec(&t["outstanding"]) + dec(&t["unbilled"]),
            "charged = paid + outstanding + unbilled"
        );
        let sum: Decimal = a["charges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| dec(&c["amount"]))
            .sum();
        assert_eq!(dec(&t["charged"]), sum, "charged is the sum of the charges");
    }
    v
}

fn account<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == name)
        .unwrap_or_else(|| panic!("no account {name}"))
}

/// Evaluation fails with an overflow naming `line`.
fn overflows(m: &Model, trace: &str, line: u64) {
    match common::eval(m, trace, Options::default()) {
        Err(Stop::Eval(e)) => {
            assert!(e.message.contains("overflow"), "{e}");
            assert_eq!(e.line, Some(line), "{e}");
        }
        Err(Stop::Line(l, e)) => panic!("line {l} rejected instead: {e}"),
        Ok(r) => panic!("no overflow; totals {:?}", r.accounts[0].totals),
    }
}

// ---------------------------------------------------------------------------------------------
// Rule files: each invalid one is a clean diagnostic (code asserted) and exit 1.

#[test]
fn rule_file_empty() {
    rejects("", "tariff::check::no_product");
}

#[test]
fn rule_file_binary() {
    // Control bytes are valid UTF-8 but not the language.
    rejects(
        b"\x00\x01binary\x02\x7f".repeat(100),
        "tariff::parse::syntax",
    );
}

#[test]
fn rule_file_invalid_utf8() {
    let mut bytes = RULES.as_bytes().to_vec();
    bytes.splice(20..20, [0xff, 0xfe, 0xc3]);
    rejects(bytes, "tariff::io::unreadable");
}

#[test]
fn rule_file_random_bytes() {
    rejects(
        (0..=255u8).cycle().take(4096).collect::<Vec<u8>>(),
        "tariff::io::unreadable",
    );
}

#[test]
fn rule_file_byte_order_mark() {
    // A mark at the start, as some editors write it, is not part of the text.
    assert_eq!(check(format!("\u{feff}{RULES}")), check(RULES));
    // Anywhere else it is a character the language does not have.
    rejects(format!("{RULES}\u{feff}"), "tariff::parse::syntax");
}

#[test]
fn rule_file_ten_thousand_nested_braces() {
    let deep = format!("{}{}", "{".repeat(10_000), "}".repeat(10_000));
    rejects(&deep, "tariff::parse::syntax");
    let inside = format!("product p \"p\" {deep}");
    rejects(&inside, "tariff::parse::syntax");
    // `eval` refuses such rules with exit 1 before reading the trace.
    let f = write("deep.tariff", &inside);
    let t = write("t.jsonl", usage(T0, "email", "1"));
    assert_eq!(tariff(&["eval", &f, &t]).code, 1);
}

#[test]
fn rule_file_ten_megabyte_comment_is_valid() {
    // Unusual but valid: a 10 MB comment line changes nothing.
    let text = format!("# {}\n{RULES}", "x".repeat(10_000_000));
    let diags = tariff::cli::check_text(&text, &Default::default());
    assert!(
        diags
            .iter()
            .all(|d| d.severity != tariff::diag::Severity::Error),
        "{diags:?}"
    );
}

#[test]
fn rule_file_ten_megabyte_garbage_line() {
    rejects(
        format!("product p \"p\" {{\n{}\n}}\n", "@".repeat(10_000_000)),
        "tariff::parse::syntax",
    );
}

#[test]
fn rule_file_number_past_decimal_range() {
    rejects(
        with("  price big: 99999999999999999999999999999999 USD per gb"),
        "tariff::parse::number",
    );
    rejects(
        with("  package huge: 79228162514264337593543950336 email for 1 USD, lifecycle allowance"),
        "tariff::parse::number",
    );
}

#[test]
fn rule_file_price_with_forty_decimal_places() {
    rejects(
        with("  price tiny: 0.1234567890123456789012345678901234567890 USD per gb"),
        "tariff::parse::number",
    );
}

#[test]
fn rule_file_billion_month_validity() {
    rejects(
        with(
            "  package forever: 10 email for 1 USD, valid 1_000_000_000 months, lifecycle allowance",
        ),
        "tariff::check::duration_too_long",
    );
}

#[test]
fn rule_file_impossible_example_date() {
    rejects(
        with("  example \"feb 30\" {\n    2026-02-30 usage 1 email\n    expect charged 2 USD\n  }"),
        "tariff::check::bad_date",
    );
}

#[test]
fn rule_file_duplicate_item_compiles_to_an_error() {
    // Found by fuzzing: compiling a file whose items share a name indexed past the end.
    let text = with("  package pkg: 10 email for 1 USD, lifecycle allowance");
    let file = tariff::parse_file(&text).expect("parses");
    let errs = tariff::model::compile(&file, &text, "dup.tariff").expect_err("an error");
    assert!(
        errs.iter()
            .any(|d| d.code == "tariff::check::duplicate_name")
    );
    rejects(&text, "tariff::check::duplicate_item");
}

#[test]
fn examples_in_year_9999_and_before_1970() {
    // Unusual but valid: the examples' own expectations hold (`tariff test` exit 0).
    let text = with(
        r#"  package long: 10 email for 1 USD, valid 100_000 months, lifecycle allowance
  example "the last year" {
    9999-12-30 usage 2 email
    until 9999-12-31 23:00
    expect charged 4 USD
    expect bills = 1
  }
  example "a package bought in December 9999 expires in year 10000" {
    9999-12-01 purchase pkg
    9999-12-02 usage 5 email
    expect remaining pkg#1 = 995
    expect charged 5 USD
  }
  example "before the epoch" {
    1969-07-20 20:17 usage 1 email
    expect charged 2 USD
  }
  example "a validity of 100,000 months" {
    2026-01-01 purchase long
    2026-01-02 usage 5 email
    expect remaining long#1 = 5
  }"#,
    );
    let m = common::model(&text, "dates.tariff");
    assert_eq!(m.examples.len(), 4);
    for (ex, rule) in &m.examples {
        tariff::examples::run_example(&m, ex).unwrap_or_else(|p| panic!("{rule}: {p:?}"));
    }
    let f = write("dates.tariff", &text);
    let o = tariff(&["test", &f]);
    assert_eq!(o.code, 0, "{}", o.stdout);
    assert!(o.stdout.contains("4 passed, 0 failed"), "{}", o.stdout);
}

// ---------------------------------------------------------------------------------------------
// Trace lines: each bad one is invalid, naming its field (None: the line is not a JSON object).

#[test]
fn invalid_trace_lines_name_their_field() {
    let m = model();
    let a = format!(r#""at":"{T0}""#);
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let cases: Vec<(String, Option<&str>)> = vec![
        // Not JSON objects.
        ("{".into(), None),
        ("[1,2,3]".into(), None),
        (deep, None),
        ("\u{feff}{}".into(), None),
        (
            format!("{{{a},\"type\":\"usage\",\"meter\":\"email\",\"quantity\":NaN}}"),
            None,
        ),
        (
            format!("{{{a},\"type\":\"usage\",\"meter\":\"email\",\"quantity\":0x10}}"),
            None,
        ),
        // Numbers that cannot be held exactly, or are not positive.
        (usage(T0, "email", "1e30"), Some("quantity")),
        (
            usage(T0, "email", "79228162514264337593543950335"),
            Some("quantity"),
        ),
        (
            usage(T0, "email", "792281625142643375935439503351"),
            Some("quantity"),
        ),
        (usage(T0, "email", "\"1e-40\""), Some("quantity")),
        (
            usage(T0, "gb", "0.0000000000000000000000000000000000000001"),
            Some("quantity"),
        ),
        (usage(T0, "email", "-0"), Some("quantity")),
        (usage(T0, "email", "\"0\""), Some("quantity")),
        (usage(T0, "email", "0"), Some("quantity")),
        (usage(T0, "email", "-5"), Some("quantity")),
        (usage(T0, "email", "1.5"), Some("quantity")),
        (usage(T0, "email", "\"abc\""), Some("quantity")),
        (usage(T0, "email", "true"), Some("quantity")),
        (
            format!("{{{a},\"type\":\"topup\",\"amount\":99999999999999999999999999999}}"),
            Some("amount"),
        ),
        (
            format!("{{{a},\"type\":\"topup\",\"amount\":\"-1\"}}"),
            Some("amount"),
        ),
        // Times.
        (usage("2026-01-01T00:00:00", "email", "1"), Some("at")),
        (usage("2026-01-01", "email", "1"), Some("at")),
        (usage("10000-01-01T00:00:00Z", "email", "1"), Some("at")),
        (usage("2026-02-30T00:00:00Z", "email", "1"), Some("at")),
        (
            r#"{"at":1767225600,"type":"usage","meter":"email"}"#.into(),
            Some("at"),
        ),
        (r#"{"type":"usage","meter":"email"}"#.into(), Some("at")),
        // Duplicate keys.
        (
            format!("{{{a},{a},\"type\":\"usage\",\"meter\":\"email\"}}"),
            Some("at"),
        ),
        (
            format!("{{{a},\"type\":\"usage\",\"meter\":\"email\",\"quantity\":1,\"quantity\":2}}"),
            Some("quantity"),
        ),
        // Types, names and operations.
        (format!("{{{a},\"type\":\"teleport\"}}"), Some("type")),
        (format!("{{{a}}}"), Some("type")),
        (
            format!("{{{a},\"type\":\"usage\",\"meter\":\"sms\"}}"),
            Some("meter"),
        ),
        (
            format!("{{{a},\"type\":\"usage\",\"meter\":\"email\",\"dims\":[1]}}"),
            Some("dims"),
        ),
        (
            format!("{{{a},\"type\":\"usage\",\"meter\":\"email\",\"dims\":{{\"x\":\"y\"}}}}"),
            Some("dims"),
        ),
        (
            format!("{{{a},\"type\":\"usage\",\"meter\":\"email\",\"account\":7}}"),
            Some("account"),
        ),
        (
            format!("{{{a},\"type\":\"purchase\",\"item\":\"ip\"}}"),
            Some("item"),
        ),
        (
            format!("{{{a},\"type\":\"enable\",\"item\":\"pkg\"}}"),
            Some("item"),
        ),
        (
            format!("{{{a},\"type\":\"renew\",\"item\":\"pkg\"}}"),
            Some("item"),
        ),
        (
            format!("{{{a},\"type\":\"purchase\",\"item\":\"pkg\",\"periods\":1201}}"),
            Some("periods"),
        ),
        (
            format!("{{{a},\"type\":\"purchase\",\"item\":\"pkg\",\"periods\":1.5}}"),
            Some("periods"),
        ),
        (
            format!("{{{a},\"type\":\"purchase\",\"item\":\"pkg\",\"quantity\":1000001}}"),
            Some("quantity"),
        ),
        (
            format!("{{{a},\"type\":\"enable\",\"item\":\"ip\",\"quantity\":100001}}"),
            Some("quantity"),
        ),
        (
            format!("{{{a},\"type\":\"set\",\"name\":\"volume\",\"value\":1}}"),
            Some("name"),
        ),
        (
            format!("{{{a},\"type\":\"set\",\"name\":\"notify\",\"value\":\"on\"}}"),
            Some("value"),
        ),
        (
            format!("{{{a},\"type\":\"set\",\"name\":\"notify\",\"value\":null}}"),
            Some("value"),
        ),
    ];
    for (line, field) in &cases {
        match parse_line(&m, line, 1) {
            Err(e) => {
                let shown: String = line.chars().take(80).collect();
                assert_eq!(e.field, *field, "{shown}: {e}");
                if field.is_none() {
                    assert!(e.message.starts_with("not a JSON object"), "{shown}: {e}");
                }
            }
            Ok(p) => panic!("accepted: {line}: {p:?}"),
        }
    }
    assert!(cases.len() >= 40);
}

#[test]
fn duplicate_key_message_says_so() {
    let line = format!(r#"{{"at":"{T0}","at":"{T0}","type":"usage","meter":"email"}}"#);
    let e = parse_line(&model(), &line, 1).unwrap_err();
    assert!(e.message.contains("given twice"), "{e}");
}

#[test]
fn blank_and_whitespace_lines_are_skipped() {
    let m = model();
    for blank in ["", "   ", "\t", "\r"] {
        assert!(parse_line(&m, blank, 1).unwrap().is_none());
    }
}

#[test]
fn trace_going_back_in_time() {
    let m = model();
    let trace = [
        usage("2026-01-02T00:00:00+08:00", "email", "1"),
        usage("2026-01-01T00:00:00+08:00", "email", "1"),
        // Another account has its own clock.
        r#"{"at":"2025-01-01T00:00:00Z","type":"usage","meter":"email","account":"b"}"#.to_string(),
    ]
    .join("\n");
    let v = eval(&m, &trace);
    assert_eq!(v["invalid"].as_array().unwrap().len(), 1);
    assert_eq!(v["invalid"][0]["line"], 2);
    assert!(
        v["invalid"][0]["error"]
            .as_str()
            .unwrap()
            .starts_with("field `at`: time goes back")
    );
    match common::eval(&m, &trace, Options::default()) {
        Err(Stop::Line(2, e)) => assert_eq!(e.field, Some("at")),
        other => panic!("expected line 2 to stop the run: {other:?}"),
    }
    let t = write("t.jsonl", &trace);
    let o = tariff(&["eval", &write("h.tariff", RULES), &t]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("tariff::trace::invalid_line"),
        "{}",
        o.stderr
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn unknown_event_type_cli() {
    let t = write(
        "t.jsonl",
        format!(
            "{}\n{{\"at\":\"{T0}\",\"type\":\"refund\"}}\n",
            usage(T0, "email", "1")
        ),
    );
    let rules = write("h.tariff", RULES);
    let o = tariff(&["eval", &rules, &t]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains(":2: field `type`: unknown type `refund`"),
        "{}",
        o.stderr
    );
    let o = tariff(&["eval", &rules, &t, "--keep-going", "--format", "json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["invalid"][0]["line"], 2);
    assert!(o.stderr.contains("1 invalid line(s)"), "{}", o.stderr);
}

#[test]
fn invalid_utf8_trace_line() {
    let mut bytes = usage(T0, "email", "1").into_bytes();
    bytes.extend(b"\n{\"at\":\"\xff\xfe\",\"type\":\"usage\"}\n");
    bytes.extend(usage("2026-01-01T01:00:00+08:00", "email", "2").into_bytes());
    let t = write("t.jsonl", &bytes);
    let rules = write("h.tariff", RULES);
    let o = tariff(&["eval", &rules, &t]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("tariff::trace::invalid_line"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains(":2: not UTF-8 text"), "{}", o.stderr);
    let o = tariff(&["eval", &rules, &t, "--keep-going", "--format", "json"]);
    assert_eq!(o.code, 0);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(
        v["invalid"],
        serde_json::json!([{"line": 2, "error": "not UTF-8 text"}])
    );
    // Lines 1 and 3 evaluated: 3 emails at 2 USD.
    assert_eq!(account(&v, "default")["totals"]["charged"], "6");
}

#[test]
fn ten_megabyte_trace_lines() {
    let big = "x".repeat(10_000_000);
    let trace = format!(
        "{}\n{{\"at\":\"{T0}\",\"type\":\"{big}\"}}\n{{\"at\":\"{T0}\",\"type\":\"usage\",\"meter\":\"email\",\"id\":\"{big}\"}}\n",
        usage(T0, "email", "1")
    );
    let t = write("t.jsonl", &trace);
    let rules = write("h.tariff", RULES);
    let o = tariff(&["eval", &rules, &t]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains(":2: field `type`: unknown type"),
        "{}",
        &o.stderr[..500.min(o.stderr.len())]
    );
    assert!(
        o.stderr.len() < 200_000,
        "the diagnostic quotes the line, shortened"
    );
    // With --keep-going: line 2 invalid; line 3 (a 10 MB id) is unusual but valid.
    let o = tariff(&["eval", &rules, &t, "--keep-going", "--format", "json"]);
    assert_eq!(o.code, 0);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["invalid"].as_array().unwrap().len(), 1);
    assert_eq!(v["invalid"][0]["line"], 2);
    assert_eq!(account(&v, "default")["totals"]["charged"], "4");
    let _ = std::fs::remove_file(&t);
}

#[test]
fn account_that_never_topped_up_has_a_null_balance() {
    let m = model();
    let trace = [
        usage(T0, "email", "3"),
        format!(r#"{{"at":"{T0}","type":"purchase","item":"pkg"}}"#),
        r#"{"at":"2026-01-01T00:00:00+08:00","type":"topup","amount":"10","account":"payer"}"#
            .into(),
        r#"{"at":"2026-01-01T01:00:00+08:00","type":"usage","meter":"email","account":"payer"}"#
            .into(),
    ]
    .join("\n");
    let v = eval(&m, &trace);
    // Estimate mode: everything paid, no balance.
    let d = account(&v, "default");
    assert_eq!(d["final"]["balance"], Value::Null);
    assert_eq!(d["totals"]["charged"], "11");
    // The purchase is paid; the day's usage bill is not issued by `until`.
    assert_eq!(d["totals"]["paid"], "5");
    assert_eq!(d["totals"]["unbilled"], "6");
    let p = account(&v, "payer");
    assert_eq!(p["final"]["balance"], "10");
    assert_eq!(p["totals"]["unbilled"], "2");
}

#[test]
fn leap_second_stays_in_its_day() {
    // Unusual but valid: `23:59:60` is the last instant of the minute, billed with its day.
    let m = model();
    let trace = [
        usage("2026-01-01T23:59:60+08:00", "email", "1"),
        usage("2026-01-02T00:00:00+08:00", "email", "1"),
        usage("2026-01-02T12:00:00+08:00", "email", "1"),
    ]
    .join("\n");
    let v = eval(&m, &trace);
    assert_eq!(v["invalid"], serde_json::json!([]));
    let a = account(&v, "default");
    let c = &a["charges"][0];
    assert_eq!(c["at"], "2026-01-01T23:59:59.999999+08:00");
    assert_eq!(c["bill"], "B1");
    assert_eq!(a["bills"][0]["period_start"], "2026-01-01T00:00:00+08:00");
    assert_eq!(a["bills"][0]["amount"], "2");
}

#[test]
fn far_dates_in_traces() {
    // Unusual but valid: year 9999 (its day's bill would be issued in year 10000, so the
    // charge stays unbilled) and before 1970.
    let m = model();
    let trace = [
        r#"{"at":"1969-07-20T20:17:00Z","type":"usage","meter":"email","account":"moon"}"#,
        r#"{"at":"1969-07-21T20:17:00Z","type":"usage","meter":"email","account":"moon"}"#,
        r#"{"at":"9999-12-31T23:00:00+08:00","type":"usage","meter":"email","quantity":3,"account":"far"}"#,
    ]
    .join("\n");
    let v = eval(&m, &trace);
    let moon = account(&v, "moon");
    assert_eq!(moon["charges"][0]["at"], "1969-07-21T04:17:00+08:00");
    assert_eq!(moon["totals"]["charged"], "4");
    assert_eq!(moon["totals"]["paid"], "4");
    let far = account(&v, "far");
    assert_eq!(far["totals"]["charged"], "6");
    assert_eq!(far["totals"]["unbilled"], "6");
    assert_eq!(v["until"], "9999-12-31T23:00:00+08:00");
}

#[test]
fn unusual_numbers_that_are_exact() {
    // Unusual but valid: `1e3` is 1000, `"1.000"` is 1, `"2E1"` is 20, all read exactly.
    let m = model();
    let trace = [
        usage(T0, "email", "1e3"),
        usage(T0, "email", "\"1.000\""),
        usage(T0, "gb", "0.001"),
        usage(T0, "gb", "\"2E1\""),
    ]
    .join("\n");
    let v = eval(&m, &trace);
    assert_eq!(v["invalid"], serde_json::json!([]));
    let a = account(&v, "default");
    // 1000 x 2 + 1 x 9, then (0.001 + 20) x 1.5 in one line.
    assert_eq!(a["totals"]["charged"], "2039.0015");
}

#[test]
fn huge_account_names_and_many_accounts() {
    // Unusual but valid: a 1 MB account name; 1,000 accounts of one event each.
    let m = model();
    let name = "a".repeat(1_000_000);
    let mut trace = format!(r#"{{"at":"{T0}","type":"usage","meter":"email","account":"{name}"}}"#);
    for i in 0..1_000 {
        trace.push_str(&format!(
            "\n{{\"at\":\"{T0}\",\"type\":\"usage\",\"meter\":\"email\",\"account\":\"acc-{i}\"}}"
        ));
    }
    let v = eval(&m, &trace);
    assert_eq!(v["accounts"].as_array().unwrap().len(), 1_001);
    assert_eq!(account(&v, &name)["totals"]["charged"], "2");
}

// ---------------------------------------------------------------------------------------------
// Overflow: a diagnostic naming the trace line (`tariff::eval::overflow`, exit 1), never a wrong
// number or a panic.

const MAX28: &str = "9999999999999999999999999999";

#[test]
fn overflow_in_tiers() {
    // 1,000 at 2 USD, then 9,999... at 9 USD: past the decimal range.
    let m = model();
    overflows(&m, &usage(T0, "email", MAX28), 1);
    let t = write("t.jsonl", usage(T0, "email", MAX28));
    let o = tariff(&["eval", &write("h.tariff", RULES), &t]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("error[tariff::eval::overflow]"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains(&format!("{t}:1: arithmetic overflow")),
        "{}",
        o.stderr
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn overflow_of_a_product_past_28_digits_is_not_rounded() {
    // 9,999... gb x 1.5 USD needs 29 digits: rounding it would be a wrong amount.
    overflows(&model(), &usage(T0, "gb", MAX28), 1);
}

#[test]
fn overflow_of_the_totals() {
    // Each day's charge fits (3 x 10^27 x 9 USD); their sum does not. Found while writing this
    // catalogue: the totals saturated at the decimal maximum instead.
    let m = model();
    let q = "3000000000000000000000000000";
    let trace: Vec<String> = (1..=4)
        .map(|d| usage(&format!("2026-01-0{d}T00:00:00+08:00"), "email", q))
        .collect();
    overflows(&m, &trace.join("\n"), 3);
}

#[test]
fn overflow_of_the_balance() {
    let m = model();
    let topup = format!(r#"{{"at":"{T0}","type":"topup","amount":"{MAX28}"}}"#);
    let trace = vec![topup; 8].join("\n");
    overflows(&m, &trace, 8);
}

#[test]
fn overflow_in_proration_and_over_many_units() {
    let m = common::model(HUGE_FEES, "huge.tariff");
    // 9 x 10^27 USD x 22 days overflows before dividing by 31: at the bill, due before line 2.
    let trace = [
        r#"{"at":"2026-01-10T00:00:00Z","type":"enable","item":"big"}"#,
        r#"{"at":"2026-02-02T00:00:00Z","type":"enable","item":"many"}"#,
    ]
    .join("\n");
    overflows(&m, &trace, 2);
    // 10^27 USD per unit is fine; 100,000 units of it on one bill are not.
    let trace = [
        r#"{"at":"2026-01-10T00:00:00Z","type":"enable","item":"many","quantity":100000}"#,
        r#"{"at":"2026-02-02T00:00:00Z","type":"disable","item":"many","quantity":100000}"#,
    ]
    .join("\n");
    overflows(&m, &trace, 2);
    let t = write("t.jsonl", &trace);
    let o = tariff(&["eval", &write("huge.tariff", HUGE_FEES), &t]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("tariff::eval::overflow"), "{}", o.stderr);
    assert!(o.stderr.contains(":2: "), "{}", o.stderr);
}

#[test]
fn large_but_representable_amounts_are_exact() {
    // Unusual but valid: 10 events of 10^27 emails at 2 and 9 USD: 8.999...98 x 10^28 would not
    // fit, so stop at 7 days: exactly 7 x 9 x 10^27 - 7,000 USD.
    let m = model();
    let q = "1000000000000000000000000000";
    let trace: Vec<String> = (1..=7)
        .map(|d| usage(&format!("2026-01-0{d}T00:00:00+08:00"), "email", q))
        .collect();
    let v = eval(&m, &trace.join("\n"));
    let a = account(&v, "default");
    // Day 1: 1,000 x 2 + (10^27 - 1,000) x 9; days 2-7: 10^27 x 9 (the month volume is past 1,000).
    assert_eq!(a["totals"]["charged"], "62999999999999999999999993000");
}

#[test]
fn a_trace_jumping_two_centuries_with_auto_renewal() {
    // Found by fuzzing (a timeout): a trace jumping to year 4052 with auto-renewal on evaluates
    // every yearly renewal on the way. Slow (quadratic in the subjects), not wrong: 200 years
    // are 205 renewals, done in well under a second.
    let text = std::fs::read_to_string("rules/aliyun-sms.tariff").unwrap();
    let m = common::model(&text, "rules/aliyun-sms.tariff");
    let trace = [
        r#"{"at":"2026-01-05T09:05:00+08:00","type":"purchase","item":"plan_5k"}"#,
        r#"{"at":"2026-01-20T12:00:00+08:00","type":"set","name":"auto_renew","value":true}"#,
        r#"{"at":"2226-02-24T16:00:00+08:00","type":"usage","meter":"sms","quantity":60,"dims":{"region":"mainland","template":"marketing"}}"#,
    ]
    .join("\n");
    let clock = Clock::now();
    let v = eval(&m, &trace);
    let a = account(&v, "default");
    let bought = a["charges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "purchase");
    assert_eq!(bought.count(), 206);
    assert_eq!(a["totals"]["charged"], "35020");
    assert!(
        clock.elapsed() < Duration::from_secs(10),
        "took {:?}",
        clock.elapsed()
    );
}

// ---------------------------------------------------------------------------------------------
// A million lines with one bad line in the middle (`scripts/hostile-100m.sh` does 100 million).

const LINES: u64 = 1_000_000;
const BAD: u64 = LINES / 2;

/// One usage a minute from 2026-01-01; line `BAD` has a negative quantity.
fn big_trace() -> String {
    let mut s = String::with_capacity(LINES as usize * 80);
    let first = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    for i in 1..=LINES {
        let (day, minute) = (i / 1440, i % 1440);
        let date = first + chrono::Days::new(day);
        let q = if i == BAD { -1 } else { 1 };
        s.push_str(&format!(
            "{{\"at\":\"{date}T{:02}:{:02}:00Z\",\"type\":\"usage\",\"meter\":\"email\",\"quantity\":{q}}}\n",
            minute / 60,
            minute % 60
        ));
    }
    s
}

#[test]
fn a_million_lines_with_one_bad_line() {
    let clock = Clock::now();
    let m = model();
    let trace = big_trace();
    let t = write("big.jsonl", &trace);
    let rules = write("h.tariff", RULES);
    // The CLI on the file, meanwhile: without --keep-going it stops at the bad line (exit 1);
    // with it, that line is listed and every other line is evaluated.
    let limit = Duration::from_secs(60);
    let stop = spawn(&["eval", &rules, &t]);
    let full = spawn(&["eval", &rules, &t, "--keep-going", "--format", "json"]);
    // The library, keep going.
    let mut run = Run::new(
        &m,
        Options {
            keep_going: true,
            ..Options::default()
        },
    );
    for (i, line) in trace.lines().enumerate() {
        run.line(line, i as u64 + 1).unwrap();
    }
    assert_eq!(
        run.accounts().unwrap()[0].stats.used,
        Decimal::from(LINES - 1)
    );
    let r = run.finish().unwrap();
    assert_eq!(r.invalid.len(), 1);
    assert_eq!(r.invalid[0].line, BAD);
    let o = stop.wait(limit);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains(&format!("{t}:{BAD}: field `quantity`")),
        "{}",
        o.stderr
    );
    let o = full.wait(limit);
    assert_eq!(o.code, 0);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["invalid"].as_array().unwrap().len(), 1);
    assert_eq!(v["invalid"][0]["line"], BAD);
    // The same totals as the library's run; a bill a day.
    let a = account(&v, "default");
    let lib = serde_json::to_value(&r.accounts[0].totals).unwrap();
    assert_eq!(a["totals"], lib);
    assert!(a["bills"].as_array().unwrap().len() > 690);
    let _ = std::fs::remove_file(&t);
    assert!(clock.elapsed() < limit, "took {:?}", clock.elapsed());
}

/// The same account named through an escaped key (`"acc\u006funt"` is `"account"`) must be
/// evaluated on one worker: the router reads keys as serde_json does, so any number of jobs
/// gives the one-job report.
#[test]
fn an_escaped_account_key_routes_like_the_plain_one() {
    let m = model();
    let mut trace = String::new();
    for (i, key) in ["account", r"acc\u006funt", "account", r"\u0061ccount"]
        .iter()
        .enumerate()
    {
        for acct in ["a", "b", "c", "d", "e"] {
            trace.push_str(&format!(
                "{{\"at\":\"2026-01-0{}T10:00:00+08:00\",\"{key}\":\"{acct}\",\"type\":\"topup\",\"amount\":\"1\"}}\n",
                i + 1
            ));
        }
    }
    let opts = Options::default();
    let run = |jobs| match tariff::parallel::eval_stream(&m, &opts, trace.as_bytes(), jobs) {
        Ok(r) => r.to_json(),
        Err(f) => format!("{f:?}"),
    };
    let one = run(1);
    assert!(!one.contains("time goes back"), "{one}");
    for jobs in [2, 3, 4] {
        assert_eq!(run(jobs), one, "{jobs} jobs");
    }
}
