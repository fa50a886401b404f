//! Traces: one JSON Lines event per line in, a validated [`Event`] (or a reason) out.
//!
//! Numbers are read from their JSON text, never through binary floating point.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::eval::{Event, EventKind, MAX_DIMS};
use crate::model::{ItemKind, Model, OnM, PType, PVal};
use crate::scan::Field;
use crate::time::{Instant, TimeCache};

/// A trace line's event, with its account.
#[derive(Debug, Clone)]
pub struct Parsed<'a> {
    /// Account name.
    pub account: Cow<'a, str>,
    /// The event.
    pub event: Event,
}

/// What is wrong with a line: the field concerned and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The field, when one is to blame.
    pub field: Option<&'static str>,
    /// What was expected.
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.field {
            Some(fl) => write!(f, "field `{fl}`: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl LineError {
    /// A line that is not UTF-8 text.
    pub fn not_text() -> LineError {
        LineError {
            field: None,
            message: "not UTF-8 text".into(),
        }
    }
}

fn bad(field: &'static str, message: impl Into<String>) -> LineError {
    LineError {
        field: Some(field),
        message: elide(message.into()),
    }
}

/// A message quoting a huge input keeps its start and its end (what was expected).
fn elide(m: String) -> String {
    let n = m.chars().count();
    if n <= 400 {
        return m;
    }
    let head: String = m.chars().take(250).collect();
    let tail: String = m.chars().skip(n - 100).collect();
    format!("{head}…{tail}")
}

#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(borrow)]
    at: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow)]
    ty: Option<Cow<'a, str>>,
    #[serde(borrow)]
    account: Option<Cow<'a, str>>,
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    meter: Option<Cow<'a, str>>,
    #[serde(borrow)]
    quantity: Option<&'a RawValue>,
    #[serde(borrow)]
    dims: Option<BTreeMap<Cow<'a, str>, Cow<'a, str>>>,
    #[serde(borrow)]
    subject: Option<Cow<'a, str>>,
    #[serde(borrow)]
    item: Option<Cow<'a, str>>,
    #[serde(borrow)]
    periods: Option<&'a RawValue>,
    #[serde(borrow)]
    amount: Option<&'a RawValue>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "present")]
    value: Option<&'a RawValue>,
}

/// A present field, `null` included (plain `Option` would read `null` as absent).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// The fields of a line, from the fast scanner or from serde_json (which may own strings
/// it unescaped; they are borrowed from it here).
struct Fields<'f> {
    at: Option<&'f str>,
    ty: Option<&'f str>,
    meter: Option<&'f str>,
    subject: Option<&'f str>,
    item: Option<&'f str>,
    name: Option<&'f str>,
    quantity: Option<&'f str>,
    periods: Option<&'f str>,
    amount: Option<&'f str>,
    value: Option<&'f str>,
    id: Option<&'f str>,
    dims: Dims<'f>,
}

