//! Purchases, renewals, resource units, top-ups and automatic purchases.

use rust_decimal::Decimal;

use super::engine::{Checked, R};
use super::pricing::purchase_cost;
use super::state::*;
use super::{EvalError, Event};
use crate::model::*;
use crate::time::Instant;

impl Account {
    /// Buys `k` units of `item` for `periods`; returns whether it was carried out.
    /// `line` is `None` for automatic purchases (a failure is then not a rejection).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn purchase(
        &mut self,
        m: &Model,
        at: Instant,
        line: Option<u64>,
        item: ItemId,
        k: Decimal,
        periods: i64,
        via: Option<&RuleRef>,
    ) -> R<bool> {
        let it = &m.items[item];
        let rule = via.cloned().unwrap_or_else(|| it.rule.clone()).to_string();
        let periods_d = Decimal::from(periods);
        let refuse = |acc: &mut Account, reason: &str| {
            if let Some(line) = line {
                acc.reject(
                    at,
                    line,
                    None,
                    Some(it.name.clone()),
                    k,
                    reason,
                    Some(it.rule.to_string()),
                );
            }
        };
        match &it.kind {
            ItemKind::Package { price, valid, .. } => {
                let cost = price.mul(k)?.mul(periods_d)?;
                if !self.pay(cost)? {
                    refuse(self, "insufficient_balance");
                    return Ok(false);
                }
                self.charge(
                    at,
                    &it.name,
                    Kind::Purchase,
                    k,
                    Some(price.mul(periods_d)?),
                    cost,
                    &rule,
                )?;
                let expires = validity_end(m, at, *valid, periods)?;
                let n = k.trunc().to_string().parse::<u64>().unwrap_or(0);
                for _ in 0..n {
                    self.create(m, item, at, Decimal::ONE, expires, rule.clone())?;
                }
            }
            ItemKind::Pack {
                needs,
                minimum,
                tiers,
                ..
            } => {
                if let Some((need_item, need_state)) = needs {
                    let ok = (0..self.subjects.len()).any(|s| {
                        self.subjects[s].item == Some(*need_item)
                            && self.subjects[s].state == *need_state
                    });
                    if !ok {
                        let st = m.items[*need_item]
                            .lifecycle
                            .and_then(|l| m.lifecycles[l].states.get(*need_state))
                            .map(|s| s.name.clone())
                            .unwrap_or_default();
                        refuse(self, &format!("needs_{}_{}", m.items[*need_item].name, st));
                        return Ok(false);
                    }
                }
                if k < *minimum {
                    refuse(self, "below_minimum");
                    return Ok(false);
                }
                let cost = match tiers {
                    Some(t) => purchase_cost(t, k)?,
                    None => Decimal::ZERO,
                };
                if !self.pay(cost)? {
                    refuse(self, "insufficient_balance");
                    return Ok(false);
                }
                let unit = if k.is_zero() {
                    None
                } else {
                    Some(cost.div(k)?)
                };
                self.charge(at, &it.name, Kind::Purchase, k, unit, cost, &rule)?;
                self.create(m, item, at, k, None, rule)?;
                self.arm_count_alerts(m);
            }
            ItemKind::Edition {
                fee,
                term,
                replaces,
                ..
            } => {
                let existing =
                    (0..self.subjects.len()).find(|&s| self.subjects[s].item == Some(item));
                let reuse = match existing {
                    Some(s) => match self
                        .lc(m, s)
                        .and_then(|lc| lc.find(self.subjects[s].state, &OnM::Purchase))
                    {
                        Some(t) => Some((s, t.to, t.rule.to_string())),
                        None => {
                            refuse(self, "already_held");
                            return Ok(false);
                        }
                    },
                    None => None,
                };
                let cost = fee.mul(periods_d)?;
                if !self.pay(cost)? {
                    refuse(self, "insufficient_balance");
                    return Ok(false);
                }
                self.charge(
                    at,
                    &it.name,
                    Kind::Subscription,
                    periods_d,
                    Some(*fee),
                    cost,
                    &rule,
                )?;
                let expires = validity_end(m, at, *term, periods)?;
                match reuse {
                    Some((s, to, trule)) => {
                        self.subjects[s].expires = expires;
                        self.subjects[s].effective = at;
                        self.enter(m, s, to, at, trule)?;
                    }
                    None => {
                        self.create(m, item, at, Decimal::ONE, expires, rule)?;
                    }
                }
                if let Some(r) = replaces {
                    for s in 0..self.subjects.len() {
                        if self.subjects[s].item == Some(*r) {
                            self.fire(m, s, &OnM::Replaced, at)?;
                        }
                    }
                }
                self.arm_count_alerts(m);
            }
            ItemKind::FreeTier | ItemKind::Resource { .. } => {
                return Err(EvalError::new(format!("`{}` cannot be purchased", it.name)));
            }
        }
        self.refresh_triggers(m)?;
        Ok(true)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn charge(
        &mut self,
        at: Instant,
        item: &str,
        kind: Kind,
        quantity: Decimal,
        unit_price: Option<Decimal>,
        amount: Decimal,
        rule: &str,
    ) -> R {
        self.stats.charged = self.stats.charged.add(amount)?;
        self.charges.push(Charge {
            at,
            item: item.to_string(),
            kind,
            quantity,
            unit_price,
            amount,
            bill: None,
            rule: rule.to_string(),
            id: self.cur_id.clone(),
            price: None,
        });
        Ok(())
    }

    /// Renews an edition or a package (`number` picks `ITEM#N`).
    pub(crate) fn renew(
        &mut self,
        m: &Model,
        ev: &Event,
        item: ItemId,
        number: Option<u32>,
        periods: i64,
    ) -> R {
        let at = ev.at;
        let it = &m.items[item];
        let pd = Decimal::from(periods);
        let renewable = |acc: &Account, s: usize| {
            acc.lc(m, s)
                .and_then(|lc| lc.find(acc.subjects[s].state, &OnM::Renew))
                .is_some()
        };
        let candidates: Vec<usize> = (0..self.subjects.len())
            .filter(|&s| self.subjects[s].item == Some(item))
            .collect();
        let target = match number {
            Some(n) => candidates
                .iter()
                .copied()
                .find(|&s| self.subjects[s].number == n),
            None => {
                let by_expiry = |s: &usize| {
                    (
                        self.subjects[*s].expires.unwrap_or(Instant::MAX),
                        self.subjects[*s].seq,
                    )
                };
                let lapsed = candidates
                    .iter()
                    .copied()
                    .filter(|&s| {
                        self.subjects[s].expires.is_some_and(|e| e <= at) && renewable(self, s)
                    })
                    .min_by_key(by_expiry);
                lapsed.or_else(|| {
                    candidates
                        .iter()
                        .copied()
                        .filter(|&s| {
                            self.subjects[s].expires.is_none_or(|e| e > at) && renewable(self, s)
                        })
                        .min_by_key(by_expiry)
                })
            }
        };
        let Some(s) = target.filter(|&s| renewable(self, s)) else {
            let last = target.or_else(|| {
                candidates
                    .iter()
                    .copied()
                    .max_by_key(|&s| (self.subjects[s].expires, self.subjects[s].seq))
            });
            let reason = match last {
                Some(s) => format!("cannot_renew_{}", self.state_name(m, s)),
                None => "nothing_to_renew".into(),
            };
            self.reject(
                at,
                ev.line,
                None,
                Some(it.name.clone()),
                pd,
                &reason,
                Some(it.rule.to_string()),
            );
            return Ok(());
        };
        let Some(t) = self
            .lc(m, s)
            .and_then(|lc| lc.find(self.subjects[s].state, &OnM::Renew))
        else {
            return Ok(());
        };
        let (to, from_renewal, trule) = (t.to, t.from_renewal, t.rule.to_string());
        let (price, term, kind) = match &it.kind {
            ItemKind::Package { price, valid, .. } => (*price, *valid, Kind::Purchase),
            ItemKind::Edition { fee, term, .. } => (*fee, *term, Kind::Subscription),
            _ => return Err(EvalError::new(format!("`{}` cannot be renewed", it.name))),
        };
        let cost = price.mul(pd)?;
        if !self.pay(cost)? {
            self.reject(
                at,
                ev.line,
                None,
                Some(it.name.clone()),
                pd,
                "insufficient_balance",
                Some(trule),
            );
            return Ok(());
        }
        self.charge(at, &it.name, kind, pd, Some(price), cost, &trule)?;
        if let Some(term) = term {
            let base = if from_renewal {
                at
            } else {
                self.subjects[s].expires.unwrap_or(at)
            };
            self.subjects[s].expires = validity_end(m, base, Some(term), periods)?;
            if from_renewal {
                self.subjects[s].effective = at;
            }
        }
        self.next_due = None;
        self.enter(m, s, to, at, trule)?;
        if matches!(it.kind, ItemKind::Edition { .. }) {
            self.arm_count_alerts(m);
        }
        self.refresh_triggers(m)
    }

    /// Enables `k` units of a resource, unless a limit refuses them.
    pub(crate) fn enable(&mut self, m: &Model, ev: &Event, item: ItemId, k: Decimal) -> R {
        let at = ev.at;
        for (li, l) in m.limits.iter().enumerate() {
            let LimitOn::Enable(r) = l.on else { continue };
            if r != item {
                continue;
            }
            self.roll_limit(m, li, at)?;
            let Some(max) = self.num(&l.amount) else {
                continue;
            };
            let after = self.limits[li].used.add(k)?;
            if after > max {
                self.reject(
                    at,
                    ev.line,
                    None,
                    Some(m.items[item].name.clone()),
                    k,
                    "over_limit",
                    Some(l.rule.to_string()),
                );
                return Ok(());
            }
        }
        for (li, l) in m.limits.iter().enumerate() {
            if matches!(l.on, LimitOn::Enable(r) if r == item) {
                self.limits[li].used = self.limits[li].used.add(k)?;
            }
        }
        let n = k.trunc().to_string().parse::<u64>().unwrap_or(0);
        let rule = m.items[item].rule.to_string();
        for _ in 0..n {
            let s = self.create(m, item, at, Decimal::ONE, None, rule.clone())?;
            self.subjects[s].enabled_at = Some(at);
        }
        if self.res_from[item].is_none() {
            self.res_from[item] = Some(
                m.zone
                    .period_start(at, crate::ast::CalUnit::Month)
                    .ok_or_else(EvalError::time)?,
            );
            self.next_due = None;
        }
        Ok(())
    }

    /// Disables the `k` lowest-numbered enabled units.
    pub(crate) fn disable(&mut self, m: &Model, at: Instant, item: ItemId, k: Decimal) -> R {
        let mut left = k;
        for s in 0..self.subjects.len() {
            if left <= Decimal::ZERO {
                break;
            }
            if self.subjects[s].item == Some(item)
                && self.subjects[s].disabled_at.is_none()
                && self.subjects[s].enabled_at.is_some()
            {
                self.subjects[s].disabled_at = Some(at);
                self.fire(m, s, &OnM::Disable, at)?;
                left = left.sub(Decimal::ONE)?;
            }
        }
        Ok(())
    }

    /// Adds money; pays outstanding bills oldest first while it covers each.
    pub(crate) fn topup(&mut self, m: &Model, at: Instant, amount: Decimal) -> R {
        let b = self.balance.unwrap_or_default().add(amount)?;
        self.balance = Some(b);
        self.pay_outstanding(m, at)
    }

    /// Runs a trigger's purchase, or raises its failure alert.
    pub(crate) fn run_trigger(&mut self, m: &Model, at: Instant, ti: usize) -> R {
        let t = &m.triggers[ti];
        if !self.switch(t.condition) {
            return Ok(());
        }
        let item = match t.purchase {
            Ok(i) => Some(i),
            Err(p) => match self.params[p] {
                PVal::Item(i) => Some(i),
                _ => None,
            },
        };
        let ok = match item {
            Some(i) => self.purchase(m, at, None, i, Decimal::ONE, 1, Some(&t.rule))?,
            None => false,
        };
        if !ok && let Some(a) = t.else_alert {
            let what = item.map(|i| m.items[i].name.clone()).unwrap_or_default();
            let msg = format!("automatic purchase of {what} failed: the balance cannot pay it");
            self.alert(at, what, &m.alerts[a], msg);
        }
        Ok(())
    }
}

/// When a validity of `periods` times `term` that starts at `from` ends (`None`: it never does).
fn validity_end(
    m: &Model,
    from: Instant,
    term: Option<crate::time::Dur>,
    periods: i64,
) -> R<Option<Instant>> {
    let Some(term) = term else { return Ok(None) };
    let d = term.times(periods).ok_or_else(EvalError::overflow)?;
    m.zone.add(from, d).ok_or_else(EvalError::time).map(Some)
}
