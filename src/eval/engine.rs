//! The engine: one account's events applied in time order, with every time-driven rule
//! fired at its instant before the event that follows it.

use std::collections::BTreeSet;

use rust_decimal::Decimal;

use super::state::*;
use super::{EvalError, Event, EventKind};
use crate::model::*;
use crate::time::Instant;

/// Decimal arithmetic that reports overflow instead of panicking.
pub(crate) trait Checked: Sized {
    fn add(self, o: Self) -> Result<Self, EvalError>;
    fn sub(self, o: Self) -> Result<Self, EvalError>;
    fn mul(self, o: Self) -> Result<Self, EvalError>;
    fn div(self, o: Self) -> Result<Self, EvalError>;
}

impl Checked for Decimal {
    fn add(self, o: Self) -> Result<Self, EvalError> {
        self.checked_add(o).ok_or_else(EvalError::overflow)
    }
    fn sub(self, o: Self) -> Result<Self, EvalError> {
        self.checked_sub(o).ok_or_else(EvalError::overflow)
    }
    fn mul(self, o: Self) -> Result<Self, EvalError> {
        let r = self.checked_mul(o).ok_or_else(EvalError::overflow)?;
        if r.scale() == self.scale() + o.scale() {
            return Ok(r);
        }
        // Digits were dropped past 28 significant digits: exact only if they were zeros.
        let (a, b) = (self.normalize(), o.normalize());
        match a.checked_mul(b) {
            Some(p) if p.scale() == a.scale() + b.scale() => Ok(r),
            _ => Err(EvalError::overflow()),
        }
    }
    fn div(self, o: Self) -> Result<Self, EvalError> {
        self.checked_div(o).ok_or_else(EvalError::overflow)
    }
}

pub(crate) type R<T = ()> = Result<T, EvalError>;

impl Account {
    /// A new account.
    pub fn new(m: &Model, name: &str) -> Account {
        Account {
            name: name.to_string(),
            started: false,
            last_at: None,
            balance: None,
            params: m.params.iter().map(|p| p.default.clone()).collect(),
            subjects: Vec::new(),
            next_number: vec![0; m.items.len()],
            refusing: 0,
            limits: vec![Ctr::default(); m.limits.len()],
            volumes: vec![Ctr::default(); m.prices.len()],
            distinct: vec![BTreeSet::new(); m.meters.len()],
            charges: Vec::new(),
            bills: Vec::new(),
            transitions: Vec::new(),
            alerts: Vec::new(),
            rejections: Vec::new(),
            names: Vec::new(),
            name_ix: std::collections::HashMap::new(),
            cycle: None,
            loose: Vec::new(),
            outstanding: Vec::new(),
            res_from: vec![None; m.items.len()],
            above: m
                .triggers
                .iter()
                .map(|t| vec![false; t.watches.len()])
                .collect(),
            armed: vec![false; m.alerts.len()],
            stats: Stats::default(),
            cur_id: None,
            next_due: None,
        }
    }

    /// Starts tracking the balance from `amount` (the `--opening-balance` option).
    pub fn open_balance(&mut self, amount: Decimal) {
        self.balance = Some(amount);
    }

    /// Applies one event: fires what is due up to its time, then carries it out.
    pub fn apply(&mut self, m: &Model, ev: &Event) -> R {
        self.advance(m, ev.at).map_err(|e| e.at_line(ev.line))?;
        if !self.started {
            self.start(m, ev.at).map_err(|e| e.at_line(ev.line))?;
        }
        self.last_at = Some(ev.at);
        self.cur_id.clone_from(&ev.id);
        let r = match &ev.kind {
            EventKind::Usage {
                meter,
                quantity,
                dims,
                subject,
            } => self.usage(m, ev, *meter, *quantity, dims, subject.as_deref()),
            EventKind::Purchase {
                item,
                quantity,
                periods,
            } => self
                .purchase(m, ev.at, Some(ev.line), *item, *quantity, *periods, None)
                .map(|_| ()),
            EventKind::Renew {
                item,
                number,
                periods,
            } => self.renew(m, ev, *item, *number, *periods),
            EventKind::Enable { item, quantity } => self.enable(m, ev, *item, *quantity),
            EventKind::Disable { item, quantity } => self.disable(m, ev.at, *item, *quantity),
            EventKind::Topup { amount } => self.topup(m, ev.at, *amount),
            EventKind::Set { param, value } => {
                self.params[*param] = value.clone();
                self.refresh_triggers(m)
            }
        };
        r.map_err(|e| e.at_line(ev.line))
    }

