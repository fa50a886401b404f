//! Compiling a parsed rule file into a [`Model`]: names resolved, durations and tiers exact.
//!
//! The checker reports problems with care; this pass only refuses what it cannot evaluate,
//! so a file that passes `check` always compiles.

use std::collections::HashMap;
use std::sync::Arc;

use rust_decimal::Decimal;

use super::*;
use crate::ast::{self, DeclKind, Span};
use crate::diag::{Diag, line_col};
use crate::time::{Cadence, Dur, Zone};

/// Compiles the (single) product of `file`; `name` is the rule file's path for `FILE:LINE`.
pub fn compile(file: &ast::RuleFile, text: &str, name: &str) -> Result<Model, Vec<Diag>> {
    let Some(p) = file.products.first() else {
        return Err(vec![
            Diag::error("tariff::check::no_product", "the file declares no product")
                .help("start with `product ID \"name\" { ... }`"),
        ]);
    };
    let mut c = Compiler {
        text,
        name,
        errors: Vec::new(),
        m: empty(p, name),
    };
    c.run(p);
    let m = &mut c.m;
    m.has_package_alerts = m.alerts.iter().any(|a| {
        matches!(
            a.watch,
            Some(WatchM::Remaining {
                per_package: true,
                ..
            })
        )
    });
    m.has_total_watches = m.triggers.iter().any(|t| {
        t.watches.iter().any(|w| {
            matches!(
                w,
                WatchM::Remaining {
                    per_package: false,
                    ..
                }
            )
        })
    });
    m.index();
    if c.errors.is_empty() {
        Ok(c.m)
    } else {
        Err(c.errors)
    }
}

fn empty(p: &ast::Product, name: &str) -> Model {
    Model {
        product: p.id.node.clone(),
        file: name.to_string(),
        currency: String::new(),
        header: Arc::from(format!("{name}:1")),
        zone: Zone::Fixed(chrono::FixedOffset::east_opt(0).expect("zero offset")),
        meters: Vec::new(),
        items: Vec::new(),
        prices: Vec::new(),
        draws: Vec::new(),
        limits: Vec::new(),
        params: Vec::new(),
        usage_cycle: None,
        lifecycles: Vec::new(),
        service: None,
        triggers: Vec::new(),
        alerts: Vec::new(),
        examples: Vec::new(),
        has_package_alerts: false,
        has_total_watches: false,
        plans: Vec::new(),
        meter_ix: HashMap::new(),
        item_ix: HashMap::new(),
        param_ix: HashMap::new(),
    }
}

struct Compiler<'a> {
    text: &'a str,
    name: &'a str,
    errors: Vec<Diag>,
    m: Model,
}

