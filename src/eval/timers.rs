//! Time-driven rules: bills, lifecycle transitions, lead-time alerts and triggers, fired in
//! time order and, at the same instant, in the order bills, transitions, alerts, triggers.

use rust_decimal::{Decimal, RoundingStrategy};

use super::EvalError;
use super::engine::{Checked, R};
use super::state::*;
use crate::ast::RoundMode;
use crate::model::*;
use crate::time::{Cadence, Instant};

/// Something due at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Due {
    at: Instant,
    /// 0 bills, 1 lifecycle, 2 alerts, 3 triggers.
    rank: u8,
    /// Subject (or item for resource bills).
    who: usize,
    what: What,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum What {
    UsageBill,
    ResourceBill,
    Expiry,
    After(usize),
    AlertLead(usize),
    TriggerLead(usize, usize),
}

impl Account {
    /// Fires everything due at or before `t`.
    #[inline]
    pub fn advance(&mut self, m: &Model, t: Instant) -> R {
        self.flush_lane(m)?;
        if !self.started {
            return Ok(());
        }
        // The common case: the next timer is known, and later.
        if let Some(next) = self.next_due
            && next.is_none_or(|at| at > t)
        {
            return Ok(());
        }
        self.fire_due(m, t)
    }

    /// When the next timer is due (cached in [`Account::next_due`]).
    pub(super) fn next_due_at(&mut self, m: &Model) -> R<Option<Instant>> {
        if let Some(n) = self.next_due {
            return Ok(n);
        }
        let n = self.next(m)?.map(|d| d.at);
        self.next_due = Some(n);
        Ok(n)
    }

    /// Fires everything due at or before `t`, the next timer's time not being known to be later.
    #[inline(never)]
    fn fire_due(&mut self, m: &Model, t: Instant) -> R {
        let mut fuel = 10_000_000u32;
        loop {
            match self.next_due_at(m)? {
                Some(at) if at <= t => {}
                _ => return Ok(()),
            }
            let Some(d) = self.next(m)? else {
                return Ok(());
            };
            self.run(m, d)?;
            self.next_due = None;
            fuel -= 1;
            if fuel == 0 {
                return Err(EvalError::new("time-driven rules keep firing without end"));
            }
        }
    }

    /// The earliest thing due.
    fn next(&self, m: &Model) -> R<Option<Due>> {
        let mut best: Option<Due> = None;
        let mut offer = |d: Due| {
            if best.is_none_or(|b| d < b) {
                best = Some(d);
            }
        };
        if let Some(c) = &self.cycle {
            offer(Due {
                at: c.end,
                rank: 0,
                who: 0,
                what: What::UsageBill,
            });
        }
        for (i, from) in self.res_from.iter().enumerate() {
            if let (Some(ms), ItemKind::Resource { cadence, .. }) = (from, &m.items[i].kind) {
                offer(Due {
                    at: self.resource_due(m, *ms, *cadence)?,
                    rank: 0,
                    who: i,
                    what: What::ResourceBill,
                });
            }
        }
        for (s, sub) in self.subjects.iter().enumerate() {
            let Some(lc) = self.lc(m, s) else { continue };
            let expiring = lc.find(sub.state, &OnM::AtExpiry).is_some();
            if let (true, Some(e)) = (expiring, sub.expires) {
                offer(Due {
                    at: e,
                    rank: 1,
                    who: s,
                    what: What::Expiry,
                });
            }
            for (ti, t) in lc.transitions.iter().enumerate() {
                if let (true, OnM::After(d)) = (t.from.contains(&sub.state), &t.on) {
                    let at = m.zone.add(sub.since, *d).ok_or_else(EvalError::time)?;
                    offer(Due {
                        at,
                        rank: 1,
                        who: s,
                        what: What::After(ti),
                    });
                }
            }
            let (Some(item), Some(e), true) = (sub.item, sub.expires, expiring) else {
                continue;
            };
            // Lead-time watches: alerts (rank 2), then triggers (rank 3), per package and expiry.
            let alert_leads = m
                .alerts
                .iter()
                .enumerate()
                .filter_map(|(ai, a)| match &a.watch {
                    Some(WatchM::BeforeExpiry { lead, sel }) => {
                        Some((2, ai as u32, What::AlertLead(ai), *lead, sel))
                    }
                    _ => None,
                });
            let trigger_leads = m.triggers.iter().enumerate().flat_map(|(ti, t)| {
                t.watches
                    .iter()
                    .enumerate()
                    .filter_map(move |(wi, w)| match w {
                        WatchM::BeforeExpiry { lead, sel } => {
                            Some((3, lead_key(ti, wi), What::TriggerLead(ti, wi), *lead, sel))
                        }
                        _ => None,
                    })
            });
            for (rank, key, what, lead, sel) in alert_leads.chain(trigger_leads) {
                if item_selected(&m.items[item], sel) && !sub.leads.contains(&(key, e)) {
                    let at = m
                        .zone
                        .add(e, lead.negated())
                        .ok_or_else(EvalError::time)?
                        .max(sub.effective);
                    offer(Due {
                        at,
                        rank,
                        who: s,
                        what,
                    });
                }
            }
        }
        Ok(best)
    }

