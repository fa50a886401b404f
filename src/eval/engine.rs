//! The engine: one account's events applied in time order, with every time-driven rule
//! fired at its instant before the event that follows it.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use rust_decimal::Decimal;

use super::state::*;
use super::{EvalError, Event, EventKind};
use crate::model::*;
use crate::time::Instant;

/// Decimal arithmetic that reports overflow instead of panicking, and comparisons.
///
/// Results are exactly those of `rust_decimal`'s checked operations, bit for bit (scale and
/// sign of zero included, since reports print decimals as they are): the common case of
/// operands of one scale whose result fits is done here in `i128`, everything else by
/// `rust_decimal`.
pub(crate) trait Checked: Sized {
    fn add(self, o: Self) -> Result<Self, EvalError>;
    fn sub(self, o: Self) -> Result<Self, EvalError>;
    fn mul(self, o: Self) -> Result<Self, EvalError>;
    fn div(self, o: Self) -> Result<Self, EvalError>;
    /// The order of the values (as `Ord::cmp`).
    fn order(self, o: Self) -> Ordering;
    /// The larger value, `self` when equal (as `Decimal::max`).
    fn larger(self, o: Self) -> Self;
    /// The smaller value, `self` when equal (as `Decimal::min`).
    fn smaller(self, o: Self) -> Self;
}

/// Below this, a mantissa fits a decimal's 96 bits.
const U96: u128 = 1 << 96;

/// The scale and the magnitude of the mantissa of a decimal that is not negative.
#[inline(always)]
fn unsigned(d: Decimal) -> Option<(u32, u128)> {
    if d.is_sign_negative() {
        None
    } else {
        Some((d.scale(), d.mantissa() as u128))
    }
}

/// The non-negative decimal of a magnitude below 2^96 and a scale of at most 28.
#[inline(always)]
fn from_unsigned(mag: u128, scale: u32) -> Decimal {
    Decimal::from_parts(
        mag as u32,
        (mag >> 32) as u32,
        (mag >> 64) as u32,
        false,
        scale,
    )
}

/// `a + b` or `a - b` of two non-negative decimals of one scale, when the result fits, as
/// `rust_decimal` gives it: the sum or difference of the mantissas in that scale, negative
/// only when the difference is below zero (a zero result, zero operands included, is
/// positive). `None` for everything else.
#[inline(always)]
fn same_scale_add_sub(a: Decimal, b: Decimal, subtract: bool) -> Option<Decimal> {
    let ((sa, ma), (sb, mb)) = (unsigned(a)?, unsigned(b)?);
    if sa != sb {
        return None;
    }
    if !subtract {
        let s = ma + mb;
        return (s < U96).then(|| from_unsigned(s, sa));
    }
    Some(if ma >= mb {
        from_unsigned(ma - mb, sa)
    } else {
        -from_unsigned(mb - ma, sa)
    })
}

/// `a + b` (or `a - b`) when both are non-zero, of one scale, and the result fits: then
/// `rust_decimal` gives the same mantissa, scale and sign (a zero result is positive).
fn signed_add_sub(a: Decimal, b: Decimal, subtract: bool) -> Option<Decimal> {
    let scale = a.scale();
    if scale != b.scale() || a.is_zero() || b.is_zero() {
        return None;
    }
    // Mantissas are below 2^96 in magnitude: the sum cannot overflow an i128.
    let (ma, mb) = (a.mantissa(), b.mantissa());
    let r = if subtract { ma - mb } else { ma + mb };
    let mag = r.unsigned_abs();
    if mag >= U96 {
        return None;
    }
    let d = from_unsigned(mag, scale);
    Some(if r < 0 { -d } else { d })
}

/// `a * b` of non-negative decimals when neither is zero and the exact product fits without
/// rescaling, as `rust_decimal` gives it.
#[inline(always)]
fn fast_mul(a: Decimal, b: Decimal) -> Option<Decimal> {
    let ((sa, ma), (sb, mb)) = (unsigned(a)?, unsigned(b)?);
    let scale = sa + sb;
    if scale > Decimal::MAX_SCALE || ma == 0 || mb == 0 || ma >= 1 << 64 || mb >= 1 << 64 {
        return None;
    }
    let p = ma * mb;
    (p < U96).then(|| from_unsigned(p, scale))
}

