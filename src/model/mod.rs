//! The evaluable model: a checked rule file compiled to indices and exact values.
//!
//! The evaluator never looks at names or spans: references are resolved here once, and
//! each rule keeps a `FILE:LINE` for reports.

mod compile;

use std::collections::HashMap;
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::ast::{Example, RoundMode, TierMode};
use crate::time::{Cadence, Dur, Zone};

pub use compile::compile;

/// Index of a meter.
pub type MeterId = usize;
/// Index of an item.
pub type ItemId = usize;
/// Index of a lifecycle.
pub type LcId = usize;
/// Index of a state within its lifecycle.
pub type StateId = usize;
/// Index of a parameter.
pub type ParamId = usize;

/// `FILE:LINE` of a rule.
pub type RuleRef = Arc<str>;

/// A compiled rule file.
#[derive(Debug)]
pub struct Model {
    /// Product id.
    pub product: String,
    /// The rule file's name as given.
    pub file: String,
    /// Currency code.
    pub currency: String,
    /// `FILE:LINE` of the product header.
    pub header: RuleRef,
    /// Time zone.
    pub zone: Zone,
    /// Meters.
    pub meters: Vec<MeterM>,
    /// Items (free tiers, packages, editions, packs, resources).
    pub items: Vec<Item>,
    /// Prices in source order.
    pub prices: Vec<PriceM>,
    /// Drawdown orders in source order.
    pub draws: Vec<DrawM>,
    /// Limits.
    pub limits: Vec<LimitM>,
    /// Parameters.
    pub params: Vec<ParamM>,
    /// The cycle that bills pay-as-you-go usage.
    pub usage_cycle: Option<CycleM>,
    /// Lifecycles.
    pub lifecycles: Vec<LifecycleM>,
    /// The service's lifecycle.
    pub service: Option<LcId>,
    /// Triggers.
    pub triggers: Vec<TriggerM>,
    /// Alerts.
    pub alerts: Vec<AlertM>,
    /// Examples, as written.
    pub examples: Vec<(Example, RuleRef)>,
    /// Some alert watches each package's remaining quota.
    pub has_package_alerts: bool,
    /// Some trigger watches the total remaining of packages.
    pub has_total_watches: bool,
    /// Per meter: the rules that usage of it may involve (see [`MeterPlan`]).
    pub plans: Vec<MeterPlan>,
    /// Name lookups.
    pub meter_ix: HashMap<String, MeterId>,
    /// Name lookups.
    pub item_ix: HashMap<String, ItemId>,
    /// Name lookups.
    pub param_ix: HashMap<String, ParamId>,
}

impl Model {
    /// A meter by name (a short scan beats hashing for the few meters a product has).
    pub fn meter_id(&self, name: &str) -> Option<MeterId> {
        if self.meters.len() <= 16 {
            self.meters.iter().position(|m| m.name == name)
        } else {
            self.meter_ix.get(name).copied()
        }
    }
}

/// The rules that usage of one meter may involve, each list in source order, so that
/// evaluating an event does not scan every rule of the model. Selectors are still matched
/// against each event's dimensions.
#[derive(Clone, Debug, Default)]
pub struct MeterPlan {
    /// Limits on the meter's usage (indices into [`Model::limits`]).
    pub limits: Vec<usize>,
    /// Drawdown orders of the meter (indices into [`Model::draws`]).
    pub draws: Vec<usize>,
    /// Prices of the meter (indices into [`Model::prices`]).
    pub prices: Vec<usize>,
    /// Tiered prices whose volume counts the meter's usage (indices into [`Model::prices`]).
    pub volumes: Vec<usize>,
    /// Some package in the meter refuses usage past its quota.
    pub stops_at_quota: bool,
}

impl Model {
    /// Fills [`Model::plans`] from the rules (after compiling, or after changing the rules).
    pub fn index(&mut self) {
        let mut plans = vec![MeterPlan::default(); self.meters.len()];
        for (li, l) in self.limits.iter().enumerate() {
            if let LimitOn::Usage(me, _) = &l.on
                && let Some(p) = plans.get_mut(*me)
            {
                p.limits.push(li);
            }
        }
        for (di, d) in self.draws.iter().enumerate() {
            if let Some(p) = plans.get_mut(d.meter) {
                p.draws.push(di);
            }
        }
        for (pi, pr) in self.prices.iter().enumerate() {
            if let Some(p) = plans.get_mut(pr.meter) {
                p.prices.push(pi);
            }
            if let PriceShape::Tiered(BasisM::Volume { meter, .. }, _) = &pr.shape
                && let Some(p) = plans.get_mut(*meter)
            {
                p.volumes.push(pi);
            }
        }
        for it in &self.items {
            if let (
                ItemKind::Package {
                    refuse_past_quota: true,
                    ..
                },
                Some(me),
            ) = (&it.kind, it.meter)
                && let Some(p) = plans.get_mut(me)
            {
                p.stops_at_quota = true;
            }
        }
        self.plans = plans;
    }

