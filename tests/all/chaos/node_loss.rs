//! Campaign: a store that loses a node (issue 15, item 4). A sync of many small files from a
//! local tree to the three-node Garage cluster of `scripts/servers/garage-cluster`
//! (replication factor 3), through `omnistorage::sync`, while a node is killed with `kill -9`
//! (triggered from the sync's `on_action` callback after a share of the copies, never by a
//! timer) and brought back:
//!
//! - (a) a node that is not the endpoint dies and comes back mid-sync: the run completes or
//!   fails with temporary errors only, the next run converges, `check` finds nothing
//!   missing or different;
//! - (b) the endpoint's node dies: the run stops within the configured bound
//!   (`endpoint_down_after`, 3 s here) with exactly one error, of kind `Unavailable`, and a
//!   run after the node is back converges;
//! - (c) all three endpoints configured, the first one's node dies: the sync completes with
//!   no failure;
//! - (d) the same, under one read that resumes mid-body and one multipart upload: both cross
//!   over to a live endpoint and the bytes are exact.
//!
//! Size: `OMNISTORAGE_CHAOS_NODE_FILES` files (default 300; `scripts/chaos` runs 10,000).
//! Each case prints one `CHAOS {...}` line (run with `--no-capture`). Needs
//! `OMNISTORAGE_TEST_GCLUSTER_*` (`scripts/servers/up garage-cluster`, then
//! `. target/servers/env`): skipped loudly without them, a failure under `CI=true`. The cases
//! take turns on the cluster through a lock file beside its state, and every node a case
//! kills is revived when it ends, even by a panic. One more test, without the cluster, pins
//! the engine's side: an `Unavailable` error stops the run once, with no retries.

use std::fs::File;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use omnistorage::backends::s3::{Provider, S3Backend};
use omnistorage::conformance::TempDir;
use omnistorage::sync::{self, Action, Options, Report};
use omnistorage::{
    Backend, BackendExt, Capabilities, Error, ErrorKind, FileBackend, MemoryBackend, Path, Result,
    WriteOptions, Writer,
};

use crate::support::{S3Env, s3_env, under_ci};

/// The bound the cases set on a dead endpoint.
const DOWN_AFTER: Duration = Duration::from_secs(3);

/// The cluster: its variables, and the control script (`kill N`, `revive N`).
struct Cluster {
    env: S3Env,
    endpoints: [String; 3],
    ctl: PathBuf,
    servers_dir: PathBuf,
    /// Held while the case runs: the cases take turns.
    _lock: File,
    /// The nodes this case killed and has not revived.
    killed: Mutex<Vec<u8>>,
}

fn gvar(field: &str) -> Option<String> {
    std::env::var(format!("OMNISTORAGE_TEST_GCLUSTER_{field}"))
        .ok()
        .filter(|v| !v.is_empty())
}

impl Cluster {
    /// The cluster with its three nodes running, or `None` (loudly) when its variables are
    /// missing outside CI.
    fn require() -> Option<Cluster> {
        let found = (|| {
            Some((
                s3_env("gcluster")?,
                [
                    gvar("ENDPOINT_1")?,
                    gvar("ENDPOINT_2")?,
                    gvar("ENDPOINT_3")?,
                ],
                gvar("CTL")?,
                gvar("SERVERS_DIR")?,
            ))
        })();
        let Some((env, endpoints, ctl, servers_dir)) = found else {
            let msg = "the three-node Garage cluster is not running \
                       (OMNISTORAGE_TEST_GCLUSTER_* not set): start it with \
                       `scripts/servers/up garage-cluster`, then `. target/servers/env`";
            assert!(!under_ci(), "{msg} (required under CI=true)");
            eprintln!("\n!!! SKIPPED: {msg}\n");
            return None;
        };
        let servers_dir = PathBuf::from(servers_dir);
        let lock_path = servers_dir.join("garage-cluster").join("campaign.lock");
        let lock = File::create(&lock_path).expect("the campaign's lock file");
        lock.lock().expect("lock the cluster for this case");
        let cluster = Cluster {
            env,
            endpoints,
            ctl: PathBuf::from(ctl),
            servers_dir,
            _lock: lock,
            killed: Mutex::new(Vec::new()),
        };
        // A case that died before its guard ran may have left a node down.
        let status = cluster.run(&["status"], true);
        for n in 1..=3u8 {
            if status.contains(&format!("node {n}: not running")) {
                eprintln!("node {n} was down at the start: reviving it");
                cluster.run(&["revive", &n.to_string()], false);
            }
        }
        Some(cluster)
    }

