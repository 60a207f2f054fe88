//! The unit tables: rclone's sizes, rates, durations and times of day, one named test per
//! case (moved here from the filter's and the bandwidth limit's tests).

use std::time::Duration;

use super::*;
use crate::ErrorKind;

/// Defines one `#[test]` per `name: args` line, each calling `check(args)`.
macro_rules! cases {
    ($check:path { $($name:ident: $args:expr,)* }) => {
        $(
            #[test]
            fn $name() {
                $check($args);
            }
        )*
    };
}

/// A size with a bare number in KiB (rclone's flags).
fn size((text, want): (&str, Option<u64>)) {
    let got = parse_size(text, BareUnit::KiB);
    assert_eq!(got.as_ref().ok(), want.as_ref(), "{text:?}");
    if let Err(e) = got {
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{text:?}");
        assert!(e.to_string().contains(&format!("{text:?}")), "{e}");
    }
}

fn bytes_size((text, want): (&str, Option<u64>)) {
    assert_eq!(parse_size(text, BareUnit::Bytes).ok(), want, "{text:?}");
}

fn rate((text, want): (&str, Option<Option<u64>>)) {
    let got = parse_rate(text);
    assert_eq!(got.as_ref().ok(), want.as_ref(), "{text:?}");
    if let Err(e) = got {
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{text:?}");
    }
}

fn duration((text, want): (&str, Option<Duration>)) {
    let got = parse_duration(text);
    assert_eq!(got.as_ref().ok(), want.as_ref(), "{text:?}");
    if let Err(e) = got {
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{text:?}");
        assert!(e.to_string().contains(&format!("{text:?}")), "{e}");
    }
}

/// A time of day as (weekday, hour, minute).
type Hm = (Option<Weekday>, u8, u8);

fn time_of_day((text, want): (&str, Option<Hm>)) {
    let got = TimeOfDay::parse(text).ok();
    assert_eq!(
        got.map(|t| (t.weekday(), t.hour(), t.minute())),
        want,
        "{text:?}"
    );
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
    size_eib: ("15E", Some(15 << 60)),
    size_ki: ("2Ki", Some(2048)),
    size_mi: ("5Mi", Some(5 << 20)),
    size_kib_long: ("2KiB", Some(2048)),
    size_kib_all_lower: ("2kib", Some(2048)),
    size_fraction: ("1.5M", Some(1_572_864)),
    size_fraction_bare: ("0.5", Some(512)),
    size_fraction_rounds_down: ("0.1B", Some(0)),
    size_exponent: ("1e3", Some(1000 * 1024)),
    size_exponent_with_suffix: ("1.5e1K", Some(15 * 1024)),
    size_empty: ("", None),
    size_off: ("off", None),
    size_negative: ("-1", None),
    size_negative_suffix: ("-1K", None),
    size_bad_suffix: ("1X", None),
    size_bad_suffix_i: ("1Xi", None),
    size_bad_suffix_ib: ("1XiB", None),
    size_non_ascii_suffix: ("1é", None),
    size_non_ascii_before_i: ("1éi", None),
    size_kb_is_ambiguous: ("1KB", None),
    size_two_points: ("1.2.3", None),
    size_only_suffix: ("K", None),
    size_only_ib: ("iB", None),
    size_inf: ("inf", None),
    size_nan: ("NaN", None),
    size_overflow: ("16384P", None),
    size_overflow_eib: ("16E", None),
    size_max_pib: ("16383P", Some(16383 << 50)),
    size_max_bytes: ("18446744073709551615B", Some(u64::MAX)),
    size_past_max_bytes: ("18446744073709551616B", None),
    size_space_trimmed: (" 1K ", Some(1024)),
    size_inner_space: ("1 K", None),
}}

cases! { bytes_size {
    bytes_bare_is_bytes: ("1048576", Some(1 << 20)),
    bytes_suffix_same_as_kib_rule: ("5Mi", Some(5 << 20)),
    bytes_mib: ("5MiB", Some(5 << 20)),
    bytes_m: ("8M", Some(8 << 20)),
    bytes_bad: ("1x", None),
}}

