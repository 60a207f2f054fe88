//! Compression against the command-line tools, side by side on the same data.
//!
//! ```text
//! cargo bench --bench compress --features gzip,zstd
//! OMNI_BENCH_MIB=64 OMNI_BENCH_REPS=5 cargo bench --bench compress --features gzip,zstd
//! ```
//!
//! Generates `OMNI_BENCH_MIB` (default 256) MiB of mixed text — log lines, JSON records, prose,
//! deterministic — into a temporary directory (never the repository), then runs each case
//! `OMNI_BENCH_REPS` (default 3) times, interleaved (every case once, then again), and prints
//! medians:
//!
//! - compress: our writer on the file backend (reading the data through our reader) against
//!   `gzip -6 -c` / `zstd -3 -c` writing to a file;
//! - decompress: the same input file (the tool's output) through our reader into a file
//!   backend writer, against `gzip -d -c` / `zstd -d -c` into a file.
//!
//! Before each case, `sync` writes back what the last case left dirty (outside the timing).
//! Wall time and CPU time (user + system, this process and its children) are both reported:
//! on a busy machine, CPU time is the steadier of the two.
//!
//! `OMNI_BENCH_ONLY=zstd` keeps only the cases whose name contains `zstd`. Needs `gzip` and
//! `zstd` on the PATH.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use omnistorage::compress::{gzip, zstd};
use omnistorage::conformance::TempDir;
use omnistorage::{BackendExt, FileBackend, copy_stream};

#[path = "support/datagen.rs"]
mod datagen;

type BoxError = Box<dyn std::error::Error>;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One thing to time; returns the size of what it produced.
struct Case {
    name: &'static str,
    run: Box<dyn Fn() -> Result<u64, BoxError>>,
    times: Vec<Duration>,
    cpu: Vec<Duration>,
    output: u64,
}

impl Case {
    fn new(name: &'static str, run: Box<dyn Fn() -> Result<u64, BoxError>>) -> Case {
        Case {
            name,
            run,
            times: Vec::new(),
            cpu: Vec::new(),
            output: 0,
        }
    }
}

fn tool(dir: &std::path::Path, args: &[&str], input: &str, output: &str) -> Result<u64, BoxError> {
    let out = std::fs::File::create(dir.join(output))?;
    let status = Command::new(args[0])
        .args(&args[1..])
        .arg(dir.join(input))
        .stdout(Stdio::from(out))
        .status()?;
    if !status.success() {
        return Err(format!("{args:?} failed: {status}").into());
    }
    Ok(std::fs::metadata(dir.join(output))?.len())
}

