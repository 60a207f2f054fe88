//! The one copy route (`copy_object`, issue 21 item 4): its checks hold through every entry
//! point (`copy_path`, `BackendExt::copy_to`, `copy_entry`, `move_path`, `move_object`, the
//! sync engine): a source that yields other bytes than it was listed with is
//! `PreconditionFailed` and nothing is committed; and every streamed copy carries a resume
//! identity; progress and the bandwidth limit are honoured.

use std::io::{Cursor, Read, Write};
use std::sync::Mutex;

use omnistorage::{
    Backend, BackendExt, Capabilities, CopyOptions, CopyRoute, Entry, ErrorKind, FileBackend,
    HashKind, HashKinds, List, ListOptions, Location, MemoryBackend, Path, ReadOptions, Reader,
    Result, WriteOptions, Writer, copy_entry, copy_object, copy_path, move_object, move_path,
};

fn p(s: &str) -> Path {
    Path::parse(s).expect("valid path")
}

/// How a [`Tapped::Change`] source's bytes differ from what it lists.
#[derive(Clone, Copy, Debug)]
enum Change {
    /// One byte more.
    Grows,
    /// One byte fewer.
    Shrinks,
    /// The same size, the first byte flipped.
    Flips,
}

/// What a [`Tap`] does besides forwarding to the store it wraps.
#[derive(Debug)]
enum Tapped {
    /// Its readers yield other bytes than its listings and `stat` describe: as if every
    /// object changed between the listing and the read.
    Change(Change),
    /// The store is a local directory (this one) whose files grow once opened for reading
    /// (the reader is the file, limited to the size it had then).
    GrowsAfterOpen(std::path::PathBuf),
    /// It records the resume identity each writer was given.
    Records(Mutex<Vec<Option<String>>>),
}

/// A store that forwards to `inner`, but for what [`Tapped`] says.
#[derive(Debug)]
struct Tap<B> {
    inner: B,
    tapped: Tapped,
}