enum Dims<'f> {
    Flat(Option<&'f str>),
    Map(Option<&'f BTreeMap<Cow<'f, str>, Cow<'f, str>>>),
}

impl<'f> Fields<'f> {
    fn flat(f: &crate::scan::Flat<'f>) -> Fields<'f> {
        Fields {
            at: f.get(Field::At),
            ty: f.get(Field::Type),
            meter: f.get(Field::Meter),
            subject: f.get(Field::Subject),
            item: f.get(Field::Item),
            name: f.get(Field::Name),
            quantity: f.get(Field::Quantity),
            periods: f.get(Field::Periods),
            amount: f.get(Field::Amount),
            value: f.get(Field::Value),
            id: f.get(Field::Id),
            dims: Dims::Flat(f.get(Field::Dims)),
        }
    }

    fn serde(raw: &'f Raw<'f>) -> Fields<'f> {
        Fields {
            at: raw.at.as_deref(),
            ty: raw.ty.as_deref(),
            meter: raw.meter.as_deref(),
            subject: raw.subject.as_deref(),
            item: raw.item.as_deref(),
            name: raw.name.as_deref(),
            quantity: raw.quantity.map(RawValue::get),
            periods: raw.periods.map(RawValue::get),
            amount: raw.amount.map(RawValue::get),
            value: raw.value.map(RawValue::get),
            id: raw.id.map(RawValue::get).filter(|v| *v != "null"),
            dims: Dims::Map(raw.dims.as_ref()),
        }
    }

    /// Each `(dimension, value)` given.
    fn each_dim(
        &self,
        mut f: impl FnMut(&str, &str) -> Result<(), LineError>,
    ) -> Result<(), LineError> {
        match &self.dims {
            Dims::Flat(None) | Dims::Map(None) => Ok(()),
            Dims::Flat(Some(inner)) => {
                // serde_json reads `dims` into a sorted map where the last of a repeated key
                // wins: pairs in strictly increasing key order (the usual case) are that
                // map already; others are put in its order here.
                let pairs = || crate::scan::dims_pairs(inner);
                if pairs().is_sorted_by(|a, b| a.0 < b.0) {
                    return pairs().try_for_each(|(k, v)| f(k, v));
                }
                let mut sorted: Vec<_> = pairs().collect();
                // Reversed, then stably sorted: the last of equal keys comes first and stays.
                sorted.reverse();
                sorted.sort_by(|a, b| a.0.cmp(b.0));
                sorted.dedup_by(|later, first| later.0 == first.0);
                sorted.into_iter().try_for_each(|(k, v)| f(k, v))
            }
            Dims::Map(Some(map)) => map.iter().try_for_each(|(k, v)| f(k, v)),
        }
    }
}

/// Parses one line; `Ok(None)` for a blank line.
pub fn parse_line<'a>(
    m: &Model,
    text: &'a str,
    line: u64,
) -> Result<Option<Parsed<'a>>, LineError> {
    parse_line_with(m, text, line, true)
}

/// [`parse_line`], with the fast scanner on or off (the two must agree).
#[doc(hidden)]
pub fn parse_line_with<'a>(
    m: &Model,
    text: &'a str,
    line: u64,
    fast: bool,
) -> Result<Option<Parsed<'a>>, LineError> {
    if fast && let Some(flat) = SHAPE.with_borrow_mut(|shape| shape.scan(text)) {
        let account = flat
            .get(Field::Account)
            .map_or(Cow::Borrowed("default"), Cow::Borrowed);
        return event(m, &Fields::flat(&flat), line).map(|event| Some(Parsed { account, event }));
    }
    if text.trim_ascii().is_empty() {
        return Ok(None);
    }
    let raw: Raw<'a> = serde_json::from_str(text).map_err(|e| json_error(text, &e))?;
    let event = event(m, &Fields::serde(&raw), line)?;
    let account = raw.account.unwrap_or(Cow::Borrowed("default"));
    Ok(Some(Parsed { account, event }))
}

