//! Sizes, durations, rates and times of day, written as rclone writes them: one parser for
//! each, used by URL parameters, backend options, filters, the command line and config files.
//!
//! | kind | examples | rules |
//! | --- | --- | --- |
//! | size ([`parse_size`]) | `100` (KiB or bytes: the caller says), `10B`, `5M`, `5Mi`, `5MiB`, `1.5G`, `1e3K` | rclone's `SizeSuffix`: `B` is bytes; `K`, `M`, `G`, `T`, `P`, `E` are powers of 1024, either case, optionally followed by `i` or `iB`; `KB` is refused (ambiguous) |
//! | rate ([`parse_rate`]) | `10M` (10 MiB/s), `512` (512 KiB/s), `off` | a size per second, a bare number in KiB/s; `off` and `0` are no limit |
//! | duration ([`parse_duration`]) | `90` (seconds), `250ms`, `1h30m`, `1.5d`, `2w`, `1M`, `1y` | rclone's `Duration`: `ns`, `us` (`µs`), `ms`, `s`, `m`, `h`, `d` (24 h), `w` (7 d), `M` (30 d), `y` (365 d), combined in any order |
//! | time of day ([`TimeOfDay`]) | `08:00`, `Mon-23:59`, `sunday-00:00` | rclone's bandwidth timetable: `HH:MM` (00:00–23:59), optionally after a weekday and `-` |
//! | `--bwlimit` ([`Timetable`], [`Rates`]) | `10M`, `10M:1M`, `08:00,512k 23:00,off`, `Mon-10:00,1M:off` | one rate, `UP:DOWN`, or space-separated `TIME,RATES` entries |
//!
//! **A bare number for a size.** rclone reads every size option through one type,
//! `SizeSuffix`, whose bare number is KiB: `--min-size 100` is 100 KiB, `--bwlimit 512` is
//! 512 KiB/s, and so is a backend option such as S3's `chunk_size = 5000` (5000 KiB, not
//! bytes). Where this crate follows rclone's names it follows that rule ([`BareUnit::KiB`]);
//! the one parameter of its own that always meant bytes (S3's `part_size`) says
//! [`BareUnit::Bytes`]. A suffix always means the same everywhere.
//!
//! Numbers are decimal, with an optional fraction (`1.5M`) and, for sizes and rates, an
//! exponent (`1e3`), as rclone's `ParseFloat` reads them; fractions of a byte or a
//! nanosecond round down. Surrounding spaces are ignored; signs, `inf`, `NaN` and hex are
//! not numbers. Every error is [`ErrorKind::InvalidInput`]
//! and names the text. `off` (rclone's "no limit") is accepted only by [`parse_rate`]; for a
//! size or a duration, leave the setting unset instead.
//!
//! The `format_*` functions write a value back in a form these parsers read to the very
//! same value:
//!
//! ```
//! use omnistorage::units::{self, BareUnit};
//! use std::time::Duration;
//!
//! assert_eq!(units::parse_size("5Mi", BareUnit::Bytes)?, 5 << 20);
//! assert_eq!(units::parse_size("100", BareUnit::KiB)?, 100 << 10);
//! assert_eq!(units::format_size(5 << 20), "5Mi");
//! assert_eq!(units::parse_duration("1h30m")?, Duration::from_secs(5400));
//! assert_eq!(units::format_duration(Duration::from_millis(90_250)), "1m30s250ms");
//! assert_eq!(units::parse_rate("off")?, None);
//! let t: units::TimeOfDay = "Mon-08:30".parse()?;
//! assert_eq!((t.hour(), t.minute()), (8, 30));
//! # Ok::<(), omnistorage::Error>(())
//! ```

mod decimal;
mod duration;
mod size;
mod time_of_day;
mod timetable;

pub use duration::{format_duration, parse_duration};
pub use size::{BareUnit, format_size, parse_rate, parse_size};
pub use time_of_day::{TimeOfDay, Weekday};
pub use timetable::{Rates, Timetable};

use crate::{Error, ErrorKind};

/// The error for `text`, read as a `what`, because of `why`.
fn invalid(what: &str, text: &str, why: &str) -> Error {
    Error::new(ErrorKind::InvalidInput, format!("{what} {text:?}: {why}"))
}

#[cfg(test)]
mod tests;
