//! Citations: each `cite ALIAS "quote"` must name a declared source whose document contains
//! the quote (after collapsing whitespace runs; case matters).

use std::collections::BTreeMap;
use std::path::Path;

use crate::ast::*;
use crate::check::ctx::Ctx;
use crate::check::suggest::MAX_CANDIDATES;
use crate::diag::Diag;

/// Collapses every whitespace run to one space and trims the ends.
pub(crate) fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads the first `dirs/file` that exists, whitespace-normalised.
fn load(dirs: &[std::path::PathBuf], file: &str) -> Option<String> {
    if file.is_empty() {
        return None;
    }
    dirs.iter()
        .map(|d| d.join(Path::new(file)))
        .filter(|p| p.is_file())
        .find_map(|p| {
            let bytes = std::fs::read(p).ok()?;
            Some(normalize(&String::from_utf8_lossy(&bytes)))
        })
}

/// Checks every source declaration and every citation of `p`.
pub(crate) fn check(cx: &mut Ctx<'_>, p: &Product, dirs: &[std::path::PathBuf]) {
    // Each document is read once, keyed by file name.
    let mut docs: BTreeMap<&str, Option<String>> = BTreeMap::new();
    for d in &p.decls {
        if let DeclKind::Source { alias, file } = &d.kind {
            if docs.contains_key(file.node.as_str()) {
                continue;
            }
            let doc = load(dirs, &file.node);
            if doc.is_none() {
                cx.push(
                    Diag::warning("tariff::lint::source_not_found", format!("source document `{}` not found", file.node))
                        .label(file.span, format!("source `{}`", alias.node))
                        .help("put the document next to the rule file or pass its directory with `--sources DIR`; its citations are not checked"),
                );
            }
            docs.insert(&file.node, doc);
        }
    }
    for d in &p.decls {
        for n in &d.notes {
            let Note::Cite { source, quote } = n else {
                continue;
            };
            let Some(file) = cx.sources.get(&source.node).copied() else {
                let names: Vec<&str> = cx.sources.names().take(MAX_CANDIDATES).collect();
                let fix = format!("declare it with `source {} = \"FILE\"`", source.node);
                cx.unknown(
                    "tariff::check::unknown_source",
                    "source",
                    source,
                    names,
                    &fix,
                );
                continue;
            };
            let Some(Some(doc)) = docs.get(file.node.as_str()) else {
                continue;
            };
            let q = normalize(&quote.node);
            if q.is_empty() || !doc.contains(&q) {
                cx.push(
                    Diag::error(
                        "tariff::check::citation_not_found",
                        format!("quote not found in source `{}` (`{}`)", source.node, file.node),
                    )
                    .label(quote.span, "not in the source")
                    .help("quote the source exactly (case matters; whitespace runs count as one space)"),
                );
            }
        }
    }
}
