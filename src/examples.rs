//! Worked examples inside rule files: their events evaluated, their expectations compared.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::ast::{ExAction, Example, Expect, LocalTime, Total, Value};
use crate::driver::{Options, Run, Stop};
use crate::eval::report::AccountReport;
use crate::eval::{Event, EventKind, dec};
use crate::model::{Model, PType, PVal};
use crate::time::{Instant, parse_local};

fn instant(m: &Model, t: &LocalTime) -> Result<Instant, String> {
    let local = parse_local(&t.date, t.clock.as_deref()).ok_or_else(|| {
        format!(
            "`{} {}` is not a valid date and time",
            t.date,
            t.clock.as_deref().unwrap_or("")
        )
    })?;
    m.zone
        .instant(local)
        .ok_or_else(|| format!("`{}` does not exist in the product's time zone", t.date))
}

fn meter_of(m: &Model, unit: &str) -> Option<usize> {
    m.meter_ix
        .get(unit)
        .or_else(|| unit.strip_suffix('s').and_then(|u| m.meter_ix.get(u)))
        .copied()
}

fn count(d: Option<&crate::ast::Spanned<Decimal>>) -> Decimal {
    d.map(|x| x.node).unwrap_or(Decimal::ONE)
}

/// The events of an example, resolved.
pub fn example_events(m: &Model, ex: &Example) -> Result<Vec<Event>, String> {
    let mut out = Vec::new();
    for (i, e) in ex.events.iter().enumerate() {
        let at = instant(m, &e.at.node)?;
        let item = |n: &str| {
            m.item_ix
                .get(n)
                .copied()
                .ok_or_else(|| format!("unknown item `{n}`"))
        };
        let kind = match &e.action {
            ExAction::Usage {
                quantity,
                dims,
                subject,
                subjects,
            } => {
                let meter = meter_of(m, &quantity.unit.node)
                    .ok_or_else(|| format!("unknown meter `{}`", quantity.unit.node))?;
                let me = &m.meters[meter];
                let mut dv = [u8::MAX; crate::eval::MAX_DIMS];
                for t in dims.iter().flat_map(|s| &s.tests) {
                    let d = me
                        .dims
                        .iter()
                        .position(|(n, _)| *n == t.dim.node)
                        .ok_or_else(|| {
                            format!("`{}` is not a dimension of `{}`", t.dim.node, me.name)
                        })?;
                    let v = t
                        .values
                        .first()
                        .map(|v| v.node.as_str())
                        .unwrap_or_default();
                    let vi = me.dims[d]
                        .1
                        .iter()
                        .position(|x| x == v)
                        .ok_or_else(|| format!("`{v}` is not a value of `{}`", t.dim.node))?;
                    if let Some(slot) = dv.get_mut(d) {
                        *slot = u8::try_from(vi).unwrap_or(u8::MAX);
                    }
                }
                if let Some((prefix, a, b)) = subjects {
                    // One event per subject, `prefix` followed by each number from a to b.
                    let (a, b) = (whole(a.node)?, whole(b.node)?);
                    if b < a || b - a >= 1_000_000 {
                        return Err(format!(
                            "`subjects` takes from 1 to 1,000,000 numbers, not {a} to {b}"
                        ));
                    }
                    for n in a..=b {
                        let kind = EventKind::Usage {
                            meter,
                            quantity: quantity.value.node,
                            dims: dv,
                            subject: Some(format!("{}{n}", prefix.node)),
                        };
                        out.push(Event {
                            id: None,
                            line: i as u64 + 1,
                            at,
                            kind,
                        });
                    }
                    continue;
                }
                EventKind::Usage {
                    meter,
                    quantity: quantity.value.node,
                    dims: dv,
                    subject: subject.as_ref().map(|s| s.node.clone()),
                }
            }
            ExAction::Purchase {
                quantity,
                item: it,
                periods,
            } => EventKind::Purchase {
                item: item(&it.node)?,
                quantity: Decimal::from(whole(count(quantity.as_ref()))?),
                periods: whole(count(periods.as_ref()))?,
            },
            ExAction::Renew { target, periods } => {
                let (name, number) = match target.node.split_once('#') {
                    Some((n, k)) => (
                        n,
                        Some(
                            k.parse::<u32>()
                                .map_err(|_| format!("bad subject `{}`", target.node))?,
                        ),
                    ),
                    None => (target.node.as_str(), None),
                };
                EventKind::Renew {
                    item: item(name)?,
                    number,
                    periods: whole(count(periods.as_ref()))?,
                }
            }
            ExAction::Enable(n, it) => EventKind::Enable {
                item: item(&it.node)?,
                quantity: count(n.as_ref()),
            },
            ExAction::Disable(n, it) => EventKind::Disable {
                item: item(&it.node)?,
                quantity: count(n.as_ref()),
            },
            ExAction::Topup(mo) => EventKind::Topup {
                amount: mo.amount.node,
            },
            ExAction::Set(name, v) => {
                let p = *m
                    .param_ix
                    .get(&name.node)
                    .ok_or_else(|| format!("unknown parameter `{}`", name.node))?;
                let value = match (&v.node, m.params[p].ty) {
                    (Value::Switch(b), PType::Switch) => PVal::Switch(*b),
                    (Value::None, _) => PVal::Unset,
                    (Value::Name(n), PType::Item) => PVal::Item(item(n)?),
                    (Value::Percent(d) | Value::Number(d), PType::Num | PType::Percent) => {
                        PVal::Num(*d)
                    }
                    (Value::Quantity(q), PType::Num | PType::Percent) => PVal::Num(q.value.node),
                    (Value::Money(mo), PType::Num) => PVal::Num(mo.amount.node),
                    _ => return Err(format!("value of the wrong type for `{}`", name.node)),
                };
                EventKind::Set { param: p, value }
            }
        };
        out.push(Event {
            id: None,
            line: i as u64 + 1,
            at,
            kind,
        });
    }
    Ok(out)
}

