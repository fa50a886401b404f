//! A fast path for the common shape of trace lines: one flat JSON object whose strings hold
//! no escapes. Anything else (escapes, arrays, nesting outside `dims`, duplicate fields,
//! control characters, malformed JSON) returns `None` and the line goes through serde_json,
//! which also writes every error message. The two paths must agree on every line both
//! accept (tested).

/// The fields of a trace line, as text borrowed from it.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Flat<'a> {
    pub at: Option<&'a str>,
    pub ty: Option<&'a str>,
    pub account: Option<&'a str>,
    pub meter: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub item: Option<&'a str>,
    pub name: Option<&'a str>,
    /// Raw JSON text of numbers (a number, or a string with its quotes).
    pub quantity: Option<&'a str>,
    pub periods: Option<&'a str>,
    pub amount: Option<&'a str>,
    pub value: Option<&'a str>,
    pub id: Option<&'a str>,
    /// The inside of the `dims` object.
    pub dims: Option<&'a str>,
    /// Set when a field was given the JSON `null` (serde reads it as absent, except `value`).
    seen: u16,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Lines up to this long get their quotes found for the whole line at once.
const MASKED: usize = 256;

/// Bit masks of a line's quotes and of its stops (backslashes and control characters), one
/// bit per byte: strings are then found by bit arithmetic, not byte by byte.
struct Masks {
    quotes: [u64; MASKED / 64],
    stops: [u64; MASKED / 64],
}

impl Masks {
    fn of(s: &[u8]) -> Masks {
        let mut m = Masks {
            quotes: [0; MASKED / 64],
            stops: [0; MASKED / 64],
        };
        let mut put = |k: usize, (q, st): (u16, u16)| {
            m.quotes[k / 4] |= u64::from(q) << (16 * (k % 4));
            m.stops[k / 4] |= u64::from(st) << (16 * (k % 4));
        };
        let chunks = s.chunks_exact(16);
        let (n, rest) = (chunks.len(), chunks.remainder());
        for (k, c) in chunks.enumerate() {
            put(k, classify16(c.try_into().unwrap_or(&[b' '; 16])));
        }
        if !rest.is_empty() {
            // Bytes past the end of the line are padding: they must not read as quotes or stops.
            let mut last = [b' '; 16];
            last[..rest.len()].copy_from_slice(rest);
            put(n, classify16(&last));
        }
        m
    }
}

/// Which of 16 bytes are quotes, and which are backslashes or control characters.
#[cfg(target_arch = "x86_64")]
#[inline]
fn classify16(c: &[u8; 16]) -> (u16, u16) {
    use std::arch::x86_64::*;
    let lo = i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
    let hi = i64::from_le_bytes([c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15]]);
    // SAFETY: SSE2 is part of the x86_64 baseline, so these instructions always exist; they
    // read and write registers only.
    unsafe {
        let v = _mm_set_epi64x(hi, lo);
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let slash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // Unsigned `b <= 0x1f`: the minimum of b and 0x1f is b.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        (
            _mm_movemask_epi8(quote) as u16,
            _mm_movemask_epi8(_mm_or_si128(slash, control)) as u16,
        )
    }
}

/// Which of 16 bytes are quotes, and which are backslashes or control characters.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn classify16(c: &[u8; 16]) -> (u16, u16) {
    let (mut q, mut s) = (0u16, 0u16);
    for (j, &b) in c.iter().enumerate() {
        q |= u16::from(b == b'"') << j;
        s |= u16::from(b == b'\\' || b < 0x20) << j;
    }
    (q, s)
}