    /// What usage of `meter` may involve.
    pub fn plan(&self, meter: MeterId) -> &MeterPlan {
        static NONE: MeterPlan = MeterPlan {
            limits: Vec::new(),
            draws: Vec::new(),
            prices: Vec::new(),
            volumes: Vec::new(),
            stops_at_quota: false,
        };
        self.plans.get(meter).unwrap_or(&NONE)
    }

    /// The alerts on the remaining quota of each package that watch packages of `item`, with
    /// their indices into [`Model::alerts`] and their thresholds.
    pub fn package_alerts(&self, item: ItemId) -> impl Iterator<Item = (usize, &ThresholdM)> {
        self.alerts
            .iter()
            .enumerate()
            .filter_map(move |(ai, a)| match &a.watch {
                Some(WatchM::Remaining {
                    sel,
                    threshold,
                    per_package: true,
                }) if item_selected(&self.items[item], sel) => Some((ai, threshold)),
                _ => None,
            })
    }

    /// The limits on usage of `meter` that apply to usage with these dimension values, with
    /// their indices into [`Model::limits`].
    pub fn usage_limits<'m>(
        &'m self,
        meter: MeterId,
        dims: &'m [u8],
    ) -> impl Iterator<Item = (usize, &'m LimitM)> + 'm {
        self.plan(meter)
            .limits
            .iter()
            .map(|&li| (li, &self.limits[li]))
            .filter(|(_, l)| matches!(&l.on, LimitOn::Usage(_, sel) if sel.matches(dims)))
    }
}

/// A meter.
#[derive(Debug)]
pub struct MeterM {
    /// Name.
    pub name: String,
    /// Dimensions: name and values.
    pub dims: Vec<(String, Vec<String>)>,
    /// Counted by distinct subject.
    pub distinct: bool,
    /// Fractional quantities allowed.
    pub fractional: bool,
}

/// A selector: for each dimension tested, the allowed values as a bit set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sel {
    /// `(dimension index, allowed value bits)`.
    pub tests: Vec<(usize, u64)>,
}

impl Sel {
    /// Whether dimension values (`dims[d]` = value index, or `u8::MAX` when absent) pass.
    pub fn matches(&self, dims: &[u8]) -> bool {
        self.tests
            .iter()
            .all(|&(d, bits)| dims.get(d).is_some_and(|&v| v < 64 && bits & (1 << v) != 0))
    }

    /// Whether everything this selector accepts, `other` accepts too.
    pub fn within(&self, other: &Sel) -> bool {
        other.tests.iter().all(|&(d, bits)| {
            self.tests
                .iter()
                .any(|&(d2, b2)| d2 == d && b2 & !bits == 0)
        })
    }
}

/// An edition's cap: the meter, its own cap, and what each unit of a pack adds.
pub type CapM = (MeterId, Decimal, Option<(Decimal, ItemId)>);

/// Kinds of items.
#[derive(Debug)]
pub enum ItemKind {
    /// Created at the account's first event.
    FreeTier,
    /// A prepaid package.
    Package {
        /// Price of one.
        price: Decimal,
        /// Validity.
        valid: Option<Dur>,
        /// Usage past the quota is refused.
        refuse_past_quota: bool,
    },
    /// An edition (subscription).
    Edition {
        /// Fee per period (or per purchase).
        fee: Decimal,
        /// What one period (or purchase) lasts.
        term: Option<Dur>,
        /// Cap: meter, base, and per-pack addition.
        cap: Option<CapM>,
        /// The edition this one replaces.
        replaces: Option<ItemId>,
    },
    /// An add-on pack.
    Pack {
        /// Units of the meter one pack adds.
        size: Decimal,
        /// Item and state required at purchase.
        needs: Option<(ItemId, StateId)>,
        /// Smallest purchase, in packs.
        minimum: Decimal,
        /// Prices by purchase size.
        tiers: Option<Tiers>,
    },
    /// A recurring resource.
    Resource {
        /// Fee per unit per month.
        fee: Decimal,
        /// Prorated by days enabled.
        prorated: bool,
        /// When its bills are issued.
        cadence: Cadence,
        /// Rounding of each line.
        rounding: Option<RoundingM>,
    },
}

