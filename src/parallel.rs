//! Evaluating a trace stream on several threads: one reader hands out blocks of lines, and
//! each worker evaluates the accounts it owns (by a hash of the account name), so an
//! account's events stay in order on one thread. The merged report does not depend on the
//! number of threads.

use std::io::{IsTerminal, Read};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::time::Instant as Clock;

use crate::driver::{Options, Parts, Run, Stop, assemble};
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

/// A block of whole lines (at least one). Blocks reach every worker in order, so each
/// numbers the lines itself.
struct Block {
    data: Vec<u8>,
}

const BLOCK: usize = 1 << 18;

impl Block {
    /// Each line with its number (the first is `first`): its text, or its bytes when they
    /// are not UTF-8. A final carriage return is not part of the line.
    fn lines(&self, first: u64) -> impl Iterator<Item = (u64, Result<&str, &[u8]>)> {
        // One validation for the whole block; lines are then cut at newlines, which are
        // always character boundaries.
        let text = simdutf8::basic::from_utf8(&self.data).ok();
        let mut start = 0;
        let ends = memchr::memchr_iter(b'\n', &self.data).chain(std::iter::once(self.data.len()));
        (first..).zip(ends).map(move |(line_no, end)| {
            let (from, to) = (start, end);
            start = end + 1;
            let raw = &self.data[from..to];
            let to = if raw.last() == Some(&b'\r') {
                to - 1
            } else {
                to
            };
            let line = match text {
                Some(t) => t.get(from..to).ok_or(&self.data[from..to]),
                None => std::str::from_utf8(&self.data[from..to]).map_err(|_| &self.data[from..to]),
            };
            (line_no, line)
        })
    }
}

/// Evaluates a JSON Lines stream with `jobs` workers.
pub fn eval_stream(
    m: &Model,
    opts: &Options,
    mut input: impl Read,
    jobs: usize,
) -> Result<Report, Failure> {
    let jobs = jobs.max(1);
    let progress = std::io::stderr().is_terminal();
    if jobs == 1 {
        // One core: read and evaluate on this thread, with no hand-over.
        let mut run = Run::new(m, opts.clone());
        let (mut failure, mut next) = (None, 1);
        let read = read_blocks(
            &mut input,
            |b| match feed(&mut run, &b, &mut next, 0, 1) {
                Ok(()) => true,
                Err(f) => {
                    failure = Some(f);
                    false
                }
            },
            progress,
        );
        if let Some(f) = failure.or(read.err()) {
            return Err(f);
        }
        return assemble(m, opts, vec![run.into_parts()], 1).map_err(|stop| Failure {
            stop,
            text: Vec::new(),
        });
    }
    let (parts, failure) = std::thread::scope(|scope| {
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for me in 0..jobs {
            let (tx, rx) = sync_channel::<Arc<Block>>(8);
            senders.push(tx);
            let o = opts.clone();
            handles.push(scope.spawn(move || worker(m, o, rx, me, jobs)));
        }
        let read = read_blocks(
            &mut input,
            |b| {
                let b = Arc::new(b);
                senders.iter().all(|tx| tx.send(Arc::clone(&b)).is_ok())
            },
            progress,
        );
        drop(senders);
        let mut parts = Vec::new();
        let mut failure: Option<Failure> = read.err();
        for h in handles {
            match h.join() {
                Ok(Ok(p)) => parts.push(p),
                Ok(Err(f)) => {
                    // The earliest bad line wins, as in a sequential run.
                    let earlier = match (&failure, &f.stop) {
                        (None, _) => true,
                        (
                            Some(Failure {
                                stop: Stop::Line(a, _),
                                ..
                            }),
                            Stop::Line(b, _),
                        ) => b < a,
                        (
                            Some(Failure {
                                stop: Stop::Eval(a),
                                ..
                            }),
                            Stop::Eval(b),
                        ) => b.line < a.line,
                        (
                            Some(Failure {
                                stop: Stop::Eval(a),
                                ..
                            }),
                            Stop::Line(b, _),
                        ) => Some(*b) < a.line,
                        (
                            Some(Failure {
                                stop: Stop::Line(a, _),
                                ..
                            }),
                            Stop::Eval(b),
                        ) => b.line.is_some_and(|l| l < *a),
                    };
                    if earlier {
                        failure = Some(f);
                    }
                }
                Err(_) => {
                    failure.get_or_insert(Failure {
                        stop: Stop::Eval(crate::eval::EvalError::new("a worker thread failed")),
                        text: Vec::new(),
                    });
                }
            }
        }
        (parts, failure)
    });
    if let Some(f) = failure {
        return Err(f);
    }
    assemble(m, opts, parts, jobs).map_err(|stop| Failure {
        stop,
        text: Vec::new(),
    })
}

