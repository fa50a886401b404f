//! Diagnostics: one type for every problem tariff reports, rendered by miette.
//!
//! A [`Diag`] has a stable code (`tariff::check::unknown_name`), a one-line message,
//! labelled spans and help. [`Report`] binds diagnostics to the file they are about.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode};
use serde::Serialize;

use crate::ast::Span;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational.
    Advice,
    /// Does not fail `check` unless `--deny warnings`.
    Warning,
    /// Fails `check`.
    Error,
}

/// One problem, with where it is and how to fix it.
#[derive(Clone, Debug)]
pub struct Diag {
    /// Stable code, `tariff::<phase>::<kind>`.
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// One line, lowercase, no final period.
    pub message: String,
    /// Labelled spans; the first is the primary one.
    pub labels: Vec<(Span, String)>,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diag {
    /// An error.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diag {
            code,
            severity: Severity::Error,
            message: message.into(),
            labels: Vec::new(),
            help: None,
        }
    }

    /// A warning.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diag {
            severity: Severity::Warning,
            ..Diag::error(code, message)
        }
    }

    /// Adds a labelled span.
    pub fn label(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push((span, text.into()));
        self
    }

    /// Sets the help text.
    pub fn help(mut self, text: impl Into<String>) -> Self {
        let t = text.into();
        self.help = if t.is_empty() { None } else { Some(t) };
        self
    }

    /// The primary span.
    pub fn span(&self) -> Span {
        self.labels.first().map(|l| l.0).unwrap_or_default()
    }
}

/// A diagnostic bound to its source text, ready for miette.
#[derive(Debug)]
pub struct Report {
    diag: Diag,
    src: NamedSource<String>,
}

impl Report {
    /// Binds `diag` to the file `name` whose text is `text`.
    pub fn new(diag: Diag, name: &str, text: &str) -> Self {
        Report {
            diag,
            src: NamedSource::new(name, text.to_string()),
        }
    }

    /// Renders without colour at a fixed width (for snapshots and logs).
    pub fn render_plain(&self, width: usize) -> String {
        let mut out = String::new();
        let h =
            GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(width);
        if h.render_report(&mut out, self).is_err() {
            out = format!("{}: {}", self.diag.code, self.diag.message);
        }
        out
    }

    /// Renders for a terminal (colours when `color`).
    pub fn render(&self, color: bool) -> String {
        if !color {
            return self.render_plain(100);
        }
        let mut out = String::new();
        let h = GraphicalReportHandler::new_themed(GraphicalTheme::unicode()).with_width(100);
        if h.render_report(&mut out, self).is_err() {
            out = format!("{}: {}", self.diag.code, self.diag.message);
        }
        out
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diag.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Advice => miette::Severity::Advice,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diag
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        if self.diag.labels.is_empty() {
            None
        } else {
            Some(&self.src)
        }
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.diag.labels.is_empty() {
            return None;
        }
        let len = self.src.inner().len();
        Some(Box::new(self.diag.labels.iter().enumerate().map(
            move |(i, (s, t))| {
                let start = s.start.min(len);
                let end = s.end.clamp(start, len);
                let span = Span::new(start, end);
                if i == 0 {
                    LabeledSpan::new_primary_with_span(Some(t.clone()), span)
                } else {
                    LabeledSpan::new_with_span(Some(t.clone()), span)
                }
            },
        )))
    }
}

/// 1-based line and column of a byte offset (column counts characters).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let mut off = offset;
    while off > 0 && !text.is_char_boundary(off) {
        off -= 1;
    }
    let before = &text[..off];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

/// A diagnostic as one JSON object (for `--format json`).
#[derive(Serialize)]
pub struct JsonDiag<'a> {
    /// Stable code.
    pub code: &'a str,
    /// error or warning.
    pub severity: Severity,
    /// File.
    pub file: &'a str,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Message.
    pub message: &'a str,
    /// Help.
    pub help: Option<&'a str>,
}

impl Diag {
    /// The JSON form, for `file` whose text is `text`.
    pub fn to_json<'a>(&'a self, file: &'a str, text: &str) -> JsonDiag<'a> {
        let (line, column) = line_col(text, self.span().start);
        JsonDiag {
            code: self.code,
            severity: self.severity,
            file,
            line,
            column,
            message: &self.message,
            help: self.help.as_deref(),
        }
    }

    /// A GitHub Actions annotation line.
    pub fn to_github(&self, file: &str, text: &str) -> String {
        let (line, col) = line_col(text, self.span().start);
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Advice => "notice",
        };
        let esc = |s: &str| {
            s.replace('%', "%25")
                .replace('\r', "%0D")
                .replace('\n', "%0A")
        };
        let mut msg = self.message.clone();
        if let Some(h) = &self.help {
            msg.push_str(" (help: ");
            msg.push_str(h);
            msg.push(')');
        }
        format!(
            "::{level} file={},line={line},col={col},title={}::{}",
            esc(file).replace(',', "%2C").replace(':', "%3A"),
            self.code,
            esc(&msg)
        )
    }
}