/// The event a line's fields describe.
fn event(m: &Model, raw: &Fields<'_>, line: u64) -> Result<Event, LineError> {
    let at_text = raw.at.ok_or_else(|| {
        bad(
            "at",
            "missing: every event needs a time, e.g. \"2026-03-01T08:00:00+08:00\"",
        )
    })?;
    let at = parse_time(at_text)?;
    let ty = raw.ty.ok_or_else(|| {
        bad(
            "type",
            "missing: one of usage, purchase, renew, enable, disable, topup, set",
        )
    })?;
    let kind = match ty {
        "usage" => {
            let mname = raw
                .meter
                .ok_or_else(|| bad("meter", "missing: a usage names its meter"))?;
            let meter = m.meter_id(mname).ok_or_else(|| {
                bad(
                    "meter",
                    format!(
                        "`{mname}` is not a meter of the rules{}",
                        known(m.meters.iter().map(|x| x.name.as_str()))
                    ),
                )
            })?;
            let me = &m.meters[meter];
            let quantity = opt_number(raw.quantity, "quantity")?.unwrap_or(Decimal::ONE);
            positive(quantity, "quantity")?;
            if !me.fractional && quantity.scale() != 0 && !quantity.fract().is_zero() {
                return Err(bad(
                    "quantity",
                    format!("`{}` is counted in whole units, not {}", me.name, quantity),
                ));
            }
            let mut dims = [u8::MAX; MAX_DIMS];
            raw.each_dim(|k, v| {
                let d = me.dims.iter().position(|(n, _)| n == k).ok_or_else(|| {
                    bad("dims", format!("`{k}` is not a dimension of `{}`", me.name))
                })?;
                let vi = me.dims[d].1.iter().position(|x| x == v).ok_or_else(|| {
                    bad(
                        "dims",
                        format!(
                            "`{v}` is not a value of `{k}` (expected one of {})",
                            me.dims[d].1.join(", ")
                        ),
                    )
                })?;
                if let Some(slot) = dims.get_mut(d) {
                    *slot = u8::try_from(vi).unwrap_or(u8::MAX);
                }
                Ok(())
            })?;
            let subject = raw.subject.map(str::to_string);
            if me.distinct && subject.is_none() {
                return Err(bad(
                    "subject",
                    format!("missing: `{}` is counted by distinct subject", me.name),
                ));
            }
            EventKind::Usage {
                meter,
                quantity,
                dims,
                subject,
            }
        }
        "purchase" => {
            let item = item(m, raw.item)?;
            let it = &m.items[item];
            if !matches!(
                it.kind,
                ItemKind::Package { .. } | ItemKind::Edition { .. } | ItemKind::Pack { .. }
            ) {
                return Err(bad("item", format!("`{}` cannot be purchased", it.name)));
            }
            let quantity = whole(
                opt_number(raw.quantity, "quantity")?.unwrap_or(Decimal::ONE),
                "quantity",
            )?;
            if matches!(it.kind, ItemKind::Edition { .. }) && quantity != Decimal::ONE {
                return Err(bad(
                    "quantity",
                    "an edition is bought one at a time; use `periods` for longer",
                ));
            }
            if quantity > Decimal::from(1_000_000) && matches!(it.kind, ItemKind::Package { .. }) {
                return Err(bad(
                    "quantity",
                    "at most 1,000,000 packages in one purchase",
                ));
            }
            EventKind::Purchase {
                item,
                quantity,
                periods: periods(raw.periods)?,
            }
        }
        "renew" => {
            let item = item(m, raw.item)?;
            let it = &m.items[item];
            let renewable = it.lifecycle.is_some_and(|l| {
                m.lifecycles[l]
                    .transitions
                    .iter()
                    .any(|t| t.on == OnM::Renew)
            });
            if !renewable {
                return Err(bad(
                    "item",
                    format!(
                        "`{}` cannot be renewed: its lifecycle has no `on renew` transition",
                        it.name
                    ),
                ));
            }
            let number = match raw.subject {
                None => None,
                Some(s) => {
                    let n = s
                        .strip_prefix(it.name.as_str())
                        .and_then(|r| r.strip_prefix('#'))
                        .and_then(|n| n.parse::<u32>().ok());
                    Some(n.ok_or_else(|| {
                        bad("subject", format!("expected `{}#N`, got `{s}`", it.name))
                    })?)
                }
            };
            EventKind::Renew {
                item,
                number,
                periods: periods(raw.periods)?,
            }
        }
        "enable" | "disable" => {
            let item = item(m, raw.item)?;
            if !matches!(m.items[item].kind, ItemKind::Resource { .. }) {
                return Err(bad(
                    "item",
                    format!(
                        "`{}` is not a resource: only resources are enabled and disabled",
                        m.items[item].name
                    ),
                ));
            }
            let quantity = whole(
                opt_number(raw.quantity, "quantity")?.unwrap_or(Decimal::ONE),
                "quantity",
            )?;
            if quantity > Decimal::from(100_000) {
                return Err(bad("quantity", "at most 100,000 units at once"));
            }
            if ty == "enable" {
                EventKind::Enable { item, quantity }
            } else {
                EventKind::Disable { item, quantity }
            }
        }
        "topup" => {
            let amount = opt_number(raw.amount, "amount")?
                .ok_or_else(|| bad("amount", "missing: a top-up adds an amount"))?;
            positive(amount, "amount")?;
            EventKind::Topup { amount }
        }
        "set" => {
            let name = raw
                .name
                .ok_or_else(|| bad("name", "missing: a `set` names a parameter"))?;
            let param = *m.param_ix.get(name).ok_or_else(|| {
                bad(
                    "name",
                    format!(
                        "`{name}` is not a parameter of the rules{}",
                        known(m.params.iter().map(|p| p.name.as_str()))
                    ),
                )
            })?;
            let v = raw.value.ok_or_else(|| bad("value", "missing"))?;
            let v = RawText(v);
            EventKind::Set {
                param,
                value: param_value(m, param, v.get())?,
            }
        }
        other => {
            return Err(bad(
                "type",
                format!(
                    "unknown type `{other}`: expected usage, purchase, renew, enable, disable, topup or set"
                ),
            ));
        }
    };
    let id = raw.id.map(event_id);
    Ok(Event { line, at, id, kind })
}

