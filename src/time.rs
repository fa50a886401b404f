//! Time: instants, the product's time zone, calendar periods and month arithmetic.
//!
//! An [`Instant`] is microseconds since the Unix epoch (UTC). Calendar rules are computed
//! in the product's [`Zone`]; N days is N x 24 hours; N months keeps the wall-clock time and
//! clamps the day to the month's end.

use chrono::{
    DateTime, Datelike, Duration as ChronoDuration, FixedOffset, LocalResult, NaiveDate,
    NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc,
};
use serde::{Deserialize, Serialize};

use crate::ast::CalUnit;

/// Microseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Instant(pub i64);

impl Instant {
    /// The largest instant: "never".
    pub const MAX: Instant = Instant(i64::MAX);

    /// From a chrono time.
    pub fn from_chrono<Tz: TimeZone>(t: &DateTime<Tz>) -> Instant {
        // A leap second (`23:59:60`) is the last microsecond of its minute, not the next
        // minute: it stays in its day's cycle.
        let micros = i64::from(t.timestamp_subsec_micros().min(999_999));
        Instant(
            t.timestamp()
                .saturating_mul(1_000_000)
                .saturating_add(micros),
        )
    }

    /// This instant as a UTC chrono time, if representable.
    pub fn to_utc(self) -> Option<DateTime<Utc>> {
        DateTime::<Utc>::from_timestamp_micros(self.0)
    }

    /// `self + hours`, checked.
    pub fn plus_secs(self, secs: i64) -> Option<Instant> {
        secs.checked_mul(1_000_000)
            .and_then(|u| self.0.checked_add(u))
            .map(Instant)
    }
}

/// A product's time zone.
#[derive(Clone, Debug)]
pub enum Zone {
    /// A fixed offset.
    Fixed(FixedOffset),
    /// An IANA zone.
    Named(chrono_tz::Tz),
}

/// A calendar duration: what validity and periods are made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dur {
    /// Exact hours.
    Hours(i64),
    /// Days of 24 hours.
    Days(i64),
    /// Calendar months (a year is 12).
    Months(i64),
}

impl Dur {
    /// From a count and a unit.
    pub fn new(count: i64, unit: CalUnit) -> Option<Dur> {
        Some(match unit {
            CalUnit::Hour => Dur::Hours(count),
            CalUnit::Day => Dur::Days(count),
            CalUnit::Month => Dur::Months(count),
            CalUnit::Year => Dur::Months(count.checked_mul(12)?),
        })
    }

    /// This duration `n` times.
    pub fn times(self, n: i64) -> Option<Dur> {
        Some(match self {
            Dur::Hours(h) => Dur::Hours(h.checked_mul(n)?),
            Dur::Days(d) => Dur::Days(d.checked_mul(n)?),
            Dur::Months(m) => Dur::Months(m.checked_mul(n)?),
        })
    }

    /// Negated.
    pub fn negated(self) -> Dur {
        match self {
            Dur::Hours(h) => Dur::Hours(-h),
            Dur::Days(d) => Dur::Days(-d),
            Dur::Months(m) => Dur::Months(-m),
        }
    }
}

impl Zone {
    /// The wall-clock time at an instant.
    pub fn local(&self, t: Instant) -> Option<NaiveDateTime> {
        let u = t.to_utc()?;
        Some(match self {
            Zone::Fixed(o) => u.with_timezone(o).naive_local(),
            Zone::Named(z) => u.with_timezone(z).naive_local(),
        })
    }

