//! Tests of the output as a whole: log lines, JSON, the live block and its interleaving.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use omnistorage::sync::progress::{InFlight, Snapshot, Stats};

use super::log::{Level, Stamp};
use super::progress::{render, stats_line, summary};
use super::{Output, OutputConfig, erase, width_from};

mod format;
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
    s.planned_bytes = 10 << 20;
    s.transfers = 3;
    s.planned_transfers = 10;
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
