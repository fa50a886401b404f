//! Driving an evaluation: trace lines in (validated, routed to their accounts, checked for
//! time order), a [`Report`] out.

use rustc_hash::FxHashMap;

use rust_decimal::Decimal;

use crate::eval::report::{InvalidOut, Report};
use crate::eval::{Account, EvalError, Event};
use crate::model::Model;
use crate::time::Instant;
use crate::trace::{LineError, parse_line};

/// Options of an evaluation.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Evaluate up to this instant (default: the latest event time).
    pub until: Option<Instant>,
    /// Track every account's balance from the start with this amount.
    pub opening: Option<Decimal>,
    /// List bad lines under `invalid` and go on.
    pub keep_going: bool,
    /// Carry out every event on the general path, without the fast lane that sums runs of
    /// alike usage events (the reports are the same; tests compare the two).
    pub no_fast_lane: bool,
}

/// Why a run stopped.
#[derive(Debug)]
pub enum Stop {
    /// A bad line (without `--keep-going`).
    Line(u64, LineError),
    /// Evaluation itself failed.
    Eval(EvalError),
}

/// An evaluation in progress.
pub struct Run<'m> {
    m: &'m Model,
    opts: Options,
    accounts: Vec<Account>,
    /// Account name to index (an Fx hash: the map is only looked up, never listed).
    index: FxHashMap<String, usize>,
    /// Account index by a host's number for it ([`Run::event_keyed`]; `u32::MAX`: none yet).
    keyed: Vec<u32>,
    invalid: Vec<InvalidOut>,
    after_until: u64,
    latest: Option<Instant>,
    last: Option<usize>,
    first_line: Vec<u64>,
}

/// What a run produced before its accounts are brought to `until` and reported; parts of
/// runs over disjoint sets of accounts merge into one report.
pub struct Parts {
    accounts: Vec<Account>,
    first_line: Vec<u64>,
    invalid: Vec<InvalidOut>,
    after_until: u64,
    latest: Option<Instant>,
}

#[cfg(test)]
impl Parts {
    /// The accounts these parts hold (tests of the spread over workers).
    pub(crate) fn account_names(&self) -> impl Iterator<Item = &str> {
        self.accounts.iter().map(|a| a.name.as_str())
    }
}

impl<'m> Run<'m> {
    /// A new run.
    pub fn new(m: &'m Model, opts: Options) -> Self {
        Run {
            m,
            opts,
            accounts: Vec::new(),
            index: FxHashMap::default(),
            keyed: Vec::new(),
            invalid: Vec::new(),
            after_until: 0,
            latest: None,
            last: None,
            first_line: Vec::new(),
        }
    }

    fn bad(&mut self, line: u64, e: LineError) -> Result<(), Stop> {
        if self.opts.keep_going {
            self.invalid.push(InvalidOut {
                line,
                error: e.to_string(),
            });
            Ok(())
        } else {
            Err(Stop::Line(line, e))
        }
    }

    /// Feeds one trace line (1-based `line`).
    pub fn line(&mut self, text: &str, line: u64) -> Result<(), Stop> {
        match parse_line(self.m, text, line) {
            Ok(None) => Ok(()),
            Ok(Some(p)) => self.event(&p.account, p.event),
            Err(e) => self.bad(line, e),
        }
    }

    /// Feeds a line that is not UTF-8.
    pub fn not_text(&mut self, line: u64) -> Result<(), Stop> {
        self.bad(line, LineError::not_text())
    }

    /// Feeds one validated event of `account`.
    pub fn event(&mut self, account: &str, ev: Event) -> Result<(), Stop> {
        // Consecutive events of one account are the common case: skip the hash lookup.
        let cached = self.last.filter(|&i| self.accounts[i].name == account);
        let a = match cached.or_else(|| self.index.get(account).copied()) {
            Some(a) => a,
            None => {
                let a = self.open(account, ev.line);
                self.index.insert(account.to_string(), a);
                a
            }
        };
        self.last = Some(a);
        self.apply(a, ev)
    }

    /// Feeds one validated event of the account a host numbers `key` (numbers are small and
    /// dense, each always for one account); `name` gives its name the first time.
    pub fn event_keyed(
        &mut self,
        key: u32,
        name: impl FnOnce() -> String,
        ev: Event,
    ) -> Result<(), Stop> {
        let k = key as usize;
        let a = match self.keyed.get(k) {
            Some(&a) if a != u32::MAX => a as usize,
            _ => {
                let a = self.open(&name(), ev.line);
                if self.keyed.len() <= k {
                    self.keyed.resize(k + 1, u32::MAX);
                }
                // An index past u32 (4 billion accounts) cannot be kept here.
                self.keyed[k] = u32::try_from(a).map_err(|_| {
                    Stop::Eval(EvalError::new("more than 4 billion accounts".to_string()))
                })?;
                a
            }
        };
        self.apply(a, ev)
    }