impl Compiler<'_> {
    fn rule(&self, span: Span) -> RuleRef {
        let (line, _) = line_col(self.text, span.start);
        Arc::from(format!("{}:{line}", self.name))
    }

    fn err(&mut self, span: Span, msg: impl Into<String>, help: &str) {
        self.errors.push(
            Diag::error("tariff::check::unresolved", msg)
                .label(span, "here")
                .help(help),
        );
    }

    fn run(&mut self, p: &ast::Product) {
        self.m.header = self.rule(p.span);
        // Pass 1: names that others refer to.
        let mut lc_ix: HashMap<String, LcId> = HashMap::new();
        for d in &p.decls {
            match &d.kind {
                DeclKind::Currency(c) => self.m.currency = c.node.clone(),
                DeclKind::Timezone(tz) => match &tz.node {
                    ast::TzSpec::Offset(secs) => match chrono::FixedOffset::east_opt(*secs) {
                        Some(o) => self.m.zone = Zone::Fixed(o),
                        None => self.err(tz.span, "time zone offset out of range", "use an offset within ±14:00"),
                    },
                    ast::TzSpec::Named(n) if n == "UTC" => {}
                    ast::TzSpec::Named(n) => match n.parse::<chrono_tz::Tz>() {
                        Ok(z) => self.m.zone = Zone::Named(z),
                        Err(_) => self.err(tz.span, format!("unknown time zone `{n}`"), "use an IANA name such as `Asia/Shanghai` or an offset such as `+08:00`"),
                    },
                },
                DeclKind::Meter(me) => {
                    if me.dims.len() > crate::eval::MAX_DIMS || me.dims.iter().any(|(_, v)| v.len() > 64) {
                        self.err(me.name.span, format!("meter `{}` has too many dimensions or values", me.name.node), "a meter has at most 8 dimensions of at most 64 values each");
                    }
                    self.m.meter_ix.insert(me.name.node.clone(), self.m.meters.len());
                    self.m.meters.push(MeterM {
                        name: me.name.node.clone(),
                        dims: me.dims.iter().map(|(d, v)| (d.node.clone(), v.iter().map(|x| x.node.clone()).collect())).collect(),
                        distinct: me.distinct,
                        fractional: me.fractional,
                    });
                }
                DeclKind::Lifecycle(lc) => {
                    lc_ix.insert(lc.name.node.clone(), self.m.lifecycles.len());
                    let rule = self.rule(d.span);
                    self.m.lifecycles.push(LifecycleM {
                        rule,
                        name: lc.name.node.clone(),
                        states: lc
                            .states
                            .iter()
                            .map(|s| {
                                let has = |a| s.attrs.iter().any(|x| x.node == a);
                                StateM {
                                    name: s.name.node.clone(),
                                    usable: has(ast::StateAttr::Usable),
                                    refuses: has(ast::StateAttr::RefusesUsage),
                                    drops: has(ast::StateAttr::DropsQuota),
                                    resets: has(ast::StateAttr::ResetsCount),
                                    billed: has(ast::StateAttr::Billed),
                                }
                            })
                            .collect(),
                        transitions: Vec::new(),
                    });
                }
                _ => {}
            }
            let item_name = match &d.kind {
                DeclKind::FreeTier(x) => Some(&x.name),
                DeclKind::Package(x) => Some(&x.name),
                DeclKind::Edition(x) => Some(&x.name),
                DeclKind::Pack(x) => Some(&x.name),
                DeclKind::Resource(x) => Some(&x.name),
                _ => None,
            };
            if let Some(n) = item_name {
                // Placeholder; filled in pass 2 (items may refer to each other). A second
                // item of the same name keeps the first index (the checker reports it).
                let next = self.m.item_ix.len();
                self.m.item_ix.entry(n.node.clone()).or_insert(next);
            }
        }
        self.m.service = lc_ix.get("service").copied();
        if self.m.currency.is_empty() {
            self.errors.push(
                Diag::error(
                    "tariff::check::missing_currency",
                    "the product declares no currency",
                )
                .label(p.id.span, "this product")
                .help("add `currency USD` (or the product's currency)"),
            );
        }
        // Params before anything that reads them.
        for d in &p.decls {
            if let DeclKind::Param(pa) = &d.kind {
                let (ty, default) = self.param(pa);
                self.m
                    .param_ix
                    .insert(pa.name.node.clone(), self.m.params.len());
                self.m.params.push(ParamM {
                    name: pa.name.node.clone(),
                    ty,
                    default,
                });
            }
        }
        // Pass 2: items in declaration order (indices match pass 1).
        let mut items: Vec<Option<Item>> = (0..self.m.item_ix.len()).map(|_| None).collect();
        let mut dup = false;
        let lc_of = |this: &mut Self, r: &Option<ast::Ident>| -> Option<LcId> {
            let r = r.as_ref()?;
            let found = lc_ix.get(&r.node).copied();
            if found.is_none() {
                this.err(
                    r.span,
                    format!("unknown lifecycle `{}`", r.node),
                    "declare it with `lifecycle NAME { ... }`",
                );
            }
            found
        };
        for d in &p.decls {
            let rule = self.rule(d.span);
            let item = match &d.kind {
                DeclKind::FreeTier(f) => {
                    let meter = self.unit_meter(&f.quota.unit);
                    Item {
                        name: f.name.node.clone(),
                        kind: ItemKind::FreeTier,
                        meter,
                        quota: f.quota.value.node,
                        sel: self.sel_for(meter, f.selector.as_ref()),
                        lifecycle: lc_of(self, &f.lifecycle),
                        rule,
                    }
                }
                DeclKind::Package(pk) => {
                    let meter = self.unit_meter(&pk.quota.unit);
                    let valid = pk.valid.as_ref().and_then(|v| self.dur(v));
                    Item {
                        name: pk.name.node.clone(),
                        kind: ItemKind::Package {
                            price: pk.price.amount.node,
                            valid,
                            refuse_past_quota: pk
                                .past_quota
                                .as_ref()
                                .is_some_and(|x| x.node == ast::PastQuota::Refuse),
                        },
                        meter,
                        quota: pk.quota.value.node,
                        sel: self.sel_for(meter, pk.selector.as_ref()),
                        lifecycle: lc_of(self, &pk.lifecycle),
                        rule,
                    }
                }
                DeclKind::Edition(e) => {
                    let term = match (&e.period, &e.valid) {
                        (_, Some(v)) => self.dur(v),
                        (Some(p), None) => self.dur(p),
                        _ => None,
                    };
                    let cap = e.cap.as_ref().and_then(|c| {
                        let meter = self.unit_meter(&c.base.unit)?;
                        let per = c
                            .per_pack
                            .as_ref()
                            .and_then(|(q, pk)| Some((q.value.node, self.item_ref(pk)?)));
                        Some((meter, c.base.value.node, per))
                    });
                    let replaces = e.replaces.as_ref().and_then(|r| self.item_ref(r));
                    Item {
                        name: e.name.node.clone(),
                        kind: ItemKind::Edition {
                            fee: e.fee.amount.node,
                            term,
                            cap,
                            replaces,
                        },
                        meter: cap.map(|c| c.0),
                        quota: Decimal::ZERO,
                        sel: Sel::default(),
                        lifecycle: lc_of(self, &e.lifecycle),
                        rule,
                    }
                }
                DeclKind::Pack(pk) => {
                    let meter = self.unit_meter(&pk.size.unit);
                    let tiers = pk.tiers.as_ref().map(|t| self.tiers(t));
                    let needs = pk.needs.as_ref().and_then(|(it, st)| {
                        let item = self.item_ref(it)?;
                        Some((item, self.state_of_item(p, item, st, &lc_ix)?))
                    });
                    Item {
                        name: pk.name.node.clone(),
                        kind: ItemKind::Pack {
                            size: pk.size.value.node,
                            needs,
                            minimum: pk
                                .minimum
                                .as_ref()
                                .map(|q| q.value.node)
                                .unwrap_or(Decimal::ONE),
                            tiers,
                        },
                        meter,
                        quota: pk.size.value.node,
                        sel: Sel::default(),
                        lifecycle: lc_of(self, &pk.lifecycle),
                        rule,
                    }
                }
                DeclKind::Resource(r) => {
                    let cadence = r
                        .billed
                        .as_ref()
                        .map(|s| cadence(&s.node))
                        .unwrap_or(Cadence::Monthly(1, 0));
                    Item {
                        name: r.name.node.clone(),
                        kind: ItemKind::Resource {
                            fee: r.fee.amount.node,
                            prorated: r.prorated,
                            cadence,
                            rounding: r.rounding.as_ref().map(rounding),
                        },
                        meter: None,
                        quota: Decimal::ZERO,
                        sel: Sel::default(),
                        lifecycle: lc_of(self, &r.lifecycle),
                        rule,
                    }
                }
                _ => continue,
            };
            match self
                .m
                .item_ix
                .get(&item.name)
                .and_then(|&ix| items.get_mut(ix))
            {
                Some(slot @ None) => *slot = Some(item),
                _ => dup = true,
            }
        }
        self.m.items = items.into_iter().flatten().collect();
        if dup || self.m.items.len() != self.m.item_ix.len() {
            self.errors.push(
                Diag::error("tariff::check::duplicate_name", "two items share a name")
                    .label(p.id.span, "in this product")
                    .help("give every item its own name"),
            );
            return;
        }
        // Pass 3: the rest.
        for d in &p.decls {
            let rule = self.rule(d.span);
            match &d.kind {
                DeclKind::Price(pr) => self.price(pr, rule),
                DeclKind::Draw(dr) => {
                    let Some(meter) = self.meter_ref(&dr.meter) else {
                        continue;
                    };
                    let sel = self.sel_for(Some(meter), dr.selector.as_ref());
                    let sources = dr
                        .sources
                        .iter()
                        .filter_map(|s| match s {
                            ast::DrawSource::Packages(_) => Some(SourceM::Packages),
                            ast::DrawSource::Payg(_) => Some(SourceM::Payg),
                            ast::DrawSource::Named(n) => self.item_ref(n).map(SourceM::Item),
                        })
                        .collect();
                    self.m.draws.push(DrawM {
                        meter,
                        sel,
                        sources,
                        rule,
                    });
                }
                DeclKind::Limit(l) => {
                    let on = match &l.target {
                        ast::LimitTarget::Usage(m, s) => {
                            let Some(meter) = self.meter_ref(m) else {
                                continue;
                            };
                            LimitOn::Usage(meter, self.sel_for(Some(meter), s.as_ref()))
                        }
                        ast::LimitTarget::Enable(r) => {
                            let Some(it) = self.item_ref(r) else { continue };
                            LimitOn::Enable(it)
                        }
                    };
                    let Some(amount) = self.amount(&l.amount) else {
                        continue;
                    };
                    let partial = l
                        .partial
                        .as_ref()
                        .map(|p| p.node)
                        .unwrap_or(matches!(on, LimitOn::Usage(..)));
                    self.m.limits.push(LimitM {
                        on,
                        amount,
                        per: l.per.node,
                        partial,
                        rule,
                    });
                }
                DeclKind::Bill(b) => {
                    self.m.usage_cycle = Some(CycleM {
                        name: b.name.node.clone(),
                        cadence: cadence(&b.schedule.node),
                        rounding: b.rounding.as_ref().map(rounding),
                        rule,
                    });
                }
                DeclKind::Lifecycle(lc) => self.transitions(lc, &lc_ix, rule),
                DeclKind::Alert(a) => {
                    let watch = match &a.on {
                        ast::AlertOn::Watch(w) => self.watch(w),
                        ast::AlertOn::Fails(_) => None,
                    };
                    self.m.alerts.push(AlertM {
                        name: a.name.node.clone(),
                        watch,
                        rule,
                    });
                }
                DeclKind::Example(e) => self.m.examples.push((e.clone(), rule)),
                _ => {}
            }
        }
        // Triggers last: they name alerts.
        for d in &p.decls {
            if let DeclKind::Trigger(t) = &d.kind {
                let rule = self.rule(d.span);
                let watches = t.watches.iter().filter_map(|w| self.watch(w)).collect();
                let condition = t.condition.as_ref().and_then(|c| self.param_ref(c));
                let purchase = match self.m.item_ix.get(&t.purchase.node) {
                    Some(&i) => Ok(i),
                    None => match self.param_ref(&t.purchase) {
                        Some(p) => Err(p),
                        None => continue,
                    },
                };
                let else_alert = t.else_alert.as_ref().and_then(|a| {
                    let f = self.m.alerts.iter().position(|x| x.name == a.node);
                    if f.is_none() {
                        self.err(
                            a.span,
                            format!("unknown alert `{}`", a.node),
                            "declare it with `alert NAME: when TRIGGER fails`",
                        );
                    }
                    f
                });
                self.m.triggers.push(TriggerM {
                    name: t.name.node.clone(),
                    watches,
                    condition,
                    purchase,
                    else_alert,
                    rule,
                });
            }
        }
    }

    fn param(&mut self, pa: &ast::Param) -> (PType, PVal) {
        if let Some(v) = &pa.default {
            return match &v.node {
                ast::Value::Switch(b) => (PType::Switch, PVal::Switch(*b)),
                ast::Value::Percent(x) => (PType::Percent, PVal::Num(*x)),
                ast::Value::Quantity(q) => (PType::Num, PVal::Num(q.value.node)),
                ast::Value::Money(m) => (PType::Num, PVal::Num(m.amount.node)),
                ast::Value::Number(n) => (PType::Num, PVal::Num(*n)),
                ast::Value::None => (PType::Num, PVal::Unset),
                // Items are resolved after pass 1; names are looked up at use.
                ast::Value::Name(n) => match self.m.item_ix.get(n) {
                    Some(&i) => (PType::Item, PVal::Item(i)),
                    None => {
                        self.err(
                            v.span,
                            format!("unknown item `{n}`"),
                            "a parameter's default names a declared item",
                        );
                        (PType::Item, PVal::Unset)
                    }
                },
            };
        }
        let ty = match pa.ty.as_ref().map(|t| &t.node) {
            Some(ast::ParamType::Switch) => PType::Switch,
            Some(ast::ParamType::Item) => PType::Item,
            Some(ast::ParamType::Percent) => PType::Percent,
            _ => PType::Num,
        };
        (ty, PVal::Unset)
    }

    fn dur(&mut self, d: &ast::Duration) -> Option<Dur> {
        let n = d.count.node;
        if n.fract() != Decimal::ZERO || n <= Decimal::ZERO || n > Decimal::from(120_000) {
            self.err(
                d.span,
                "a duration must be a positive whole number of units, at most 10,000 years",
                "write e.g. `6 months`",
            );
            return None;
        }
        let n = i64::try_from(n).ok()?;
        Dur::new(n, d.unit)
    }

    fn unit_meter(&mut self, unit: &ast::Ident) -> Option<MeterId> {
        let u = unit.node.as_str();
        let found = self
            .m
            .meter_ix
            .get(u)
            .or_else(|| u.strip_suffix('s').and_then(|s| self.m.meter_ix.get(s)))
            .copied();
        if found.is_none() {
            self.err(
                unit.span,
                format!("unknown unit `{u}`"),
                "quantities are counted in a declared meter",
            );
        }
        found
    }

    fn meter_ref(&mut self, m: &ast::Ident) -> Option<MeterId> {
        let f = self.m.meter_ix.get(&m.node).copied();
        if f.is_none() {
            self.err(
                m.span,
                format!("unknown meter `{}`", m.node),
                "declare it with `meter NAME`",
            );
        }
        f
    }

    fn item_ref(&mut self, i: &ast::Ident) -> Option<ItemId> {
        let f = self.m.item_ix.get(&i.node).copied();
        if f.is_none() {
            self.err(
                i.span,
                format!("unknown item `{}`", i.node),
                "declare it as a package, edition, pack, free tier or resource",
            );
        }
        f
    }

    fn param_ref(&mut self, p: &ast::Ident) -> Option<ParamId> {
        let f = self.m.param_ix.get(&p.node).copied();
        if f.is_none() {
            self.err(
                p.span,
                format!("unknown parameter `{}`", p.node),
                "declare it with `param NAME = VALUE`",
            );
        }
        f
    }

    fn state_of_item(
        &mut self,
        p: &ast::Product,
        item: ItemId,
        st: &ast::Ident,
        lc_ix: &HashMap<String, LcId>,
    ) -> Option<StateId> {
        // Items are not compiled yet: find the item's lifecycle by its declaration.
        let item_name = self
            .m
            .item_ix
            .iter()
            .find(|(_, v)| **v == item)
            .map(|(k, _)| k.clone())?;
        let lc_name = p.decls.iter().find_map(|d| match &d.kind {
            DeclKind::Edition(e) if e.name.node == item_name => {
                e.lifecycle.as_ref().map(|l| l.node.clone())
            }
            DeclKind::Package(e) if e.name.node == item_name => {
                e.lifecycle.as_ref().map(|l| l.node.clone())
            }
            DeclKind::Pack(e) if e.name.node == item_name => {
                e.lifecycle.as_ref().map(|l| l.node.clone())
            }
            DeclKind::FreeTier(e) if e.name.node == item_name => {
                e.lifecycle.as_ref().map(|l| l.node.clone())
            }
            DeclKind::Resource(e) if e.name.node == item_name => {
                e.lifecycle.as_ref().map(|l| l.node.clone())
            }
            _ => None,
        })?;
        let lc = *lc_ix.get(&lc_name)?;
        let f = self.m.lifecycles[lc]
            .states
            .iter()
            .position(|s| s.name == st.node);
        if f.is_none() {
            self.err(
                st.span,
                format!("unknown state `{}`", st.node),
                "name a state of the item's lifecycle",
            );
        }
        f
    }

    /// A selector over the dims of `meter` (or, without one, of the first meter that has them all).
    fn sel_for(&mut self, meter: Option<MeterId>, s: Option<&ast::Selector>) -> Sel {
        let Some(s) = s else { return Sel::default() };
        let meter = meter.or_else(|| {
            self.m.meters.iter().position(|m| {
                s.tests
                    .iter()
                    .all(|t| m.dims.iter().any(|(d, _)| *d == t.dim.node))
            })
        });
        let Some(meter) = meter else {
            self.err(
                s.span,
                "no meter has these dimensions",
                "test dimensions that a meter declares",
            );
            return Sel::default();
        };
        let mut sel = Sel::default();
        for t in &s.tests {
            let dims = &self.m.meters[meter].dims;
            let Some(d) = dims.iter().position(|(n, _)| *n == t.dim.node) else {
                let msg = format!(
                    "meter `{}` has no dimension `{}`",
                    self.m.meters[meter].name, t.dim.node
                );
                self.err(
                    t.dim.span,
                    msg,
                    "declare it with `dim NAME (values)` on the meter",
                );
                continue;
            };
            let mut bits = 0u64;
            for v in &t.values {
                match self.m.meters[meter].dims[d]
                    .1
                    .iter()
                    .position(|x| *x == v.node)
                {
                    Some(i) if i < 64 => bits |= 1 << i,
                    _ => self.err(
                        v.span,
                        format!("`{}` is not a value of dimension `{}`", v.node, t.dim.node),
                        "use a value the meter declares",
                    ),
                }
            }
            sel.tests.push((d, bits));
        }
        sel
    }

    fn tiers(&mut self, t: &ast::TierTable) -> Tiers {
        let tiers = t
            .tiers
            .iter()
            .map(|tier| {
                let upper = match &tier.range {
                    ast::TierRange::First(q)
                    | ast::TierRange::UpTo(q)
                    | ast::TierRange::Between(_, q) => Some(q.value.node),
                    ast::TierRange::Above(_) | ast::TierRange::OrMore(_) => None,
                };
                let (unit, mut flat) = match &tier.price {
                    ast::TierPrice::Free(_) => (Decimal::ZERO, Decimal::ZERO),
                    ast::TierPrice::PerUnit(m, _) => (m.amount.node, Decimal::ZERO),
                    ast::TierPrice::Flat(m) => (Decimal::ZERO, m.amount.node),
                };
                if let Some(f) = &tier.flat {
                    flat = flat.checked_add(f.amount.node).unwrap_or(flat);
                }
                (upper, unit, flat)
            })
            .collect();
        Tiers {
            mode: t.mode.node,
            tiers,
        }
    }

    fn price(&mut self, pr: &ast::Price, rule: RuleRef) {
        let (meter_id, sel, shape) = match &pr.body {
            ast::PriceBody::Unit {
                price,
                meter,
                selector,
            } => {
                let Some(m) = self.unit_meter(meter) else {
                    return;
                };
                (
                    m,
                    self.sel_for(Some(m), selector.as_ref()),
                    PriceShape::Unit(price.amount.node),
                )
            }
            ast::PriceBody::Block {
                price,
                block,
                selector,
            } => {
                let Some(m) = self.unit_meter(&block.unit) else {
                    return;
                };
                (
                    m,
                    self.sel_for(Some(m), selector.as_ref()),
                    PriceShape::Block(price.amount.node, block.value.node),
                )
            }
            ast::PriceBody::Percent {
                percent,
                meter,
                selector,
                fixed,
            } => {
                let Some(m) = self.meter_ref(meter) else {
                    return;
                };
                let fixed = fixed.as_ref().map(|f| f.amount.node).unwrap_or_default();
                (
                    m,
                    self.sel_for(Some(m), selector.as_ref()),
                    PriceShape::Percent(percent.node, fixed),
                )
            }
            ast::PriceBody::Tiered {
                meter,
                selector,
                basis,
                table,
            } => {
                let Some(m) = self.meter_ref(meter) else {
                    return;
                };
                let sel = self.sel_for(Some(m), selector.as_ref());
                let basis = match basis {
                    ast::Basis::Volume {
                        period,
                        meter,
                        selector,
                        ..
                    } => {
                        let Some(bm) = self.meter_ref(meter) else {
                            return;
                        };
                        BasisM::Volume {
                            period: *period,
                            meter: bm,
                            sel: self.sel_for(Some(bm), selector.as_ref()),
                        }
                    }
                    ast::Basis::Event(_) => BasisM::Event,
                };
                (m, sel, PriceShape::Tiered(basis, self.tiers(table)))
            }
        };
        let mut min_event = None;
        let mut max_event = None;
        for b in &pr.bounds {
            if b.per.is_some() {
                self.err(
                    b.span,
                    "a minimum or maximum per period is not supported yet",
                    "bound the charge per event (`min 1 USD`)",
                );
            } else if b.is_min {
                min_event = Some(b.amount.amount.node);
            } else {
                max_event = Some(b.amount.amount.node);
            }
        }
        self.m.prices.push(PriceM {
            name: pr.name.node.clone(),
            meter: meter_id,
            sel,
            shape,
            min_event,
            max_event,
            rule,
        });
    }

    fn amount(&mut self, a: &ast::Amount) -> Option<Val> {
        match a {
            ast::Amount::Quantity(q) => Some(Val::Lit(q.value.node)),
            ast::Amount::Number(n) => Some(Val::Lit(n.node)),
            ast::Amount::Param(p) => self.param_ref(p).map(Val::Param),
        }
    }

    fn threshold(&mut self, t: &ast::Threshold) -> Option<ThresholdM> {
        match t {
            ast::Threshold::Percent(p) => Some(ThresholdM::Percent(p.node)),
            ast::Threshold::Quantity(q) => Some(ThresholdM::Abs(q.value.node)),
            ast::Threshold::Param(p) => self.param_ref(p).map(ThresholdM::Param),
        }
    }

    fn watch(&mut self, w: &ast::Watch) -> Option<WatchM> {
        Some(match w {
            ast::Watch::RemainingFalls {
                selector,
                threshold,
                each,
                of_quota,
                ..
            } => {
                let sel = self.sel_for(None, selector.as_ref());
                let per_package = *each || *of_quota || is_relative(threshold);
                WatchM::Remaining {
                    sel,
                    threshold: self.threshold(threshold)?,
                    per_package,
                }
            }
            ast::Watch::BeforeExpiry { lead, selector, .. } => WatchM::BeforeExpiry {
                lead: self.dur(lead)?,
                sel: self.sel_for(None, selector.as_ref()),
            },
            ast::Watch::CountReaches {
                meter, threshold, ..
            } => WatchM::CountReaches {
                meter: self.meter_ref(meter)?,
                threshold: self.threshold(threshold)?,
            },
        })
    }

    fn transitions(&mut self, lc: &ast::Lifecycle, lc_ix: &HashMap<String, LcId>, _rule: RuleRef) {
        let Some(&id) = lc_ix.get(&lc.name.node) else {
            return;
        };
        let mut out = Vec::new();
        for t in &lc.transitions {
            let rule = self.rule(t.span);
            let states = &self.m.lifecycles[id].states;
            let find = |n: &ast::Ident| states.iter().position(|s| s.name == n.node);
            let from: Vec<StateId> = t.from.iter().filter_map(find).collect();
            let to = find(&t.to);
            if from.len() != t.from.len() || to.is_none() {
                self.err(
                    t.span,
                    format!(
                        "transition between undeclared states in lifecycle `{}`",
                        lc.name.node
                    ),
                    "declare every state with `state NAME`",
                );
                continue;
            }
            let on = match &t.on.node {
                ast::On::AtExpiry => OnM::AtExpiry,
                ast::On::AtOnce => OnM::AtOnce,
                ast::On::After(d) => match self.dur(d) {
                    Some(d) => OnM::After(d),
                    None => continue,
                },
                ast::On::Renew => OnM::Renew,
                ast::On::Purchase => OnM::Purchase,
                ast::On::Replaced => OnM::Replaced,
                ast::On::Enable => OnM::Enable,
                ast::On::Disable => OnM::Disable,
                ast::On::Empty => OnM::Empty,
                ast::On::Refilled => OnM::Refilled,
                ast::On::UnpaidBill => OnM::Unpaid,
                ast::On::BillsSettled => OnM::Settled,
                ast::On::Enters(i, s) => match self.item_ref(i) {
                    Some(it) => OnM::Enters(it, s.node.clone()),
                    None => continue,
                },
            };
            let from_renewal = t.from_renewal.as_ref().is_some_and(|f| f.node);
            out.push(TransM {
                from,
                to: to.unwrap_or(0),
                on,
                from_renewal,
                rule,
            });
        }
        self.m.lifecycles[id].transitions = out;
    }
}

fn is_relative(t: &ast::Threshold) -> bool {
    matches!(t, ast::Threshold::Percent(_))
}

fn cadence(s: &ast::Schedule) -> Cadence {
    match s {
        ast::Schedule::Hourly => Cadence::Hourly,
        ast::Schedule::Daily(at) => Cadence::Daily(*at),
        ast::Schedule::Monthly(d, at) => Cadence::Monthly(*d, *at),
    }
}

fn rounding(r: &ast::Rounding) -> RoundingM {
    // The step is a power of ten (0.01): its scale is the number of places.
    RoundingM {
        dp: r.step.node.normalize().scale(),
        mode: r.mode,
        per_bill: r.per_bill,
    }
}
