//! Tests of the output as a whole: log lines, JSON, the live block and its interleaving.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use omnistorage::sync::progress::{InFlight, Snapshot, Stats};

use super::log::{Level, Record, Stamp, json_line, json_string, plain_line, sanitize};
use super::progress::{fit, render, stats_json, stats_line, summary, truncate_middle};
use super::{Output, OutputConfig, erase, width_from};

mod json;
use json::Value;

/// 2026-12-03T10:00:00.123456789Z.
fn fixed() -> jiff::Timestamp {
    jiff::Timestamp::new(1_796_292_000, 123_456_789).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

fn stamp() -> Stamp {
    Stamp::of(fixed())
}

/// A writer that keeps each `write` call as one chunk.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<Vec<u8>>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .push(buf.to_vec());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Sink {
    fn chunks(&self) -> Vec<String> {
        let chunks = self.0.lock().map(|c| c.clone()).unwrap_or_default();
        chunks
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect()
    }
    fn text(&self) -> String {
        self.chunks().concat()
    }
}

fn config(level: Level, progress: bool, is_terminal: bool) -> OutputConfig {
    OutputConfig {
        level,
        json: false,
        log_file: None,
        progress,
        stats: Some(Duration::from_secs(60)),
        is_terminal,
        width: 60,
    }
}

fn output(cfg: OutputConfig) -> (Output, Sink) {
    let sink = Sink::default();
    let out = Output::with_sinks(cfg, Box::new(sink.clone()), None, fixed);
    (out, sink)
}

fn in_flight(name: &str, size: u64, bytes: u64) -> Vec<InFlight> {
    let stats = Stats::new();
    let t = stats.start(name, size);
    t.add(bytes);
    let list = stats.snapshot().transferring;
    t.finish(true);
    list
}

/// A run half done: 5 MiB of 10 MiB, 3 of 10 files, 2 transfers in flight.
fn half() -> Snapshot {
    let mut s = Stats::new().snapshot();
    s.bytes = 5 << 20;
    s.total_bytes = 10 << 20;
    s.transfers = 3;
    s.total_transfers = 10;
    s.checks = 2;
    s.deletes = 1;
    s.errors = 1;
    s.elapsed = Duration::from_millis(62_340);
    s.speed = 1_294_336.0;
    s.eta = Some(Duration::from_secs(4));
    s.transferring = in_flight("dir/a.bin", 4 << 20, 1 << 20);
    s.transferring.extend(in_flight(
        "a/very/long/path/that/does/not/fit/in/the/line/at/all/file.txt",
        1000,
        999,
    ));
    s
}

fn empty() -> Snapshot {
    Stats::new().snapshot()
}

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
fn levels_from_flags() {
    assert_eq!(Level::from_flags(false, 0), Level::Notice);
    assert_eq!(Level::from_flags(false, 1), Level::Info);
    assert_eq!(Level::from_flags(false, 2), Level::Debug);
    assert_eq!(Level::from_flags(false, 9), Level::Debug);
    assert_eq!(Level::from_flags(true, 2), Level::Error);
}

