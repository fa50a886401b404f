//! Reports: what evaluation produced, as the JSON contract and as a table for people.

use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::dec;
use super::state::{Account, Kind};
use crate::model::{ItemKind, Model};
use crate::time::Instant;

/// A map that keeps its order (subjects in creation order).
#[derive(Debug, Clone, Default)]
pub struct Ordered(pub Vec<(String, Option<String>)>);

impl Serialize for Ordered {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// One account's report.
#[derive(Debug, Clone, Serialize)]
pub struct AccountReport {
    /// Account name.
    pub account: String,
    /// Currency.
    pub currency: String,
    /// Charges in time order.
    pub charges: Vec<ChargeOut>,
    /// Bills.
    pub bills: Vec<BillOut>,
    /// Transitions.
    pub transitions: Vec<TransOut>,
    /// Alerts.
    pub alerts: Vec<AlertOut>,
    /// Rejections.
    pub rejections: Vec<RejectOut>,
    /// Totals.
    pub totals: Totals,
    /// Final state.
    #[serde(rename = "final")]
    pub final_: Final,
}

/// A charge.
#[derive(Debug, Clone, Serialize)]
pub struct ChargeOut {
    /// When.
    pub at: String,
    /// Item.
    pub item: String,
    /// Kind.
    pub kind: Kind,
    /// Quantity.
    pub quantity: String,
    /// Unit price.
    pub unit_price: Option<String>,
    /// Amount.
    pub amount: String,
    /// Bill id.
    pub bill: Option<String>,
    /// Rule.
    pub rule: String,
    /// The trace id of the event that caused it, when the trace gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// A bill.
#[derive(Debug, Clone, Serialize)]
pub struct BillOut {
    /// Id.
    pub id: String,
    /// Issued.
    pub issued_at: String,
    /// Period start.
    pub period_start: String,
    /// Period end.
    pub period_end: String,
    /// Amount.
    pub amount: String,
    /// `paid` or `outstanding`.
    pub status: &'static str,
}

/// A transition.
#[derive(Debug, Clone, Serialize)]
pub struct TransOut {
    /// When.
    pub at: String,
    /// Subject.
    pub subject: String,
    /// From.
    pub from: Option<String>,
    /// To.
    pub to: String,
    /// Rule.
    pub rule: String,
    /// The trace id of the event that caused it, when the trace gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// An alert.
#[derive(Debug, Clone, Serialize)]
pub struct AlertOut {
    /// When.
    pub at: String,
    /// Subject.
    pub subject: String,
    /// Alert name.
    pub kind: String,
    /// Message.
    pub message: String,
    /// Rule.
    pub rule: String,
    /// The trace id of the event that caused it, when the trace gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// A rejection.
#[derive(Debug, Clone, Serialize)]
pub struct RejectOut {
    /// When.
    pub at: String,
    /// Trace line.
    pub line: u64,
    /// Meter.
    pub meter: Option<String>,
    /// Item.
    pub item: Option<String>,
    /// Quantity refused.
    pub quantity: String,
    /// Why.
    pub reason: String,
    /// Rule.
    pub rule: Option<String>,
    /// The trace id of the event that caused it, when the trace gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// Totals.
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    /// Everything charged.
    pub charged: String,
    /// Paid.
    pub paid: String,
    /// Issued, unpaid.
    pub outstanding: String,
    /// Not yet billed.
    pub unbilled: String,
}

/// Final state.
#[derive(Debug, Clone, Serialize)]
pub struct Final {
    /// Balance, when tracked.
    pub balance: Option<String>,
    /// State of every subject.
    pub states: Ordered,
    /// What every allowance holds.
    pub remaining: Ordered,
    /// Distinct subjects counted, per meter counted by distinct subject.
    pub counts: Ordered,
}

/// Exact totals of an account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    /// Everything charged.
    pub charged: Decimal,
    /// Paid.
    pub paid: Decimal,
    /// Issued, unpaid.
    pub outstanding: Decimal,
    /// Not yet billed.
    pub unbilled: Decimal,
}

impl Account {
    /// Exact totals.
    pub fn sums(&self) -> Sums {
        let mut s = Sums::default();
        for c in &self.charges {
            s.charged = s.charged.saturating_add(c.amount);
            if c.bill.is_none() && matches!(c.kind, Kind::Usage | Kind::Recurring) {
                s.unbilled = s.unbilled.saturating_add(c.amount);
            }
        }
        for b in &self.bills {
            if !b.paid {
                s.outstanding = s.outstanding.saturating_add(b.amount);
            }
        }
        s.paid = s
            .charged
            .saturating_sub(s.outstanding)
            .saturating_sub(s.unbilled);
        s
    }

