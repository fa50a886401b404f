//! A fast path for the common shape of trace lines: one flat JSON object whose strings hold
//! no escapes. Anything else (escapes, arrays, nesting outside `dims`, duplicate fields,
//! malformed JSON) returns `None` and the line goes through serde_json, which also writes
//! every error message. The two paths must agree on every line both accept (tested).

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

struct Cur<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    #[inline]
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\r' | b'\n') {
            self.i += 1;
        }
    }

    #[inline]
    fn eat(&mut self, b: u8) -> Option<()> {
        self.ws();
        (self.s.get(self.i) == Some(&b)).then(|| self.i += 1)
    }

    /// A string without escapes: its inside. (Control characters were ruled out for the
    /// whole line before scanning.)
    #[inline]
    fn string(&mut self, text: &'a str) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let rel = memchr::memchr2(b'"', b'\\', &self.s[start..])?;
        if self.s[start + rel] != b'"' {
            return None;
        }
        self.i = start + rel + 1;
        text.get(start..start + rel)
    }

    /// A scalar: a string (quotes kept), a number, `true`, `false` or `null`.
    fn scalar(&mut self, text: &'a str) -> Option<&'a str> {
        self.ws();
        let start = self.i;
        match self.s.get(self.i)? {
            b'"' => {
                self.string(text)?;
                text.get(start..self.i)
            }
            b'-' | b'0'..=b'9' => {
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.i += 1;
                }
                let t = text.get(start..self.i)?;
                valid_number(t).then_some(t)
            }
            _ => {
                for lit in ["true", "false", "null"] {
                    if self.s[self.i..].starts_with(lit.as_bytes()) {
                        self.i += lit.len();
                        return text.get(start..self.i);
                    }
                }
                None
            }
        }
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
#[inline]
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

/// Scans a line; `None` when it is not of the simple shape.
pub(crate) fn scan(text: &str) -> Option<Flat<'_>> {
    // JSON forbids raw control characters in strings; tabs and carriage returns between
    // tokens are rare enough to leave to serde as well. One vectorisable pass.
    if text.bytes().fold(false, |bad, b| bad | (b < 0x20)) {
        return None;
    }
    let mut c = Cur {
        s: text.as_bytes(),
        i: 0,
    };
    let mut f = Flat::default();
    c.eat(b'{')?;
    c.ws();
    if c.s.get(c.i) == Some(&b'}') {
        c.i += 1;
    } else {
        loop {
            let key = c.string(text)?;
            c.eat(b':')?;
            let bit = key_bit(key.as_bytes());
            if bit < 15 {
                if f.seen & (1 << bit) != 0 {
                    return None; // a duplicate field: serde says so
                }
                f.seen |= 1 << bit;
            }
            if bit == 11 {
                c.ws();
                if c.s.get(c.i) == Some(&b'n') {
                    // `"dims": null`
                    (c.scalar(text)? == "null").then_some(())?;
                } else {
                    c.eat(b'{')?;
                    let start = c.i;
                    c.ws();
                    if c.s.get(c.i) != Some(&b'}') {
                        loop {
                            c.string(text)?;
                            c.eat(b':')?;
                            c.string(text)?;
                            c.ws();
                            match c.s.get(c.i)? {
                                b',' => c.i += 1,
                                b'}' => break,
                                _ => return None,
                            }
                        }
                    }
                    let end = c.i;
                    c.i += 1;
                    f.dims = Some(text.get(start..end)?);
                }
            } else {
                let v = c.scalar(text)?;
                let is_str = v.starts_with('"');
                let inner = if is_str { &v[1..v.len() - 1] } else { v };
                // A string field holds a string or null; anything else goes to serde, which explains.
                let text_field = || -> Option<Option<&str>> {
                    if v == "null" {
                        Some(None)
                    } else if is_str {
                        Some(Some(inner))
                    } else {
                        None
                    }
                };
                match bit {
                    0 => f.at = text_field()?,
                    1 => f.ty = text_field()?,
                    2 => f.account = text_field()?,
                    3 => f.meter = text_field()?,
                    4 => f.subject = text_field()?,
                    5 => f.item = text_field()?,
                    6 => f.name = text_field()?,
                    7 => f.quantity = (v != "null").then_some(v),
                    8 => f.periods = (v != "null").then_some(v),
                    9 => f.amount = (v != "null").then_some(v),
                    10 => f.value = Some(v),
                    12 => f.id = (v != "null").then_some(v),
                    _ => {}
                }
            }
            c.ws();
            match c.s.get(c.i)? {
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
            s: self.text.as_bytes(),
            i: self.i,
        };
        c.ws();
        if c.i >= c.s.len() {
            return None;
        }
        let k = c.string(self.text)?;
        c.eat(b':')?;
        let v = c.string(self.text)?;
        c.ws();
        if c.s.get(c.i) == Some(&b',') {
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
            r#"{"at":"a"} x"#,
            r#"not json"#,
            r#"{"at":"a",}"#,
        ] {
            assert_eq!(scan(l), None, "{l}");
        }
    }
}
