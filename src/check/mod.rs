//! Checking: a parsed rule file in, diagnostics out (errors and warnings).

use crate::ast::RuleFile;
use crate::diag::Diag;
use std::path::PathBuf;

/// What the checker may consult beyond the file itself.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// Directories searched for the documents that `source` declarations name.
    pub source_dirs: Vec<PathBuf>,
}

/// Checks a parsed rule file; returns every problem found.
pub fn check(_file: &RuleFile, _text: &str, _opts: &CheckOptions) -> Vec<Diag> {
    Vec::new()
}