fn known<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = names.collect();
    if v.is_empty() {
        String::new()
    } else {
        format!(" (declared: {})", v.join(", "))
    }
}

fn item(m: &Model, name: Option<&str>) -> Result<usize, LineError> {
    let name = name.ok_or_else(|| bad("item", "missing: name the item"))?;
    m.item_ix.get(name).copied().ok_or_else(|| {
        bad(
            "item",
            format!(
                "`{name}` is not an item of the rules{}",
                known(m.items.iter().map(|i| i.name.as_str()))
            ),
        )
    })
}

fn periods(v: Option<&str>) -> Result<i64, LineError> {
    let p = whole(opt_number(v, "periods")?.unwrap_or(Decimal::ONE), "periods")?;
    if p > Decimal::from(1200) {
        return Err(bad("periods", "at most 1,200 periods at once"));
    }
    i64::try_from(p).map_err(|_| bad("periods", "out of range"))
}

fn positive(d: Decimal, field: &'static str) -> Result<(), LineError> {
    if d <= Decimal::ZERO {
        return Err(bad(field, format!("must be positive, got {d}")));
    }
    Ok(())
}

fn whole(d: Decimal, field: &'static str) -> Result<Decimal, LineError> {
    positive(d, field)?;
    if d.scale() != 0 && !d.fract().is_zero() {
        return Err(bad(field, format!("must be a whole number, got {d}")));
    }
    Ok(d)
}

fn opt_number(v: Option<&str>, field: &'static str) -> Result<Option<Decimal>, LineError> {
    v.map(|r| number(r, field)).transpose()
}

