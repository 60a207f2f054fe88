//! `Wrap`, the forwarding base: a wrapper that overrides one method forwards every other one
//! (the optional operations and the capabilities included), and passes the conformance suite
//! over memory and files.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use omnistorage::conformance::{Fixture, TempDir};
use omnistorage::{
    Backend, BackendExt, ErrorKind, FileBackend, HashKind, MemoryBackend, Path, Presign,
    ReadOptions, Reader, Result, Wrap, WriteOptions,
};

/// Counts readers; overrides nothing else.
#[derive(Debug)]
struct CountReads<B> {
    inner: B,
    reads: AtomicU64,
}

impl<B> CountReads<B> {
    fn new(inner: B) -> CountReads<B> {
        CountReads {
            inner,
            reads: AtomicU64::new(0),
        }
    }
}

impl<B: Backend> Wrap for CountReads<B> {
    type Inner = B;
    fn inner(&self) -> &B {
        &self.inner
    }
    fn reader(&self, path: &Path, opts: &ReadOptions) -> Result<Reader> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.reader(path, opts)
    }
}

fn p(s: &str) -> Path {
    Path::parse(s).expect("valid path")
}

/// The same answer, or the same error kind.
fn same<T: PartialEq + std::fmt::Debug>(what: &str, a: Result<T>, b: Result<T>) {
    match (a, b) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{what}"),
        (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind(), "{what}: {a} / {b}"),
        (a, b) => panic!("{what}: {a:?} through the wrapper, {b:?} directly"),
    }
}

/// Every method of `Backend` through a wrapper that overrides only `reader`: each one reaches
/// the inner backend (its effect is seen there) and answers what the inner backend answers.
fn forwards_everything<B: Backend>(inner: B) {
    let w = CountReads::new(inner);
    let b = &w.inner;
    // Called through `Backend`, as every user of a wrapper calls it.
    let wb: &dyn Backend = &w;
    assert_eq!(wb.capabilities(), b.capabilities());
    assert_eq!(wb.location(), b.location());
    let mut writer = wb.writer(&p("d/a"), &WriteOptions::new()).expect("writer");
    std::io::Write::write_all(&mut writer, b"hello").expect("write");
    writer.finish().expect("finish");
    assert_eq!(b.read_to_vec("d/a").expect("inner read"), b"hello");
    assert!(wb.exists(&p("d/a")).expect("exists"));
    same("stat", wb.stat(&p("d/a")), b.stat(&p("d/a")));
    let listed = |x: &dyn Backend| -> Vec<_> {
        x.list(&Path::root(), &Default::default())
            .expect("list")
            .map(|e| e.expect("entry").path)
            .collect()
    };
    assert_eq!(listed(wb), listed(b));
    same("copy", wb.copy(&p("d/a"), &p("d/b")), b.stat(&p("d/b")));
    same("rename", wb.rename(&p("d/b"), &p("d/c")), b.stat(&p("d/c")));
    assert!(!b.exists(&p("d/b")).expect("exists"));
    let loc = b.location().expect("a location");
    same(
        "copy_from",
        wb.copy_from(&loc, &p("d/a"), &p("d/e")),
        b.stat(&p("d/e")),
    );
    same(
        "rename_from",
        wb.rename_from(&loc, &p("d/e"), &p("d/f")),
        b.stat(&p("d/f")),
    );
    let t = UNIX_EPOCH + Duration::from_secs(1_000_000);
    let set = wb.set_modified(&p("d/a"), t).expect("set_modified");
    assert_eq!(set.modified, Some(t));
    assert_eq!(b.info("d/a").expect("info").modified, Some(t));
    same(
        "hash",
        wb.hash(&p("d/a"), HashKind::Crc32c, None),
        b.hash(&p("d/a"), HashKind::Crc32c, None),
    );
    same("create_dir", wb.create_dir(&p("x/y")), Ok(()));
    same("remove_dir", wb.remove_dir(&p("x/y")), Ok(()));
    same(
        "presign",
        wb.presign(&p("d/a"), Presign::Get, Duration::from_secs(60)),
        b.presign(&p("d/a"), Presign::Get, Duration::from_secs(60)),
    );
    let pending = |x: &dyn Backend| x.pending_uploads(&Path::root()).map(|l| l.count());
    same("pending_uploads", pending(wb), pending(b));
    let results = wb.delete_many(&[p("d/c"), p("d/f")]);
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert!(!b.exists(&p("d/c")).expect("exists") && !b.exists(&p("d/f")).expect("exists"));
    wb.delete(&p("d/a")).expect("delete");
    assert!(!b.exists(&p("d/a")).expect("exists"));
    assert_eq!(w.reads.load(Ordering::SeqCst), 0, "no reader was opened");
    assert_eq!(
        wb.read_to_vec("d/missing").expect_err("missing").kind(),
        ErrorKind::NotFound
    );
    assert_eq!(w.reads.load(Ordering::SeqCst), 1, "the override ran");
    wb.close().expect("close");
    assert_eq!(
        b.exists(&p("d/a")).expect_err("closed").kind(),
        ErrorKind::Closed,
        "close reached the inner backend"
    );
}

#[test]
fn a_wrapper_overriding_one_method_forwards_the_others_on_memory() {
    forwards_everything(MemoryBackend::new());
}

#[test]
fn a_wrapper_overriding_one_method_forwards_the_others_on_files() {
    let dir = TempDir::new().expect("tmp");
    // The file backend has directories and pending uploads, which memory has not.
    forwards_everything(FileBackend::new(dir.path()).expect("file"));
}

#[test]
fn the_overrides_of_a_wrapper_are_used_through_box_and_arc() {
    let w = CountReads::new(MemoryBackend::new());
    w.write_all("a", b"1").expect("write");
    let boxed: Box<dyn Backend> = Box::new(w);
    assert_eq!(boxed.read_to_vec("a").expect("read"), b"1");
    let shared = std::sync::Arc::new(boxed);
    assert_eq!(shared.read_to_vec("a").expect("read"), b"1");
    let debug = format!("{shared:?}");
    assert!(debug.contains("reads: 2"), "{debug}");
}

mod conformance_wrapped_memory {
    use super::*;
    // One store seen from two roots, both wrapped: the server-side cases run too.
    omnistorage::conformance_tests!(|| {
        let store = MemoryBackend::new();
        let main = CountReads::new(store.scoped("main").expect("scoped"));
        Fixture::new(main)
            .with_sibling(move || Box::new(CountReads::new(store.scoped("other").expect("scoped"))))
    });
}

mod conformance_wrapped_file {
    use super::*;
    omnistorage::conformance_tests!(|| {
        let dir = TempDir::new().expect("temp dir");
        let backend = FileBackend::new(dir.path().join("main")).expect("file backend");
        let other = dir.path().join("other");
        Fixture::new(CountReads::new(backend))
            .with_sibling(move || {
                Box::new(CountReads::new(FileBackend::new(&other).expect("sibling")))
            })
            .with_guard(dir)
    });
}
