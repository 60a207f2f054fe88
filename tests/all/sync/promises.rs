//! What each comparison mode promises, kept across runs that share one hash cache while the
//! world changes behind the cache's back.
//!
//! A local source (the hash cache is kept for local sources) and a destination on the file
//! backend, the memory backend (with times and version tags) or S3; between runs, random
//! edits on the source and tampering with the destination, the kinds that once fooled the
//! cache: same-size edits with the old time restored, touched times (a third of a second
//! apart, too), same-size overwrites by "another tool", a re-upload of the same bytes with
//! another time (not on S3, whose listings carry no time: the cache's documented limit),
//! deletes. Each run uses a random mode (`sync`, `copy`, `sync --checksum`,
//! `sync --size-only`, `sync --ignore-times`, `check`), and after it the test asserts what
//! that mode promises, looking at the objects themselves (never at the cache):
//!
//! - `--checksum` and `--ignore-times`: every source object's content is at the destination;
//! - the default (size and time): every destination object has its source's size and time
//!   (within the modify window), recopied or its time set;
//! - `--size-only`: the sizes are equal;
//! - `sync` leaves no extra object, `copy` brings every source object;
//! - `check` reports exactly the objects whose content differs or is missing.
//!
//! Sized by `OMNISTORAGE_PROMISE_SEEDS` (seeds per destination, default 12) and
//! `OMNISTORAGE_PROMISE_ROUNDS` (runs per seed, default 14); every failure names its seed.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use omnistorage::conformance::TempDir;
use omnistorage::sync::{self, Compare, Options};
use omnistorage::{Backend, BackendExt, FileBackend, MemoryBackend, Path};

use super::{p, put, t};
use crate::support::rng::Rng;

/// The object names a tree is made of (nested, and sorting around each other).
const NAMES: [&str; 7] = ["a", "a.b", "d/c", "d/e", "d/f/g", "d0", "z"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Sync,
    Copy,
    Checksum,
    SizeOnly,
    IgnoreTimes,
    Check,
}

const MODES: [Mode; 6] = [
    Mode::Sync,
    Mode::Copy,
    Mode::Checksum,
    Mode::SizeOnly,
    Mode::IgnoreTimes,
    Mode::Check,
];

