//! The checker's state: the product's namespaces, what is used, and the diagnostics so far.

use std::collections::{BTreeMap, BTreeSet};

use crate::ast::*;
use crate::check::suggest::MAX_CANDIDATES;
use crate::diag::Diag;

/// A declared name and what it names.
pub(crate) struct Table<'a, T> {
    map: BTreeMap<&'a str, (Span, T)>,
}

impl<'a, T> Default for Table<'a, T> {
    fn default() -> Self {
        Table {
            map: BTreeMap::new(),
        }
    }
}

impl<'a, T> Table<'a, T> {
    /// Adds `name`; on a duplicate, keeps the first and returns its span.
    pub fn insert(&mut self, name: &'a Ident, value: T) -> Result<(), Span> {
        if let Some((span, _)) = self.map.get(name.node.as_str()) {
            return Err(*span);
        }
        self.map.insert(name.node.as_str(), (name.span, value));
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&T> {
        self.map.get(name).map(|(_, v)| v)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.map.keys().copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'a str, Span, &T)> + '_ {
        self.map.iter().map(|(k, (s, v))| (*k, *s, v))
    }
}

/// One namespace holds every item kind, so an item name says which item it is.
#[derive(Clone, Copy)]
pub(crate) enum Item<'a> {
    FreeTier(&'a FreeTier),
    Package(&'a Package),
    Edition(&'a Edition),
    Pack(&'a Pack),
    Resource(&'a Resource),
}

impl<'a> Item<'a> {
    pub fn kind(&self) -> &'static str {
        match self {
            Item::FreeTier(_) => "free tier",
            Item::Package(_) => "package",
            Item::Edition(_) => "edition",
            Item::Pack(_) => "pack",
            Item::Resource(_) => "resource",
        }
    }

    pub fn lifecycle(&self) -> Option<&'a Ident> {
        match self {
            Item::FreeTier(x) => x.lifecycle.as_ref(),
            Item::Package(x) => x.lifecycle.as_ref(),
            Item::Edition(x) => x.lifecycle.as_ref(),
            Item::Pack(x) => x.lifecycle.as_ref(),
            Item::Resource(x) => x.lifecycle.as_ref(),
        }
    }

    /// Bought with `purchase` (by an event or a trigger).
    pub fn purchasable(&self) -> bool {
        matches!(self, Item::Package(_) | Item::Edition(_) | Item::Pack(_))
    }
}

/// Names referenced by the rules (not by examples), for the unused-declaration lints.
#[derive(Default)]
pub(crate) struct Used<'a> {
    pub params: BTreeSet<&'a str>,
    pub allowances: BTreeSet<&'a str>,
    pub lifecycles: BTreeSet<&'a str>,
    pub alerts: BTreeSet<&'a str>,
    /// Meters that some `draw` covers.
    pub drawn_meters: BTreeSet<&'a str>,
    /// Meters whose draw falls through to `payg`.
    pub payg_meters: BTreeSet<&'a str>,
    /// Meters whose draw takes from `packages`.
    pub package_meters: BTreeSet<&'a str>,
}

/// Everything the checks share about one product.
#[derive(Default)]
pub(crate) struct Ctx<'a> {
    pub text: &'a str,
    pub diags: Vec<Diag>,
    pub currency: Option<&'a Ident>,
    pub meters: Table<'a, &'a Meter>,
    pub items: Table<'a, Item<'a>>,
    pub prices: Table<'a, &'a Price>,
    pub params: Table<'a, &'a Param>,
    pub lifecycles: Table<'a, &'a Lifecycle>,
    pub alerts: Table<'a, &'a Alert>,
    pub triggers: Table<'a, &'a Trigger>,
    pub sources: Table<'a, &'a Spanned<String>>,
    pub bills: Table<'a, ()>,
    /// Every dimension of every meter, with the values declared for it.
    pub all_dims: BTreeMap<&'a str, Vec<&'a Ident>>,
    pub used: Used<'a>,
    /// Names compared so far for suggestions; bounded so hostile files stay fast.
    pub suggested: usize,
}

/// How many name comparisons suggestions may cost in one product.
const SUGGEST_BUDGET: usize = 2_000_000;

impl<'a> Ctx<'a> {
    pub fn push(&mut self, d: Diag) {
        self.diags.push(d);
    }

    /// Reports a duplicate of a name first declared at `first`.
    pub fn duplicate(&mut self, code: &'static str, what: &str, name: &Ident, first: Span) {
        self.push(
            Diag::error(code, format!("duplicate {what} `{}`", name.node))
                .label(name.span, "declared again here")
                .label(first, "first declared here")
                .help(format!(
                    "rename one of them: each {what} needs its own name"
                )),
        );
    }

    /// "did you mean `x`?" for a near candidate, within the product's suggestion budget.
    pub fn suggest<'n>(
        &mut self,
        name: &str,
        candidates: impl IntoIterator<Item = &'n str>,
    ) -> Option<String> {
        if self.suggested >= SUGGEST_BUDGET {
            return None;
        }
        let candidates: Vec<&str> = candidates.into_iter().take(MAX_CANDIDATES).collect();
        self.suggested = self.suggested.saturating_add(candidates.len());
        crate::check::suggest::did_you_mean(name, candidates)
            .map(|s| format!("did you mean `{s}`?"))
    }

    /// Reports a name that nothing declares, suggesting a near one.
    pub fn unknown<'n>(
        &mut self,
        code: &'static str,
        what: &str,
        name: &Ident,
        candidates: impl IntoIterator<Item = &'n str>,
        fix: &str,
    ) {
        let help = self
            .suggest(&name.node, candidates)
            .unwrap_or_else(|| fix.to_string());
        self.push(
            Diag::error(code, format!("unknown {what} `{}`", name.node))
                .label(name.span, "not declared")
                .help(help),
        );
    }

