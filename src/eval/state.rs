//! The state of one account, and the records evaluation produces. All of it serialises,
//! so a host can checkpoint an account between events.

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::PVal;
use crate::time::Instant;

/// Something that exists in an account and has a state: the service, a free tier, a package,
/// an edition, a pack, a resource unit.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Subject {
    /// Its item (`None` for the service).
    pub item: Option<usize>,
    /// `N` of `ITEM#N`; 0 for subjects named by the item alone.
    pub number: u32,
    /// Current state (index into its lifecycle).
    pub state: usize,
    /// When it entered that state.
    pub since: Instant,
    /// When its validity started.
    pub effective: Instant,
    /// When its validity ends.
    pub expires: Option<Instant>,
    /// Creation order in the account.
    pub seq: u64,
    /// Quota granted.
    pub quota: Decimal,
    /// Quota left.
    pub remaining: Decimal,
    /// Units held (packs in one purchase).
    pub units: Decimal,
    /// For resource units: when enabled and disabled.
    pub enabled_at: Option<Instant>,
    /// When disabled.
    pub disabled_at: Option<Instant>,
    /// Per-package thresholds already alerted: (alert, threshold).
    pub fired: Vec<(u32, Decimal)>,
    /// Lead-time watches done: (watch key, expiry they were for).
    pub leads: Vec<(u32, Instant)>,
}

/// A counter over a calendar period.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Ctr {
    /// Period start.
    pub start: Option<Instant>,
    /// Period end (exclusive).
    pub end: Option<Instant>,
    /// Counted so far.
    pub used: Decimal,
}

/// Kinds of charges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An edition's period fee.
    Subscription,
    /// A package, pack or plan, and renewals of packages.
    Purchase,
    /// A resource's periodic fee.
    Recurring,
    /// Pay-as-you-go.
    Usage,
    /// The difference rounding made to a bill.
    Rounding,
}

/// A charge.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Charge {
    /// When.
    pub at: Instant,
    /// What the rules call it.
    pub item: String,
    /// Kind.
    pub kind: Kind,
    /// Quantity.
    pub quantity: Decimal,
    /// Price of one unit, where there is one.
    pub unit_price: Option<Decimal>,
    /// Amount.
    pub amount: Decimal,
    /// The bill that took it (index).
    pub bill: Option<usize>,
    /// `FILE:LINE`.
    pub rule: String,
    /// The id of the event that caused it.
    #[serde(default)]
    pub id: Option<String>,
    /// Merge key for pay-as-you-go lines (price index).
    #[serde(skip)]
    pub price: Option<usize>,
}

/// A bill.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Bill {
    /// When issued.
    pub issued_at: Instant,
    /// Period covered.
    pub period_start: Instant,
    /// Period end (exclusive).
    pub period_end: Instant,
    /// Amount.
    pub amount: Decimal,
    /// Paid.
    pub paid: bool,
}

/// A state change.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TransRec {
    /// When.
    pub at: Instant,
    /// Subject index.
    pub subject: usize,
    /// From (state name), `None` at creation.
    pub from: Option<String>,
    /// To.
    pub to: String,
    /// `FILE:LINE`.
    pub rule: String,
    /// The id of the event that caused it.
    #[serde(default)]
    pub id: Option<String>,
}

/// An alert.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AlertRec {
    /// When.
    pub at: Instant,
    /// The subject concerned.
    pub subject: String,
    /// The alert's name.
    pub kind: String,
    /// For people.
    pub message: String,
    /// `FILE:LINE`.
    pub rule: String,
    /// The id of the event that caused it.
    #[serde(default)]
    pub id: Option<String>,
}

/// Something refused.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Rejection {
    /// When.
    pub at: Instant,
    /// Trace line.
    pub line: u64,
    /// Meter, for usage (an index into [`Account::names`]).
    pub meter: Option<u32>,
    /// Item, for purchases, renewals and enables (an index into the names).
    pub item: Option<u32>,
    /// Quantity refused.
    pub quantity: Decimal,
    /// Why (a stable short code; an index into the names).
    pub reason: u32,
    /// `FILE:LINE` of the rule that refused it (an index into the names).
    pub rule: Option<u32>,
    /// The id of the event refused.
    #[serde(default)]
    pub id: Option<String>,
}

