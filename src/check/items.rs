//! Items: free tiers, packages, editions, packs and resources.

use crate::ast::*;
use crate::check::ctx::{Ctx, Item};
use crate::check::tiers::{self, TierUnits};
use crate::check::{lifecycles, units, values};
use crate::diag::Diag;

pub(crate) fn free_tier<'a>(cx: &mut Ctx<'a>, x: &'a FreeTier) {
    quota(cx, &x.quota, x.selector.as_ref(), "a free tier's quota");
    if let Some(lc) = &x.lifecycle {
        lifecycles::item_ref(cx, lc);
    }
}

pub(crate) fn package<'a>(cx: &mut Ctx<'a>, x: &'a Package) {
    quota(cx, &x.quota, x.selector.as_ref(), "a package's quota");
    units::money(cx, &x.price);
    if let Some(v) = &x.valid {
        values::duration(cx, v, "a package's validity");
    }
    needs_lifecycle(cx, &x.name, "package", x.lifecycle.as_ref());
}

pub(crate) fn edition<'a>(cx: &mut Ctx<'a>, x: &'a Edition) {
    units::money(cx, &x.fee);
    if let Some(p) = &x.period {
        values::duration(cx, p, "an edition's period");
    }
    if let Some(v) = &x.valid {
        values::duration(cx, v, "an edition's validity");
    }
    if let Some(cap) = &x.cap {
        values::positive(cx, &cap.base.value, "a cap");
        let meter = units::any_meter(cx, &cap.base);
        if let Some((add, pack)) = &cap.per_pack {
            values::positive(cx, &add.value, "what a pack adds to the cap");
            match meter {
                Some(m) => units::of_meter(cx, add, m, "the cap"),
                None => {
                    units::any_meter(cx, add);
                }
            }
            if let Some(i) = cx.item(pack)
                && !matches!(i, Item::Pack(_))
            {
                wrong_kind(
                    cx,
                    "tariff::check::not_a_pack",
                    pack,
                    i,
                    "pack",
                    "name a `pack` after `per`",
                );
            }
        }
    }
    if let Some(r) = &x.replaces
        && let Some(i) = cx.item(r)
        && !matches!(i, Item::Edition(_))
    {
        wrong_kind(
            cx,
            "tariff::check::not_an_edition",
            r,
            i,
            "edition",
            "an edition can only replace another edition",
        );
    }
    needs_lifecycle(cx, &x.name, "edition", x.lifecycle.as_ref());
}

pub(crate) fn pack<'a>(cx: &mut Ctx<'a>, x: &'a Pack) {
    values::positive(cx, &x.size.value, "a pack's size");
    let meter = units::any_meter(cx, &x.size);
    if let Some((item, state)) = &x.needs
        && cx.item(item).is_some()
    {
        lifecycles::state_of(cx, &item.node, state);
    }
    if let Some(min) = &x.minimum {
        values::positive(cx, &min.value, "a pack's minimum");
        let unit = &min.unit.node;
        let of_pack = crate::check::ctx::unit_is(unit, &x.name.node)
            || crate::check::ctx::unit_is(unit, "pack");
        let of_meter = meter.is_some_and(|m| crate::check::ctx::unit_is(unit, &m.name.node));
        if !of_pack && !of_meter && !unit.is_empty() {
            units::mismatch(cx, &min.unit, &x.name.node, "the minimum");
        }
    }
    if let Some(t) = &x.tiers {
        let u = TierUnits {
            bound: &x.name.node,
            price: &x.name.node,
            whole: true,
            pack: true,
        };
        tiers::check(cx, t, &u);
    }
    needs_lifecycle(cx, &x.name, "pack", x.lifecycle.as_ref());
}

pub(crate) fn resource<'a>(cx: &mut Ctx<'a>, x: &'a Resource) {
    units::money(cx, &x.fee);
    values::duration(cx, &x.period, "a resource's period");
    if let Some(b) = &x.billed {
        values::schedule(cx, b);
    }
    if let Some(r) = &x.rounding {
        values::rounding(cx, r);
    }
    needs_lifecycle(cx, &x.name, "resource", x.lifecycle.as_ref());
}

fn quota<'a>(cx: &mut Ctx<'a>, q: &Quantity, sel: Option<&Selector>, what: &str) {
    values::positive(cx, &q.value, what);
    let meter = units::any_meter(cx, q);
    if let Some(s) = sel {
        units::selector(cx, s, meter);
    }
}

fn needs_lifecycle<'a>(cx: &mut Ctx<'a>, name: &Ident, kind: &str, lc: Option<&'a Ident>) {
    match lc {
        Some(lc) => lifecycles::item_ref(cx, lc),
        None => cx.push(
            Diag::error("tariff::check::missing_lifecycle", format!("{kind} `{}` has no lifecycle", name.node))
                .label(name.span, format!("this {kind}"))
                .help(format!("add `, lifecycle NAME` and declare `lifecycle NAME {{ ... }}`: a {kind} needs states")),
        ),
    }
}

/// Reports a name that is declared, but as the wrong kind of item.
pub(crate) fn wrong_kind(
    cx: &mut Ctx<'_>,
    code: &'static str,
    name: &Ident,
    got: Item<'_>,
    want: &str,
    help: &str,
) {
    let kind = got.kind();
    cx.push(
        Diag::error(
            code,
            format!(
                "`{}` is {} {kind}, not {} {want}",
                name.node,
                article(kind),
                article(want)
            ),
        )
        .label(name.span, format!("{} {kind}", article(kind)))
        .help(help.to_string()),
    );
}

pub(crate) fn article(w: &str) -> &'static str {
    if w.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}