cases! { rate {
    rate_off: ("off", Some(None)),
    rate_off_upper: ("OFF", Some(None)),
    rate_zero: ("0", Some(None)),
    rate_zero_k: ("0K", Some(None)),
    rate_bare_kib: ("10", Some(Some(10 * 1024))),
    rate_spaces: (" 10 ", Some(Some(10 * 1024))),
    rate_k: ("10k", Some(Some(10 * 1024))),
    rate_ki: ("10Ki", Some(Some(10 * 1024))),
    rate_kib: ("10KiB", Some(Some(10 * 1024))),
    rate_kib_lower: ("10kib", Some(Some(10 * 1024))),
    rate_fraction_of_m: ("0.009765625M", Some(Some(10 * 1024))),
    rate_fraction_bare: ("1.5", Some(Some(1536))),
    rate_bytes: ("1536B", Some(Some(1536))),
    rate_bytes_lower: ("1536b", Some(Some(1536))),
    rate_m: ("2M", Some(Some(2 << 20))),
    rate_mib: ("2MiB", Some(Some(2 << 20))),
    rate_k_many: ("2048K", Some(Some(2 << 20))),
    rate_fraction_m: ("1.5M", Some(Some(1536 * 1024))),
    rate_g: ("1G", Some(Some(1 << 30))),
    rate_t: ("1T", Some(Some(1 << 40))),
    rate_ti: ("1Ti", Some(Some(1 << 40))),
    rate_p: ("1P", Some(Some(1 << 50))),
    rate_e: ("15E", Some(Some(15 << 60))),
    rate_exponent: ("1e3", Some(Some(1000 * 1024))),
    rate_empty: ("", None),
    rate_b_alone: ("B", None),
    rate_k_alone: ("K", None),
    rate_kib_alone: ("KiB", None),
    rate_ib_alone: ("iB", None),
    rate_word: ("abc", None),
    rate_negative: ("-1", None),
    rate_negative_k: ("-1K", None),
    rate_kb: ("1KB", None),
    rate_bad_suffix: ("1X", None),
    rate_bad_suffix_i: ("1Xi", None),
    rate_bad_suffix_ib: ("1XiB", None),
    rate_non_ascii_i: ("1éi", None),
    rate_non_ascii: ("1é", None),
    rate_too_large: ("16E", None),
    rate_inf: ("inf", None),
    rate_nan: ("NaN", None),
    rate_below_one_byte: ("0.5B", None),
    rate_up_down: ("10M:1M", None),
    rate_timetable: ("08:00,512k", None),
    rate_timetable_two: ("512k 1M", None),
}}

cases! { duration {
    duration_bare_seconds: ("90", secs(90)),
    duration_bare_fraction: ("1.5", Some(Duration::from_millis(1500))),
    duration_ms: ("250ms", Some(Duration::from_millis(250))),
    duration_us: ("3us", Some(Duration::from_micros(3))),
    duration_micro_sign: ("3µs", Some(Duration::from_micros(3))),
    duration_greek_mu: ("3μs", Some(Duration::from_micros(3))),
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
    duration_spaces_trimmed: (" 3s ", secs(3)),
    duration_zero: ("0", secs(0)),
    duration_empty: ("", None),
    duration_off: ("off", None),
    duration_negative: ("-1s", None),
    duration_unknown_unit: ("5x", None),
    duration_unit_only: ("h", None),
    duration_trailing_number: ("1h30", None),
    duration_no_exponent: ("1e3", None),
    duration_date: ("2006-01-02", None),
    duration_overflow: ("999999999999999999999y", None),
}}

cases! { time_of_day {
    tod_plain: ("08:00", Some((None, 8, 0))),
    tod_last_minute: ("23:59", Some((None, 23, 59))),
    tod_midnight: ("00:00", Some((None, 0, 0))),
    tod_short_day: ("Mon-10:30", Some((Some(Weekday::Monday), 10, 30))),
    tod_long_day_lower: ("sunday-00:01", Some((Some(Weekday::Sunday), 0, 1))),
    tod_upper_day: ("SAT-12:00", Some((Some(Weekday::Saturday), 12, 0))),
    tod_hour_24: ("24:00", None),
    tod_minute_60: ("12:60", None),
    tod_one_digit: ("8:00", None),
    tod_no_colon: ("0800", None),
    tod_seconds: ("08:00:00", None),
    tod_bad_day: ("Mo-08:00", None),
    tod_empty_day: ("-08:00", None),
    tod_empty: ("", None),
    tod_sign: ("+8:00", None),
}}