    /// Runs the control script; its stdout. Panics when it fails (unless `status`, which
    /// fails when no node runs).
    fn run(&self, args: &[&str], status: bool) -> String {
        let out = Command::new(&self.ctl)
            .args(args)
            .env("OMNISTORAGE_SERVERS_DIR", &self.servers_dir)
            .output()
            .expect("run scripts/servers/garage-cluster");
        assert!(
            status || out.status.success(),
            "garage-cluster {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn kill(&self, n: u8) {
        self.run(&["kill", &n.to_string()], false);
        self.killed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(n);
    }

    fn revive(&self, n: u8) {
        self.run(&["revive", &n.to_string()], false);
        self.killed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|k| *k != n);
    }

    /// A backend on `endpoints` (indices 0-2), rooted at a prefix of its own.
    fn backend(&self, endpoints: &[usize], prefix: &str) -> S3Backend {
        S3Backend::builder(self.env.bucket.clone())
            .provider(Provider::Garage)
            .endpoints(
                endpoints
                    .iter()
                    .filter_map(|&i| self.endpoints.get(i).cloned()),
            )
            .region(self.env.region.clone())
            .credentials(self.env.access_key.clone(), self.env.secret_key.clone())
            .endpoint_down_after(DOWN_AFTER)
            .prefix(prefix)
            .build()
            .expect("backend")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let killed = std::mem::take(&mut *self.killed.lock().unwrap_or_else(|p| p.into_inner()));
        for n in killed {
            let ok = Command::new(&self.ctl)
                .args(["revive", &n.to_string()])
                .env("OMNISTORAGE_SERVERS_DIR", &self.servers_dir)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                eprintln!("!!! could not revive node {n} of the garage cluster");
            }
        }
    }
}

fn files() -> u64 {
    std::env::var("OMNISTORAGE_CHAOS_NODE_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
        .max(3)
}

/// A local tree of `n` small files (0 to 4 KiB, 100 a directory), the same for a given `n`.
fn source(n: u64) -> (TempDir, FileBackend) {
    let dir = TempDir::new().expect("tmp");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let size = (x % 4097) as usize;
        let body: Vec<u8> = (0..size).map(|k| (k as u64 ^ x ^ i) as u8).collect();
        let sub = dir.path().join(format!("d{:03}", i / 100));
        std::fs::create_dir_all(&sub).expect("mkdir");
        std::fs::write(sub.join(format!("f{i:05}.bin")), body).expect("write");
    }
    let backend = FileBackend::new(dir.path()).expect("file backend");
    (dir, backend)
}

fn unique(case: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("node-loss/{case}-{}-{nanos}", std::process::id())
}

/// Options whose `on_action` calls `at(k)` after the k-th copy (1-based), on the copy's
/// thread: the kills and revivals are tied to the sync's progress, not to a clock.
fn options(at: impl Fn(u64) + Send + Sync + 'static) -> Options {
    let copies = AtomicU64::new(0);
    Options::new().on_action(move |a| {
        if matches!(a, Action::Copy { .. }) {
            at(copies.fetch_add(1, Ordering::AcqRel) + 1);
        }
    })
}

fn temporary_only(r: &Report) -> bool {
    r.failures.iter().all(|f| f.error.is_temporary())
        && r.stopped.as_ref().is_none_or(|e| e.is_temporary())
}