/// An item.
#[derive(Debug)]
pub struct Item {
    /// Name.
    pub name: String,
    /// What it is.
    pub kind: ItemKind,
    /// The meter its quota is in.
    pub meter: Option<MeterId>,
    /// Quota of one unit.
    pub quota: Decimal,
    /// Which usage it serves.
    pub sel: Sel,
    /// Lifecycle.
    pub lifecycle: Option<LcId>,
    /// Where it is declared.
    pub rule: RuleRef,
}

impl Item {
    /// Whether drawdown can take from it.
    pub fn is_allowance(&self) -> bool {
        matches!(self.kind, ItemKind::FreeTier | ItemKind::Package { .. })
    }
}

/// Tiers, resolved to exclusive lower and inclusive upper bounds.
#[derive(Clone, Debug)]
pub struct Tiers {
    /// Graduated or volume.
    pub mode: TierMode,
    /// `(upper bound or None for open, unit price, flat fee)`, in order from 0.
    pub tiers: Vec<(Option<Decimal>, Decimal, Decimal)>,
}

/// How a tiered price places units.
#[derive(Clone, Debug)]
pub enum BasisM {
    /// Cumulative accepted volume of a meter in a calendar period.
    Volume {
        /// The period.
        period: crate::ast::CalUnit,
        /// The meter.
        meter: MeterId,
        /// Which usage counts.
        sel: Sel,
    },
    /// One event's quantity.
    Event,
}

/// Shapes of prices.
#[derive(Clone, Debug)]
pub enum PriceShape {
    /// Per unit.
    Unit(Decimal),
    /// Per started block: (price, block size).
    Block(Decimal, Decimal),
    /// A share (percent) of the quantity plus a fixed fee.
    Percent(Decimal, Decimal),
    /// Tiered.
    Tiered(BasisM, Tiers),
}

/// A price.
#[derive(Debug)]
pub struct PriceM {
    /// Name, the charge's item.
    pub name: String,
    /// The meter.
    pub meter: MeterId,
    /// Which usage.
    pub sel: Sel,
    /// How.
    pub shape: PriceShape,
    /// Minimum per event.
    pub min_event: Option<Decimal>,
    /// Maximum per event.
    pub max_event: Option<Decimal>,
    /// Where it is declared.
    pub rule: RuleRef,
}

/// A drawdown source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceM {
    /// One item.
    Item(ItemId),
    /// Every package serving the usage.
    Packages,
    /// Pay-as-you-go.
    Payg,
}

/// A drawdown order.
#[derive(Debug)]
pub struct DrawM {
    /// Meter.
    pub meter: MeterId,
    /// Which usage.
    pub sel: Sel,
    /// Sources in order.
    pub sources: Vec<SourceM>,
    /// Where it is declared.
    pub rule: RuleRef,
}

/// A value that is literal or read from a parameter.
#[derive(Clone, Debug)]
pub enum Val {
    /// A literal.
    Lit(Decimal),
    /// A parameter.
    Param(ParamId),
}

/// What a limit counts.
#[derive(Clone, Debug)]
pub enum LimitOn {
    /// Accepted usage of a meter.
    Usage(MeterId, Sel),
    /// Units of a resource enabled.
    Enable(ItemId),
}

/// A limit per calendar period.
#[derive(Debug)]
pub struct LimitM {
    /// What it counts.
    pub on: LimitOn,
    /// How much.
    pub amount: Val,
    /// Per what.
    pub per: crate::ast::CalUnit,
    /// Accept up to the limit (`true`) or refuse whole.
    pub partial: bool,
    /// Where it is declared.
    pub rule: RuleRef,
}

/// A parameter value.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum PVal {
    /// Not set.
    Unset,
    /// on/off.
    Switch(bool),
    /// A number, quantity, money or percentage.
    Num(Decimal),
    /// An item.
    Item(ItemId),
}

/// Types of parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PType {
    /// on/off
    Switch,
    /// a number or quantity
    Num,
    /// a percentage
    Percent,
    /// an item
    Item,
}

/// A parameter.
#[derive(Debug)]
pub struct ParamM {
    /// Name.
    pub name: String,
    /// Type.
    pub ty: PType,
    /// Default (`Unset` when optional).
    pub default: PVal,
}

/// Rounding.
#[derive(Clone, Copy, Debug)]
pub struct RoundingM {
    /// Decimal places.
    pub dp: u32,
    /// Mode.
    pub mode: RoundMode,
    /// Per bill, not per line.
    pub per_bill: bool,
}

