//! Evaluating a trace stream, in blocks of whole lines, on one thread or several. With several,
//! no thread only reads: whichever worker has nothing to evaluate reads and parses the next
//! block, and each account's events go, in order, to the one worker that owns the account
//! (see [`workers`]). The merged report does not depend on the number of threads.

use std::io::{IsTerminal, Read};

use crate::driver::{Options, Run, Stop, assemble};
use crate::eval::report::Report;
use crate::model::Model;

/// Why a stream evaluation failed: the stop, and the offending line's text when there is one.
#[derive(Debug)]
pub struct Failure {
    /// What stopped it.
    pub stop: Stop,
    /// The line's text (empty when not about a line).
    pub text: Vec<u8>,
}

impl Failure {
    fn eval(msg: String) -> Failure {
        Failure {
            stop: Stop::Eval(crate::eval::EvalError::new(msg)),
            text: Vec::new(),
        }
    }

    /// The line it is about (`None`: not about a line, as a read error).
    fn line(&self) -> Option<u64> {
        match &self.stop {
            Stop::Line(l, _) => Some(*l),
            Stop::Eval(e) => e.line,
        }
    }
}

mod read;
mod workers;

use read::{BLOCK, Block, Reader};
use workers::eval_parallel;

/// Evaluates a JSON Lines stream with `jobs` workers.
pub fn eval_stream(
    m: &Model,
    opts: &Options,
    input: impl Read + Send,
    jobs: usize,
) -> Result<Report, Failure> {
    eval_blocks(m, opts, input, jobs, BLOCK)
}

/// [`eval_stream`], reading `block` bytes at a time.
fn eval_blocks(
    m: &Model,
    opts: &Options,
    input: impl Read + Send,
    jobs: usize,
    block: usize,
) -> Result<Report, Failure> {
    // Workers are numbered in 16 bits.
    let jobs = jobs.clamp(1, usize::from(u16::MAX));
    let progress = std::io::stderr().is_terminal();
    let parts = if jobs == 1 {
        // One core: read and evaluate on this thread, with no hand-over.
        let mut run = Run::new(m, opts.clone());
        let mut reader = Reader::new(input, progress, block);
        let (mut next, mut spare) = (1, None);
        while let Some(block) = reader.next(spare.take())? {
            feed(&mut run, &block, &mut next)?;
            spare = Some(block.data);
        }
        vec![run.into_parts().map_err(|stop| Failure {
            stop,
            text: Vec::new(),
        })?]
    } else {
        eval_parallel(m, opts, Reader::new(input, progress, block), jobs)?
    };
    assemble(m, opts, parts, jobs).map_err(|stop| Failure {
        stop,
        text: Vec::new(),
    })
}

/// Reads and parses every line on this thread, as [`eval_stream`] does with one job, and
/// evaluates nothing: the floor that evaluation is measured against. Returns (events, bad
/// lines).
pub fn parse_stream(m: &Model, input: impl Read) -> Result<(u64, u64), Failure> {
    let (mut events, mut bad, mut next) = (0u64, 0u64, 1u64);
    let mut reader = Reader::new(input, false, BLOCK);
    let mut spare = None;
    while let Some(block) = reader.next(spare.take())? {
        for (line_no, _, raw) in block.lines(next) {
            next = line_no + 1;
            match raw.map(|t| crate::trace::parse_line(m, t, line_no)) {
                Ok(Ok(Some(p))) => {
                    events += 1;
                    std::hint::black_box(p);
                }
                Ok(Ok(None)) => {}
                _ => bad += 1,
            }
        }
        spare = Some(block.data);
    }
    Ok((events, bad))
}

/// Evaluates the lines of a block; `next` is the number of the block's first line when the
/// block does not number its lines, and then of the next block's.
fn feed(run: &mut Run<'_>, block: &Block, next: &mut u64) -> Result<(), Failure> {
    for (line_no, _, raw) in block.lines(*next) {
        *next = line_no + 1;
        line(run, line_no, raw)?;
    }
    Ok(())
}

