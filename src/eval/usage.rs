//! Usage: refusal by state, caps, limits, drawdown across allowances, and pay-as-you-go.

use rust_decimal::Decimal;

use super::engine::{Checked, R};
use super::pricing::price_lines;
use super::state::*;
use super::{EvalError, Event};
use crate::model::*;
use crate::time::Instant;

impl Account {
    pub(crate) fn usage(
        &mut self,
        m: &Model,
        ev: &Event,
        meter: MeterId,
        q: Decimal,
        dims: &[u8],
        subject: Option<&str>,
    ) -> R {
        let at = ev.at;
        self.stats.used = self.stats.used.add(q)?;
        // A state that refuses usage refuses all of it.
        if self.refusing > 0 && self.refused_by_state(m, ev, meter, q)? {
            return Ok(());
        }
        // Distinct subjects: a new one must fit under the cap.
        if m.meters[meter].distinct && self.refused_by_cap(m, ev, meter, q, subject)? {
            return Ok(());
        }
        // Limits per calendar period.
        let plan = m.plan(meter);
        let (accepted, cut) = self.limit_usage(m, meter, at, q, dims)?;
        // Drawdown.
        let draw = plan
            .draws
            .iter()
            .map(|&di| &m.draws[di])
            .find(|d| d.sel.matches(dims));
        let sources: &[SourceM] = match draw {
            Some(d) => &d.sources,
            None => &[SourceM::Payg],
        };
        let mut need = accepted;
        let mut payg = Decimal::ZERO;
        let mut refused_reason: Option<(&str, Option<String>)> = None;
        for src in sources {
            if need.is_zero() {
                break;
            }
            match src {
                SourceM::Item(i) => {
                    need = self.draw_from(m, at, meter, dims, need, Pick::Item(*i))?
                }
                SourceM::Packages => {
                    need = self.draw_from(m, at, meter, dims, need, Pick::Packages)?
                }
                SourceM::Payg => {
                    match self.stop_at_quota(m, at, meter, dims) {
                        Some(rule) => refused_reason = Some(("quota_exhausted", Some(rule))),
                        None => {
                            payg = need;
                            need = Decimal::ZERO;
                        }
                    }
                    break;
                }
            }
        }
        if !need.is_zero() && refused_reason.is_none() {
            refused_reason = Some(("quota_exhausted", draw.map(|d| d.rule.to_string())));
        }
        // What allowances served, what pay-as-you-go takes, and what is left over is refused.
        let taken = minus(accepted, need)?;
        let served = minus(taken, payg)?;
        // No price for what pay-as-you-go should take: refused, unless the meter is only counted.
        let mut unpriced = Decimal::ZERO;
        if !payg.is_zero()
            && !self.charge_usage(m, at, meter, dims, payg, served)?
            && !m.meters[meter].distinct
        {
            unpriced = payg;
            if refused_reason.is_none() {
                refused_reason = Some(("no_price", draw.map(|d| d.rule.to_string())));
            }
        }
        let taken = minus(taken, unpriced)?;
        // Counters count what was accepted.
        for (li, _) in m.usage_limits(meter, dims) {
            self.limits[li].used = self.limits[li].used.add(taken)?;
        }
        for &pi in &plan.volumes {
            if let PriceShape::Tiered(BasisM::Volume { period, sel, .. }, _) = &m.prices[pi].shape
                && sel.matches(dims)
            {
                self.roll_volume(m, pi, at, *period)?;
                self.volumes[pi].used = self.volumes[pi].used.add(taken)?;
            }
        }
        let refused = if taken.order(q).is_eq() {
            Decimal::ZERO
        } else {
            q.sub(taken)?
        };
        let st = &mut self.stats;
        // Zeros are common (nothing refused, nothing drawn): skip them.
        if !taken.is_zero() {
            st.accepted = st.accepted.add(taken)?;
        }
        if !refused.is_zero() {
            st.refused = st.refused.add(refused)?;
        }
        if !served.is_zero() {
            st.drawn = st.drawn.add(served)?;
        }
        if !payg.is_zero() {
            if m.meters[meter].distinct
                && unpriced.is_zero()
                && !plan.prices.iter().any(|&pi| m.prices[pi].sel.matches(dims))
            {
                st.counted = st.counted.add(payg)?;
            } else {
                st.payg = st.payg.add(minus(payg, unpriced)?)?;
            }
        }
        if !refused.is_zero() {
            self.reject_usage(m, ev, meter, refused, cut, refused_reason);
        }
        Ok(())
    }