    /// The report of this account.
    pub fn report(&self, m: &Model) -> AccountReport {
        let z = &m.zone;
        let t = |i: Instant| z.format(i);
        let bill_id = |b: usize| format!("B{}", b + 1);
        let mut order: Vec<usize> = (0..self.charges.len()).collect();
        order.sort_by_key(|&i| self.charges[i].at);
        let charges = order
            .into_iter()
            .map(|i| {
                let c = &self.charges[i];
                ChargeOut {
                    at: t(c.at),
                    item: c.item.clone(),
                    kind: c.kind,
                    quantity: dec(c.quantity),
                    unit_price: c.unit_price.map(dec),
                    amount: dec(c.amount),
                    bill: c.bill.map(bill_id),
                    rule: c.rule.clone(),
                    id: c.id.clone(),
                }
            })
            .collect();
        let bills = self
            .bills
            .iter()
            .enumerate()
            .map(|(i, b)| BillOut {
                id: bill_id(i),
                issued_at: t(b.issued_at),
                period_start: t(b.period_start),
                period_end: t(b.period_end),
                amount: dec(b.amount),
                status: if b.paid { "paid" } else { "outstanding" },
            })
            .collect();
        let transitions = self
            .transitions
            .iter()
            .map(|r| TransOut {
                at: t(r.at),
                subject: self.subject_name(m, r.subject),
                from: r.from.clone(),
                to: r.to.clone(),
                rule: r.rule.clone(),
                id: r.id.clone(),
            })
            .collect();
        let alerts = self
            .alerts
            .iter()
            .map(|a| AlertOut {
                at: t(a.at),
                subject: a.subject.clone(),
                kind: a.kind.clone(),
                message: a.message.clone(),
                rule: a.rule.clone(),
                id: a.id.clone(),
            })
            .collect();
        let rejections = self
            .rejections
            .iter()
            .map(|r| RejectOut {
                at: t(r.at),
                line: r.line,
                meter: r.meter.map(|x| self.name(x).to_string()),
                item: r.item.map(|x| self.name(x).to_string()),
                quantity: dec(r.quantity),
                reason: self.name(r.reason).to_string(),
                rule: r.rule.map(|x| self.name(x).to_string()),
                id: r.id.clone(),
            })
            .collect();
        let s = self.sums();
        let mut states = Vec::new();
        let mut remaining = Vec::new();
        for i in 0..self.subjects.len() {
            let name = self.subject_name(m, i);
            states.push((name.clone(), Some(self.state_name(m, i))));
            if let Some(it) = self.subjects[i].item
                && matches!(
                    m.items[it].kind,
                    ItemKind::FreeTier | ItemKind::Package { .. } | ItemKind::Pack { .. }
                )
            {
                remaining.push((name, Some(dec(self.subjects[i].remaining))));
            }
        }
        AccountReport {
            account: self.name.clone(),
            currency: m.currency.clone(),
            charges,
            bills,
            transitions,
            alerts,
            rejections,
            totals: Totals {
                charged: dec(s.charged),
                paid: dec(s.paid),
                outstanding: dec(s.outstanding),
                unbilled: dec(s.unbilled),
            },
            final_: Final {
                balance: self.balance.map(dec),
                states: Ordered(states),
                remaining: Ordered(remaining),
                counts: Ordered(
                    m.meters
                        .iter()
                        .enumerate()
                        .filter(|(_, me)| me.distinct)
                        .map(|(i, me)| (me.name.clone(), Some(self.distinct[i].len().to_string())))
                        .collect(),
                ),
            },
        }
    }
}

/// A line that was not evaluated.
#[derive(Debug, Clone, Serialize)]
pub struct InvalidOut {
    /// Trace line.
    pub line: u64,
    /// What is wrong.
    pub error: String,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Product id.
    pub product: String,
    /// Rule file.
    pub rules: String,
    /// Evaluated up to.
    pub until: Option<String>,
    /// Accounts.
    pub accounts: Vec<AccountReport>,
    /// Lines not evaluated.
    pub invalid: Vec<InvalidOut>,
    /// Events after `until`.
    pub after_until: u64,
}

impl Report {
    /// The JSON contract, pretty-printed: accounts are written on every core and spliced
    /// into the rest, byte for byte what one pretty-printing pass writes (tested).
    pub fn to_json(&self) -> String {
        let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
        self.to_json_on(jobs)
    }

