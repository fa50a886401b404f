//! Literal values: positive amounts, sane durations, clock times, days of the month, rounding.

use rust_decimal::Decimal;

use crate::ast::*;
use crate::check::ctx::Ctx;
use crate::diag::Diag;

/// Longest duration accepted, in years; anything longer is a typo.
const MAX_YEARS: i64 = 10_000;

/// A value that must be above zero (`what` names it: "a package's quota").
pub(crate) fn positive(cx: &mut Ctx<'_>, v: &Spanned<Decimal>, what: &str) {
    if v.node <= Decimal::ZERO {
        cx.push(
            Diag::error(
                "tariff::check::non_positive",
                format!(
                    "{what} must be more than zero, found `{}`",
                    cx.slice(v.span)
                ),
            )
            .label(v.span, "not positive")
            .help(format!("give {what} a value above zero")),
        );
    }
}

/// A duration: positive, whole, and at most 10,000 years.
pub(crate) fn duration(cx: &mut Ctx<'_>, d: &Duration, what: &str) {
    let n = d.count.node;
    if n <= Decimal::ZERO {
        positive(cx, &d.count, what);
        return;
    }
    if !n.fract().is_zero() {
        cx.push(
            Diag::error(
                "tariff::check::fractional_duration",
                format!("{what} `{}` is not whole", cx.slice(d.span)),
            )
            .label(d.span, "not a whole number")
            .help(format!(
                "write a whole number of {}s, or use a smaller unit",
                d.unit.name()
            )),
        );
        return;
    }
    let per_year = match d.unit {
        CalUnit::Hour => 8_784,
        CalUnit::Day => 366,
        CalUnit::Month => 12,
        CalUnit::Year => 1,
    };
    let max = Decimal::from(MAX_YEARS)
        .checked_mul(Decimal::from(per_year))
        .unwrap_or(Decimal::MAX);
    if n > max {
        cx.push(
            Diag::error(
                "tariff::check::duration_too_long",
                format!("{what} `{}` is absurdly long", cx.slice(d.span)),
            )
            .label(d.span, "more than 10,000 years")
            .help("durations are at most 10,000 years; check the number"),
        );
    }
}

/// Clock time `HH:MM[:SS]` within a day.
pub(crate) fn clock_ok(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return false;
    }
    let limits = [24u32, 60, 60];
    parts
        .iter()
        .zip(limits)
        .all(|(p, lim)| p.parse::<u32>().is_ok_and(|v| v < lim))
}

/// Seconds after midnight of a valid clock time.
pub(crate) fn clock_secs(s: &str) -> u32 {
    s.split(':')
        .map(|p| p.parse::<u32>().unwrap_or(0))
        .zip([3600, 60, 1])
        .map(|(v, k)| v * k)
        .sum()
}

/// Reports a clock time out of range at `span`.
pub(crate) fn bad_clock(cx: &mut Ctx<'_>, clock: &str, span: Span) {
    cx.push(
        Diag::error(
            "tariff::check::bad_clock",
            format!("clock time `{clock}` is out of range"),
        )
        .label(span, "not a time of day")
        .help("times go from 00:00 to 23:59 (hours below 24, minutes and seconds below 60)"),
    );
}

/// A schedule's clock time and day of month.
pub(crate) fn schedule(cx: &mut Ctx<'_>, s: &Spanned<Schedule>) {
    // The parser folds the clock into seconds, so `10:60` would pass as 11:00: read the text.
    let text = cx.slice(s.span);
    if let Some(pos) = text.rfind(|c: char| c.is_ascii_whitespace()) {
        let clock = &text[pos + 1..];
        if clock.contains(':') && !clock_ok(clock) {
            let start = s.span.start + pos + 1;
            bad_clock(cx, clock, Span::new(start, s.span.end));
        }
    }
    if let Schedule::Monthly(day, _) = s.node
        && !(1..=28).contains(&day)
    {
        // Point at the day's number: the word after `day`.
        let text = cx.slice(s.span);
        let words: Vec<(usize, &str)> = text
            .split_ascii_whitespace()
            .map(|w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
            .collect();
        let at = words.windows(2).find(|w| w[0].1 == "day").map(|w| w[1]);
        let (span, shown) = match at {
            Some((off, w)) => (
                Span::new(s.span.start + off, s.span.start + off + w.len()),
                w.to_string(),
            ),
            None => (s.span, day.to_string()),
        };
        cx.push(
            Diag::error("tariff::check::bad_day", format!("day of month `{shown}` is out of range"))
                .label(span, "not a day every month has")
                .help("use a day from 1 to 28: every month has at least 28 days, so the bill is issued every month"),
        );
    }
}

/// A rounding step must be above zero.
pub(crate) fn rounding(cx: &mut Ctx<'_>, r: &Rounding) {
    if r.step.node <= Decimal::ZERO {
        cx.push(
            Diag::error(
                "tariff::check::bad_rounding",
                format!("rounding step `{}` must be more than zero", r.step.node),
            )
            .label(r.step.span, "this step")
            .help("round to a positive step, such as `round to 0.01 half up per bill`"),
        );
    }
}
