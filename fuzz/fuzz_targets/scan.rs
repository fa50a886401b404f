//! Bytes as trace lines: the fast scanner and serde_json agree on every line over each shipped
//! rule file, `eval_stream` gives the same outcome on 1, 2 and 3 jobs, and the spliced report
//! JSON is what one pretty-printing pass writes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tariff::driver::{Options, Stop};
use tariff::model::Model;
use tariff::parallel::eval_stream;
use tariff::time::Instant;
use tariff::trace::{parse_line, parse_line_with};

/// 100 days in microseconds.
const SPAN: i64 = 100 * 86_400 * 1_000_000;

#[path = "shipped.rs"]
mod shipped;
use shipped::models;

/// The outcome of a stream evaluation, comparable across job counts.
fn outcome(m: &Model, opts: &Options, data: &[u8], jobs: usize) -> Result<String, String> {
    match eval_stream(m, opts, data, jobs) {
        Ok(r) => {
            let json = r.to_json();
            let one = serde_json::to_string_pretty(&r).expect("the report serialises");
            assert_eq!(r.to_json_on(2), one, "to_json_on(2) splices the accounts");
            assert_eq!(json, one, "to_json splices the accounts");
            Ok(json)
        }
        Err(f) => Err(match &f.stop {
            Stop::Line(n, e) => format!("line {n}: {e:?} in {:?}", f.text),
            Stop::Eval(e) => format!("eval at {:?}: {e:?} in {:?}", e.line, f.text),
        }),
    }
}

fuzz_target!(|data: &[u8]| {
    let lines: Vec<Option<&str>> = data
        .split(|&b| b == b'\n')
        .map(|raw| {
            std::str::from_utf8(raw)
                .ok()
                .map(|t| t.strip_suffix('\r').unwrap_or(t))
        })
        .collect();
    for m in models() {
        let (mut earliest, mut latest) = (i64::MAX, i64::MIN);
        for (i, l) in lines.iter().enumerate() {
            let Some(l) = l else { continue };
            let n = i as u64 + 1;
            let fast = parse_line_with(m, l, n, true);
            let slow = parse_line_with(m, l, n, false);
            let (fast, slow) = (format!("{fast:?}"), format!("{slow:?}"));
            assert_eq!(fast, slow, "fast and slow parse of {l:?}");
            if let Ok(Some(p)) = parse_line(m, l, n) {
                earliest = earliest.min(p.event.at.0);
                latest = latest.max(p.event.at.0);
            }
        }
        // A trace that jumps years ahead evaluates every renewal and bill on the way, which
        // is slow rather than wrong, and would starve the fuzzer: stop 100 days after the
        // first event then (the default, the latest event, otherwise).
        let until = (latest.saturating_sub(earliest) > SPAN).then(|| Instant(earliest + SPAN));
        for keep_going in [true, false] {
            let opts = Options {
                keep_going,
                until,
                ..Options::default()
            };
            let one = outcome(m, &opts, data, 1);
            let general = Options {
                no_fast_lane: true,
                ..opts.clone()
            };
            assert_eq!(
                one,
                outcome(m, &general, data, 1),
                "the fast lane changed the outcome"
            );
            for jobs in [2, 3] {
                let many = outcome(m, &opts, data, jobs);
                assert_eq!(one, many, "1 job and {jobs} jobs (keep_going {keep_going})");
            }
        }
    }
});
