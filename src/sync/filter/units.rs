//! rclone's size and duration texts: `--min-size 10M`, `--max-age 1h30m`.

use std::time::Duration;

use crate::{Error, ErrorKind, Result};

/// Parses an rclone size: a decimal number and an optional suffix `B` (bytes), `K`, `M`, `G`,
/// `T` or `P` (powers of 1024, either case, optionally followed by `i` or `iB`). A bare
/// number is KiB, as in rclone. Fractions round down to a whole byte.
///
/// rclone's `off` (no limit) is an error here: leave the limit unset instead.
///
/// ```
/// use omnistorage::sync::filter::parse_size;
///
/// assert_eq!(parse_size("100")?, 100 * 1024);
/// assert_eq!(parse_size("10B")?, 10);
/// assert_eq!(parse_size("1.5M")?, 1536 * 1024);
/// assert_eq!(parse_size("2GiB")?, 2 << 30);
/// assert!(parse_size("1X").is_err());
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub fn parse_size(text: &str) -> Result<u64> {
    let bad = |why: &str| Error::new(ErrorKind::InvalidInput, format!("size {text:?}: {why}"));
    if text.eq_ignore_ascii_case("off") {
        return Err(bad("\"off\" means no limit: leave the limit unset"));
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let shift = match suffix {
        "" => 10,
        "b" | "B" => 0,
        _ => {
            let mut chars = suffix.chars();
            let shift = match chars.next().map(|c| c.to_ascii_uppercase()) {
                Some('K') => 10,
                Some('M') => 20,
                Some('G') => 30,
                Some('T') => 40,
                Some('P') => 50,
                _ => return Err(bad("unknown suffix (B, K, M, G, T or P)")),
            };
            match chars.as_str() {
                "" | "i" | "iB" | "ib" => shift,
                _ => return Err(bad("unknown suffix (B, K, M, G, T or P)")),
            }
        }
    };
    let (mantissa, scale) = decimal(number).ok_or_else(|| bad("not a number"))?;
    let bytes = mantissa
        .checked_mul(1u128 << shift)
        .map(|v| v / 10u128.pow(scale))
        .ok_or_else(|| bad("too large"))?;
    u64::try_from(bytes).map_err(|_| bad("too large"))
}

/// Parses an rclone duration: one or more numbers each with a unit, `ns`, `us` (`µs`),
/// `ms`, `s`, `m`, `h`, `d` (24 h), `w` (7 d), `M` (30 d) or `y` (365 d), as in `1h30m` or
/// `1.5d`; a bare number is seconds.
///
/// rclone's `off` and its absolute dates (`2006-01-02`) are errors here: an age is a
/// [`Duration`], and "no limit" is leaving it unset.
///
/// ```
/// use omnistorage::sync::filter::parse_duration;
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
    let bad = |why: &str| Error::new(ErrorKind::InvalidInput, format!("duration {text:?}: {why}"));
    const NS: u128 = 1;
    const SEC: u128 = 1_000_000_000;
    const DAY: u128 = 86_400 * SEC;
    if let Some((mantissa, scale)) = decimal(text) {
        return nanos_to_duration(mantissa.checked_mul(SEC).map(|v| v / 10u128.pow(scale)))
            .ok_or_else(|| bad("too large"));
    }
    let mut rest = text;
    let mut total: u128 = 0;
    if rest.is_empty() {
        return Err(bad("empty"));
    }
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(split);
        let (mantissa, scale) = decimal(number).ok_or_else(|| bad("expected a number"))?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let per_unit = match unit {
            "ns" => NS,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => SEC,
            "m" => 60 * SEC,
            "h" => 3600 * SEC,
            "d" => DAY,
            "w" => 7 * DAY,
            "M" => 30 * DAY,
            "y" => 365 * DAY,
            _ => return Err(bad("unknown unit (ns us ms s m h d w M y)")),
        };
        let nanos = mantissa
            .checked_mul(per_unit)
            .map(|v| v / 10u128.pow(scale))
            .ok_or_else(|| bad("too large"))?;
        total = total.checked_add(nanos).ok_or_else(|| bad("too large"))?;
        rest = after;
    }
    nanos_to_duration(Some(total)).ok_or_else(|| bad("too large"))
}

fn nanos_to_duration(nanos: Option<u128>) -> Option<Duration> {
    let nanos = nanos?;
    let secs = u64::try_from(nanos / 1_000_000_000).ok()?;
    let sub = u32::try_from(nanos % 1_000_000_000).ok()?;
    Some(Duration::new(secs, sub))
}

/// A decimal number without sign or exponent, as `(digits, digits after the point)`:
/// `"1.25"` is `(125, 2)`. At most 24 digits, so that callers can scale it in a `u128`.
fn decimal(text: &str) -> Option<(u128, u32)> {
    let (int, frac) = match text.split_once('.') {
        Some((int, frac)) => (int, frac),
        None => (text, ""),
    };
    let digits = int.len() + frac.len();
    if digits == 0 || digits > 24 || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut value: u128 = 0;
    for c in int.chars().chain(frac.chars()) {
        value = value * 10 + u128::from(c.to_digit(10)?);
    }
    Some((value, u32::try_from(frac.len()).ok()?))
}