#[inline(never)]
fn other_add(a: Decimal, b: Decimal) -> Result<Decimal, EvalError> {
    match signed_add_sub(a, b, false) {
        Some(r) => Ok(r),
        None => a.checked_add(b).ok_or_else(EvalError::overflow),
    }
}

#[inline(never)]
fn other_sub(a: Decimal, b: Decimal) -> Result<Decimal, EvalError> {
    match signed_add_sub(a, b, true) {
        Some(r) => Ok(r),
        None => a.checked_sub(b).ok_or_else(EvalError::overflow),
    }
}

/// The product, when it is exact.
#[inline(never)]
fn other_mul(a: Decimal, b: Decimal) -> Result<Decimal, EvalError> {
    let r = a.checked_mul(b).ok_or_else(EvalError::overflow)?;
    // A zero product is exact whatever scale rust_decimal gives it.
    if r.scale() == a.scale() + b.scale() || a.is_zero() || b.is_zero() {
        return Ok(r);
    }
    // Digits were dropped past 28 significant digits: exact only if they were zeros.
    let (x, y) = (a.normalize(), b.normalize());
    match x.checked_mul(y) {
        Some(p) if p.scale() == x.scale() + y.scale() => Ok(r),
        _ => Err(EvalError::overflow()),
    }
}

#[inline(never)]
fn other_order(a: Decimal, b: Decimal) -> Ordering {
    // Of one scale, the mantissas order the values (a zero of either sign is 0).
    if a.scale() == b.scale() {
        a.mantissa().cmp(&b.mantissa())
    } else {
        a.cmp(&b)
    }
}

