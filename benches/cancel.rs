//! Cancellation latency: the time from `Cancel::cancel()` to the cancelled operation's return,
//! for the long operations a caller cancels.
//!
//! ```text
//! cargo bench --bench cancel                  # file copy, memory listing, retry sleep
//! . target/servers/env && cargo bench --bench cancel --features s3   # and an S3 upload
//! ```
//!
//! | case | operation | cancelled when |
//! | --- | --- | --- |
//! | file copy | `copy_entry` of a large object (256 MiB) between two `FileBackend`s | 40–200 ms in |
//! | memory listing | a caller iterating `list` of 200,000 objects of a `MemoryBackend` | a quarter of the items are seen |
//! | retry sleep | `Cancel::sleep(60 s)`, as retries sleep | 20 ms in |
//! | s3 upload | `copy_entry` of 64 MiB from a file into S3 (s3s-fs), a multipart upload | 100–400 ms in |
//!
//! The operation runs on a thread; the main thread takes `Instant::now()` just before
//! `cancel()`, the operation's thread just after the operation returns, and the difference is
//! the latency. A repetition counts only if the operation did return `Cancelled` (not a
//! result it had finished before the cancel): the table says how many did. Each repetition
//! also checks that the destination holds no object afterwards. Goal: < 100 ms.
//!
//! Environment: `OMNISTORAGE_BENCH_DIR` (scratch directory's parent; default the system temp
//! directory), `OMNISTORAGE_BENCH_BIG_MIB` (the file copy's size, default 256),
//! `OMNISTORAGE_BENCH_REPS` (repetitions, default 9); for the S3 case the
//! `OMNISTORAGE_TEST_S3S_*` variables of `target/servers/env` (skipped, and said so, without
//! them).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use omnistorage::{
    Backend, BackendExt, Cancel, ErrorKind, FileBackend, ListOptions, MemoryBackend, Path,
    copy_entry,
};

#[path = "support/scratch.rs"]
mod scratch;
use scratch::{BoxResult, MIB, Scratch, env_number, noise};

fn main() {
    if let Err(e) = run() {
        eprintln!("cancel bench failed: {e}");
        std::process::exit(1);
    }
}

/// How an operation ended.
enum Outcome {
    Cancelled,
    /// It finished before the cancel took effect.
    Finished,
    /// Another error: printed, since the latency then means nothing.
    Failed(String),
}

/// What one repetition measured: the latency if the operation returned `Cancelled`.
type Sample = Option<Duration>;

/// Runs `op` on a thread, calls `trigger` on this one until it says "cancel now", cancels,
/// and measures until `op` returns. `op` returns whether it ended `Cancelled`.
fn measure(
    op: impl FnOnce(Cancel) -> Outcome + Send + 'static,
    trigger: impl Fn() -> bool,
) -> BoxResult<Sample> {
    let cancel = Cancel::new();
    let token = cancel.clone();
    let worker = thread::spawn(move || {
        let outcome = op(token);
        (Instant::now(), outcome)
    });
    while !trigger() && !worker.is_finished() {
        thread::sleep(Duration::from_micros(200));
    }
    let at = Instant::now();
    cancel.cancel();
    let (returned, outcome) = worker.join().map_err(|_| "the operation panicked")?;
    Ok(match outcome {
        Outcome::Cancelled => Some(returned.saturating_duration_since(at)),
        Outcome::Finished => None,
        Outcome::Failed(e) => {
            eprintln!("  (not counted: the operation failed otherwise: {e})");
            None
        }
    })
}

fn after(delay: Duration) -> impl Fn() -> bool {
    let start = Instant::now();
    move || start.elapsed() >= delay
}

fn outcome(r: &omnistorage::Result<impl Sized>) -> Outcome {
    match r {
        Ok(_) => Outcome::Finished,
        Err(e) if e.kind() == ErrorKind::Cancelled => Outcome::Cancelled,
        Err(e) => Outcome::Failed(e.display_chain().to_string()),
    }
}

fn report(name: &str, samples: &[Sample]) {
    let mut got: Vec<Duration> = samples.iter().flatten().copied().collect();
    got.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    if got.is_empty() {
        println!("| {name} | – | – | 0 of {} |", samples.len());
        return;
    }
    let median = if got.len() % 2 == 1 {
        ms(got[got.len() / 2])
    } else {
        (ms(got[got.len() / 2 - 1]) + ms(got[got.len() / 2])) / 2.0
    };
    let max = ms(got[got.len() - 1]);
    println!(
        "| {name} | {median:.2} | {max:.2} | {} of {} |",
        got.len(),
        samples.len()
    );
}

