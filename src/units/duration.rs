//! Durations: rclone's `Duration` (Go's units, and days, weeks, months and years).

use std::time::Duration;

use super::decimal::Decimal;
use super::invalid;
use crate::Result;

const SEC: u128 = 1_000_000_000;
const DAY: u128 = 86_400 * SEC;

/// The length of a unit in nanoseconds.
fn unit(name: &str) -> Option<u128> {
    Some(match name {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => SEC,
        "m" => 60 * SEC,
        "h" => 3600 * SEC,
        "d" => DAY,
        "w" => 7 * DAY,
        "M" => 30 * DAY,
        "y" => 365 * DAY,
        _ => return None,
    })
}

fn from_nanos(nanos: u128) -> Option<Duration> {
    let secs = u64::try_from(nanos / SEC).ok()?;
    let sub = u32::try_from(nanos % SEC).ok()?;
    Some(Duration::new(secs, sub))
}

/// Parses a duration in rclone's syntax: a bare number of seconds (`90`, `1.5`), or one or
/// more numbers each followed by a unit: `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`, `d`
/// (24 h), `w` (7 d), `M` (30 d), `y` (365 d), as in `1h30m` or `1.5d`. A fraction of a
/// nanosecond rounds down.
///
/// Empty, negative, malformed and too large durations, and rclone's `off` and absolute
/// dates (`2006-01-02`), are [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput),
/// naming the text: a duration is a [`Duration`], and "no limit" is leaving it unset.
///
/// ```
/// use omnistorage::units::parse_duration;
/// use std::time::Duration;
///
/// assert_eq!(parse_duration("90")?, Duration::from_secs(90));
/// assert_eq!(parse_duration("1h30m")?, Duration::from_secs(5400));
/// assert_eq!(parse_duration("1.5d")?, Duration::from_secs(36 * 3600));
/// assert_eq!(parse_duration("2M")?, Duration::from_secs(60 * 86400));
/// assert_eq!(parse_duration("250ms")?, Duration::from_millis(250));
/// assert!(parse_duration("5x").is_err());
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub fn parse_duration(text: &str) -> Result<Duration> {
    const WHAT: &str = "duration";
    let too_large = || invalid(WHAT, text, "too large");
    let s = text.trim();
    if s.is_empty() {
        return Err(invalid(WHAT, text, "empty"));
    }
    if s.starts_with('-') {
        return Err(invalid(WHAT, text, "negative"));
    }
    if let Some(seconds) = Decimal::parse(s, false) {
        return seconds
            .times(SEC)
            .and_then(from_nanos)
            .ok_or_else(too_large);
    }
    let mut rest = s;
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(split);
        let number = Decimal::parse(number, false)
            .ok_or_else(|| invalid(WHAT, text, "expected a number before each unit"))?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (name, after) = after.split_at(unit_len);
        let per_unit = unit(name).ok_or_else(|| {
            invalid(
                WHAT,
                text,
                "unknown unit (ns, us, ms, s, m, h, d, w, M, y; a bare number is seconds)",
            )
        })?;
        let nanos = number.times(per_unit).ok_or_else(too_large)?;
        total = total.checked_add(nanos).ok_or_else(too_large)?;
        rest = after;
    }
    from_nanos(total).ok_or_else(too_large)
}

/// Writes `d` exactly, in a form [`parse_duration`] reads back to the same value: its days,
/// hours, minutes, seconds, milliseconds, microseconds and nanoseconds, each that is not
/// zero (`1d2h`, `1m30s250ms`); zero is `0s`.
///
/// ```
/// use omnistorage::units::format_duration;
/// use std::time::Duration;
///
/// assert_eq!(format_duration(Duration::from_secs(93_600)), "1d2h");
/// assert_eq!(format_duration(Duration::from_micros(1_500)), "1ms500us");
/// assert_eq!(format_duration(Duration::ZERO), "0s");
/// ```
pub fn format_duration(d: Duration) -> String {
    const PARTS: [(&str, u128); 7] = [
        ("d", DAY),
        ("h", 3600 * SEC),
        ("m", 60 * SEC),
        ("s", SEC),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    ];
    let mut rest = d.as_nanos();
    let mut out = String::new();
    for (name, length) in PARTS {
        let n = rest / length;
        rest %= length;
        if n > 0 {
            out.push_str(&format!("{n}{name}"));
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}