    fn run(&mut self, m: &Model, d: Due) -> R {
        let at = d.at;
        match d.what {
            What::UsageBill => {
                let Some(c) = self.cycle.take() else {
                    return Ok(());
                };
                let Some(cycle) = &m.usage_cycle else {
                    return Ok(());
                };
                self.issue(
                    m,
                    at,
                    c.start,
                    c.end,
                    c.lines,
                    cycle.rounding,
                    &cycle.name,
                    &cycle.rule,
                )?;
            }
            What::ResourceBill => self.bill_resource(m, d.who, at)?,
            What::Expiry => {
                self.fire(m, d.who, &OnM::AtExpiry, at)?;
                self.refresh_triggers(m)?;
            }
            What::After(ti) => {
                let Some(lc) = self.lc(m, d.who) else {
                    return Ok(());
                };
                let (to, rule) = (lc.transitions[ti].to, lc.transitions[ti].rule.to_string());
                self.enter(m, d.who, to, at, rule)?;
                self.refresh_triggers(m)?;
            }
            What::AlertLead(ai) => {
                let e = self.subjects[d.who].expires.unwrap_or(at);
                self.subjects[d.who].leads.push((ai as u32, e));
                let name = self.subject_name(m, d.who);
                let msg = format!("{name} expires at {}", m.zone.format(e));
                self.alert(at, name, &m.alerts[ai], msg);
            }
            What::TriggerLead(ti, wi) => {
                let e = self.subjects[d.who].expires.unwrap_or(at);
                self.subjects[d.who].leads.push((lead_key(ti, wi), e));
                self.run_trigger(m, at, ti)?;
            }
        }
        Ok(())
    }

    /// When the bill for the month starting at `ms` is issued.
    fn resource_due(&self, m: &Model, ms: Instant, cadence: Cadence) -> R<Instant> {
        let me = m
            .zone
            .period_next(ms, crate::ast::CalUnit::Month)
            .ok_or_else(EvalError::time)?;
        match cadence {
            Cadence::Monthly(day, secs) => {
                let local = m.zone.local(me).ok_or_else(EvalError::time)?;
                let date = local
                    .date()
                    .checked_add_days(chrono::Days::new(u64::from(day.saturating_sub(1))))
                    .ok_or_else(EvalError::time)?;
                let t = chrono::NaiveTime::from_num_seconds_from_midnight_opt(secs, 0)
                    .ok_or_else(EvalError::time)?;
                m.zone.instant(date.and_time(t)).ok_or_else(EvalError::time)
            }
            Cadence::Daily(_) | Cadence::Hourly => Ok(me),
        }
    }

    /// Bills one month of a resource's units: each unit by days enabled (both ends counted).
    fn bill_resource(&mut self, m: &Model, item: usize, at: Instant) -> R {
        let Some(ms) = self.res_from[item] else {
            return Ok(());
        };
        let ItemKind::Resource {
            fee,
            prorated,
            rounding,
            ..
        } = &m.items[item].kind
        else {
            return Ok(());
        };
        let me = m
            .zone
            .period_next(ms, crate::ast::CalUnit::Month)
            .ok_or_else(EvalError::time)?;
        let first = m.zone.date(ms).ok_or_else(EvalError::time)?;
        let last = m
            .zone
            .date(me)
            .and_then(|d| d.pred_opt())
            .ok_or_else(EvalError::time)?;
        let dim = Decimal::from((last - first).num_days() + 1);
        let mut lines = Vec::new();
        let mut still_on = false;
        for s in 0..self.subjects.len() {
            let sub = &self.subjects[s];
            if sub.item != Some(item) {
                continue;
            }
            let Some(on) = sub.enabled_at else { continue };
            if sub.disabled_at.is_none_or(|d| d >= me) {
                still_on = true;
            }
            let from = m.zone.date(on).ok_or_else(EvalError::time)?.max(first);
            let to = match sub.disabled_at {
                Some(off) => m.zone.date(off).ok_or_else(EvalError::time)?.min(last),
                None => last,
            };
            if to < from {
                continue;
            }
            let days = Decimal::from((to - from).num_days() + 1);
            let mut amount = if *prorated {
                fee.mul(days)?.div(dim)?
            } else {
                *fee
            };
            if let Some(r) = rounding.filter(|r| !r.per_bill) {
                amount = round(amount, r.dp, r.mode);
            }
            self.stats.charged = self.stats.charged.add(amount)?;
            self.charges.push(Charge {
                at,
                item: m.items[item].name.clone(),
                kind: Kind::Recurring,
                quantity: days,
                unit_price: Some(*fee),
                amount,
                bill: None,
                rule: m.items[item].rule.to_string(),
                id: None,
                price: None,
            });
            lines.push(self.charges.len() - 1);
        }
        self.res_from[item] = if still_on { Some(me) } else { None };
        if !lines.is_empty() {
            let per_bill = rounding.filter(|r| r.per_bill);
            let rule = m.items[item].rule.clone();
            self.issue(m, at, ms, me, lines, per_bill, &m.items[item].name, &rule)?;
        }
        Ok(())
    }