fn whole(d: Decimal) -> Result<i64, String> {
    i64::try_from(d.trunc()).map_err(|_| format!("`{d}` periods is out of range"))
}

/// Evaluates an example; the problems found, if any.
pub fn run_example(m: &Model, ex: &Example) -> Result<(), Vec<String>> {
    let events = example_events(m, ex).map_err(|e| vec![e])?;
    let until = ex
        .until
        .as_ref()
        .map(|u| instant(m, &u.node))
        .transpose()
        .map_err(|e| vec![e])?;
    let mut run = Run::new(
        m,
        Options {
            until,
            opening: ex.opening.as_ref().map(|o| o.amount.node),
            keep_going: false,
            no_fast_lane: false,
        },
    );
    for ev in events {
        run.event("default", ev).map_err(|s| vec![stop_text(&s)])?;
    }
    let report = run.finish().map_err(|s| vec![stop_text(&s)])?;
    let Some(acc) = report.accounts.first() else {
        return Err(vec!["the example has no events".into()]);
    };
    let problems: Vec<String> = ex.expects.iter().filter_map(|e| check(acc, e)).collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn stop_text(s: &Stop) -> String {
    match s {
        Stop::Line(l, e) => format!("event {l}: {e}"),
        Stop::Eval(e) => e.to_string(),
    }
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_default()
}

/// `None` when the expectation holds, else "expected X, got Y".
fn check(a: &AccountReport, e: &Expect) -> Option<String> {
    let differ = |what: String, want: Decimal, got: Option<Decimal>| -> Option<String> {
        match got {
            Some(g) if g == want => None,
            Some(g) => Some(format!("{what}: expected {}, got {}", dec(want), dec(g))),
            None => Some(format!("{what}: expected {}, got nothing", dec(want))),
        }
    };
    match e {
        Expect::Total(t, money) => {
            let got = match t.node {
                Total::Charged => Some(d(&a.totals.charged)),
                Total::Paid => Some(d(&a.totals.paid)),
                Total::Outstanding => Some(d(&a.totals.outstanding)),
                Total::Unbilled => Some(d(&a.totals.unbilled)),
                Total::Balance => a.final_.balance.as_deref().map(d),
            };
            differ(
                format!("{} ({})", t.node.name(), a.currency),
                money.amount.node,
                got,
            )
        }
        Expect::Remaining(s, n) => {
            let got = a
                .final_
                .remaining
                .0
                .iter()
                .find(|(k, _)| *k == s.node)
                .and_then(|(_, v)| v.as_deref())
                .map(d);
            differ(format!("remaining {}", s.node), n.node, got)
        }
        Expect::State(s, st) => {
            let got = a
                .final_
                .states
                .0
                .iter()
                .find(|(k, _)| *k == s.node)
                .and_then(|(_, v)| v.clone());
            match got {
                Some(g) if g == st.node => None,
                Some(g) => Some(format!("state {}: expected {}, got {g}", s.node, st.node)),
                None => Some(format!(
                    "state {}: expected {}, but there is no such subject",
                    s.node, st.node
                )),
            }
        }
        Expect::Rejected(n) => differ(
            "rejected".into(),
            n.node,
            Some(a.rejections.iter().map(|r| d(&r.quantity)).sum()),
        ),
        Expect::Alerts(name, n) => differ(
            format!("alerts {}", name.node),
            n.node,
            Some(Decimal::from(
                a.alerts.iter().filter(|x| x.kind == name.node).count() as u64,
            )),
        ),
        Expect::Charge(name, money) => {
            let pre = format!("{}#", name.node);
            let sum = a
                .charges
                .iter()
                .filter(|c| c.item == name.node || c.item.starts_with(&pre))
                .map(|c| d(&c.amount))
                .sum();
            differ(
                format!("charge {}", name.node),
                money.amount.node,
                Some(sum),
            )
        }
        Expect::Count(meter, n) => {
            let got = a
                .final_
                .counts
                .0
                .iter()
                .find(|(k, _)| *k == meter.node)
                .and_then(|(_, v)| v.as_deref())
                .map(d);
            differ(
                format!("count {}", meter.node),
                n.node,
                got.or(Some(Decimal::ZERO)),
            )
        }
        Expect::Bills(n) => differ(
            "bills".into(),
            n.node,
            Some(Decimal::from(a.bills.len() as u64)),
        ),
    }
}
