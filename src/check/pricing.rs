//! Prices, drawdown, limits and bill cycles.

use std::collections::BTreeMap;

use crate::ast::*;
use crate::check::ctx::{Ctx, Item};
use crate::check::items::wrong_kind;
use crate::check::params::{self, Needs};
use crate::check::tiers::{self, TierUnits};
use crate::check::{units, values};
use crate::diag::Diag;

pub(crate) fn price<'a>(cx: &mut Ctx<'a>, p: &'a Price) {
    match &p.body {
        PriceBody::Unit {
            price,
            meter,
            selector,
        } => {
            units::money(cx, price);
            metered(cx, meter, selector.as_ref());
        }
        PriceBody::Block {
            price,
            block,
            selector,
        } => {
            units::money(cx, price);
            values::positive(cx, &block.value, "a block's size");
            let m = units::any_meter(cx, block);
            if let Some(s) = selector {
                units::selector(cx, s, m);
            }
        }
        PriceBody::Percent {
            meter,
            selector,
            fixed,
            ..
        } => {
            metered(cx, meter, selector.as_ref());
            if let Some(f) = fixed {
                units::money(cx, f);
            }
        }
        PriceBody::Tiered {
            meter,
            selector,
            basis,
            table,
        } => {
            let priced = metered(cx, meter, selector.as_ref());
            let counted = match basis {
                Basis::Volume {
                    meter, selector, ..
                } => metered(cx, meter, selector.as_ref()),
                Basis::Event(_) => priced,
            };
            if let (Some(priced), Some(counted)) = (priced, counted) {
                let u = TierUnits {
                    bound: &counted.name.node,
                    price: &priced.name.node,
                    whole: !counted.fractional,
                    pack: false,
                };
                tiers::check(cx, table, &u);
            }
        }
    }
    for b in &p.bounds {
        units::money(cx, &b.amount);
        if let Some(d) = &b.per {
            values::duration(cx, d, "a charge bound's period");
        }
    }
}

/// A meter with an optional selector on it.
fn metered<'a>(cx: &mut Ctx<'a>, meter: &Ident, sel: Option<&Selector>) -> Option<&'a Meter> {
    let m = cx.meter(meter);
    if let (Some(s), Some(m)) = (sel, m) {
        units::selector(cx, s, Some(m));
    }
    m
}

/// The meter a price charges.
pub(crate) fn price_meter(p: &Price) -> &str {
    match &p.body {
        PriceBody::Unit { meter, .. }
        | PriceBody::Percent { meter, .. }
        | PriceBody::Tiered { meter, .. } => &meter.node,
        PriceBody::Block { block, .. } => &block.unit.node,
    }
}

pub(crate) fn draw<'a>(cx: &mut Ctx<'a>, d: &'a Draw) {
    let meter = metered(cx, &d.meter, d.selector.as_ref());
    let m = meter.map(|m| m.name.node.as_str());
    if let Some(m) = m {
        cx.used.drawn_meters.insert(m);
    }
    if d.sources.is_empty() {
        cx.push(
            Diag::error("tariff::check::empty_draw", "drawdown names no source")
                .label(d.meter.span, "this draw")
                .help("list where usage is taken from, such as `free_tier_name, then packages, then payg`"),
        );
    }
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    for s in &d.sources {
        let (key, span) = match s {
            DrawSource::Packages(sp) => ("packages", *sp),
            DrawSource::Payg(sp) => ("payg", *sp),
            DrawSource::Named(n) => (n.node.as_str(), n.span),
        };
        if let Some(first) = seen.get(key) {
            cx.push(
                Diag::error(
                    "tariff::check::duplicate_draw_source",
                    format!("`{key}` is drawn twice"),
                )
                .label(span, "named again here")
                .label(*first, "first named here")
                .help("name each source once in a draw"),
            );
            continue;
        }
        seen.insert(key, span);
        match s {
            DrawSource::Packages(_) => {
                if let Some(m) = m {
                    cx.used.package_meters.insert(m);
                }
            }
            DrawSource::Payg(_) => {
                if let Some(m) = m {
                    cx.used.payg_meters.insert(m);
                }
            }
            DrawSource::Named(n) => named_source(cx, n, meter),
        }
    }
}

fn named_source<'a>(cx: &mut Ctx<'a>, n: &'a Ident, meter: Option<&'a Meter>) {
    let Some(i) = cx.item(n) else { return };
    let quota = match i {
        Item::FreeTier(f) => &f.quota,
        Item::Package(p) => &p.quota,
        other => {
            let help = "a draw takes from free tiers, packages, `packages` or `payg`";
            wrong_kind(
                cx,
                "tariff::check::not_an_allowance",
                n,
                other,
                "allowance",
                help,
            );
            return;
        }
    };
    cx.used.allowances.insert(n.node.as_str());
    if let Some(m) = meter
        && cx
            .meter_of_unit(&quota.unit.node)
            .is_some_and(|q| q.name.node != m.name.node)
    {
        cx.push(
            Diag::error(
                "tariff::check::unit_mismatch",
                format!(
                    "{} `{}` holds `{}`, but this draw is for `{}`",
                    i.kind(),
                    n.node,
                    quota.unit.node,
                    m.name.node
                ),
            )
            .label(n.span, format!("drawn for `{}`", m.name.node))
            .label(
                quota.unit.span,
                format!("its quota is in `{}`", quota.unit.node),
            )
            .help(format!(
                "draw `{}` for its own meter, or give it a quota in `{}`",
                n.node, m.name.node
            )),
        );
    }
}

pub(crate) fn limit<'a>(cx: &mut Ctx<'a>, l: &'a Limit) {
    match &l.target {
        LimitTarget::Usage(meter, sel) => {
            let Some(m) = metered(cx, meter, sel.as_ref()) else {
                return;
            };
            match &l.amount {
                Amount::Quantity(q) => units::of_meter(cx, q, m, "this limit"),
                Amount::Number(_) => {}
                Amount::Param(p) => params::use_param(cx, p, Needs::Quantity(&m.name.node)),
            }
        }
        LimitTarget::Enable(res) => {
            if let Some(i) = cx.item(res)
                && !matches!(i, Item::Resource(_))
            {
                let help = "`limit enable` counts units of a `resource`";
                wrong_kind(
                    cx,
                    "tariff::check::not_a_resource",
                    res,
                    i,
                    "resource",
                    help,
                );
            }
            match &l.amount {
                Amount::Quantity(q) if !crate::check::ctx::unit_is(&q.unit.node, &res.node) => {
                    units::mismatch(cx, &q.unit, &res.node, "this limit");
                }
                Amount::Param(p) => params::use_param(cx, p, Needs::Number),
                _ => {}
            }
        }
    }
}

pub(crate) fn bill(cx: &mut Ctx<'_>, b: &BillDecl) {
    values::schedule(cx, &b.schedule);
    if let Some(r) = &b.rounding {
        values::rounding(cx, r);
    }
}
