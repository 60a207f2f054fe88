//! Numbers for people, as rclone prints them: sizes (`1.234 MiB`, `123 B`), rates
//! (`1.234 MiB/s`), durations (`1h2m3s`), elapsed times (`1m2.3s`), ETAs (`-` when unknown)
//! and percentages.

use std::time::Duration;

/// The binary units, each 1024 times the one before.
const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/// A size as rclone prints it: whole bytes below 1 KiB (`0 B`, `1023 B`); above, the largest
/// binary unit it reaches, with three decimals unless the value is a whole number
/// (`1 KiB`, `1.500 KiB`, `10.100 GiB`).
pub fn size(bytes: u64) -> String {
    scaled(bytes, 1024, &UNITS, " ")
}

/// `n` in the largest of `units` (each `base` times the one before) it reaches, whole, or
/// with three decimals where it is not a whole number of it; `sep` between number and unit.
fn scaled(n: u64, base: u64, units: &[&str], sep: &str) -> String {
    let mut unit = 0;
    let mut scale = 1u64;
    while unit + 1 < units.len() && n / scale >= base {
        unit += 1;
        scale *= base;
    }
    let name = units.get(unit).copied().unwrap_or("");
    if n.is_multiple_of(scale) {
        return format!("{}{sep}{name}", n / scale);
    }
    format!("{:.3}{sep}{name}", n as f64 / scale as f64)
}

/// A count as rclone's `CountSuffix` prints it (`size`'s "Total objects"): below 1000 the
/// number itself; above, the largest decimal unit it reaches (`k`, `M`, `G`, `T`, `P`, `E`),
/// with three decimals unless the value is a whole number (`1k`, `1.500k`).
pub fn count(n: u64) -> String {
    scaled(n, 1000, &["", "k", "M", "G", "T", "P", "E"], "")
}

/// A rate in bytes per second, as rclone prints it: the whole bytes of [`size`] with `/s`.
/// Not a number and negative rates print as `0 B/s`.
pub fn rate(bytes_per_second: f64) -> String {
    // `as` saturates, and maps NaN to 0.
    format!("{}/s", size(bytes_per_second as u64))
}

/// A duration in whole seconds (the rest is dropped), as rclone's readable durations: years
/// (365 days), weeks, days, hours, minutes, seconds, zero units left out (`1h2m3s`, `1d5s`,
/// `0s`).
pub fn duration(d: Duration) -> String {
    const UNITS: [(u64, char); 6] = [
        (365 * 86_400, 'y'),
        (7 * 86_400, 'w'),
        (86_400, 'd'),
        (3_600, 'h'),
        (60, 'm'),
        (1, 's'),
    ];
    let mut left = d.as_secs();
    if left == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (secs, name) in UNITS {
        let n = left / secs;
        if n > 0 {
            out.push_str(&n.to_string());
            out.push(name);
            left %= secs;
        }
    }
    out
}

/// An ETA: [`duration`], or `-` when unknown.
pub fn eta(eta: Option<Duration>) -> String {
    eta.map_or_else(|| "-".to_owned(), duration)
}

/// An elapsed time as rclone's summary prints it: whole minutes and above as [`duration`],
/// then the seconds with one decimal, truncated (`0.5s`, `1m2.3s`, `1h0.0s`).
pub fn elapsed(d: Duration) -> String {
    let tenths = d.as_millis() / 100;
    let minutes = u64::try_from(tenths / 600).unwrap_or(u64::MAX);
    let rest = tenths % 600;
    let head = if minutes > 0 {
        duration(Duration::from_secs(minutes.saturating_mul(60)))
    } else {
        String::new()
    };
    format!("{head}{}.{}s", rest / 10, rest % 10)
}

