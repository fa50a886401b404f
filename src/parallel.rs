//! Evaluating a trace stream on several threads: one reader reads blocks of lines and names
//! the worker of each line's account; every worker sees every block (shared, not copied) and
//! evaluates the lines of the accounts it owns, so an account's events stay in order on one
//! thread. The merged report does not depend on the number of threads.

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

/// A block of whole lines (at least one), joined by newlines, as read.
struct Block {
    data: Vec<u8>,
}

/// A line routed to a worker: its index in the block, where it starts and where it ends.
type Span = (u32, u32, u32);

/// A block handed to every worker: its text (checked once, by the reader) or its bytes, the
/// number of its first line, and per worker its lines: (index in the block, start, end).
struct Routed {
    data: Result<String, Vec<u8>>,
    first: u64,
    lines: Vec<Vec<Span>>,
}

impl Routed {
    /// The lines of worker `me`, as [`Block::lines`] gives them.
    fn lines_of(&self, me: u16) -> impl Iterator<Item = (u64, Result<&str, &[u8]>)> {
        let (data, text) = match &self.data {
            Ok(t) => (t.as_bytes(), Some(t.as_str())),
            Err(b) => (&b[..], None),
        };
        let mine = self.lines.get(usize::from(me)).map_or(&[][..], |l| &l[..]);
        mine.iter().map(move |&(i, from, to)| {
            (
                self.first + u64::from(i),
                line_at(data, text, from as usize, to as usize),
            )
        })
    }
}

/// The line `data[from..to]` without a final carriage return: its text, or its bytes when
/// they are not UTF-8 (`text` is `data` when all of it is text).
#[inline]
fn line_at<'a>(
    data: &'a [u8],
    text: Option<&'a str>,
    from: usize,
    to: usize,
) -> Result<&'a str, &'a [u8]> {
    let to = if to > from && data[to - 1] == b'\r' {
        to - 1
    } else {
        to
    };
    match text {
        // Lines are cut at newlines, always character boundaries.
        Some(t) => t.get(from..to).ok_or(&data[from..to]),
        None => std::str::from_utf8(&data[from..to]).map_err(|_| &data[from..to]),
    }
}

const BLOCK: usize = 1 << 18;