    /// Refuses the usage when some subject is in a state that refuses usage.
    #[cold]
    #[inline(never)]
    fn refused_by_state(&mut self, m: &Model, ev: &Event, meter: MeterId, q: Decimal) -> R<bool> {
        let Some(s) =
            (0..self.subjects.len()).find(|&s| self.state(m, s).is_some_and(|st| st.refuses))
        else {
            return Ok(false);
        };
        let reason = format!(
            "{}_{}",
            self.subject_name(m, s).replace('#', "_"),
            self.state_name(m, s)
        );
        let rule = self
            .lc(m, s)
            .and_then(|lc| {
                lc.transitions
                    .iter()
                    .find(|t| t.to == self.subjects[s].state)
            })
            .map(|t| t.rule.to_string());
        let mname = Some(m.meters[meter].name.clone());
        self.reject(ev.at, ev.line, mname, None, q, &reason, rule);
        self.stats.refused = self.stats.refused.add(q)?;
        Ok(true)
    }

    /// Counts a new distinct subject, or refuses the usage when it would not fit under the cap.
    #[inline(never)]
    fn refused_by_cap(
        &mut self,
        m: &Model,
        ev: &Event,
        meter: MeterId,
        q: Decimal,
        subject: Option<&str>,
    ) -> R<bool> {
        let at = ev.at;
        let mname = || Some(m.meters[meter].name.clone());
        let who = subject.unwrap_or_default();
        if self.distinct[meter].contains(who) {
            return Ok(false);
        }
        match self.cap(m, meter)? {
            Cap::Unlimited => {}
            Cap::NoEdition(rule) => {
                self.reject(at, ev.line, mname(), None, q, "no_edition", rule);
                self.stats.refused = self.stats.refused.add(q)?;
                return Ok(true);
            }
            Cap::Limit(cap, rule) => {
                let count = Decimal::from(self.distinct[meter].len() as u64);
                if count.add(Decimal::ONE)? > cap {
                    self.reject(at, ev.line, mname(), None, q, "over_cap", Some(rule));
                    self.stats.refused = self.stats.refused.add(q)?;
                    return Ok(true);
                }
            }
        }
        self.distinct[meter].insert(who.to_string());
        self.count_alerts(m, at, meter)?;
        Ok(false)
    }

    /// What the limits on the meter accept of `q`, and the first limit that cut it.
    fn limit_usage(
        &mut self,
        m: &Model,
        meter: MeterId,
        at: Instant,
        q: Decimal,
        dims: &[u8],
    ) -> R<(Decimal, Option<usize>)> {
        let mut accepted = q;
        let mut cut: Option<usize> = None;
        for (li, l) in m.usage_limits(meter, dims) {
            let Some(amount) = self.num(&l.amount) else {
                continue;
            };
            self.roll(m, li, at, l.per, true)?;
            let avail = amount.sub(self.limits[li].used)?.larger(Decimal::ZERO);
            let allowed = if accepted.order(avail).is_le() {
                accepted
            } else if l.partial {
                avail
            } else {
                Decimal::ZERO
            };
            if allowed.order(accepted).is_lt() {
                accepted = allowed;
                cut.get_or_insert(li);
            }
        }
        Ok((accepted, cut))
    }

    /// Records the refused part of a usage event.
    #[cold]
    #[inline(never)]
    fn reject_usage(
        &mut self,
        m: &Model,
        ev: &Event,
        meter: MeterId,
        refused: Decimal,
        cut: Option<usize>,
        refused_reason: Option<(&str, Option<String>)>,
    ) {
        let (reason, rule) = match (cut, refused_reason) {
            (Some(li), _) => ("over_limit", Some(m.limits[li].rule.to_string())),
            (None, Some((r, rule))) => (r, rule),
            (None, None) => ("refused", None),
        };
        let mname = Some(m.meters[meter].name.clone());
        self.reject(ev.at, ev.line, mname, None, refused, reason, rule);
    }