    /// Reports a bad line (1-based), or stops at it without `--keep-going`.
    pub fn reject(&mut self, line: u64, e: LineError) -> Result<(), Stop> {
        self.bad(line, e)
    }

    /// A new account, first seen at `line`: its index.
    fn open(&mut self, account: &str, line: u64) -> usize {
        let mut acc = Account::new(self.m, account);
        if let Some(o) = self.opts.opening {
            acc.open_balance(o);
        }
        self.accounts.push(acc);
        self.first_line.push(line);
        self.accounts.len() - 1
    }

    /// Applies an event to account `a`.
    fn apply(&mut self, a: usize, ev: Event) -> Result<(), Stop> {
        if let Some(prev) = self.accounts[a].last_at.filter(|p| ev.at < *p) {
            let msg = format!(
                "time goes back: this event is earlier than the account's previous one at {}",
                self.m.zone.format(prev)
            );
            return self.bad(
                ev.line,
                LineError {
                    field: Some("at"),
                    message: msg,
                },
            );
        }
        if self.opts.until.is_some_and(|u| ev.at > u) {
            self.after_until += 1;
            // Keep time order checks working for the lines that follow.
            self.accounts[a].last_at = Some(ev.at);
            return Ok(());
        }
        self.latest = Some(self.latest.map_or(ev.at, |l| l.max(ev.at)));
        let acc = &mut self.accounts[a];
        if self.opts.no_fast_lane {
            acc.apply(self.m, &ev)
        } else {
            acc.apply_lane(self.m, &ev)
        }
        .map_err(Stop::Eval)
    }

    /// Fires what is due up to `until` and reports.
    pub fn finish(self) -> Result<Report, Stop> {
        let (m, opts) = (self.m, self.opts.clone());
        assemble(m, &opts, vec![self.into_parts()?], 1)
    }

    /// What the run produced so far.
    pub fn into_parts(mut self) -> Result<Parts, Stop> {
        self.flush()?;
        Ok(Parts {
            accounts: self.accounts,
            first_line: self.first_line,
            invalid: self.invalid,
            after_until: self.after_until,
            latest: self.latest,
        })
    }

    /// The accounts evaluated so far (for tests and hosts).
    pub fn accounts(&mut self) -> Result<&[Account], Stop> {
        self.flush()?;
        Ok(&self.accounts)
    }

    /// Carries what the accounts' fast lanes hold into the accounts.
    fn flush(&mut self) -> Result<(), Stop> {
        for a in &mut self.accounts {
            a.flush_lane(self.m).map_err(Stop::Eval)?;
        }
        Ok(())
    }
}

/// Merges the parts of runs over disjoint accounts: every account brought to `until` (default:
/// the latest event time of all) on `jobs` threads, accounts in order of first appearance, bad
/// lines in order.
pub fn assemble(m: &Model, opts: &Options, parts: Vec<Parts>, jobs: usize) -> Result<Report, Stop> {
    let latest = parts.iter().filter_map(|p| p.latest).max();
    let until = opts.until.or(latest);
    let mut accounts: Vec<(u64, Account)> = Vec::new();
    let mut invalid = Vec::new();
    let mut after_until = 0;
    for p in parts {
        accounts.extend(p.first_line.into_iter().zip(p.accounts));
        invalid.extend(p.invalid);
        after_until += p.after_until;
    }
    accounts.sort_by_key(|(line, _)| *line);
    invalid.sort_by_key(|i| i.line);
    // Accounts are independent: bring them to `until` and report them on every core.
    let jobs = jobs.clamp(1, accounts.len().max(1));
    let chunk = accounts.len().div_ceil(jobs).max(1);
    let finish =
        |slice: &mut [(u64, Account)]| -> Result<Vec<crate::eval::report::AccountReport>, Stop> {
            slice
                .iter_mut()
                .map(|(_, a)| {
                    if let Some(u) = until {
                        a.advance(m, u).map_err(Stop::Eval)?;
                    }
                    Ok(a.report(m))
                })
                .collect()
        };
    let reports: Vec<Result<Vec<_>, Stop>> = if jobs == 1 {
        vec![finish(&mut accounts)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = accounts
                .chunks_mut(chunk)
                .map(|c| scope.spawn(move || finish(c)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(Stop::Eval(EvalError::new("a reporting thread failed")))
                    })
                })
                .collect()
        })
    };
    let mut out = Vec::with_capacity(accounts.len());
    for r in reports {
        out.extend(r?);
    }
    Ok(Report {
        product: m.product.clone(),
        rules: m.file.clone(),
        until: until.map(|u| m.zone.format(u)),
        accounts: out,
        invalid,
        after_until,
    })
}
