//! A fast path for the common shape of trace lines: one flat JSON object whose strings hold
//! no escapes. Anything else (escapes, arrays, nesting outside `dims`, duplicate fields,
//! control characters, malformed JSON) returns `None` and the line goes through serde_json,
//! which also writes every error message. The two paths must agree on every line both
//! accept (a differential property test, and the `scan` fuzz target).
//!
//! Lines of at most [`MASKED`] bytes (nearly all) are classified 16 bytes at a time into
//! bit masks of quotes and of stops (backslashes, control characters): with no stop, the
//! strings are exactly the runs between consecutive quotes, found by bit arithmetic. Longer
//! lines are read byte by byte (`scan_long`); `Cur` holds what both share (numbers,
//! literals, `dims`).

/// The fields of a trace line, as text borrowed from it, indexed by [`Field`].
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Flat<'a> {
    /// Strings hold their inside; numbers and `value` their raw JSON text (a number, or a
    /// string with its quotes); `dims` the inside of its object.
    vals: [Option<&'a str>; FIELDS],
    /// Fields seen, `null` included (serde reads `null` as absent, except for `value`).
    seen: u16,
}

/// The fields a trace line may have, in [`Flat`]'s order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Field {
    At,
    Type,
    Account,
    Meter,
    Subject,
    Item,
    Name,
    Quantity,
    Periods,
    Amount,
    Value,
    Dims,
    Id,
}

const FIELDS: usize = 13;
const KEYS: [&str; FIELDS] = [
    "at", "type", "account", "meter", "subject", "item", "name", "quantity", "periods", "amount",
    "value", "dims", "id",
];
/// Not a field: other keys are allowed and ignored.
const OTHER: u16 = 15;
const DIMS: u16 = Field::Dims as u16;

impl<'a> Flat<'a> {
    #[inline]
    pub(crate) fn get(&self, f: Field) -> Option<&'a str> {
        self.vals[f as usize]
    }
}

/// A key of at most 8 bytes as a little-endian word (zero-padded).
const fn key_word(k: &[u8]) -> u64 {
    let mut w = 0u64;
    let mut j = k.len();
    while j > 0 {
        j -= 1;
        w = (w << 8) | k[j] as u64;
    }
    w
}

/// Multiplier of a perfect hash of the field names' words into 16 slots (found by search).
const KEY_HASH: u64 = 0x2de9_4b6a_a780_cebd;

#[inline(always)]
const fn key_slot(w: u64) -> usize {
    (w.wrapping_mul(KEY_HASH) >> 60) as usize
}

/// Per slot: the word of the field name hashed there, and the field.
const KEY_TABLE: [(u64, u16); 16] = {
    let mut t = [(u64::MAX, OTHER); 16];
    let mut f = 0;
    while f < FIELDS {
        let w = key_word(KEYS[f].as_bytes());
        let slot = key_slot(w);
        assert!(t[slot].1 == OTHER, "two field names share a slot");
        t[slot] = (w, f as u16);
        f += 1;
    }
    t
};

/// The field a key's word names: one multiply, one load, one compare, no branches on the
/// key's text (trace lines repeat keys in patterns that indirect jumps mispredict).
#[inline(always)]
fn field_of_word(w: u64) -> u16 {
    let (word, field) = KEY_TABLE[key_slot(w)];
    if word == w { field } else { OTHER }
}

