//! Triggers and alerts, and the conditions they watch.

use crate::ast::*;
use crate::check::params::{self, Needs};
use crate::check::suggest::MAX_CANDIDATES;
use crate::check::{ctx::Ctx, units, values};
use crate::diag::Diag;

pub(crate) fn trigger<'a>(cx: &mut Ctx<'a>, t: &'a Trigger) {
    for w in &t.watches {
        watch(cx, w);
    }
    if let Some(c) = &t.condition {
        params::use_param(cx, c, Needs::Switch);
    }
    purchase(cx, &t.purchase);
    if let Some(a) = &t.else_alert {
        alert_ref(cx, a);
    }
}

/// What a trigger buys: an item, or a param holding one.
fn purchase<'a>(cx: &mut Ctx<'a>, p: &'a Ident) {
    if let Some(i) = cx.items.get(&p.node).copied() {
        if !i.purchasable() {
            cx.push(
                Diag::error(
                    "tariff::check::not_purchasable",
                    format!("{} `{}` cannot be purchased", i.kind(), p.node),
                )
                .label(p.span, format!("a {}", i.kind()))
                .help("a trigger buys a package, an edition or a pack"),
            );
        }
    } else if cx.params.contains(&p.node) {
        params::use_param(cx, p, Needs::Item);
    } else {
        let names: Vec<&str> = cx
            .items
            .names()
            .chain(cx.params.names())
            .take(MAX_CANDIDATES)
            .collect();
        cx.unknown(
            "tariff::check::unknown_item",
            "item",
            p,
            names,
            "name a package, edition or pack, or a param whose default is one",
        );
    }
}

fn alert_ref<'a>(cx: &mut Ctx<'a>, a: &'a Ident) {
    if cx.alerts.contains(&a.node) {
        cx.used.alerts.insert(a.node.as_str());
        return;
    }
    let names: Vec<&str> = cx.alerts.names().take(MAX_CANDIDATES).collect();
    cx.unknown(
        "tariff::check::unknown_alert",
        "alert",
        a,
        names,
        "declare it with `alert NAME: when ...`",
    );
}

pub(crate) fn alert<'a>(cx: &mut Ctx<'a>, a: &'a Alert) {
    match &a.on {
        AlertOn::Watch(w) => watch(cx, w),
        AlertOn::Fails(t) => {
            if !cx.triggers.contains(&t.node) {
                let names: Vec<&str> = cx.triggers.names().take(MAX_CANDIDATES).collect();
                let fix = "declare it with `trigger NAME: when ..., purchase ITEM from balance`";
                cx.unknown("tariff::check::unknown_trigger", "trigger", t, names, fix);
            }
        }
    }
}

fn watch<'a>(cx: &mut Ctx<'a>, w: &'a Watch) {
    match w {
        Watch::RemainingFalls {
            selector,
            threshold,
            ..
        } => {
            if let Some(s) = selector {
                units::selector(cx, s, None);
            }
            self::threshold(cx, threshold, None);
        }
        Watch::BeforeExpiry { lead, selector, .. } => {
            values::duration(cx, lead, "an expiry notice's lead time");
            if let Some(s) = selector {
                units::selector(cx, s, None);
            }
        }
        Watch::CountReaches {
            meter, threshold, ..
        } => {
            let m = cx.meter(meter);
            self::threshold(cx, threshold, m);
        }
    }
}

fn threshold<'a>(cx: &mut Ctx<'a>, t: &'a Threshold, meter: Option<&'a Meter>) {
    match t {
        Threshold::Percent(v) => {
            values::positive(cx, v, "a threshold");
            if v.node > rust_decimal::Decimal::ONE_HUNDRED {
                cx.push(
                    Diag::error(
                        "tariff::check::percent_out_of_range",
                        format!("threshold `{}%` is above 100%", v.node),
                    )
                    .label(v.span, "more than the whole")
                    .help("a percentage threshold is at most 100%"),
                );
            }
        }
        Threshold::Quantity(q) => match meter {
            Some(m) => units::of_meter(cx, q, m, "this threshold"),
            None => {
                units::any_meter(cx, q);
            }
        },
        Threshold::Param(p) => {
            params::use_param(cx, p, Needs::Threshold(meter.map(|m| m.name.node.as_str())))
        }
    }
}