impl Block {
    /// Each line with its number, counted from `first`: its text, or its bytes when they are
    /// not UTF-8. A final carriage return is not part of the line.
    fn lines(&self, first: u64) -> impl Iterator<Item = (u64, Result<&str, &[u8]>)> {
        // One validation for the whole block; lines are then cut at newlines, which are
        // always character boundaries.
        let text = simdutf8::basic::from_utf8(&self.data).ok();
        let mut start = 0;
        let ends = memchr::memchr_iter(b'\n', &self.data).chain(std::iter::once(self.data.len()));
        (0..).zip(ends).map(move |(i, end)| {
            let from = start;
            start = end + 1;
            (first + i as u64, line_at(&self.data, text, from, end))
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
            |b| match feed(&mut run, &b, &mut next) {
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
        return run
            .into_parts()
            .and_then(|p| assemble(m, opts, vec![p], 1))
            .map_err(|stop| Failure {
                stop,
                text: Vec::new(),
            });
    }
    let (parts, failure) = std::thread::scope(|scope| {
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for me in 0..jobs {
            let (tx, rx) = sync_channel::<Arc<Routed>>(32);
            senders.push(tx);
            let o = opts.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("worker-{me}"))
                .spawn_scoped(scope, move || worker(m, o, me as u16, rx));
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    let msg = format!("cannot start a worker thread: {e}");
                    return (
                        Vec::new(),
                        Some(Failure {
                            stop: Stop::Eval(crate::eval::EvalError::new(msg)),
                            text: Vec::new(),
                        }),
                    );
                }
            }
        }
        let mut router = Router::new(jobs);
        let read = read_blocks(
            &mut input,
            |block| {
                let (first, lines) = router.route(&block.data);
                let routed = Arc::new(Routed {
                    data: String::from_utf8(block.data).map_err(|e| e.into_bytes()),
                    first,
                    lines,
                });
                senders
                    .iter()
                    .all(|tx| tx.send(Arc::clone(&routed)).is_ok())
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

/// Evaluates the lines that the router gives worker `me`.
fn worker(m: &Model, opts: Options, me: u16, rx: Receiver<Arc<Routed>>) -> Result<Parts, Failure> {
    let mut run = Run::new(m, opts);
    for routed in rx {
        for (line_no, raw) in routed.lines_of(me) {
            line(&mut run, line_no, raw)?;
        }
    }
    run.into_parts().map_err(|stop| Failure {
        stop,
        text: Vec::new(),
    })
}

/// Sends each line to the worker that owns its account. An account is given, when first
/// seen, to the worker with the fewest lines so far: traces are heavy-tailed (a few accounts
/// hold much of the trace), and a hash of the name leaves one worker with more. The
/// assignment depends only on the trace, and the report on neither.
struct Router {
    /// Worker by a 64-bit hash of the account: a function of the account, so an account's
    /// lines stay on one worker; two accounts whose hashes collide only share a worker.
    owner: rustc_hash::FxHashMap<u64, u16>,
    load: Vec<u64>,
    next: u64,
}

impl Router {
    fn new(jobs: usize) -> Router {
        Router {
            owner: rustc_hash::FxHashMap::default(),
            load: vec![0; jobs],
            next: 1,
        }
    }

    /// Routes a block's lines: the number of its first line, and per worker its lines
    /// (index in the block, start, end).
    fn route(&mut self, data: &[u8]) -> (u64, Vec<Vec<Span>>) {
        let first = self.next;
        let share = data.len() / 100 / self.load.len() + 16;
        let mut lines: Vec<Vec<Span>> = (0..self.load.len())
            .map(|_| Vec::with_capacity(share))
            .collect();
        let mut start = 0;
        let mut i = 0u32;
        let all = memchr::memchr_iter(b'\n', data).chain(std::iter::once(data.len()));
        for end in all {
            let w = usize::from(self.owner_of(&data[start..end]));
            self.load[w] += 1;
            // Blocks are a read buffer: far below 4 GiB.
            lines[w].push((i, start as u32, end as u32));
            start = end + 1;
            i += 1;
        }
        self.next += u64::from(i);
        (first, lines)
    }

    fn owner_of(&mut self, line: &[u8]) -> u16 {
        let key = match account_prefix(line)
            .map(Some)
            .or_else(|| account_fast(line))
        {
            Some(k) => k.map(std::borrow::Cow::Borrowed),
            None => account_of(line),
        };
        let key: &[u8] = match &key {
            Some(k) => k,
            None => b"default",
        };
        let key = {
            use std::hash::Hasher;
            let mut h = rustc_hash::FxHasher::default();
            h.write(key);
            h.finish()
        };
        if let Some(&w) = self.owner.get(&key) {
            return w;
        }
        // Jobs are at most 1,024 (the command line's bound).
        let w = (0..self.load.len())
            .min_by_key(|&w| self.load[w])
            .map_or(0, |w| w as u16);
        self.owner.insert(key, w);
        w
    }
}

/// Evaluates the lines of a block; `next` is the number of the block's first line when the
/// block does not number its lines, and then of the next block's.
fn feed(run: &mut Run<'_>, block: &Block, next: &mut u64) -> Result<(), Failure> {
    for (line_no, raw) in block.lines(*next) {
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

/// [`account_of`] for lines that begin `{"at":"…","account":"…"` or `{"account":"…"` (what
/// `tariff gen` and most producers write) with no backslash in those strings; `None` for other
/// lines. The at value and the account are found eight bytes at a time.
#[inline]
fn account_prefix(line: &[u8]) -> Option<&[u8]> {
    // The string that opens at `s[0]`'s quote's end: its inside, when it stops at a quote.
    fn inside(s: &[u8]) -> Option<(&[u8], &[u8])> {
        let end = crate::scan::string_stop(s)?;
        (s[end] == b'"').then(|| (&s[..end], &s[end + 1..]))
    }
    let rest = match line.strip_prefix(b"{\"at\":\"") {
        Some(r) => inside(r)?.1.strip_prefix(b",\"account\":\"")?,
        None => line.strip_prefix(b"{\"account\":\"")?,
    };
    Some(inside(rest)?.0)
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
    fn the_router_keeps_accounts_together_and_balances_lines() {
        // One heavy account first, then many light ones: the light ones fill the other worker.
        let mut trace = String::new();
        for i in 0..1_000 {
            trace.push_str(r#"{"account":"heavy"}"#);
            trace.push('\n');
            trace.push_str(&format!(r#"{{"account":"light-{}"}}"#, i % 50));
            trace.push('\n');
        }
        trace.push_str(r#"{"type":"usage"}"#);
        // A line that is not UTF-8 too: it reaches its worker as bytes.
        let mut data = trace.trim_end().as_bytes().to_vec();
        data.extend_from_slice(b"\n{\"account\":\"x\xff\"}\r");
        let block = Block { data };
        let all: Vec<_> = block.lines(1).collect();
        for jobs in [2, 3] {
            let mut router = Router::new(jobs);
            let (first, lines) = router.route(&block.data);
            let routed = Routed {
                data: String::from_utf8(block.data.clone()).map_err(|e| e.into_bytes()),
                first,
                lines,
            };
            assert_eq!(routed.first, 1);
            let mut owner: std::collections::HashMap<Vec<u8>, u16> = Default::default();
            let mut numbers = Vec::new();
            let mut most = 0;
            for w in 0..jobs as u16 {
                let mine: Vec<_> = routed.lines_of(w).collect();
                most = most.max(mine.len());
                for (n, line) in mine {
                    assert_eq!(line, all[n as usize - 1].1, "line {n}");
                    let bytes = line.map_or_else(|b| b, str::as_bytes);
                    let key = account_of(bytes).map(|k| k.into_owned());
                    let key = key.unwrap_or_else(|| b"default".to_vec());
                    assert_eq!(
                        *owner.entry(key).or_insert(w),
                        w,
                        "an account on two workers"
                    );
                    numbers.push(n);
                }
            }
            numbers.sort_unstable();
            assert_eq!(
                numbers,
                (1..=2_002).collect::<Vec<u64>>(),
                "every line, once"
            );
            assert!(most <= 1_002, "{jobs} jobs: {most} lines on one worker");
            let (next, _) = router.route(&block.data);
            assert_eq!(next, 2_003, "the next block numbers on");
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
                    "{\"at\":\"", "{\"account\":\"", ",\"account\":\"", "\"x\\\"", "\u{1}",
                ]),
                0..24,
            )
        ) {
            let line = parts.concat();
            let slow = account_of(line.as_bytes());
            if let Some(fast) = account_fast(line.as_bytes()) {
                proptest::prop_assert_eq!(fast, slow.as_deref(), "{}", line);
            }
            if let Some(prefix) = account_prefix(line.as_bytes()) {
                proptest::prop_assert_eq!(Some(prefix), slow.as_deref(), "{}", line);
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
            r#"{"at":"x\"y","account":"a"}"#,
            r#"{"at":"x","account":"a\"b"}"#,
            r#"{"at":"x","account":"a\u0041"}"#,
            r#"{"at":"x","account":"a"#,
            r#"{"at":"x" ,"account":"a"}"#,
            r#"{"at":"x","type":"usage","account":"a"}"#,
        ] {
            // `None` hands the line to `account_of`; an answer must be its answer.
            let slow = account_of(line.as_bytes());
            if let Some(fast) = account_fast(line.as_bytes()) {
                assert_eq!(fast, slow.as_deref(), "{line}");
            }
            if let Some(prefix) = account_prefix(line.as_bytes()) {
                assert_eq!(Some(prefix), slow.as_deref(), "{line}");
            }
        }
        // The common shapes take the prefix path.
        let plain: [&[u8]; 2] = [
            br#"{"at":"2026-01-01T00:00:00+08:00","account":"acct-1","type":"usage"}"#,
            br#"{"account":"acct-1","at":"2026-01-01T00:00:00+08:00"}"#,
        ];
        for line in plain {
            assert_eq!(account_prefix(line), Some(&b"acct-1"[..]));
        }
    }
}
