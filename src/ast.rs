//! The typed syntax tree of a rule file: what the parser builds and the checker reads.
//!
//! Every node keeps the byte span it came from, so that diagnostics can point at it.
//! Literals keep their units: a [`Quantity`] names its unit, [`Money`] its currency and
//! a [`Duration`] its calendar unit. Numbers are exact decimals from the start.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A byte range in the rule file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        (s.start, s.end.saturating_sub(s.start)).into()
    }
}

/// A value with the span it was written at.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Spanned<T> {
    /// The value.
    pub node: T,
    /// Where it was written.
    pub span: Span,
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    /// Spans are ignored: two trees are equal when they say the same thing.
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node
    }
}

/// A name written in the rules.
pub type Ident = Spanned<String>;

/// A parsed rule file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleFile {
    /// The products declared (a valid file has exactly one).
    pub products: Vec<Product>,
}

/// `product ID "name" { ... }`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// The product id (`acme-mail`).
    pub id: Ident,
    /// The display name.
    pub name: Option<Spanned<String>>,
    /// Declarations in source order.
    pub decls: Vec<Decl>,
    /// The whole block.
    pub span: Span,
}

/// One declaration and the notes that follow it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decl {
    /// What is declared.
    pub kind: DeclKind,
    /// Citations and assumptions.
    pub notes: Vec<Note>,
    /// The declaration without its notes.
    pub span: Span,
}

/// A citation or an assumption attached to a declaration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Note {
    /// `cite SOURCE "quote"`
    Cite {
        /// The source alias.
        source: Ident,
        /// The quoted sentence.
        quote: Spanned<String>,
    },
    /// `assumed "why"`
    Assumed {
        /// Why, if said.
        reason: Option<Spanned<String>>,
        /// The whole note.
        span: Span,
    },
}

/// Every kind of declaration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DeclKind {
    /// `currency USD`
    Currency(Ident),
    /// `timezone +08:00`
    Timezone(Spanned<TzSpec>),
    /// `source en = "file.txt"`
    Source {
        /// Alias used by citations.
        alias: Ident,
        /// File name.
        file: Spanned<String>,
    },
    /// `meter ...`
    Meter(Meter),
    /// `free_tier ...`
    FreeTier(FreeTier),
    /// `package ...`
    Package(Package),
    /// `edition ...`
    Edition(Edition),
    /// `pack ...`
    Pack(Pack),
    /// `resource ...`
    Resource(Resource),
    /// `price ...`
    Price(Price),
    /// `draw ...`
    Draw(Draw),
    /// `limit ...`
    Limit(Limit),
    /// `param ...`
    Param(Param),
    /// `bill ...`
    Bill(BillDecl),
    /// `lifecycle ...`
    Lifecycle(Lifecycle),
    /// `trigger ...`
    Trigger(Trigger),
    /// `alert ...`
    Alert(Alert),
    /// `example ...`
    Example(Example),
}

/// How the product's time zone was written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TzSpec {
    /// A fixed offset in seconds east of UTC.
    Offset(i32),
    /// An IANA name (`Asia/Shanghai`), or `UTC`.
    Named(String),
}

/// A number with a unit: `600_000 email`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quantity {
    /// The value.
    pub value: Spanned<Decimal>,
    /// The unit, a meter or an item name (a trailing `s` is allowed).
    pub unit: Ident,
}

/// An amount of money: `144 USD`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Money {
    /// The amount.
    pub amount: Spanned<Decimal>,
    /// Three-letter currency code.
    pub currency: Ident,
}

/// Calendar units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CalUnit {
    /// An hour.
    Hour,
    /// A day (24 hours, or a calendar day for limits and cycles).
    Day,
    /// A calendar month.
    Month,
    /// Twelve calendar months.
    Year,
}

impl CalUnit {
    /// The unit's name, singular.
    pub fn name(self) -> &'static str {
        match self {
            CalUnit::Hour => "hour",
            CalUnit::Day => "day",
            CalUnit::Month => "month",
            CalUnit::Year => "year",
        }
    }
}

/// `6 months`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Duration {
    /// How many units.
    pub count: Spanned<Decimal>,
    /// Which unit.
    pub unit: CalUnit,
    /// The whole literal.
    pub span: Span,
}

/// `where region = mainland and template in (a, b)`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Selector {
    /// Every test must hold.
    pub tests: Vec<Test>,
    /// The whole selector.
    pub span: Span,
}