    /// The instant of a wall-clock time (in a gap: the first instant after it; in an overlap: the earlier).
    pub fn instant(&self, n: NaiveDateTime) -> Option<Instant> {
        match self {
            Zone::Fixed(o) => o
                .from_local_datetime(&n)
                .single()
                .map(|t| Instant::from_chrono(&t)),
            Zone::Named(z) => match z.from_local_datetime(&n) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                    Some(Instant::from_chrono(&t))
                }
                LocalResult::None => {
                    // A DST gap: walk forward a minute at a time (gaps are at most a few hours).
                    (1..=24 * 60).find_map(|m| {
                        z.from_local_datetime(&(n + ChronoDuration::minutes(m)))
                            .earliest()
                            .map(|t| Instant::from_chrono(&t))
                    })
                }
            },
        }
    }

    /// `t + d`, in this zone's calendar.
    pub fn add(&self, t: Instant, d: Dur) -> Option<Instant> {
        match d {
            Dur::Hours(h) => t.plus_secs(h.checked_mul(3600)?),
            Dur::Days(days) => t.plus_secs(days.checked_mul(86_400)?),
            Dur::Months(m) => {
                let local = self.local(t)?;
                let shifted = add_months(local, m)?;
                // Keep sub-second precision of the original instant.
                self.instant(shifted)
            }
        }
    }

    /// RFC 3339 text of an instant in this zone.
    pub fn format(&self, t: Instant) -> String {
        let Some(u) = t.to_utc() else {
            return format!("@{}", t.0);
        };
        let fmt = if u.nanosecond() == 0 {
            chrono::SecondsFormat::Secs
        } else {
            chrono::SecondsFormat::AutoSi
        };
        match self {
            Zone::Fixed(o) => u.with_timezone(o).to_rfc3339_opts(fmt, true),
            Zone::Named(z) => u.with_timezone(z).to_rfc3339_opts(fmt, true),
        }
    }

    /// The start of the calendar period (hour, day, month, year) holding `t`.
    pub fn period_start(&self, t: Instant, unit: CalUnit) -> Option<Instant> {
        let l = self.local(t)?;
        let d = l.date();
        let start = match unit {
            CalUnit::Hour => d.and_hms_opt(l.hour(), 0, 0)?,
            CalUnit::Day => d.and_hms_opt(0, 0, 0)?,
            CalUnit::Month => {
                NaiveDate::from_ymd_opt(d.year(), d.month(), 1)?.and_hms_opt(0, 0, 0)?
            }
            CalUnit::Year => NaiveDate::from_ymd_opt(d.year(), 1, 1)?.and_hms_opt(0, 0, 0)?,
        };
        self.instant(start)
    }

    /// The start of the period after the one that starts at `start`.
    pub fn period_next(&self, start: Instant, unit: CalUnit) -> Option<Instant> {
        let l = self.local(start)?;
        let next = match unit {
            CalUnit::Hour => l + ChronoDuration::hours(1),
            CalUnit::Day => l.date().succ_opt()?.and_time(l.time()),
            CalUnit::Month => add_months(l, 1)?,
            CalUnit::Year => add_months(l, 12)?,
        };
        self.instant(next)
    }

    /// The local date of an instant.
    pub fn date(&self, t: Instant) -> Option<NaiveDate> {
        self.local(t).map(|l| l.date())
    }
}

/// Adds calendar months to a wall-clock time, clamping the day to the month's end.
pub fn add_months(l: NaiveDateTime, months: i64) -> Option<NaiveDateTime> {
    let total = i64::from(l.year())
        .checked_mul(12)?
        .checked_add(i64::from(l.month0()))?
        .checked_add(months)?;
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = u32::try_from(total.rem_euclid(12)).ok()? + 1;
    let last = days_in_month(year, month)?;
    let day = l.day().min(last);
    Some(NaiveDate::from_ymd_opt(year, month, day)?.and_time(l.time()))
}

/// Number of days in a month.
pub fn days_in_month(year: i32, month: u32) -> Option<u32> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    u32::try_from((next - first).num_days()).ok()
}

/// A wall-clock time from `YYYY-MM-DD` and optional `HH:MM[:SS]`.
pub fn parse_local(date: &str, clock: Option<&str>) -> Option<NaiveDateTime> {
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let t = match clock {
        None => NaiveTime::from_hms_opt(0, 0, 0)?,
        Some(c) if c.len() == 5 => NaiveTime::parse_from_str(c, "%H:%M").ok()?,
        Some(c) => NaiveTime::parse_from_str(c, "%H:%M:%S").ok()?,
    };
    Some(d.and_time(t))
}

/// A bill schedule, resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cadence {
    /// Every clock hour.
    Hourly,
    /// Every day at a local time (seconds after midnight).
    Daily(u32),
    /// Every month on a day at a local time.
    Monthly(u32, u32),
}

impl Cadence {
    /// The cycle `[start, end)` that holds `t`: `start <= t < end`.
    pub fn cycle(&self, z: &Zone, t: Instant) -> Option<(Instant, Instant)> {
        let l = z.local(t)?;
        match *self {
            Cadence::Hourly => {
                let s = z.period_start(t, CalUnit::Hour)?;
                Some((s, z.period_next(s, CalUnit::Hour)?))
            }
            Cadence::Daily(secs) => {
                let at = NaiveTime::from_num_seconds_from_midnight_opt(secs, 0)?;
                let mut day = l.date();
                if l.time() < at {
                    day = day.pred_opt()?;
                }
                let s = z.instant(day.and_time(at))?;
                let e = z.instant(day.succ_opt()?.and_time(at))?;
                Some((s, e))
            }
            Cadence::Monthly(dom, secs) => {
                let at = NaiveTime::from_num_seconds_from_midnight_opt(secs, 0)?;
                let this = NaiveDate::from_ymd_opt(l.year(), l.month(), dom)?.and_time(at);
                let start = if l >= this {
                    this
                } else {
                    add_months(this, -1)?
                };
                let s = z.instant(start)?;
                let e = z.instant(add_months(start, 1)?)?;
                Some((s, e))
            }
        }
    }
}

