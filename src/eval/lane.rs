//! The fast lane: runs of usage events that the general path would carry out alike, summed.
//!
//! After a usage event on the general path, [`Account::open_lane`] works out what the next
//! event of the same meter, dimensions and quantity scale would do if nothing else happened:
//! every limit on it has room, and either one allowance serves it without running empty, or
//! pay-as-you-go prices it at one unit price into an open charge line. Until the first time at
//! which that could change (a timer, a limit's period end, the allowance's expiry, the cycle's
//! end) and while the room lasts, such events only add their quantity to a pending sum.
//!
//! The sum is carried into the account before anything else reads or changes it. That is
//! exact, bit for bit: decimals of one scale add without rounding in the range the lane keeps
//! to, and `q1 × p + q2 × p` is `(q1 + q2) × p` with the same scale.

use rust_decimal::Decimal;

use super::engine::{Checked, R};
use super::state::Account;
use super::{EventKind, MAX_DIMS};
use crate::eval::Event;
use crate::model::*;
use crate::time::Instant;

/// What the lane serves and where its sum goes; `meter == NONE` when closed.
#[derive(Clone, Debug)]
pub(crate) struct Lane {
    meter: MeterId,
    dims: [u8; MAX_DIMS],
    /// The scale of the quantities it takes; `room` and `pending` count units of it.
    scale: u32,
    /// Events at or after this take the general path.
    until: Instant,
    room: u128,
    pending: u128,
    sink: Sink,
}

#[derive(Clone, Copy, Debug)]
enum Sink {
    /// Drawn from this subject.
    Draw(usize),
    /// Priced at `price` per unit into this charge line.
    Payg { line: usize, price: Decimal },
}

const NONE: MeterId = MeterId::MAX;

impl Default for Lane {
    fn default() -> Self {
        Lane {
            meter: NONE,
            dims: [u8::MAX; MAX_DIMS],
            scale: 0,
            until: Instant(i64::MIN),
            room: 0,
            pending: 0,
            sink: Sink::Draw(0),
        }
    }
}

impl Lane {
    /// Takes a usage event into the pending sum, when the lane serves it.
    #[inline(always)]
    fn take(&mut self, at: Instant, meter: MeterId, q: Decimal, dims: &[u8; MAX_DIMS]) -> bool {
        if meter != self.meter
            || at >= self.until
            || q.scale() != self.scale
            || q.is_sign_negative()
            || *dims != self.dims
        {
            return false;
        }
        let n = q.mantissa().unsigned_abs();
        if n == 0 || n > self.room {
            return false;
        }
        self.room -= n;
        self.pending += n;
        true
    }

    /// Whether the lane is open (a sum may be pending).
    pub(crate) fn is_open(&self) -> bool {
        self.meter != NONE
    }
}

impl Account {
    /// Applies one event as [`Account::apply`] does, summing it into the fast lane when the lane
    /// serves it. What the lane holds reaches the account at the next [`Account::apply`],
    /// [`Account::advance`] or [`Account::flush_lane`].
    #[inline]
    pub(crate) fn apply_lane(&mut self, m: &Model, ev: &Event) -> R {
        let EventKind::Usage {
            meter,
            quantity,
            dims,
            ..
        } = &ev.kind
        else {
            return self.apply(m, ev);
        };
        if self.lane.take(ev.at, *meter, *quantity, dims) {
            self.last_at = Some(ev.at);
            return Ok(());
        }
        self.apply(m, ev)?;
        self.open_lane(m, ev.at, *meter, quantity.scale(), dims)
            .map_err(|e| e.at_line(ev.line))
    }

    /// Carries the pending sum of the fast lane into the account and closes the lane (done
    /// by every public method that reads or changes the account).
    #[inline]
    pub fn flush_lane(&mut self, m: &Model) -> R {
        if !self.lane.is_open() {
            return Ok(());
        }
        let lane = std::mem::take(&mut self.lane);
        if lane.pending == 0 {
            return Ok(());
        }
        self.carry(m, &lane)
    }