#[test]
fn formats_parse_back() {
    for bytes in [
        0,
        1,
        1000,
        1023,
        1024,
        1536 << 10,
        5 << 20,
        15 << 60,
        u64::MAX,
    ] {
        let text = format_size(bytes);
        for bare in [BareUnit::Bytes, BareUnit::KiB] {
            assert_eq!(parse_size(&text, bare).ok(), Some(bytes), "{text}");
        }
    }
    for d in [
        Duration::ZERO,
        Duration::from_nanos(1),
        Duration::from_millis(90_250),
        Duration::from_secs(93_600),
        Duration::MAX,
    ] {
        let text = format_duration(d);
        assert_eq!(parse_duration(&text).ok(), Some(d), "{text}");
    }
    for text in ["08:00", "Mon-23:59", "Sun-00:00"] {
        assert_eq!(
            TimeOfDay::parse(text)
                .map(|t| t.to_string())
                .ok()
                .as_deref(),
            Some(text)
        );
    }
}

#[test]
fn bwlimit_timetables_as_rclone_writes_them() {
    let rates = |up, down| Rates { up, down };
    const K: u64 = 1 << 10;
    const M: u64 = 1 << 20;
    // One rate is both; UP:DOWN splits them; off either way.
    assert_eq!(
        Rates::parse("10M").ok(),
        Some(rates(Some(10 * M), Some(10 * M)))
    );
    assert_eq!(
        Rates::parse("10M:512").ok(),
        Some(rates(Some(10 * M), Some(512 * K)))
    );
    assert_eq!(Rates::parse("off:1M").ok(), Some(rates(None, Some(M))));
    assert!(Rates::parse("1M:2M:3M").is_err());
    let plain = Timetable::parse("1M").unwrap();
    assert!(plain.is_constant());
    assert_eq!(plain.at(Weekday::Saturday, 1439).up, Some(M));
    // rclone's example, every day.
    let t = Timetable::parse("08:00,512k 12:00,10M 13:00,512k 18:00,30M 23:00,off").unwrap();
    assert!(!t.is_constant());
    for (day, minute, want) in [
        (Weekday::Monday, 8 * 60, Some(512 * K)),
        (Weekday::Monday, 12 * 60 + 59, Some(10 * M)),
        (Weekday::Monday, 13 * 60, Some(512 * K)),
        (Weekday::Monday, 22 * 60 + 59, Some(30 * M)),
        (Weekday::Monday, 23 * 60, None),
        (Weekday::Sunday, 0, None),
    ] {
        assert_eq!(t.at(day, minute).down, want, "{day:?} {minute}");
    }
    // Weekday entries; the week wraps (before Monday's entry, Saturday's holds).
    let w = Timetable::parse("Mon-10:00,1M Sat-00:00,off Sun-20:00,2M:off").unwrap();
    assert_eq!(w.at(Weekday::Monday, 9 * 60).up, Some(2 * M));
    assert_eq!(w.at(Weekday::Monday, 9 * 60).down, None);
    assert_eq!(w.at(Weekday::Friday, 0).up, Some(M));
    assert_eq!(w.at(Weekday::Sunday, 10).up, None);
    // 1970-01-01 00:00 UTC was a Thursday.
    let thu = Timetable::parse("Thu-00:00,1k Fri-00:00,off").unwrap();
    assert_eq!(thu.at_time(std::time::UNIX_EPOCH).up, Some(K));
    assert_eq!(
        thu.at_time(std::time::UNIX_EPOCH + Duration::from_secs(86_400))
            .up,
        None
    );
    for bad in [
        "",
        "08:00,1M 12:00",
        "25:00,1M x",
        "Xyz-10:00,1M 11:00,off",
        "08:00,1KB 09:00,off",
    ] {
        let e = Timetable::parse(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
}