#[test]
fn width_from_columns() {
    assert_eq!(width_from(None), 80);
    assert_eq!(width_from(Some("120")), 120);
    assert_eq!(width_from(Some(" 40 ")), 40);
    assert_eq!(width_from(Some("0")), 80);
    assert_eq!(width_from(Some("wide")), 80);
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

/// The block as `Output` draws it at width 60 (one column kept free).
fn block(s: &Snapshot) -> String {
    render(s, 59).iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn a_log_line_erases_the_block_prints_and_redraws() {
    let (out, sink) = output(config(Level::Notice, true, true));
    let s = half();
    out.progress_callback()(&s);
    out.notice(Some("a.txt"), "Copied (new)");
    let n = render(&s, 59).len();
    let chunks = sink.chunks();
    assert_eq!(chunks.len(), 2, "{chunks:?}");
    assert_eq!(chunks.first(), Some(&block(&s)));
    assert_eq!(
        chunks.get(1),
        Some(&format!(
            "\r\x1b[{n}A\x1b[J2026/12/03 10:00:00 NOTICE: a.txt: Copied (new)\n{}",
            block(&s)
        ))
    );
    // A redraw erases the old block first.
    out.progress_callback()(&empty());
    assert_eq!(
        sink.chunks().get(2),
        Some(&format!("{}{}", erase(n), block(&empty())))
    );
}

/// Replays what a terminal would show for `text`: `\n`, `\r`, cursor up (`ESC[nA`) and erase
/// to the end of the screen (`ESC[J`), the only sequences the output uses.
fn screen(text: &str) -> Vec<String> {
    let mut rows: Vec<String> = vec![String::new()];
    let mut row = 0usize;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        match c {
            '\n' => {
                row += 1;
                if rows.len() <= row {
                    rows.push(String::new());
                }
            }
            '\r' => {}
            '\u{1b}' => {
                let end = rest.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(0);
                let (arg, cmd) = (&rest[1..end], &rest[end..=end]);
                rest = &rest[end + 1..];
                match cmd {
                    "A" => row = row.saturating_sub(arg.parse().unwrap_or(1)),
                    "J" => rows.truncate(row + 1),
                    _ => panic!("unexpected sequence {cmd:?}"),
                }
                if let Some(r) = rows.get_mut(row) {
                    r.clear();
                }
            }
            c => {
                if let Some(r) = rows.get_mut(row) {
                    r.push(c);
                }
            }
        }
    }
    if rows.last().is_some_and(String::is_empty) {
        rows.pop();
    }
    rows
}

#[test]
fn concurrent_log_lines_stay_whole_and_above_the_block() {
    let (out, sink) = output(config(Level::Notice, true, true));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let out = out.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    out.notice(None, &format!("thread {t} line {i}"));
                }
            })
        })
        .collect();
    let mut last = half();
    for i in 0..50 {
        last.checks = i;
        out.progress_callback()(&last);
    }
    for t in threads {
        assert!(t.join().is_ok());
    }
    for chunk in sink.chunks() {
        assert!(chunk.ends_with('\n'), "{chunk:?}");
    }
    let rows = screen(&sink.text());
    let (logs, shown) = rows.split_at(200);
    assert!(
        logs.iter()
            .all(|l| l.starts_with("2026/12/03 10:00:00 NOTICE: thread "))
    );
    for t in 0..4 {
        let mine: Vec<_> = logs
            .iter()
            .filter(|l| l.contains(&format!("thread {t} ")))
            .collect();
        assert_eq!(mine.len(), 50);
        for (i, l) in mine.iter().enumerate() {
            assert!(l.ends_with(&format!("thread {t} line {i}")), "{l}");
        }
    }
    assert_eq!(shown, render(&last, 59).as_slice());
}

#[test]
fn finish_replaces_the_block_with_the_summary() {
    let (out, sink) = output(config(Level::Notice, true, true));
    let mut s = half();
    out.progress_callback()(&s);
    s.transferring.clear();
    out.finish(&s);
    let rows = screen(&sink.text());
    assert_eq!(rows, summary(&s));
    let n = render(&half(), 59).len();
    assert_eq!(
        sink.chunks().last(),
        Some(&format!("{}{}\n", erase(n), summary(&s).join("\n")))
    );
    // Log lines after the end print plainly.
    out.notice(None, "done");
    let rows = screen(&sink.text());
    assert_eq!(
        rows.last().map(String::as_str),
        Some("2026/12/03 10:00:00 NOTICE: done")
    );
}

#[test]
fn levels_filter_lines() {
    let (out, sink) = output(config(Level::Error, false, false));
    out.notice(None, "hidden");
    out.info(None, "hidden");
    out.debug(None, "hidden");
    out.error(Some("x"), "shown");
    assert_eq!(sink.text(), "2026/12/03 10:00:00 ERROR : x: shown\n");

    let (out, sink) = output(config(Level::Info, false, false));
    out.info(None, "shown");
    out.debug(None, "hidden");
    assert_eq!(sink.text(), "2026/12/03 10:00:00 INFO  : shown\n");
}