fn env_count(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A time `ms` milliseconds after [`t`]`(0)`.
fn at(ms: u64) -> SystemTime {
    t(0) + Duration::from_millis(ms)
}

/// `data` changed in one byte, same size (empty data stays empty).
fn altered(data: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = data.to_vec();
    if !out.is_empty() {
        let i = rng.below(out.len() as u64) as usize;
        out[i] = out[i].wrapping_add(1 + rng.below(200) as u8);
    }
    out
}

fn content(b: &dyn Backend, path: &str) -> Option<Vec<u8>> {
    b.read_to_vec(path).ok()
}

fn objects(b: &dyn Backend) -> BTreeMap<String, omnistorage::Entry> {
    b.list(&Path::root(), &omnistorage::ListOptions::new())
        .expect("list")
        .map(|e| e.expect("entry"))
        .map(|e| (e.path.as_str().to_owned(), e))
        .collect()
}

/// The stored time of `path` (a `stat`: listings of S3 carry the server's time instead).
fn stored_time(b: &dyn Backend, path: &str) -> Option<SystemTime> {
    b.info(path).expect("stat").modified
}

/// One random change behind the cache's back; returns what it did, for the failure message.
fn tamper(rng: &mut Rng, src: &dyn Backend, dst: &dyn Backend) -> String {
    let name = NAMES[rng.below(NAMES.len() as u64) as usize];
    let on_src = src.contains(name).expect("exists");
    let on_dst = dst.contains(name).expect("exists");
    let time = |b: &dyn Backend| stored_time(b, name).unwrap_or_else(|| at(0));
    // A destination whose listings carry no times (S3 by default) shows a change of the
    // stored time alone (its ETag is kept) to no listing: the hash cache's documented limit
    // (see `omnistorage::sync`, "The hash cache"), so that tampering is left out there.
    let listed_times = dst
        .capabilities()
        .listed
        .contains(omnistorage::Fields::MODIFIED);
    match rng.below(10) {
        0 if on_src => {
            let old = time(src);
            let data = altered(&content(src, name).unwrap_or_default(), rng);
            put(src, name, &data, old);
            format!("{name}: source edited, same size, time restored")
        }
        1 if on_src => {
            let data = altered(&content(src, name).unwrap_or_default(), rng);
            put(src, name, &data, at(rng.below(20_000)));
            format!("{name}: source edited, same size, new time")
        }
        2 if on_src => {
            let shift = [300, 1_000, 5_000][rng.below(3) as usize];
            let to = time(src) + Duration::from_millis(shift);
            src.set_modified(&p(name), to).expect("touch");
            format!("{name}: source touched +{shift} ms")
        }
        3 => {
            let len = rng.below(40) as usize;
            put(src, name, &rng.bytes(len), at(rng.below(20_000)));
            format!("{name}: source written anew ({len} bytes)")
        }
        4 if on_src => {
            src.remove(name).expect("delete");
            format!("{name}: source deleted")
        }
        5 if on_dst => {
            let old = time(dst);
            let data = altered(&content(dst, name).unwrap_or_default(), rng);
            put(dst, name, &data, old);
            format!("{name}: destination overwritten, same size, time restored")
        }
        6 if on_dst && listed_times => {
            let shift = [300, 1_000, 5_000][rng.below(3) as usize];
            let to = time(dst) + Duration::from_millis(shift);
            dst.set_modified(&p(name), to).expect("touch");
            format!("{name}: destination touched +{shift} ms")
        }
        7 if on_dst && listed_times => {
            let data = content(dst, name).unwrap_or_default();
            put(dst, name, &data, at(rng.below(20_000)));
            format!("{name}: destination re-uploaded, same bytes, another time")
        }
        8 if on_dst => {
            dst.remove(name).expect("delete");
            format!("{name}: destination deleted")
        }
        _ => "nothing".to_owned(),
    }
}

/// The modify window of the pair: the coarser of the two stores' time precisions.
fn window(src: &dyn Backend, dst: &dyn Backend) -> Duration {
    let precision = |b: &dyn Backend| b.capabilities().modified_time.unwrap_or_default();
    precision(src)
        .max(precision(dst))
        .max(Duration::from_nanos(1))
}

fn apart(a: SystemTime, b: SystemTime) -> Duration {
    a.duration_since(b)
        .or_else(|_| b.duration_since(a))
        .unwrap_or_default()
}

/// Asserts what `mode` promised, after a run of it.
fn assert_promise(
    mode: Mode,
    src: &dyn Backend,
    dst: &dyn Backend,
    check: Option<&sync::CheckReport>,
    what: &str,
) {
    let (s, d) = (objects(src), objects(dst));
    let w = window(src, dst);
    let truth_differs: Vec<String> = s
        .keys()
        .filter(|k| d.contains_key(*k) && content(src, k) != content(dst, k))
        .cloned()
        .collect();
    let missing: Vec<String> = s.keys().filter(|k| !d.contains_key(*k)).cloned().collect();
    if mode == Mode::Check {
        let report = check.expect("a check report");
        let names = |v: &[Path]| v.iter().map(|p| p.as_str().to_owned()).collect::<Vec<_>>();
        assert_eq!(
            names(&report.differ),
            truth_differs,
            "{what}: check's differences"
        );
        assert_eq!(
            names(&report.missing_on_dst),
            missing,
            "{what}: check's missing"
        );
        return;
    }
    assert!(missing.is_empty(), "{what}: not copied: {missing:?}");
    if mode != Mode::Copy {
        let extra: Vec<&String> = d.keys().filter(|k| !s.contains_key(*k)).collect();
        assert!(extra.is_empty(), "{what}: extras left: {extra:?}");
    }
    for (name, entry) in &s {
        let there = &d[name];
        assert_eq!(there.size, entry.size, "{what}: {name}: sizes differ");
        match mode {
            Mode::Checksum | Mode::IgnoreTimes => {
                assert!(
                    !truth_differs.contains(name),
                    "{what}: {name}: content differs after a run that promised it equal"
                );
            }
            Mode::Sync | Mode::Copy => {
                let (a, b) = (stored_time(src, name), stored_time(dst, name));
                if let (Some(a), Some(b)) = (a, b) {
                    assert!(
                        apart(a, b) < w,
                        "{what}: {name}: times differ ({a:?} at the source, {b:?} at the \
                         destination) after a run that compares them"
                    );
                }
            }
            Mode::SizeOnly | Mode::Check => {}
        }
    }
}

fn run(mode: Mode, src: &dyn Backend, dst: &dyn Backend, cache: &std::path::Path, what: &str) {
    let opts = Options::new().hash_cache_dir(cache);
    let opts = match mode {
        Mode::Checksum => opts.compare(Compare::Checksum),
        Mode::SizeOnly => opts.compare(Compare::SizeOnly),
        Mode::IgnoreTimes => opts.compare(Compare::Always),
        _ => opts,
    };
    let root = Path::root();
    let check = if mode == Mode::Check {
        let r = sync::check(src, &root, dst, &root, &opts).expect("check");
        assert!(r.errors.is_empty(), "{what}: {:?}", r.errors);
        Some(r)
    } else {
        let r = if mode == Mode::Copy {
            sync::copy(src, &root, dst, &root, &opts)
        } else {
            sync::sync(src, &root, dst, &root, &opts)
        }
        .expect("run");
        assert!(r.is_ok(), "{what}: {:?}", r.failures);
        None
    };
    assert_promise(mode, src, dst, check.as_ref(), what);
}

/// The property for one destination: `make` gives a fresh, empty destination per seed.
fn promises_hold(label: &str, make: &dyn Fn() -> Box<dyn Backend>) {
    let seeds = env_count("OMNISTORAGE_PROMISE_SEEDS", 12);
    let rounds = env_count("OMNISTORAGE_PROMISE_ROUNDS", 14);
    for seed in 0..seeds {
        let mut rng = Rng::new(seed ^ 0x5eed);
        let dir = TempDir::new().expect("tmp");
        let cache = TempDir::new().expect("tmp");
        let src = FileBackend::new(dir.path()).expect("file");
        let dst = make();
        for name in NAMES {
            if rng.chance(70) {
                let len = rng.below(40) as usize;
                put(&src, name, &rng.bytes(len), at(rng.below(20_000)));
            }
        }
        let mut history = Vec::new();
        for round in 0..rounds {
            for _ in 0..rng.between(usize::from(round > 0) as u64, 3) {
                history.push(tamper(&mut rng, &src, &*dst));
            }
            let mode = MODES[rng.below(MODES.len() as u64) as usize];
            history.push(format!("run {mode:?}"));
            let what = format!("{label}, seed {seed}, round {round}; history: {history:?}");
            run(mode, &src, &*dst, cache.path(), &what);
        }
    }
}

#[test]
fn each_mode_keeps_its_promise_into_a_local_tree() {
    let dirs = std::sync::Mutex::new(Vec::new());
    promises_hold("file", &|| {
        let dir = TempDir::new().expect("tmp");
        let b = FileBackend::new(dir.path()).expect("file");
        dirs.lock().expect("lock").push(dir);
        Box::new(b)
    });
}

#[test]
fn each_mode_keeps_its_promise_into_memory() {
    promises_hold("memory", &|| Box::new(MemoryBackend::new()));
}

#[cfg(feature = "s3")]
#[test]
fn each_mode_keeps_its_promise_into_s3() {
    let Some(env) = crate::support::require_server("garage") else {
        return;
    };
    let prefixes = std::sync::Mutex::new(Vec::new());
    promises_hold("garage", &|| {
        let prefix = crate::s3::unique_prefix("promise");
        let b = crate::s3::builder(&env)
            .prefix(&prefix)
            .build()
            .expect("backend");
        prefixes.lock().expect("lock").push(prefix);
        Box::new(b)
    });
    for prefix in prefixes.into_inner().expect("lock") {
        crate::s3::cleanup(&env, &prefix);
    }
}
