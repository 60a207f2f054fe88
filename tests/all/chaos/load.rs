//! Campaign 5: load. 64 threads share one S3 backend on Garage and write (and now and then
//! read back) objects of 1 B to 8 MiB for a fixed time; each thread overwrites its own 8 keys
//! over and over, so the store stays small. A sampler reads this process's open file
//! descriptors and resident memory once a second. At the end every key is read and checked
//! against the last content written to it.
//!
//! Counted: transfers, bytes, errors (goal 0), objects that differ (goal 0), and the curve of
//! descriptors and memory (printed in the `CHAOS` line; asserted flat: no more than 64 more
//! descriptors than in the first fifth of the run, which a leak of one per transfer would pass
//! within seconds).
//!
//! Sized by `OMNISTORAGE_CHAOS_LOAD_SECS` (default 5; `scripts/chaos` runs 300) and
//! `OMNISTORAGE_CHAOS_LOAD_THREADS` (default 64).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use omnistorage::BackendExt;

use super::{Figures, seed, size};
use crate::support::rng::Rng;

fn digest(data: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    data.hash(&mut h);
    h.finish()
}

fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64)
}

fn rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib / 1024)
}

#[test]
fn sixty_four_parallel_transfers_against_garage() {
    let Some(env) = crate::support::require_server("garage") else {
        return;
    };
    let secs = size("OMNISTORAGE_CHAOS_LOAD_SECS", 5);
    let threads = size("OMNISTORAGE_CHAOS_LOAD_THREADS", 64);
    let seed = seed("load");
    let prefix = crate::s3::unique_prefix("chaos-load");
    let b = Arc::new(
        crate::s3::builder(&env)
            .prefix(&prefix)
            .concurrency(threads as usize)
            .build()
            .expect("backend"),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let (transfers, bytes, errors) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    // Key → digest of the last content written (not the content: the memory curve is the
    // backend's, not this test's).
    let last: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    let started = Instant::now();
    let mut workers = Vec::new();
    for t in 0..threads {
        let (b, stop, transfers, bytes, errors, last) = (
            b.clone(),
            stop.clone(),
            transfers.clone(),
            bytes.clone(),
            errors.clone(),
            last.clone(),
        );
        workers.push(std::thread::spawn(move || {
            let mut rng = Rng::new(seed ^ (t + 1).wrapping_mul(0x9e37_79b9));
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let key = format!("t{t}/k{}", n % 8);
                n += 1;
                let len = if rng.chance(80) {
                    rng.between(1, 256 * 1024)
                } else {
                    rng.between(1, 8 * 1024 * 1024)
                } as usize;
                let data = rng.bytes(len);
                match b.write_all(key.as_str(), &data) {
                    Ok(_) => {
                        transfers.fetch_add(1, Ordering::Relaxed);
                        bytes.fetch_add(len as u64, Ordering::Relaxed);
                        if rng.chance(25) {
                            match b.read_to_vec(key.as_str()) {
                                Ok(back) if back == data => {
                                    transfers.fetch_add(1, Ordering::Relaxed);
                                }
                                Ok(_) => {
                                    eprintln!("DIFFER on read back: {key}");
                                    errors.fetch_add(1, Ordering::Relaxed);
                                }
                                Err(e) => {
                                    eprintln!("read {key}: {}", e.display_chain());
                                    errors.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                        last.lock().expect("lock").insert(key, digest(&data));
                    }
                    Err(e) => {
                        eprintln!("write {key}: {}", e.display_chain());
                        errors.fetch_add(1, Ordering::Relaxed);
                        // The object is now unknown: it is not checked at the end.
                        last.lock().expect("lock").remove(&key);
                    }
                }
            }
        }));
    }
    let (mut fds, mut rss) = (Vec::new(), Vec::new());
    while started.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_secs(1));
        fds.push(open_fds());
        rss.push(rss_mib());
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("worker");
    }
    let mut differ = 0u64;
    let last = std::mem::take(&mut *last.lock().expect("lock"));
    for (key, data) in &last {
        if b.read_to_vec(key.as_str()).ok().map(|d| digest(&d)) != Some(*data) {
            differ += 1;
            eprintln!("DIFFER at the end: {key}");
        }
    }
    crate::s3::cleanup(&env, &prefix);
    let warm = (fds.len() / 5).max(1).min(fds.len());
    let fds_warm = fds.iter().take(warm).copied().max().unwrap_or(0);
    let fds_max = fds.iter().copied().max().unwrap_or(0);
    let list = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
    let mut f = Figures::new("load");
    f.num("seed", seed)
        .num("threads", threads)
        .num("secs", started.elapsed().as_secs())
        .num("transfers", transfers.load(Ordering::Relaxed))
        .num("mib_written", bytes.load(Ordering::Relaxed) >> 20)
        .num("errors", errors.load(Ordering::Relaxed))
        .num("objects_checked", last.len())
        .num("differ", differ)
        .num("fds_first_fifth_max", fds_warm)
        .num("fds_max", fds_max)
        .num("rss_mib_max", rss.iter().copied().max().unwrap_or(0))
        .num("fds_per_second", format!("[{}]", list(&fds)))
        .num("rss_mib_per_second", format!("[{}]", list(&rss)))
        .print();
    assert_eq!(errors.load(Ordering::Relaxed), 0, "errors under load");
    assert_eq!(differ, 0, "objects that differ");
    assert!(
        fds_max <= fds_warm + 64,
        "descriptors grew: {fds_warm} → {fds_max}"
    );
}
