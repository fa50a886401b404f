//! Property tests: invariants of evaluation over random traces, and checkpointing.

mod common;

use proptest::prelude::*;
use rust_decimal::Decimal;
use std::str::FromStr;
use tariff::driver::Options;
use tariff::eval::Account;
use tariff::eval::report::Report;
use tariff::model::Model;

/// A random event, as a trace line builder: (minutes after the start, kind, a number).
type Ev = (u32, u8, u32);

fn line(at_min: u32, kind: u8, n: u32, product: &str) -> String {
    let t = chrono::DateTime::parse_from_rfc3339("2026-01-30T22:00:00+08:00").unwrap()
        + chrono::Duration::minutes(i64::from(at_min));
    let at = t.to_rfc3339();
    let acct = if n.is_multiple_of(5) { "b" } else { "a" };
    match (product, kind % 8) {
        ("ses", 0) => {
            format!(r#"{{"at":"{at}","type":"purchase","item":"pkg_600k","account":"{acct}"}}"#)
        }
        ("ses", 1) => format!(
            r#"{{"at":"{at}","type":"topup","amount":"{}","account":"{acct}"}}"#,
            n % 50 + 1
        ),
        ("ses", 2) => format!(
            r#"{{"at":"{at}","type":"set","name":"daily_limit","value":{},"account":"{acct}"}}"#,
            n % 400_000
        ),
        ("ses", 3) => format!(
            r#"{{"at":"{at}","type":"enable","item":"independent_ip","quantity":{},"account":"{acct}"}}"#,
            n % 3 + 1
        ),
        ("ses", 4) => format!(
            r#"{{"at":"{at}","type":"disable","item":"independent_ip","quantity":{},"account":"{acct}"}}"#,
            n % 2 + 1
        ),
        ("ses", _) => format!(
            r#"{{"at":"{at}","type":"usage","meter":"email","quantity":{},"account":"{acct}"}}"#,
            n % 200_000 + 1
        ),
        (_, 0) => format!(
            r#"{{"at":"{at}","type":"purchase","item":"{}","account":"{acct}"}}"#,
            if n.is_multiple_of(2) { "p10" } else { "capped" }
        ),
        (_, 1) => format!(
            r#"{{"at":"{at}","type":"topup","amount":"{}","account":"{acct}"}}"#,
            n % 20 + 1
        ),
        (_, 2) => format!(r#"{{"at":"{at}","type":"renew","item":"p10","account":"{acct}"}}"#),
        (_, 3) => format!(
            r#"{{"at":"{at}","type":"set","name":"usage_alert_absolute","value":{},"account":"{acct}"}}"#,
            n % 12
        ),
        (_, _) => format!(
            r#"{{"at":"{at}","type":"usage","meter":"email","quantity":{},"account":"{acct}"}}"#,
            n % 25 + 1
        ),
    }
}

fn trace(events: &[Ev], product: &str) -> String {
    let mut evs = events.to_vec();
    evs.sort_by_key(|e| e.0);
    evs.iter()
        .map(|&(t, k, n)| line(t, k, n, product))
        .collect::<Vec<_>>()
        .join("\n")
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn ses() -> Model {
    common::model(
        &std::fs::read_to_string("rules/tencent-ses.tariff").unwrap(),
        "rules/tencent-ses.tariff",
    )
}

fn koo_like() -> Model {
    let src = std::fs::read_to_string("tests/fixtures/eval/grace_renewal.tariff").unwrap();
    let rules = src.split_once("\n---\n").unwrap().0.to_string();
    common::model(&rules, "grace_renewal.tariff")
}

/// Invariants every report keeps.
fn check_report(r: &Report) {
    for a in &r.accounts {
        let mut charged = Decimal::ZERO;
        for c in &a.charges {
            charged += d(&c.amount);
        }
        assert_eq!(
            charged,
            d(&a.totals.charged),
            "totals.charged is the sum of charges"
        );
        assert_eq!(
            d(&a.totals.charged),
            d(&a.totals.paid) + d(&a.totals.outstanding) + d(&a.totals.unbilled),
            "charged = paid + outstanding + unbilled"
        );
        for b in &a.bills {
            let sum: Decimal = a
                .charges
                .iter()
                .filter(|c| c.bill.as_deref() == Some(b.id.as_str()))
                .map(|c| d(&c.amount))
                .sum();
            assert_eq!(sum, d(&b.amount), "the charges of bill {} sum to it", b.id);
        }
        for (k, v) in &a.final_.remaining.0 {
            assert!(
                d(v.as_deref().unwrap()) >= Decimal::ZERO,
                "{k} has negative remaining"
            );
        }
        if let Some(bal) = &a.final_.balance {
            assert!(d(bal) >= Decimal::ZERO, "negative balance");
        }
    }
}

/// Usage conservation on the account state.
fn check_accounts(accounts: &[Account], r: &Report) {
    for (acc, rep) in accounts.iter().zip(&r.accounts) {
        let s = &acc.stats;
        assert_eq!(s.used, s.accepted + s.refused, "used = accepted + refused");
        assert_eq!(
            s.accepted,
            s.drawn + s.payg + s.counted,
            "accepted = drawn + payg + counted"
        );
        assert_eq!(
            s.charged,
            acc.sums().charged,
            "the running total is the charges' sum"
        );
        let refused: Decimal = rep
            .rejections
            .iter()
            .filter(|x| x.meter.is_some())
            .map(|x| d(&x.quantity))
            .sum();
        assert_eq!(refused, s.refused, "rejections hold every refused unit");
        let payg: Decimal = rep
            .charges
            .iter()
            .filter(|c| c.kind == tariff::eval::state::Kind::Usage && c.unit_price.is_some())
            .map(|c| d(&c.quantity))
            .sum();
        assert_eq!(payg, s.payg, "pay-as-you-go lines hold every priced unit");
    }
}

fn run_all(m: &Model, text: &str) -> (Report, Vec<Account>) {
    let mut run = tariff::driver::Run::new(m, Options::default());
    for (i, l) in text.lines().enumerate() {
        run.line(l, i as u64 + 1).unwrap();
    }
    let accounts = run.accounts().unwrap().to_vec();
    (run.finish().unwrap(), accounts)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, rng_seed: proptest::test_runner::RngSeed::Fixed(0x7a71ff), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn ses_invariants(events in prop::collection::vec((0u32..200_000, 0u8..8, 0u32..1_000_000), 1..80)) {
        let m = ses();
        let (r, accounts) = run_all(&m, &trace(&events, "ses"));
        check_report(&r);
        check_accounts(&accounts, &r);
    }

    #[test]
    fn package_lifecycle_invariants(events in prop::collection::vec((0u32..150_000, 0u8..8, 0u32..1_000_000), 1..80)) {
        let m = koo_like();
        let (r, accounts) = run_all(&m, &trace(&events, "koo"));
        check_report(&r);
        check_accounts(&accounts, &r);
    }

    /// Cutting the trace anywhere, snapshotting each account to bytes and restoring it,
    /// gives the same report as evaluating it whole.
    #[test]
    fn snapshot_restore_anywhere(events in prop::collection::vec((0u32..150_000, 0u8..8, 0u32..1_000_000), 1..60), cut in 0usize..60) {
        let m = ses();
        let text = trace(&events, "ses");
        let whole = common::eval(&m, &text, Options::default()).unwrap().to_json();
        let lines: Vec<&str> = text.lines().collect();
        let cut = cut.min(lines.len());
        let mut accounts: Vec<Account> = Vec::new();
        let mut latest = None;
        let mut feed = |accounts: &mut Vec<Account>, l: &str, n: usize| {
            let p = tariff::trace::parse_line(&m, l, n as u64 + 1).unwrap().unwrap();
            latest = Some(latest.map_or(p.event.at, |x: tariff::time::Instant| x.max(p.event.at)));
            let ix = match accounts.iter().position(|a| a.name == p.account) {
                Some(i) => i,
                None => { accounts.push(Account::new(&m, &p.account)); accounts.len() - 1 }
            };
            accounts[ix].apply(&m, &p.event).unwrap();
        };
        for (n, l) in lines[..cut].iter().enumerate() {
            feed(&mut accounts, l, n);
        }
        let mut restored: Vec<Account> = accounts.iter().map(|a| Account::restore(&a.snapshot()).unwrap()).collect();
        for (n, l) in lines[cut..].iter().enumerate() {
            feed(&mut restored, l, n + cut);
        }
        for a in &mut restored {
            a.advance(&m, latest.unwrap()).unwrap();
        }
        let report = Report {
            product: m.product.clone(),
            rules: m.file.clone(),
            until: latest.map(|u| m.zone.format(u)),
            accounts: restored.iter().map(|a| a.report(&m)).collect(),
            invalid: Vec::new(),
            after_until: 0,
        };
        prop_assert_eq!(whole, report.to_json());
    }
}

/// Pieces of trace lines, combined at random: the fast scanner and serde_json must agree.
fn key_strategy() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "at", "type", "account", "meter", "quantity", "dims", "subject", "item", "periods",
        "amount", "name", "value", "id", "other",
    ])
}