    #[cold]
    #[inline(never)]
    fn carry(&mut self, m: &Model, lane: &Lane) -> R {
        let q = Decimal::from_i128_with_scale(lane.pending as i128, lane.scale);
        let st = &mut self.stats;
        st.used = st.used.add(q)?;
        st.accepted = st.accepted.add(q)?;
        for (li, _) in m.usage_limits(lane.meter, &lane.dims) {
            self.limits[li].used = self.limits[li].used.add(q)?;
        }
        match lane.sink {
            Sink::Draw(s) => {
                self.subjects[s].remaining = self.subjects[s].remaining.sub(q)?;
                self.stats.drawn = self.stats.drawn.add(q)?;
            }
            Sink::Payg { line, price } => {
                let amount = q.mul(price)?;
                let c = &mut self.charges[line];
                c.quantity = c.quantity.add(q)?;
                c.amount = c.amount.add(amount)?;
                self.stats.charged = self.stats.charged.add(amount)?;
                self.stats.payg = self.stats.payg.add(q)?;
            }
        }
        Ok(())
    }

    /// Opens the lane for usage like the event just carried out at `at`, when the general path
    /// would do the same for every such event up to some time; else leaves it closed.
    #[inline(never)]
    fn open_lane(
        &mut self,
        m: &Model,
        at: Instant,
        meter: MeterId,
        scale: u32,
        dims: &[u8; MAX_DIMS],
    ) -> R {
        debug_assert!(!self.lane.is_open());
        let plan = m.plan(meter);
        if self.refusing > 0
            || m.meters[meter].distinct
            || scale > 12
            // A volume counts the usage its basis selects, whatever its own price selects.
            || plan.volumes.iter().any(|&pi| match &m.prices[pi].shape {
                PriceShape::Tiered(BasisM::Volume { sel, .. }, _) => sel.matches(dims),
                _ => true,
            })
        {
            return Ok(());
        }
        // A timer that cannot be computed fails on the general path, at the next event.
        let Ok(next) = self.next_due_at(m) else {
            return Ok(());
        };
        let until = next.unwrap_or(Instant::MAX);
        let st = &self.stats;
        let mut reach = Reach {
            until,
            room: headroom(st.used, scale).min(headroom(st.accepted, scale)),
        };
        // Every limit must have room, in its current period.
        for (li, l) in m.usage_limits(meter, dims) {
            let ctr = &self.limits[li];
            // Counted even while it has no amount (a parameter not set).
            reach.cap(headroom(ctr.used, scale));
            let Some(amount) = self.num(&l.amount) else {
                continue;
            };
            match (ctr.start, ctr.end) {
                (Some(start), Some(end)) if start <= at && at < end => reach.end(end),
                _ => return Ok(()),
            }
            let avail = amount.sub(ctr.used)?;
            reach.cap(units(avail, scale));
        }
        // The first source that serves it.
        let sources: &[SourceM] = match plan
            .draws
            .iter()
            .map(|&di| &m.draws[di])
            .find(|d| d.sel.matches(dims))
        {
            Some(d) => &d.sources,
            None => &[SourceM::Payg],
        };
        let mut sink = None;
        for src in sources {
            let pick = match src {
                SourceM::Item(i) => super::usage::Pick::Item(*i),
                SourceM::Packages => super::usage::Pick::Packages,
                SourceM::Payg => {
                    sink = self.payg_sink(m, at, meter, dims, scale, &mut reach);
                    break;
                }
            };
            self.restock();
            if let Some(s) = self.best_allowance(m, at, meter, dims, pick) {
                if m.has_total_watches
                    || (m.has_package_alerts && !self.quiet_alerts(m, s, scale, &mut reach))
                {
                    return Ok(());
                }
                let sub = &self.subjects[s];
                if let Some(e) = sub.expires {
                    reach.end(e);
                }
                // Strictly less than what remains: the lane never empties it.
                reach.cap(units(sub.remaining, scale).saturating_sub(1));
                reach.cap(headroom(sub.remaining, scale));
                reach.cap(headroom(self.stats.drawn, scale));
                sink = Some(Sink::Draw(s));
                break;
            }
        }
        let Some(sink) = sink else {
            return Ok(());
        };
        if reach.room == 0 || reach.until <= at {
            return Ok(());
        }
        self.lane = Lane {
            meter,
            dims: *dims,
            scale,
            until: reach.until,
            room: reach.room,
            pending: 0,
            sink,
        };
        Ok(())
    }

