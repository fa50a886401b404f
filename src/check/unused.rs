//! Warnings for declarations that never take effect.

use crate::ast::*;
use crate::check::ctx::{Ctx, Item};
use crate::check::pricing::price_meter;
use crate::diag::Diag;

pub(crate) fn check(cx: &mut Ctx<'_>) {
    let mut out = Vec::new();
    for (name, span, item) in cx.items.iter() {
        let (kind, quota) = match item {
            Item::FreeTier(f) => ("free tier", &f.quota),
            Item::Package(p) => ("package", &p.quota),
            _ => continue,
        };
        let by_packages = matches!(item, Item::Package(_))
            && cx
                .meter_of_unit(&quota.unit.node)
                .is_some_and(|m| cx.used.package_meters.contains(m.name.node.as_str()));
        if !by_packages && !cx.used.allowances.contains(name) {
            let code = if kind == "package" {
                "tariff::lint::unused_package"
            } else {
                "tariff::lint::unused_free_tier"
            };
            out.push(
                Diag::warning(code, format!("{kind} `{name}` is never drawn"))
                    .label(span, "no draw takes from it")
                    .help("name it in a `draw` (or draw from `packages`), or remove it"),
            );
        }
    }
    for (name, span, p) in cx.prices.iter() {
        let m = price_meter(p);
        let meter = cx
            .meter_of_unit(m)
            .map(|m| m.name.node.as_str())
            .unwrap_or(m);
        if cx.used.drawn_meters.contains(meter) && !cx.used.payg_meters.contains(meter) {
            out.push(
                Diag::warning(
                    "tariff::lint::unused_price",
                    format!("price `{name}` is never charged"),
                )
                .label(span, format!("the draw for `{meter}` never reaches `payg`"))
                .help(format!(
                    "end the draw for `{meter}` with `then payg`, or remove the price"
                )),
            );
        }
    }
    for (name, span, _) in cx.params.iter() {
        if !cx.used.params.contains(name) {
            out.push(
                Diag::warning(
                    "tariff::lint::unused_param",
                    format!("param `{name}` is never used"),
                )
                .label(span, "no rule reads it")
                .help("use it in a limit, trigger or alert, or remove it"),
            );
        }
    }
    let has_package = cx
        .items
        .iter()
        .any(|(_, _, i)| matches!(i, Item::Package(_)));
    let capped: std::collections::BTreeSet<&str> = cx
        .items
        .iter()
        .filter_map(|(_, _, i)| match i {
            Item::Edition(e) => e
                .cap
                .as_ref()
                .and_then(|c| cx.meter_of_unit(&c.base.unit.node)),
            _ => None,
        })
        .map(|m| m.name.node.as_str())
        .collect();
    for (name, span, a) in cx.alerts.iter() {
        if cx.used.alerts.contains(name) || can_fire(a, has_package, &capped) {
            continue;
        }
        out.push(
            Diag::warning(
                "tariff::lint::unused_alert",
                format!("alert `{name}` can never be raised"),
            )
            .label(span, "nothing it watches exists")
            .help("declare the packages or the cap it watches, or remove the alert"),
        );
    }
    cx.diags.extend(out);
}

/// Whether what an alert watches exists at all.
fn can_fire(a: &Alert, has_package: bool, capped: &std::collections::BTreeSet<&str>) -> bool {
    match &a.on {
        AlertOn::Fails(_) => true,
        AlertOn::Watch(Watch::RemainingFalls { .. } | Watch::BeforeExpiry { .. }) => has_package,
        AlertOn::Watch(Watch::CountReaches { meter, .. }) => capped.contains(meter.node.as_str()),
    }
}