fn val_strategy() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        r#""2026-01-01T00:00:00+08:00""#,
        r#""2026-01-01T00:00:00""#,
        r#""usage""#,
        r#""purchase""#,
        r#""set""#,
        r#""topup""#,
        r#""email""#,
        r#""pkg_600k""#,
        r#""independent_ip""#,
        r#""enable""#,
        r#""daily_limit""#,
        "3",
        "-1",
        "0",
        "1.5",
        "1e3",
        r#""12.50""#,
        "true",
        "null",
        r#"{"a":"b"}"#,
        "{}",
        "[1]",
        r#""a\"b""#,
        r#""tab	""#,
        "01",
        // Long enough that the line is scanned byte by byte, not through quote masks.
        r#""a-very-long-account-name-that-goes-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on""#,
        r#"{"a":"b", "c" : "d"}"#,
        "\"\u{1}\"",
        r#""\u0041""#,
        "\"é€\"",
    ])
}

fn line_strategy() -> impl Strategy<Value = String> {
    let (key, val) = (key_strategy(), val_strategy());
    prop::collection::vec(
        (key, val, prop::sample::select(vec!["", " ", "\t", "\r\n "])),
        0..8,
    )
    .prop_map(|kv| {
        let body: Vec<String> = kv
            .iter()
            .map(|(k, v, sp)| format!("\"{k}\":{sp}{v}"))
            .collect();
        format!("{{{}}}", body.join(","))
    })
}