/// The open usage cycle.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Cycle {
    /// Start.
    pub start: Instant,
    /// End, when its bill is issued.
    pub end: Instant,
    /// Charges it holds.
    pub lines: Vec<usize>,
}

/// Everything known about one account.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Account {
    /// Its name.
    pub name: String,
    /// Seen its first event.
    pub started: bool,
    /// Time of its last event.
    pub last_at: Option<Instant>,
    /// Balance, once tracked.
    pub balance: Option<Decimal>,
    /// Parameter values.
    pub params: Vec<PVal>,
    /// Subjects in creation order.
    pub subjects: Vec<Subject>,
    /// Next number per item.
    pub next_number: Vec<u32>,
    /// Subjects in a state that refuses usage.
    pub refusing: u32,
    /// Limit counters.
    pub limits: Vec<Ctr>,
    /// Volume counters of tiered prices.
    pub volumes: Vec<Ctr>,
    /// Distinct subjects counted, per meter.
    pub distinct: Vec<BTreeSet<String>>,
    /// Charges.
    pub charges: Vec<Charge>,
    /// Bills.
    pub bills: Vec<Bill>,
    /// Transitions.
    pub transitions: Vec<TransRec>,
    /// Alerts.
    pub alerts: Vec<AlertRec>,
    /// Rejections (small: their texts are kept once in `names`).
    pub rejections: Vec<Rejection>,
    /// Texts that rejections refer to, each kept once.
    pub names: Vec<String>,
    /// Where each text is in `names` (rebuilt after a restore).
    #[serde(skip)]
    pub name_ix: std::collections::HashMap<String, u32>,
    /// The open usage cycle.
    pub cycle: Option<Cycle>,
    /// Pay-as-you-go lines when no cycle bills them.
    pub loose: Vec<usize>,
    /// Unpaid bills, oldest first.
    pub outstanding: Vec<usize>,
    /// Per resource item: start of the first month not yet billed.
    pub res_from: Vec<Option<Instant>>,
    /// Per trigger watch (trigger, watch): remaining was above the threshold.
    pub above: Vec<Vec<bool>>,
    /// Per alert: armed (for count watches).
    pub armed: Vec<bool>,
    /// Quantities seen, for invariants.
    pub stats: Stats,
    /// The id of the event being applied.
    #[serde(skip)]
    pub cur_id: Option<String>,
    /// Cached time of the next timer; `None` when it must be recomputed.
    #[serde(skip)]
    pub next_due: Option<Option<Instant>>,
    /// Subjects that may hold quota, for drawdown (rebuilt when subjects are added).
    #[serde(skip)]
    pub(crate) stock: Stock,
    /// Usage summed but not yet carried into the account (see [`super::lane`]).
    #[serde(skip)]
    pub(crate) lane: super::lane::Lane,
}

/// The subjects whose remaining quota may be above zero, in creation order: a superset of
/// those that hold quota. Quota only rises when a subject is created, and the list is rebuilt
/// whenever the number of subjects changes; subjects found empty leave it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Stock {
    /// The number of subjects when the list was built.
    pub(crate) built_for: usize,
    /// Subject indices.
    pub(crate) list: Vec<u32>,
}

/// Usage quantities, for invariants: `used = accepted + refused`, `accepted = drawn + payg + counted`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Usage in the trace.
    pub used: Decimal,
    /// Accepted.
    pub accepted: Decimal,
    /// Refused.
    pub refused: Decimal,
    /// Served by allowances.
    pub drawn: Decimal,
    /// Priced pay-as-you-go.
    pub payg: Decimal,
    /// Accepted without a price (distinct-subject meters).
    pub counted: Decimal,
    /// Every charge so far: kept exact so that an overflowing total fails on its line.
    #[serde(default)]
    pub charged: Decimal,
}
