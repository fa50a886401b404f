//! Comments and line starts: the parts of the source the typed tree does not keep.
//!
//! The grammar skips comments, so they are found here: any `#` outside a token is one.
//! Tokens are the leaves of pest's parse tree; punctuation never holds a `#`, so a `#`
//! in the text between leaves starts a comment (a `#` inside a string or in `pkg#1` is
//! part of a leaf).

use pest::Parser;

use crate::ast::Span;
use crate::diag::Diag;
use crate::syntax::grammar::{Rule, TariffParser};

/// A comment as written, and where.
#[derive(Debug)]
pub(super) struct Comment {
    /// Offset of the `#`.
    pub pos: usize,
    /// The text from `#`, trailing blanks dropped.
    pub text: String,
    /// For a comment with code before it on its line, the offset of that code's last byte.
    pub after_code: Option<usize>,
}

/// Starts of the rules whose keyword the typed tree does not span, and ends of tokens.
#[derive(Default)]
pub(super) struct Starts {
    /// Ends of the leaves, in order.
    ends: Vec<usize>,
    cite: Vec<usize>,
    state: Vec<usize>,
    until: Vec<usize>,
    opening: Vec<usize>,
    expect: Vec<usize>,
}

/// Which rule a start is asked for.
#[derive(Clone, Copy)]
pub(super) enum Kw {
    Cite,
    State,
    Until,
    Opening,
    Expect,
}

impl Starts {
    /// The start of the innermost `kw` rule that begins at or before `pos`.
    pub fn of(&self, kw: Kw, pos: usize) -> usize {
        let v = match kw {
            Kw::Cite => &self.cite,
            Kw::State => &self.state,
            Kw::Until => &self.until,
            Kw::Opening => &self.opening,
            Kw::Expect => &self.expect,
        };
        let i = v.partition_point(|s| *s <= pos);
        if i == 0 { pos } else { v[i - 1] }
    }

    /// The end of the last token that ends at or before `pos`: pest's spans of rules that
    /// end in `?` or `*` run on over the blanks and comments after them.
    pub fn token_end(&self, pos: usize) -> usize {
        let i = self.ends.partition_point(|e| *e <= pos);
        if i == 0 { pos } else { self.ends[i - 1] }
    }
}

/// Scans `src` (which must parse) for its comments and rule starts.
pub(super) fn scan(src: &str) -> Result<(Vec<Comment>, Starts), Vec<Diag>> {
    let pairs = TariffParser::parse(Rule::file, src).map_err(|e| {
        vec![Diag::error("tariff::parse::syntax", "unexpected input").help(e.to_string())]
    })?;
    let mut leaves = Vec::new();
    let mut starts = Starts::default();
    for p in pairs.flatten() {
        let s = p.as_span();
        match p.as_rule() {
            Rule::cite => starts.cite.push(s.start()),
            Rule::state_decl => starts.state.push(s.start()),
            Rule::ex_until => starts.until.push(s.start()),
            Rule::ex_opening => starts.opening.push(s.start()),
            Rule::expect => starts.expect.push(s.start()),
            _ => {}
        }
        if p.clone().into_inner().next().is_none() {
            leaves.push(Span::new(s.start(), s.end()));
        }
    }
    for v in [
        &mut starts.cite,
        &mut starts.state,
        &mut starts.until,
        &mut starts.opening,
        &mut starts.expect,
    ] {
        v.sort_unstable();
    }
    leaves.sort_by_key(|l| l.start);
    starts.ends = leaves.iter().map(|l| l.end).collect();
    Ok((comments(src, &leaves), starts))
}

fn comments(src: &str, leaves: &[Span]) -> Vec<Comment> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut leaf = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Leaves are sorted and disjoint: skip those that end before `i`.
        while leaf < leaves.len() && leaves[leaf].end <= i {
            leaf += 1;
        }
        if leaf < leaves.len() && leaves[leaf].start <= i && i < leaves[leaf].end {
            i = leaves[leaf].end;
            continue;
        }
        if bytes[i] != b'#' {
            i += 1;
            continue;
        }
        let end = src[i..].find(['\n', '\r']).map_or(src.len(), |n| i + n);
        let line_start = src[..i].rfind(['\n', '\r']).map_or(0, |n| n + 1);
        let before = &src[line_start..i];
        let after_code = before.trim_end().len();
        out.push(Comment {
            pos: i,
            text: src[i..end].trim_end().to_string(),
            after_code: (after_code > 0).then(|| line_start + after_code - 1),
        });
        i = end;
    }
    out
}
