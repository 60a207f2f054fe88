//! `about`: the space of the store a path is on ([`Backend::usage`]), printed as rclone's
//! `about` prints it: `Total:   251.972 GiB` lines, `--full` for whole bytes, `--json`.
//!
//! [`Backend::usage`]: omnistorage::Backend::usage

use std::io::Write;

use omnistorage::{Error, Usage};

use crate::args::Args;
use crate::output::human;
use crate::{exit, remote};

/// Prints the usage of the store `args.rest[0]` is on.
pub(super) fn run(args: &Args) -> Result<u8, Error> {
    let t = remote::tree(&args.rest[0])?;
    let u = t.backend.usage()?;
    let text = if args.on("json") {
        json(&u)
    } else {
        human_text(&u, args.on("full"))
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(exit::OK)
}

/// rclone's JSON: tab-indented, the known fields in its order.
fn json(u: &Usage) -> String {
    let fields: Vec<String> = [
        ("total", u.total),
        ("used", u.used),
        ("free", u.free),
        ("objects", u.objects),
    ]
    .iter()
    .filter_map(|(name, v)| v.map(|v| format!("\t\"{name}\": {v}")))
    .collect();
    format!("{{\n{}\n}}\n", fields.join(",\n"))
}

/// rclone's lines: `Total:   17 GiB`, sizes in binary units (whole bytes with `full`), the
/// object count in decimal ones.
fn human_text(u: &Usage, full: bool) -> String {
    let mut out = String::new();
    for (name, value, is_size) in [
        ("Total:", u.total, true),
        ("Used:", u.used, true),
        ("Free:", u.free, true),
        ("Objects:", u.objects, false),
    ] {
        let Some(v) = value else { continue };
        let shown = match (full, is_size) {
            (true, _) => v.to_string(),
            (false, true) => human::size(v),
            (false, false) => human::count(v),
        };
        out.push_str(&format!("{name:<9}{shown}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage() -> Usage {
        let mut u = Usage::default();
        u.total = Some(270_553_174_016);
        u.used = Some(63_698_206_720);
        u.free = Some(33_874_542_592);
        u
    }

    /// What rclone 1.60's `about` printed for these numbers.
    #[test]
    fn lines_and_json_as_rclone() {
        assert_eq!(
            human_text(&usage(), false),
            "Total:   251.972 GiB\nUsed:    59.324 GiB\nFree:    31.548 GiB\n"
        );
        assert_eq!(
            human_text(&usage(), true),
            "Total:   270553174016\nUsed:    63698206720\nFree:    33874542592\n"
        );
        assert_eq!(
            json(&usage()),
            "{\n\t\"total\": 270553174016,\n\t\"used\": 63698206720,\n\t\"free\": 33874542592\n}\n"
        );
    }
}
