//! Failures during a run: per-object errors in the report, deletes held back, sources kept,
//! retries, cancellation without partial objects.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use omnistorage::sync::bwlimit::BwLimit;
use omnistorage::sync::{self, Op, Options};
use omnistorage::{
    Backend, BackendExt, Cancel, Capabilities, Error, ErrorKind, List, ListOptions, Location,
    MemoryBackend, Path, Result, WriteOptions, Writer,
};

use super::{names, put, t, tree};

/// A memory backend whose writers fail for chosen paths: `n` times with a temporary error
/// (then work), or always with a permanent one (`u32::MAX`), or always with a temporary
/// error already retried by the backend ([`PERSISTENT`]).
#[derive(Debug, Default)]
struct Faulty {
    inner: MemoryBackend,
    fail_writes: Mutex<HashMap<String, u32>>,
    writes: AtomicU32,
}

/// The `times` of [`Faulty::fail`] that fails every write as a backend whose own 4 retries
/// all failed.
const PERSISTENT: u32 = u32::MAX - 1;

impl Faulty {
    fn fail(&self, path: &str, times: u32) {
        self.fail_writes
            .lock()
            .unwrap()
            .insert(path.to_owned(), times);
    }
}

/// Fails the chosen writes; no server-side copies, no location; the rest is forwarded.
impl omnistorage::Wrap for Faulty {
    type Inner = MemoryBackend;
    fn inner(&self) -> &MemoryBackend {
        &self.inner
    }
    fn writer(&self, path: &Path, opts: &WriteOptions) -> Result<Writer> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        let mut fails = self.fail_writes.lock().unwrap();
        if let Some(n) = fails.get_mut(path.as_str()) {
            if *n == u32::MAX {
                return Err(Error::new(
                    ErrorKind::PermissionDenied,
                    "refused by the test",
                ));
            }
            if *n == PERSISTENT {
                return Err(Error::new(ErrorKind::Io, "503 by the test")
                    .with_temporary(true)
                    .with_retries(4));
            }
            if *n > 0 {
                *n -= 1;
                return Err(Error::new(ErrorKind::Io, "flaky by the test").with_temporary(true));
            }
        }
        self.inner.writer(path, opts)
    }
    fn capabilities(&self) -> Capabilities {
        let mut caps = self.inner.capabilities();
        caps.server_side_copy = false;
        caps.server_side_move = false;
        caps
    }
    fn location(&self) -> Option<Location> {
        None
    }
}

fn source() -> MemoryBackend {
    let src = MemoryBackend::new();
    put(&src, "a", b"one", t(1));
    put(&src, "b", b"two", t(2));
    put(&src, "c", b"three", t(3));
    src
}

fn quick() -> Options {
    Options::new().retry_delay(Duration::from_millis(1))
}

#[test]
fn a_failed_copy_is_reported_with_path_operation_and_kind() {
    let (src, dst) = (source(), Faulty::default());
    dst.fail("b", u32::MAX);
    let r = sync::sync(
        &src,
        &Path::root(),
        &dst,
        &Path::root(),
        &quick().retries(0),
    )
    .expect("run");
    assert_eq!(r.failures.len(), 1);
    let f = &r.failures[0];
    assert_eq!((f.path.as_str(), f.op), ("b", Op::Copy));
    assert_eq!(f.error.kind(), ErrorKind::PermissionDenied);
    assert_eq!(r.copied, 2, "the others were copied");
    assert_eq!(
        r.result().expect_err("failed").kind(),
        ErrorKind::PermissionDenied
    );
}

#[test]
fn a_sync_with_errors_deletes_nothing_and_says_so() {
    let (src, dst) = (source(), Faulty::default());
    put(&dst.inner, "extra", b"x", t(1));
    dst.fail("c", u32::MAX);
    let r = sync::sync(
        &src,
        &Path::root(),
        &dst,
        &Path::root(),
        &quick().retries(1),
    )
    .expect("run");
    assert!(!r.is_ok());
    assert_eq!((r.deleted, r.deletes_held), (0, 1));
    assert!(dst.inner.contains("extra").expect("exists"));
}

#[test]
fn temporary_failures_are_retried_per_operation() {
    let (src, dst) = (source(), Faulty::default());
    dst.fail("a", 2);
    let r = sync::sync(
        &src,
        &Path::root(),
        &dst,
        &Path::root(),
        &quick().retries(0),
    )
    .expect("run");
    assert!(r.is_ok(), "{:?}", r.failures);
    assert_eq!((r.copied, r.attempts), (3, 1));
    assert_eq!(
        dst.writes.load(Ordering::SeqCst),
        5,
        "two failed writers, three good"
    );
}

/// An error the backend already retried is not retried by the engine's low-level retries
/// (that would multiply them), only by the whole-run retries: one write per run.
#[test]
fn a_persistent_error_is_tried_once_per_run() {
    let (src, dst) = (source(), Faulty::default());
    dst.fail("a", PERSISTENT);
    let opts = quick().low_level_retries(10).retries(2);
    let r = sync::sync(&src, &Path::root(), &dst, &Path::root(), &opts).expect("run");
    assert_eq!(r.attempts, 3);
    assert_eq!(
        dst.writes.load(Ordering::SeqCst),
        3 + 2,
        "a: once in each of the 3 runs; b and c: once"
    );
    assert_eq!(r.failures.len(), 1);
    assert!(r.failures[0].error.is_persistent());
    assert!(
        r.failures[0]
            .error
            .to_string()
            .ends_with("(retried 4 times)"),
        "{}",
        r.failures[0].error
    );
}

