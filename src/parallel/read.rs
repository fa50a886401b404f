//! Reading a trace stream in blocks of whole lines.

use std::io::Read;
use std::time::Instant as Clock;

use super::Failure;

/// Bytes read at a time.
pub(super) const BLOCK: usize = 1 << 18;

/// A block of whole lines (at least one), joined by newlines, as read: the first `len` bytes
/// of `data` (the rest is room left in a reused buffer).
pub(super) struct Block {
    pub(super) data: Vec<u8>,
    pub(super) len: usize,
}

impl Block {
    pub(super) fn bytes(&self) -> &[u8] {
        &self.data[..self.len]
    }

    /// Each line with its number, counted from `first`, and where it starts in the block: its
    /// text, or its bytes when they are not UTF-8. A final carriage return is not part of the
    /// line.
    pub(super) fn lines(
        &self,
        first: u64,
    ) -> impl Iterator<Item = (u64, usize, Result<&str, &[u8]>)> {
        let data = self.bytes();
        // One validation for the whole block; lines are then cut at newlines, which are
        // always character boundaries.
        let text = simdutf8::basic::from_utf8(data).ok();
        let mut start = 0;
        let ends = memchr::memchr_iter(b'\n', data).chain(std::iter::once(data.len()));
        (0..).zip(ends).map(move |(i, end)| {
            let from = start;
            start = end + 1;
            (first + i as u64, from, line_at(data, text, from, end))
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

/// Reads a stream in blocks of whole lines, into the buffers of spent blocks when it is
/// given them (no allocating or zeroing per block).
pub(super) struct Reader<R> {
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
    pub(super) fn new(input: R, progress: bool, block: usize) -> Reader<R> {
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
    pub(super) fn next(&mut self, spare: Option<Vec<u8>>) -> Result<Option<Block>, Failure> {
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
            // Only the bytes just read can hold the first newline: a long line is searched
            // once, not once per read.
            let mut fresh = filled;
            // A byte order mark before the first line is not part of it (once 3 bytes are in).
            if self.bom && (total >= 3 || n == 0) {
                self.bom = false;
                if buf[..total].starts_with(b"\xef\xbb\xbf") {
                    buf.copy_within(3..total, 0);
                    total -= 3;
                    fresh = 0;
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
            let Some(cut) = memchr::memrchr(b'\n', &buf[fresh..total]).map(|i| fresh + i) else {
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
