//! `omnistorage::units`: sizes, rates, durations and times of day.
//!
//! On any text: no parser panics, and every refusal is `InvalidInput` naming the text. What
//! is accepted agrees with the other forms of the same value: a bare number in KiB is the
//! number with `Ki`, a bare number in bytes is the number with `B`, a rate is a size in KiB.
//! On numbers built from the input: a size or duration written as a decimal with a suffix
//! parses to exactly the value computed independently (so a larger number or a larger unit
//! never parses to less), and `format_size`, `format_duration` and `TimeOfDay`'s `Display`
//! parse back to the very value written.
//!
//! Input: the whole input as (lossy UTF-8) text, and each of its whitespace-separated words;
//! then its first 8 bytes as a `u64`, the next 8 as another, the next byte as a number of
//! fraction digits and a unit, for the numeric checks (missing bytes read as 0).

use std::time::Duration;

use omnistorage::ErrorKind;
use omnistorage::units::{
    BareUnit, TimeOfDay, Weekday, format_duration, format_size, parse_duration, parse_rate,
    parse_size,
};

/// Checks the property on one input; panics if it fails.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check_text(&text);
    for word in text.split_whitespace().take(16) {
        check_text(word);
    }
    let mut bytes = data.iter().copied().chain(std::iter::repeat(0));
    let mut next_u64 = || {
        let mut b = [0u8; 8];
        for slot in &mut b {
            *slot = bytes.next().unwrap_or(0);
        }
        u64::from_le_bytes(b)
    };
    let (a, b) = (next_u64(), next_u64());
    let pick = data.get(16).copied().unwrap_or(0);
    check_numbers(a, b, pick);
}

fn refused(what: &str, text: &str, e: &omnistorage::Error) {
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{what} {text:?}: {e}");
    assert!(
        e.to_string().contains(&format!("{text:?}")),
        "{what} {text:?}: the error does not name the text: {e}"
    );
}

fn check_text(text: &str) {
    let kib = parse_size(text, BareUnit::KiB);
    let bytes = parse_size(text, BareUnit::Bytes);
    for (bare, got) in [(BareUnit::KiB, &kib), (BareUnit::Bytes, &bytes)] {
        match got {
            Ok(n) => assert_eq!(
                parse_size(&format_size(*n), bare).ok(),
                Some(*n),
                "format_size({n}) does not parse back"
            ),
            Err(e) => refused("size", text, e),
        }
    }
    let trimmed = text.trim();
    if trimmed.ends_with(|c: char| c.is_ascii_digit() || c == '.') {
        // A bare number: in KiB it is the number with `Ki`, in bytes the number with `B`.
        assert_eq!(
            kib.as_ref().ok(),
            parse_size(&format!("{trimmed}Ki"), BareUnit::Bytes)
                .as_ref()
                .ok(),
            "{text:?} in KiB"
        );
        assert_eq!(
            bytes.as_ref().ok(),
            parse_size(&format!("{trimmed}B"), BareUnit::KiB)
                .as_ref()
                .ok(),
            "{text:?} in bytes"
        );
    } else {
        // With a suffix, the bare unit does not matter.
        assert_eq!(kib.as_ref().ok(), bytes.as_ref().ok(), "{text:?}");
    }
    match parse_rate(text) {
        Ok(Some(rate)) => assert_eq!(kib.as_ref().ok(), Some(&rate), "rate {text:?}"),
        Ok(None) => assert!(
            trimmed.eq_ignore_ascii_case("off") || kib.as_ref().ok() == Some(&0),
            "rate {text:?} read as no limit"
        ),
        Err(e) => refused("bandwidth limit", text, &e),
    }
    match parse_duration(text) {
        Ok(d) => assert_eq!(
            parse_duration(&format_duration(d)).ok(),
            Some(d),
            "format_duration({d:?}) does not parse back"
        ),
        Err(e) => refused("duration", text, &e),
    }
    match TimeOfDay::parse(text) {
        Ok(t) => assert_eq!(TimeOfDay::parse(&t.to_string()).ok(), Some(t), "{text:?}"),
        Err(e) => refused("time of day", text, &e),
    }
}

