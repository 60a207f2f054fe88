//! `Hasher` against `md5sum`, `sha1sum` and `sha256sum` on the same file, side by side, in one
//! run.
//!
//! ```text
//! cargo bench --bench hash --features md5,sha1,sha256
//! ```
//!
//! A file of pseudo-random bytes (256 MiB by default) is written once into a fresh scratch
//! directory (never inside the repository) and removed at the end. For each kind, every
//! repetition runs our side and the peer command back to back, alternating which goes first,
//! on a warm page cache. Our side reads the file with `std::fs::File` in 256 KiB reads and
//! feeds `Hasher` (so both sides read the file); the peer is `md5sum FILE` (and so on), its
//! process start included (about a millisecond). The first repetition is a warm-up that is
//! not counted; it checks that both sides give the same digest. The goal is ≤ 1.2× the peer's
//! wall time. CRC-32C (no standard peer command) and the in-memory speed of each kind are
//! printed for information.
//!
//! Environment: `OMNISTORAGE_BENCH_DIR` (where to make the scratch directory; default the
//! system temp directory), `OMNISTORAGE_BENCH_BIG_MIB` (file size in MiB, default 256),
//! `OMNISTORAGE_BENCH_REPS` (counted repetitions, default 5).

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use omnistorage::{HashKind, HashKinds, Hasher};

#[path = "support/scratch.rs"]
mod scratch;
use scratch::{BoxResult, MIB, Scratch, env_number, noise};

const READ_BUFFER: usize = 256 * 1024;
fn main() {
    if let Err(e) = run() {
        eprintln!("hash bench failed: {e}");
        std::process::exit(1);
    }
}

/// Hashes the file the way a caller would: read in large pieces, feed the hasher.
fn ours(path: &Path, kind: HashKind) -> BoxResult<String> {
    let mut hasher = Hasher::new(HashKinds::NONE.with(kind))?;
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; READ_BUFFER];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let hashes = hasher.finish();
    Ok(hashes.first().ok_or("no hash")?.to_hex())
}

fn peer(command: &str, path: &Path) -> BoxResult<String> {
    let out = Command::new(command).arg(path).output()?;
    if !out.status.success() {
        return Err(format!("{command} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let text = String::from_utf8(out.stdout)?;
    Ok(text
        .split_whitespace()
        .next()
        .ok_or("no output")?
        .to_owned())
}

fn timed<T>(f: impl FnOnce() -> BoxResult<T>) -> BoxResult<(f64, T)> {
    let start = Instant::now();
    let value = f()?;
    Ok((start.elapsed().as_secs_f64(), value))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn run() -> BoxResult<()> {
    let mib = env_number("OMNISTORAGE_BENCH_BIG_MIB", 256)?;
    let reps = env_number("OMNISTORAGE_BENCH_REPS", 5)?.max(1);
    let scratch = Scratch::new("hash")?;
    let path = scratch.0.join("data");
    let data = noise(mib * MIB);
    File::create(&path)?.write_all(&data)?;

    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("hash bench: {mib} MiB file, {reps} counted repetitions (+1 warm-up)");
    println!("cpu: {cpu}; load average: {}", load.trim());
    println!();
    println!(
        "| kind | ours median (s) | peer median (s) | ratio | ours MB/s | peer MB/s | ours in memory MB/s |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let mb = (mib * MIB) as f64 / 1e6;
    let cases = [
        (HashKind::Md5, Some("md5sum")),
        (HashKind::Sha1, Some("sha1sum")),
        (HashKind::Sha256, Some("sha256sum")),
        (HashKind::Crc32c, None),
    ];
    for (kind, command) in cases {
        let mut our_times = Vec::new();
        let mut peer_times = Vec::new();
        for rep in 0..=reps {
            let ours_first = rep % 2 == 0;
            let mut digests = Vec::new();
            for side in 0..2 {
                let is_ours = (side == 0) == ours_first;
                if is_ours {
                    let (t, d) = timed(|| ours(&path, kind))?;
                    if rep > 0 {
                        our_times.push(t);
                    }
                    digests.push(d);
                } else if let Some(command) = command {
                    let (t, d) = timed(|| peer(command, &path))?;
                    if rep > 0 {
                        peer_times.push(t);
                    }
                    digests.push(d);
                }
            }
            if rep == 0 && digests.len() == 2 && digests[0] != digests[1] {
                return Err(format!("{kind}: ours and the peer disagree: {digests:?}").into());
            }
        }
        let (t_mem, _) = timed(|| {
            let mut h = Hasher::new(HashKinds::NONE.with(kind))?;
            h.update(&data);
            Ok(h.finish())
        })?;
        let ours_m = median(our_times);
        let peer_m = median(peer_times);
        let (peer_s, ratio, peer_rate) = if command.is_some() {
            (
                format!("{peer_m:.3}"),
                format!("{:.2}×", ours_m / peer_m),
                format!("{:.0}", mb / peer_m),
            )
        } else {
            ("–".into(), "–".into(), "–".into())
        };
        println!(
            "| {kind} | {ours_m:.3} | {peer_s} | {ratio} | {:.0} | {peer_rate} | {:.0} |",
            mb / ours_m,
            mb / t_mem
        );
    }
    Ok(())
}
