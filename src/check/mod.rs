//! Checking: a parsed rule file in, every problem found out (errors and warnings).
//!
//! Names are collected first (`names`); then each declaration is checked on its own, by
//! concept; then citations, examples, and the lints about what is never used.

mod citations;
mod ctx;
mod examples;
mod items;
mod lifecycles;
mod names;
mod params;
mod pricing;
mod suggest;
mod tiers;
mod units;
mod unused;
mod values;
mod watches;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::ast::{DeclKind, Meter, Product, RuleFile, Span};
use crate::diag::Diag;
use ctx::Ctx;

/// What the checker may consult beyond the file itself.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// Directories searched for the documents that `source` declarations name.
    pub source_dirs: Vec<PathBuf>,
}

/// Checks a parsed rule file; returns every problem found.
pub fn check(file: &RuleFile, text: &str, opts: &CheckOptions) -> Vec<Diag> {
    let mut diags = Vec::new();
    match file.products.first() {
        None => diags.push(
            Diag::error("tariff::check::no_product", "the file declares no product")
                .label(Span::new(0, 0), "empty")
                .help("write one `product ID \"name\" { ... }` block"),
        ),
        Some(first) => {
            for extra in file.products.iter().skip(1) {
                diags.push(
                    Diag::error(
                        "tariff::check::multiple_products",
                        format!("second product `{}` in one file", extra.id.node),
                    )
                    .label(extra.id.span, "another product")
                    .label(first.id.span, "the file's product")
                    .help("put each product in its own rule file"),
                );
            }
        }
    }
    for p in &file.products {
        diags.extend(check_product(p, text, opts));
    }
    diags
}

fn check_product(p: &Product, text: &str, opts: &CheckOptions) -> Vec<Diag> {
    let mut cx = Ctx {
        text,
        ..Ctx::default()
    };
    names::collect(&mut cx, p);
    for d in &p.decls {
        match &d.kind {
            DeclKind::Meter(m) => meter(&mut cx, m),
            DeclKind::FreeTier(x) => items::free_tier(&mut cx, x),
            DeclKind::Package(x) => items::package(&mut cx, x),
            DeclKind::Edition(x) => items::edition(&mut cx, x),
            DeclKind::Pack(x) => items::pack(&mut cx, x),
            DeclKind::Resource(x) => items::resource(&mut cx, x),
            DeclKind::Price(x) => pricing::price(&mut cx, x),
            DeclKind::Draw(x) => pricing::draw(&mut cx, x),
            DeclKind::Limit(x) => pricing::limit(&mut cx, x),
            DeclKind::Bill(x) => pricing::bill(&mut cx, x),
            DeclKind::Param(x) => params::decl(&mut cx, x),
            DeclKind::Lifecycle(x) => lifecycles::decl(&mut cx, x),
            DeclKind::Trigger(x) => watches::trigger(&mut cx, x),
            DeclKind::Alert(x) => watches::alert(&mut cx, x),
            DeclKind::Currency(_)
            | DeclKind::Timezone(_)
            | DeclKind::Source { .. }
            | DeclKind::Example(_) => {}
        }
    }
    citations::check(&mut cx, p, &opts.source_dirs);
    examples::check_all(&mut cx, p);
    unused::check(&mut cx);
    lifecycles::unused(&mut cx);
    cx.diags
}

/// A meter's dimensions and their values are each declared once.
fn meter(cx: &mut Ctx<'_>, m: &Meter) {
    let mut dims: BTreeMap<&str, Span> = BTreeMap::new();
    for (d, values) in &m.dims {
        if let Some(first) = dims.get(d.node.as_str()) {
            cx.duplicate("tariff::check::duplicate_dim", "dimension", d, *first);
        } else {
            dims.insert(&d.node, d.span);
        }
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for v in values {
            if let Some(first) = seen.get(v.node.as_str()) {
                cx.duplicate("tariff::check::duplicate_dim", "dimension value", v, *first);
            } else {
                seen.insert(&v.node, v.span);
            }
        }
    }
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
        Currency(c) => format!("currency {}", c.node),
        Timezone(t) => match &t.node {
            crate::ast::TzSpec::Offset(secs) => {
                let sign = if *secs < 0 { '-' } else { '+' };
                format!(
                    "timezone {sign}{:02}:{:02}",
                    secs.abs() / 3600,
                    secs.abs() % 3600 / 60
                )
            }
            crate::ast::TzSpec::Named(n) => format!("timezone {n}"),
        },
        _ => "declaration".into(),
    }
}