/// `part` of `whole` as a rounded percentage (`45%`), or `-` when `whole` is 0.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "-".to_owned();
    }
    format!("{}%", (part as f64 * 100.0 / whole as f64 + 0.5) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KI: u64 = 1 << 10;
    const MI: u64 = 1 << 20;
    const GI: u64 = 1 << 30;
    const TI: u64 = 1 << 40;
    const PI: u64 = 1 << 50;
    const EI: u64 = 1 << 60;

    /// rclone's `SizeSuffix` test table (fs/sizesuffix_test.go), re-derived for its
    /// `ByteUnit` spelling, and edges of our own.
    #[test]
    fn sizes_match_rclone() {
        let table: &[(u64, &str)] = &[
            (0, "0 B"),
            (1, "1 B"),
            (102, "102 B"),
            (1023, "1023 B"),
            (KI, "1 KiB"),
            (KI + KI / 2, "1.500 KiB"),
            (MI, "1 MiB"),
            (1_234_567, "1.177 MiB"),
            (GI, "1 GiB"),
            (10 * GI, "10 GiB"),
            // 10.1 GiB, as rclone's test writes it (float, truncated to bytes).
            ((10.1 * GI as f64) as u64, "10.100 GiB"),
            (10 * TI, "10 TiB"),
            (10 * PI, "10 PiB"),
            (EI, "1 EiB"),
            (u64::MAX, "16.000 EiB"),
        ];
        for &(bytes, want) in table {
            assert_eq!(size(bytes), want, "{bytes}");
        }
    }

    /// rclone's `CountSuffix` spelling (`rclone size` on 1500 files: `1.500k (1500)`).
    #[test]
    fn counts_match_rclone() {
        let table: &[(u64, &str)] = &[
            (0, "0"),
            (14, "14"),
            (999, "999"),
            (1000, "1k"),
            (1500, "1.500k"),
            (2_000_000, "2M"),
            (1_234_567, "1.235M"),
        ];
        for &(n, want) in table {
            assert_eq!(count(n), want, "{n}");
        }
    }

    #[test]
    fn rates_are_whole_bytes_per_second() {
        assert_eq!(rate(0.0), "0 B/s");
        assert_eq!(rate(0.9), "0 B/s");
        assert_eq!(rate(f64::NAN), "0 B/s");
        assert_eq!(rate(-5.0), "0 B/s");
        assert_eq!(rate(1023.7), "1023 B/s");
        assert_eq!(rate(1_294_336.0), "1.234 MiB/s");
        assert_eq!(rate(f64::INFINITY), "16.000 EiB/s");
    }

    #[test]
    fn durations_leave_out_zero_units() {
        let table: &[(u64, &str)] = &[
            (0, "0s"),
            (1, "1s"),
            (59, "59s"),
            (60, "1m"),
            (61, "1m1s"),
            (3_723, "1h2m3s"),
            (86_405, "1d5s"),
            (8 * 86_400 + 3_600, "1w1d1h"),
            (365 * 86_400, "1y"),
            // rclone's largest ETA: (2^63 - 1) ns in whole seconds.
            (9_223_372_036, "292y24w3d23h47m16s"),
        ];
        for &(secs, want) in table {
            assert_eq!(duration(Duration::from_secs(secs)), want, "{secs}");
        }
        assert_eq!(duration(Duration::from_millis(1_999)), "1s");
    }

    #[test]
    fn eta_is_a_dash_when_unknown() {
        assert_eq!(eta(None), "-");
        assert_eq!(eta(Some(Duration::from_secs(7))), "7s");
        assert_eq!(eta(Some(Duration::ZERO)), "0s");
    }

    #[test]
    fn elapsed_has_tenths_of_seconds() {
        let table: &[(u64, &str)] = &[
            (0, "0.0s"),
            (560, "0.5s"),
            (1_500, "1.5s"),
            (62_340, "1m2.3s"),
            (3_600_000, "1h0.0s"),
            (3_723_450, "1h2m3.4s"),
        ];
        for &(ms, want) in table {
            assert_eq!(elapsed(Duration::from_millis(ms)), want, "{ms}");
        }
        assert!(elapsed(Duration::MAX).ends_with('s'));
    }

    #[test]
    fn percentages_round_and_dash_on_zero() {
        assert_eq!(percent(0, 0), "-");
        assert_eq!(percent(5, 0), "-");
        assert_eq!(percent(0, 10), "0%");
        assert_eq!(percent(3, 10), "30%");
        assert_eq!(percent(1, 3), "33%");
        assert_eq!(percent(2, 3), "67%");
        assert_eq!(percent(10, 10), "100%");
        assert_eq!(percent(u64::MAX, u64::MAX), "100%");
    }
}
