//! Peak memory of planning a sync: `sync::sync` in a dry run between two synthetic backends
//! that each list N generated entries, for growing N (issue 13, item 11).
//!
//! ```text
//! cargo bench --features sync --bench sync_plan                 # N = 100k, 250k, 500k, 1M, 2M
//! cargo bench --features sync --bench sync_plan -- 1000000       # chosen sizes only
//! ```
//!
//! The backend lists lazily, in sorted order, N objects `dNNNNN/fNNNNNNN` (1,000 per
//! directory) whose sizes and modification times are derived from the index; it holds no
//! data (`reader` and `writer` fail). Two runs per N:
//!
//! | run | destination | the plan |
//! | --- | --- | --- |
//! | equal | the same N entries | nothing to do: N unchanged |
//! | 1% differ | every 100th entry has another size | N/100 copies (a dry run: none made) |
//! | 1% extra | the same N, and N/100 more only there | N/100 deletes, kept until the end |
//!
//! Each run is its own child process (this binary again, with `--child`), so the peak
//! resident set (`VmHWM` of `/proc/self/status`, Linux) is that run's alone; the child also
//! reports the peak before the run (the binary and its libraries) and checks the report
//! (counts as in the table, no failures), so a figure never comes from a run that did
//! nothing. Goal (issue 13): under 150 MB at 1,000,000 entries per side, and flat as N grows.
//!
//! Environment: `OMNISTORAGE_BENCH_SYNC_CHECKERS` (the engine's checkers, default 8).

use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use omnistorage::sync::{self, Options};
use omnistorage::{
    Backend, Capabilities, Entry, Error, ErrorKind, Fields, List, ListOptions, Path, ReadOptions,
    Reader, Result, WriteOptions, Writer,
};

#[path = "support/scratch.rs"]
mod scratch;
use scratch::{BoxResult, env_number};

/// The sizes run when none is given.
const DEFAULT_SIZES: [u64; 5] = [100_000, 250_000, 500_000, 1_000_000, 2_000_000];
/// One destination entry in this many differs from the source in the `differ` run (and is
/// followed by an extra one in the `extra` run).
const DIFFER_EVERY: u64 = 100;

/// N listed objects, nothing stored. `differ_every`: every such entry has another size;
/// `extra_every`: after every such entry comes one more (`….old`), only on this side.
#[derive(Debug)]
struct Synthetic {
    n: u64,
    differ_every: Option<u64>,
    extra_every: Option<u64>,
}

impl Synthetic {
    fn entry(i: u64, differ_every: Option<u64>) -> Result<Entry> {
        // Zero-padded, so the byte order of the paths is the order of the indices.
        let path = Path::parse(format!("d{:05}/f{:07}", i / 1000, i))?;
        let differs = differ_every.is_some_and(|every| i.is_multiple_of(every));
        let size = i % 8192 + u64::from(differs);
        let modified = SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000 + i, 0);
        Ok(Entry::file(path, size).with_modified(Some(modified)))
    }

    /// The extra entry after entry `i`: `….old` sorts after `i`'s path and before `i + 1`'s.
    fn extra(i: u64) -> Result<Entry> {
        let path = Path::parse(format!("d{:05}/f{:07}.old", i / 1000, i))?;
        Ok(Entry::file(path, 1).with_modified(Some(SystemTime::UNIX_EPOCH)))
    }
}

fn unsupported(what: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!("the synthetic backend has no data ({what})"),
    )
}

impl Backend for Synthetic {
    fn reader(&self, _: &Path, _: &ReadOptions) -> Result<Reader> {
        Err(unsupported("reader"))
    }

    fn writer(&self, _: &Path, _: &WriteOptions) -> Result<Writer> {
        Err(unsupported("writer"))
    }

    fn exists(&self, _: &Path) -> Result<bool> {
        Err(unsupported("exists"))
    }

    fn delete(&self, _: &Path) -> Result<()> {
        Err(unsupported("delete"))
    }

    /// The whole listing of the root, recursive; anything else lists nothing.
    fn list(&self, prefix: &Path, opts: &ListOptions) -> Result<List> {
        if !prefix.is_root() || !opts.recursive {
            return Ok(Box::new(std::iter::empty()));
        }
        let (differ_every, extra_every) = (self.differ_every, self.extra_every);
        Ok(Box::new((0..self.n).flat_map(move |i| {
            let extra = extra_every
                .is_some_and(|every| i.is_multiple_of(every))
                .then(|| Synthetic::extra(i));
            std::iter::once(Synthetic::entry(i, differ_every)).chain(extra)
        })))
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::default();
        caps.read = true;
        caps.write = true;
        caps.list = true;
        caps.delete = true;
        caps.modified_time = Some(Duration::from_secs(1));
        caps.listed = Fields::MODIFIED;
        caps
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--child") => child(args.get(1..).unwrap_or_default()),
        _ => parent(&args),
    };
    if let Err(e) = result {
        eprintln!("sync_plan bench failed: {e}");
        std::process::exit(1);
    }
}

