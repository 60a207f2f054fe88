//! The hash cache: the run after a sync needs no hashing and no requests per object; any
//! change on either side misses; a damaged cache means comparing again, never a wrong
//! answer.

use omnistorage::conformance::TempDir;
use omnistorage::sync::{self, Compare, Options};
use omnistorage::{BackendExt, FileBackend, Path};

use super::{Counting, put, t, tree};

/// A local source of `n` objects, a local destination behind a counter, and a cache
/// directory of their own.
struct Setup {
    _dirs: (TempDir, TempDir),
    cache: TempDir,
    src: Counting<FileBackend>,
    dst: Counting<FileBackend>,
}

fn setup(n: u64) -> Setup {
    let (a, b) = (TempDir::new().expect("tmp"), TempDir::new().expect("tmp"));
    let src = Counting::new(FileBackend::new(a.path()).expect("file"));
    let dst = Counting::new(FileBackend::new(b.path()).expect("file"));
    for i in 0..n {
        put(
            &src.inner,
            &format!("d{}/f{i}", i % 4),
            format!("content {i}").as_bytes(),
            t(i),
        );
    }
    Setup {
        _dirs: (a, b),
        cache: TempDir::new().expect("tmp"),
        src,
        dst,
    }
}

impl Setup {
    fn opts(&self) -> Options {
        Options::new().hash_cache_dir(self.cache.path())
    }

    fn run(&self, opts: &Options) -> sync::Report {
        let r = sync::sync(&self.src, &Path::root(), &self.dst, &Path::root(), opts).expect("sync");
        assert!(r.is_ok(), "{:?}", r.failures);
        r
    }

    fn cache_files(&self) -> Vec<std::path::PathBuf> {
        std::fs::read_dir(self.cache.path())
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default()
    }
}

#[test]
fn checksum_sync_after_a_sync_hashes_nothing() {
    let s = setup(20);
    let opts = s.opts().compare(Compare::Checksum);
    let first = s.run(&opts);
    assert_eq!(first.copied, 20);
    assert_eq!(s.cache_files().len(), 1, "one cache file for the pair");
    s.src.take();
    s.dst.take();
    let second = s.run(&opts);
    assert_eq!((second.copied, second.unchanged), (0, 20));
    assert_eq!(
        s.src.take(),
        (1, 0, 0),
        "one stat (the source root exists), no hash or read"
    );
    assert_eq!(
        s.dst.take(),
        (0, 0, 0),
        "no stat, hash or read of the destination"
    );
}

#[test]
fn without_the_cache_checksum_hashes_every_pair() {
    let s = setup(20);
    let opts = s.opts().compare(Compare::Checksum).hash_cache(false);
    let _ = s.run(&opts);
    s.dst.take();
    let second = s.run(&opts);
    assert_eq!(second.unchanged, 20);
    assert_eq!(s.dst.take().1, 20, "one hash per destination object");
    assert!(s.cache_files().is_empty(), "no cache written");
}

#[test]
fn a_changed_source_misses_and_is_compared_again() {
    let s = setup(5);
    let opts = s.opts().compare(Compare::Checksum);
    let _ = s.run(&opts);
    // Same size and time, other bytes: only the version tag (change time) tells.
    put(&s.src.inner, "d1/f1", b"CONTENT 1", t(1));
    let r = s.run(&opts);
    assert_eq!((r.copied, r.unchanged), (1, 4));
    assert_eq!(tree(&s.dst.inner, ""), tree(&s.src.inner, ""));
}

#[test]
fn a_changed_destination_misses_and_is_compared_again() {
    let s = setup(5);
    let opts = s.opts().compare(Compare::Checksum);
    let _ = s.run(&opts);
    put(&s.dst.inner, "d2/f2", b"CONTENT 2", t(2));
    let r = s.run(&opts);
    assert_eq!((r.copied, r.unchanged), (1, 4));
    assert_eq!(
        s.dst.inner.read_to_vec("d2/f2").expect("read"),
        b"content 2"
    );
}

#[test]
fn a_touched_source_gets_its_time_set_not_copied() {
    let s = setup(5);
    let _ = s.run(&s.opts());
    put(&s.src.inner, "d3/f3", b"content 3", t(1000));
    let r = s.run(&s.opts());
    assert_eq!((r.copied, r.set_modified, r.unchanged), (0, 1, 4));
    let third = s.run(&s.opts());
    assert_eq!(third.unchanged, 5);
}

#[test]
fn a_damaged_cache_means_hashing_again_not_a_wrong_answer() {
    let s = setup(10);
    let opts = s.opts().compare(Compare::Checksum);
    let _ = s.run(&opts);
    let file = s.cache_files().pop().expect("cache file");
    let text = std::fs::read_to_string(&file).expect("read");
    // Flip one digest's digit in every record: each line's CRC no longer matches.
    let damaged: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{l}\n")
            } else {
                format!("{}\n", l.replacen('0', "1", 1))
            }
        })
        .collect();
    std::fs::write(&file, damaged).expect("write");
    put(&s.dst.inner, "d0/f0", b"CONTENT 0", t(0)); // and a real difference
    s.dst.take();
    let r = s.run(&opts);
    assert_eq!((r.copied, r.unchanged), (1, 9));
    assert!(s.dst.take().1 >= 9, "the destination was hashed again");
    assert_eq!(tree(&s.dst.inner, ""), tree(&s.src.inner, ""));
}

#[test]
fn garbage_in_place_of_the_cache_is_ignored() {
    let s = setup(3);
    let _ = s.run(&s.opts());
    let file = s.cache_files().pop().expect("cache file");
    std::fs::write(&file, b"\xff\xfe not a cache at all\n\n\t\t\t").expect("write");
    let r = s.run(&s.opts().compare(Compare::Checksum));
    assert_eq!(r.unchanged, 3);
}

#[test]
fn a_dry_run_writes_no_cache() {
    let s = setup(3);
    let _ = s.run(&s.opts().dry_run(true));
    assert!(s.cache_files().is_empty());
}

#[cfg(feature = "s3")]
#[test]
fn s3_sync_after_a_sync_needs_no_request_per_object() {
    crate::s3::each_server(|_env, backend, _prefix| {
        let s = setup(15);
        let dst = Counting::new(backend);
        let root = Path::root();
        let opts = s.opts();
        let first = sync::sync(&s.src, &root, &dst, &root, &opts).expect("first");
        assert!(first.is_ok(), "{:?}", first.failures);
        dst.take();
        let second = sync::sync(&s.src, &root, &dst, &root, &opts).expect("second");
        assert_eq!((second.copied, second.unchanged), (0, 15));
        let tagged = omnistorage::BackendExt::list_all(&dst.inner, "")
            .expect("list")
            .iter()
            .all(|e| e.etag.is_some());
        if tagged {
            assert_eq!(dst.take(), (0, 0, 0), "no HEAD, no hash, no read");
        } else {
            // s3s-fs lists no ETags: nothing shows the object is the one uploaded, so each
            // pair costs its HEAD, as in rclone.
            assert_eq!(dst.take().0, 15);
        }
        // Without the cache, rclone's way: one HEAD per object for its stored time.
        let cold =
            sync::sync(&s.src, &root, &dst, &root, &opts.clone().hash_cache(false)).expect("cold");
        assert_eq!(cold.unchanged, 15);
        assert_eq!(dst.take().0, 15);
    });
}