#[test]
fn the_whole_run_is_repeated_while_failures_remain() {
    let (src, dst) = (source(), Faulty::default());
    dst.fail("a", 3); // more than the low-level retries allow
    let opts = quick().low_level_retries(1).retries(3);
    let r = sync::sync(&src, &Path::root(), &dst, &Path::root(), &opts).expect("run");
    assert!(r.is_ok(), "{:?}", r.failures);
    assert_eq!(r.attempts, 2);
    assert_eq!(tree(&dst.inner, ""), tree(&src, ""));
}

#[test]
fn move_never_deletes_a_source_whose_copy_failed() {
    let (src, dst) = (source(), Faulty::default());
    dst.fail("b", u32::MAX);
    let r = sync::move_(
        &src,
        &Path::root(),
        &dst,
        &Path::root(),
        &quick().retries(0),
    )
    .expect("run");
    assert_eq!(r.source_deleted, 2);
    assert_eq!(names(&src, ""), ["b"]);
}

#[test]
fn max_errors_stops_starting_new_work() {
    let src = MemoryBackend::new();
    let dst = Faulty::default();
    for i in 0..200 {
        let name = format!("f{i:03}");
        put(&src, &name, b"x", t(1));
        dst.fail(&name, u32::MAX);
    }
    let opts = quick().retries(0).max_errors(5).transfers(1).checkers(1);
    let r = sync::sync(&src, &Path::root(), &dst, &Path::root(), &opts).expect("run");
    assert_eq!(
        r.stopped.as_ref().map(|e| e.kind()),
        Some(ErrorKind::LimitExceeded)
    );
    assert!(r.failures.len() < 200, "{} failures", r.failures.len());
}

#[test]
fn cancel_mid_run_leaves_no_partial_object_and_a_second_run_converges() {
    let src = MemoryBackend::new();
    for i in 0..40 {
        put(&src, &format!("f{i:02}"), &vec![i as u8; 64 * 1024], t(i));
    }
    let dst = MemoryBackend::new();
    let cancel = Cancel::new();
    let trigger = cancel.clone();
    let copies = Arc::new(AtomicU32::new(0));
    let seen = copies.clone();
    // Slow enough that transfers are in flight when the cancel comes.
    let opts = quick()
        .cancel(&cancel)
        .transfers(4)
        .bwlimit(BwLimit::new(4 * 1024 * 1024).expect("limit"))
        .on_action(move |_| {
            if seen.fetch_add(1, Ordering::SeqCst) == 5 {
                trigger.cancel();
            }
        });
    let r = sync::sync(&src, &Path::root(), &dst, &Path::root(), &opts).expect("run");
    assert_eq!(
        r.stopped.as_ref().map(|e| e.kind()),
        Some(ErrorKind::Cancelled)
    );
    assert!(r.copied < 40);
    // Every object at the destination is whole and equal to its source.
    let src_tree = tree(&src, "");
    for (name, data) in tree(&dst, "") {
        assert_eq!(Some(&data), src_tree.get(&name), "{name} is whole");
    }
    let again = sync::sync(&src, &Path::root(), &dst, &Path::root(), &quick()).expect("run");
    assert!(again.is_ok());
    assert_eq!(tree(&dst, ""), src_tree);
}

#[test]
fn bandwidth_limit_throttles_the_whole_run() {
    let src = MemoryBackend::new();
    for i in 0..4 {
        put(&src, &format!("f{i}"), &vec![1u8; 100 * 1024], t(1));
    }
    let dst = MemoryBackend::new();
    let rate = 1024 * 1024; // 400 KiB at 1 MiB/s, shared by 4 transfers
    let opts = quick().bwlimit(BwLimit::new(rate).expect("limit"));
    let started = Instant::now();
    let r = sync::sync(&src, &Path::root(), &dst, &Path::root(), &opts).expect("run");
    assert!(r.is_ok());
    // A lower bound cannot flake: 400 KiB at 1 MiB/s, less the bucket's 100 ms of burst.
    assert!(
        started.elapsed() >= Duration::from_millis(390 - 100),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_listing_error_is_a_failure_and_holds_deletes() {
    /// A destination whose listing fails after the first entry.
    #[derive(Debug)]
    struct BadList(MemoryBackend);
    impl omnistorage::Wrap for BadList {
        type Inner = MemoryBackend;
        fn inner(&self) -> &MemoryBackend {
            &self.0
        }
        fn list(&self, prefix: &Path, opts: &ListOptions) -> Result<List> {
            let inner = self.0.list(prefix, opts)?;
            let broken = Error::new(ErrorKind::Io, "listing broke").with_temporary(false);
            Ok(Box::new(inner.take(1).chain(std::iter::once(Err(broken)))))
        }
    }
    let src = source();
    let dst = BadList(MemoryBackend::new());
    put(&dst.0, "0-extra", b"x", t(1));
    put(&dst.0, "z-extra", b"x", t(1));
    let r = sync::sync(
        &src,
        &Path::root(),
        &dst,
        &Path::root(),
        &quick().retries(0),
    )
    .expect("run");
    assert!(r.failures.iter().any(|f| f.op == Op::ListDestination));
    assert_eq!(r.deleted, 0);
    assert!(dst.0.contains("0-extra").expect("exists"));
}
