//! Bytes as a trace, over each shipped rule file: evaluation never panics, a failure is an
//! overflow or an out-of-calendar time, and the totals add up exactly.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;
use serde_json::Value;
use tariff::driver::{Options, Run, Stop};
use tariff::time::Instant;
use tariff::trace::parse_line;

/// 2100-01-01T00:00:00Z in microseconds since the epoch.
const UNTIL_2100: i64 = 4_102_444_800_000_000;

#[path = "shipped.rs"]
mod shipped;
use shipped::models;

fn d(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().expect("amounts are strings")).expect("amounts are decimals")
}

fn sum<'a>(it: impl Iterator<Item = &'a Value>) -> Decimal {
    it.map(d)
        .try_fold(Decimal::ZERO, |a, b| a.checked_add(b))
        .expect("a reported total overflows: evaluation should have failed")
}

/// charged = paid + outstanding + unbilled, and each is what the charges and bills say.
fn check_totals(acc: &Value) {
    let t = &acc["totals"];
    let (charged, paid, outstanding, unbilled) = (
        d(&t["charged"]),
        d(&t["paid"]),
        d(&t["outstanding"]),
        d(&t["unbilled"]),
    );
    let charges = acc["charges"].as_array().expect("charges");
    let bills = acc["bills"].as_array().expect("bills");
    assert_eq!(
        charged,
        sum(charges.iter().map(|c| &c["amount"])),
        "charged"
    );
    let unb = charges
        .iter()
        .filter(|c| {
            c["bill"].is_null() && matches!(c["kind"].as_str(), Some("usage" | "recurring"))
        })
        .map(|c| &c["amount"]);
    assert_eq!(unbilled, sum(unb), "unbilled");
    let out = bills
        .iter()
        .filter(|b| b["status"] == "outstanding")
        .map(|b| &b["amount"]);
    assert_eq!(outstanding, sum(out), "outstanding");
    let parts = paid
        .checked_add(outstanding)
        .and_then(|x| x.checked_add(unbilled))
        .expect("totals overflow");
    assert_eq!(charged, parts, "charged = paid + outstanding + unbilled");
    for b in bills {
        let id = &b["id"];
        let of_bill = sum(charges
            .iter()
            .filter(|c| &c["bill"] == id)
            .map(|c| &c["amount"]));
        assert_eq!(
            d(&b["amount"]),
            of_bill,
            "bill {id} is the sum of its charges"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let lines: Vec<Option<&str>> = data
        .split(|&b| b == b'\n')
        .map(|raw| {
            std::str::from_utf8(raw)
                .ok()
                .map(|t| t.trim_end_matches('\r'))
        })
        .collect();
    for m in models() {
        // Up to the latest event, but not past 2100: a trace that jumps millennia ahead
        // evaluates every renewal on the way, which is slow rather than wrong, and would
        // starve the fuzzer.
        let latest = lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| parse_line(m, l.as_deref()?, i as u64 + 1).ok().flatten())
            .map(|p| p.event.at.0)
            .max();
        let mut run = Run::new(
            m,
            Options {
                keep_going: true,
                until: latest.map(|l| Instant(l.min(UNTIL_2100))),
                ..Options::default()
            },
        );
        let mut failed = None;
        for (i, line) in lines.iter().enumerate() {
            let n = i as u64 + 1;
            let r = match line {
                Some(t) => run.line(t, n),
                None => run.not_text(n),
            };
            if let Err(e) = r {
                failed = Some(e);
                break;
            }
        }
        let report = match failed {
            None => run.finish(),
            Some(e) => Err(e),
        };
        match report {
            Ok(r) => {
                let v: Value = serde_json::from_str(&r.to_json()).expect("the report is JSON");
                for acc in v["accounts"].as_array().expect("accounts") {
                    check_totals(acc);
                }
            }
            Err(Stop::Line(..)) => panic!("a bad line stopped a keep-going run"),
            Err(Stop::Eval(e)) => {
                let known = e.message.contains("overflow") || e.message.contains("calendar");
                assert!(known, "unexpected failure: {e}");
            }
        }
    }
});