/// The offset of the first `"`, `\` or control character in `s`, if any: eight bytes at a
/// time, for lines too long to mask.
#[inline]
fn string_stop(s: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(chunk) = s.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().ok()?);
        let quote = x ^ (ONES * u64::from(b'"'));
        let slash = x ^ (ONES * u64::from(b'\\'));
        // A byte is flagged when it is zero after the xor, or below 0x20. Flags above the
        // first true one may be spurious; the lowest one is exact.
        let hit = (quote.wrapping_sub(ONES) & !quote)
            | (slash.wrapping_sub(ONES) & !slash)
            | (x.wrapping_sub(ONES * 0x20) & !x);
        let hit = hit & HIGHS;
        if hit != 0 {
            return Some(i + (hit.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    s[i..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|p| i + p)
}

struct Cur<'a> {
    text: &'a str,
    s: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// JSON whitespace: space, tab, line feed, carriage return.
    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\r' | b'\n') = self.peek() {
            self.i += 1;
        }
    }

    #[inline]
    fn eat(&mut self, b: u8) -> Option<()> {
        self.ws();
        (self.peek() == Some(b)).then(|| self.i += 1)
    }

    /// A string without escapes or control characters: its inside.
    #[inline]
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let end = start + string_stop(&self.s[start..])?;
        (self.s[end] == b'"').then_some(())?;
        self.i = end + 1;
        self.text.get(start..end)
    }

    /// A scalar: a string (quotes kept), a number, `true`, `false` or `null`.
    #[inline]
    fn scalar(&mut self) -> Option<&'a str> {
        self.ws();
        let start = self.i;
        match self.peek()? {
            b'"' => {
                self.string()?;
                self.text.get(start..self.i)
            }
            b'0'..=b'9' => {
                // The common case: a whole number without leading zeros.
                while let Some(b'0'..=b'9') = self.peek() {
                    self.i += 1;
                }
                match self.peek() {
                    Some(b'.' | b'e' | b'E' | b'-' | b'+') => self.number(start),
                    _ if self.s[start] == b'0' && self.i - start > 1 => None,
                    _ => self.text.get(start..self.i),
                }
            }
            b'-' => self.number(start),
            _ => {
                for lit in ["true", "false", "null"] {
                    if self.s[self.i..].starts_with(lit.as_bytes()) {
                        self.i += lit.len();
                        return self.text.get(start..self.i);
                    }
                }
                None
            }
        }
    }

    /// Any JSON number starting at `start`.
    fn number(&mut self, start: usize) -> Option<&'a str> {
        self.i = start;
        while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        let t = self.text.get(start..self.i)?;
        valid_number(t).then_some(t)
    }
}

