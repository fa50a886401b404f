//! Evaluating a trace stream on several threads. The workers take turns reading: one with
//! nothing queued reads the next block of lines, names the worker of each line's account,
//! queues the block (shared, not copied) to the other workers with lines in it, and evaluates
//! its own lines. No thread only reads, the reading falls to whoever has time, and an
//! account's events stay in order on one thread. The merged report does not depend on the
//! number of threads.

use std::io::{IsTerminal, Read};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, sync_channel};
use std::sync::{Arc, Mutex, TryLockError};
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

/// A block of whole lines (at least one), joined by newlines, as read: the first `len` bytes
/// of `data` (the rest is room left in a reused buffer).
struct Block {
    data: Vec<u8>,
    len: usize,
}

/// A line routed to a worker: its index in the block, where it starts and where it ends.
type Span = (u32, u32, u32);

/// A block handed to the workers with lines in it: the number of its first line, and per
/// worker its lines (index in the block, start, end).
struct Routed {
    block: Block,
    first: u64,
    lines: Vec<Vec<Span>>,
}

impl Routed {
    /// The lines of worker `me`, as [`Block::lines`] gives them.
    fn lines_of(&self, me: usize) -> impl Iterator<Item = (u64, Result<&str, &[u8]>)> {
        let data = self.block.bytes();
        // Each worker checks the block on its own core: a fast pass, and it brings the
        // block into that core's cache before its lines are read.
        let text = simdutf8::basic::from_utf8(data).ok();
        let mine = self.lines.get(me).map_or(&[][..], |l| &l[..]);
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

/// Blocks queued to a worker before the reader waits for it.
const QUEUE: usize = 32;

/// Blocks queued below which a worker reads ahead, when no other worker is reading.
const LOW: usize = 4;

impl Block {
    fn bytes(&self) -> &[u8] {
        &self.data[..self.len]
    }

    /// Each line with its number, counted from `first`: its text, or its bytes when they are
    /// not UTF-8. A final carriage return is not part of the line.
    fn lines(&self, first: u64) -> impl Iterator<Item = (u64, Result<&str, &[u8]>)> {
        let data = self.bytes();
        // One validation for the whole block; lines are then cut at newlines, which are
        // always character boundaries.
        let text = simdutf8::basic::from_utf8(data).ok();
        let mut start = 0;
        let ends = memchr::memchr_iter(b'\n', data).chain(std::iter::once(data.len()));
        (0..).zip(ends).map(move |(i, end)| {
            let from = start;
            start = end + 1;
            (first + i as u64, line_at(data, text, from, end))
        })
    }
}

/// Reads a stream in blocks of whole lines, into the buffers of spent blocks when it is
/// given them (no allocating or zeroing per block).
struct Reader<R> {
    input: R,
    /// The unfinished last line of the last read.
    carry: Vec<u8>,
    /// Whether a byte order mark may still open the stream.
    bom: bool,
    ended: bool,
    progress: Option<Progress>,
    /// Bytes read at a time.
    block: usize,
}

/// Events read and the rate, shown on stderr when it is a terminal.
struct Progress {
    started: Clock,
    shown: Clock,
    lines: u64,
}

impl<R: Read> Reader<R> {
    fn new(input: R, progress: bool, block: usize) -> Reader<R> {
        Reader {
            block: block.max(1),
            input,
            carry: Vec::new(),
            bom: true,
            ended: false,
            progress: progress.then(|| Progress {
                started: Clock::now(),
                shown: Clock::now(),
                lines: 0,
            }),
        }
    }

    /// The next block, in `spare`'s buffer when there is one; `None` at the end.
    fn next(&mut self, spare: Option<Vec<u8>>) -> Result<Option<Block>, Failure> {
        if self.ended {
            return Ok(None);
        }
        let mut buf = spare.unwrap_or_default();
        let mut filled = self.carry.len();
        fit(&mut buf, filled + self.block);
        buf[..filled].copy_from_slice(&self.carry);
        self.carry.clear();
        loop {
            let n = loop {
                match self.input.read(&mut buf[filled..filled + self.block]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.end();
                        return Err(Failure::eval(format!("cannot read the trace: {e}")));
                    }
                }
            };
            let mut total = filled + n;
            // A byte order mark before the first line is not part of it (once 3 bytes are in).
            if self.bom && (total >= 3 || n == 0) {
                self.bom = false;
                if buf[..total].starts_with(b"\xef\xbb\xbf") {
                    buf.copy_within(3..total, 0);
                    total -= 3;
                }
            }
            if n == 0 {
                self.end();
                return Ok((total > 0).then_some(Block {
                    data: buf,
                    len: total,
                }));
            }
            // Hand over whole lines; keep the unfinished last one for the next read.
            let Some(cut) = memchr::memrchr(b'\n', &buf[..total]) else {
                filled = total;
                fit(&mut buf, filled + self.block);
                continue;
            };
            self.carry.extend_from_slice(&buf[cut + 1..total]);
            // A mark after a line's end is that line's.
            self.bom = false;
            let block = Block {
                data: buf,
                len: cut,
            };
            self.show(&block);
            return Ok(Some(block));
        }
    }

    fn show(&mut self, block: &Block) {
        let Some(p) = &mut self.progress else {
            return;
        };
        // Only for the display: workers number lines themselves.
        p.lines += memchr::memchr_iter(b'\n', block.bytes()).count() as u64 + 1;
        if p.shown.elapsed().as_millis() >= 500 {
            p.shown = Clock::now();
            let secs = p.started.elapsed().as_secs_f64().max(1e-9);
            eprint!(
                "\r{} events read, {:.0} events/s",
                p.lines,
                p.lines as f64 / secs
            );
        }
    }

    fn end(&mut self) {
        self.ended = true;
    }
}

impl<R> Drop for Reader<R> {
    /// Clears the progress line, however the reading ended.
    fn drop(&mut self) {
        if self.progress.as_ref().is_some_and(|p| p.lines > 0) {
            eprint!("\r\x1b[2K");
        }
    }
}

/// Makes `buf` at least `len` bytes long.
fn fit(buf: &mut Vec<u8>, len: usize) {
    if buf.len() < len {
        buf.resize(len, 0);
    }
}

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
    let jobs = jobs.max(1);
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

/// What the workers share: the stream, read by one of them at a time, how many blocks each
/// has queued, and spent buffers.
struct Shared<R> {
    source: Mutex<Source<R>>,
    queued: Vec<AtomicUsize>,
    spare: Mutex<Vec<Vec<u8>>>,
}

/// The stream being read, where its lines go, and why reading stopped early.
struct Source<R> {
    reader: Reader<R>,
    router: Router,
    /// Each worker's queue; emptied when reading is over, which ends the workers' queues.
    queues: Vec<SyncSender<Arc<Routed>>>,
    failure: Option<Failure>,
}

impl<R: Read> Shared<R> {
    /// Reads the next block, for worker `me`, and queues it to every worker with lines in
    /// it, `me` included (so each worker evaluates its blocks in the order they were read);
    /// or, when another worker is reading, leaves it to that one and says so (`false`).
    fn read(&self, me: usize) -> Result<bool, Failure> {
        // Never waits for the lock: a worker waiting for it could see its queue filled by
        // the reader, and the reader then wait for it.
        let mut src = match self.source.try_lock() {
            Ok(s) => s,
            Err(TryLockError::WouldBlock) => return Ok(false),
            Err(TryLockError::Poisoned(_)) => {
                return Err(Failure::eval("a worker thread failed".into()));
            }
        };
        // Others may have filled this worker's queue since it looked: then it has work, and
        // must not wait on its own queue. (Only the lock holder adds to the counts.)
        if src.queues.is_empty() || self.queued[me].load(Relaxed) >= QUEUE {
            return Ok(true);
        }
        let spare = self.spare.lock().ok().and_then(|mut s| s.pop());
        let block = match src.reader.next(spare) {
            Ok(Some(b)) => b,
            Ok(None) => {
                src.queues.clear();
                return Ok(true);
            }
            Err(f) => {
                src.failure = Some(f);
                src.queues.clear();
                return Ok(true);
            }
        };
        let (first, lines) = src.router.route(block.bytes());
        let routed = Arc::new(Routed {
            block,
            first,
            lines,
        });
        let mut stopped = false;
        for (w, tx) in src.queues.iter().enumerate() {
            if !routed.lines[w].is_empty() {
                self.queued[w].fetch_add(1, Relaxed);
                // Waits only for another worker with blocks queued, so evaluating: workers
                // wait for their queues, never for the lock.
                stopped |= tx.send(Arc::clone(&routed)).is_err();
            }
        }
        if stopped {
            // A worker stopped at a bad line: read no further.
            src.queues.clear();
        }
        drop(src);
        // The workers may be done with the block already.
        self.recycle(routed);
        Ok(true)
    }