impl<B: Backend> Backend for Tap<B> {
    fn reader(&self, path: &Path, opts: &ReadOptions) -> Result<Reader> {
        let reader = self.inner.reader(path, opts)?;
        match &self.tapped {
            Tapped::Change(change) => {
                let mut bytes = Vec::new();
                reader
                    .into_inner()
                    .read_to_end(&mut bytes)
                    .map_err(omnistorage::Error::from)?;
                match change {
                    Change::Grows => bytes.push(b'+'),
                    Change::Shrinks => {
                        bytes.pop();
                    }
                    Change::Flips => bytes[0] ^= 0xff,
                }
                Ok(Reader::new(Cursor::new(bytes)))
            }
            Tapped::GrowsAfterOpen(dir) => {
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(dir.join(path.as_str()))
                    .expect("open to append");
                f.write_all(b"more").expect("append");
                Ok(reader)
            }
            Tapped::Records(_) => Ok(reader),
        }
    }
    fn writer(&self, path: &Path, opts: &WriteOptions) -> Result<Writer> {
        if let Tapped::Records(ids) = &self.tapped {
            ids.lock().unwrap().push(opts.resume_id.clone());
        }
        self.inner.writer(path, opts)
    }
    fn exists(&self, path: &Path) -> Result<bool> {
        self.inner.exists(path)
    }
    fn delete(&self, path: &Path) -> Result<()> {
        self.inner.delete(path)
    }
    fn list(&self, prefix: &Path, opts: &ListOptions) -> Result<List> {
        self.inner.list(prefix, opts)
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn location(&self) -> Option<Location> {
        self.inner.location()
    }
    fn stat(&self, path: &Path) -> Result<Entry> {
        self.inner.stat(path)
    }
}

fn changing(change: Change) -> Tap<MemoryBackend> {
    let inner = MemoryBackend::new();
    inner.write_all("d/f", b"listed bytes").expect("write");
    Tap {
        inner,
        tapped: Tapped::Change(change),
    }
}

#[track_caller]
fn assert_changed(r: Result<impl std::fmt::Debug>, dst: &dyn Backend, what: &str) {
    let err = r.expect_err(what);
    assert_eq!(err.kind(), ErrorKind::PreconditionFailed, "{what}: {err}");
    assert!(err.is_temporary(), "{what}: a retry reads it again");
    assert!(
        dst.list_all("").expect("list").is_empty(),
        "{what}: nothing committed"
    );
}

/// A size that differs from the listed one is caught by every entry point.
#[test]
fn a_source_that_changes_while_read_commits_nothing_through_every_entry_point() {
    for change in [Change::Grows, Change::Shrinks] {
        let src = changing(change);
        let dst = MemoryBackend::new();
        let what = |via: &str| format!("{change:?} via {via}");
        assert_changed(
            copy_path(&src, &p("d/f"), &dst, &p("f")),
            &dst,
            &what("copy_path"),
        );
        assert_changed(src.copy_to("d/f", &dst, "f"), &dst, &what("copy_to"));
        let entry = src.info("d/f").expect("info");
        assert_changed(
            copy_entry(&src, &entry, &dst, &p("f"), None),
            &dst,
            &what("copy_entry"),
        );
        assert_changed(
            move_path(&src, &p("d/f"), &dst, &p("f")),
            &dst,
            &what("move_path"),
        );
        assert!(
            src.contains("d/f").expect("exists"),
            "a failed move keeps the source"
        );
        let opts = CopyOptions::new();
        assert_changed(
            move_object(&src, &p("d/f"), &dst, &p("f"), None, &opts),
            &dst,
            &what("move_object"),
        );
        assert!(src.contains("d/f").expect("exists"));
    }
}

#[test]
fn bytes_whose_hash_differs_from_the_listed_one_are_not_committed() {
    let src = changing(Change::Flips);
    let dst = MemoryBackend::new();
    let mut entry = src.info("d/f").expect("info");
    let same = MemoryBackend::new();
    same.write_all("x", b"listed bytes").expect("write");
    let listed = same.hash(&p("x"), HashKind::Crc32c, None).expect("crc");
    entry.hashes.push(listed);
    let opts = CopyOptions::new().hashes(HashKinds::NONE.with(HashKind::Crc32c));
    let r = copy_object(&src, &p("d/f"), &dst, &p("f"), Some(&entry), &opts);
    assert_changed(r, &dst, "flipped byte, CRC-32C asked");
    // Without the hash asked for, a same-size change is not seen (as rclone without a hash).
    let done = copy_object(
        &src,
        &p("d/f"),
        &dst,
        &p("f"),
        Some(&entry),
        &CopyOptions::new(),
    );
    assert_eq!(done.expect("copied").entry.size, 12);
}

#[cfg(feature = "sync")]
#[test]
fn the_sync_engine_commits_nothing_from_a_source_that_changes_while_read() {
    use omnistorage::sync::{self, Op, Options};
    for change in [Change::Grows, Change::Shrinks] {
        let src = changing(change);
        let dst = MemoryBackend::new();
        let opts = Options::new()
            .retries(1)
            .low_level_retries(1)
            .hash_cache(false);
        let report = sync::copy(&src, &p("d"), &dst, &Path::root(), &opts).expect("run");
        assert_eq!(report.failures.len(), 1, "{change:?}: {report:?}");
        let f = &report.failures[0];
        assert_eq!(f.op, Op::Copy);
        assert_eq!(f.error.kind(), ErrorKind::PreconditionFailed, "{change:?}");
        assert!(dst.list_all("").expect("list").is_empty(), "{change:?}");
    }
}

#[test]
fn a_local_file_that_grows_after_it_was_opened_is_caught_on_both_local_routes() {
    let src_dir = omnistorage::conformance::TempDir::new().expect("temp");
    let dst_dir = omnistorage::conformance::TempDir::new().expect("temp");
    let dst = FileBackend::new(dst_dir.path()).expect("dst");
    for (hashes, route) in [
        (HashKinds::NONE, CopyRoute::Kernel),
        (HashKinds::NONE.with(HashKind::Crc32c), CopyRoute::Streamed),
    ] {
        let inner = FileBackend::new(src_dir.path()).expect("src");
        inner.write_all("f", b"original").expect("write");
        // The route itself, on a file that does not change.
        let opts = CopyOptions::new().hashes(hashes).server_side(false);
        let done = copy_object(&inner, &p("f"), &dst, &p("same"), None, &opts).expect("copy");
        assert_eq!(done.route, route);
        dst.remove("same").expect("remove");
        let src = Tap {
            inner,
            tapped: Tapped::GrowsAfterOpen(src_dir.path().to_owned()),
        };
        let r = copy_object(&src, &p("f"), &dst, &p("f"), None, &opts);
        assert_changed(r, &dst, &format!("{route:?}"));
    }
}

#[test]
fn every_streamed_copy_carries_the_sources_resume_identity() {
    let src = MemoryBackend::new();
    src.write_all("d/f", b"12345").expect("write");
    let dst = Tap {
        inner: MemoryBackend::new(),
        tapped: Tapped::Records(Mutex::default()),
    };
    copy_path(&src, &p("d/f"), &dst, &p("a")).expect("copy_path");
    src.copy_to("d/f", &dst, "b").expect("copy_to");
    let entry = src.info("d/f").expect("info");
    copy_entry(&src, &entry, &dst, &p("c"), None).expect("copy_entry");
    #[cfg(feature = "sync")]
    {
        let opts = omnistorage::sync::Options::new();
        let report = omnistorage::sync::copy(&src, &p("d"), &dst, &p("e"), &opts);
        assert!(report.expect("sync copy").is_ok());
    }
    let Tapped::Records(ids) = &dst.tapped else {
        unreachable!()
    };
    let ids = ids.lock().unwrap().clone();
    let entry_points = if cfg!(feature = "sync") { 4 } else { 3 };
    assert_eq!(ids.len(), entry_points, "{ids:?}");
    let loc = src.location().expect("memory stores have a location");
    for id in &ids {
        let id = id.as_deref().expect("an identity");
        assert!(id.contains(&loc.key(&p("d/f"))), "{id}");
        assert!(id.contains("size=5"), "{id}");
    }
    // The same source gives the same identity, whichever entry point copied it.
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
}

#[test]
fn progress_counts_every_byte_on_every_route() {
    let src = MemoryBackend::new();
    src.write_all("f", vec![5u8; 300_000]).expect("write");
    let total = std::sync::atomic::AtomicU64::new(0);
    let count = |n: u64| {
        total.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    };
    let opts = CopyOptions::new().progress(&count);
    // Streamed to another store, then server-side inside the same one.
    let other = MemoryBackend::new();
    let done = copy_object(&src, &p("f"), &other, &p("f"), None, &opts).expect("stream");
    assert_eq!(done.route, CopyRoute::Streamed);
    let done = copy_object(&src, &p("f"), &src, &p("g"), None, &opts).expect("server");
    assert_eq!(done.route, CopyRoute::ServerCopy);
    let done = move_object(&src, &p("g"), &src, &p("h"), None, &opts).expect("move");
    assert_eq!(done.route, CopyRoute::ServerMove);
    assert!(!src.contains("g").expect("exists"));
    assert_eq!(total.into_inner(), 3 * 300_000);
}

#[cfg(feature = "sync")]
#[test]
fn a_bandwidth_limit_holds_even_between_two_local_files() {
    use omnistorage::sync::bwlimit::BwLimit;
    use std::time::{Duration, Instant};
    let dir = omnistorage::conformance::TempDir::new().expect("temp");
    let local = FileBackend::new(dir.path()).expect("local");
    let size = 96 * 1024;
    local.write_all("f", vec![1u8; size]).expect("write");
    // 192 KiB/s, starting empty: at least half a second for 96 KiB.
    let limit = BwLimit::new(192 * 1024).expect("limit");
    let opts = CopyOptions::new().throttle(&limit);
    let start = Instant::now();
    let done = copy_object(
        &local,
        &p("f"),
        &local,
        &p("g"),
        None,
        &opts.server_side(false),
    )
    .expect("copy");
    let took = start.elapsed();
    assert_eq!(
        done.route,
        CopyRoute::Streamed,
        "not the kernel's unlimited copy"
    );
    assert!(took >= Duration::from_millis(400), "took {took:?}");
    assert_eq!(local.read_to_vec("g").expect("read").len(), size);
}

#[test]
fn the_hash_taken_on_the_way_is_the_hash_of_the_bytes() {
    let src = MemoryBackend::new();
    src.write_all("f", b"hash me").expect("write");
    let dst = MemoryBackend::new();
    let kinds = HashKinds::NONE.with(HashKind::Crc32c);
    let opts = CopyOptions::new().hashes(kinds);
    let done = copy_object(&src, &p("f"), &dst, &p("f"), None, &opts).expect("copy");
    let want = dst.hash(&p("f"), HashKind::Crc32c, None).expect("hash");
    assert_eq!(done.hash(HashKind::Crc32c), Some(want));
}
