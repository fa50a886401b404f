//! Evaluation: a compiled [`Model`] and time-ordered events in, per-account reports out.
//!
//! The engine is a library first: an [`Account`] takes events one at a time
//! ([`Account::apply`]), moves to a time ([`Account::advance`]), and serialises to bytes
//! ([`Account::snapshot`], [`Account::restore`]) so that a host can checkpoint it.

mod engine;
mod items;
mod lane;
mod pricing;
pub mod report;
pub mod state;
mod timers;
mod usage;

use rust_decimal::Decimal;

use crate::model::{ItemId, MeterId, Model, PVal, ParamId};
use crate::time::Instant;
pub use state::Account;

/// Dimensions a meter may have; an event holds one value index per dimension.
pub const MAX_DIMS: usize = 8;

/// One event, resolved against the model.
#[derive(Clone, Debug)]
pub struct Event {
    /// Trace line (1-based), or example line.
    pub line: u64,
    /// When.
    pub at: Instant,
    /// The trace's event id, echoed in what the event causes.
    pub id: Option<String>,
    /// What.
    pub kind: EventKind,
}

/// What an event does.
#[derive(Clone, Debug)]
pub enum EventKind {
    /// Usage of a meter.
    Usage {
        /// Meter.
        meter: MeterId,
        /// Quantity.
        quantity: Decimal,
        /// Value index per dimension (`u8::MAX` when absent).
        dims: [u8; MAX_DIMS],
        /// Who used it.
        subject: Option<String>,
    },
    /// A purchase.
    Purchase {
        /// Item.
        item: ItemId,
        /// Units.
        quantity: Decimal,
        /// Periods.
        periods: i64,
    },
    /// A renewal.
    Renew {
        /// Item.
        item: ItemId,
        /// `ITEM#N`.
        number: Option<u32>,
        /// Periods.
        periods: i64,
    },
    /// Units of a resource switched on.
    Enable {
        /// Resource.
        item: ItemId,
        /// Units.
        quantity: Decimal,
    },
    /// Units switched off.
    Disable {
        /// Resource.
        item: ItemId,
        /// Units.
        quantity: Decimal,
    },
    /// Money added.
    Topup {
        /// Amount.
        amount: Decimal,
    },
    /// A parameter changed.
    Set {
        /// Parameter.
        param: ParamId,
        /// Value.
        value: PVal,
    },
}

/// A failure of evaluation itself (not of the input): overflow, a runaway rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError {
    /// What happened.
    pub message: String,
    /// The trace line being evaluated.
    pub line: Option<u64>,
    /// The rule involved.
    pub rule: Option<String>,
}

impl EvalError {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> EvalError {
        EvalError {
            message: message.into(),
            line: None,
            rule: None,
        }
    }

    /// Arithmetic overflow.
    pub fn overflow() -> EvalError {
        EvalError::new(
            "arithmetic overflow: an amount or quantity is beyond the exact decimal range",
        )
    }

    /// Names the rule.
    pub fn with_rule(mut self, rule: String) -> EvalError {
        self.rule.get_or_insert(rule);
        self
    }

    /// Names the trace line.
    pub fn at_line(mut self, line: u64) -> EvalError {
        self.line.get_or_insert(line);
        self
    }
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(l) = self.line {
            write!(f, " (trace line {l})")?;
        }
        if let Some(r) = &self.rule {
            write!(f, " (rule {r})")?;
        }
        Ok(())
    }
}

impl Account {
    /// The account's state as bytes.
    pub fn snapshot(&self) -> Vec<u8> {
        debug_assert!(!self.lane.is_open(), "a snapshot with usage pending");
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// An account from [`Account::snapshot`] bytes.
    pub fn restore(bytes: &[u8]) -> Result<Account, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("not an account snapshot: {e}"))
    }
}

/// Decimal text without trailing zeros (`144`, `0.28`).
pub fn dec(d: Decimal) -> String {
    let n = d.normalize();
    if n.is_zero() {
        "0".to_string()
    } else {
        n.to_string()
    }
}

#[doc(hidden)]
pub fn _assert_model(_: &Model) {}
