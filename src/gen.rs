//! Trace generation: a compiled [`Model`] and a seed in, a realistic JSON Lines trace out.
//!
//! The generator knows no product: meters, dimensions, items, parameters, limits and prices all
//! come from the model. Usage dominates; the other events follow each account's needs (an
//! allowance running low, a cap nearly reached, an expiry coming, a balance running down) so
//! that long traces stay plausible instead of piling up subjects. Same seed, same bytes: the
//! only randomness is a seeded ChaCha8, and nothing reads the clock.
//!
//! Money estimates are integers in micro-units of the currency: they only steer the generator
//! (when to top up, by how much) and are never evaluated. Floating point only shapes random
//! sizes; every number written to the trace is an integer or a `Decimal`.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, FixedOffset};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::ast::CalUnit;
use crate::model::{ItemKind, LimitOn, Model, OnM, PType, PVal, PriceShape, Val};
use crate::time::Dur;

/// Arguments of `tariff gen`.
#[derive(clap::Args, Debug)]
pub struct GenArgs {
    /// The rule file.
    pub rules: PathBuf,
    /// How many events (lines) to write.
    #[arg(long, default_value_t = 10_000)]
    pub events: u64,
    /// How many accounts to spread them over.
    #[arg(long, default_value_t = 1)]
    pub accounts: u32,
    /// Seed of the random generator: the same seed gives the same trace.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Time of the first event (RFC 3339 with offset); lines use its offset.
    #[arg(long, default_value = "2026-01-01T00:00:00+08:00")]
    pub start: String,
    /// Days the trace spans.
    #[arg(long, default_value_t = 90)]
    pub days: u32,
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenOptions {
    /// Events (lines) to write.
    pub events: u64,
    /// Accounts (at least 1).
    pub accounts: u32,
    /// Seed.
    pub seed: u64,
    /// Time of the first event.
    pub start: DateTime<FixedOffset>,
    /// Days the trace spans (1 to 36,500).
    pub days: u32,
}

/// What was written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GenSummary {
    /// Lines written.
    pub lines: u64,
    /// Usage lines among them.
    pub usage: u64,
}

/// Runs `tariff gen`.
pub fn run(args: GenArgs) -> ExitCode {
    let start = match DateTime::parse_from_rfc3339(&args.start) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "error: --start `{}` is not an RFC 3339 time with offset: {e}",
                args.start
            );
            return ExitCode::from(2);
        }
    };
    let opts = GenOptions {
        events: args.events,
        accounts: args.accounts,
        seed: args.seed,
        start,
        days: args.days,
    };
    if let Err(e) = validate(&opts) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let Some(model) = crate::evalcmd::load_model(&args.rules) else {
        return ExitCode::from(1);
    };
    let stdout = io::stdout();
    match generate(&model, &opts, stdout.lock()) {
        Ok(_) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is not an error of ours.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write the trace: {e}");
            ExitCode::from(1)
        }
    }
}

fn validate(o: &GenOptions) -> Result<(), String> {
    if o.accounts == 0 || o.accounts > 10_000_000 {
        return Err("--accounts must be from 1 to 10,000,000".into());
    }
    if o.days == 0 || o.days > 36_500 {
        return Err("--days must be from 1 to 36,500".into());
    }
    let end = o.start.timestamp() + i64::from(o.days) * 86_400 + 86_400;
    let local_end = end + i64::from(o.start.offset().local_minus_utc());
    if o.start.timestamp() < 0 || civil(local_end.div_euclid(86_400)).0 > 9999 {
        return Err("--start and --days must stay within the years 1970 to 9999".into());
    }
    Ok(())
}

/// Writes `opts.events` trace lines for `model` to `out`.
pub fn generate<W: Write>(model: &Model, opts: &GenOptions, out: W) -> io::Result<GenSummary> {
    validate(opts).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut g = Gen::new(model, opts);
    g.run(out)
}

// ---------------------------------------------------------------------------------------------
// What the model offers, prepared once.

struct MeterPlan {
    /// `"meter":"NAME"` and the rest of the fixed part.
    head: Vec<u8>,
    /// Per dimension, per value: `"DIM":"VALUE"`.
    dims: Vec<Vec<Vec<u8>>>,
    distinct: bool,
    fractional: bool,
    /// Units one account uses per day, about.
    daily: f64,
    /// Estimated pay-as-you-go price per unit, micro-units, for a typical usage.
    unit_cost: i64,
    /// Per combination of dimension values (mixed radix, first dimension most significant):
    /// the unit price and whether packages serve it. Empty when there are too many.
    combos: Vec<(i64, bool)>,
    /// Package items serving it.
    packages: Vec<usize>,
    /// Typical package quota.
    pkg_quota: f64,
    /// Editions that cap it, entry ones first.
    editions: Vec<usize>,
}

