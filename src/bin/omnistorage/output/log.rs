//! Log lines: levels, rclone's plain format (`2026/12/03 10:00:00 NOTICE: object: msg`) and
//! its JSON lines (`--use-json-log`), written by hand with correct escaping.

use std::borrow::Cow;
use std::fmt::Write as _;

/// How much is logged: each level includes those before it. `-q` is `Error`, the default
/// `Notice`, `-v` `Info`, `-vv` `Debug` (as rclone).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Only errors.
    Error,
    /// Errors and things a user should see (the default).
    Notice,
    /// What happens to each object, and the stats lines.
    Info,
    /// Everything.
    Debug,
}

impl Level {
    /// The level chosen by `-q` and the number of `-v`.
    pub fn from_flags(quiet: bool, verbose: u8) -> Level {
        match (quiet, verbose) {
            (true, _) => Level::Error,
            (false, 0) => Level::Notice,
            (false, 1) => Level::Info,
            (false, _) => Level::Debug,
        }
    }

    /// The label of plain lines, padded as rclone's (`INFO  :`).
    fn plain(self) -> &'static str {
        match self {
            Level::Error => "ERROR :",
            Level::Notice => "NOTICE:",
            Level::Info => "INFO  :",
            Level::Debug => "DEBUG :",
        }
    }

    /// The `level` of JSON lines.
    fn json(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Notice => "notice",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }
}

/// A moment as both formats print it, in UTC (the binary carries no time zone database).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// `2026/12/03 10:00:00`, for plain lines.
    pub plain: String,
    /// `2026-12-03T10:00:00.123456Z` (RFC 3339, microseconds), for JSON lines.
    pub rfc3339: String,
}

impl Stamp {
    /// The stamp of `at`.
    pub fn of(at: jiff::Timestamp) -> Stamp {
        let t = at.to_zoned(jiff::tz::TimeZone::UTC).datetime();
        let (y, mo, d) = (t.year(), t.month(), t.day());
        let (h, mi, s) = (t.hour(), t.minute(), t.second());
        Stamp {
            plain: format!("{y:04}/{mo:02}/{d:02} {h:02}:{mi:02}:{s:02}"),
            rfc3339: format!(
                "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:06}Z",
                t.subsec_nanosecond() / 1_000
            ),
        }
    }
}

/// What one log line says.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// Its level.
    pub level: Level,
    /// The object it is about, if any (a path).
    pub object: Option<&'a str>,
    /// The message.
    pub msg: &'a str,
    /// Where in the code it was logged (`file.rs:42`): JSON lines only.
    pub source: &'a str,
    /// A JSON object (already valid JSON) for the `stats` field of JSON lines, if any.
    pub stats: Option<&'a str>,
}

/// A plain line, with its newline: `2026/12/03 10:00:00 NOTICE: object: msg`. Control
/// characters in the object and the message are escaped (`\x1b`), so that no name can move
/// the cursor or split the line; a message's own newlines are kept.
pub fn plain_line(stamp: &Stamp, record: &Record<'_>) -> String {
    let mut line = format!("{} {} ", stamp.plain, record.level.plain());
    if let Some(object) = record.object {
        line.push_str(&sanitize(object, false));
        line.push_str(": ");
    }
    line.push_str(&sanitize(record.msg, true));
    line.push('\n');
    line
}

/// A JSON line, with its newline: `{"time":...,"level":...,"msg":...,"object":...,
/// "objectType":"file","source":...}`; `object` and `objectType` only with an object, `stats`
/// only with stats.
pub fn json_line(stamp: &Stamp, record: &Record<'_>) -> String {
    let mut line = String::with_capacity(128 + record.msg.len());
    line.push_str("{\"time\":");
    json_string(&stamp.rfc3339, &mut line);
    line.push_str(",\"level\":");
    json_string(record.level.json(), &mut line);
    line.push_str(",\"msg\":");
    json_string(record.msg, &mut line);
    if let Some(object) = record.object {
        line.push_str(",\"object\":");
        json_string(object, &mut line);
        line.push_str(",\"objectType\":\"file\"");
    }
    line.push_str(",\"source\":");
    json_string(record.source, &mut line);
    if let Some(stats) = record.stats {
        line.push_str(",\"stats\":");
        line.push_str(stats);
    }
    line.push_str("}\n");
    line
}

/// Appends `s` as a JSON string, quotes included: `"` and `\` escaped, control characters as
/// `\n`, `\r`, `\t`, `\b`, `\f` or `\u00XX`; everything else (non-ASCII too) as it is, in
/// UTF-8. U+2028 and U+2029 are escaped as well, for readers that treat them as line ends.
pub fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' || c == '\u{7f}' || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `s` with its control characters (C0, DEL, C1) written as `\xNN` / `\u{NN}`, so that it can
/// go to a terminal as one line; newlines are kept if `keep_newlines`.
pub fn sanitize(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    let bad = |c: char| c.is_control() && !(keep_newlines && c == '\n');
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !bad(c) {
            out.push(c);
        } else if c.is_ascii() {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
    Cow::Owned(out)
}