/// `check` of the tree against the store: (missing, different, errors).
fn check(src: &FileBackend, dst: &S3Backend) -> (usize, usize, usize) {
    let c = sync::check(src, &Path::root(), dst, &Path::root(), &Options::new()).expect("check");
    assert!(c.stopped.is_none(), "check stopped: {:?}", c.stopped);
    (c.missing_on_dst.len(), c.differ.len(), c.errors.len())
}

#[test]
fn a_peer_node_dies_and_comes_back_mid_sync() {
    let Some(cluster) = Cluster::require() else {
        return;
    };
    let cluster = Arc::new(cluster);
    let n = files();
    let (_dir, src) = source(n);
    let dst = cluster.backend(&[0], &unique("a"));
    let c2 = Arc::clone(&cluster);
    let opts = options(move |k| {
        if k == n / 3 {
            c2.kill(2);
        } else if k == 2 * n / 3 {
            c2.revive(2);
        }
    });
    let t0 = Instant::now();
    let first = sync::sync(&src, &Path::root(), &dst, &Path::root(), &opts).expect("sync");
    let first_secs = t0.elapsed().as_secs_f64();
    assert!(
        temporary_only(&first),
        "only temporary errors: {:?} {:?}",
        first.stopped,
        first.failures
    );
    // The revival may not have come (a run that stopped early): bring the node back.
    if cluster
        .killed
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(&2)
    {
        cluster.revive(2);
    }
    let second =
        sync::sync(&src, &Path::root(), &dst, &Path::root(), &Options::new()).expect("second sync");
    assert!(second.is_ok(), "{:?} {:?}", second.stopped, second.failures);
    let (missing, differ, errors) = check(&src, &dst);
    println!(
        "CHAOS {{\"campaign\":\"node_loss\",\"case\":\"a_peer_node\",\"files\":{n},\
         \"first_copied\":{},\"first_failures\":{},\"first_stopped\":{},\"first_secs\":{first_secs:.1},\
         \"second_copied\":{},\"second_failures\":{},\"check_missing\":{missing},\
         \"check_differ\":{differ},\"check_errors\":{errors}}}",
        first.copied,
        first.failures.len(),
        first.stopped.is_some(),
        second.copied,
        second.failures.len(),
    );
    assert_eq!((missing, differ, errors), (0, 0, 0));
}

#[test]
fn the_endpoint_dies_and_the_run_stops_within_the_bound() {
    let Some(cluster) = Cluster::require() else {
        return;
    };
    let cluster = Arc::new(cluster);
    let n = files();
    let (_dir, src) = source(n);
    let prefix = unique("b");
    let dst = cluster.backend(&[0], &prefix);
    let killed_at = Arc::new(Mutex::new(None::<Instant>));
    let (c2, at) = (Arc::clone(&cluster), Arc::clone(&killed_at));
    let opts = options(move |k| {
        if k == n / 3 {
            // Timed from before the kill: the figure can only be larger than the truth.
            *at.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
            c2.kill(1);
        }
    });
    let first = sync::sync(&src, &Path::root(), &dst, &Path::root(), &opts).expect("sync");
    let ended = Instant::now();
    let killed = killed_at
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .expect("the node was killed");
    let stop_secs = ended.duration_since(killed).as_secs_f64();
    let stopped = first.stopped.clone().expect("the run stopped");
    println!(
        "CHAOS {{\"campaign\":\"node_loss\",\"case\":\"b_endpoint_node\",\"files\":{n},\
         \"bound_secs\":{:.1},\"kill_to_stop_secs\":{stop_secs:.1},\"first_copied\":{},\
         \"errors\":{},\"stopped_kind\":\"{}\"}}",
        DOWN_AFTER.as_secs_f64(),
        first.copied,
        first.failures.len() + 1,
        stopped.kind(),
    );
    eprintln!("the run stopped with: {stopped}");
    assert_eq!(stopped.kind(), ErrorKind::Unavailable, "{stopped}");
    assert!(stopped.is_temporary());
    assert!(
        first.failures.is_empty(),
        "one error, not one per file: {:?}",
        first.failures
    );
    // The bound, plus a last pause (a quarter of it) and slack for a busy machine.
    assert!(
        stop_secs < DOWN_AFTER.as_secs_f64() + 4.0,
        "stopped {stop_secs:.1} s after the kill (bound {DOWN_AFTER:?})"
    );
    assert!(first.copied < n, "the run stopped before the end");

    cluster.revive(1);
    // The next run (a new process in real life: a new backend here) converges.
    let dst = cluster.backend(&[0], &prefix);
    let second =
        sync::sync(&src, &Path::root(), &dst, &Path::root(), &Options::new()).expect("second sync");
    assert!(second.is_ok(), "{:?} {:?}", second.stopped, second.failures);
    let (missing, differ, errors) = check(&src, &dst);
    println!(
        "CHAOS {{\"campaign\":\"node_loss\",\"case\":\"b_endpoint_node_second_run\",\"files\":{n},\
         \"second_copied\":{},\"second_failures\":{},\"check_missing\":{missing},\
         \"check_differ\":{differ},\"check_errors\":{errors}}}",
        second.copied,
        second.failures.len(),
    );
    assert_eq!((missing, differ, errors), (0, 0, 0));
}