/// A JSON number or decimal string, read exactly.
fn number(text: &str, field: &'static str) -> Result<Decimal, LineError> {
    // The common case: a plain whole number of at most 18 digits.
    let b = text.as_bytes();
    if !b.is_empty() && b.len() <= 18 && (b.len() == 1 || b[0] != b'0') {
        let n = b.iter().try_fold(0u64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u64::from(c - b'0'))
        });
        if let Some(n) = n {
            return Ok(Decimal::from(n));
        }
    }
    let t = text.trim();
    let s: Cow<'_, str> = if t.starts_with('"') {
        Cow::Owned(
            serde_json::from_str::<String>(t)
                .map_err(|_| bad(field, "expected a number or a decimal string"))?,
        )
    } else {
        Cow::Borrowed(t)
    };
    let s = s.trim();
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
    {
        return Err(bad(field, format!("expected a number, got {t}")));
    }
    let parsed = if s.contains(['e', 'E']) {
        Decimal::from_scientific(s).ok()
    } else {
        Decimal::from_str_exact(s).ok()
    };
    let significant = s
        .split(['e', 'E'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect::<String>();
    let significant = significant.trim_start_matches('0').len();
    match parsed {
        Some(d) if exact(s, d) && significant <= 28 => Ok(d),
        _ => Err(bad(
            field,
            format!("{t} cannot be held exactly (at most 28 significant digits)"),
        )),
    }
}

/// Whether `d` is exactly the number written as `s` (no digits lost).
fn exact(s: &str, d: Decimal) -> bool {
    if s.contains(['e', 'E']) {
        // Scientific notation: accept only when it round-trips through the exponent form.
        let (m, e) = s.split_at(s.find(['e', 'E']).unwrap_or(s.len()));
        let digits: String = m
            .chars()
            .filter(|c| c.is_ascii_digit())
            .collect::<String>()
            .trim_start_matches('0')
            .trim_end_matches('0')
            .to_string();
        let have: String = d
            .normalize()
            .abs()
            .to_string()
            .chars()
            .filter(|c| c.is_ascii_digit())
            .collect::<String>()
            .trim_start_matches('0')
            .trim_end_matches('0')
            .to_string();
        let _ = e;
        digits == have
    } else {
        true
    }
}

thread_local! {
    static TIMES: std::cell::RefCell<TimeCache> = const { std::cell::RefCell::new(TimeCache::EMPTY) };
    /// The layout of the last line read on this thread (exact: [`crate::scan::Shape::scan`]
    /// gives what the scanner gives).
    static SHAPE: std::cell::RefCell<crate::scan::Shape> = std::cell::RefCell::new(crate::scan::Shape::default());
}

fn parse_time(s: &str) -> Result<Instant, LineError> {
    // The cache is exact (tested against a fresh read), so sharing it per thread is safe.
    let fast = TIMES.with_borrow_mut(|c| c.parse(s));
    if let Some(t) = fast {
        return Ok(t);
    }
    let t = chrono::DateTime::parse_from_rfc3339(s).map_err(|e| {
        let hint = if !s.contains('+') && !s.ends_with('Z') && s.matches('-').count() <= 2 {
            " (a time needs an offset, e.g. +08:00 or Z)"
        } else {
            ""
        };
        bad(
            "at",
            format!("`{s}` is not an RFC 3339 time with offset: {e}{hint}"),
        )
    })?;
    Ok(Instant::from_chrono(&t))
}

fn param_value(m: &Model, p: usize, text: &str) -> Result<PVal, LineError> {
    let pm = &m.params[p];
    let t = text.trim();
    if t == "null" {
        return if pm.default == PVal::Unset {
            Ok(PVal::Unset)
        } else {
            Err(bad(
                "value",
                format!("`{}` has a default and cannot be unset", pm.name),
            ))
        };
    }
    match pm.ty {
        PType::Switch => match t {
            "true" => Ok(PVal::Switch(true)),
            "false" => Ok(PVal::Switch(false)),
            _ => Err(bad(
                "value",
                format!("`{}` is on/off: expected true or false, got {t}", pm.name),
            )),
        },
        PType::Num | PType::Percent => {
            let d = number(t, "value")?;
            if d < Decimal::ZERO {
                return Err(bad("value", format!("must not be negative, got {d}")));
            }
            Ok(PVal::Num(d))
        }
        PType::Item => {
            let name: String = serde_json::from_str(t).map_err(|_| {
                bad(
                    "value",
                    format!("`{}` names an item: expected a string", pm.name),
                )
            })?;
            item(m, Some(&name))
                .map(PVal::Item)
                .map_err(|e| bad("value", e.message))
        }
    }
}

fn json_error(text: &str, e: &serde_json::Error) -> LineError {
    let msg = e.to_string();
    if !text.trim_start().starts_with('{') {
        return LineError {
            field: None,
            message: format!("not a JSON object: {msg}"),
        };
    }
    // A key given twice: name it (`duplicate field `at``).
    if let Some(k) = msg
        .strip_prefix("duplicate field `")
        .and_then(|r| r.split('`').next())
    {
        const FIELDS: [&str; 13] = [
            "at", "type", "account", "id", "meter", "quantity", "dims", "subject", "item",
            "periods", "amount", "name", "value",
        ];
        if let Some(f) = FIELDS.iter().find(|f| **f == k) {
            return bad(f, "given twice: each key may appear once");
        }
    }
    // Name the field when serde says which one is of the wrong type.
    if e.is_data() {
        if let Ok(serde_json::Value::Object(obj)) = serde_json::from_str::<serde_json::Value>(text)
        {
            for (k, v) in &obj {
                let wrong = match k.as_str() {
                    "at" | "type" | "account" | "meter" | "subject" | "item" | "name" => {
                        !v.is_string() && !v.is_null()
                    }
                    "dims" => {
                        !(v.is_object()
                            && v.as_object()
                                .is_some_and(|o| o.values().all(|x| x.is_string())))
                    }
                    _ => false,
                };
                if wrong {
                    let f: &'static str = match k.as_str() {
                        "at" => "at",
                        "type" => "type",
                        "account" => "account",
                        "meter" => "meter",
                        "subject" => "subject",
                        "item" => "item",
                        "name" => "name",
                        _ => "dims",
                    };
                    let what = if f == "dims" {
                        "an object of strings"
                    } else {
                        "a string"
                    };
                    return bad(f, format!("expected {what}"));
                }
            }
        }
        return LineError {
            field: None,
            message: msg,
        };
    }
    LineError {
        field: None,
        message: format!("not a JSON object: {msg}"),
    }
}

/// An event id as text: a string's content, or a number as written.
fn event_id(raw: &str) -> String {
    match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) if !inner.contains('\\') => inner.to_string(),
        Some(_) => serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.to_string()),
        None => raw.to_string(),
    }
}

/// Raw JSON text of a value, read like a `RawValue`.
struct RawText<'a>(&'a str);

impl RawText<'_> {
    fn get(&self) -> &str {
        self.0
    }
}