    /// Narrows `reach` so that no per-package alert on `s` fires while the lane draws from it;
    /// `false` when one would fire at the next draw, or its threshold cannot be worked out here.
    fn quiet_alerts(&self, m: &Model, s: usize, scale: u32, reach: &mut Reach) -> bool {
        let sub = &self.subjects[s];
        let Some(item) = sub.item else {
            return true;
        };
        for (ai, threshold) in m.package_alerts(item) {
            let th = match self.threshold(m, threshold, sub.quota) {
                Ok(Some(th)) => th,
                Ok(None) => continue,
                Err(_) => return false,
            };
            if sub.fired.contains(&(ai as u32, th)) {
                continue;
            }
            // It fires when what remains falls to the threshold: stay strictly above it.
            match sub.remaining.sub(th) {
                Ok(above) if above.order(Decimal::ZERO).is_gt() => {
                    reach.cap(units(above, scale).saturating_sub(1));
                }
                _ => return false,
            }
        }
        true
    }

    /// Pay-as-you-go at one unit price into an open charge line, narrowing `reach`.
    fn payg_sink(
        &self,
        m: &Model,
        at: Instant,
        meter: MeterId,
        dims: &[u8; MAX_DIMS],
        scale: u32,
        reach: &mut Reach,
    ) -> Option<Sink> {
        let plan = m.plan(meter);
        if plan.stops_at_quota {
            if self.stop_at_quota(m, at, meter, dims).is_some() {
                return None;
            }
            // Which packages are unexpired decides it: it holds until one of them expires.
            for sub in &self.subjects {
                if let (Some(i), Some(e)) = (sub.item, sub.expires)
                    && e > at
                    && matches!(m.items[i].kind, ItemKind::Package { .. })
                    && m.items[i].meter == Some(meter)
                    && m.items[i].sel.matches(dims)
                {
                    reach.end(e);
                }
            }
        }
        let pi = plan
            .prices
            .iter()
            .copied()
            .find(|&pi| m.prices[pi].sel.matches(dims))?;
        let p = &m.prices[pi];
        let PriceShape::Unit(price) = p.shape else {
            return None;
        };
        if price.is_zero()
            || price.is_sign_negative()
            || p.min_event.is_some()
            || p.max_event.is_some()
            || price.scale() + scale > 24
        {
            return None;
        }
        let lines = match (&m.usage_cycle, &self.cycle) {
            (Some(_), Some(c)) if c.start <= at && at < c.end => {
                // Its bill is a timer: the lane already ends there.
                debug_assert!(reach.until <= c.end);
                &c.lines
            }
            (Some(_), _) => return None,
            (None, _) => &self.loose,
        };
        let line = lines.iter().copied().find(|&l| {
            let c = &self.charges[l];
            c.price == Some(pi) && c.unit_price.is_some_and(|u| u.order(price).is_eq())
        })?;
        let c = &self.charges[line];
        let amount_scale = scale + price.scale();
        let per_unit = price.mantissa().unsigned_abs();
        reach.cap(headroom(self.stats.payg, scale));
        reach.cap(headroom(c.quantity, scale));
        reach.cap(headroom(c.amount, amount_scale) / per_unit);
        reach.cap(headroom(self.stats.charged, amount_scale) / per_unit);
        Some(Sink::Payg { line, price })
    }
}

/// How far a lane may go: before `until`, and `room` units in all.
struct Reach {
    until: Instant,
    room: u128,
}

impl Reach {
    fn end(&mut self, t: Instant) {
        self.until = self.until.min(t);
    }

    fn cap(&mut self, units: u128) {
        self.room = self.room.min(units);
    }
}

/// How many units of `scale` can be added to `acc` with every partial sum well inside the
/// exact range (half of the 96-bit mantissa, at the larger of the two scales).
fn headroom(acc: Decimal, scale: u32) -> u128 {
    let s = acc.scale().max(scale);
    if s > 28 {
        return 0;
    }
    let Some(a) = acc
        .mantissa()
        .unsigned_abs()
        .checked_mul(10u128.pow(s - acc.scale()))
    else {
        return 0;
    };
    (1u128 << 95).saturating_sub(a) / 10u128.pow(s - scale)
}

/// `d` in whole units of `scale`, rounded down; 0 when negative.
fn units(d: Decimal, scale: u32) -> u128 {
    if d.is_sign_negative() {
        return 0;
    }
    let (m, s) = (d.mantissa().unsigned_abs(), d.scale());
    if s >= scale {
        m / 10u128.pow(s - scale)
    } else {
        m.saturating_mul(10u128.pow(scale - s))
    }
}