    /// Draws up to `need` from usable allowances that `pick` selects, earliest expiry first,
    /// then earliest effective, then creation order; returns what is still needed.
    fn draw_from(
        &mut self,
        m: &Model,
        at: Instant,
        meter: MeterId,
        dims: &[u8],
        mut need: Decimal,
        pick: Pick,
    ) -> R<Decimal> {
        let mut guard = 0u32;
        // Quantities here are never negative: `is_zero` is the cheap test.
        while !need.is_zero() {
            guard += 1;
            if guard > 100_000 {
                return Err(EvalError::new("drawdown did not settle"));
            }
            self.restock();
            let Some(s) = self.best_allowance(m, at, meter, dims, pick) else {
                break;
            };
            if m.has_total_watches || m.has_package_alerts {
                need = self.draw_watched(m, at, s, need)?;
                continue;
            }
            let rem = self.subjects[s].remaining;
            let take = if need.order(rem).is_lt() { need } else { rem };
            self.subjects[s].remaining = rem.sub(take)?;
            need = need.sub(take)?;
            // Guards only move on an empty quota (drawing never refills).
            if self.subjects[s].remaining.is_zero() {
                self.emptied(m, s, at)?;
            }
        }
        Ok(need)
    }

    /// Draws up to `need` from `s` where triggers or alerts watch remaining quota; returns
    /// what is still needed.
    #[inline(never)]
    fn draw_watched(&mut self, m: &Model, at: Instant, s: usize, mut need: Decimal) -> R<Decimal> {
        let rem = self.subjects[s].remaining;
        let mut take = if need.order(rem).is_lt() { need } else { rem };
        // A total-remaining trigger fires at the moment its threshold is crossed.
        let crossing = if m.has_total_watches {
            self.crossing(m, s, take)?
        } else {
            None
        };
        if let Some((_, _, room)) = crossing {
            take = room;
        }
        self.subjects[s].remaining = self.subjects[s].remaining.sub(take)?;
        need = need.sub(take)?;
        if m.has_package_alerts {
            self.package_alerts(m, at, s)?;
        }
        // Guards only move on an empty quota (drawing never refills).
        if self.subjects[s].remaining.is_zero() {
            self.emptied(m, s, at)?;
        }
        if let Some((t, w, _)) = crossing {
            self.above[t][w] = false;
            self.run_trigger(m, at, t)?;
        }
        Ok(need)
    }

    /// `s` was drawn empty: it leaves the drawdown list, and its guards may move it.
    #[inline(never)]
    fn emptied(&mut self, m: &Model, s: usize, at: Instant) -> R {
        self.stock.list.retain(|&x| x as usize != s);
        self.settle(m, s, at)
    }

    /// The usable allowance that `pick` selects to draw from first: earliest expiry, then
    /// earliest effective, then creation order.
    pub(super) fn best_allowance(
        &self,
        m: &Model,
        at: Instant,
        meter: MeterId,
        dims: &[u8],
        pick: Pick,
    ) -> Option<usize> {
        let mut best: Option<(usize, (Instant, Instant, u64))> = None;
        for &s in &self.stock.list {
            let s = s as usize;
            let sub = &self.subjects[s];
            // Cheap tests first: most subjects are expired or of another item.
            if sub.remaining.is_zero() || sub.expires.is_some_and(|e| e <= at) {
                continue;
            }
            let Some(i) = sub.item else { continue };
            let it = &m.items[i];
            if it.meter != Some(meter)
                || !pick.picks(it, i)
                || !it.sel.matches(dims)
                || !self.usable(m, s)
            {
                continue;
            }
            let key = (sub.expires.unwrap_or(Instant::MAX), sub.effective, sub.seq);
            if best.is_none_or(|(_, k)| key < k) {
                best = Some((s, key));
            }
        }
        best.map(|(s, _)| s)
    }

    /// Brings [`Account::stock`] up to date with the subjects.
    #[inline(always)]
    pub(super) fn restock(&mut self) {
        if self.stock.built_for != self.subjects.len() {
            self.rebuild_stock();
        }
        debug_assert!(
            self.subjects
                .iter()
                .enumerate()
                .all(|(s, sub)| sub.remaining.is_zero() || self.stock.list.contains(&(s as u32))),
            "a subject holds quota that the drawdown list does not know of"
        );
    }

    #[cold]
    #[inline(never)]
    fn rebuild_stock(&mut self) {
        self.stock.list.clear();
        for (s, sub) in self.subjects.iter().enumerate() {
            if !sub.remaining.is_zero() {
                self.stock.list.push(s as u32);
            }
        }
        self.stock.built_for = self.subjects.len();
    }

