//! What the tool prints beside its results: log lines (plain or JSON, to stderr or a
//! `--log-file`), the live progress block of `-P`, the stats lines of `--stats`, and the
//! summary at the end. One [`Output`] is made by `main` from the flags and cloned where needed.
//!
//! Everything goes through one lock, so that lines never interleave mid-line: while the live
//! block is shown, a log line for stderr erases the block, is printed, and the block is drawn
//! again below it.
//!
//! rclone's rules, kept here: stats lines are logged at INFO, so they show with `-v` (or
//! `-P` when stderr is not a terminal, which prints them instead of the live block); the
//! summary at the end shows with `-v` or `-P`; `-q` shows neither.

pub mod human;
pub mod log;
mod progress;
pub mod tree;

#[cfg(test)]
mod tests;

use std::fs::OpenOptions;
use std::io::{self, IsTerminal, Write};
use std::panic::Location;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use omnistorage::sync::progress::Snapshot;

pub use log::Level;
use log::{Record, Stamp};

/// How often the live block is redrawn.
const REDRAW: Duration = Duration::from_millis(500);

/// The width used when `COLUMNS` says nothing usable.
const DEFAULT_WIDTH: usize = 80;

/// The flags that shape the output.
#[derive(Clone, Debug)]
pub struct OutputConfig {
    /// `-q`, `-v`, `-vv`: see [`Level::from_flags`]. Default `Notice`.
    pub level: Level,
    /// `--use-json-log`: JSON lines instead of plain ones. Default off.
    pub json: bool,
    /// `--log-file`: log lines go to this file (appended to) instead of stderr; the live
    /// block stays on stderr. Default none.
    pub log_file: Option<PathBuf>,
    /// `-P`/`--progress`. Default off.
    pub progress: bool,
    /// `--stats`: the period of the stats lines; `None` or zero for none. Default 1 minute.
    pub stats: Option<Duration>,
    /// Whether stderr is a terminal (the live block needs one). Default: asked of stderr.
    pub is_terminal: bool,
    /// The terminal's width. Default: `COLUMNS`, or 80.
    pub width: usize,
}

impl Default for OutputConfig {
    fn default() -> OutputConfig {
        OutputConfig {
            level: Level::Notice,
            json: false,
            log_file: None,
            progress: false,
            stats: Some(Duration::from_secs(60)),
            is_terminal: io::stderr().is_terminal(),
            width: width_from(std::env::var("COLUMNS").ok().as_deref()),
        }
    }
}

/// The width that `COLUMNS` gives, or 80.
fn width_from(columns: Option<&str>) -> usize {
    columns
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&w| w > 0)
        .unwrap_or(DEFAULT_WIDTH)
}

/// Where output goes. Cheap to clone (an `Arc`); `Send + Sync`.
#[derive(Clone)]
pub struct Output(Arc<Shared>);

struct Shared {
    cfg: OutputConfig,
    now: fn() -> jiff::Timestamp,
    state: Mutex<State>,
}

/// Everything behind the one lock.
struct State {
    /// stderr, or the tests' buffer.
    term: Box<dyn Write + Send>,
    /// The `--log-file`, if any.
    log_file: Option<Box<dyn Write + Send>>,
    /// The live block as last drawn, and shown on `term` now (empty when not shown).
    block: Vec<String>,
}

/// Locks, ignoring poison: the state stays valid after any panic.
fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("cfg", &self.0.cfg)
            .finish_non_exhaustive()
    }
}

impl Output {
    /// Output as `cfg` says, to stderr; opens the log file (appending) if there is one.
    pub fn new(cfg: OutputConfig) -> io::Result<Output> {
        let log_file = match &cfg.log_file {
            Some(path) => {
                let file = OpenOptions::new().create(true).append(true).open(path)?;
                Some(Box::new(io::LineWriter::new(file)) as Box<dyn Write + Send>)
            }
            None => None,
        };
        Ok(Output::with_sinks(
            cfg,
            Box::new(io::stderr()),
            log_file,
            jiff::Timestamp::now,
        ))
    }

    /// Output to the given writers, with the given clock (the tests choose all three).
    fn with_sinks(
        cfg: OutputConfig,
        term: Box<dyn Write + Send>,
        log_file: Option<Box<dyn Write + Send>>,
        now: fn() -> jiff::Timestamp,
    ) -> Output {
        Output(Arc::new(Shared {
            cfg,
            now,
            state: Mutex::new(State {
                term,
                log_file,
                block: Vec::new(),
            }),
        }))
    }

    /// Whether lines of `level` are logged.
    pub fn enabled(&self, level: Level) -> bool {
        level <= self.0.cfg.level
    }

    /// Logs an error (shown even with `-q`), about `object` if given.
    #[track_caller]
    pub fn error(&self, object: Option<&str>, msg: &str) {
        self.log(Level::Error, object, msg, Location::caller());
    }

    /// Logs a notice (shown unless `-q`).
    #[track_caller]
    pub fn notice(&self, object: Option<&str>, msg: &str) {
        self.log(Level::Notice, object, msg, Location::caller());
    }

    /// Logs an info line (shown with `-v`).
    #[track_caller]
    pub fn info(&self, object: Option<&str>, msg: &str) {
        self.log(Level::Info, object, msg, Location::caller());
    }