#[test]
fn with_three_endpoints_the_sync_fails_over_and_completes() {
    let Some(cluster) = Cluster::require() else {
        return;
    };
    let cluster = Arc::new(cluster);
    let n = files();
    let (_dir, src) = source(n);
    let dst = cluster.backend(&[0, 1, 2], &unique("c"));
    let c2 = Arc::clone(&cluster);
    let opts = options(move |k| {
        if k == n / 3 {
            c2.kill(1);
        }
    });
    let t0 = Instant::now();
    let first = sync::sync(&src, &Path::root(), &dst, &Path::root(), &opts).expect("sync");
    let secs = t0.elapsed().as_secs_f64();
    let (missing, differ, errors) = check(&src, &dst);
    println!(
        "CHAOS {{\"campaign\":\"node_loss\",\"case\":\"c_failover\",\"files\":{n},\
         \"copied\":{},\"failures\":{},\"stopped\":{},\"secs\":{secs:.1},\
         \"check_missing\":{missing},\"check_differ\":{differ},\"check_errors\":{errors}}}",
        first.copied,
        first.failures.len(),
        first.stopped.is_some(),
    );
    assert!(first.is_ok(), "{:?} {:?}", first.stopped, first.failures);
    assert_eq!(first.copied, n);
    assert_eq!(
        (missing, differ, errors),
        (0, 0, 0),
        "checked with node 1 still down"
    );
}