    /// The meter `name`, or an `unknown_meter` error.
    pub fn meter(&mut self, name: &Ident) -> Option<&'a Meter> {
        if let Some(m) = self.meters.get(&name.node) {
            return Some(*m);
        }
        let names: Vec<&str> = self.meters.names().take(MAX_CANDIDATES).collect();
        self.unknown(
            "tariff::check::unknown_meter",
            "meter",
            name,
            names,
            "declare it with `meter NAME`",
        );
        None
    }

    /// The item `name`, or an `unknown_item` error.
    pub fn item(&mut self, name: &Ident) -> Option<Item<'a>> {
        if let Some(i) = self.items.get(&name.node) {
            return Some(*i);
        }
        let names: Vec<&str> = self.items.names().take(MAX_CANDIDATES).collect();
        self.unknown(
            "tariff::check::unknown_item",
            "item",
            name,
            names,
            "declare it as a `free_tier`, `package`, `edition`, `pack` or `resource`",
        );
        None
    }

    /// The parameter `name`, or an `unknown_param` error; marks it used.
    pub fn param(&mut self, name: &'a Ident, rule_use: bool) -> Option<&'a Param> {
        if let Some(p) = self.params.get(&name.node) {
            if rule_use {
                self.used.params.insert(name.node.as_str());
            }
            return Some(*p);
        }
        let names: Vec<&str> = self.params.names().take(MAX_CANDIDATES).collect();
        self.unknown(
            "tariff::check::unknown_param",
            "param",
            name,
            names,
            "declare it with `param NAME = VALUE`",
        );
        None
    }

    /// The meter a unit names: the meter itself or its plural with `s`.
    pub fn meter_of_unit(&self, unit: &str) -> Option<&'a Meter> {
        self.meters
            .get(unit)
            .or_else(|| unit.strip_suffix('s').and_then(|u| self.meters.get(u)))
            .copied()
    }

    /// `span` cut to its first line, without trailing blanks (pest spans can end after them).
    pub fn line_span(&self, span: Span) -> Span {
        let text = self.slice(span);
        let first = text.split('\n').next().unwrap_or("");
        Span::new(span.start, span.start + first.trim_end().len())
    }

    /// The source text of a span (empty when the span is out of range).
    pub fn slice(&self, span: Span) -> &'a str {
        self.text.get(span.start..span.end).unwrap_or("")
    }
}

/// `unit` is `name` or `name` + `s`.
pub(crate) fn unit_is(unit: &str, name: &str) -> bool {
    unit == name || unit.strip_suffix('s') == Some(name)
}