/// The field a key names ([`OTHER`] for any other key).
#[inline]
fn key_bit(k: &[u8]) -> u16 {
    if k.len() > 8 || k.is_empty() {
        return OTHER;
    }
    field_of_word(key_word(k))
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Lines up to this long get their quotes found for the whole line at once.
pub(crate) const MASKED: usize = 256;

pub(crate) const WORDS: usize = MASKED / 64;

/// The quotes of a line of at most [`MASKED`] bytes as bit masks, one bit per byte, so that
/// strings are found by bit arithmetic, not byte by byte; `None` when the line has a
/// backslash or a control character. Each word is built in registers and stored once.
#[inline]
pub(crate) fn quote_words(s: &[u8]) -> Option<[u64; WORDS]> {
    let mut quotes = [0u64; WORDS];
    let mut stops = 0u16;
    for (w, word) in quotes.iter_mut().enumerate() {
        let mut q = 0u64;
        for k in 0..4 {
            let at = w * 64 + k * 16;
            let (cq, cs) = match s.get(at..at + 16) {
                Some(c) => classify16(c.try_into().ok()?),
                None if at >= s.len() => (0, 0),
                None if s.len() >= 16 => {
                    // The line's last 16 bytes, shifted so that bit 0 is the byte at `at`.
                    let (cq, cs) = classify16(s[s.len() - 16..].try_into().ok()?);
                    let shift = 16 - (s.len() - at);
                    (cq >> shift, cs >> shift)
                }
                None => {
                    // Padding past the end must not read as quotes or stops.
                    let mut c = [b' '; 16];
                    c[..s.len() - at].copy_from_slice(&s[at..]);
                    classify16(&c)
                }
            };
            q |= u64::from(cq) << (16 * k);
            stops |= cs;
        }
        *word = q;
    }
    (stops == 0).then_some(quotes)
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
pub(crate) fn string_stop(s: &[u8]) -> Option<usize> {
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
            let bit = f.claim(key_bit(key.as_bytes()))?;
            if bit == DIMS {
                f.vals[Field::Dims as usize] = c.dims()?;
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

impl<'a> Flat<'a> {
    /// Marks a field seen: a key given twice goes to serde, which says so.
    #[inline]
    fn claim(&mut self, bit: u16) -> Option<u16> {
        if bit != OTHER {
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
        let Some(slot) = self.vals.get_mut(usize::from(bit)) else {
            return Some(()); // another key
        };
        let is_str = v.as_bytes()[0] == b'"';
        let null = v == "null";
        *slot = if bit <= Field::Name as u16 {
            // A string field holds a string or null; anything else goes to serde, which
            // explains.
            if is_str {
                Some(&v[1..v.len() - 1])
            } else if null {
                None
            } else {
                return None;
            }
        } else if bit == Field::Value as u16 {
            Some(v)
        } else {
            (!null).then_some(v)
        };
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
    let mut q = Quotes::new(quote_words(s)?);
    let mut f = Flat::default();
    let mut i = spaces(s, 0);
    (s.get(i) == Some(&b'{')).then_some(())?;
    i = spaces(s, i + 1);
    if s.get(i) == Some(&b'}') {
        return (spaces(s, i + 1) == s.len()).then_some(f);
    }
    loop {
        let close = q.string_at(s, i)?;
        let len = close - i - 1;
        // The key's word straight from the line when 8 bytes follow its quote.
        let word = match s.get(i + 1..i + 9) {
            Some(w) if len <= 8 => {
                let w = u64::from_le_bytes(w.try_into().ok()?);
                Some(if len == 8 {
                    w
                } else {
                    w & ((1u64 << (8 * len)) - 1)
                })
            }
            _ => None,
        };
        let bit = match word {
            Some(w) if len > 0 => field_of_word(w),
            _ => key_bit(&s[i + 1..close]),
        };
        let bit = f.claim(bit)?;
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
                f.vals[Field::Dims as usize] = Some(text.get(start..i)?);
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

/// The layout of the last line that took the masked path: its members' keys in order, with
/// the exact bytes before each value (`,"key":` and spaces) and after the last. Traces repeat a
/// few layouts; a line with the same layout needs only those bytes compared and its values
/// read, not its quotes masked and its keys looked up. Lines with `dims` are not learned.
#[derive(Debug, Default)]
pub(crate) struct Shape {
    /// Per member: its separator and its field.
    parts: Vec<(Sep, u16)>,
    /// The separators, one after another.
    skel: Vec<u8>,
    /// What follows the last value.
    tail: Vec<u8>,
    /// Fields the layout names.
    seen: u16,
    /// Whether a layout was learned.
    ready: bool,
}

impl Shape {
    /// Scans a line: by the learned layout when it has it, else by [`scan`], learning the
    /// line's layout. Gives exactly what [`scan`] gives.
    pub(crate) fn scan<'a>(&mut self, text: &'a str) -> Option<Flat<'a>> {
        if self.ready
            && let Some(f) = self.apply(text)
        {
            return Some(f);
        }
        let f = scan(text)?;
        self.learn(text, &f);
        Some(f)
    }

    /// The fields of a line of the learned layout; `None` when it is not of it.
    #[inline]
    fn apply<'a>(&self, text: &'a str) -> Option<Flat<'a>> {
        let s = text.as_bytes();
        if s.len() > MASKED {
            return None;
        }
        let mut f = Flat {
            vals: [None; FIELDS],
            seen: self.seen,
        };
        let mut i = 0;
        for (sep, bit) in &self.parts {
            sep.at(s, i, &self.skel).then_some(())?;
            i += sep.len;
            let bit = *bit;
            // The separator holds all the whitespace; the value starts here.
            let mut c = Cur { text, s, i };
            if matches!(c.peek()?, b' ' | b'\t' | b'\r' | b'\n' | b'{' | b'[') {
                return None;
            }
            let v = c.scalar()?;
            i = c.i;
            f.set(bit, v)?;
        }
        (s[i..] == self.tail[..]).then_some(f)
    }

    /// Learns the layout of `text`, which [`scan`] read as `f`.
    #[cold]
    fn learn(&mut self, text: &str, f: &Flat<'_>) {
        self.ready = false;
        if text.len() > MASKED || f.seen & (1 << DIMS) != 0 {
            return;
        }
        self.parts.clear();
        self.skel.clear();
        let s = text.as_bytes();
        let mut c = Cur { text, s, i: 0 };
        let mut sep_start = 0;
        if c.eat(b'{').is_none() {
            return;
        }
        loop {
            c.ws();
            if c.peek() == Some(b'}') {
                // An empty object: nothing to learn.
                return;
            }
            let Some(key) = c.string() else { return };
            if c.eat(b':').is_none() {
                return;
            }
            c.ws();
            if matches!(c.peek(), Some(b'{' | b'[') | None) {
                return;
            }
            let from = self.skel.len();
            self.skel.extend_from_slice(&s[sep_start..c.i]);
            let sep = Sep::new(&self.skel, from);
            self.parts.push((sep, key_bit(key.as_bytes())));
            if c.scalar().is_none() {
                return;
            }
            sep_start = c.i;
            c.ws();
            match c.peek() {
                Some(b',') => c.i += 1,
                Some(b'}') => break,
                _ => return,
            }
        }
        self.tail.clear();
        self.tail.extend_from_slice(&s[sep_start..]);
        self.seen = f.seen;
        self.ready = true;
    }
}

/// A separator of a [`Shape`]: its bytes in the shape's `skel` and, when it is at most 16
/// bytes long (nearly always), as two little-endian words with masks, compared without a call.
#[derive(Debug, Clone, Copy)]
struct Sep {
    from: usize,
    len: usize,
    words: [u64; 2],
    masks: [u64; 2],
}

impl Sep {
    fn new(skel: &[u8], from: usize) -> Sep {
        let bytes = &skel[from..];
        let (mut words, mut masks) = ([0u64; 2], [0u64; 2]);
        for (j, &b) in bytes.iter().take(16).enumerate() {
            words[j / 8] |= u64::from(b) << (8 * (j % 8));
            masks[j / 8] |= 0xff << (8 * (j % 8));
        }
        Sep {
            from,
            len: bytes.len(),
            words,
            masks,
        }
    }

    /// Whether `s[i..]` starts with the separator.
    #[inline(always)]
    fn at(&self, s: &[u8], i: usize, skel: &[u8]) -> bool {
        if self.len <= 16
            && let Some(c) = s.get(i..i + 16)
        {
            let lo = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            let hi = u64::from_le_bytes([c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15]]);
            return ((lo ^ self.words[0]) & self.masks[0]) | ((hi ^ self.words[1]) & self.masks[1])
                == 0;
        }
        s.get(i..i + self.len) == Some(&skel[self.from..self.from + self.len])
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
pub(crate) struct Quotes {
    /// What is left of word `w`.
    cur: u64,
    words: [u64; WORDS],
    w: usize,
}

impl Quotes {
    pub(crate) fn new(words: [u64; WORDS]) -> Quotes {
        Quotes {
            cur: words[0],
            words,
            w: 0,
        }
    }

    /// The position of the next quote.
    #[inline]
    pub(crate) fn next(&mut self) -> Option<usize> {
        while self.cur == 0 {
            self.w += 1;
            self.cur = *self.words.get(self.w)?;
        }
        let bit = self.cur.trailing_zeros() as usize;
        self.cur &= self.cur - 1;
        Some(self.w * 64 + bit)
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
    fn a_learned_layout_reads_as_the_scanner_does() {
        let head =
            r#"{"at":"2026-01-01T00:00:00+08:00","account":"b","type":"usage","meter":"email","#;
        let mut lines: Vec<String> = [
            r#""quantity":3}"#,
            r#""quantity":12}"#,
            r#""quantity":"12"}"#,
            r#""quantity":1.5e3}"#,
            "\"quantity\":\t1}",
            r#""quantity": 1}"#,
            r#""quantity":1} "#,
            r#""quantity":1}x"#,
            r#""quantity":01}"#,
            r#""quantity":1,"id":"e"}"#,
            r#""quantity":{"a":1}}"#,
            r#""quantity":[1]}"#,
            r#""quantity":true}"#,
            r#""quantity":null}"#,
            r#""quantity":2}"#,
        ]
        .iter()
        .map(|t| format!("{head}{t}"))
        .collect();
        lines.push(
            r#"{"at":"x\"y","account":"b","type":"usage","meter":"email","quantity":1}"#.into(),
        );
        lines.push(
            r#"{"at":"x","account":null,"type":"usage","meter":"email","quantity":1}"#.into(),
        );
        lines.push(r#"{"at":"x","account":"b","type":"usage","meter":"email"}"#.into());
        let mut shape = Shape::default();
        let mut by_layout = 0;
        for l in &lines {
            if shape.ready && shape.apply(l).is_some() {
                by_layout += 1;
            }
            assert_eq!(shape.scan(l), scan(l), "{l}");
        }
        assert!(by_layout >= 5, "{by_layout} lines read by the layout");
    }

    #[test]
    fn simple_lines_scan() {
        let f = scan(r#"{"at":"2026-01-01T00:00:00+08:00","type":"usage","meter":"email","quantity":3,"dims":{"a":"b"}}"#).unwrap();
        assert_eq!(f.get(Field::At), Some("2026-01-01T00:00:00+08:00"));
        assert_eq!(f.get(Field::Quantity), Some("3"));
        assert_eq!(f.get(Field::Dims), Some(r#""a":"b""#));
        assert_eq!(
            dims_pairs(f.get(Field::Dims).unwrap()).collect::<Vec<_>>(),
            vec![("a", "b")]
        );
        let f = scan("{ \"quantity\" : 0 , \"id\":-1.5e3}").unwrap();
        assert_eq!(
            (f.get(Field::Quantity), f.get(Field::Id)),
            (Some("0"), Some("-1.5e3"))
        );
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
    fn every_field_name_and_nothing_else_is_a_field() {
        for (f, k) in KEYS.iter().enumerate() {
            assert_eq!(key_bit(k.as_bytes()), f as u16, "{k}");
        }
        for k in [
            "",
            "a",
            "ATT",
            "at ",
            "tyep",
            "accounts",
            "quantit",
            "quantityy",
            "\0",
        ] {
            assert_eq!(key_bit(k.as_bytes()), OTHER, "{k:?}");
        }
        // Keys read from the line (8 bytes at once) and from the byte scanner agree.
        for k in KEYS.iter().chain(&["x", "idx", "meters", r"at\u0000"]) {
            let line = format!("{{\"{k}\":null}}");
            let (fast, long) = (scan(&line), scan_long(&line));
            assert_eq!(fast, long, "{line}");
        }
    }

    #[test]
    fn quote_masks_match_the_bytes_at_every_length() {
        for len in 0..=MASKED {
            let line: Vec<u8> = (0..len)
                .map(|j| if (j * 7 + len) % 5 == 0 { b'"' } else { b'a' })
                .collect();
            let mut want = [0u64; WORDS];
            for (j, _) in line.iter().enumerate().filter(|(_, b)| **b == b'"') {
                want[j / 64] |= 1 << (j % 64);
            }
            assert_eq!(quote_words(&line), Some(want), "{len}");
            for stop in [b'\\', b'\n', 0] {
                if len > 0 {
                    let mut bad = line.clone();
                    bad[len - 1] = stop;
                    assert_eq!(quote_words(&bad), None, "{len} {stop}");
                }
            }
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