    /// [`Report::to_json`] on `jobs` threads.
    pub fn to_json_on(&self, jobs: usize) -> String {
        /// The report without its accounts, which print as `[]`.
        #[derive(Serialize)]
        struct Shell<'a> {
            product: &'a str,
            rules: &'a str,
            until: &'a Option<String>,
            accounts: [(); 0],
            invalid: &'a [InvalidOut],
            after_until: u64,
        }
        let shell = Shell {
            product: &self.product,
            rules: &self.rules,
            until: &self.until,
            accounts: [],
            invalid: &self.invalid,
            after_until: self.after_until,
        };
        let shell = serde_json::to_string_pretty(&shell).unwrap_or_default();
        const EMPTY: &str = "\n  \"accounts\": []";
        let (Some(at), false) = (shell.find(EMPTY), self.accounts.is_empty()) else {
            return shell;
        };
        // Each account pretty-printed alone, then indented two levels, as inside the list.
        let one = |a: &AccountReport| {
            let text = serde_json::to_string_pretty(a).unwrap_or_default();
            let mut out = String::with_capacity(text.len() + text.len() / 8);
            for (i, line) in text.split('\n').enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                out.push_str("    ");
                out.push_str(line);
            }
            out
        };
        let jobs = jobs.clamp(1, self.accounts.len().div_ceil(64));
        let chunk = self.accounts.len().div_ceil(jobs);
        let parts: Option<Vec<Vec<String>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .accounts
                .chunks(chunk)
                .map(|c| scope.spawn(move || c.iter().map(one).collect::<Vec<_>>()))
                .collect();
            handles.into_iter().map(|h| h.join().ok()).collect()
        });
        let Some(parts) = parts else {
            // A thread failed: write it all in one pass instead.
            return serde_json::to_string_pretty(self).unwrap_or_default();
        };
        let total: usize = parts.iter().flatten().map(|p| p.len() + 2).sum();
        let mut out = String::with_capacity(shell.len() + total + 8);
        out.push_str(&shell[..at]);
        out.push_str("\n  \"accounts\": [\n");
        for (i, p) in parts.iter().flatten().enumerate() {
            if i > 0 {
                out.push_str(",\n");
            }
            out.push_str(p);
        }
        out.push_str("\n  ]");
        out.push_str(&shell[at + EMPTY.len()..]);
        out
    }

    /// A table for people.
    pub fn to_table(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "{} ({}) until {}",
            self.product,
            self.rules,
            self.until.as_deref().unwrap_or("-")
        );
        for a in &self.accounts {
            let _ = writeln!(o, "\naccount {} ({})", a.account, a.currency);
            let _ = writeln!(o, "  charges");
            // Charges not on a bill first (purchases, usage not yet billed), then bill by bill.
            let mut groups: Vec<Option<String>> = vec![None];
            groups.extend(a.bills.iter().map(|b| Some(b.id.clone())));
            for g in &groups {
                let head = match g {
                    Some(id) => {
                        let b = a.bills.iter().find(|b| &b.id == id);
                        match b {
                            Some(b) => format!(
                                "bill {id}  {} .. {}  issued {}  {} {}  {}",
                                b.period_start,
                                b.period_end,
                                b.issued_at,
                                b.amount,
                                a.currency,
                                b.status
                            ),
                            None => format!("bill {id}"),
                        }
                    }
                    None => "not on a bill (purchases, and usage not yet billed)".to_string(),
                };
                if !a.charges.iter().any(|c| &c.bill == g) {
                    continue;
                }
                let _ = writeln!(o, "    {head}");
                for c in a.charges.iter().filter(|c| &c.bill == g) {
                    let up = c
                        .unit_price
                        .as_deref()
                        .map(|u| format!(" @ {u}"))
                        .unwrap_or_default();
                    let _ = writeln!(
                        o,
                        "      {:<25} {:<12} {:<14} {:>12}{:<14} {:>14}  {}",
                        c.at,
                        c.item,
                        format!("{:?}", c.kind).to_lowercase(),
                        c.quantity,
                        up,
                        c.amount,
                        c.rule
                    );
                }
            }
            if !a.transitions.is_empty() || !a.alerts.is_empty() {
                let _ = writeln!(o, "  timeline");
                let mut tl: Vec<(String, String)> = a
                    .transitions
                    .iter()
                    .map(|t| {
                        (
                            t.at.clone(),
                            format!(
                                "{:<14} {} -> {}  {}",
                                t.subject,
                                t.from.as_deref().unwrap_or("(new)"),
                                t.to,
                                t.rule
                            ),
                        )
                    })
                    .collect();
                tl.extend(a.alerts.iter().map(|x| {
                    (
                        x.at.clone(),
                        format!("alert {}: {}  {}", x.kind, x.message, x.rule),
                    )
                }));
                tl.sort_by(|x, y| x.0.cmp(&y.0));
                for (at, what) in tl {
                    let _ = writeln!(o, "    {at:<25} {what}");
                }
            }
            if !a.rejections.is_empty() {
                let _ = writeln!(o, "  rejections");
                for r in &a.rejections {
                    let what = r.meter.as_deref().or(r.item.as_deref()).unwrap_or("-");
                    let _ = writeln!(
                        o,
                        "    {:<25} line {:<6} {:<14} {:>10}  {}  {}",
                        r.at,
                        r.line,
                        what,
                        r.quantity,
                        r.reason,
                        r.rule.as_deref().unwrap_or("")
                    );
                }
            }
            let t = &a.totals;
            let _ = writeln!(
                o,
                "  totals  charged {}  paid {}  outstanding {}  unbilled {}  balance {}",
                t.charged,
                t.paid,
                t.outstanding,
                t.unbilled,
                a.final_.balance.as_deref().unwrap_or("not tracked")
            );
            let _ = writeln!(o, "  final");
            for (k, v) in &a.final_.states.0 {
                let rem = a
                    .final_
                    .remaining
                    .0
                    .iter()
                    .find(|(n, _)| n == k)
                    .and_then(|(_, r)| r.clone());
                let rem = rem.map(|r| format!("  remaining {r}")).unwrap_or_default();
                let _ = writeln!(o, "    {:<16} {}{}", k, v.as_deref().unwrap_or(""), rem);
            }
        }
        if !self.invalid.is_empty() {
            let _ = writeln!(o, "\ninvalid lines");
            for i in &self.invalid {
                let _ = writeln!(o, "  line {}: {}", i.line, i.error);
            }
        }
        if self.after_until > 0 {
            let _ = writeln!(
                o,
                "\n{} event(s) after until, not evaluated",
                self.after_until
            );
        }
        o
    }
}