impl Checked for Decimal {
    #[inline(always)]
    fn add(self, o: Self) -> Result<Self, EvalError> {
        match same_scale_add_sub(self, o, false) {
            Some(r) => Ok(r),
            None => other_add(self, o),
        }
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Result<Self, EvalError> {
        match same_scale_add_sub(self, o, true) {
            Some(r) => Ok(r),
            None => other_sub(self, o),
        }
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Result<Self, EvalError> {
        match fast_mul(self, o) {
            Some(r) => Ok(r),
            None => other_mul(self, o),
        }
    }
    fn div(self, o: Self) -> Result<Self, EvalError> {
        self.checked_div(o).ok_or_else(EvalError::overflow)
    }
    #[inline(always)]
    fn order(self, o: Self) -> Ordering {
        match (unsigned(self), unsigned(o)) {
            (Some((sa, ma)), Some((sb, mb))) if sa == sb => ma.cmp(&mb),
            _ => other_order(self, o),
        }
    }
    #[inline(always)]
    fn larger(self, o: Self) -> Self {
        if self.order(o).is_lt() { o } else { self }
    }
    #[inline(always)]
    fn smaller(self, o: Self) -> Self {
        if self.order(o).is_gt() { o } else { self }
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
            stock: Stock::default(),
            lane: Default::default(),
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
            _ => self.apply_other(m, ev),
        };
        // What fires later is caused by time, not by this event.
        self.cur_id = None;
        r.map_err(|e| e.at_line(ev.line))
    }

    /// Carries out an event other than usage (rarer, and kept apart from the usage path).
    #[inline(never)]
    fn apply_other(&mut self, m: &Model, ev: &Event) -> R {
        match &ev.kind {
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
        }
    }

    /// The service and free tiers exist from the account's first event.
    #[cold]
    #[inline(never)]
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

    #[inline]
    pub(crate) fn lc<'m>(&self, m: &'m Model, s: usize) -> Option<&'m LifecycleM> {
        match self.subjects[s].item {
            Some(i) => m.items[i].lifecycle.map(|l| &m.lifecycles[l]),
            None => m.service.map(|l| &m.lifecycles[l]),
        }
    }

    #[inline]
    pub(crate) fn state<'m>(&self, m: &'m Model, s: usize) -> Option<&'m StateM> {
        self.lc(m, s)
            .and_then(|lc| lc.states.get(self.subjects[s].state))
    }

    pub(crate) fn state_name(&self, m: &Model, s: usize) -> String {
        self.state(m, s)
            .map(|st| st.name.clone())
            .unwrap_or_else(|| "active".into())
    }

    #[inline]
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the checked operations gave before their fast paths: the reference.
    fn reference(a: Decimal, b: Decimal, op: u8) -> Option<Decimal> {
        match op {
            0 => a.checked_add(b),
            1 => a.checked_sub(b),
            _ => other_mul(a, b).ok(),
        }
    }

    #[test]
    fn zero_times_a_fraction_is_zero_not_an_overflow() {
        let price = Decimal::new(28, 5); // 0.00028
        for (a, b) in [
            (Decimal::ZERO, price),
            (price, Decimal::ZERO),
            (Decimal::new(0, 3), price),
        ] {
            let r = a.mul(b).expect("a zero product is exact");
            assert!(r.is_zero(), "{a} * {b} = {r}");
        }
    }

    fn bits(r: &Result<Decimal, EvalError>) -> Option<[u8; 16]> {
        r.as_ref().ok().map(|d| d.serialize())
    }

    /// Mantissas of every size, with extra weight at the edges of 32, 64 and 96 bits.
    fn mantissa() -> impl Strategy<Value = u128> {
        prop_oneof![
            Just(0u128),
            0u128..1_000,
            0u128..(1 << 32),
            ((1u128 << 32) - 5)..((1 << 32) + 5),
            0u128..(1 << 64),
            ((1u128 << 64) - 5)..((1 << 64) + 5),
            0u128..(1 << 96),
            ((1u128 << 96) - 1_000)..(1 << 96),
            ((1u128 << 95) - 5)..((1 << 95) + 5),
        ]
    }

    fn decimal() -> impl Strategy<Value = Decimal> {
        (mantissa(), any::<bool>(), 0u32..=28, any::<bool>()).prop_map(
            |(m, neg, scale, raw_neg_zero)| {
                let d =
                    Decimal::from_parts(m as u32, (m >> 32) as u32, (m >> 64) as u32, neg, scale);
                // A negative zero can arise from subtraction; include it.
                if m == 0 && raw_neg_zero { -d } else { d }
            },
        )
    }

    /// Pairs often of one scale, as in evaluation, where the fast paths apply.
    fn pair() -> impl Strategy<Value = (Decimal, Decimal)> {
        prop_oneof![
            (decimal(), decimal()),
            (decimal(), decimal()).prop_map(|(a, mut b)| {
                b.rescale(a.scale());
                (a, b)
            }),
            (decimal(), decimal()).prop_map(|(a, mut b)| {
                b.rescale(a.scale());
                b.set_sign_negative(a.is_sign_positive());
                (a, b)
            }),
            (decimal()).prop_map(|a| (a, a)),
            (decimal()).prop_map(|a| (a, -a)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn fast_paths_agree_with_rust_decimal((a, b) in pair()) {
            prop_assert_eq!(bits(&Checked::add(a, b)), reference(a, b, 0).map(|d| d.serialize()));
            prop_assert_eq!(bits(&Checked::sub(a, b)), reference(a, b, 1).map(|d| d.serialize()));
            prop_assert_eq!(bits(&Checked::mul(a, b)), reference(a, b, 2).map(|d| d.serialize()));
            prop_assert_eq!(a.order(b), a.cmp(&b));
            prop_assert_eq!(a.larger(b).serialize(), a.max(b).serialize());
            prop_assert_eq!(a.smaller(b).serialize(), a.min(b).serialize());
        }
    }

    #[test]
    fn edges() {
        let big = Decimal::MAX;
        let one = Decimal::ONE;
        assert!(Checked::add(big, one).is_err());
        assert!(Checked::sub(-big, one).is_err());
        assert!(Checked::mul(big, Decimal::TWO).is_err());
        // Zeros keep `rust_decimal`'s scale and sign rules.
        let z = Decimal::new(0, 3);
        for (a, b) in [
            (z, one),
            (one, z),
            (z, z),
            (-one, one),
            (one, one),
            (-Decimal::ZERO, z),
        ] {
            assert_eq!(
                bits(&Checked::add(a, b)),
                reference(a, b, 0).map(|d| d.serialize())
            );
            assert_eq!(
                bits(&Checked::sub(a, b)),
                reference(a, b, 1).map(|d| d.serialize())
            );
            assert_eq!(
                bits(&Checked::mul(a, b)),
                reference(a, b, 2).map(|d| d.serialize())
            );
        }
    }
}