    /// The first armed total-remaining trigger watch that drawing `take` from `s` crosses,
    /// with how much can be drawn before it fires.
    #[inline(never)]
    fn crossing(&self, m: &Model, s: usize, take: Decimal) -> R<Option<(usize, usize, Decimal)>> {
        let Some(item) = self.subjects[s].item else {
            return Ok(None);
        };
        for (ti, t) in m.triggers.iter().enumerate() {
            for (wi, w) in t.watches.iter().enumerate() {
                let WatchM::Remaining {
                    sel,
                    threshold,
                    per_package: false,
                } = w
                else {
                    continue;
                };
                if !self.above[ti][wi] || !item_selected(&m.items[item], sel) {
                    continue;
                }
                let total = self.total_remaining(m, sel, self.last_at.unwrap_or(Instant(0)))?;
                let Some(th) = self.threshold(m, threshold, total)? else {
                    continue;
                };
                if total.sub(take)?.order(th).is_le() {
                    return Ok(Some((
                        ti,
                        wi,
                        total.sub(th)?.larger(Decimal::ZERO).smaller(take),
                    )));
                }
            }
        }
        Ok(None)
    }

    /// Remaining quota of usable, unexpired packages that `sel` selects.
    ///
    /// Only subjects of the drawdown list are visited (`restock` must have run):
    /// the others hold no quota, and adding a zero changes a sum at most in the scale of a
    /// zero total, which nothing that reads the total can tell.
    pub(crate) fn total_remaining(&self, m: &Model, sel: &Sel, at: Instant) -> R<Decimal> {
        debug_assert_eq!(self.stock.built_for, self.subjects.len());
        let mut total = Decimal::ZERO;
        for &s in &self.stock.list {
            let s = s as usize;
            let sub = &self.subjects[s];
            let Some(i) = sub.item else { continue };
            if item_selected(&m.items[i], sel)
                && sub.expires.is_none_or(|e| e > at)
                && self.usable(m, s)
            {
                total = total.add(sub.remaining)?;
            }
        }
        Ok(total)
    }

    /// Recomputes which total-remaining watches are above their thresholds (after purchases,
    /// expiries and parameter changes, which never fire them).
    pub(crate) fn refresh_triggers(&mut self, m: &Model) -> R {
        if !m.has_total_watches {
            return Ok(());
        }
        self.restock();
        let at = self.last_at.unwrap_or(Instant(0));
        for (ti, t) in m.triggers.iter().enumerate() {
            for (wi, w) in t.watches.iter().enumerate() {
                if let WatchM::Remaining {
                    sel,
                    threshold,
                    per_package: false,
                } = w
                {
                    let total = self.total_remaining(m, sel, at)?;
                    self.above[ti][wi] = match self.threshold(m, threshold, total)? {
                        Some(th) => total > th,
                        None => false,
                    };
                }
            }
        }
        Ok(())
    }

    /// Per-package remaining alerts, once per package per threshold.
    #[inline(never)]
    fn package_alerts(&mut self, m: &Model, at: Instant, s: usize) -> R {
        let Some(item) = self.subjects[s].item else {
            return Ok(());
        };
        for (ai, threshold) in m.package_alerts(item) {
            let a = &m.alerts[ai];
            let Some(th) = self.threshold(m, threshold, self.subjects[s].quota)? else {
                continue;
            };
            let key = (ai as u32, th);
            if self.subjects[s].remaining <= th && !self.subjects[s].fired.contains(&key) {
                self.subjects[s].fired.push(key);
                let name = self.subject_name(m, s);
                let msg = format!(
                    "{name} has {} left of {}",
                    self.subjects[s].remaining.normalize(),
                    self.subjects[s].quota.normalize()
                );
                self.alert(at, name, a, msg);
            }
        }
        Ok(())
    }