/// Lines of one layout (keys, order, spaces) with values drawn anew for each line, and a few
/// lines whose spaces differ: what the scanner's learned layout is for.
fn same_layout_lines() -> impl Strategy<Value = Vec<String>> {
    let sp = || prop::sample::select(vec!["", " ", "  ", "\t"]);
    prop::collection::vec((key_strategy(), sp(), sp()), 1..7).prop_flat_map(move |layout| {
        let n = layout.len();
        prop::collection::vec((prop::collection::vec(val_strategy(), n), sp()), 1..8).prop_map(
            move |rows| {
                rows.iter()
                    .map(|(vals, end)| {
                        let body: Vec<String> = layout
                            .iter()
                            .zip(vals)
                            .map(|((k, a, b), v)| format!("{a}\"{k}\":{b}{v}"))
                            .collect();
                        format!("{{{}}}{end}", body.join(","))
                    })
                    .collect()
            },
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, rng_seed: proptest::test_runner::RngSeed::Fixed(0x5ca7), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_learned_layout_agrees_with_serde(lines in same_layout_lines()) {
        static SES: std::sync::OnceLock<Model> = std::sync::OnceLock::new();
        let m = SES.get_or_init(ses);
        for line in &lines {
            let fast = tariff::trace::parse_line_with(m, line, 1, true);
            let slow = tariff::trace::parse_line_with(m, line, 1, false);
            prop_assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{}", line);
        }
    }

    #[test]
    fn fast_scanner_agrees_with_serde(line in line_strategy()) {
        static SES: std::sync::OnceLock<Model> = std::sync::OnceLock::new();
        let m = SES.get_or_init(ses);
        let fast = tariff::trace::parse_line_with(m, &line, 1, true);
        let slow = tariff::trace::parse_line_with(m, &line, 1, false);
        prop_assert_eq!(format!("{fast:?}"), format!("{slow:?}"));
    }
}

/// A well-formed rule file from random choices: quotas, prices, validity, tier bounds and
/// modes, limits, past-quota behaviour, bill cadence and rounding.
#[allow(clippy::too_many_arguments)]
fn random_rules(
    quota: u32,
    price_milli: u32,
    valid_days: u32,
    bound: u32,
    graduated: bool,
    limit: u32,
    refuse: bool,
    hourly: bool,
    per_line: bool,
) -> String {
    let mode = if graduated { "graduated" } else { "volume" };
    let past = if refuse { "refuse" } else { "payg" };
    let cadence = if hourly { "hourly" } else { "daily at 00:00" };
    let per = if per_line { "line" } else { "bill" };
    format!(
        r#"product random "random" {{
  currency USD
  timezone +05:30
  meter call: dim kind (a, b)
  free_tier free: {free} call once per account, lifecycle pack_life
  package pack: {quota} call for {pp}.{pm:03} USD, valid {valid_days} days, past quota {past}, lifecycle pack_life
  draw call: free, then packages, then payg
  price payg: call where kind = a, {mode} by month volume of call {{
    up to {bound} call: 0.{price_milli:04} USD per call
    above {bound} call: 0.000{price_tail} USD per call + 1 USD flat
  }}
  price other: 0.01 USD per call where kind = b
  param daily_cap = {limit} call
  limit call: daily_cap per day, partial
  bill usage: {cadence}, round to 0.01 half even per {per}
  lifecycle pack_life {{
    state active: usable
    state exhausted: usable
    state expired: final, drops quota
    active -> exhausted when empty
    exhausted -> active when refilled
    active, exhausted -> expired at expiry
  }}
  lifecycle service {{
    state active
    state suspended: refuses usage
    active -> suspended on unpaid bill
    suspended -> active on bills settled
  }}
}}"#,
        free = quota / 7 + 1,
        pp = price_milli / 10,
        pm = price_milli % 1000,
        price_tail = price_milli % 9 + 1,
    )
}

fn random_trace(events: &[(u32, u8, u32)]) -> String {
    let mut evs = events.to_vec();
    evs.sort_by_key(|e| e.0);
    evs.iter()
        .map(|&(t, k, n)| {
            let at = (chrono::DateTime::parse_from_rfc3339("2026-01-31T20:00:00+05:30").unwrap() + chrono::Duration::minutes(i64::from(t))).to_rfc3339();
            let acct = if n % 3 == 0 { "x" } else { "y" };
            match k % 6 {
                0 => format!(r#"{{"at":"{at}","type":"purchase","item":"pack","account":"{acct}"}}"#),
                1 => format!(r#"{{"at":"{at}","type":"topup","amount":"{}.{}","account":"{acct}"}}"#, n % 30 + 1, n % 10),
                2 => format!(r#"{{"at":"{at}","type":"set","name":"daily_cap","value":{},"account":"{acct}"}}"#, n % 5000),
                3 => format!(r#"{{"at":"{at}","type":"usage","meter":"call","quantity":{},"dims":{{"kind":"b"}},"account":"{acct}"}}"#, n % 300 + 1),
                _ => format!(r#"{{"at":"{at}","type":"usage","meter":"call","quantity":{},"dims":{{"kind":"a"}},"account":"{acct}"}}"#, n % 3000 + 1),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, rng_seed: proptest::test_runner::RngSeed::Fixed(0x0dd5), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_for_random_rules(
        quota in 1u32..50_000, price_milli in 1u32..9_999, valid_days in 1u32..90, bound in 1u32..20_000,
        graduated: bool, limit in 0u32..20_000, refuse: bool, hourly: bool, per_line: bool,
        events in prop::collection::vec((0u32..120_000, 0u8..6, 0u32..1_000_000), 1..60),
    ) {
        let text = random_rules(quota, price_milli, valid_days, bound, graduated, limit, refuse, hourly, per_line);
        let diags: Vec<String> = tariff::cli::check_text(&text, &tariff::check::CheckOptions::default())
            .into_iter()
            .filter(|d| d.severity == tariff::diag::Severity::Error)
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect();
        prop_assert!(diags.is_empty(), "generated rules do not check: {diags:?}\n{text}");
        let m = common::model(&text, "random.tariff");
        let (r, accounts) = run_all(&m, &random_trace(&events));
        check_report(&r);
        check_accounts(&accounts, &r);
    }
}

/// Lines whose `dims` give a key twice, or keys out of order: serde_json reads `dims` into a
/// sorted map (the last of a repeated key wins), and the fast scanner must read it the same.
#[test]
fn fast_scanner_reads_dims_as_serde_does() {
    let m = common::model(
        &std::fs::read_to_string("rules/aliyun-sms.tariff").unwrap(),
        "rules/aliyun-sms.tariff",
    );
    let pad = "x".repeat(300);
    for dims in [
        r#"{"region":"nowhere","region":"mainland"}"#,
        r#"{"region":"mainland","region":"nowhere"}"#,
        r#"{"template":"none","region":"nowhere"}"#,
        r#"{"zz":"a","region":"nowhere"}"#,
        r#"{"region":"international","region":"mainland"}"#,
    ] {
        for long in ["", pad.as_str()] {
            let line = format!(
                r#"{{"at":"2026-01-01T00:00:00Z","type":"usage","meter":"sms","dims":{dims},"pad":"{long}"}}"#
            );
            let fast = tariff::trace::parse_line_with(&m, &line, 1, true);
            let slow = tariff::trace::parse_line_with(&m, &line, 1, false);
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{line}");
        }
    }
}