/// CPU time used so far by this process and its waited-for children (user + system, from
/// `/proc/self/stat`, in clock ticks of 10 ms), or zero where that file does not exist. On a
/// busy machine it says more than wall time, which also counts waiting for a core.
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name (which is in parentheses): utime is the 14th field.
    let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return Duration::ZERO;
    };
    let fields: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(4)
        .filter_map(|f| f.parse().ok())
        .collect();
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn main() -> Result<(), BoxError> {
    let mib = env_u64("OMNI_BENCH_MIB", 256);
    let reps = env_u64("OMNI_BENCH_REPS", 3).max(1);
    let dir = TempDir::new()?;
    let root = dir.path().to_path_buf();
    let store = FileBackend::new(&root)?;
    let len = mib << 20;
    {
        let mut w = store.open_writer("data.txt")?;
        datagen::generate(&mut w, 42, len)?;
        w.finish()?;
    }
    eprintln!("data: {mib} MiB of mixed text in {}", root.display());

    let ours_compress =
        |name: &'static str,
         out: &'static str,
         f: fn(omnistorage::Writer) -> omnistorage::Result<omnistorage::Writer>| {
            let store = store.clone();
            Case::new(
                name,
                Box::new(move || {
                    let mut r = store.open_reader("data.txt")?;
                    let mut w = f(store.open_writer(out)?)?;
                    copy_stream(&mut r, &mut w, None)?;
                    Ok(w.finish()?.size)
                }),
            )
        };
    let ours_decompress = |name: &'static str, input: &'static str, zstd_input: bool| {
        let store = store.clone();
        Case::new(
            name,
            Box::new(move || {
                let raw = store.open_reader(input)?;
                let mut r: Box<dyn std::io::Read> = if zstd_input {
                    Box::new(zstd::Reader::new(raw)?)
                } else {
                    Box::new(gzip::Reader::new(raw))
                };
                let mut w = store.open_writer("out-ours.txt")?;
                copy_stream(&mut r, &mut w, None)?;
                Ok(w.finish()?.size)
            }),
        )
    };
    let cli = |name: &'static str,
               args: &'static [&'static str],
               input: &'static str,
               output: &'static str| {
        let root = root.clone();
        Case::new(name, Box::new(move || tool(&root, args, input, output)))
    };

    let mut cases = vec![
        ours_compress("ours gzip -6", "ours.gz", |w| gzip::writer(w, 6)),
        cli("gzip -6 -c", &["gzip", "-6", "-c"], "data.txt", "cli.gz"),
        ours_decompress("ours gzip -d", "cli.gz", false),
        cli("gzip -d -c", &["gzip", "-d", "-c"], "cli.gz", "out-cli.txt"),
        ours_compress("ours zstd -3", "ours.zst", |w| zstd::writer(w, 3)),
        cli(
            "zstd -3 -c --single-thread",
            &["zstd", "-q", "-3", "-c", "--single-thread"],
            "data.txt",
            "cli-st.zst",
        ),
        cli(
            "zstd -3 -c",
            &["zstd", "-q", "-3", "-c"],
            "data.txt",
            "cli.zst",
        ),
        ours_decompress("ours zstd -d", "cli.zst", true),
        cli(
            "zstd -d -c",
            &["zstd", "-q", "-d", "-c"],
            "cli.zst",
            "out-cli.txt",
        ),
        ours_compress("ours zstd -3, 2 workers", "ours-t2.zst", |w| {
            zstd::writer_with(w, &zstd::Options::new().level(3).workers(2))
        }),
        cli(
            "zstd -3 -T2 -c",
            &["zstd", "-q", "-3", "-T2", "-c"],
            "data.txt",
            "cli-t2.zst",
        ),
    ];

    if let Ok(only) = std::env::var("OMNI_BENCH_ONLY") {
        cases.retain(|c| c.name.contains(only.as_str()));
    }
    for rep in 0..reps {
        for case in &mut cases {
            // Write back what the last case left dirty, so that its cost is not charged to
            // this one (a decompression leaves 256 MiB of dirty pages behind).
            Command::new("sync").status()?;
            let (start, cpu) = (Instant::now(), cpu_time());
            case.output = (case.run)()?;
            case.times.push(start.elapsed());
            case.cpu.push(cpu_time().saturating_sub(cpu));
        }
        eprintln!("repetition {} of {reps} done", rep + 1);
    }

    let mb = len as f64 / 1e6;
    println!("{mib} MiB of mixed text/JSON/logs, {reps} repetitions, medians");
    println!();
    println!(
        "| case | median wall | MB/s (uncompressed) | median CPU | output bytes | ratio | all runs, wall (s) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
    for case in &cases {
        let t = median(&case.times);
        let ratio = if case.name.contains("-d") {
            String::new()
        } else {
            format!("{:.3}", len as f64 / case.output as f64)
        };
        let runs: Vec<String> = case
            .times
            .iter()
            .map(|t| format!("{:.2}", t.as_secs_f64()))
            .collect();
        println!(
            "| {} | {:.3} s | {:.1} | {:.2} s | {} | {} | {} |",
            case.name,
            t.as_secs_f64(),
            mb / t.as_secs_f64(),
            median(&case.cpu).as_secs_f64(),
            case.output,
            ratio,
            runs.join(" ")
        );
    }
    println!();
    println!(
        "| ours vs tool | wall time ratio (ours/tool, <1 is faster) | CPU time ratio | size ratio (ours/tool) |"
    );
    println!("| --- | ---: | ---: | ---: |");
    let find = |name: &str| cases.iter().find(|c| c.name == name);
    for (ours, theirs) in [
        ("ours gzip -6", "gzip -6 -c"),
        ("ours gzip -d", "gzip -d -c"),
        ("ours zstd -3", "zstd -3 -c --single-thread"),
        ("ours zstd -3", "zstd -3 -c"),
        ("ours zstd -d", "zstd -d -c"),
        ("ours zstd -3, 2 workers", "zstd -3 -T2 -c"),
    ] {
        if let (Some(a), Some(b)) = (find(ours), find(theirs)) {
            let size = if ours.ends_with("-d") {
                "—".to_string()
            } else {
                format!("{:.4}", a.output as f64 / b.output as f64)
            };
            println!(
                "| {ours} vs {theirs} | {:.3} | {:.3} | {size} |",
                median(&a.times).as_secs_f64() / median(&b.times).as_secs_f64(),
                median(&a.cpu).as_secs_f64() / median(&b.cpu).as_secs_f64().max(0.01)
            );
        }
    }
    std::io::stdout().flush()?;
    Ok(())
}
