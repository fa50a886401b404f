//! Name collection: fills the product's namespaces and reports duplicates and header problems.

use std::str::FromStr;

use crate::ast::*;
use crate::check::ctx::{Ctx, Item};
use crate::diag::Diag;

/// Declares every name of `p`; reports duplicates and the header's `currency` and `timezone`.
pub(crate) fn collect<'a>(cx: &mut Ctx<'a>, p: &'a Product) {
    let mut timezone: Option<&Spanned<TzSpec>> = None;
    for d in &p.decls {
        match &d.kind {
            DeclKind::Currency(c) => match cx.currency {
                Some(first) => once_only(cx, "currency", c.span, first.span),
                None => cx.currency = Some(c),
            },
            DeclKind::Timezone(tz) => {
                match timezone {
                    Some(first) => once_only(cx, "timezone", tz.span, first.span),
                    None => timezone = Some(tz),
                }
                check_timezone(cx, tz);
            }
            DeclKind::Source { alias, file } => declare(
                cx,
                "tariff::check::duplicate_source",
                "source",
                |c| c.sources.insert(alias, file),
                alias,
            ),
            DeclKind::Meter(m) => {
                for (d, values) in &m.dims {
                    cx.all_dims
                        .entry(d.node.as_str())
                        .or_default()
                        .extend(values.iter());
                }
                let insert = |c: &mut Ctx<'a>| c.meters.insert(&m.name, m);
                declare(
                    cx,
                    "tariff::check::duplicate_meter",
                    "meter",
                    insert,
                    &m.name,
                )
            }
            DeclKind::FreeTier(x) => declare_item(cx, &x.name, Item::FreeTier(x)),
            DeclKind::Package(x) => declare_item(cx, &x.name, Item::Package(x)),
            DeclKind::Edition(x) => declare_item(cx, &x.name, Item::Edition(x)),
            DeclKind::Pack(x) => declare_item(cx, &x.name, Item::Pack(x)),
            DeclKind::Resource(x) => declare_item(cx, &x.name, Item::Resource(x)),
            DeclKind::Price(x) => declare(
                cx,
                "tariff::check::duplicate_price",
                "price",
                |c| c.prices.insert(&x.name, x),
                &x.name,
            ),
            DeclKind::Param(x) => declare(
                cx,
                "tariff::check::duplicate_param",
                "param",
                |c| c.params.insert(&x.name, x),
                &x.name,
            ),
            DeclKind::Bill(x) => declare(
                cx,
                "tariff::check::duplicate_bill",
                "bill cycle",
                |c| c.bills.insert(&x.name, ()),
                &x.name,
            ),
            DeclKind::Lifecycle(x) => declare(
                cx,
                "tariff::check::duplicate_lifecycle",
                "lifecycle",
                |c| c.lifecycles.insert(&x.name, x),
                &x.name,
            ),
            DeclKind::Trigger(x) => declare(
                cx,
                "tariff::check::duplicate_trigger",
                "trigger",
                |c| c.triggers.insert(&x.name, x),
                &x.name,
            ),
            DeclKind::Alert(x) => declare(
                cx,
                "tariff::check::duplicate_alert",
                "alert",
                |c| c.alerts.insert(&x.name, x),
                &x.name,
            ),
            DeclKind::Draw(_) | DeclKind::Limit(_) | DeclKind::Example(_) => {}
        }
    }
    if cx.currency.is_none() {
        cx.push(
            Diag::error(
                "tariff::check::missing_currency",
                format!("product `{}` declares no currency", p.id.node),
            )
            .label(p.id.span, "this product")
            .help("add `currency USD` (the three-letter code its prices use)"),
        );
    }
    if timezone.is_none() {
        cx.push(
            Diag::error(
                "tariff::check::missing_timezone",
                format!("product `{}` declares no time zone", p.id.node),
            )
            .label(p.id.span, "this product")
            .help("add `timezone +08:00`, `timezone UTC` or `timezone \"Asia/Shanghai\"`"),
        );
    }
}

fn declare<'a>(
    cx: &mut Ctx<'a>,
    code: &'static str,
    what: &str,
    insert: impl FnOnce(&mut Ctx<'a>) -> Result<(), Span>,
    name: &Ident,
) {
    if let Err(first) = insert(cx) {
        cx.duplicate(code, what, name, first);
    }
}

fn declare_item<'a>(cx: &mut Ctx<'a>, name: &'a Ident, item: Item<'a>) {
    if let Err(first) = cx.items.insert(name, item) {
        cx.push(
            Diag::error("tariff::check::duplicate_item", format!("duplicate item `{}`", name.node))
                .label(name.span, "declared again here")
                .label(first, "first declared here")
                .help("free tiers, packages, editions, packs and resources share one namespace; rename one of them"),
        );
    }
}

fn once_only(cx: &mut Ctx<'_>, what: &str, span: Span, first: Span) {
    cx.push(
        Diag::error(
            format_code(what),
            format!("more than one `{what}` declaration"),
        )
        .label(span, "declared again here")
        .label(first, "first declared here")
        .help(format!(
            "a product has exactly one `{what}`; remove one of them"
        )),
    );
}

fn format_code(what: &str) -> &'static str {
    if what == "currency" {
        "tariff::check::duplicate_currency"
    } else {
        "tariff::check::duplicate_timezone"
    }
}

const MAX_OFFSET: i32 = 14 * 3600;

fn check_timezone(cx: &mut Ctx<'_>, tz: &Spanned<TzSpec>) {
    let bad = |what: String, help: &str| {
        Diag::error("tariff::check::bad_timezone", what)
            .label(tz.span, "this time zone")
            .help(help.to_string())
    };
    match &tz.node {
        TzSpec::Offset(secs) => {
            // The parser adds minutes blindly, so `+08:75` is caught from the text.
            let text = cx.slice(tz.span);
            let minutes_ok = text
                .rsplit(':')
                .next()
                .and_then(|m| m.trim().parse::<u32>().ok())
                .is_none_or(|m| m < 60);
            if secs.abs() > MAX_OFFSET || !minutes_ok {
                let d = bad(
                    format!(
                        "time zone offset `{}` is out of range",
                        text.trim_start_matches("timezone").trim()
                    ),
                    "offsets go from -14:00 to +14:00, with minutes below 60",
                );
                cx.push(d);
            }
        }
        TzSpec::Named(name) => {
            if name != "UTC" && chrono_tz::Tz::from_str(name).is_err() {
                let d = bad(
                    format!("unknown time zone `{name}`"),
                    "use an IANA name such as \"Asia/Shanghai\", `UTC`, or an offset such as `+08:00`",
                );
                cx.push(d);
            }
        }
    }
}
