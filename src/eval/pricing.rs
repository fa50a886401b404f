//! Prices: unit, block, percentage and tiered (graduated or volume), exactly.

use rust_decimal::Decimal;

use super::EvalError;
use super::engine::{Checked, R};
use crate::ast::TierMode;
use crate::model::{BasisM, PriceM, PriceShape, Tiers};

/// A priced line: quantity, unit price (when one applies), amount.
pub(crate) type Line = (Decimal, Option<Decimal>, Decimal);

/// Priced lines in order: the first few kept inline (most prices give one or two lines, and
/// pricing an event should not allocate), the rest on the heap.
#[derive(Clone, Debug, Default)]
pub(crate) struct Lines {
    len: usize,
    head: [Line; Lines::INLINE],
    rest: Vec<Line>,
}

impl Lines {
    const INLINE: usize = 3;

    /// One line.
    fn one(l: Line) -> Lines {
        let mut out = Lines::default();
        out.push(l);
        out
    }

    /// Adds a line at the end.
    fn push(&mut self, l: Line) {
        if self.len < Lines::INLINE {
            self.head[self.len] = l;
            self.len += 1;
        } else {
            self.rest.push(l);
        }
    }

    /// The lines in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Line> {
        self.head[..self.len].iter().chain(self.rest.iter())
    }
}

/// The lines for `qty` units of usage, placed after `before` units already counted in the
/// price's period (0 for per-event prices).
pub(crate) fn price_lines(p: &PriceM, qty: Decimal, before: Decimal) -> R<Lines> {
    let lines = match &p.shape {
        PriceShape::Unit(u) => Lines::one((qty, Some(*u), qty.mul(*u)?)),
        PriceShape::Block(price, size) => {
            let blocks = qty.div(*size)?.ceil();
            Lines::one((qty, Some(*price), blocks.mul(*price)?))
        }
        PriceShape::Percent(pct, fixed) => {
            let amount = qty.mul(*pct)?.div(Decimal::ONE_HUNDRED)?.add(*fixed)?;
            Lines::one((qty, None, amount))
        }
        PriceShape::Tiered(basis, tiers) => {
            let start = if matches!(basis, BasisM::Event) {
                Decimal::ZERO
            } else {
                before
            };
            tier_lines(tiers, start, qty)?
        }
    };
    // Per-event bounds apply to the event's total.
    if p.min_event.is_none() && p.max_event.is_none() {
        return Ok(lines);
    }
    let mut total = Decimal::ZERO;
    let mut q = Decimal::ZERO;
    for l in lines.iter() {
        total = total.add(l.2)?;
        q = q.add(l.0)?;
    }
    let mut bounded = total;
    if let Some(min) = p.min_event {
        bounded = bounded.larger(min);
    }
    if let Some(max) = p.max_event {
        bounded = bounded.smaller(max);
    }
    if bounded.order(total).is_eq() {
        Ok(lines)
    } else {
        Ok(Lines::one((q, None, bounded)))
    }
}

/// Units `(start, start + qty]` priced by `tiers`.
pub(crate) fn tier_lines(tiers: &Tiers, start: Decimal, qty: Decimal) -> R<Lines> {
    let end = start.add(qty)?;
    let mut out = Lines::default();
    match tiers.mode {
        TierMode::Graduated => {
            let mut lower = Decimal::ZERO;
            for &(upper, price, flat) in &tiers.tiers {
                let hi = upper.map_or(end, |u| u.smaller(end));
                let lo = lower.larger(start);
                if hi.order(lo).is_gt() {
                    out.push((hi.sub(lo)?, Some(price), hi.sub(lo)?.mul(price)?));
                    // The flat fee is due when usage first enters the tier (a line of its own, no unit price).
                    if start.order(lower).is_le() && !flat.is_zero() {
                        out.push((Decimal::ONE, None, flat));
                    }
                }
                match upper {
                    Some(u) if u.order(end).is_lt() => lower = u,
                    _ => break,
                }
            }
        }
        TierMode::Volume => {
            // The whole quantity at the price of the tier the cumulative volume reaches.
            let (price, flat, lower) = reached(tiers, end);
            out.push((qty, Some(price), qty.mul(price)?));
            if start.order(lower).is_le() && !flat.is_zero() {
                out.push((Decimal::ONE, None, flat));
            }
        }
    }
    Ok(out)
}

/// The tier holding unit `n`: its price, flat fee and lower bound.
fn reached(tiers: &Tiers, n: Decimal) -> (Decimal, Decimal, Decimal) {
    let mut lower = Decimal::ZERO;
    for &(upper, price, flat) in &tiers.tiers {
        match upper {
            Some(u) if n.order(u).is_gt() => lower = u,
            _ => return (price, flat, lower),
        }
    }
    (Decimal::ZERO, Decimal::ZERO, lower)
}

/// The cost of buying `k` units priced by purchase size.
pub(crate) fn purchase_cost(tiers: &Tiers, k: Decimal) -> R<Decimal> {
    let mut total = Decimal::ZERO;
    for (_, _, amount) in tier_lines(tiers, Decimal::ZERO, k)?.iter() {
        total = total.add(*amount)?;
    }
    Ok(total)
}

impl EvalError {
    /// A time outside the calendar's range.
    pub(crate) fn time() -> EvalError {
        EvalError::new("a time outside the supported calendar (years 1 to 9999)")
    }
}
