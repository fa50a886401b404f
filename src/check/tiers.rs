//! Tier tables: in order, contiguous from 0, open at the end only, in the right unit.

use rust_decimal::Decimal;

use crate::ast::*;
use crate::check::ctx::{Ctx, unit_is};
use crate::check::units::{mismatch, money};
use crate::diag::Diag;

/// What a table's tiers are counted in.
pub(crate) struct TierUnits<'u> {
    /// The unit of the bounds (`first 100_000 sms`).
    pub bound: &'u str,
    /// The unit a per-unit price is per (`0.045 CNY per sms`).
    pub price: &'u str,
    /// Bounds must be whole numbers.
    pub whole: bool,
    /// Pack tiers may also say `pack`/`packs`.
    pub pack: bool,
}

impl TierUnits<'_> {
    fn accepts(&self, unit: &str, want: &str) -> bool {
        unit_is(unit, want) || (self.pack && unit_is(unit, "pack"))
    }
}

/// One tier as an interval `(lo, hi]`, `hi` `None` when open.
struct Interval {
    lo: Decimal,
    hi: Option<Decimal>,
}

/// Checks every tier of `table`.
pub(crate) fn check(cx: &mut Ctx<'_>, table: &TierTable, units: &TierUnits<'_>) {
    let mut prev: Option<(Interval, Span)> = None;
    let mut reported_open = false;
    for (i, t) in table.tiers.iter().enumerate() {
        tier_units_and_prices(cx, t, units);
        let span = cx.line_span(t.span);
        let Some(iv) = interval(t, prev.as_ref().map(|p| &p.0)) else {
            continue;
        };
        if let Some(hi) = iv.hi
            && hi <= iv.lo
        {
            cx.push(
                Diag::error("tariff::check::tier_order", "tier ends before it starts")
                    .label(span, "empty tier")
                    .help("a tier's upper bound must be above its lower bound"),
            );
            continue;
        }
        match &prev {
            None if i == 0 && !iv.lo.is_zero() => cx.push(
                Diag::error(
                    "tariff::check::tier_start",
                    "tiers do not start at 0",
                )
                .label(span, "first tier")
                .help("make the first tier `first N ...` or `1 to N ...` so that tiers start at 0"),
            ),
            Some((p, pspan)) => {
                match p.hi {
                    None => {
                        if !reported_open {
                            reported_open = true;
                            cx.push(
                            Diag::error("tariff::check::tier_open_middle", "only the last tier may be open")
                                .label(*pspan, "open tier")
                                .label(span, "but this tier follows it")
                                .help("move the `above`/`or more` tier to the end, or give it an upper bound"),
                        );
                        }
                    }
                    Some(phi) => {
                        if iv.hi.is_some_and(|hi| hi <= phi) {
                            cx.push(
                                Diag::error("tariff::check::tier_order", "tiers are out of order")
                                    .label(span, "ends before the previous tier ends")
                                    .label(*pspan, "previous tier")
                                    .help("list tiers from the lowest quantity to the highest"),
                            );
                            // Keep comparing the next tiers with the furthest one so far.
                            continue;
                        } else if iv.lo < phi {
                            cx.push(
                                Diag::error(
                                    "tariff::check::tier_overlap",
                                    format!("tier overlaps the previous one below `{phi}`"),
                                )
                                .label(span, "overlapping tier")
                                .label(*pspan, "previous tier")
                                .help(format!("start this tier right after `{phi}`")),
                            );
                        } else if iv.lo > phi {
                            cx.push(
                            Diag::error("tariff::check::tier_gap", format!("gap between `{phi}` and `{}` in the tiers", iv.lo))
                                .label(span, "starts too late")
                                .label(*pspan, "previous tier")
                                .help(format!("start this tier right after `{phi}`, so every quantity has a price")),
                        );
                        }
                    }
                }
            }
            None => {}
        }
        prev = Some((iv, span));
    }
    if let (Some((p, pspan)), false) = (&prev, reported_open)
        && p.hi.is_some()
    {
        cx.push(
            Diag::error("tariff::check::tier_open_end", "the last tier has an upper bound")
                .label(*pspan, "last tier")
                .help("end with an open tier (`above N ...` or `N ... or more`) so every quantity has a price"),
        );
    }
}

fn interval(t: &Tier, prev: Option<&Interval>) -> Option<Interval> {
    let one = Decimal::ONE;
    Some(match &t.range {
        TierRange::First(q) => Interval {
            lo: Decimal::ZERO,
            hi: Some(q.value.node),
        },
        TierRange::UpTo(q) => Interval {
            lo: prev.and_then(|p| p.hi).unwrap_or(Decimal::ZERO),
            hi: Some(q.value.node),
        },
        TierRange::Between(a, q) => Interval {
            lo: a.node.checked_sub(one)?,
            hi: Some(q.value.node),
        },
        TierRange::Above(q) => Interval {
            lo: q.value.node,
            hi: None,
        },
        TierRange::OrMore(q) => Interval {
            lo: q.value.node.checked_sub(one)?,
            hi: None,
        },
    })
}

fn tier_units_and_prices(cx: &mut Ctx<'_>, t: &Tier, u: &TierUnits<'_>) {
    let (lower, q) = match &t.range {
        TierRange::First(q) | TierRange::UpTo(q) | TierRange::Above(q) | TierRange::OrMore(q) => {
            (None, q)
        }
        TierRange::Between(a, q) => (Some(a), q),
    };
    if !q.unit.node.is_empty() && !u.accepts(&q.unit.node, u.bound) {
        mismatch(cx, &q.unit, u.bound, "this tier");
    }
    if u.whole {
        for v in lower.into_iter().chain(Some(&q.value)) {
            if !v.node.fract().is_zero() {
                cx.push(
                    Diag::error(
                        "tariff::check::tier_fraction",
                        format!("tier bound `{}` is not a whole number", cx.slice(v.span)),
                    )
                    .label(v.span, "fractional bound")
                    .help(format!(
                        "`{}` is counted in whole units; use a whole number",
                        u.bound
                    )),
                );
            }
        }
    }
    match &t.price {
        TierPrice::Free(_) => {}
        TierPrice::Flat(m) => money(cx, m),
        TierPrice::PerUnit(m, per) => {
            money(cx, m);
            if !u.accepts(&per.node, u.price) {
                mismatch(cx, per, u.price, "this price");
            }
        }
    }
    if let Some(f) = &t.flat {
        money(cx, f);
    }
}