    /// Count alerts: armed ones fire when the count reaches their share of the cap.
    fn count_alerts(&mut self, m: &Model, at: Instant, meter: MeterId) -> R {
        for (ai, a) in m.alerts.iter().enumerate() {
            let Some(WatchM::CountReaches {
                meter: am,
                threshold,
            }) = &a.watch
            else {
                continue;
            };
            if *am != meter || !self.armed[ai] {
                continue;
            }
            let Cap::Limit(cap, _) = self.cap(m, meter)? else {
                continue;
            };
            let Some(th) = self.threshold(m, threshold, cap)? else {
                continue;
            };
            let count = Decimal::from(self.distinct[meter].len() as u64);
            if count >= th {
                self.armed[ai] = false;
                let msg = format!(
                    "{} {} counted of a cap of {}",
                    count,
                    m.meters[meter].name,
                    cap.normalize()
                );
                self.alert(at, m.meters[meter].name.clone(), a, msg);
            }
        }
        Ok(())
    }

    /// Arms the count alerts (an edition bought, a cap raised).
    pub(crate) fn arm_count_alerts(&mut self, m: &Model) {
        for (ai, a) in m.alerts.iter().enumerate() {
            if matches!(a.watch, Some(WatchM::CountReaches { .. })) {
                self.armed[ai] = true;
            }
        }
    }

    /// The cap on distinct subjects of `meter`: editions that serve it, plus their packs.
    pub(crate) fn cap(&self, m: &Model, meter: MeterId) -> R<Cap> {
        let mut any_declared = None;
        let mut total: Option<(Decimal, String)> = None;
        for (i, it) in m.items.iter().enumerate() {
            let ItemKind::Edition {
                cap: Some((cm, base, per)),
                ..
            } = &it.kind
            else {
                continue;
            };
            if *cm != meter {
                continue;
            }
            any_declared.get_or_insert_with(|| it.rule.to_string());
            for s in 0..self.subjects.len() {
                if self.subjects[s].item != Some(i) || !self.usable(m, s) {
                    continue;
                }
                let mut c = *base;
                if let Some((add, pack)) = per {
                    for p in 0..self.subjects.len() {
                        if self.subjects[p].item == Some(*pack) && self.usable(m, p) {
                            c = c.add(add.mul(self.subjects[p].units)?)?;
                        }
                    }
                }
                let sum = total.as_ref().map(|t| t.0).unwrap_or_default().add(c)?;
                total = Some((sum, it.rule.to_string()));
            }
        }
        Ok(match (total, any_declared) {
            (Some((c, rule)), _) => Cap::Limit(c, rule),
            (None, Some(rule)) => Cap::NoEdition(Some(rule)),
            (None, None) => Cap::Unlimited,
        })
    }

    /// Past the quota, usage is refused when every unexpired package serving it stops at its
    /// quota; returns the rule of one such package.
    pub(super) fn stop_at_quota(
        &self,
        m: &Model,
        at: Instant,
        meter: MeterId,
        dims: &[u8],
    ) -> Option<String> {
        if !m.plan(meter).stops_at_quota {
            return None;
        }
        let mut rule = None;
        for sub in &self.subjects {
            let Some(i) = sub.item else { continue };
            let it = &m.items[i];
            let ItemKind::Package {
                refuse_past_quota, ..
            } = it.kind
            else {
                continue;
            };
            if it.meter != Some(meter)
                || !it.sel.matches(dims)
                || sub.expires.is_some_and(|e| e <= at)
            {
                continue;
            }
            if !refuse_past_quota {
                return None;
            }
            rule.get_or_insert_with(|| it.rule.to_string());
        }
        rule
    }

    fn roll(
        &mut self,
        m: &Model,
        li: usize,
        at: Instant,
        per: crate::ast::CalUnit,
        _usage: bool,
    ) -> R {
        self.limits[li].roll(m, at, per)
    }

    pub(crate) fn roll_limit(&mut self, m: &Model, li: usize, at: Instant) -> R {
        let per = m.limits[li].per;
        self.roll(m, li, at, per, false)
    }

    fn roll_volume(&mut self, m: &Model, pi: usize, at: Instant, per: crate::ast::CalUnit) -> R {
        self.volumes[pi].roll(m, at, per)
    }