/// Reads and parses every line on this thread, as [`eval_stream`] does with one job, and
/// evaluates nothing: the floor that evaluation is measured against. Returns (events, bad
/// lines).
pub fn parse_stream(m: &Model, mut input: impl Read) -> Result<(u64, u64), Failure> {
    let (mut events, mut bad, mut next) = (0u64, 0u64, 1u64);
    read_blocks(
        &mut input,
        |block| {
            for (line_no, raw) in block.lines(next) {
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
            true
        },
        false,
    )?;
    Ok((events, bad))
}

fn worker(
    m: &Model,
    opts: Options,
    rx: Receiver<Arc<Block>>,
    me: usize,
    jobs: usize,
) -> Result<Parts, Failure> {
    let mut run = Run::new(m, opts);
    let mut next = 1;
    for block in rx {
        feed(&mut run, &block, &mut next, me, jobs)?;
    }
    Ok(run.into_parts())
}

/// Evaluates the lines of a block that worker `me` of `jobs` owns; `next` is the number of
/// the block's first line, and then of the next block's.
fn feed(
    run: &mut Run<'_>,
    block: &Block,
    next: &mut u64,
    me: usize,
    jobs: usize,
) -> Result<(), Failure> {
    for (line_no, raw) in block.lines(*next) {
        *next = line_no + 1;
        let bytes = raw.map_or_else(|b| b, str::as_bytes);
        if jobs == 1 || route(bytes, jobs) == me {
            let r = match raw {
                Ok(text) => run.line(text, line_no),
                Err(_) => run.not_text(line_no),
            };
            if let Err(stop) = r {
                return Err(Failure {
                    stop,
                    text: bytes.to_vec(),
                });
            }
        }
    }
    Ok(())
}

/// Reads whole lines in blocks; `emit` returns `false` when the workers are gone.
fn read_blocks(
    input: &mut impl Read,
    mut emit: impl FnMut(Block) -> bool,
    progress: bool,
) -> Result<(), Failure> {
    let started = Clock::now();
    let mut last_report = Clock::now();
    let mut carry: Vec<u8> = Vec::new();
    let mut lines_read = 0u64;
    let mut first = true;
    loop {
        let mut buf = std::mem::take(&mut carry);
        let filled = buf.len();
        buf.resize(filled + BLOCK, 0);
        let n = loop {
            match input.read(&mut buf[filled..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let msg = format!("cannot read the trace: {e}");
                    return Err(Failure {
                        stop: Stop::Eval(crate::eval::EvalError::new(msg)),
                        text: Vec::new(),
                    });
                }
            }
        };
        buf.truncate(filled + n);
        // A byte order mark before the first line is not part of it (once 3 bytes are in).
        if first && (buf.len() >= 3 || n == 0) {
            first = false;
            if buf.starts_with(b"\xef\xbb\xbf") {
                buf.drain(..3);
            }
        }
        if n == 0 {
            if !buf.is_empty() {
                emit(Block { data: buf });
            }
            break;
        }
        // Hand over whole lines; keep the unfinished last one for the next read.
        let Some(cut) = memchr::memrchr(b'\n', &buf) else {
            carry = buf;
            continue;
        };
        carry = buf[cut + 1..].to_vec();
        buf.truncate(cut);
        if progress {
            // Only for the display: workers number lines themselves.
            lines_read += memchr::memchr_iter(b'\n', &buf).count() as u64 + 1;
        }
        if !emit(Block { data: buf }) {
            break;
        }
        if progress && last_report.elapsed().as_millis() >= 500 {
            last_report = Clock::now();
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            eprint!(
                "\r{lines_read} events read, {:.0} events/s",
                lines_read as f64 / secs
            );
        }
    }
    if progress && lines_read > 0 {
        eprint!("\r\x1b[2K");
    }
    Ok(())
}

/// Which of `jobs` workers owns a line: a hash (Fx, eight bytes at a time) of its top-level
/// `account` (default `"default"`), mapped to a worker by its high bits (a multiply, not a
/// division: this runs for every line on every worker).
fn route(line: &[u8], jobs: usize) -> usize {
    let key = match account_fast(line) {
        Some(k) => k.map(std::borrow::Cow::Borrowed),
        None => account_of(line),
    };
    let bytes: &[u8] = match &key {
        Some(k) => k,
        None => b"default",
    };
    let mut h = rustc_hash::FxHasher::default();
    std::hash::Hasher::write(&mut h, bytes);
    let h = std::hash::Hasher::finish(&h);
    ((u128::from(h) * jobs as u128) >> 64) as usize
}

/// [`account_of`] for short lines without escapes or control characters (`None` for other
/// lines): their strings are exactly the runs between consecutive quotes, so only the short
/// gaps between strings are read byte by byte, for braces; and the walk stops at the account.
fn account_fast(line: &[u8]) -> Option<Option<&[u8]>> {
    if line.len() > crate::scan::MASKED {
        return None;
    }
    let mut quotes = crate::scan::Quotes::new(crate::scan::quote_words(line)?);
    let (mut depth, mut from) = (0i32, 0usize);
    while let Some(open) = quotes.next() {
        let close = quotes.next()?;
        for &b in &line[from..open] {
            match b {
                b'{' | b'[' => depth += 1,
                b'}' | b']' => depth -= 1,
                _ => {}
            }
        }
        from = close + 1;
        if depth != 1 || &line[open..=close] != b"\"account\"" {
            continue;
        }
        let mut j = close + 1;
        while line.get(j).is_some_and(u8::is_ascii_whitespace) {
            j += 1;
        }
        if line.get(j) != Some(&b':') {
            continue;
        }
        j += 1;
        while line.get(j).is_some_and(u8::is_ascii_whitespace) {
            j += 1;
        }
        if line.get(j) != Some(&b'"') {
            return Some(None);
        }
        let vopen = quotes.next()?;
        let vclose = quotes.next()?;
        return (vopen == j).then_some(Some(&line[vopen + 1..vclose]));
    }
    Some(None)
}

/// The value of the top-level `"account"` key, if it is a string (escapes decoded, in the
/// key as in the value).
fn account_of(line: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
    let mut depth = 0i32;
    let mut i = 0;
    while i < line.len() {
        match line[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth -= 1,
            b'"' => {
                let end = string_end(line, i)?;
                let key = &line[i..=end];
                // serde_json decodes keys: `"acc\u006funt"` is `"account"` too.
                let account = || {
                    key == b"\"account\""
                        || (key.contains(&b'\\')
                            && serde_json::from_slice::<String>(key).is_ok_and(|k| k == "account"))
                };
                if depth == 1 && account() {
                    let mut j = end + 1;
                    while j < line.len() && line[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if line.get(j) != Some(&b':') {
                        i = end + 1;
                        continue;
                    }
                    j += 1;
                    while j < line.len() && line[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if line.get(j) != Some(&b'"') {
                        return None;
                    }
                    let vend = string_end(line, j)?;
                    let raw = &line[j..=vend];
                    return if raw.contains(&b'\\') {
                        serde_json::from_slice::<String>(raw)
                            .ok()
                            .map(|s| std::borrow::Cow::Owned(s.into_bytes()))
                    } else {
                        Some(std::borrow::Cow::Borrowed(&raw[1..raw.len() - 1]))
                    };
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index of the quote that closes the string opening at `start`.
fn string_end(line: &[u8], start: usize) -> Option<usize> {
    let mut j = start + 1;
    while j < line.len() {
        match line[j] {
            b'\\' => j += 2,
            b'"' => return Some(j),
            _ => j += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_before_the_first_line_is_dropped() {
        let read = |input: &[u8]| {
            let mut blocks = Vec::new();
            read_blocks(
                &mut &input[..],
                |b| {
                    blocks.push(b.data);
                    true
                },
                false,
            )
            .unwrap();
            // Blocks end where a newline was cut.
            blocks.join(&b'\n')
        };
        assert_eq!(read(b"\xef\xbb\xbf{}\n{}"), b"{}\n{}");
        assert_eq!(read(b"{}\n\xef\xbb\xbf{}"), b"{}\n\xef\xbb\xbf{}");
        assert_eq!(read(b"\xef\xbb"), b"\xef\xbb");
        assert_eq!(read(b"\xef\xbb\xbf"), b"");
    }

    #[test]
    fn routes_spread_accounts_over_every_worker() {
        for jobs in [2, 3, 8] {
            let mut seen = vec![0; jobs];
            for a in 0..1000 {
                let line = format!(r#"{{"account":"acct-{a}"}}"#);
                let w = route(line.as_bytes(), jobs);
                seen[w] += 1;
                assert_eq!(w, route(line.as_bytes(), jobs), "deterministic");
            }
            // Each worker gets a fair share (within 30% of even).
            for n in &seen {
                assert!(*n * 10 > 7 * 1000 / jobs, "{jobs}: {seen:?}");
            }
        }
    }

    #[test]
    fn finds_the_top_level_account() {
        assert_eq!(
            account_of(br#"{"at":"x","account":"a1"}"#).as_deref(),
            Some(&b"a1"[..])
        );
        assert_eq!(
            account_of(br#"{"dims":{"account":"no"},"account" : "yes"}"#).as_deref(),
            Some(&b"yes"[..])
        );
        assert_eq!(
            account_of(br#"{"x":"\"account\":\"no\"","account":"a\u0041"}"#).as_deref(),
            Some(&b"aA"[..])
        );
        assert_eq!(
            account_of(br#"{"acc\u006funt":"a2","x":1}"#).as_deref(),
            Some(&b"a2"[..])
        );
        assert_eq!(account_of(br#"{"type":"usage"}"#), None);
        assert_eq!(account_of(b"not json"), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            cases: 3000,
            rng_seed: proptest::test_runner::RngSeed::Fixed(0xacc7),
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]

        #[test]
        fn the_fast_account_agrees_on_random_lines(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "{", "}", "[", "]", ",", ":", " ", "\"account\"", "\"a\"", "\"acct-1\"",
                    "null", "1", "\"", "\\", "\t", "\"x\":{\"account\":\"n\"}",
                    "\"a value long enough to push what follows past the first 64 bytes\"",
                ]),
                0..24,
            )
        ) {
            let line = parts.concat();
            if let Some(fast) = account_fast(line.as_bytes()) {
                let slow = account_of(line.as_bytes());
                proptest::prop_assert_eq!(fast, slow.as_deref(), "{}", line);
            }
        }
    }

    #[test]
    fn the_fast_account_agrees() {
        for line in [
            r#"{"at":"x","account":"a1"}"#,
            r#"{"dims":{"account":"no"},"account" : "yes"}"#,
            r#"{"type":"account","account":"yes"}"#,
            r#"{"account":null}"#,
            r#"{"account":1}"#,
            r#"{"x":[{"account":"no"}],"account":"a"}"#,
            r#"{"type":"usage"}"#,
            r#"{"account""#,
            r#"{"account":"a"#,
            r#"{"dims":{"a":"b"},"x":{"y":{"account":"deep"}},"account":"a"}"#,
            r#"{"account":"#,
            r#"{"account":"a","account":"b"}"#,
            r#"not json"#,
            r#""account":"top""#,
            r#"}{"account":"x"}"#,
        ] {
            // `None` hands the line to `account_of`; an answer must be its answer.
            if let Some(fast) = account_fast(line.as_bytes()) {
                assert_eq!(fast, account_of(line.as_bytes()).as_deref(), "{line}");
            }
        }
    }
}
