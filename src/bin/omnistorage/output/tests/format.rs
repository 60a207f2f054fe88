//! The formats as pure functions: JSON and plain lines, the live block, stats lines.

use super::json::{self, Value};
use super::{empty, half, in_flight, stamp};
use crate::output::log::{Level, Record, Stamp, json_line, json_string, plain_line, sanitize};
use crate::output::progress::{fit, render, stats_json, stats_line, summary, truncate_middle};

#[test]
fn json_strings_escape_quotes_backslashes_and_controls() {
    let table: &[(&str, &str)] = &[
        ("", r#""""#),
        ("plain", r#""plain""#),
        (r#"say "hi""#, r#""say \"hi\"""#),
        (r"C:\dir\f", r#""C:\\dir\\f""#),
        ("a\nb\rc\td", r#""a\nb\rc\td""#),
        ("\u{8}\u{c}", r#""\b\f""#),
        (
            "\u{0}\u{1}\u{1b}[2J\u{1f}\u{7f}",
            r#""\u0000\u0001\u001b[2J\u001f\u007f""#,
        ),
        ("été 日本 🦀", "\"été 日本 🦀\""),
        ("\u{2028}\u{2029}\u{85}", "\"\\u2028\\u2029\u{85}\""),
        ("/", r#""/""#),
    ];
    for &(input, want) in table {
        let mut out = String::new();
        json_string(input, &mut out);
        assert_eq!(out, want, "{input:?}");
        assert_eq!(json::parse(&out), Ok(Value::Str(input.to_owned())));
    }
}

#[test]
fn json_lines_parse_and_round_trip() {
    let nasty = [
        "",
        "plain",
        "quote \" and \\ and \u{0}\u{1f}\u{7f}",
        "line\nbreak\r\n",
        "日本語 ✓ 🦀 \u{2028}",
        "\u{1b}[31mred\u{1b}[0m",
    ];
    for msg in nasty {
        for object in [None, Some(msg), Some("dir/file.txt")] {
            let record = Record {
                level: Level::Info,
                object,
                msg,
                source: "output/tests.rs:1",
                stats: Some(&stats_json(&half())),
            };
            let line = json_line(&stamp(), &record);
            assert!(line.ends_with("}\n"));
            assert_eq!(line.matches('\n').count(), 1, "{line:?}");
            let Ok(Value::Object(fields)) = json::parse(line.trim_end()) else {
                panic!("not a JSON object: {line:?}");
            };
            let s = |k: &str| fields.get(k).cloned();
            assert_eq!(
                s("time"),
                Some(Value::Str("2026-12-03T10:00:00.123456Z".into()))
            );
            assert_eq!(s("level"), Some(Value::Str("info".into())));
            assert_eq!(s("msg"), Some(Value::Str(msg.into())));
            assert_eq!(s("object"), object.map(|o| Value::Str(o.into())));
            assert_eq!(s("objectType"), object.map(|_| Value::Str("file".into())));
            assert_eq!(s("source"), Some(Value::Str("output/tests.rs:1".into())));
            assert!(matches!(s("stats"), Some(Value::Object(_))));
        }
    }
}

#[test]
fn json_line_exact() {
    let record = Record {
        level: Level::Notice,
        object: Some("a \"b\".txt"),
        msg: "Copied (new)",
        source: "main.rs:7",
        stats: None,
    };
    assert_eq!(
        json_line(&stamp(), &record),
        "{\"time\":\"2026-12-03T10:00:00.123456Z\",\"level\":\"notice\",\"msg\":\"Copied (new)\",\
         \"object\":\"a \\\"b\\\".txt\",\"objectType\":\"file\",\"source\":\"main.rs:7\"}\n"
    );
}

#[test]
fn stats_json_has_rclone_fields() {
    let text = stats_json(&half());
    let Ok(Value::Object(f)) = json::parse(&text) else {
        panic!("not a JSON object: {text}");
    };
    let num = |k: &str| match f.get(k) {
        Some(Value::Num(n)) => *n,
        other => panic!("{k}: {other:?}"),
    };
    assert_eq!(num("bytes"), 5_242_880.0);
    assert_eq!(num("totalBytes"), 10_485_760.0);
    assert_eq!(num("transfers"), 3.0);
    assert_eq!(num("totalTransfers"), 10.0);
    assert_eq!(num("checks"), 2.0);
    assert_eq!(num("deletes"), 1.0);
    assert_eq!(num("renames"), 0.0);
    assert_eq!(num("errors"), 1.0);
    assert_eq!(num("elapsedTime"), 62.34);
    assert_eq!(num("speed"), 1_294_336.0);
    assert_eq!(num("eta"), 4.0);
    let Some(Value::Array(list)) = f.get("transferring") else {
        panic!("no transferring: {text}");
    };
    assert_eq!(list.len(), 2);
    let Some(Value::Object(first)) = list.first() else {
        panic!("{list:?}");
    };
    assert_eq!(first.get("name"), Some(&Value::Str("dir/a.bin".into())));
    assert_eq!(first.get("percentage"), Some(&Value::Num(25.0)));

    let mut unknown = empty();
    unknown.speed = f64::NAN;
    let text = stats_json(&unknown);
    let Ok(Value::Object(f)) = json::parse(&text) else {
        panic!("not a JSON object: {text}");
    };
    assert_eq!(f.get("eta"), Some(&Value::Null));
    assert_eq!(f.get("speed"), Some(&Value::Num(0.0)));
    assert!(!f.contains_key("transferring"));
}

#[test]
fn plain_lines_are_rclones() {
    let line = |level, object, msg| {
        plain_line(
            &stamp(),
            &Record {
                level,
                object,
                msg,
                source: "",
                stats: None,
            },
        )
    };
    assert_eq!(
        line(Level::Notice, None, "msg"),
        "2026/12/03 10:00:00 NOTICE: msg\n"
    );
    assert_eq!(
        line(Level::Info, Some("dir/a.txt"), "Copied (new)"),
        "2026/12/03 10:00:00 INFO  : dir/a.txt: Copied (new)\n"
    );
    assert_eq!(
        line(Level::Error, Some("x"), "failed"),
        "2026/12/03 10:00:00 ERROR : x: failed\n"
    );
    assert_eq!(
        line(Level::Debug, None, "a\nb"),
        "2026/12/03 10:00:00 DEBUG : a\nb\n"
    );
    // A name cannot move the cursor or break the line.
    assert_eq!(
        line(Level::Info, Some("evil\u{1b}[2J\n.txt"), "x\u{7}"),
        "2026/12/03 10:00:00 INFO  : evil\\x1b[2J\\x0a.txt: x\\x07\n"
    );
}

#[test]
fn sanitize_escapes_controls_only() {
    assert!(matches!(
        sanitize("été/日本", false),
        std::borrow::Cow::Borrowed(_)
    ));
    assert_eq!(sanitize("a\tb\u{85}c", false), "a\\x09b\\u{85}c");
    assert_eq!(sanitize("a\nb", true), "a\nb");
    assert_eq!(sanitize("a\nb", false), "a\\x0ab");
}

#[test]
fn stamps_are_utc() {
    assert_eq!(
        stamp(),
        Stamp {
            plain: "2026/12/03 10:00:00".into(),
            rfc3339: "2026-12-03T10:00:00.123456Z".into(),
        }
    );
}

#[test]
fn render_half_done_at_60_columns() {
    assert_eq!(
        render(&half(), 60),
        [
            "Transferred:        5 MiB / 10 MiB, 50%, 1.234 MiB/s, ETA 4s",
            "Errors:                 1",
            "Checks:                 2",
            "Deleted:                1",
            "Transferred:            3 / 10, 30%",
            "Elapsed time:      1m2.3s",
            "Transferring:",
            " *                                    dir/a.bin:  25% /4 MiB",
            " * a/very/long/path/that…/line/at/all/file.txt: 100% /1000 B",
        ]
    );
}

#[test]
fn render_nothing_planned() {
    assert_eq!(
        render(&empty(), 80),
        [
            "Transferred:          0 B / 0 B, -, 0 B/s, ETA -",
            "Elapsed time:        0.0s",
        ]
    );
}

#[test]
fn render_keeps_every_line_within_the_width() {
    for width in [1, 20, 21, 33, 40, 59, 60, 80, 200] {
        for line in render(&half(), width) {
            assert!(line.chars().count() <= width.max(20), "{width}: {line:?}");
        }
    }
    let mut many = half();
    many.transferring = (0..25)
        .flat_map(|i| in_flight(&format!("f{i}"), 10, 5))
        .collect();
    let lines = render(&many, 80);
    assert_eq!(
        lines.iter().filter(|l| l.ends_with(":  50% /10 B")).count(),
        20
    );
    assert_eq!(lines.last().map(String::as_str), Some(" * and 5 more"));
}

#[test]
fn truncation_in_the_middle_and_at_the_end() {
    assert_eq!(truncate_middle("abcdef", 6), "abcdef");
    assert_eq!(truncate_middle("abcdefgh", 5), "ab…gh");
    assert_eq!(truncate_middle("abcdefgh", 6), "ab…fgh");
    assert_eq!(truncate_middle("日本語のファイル", 4), "日…イル");
    assert_eq!(truncate_middle("abc", 1), "…");
    assert_eq!(truncate_middle("abc", 0), "");
    assert_eq!(fit("abcdef", 4), "abc…");
    assert_eq!(fit("abc", 4), "abc");
    assert_eq!(fit("abc", 0), "");
}

#[test]
fn stats_line_and_summary() {
    assert_eq!(
        stats_line(&half()),
        "5 MiB / 10 MiB, 50%, 1.234 MiB/s, ETA 4s (xfr#3/10, chk#2, del#1, err#1)"
    );
    assert_eq!(stats_line(&empty()), "0 B / 0 B, -, 0 B/s, ETA -");
    let mut done = half();
    done.transferring.clear();
    done.renames = 4;
    assert_eq!(
        summary(&done),
        [
            "Transferred:        5 MiB / 10 MiB, 50%, 1.234 MiB/s, ETA 4s",
            "Errors:                 1",
            "Checks:                 2",
            "Deleted:                1",
            "Renamed:                4",
            "Transferred:            3 / 10, 30%",
            "Elapsed time:      1m2.3s",
        ]
    );
}
