//! What the numbers of a run look like: the live block of `-P` ([`render`]), the one-line
//! stats of `--stats` ([`stats_line`]), the summary at the end ([`summary`]) and the `stats`
//! object of JSON lines ([`stats_json`]). Pure functions of a [`Snapshot`].

use std::fmt::Write as _;

use omnistorage::sync::progress::Snapshot;

use super::human;
use super::log::{json_string, sanitize};

/// The most transfers in flight the live block lists; the rest are counted on one line.
const MAX_IN_FLIGHT_LINES: usize = 20;

/// The widest a transfer's name is padded to in the live block (as rclone).
const NAME_COLUMN: usize = 45;

/// The live block of `-P`: rclone's stats block with the transfers in flight, every line at
/// most `width` characters (names shortened in the middle with `…`, other lines cut at the
/// end). A `width` under 20 counts as 20.
pub fn render(s: &Snapshot, width: usize) -> Vec<String> {
    let width = width.max(20);
    let mut lines = counters(s);
    lines.push(format!("Elapsed time:  {:>10}", human::elapsed(s.elapsed)));
    if !s.transferring.is_empty() {
        lines.push("Transferring:".to_owned());
        for t in s.transferring.iter().take(MAX_IN_FLIGHT_LINES) {
            let tail = format!(
                ": {:>4} /{}",
                human::percent(t.bytes, t.size),
                human::size(t.size)
            );
            let room = width.saturating_sub(3 + chars(&tail)).max(1);
            let name = truncate_middle(&sanitize(&t.name, false), room);
            let pad = NAME_COLUMN.min(room);
            lines.push(format!(" * {name:>pad$}{tail}"));
        }
        let more = s.transferring.len().saturating_sub(MAX_IN_FLIGHT_LINES);
        if more > 0 {
            lines.push(format!(" * and {more} more"));
        }
    }
    lines.into_iter().map(|l| fit(&l, width)).collect()
}

/// The summary at the end: rclone's final stats block (no transfers in flight, since none
/// are left), not cut to any width.
pub fn summary(s: &Snapshot) -> Vec<String> {
    let mut lines = counters(s);
    lines.push(format!("Elapsed time:  {:>10}", human::elapsed(s.elapsed)));
    lines
}

/// The counter lines of the block, each only when it says something (as rclone).
fn counters(s: &Snapshot) -> Vec<String> {
    let mut lines = vec![format!(
        "Transferred:   {:>10} / {}, {}, {}, ETA {}",
        human::size(s.bytes),
        human::size(s.planned_bytes),
        human::percent(s.bytes, s.planned_bytes),
        human::rate(s.speed),
        human::eta(s.eta)
    )];
    if s.errors != 0 {
        lines.push(format!("Errors:        {:>10}", s.errors));
    }
    if s.checks != 0 {
        lines.push(format!("Checks:        {:>10}", s.checks));
    }
    if s.deletes != 0 {
        lines.push(format!("Deleted:       {:>10}", s.deletes));
    }
    if s.renames != 0 {
        lines.push(format!("Renamed:       {:>10}", s.renames));
    }
    if s.transfers != 0 || s.planned_transfers != 0 {
        lines.push(format!(
            "Transferred:   {:>10} / {}, {}",
            s.transfers,
            s.planned_transfers,
            human::percent(s.transfers, s.planned_transfers)
        ));
    }
    lines
}

/// The one-line stats of `--stats` (rclone's `--stats-one-line` form, with the counts that
/// are not zero): `1.234 MiB / 10 MiB, 12%, 1.234 MiB/s, ETA 7s (xfr#3/10, chk#2)`.
pub fn stats_line(s: &Snapshot) -> String {
    let mut line = format!(
        "{} / {}, {}, {}, ETA {}",
        human::size(s.bytes),
        human::size(s.planned_bytes),
        human::percent(s.bytes, s.planned_bytes),
        human::rate(s.speed),
        human::eta(s.eta)
    );
    let mut counts = Vec::new();
    if s.planned_transfers != 0 {
        counts.push(format!("xfr#{}/{}", s.transfers, s.planned_transfers));
    }
    for (name, n) in [
        ("chk", s.checks),
        ("del", s.deletes),
        ("ren", s.renames),
        ("err", s.errors),
    ] {
        if n != 0 {
            counts.push(format!("{name}#{n}"));
        }
    }
    if !counts.is_empty() {
        let _ = write!(line, " ({})", counts.join(", "));
    }
    line
}

/// The `stats` object of JSON lines, with rclone's field names (`core/stats`): bytes,
/// checks, deletes, elapsedTime, errors, eta (seconds or null), renames, speed, totalBytes,
/// totalTransfers, transfers, and transferring (name, size, bytes, percentage) when any.
pub fn stats_json(s: &Snapshot) -> String {
    let mut out = format!(
        "{{\"bytes\":{},\"checks\":{},\"deletes\":{},\"elapsedTime\":{},\"errors\":{},\
         \"eta\":{},\"renames\":{},\"speed\":{},\"totalBytes\":{},\"totalTransfers\":{},\
         \"transfers\":{}",
        s.bytes,
        s.checks,
        s.deletes,
        json_number(s.elapsed.as_secs_f64()),
        s.errors,
        s.eta
            .map_or_else(|| "null".to_owned(), |d| d.as_secs().to_string()),
        s.renames,
        json_number(s.speed),
        s.planned_bytes,
        s.planned_transfers,
        s.transfers
    );
    if !s.transferring.is_empty() {
        out.push_str(",\"transferring\":[");
        for (i, t) in s.transferring.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"name\":");
            json_string(&t.name, &mut out);
            let percentage = if t.size == 0 {
                0
            } else {
                (t.bytes as f64 * 100.0 / t.size as f64) as u64
            };
            let _ = write!(
                out,
                ",\"size\":{},\"bytes\":{},\"percentage\":{percentage}}}",
                t.size, t.bytes
            );
        }
        out.push(']');
    }
    out.push('}');
    out
}

/// A finite number as JSON (three decimals at most); not-a-number and infinities as 0.
fn json_number(x: f64) -> String {
    if !x.is_finite() {
        return "0".to_owned();
    }
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// The number of characters of `s` (what the width counts: no wide characters measured).
fn chars(s: &str) -> usize {
    s.chars().count()
}

/// `s` cut to at most `max` characters, the end replaced by `…` when cut.
pub fn fit(s: &str, max: usize) -> String {
    if chars(s) <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    if max > 0 {
        out.push('…');
    }
    out
}

/// `s` cut to at most `max` characters by taking out its middle, replaced by `…`: the end of a
/// path (its name) is what a reader needs most, so it keeps one character more than the start.
pub fn truncate_middle(s: &str, max: usize) -> String {
    let n = chars(s);
    if n <= max {
        return s.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let keep = max - 1;
    let head = keep / 2;
    let tail = keep - head;
    let mut out: String = s.chars().take(head).collect();
    out.push('…');
    out.extend(s.chars().skip(n - tail));
    out
}