    /// Prices `qty` pay-as-you-go units (after `served` units of the event went to allowances).
    /// Returns `false` when no price matches.
    #[inline(never)]
    fn charge_usage(
        &mut self,
        m: &Model,
        at: Instant,
        meter: MeterId,
        dims: &[u8],
        qty: Decimal,
        served: Decimal,
    ) -> R<bool> {
        let Some(pi) = m
            .plan(meter)
            .prices
            .iter()
            .copied()
            .find(|&pi| m.prices[pi].sel.matches(dims))
        else {
            return Ok(false);
        };
        let p = &m.prices[pi];
        let before = match &p.shape {
            PriceShape::Tiered(
                BasisM::Volume {
                    period,
                    sel,
                    meter: bm,
                },
                _,
            ) => {
                self.roll_volume(m, pi, at, *period)?;
                let own = if *bm == meter && sel.matches(dims) {
                    served
                } else {
                    Decimal::ZERO
                };
                self.volumes[pi].used.add(own)?
            }
            _ => Decimal::ZERO,
        };
        let lines = price_lines(p, qty, before)?;
        for &(quantity, unit_price, amount) in lines.iter() {
            self.add_usage_line(m, at, pi, quantity, unit_price, amount)?;
        }
        Ok(true)
    }

    fn add_usage_line(
        &mut self,
        m: &Model,
        at: Instant,
        pi: usize,
        quantity: Decimal,
        unit_price: Option<Decimal>,
        amount: Decimal,
    ) -> R {
        if let Some(cycle) = &m.usage_cycle {
            let open = self
                .cycle
                .as_ref()
                .is_some_and(|c| at >= c.start && at < c.end);
            if !open {
                let (start, end) = cycle
                    .cadence
                    .cycle(&m.zone, at)
                    .ok_or_else(EvalError::time)?;
                self.cycle = Some(Cycle {
                    start,
                    end,
                    lines: Vec::new(),
                });
                self.next_due = None;
            }
        }
        let lines = match &self.cycle {
            Some(c) => &c.lines,
            None => &self.loose,
        };
        self.stats.charged = self.stats.charged.add(amount)?;
        let found = lines.iter().copied().find(|&l| {
            self.charges[l].price == Some(pi) && same(self.charges[l].unit_price, unit_price)
        });
        match found {
            Some(l) => {
                let c = &mut self.charges[l];
                c.quantity = c.quantity.add(quantity)?;
                c.amount = c.amount.add(amount)?;
            }
            None => {
                let p = &m.prices[pi];
                self.charges.push(Charge {
                    at,
                    item: p.name.clone(),
                    kind: Kind::Usage,
                    quantity,
                    unit_price,
                    amount,
                    bill: None,
                    rule: p.rule.to_string(),
                    id: None,
                    price: Some(pi),
                });
                let ix = self.charges.len() - 1;
                match &mut self.cycle {
                    Some(c) => c.lines.push(ix),
                    None => self.loose.push(ix),
                }
            }
        }
        Ok(())
    }
}

/// Which allowances a drawdown source takes from.
#[derive(Clone, Copy)]
pub(super) enum Pick {
    /// One item (a free tier or a package).
    Item(ItemId),
    /// Every package.
    Packages,
}

impl Pick {
    fn picks(self, it: &Item, id: ItemId) -> bool {
        match self {
            Pick::Item(i) => id == i && it.is_allowance(),
            Pick::Packages => matches!(it.kind, ItemKind::Package { .. }),
        }
    }
}

/// `a - b`; subtracting zero, the common case, costs nothing.
#[inline(always)]
fn minus(a: Decimal, b: Decimal) -> R<Decimal> {
    if b.is_zero() { Ok(a) } else { a.sub(b) }
}

/// Whether two unit prices are equal (both absent, or equal values).
fn same(a: Option<Decimal>, b: Option<Decimal>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => x.order(y).is_eq(),
        (None, None) => true,
        _ => false,
    }
}

/// A cap on distinct subjects.
pub(crate) enum Cap {
    /// No edition declares one.
    Unlimited,
    /// Editions declare one, none is held.
    NoEdition(Option<String>),
    /// The cap and the rule of an edition that gives it.
    Limit(Decimal, String),
}

impl Ctr {
    /// Starts the calendar period holding `at` when `at` is outside the current one.
    fn roll(&mut self, m: &Model, at: Instant, per: crate::ast::CalUnit) -> R {
        if self.end.is_none_or(|e| at >= e) || self.start.is_none_or(|s| at < s) {
            let start = m.zone.period_start(at, per).ok_or_else(EvalError::time)?;
            let end = m.zone.period_next(start, per).ok_or_else(EvalError::time)?;
            *self = Ctr {
                start: Some(start),
                end: Some(end),
                used: Decimal::ZERO,
            };
        }
        Ok(())
    }
}