    /// Issues a bill for `lines` and settles it.
    #[allow(clippy::too_many_arguments)]
    fn issue(
        &mut self,
        m: &Model,
        at: Instant,
        start: Instant,
        end: Instant,
        lines: Vec<usize>,
        rounding: Option<RoundingM>,
        name: &str,
        rule: &RuleRef,
    ) -> R {
        let bill = self.bills.len();
        if let Some(r) = rounding.filter(|r| !r.per_bill) {
            for &l in &lines {
                let (was, now) = (
                    self.charges[l].amount,
                    round(self.charges[l].amount, r.dp, r.mode),
                );
                self.stats.charged = self.stats.charged.sub(was)?.add(now)?;
                self.charges[l].amount = now;
            }
        }
        let mut sum = Decimal::ZERO;
        for &l in &lines {
            sum = sum.add(self.charges[l].amount)?;
            self.charges[l].bill = Some(bill);
        }
        let mut amount = sum;
        if let Some(r) = rounding.filter(|r| r.per_bill) {
            amount = round(sum, r.dp, r.mode);
            if amount != sum {
                let diff = amount.sub(sum)?;
                self.stats.charged = self.stats.charged.add(diff)?;
                self.charges.push(Charge {
                    at,
                    item: name.to_string(),
                    kind: Kind::Rounding,
                    quantity: Decimal::ONE,
                    unit_price: None,
                    id: None,
                    amount: diff,
                    bill: Some(bill),
                    rule: rule.to_string(),
                    price: None,
                });
            }
        }
        self.bills.push(Bill {
            issued_at: at,
            period_start: start,
            period_end: end,
            amount,
            paid: false,
        });
        match self.balance {
            None => self.bills[bill].paid = true,
            Some(b) if self.outstanding.is_empty() && b >= amount => {
                self.balance = Some(b.sub(amount)?);
                self.bills[bill].paid = true;
            }
            Some(_) => {
                self.outstanding.push(bill);
                self.fire(m, 0, &OnM::Unpaid, at)?;
            }
        }
        Ok(())
    }

    /// Pays outstanding bills oldest first while the balance covers each; resumes when none is left.
    pub(crate) fn pay_outstanding(&mut self, m: &Model, at: Instant) -> R {
        if self.outstanding.is_empty() {
            return Ok(());
        }
        while let Some(&b) = self.outstanding.first() {
            let amount = self.bills[b].amount;
            let bal = self.balance.unwrap_or_default();
            if bal < amount {
                break;
            }
            self.balance = Some(bal.sub(amount)?);
            self.bills[b].paid = true;
            self.outstanding.remove(0);
        }
        if self.outstanding.is_empty() {
            self.fire(m, 0, &OnM::Settled, at)?;
        }
        Ok(())
    }
}

fn lead_key(ti: usize, wi: usize) -> u32 {
    (1_000_000 + ti * 64 + wi) as u32
}

/// Rounds to `dp` places.
pub(crate) fn round(d: Decimal, dp: u32, mode: RoundMode) -> Decimal {
    let s = match mode {
        RoundMode::HalfUp => RoundingStrategy::MidpointAwayFromZero,
        RoundMode::HalfEven => RoundingStrategy::MidpointNearestEven,
        RoundMode::HalfDown => RoundingStrategy::MidpointTowardZero,
        RoundMode::Up => RoundingStrategy::AwayFromZero,
        RoundMode::Down => RoundingStrategy::ToZero,
    };
    d.round_dp_with_strategy(dp, s)
}