/// `dim = value` or `dim in (values)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Test {
    /// The dimension.
    pub dim: Ident,
    /// The accepted values.
    pub values: Vec<Ident>,
    /// Written with `in (...)`.
    pub is_list: bool,
}

/// `meter sms: dim region (mainland, international), counted by distinct subject`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Meter {
    /// The meter name, also its unit.
    pub name: Ident,
    /// Dimensions and their values.
    pub dims: Vec<(Ident, Vec<Ident>)>,
    /// Counted by distinct `subject`.
    pub distinct: bool,
    /// Quantities may be fractional.
    pub fractional: bool,
}

/// `free_tier free_emails: 1_000 email once per account`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FreeTier {
    /// Name.
    pub name: Ident,
    /// The quota.
    pub quota: Quantity,
    /// Which usage it serves.
    pub selector: Option<Selector>,
    /// Its lifecycle.
    pub lifecycle: Option<Ident>,
}

/// What happens past a package's quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PastQuota {
    /// Usage overflows to pay-as-you-go.
    Payg,
    /// Usage is refused.
    Refuse,
}

/// `package bundle_s: 600_000 email for 144 USD, valid 6 months, no refund`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Package {
    /// Name.
    pub name: Ident,
    /// The quota.
    pub quota: Quantity,
    /// Which usage it serves.
    pub selector: Option<Selector>,
    /// The price.
    pub price: Money,
    /// Validity from purchase.
    pub valid: Option<Duration>,
    /// `Some(false)` for `no refund`, `Some(true)` for `refundable`.
    pub refundable: Option<Spanned<bool>>,
    /// Past the quota.
    pub past_quota: Option<Spanned<PastQuota>>,
    /// Its lifecycle.
    pub lifecycle: Option<Ident>,
}

/// `edition basic: 2_000 CNY per month, cap 200_000 user + 100_000 user per user_pack`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Edition {
    /// Name.
    pub name: Ident,
    /// The fee for one period.
    pub fee: Money,
    /// The period the fee buys (`per month`).
    pub period: Option<Duration>,
    /// Validity of a purchase, when not a period.
    pub valid: Option<Duration>,
    /// The cap.
    pub cap: Option<Cap>,
    /// Which edition buying this one replaces.
    pub replaces: Option<Ident>,
    /// `Some(false)` for `no refund`.
    pub refundable: Option<Spanned<bool>>,
    /// Its lifecycle.
    pub lifecycle: Option<Ident>,
}

/// `cap 200_000 user + 100_000 user per user_pack`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cap {
    /// The edition's own cap.
    pub base: Quantity,
    /// What each add-on pack adds, and the pack.
    pub per_pack: Option<(Quantity, Ident)>,
}

/// `pack user_pack: 100_000 user each, needs basic active, priced by purchase size volume {...}`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pack {
    /// Name.
    pub name: Ident,
    /// What one pack holds.
    pub size: Quantity,
    /// An item and the state it must be in for a purchase.
    pub needs: Option<(Ident, Ident)>,
    /// The smallest purchase.
    pub minimum: Option<Quantity>,
    /// Prices by the size of one purchase.
    pub tiers: Option<TierTable>,
    /// `Some(false)` for `no refund`.
    pub refundable: Option<Spanned<bool>>,
    /// Its lifecycle.
    pub lifecycle: Option<Ident>,
}

/// `resource static_ip: 120 USD per month, prorated by days enabled, billed monthly on day 1 at 08:00`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// Name.
    pub name: Ident,
    /// Fee per unit per period.
    pub fee: Money,
    /// The fee's period.
    pub period: Duration,
    /// Prorated by days enabled.
    pub prorated: bool,
    /// When bills are issued.
    pub billed: Option<Spanned<Schedule>>,
    /// Rounding of its charges.
    pub rounding: Option<Rounding>,
    /// Its lifecycle.
    pub lifecycle: Option<Ident>,
}

/// `graduated` or `volume`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TierMode {
    /// Each unit at its own tier's price.
    Graduated,
    /// The whole quantity at the price of the tier it reaches.
    Volume,
}

/// Tiers and how units are placed in them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TierTable {
    /// Graduated or volume.
    pub mode: Spanned<TierMode>,
    /// The tiers in order.
    pub tiers: Vec<Tier>,
    /// The braces.
    pub span: Span,
}