/// Runs one child per size and run, and prints the table.
fn parent(args: &[String]) -> BoxResult<()> {
    // `cargo bench` passes `--bench`; numbers are sizes.
    let mut sizes = Vec::new();
    for arg in args.iter().filter(|a| !a.starts_with("--")) {
        sizes.push(
            arg.replace('_', "")
                .parse::<u64>()
                .map_err(|e| format!("size {arg:?}: {e}"))?,
        );
    }
    if sizes.is_empty() {
        sizes = DEFAULT_SIZES.to_vec();
    }
    let exe = std::env::current_exe()?;
    println!("sync::sync, dry run, N synthetic entries listed on each side (one process per row)");
    println!("| N per side | run       | peak RSS MiB | before run MiB | time s | entries/s |");
    println!("| ---------- | --------- | ------------ | -------------- | ------ | --------- |");
    for &n in &sizes {
        for run in ["equal", "differ", "extra"] {
            let out = Command::new(&exe)
                .args(["--child", &n.to_string(), run])
                .output()?;
            if !out.status.success() {
                return Err(format!(
                    "child N={n} {run}: {}\n{}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                )
                .into());
            }
            let text = String::from_utf8_lossy(&out.stdout);
            let fields: Vec<f64> = text
                .split_whitespace()
                .map(str::parse)
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| format!("child N={n} {run} printed {text:?}: {e}"))?;
            let [hwm_kib, base_kib, secs] = fields[..] else {
                return Err(format!("child N={n} {run} printed {text:?}").into());
            };
            let label = match run {
                "differ" => "1% differ",
                "extra" => "1% extra",
                _ => run,
            };
            println!(
                "| {n:>10} | {label:<9} | {:>12.1} | {:>14.1} | {secs:>6.2} | {:>9.0} |",
                hwm_kib / 1024.0,
                base_kib / 1024.0,
                (2 * n) as f64 / secs.max(1e-9),
            );
        }
    }
    println!("Goal (issue 13): under 150 MB at 1,000,000 per side, flat as N grows.");
    Ok(())
}

/// One run: `--child N equal|differ|extra`. Prints "peak-KiB peak-before-KiB seconds".
fn child(args: &[String]) -> BoxResult<()> {
    let [n, run] = args else {
        return Err("usage: --child N equal|differ|extra".into());
    };
    let n: u64 = n.parse().map_err(|e| format!("N {n:?}: {e}"))?;
    let (differ_every, extra_every) = match run.as_str() {
        "equal" => (None, None),
        "differ" => (Some(DIFFER_EVERY), None),
        "extra" => (None, Some(DIFFER_EVERY)),
        other => return Err(format!("unknown run {other:?}").into()),
    };
    let checkers = env_number("OMNISTORAGE_BENCH_SYNC_CHECKERS", 8)?;
    let src = Synthetic {
        n,
        differ_every: None,
        extra_every: None,
    };
    let dst = Synthetic {
        n,
        differ_every,
        extra_every,
    };
    let opts = Options::new().dry_run(true).checkers(checkers);
    let before = peak_kib()?;
    let started = Instant::now();
    let report = sync::sync(&src, &Path::root(), &dst, &Path::root(), &opts)?;
    let secs = started.elapsed().as_secs_f64();
    let peak = peak_kib()?;
    let copies = differ_every.map_or(0, |every| n.div_ceil(every));
    let deletes = extra_every.map_or(0, |every| n.div_ceil(every));
    if !report.failures.is_empty() || report.stopped.is_some() {
        return Err(format!("the run failed: {report:?}").into());
    }
    if (report.copied, report.unchanged, report.deleted) != (copies, n - copies, deletes) {
        return Err(format!(
            "expected {copies} copies, {} unchanged and {deletes} deletes, the report says {}, \
             {} and {}",
            n - copies,
            report.copied,
            report.unchanged,
            report.deleted
        )
        .into());
    }
    println!("{peak} {before} {secs}");
    Ok(())
}

/// The process's peak resident set so far, in KiB (`VmHWM`, Linux).
fn peak_kib() -> BoxResult<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .ok_or("no VmHWM in /proc/self/status (not Linux?)")?;
    let kib = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kib)
}