#[test]
fn a_resumed_read_and_a_multipart_upload_cross_over() {
    use std::io::{Read, Write};
    let Some(cluster) = Cluster::require() else {
        return;
    };
    const MIB: usize = 1024 * 1024;
    let data: Vec<u8> = (0..32 * MIB).map(|i| (i % 251) as u8).collect();
    let prefix = unique("d");
    let (read_from, reader_secs) = {
        // The object, written before any kill.
        let all = cluster.backend(&[0, 1, 2], &prefix);
        all.write_all("read", &data)
            .expect("write the object to read");
        // A read on node 1, cut by its death after 1 MiB: the rest comes from another node.
        let mut reader = all.open_reader("read").expect("open");
        let mut back = vec![0; MIB];
        reader.read_exact(&mut back).expect("the first MiB");
        cluster.kill(1);
        let t0 = Instant::now();
        reader
            .read_to_end(&mut back)
            .expect("the rest, from another node");
        assert!(back == data, "the read is exact across the switch");
        (all, t0.elapsed().as_secs_f64())
    };
    cluster.revive(1);
    // A multipart upload (5 MiB parts) started on node 1, which dies half-way.
    let store = S3Backend::builder(cluster.env.bucket.clone())
        .provider(Provider::Garage)
        .endpoints(cluster.endpoints.iter().cloned())
        .region(cluster.env.region.clone())
        .credentials(
            cluster.env.access_key.clone(),
            cluster.env.secret_key.clone(),
        )
        .endpoint_down_after(DOWN_AFTER)
        .part_size(5 * MIB)
        .prefix(prefix.as_str())
        .build()
        .expect("backend");
    let mut w = store.open_writer("multipart").expect("writer");
    let (first, rest) = data.split_at(12 * MIB);
    w.write_all(first).expect("the first half");
    cluster.kill(1);
    let t0 = Instant::now();
    w.write_all(rest).expect("the second half");
    let entry = w.finish().expect("finish on another node");
    let upload_secs = t0.elapsed().as_secs_f64();
    assert_eq!(entry.size, data.len() as u64);
    let other = cluster.backend(&[1], &prefix);
    assert!(
        other.read_to_vec("multipart").expect("read back") == data,
        "the upload is exact"
    );
    assert!(
        other
            .pending_uploads(&Path::root())
            .expect("pending")
            .next()
            .is_none(),
        "no upload left pending"
    );
    drop(read_from);
    println!(
        "CHAOS {{\"campaign\":\"node_loss\",\"case\":\"d_read_and_multipart_failover\",\
         \"bytes\":{},\"read_rest_secs\":{reader_secs:.1},\"upload_rest_secs\":{upload_secs:.1},\
         \"read_exact\":true,\"upload_exact\":true}}",
        data.len()
    );
}

/// A memory store that becomes unavailable after `ok` writes: every later writer fails with
/// [`ErrorKind::Unavailable`], as the S3 backend does once its endpoints are down.
#[derive(Debug, Default)]
struct GoesDown {
    inner: MemoryBackend,
    ok: u64,
    writers: AtomicU64,
}

impl omnistorage::Wrap for GoesDown {
    type Inner = MemoryBackend;
    fn inner(&self) -> &MemoryBackend {
        &self.inner
    }
    fn writer(&self, path: &Path, opts: &WriteOptions) -> Result<Writer> {
        if self.writers.fetch_add(1, Ordering::AcqRel) >= self.ok {
            return Err(
                Error::new(ErrorKind::Unavailable, "down by the test").context(
                    "write",
                    path.as_str(),
                    "test",
                ),
            );
        }
        self.inner.writer(path, opts)
    }
    fn capabilities(&self) -> Capabilities {
        let mut caps = self.inner.capabilities();
        caps.server_side_copy = false;
        caps.server_side_move = false;
        caps
    }
}

#[test]
fn an_unavailable_store_stops_the_run_once_without_retries() {
    let src = MemoryBackend::new();
    for i in 0..200 {
        src.write_all(format!("d/f{i:03}"), b"x").expect("write");
    }
    let dst = GoesDown {
        ok: 20,
        ..GoesDown::default()
    };
    let transfers = 4;
    let opts = Options::new().transfers(transfers).retries(3);
    let r = sync::sync(&src, &Path::root(), &dst, &Path::root(), &opts).expect("sync");
    let stopped = r.stopped.clone().expect("the run stopped");
    assert_eq!(stopped.kind(), ErrorKind::Unavailable, "{stopped}");
    assert!(
        r.failures.is_empty(),
        "once, not per file: {:?}",
        r.failures
    );
    assert_eq!(r.attempts, 1, "a stopped run is not run again");
    assert_eq!(r.copied, 20);
    // No retries: each copy in flight when the store went down failed once; none started
    // after the stop.
    let failed_writers = dst.writers.load(Ordering::Acquire) - 20;
    assert!(
        (1..=transfers as u64).contains(&failed_writers),
        "{failed_writers} writers after the store went down"
    );
}