/// One tier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tier {
    /// The range of units.
    pub range: TierRange,
    /// The unit price (`None` for `free`).
    pub price: TierPrice,
    /// A flat fee added when the tier is reached.
    pub flat: Option<Money>,
    /// The whole tier line.
    pub span: Span,
}

/// The units of a tier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TierRange {
    /// `first N unit`: (0, N]
    First(Quantity),
    /// `up to N unit`: (previous, N]
    UpTo(Quantity),
    /// `A to B unit`: whole units A..=B
    Between(Spanned<Decimal>, Quantity),
    /// `above N unit`: (N, ∞)
    Above(Quantity),
    /// `N unit or more`: [N, ∞)
    OrMore(Quantity),
}

/// The price of a tier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TierPrice {
    /// `free`
    Free(Span),
    /// `0.045 CNY per sms`
    PerUnit(Money, Ident),
    /// `100 USD flat`
    Flat(Money),
}

/// `price NAME: ...`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Price {
    /// Name, used as the charge's item.
    pub name: Ident,
    /// How it prices.
    pub body: PriceBody,
    /// Minimum and maximum charges.
    pub bounds: Vec<ChargeBound>,
}

/// The shapes of a price.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PriceBody {
    /// `0.00028 USD per email`
    Unit {
        /// Price of one unit.
        price: Money,
        /// The meter.
        meter: Ident,
        /// Which usage.
        selector: Option<Selector>,
    },
    /// `5 USD per block of 1_000 email`
    Block {
        /// Price of one block.
        price: Money,
        /// The block.
        block: Quantity,
        /// Which usage.
        selector: Option<Selector>,
    },
    /// `2.9% of payment + 0.30 USD`
    Percent {
        /// The share.
        percent: Spanned<Decimal>,
        /// The meter whose quantity is an amount.
        meter: Ident,
        /// Which usage.
        selector: Option<Selector>,
        /// A fixed fee per event.
        fixed: Option<Money>,
    },
    /// `sms where ..., graduated by month volume of sms where ... { tiers }`
    Tiered {
        /// The meter priced.
        meter: Ident,
        /// Which usage.
        selector: Option<Selector>,
        /// What places units in tiers.
        basis: Basis,
        /// The tiers.
        table: TierTable,
    },
}

/// What places units in tiers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Basis {
    /// Cumulative volume of a meter in a calendar period.
    Volume {
        /// The period.
        period: CalUnit,
        /// The meter counted.
        meter: Ident,
        /// Which of its usage counts.
        selector: Option<Selector>,
        /// The whole basis.
        span: Span,
    },
    /// One event's quantity.
    Event(Span),
}

/// `min 5 USD per month` or `max 10 USD per event`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChargeBound {
    /// `true` for a minimum.
    pub is_min: bool,
    /// The amount.
    pub amount: Money,
    /// Per event when `None` or the period.
    pub per: Option<Duration>,
    /// The whole option.
    pub span: Span,
}

/// Where drawdown takes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DrawSource {
    /// Every package that serves the usage, earliest expiry first.
    Packages(Span),
    /// Pay-as-you-go prices.
    Payg(Span),
    /// A named allowance.
    Named(Ident),
}

/// `draw email: free_emails, then packages by earliest expiry, then payg`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Draw {
    /// The meter.
    pub meter: Ident,
    /// Which usage.
    pub selector: Option<Selector>,
    /// Sources in order.
    pub sources: Vec<DrawSource>,
}

/// What a limit counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LimitTarget {
    /// Accepted usage of a meter.
    Usage(Ident, Option<Selector>),
    /// Units of a resource enabled.
    Enable(Ident),
}

/// The amount of a limit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Amount {
    /// A literal with a unit.
    Quantity(Quantity),
    /// A bare number.
    Number(Spanned<Decimal>),
    /// A parameter.
    Param(Ident),
}

/// `limit email: daily_limit per day, partial`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limit {
    /// What is counted.
    pub target: LimitTarget,
    /// How much per period.
    pub amount: Amount,
    /// The calendar period.
    pub per: Spanned<CalUnit>,
    /// Partial acceptance (`true`) or refuse whole (`false`).
    pub partial: Option<Spanned<bool>>,
}

/// A parameter value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// `on`/`off`
    Switch(bool),
    /// `none`
    None,
    /// `10%`
    Percent(Decimal),
    /// `300_000 email`
    Quantity(Quantity),
    /// `10 USD`
    Money(Money),
    /// `3`
    Number(Decimal),
    /// `plan_5k`
    Name(String),
}