/// `n / 10^frac` written as a decimal with exactly `frac` fraction digits.
fn decimal(n: u64, frac: u32) -> String {
    let digits = format!("{n:0>width$}", width = frac as usize + 1);
    let (int, fraction) = digits.split_at(digits.len() - frac as usize);
    if frac == 0 {
        int.to_owned()
    } else {
        format!("{int}.{fraction}")
    }
}

fn check_numbers(a: u64, b: u64, pick: u8) {
    let frac = u32::from(pick % 7);
    let (lo, hi) = (a.min(b), a.max(b));
    // Sizes: the value is floor(n × unit / 10^frac), or an error past u64::MAX.
    const SIZE_UNITS: [(&str, u32); 8] = [
        ("B", 0),
        ("K", 10),
        ("Mi", 20),
        ("GiB", 30),
        ("t", 40),
        ("P", 50),
        ("Ei", 60),
        ("", 10),
    ];
    let mut previous_unit: Option<u64> = None;
    for (suffix, shift) in SIZE_UNITS {
        let mut got = Vec::new();
        for n in [lo, hi] {
            let text = format!("{}{suffix}", decimal(n, frac));
            let want = (u128::from(n) << shift) / 10u128.pow(frac);
            let parsed = parse_size(&text, BareUnit::KiB).ok();
            match u64::try_from(want) {
                Ok(want) => assert_eq!(parsed, Some(want), "{text:?}"),
                Err(_) => assert_eq!(parsed, None, "{text:?} is past u64::MAX"),
            }
            got.push(parsed);
        }
        if let [Some(x), Some(y)] = got[..] {
            assert!(x <= y, "a larger number parsed to less: {lo} {hi} {suffix}");
        }
        if suffix.is_empty() {
            continue;
        }
        // A larger unit never parses to less.
        if let (Some(before), Some(now)) = (previous_unit, got[0]) {
            assert!(
                before <= now,
                "{suffix} parsed to less than the unit before"
            );
        }
        previous_unit = got[0];
    }
    assert_eq!(parse_size(&format_size(a), BareUnit::Bytes).ok(), Some(a));

    // Durations: the value is floor(n × unit / 10^frac) nanoseconds.
    const NS: [(&str, u128); 10] = [
        ("ns", 1),
        ("us", 1_000),
        ("ms", 1_000_000),
        ("s", 1_000_000_000),
        ("", 1_000_000_000),
        ("m", 60_000_000_000),
        ("h", 3_600_000_000_000),
        ("d", 86_400_000_000_000),
        ("w", 604_800_000_000_000),
        ("y", 31_536_000_000_000_000),
    ];
    let (unit, per) = NS[usize::from(pick / 7) % NS.len()];
    for n in [lo, hi] {
        let text = format!("{}{unit}", decimal(n, frac));
        let nanos = u128::from(n) * per / 10u128.pow(frac);
        let want = u64::try_from(nanos / 1_000_000_000)
            .ok()
            .map(|s| Duration::new(s, (nanos % 1_000_000_000) as u32));
        assert_eq!(parse_duration(&text).ok(), want, "{text:?}");
    }
    let d = Duration::new(a, (b % 1_000_000_000) as u32);
    assert_eq!(parse_duration(&format_duration(d)).ok(), Some(d), "{d:?}");

    // Times of day: every one prints and parses back.
    let days = [
        None,
        Some(Weekday::Sunday),
        Some(Weekday::Monday),
        Some(Weekday::Tuesday),
        Some(Weekday::Wednesday),
        Some(Weekday::Thursday),
        Some(Weekday::Friday),
        Some(Weekday::Saturday),
    ];
    let day = days[usize::from(pick) % days.len()];
    let (hour, minute) = ((a % 24) as u8, (b % 60) as u8);
    let t = TimeOfDay::new(day, hour, minute).expect("a valid time");
    assert_eq!(TimeOfDay::parse(&t.to_string()).ok(), Some(t));
    assert_eq!(TimeOfDay::new(day, hour + 24, minute), None);
}
