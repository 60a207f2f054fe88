//! The sync engine (`omnistorage::sync`), on real backends.
//!
//! - `scenarios`: one test per option and rule, on memory and file trees;
//! - `faults`: failures, limits, cancellation, retries (a wrapper that fails chosen calls
//!   around a real memory backend);
//! - `props`: random trees, synced, equal to the filtered source;
//! - `remote`: S3 (every test server) and SFTP, in both directions;
//! - `gates`: what a user-registered backend announces decides, not its scheme's name;
//! - `cache`: the hash cache (calls counted), `parity`: side by side with rclone,
//!   `dedupe`, `bisync` (scenarios and the random-edits property with interruptions).

mod bisync;
mod cache;
mod dedupe;
mod faults;
mod filters;
mod gates;
pub(crate) mod parity;
mod promises;
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

/// A backend that counts the calls that cost a request or a read on remote stores (`stat`,
/// `hash`, `reader`), and forwards everything to the backend inside.
#[derive(Debug)]
pub(crate) struct Counting<B> {
    pub(crate) inner: B,
    pub(crate) stats: std::sync::atomic::AtomicU64,
    pub(crate) hashes: std::sync::atomic::AtomicU64,
    pub(crate) reads: std::sync::atomic::AtomicU64,
    /// Every prefix listed, in order.
    pub(crate) lists: std::sync::Mutex<Vec<String>>,
}

impl<B> Counting<B> {
    pub(crate) fn new(inner: B) -> Counting<B> {
        Counting {
            inner,
            stats: Default::default(),
            hashes: Default::default(),
            reads: Default::default(),
            lists: Default::default(),
        }
    }

    /// (stats, hashes, reads) so far, and back to zero.
    pub(crate) fn take(&self) -> (u64, u64, u64) {
        use std::sync::atomic::Ordering::SeqCst;
        (
            self.stats.swap(0, SeqCst),
            self.hashes.swap(0, SeqCst),
            self.reads.swap(0, SeqCst),
        )
    }
}

mod counting_impl {
    use std::sync::atomic::Ordering::SeqCst;

    use omnistorage::{
        Backend, Cancel, Entry, Hash, HashKind, List, ListOptions, Path, ReadOptions, Reader,
        Result,
    };

    use super::Counting;

    /// Counts readers, listings, `stat`s and hashes; the rest is forwarded.
    impl<B: Backend> omnistorage::Wrap for Counting<B> {
        type Inner = B;
        fn inner(&self) -> &B {
            &self.inner
        }
        fn reader(&self, path: &Path, opts: &ReadOptions) -> Result<Reader> {
            self.reads.fetch_add(1, SeqCst);
            self.inner.reader(path, opts)
        }
        fn list(&self, prefix: &Path, opts: &ListOptions) -> Result<List> {
            if let Ok(mut lists) = self.lists.lock() {
                lists.push(prefix.to_string());
            }
            self.inner.list(prefix, opts)
        }
        fn stat(&self, path: &Path) -> Result<Entry> {
            self.stats.fetch_add(1, SeqCst);
            self.inner.stat(path)
        }
        fn hash(&self, path: &Path, kind: HashKind, cancel: Option<&Cancel>) -> Result<Hash> {
            self.hashes.fetch_add(1, SeqCst);
            self.inner.hash(path, kind, cancel)
        }
    }
}