/// The declared type of a parameter without a default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ParamType {
    /// on/off
    Switch,
    /// an item name
    Item,
    /// a percentage
    Percent,
    /// a quantity of a meter
    Unit(Ident),
}

/// `param daily_limit = 300_000 email`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Param {
    /// Name.
    pub name: Ident,
    /// Default.
    pub default: Option<Spanned<Value>>,
    /// Declared type, when there is no default.
    pub ty: Option<Spanned<ParamType>>,
    /// Declared `optional`.
    pub optional: bool,
}

/// When bills are issued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Schedule {
    /// At the end of every clock hour.
    Hourly,
    /// Every day at a local time (seconds after midnight).
    Daily(u32),
    /// Every month on a day at a local time.
    Monthly(u32, u32),
}

/// Rounding modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoundMode {
    /// Half away from zero.
    HalfUp,
    /// Half to even.
    HalfEven,
    /// Half towards zero.
    HalfDown,
    /// Away from zero.
    Up,
    /// Towards zero.
    Down,
}

/// `round to 0.01 half up per bill`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rounding {
    /// The step (0.01).
    pub step: Spanned<Decimal>,
    /// The mode.
    pub mode: RoundMode,
    /// Per bill (`true`) or per line.
    pub per_bill: bool,
    /// The whole option.
    pub span: Span,
}

/// `bill usage: daily at 00:00, round to 0.01 half up per bill`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BillDecl {
    /// The cycle's name.
    pub name: Ident,
    /// When bills are issued.
    pub schedule: Spanned<Schedule>,
    /// Rounding.
    pub rounding: Option<Rounding>,
}

/// State attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StateAttr {
    /// Quota can be drawn, an edition serves.
    Usable,
    /// All usage of the account is refused.
    RefusesUsage,
    /// No way out is expected.
    Final,
    /// Remaining quota is forfeited on entry.
    DropsQuota,
    /// Distinct-subject counts are reset on entry.
    ResetsCount,
    /// A resource unit accrues its fee.
    Billed,
}

/// `state grace: usable`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateDecl {
    /// Name.
    pub name: Ident,
    /// Attributes.
    pub attrs: Vec<Spanned<StateAttr>>,
}

/// What moves a subject from one state to another.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum On {
    /// At the end of its validity.
    AtExpiry,
    /// As soon as the state is entered.
    AtOnce,
    /// A duration after the state is entered.
    After(Duration),
    /// A renewal.
    Renew,
    /// A new purchase of the item.
    Purchase,
    /// Another edition replaced it.
    Replaced,
    /// A resource unit is enabled.
    Enable,
    /// A resource unit is disabled.
    Disable,
    /// Its quota reached zero.
    Empty,
    /// Its quota rose above zero.
    Refilled,
    /// A bill could not be paid.
    UnpaidBill,
    /// No bill is outstanding any more.
    BillsSettled,
    /// A subject of another item entered a state.
    Enters(Ident, Ident),
}

/// `grace, retention -> active on renew, validity from expiry`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// From these states.
    pub from: Vec<Ident>,
    /// To this one.
    pub to: Ident,
    /// When.
    pub on: Spanned<On>,
    /// For renewals: validity restarts at the renewal (`true`) or continues from the expiry.
    pub from_renewal: Option<Spanned<bool>>,
    /// The whole line.
    pub span: Span,
}

/// `lifecycle NAME { states and transitions }`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lifecycle {
    /// Name (`service` is the account's service).
    pub name: Ident,
    /// States in order; the first is the initial one.
    pub states: Vec<StateDecl>,
    /// Transitions in order.
    pub transitions: Vec<Transition>,
}

/// What a trigger or an alert watches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Watch {
    /// `remaining of packages where ... falls to THRESHOLD [of quota]`
    RemainingFalls {
        /// Which packages.
        selector: Option<Selector>,
        /// The threshold.
        threshold: Threshold,
        /// Each package on its own (`each package`), not their total.
        each: bool,
        /// Relative to each package's quota (`of quota`).
        of_quota: bool,
        /// The whole watch.
        span: Span,
    },
    /// `7 days before expiry of packages where ...`
    BeforeExpiry {
        /// How long before.
        lead: Duration,
        /// Which packages.
        selector: Option<Selector>,
        /// The whole watch.
        span: Span,
    },
    /// `count of user reaches 90% of cap`
    CountReaches {
        /// The meter.
        meter: Ident,
        /// The threshold.
        threshold: Threshold,
        /// The whole watch.
        span: Span,
    },
}