/// The usage billing cycle.
#[derive(Debug)]
pub struct CycleM {
    /// Name.
    pub name: String,
    /// When bills are issued.
    pub cadence: Cadence,
    /// Rounding.
    pub rounding: Option<RoundingM>,
    /// Where it is declared.
    pub rule: RuleRef,
}

/// A lifecycle.
#[derive(Debug)]
pub struct LifecycleM {
    /// Name.
    pub name: String,
    /// States; the first is initial.
    pub states: Vec<StateM>,
    /// Transitions in source order.
    pub transitions: Vec<TransM>,
    /// Where it is declared.
    pub rule: RuleRef,
}

/// A state.
#[derive(Debug, Default)]
pub struct StateM {
    /// Name.
    pub name: String,
    /// Quota can be drawn; an edition serves.
    pub usable: bool,
    /// Refuses all usage of the account.
    pub refuses: bool,
    /// Forfeits quota on entry.
    pub drops: bool,
    /// Resets distinct counts on entry.
    pub resets: bool,
    /// A resource unit accrues its fee.
    pub billed: bool,
}

/// What fires a transition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OnM {
    /// At expiry.
    AtExpiry,
    /// At once.
    AtOnce,
    /// After a duration in the state.
    After(Dur),
    /// On renewal.
    Renew,
    /// On a new purchase.
    Purchase,
    /// Replaced by another edition.
    Replaced,
    /// Enabled.
    Enable,
    /// Disabled.
    Disable,
    /// Quota reached zero.
    Empty,
    /// Quota rose above zero.
    Refilled,
    /// A bill went unpaid.
    Unpaid,
    /// No bill outstanding.
    Settled,
    /// A subject of an item entered a state (by name).
    Enters(ItemId, String),
}

/// A transition.
#[derive(Debug)]
pub struct TransM {
    /// From these states.
    pub from: Vec<StateId>,
    /// To this one.
    pub to: StateId,
    /// When.
    pub on: OnM,
    /// Renewal validity restarts at the renewal.
    pub from_renewal: bool,
    /// Where it is declared.
    pub rule: RuleRef,
}

impl LifecycleM {
    /// The first transition out of `state` fired by `on`.
    pub fn find(&self, state: StateId, on: &OnM) -> Option<&TransM> {
        self.transitions
            .iter()
            .find(|t| t.from.contains(&state) && &t.on == on)
    }

    /// The first transition out of `state` whose trigger passes `pred`.
    pub fn find_by(&self, state: StateId, pred: impl Fn(&OnM) -> bool) -> Option<&TransM> {
        self.transitions
            .iter()
            .find(|t| t.from.contains(&state) && pred(&t.on))
    }
}

/// A threshold.
#[derive(Clone, Debug)]
pub enum ThresholdM {
    /// A percentage literal.
    Percent(Decimal),
    /// An absolute literal.
    Abs(Decimal),
    /// A parameter (its type says which).
    Param(ParamId),
}

/// What triggers and alerts watch.
#[derive(Clone, Debug)]
pub enum WatchM {
    /// Remaining quota of packages falls to a threshold: in total, or per package (`of quota`).
    Remaining {
        /// Which packages.
        sel: Sel,
        /// Threshold.
        threshold: ThresholdM,
        /// Per package, relative to its quota.
        per_package: bool,
    },
    /// A lead time before each package's expiry.
    BeforeExpiry {
        /// Lead time.
        lead: Dur,
        /// Which packages.
        sel: Sel,
    },
    /// Distinct count reaches a share of the cap.
    CountReaches {
        /// Meter.
        meter: MeterId,
        /// Threshold.
        threshold: ThresholdM,
    },
}

/// A trigger.
#[derive(Debug)]
pub struct TriggerM {
    /// Name.
    pub name: String,
    /// What fires it.
    pub watches: Vec<WatchM>,
    /// A switch that must be on.
    pub condition: Option<ParamId>,
    /// What to buy: an item or an item parameter.
    pub purchase: Result<ItemId, ParamId>,
    /// Alert raised on failure.
    pub else_alert: Option<usize>,
    /// Where it is declared.
    pub rule: RuleRef,
}

/// An alert.
#[derive(Debug)]
pub struct AlertM {
    /// Name (its kind in reports).
    pub name: String,
    /// What raises it; `None` for trigger failures.
    pub watch: Option<WatchM>,
    /// Where it is declared.
    pub rule: RuleRef,
}

/// Whether package item `it` is among the packages `sel` selects.
pub fn item_selected(it: &Item, sel: &Sel) -> bool {
    matches!(it.kind, ItemKind::Package { .. }) && it.sel.within(sel)
}
