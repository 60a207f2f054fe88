//! Sizes and durations.

use std::time::Duration;

use crate::sync::filter::{parse_duration, parse_size};

fn size((text, want): (&str, Option<u64>)) {
    assert_eq!(parse_size(text).ok(), want, "{text:?}");
}

fn duration((text, want): (&str, Option<Duration>)) {
    assert_eq!(parse_duration(text).ok(), want, "{text:?}");
}

const fn secs(s: u64) -> Option<Duration> {
    Some(Duration::from_secs(s))
}

cases! { size {
    size_bare_is_kib: ("100", Some(102_400)),
    size_zero: ("0", Some(0)),
    size_bytes: ("10B", Some(10)),
    size_bytes_lower: ("10b", Some(10)),
    size_kib: ("1K", Some(1024)),
    size_kib_lower: ("1k", Some(1024)),
    size_mib: ("1M", Some(1 << 20)),
    size_gib: ("1G", Some(1 << 30)),
    size_tib: ("1T", Some(1 << 40)),
    size_pib: ("1P", Some(1 << 50)),
    size_ki: ("2Ki", Some(2048)),
    size_kib_long: ("2KiB", Some(2048)),
    size_fraction: ("1.5M", Some(1_572_864)),
    size_fraction_bare: ("0.5", Some(512)),
    size_fraction_rounds_down: ("0.1B", Some(0)),
    size_empty: ("", None),
    size_off: ("off", None),
    size_negative: ("-1", None),
    size_bad_suffix: ("1X", None),
    size_two_points: ("1.2.3", None),
    size_only_suffix: ("K", None),
    size_overflow: ("16384P", None),
    size_max_pib: ("16383P", Some(16383 << 50)),
    size_space: (" 1K", None),
}}

cases! { duration {
    duration_bare_seconds: ("90", secs(90)),
    duration_bare_fraction: ("1.5", Some(Duration::from_millis(1500))),
    duration_ms: ("250ms", Some(Duration::from_millis(250))),
    duration_us: ("3us", Some(Duration::from_micros(3))),
    duration_micro_sign: ("3µs", Some(Duration::from_micros(3))),
    duration_ns: ("7ns", Some(Duration::from_nanos(7))),
    duration_s: ("10s", secs(10)),
    duration_m: ("2m", secs(120)),
    duration_h: ("1h", secs(3600)),
    duration_combo: ("1h30m", secs(5400)),
    duration_combo_days: ("1d2h", secs(93_600)),
    duration_d: ("2d", secs(172_800)),
    duration_w: ("1w", secs(604_800)),
    duration_month: ("1M", secs(2_592_000)),
    duration_year: ("1y", secs(31_536_000)),
    duration_fraction_day: ("1.5d", secs(129_600)),
    duration_empty: ("", None),
    duration_off: ("off", None),
    duration_negative: ("-1s", None),
    duration_unknown_unit: ("5x", None),
    duration_unit_only: ("h", None),
    duration_trailing_number: ("1h30", None),
    duration_overflow: ("999999999999999999999y", None),
}}