/// A threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Threshold {
    /// `90%`
    Percent(Spanned<Decimal>),
    /// `500 sms`
    Quantity(Quantity),
    /// A parameter.
    Param(Ident),
}

/// `trigger NAME: when WATCH or WATCH, if PARAM, purchase PARAM from balance, else alert NAME`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    /// Name.
    pub name: Ident,
    /// What fires it.
    pub watches: Vec<Watch>,
    /// A switch parameter that must be on.
    pub condition: Option<Ident>,
    /// The item (or item parameter) to buy.
    pub purchase: Ident,
    /// The alert raised when the purchase fails.
    pub else_alert: Option<Ident>,
}

/// `alert NAME: when WATCH` or `alert NAME: when TRIGGER fails`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Name, the alert's kind in reports.
    pub name: Ident,
    /// What raises it.
    pub on: AlertOn,
}

/// What raises an alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AlertOn {
    /// A watched condition.
    Watch(Watch),
    /// A trigger's action failed.
    Fails(Ident),
}

/// `example "name" { events, until, expectations }`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// Name.
    pub name: Spanned<String>,
    /// Events in order.
    pub events: Vec<ExEvent>,
    /// Evaluate up to this local date and time.
    pub until: Option<Spanned<LocalTime>>,
    /// Opening balance.
    pub opening: Option<Money>,
    /// Expectations.
    pub expects: Vec<Expect>,
}

/// A local date and time, as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalTime {
    /// `2026-01-02`
    pub date: String,
    /// `08:00` or `08:00:00`
    pub clock: Option<String>,
}

/// An event of an example.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExEvent {
    /// When, in the product's time zone.
    pub at: Spanned<LocalTime>,
    /// What.
    pub action: ExAction,
    /// The whole line.
    pub span: Span,
}

/// What an example event does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ExAction {
    /// `usage 5 sms where region = mainland subject "u1"`
    Usage {
        /// Quantity and meter.
        quantity: Quantity,
        /// Dimensions.
        dims: Option<Selector>,
        /// Subject.
        subject: Option<Spanned<String>>,
        /// One event per subject: prefix, first and last number.
        subjects: Option<(Spanned<String>, Spanned<Decimal>, Spanned<Decimal>)>,
    },
    /// `purchase 8 user_pack for 2 periods`
    Purchase {
        /// Units.
        quantity: Option<Spanned<Decimal>>,
        /// Item.
        item: Ident,
        /// Periods.
        periods: Option<Spanned<Decimal>>,
    },
    /// `renew basic for 2 periods`, `renew email_10k#1`
    Renew {
        /// Item or subject.
        target: Ident,
        /// Periods.
        periods: Option<Spanned<Decimal>>,
    },
    /// `enable 2 static_ip`
    Enable(Option<Spanned<Decimal>>, Ident),
    /// `disable 1 static_ip`
    Disable(Option<Spanned<Decimal>>, Ident),
    /// `topup 100 USD`
    Topup(Money),
    /// `set daily_limit = 400_000 email`
    Set(Ident, Spanned<Value>),
}

/// What an example expects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Expect {
    /// `expect charged 144 USD` (or paid, outstanding, unbilled, balance)
    Total(Spanned<Total>, Money),
    /// `expect remaining bundle_s#1 = 0`
    Remaining(Ident, Spanned<Decimal>),
    /// `expect state service = suspended`
    State(Ident, Ident),
    /// `expect rejected 1_000`
    Rejected(Spanned<Decimal>),
    /// `expect alerts near_cap = 1`
    Alerts(Ident, Spanned<Decimal>),
    /// `expect charge payg = 0.28 USD`
    Charge(Ident, Money),
    /// `expect bills = 3`
    Bills(Spanned<Decimal>),
    /// `expect count user = 1_000`
    Count(Ident, Spanned<Decimal>),
}

/// Which total an expectation reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Total {
    /// Everything charged.
    Charged,
    /// Paid.
    Paid,
    /// Issued and unpaid.
    Outstanding,
    /// Not yet billed.
    Unbilled,
    /// The final balance.
    Balance,
}

impl Total {
    /// The keyword.
    pub fn name(self) -> &'static str {
        match self {
            Total::Charged => "charged",
            Total::Paid => "paid",
            Total::Outstanding => "outstanding",
            Total::Unbilled => "unbilled",
            Total::Balance => "balance",
        }
    }
}
