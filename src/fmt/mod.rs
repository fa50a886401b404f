//! Formatting: rule-file text in, the canonical layout out, every comment kept.
//!
//! The layout is printed from the typed tree (`layout`); comments, which the tree
//! does not hold, are found in the source (`comments`) and put back: a comment on its
//! own line goes before the next item, at that item's indentation; a comment after code
//! stays at the end of the line that prints that code.

mod comments;
mod layout;
mod text;

use comments::Comment;
use layout::{Line, Out};

use crate::diag::Diag;

/// Formats a rule file; fails with the parse diagnostics if it does not parse.
pub fn format_source(src: &str) -> Result<String, Vec<Diag>> {
    let file = crate::parse_file(src)?;
    let (comments, starts) = comments::scan(src)?;
    let out = layout::file(&file, &starts);
    Ok(render(out, &comments))
}

/// Prints the lines with the comments put back.
fn render(out: Vec<Out>, comments: &[Comment]) -> String {
    let lines: Vec<&Line> = out
        .iter()
        .filter_map(|o| match o {
            Out::Code(l) => Some(l),
            Out::Blank => None,
        })
        .collect();
    // Comments before each code line, comments at its end, and comments after the last.
    let mut before: Vec<Vec<&Comment>> = vec![Vec::new(); lines.len()];
    let mut trailing: Vec<Vec<&Comment>> = vec![Vec::new(); lines.len()];
    let mut tail: Vec<&Comment> = Vec::new();
    for c in comments {
        // After code: the line printing that code (anchors rise through the output).
        if let Some(i) = c
            .after_code
            .and_then(|p| lines.partition_point(|l| l.anchor <= p).checked_sub(1))
        {
            trailing[i].push(c);
            continue;
        }
        // On its own line: before the item it is inside, else before the next one. Only
        // one-line items have an end past their anchor, so only the last line that starts
        // before the comment can hold it.
        let next = lines.partition_point(|l| l.anchor < c.pos);
        let inside = next.checked_sub(1).filter(|&i| c.pos < lines[i].end);
        match inside.or((next < lines.len()).then_some(next)) {
            Some(i) => before[i].push(c),
            None => tail.push(c),
        }
    }
    let mut s = String::new();
    let mut i = 0;
    for o in &out {
        let Out::Code(l) = o else {
            s.push('\n');
            continue;
        };
        // Two comments cannot share a line end: put them before the line instead.
        if trailing[i].len() > 1 {
            let t = std::mem::take(&mut trailing[i]);
            before[i].extend(t);
            before[i].sort_by_key(|c| c.pos);
        }
        for c in &before[i] {
            push_line(&mut s, l.inner, &c.text);
        }
        match trailing[i].first() {
            Some(c) => push_line(&mut s, l.indent, &format!("{} {}", l.text, c.text)),
            None => push_line(&mut s, l.indent, &l.text),
        }
        i += 1;
    }
    for c in tail {
        push_line(&mut s, 0, &c.text);
    }
    s
}

fn push_line(s: &mut String, indent: usize, text: &str) {
    for _ in 0..indent {
        s.push_str("  ");
    }
    s.push_str(text);
    s.push('\n');
}
