//! The sync engine (`omnistorage::sync`), on real backends.
//!
//! - `scenarios`: one test per option and rule, on memory and file trees;
//! - `faults`: failures, limits, cancellation, retries (a wrapper that fails chosen calls
//!   around a real memory backend);
//! - `props`: random trees, synced, equal to the filtered source;
//! - `remote`: S3 (every test server) and SFTP, in both directions.

mod bisync;
mod faults;
mod props;
#[cfg(any(feature = "s3", feature = "sftp"))]
mod remote;
mod scenarios;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use omnistorage::{Backend, BackendExt, ListOptions, Path, WriteOptions};

/// `p` as a path (test input is valid).
pub(crate) fn p(s: &str) -> Path {
    Path::parse(s).expect("valid path")
}

/// A fixed time, `secs` after 2023-11-14 (whole seconds, so SFTP keeps it exactly).
pub(crate) fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

/// Writes `data` at `path` with the modification time `time`.
pub(crate) fn put(b: &dyn Backend, path: &str, data: &[u8], time: SystemTime) {
    let mut w = b
        .writer(&p(path), &WriteOptions::new().modified(time))
        .expect("writer");
    std::io::Write::write_all(&mut w, data).expect("write");
    w.finish().expect("finish");
}

/// Every object under `root` as relative path → content.
pub(crate) fn tree(b: &dyn Backend, root: &str) -> BTreeMap<String, Vec<u8>> {
    let root = if root.is_empty() {
        Path::root()
    } else {
        p(root)
    };
    b.list(&root, &ListOptions::new())
        .expect("list")
        .map(|e| e.expect("entry"))
        .map(|e| {
            let rel = e.path.strip_prefix(&root).expect("under root");
            (
                rel.into_string(),
                b.read_to_vec(e.path.as_str()).expect("read"),
            )
        })
        .collect()
}

/// Every object's path under `root`, relative.
pub(crate) fn names(b: &dyn Backend, root: &str) -> Vec<String> {
    tree(b, root).into_keys().collect()
}
