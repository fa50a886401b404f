//! Units and currencies: every quantity names the meter concerned, every money literal the
//! product's currency, and every selector only dimensions its meter declares.

use crate::ast::*;
use crate::check::ctx::{Ctx, unit_is};
use crate::check::suggest::MAX_CANDIDATES;
use crate::diag::Diag;

/// Money in the declared currency, never negative.
pub(crate) fn money(cx: &mut Ctx<'_>, m: &Money) {
    if m.currency.node.is_empty() {
        return;
    }
    if let Some(cur) = cx.currency
        && cur.node != m.currency.node
    {
        cx.push(
            Diag::error(
                "tariff::check::currency_mismatch",
                format!(
                    "`{}` is not the product's currency `{}`",
                    m.currency.node, cur.node
                ),
            )
            .label(m.currency.span, "this currency")
            .label(cur.span, "the product's currency")
            .help(format!("write every amount in `{}`", cur.node)),
        );
    }
    if m.amount.node.is_sign_negative() && !m.amount.node.is_zero() {
        cx.push(
            Diag::error(
                "tariff::check::negative_price",
                format!("amount `{}` is negative", m.amount.node),
            )
            .label(m.amount.span, "negative")
            .help("prices and fees are zero or more"),
        );
    }
}

/// A quantity whose unit must be a declared meter; returns it.
pub(crate) fn any_meter<'a>(cx: &mut Ctx<'a>, q: &Quantity) -> Option<&'a Meter> {
    if q.unit.node.is_empty() {
        return None;
    }
    if let Some(m) = cx.meter_of_unit(&q.unit.node) {
        return Some(m);
    }
    unknown_unit(
        cx,
        &q.unit,
        "a quantity's unit is a meter name (or its plural with `s`)",
    );
    None
}

/// Reports a unit that names no meter.
pub(crate) fn unknown_unit(cx: &mut Ctx<'_>, unit: &Ident, why: &str) {
    let names: Vec<&str> = cx.meters.names().take(MAX_CANDIDATES).collect();
    let help = cx
        .suggest(&unit.node, names)
        .unwrap_or_else(|| why.to_string());
    cx.push(
        Diag::error(
            "tariff::check::unknown_unit",
            format!("unknown unit `{}`", unit.node),
        )
        .label(unit.span, "not a meter")
        .help(help),
    );
}

/// A quantity that must be in `meter` (`what` says whose quantity it is).
pub(crate) fn of_meter(cx: &mut Ctx<'_>, q: &Quantity, meter: &Meter, what: &str) {
    if q.unit.node.is_empty() || unit_is(&q.unit.node, &meter.name.node) {
        return;
    }
    if cx.meter_of_unit(&q.unit.node).is_none() {
        unknown_unit(
            cx,
            &q.unit,
            &format!("{what} is counted in `{}`", meter.name.node),
        );
        return;
    }
    mismatch(cx, &q.unit, &meter.name.node, what);
}

/// Reports a unit that is not the expected one.
pub(crate) fn mismatch(cx: &mut Ctx<'_>, unit: &Ident, want: &str, what: &str) {
    cx.push(
        Diag::error(
            "tariff::check::unit_mismatch",
            format!("expected `{want}`, found `{}`", unit.node),
        )
        .label(unit.span, format!("{what} is counted in `{want}`"))
        .help(format!("write the quantity in `{want}`")),
    );
}

/// Dimensions and values of a selector; against `meter`, or any meter when unknown.
pub(crate) fn selector(cx: &mut Ctx<'_>, sel: &Selector, meter: Option<&Meter>) {
    for t in &sel.tests {
        // The declared values of the dimension, as names.
        let values: Option<Vec<&str>> = match meter {
            Some(m) => m
                .dims
                .iter()
                .find(|(d, _)| d.node == t.dim.node)
                .map(|(_, v)| v.iter().map(|x| x.node.as_str()).collect()),
            None => cx
                .all_dims
                .get(t.dim.node.as_str())
                .map(|v| v.iter().map(|x| x.node.as_str()).collect()),
        };
        let Some(values) = values else {
            let dims: Vec<&str> = match meter {
                Some(m) => m.dims.iter().map(|(d, _)| d.node.as_str()).collect(),
                None => cx.all_dims.keys().copied().take(MAX_CANDIDATES).collect(),
            };
            let whose = meter
                .map(|m| format!("meter `{}`", m.name.node))
                .unwrap_or_else(|| "any meter".into());
            let fix = format!("declare it on the meter: `dim {} (...)`", t.dim.node);
            cx.unknown(
                "tariff::check::unknown_dim",
                &format!("dimension of {whose}:"),
                &t.dim,
                dims,
                &fix,
            );
            continue;
        };
        let known: std::collections::BTreeSet<&str> = values.iter().copied().collect();
        for v in &t.values {
            if !known.contains(v.node.as_str()) {
                let fix = format!(
                    "`{}` takes one of: {}",
                    t.dim.node,
                    crate::check::suggest::list(&values)
                );
                let names: Vec<&str> = values.iter().copied().take(MAX_CANDIDATES).collect();
                cx.unknown(
                    "tariff::check::unknown_dim_value",
                    &format!("value of `{}`:", t.dim.node),
                    v,
                    names,
                    &fix,
                );
            }
        }
    }
}