    /// Keeps a spent block's buffer for the next read, once no worker holds the block
    /// (not one grown for a very long line).
    fn recycle(&self, routed: Arc<Routed>) {
        if let Some(r) = Arc::into_inner(routed)
            && r.block.data.len() <= 2 * BLOCK
            && let Ok(mut spare) = self.spare.lock()
            && spare.len() < QUEUE
        {
            spare.push(r.block.data);
        }
    }
}

/// Runs `jobs` workers over the stream; each returns the parts of the accounts it owns.
fn eval_parallel<R: Read + Send>(
    m: &Model,
    opts: &Options,
    reader: Reader<R>,
    jobs: usize,
) -> Result<Vec<Parts>, Failure> {
    let mut receivers = Vec::new();
    let mut queues = Vec::new();
    for _ in 0..jobs {
        let (tx, rx) = sync_channel::<Arc<Routed>>(QUEUE);
        queues.push(tx);
        receivers.push(rx);
    }
    let shared = Shared {
        source: Mutex::new(Source {
            reader,
            router: Router::new(jobs),
            queues,
            failure: None,
        }),
        queued: (0..jobs).map(|_| AtomicUsize::new(0)).collect(),
        spare: Mutex::new(Vec::new()),
    };
    // What a one-thread run would report first: a thread that failed, else the earliest bad
    // line (a one-thread run evaluates every line it has read before reading on), else a read
    // error, else what failed after the last line (carrying pending sums into an account).
    let mut thread: Option<Failure> = None;
    let mut bad_line: Option<Failure> = None;
    let mut after: Option<Failure> = None;
    let parts = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for (me, rx) in receivers.into_iter().enumerate() {
            let o = opts.clone();
            let shared = &shared;
            let spawned = std::thread::Builder::new()
                .name(format!("worker-{me}"))
                .spawn_scoped(scope, move || worker(m, o, me, rx, shared));
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    thread = Some(Failure::eval(format!("cannot start a worker thread: {e}")));
                    break;
                }
            }
        }
        // Stop the workers already started (their parts are not reported), now that the
        // queues of those never started are gone: a reader may be waiting on one.
        if thread.is_some()
            && let Ok(mut src) = shared.source.lock()
        {
            src.queues.clear();
        }
        let mut parts = Vec::new();
        for h in handles {
            match h.join() {
                Ok(Ok(p)) => parts.push(p),
                Ok(Err(f)) if f.line().is_some() => {
                    if bad_line.as_ref().is_none_or(|b| f.line() < b.line()) {
                        bad_line = Some(f);
                    }
                }
                Ok(Err(f)) => {
                    after.get_or_insert(f);
                }
                Err(_) => {
                    thread.get_or_insert(Failure::eval("a worker thread failed".into()));
                }
            }
        }
        parts
    });
    let read = match shared.source.into_inner() {
        Ok(src) => src.failure,
        Err(_) => {
            thread.get_or_insert(Failure::eval("a worker thread failed".into()));
            None
        }
    };
    match thread.or(bad_line).or(read).or(after) {
        Some(f) => Err(f),
        None => Ok(parts),
    }
}

