//! The S3 backend against real servers on loopback (s3s-fs, Garage, moto), started by
//! `scripts/servers/up`. Under CI a missing server fails these tests.
//!
//! - `basics`: reading, writing, metadata, errors, presigned URLs, URLs;
//! - `faults`: broken connections through the fault proxy (`tests/all/support/tcp_proxy.rs`);
//! - `ops`: the optional operations (batch delete, pending uploads, copies between prefixes,
//!   `set_modified`, hashes) and native listing options;
//! - `memory`: the part-upload pool's memory budget under concurrent uploads;
//! - `rclone`: interoperability with rclone's metadata.

mod basics;
mod faults;
mod memory;
mod ops;
pub(crate) mod rclone;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, UNIX_EPOCH};

use omnistorage::backends::s3::{S3Backend, S3Builder};
use omnistorage::conformance::Fixture;
use omnistorage::{Backend, Path};

use crate::support::{S3Env, require_server};

pub(crate) const MIB: usize = 1024 * 1024;

/// A prefix no other test uses.
pub(crate) fn unique_prefix(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{tag}-{}-{}-{nanos:x}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub(crate) fn builder(env: &S3Env) -> S3Builder {
    S3Backend::builder(env.bucket.clone())
        .endpoint(env.endpoint.clone())
        .region(env.region.clone())
        .path_style(true)
        .credentials(env.access_key.clone(), env.secret_key.clone())
        .part_size(5 * MIB)
        // Enough retries to ride out a loaded server's 500s and 503s (up to ~10 s of backoff):
        // they only cost time when requests fail.
        .retries(8)
        .retry_base(Duration::from_millis(50))
}

/// Deletes everything under `prefix` (with a fresh backend: the fixture's is closed by now).
pub(crate) fn cleanup(env: &S3Env, prefix: &str) {
    if let Ok(b) = builder(env).prefix(prefix).build() {
        let paths: Vec<Path> = b
            .list(&Path::root(), &omnistorage::ListOptions::new())
            .map(|l| l.filter_map(|e| e.ok()).map(|e| e.path).collect())
            .unwrap_or_default();
        for p in &paths {
            let _ = b.delete(p);
        }
    }
}

fn fixture(server: &str, read_mtime: bool) -> Fixture {
    let Some(env) = require_server(server) else {
        // Outside CI, without the server: an empty memory store makes every case pass
        // vacuously; the skip was announced loudly by require_server.
        return Fixture::new(omnistorage::MemoryBackend::new());
    };
    let prefix = unique_prefix("conf");
    // s3s-fs and moto honour `If-None-Match: *`; Garage 2.5 ignores it.
    let b = builder(&env)
        .prefix(&prefix)
        .read_mtime(read_mtime)
        .conditional_writes(server != "garage");
    let backend = b.build().expect("backend");
    let mut fixture = Fixture::new(backend).with_cleanup(move || cleanup(&env, &prefix));
    if server == "s3s" {
        fixture = fixture.skip(
            "capabilities_tell_the_truth",
            "s3s-fs has no ListMultipartUploads (501 NotImplemented), which \
             Capabilities::pending_uploads promises for S3; the case runs on Garage and moto",
        );
        fixture = fixture.skip(
            "exists_reports_objects_only",
            "s3s-fs stores keys as files and answers HEAD on a directory with 500; \
             the case runs on Garage and moto",
        );
    }
    fixture
}

mod s3s_conformance {
    omnistorage::conformance_tests!(|| super::fixture("s3s", true));
}

mod garage_conformance {
    omnistorage::conformance_tests!(|| super::fixture("garage", true));
}

mod moto_conformance {
    omnistorage::conformance_tests!(|| super::fixture("moto", true));
}

/// Runs `body` against every server that is up (and requires them all under CI).
pub(crate) fn each_server(body: impl Fn(&S3Env, S3Backend, &str)) {
    for server in ["s3s", "garage", "moto"] {
        let Some(env) = require_server(server) else {
            continue;
        };
        let prefix = unique_prefix("t");
        let backend = builder(&env).prefix(&prefix).build().expect("backend");
        body(&env, backend, &prefix);
        cleanup(&env, &prefix);
    }
}

pub(crate) fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 12) as u8)
        .collect()
}

/// Repeats `op` while it fails with a temporary error (an overloaded server's 500s and 503s,
/// a dropped connection), for up to a minute: for tests that assert the kind of the server's
/// settled, permanent answer rather than the first one.
pub(crate) fn settled<T>(mut op: impl FnMut() -> omnistorage::Result<T>) -> omnistorage::Result<T> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match op() {
            Err(e) if e.is_temporary() && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}