#[test]
fn json_log_names_the_calling_line() {
    let mut cfg = config(Level::Notice, false, false);
    cfg.json = true;
    let (out, sink) = output(cfg);
    let line = line!() + 1;
    out.notice(Some("a"), "m");
    let Ok(Value::Object(f)) = json::parse(sink.text().trim_end()) else {
        panic!("{}", sink.text());
    };
    assert_eq!(
        f.get("source"),
        Some(&Value::Str(format!("output/tests.rs:{line}")))
    );
}

#[test]
fn log_file_takes_the_lines_and_the_terminal_keeps_the_block() {
    let term = Sink::default();
    let file = Sink::default();
    let out = Output::with_sinks(
        config(Level::Notice, true, true),
        Box::new(term.clone()),
        Some(Box::new(file.clone())),
        fixed,
    );
    out.progress_callback()(&half());
    out.notice(None, "to the file");
    assert_eq!(file.text(), "2026/12/03 10:00:00 NOTICE: to the file\n");
    assert_eq!(term.text(), block(&half()));
}

#[test]
fn stats_lines_off_a_terminal() {
    // -P without a terminal: stats lines at the --stats period, even at the default level.
    let (out, sink) = output(config(Level::Notice, true, false));
    assert_eq!(out.progress_every(), Some(Duration::from_secs(60)));
    out.progress_callback()(&half());
    assert_eq!(
        sink.text(),
        format!("2026/12/03 10:00:00 INFO  : {}\n", stats_line(&half()))
    );
    let mut done = half();
    done.transferring.clear();
    out.finish(&done);
    let text = sink.text();
    let (_, end) = text.split_at(text.find("INFO  : \n").unwrap_or(0));
    assert_eq!(end, format!("INFO  : \n{}\n", summary(&done).join("\n")));
}

#[test]
fn when_progress_is_asked_for() {
    let every = |level, progress, terminal, stats: Option<u64>| {
        let mut cfg = config(level, progress, terminal);
        cfg.stats = stats.map(Duration::from_secs);
        output(cfg).0.progress_every()
    };
    let half_second = Some(Duration::from_millis(500));
    let minute = Some(Duration::from_secs(60));
    assert_eq!(every(Level::Notice, true, true, Some(60)), half_second);
    assert_eq!(every(Level::Debug, true, true, None), half_second);
    assert_eq!(every(Level::Notice, true, false, Some(60)), minute);
    assert_eq!(every(Level::Info, false, false, Some(60)), minute);
    assert_eq!(every(Level::Info, false, true, Some(60)), minute);
    assert_eq!(every(Level::Notice, false, true, Some(60)), None);
    assert_eq!(every(Level::Info, false, false, Some(0)), None);
    assert_eq!(every(Level::Info, false, false, None), None);
    assert_eq!(every(Level::Error, true, true, Some(60)), None);
    assert_eq!(every(Level::Error, false, false, Some(60)), None);
}

#[test]
fn quiet_finish_prints_nothing() {
    let (out, sink) = output(config(Level::Error, true, true));
    out.progress_callback()(&half());
    out.finish(&half());
    assert_eq!(sink.text(), "");
}

#[test]
fn output_is_send_and_sync() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<Output>();
}

#[test]
fn log_file_is_appended_to() -> io::Result<()> {
    let dir = std::env::temp_dir().join(format!("omnistorage-output-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("log.txt");
    std::fs::write(&path, "before\n")?;
    let mut cfg = config(Level::Notice, false, false);
    cfg.log_file = Some(path.clone());
    let out = Output::new(cfg)?;
    out.notice(None, "after");
    drop(out);
    let text = std::fs::read_to_string(&path)?;
    std::fs::remove_dir_all(&dir)?;
    assert!(text.starts_with("before\n"), "{text}");
    assert!(text.ends_with(" NOTICE: after\n"), "{text}");
    Ok(())
}