    /// The service and free tiers exist from the account's first event.
    pub(crate) fn start(&mut self, m: &Model, at: Instant) -> R {
        self.started = true;
        let svc_state = 0;
        self.subjects.push(Subject::new(None, 0, svc_state, at, 0));
        let to = m
            .service
            .map(|lc| m.lifecycles[lc].states[0].name.clone())
            .unwrap_or_else(|| "active".into());
        let rule = m
            .service
            .map(|lc| m.lifecycles[lc].rule.to_string())
            .unwrap_or_else(|| m.header.to_string());
        self.transitions.push(TransRec {
            at,
            subject: 0,
            from: None,
            to,
            rule,
            id: self.cur_id.clone(),
        });
        for (i, it) in m.items.iter().enumerate() {
            if matches!(it.kind, ItemKind::FreeTier) {
                let s = self.create(m, i, at, Decimal::ONE, None, it.rule.to_string())?;
                self.subjects[s].quota = it.quota;
                self.subjects[s].remaining = it.quota;
            }
        }
        self.next_due = None;
        Ok(())
    }

    // ----- subjects and lifecycles -------------------------------------------------------

    pub(crate) fn lc<'m>(&self, m: &'m Model, s: usize) -> Option<&'m LifecycleM> {
        match self.subjects[s].item {
            Some(i) => m.items[i].lifecycle.map(|l| &m.lifecycles[l]),
            None => m.service.map(|l| &m.lifecycles[l]),
        }
    }

    pub(crate) fn state<'m>(&self, m: &'m Model, s: usize) -> Option<&'m StateM> {
        self.lc(m, s)
            .and_then(|lc| lc.states.get(self.subjects[s].state))
    }

    pub(crate) fn state_name(&self, m: &Model, s: usize) -> String {
        self.state(m, s)
            .map(|st| st.name.clone())
            .unwrap_or_else(|| "active".into())
    }

    pub(crate) fn usable(&self, m: &Model, s: usize) -> bool {
        self.state(m, s).is_none_or(|st| st.usable)
    }

    /// The subject's name in reports: `service`, `ITEM` or `ITEM#N`.
    pub fn subject_name(&self, m: &Model, s: usize) -> String {
        let sub = &self.subjects[s];
        match sub.item {
            None => "service".into(),
            Some(i) if sub.number == 0 => m.items[i].name.clone(),
            Some(i) => format!("{}#{}", m.items[i].name, sub.number),
        }
    }

    /// Creates a subject of item `i` in its initial state.
    pub(crate) fn create(
        &mut self,
        m: &Model,
        i: usize,
        at: Instant,
        units: Decimal,
        expires: Option<Instant>,
        rule: String,
    ) -> R<usize> {
        let it = &m.items[i];
        let numbered = matches!(
            it.kind,
            ItemKind::Package { .. } | ItemKind::Pack { .. } | ItemKind::Resource { .. }
        );
        let number = if numbered {
            self.next_number[i] = self.next_number[i]
                .checked_add(1)
                .ok_or_else(EvalError::overflow)?;
            self.next_number[i]
        } else {
            0
        };
        let seq = self.subjects.len() as u64;
        let mut sub = Subject::new(Some(i), number, 0, at, seq);
        sub.expires = expires;
        sub.units = units;
        sub.quota = it.quota.mul(units)?;
        sub.remaining = sub.quota;
        self.subjects.push(sub);
        let s = self.subjects.len() - 1;
        let to = self.state_name(m, s);
        self.transitions.push(TransRec {
            at,
            subject: s,
            from: None,
            to,
            rule,
            id: self.cur_id.clone(),
        });
        if self.state(m, s).is_some_and(|st| st.refuses) {
            self.refusing += 1;
        }
        self.next_due = None;
        // An initial state may move at once (a quota of zero, `at once`).
        self.settle(m, s, at)?;
        Ok(s)
    }

    /// Follows `when empty` / `when refilled` guards from `state` for subject `s`.
    fn guarded(&self, m: &Model, s: usize, mut state: usize) -> usize {
        let Some(lc) = self.lc(m, s) else {
            return state;
        };
        for _ in 0..8 {
            let rem = self.subjects[s].remaining;
            let next = lc
                .find_by(state, |on| {
                    (*on == OnM::Empty && rem.is_zero())
                        || (*on == OnM::Refilled && rem > Decimal::ZERO)
                })
                .map(|t| t.to);
            match next {
                Some(n) if n != state => state = n,
                _ => break,
            }
        }
        state
    }

    /// Applies guard transitions that hold now.
    pub(crate) fn settle(&mut self, m: &Model, s: usize, at: Instant) -> R {
        let cur = self.subjects[s].state;
        let to = self.guarded(m, s, cur);
        if to != cur {
            let rule = self
                .lc(m, s)
                .and_then(|lc| lc.find_by(cur, |on| matches!(on, OnM::Empty | OnM::Refilled)))
                .map(|t| t.rule.to_string())
                .unwrap_or_default();
            self.enter(m, s, to, at, rule)?;
        }
        Ok(())
    }

    /// Fires the first transition of `s` triggered by `on`, if any; returns whether it did.
    pub(crate) fn fire(&mut self, m: &Model, s: usize, on: &OnM, at: Instant) -> R<bool> {
        let Some(lc) = self.lc(m, s) else {
            return Ok(false);
        };
        let Some(t) = lc.find(self.subjects[s].state, on) else {
            return Ok(false);
        };
        let (to, rule) = (t.to, t.rule.to_string());
        self.enter(m, s, to, at, rule)?;
        Ok(true)
    }

    /// Moves `s` into `to` (after guards), records it, and applies what the state does.
    pub(crate) fn enter(&mut self, m: &Model, s: usize, to: usize, at: Instant, rule: String) -> R {
        let mut to = to;
        let mut rule = rule;
        for _ in 0..16 {
            let to_g = self.guarded(m, s, to);
            let from = self.subjects[s].state;
            let was_refusing = self.state(m, s).is_some_and(|st| st.refuses);
            let from_name = self.state_name(m, s);
            self.subjects[s].state = to_g;
            self.subjects[s].since = at;
            self.next_due = None;
            let st = self.state(m, s);
            let (drops, resets, refuses) = st
                .map(|x| (x.drops, x.resets, x.refuses))
                .unwrap_or_default();
            if was_refusing && !refuses {
                self.refusing = self.refusing.saturating_sub(1);
            } else if !was_refusing && refuses {
                self.refusing += 1;
            }
            if from != to_g {
                let to_name = self.state_name(m, s);
                self.transitions.push(TransRec {
                    at,
                    subject: s,
                    from: Some(from_name),
                    to: to_name.clone(),
                    rule: rule.clone(),
                    id: self.cur_id.clone(),
                });
                if drops {
                    self.subjects[s].remaining = Decimal::ZERO;
                }
                if resets {
                    self.reset_counts(m, s);
                }
                self.propagate(m, s, &to_name, at)?;
            }
            // `at once` chains.
            match self.lc(m, s).and_then(|lc| lc.find(to_g, &OnM::AtOnce)) {
                Some(t) if t.to != to_g => {
                    to = t.to;
                    rule = t.rule.to_string();
                }
                _ => return Ok(()),
            }
        }
        Err(EvalError::new("a lifecycle keeps moving `at once` without settling").with_rule(rule))
    }

    fn reset_counts(&mut self, m: &Model, s: usize) {
        let meter = self.subjects[s].item.and_then(|i| m.items[i].meter);
        match meter {
            Some(me) => self.distinct[me].clear(),
            None => self.distinct.iter_mut().for_each(|d| d.clear()),
        }
    }

    /// `when ITEM enters STATE` transitions of other subjects.
    fn propagate(&mut self, m: &Model, s: usize, state: &str, at: Instant) -> R {
        let Some(item) = self.subjects[s].item else {
            return Ok(());
        };
        let on = OnM::Enters(item, state.to_string());
        for o in 0..self.subjects.len() {
            if o != s {
                self.fire(m, o, &on, at)?;
            }
        }
        Ok(())
    }

    // ----- parameters and thresholds -----------------------------------------------------

    pub(crate) fn num(&self, v: &Val) -> Option<Decimal> {
        match v {
            Val::Lit(d) => Some(*d),
            Val::Param(p) => match &self.params[*p] {
                PVal::Num(d) => Some(*d),
                _ => None,
            },
        }
    }

    pub(crate) fn switch(&self, p: Option<ParamId>) -> bool {
        p.is_none_or(|p| matches!(self.params[p], PVal::Switch(true)))
    }

    /// A threshold's absolute value against `base` (a quota or a cap).
    pub(crate) fn threshold(&self, m: &Model, t: &ThresholdM, base: Decimal) -> R<Option<Decimal>> {
        Ok(match t {
            ThresholdM::Abs(d) => Some(*d),
            ThresholdM::Percent(p) => Some(base.mul(*p)?.div(Decimal::ONE_HUNDRED)?),
            ThresholdM::Param(p) => match (&self.params[*p], m.params[*p].ty) {
                (PVal::Num(d), PType::Percent) => Some(base.mul(*d)?.div(Decimal::ONE_HUNDRED)?),
                (PVal::Num(d), _) => Some(*d),
                _ => None,
            },
        })
    }

    // ----- records -----------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn reject(
        &mut self,
        at: Instant,
        line: u64,
        meter: Option<String>,
        item: Option<String>,
        quantity: Decimal,
        reason: &str,
        rule: Option<String>,
    ) {
        let meter = meter.map(|x| self.intern(&x));
        let item = item.map(|x| self.intern(&x));
        let reason = self.intern(reason);
        let rule = rule.map(|x| self.intern(&x));
        self.rejections.push(Rejection {
            at,
            line,
            meter,
            item,
            quantity,
            reason,
            rule,
            id: self.cur_id.clone(),
        });
    }

    /// The index of `text` in [`Account::names`], adding it once.
    fn intern(&mut self, text: &str) -> u32 {
        if self.name_ix.len() != self.names.len() {
            self.name_ix = self
                .names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i as u32))
                .collect();
        }
        if let Some(&i) = self.name_ix.get(text) {
            return i;
        }
        self.names.push(text.to_string());
        let i = (self.names.len() - 1) as u32;
        self.name_ix.insert(text.to_string(), i);
        i
    }

    /// A text of [`Account::names`].
    pub fn name(&self, i: u32) -> &str {
        self.names.get(i as usize).map_or("", String::as_str)
    }

    pub(crate) fn alert(&mut self, at: Instant, subject: String, a: &AlertM, message: String) {
        self.alerts.push(AlertRec {
            at,
            subject,
            kind: a.name.clone(),
            message,
            rule: a.rule.to_string(),
            id: self.cur_id.clone(),
        });
    }

    /// Pays `cost` from a tracked balance; `false` when it cannot.
    pub(crate) fn pay(&mut self, cost: Decimal) -> R<bool> {
        match self.balance {
            None => Ok(true),
            Some(b) if b >= cost => {
                self.balance = Some(b.sub(cost)?);
                Ok(true)
            }
            Some(_) => Ok(false),
        }
    }
}

impl Subject {
    pub(crate) fn new(
        item: Option<usize>,
        number: u32,
        state: usize,
        at: Instant,
        seq: u64,
    ) -> Subject {
        Subject {
            item,
            number,
            state,
            since: at,
            effective: at,
            expires: None,
            seq,
            quota: Decimal::ZERO,
            remaining: Decimal::ZERO,
            units: Decimal::ZERO,
            enabled_at: None,
            disabled_at: None,
            fired: Vec::new(),
            leads: Vec::new(),
        }
    }
}