/// Evaluates one line: its text, or its bytes when they are not UTF-8.
#[inline]
fn line(run: &mut Run<'_>, line_no: u64, raw: Result<&str, &[u8]>) -> Result<(), Failure> {
    let r = match raw {
        Ok(text) => run.line(text, line_no),
        Err(_) => run.not_text(line_no),
    };
    r.map_err(|stop| Failure {
        stop,
        text: raw.map_or_else(|b| b, str::as_bytes).to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packages that expire, pay-as-you-go after them, daily bills: an eval fixture's rules
    /// (the part before its trace).
    const FIXTURE: &str = include_str!("../../tests/fixtures/eval/timer_ids.tariff");

    /// [`FIXTURE`]'s rules and a generated trace of `events` lines over `accounts` accounts.
    fn trace_of(events: u64, accounts: u32) -> (Model, Vec<u8>) {
        let rules = FIXTURE.split("\n---").next().unwrap_or(FIXTURE);
        let file = crate::parse_file(rules).unwrap();
        let m = crate::model::compile(&file, rules, "timer_ids.tariff").unwrap();
        let opts = crate::r#gen::GenOptions {
            events,
            accounts,
            seed: 11,
            start: chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00+08:00").unwrap(),
            days: 60,
        };
        let mut out = Vec::new();
        crate::r#gen::generate(&m, &opts, &mut out).unwrap();
        (m, out)
    }

    /// The report, or the failure's line and message: what a run gives, to compare runs.
    fn outcome(
        m: &Model,
        opts: &Options,
        input: impl Read + Send,
        jobs: usize,
        block: usize,
    ) -> String {
        match eval_blocks(m, opts, input, jobs, block) {
            Ok(r) => r.to_json(),
            Err(f) => format!("{:?} {:?}", f.stop, String::from_utf8_lossy(&f.text)),
        }
    }

    /// The one-thread outcome on `t`, having checked that each (jobs, block size) in `runs`
    /// gives it too.
    fn as_one_thread(m: &Model, opts: &Options, t: &[u8], runs: &[(usize, usize)]) -> String {
        let one = outcome(m, opts, t, 1, BLOCK);
        for &(jobs, block) in runs {
            assert_eq!(
                outcome(m, opts, t, jobs, block),
                one,
                "{jobs} jobs, blocks of {block}, keep going {}",
                opts.keep_going
            );
        }
        one
    }

    #[test]
    fn small_blocks_on_any_number_of_workers_give_the_one_thread_report() {
        // Blocks of a few lines: hundreds of hand-overs, queues that fill (one account's
        // lines all go to one worker while the other reads), lines longer than a block.
        for accounts in [1, 3, 40] {
            let (m, trace) = trace_of(2_500, accounts);
            let opts = Options::default();
            let one = outcome(&m, &opts, &trace[..], 1, BLOCK);
            assert!(one.contains("\"accounts\""), "{one}");
            for block in [1, 64, 700, 5_000] {
                for jobs in [1, 2, 3, 8] {
                    assert_eq!(
                        outcome(&m, &opts, &trace[..], jobs, block),
                        one,
                        "{accounts} accounts, {jobs} jobs, blocks of {block} bytes"
                    );
                }
            }
        }
    }

    #[test]
    fn the_first_bad_line_stops_every_number_of_workers_alike() {
        let (m, trace) = trace_of(3_000, 25);
        let lines: Vec<&[u8]> = trace.split(|&b| b == b'\n').collect();
        for bad in [5, 1_000, 2_990] {
            let mut t = lines.clone();
            t.insert(bad, b"{\"at\":\"not a time\",\"account\":\"acct-0001\"}");
            t.insert(bad + 700.min(t.len() - bad - 1), b"\xff not text");
            let t = t.join(&b'\n');
            for keep_going in [false, true] {
                let opts = Options {
                    keep_going,
                    ..Options::default()
                };
                let one = as_one_thread(&m, &opts, &t, &[(2, 300), (3, 64), (2, BLOCK)]);
                if !keep_going {
                    assert!(one.contains(&format!("Line({}", bad + 1)), "{one}");
                }
            }
        }
    }

    #[test]
    fn a_time_that_goes_back_stops_every_number_of_workers_alike() {
        // Found by the account's owner as it evaluates, not by the worker that parsed the
        // line; a bad line after it, parsed elsewhere, must not win.
        let (m, trace) = trace_of(3_000, 25);
        let mut lines: Vec<Vec<u8>> = trace.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
        let back = String::from_utf8_lossy(&lines[1_999]).replacen("\"2026-", "\"2025-", 1);
        lines[1_999] = back.into_bytes();
        lines.insert(2_300, b"{\"at\":\"not a time\"}".to_vec());
        let t = lines.join(&b'\n');
        for keep_going in [false, true] {
            let opts = Options {
                keep_going,
                ..Options::default()
            };
            let runs = [(2, 300), (3, 64), (2, BLOCK), (8, 1_000)];
            let one = as_one_thread(&m, &opts, &t, &runs);
            assert!(one.contains("time goes back"), "{one}");
            if !keep_going {
                assert!(one.starts_with("Line(2000,"), "{one}");
            }
        }
    }

    /// A stream that fails after `left` bytes: an error, or a panic when `panics`.
    struct Failing<'a> {
        data: &'a [u8],
        left: usize,
        panics: bool,
    }

    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.left == 0 {
                assert!(!self.panics, "reader panics");
                return Err(std::io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.left).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            self.left -= n;
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_stops_every_number_of_workers() {
        let (m, trace) = trace_of(1_000, 10);
        for jobs in [1, 2, 3] {
            let input = Failing {
                data: &trace,
                left: trace.len() / 2,
                panics: false,
            };
            let got = outcome(&m, &Options::default(), input, jobs, 256);
            assert!(got.contains("cannot read the trace: disk on fire"), "{got}");
        }
        // A bad line read before the error is what one thread meets first, even when the
        // workers read ahead of it.
        let mut lines: Vec<&[u8]> = trace.split(|&b| b == b'\n').collect();
        lines.insert(5, b"{\"at\":\"not a time\",\"account\":\"acct-0001\"}");
        let t = lines.join(&b'\n');
        for jobs in [1, 2, 3] {
            for block in [256, BLOCK] {
                let input = Failing {
                    data: &t,
                    left: t.len() / 2,
                    panics: false,
                };
                let got = outcome(&m, &Options::default(), input, jobs, block);
                assert!(got.starts_with("Line(6,"), "{jobs} jobs: {got}");
            }
        }
    }

    #[test]
    fn a_byte_order_mark_before_the_first_line_is_dropped() {
        // Reads of a byte at a time too, as a slow pipe gives them.
        for block in [1, 2, 3, BLOCK] {
            let read = |input: &[u8]| {
                let mut reader = Reader::new(input, false, block);
                let mut blocks = Vec::new();
                while let Some(b) = reader.next(None).unwrap() {
                    blocks.push(b.bytes().to_vec());
                }
                // Blocks end where a newline was cut.
                blocks.join(&b'\n')
            };
            assert_eq!(read(b"\xef\xbb\xbf{}\n{}"), b"{}\n{}");
            assert_eq!(read(b"{}\n\xef\xbb\xbf{}"), b"{}\n\xef\xbb\xbf{}");
            assert_eq!(read(b"\n\xef\xbb\xbf{}"), b"\n\xef\xbb\xbf{}", "{block}");
            assert_eq!(read(b"\xef\xbb"), b"\xef\xbb");
            assert_eq!(read(b"\xef\xbb\xbf"), b"");
        }
    }

    #[test]
    fn the_accounts_of_a_block_spread_over_the_workers_by_their_lines() {
        // Every account is met in the first block, before any block is handed over: the
        // workers' loads must count the lines given out so far in the block.
        let (m, trace) = trace_of(20_000, 40);
        let text = String::from_utf8(trace.clone()).unwrap();
        let mut lines: std::collections::HashMap<&str, usize> = Default::default();
        for l in text.lines() {
            let a = l
                .split("\"account\":\"")
                .nth(1)
                .and_then(|r| r.split('"').next());
            *lines.entry(a.unwrap()).or_default() += 1;
        }
        for jobs in [2, 3] {
            let reader = Reader::new(&trace[..], false, BLOCK);
            let parts = workers::eval_parallel(&m, &Options::default(), reader, jobs).unwrap();
            let shares: Vec<usize> = parts
                .iter()
                .map(|p| p.account_names().map(|a| lines[a]).sum())
                .collect();
            assert_eq!(shares.iter().sum::<usize>(), 20_000);
            // Generated traces are heavy-tailed: an even split is not always possible.
            let most = shares.iter().max().copied().unwrap_or(0);
            assert!(
                most * jobs < 20_000 * 13 / 10,
                "lines per worker: {shares:?}"
            );
        }
    }

    /// Every number of workers and block size gives the one-thread outcome on `t`.
    fn alike(m: &Model, t: &[u8], what: &str) {
        for keep_going in [false, true] {
            let opts = Options {
                keep_going,
                ..Options::default()
            };
            let one = outcome(m, &opts, t, 1, BLOCK);
            // (Not tiny blocks under a huge line: a read call per byte or few.)
            let tiny: &[usize] = if t.len() > 100_000 { &[] } else { &[1, 7] };
            for &block in tiny.iter().chain(&[64, 300, 4_096, BLOCK]) {
                assert_eq!(
                    outcome(m, &opts, t, 1, block),
                    one,
                    "{what}: 1 job, block {block}"
                );
                for jobs in [2, 3, 5, 8, 33] {
                    assert_eq!(
                        outcome(m, &opts, t, jobs, block),
                        one,
                        "{what}: keep going {keep_going}, {jobs} jobs, blocks of {block}"
                    );
                }
            }
        }
    }

    #[test]
    fn edge_traces_give_the_one_thread_outcome() {
        let (m, trace) = trace_of(600, 7);
        let lines: Vec<&[u8]> = trace.split(|&b| b == b'\n').collect();
        alike(&m, b"", "empty");
        alike(&m, b"\n\n\n\n\n\n\n\n\n\n", "blank lines");
        alike(&m, b"\r\n  \n\n", "blank lines, cr");
        alike(&m, lines[0], "one line, no newline");
        let mut huge = lines[0].to_vec();
        huge.pop();
        huge.extend_from_slice(b",\"pad\":\"");
        huge.extend(std::iter::repeat_n(b'x', 3 * BLOCK));
        huge.extend_from_slice(b"\"}");
        alike(&m, &huge, "one huge line");
        let t = [&huge[..], &trace[..]].join(&b'\n');
        alike(&m, &t, "a huge line, then a trace");
        alike(&m, &trace, "the trace");
        // Bad lines near the start, the end, together; a time going back among them.
        for at in [0usize, 1, 2, 300, 599, 600] {
            let mut l: Vec<Vec<u8>> = lines.iter().map(|l| l.to_vec()).collect();
            l.insert(
                at.min(l.len()),
                b"{\"at\":\"nope\",\"account\":\"acct-1\"}".to_vec(),
            );
            let back = (at + 3).min(l.len() - 1);
            l[back] = String::from_utf8_lossy(&l[back])
                .replacen("\"2026-", "\"2025-", 1)
                .into_bytes();
            l.insert((at + 5).min(l.len()), b"\xff\xfe".to_vec());
            alike(&m, &l.join(&b'\n'), &format!("bad lines at {at}"));
        }
    }

    #[test]
    fn a_read_error_anywhere_gives_the_one_thread_outcome() {
        let (m, trace) = trace_of(400, 5);
        let mut lines: Vec<&[u8]> = trace.split(|&b| b == b'\n').collect();
        lines.insert(200, b"{\"at\":\"nope\"}");
        let t = lines.join(&b'\n');
        for left in (0..t.len()).step_by(997).chain([t.len()]) {
            for keep_going in [false, true] {
                let opts = Options {
                    keep_going,
                    ..Options::default()
                };
                for block in [1, 50, 4_096] {
                    let run = |jobs| {
                        let input = Failing {
                            data: &t,
                            left,
                            panics: false,
                        };
                        outcome(&m, &opts, input, jobs, block)
                    };
                    let one = run(1);
                    for jobs in [2, 3, 8] {
                        let got = run(jobs);
                        assert_eq!(
                            got, one,
                            "error after {left} bytes, {jobs} jobs, blocks of {block}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_worker_that_panics_stops_the_others() {
        let (m, trace) = trace_of(2_000, 9);
        for jobs in [2, 3, 8] {
            for block in [64, 4_096] {
                for left in [0, 1, 500, trace.len() / 2] {
                    let input = Failing {
                        data: &trace,
                        left,
                        panics: true,
                    };
                    let got = outcome(&m, &Options::default(), input, jobs, block);
                    assert!(got.contains("a worker thread failed"), "{jobs} jobs: {got}");
                }
            }
        }
    }
}