#[derive(Clone, Copy)]
enum Kind {
    FreeTier,
    Package,
    Edition,
    Pack,
    Resource,
}

/// An edition's cap: meter, base, and what each pack (of which item) adds.
type Cap = (usize, f64, Option<(f64, usize)>);

struct ItemPlan {
    name: Vec<u8>,
    kind: Kind,
    meter: Option<usize>,
    quota: f64,
    /// Price of one unit (or one period), micro-units.
    price: i64,
    renewable: bool,
    /// About how long one period lasts, seconds.
    term: Option<i64>,
    /// Edition cap: meter, base, and what each pack of which item adds.
    cap: Option<Cap>,
    replaces: Option<usize>,
    minimum: u32,
    /// Item that must be held to buy this pack.
    needs: Option<usize>,
}

struct ParamPlan {
    name: Vec<u8>,
    ty: PType,
    default: PVal,
    /// Items a value may name (same kind as the default).
    items: Vec<usize>,
    /// A base for numeric values without a default.
    base: Decimal,
    /// A limit reads it: accounts raise limits (or go back to the default), rarely lower them.
    raises: bool,
}

struct Acct {
    name: Vec<u8>,
    started: bool,
    setup: Vec<Act>,
    /// Tops up and so has a tracked balance.
    tracked: bool,
    balance: i64,
    target: i64,
    allowance: Vec<f64>,
    pool: Vec<u64>,
    growth: f64,
    held: Vec<u32>,
    expiry: Vec<i64>,
    enabled: Vec<u32>,
    /// Last resource switch and last occasional purchase.
    last_switch: i64,
    last_buy: i64,
    /// Last `set`: people change settings now and then, not every second.
    last_set: i64,
    renews_on_time: bool,
    late_by: i64,
    params: Vec<PVal>,
    /// Usage events per day.
    per_day: f64,
}

#[derive(Clone, Copy)]
enum Act {
    Usage,
    Topup(i64),
    Purchase(usize, u32, u32),
    Renew(usize, u32, Option<u32>),
    Enable(usize, u32),
    Disable(usize, u32),
    Set(usize),
}

struct Gen {
    rng: ChaCha8Rng,
    n: u64,
    start: i64,
    span: i64,
    offset: i64,
    offset_text: Vec<u8>,
    meters: Vec<MeterPlan>,
    items: Vec<ItemPlan>,
    params: Vec<ParamPlan>,
    accounts: Vec<Acct>,
    cum: Vec<f64>,
    buf: Vec<u8>,
    day: i64,
    date: [u8; 11],
}

const DAY: i64 = 86_400;

