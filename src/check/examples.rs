//! Examples: events in time order on real dates, naming declared things, with expectations.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::ast::*;
use crate::check::ctx::{Ctx, Item};
use crate::check::items::wrong_kind;
use crate::check::suggest::MAX_CANDIDATES;
use crate::check::{lifecycles, params, units, values};
use crate::diag::Diag;

/// Checks every example of a product; example names are their own namespace.
pub(crate) fn check_all<'a>(cx: &mut Ctx<'a>, p: &'a Product) {
    let mut names: BTreeMap<&str, Span> = BTreeMap::new();
    for d in &p.decls {
        let DeclKind::Example(e) = &d.kind else {
            continue;
        };
        if let Some(first) = names.get(e.name.node.as_str()) {
            cx.duplicate(
                "tariff::check::duplicate_example",
                "example",
                &e.name,
                *first,
            );
        } else {
            names.insert(&e.name.node, e.name.span);
        }
        example(cx, e);
    }
}

/// A local time as a sortable key, or `None` (after reporting) when it is not a real time.
fn when(cx: &mut Ctx<'_>, t: &Spanned<LocalTime>) -> Option<(NaiveDate, u32)> {
    let date = NaiveDate::parse_from_str(&t.node.date, "%Y-%m-%d").ok();
    if date.is_none() {
        cx.push(
            Diag::error("tariff::check::bad_date", format!("`{}` is not a date", t.node.date))
                .label(t.span, "no such day")
                .help("write a real calendar date as YYYY-MM-DD (months 01-12, days that exist in that month)"),
        );
    }
    let secs = match &t.node.clock {
        None => Some(0),
        Some(c) if values::clock_ok(c) => Some(values::clock_secs(c)),
        Some(c) => {
            values::bad_clock(cx, c, t.span);
            None
        }
    };
    Some((date?, secs?))
}

fn example<'a>(cx: &mut Ctx<'a>, e: &'a Example) {
    let mut last: Option<((NaiveDate, u32), Span)> = None;
    for ev in &e.events {
        if let Some(k) = when(cx, &ev.at) {
            if let Some((lk, lspan)) = last
                && k < lk
            {
                cx.push(
                    Diag::error(
                        "tariff::check::events_out_of_order",
                        "example event is earlier than the one before it",
                    )
                    .label(ev.at.span, "earlier")
                    .label(lspan, "than this")
                    .help("list example events in time order"),
                );
            }
            if last.is_none_or(|(lk, _)| k >= lk) {
                last = Some((k, ev.at.span));
            }
        }
        action(cx, &ev.action);
    }
    if let Some(u) = &e.until
        && let Some(k) = when(cx, u)
        && let Some((lk, lspan)) = last
        && k < lk
    {
        cx.push(
            Diag::error(
                "tariff::check::until_before_events",
                "`until` is before the example's last event",
            )
            .label(u.span, "evaluation stops here")
            .label(lspan, "but this event is later")
            .help("move `until` to or after the last event"),
        );
    }
    if let Some(m) = &e.opening {
        units::money(cx, m);
    }
    for x in &e.expects {
        expect(cx, x);
    }
    if e.expects.is_empty() {
        cx.push(
            Diag::warning(
                "tariff::lint::example_without_expect",
                format!("example `{}` expects nothing", e.name.node),
            )
            .label(e.name.span, "no `expect`")
            .help("add what the example should produce, such as `expect charged 144 USD`"),
        );
    }
}

/// `pkg#1` names a subject of item `pkg`.
fn subject_item(s: &Ident) -> Ident {
    match s.node.split_once('#') {
        Some((base, _)) => Spanned {
            node: base.to_string(),
            span: Span::new(s.span.start, s.span.start + base.len()),
        },
        None => s.clone(),
    }
}

fn action<'a>(cx: &mut Ctx<'a>, a: &'a ExAction) {
    match a {
        ExAction::Usage { quantity, dims, .. } => {
            let m = match cx.meter_of_unit(&quantity.unit.node) {
                Some(m) => Some(m),
                None => cx.meter(&quantity.unit),
            };
            if let (Some(m), Some(s)) = (m, dims) {
                units::selector(cx, s, Some(m));
            }
        }
        ExAction::Purchase { item, .. } => {
            if let Some(i) = cx.item(item)
                && !i.purchasable()
            {
                cx.push(
                    Diag::error(
                        "tariff::check::not_purchasable",
                        format!("{} `{}` cannot be purchased", i.kind(), item.node),
                    )
                    .label(item.span, format!("a {}", i.kind()))
                    .help("purchase a package, an edition or a pack; resources are enabled"),
                );
            }
        }
        ExAction::Renew { target, .. } => {
            cx.item(&subject_item(target));
        }
        ExAction::Enable(_, r) | ExAction::Disable(_, r) => {
            if let Some(i) = cx.item(r)
                && !matches!(i, Item::Resource(_))
            {
                let help =
                    "only resources are enabled and disabled; buy other items with `purchase`";
                wrong_kind(cx, "tariff::check::not_a_resource", r, i, "resource", help);
            }
        }
        ExAction::Topup(m) => units::money(cx, m),
        ExAction::Set(p, v) => params::set_in_example(cx, p, v),
    }
}

fn expect(cx: &mut Ctx<'_>, x: &Expect) {
    match x {
        Expect::Total(_, m) => units::money(cx, m),
        Expect::Remaining(s, _) => {
            cx.item(&subject_item(s));
        }
        Expect::State(s, state) => {
            let base = subject_item(s);
            if cx.items.contains(&base.node) || base.node == lifecycles::SERVICE {
                lifecycles::state_of(cx, &base.node, state);
            } else {
                cx.item(&base);
            }
        }
        Expect::Alerts(a, _) => {
            if !cx.alerts.contains(&a.node) {
                let names: Vec<&str> = cx.alerts.names().take(MAX_CANDIDATES).collect();
                cx.unknown(
                    "tariff::check::unknown_alert",
                    "alert",
                    a,
                    names,
                    "declare it with `alert NAME: when ...`",
                );
            }
        }
        Expect::Charge(n, m) => {
            units::money(cx, m);
            // A bill cycle's name is the item of its rounding charges.
            if !cx.prices.contains(&n.node)
                && !cx.items.contains(&n.node)
                && !cx.bills.contains(&n.node)
            {
                let names: Vec<&str> = cx
                    .prices
                    .names()
                    .chain(cx.items.names())
                    .chain(cx.bills.names())
                    .take(MAX_CANDIDATES)
                    .collect();
                cx.unknown(
                    "tariff::check::unknown_price",
                    "price or item",
                    n,
                    names,
                    "name a `price`, an item, or a bill cycle (its rounding)",
                );
            }
        }
        Expect::Count(m, _) => {
            cx.meter(m);
        }
        Expect::Rejected(_) | Expect::Bills(_) => {}
    }
}
