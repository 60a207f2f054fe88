//! Sizes and rates: rclone's `SizeSuffix`.

use super::decimal::Decimal;
use super::invalid;
use crate::Result;

/// What a bare number (one without a suffix) counts in [`parse_size`].
///
/// rclone counts it in KiB for every size option, its backends' options included
/// (`--min-size 100`, `--bwlimit 512`, S3's `chunk_size = 5000`); this crate's own
/// parameter that always counted bytes (S3's `part_size`) keeps bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BareUnit {
    /// A bare number is a number of bytes.
    Bytes,
    /// A bare number is a number of KiB (1024 bytes), as in rclone.
    KiB,
}

impl BareUnit {
    fn bytes(self) -> u128 {
        match self {
            BareUnit::Bytes => 1,
            BareUnit::KiB => 1024,
        }
    }
}

/// The multiplier of a unit symbol: `K` (2^10) to `E` (2^60), either case.
fn symbol(b: u8) -> Option<u128> {
    let power = match b.to_ascii_uppercase() {
        b'K' => 1,
        b'M' => 2,
        b'G' => 3,
        b'T' => 4,
        b'P' => 5,
        b'E' => 6,
        _ => return None,
    };
    Some(1 << (10 * power))
}

/// Splits a trimmed, non-empty size into its number and the multiplier of its suffix.
fn split(s: &str, bare: BareUnit) -> Option<(&str, u128)> {
    let bytes = s.as_bytes();
    let n = bytes.len();
    let at = |back: usize| n.checked_sub(back).map(|i| bytes[i]);
    let (cut, multiplier) = match at(1)? {
        b'0'..=b'9' | b'.' => (0, bare.bytes()),
        b'b' | b'B' if matches!(at(2), Some(b'i' | b'I')) && n > 2 => (3, symbol(at(3)?)?),
        b'b' | b'B' => (1, 1),
        b'i' | b'I' => (2, symbol(at(2)?)?),
        other => (1, symbol(other)?),
    };
    // Every byte cut is ASCII, so the cut is at a character boundary.
    Some((s.get(..n - cut)?, multiplier))
}

fn size(what: &str, text: &str, bare: BareUnit) -> Result<u128> {
    let s = text.trim();
    if s.is_empty() {
        return Err(invalid(what, text, "empty"));
    }
    let (number, multiplier) = split(s, bare).ok_or_else(|| {
        invalid(
            what,
            text,
            "unknown suffix (B, or K, M, G, T, P, E optionally followed by i or iB)",
        )
    })?;
    if number.starts_with('-') {
        return Err(invalid(what, text, "negative"));
    }
    let number = Decimal::parse(number, true).ok_or_else(|| invalid(what, text, "not a number"))?;
    number
        .times(multiplier)
        .filter(|&v| v <= u128::from(u64::MAX))
        .ok_or_else(|| invalid(what, text, "too large"))
}

/// Parses a size in rclone's syntax: a number, then an optional suffix: `B` for bytes, or
/// `K`, `M`, `G`, `T`, `P`, `E` (powers of 1024, either case), each optionally followed by
/// `i` or `iB` (`5M`, `5Mi`, `5MiB` are all 5 MiB). A bare number counts in `bare` units.
/// Fractions (`1.5M`) and exponents (`1e3`) are read; a fraction of a byte rounds down.
///
/// Empty, negative, malformed and too large (over `u64::MAX` bytes) sizes, `KB` (ambiguous,
/// as in rclone) and `off` (no limit: leave the setting unset instead) are
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), naming the text.
///
/// ```
/// use omnistorage::units::{parse_size, BareUnit};
///
/// assert_eq!(parse_size("100", BareUnit::KiB)?, 100 * 1024);
/// assert_eq!(parse_size("100", BareUnit::Bytes)?, 100);
/// assert_eq!(parse_size("10B", BareUnit::KiB)?, 10);
/// assert_eq!(parse_size("1.5M", BareUnit::KiB)?, 1536 * 1024);
/// assert_eq!(parse_size("5Mi", BareUnit::Bytes)?, 5 << 20);
/// assert_eq!(parse_size("2GiB", BareUnit::Bytes)?, 2 << 30);
/// assert!(parse_size("1KB", BareUnit::Bytes).is_err());
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub fn parse_size(text: &str, bare: BareUnit) -> Result<u64> {
    if text.trim().eq_ignore_ascii_case("off") {
        return Err(invalid(
            "size",
            text,
            "\"off\" means no limit: leave the setting unset",
        ));
    }
    let bytes = size("size", text, bare)?;
    u64::try_from(bytes).map_err(|_| invalid("size", text, "too large"))
}

/// Parses a rate in rclone's `--bwlimit` syntax, in bytes per second: a size as
/// [`parse_size`] reads it with a bare number in KiB/s (`512` is 512 KiB/s, `10M` is
/// 10 MiB/s). `off` (any case) and `0` mean no limit: `None`.
///
/// A rate below 1 byte per second, other than 0, is an error, and so is everything
/// [`parse_size`] refuses. rclone's separate upload and download limits (`UP:DOWN`) and
/// its timetables (`08:00,512k 18:00,off`) are not rates: they are refused here (their
/// times of day are [`TimeOfDay`](super::TimeOfDay)).
///
/// ```
/// use omnistorage::units::parse_rate;
///
/// assert_eq!(parse_rate("10")?, Some(10 * 1024));
/// assert_eq!(parse_rate("512B")?, Some(512));
/// assert_eq!(parse_rate("1.5MiB")?, Some(1536 * 1024));
/// assert_eq!(parse_rate("off")?, None);
/// assert!(parse_rate("1KB").is_err());
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub fn parse_rate(text: &str) -> Result<Option<u64>> {
    const WHAT: &str = "bandwidth limit";
    let s = text.trim();
    if s.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    if s.contains([':', ',', ' ', '\t']) {
        return Err(invalid(
            WHAT,
            text,
            "one rate here: `UP:DOWN` and timetables are read by `units::Timetable`",
        ));
    }
    let rate = size(WHAT, text, BareUnit::KiB)?;
    if rate == 0 {
        // A zero that is a fraction of a byte is a mistake; a plain zero is no limit.
        let exact_zero = split(s, BareUnit::KiB)
            .and_then(|(n, _)| Decimal::parse(n, true))
            .is_some_and(Decimal::is_zero);
        return if exact_zero {
            Ok(None)
        } else {
            Err(invalid(WHAT, text, "below 1 byte per second"))
        };
    }
    u64::try_from(rate)
        .map(Some)
        .map_err(|_| invalid(WHAT, text, "too large"))
}

/// Writes `bytes` as the shortest exact size [`parse_size`] reads back to the same value,
/// whatever its [`BareUnit`]: a whole number of the largest unit that divides it (`5Mi`,
/// `1536Ki`), else bytes (`1000B`); 0 is `0B`.
///
/// ```
/// use omnistorage::units::format_size;
///
/// assert_eq!(format_size(5 << 20), "5Mi");
/// assert_eq!(format_size(1536 << 10), "1536Ki");
/// assert_eq!(format_size(1000), "1000B");
/// assert_eq!(format_size(0), "0B");
/// ```
pub fn format_size(bytes: u64) -> String {
    const SYMBOLS: [&str; 6] = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
    for (i, name) in SYMBOLS.iter().enumerate().rev() {
        let shift = 10 * (i as u32 + 1);
        if bytes != 0 && bytes.trailing_zeros() >= shift {
            return format!("{}{name}", bytes >> shift);
        }
    }
    format!("{bytes}B")
}