fn quoted(s: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len() + 2);
    v.push(b'"');
    for c in s.chars() {
        match c {
            '"' => v.extend_from_slice(b"\\\""),
            '\\' => v.extend_from_slice(b"\\\\"),
            c if (c as u32) < 0x20 => {
                v.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut b = [0u8; 4];
                v.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
    v.push(b'"');
    v
}

fn micros(d: Decimal) -> i64 {
    (d * Decimal::from(1_000_000))
        .to_i64()
        .unwrap_or(i64::MAX / 4)
}

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

fn dur_secs(d: Dur) -> i64 {
    match d {
        Dur::Hours(h) => h.saturating_mul(3600),
        Dur::Days(n) => n.saturating_mul(DAY),
        Dur::Months(n) => n.saturating_mul(30 * DAY),
    }
}

fn per_day(amount: f64, per: CalUnit) -> f64 {
    match per {
        CalUnit::Hour => amount * 24.0,
        CalUnit::Day => amount,
        CalUnit::Month => amount / 30.0,
        CalUnit::Year => amount / 365.0,
    }
}

/// Days since 1970-01-01 to (year, month, day) (H. Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

fn push2(buf: &mut Vec<u8>, n: u32) {
    buf.push(b'0' + (n / 10 % 10) as u8);
    buf.push(b'0' + (n % 10) as u8);
}

/// A whole amount of micro-units, rounded up to two significant digits of whole units.
fn nice_amount(micro: i64) -> u64 {
    let units = (micro.max(1_000_000) as u64).div_ceil(1_000_000);
    let mut scale = 1u64;
    while units / scale >= 100 {
        scale *= 10;
    }
    units.div_ceil(scale) * scale
}

impl Gen {
    fn new(m: &Model, o: &GenOptions) -> Self {
        let offset = i64::from(o.start.offset().local_minus_utc());
        let mut offset_text = Vec::new();
        let (sign, abs) = if offset < 0 {
            (b'-', -offset)
        } else {
            (b'+', offset)
        };
        offset_text.push(sign);
        push2(&mut offset_text, (abs / 3600) as u32);
        offset_text.push(b':');
        push2(&mut offset_text, (abs / 60 % 60) as u32);
        let items = plan_items(m);
        let meters = plan_meters(m, &items);
        let params = plan_params(m, &items);
        let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
        let n_acc = o.accounts as usize;
        // Busier and quieter accounts: weight 1/(k+1)^0.7, shuffled by a random size factor.
        let mut weights = Vec::with_capacity(n_acc);
        for k in 0..n_acc {
            weights.push(1.0 / ((k + 1) as f64).powf(0.7) * (0.5 + rng.random::<f64>()));
        }
        let total: f64 = weights.iter().sum();
        let mut cum = Vec::with_capacity(n_acc);
        let mut acc = 0.0;
        for w in &weights {
            acc += w;
            cum.push(acc / total);
        }
        let width = o.accounts.to_string().len();
        let events_per_day = o.events as f64 / f64::from(o.days);
        let accounts = weights
            .iter()
            .enumerate()
            .map(|(k, w)| {
                let name = format!("acct-{:0width$}", k + 1);
                let mut a = Acct {
                    name: quoted(&name),
                    started: false,
                    setup: Vec::new(),
                    tracked: rng.random::<f64>() < 0.7,
                    balance: 0,
                    target: 0,
                    allowance: vec![0.0; meters.len()],
                    pool: vec![0; meters.len()],
                    growth: 0.5 + 4.5 * rng.random::<f64>().powi(2),
                    held: vec![0; items.len()],
                    expiry: vec![i64::MAX; items.len()],
                    enabled: vec![0; items.len()],
                    last_switch: i64::MIN / 2,
                    last_buy: i64::MIN / 2,
                    last_set: i64::MIN / 2,
                    renews_on_time: rng.random::<f64>() < 0.85,
                    late_by: rng.random_range(1..=20) * DAY,
                    params: m.params.iter().map(|p| p.default.clone()).collect(),
                    per_day: (events_per_day * w / total).max(1e-9),
                };
                a.target = target_balance(&meters, &items);
                a
            })
            .collect();
        Gen {
            rng,
            n: o.events,
            start: o.start.timestamp(),
            span: i64::from(o.days) * DAY,
            offset,
            offset_text,
            meters,
            items,
            params,
            accounts,
            cum,
            buf: Vec::with_capacity(1 << 20),
            day: i64::MIN,
            date: [0; 11],
        }
    }

    fn run<W: Write>(&mut self, mut out: W) -> io::Result<GenSummary> {
        let mut s = GenSummary::default();
        for i in 0..self.n {
            // (i + u) * span / n is increasing in i for u in [0, 1): times never go back.
            let u: f64 = self.rng.random();
            let frac = (i as f64 + u) / self.n as f64;
            let t = self.start + ((frac * self.span as f64) as i64).min(self.span - 1);
            let a = if self.accounts.len() == 1 {
                0
            } else {
                let x: f64 = self.rng.random();
                self.cum
                    .partition_point(|&c| c < x)
                    .min(self.accounts.len() - 1)
            };
            let act = self.next_act(a, t);
            if matches!(act, Act::Usage) {
                s.usage += 1;
            }
            self.write(a, t, act);
            s.lines += 1;
            if self.buf.len() >= 1 << 20 {
                out.write_all(&self.buf)?;
                self.buf.clear();
            }
        }
        out.write_all(&self.buf)?;
        self.buf.clear();
        out.flush()?;
        Ok(s)
    }

    // -----------------------------------------------------------------------------------------
    // Choosing what an account does next.

    fn next_act(&mut self, a: usize, t: i64) -> Act {
        if !self.accounts[a].started {
            self.start_account(a);
        }
        if let Some(act) = self.accounts[a].setup.pop() {
            return act;
        }
        if self.rng.random::<f64>() < 0.95 {
            return Act::Usage;
        }
        let mut cands: Vec<(f64, Act)> = Vec::new();
        self.candidates(a, t, &mut cands);
        let total: f64 = cands.iter().map(|c| c.0).sum();
        if total <= 0.0 {
            return Act::Usage;
        }
        let mut x = self.rng.random::<f64>() * total;
        for (w, act) in &cands {
            if x < *w {
                return *act;
            }
            x -= w;
        }
        cands.last().map_or(Act::Usage, |c| c.1)
    }

    fn start_account(&mut self, a: usize) {
        let acct = &mut self.accounts[a];
        acct.started = true;
        for (mi, mp) in self.meters.iter().enumerate() {
            // Free tiers are there from the first event.
            for (ii, it) in self.items.iter().enumerate() {
                if matches!(it.kind, Kind::FreeTier) && it.meter == Some(mi) {
                    acct.allowance[mi] += it.quota;
                    acct.held[ii] = 1;
                }
            }
            // Meters capped by editions: the entry edition first.
            if let Some(&ed) = mp.editions.first()
                && !acct
                    .setup
                    .iter()
                    .any(|x| matches!(x, Act::Purchase(e, _, _) if *e == ed))
            {
                acct.setup.push(Act::Purchase(ed, 1, 1));
            }
        }
        if acct.tracked {
            acct.setup.push(Act::Topup(acct.target));
        }
    }

    fn candidates(&mut self, a: usize, t: i64, c: &mut Vec<(f64, Act)>) {
        let acct = &self.accounts[a];
        if acct.tracked && acct.balance < acct.target / 3 {
            c.push((6.0, Act::Topup(acct.target - acct.balance)));
        }
        if !self.params.is_empty() && t - acct.last_set >= 6 * 3600 {
            let p = self.rng.random_range(0..self.params.len());
            c.push((2.0, Act::Set(p)));
        }
        for (mi, mp) in self.meters.iter().enumerate() {
            if !mp.packages.is_empty() && acct.allowance[mi] < 0.25 * mp.pkg_quota {
                let k = self.rng.random_range(0..mp.packages.len());
                let qty = if self.rng.random::<f64>() < 0.9 { 1 } else { 2 };
                c.push((6.0, Act::Purchase(mp.packages[k], qty, 1)));
            }
            // Near the cap: a bigger edition, then packs.
            if mp.distinct {
                let cap = self.cap(a, mi);
                if (acct.pool[mi] as f64) >= 0.5 * cap {
                    if let Some(up) = self.upgrade(a, mi) {
                        c.push((6.0, Act::Purchase(up, 1, 1)));
                    } else if let Some((pack, min)) = self.pack_for(a, mi) {
                        let n = min.max(self.rng.random_range(1..=4));
                        c.push((6.0, Act::Purchase(pack, n, 1)));
                    }
                }
            }
        }
        for (ii, it) in self.items.iter().enumerate() {
            if !it.renewable || acct.held[ii] == 0 {
                continue;
            }
            match it.kind {
                Kind::Edition => {
                    let due = if acct.renews_on_time {
                        acct.expiry[ii].saturating_sub(3 * DAY)
                    } else {
                        acct.expiry[ii].saturating_add(acct.late_by)
                    };
                    if t >= due {
                        let periods = if self.rng.random::<f64>() < 0.8 { 1 } else { 3 };
                        c.push((8.0, Act::Renew(ii, periods, None)));
                    }
                }
                _ if t - acct.last_buy > 14 * DAY => {
                    let subject = (self.rng.random::<f64>() < 0.3)
                        .then(|| self.rng.random_range(1..=acct.held[ii]));
                    c.push((0.3, Act::Renew(ii, 1, subject)));
                }
                _ => {}
            }
        }
        if t - acct.last_switch > 7 * DAY {
            for (ii, it) in self.items.iter().enumerate() {
                if matches!(it.kind, Kind::Resource) {
                    if acct.enabled[ii] < 2 {
                        c.push((0.5, Act::Enable(ii, 1)));
                    }
                    if acct.enabled[ii] > 0 {
                        c.push((0.4, Act::Disable(ii, 1)));
                    }
                }
            }
        }
        // Now and then anything on sale, whether it fits or not (refusals are part of life).
        if t - acct.last_buy > 21 * DAY {
            let buyable: Vec<usize> = (0..self.items.len())
                .filter(|&i| match self.items[i].kind {
                    Kind::Package | Kind::Pack => true,
                    Kind::Edition => acct.held[i] == 0,
                    Kind::FreeTier | Kind::Resource => false,
                })
                .collect();
            if !buyable.is_empty() {
                let ii = buyable[self.rng.random_range(0..buyable.len())];
                let qty = match self.items[ii].kind {
                    Kind::Pack => self.items[ii].minimum.max(1),
                    _ => 1,
                };
                c.push((0.5, Act::Purchase(ii, qty, 1)));
            }
        }
    }

    /// The estimated cap on distinct subjects of meter `mi` (infinite when nothing caps it).
    fn cap(&self, a: usize, mi: usize) -> f64 {
        let acct = &self.accounts[a];
        let mut cap = 0.0;
        let mut capped = false;
        for (ii, it) in self.items.iter().enumerate() {
            let Some((m, base, per)) = it.cap else {
                continue;
            };
            if m != mi {
                continue;
            }
            capped = true;
            let replaced = self
                .items
                .iter()
                .enumerate()
                .any(|(j, e)| e.replaces == Some(ii) && acct.held[j] > 0);
            if acct.held[ii] > 0 && !replaced {
                let packs = per.map_or(0.0, |(size, pk)| size * f64::from(acct.held[pk]));
                cap += base + packs;
            }
        }
        if capped { cap } else { f64::INFINITY }
    }

    /// An edition replacing one the account holds.
    fn upgrade(&self, a: usize, mi: usize) -> Option<usize> {
        let acct = &self.accounts[a];
        self.meters[mi].editions.iter().copied().find(|&e| {
            acct.held[e] == 0 && self.items[e].replaces.is_some_and(|r| acct.held[r] > 0)
        })
    }

    /// A pack adding to the cap of an edition the account holds, and its minimum.
    fn pack_for(&self, a: usize, mi: usize) -> Option<(usize, u32)> {
        let acct = &self.accounts[a];
        self.meters[mi].editions.iter().find_map(|&e| {
            let (_, _, per) = self.items[e].cap?;
            let (_, pk) = per?;
            (acct.held[e] > 0).then(|| (pk, self.items[pk].minimum.max(1)))
        })
    }

    // -----------------------------------------------------------------------------------------
    // Writing a line and keeping the account's estimates.

    fn write(&mut self, a: usize, t: i64, act: Act) {
        self.buf.extend_from_slice(b"{\"at\":\"");
        self.push_time(t);
        self.buf.extend_from_slice(b"\",\"account\":");
        self.buf.extend_from_slice(&self.accounts[a].name);
        match act {
            Act::Usage => self.usage(a),
            Act::Topup(amount) => {
                let amount = nice_amount(amount);
                self.buf
                    .extend_from_slice(b",\"type\":\"topup\",\"amount\":");
                push_u64(&mut self.buf, amount);
                let acct = &mut self.accounts[a];
                acct.tracked = true;
                acct.balance = acct
                    .balance
                    .saturating_add((amount as i64).saturating_mul(1_000_000));
            }
            Act::Purchase(ii, qty, periods) => {
                self.buf
                    .extend_from_slice(b",\"type\":\"purchase\",\"item\":");
                self.buf.extend_from_slice(&self.items[ii].name);
                if qty != 1 {
                    self.buf.extend_from_slice(b",\"quantity\":");
                    push_u64(&mut self.buf, u64::from(qty));
                }
                if periods != 1 {
                    self.buf.extend_from_slice(b",\"periods\":");
                    push_u64(&mut self.buf, u64::from(periods));
                }
                self.bought(a, t, ii, qty, periods);
            }
            Act::Renew(ii, periods, subject) => {
                self.buf.extend_from_slice(b",\"type\":\"renew\",\"item\":");
                self.buf.extend_from_slice(&self.items[ii].name);
                if periods != 1 {
                    self.buf.extend_from_slice(b",\"periods\":");
                    push_u64(&mut self.buf, u64::from(periods));
                }
                if let Some(n) = subject {
                    let name = &self.items[ii].name;
                    self.buf.extend_from_slice(b",\"subject\":");
                    self.buf.extend_from_slice(&name[..name.len() - 1]);
                    self.buf.push(b'#');
                    push_u64(&mut self.buf, u64::from(n));
                    self.buf.push(b'"');
                }
                let it = &self.items[ii];
                let acct = &mut self.accounts[a];
                acct.last_buy = t;
                acct.balance = acct
                    .balance
                    .saturating_sub(it.price.saturating_mul(i64::from(periods)));
                if let Some(term) = it.term {
                    acct.expiry[ii] = acct.expiry[ii]
                        .max(t)
                        .saturating_add(term.saturating_mul(i64::from(periods)));
                }
            }
            Act::Enable(ii, qty) | Act::Disable(ii, qty) => {
                let on = matches!(act, Act::Enable(..));
                self.buf.extend_from_slice(if on {
                    b",\"type\":\"enable\",\"item\":"
                } else {
                    b",\"type\":\"disable\",\"item\":"
                });
                self.buf.extend_from_slice(&self.items[ii].name);
                if qty != 1 {
                    self.buf.extend_from_slice(b",\"quantity\":");
                    push_u64(&mut self.buf, u64::from(qty));
                }
                let acct = &mut self.accounts[a];
                acct.last_switch = t;
                acct.enabled[ii] = if on {
                    acct.enabled[ii] + qty
                } else {
                    acct.enabled[ii].saturating_sub(qty)
                };
                if on {
                    acct.balance = acct
                        .balance
                        .saturating_sub(self.items[ii].price.saturating_mul(i64::from(qty)));
                }
            }
            Act::Set(p) => {
                self.accounts[a].last_set = t;
                self.set(a, p);
            }
        }
        self.buf.extend_from_slice(b"}\n");
    }

    fn bought(&mut self, a: usize, t: i64, ii: usize, qty: u32, periods: u32) {
        let it = &self.items[ii];
        let acct = &mut self.accounts[a];
        acct.last_buy = t;
        let cost = it.price.saturating_mul(i64::from(qty.max(periods)));
        if acct.tracked && cost > acct.balance {
            return; // refused by the evaluator too, most likely
        }
        acct.balance = acct.balance.saturating_sub(cost);
        acct.held[ii] = acct.held[ii].saturating_add(qty);
        if let Some(m) = it.meter
            && matches!(it.kind, Kind::Package)
        {
            acct.allowance[m] += it.quota * f64::from(qty);
        }
        if let Some(term) = it.term {
            acct.expiry[ii] = t.saturating_add(term.saturating_mul(i64::from(periods)));
        }
    }

    fn usage(&mut self, a: usize) {
        let nm = self.meters.len();
        if nm == 0 {
            // No meter: a top-up of the smallest amount keeps the line valid.
            self.buf
                .extend_from_slice(b",\"type\":\"topup\",\"amount\":1");
            return;
        }
        let mi = if nm == 1 {
            0
        } else {
            self.rng.random_range(0..nm)
        };
        let mp = &self.meters[mi];
        let acct = &mut self.accounts[a];
        self.buf.extend_from_slice(&mp.head);
        // Lognormal with mean 1 (sigma 1): mostly small, a long tail of big batches.
        let (u1, u2): (f64, f64) = (self.rng.random(), self.rng.random());
        let z = (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        let x = (z - 0.5).exp().min(50.0);
        // Quiet accounts (under 10 events a day) are small customers: they use less.
        let mean = if mp.distinct {
            1.0
        } else {
            mp.daily / acct.per_day.max(10.0)
        };
        let q = mean * x;
        let units = if mp.fractional {
            let cents = (q * 100.0).round().clamp(1.0, 1e15) as u64;
            push_u64(&mut self.buf, cents / 100);
            self.buf.push(b'.');
            push2(&mut self.buf, (cents % 100) as u32);
            cents as f64 / 100.0
        } else {
            let n = q.round().clamp(1.0, 1e15) as u64;
            push_u64(&mut self.buf, n);
            n as f64
        };
        let mut combo = 0usize;
        if !mp.dims.is_empty() {
            self.buf.extend_from_slice(b",\"dims\":{");
            let mut first = true;
            for vals in &mp.dims {
                // Skewed: the first declared values are the common ones.
                let r: f64 = self.rng.random();
                let v = ((r * r * vals.len() as f64) as usize).min(vals.len().saturating_sub(1));
                combo = combo * vals.len().max(1) + v;
                if let Some(frag) = vals.get(v) {
                    if !first {
                        self.buf.push(b',');
                    }
                    first = false;
                    self.buf.extend_from_slice(frag);
                }
            }
            self.buf.push(b'}');
        }
        if mp.distinct {
            let pool = acct.pool[mi];
            let p_new = (acct.growth * 20.0 / (pool as f64 + 20.0)).clamp(0.003, 1.0);
            let id = if pool == 0 || self.rng.random::<f64>() < p_new {
                acct.pool[mi] += 1;
                pool + 1
            } else {
                self.rng.random_range(1..=pool)
            };
            self.buf.extend_from_slice(b",\"subject\":\"u");
            push_u64(&mut self.buf, id);
            self.buf.push(b'"');
        }
        let (cost, served) = mp
            .combos
            .get(combo)
            .copied()
            .unwrap_or((mp.unit_cost, true));
        let drawn = if served {
            units.min(acct.allowance[mi])
        } else {
            0.0
        };
        acct.allowance[mi] -= drawn;
        acct.balance = acct
            .balance
            .saturating_sub(((units - drawn) * cost as f64) as i64);
    }

    fn set(&mut self, a: usize, p: usize) {
        let pp = &self.params[p];
        self.buf.extend_from_slice(b",\"type\":\"set\",\"name\":");
        self.buf.extend_from_slice(&pp.name);
        self.buf.extend_from_slice(b",\"value\":");
        let current = &self.accounts[a].params[p];
        let unset_ok = pp.default == PVal::Unset;
        let factors: &[i64] = if pp.raises {
            &[100, 120, 150, 200, 300]
        } else {
            &[50, 75, 80, 120, 150, 200]
        };
        let factor = Decimal::new(factors[self.rng.random_range(0..factors.len())], 2);
        let value = match pp.ty {
            _ if unset_ok && *current != PVal::Unset && self.rng.random::<f64>() < 0.2 => {
                PVal::Unset
            }
            PType::Switch => PVal::Switch(!matches!(current, PVal::Switch(true))),
            PType::Num => {
                let base = match pp.default {
                    PVal::Num(d) => d,
                    _ => pp.base,
                };
                let v = base * factor;
                PVal::Num(if base.fract().is_zero() { v.round() } else { v })
            }
            PType::Percent => {
                let base = match pp.default {
                    PVal::Num(d) => d,
                    _ => Decimal::from(10),
                };
                PVal::Num(
                    (base * factor)
                        .round()
                        .clamp(Decimal::ONE, Decimal::from(100)),
                )
            }
            PType::Item => match pp.items.len() {
                0 => PVal::Unset,
                n => PVal::Item(pp.items[self.rng.random_range(0..n)]),
            },
        };
        match &value {
            PVal::Unset => self.buf.extend_from_slice(b"null"),
            PVal::Switch(b) => self
                .buf
                .extend_from_slice(if *b { b"true" } else { b"false" }),
            PVal::Num(d) => self
                .buf
                .extend_from_slice(d.normalize().to_string().as_bytes()),
            PVal::Item(i) => self.buf.extend_from_slice(&self.items[*i].name),
        }
        self.accounts[a].params[p] = value;
    }

    fn push_time(&mut self, t: i64) {
        let local = t + self.offset;
        let day = local.div_euclid(DAY);
        if day != self.day {
            let (y, m, d) = civil(day);
            let mut s = Vec::with_capacity(11);
            let y = y.clamp(0, 9999) as u32;
            push2(&mut s, y / 100);
            push2(&mut s, y % 100);
            s.push(b'-');
            push2(&mut s, m);
            s.push(b'-');
            push2(&mut s, d);
            s.push(b'T');
            self.date.copy_from_slice(&s);
            self.day = day;
        }
        self.buf.extend_from_slice(&self.date);
        let sec = local.rem_euclid(DAY) as u32;
        push2(&mut self.buf, sec / 3600);
        self.buf.push(b':');
        push2(&mut self.buf, sec / 60 % 60);
        self.buf.push(b':');
        push2(&mut self.buf, sec % 60);
        self.buf.extend_from_slice(&self.offset_text);
    }
}

// ---------------------------------------------------------------------------------------------
// Plans.

fn plan_items(m: &Model) -> Vec<ItemPlan> {
    m.items
        .iter()
        .map(|it| {
            let renewable = it.lifecycle.is_some_and(|l| {
                m.lifecycles[l]
                    .transitions
                    .iter()
                    .any(|t| t.on == OnM::Renew)
            });
            let mut p = ItemPlan {
                name: quoted(&it.name),
                kind: Kind::FreeTier,
                meter: it.meter,
                quota: f(it.quota),
                price: 0,
                renewable,
                term: None,
                cap: None,
                replaces: None,
                minimum: 1,
                needs: None,
            };
            match &it.kind {
                ItemKind::FreeTier => {}
                ItemKind::Package { price, valid, .. } => {
                    p.kind = Kind::Package;
                    p.price = micros(*price);
                    p.term = valid.map(dur_secs);
                }
                ItemKind::Edition {
                    fee,
                    term,
                    cap,
                    replaces,
                } => {
                    p.kind = Kind::Edition;
                    p.price = micros(*fee);
                    p.term = term.map(dur_secs);
                    p.cap = cap
                        .as_ref()
                        .map(|(mi, base, per)| (*mi, f(*base), per.map(|(d, pk)| (f(d), pk))));
                    p.replaces = *replaces;
                }
                ItemKind::Pack {
                    size,
                    needs,
                    minimum,
                    tiers,
                } => {
                    p.kind = Kind::Pack;
                    p.quota = f(*size);
                    p.minimum = minimum.to_u32().unwrap_or(1).clamp(1, 1000);
                    p.needs = needs.map(|(i, _)| i);
                    p.price = tiers
                        .as_ref()
                        .and_then(|t| t.tiers.first())
                        .map_or(0, |t| micros(t.1).saturating_add(micros(t.2)));
                }
                ItemKind::Resource { fee, .. } => {
                    p.kind = Kind::Resource;
                    p.price = micros(*fee);
                }
            }
            p
        })
        .collect()
}

fn plan_meters(m: &Model, items: &[ItemPlan]) -> Vec<MeterPlan> {
    m.meters
        .iter()
        .enumerate()
        .map(|(mi, me)| {
            let mut head = b",\"type\":\"usage\",\"meter\":".to_vec();
            head.extend_from_slice(&quoted(&me.name));
            head.extend_from_slice(b",\"quantity\":");
            let dims = me
                .dims
                .iter()
                .map(|(d, vals)| {
                    vals.iter()
                        .map(|v| {
                            let mut s = quoted(d);
                            s.push(b':');
                            s.extend_from_slice(&quoted(v));
                            s
                        })
                        .collect()
                })
                .collect();
            let packages: Vec<usize> = (0..items.len())
                .filter(|&i| matches!(items[i].kind, Kind::Package) && items[i].meter == Some(mi))
                .collect();
            let mut quotas: Vec<f64> = packages.iter().map(|&i| items[i].quota).collect();
            quotas.sort_by(f64::total_cmp);
            let pkg_quota = quotas.get(quotas.len() / 2).copied().unwrap_or(0.0);
            let free: f64 = items
                .iter()
                .filter(|i| matches!(i.kind, Kind::FreeTier) && i.meter == Some(mi))
                .map(|i| i.quota)
                .sum();
            // Aim at 60% of a declared limit, or a package lasting about three weeks.
            let limit = m
                .limits
                .iter()
                .filter_map(|l| match (&l.on, &l.amount) {
                    (LimitOn::Usage(lm, _), Val::Lit(d)) if *lm == mi => {
                        Some(per_day(f(*d), l.per))
                    }
                    (LimitOn::Usage(lm, _), Val::Param(p)) if *lm == mi => {
                        match m.params[*p].default {
                            PVal::Num(d) => Some(per_day(f(d), l.per)),
                            _ => None,
                        }
                    }
                    _ => None,
                })
                .reduce(f64::min);
            let daily = match limit {
                Some(l) if l > 0.0 => 0.6 * l,
                _ if pkg_quota > 0.0 => pkg_quota / 20.0,
                _ if free > 0.0 => free / 10.0,
                _ => 1000.0,
            };
            let combos = combos(m, mi);
            let unit_cost = combos.iter().fold(0i64, |a, c| a.saturating_add(c.0))
                / i64::try_from(combos.len().max(1)).unwrap_or(1);
            // Entry editions (replacing none) first.
            let mut editions: Vec<usize> = (0..items.len())
                .filter(|&i| items[i].cap.is_some_and(|c| c.0 == mi))
                .collect();
            editions.sort_by_key(|&i| items[i].replaces.is_some());
            MeterPlan {
                head,
                dims,
                distinct: me.distinct,
                fractional: me.fractional,
                daily,
                unit_cost,
                combos,
                packages,
                pkg_quota,
                editions,
            }
        })
        .collect()
}

fn plan_params(m: &Model, items: &[ItemPlan]) -> Vec<ParamPlan> {
    let base = items
        .iter()
        .filter(|i| matches!(i.kind, Kind::Package))
        .map(|i| i.quota)
        .fold(0.0f64, f64::max);
    let base = Decimal::from((base / 10.0).round().max(100.0) as i64);
    m.params
        .iter()
        .enumerate()
        .map(|(pi, p)| {
            let same: Vec<usize> = match p.default {
                PVal::Item(d) => (0..items.len())
                    .filter(|&i| {
                        std::mem::discriminant(&m.items[i].kind)
                            == std::mem::discriminant(&m.items[d].kind)
                    })
                    .collect(),
                _ => (0..items.len())
                    .filter(|&i| matches!(items[i].kind, Kind::Package))
                    .collect(),
            };
            ParamPlan {
                name: quoted(&p.name),
                ty: p.ty,
                default: p.default.clone(),
                items: same,
                base,
                raises: m
                    .limits
                    .iter()
                    .any(|l| matches!(l.amount, Val::Param(q) if q == pi)),
            }
        })
        .collect()
}

/// Unit price and package service of each combination of `mi`'s dimension values.
fn combos(m: &Model, mi: usize) -> Vec<(i64, bool)> {
    let dims = &m.meters[mi].dims;
    let n = dims
        .iter()
        .try_fold(1usize, |n, (_, v)| n.checked_mul(v.len().max(1)))
        .filter(|&n| n <= 4096);
    let Some(n) = n else {
        return Vec::new();
    };
    let mut dv = vec![u8::MAX; dims.len()];
    (0..n)
        .map(|mut c| {
            for (k, (_, vals)) in dims.iter().enumerate().rev() {
                let r = vals.len().max(1);
                dv[k] = if vals.is_empty() {
                    u8::MAX
                } else {
                    u8::try_from(c % r).unwrap_or(u8::MAX)
                };
                c /= r;
            }
            let cost = m
                .prices
                .iter()
                .find(|p| p.meter == mi && p.sel.matches(&dv))
                .map_or(0, |p| match &p.shape {
                    PriceShape::Unit(u) => micros(*u),
                    PriceShape::Block(price, size) if !size.is_zero() => micros(*price / *size),
                    PriceShape::Percent(pct, _) => micros(*pct / Decimal::from(100)),
                    PriceShape::Tiered(_, t) => t.tiers.first().map_or(0, |x| micros(x.1)),
                    PriceShape::Block(..) => 0,
                });
            let served = m.items.iter().any(|it| {
                matches!(it.kind, ItemKind::Package { .. })
                    && it.meter == Some(mi)
                    && it.sel.matches(&dv)
            });
            (cost, served)
        })
        .collect()
}

/// The balance an account keeps topping up to: two months of pay-as-you-go or twice the
/// dearest purchase, whichever is more.
fn target_balance(meters: &[MeterPlan], items: &[ItemPlan]) -> i64 {
    let monthly: i64 = meters
        .iter()
        .map(|mp| ((mp.daily * 30.0) as i64).saturating_mul(mp.unit_cost))
        .fold(0i64, i64::saturating_add);
    let dearest = items
        .iter()
        .filter(|i| !matches!(i.kind, Kind::FreeTier))
        .map(|i| {
            i.price.saturating_mul(
                i64::from(i.minimum.max(1)).max(if matches!(i.kind, Kind::Pack) { 4 } else { 1 }),
            )
        })
        .max()
        .unwrap_or(0);
    monthly
        .saturating_mul(2)
        .max(dearest.saturating_mul(2))
        .max(100_000_000)
}
