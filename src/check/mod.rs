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

/// Every declaration marked `assumed`, with a short description of what it declares.
pub fn assumptions(file: &RuleFile) -> Vec<(crate::ast::Span, String)> {
    let mut out = Vec::new();
    for p in &file.products {
        for d in &p.decls {
            for n in &d.notes {
                if let crate::ast::Note::Assumed { reason, .. } = n {
                    let why = reason
                        .as_ref()
                        .map(|r| format!(" ({})", r.node))
                        .unwrap_or_default();
                    out.push((d.span, format!("{}{why}", decl_title(&d.kind))));
                }
            }
        }
    }
    out
}

fn decl_title(k: &crate::ast::DeclKind) -> String {
    use crate::ast::DeclKind::*;
    match k {
        Meter(m) => format!("meter {}", m.name.node),
        FreeTier(m) => format!("free_tier {}", m.name.node),
        Package(m) => format!(
            "package {}: {} {} for {} {}",
            m.name.node,
            m.quota.value.node,
            m.quota.unit.node,
            m.price.amount.node,
            m.price.currency.node
        ),
        Edition(m) => format!("edition {}", m.name.node),
        Pack(m) => format!("pack {}", m.name.node),
        Resource(m) => format!("resource {}", m.name.node),
        Price(m) => format!("price {}", m.name.node),
        Param(m) => format!("param {}", m.name.node),
        Limit(_) => "limit".into(),
        Alert(m) => format!("alert {}", m.name.node),
        Trigger(m) => format!("trigger {}", m.name.node),
        Lifecycle(m) => format!("lifecycle {}", m.name.node),
        Bill(m) => format!("bill {}", m.name.node),
        Draw(m) => format!("draw {}", m.meter.node),
        _ => "declaration".into(),
    }
}
