//! The sync engine decides by `Capabilities`, never by a scheme's name: a backend that a user
//! registers under a scheme of their own gets what it announces (`local`, `version_tags`,
//! `server_side_copy`), and no more.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use omnistorage::conformance::TempDir;
use omnistorage::sync::bwlimit::BwLimit;
use omnistorage::sync::{self, Compare, Options};
use omnistorage::{
    Backend, Capabilities, Entry, FileBackend, Location, Path, Result, Wrap, open, register,
};

use super::{Counting, put, t, tree};

const SCHEME: &str = "userfs";

/// A file tree registered by a user: `userfs:///DIR?local=BOOL&tags=BOOL` announces
/// [`Capabilities::local`] and [`Capabilities::version_tags`] as its URL says, under a location
/// of its own scheme, and counts the server-side copies asked of it.
#[derive(Debug)]
struct UserFs {
    inner: FileBackend,
    local: bool,
    tags: bool,
    copies_from: Arc<AtomicU64>,
}

impl Wrap for UserFs {
    type Inner = FileBackend;
    fn inner(&self) -> &FileBackend {
        &self.inner
    }
    fn capabilities(&self) -> Capabilities {
        let mut caps = self.inner.capabilities();
        caps.local = self.local;
        caps.version_tags = self.tags;
        caps
    }
    fn location(&self) -> Option<Location> {
        let file = self.inner.location()?;
        Some(Location::new(SCHEME, file.store(), file.root()))
    }
    fn copy_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        self.copies_from.fetch_add(1, Ordering::SeqCst);
        let file = Location::new("file", src.store(), src.root());
        self.inner.copy_from(&file, from, to)
    }
}

/// The server-side copies asked of the `userfs` backend rooted at each directory.
fn copies_from(dir: &std::path::Path) -> Arc<AtomicU64> {
    static COUNTS: OnceLock<Mutex<BTreeMap<String, Arc<AtomicU64>>>> = OnceLock::new();
    let mut counts = COUNTS.get_or_init(Default::default).lock().expect("counts");
    counts
        .entry(dir.to_string_lossy().into_owned())
        .or_default()
        .clone()
}

/// Opens `dir` through the registry, as a user's backend, announcing what is asked.
fn user_fs(dir: &std::path::Path, local: bool, tags: bool) -> Box<dyn Backend> {
    register(SCHEME, |url| {
        let flag = |name: &str| url.param(name) == Some("true");
        let dir = std::path::PathBuf::from(&url.path);
        Ok(Box::new(UserFs {
            inner: FileBackend::new(&dir)?,
            local: flag("local"),
            tags: flag("tags"),
            copies_from: copies_from(&dir),
        }) as Box<dyn Backend>)
    })
    .expect("register");
    let url = format!("{SCHEME}://{}?local={local}&tags={tags}", dir.display());
    open(&url).expect("open")
}

#[test]
fn the_hash_cache_is_kept_for_sources_with_version_tags() {
    for tags in [true, false] {
        let (a, b) = (TempDir::new().unwrap(), TempDir::new().unwrap());
        let cache = TempDir::new().unwrap();
        let src = Counting::new(user_fs(a.path(), true, tags));
        for i in 0..10 {
            put(
                &src.inner,
                &format!("f{i}"),
                format!("{i}").as_bytes(),
                t(i),
            );
        }
        let dst = FileBackend::new(b.path()).unwrap();
        let opts = Options::new()
            .compare(Compare::Checksum)
            .hash_cache_dir(cache.path());
        let run = || {
            let r = sync::sync(&src, &Path::root(), &dst, &Path::root(), &opts).unwrap();
            assert!(r.is_ok(), "{:?}", r.failures);
            r
        };
        assert_eq!(run().copied, 10);
        src.take();
        assert_eq!(run().unchanged, 10);
        let (_, hashes, _) = src.take();
        let files = std::fs::read_dir(cache.path()).unwrap().count();
        if tags {
            assert_eq!(files, 1, "a cache for the pair");
            assert_eq!(hashes, 0, "the second run trusts the cache");
        } else {
            assert_eq!(files, 0, "no cache without version tags");
            assert_eq!(hashes, 10, "the second run hashes every source object");
        }
    }
}

#[test]
fn local_stores_settle_a_time_difference_by_hashing() {
    for local in [true, false] {
        let (a, b) = (TempDir::new().unwrap(), TempDir::new().unwrap());
        let src = user_fs(a.path(), local, false);
        let dst = user_fs(b.path(), local, false);
        for i in 0..5 {
            let data = format!("same {i}");
            put(&*src, &format!("f{i}"), data.as_bytes(), t(1));
            put(&*dst, &format!("f{i}"), data.as_bytes(), t(2));
        }
        let r = sync::sync(&*src, &Path::root(), &*dst, &Path::root(), &Options::new()).unwrap();
        assert!(r.is_ok(), "{:?}", r.failures);
        if local {
            // Both cheap to read: hashed, found equal, the time set.
            assert_eq!((r.copied, r.set_modified), (0, 5), "{r:?}");
        } else {
            // Neither is: no hash to settle it, so copied, as rclone does.
            assert_eq!((r.copied, r.set_modified), (5, 0), "{r:?}");
        }
        assert_eq!(tree(&*dst, ""), tree(&*src, ""));
    }
}

#[test]
fn a_bandwidth_limit_streams_copies_inside_a_local_store() {
    for local in [true, false] {
        let (a, b) = (TempDir::new().unwrap(), TempDir::new().unwrap());
        let src = user_fs(a.path(), local, false);
        let dst = user_fs(b.path(), local, false);
        for i in 0..4 {
            put(&*src, &format!("f{i}"), &[7u8; 1000], t(i));
        }
        let opts = Options::new().bwlimit(BwLimit::new(64 << 20).unwrap());
        let r = sync::sync(&*src, &Path::root(), &*dst, &Path::root(), &opts).unwrap();
        assert!(r.is_ok(), "{:?}", r.failures);
        assert_eq!(r.copied, 4);
        let server_side = copies_from(b.path()).load(Ordering::SeqCst);
        if local {
            assert_eq!(server_side, 0, "this machine's own copies stream, limited");
        } else {
            assert_eq!(server_side, 4, "a remote store copies inside itself");
        }
        assert_eq!(tree(&*dst, ""), tree(&*src, ""));
    }
}