    /// Logs a debug line (shown with `-vv`).
    #[track_caller]
    pub fn debug(&self, object: Option<&str>, msg: &str) {
        self.log(Level::Debug, object, msg, Location::caller());
    }

    /// Logs a line at `level`.
    #[track_caller]
    pub fn at(&self, level: Level, object: Option<&str>, msg: &str) {
        self.log(level, object, msg, Location::caller());
    }

    fn log(&self, level: Level, object: Option<&str>, msg: &str, at: &Location<'_>) {
        if !self.enabled(level) {
            return;
        }
        let source = format!("{}:{}", source_file(at.file()), at.line());
        self.emit(&Record {
            level,
            object,
            msg,
            source: &source,
            stats: None,
        });
    }

    /// Formats `record` and writes it where log lines go, around the live block if shown.
    fn emit(&self, record: &Record<'_>) {
        let stamp = Stamp::of((self.0.now)());
        let line = if self.0.cfg.json {
            log::json_line(&stamp, record)
        } else {
            log::plain_line(&stamp, record)
        };
        let mut state = lock(&self.0.state);
        let state = &mut *state;
        match &mut state.log_file {
            Some(file) => {
                let _ = file.write_all(line.as_bytes());
            }
            None => {
                // One write: erase the block, the line, the block again.
                let mut out = erase(state.block.len());
                out.push_str(&line);
                for l in &state.block {
                    out.push_str(l);
                    out.push('\n');
                }
                let _ = state.term.write_all(out.as_bytes());
                let _ = state.term.flush();
            }
        }
    }

    /// Whether `-P` draws the live block (it needs a terminal).
    fn live(&self) -> bool {
        let cfg = &self.0.cfg;
        cfg.progress && cfg.is_terminal && cfg.level > Level::Error
    }

    /// Whether stats lines are printed: with `-v`, or `-P` off a terminal; never with `-q`.
    fn stats_lines(&self) -> bool {
        let cfg = &self.0.cfg;
        cfg.level > Level::Error && (cfg.level >= Level::Info || cfg.progress) && !self.live()
    }

    /// How often the run should call [`progress_callback`](Output::progress_callback): every
    /// 500 ms for the live block, every `--stats` period for stats lines, `None` when neither
    /// is shown (`-q`, the default level without `-P`, `--stats 0`).
    pub fn progress_every(&self) -> Option<Duration> {
        if self.live() {
            return Some(REDRAW);
        }
        match self.0.cfg.stats {
            Some(period) if !period.is_zero() && self.stats_lines() => Some(period),
            _ => None,
        }
    }

    /// What to pass to the run with [`progress_every`](Output::progress_every): each call
    /// redraws the live block, or prints one stats line.
    pub fn progress_callback(&self) -> impl Fn(&Snapshot) + Send + Sync + 'static {
        let out = self.clone();
        move |snapshot| out.on_progress(snapshot)
    }

    fn on_progress(&self, s: &Snapshot) {
        if self.live() {
            let block = progress::render(s, self.0.cfg.width.saturating_sub(1));
            self.draw(block);
        } else if self.stats_lines() {
            let msg = progress::stats_line(s);
            let stats = self.0.cfg.json.then(|| progress::stats_json(s));
            self.emit(&Record {
                level: Level::Info,
                object: None,
                msg: &msg,
                source: "stats",
                stats: stats.as_deref(),
            });
        }
    }

    /// Replaces the live block on the terminal with `block` (empty: just erases it).
    fn draw(&self, block: Vec<String>) {
        let mut state = lock(&self.0.state);
        let mut out = erase(state.block.len());
        for l in &block {
            out.push_str(l);
            out.push('\n');
        }
        let _ = state.term.write_all(out.as_bytes());
        let _ = state.term.flush();
        state.block = block;
    }

    /// The end of a run: erases the live block and prints the summary in its place (with
    /// `-P` on a terminal), or logs it (with `-v`, or `-P` elsewhere). Nothing with `-q`.
    pub fn finish(&self, last: &Snapshot) {
        let lines = progress::summary(last);
        if self.live() {
            // One write under the lock: no log line can come between the two.
            let mut state = lock(&self.0.state);
            let mut out = erase(state.block.len());
            for l in &lines {
                out.push_str(l);
                out.push('\n');
            }
            let _ = state.term.write_all(out.as_bytes());
            let _ = state.term.flush();
            state.block.clear();
        } else if self.stats_lines() {
            let msg = format!("\n{}", lines.join("\n"));
            let stats = self.0.cfg.json.then(|| progress::stats_json(last));
            self.emit(&Record {
                level: Level::Info,
                object: None,
                msg: &msg,
                source: "stats",
                stats: stats.as_deref(),
            });
        }
    }
}

/// The ANSI sequence that erases a block of `lines` lines drawn just above the cursor (the
/// cursor at the start of the line below it): up `lines`, then erase to the end of the
/// screen. Empty for no lines.
fn erase(lines: usize) -> String {
    if lines == 0 {
        String::new()
    } else {
        format!("\r\x1b[{lines}A\x1b[J")
    }
}

/// The part of a source path after `src/bin/omnistorage/` (or the whole path).
fn source_file(path: &str) -> &str {
    let path = path.trim_start_matches("./");
    path.strip_prefix("src/bin/omnistorage/").unwrap_or(path)
}