/// Reads and parses every line on this thread, as [`eval_stream`] does with one job, and
/// evaluates nothing: the floor that evaluation is measured against. Returns (events, bad
/// lines).
pub fn parse_stream(m: &Model, input: impl Read) -> Result<(u64, u64), Failure> {
    let (mut events, mut bad, mut next) = (0u64, 0u64, 1u64);
    let mut reader = Reader::new(input, false, BLOCK);
    let mut spare = None;
    while let Some(block) = reader.next(spare.take())? {
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
        spare = Some(block.data);
    }
    Ok((events, bad))
}

/// Evaluates the lines of the accounts worker `me` owns, as they come through its queue;
/// tops the queue up by reading when it runs low, and reads when it is empty.
fn worker<R: Read>(
    m: &Model,
    opts: Options,
    me: usize,
    rx: Receiver<Arc<Routed>>,
    shared: &Shared<R>,
) -> Result<Parts, Failure> {
    let mut run = Run::new(m, opts);
    let _leave = Leave(shared);
    // Dropped before `_leave` (locals drop in reverse order), so a reader waiting to queue
    // here stops waiting before the lock is taken to end the reading.
    let rx = rx;
    loop {
        let routed = match rx.try_recv() {
            Ok(r) => r,
            // Reading is over and the queue is empty.
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => {
                if shared.read(me)? {
                    continue;
                }
                // Another worker is reading: wait for what it queues here, or until the
                // reading is free again (the other may go on evaluating a long queue).
                match rx.recv_timeout(std::time::Duration::from_micros(500)) {
                    Ok(r) => r,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        };
        if shared.queued[me].fetch_sub(1, Relaxed) <= LOW {
            shared.read(me)?;
        }
        for (line_no, raw) in routed.lines_of(me) {
            line(&mut run, line_no, raw)?;
        }
        shared.recycle(routed);
    }
    run.into_parts().map_err(|stop| Failure {
        stop,
        text: Vec::new(),
    })
}

/// Ends the reading when a worker leaves, at the end or early (at a bad line, or in a
/// panic), so that no other worker waits for blocks that never come.
struct Leave<'a, R>(&'a Shared<R>);

impl<R> Drop for Leave<'_, R> {
    fn drop(&mut self) {
        let mut src = self
            .0
            .source
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        src.queues.clear();
    }
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
        let (mut start, mut i) = (0, 0u32);
        loop {
            let rest = &data[start..];
            // The account in the line's prefix is found without reading past the line (its
            // strings stop at the newline, a control character; its literals hold none), and
            // then only the rest of the line is searched for the newline.
            let (w, len) = match account_prefix(rest) {
                Some((account, after)) => {
                    let len = memchr::memchr(b'\n', after).unwrap_or(after.len());
                    (self.owner(account), rest.len() - after.len() + len)
                }
                None => {
                    let len = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
                    (self.owner_of(&rest[..len]), len)
                }
            };
            let end = start + len;
            self.load[w] += 1;
            // Blocks are a read buffer: far below 4 GiB.
            lines[w].push((i, start as u32, end as u32));
            i += 1;
            if end >= data.len() {
                break;
            }
            start = end + 1;
        }
        self.next += u64::from(i);
        (first, lines)
    }

    /// The worker of a line whose account is not in its prefix.
    fn owner_of(&mut self, line: &[u8]) -> usize {
        let key = match account_fast(line) {
            Some(k) => k.map(std::borrow::Cow::Borrowed),
            None => account_of(line),
        };
        match &key {
            Some(k) => self.owner(k),
            None => self.owner(b"default"),
        }
    }

    /// The worker of an account.
    fn owner(&mut self, key: &[u8]) -> usize {
        let key = {
            use std::hash::Hasher;
            let mut h = rustc_hash::FxHasher::default();
            h.write(key);
            h.finish()
        };
        if let Some(&w) = self.owner.get(&key) {
            return usize::from(w);
        }
        let w = (0..self.load.len())
            .min_by_key(|&w| self.load[w])
            .unwrap_or(0);
        // Jobs are at most 1,024 (the command line's bound).
        self.owner.insert(key, w as u16);
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

/// [`account_of`] for lines that begin `{"at":"…","account":"…"` or `{"account":"…"` (what
/// `tariff gen` and most producers write) with no backslash in those strings; `None` for other
/// lines. Also what follows the account's closing quote. The at value and the account are
/// found eight bytes at a time.
#[inline]
fn account_prefix(line: &[u8]) -> Option<(&[u8], &[u8])> {
    // The string that opens at `s[0]`'s quote's end: its inside, when it stops at a quote.
    fn inside(s: &[u8]) -> Option<(&[u8], &[u8])> {
        let end = crate::scan::string_stop(s)?;
        (s[end] == b'"').then(|| (&s[..end], &s[end + 1..]))
    }
    // Fixed-size comparisons: compiled to a few word compares, not a call.
    fn after<'a, const N: usize>(s: &'a [u8], literal: &[u8; N]) -> Option<&'a [u8]> {
        let (head, rest) = s.split_first_chunk::<N>()?;
        (head == literal).then_some(rest)
    }
    let rest = match after(line, b"{\"at\":\"") {
        Some(r) => after(inside(r)?.1, b",\"account\":\"")?,
        None => after(line, b"{\"account\":\"")?,
    };
    inside(rest)
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

    /// Packages that expire, pay-as-you-go after them, daily bills: an eval fixture's rules
    /// (the part before its trace).
    const FIXTURE: &str = include_str!("../tests/fixtures/eval/timer_ids.tariff");

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
                let one = outcome(&m, &opts, &t[..], 1, BLOCK);
                if !keep_going {
                    assert!(one.contains(&format!("Line({}", bad + 1)), "{one}");
                }
                for (jobs, block) in [(2, 300), (3, 64), (2, BLOCK)] {
                    assert_eq!(
                        outcome(&m, &opts, &t[..], jobs, block),
                        one,
                        "bad line {bad}, {jobs} jobs, blocks of {block}"
                    );
                }
            }
        }
    }

    /// A stream that fails after `left` bytes.
    struct Failing<'a> {
        data: &'a [u8],
        left: usize,
    }

    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.left == 0 {
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
        let len = data.len();
        let block = Block { data, len };
        let all: Vec<_> = block.lines(1).collect();
        for jobs in [2, 3] {
            let mut router = Router::new(jobs);
            let (first, lines) = router.route(block.bytes());
            let routed = Routed {
                block: Block {
                    data: block.data.clone(),
                    len,
                },
                first,
                lines,
            };
            assert_eq!(routed.first, 1);
            let mut owner: std::collections::HashMap<Vec<u8>, usize> = Default::default();
            let mut numbers = Vec::new();
            let mut most = 0;
            for w in 0..jobs {
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
            let (next, _) = router.route(block.bytes());
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
            let prefix = account_prefix(line.as_bytes()).map(|p| p.0);
            if prefix.is_some() {
                proptest::prop_assert_eq!(prefix, slow.as_deref(), "{}", line);
            }
            // The router reads a block's lines without cutting them first: what follows a
            // line's newline must not change what its prefix says.
            let block = format!("{line}\n\",\"account\":\"other\"}}");
            let in_block = account_prefix(block.as_bytes()).map(|p| p.0);
            proptest::prop_assert_eq!(in_block, prefix, "{}", line);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            cases: 500,
            rng_seed: proptest::test_runner::RngSeed::Fixed(0xb10c),
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]

        /// Routing a block cuts it where splitting at newlines does, and sends each account
        /// (as `account_of` reads it) to one worker.
        #[test]
        fn routing_a_block_cuts_its_lines_and_keeps_accounts_together(
            lines in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(vec![
                        "{\"at\":\"", "{\"account\":\"", "\",\"account\":\"", "\"",
                        "2026-01-01T00:00:00+08:00", "acct-1", "acct-2", "\\", "\r", "}",
                        "\",\"type\":\"usage\",\"meter\":\"email\",\"quantity\":1}",
                        "\u{1}", " ", "x",
                    ]),
                    0..12,
                ),
                1..12,
            )
        ) {
            let text = lines.iter().map(|l| l.concat()).collect::<Vec<_>>().join("\n");
            let data = text.as_bytes();
            let mut router = Router::new(3);
            let (_, routed) = router.route(data);
            let mut spans: Vec<Span> = routed.iter().flatten().copied().collect();
            spans.sort_unstable();
            let mut want = Vec::new();
            let mut start = 0;
            for (i, line) in data.split(|&b| b == b'\n').enumerate() {
                want.push((i as u32, start as u32, (start + line.len()) as u32));
                start += line.len() + 1;
            }
            proptest::prop_assert_eq!(&spans, &want);
            let mut owner = std::collections::HashMap::new();
            for (w, mine) in routed.iter().enumerate() {
                for &(_, from, to) in mine {
                    let key = account_of(&data[from as usize..to as usize]).map(|k| k.into_owned());
                    let key = key.unwrap_or_else(|| b"default".to_vec());
                    proptest::prop_assert_eq!(*owner.entry(key).or_insert(w), w);
                }
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
            if let Some((prefix, _)) = account_prefix(line.as_bytes()) {
                assert_eq!(Some(prefix), slow.as_deref(), "{line}");
            }
        }
        // The common shapes take the prefix path.
        let plain: [&[u8]; 2] = [
            br#"{"at":"2026-01-01T00:00:00+08:00","account":"acct-1","type":"usage"}"#,
            br#"{"account":"acct-1","at":"2026-01-01T00:00:00+08:00"}"#,
        ];
        for line in plain {
            assert_eq!(account_prefix(line).map(|p| p.0), Some(&b"acct-1"[..]));
        }
    }
}