/// JSON's number grammar (serde would reject anything else).
fn valid_number(t: &str) -> bool {
    let b = t.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_len = i - int_start;
    if int_len == 0 || (int_len > 1 && b[int_start] == b'0') {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == f {
            return false;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let e = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == e {
            return false;
        }
    }
    i == b.len()
}

/// The field a key names (15 for any other key).
#[inline(always)]
fn key_bit(k: &[u8]) -> u16 {
    match (k.len(), k.first()) {
        (2, Some(b'a')) if k == b"at" => 0,
        (4, Some(b't')) if k == b"type" => 1,
        (7, Some(b'a')) if k == b"account" => 2,
        (5, Some(b'm')) if k == b"meter" => 3,
        (7, Some(b's')) if k == b"subject" => 4,
        (4, Some(b'i')) if k == b"item" => 5,
        (4, Some(b'n')) if k == b"name" => 6,
        (8, Some(b'q')) if k == b"quantity" => 7,
        (7, Some(b'p')) if k == b"periods" => 8,
        (6, Some(b'a')) if k == b"amount" => 9,
        (5, Some(b'v')) if k == b"value" => 10,
        (4, Some(b'd')) if k == b"dims" => 11,
        (2, Some(b'i')) if k == b"id" => 12,
        _ => 15,
    }
}

/// Scans a line too long to mask, byte by byte.
fn scan_long(text: &str) -> Option<Flat<'_>> {
    let mut c = Cur {
        text,
        s: text.as_bytes(),
        i: 0,
    };
    let mut f = Flat::default();
    c.eat(b'{')?;
    c.ws();
    if c.peek() == Some(b'}') {
        c.i += 1;
    } else {
        loop {
            let key = c.string()?;
            c.eat(b':')?;
            let bit = f.claim(key.as_bytes())?;
            if bit == DIMS {
                f.dims = c.dims()?;
            } else {
                f.set(bit, c.scalar()?)?;
            }
            c.ws();
            match c.peek()? {
                b',' => c.i += 1,
                b'}' => {
                    c.i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    c.ws();
    (c.i == c.s.len()).then_some(f)
}

const DIMS: u16 = 11;

impl<'a> Flat<'a> {
    /// The field a key names, once: a key given twice goes to serde, which says so.
    #[inline]
    fn claim(&mut self, key: &[u8]) -> Option<u16> {
        let bit = key_bit(key);
        if bit < 15 {
            if self.seen & (1 << bit) != 0 {
                return None;
            }
            self.seen |= 1 << bit;
        }
        Some(bit)
    }

    /// Stores a scalar's text (strings with their quotes) in the field `bit` names.
    #[inline]
    fn set(&mut self, bit: u16, v: &'a str) -> Option<()> {
        let is_str = v.as_bytes()[0] == b'"';
        let null = v == "null";
        // A string field holds a string or null; anything else goes to serde, which explains.
        let text_field = || -> Option<Option<&'a str>> {
            if is_str {
                Some(Some(&v[1..v.len() - 1]))
            } else if null {
                Some(None)
            } else {
                None
            }
        };
        match bit {
            0 => self.at = text_field()?,
            1 => self.ty = text_field()?,
            2 => self.account = text_field()?,
            3 => self.meter = text_field()?,
            4 => self.subject = text_field()?,
            5 => self.item = text_field()?,
            6 => self.name = text_field()?,
            7 => self.quantity = (!null).then_some(v),
            8 => self.periods = (!null).then_some(v),
            9 => self.amount = (!null).then_some(v),
            10 => self.value = Some(v),
            12 => self.id = (!null).then_some(v),
            _ => {}
        }
        Some(())
    }
}

/// Scans a line; `None` when it is not of the simple shape.
///
/// A line without backslashes or control characters has no escapes, so its strings are
/// exactly the runs between consecutive quotes: those come from one vectorised pass, and
/// the walk below only checks the punctuation between them.
pub(crate) fn scan(text: &str) -> Option<Flat<'_>> {
    let s = text.as_bytes();
    if s.len() > MASKED {
        return scan_long(text);
    }
    let masks = Masks::of(s);
    if masks.stops.iter().any(|&w| w != 0) {
        return None;
    }
    let mut q = Quotes {
        words: masks.quotes,
        w: 0,
    };
    let mut f = Flat::default();
    let mut i = spaces(s, 0);
    (s.get(i) == Some(&b'{')).then_some(())?;
    i = spaces(s, i + 1);
    if s.get(i) == Some(&b'}') {
        return (spaces(s, i + 1) == s.len()).then_some(f);
    }
    loop {
        let close = q.string_at(s, i)?;
        let bit = f.claim(&s[i + 1..close])?;
        i = spaces(s, close + 1);
        (s.get(i) == Some(&b':')).then_some(())?;
        i = spaces(s, i + 1);
        match s.get(i)? {
            b'"' if bit != DIMS => {
                let close = q.string_at(s, i)?;
                f.set(bit, text.get(i..=close)?)?;
                i = close + 1;
            }
            b'{' if bit == DIMS => {
                let start = i + 1;
                i = spaces(s, start);
                if s.get(i) != Some(&b'}') {
                    loop {
                        i = spaces(s, q.string_at(s, i)? + 1);
                        (s.get(i) == Some(&b':')).then_some(())?;
                        i = spaces(s, i + 1);
                        i = spaces(s, q.string_at(s, i)? + 1);
                        match s.get(i)? {
                            b',' => i = spaces(s, i + 1),
                            b'}' => break,
                            _ => return None,
                        }
                    }
                }
                f.dims = Some(text.get(start..i)?);
                i += 1;
            }
            b'"' => return None,
            _ => {
                let mut c = Cur { text, s, i };
                let v = c.scalar()?;
                i = c.i;
                if bit == DIMS {
                    (v == "null").then_some(())?;
                } else {
                    f.set(bit, v)?;
                }
            }
        }
        i = spaces(s, i);
        match s.get(i)? {
            b',' => i = spaces(s, i + 1),
            b'}' => return (spaces(s, i + 1) == s.len()).then_some(f),
            _ => return None,
        }
    }
}

/// The index of the first byte from `i` that is not a space.
#[inline]
fn spaces(s: &[u8], mut i: usize) -> usize {
    while s.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

/// A line's quotes, taken in order.
struct Quotes {
    words: [u64; MASKED / 64],
    w: usize,
}

impl Quotes {
    #[inline]
    fn next(&mut self) -> Option<usize> {
        while let Some(word) = self.words.get_mut(self.w) {
            if *word != 0 {
                let bit = word.trailing_zeros() as usize;
                *word &= *word - 1;
                return Some(self.w * 64 + bit);
            }
            self.w += 1;
        }
        None
    }

    /// The closing quote of the string that must open at `i`: the next quote must be at `i`,
    /// or the line is not of the simple shape.
    #[inline]
    fn string_at(&mut self, s: &[u8], i: usize) -> Option<usize> {
        (s.get(i) == Some(&b'"') && self.next()? == i).then_some(())?;
        self.next()
    }
}

impl<'a> Cur<'a> {
    /// The value of `dims`: `null`, or an object of strings (its inside).
    fn dims(&mut self) -> Option<Option<&'a str>> {
        self.ws();
        if self.peek() == Some(b'n') {
            return (self.scalar()? == "null").then_some(None);
        }
        self.eat(b'{')?;
        let start = self.i;
        self.ws();
        if self.peek() != Some(b'}') {
            loop {
                self.string()?;
                self.eat(b':')?;
                self.string()?;
                self.ws();
                match self.peek()? {
                    b',' => self.i += 1,
                    b'}' => break,
                    _ => return None,
                }
            }
        }
        let end = self.i;
        self.i += 1;
        Some(Some(self.text.get(start..end)?))
    }
}

/// The `"key":"value"` pairs inside a scanned `dims` object.
pub(crate) struct DimsPairs<'a> {
    text: &'a str,
    i: usize,
}

pub(crate) fn dims_pairs(inner: &str) -> DimsPairs<'_> {
    DimsPairs { text: inner, i: 0 }
}