fn file_copy(scratch: &Scratch, mib: usize, reps: usize) -> BoxResult<Vec<Sample>> {
    let src = FileBackend::new(scratch.0.join("src"))?;
    src.write_all("big", noise(mib * MIB))?;
    let dst_dir = scratch.0.join("dst");
    let mut samples = Vec::new();
    for rep in 0..reps {
        let (src, dst) = (src.clone(), FileBackend::new(&dst_dir)?);
        let entry = src.info("big")?;
        let delay = Duration::from_millis(40 + (160 * rep / reps.max(1)) as u64);
        let sample = measure(
            move |c| {
                outcome(&copy_entry(
                    &src,
                    &entry,
                    &dst,
                    &Path::parse("big").unwrap_or_else(|_| Path::root()),
                    Some(&c),
                ))
            },
            after(delay),
        )?;
        let dst = FileBackend::new(&dst_dir)?;
        if sample.is_some() && dst.contains("big")? {
            return Err("a cancelled copy left its object".into());
        }
        let _ = dst.delete(&Path::parse("big")?);
        samples.push(sample);
    }
    Ok(samples)
}

fn memory_listing(reps: usize) -> BoxResult<Vec<Sample>> {
    const OBJECTS: usize = 200_000;
    let store = MemoryBackend::new();
    for i in 0..OBJECTS {
        store.write_all(format!("d{:03}/o{i:07}", i % 1000), b"x")?;
    }
    let mut samples = Vec::new();
    for _ in 0..reps {
        let seen = Arc::new(AtomicUsize::new(0));
        let (store, counter) = (store.clone(), seen.clone());
        let sample = measure(
            move |c| {
                let list = match store.list(&Path::root(), &ListOptions::new().cancel(&c)) {
                    Ok(list) => list,
                    Err(e) => return outcome(&Err::<(), _>(e)),
                };
                for item in list {
                    if let Err(e) = item {
                        return outcome(&Err::<(), _>(e));
                    }
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Outcome::Finished
            },
            move || seen.load(Ordering::Relaxed) >= OBJECTS / 4,
        )?;
        samples.push(sample);
    }
    Ok(samples)
}

fn retry_sleep(reps: usize) -> BoxResult<Vec<Sample>> {
    let mut samples = Vec::new();
    for _ in 0..reps {
        let sample = measure(
            |c| outcome(&c.sleep(Duration::from_secs(60))),
            after(Duration::from_millis(20)),
        )?;
        samples.push(sample);
    }
    Ok(samples)
}

#[cfg(feature = "s3")]
fn s3_upload(scratch: &Scratch, reps: usize) -> BoxResult<Option<Vec<Sample>>> {
    use omnistorage::backends::s3::S3Backend;
    let var = |f: &str| std::env::var(format!("OMNISTORAGE_TEST_S3S_{f}")).ok();
    let (Some(endpoint), Some(region), Some(bucket), Some(key), Some(secret)) = (
        var("ENDPOINT"),
        var("REGION"),
        var("BUCKET"),
        var("ACCESS_KEY"),
        var("SECRET_KEY"),
    ) else {
        return Ok(None);
    };
    let src = FileBackend::new(scratch.0.join("s3src"))?;
    src.write_all("upload", noise(64 * MIB))?;
    let prefix = format!("cancel-bench-{}", std::process::id());
    let dst = S3Backend::builder(bucket)
        .endpoint(endpoint)
        .region(region)
        .path_style(true)
        .credentials(key, secret)
        .part_size(5 * MIB)
        .prefix(prefix)
        .build()?;
    let mut samples = Vec::new();
    for rep in 0..reps {
        let (s, d) = (src.clone(), dst.clone());
        let entry = src.info("upload")?;
        let delay = Duration::from_millis(100 + (300 * rep / reps.max(1)) as u64);
        let sample = measure(
            move |c| {
                let to = Path::parse("upload").unwrap_or_else(|_| Path::root());
                outcome(&copy_entry(&s, &entry, &d, &to, Some(&c)))
            },
            after(delay),
        )?;
        if sample.is_some() && dst.contains("upload")? {
            return Err("a cancelled upload left its object".into());
        }
        let _ = dst.delete(&Path::parse("upload")?);
        samples.push(sample);
    }
    Ok(Some(samples))
}

fn run() -> BoxResult<()> {
    let mib = env_number("OMNISTORAGE_BENCH_BIG_MIB", 256)?;
    let reps = env_number("OMNISTORAGE_BENCH_REPS", 9)?.max(1);
    let scratch = Scratch::new("cancel")?;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "cancel bench: {reps} repetitions; load average: {}",
        load.trim()
    );
    println!();
    println!("| case | median (ms) | max (ms) | cancelled |");
    println!("| --- | --- | --- | --- |");
    report(
        &format!("file copy ({mib} MiB)"),
        &file_copy(&scratch, mib, reps)?,
    );
    report("memory listing (200,000)", &memory_listing(reps)?);
    report("retry sleep", &retry_sleep(reps)?);
    #[cfg(feature = "s3")]
    match s3_upload(&scratch, reps)? {
        Some(samples) => report("s3 upload (64 MiB, s3s-fs)", &samples),
        None => println!("| s3 upload | skipped: OMNISTORAGE_TEST_S3S_* not set | | |"),
    }
    #[cfg(not(feature = "s3"))]
    println!("| s3 upload | skipped: built without the `s3` feature | | |");
    Ok(())
}