/// A fast reading of the common RFC 3339 shape `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`;
/// `None` for anything else (chrono then reads it, and explains what is wrong).
pub fn fast_rfc3339(s: &str) -> Option<Instant> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let d = |i: usize, n: usize| -> Option<i64> {
        b.get(i..i + n)?.iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (year, month, day) = (d(0, 4)?, d(5, 2)?, d(8, 2)?);
    let (hour, min, sec) = (d(11, 2)?, d(14, 2)?, d(17, 2)?);
    if !(1..=12).contains(&month) || day < 1 || hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let dim = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day > dim {
        return None;
    }
    let mut i = 19;
    let mut micros = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 6 {
                micros = micros * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start || i - start > 9 {
            return None;
        }
        for _ in (i - start)..6 {
            micros *= 10;
        }
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let (oh, om) = (d(i + 1, 2)?, d(i + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset;
    Some(Instant(secs * 1_000_000 + micros))
}

/// The last time [`fast_rfc3339`] read, less its seconds: consecutive trace lines mostly
/// share the minute, so most times are read by comparing bytes and adding seconds.
#[derive(Clone, Copy, Debug)]
pub struct TimeCache {
    /// The text's length (20 to 32 bytes are cached).
    len: usize,
    /// Its first 16 bytes, and its last 16 with the seconds' two digits masked out.
    head: u128,
    tail: u128,
    mask: u128,
    /// The instant at second 00 of that minute; `None` when nothing is cached.
    base: Option<i64>,
}

impl TimeCache {
    /// Nothing cached.
    pub const EMPTY: TimeCache = TimeCache {
        len: 0,
        head: 0,
        tail: 0,
        mask: 0,
        base: None,
    };

    /// The two 16-byte windows that cover a text of 20 to 32 bytes.
    #[inline]
    fn windows(b: &[u8]) -> Option<(u128, u128)> {
        let head = u128::from_le_bytes(b.get(..16)?.try_into().ok()?);
        let tail = u128::from_le_bytes(b.get(b.len().checked_sub(16)?..)?.try_into().ok()?);
        Some((head, tail))
    }

    /// [`fast_rfc3339`], remembering the minute.
    #[inline]
    pub fn parse(&mut self, s: &str) -> Option<Instant> {
        let b = s.as_bytes();
        if let Some(base) = self.base
            && b.len() == self.len
            && let Some((head, tail)) = Self::windows(b)
            && head == self.head
            && tail & self.mask == self.tail
            && b[17].is_ascii_digit()
            && b[18].is_ascii_digit()
        {
            let sec = i64::from(b[17] - b'0') * 10 + i64::from(b[18] - b'0');
            if sec <= 59 {
                return Some(Instant(base + sec * 1_000_000));
            }
        }
        let t = fast_rfc3339(s)?;
        // fast_rfc3339 accepted it: the seconds are the two digits at 17 and 18.
        if (20..=32).contains(&b.len())
            && let Some((head, tail)) = Self::windows(b)
        {
            let at = 17 - (b.len() - 16);
            let mask = !(0xffff_u128 << (8 * at));
            let sec = i64::from(b[17] - b'0') * 10 + i64::from(b[18] - b'0');
            *self = TimeCache {
                len: b.len(),
                head,
                tail: tail & mask,
                mask,
                base: Some(t.0 - sec * 1_000_000),
            };
        }
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_cache_agrees_with_a_fresh_read() {
        let mut c = TimeCache::EMPTY;
        for s in [
            "2026-01-01T00:00:00+08:00",
            "2026-01-01T00:00:59+08:00",
            "2026-01-01T00:00:07Z",
            "2026-01-01T00:00:07.5Z",
            "2026-01-01T00:00:08.5Z",
            "2026-01-01T00:00:60Z",
            "2026-01-01T00:00:0xZ",
            "2026-01-01T00:01:08.5Z",
            "2026-01-01T00:01:09.25-05:30",
            "2026-01-01T00:01:09.2500000001-05:30",
            "2026-01-01T00:01:10.2500000001-05:30",
            "2026-01-01T00:01:10.25000001-05:30",
            "2026-01-01T00:01:11.25000001-05:30",
            "2026-01-01T00:01:11.25000001-05:31",
            "2026-01-01T00:01:11.25000002-05:31",
            "2026-01-01T00:02:11.25000002-05:31",
            "2026-01-01T00:02:11",
            "2026-01-01T00:02:12Z",
            "2026-01-01T00:02:13z",
            "2026-01-01T00:02:14z",
        ] {
            assert_eq!(c.parse(s), fast_rfc3339(s), "{s}");
        }
    }

    #[test]
    fn fast_rfc3339_agrees_with_chrono() {
        for s in [
            "2026-01-01T00:00:00+08:00",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59.5-05:30",
            "2028-02-29T12:34:56.123456789+14:00",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00Z",
            "2026-03-01t08:00:00z",
        ] {
            let c = chrono::DateTime::parse_from_rfc3339(s).unwrap();
            assert_eq!(fast_rfc3339(s), Some(Instant::from_chrono(&c)), "{s}");
        }
        for s in [
            "2026-02-30T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:60Z",
            "2026-01-01 00:00:00",
            "2026-01-01T00:00:00+0800",
        ] {
            assert_eq!(fast_rfc3339(s), None, "{s}");
        }
    }
}