impl<'a> Iterator for DimsPairs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let mut c = Cur {
            text: self.text,
            s: self.text.as_bytes(),
            i: self.i,
        };
        c.ws();
        if c.i >= c.s.len() {
            return None;
        }
        let k = c.string()?;
        c.eat(b':')?;
        let v = c.string()?;
        c.ws();
        if c.peek() == Some(b',') {
            c.i += 1;
        }
        self.i = c.i;
        Some((k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_lines_scan() {
        let f = scan(r#"{"at":"2026-01-01T00:00:00+08:00","type":"usage","meter":"email","quantity":3,"dims":{"a":"b"}}"#).unwrap();
        assert_eq!(f.at, Some("2026-01-01T00:00:00+08:00"));
        assert_eq!(f.quantity, Some("3"));
        assert_eq!(f.dims, Some(r#""a":"b""#));
        assert_eq!(
            dims_pairs(f.dims.unwrap()).collect::<Vec<_>>(),
            vec![("a", "b")]
        );
        let f = scan("{ \"quantity\" : 0 , \"id\":-1.5e3}").unwrap();
        assert_eq!((f.quantity, f.id), (Some("0"), Some("-1.5e3")));
    }

    #[test]
    fn unusual_lines_fall_back() {
        for l in [
            r#"{"at":"x\"y"}"#,
            r#"{"at":"a","at":"b"}"#,
            r#"{"at":5}"#,
            r#"{"dims":{"a":1}}"#,
            r#"{"x":[1]}"#,
            r#"{"quantity":01}"#,
            r#"{"quantity":1.}"#,
            r#"{"quantity":-}"#,
            r#"{"at":"a"} x"#,
            r#"not json"#,
            r#"{"at":"a",}"#,
            "{\"at\":\"a\tb\"}",
            "{\t\"quantity\":1}",
            "{\"account\":\"a long name with a \u{1} control\"}",
        ] {
            assert_eq!(scan(l), None, "{l}");
        }
    }

    #[test]
    fn string_stop_finds_the_first_stop() {
        let long = "abcdefghijklmnopqrstuvwxyz";
        for stop in ["\"", "\\", "\u{0}", "\u{1f}", "\n"] {
            for at in 0..long.len() {
                let s = format!("{}{stop}{}\"", &long[..at], &long[at..]);
                assert_eq!(string_stop(s.as_bytes()), Some(at), "{s:?}");
            }
        }
        assert_eq!(string_stop("héllo wörld, ünïcode €".as_bytes()), None);
        assert_eq!(string_stop(b" \x7f~!#"), None);
    }
}
