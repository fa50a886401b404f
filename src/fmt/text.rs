//! Canonical text of literals and inline phrases (numbers, money, selectors, watches).

use rust_decimal::Decimal;

use crate::ast::*;

/// A number as the decimal holds it, integer digits grouped by three from 1_000 up.
pub(super) fn number(d: &Decimal) -> String {
    let s = d.to_string();
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s.as_str(), None),
    };
    let mut out = String::new();
    if int.len() >= 4 {
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                out.push('_');
            }
            out.push(c);
        }
    } else {
        out.push_str(int);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// A quoted string, re-escaped.
pub(super) fn string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

pub(super) fn quantity(q: &Quantity) -> String {
    format!("{} {}", number(&q.value.node), q.unit.node)
}

pub(super) fn money(m: &Money) -> String {
    format!("{} {}", number(&m.amount.node), m.currency.node)
}

pub(super) fn percent(d: &Decimal) -> String {
    format!("{}%", number(d))
}

/// `6 months`, `1 day`.
pub(super) fn duration(d: &Duration) -> String {
    let plural = if d.count.node == Decimal::ONE {
        ""
    } else {
        "s"
    };
    format!("{} {}{plural}", number(&d.count.node), d.unit.name())
}

/// The period after `per`: `month`, or `3 months`.
pub(super) fn period(d: &Duration) -> String {
    if d.count.node == Decimal::ONE {
        d.unit.name().to_string()
    } else {
        duration(d)
    }
}

/// ` where a = b and c in (d, e)`, with its leading space, or nothing.
pub(super) fn selector(s: &Option<Selector>) -> String {
    let Some(s) = s else { return String::new() };
    let tests: Vec<String> = s
        .tests
        .iter()
        .map(|t| {
            if t.is_list {
                format!("{} in ({})", t.dim.node, idents(&t.values))
            } else {
                let v = t
                    .values
                    .iter()
                    .map(|v| v.node.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("{} = {v}", t.dim.node)
            }
        })
        .collect();
    format!(" where {}", tests.join(" and "))
}

pub(super) fn idents(ids: &[Ident]) -> String {
    ids.iter()
        .map(|i| i.node.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A time of day from seconds after midnight; out-of-range times keep two-digit fields.
pub(super) fn clock(secs: u32) -> String {
    let h = (secs / 3600).min(99);
    let rest = secs - h * 3600;
    let m = (rest / 60).min(99);
    let s = rest - m * 60;
    if s == 0 {
        format!("{h:02}:{m:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

pub(super) fn schedule(s: &Schedule) -> String {
    match s {
        Schedule::Hourly => "hourly".into(),
        Schedule::Daily(t) => format!("daily at {}", clock(*t)),
        Schedule::Monthly(day, t) => format!(
            "monthly on day {} at {}",
            number(&Decimal::from(*day)),
            clock(*t)
        ),
    }
}

pub(super) fn rounding(r: &Rounding) -> String {
    let mode = match r.mode {
        RoundMode::HalfUp => "half up",
        RoundMode::HalfEven => "half even",
        RoundMode::HalfDown => "half down",
        RoundMode::Up => "up",
        RoundMode::Down => "down",
    };
    let per = if r.per_bill { "bill" } else { "line" };
    format!("round to {} {mode} per {per}", number(&r.step.node))
}

pub(super) fn timezone(tz: &TzSpec) -> String {
    match tz {
        TzSpec::Offset(secs) => {
            let sign = if *secs < 0 { '-' } else { '+' };
            let a = secs.unsigned_abs();
            format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
        }
        TzSpec::Named(n) if n == "UTC" => "UTC".into(),
        TzSpec::Named(n) => string(n),
    }
}

pub(super) fn value(v: &Value) -> String {
    match v {
        Value::Switch(true) => "on".into(),
        Value::Switch(false) => "off".into(),
        Value::None => "none".into(),
        Value::Percent(p) => percent(p),
        Value::Quantity(q) => quantity(q),
        Value::Money(m) => money(m),
        Value::Number(n) => number(n),
        Value::Name(n) => n.clone(),
    }
}

pub(super) fn threshold(t: &Threshold) -> String {
    match t {
        Threshold::Percent(p) => percent(&p.node),
        Threshold::Quantity(q) => quantity(q),
        Threshold::Param(p) => p.node.clone(),
    }
}

pub(super) fn watch(w: &Watch) -> String {
    match w {
        // Every field named, so that a new one cannot be left out silently.
        Watch::RemainingFalls {
            selector: sel,
            threshold: t,
            each,
            of_quota,
            span: _,
        } => {
            let of = if *of_quota { " of quota" } else { "" };
            let whose = if *each { "each package" } else { "packages" };
            format!(
                "remaining of {whose}{} falls to {}{of}",
                selector(sel),
                threshold(t)
            )
        }
        Watch::BeforeExpiry {
            lead,
            selector: sel,
            ..
        } => {
            format!(
                "{} before expiry of packages{}",
                duration(lead),
                selector(sel)
            )
        }
        Watch::CountReaches {
            meter,
            threshold: t,
            ..
        } => {
            format!("count of {} reaches {} of cap", meter.node, threshold(t))
        }
    }
}

pub(super) fn tier_range(r: &TierRange) -> String {
    match r {
        TierRange::First(q) => format!("first {}", quantity(q)),
        TierRange::UpTo(q) => format!("up to {}", quantity(q)),
        TierRange::Between(a, q) => format!("{} to {}", number(&a.node), quantity(q)),
        TierRange::Above(q) => format!("above {}", quantity(q)),
        TierRange::OrMore(q) => format!("{} or more", quantity(q)),
    }
}

pub(super) fn tier(t: &Tier) -> String {
    let price = match &t.price {
        TierPrice::Free(_) => "free".to_string(),
        TierPrice::PerUnit(m, u) => format!("{} per {}", money(m), u.node),
        TierPrice::Flat(m) => format!("{} flat", money(m)),
    };
    let flat = t
        .flat
        .as_ref()
        .map(|m| format!(" + {} flat", money(m)))
        .unwrap_or_default();
    format!("{}: {price}{flat}", tier_range(&t.range))
}

pub(super) fn tier_mode(m: TierMode) -> &'static str {
    match m {
        TierMode::Graduated => "graduated",
        TierMode::Volume => "volume",
    }
}

pub(super) fn state(s: &StateDecl) -> String {
    let attrs: Vec<&str> = s
        .attrs
        .iter()
        .map(|a| match a.node {
            StateAttr::Usable => "usable",
            StateAttr::RefusesUsage => "refuses usage",
            StateAttr::Final => "final",
            StateAttr::DropsQuota => "drops quota",
            StateAttr::ResetsCount => "resets count",
            StateAttr::Billed => "billed",
        })
        .collect();
    if attrs.is_empty() {
        format!("state {}", s.name.node)
    } else {
        format!("state {}: {}", s.name.node, attrs.join(", "))
    }
}

pub(super) fn transition(t: &Transition) -> String {
    let on = match &t.on.node {
        On::AtExpiry => "at expiry".to_string(),
        On::AtOnce => "at once".into(),
        On::After(d) => format!("after {}", duration(d)),
        On::Renew => "on renew".into(),
        On::Purchase => "on purchase".into(),
        On::Replaced => "on replaced".into(),
        On::Enable => "on enable".into(),
        On::Disable => "on disable".into(),
        On::Empty => "when empty".into(),
        On::Refilled => "when refilled".into(),
        On::UnpaidBill => "on unpaid bill".into(),
        On::BillsSettled => "on bills settled".into(),
        On::Enters(item, st) => format!("when {} enters {}", item.node, st.node),
    };
    let from = match &t.from_renewal {
        Some(r) if r.node => ", validity from renewal",
        Some(_) => ", validity from expiry",
        None => "",
    };
    format!("{} -> {} {on}{from}", idents(&t.from), t.to.node)
}

fn local_time(t: &LocalTime) -> String {
    match &t.clock {
        Some(c) => format!("{} {c}", t.date),
        None => t.date.clone(),
    }
}

fn periods(p: &Option<Spanned<Decimal>>) -> String {
    match p {
        Some(n) if n.node == Decimal::ONE => format!(" for {} period", number(&n.node)),
        Some(n) => format!(" for {} periods", number(&n.node)),
        None => String::new(),
    }
}

fn count(n: &Option<Spanned<Decimal>>) -> String {
    n.as_ref()
        .map(|n| format!("{} ", number(&n.node)))
        .unwrap_or_default()
}

pub(super) fn event(e: &ExEvent) -> String {
    let action = match &e.action {
        ExAction::Usage {
            quantity: q,
            dims,
            subject,
            subjects,
        } => {
            let mut subj = subject
                .as_ref()
                .map(|s| format!(" subject {}", string(&s.node)))
                .unwrap_or_default();
            if let Some((p, a, b)) = subjects {
                subj = format!(
                    " subjects {} {} to {}",
                    string(&p.node),
                    number(&a.node),
                    number(&b.node)
                );
            }
            format!("usage {}{}{subj}", quantity(q), selector(dims))
        }
        ExAction::Purchase {
            quantity: n,
            item,
            periods: p,
        } => {
            format!("purchase {}{}{}", count(n), item.node, periods(p))
        }
        ExAction::Renew { target, periods: p } => format!("renew {}{}", target.node, periods(p)),
        ExAction::Enable(n, r) => format!("enable {}{}", count(n), r.node),
        ExAction::Disable(n, r) => format!("disable {}{}", count(n), r.node),
        ExAction::Topup(m) => format!("topup {}", money(m)),
        ExAction::Set(p, v) => format!("set {} = {}", p.node, value(&v.node)),
    };
    format!("{} {action}", local_time(&e.at.node))
}

pub(super) fn until(t: &LocalTime) -> String {
    format!("until {}", local_time(t))
}

pub(super) fn expect(e: &Expect) -> String {
    match e {
        Expect::Total(t, m) => format!("expect {} {}", t.node.name(), money(m)),
        Expect::Remaining(s, n) => format!("expect remaining {} = {}", s.node, number(&n.node)),
        Expect::State(s, st) => format!("expect state {} = {}", s.node, st.node),
        Expect::Rejected(n) => format!("expect rejected {}", number(&n.node)),
        Expect::Alerts(a, n) => format!("expect alerts {} = {}", a.node, number(&n.node)),
        Expect::Charge(c, m) if m.amount.node.is_sign_negative() => {
            let mut pos = m.clone();
            pos.amount.node = -pos.amount.node;
            format!("expect charge {} = -{}", c.node, money(&pos))
        }
        Expect::Charge(c, m) => format!("expect charge {} = {}", c.node, money(m)),
        Expect::Bills(n) => format!("expect bills = {}", number(&n.node)),
        Expect::Count(m, n) => format!("expect count {} = {}", m.node, number(&n.node)),
    }
}

/// Where an expectation's first spanned part starts (the keyword before it is found by the caller).
pub(super) fn expect_pos(e: &Expect) -> usize {
    match e {
        Expect::Total(t, _) => t.span.start,
        Expect::Remaining(s, _)
        | Expect::State(s, _)
        | Expect::Alerts(s, _)
        | Expect::Charge(s, _)
        | Expect::Count(s, _) => s.span.start,
        Expect::Rejected(n) | Expect::Bills(n) => n.span.start,
    }
}

pub(super) fn note(n: &Note) -> String {
    match n {
        Note::Cite { source, quote } => format!("cite {} {}", source.node, string(&quote.node)),
        Note::Assumed {
            reason: Some(r), ..
        } => format!("assumed {}", string(&r.node)),
        Note::Assumed { reason: None, .. } => "assumed".into(),
    }
}
