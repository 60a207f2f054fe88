//! The shared conformance suite: one function per contract of [`Backend`], for every backend.
//!
//! Each case takes a `&dyn Backend` that starts **empty** and panics (as a test does) when the
//! backend breaks a contract. Cases read [`Capabilities`] first: what a backend says it cannot
//! do must answer [`ErrorKind::Unsupported`], and the case checks that instead.
//!
//! Backends of live streams ([`Capabilities::streams`]) differ in three documented ways, and
//! the few cases they touch check the streaming behaviour instead: a reader of a path not yet
//! written waits for its writer (no `NotFound` to check without blocking), a second writer of
//! a path is refused when it opens, and with [`StreamDelivery::Consume`] what was written
//! cannot be read back without a reader, so the read-back cases skip.
//!
//! Run the whole suite as one named `#[test]` per case with [`conformance_tests!`](crate::conformance_tests),
//! giving it an expression that makes a fresh [`Fixture`] for each case:
//!
//! ```
//! mod memory {
//!     use omnistorage::{conformance::Fixture, MemoryBackend};
//!     omnistorage::conformance_tests!(|| Fixture::new(MemoryBackend::new()));
//! }
//! ```
//!
//! Or run them in a loop through [`CASES`]:
//!
//! ```
//! use omnistorage::{conformance, MemoryBackend};
//!
//! for (name, case) in conformance::CASES {
//!     let store = MemoryBackend::new();
//!     case(&store);
//! }
//! ```
//!
//! This module is behind the `conformance` feature.

use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{
    Backend, BackendExt, Capabilities, Entry, Error, ErrorKind, ListOptions, Path, ReadOptions,
    Result, StreamDelivery, WriteMode, WriteOptions, copy_path, lookup, move_path,
};

/// A backend made for one case, and what to do when the case is over.
pub struct Fixture {
    backend: Box<dyn Backend>,
    cleanup: Option<Box<dyn FnOnce() + Send>>,
    skips: Vec<(&'static str, &'static str)>,
}

impl Fixture {
    /// A fixture around `backend`.
    pub fn new(backend: impl Backend + 'static) -> Fixture {
        Fixture::boxed(Box::new(backend))
    }

    /// A fixture around a boxed backend.
    pub fn boxed(backend: Box<dyn Backend>) -> Fixture {
        Fixture {
            backend,
            cleanup: None,
            skips: Vec::new(),
        }
    }

    /// Skips `case` for this fixture, for the stated `reason` (printed when it is skipped).
    ///
    /// For a test server that deviates from the real service in a way the backend cannot
    /// paper over (a filesystem-backed S3 emulator that answers HEAD on a directory with a
    /// 500, say). State the reason, and run the case against a faithful server too.
    ///
    /// Panics if `case` is not the name of a case, so that a typo cannot skip nothing.
    pub fn skip(mut self, case: &'static str, reason: &'static str) -> Fixture {
        assert!(
            CASES.iter().any(|(name, _)| *name == case),
            "no conformance case is called {case:?}"
        );
        self.skips.push((case, reason));
        self
    }

    /// Why `case` is skipped for this fixture, if it is.
    pub fn skip_reason(&self, case: &str) -> Option<&'static str> {
        self.skips.iter().find(|(c, _)| *c == case).map(|(_, r)| *r)
    }

    /// Runs `cleanup` when the fixture is dropped (after the backend is dropped).
    pub fn with_cleanup(mut self, cleanup: impl FnOnce() + Send + 'static) -> Fixture {
        self.cleanup = Some(Box::new(cleanup));
        self
    }

    /// Keeps `guard` alive as long as the fixture (a [`TempDir`], a server handle, ...).
    pub fn with_guard<G: Send + 'static>(self, guard: G) -> Fixture {
        self.with_cleanup(move || drop(guard))
    }

    /// The backend under test.
    pub fn backend(&self) -> &dyn Backend {
        &*self.backend
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.backend.close();
        if let Some(cleanup) = self.cleanup.take() {
            cleanup();
        }
    }
}

/// A fresh directory under the system's temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates a new, empty directory.
    pub fn new() -> io::Result<TempDir> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!(
                "omnistorage-test-{}-{n}-{nanos:x}",
                std::process::id()
            ));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(TempDir { path }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Its path.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Expands to one `#[test]` per conformance case. The argument is an expression that makes a
/// fresh [`Fixture`] each time it is called (a closure or a function name).
///
/// ```
/// use omnistorage::conformance::{Fixture, TempDir};
/// use omnistorage::FileBackend;
///
/// fn fixture() -> Fixture {
///     let dir = TempDir::new().expect("temp dir");
///     let backend = FileBackend::new(dir.path()).expect("backend");
///     Fixture::new(backend).with_guard(dir)
/// }
///
/// omnistorage::conformance_tests!(fixture);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($setup:expr) => {
        $crate::__conformance_for_each!(__conformance_test_fns($setup));
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_test_fns {
    ($setup:expr; $($case:ident,)*) => {$(
        #[test]
        fn $case() {
            let fixture: $crate::conformance::Fixture = ($setup)();
            if let Some(reason) = fixture.skip_reason(stringify!($case)) {
                eprintln!("SKIPPED {}: {reason}", stringify!($case));
                return;
            }
            $crate::conformance::$case(fixture.backend());
        }
    )*};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_table {
    (; $($case:ident,)*) => {
        /// Every case, by name, in the order they are defined.
        pub const CASES: &[(&str, fn(&dyn $crate::Backend))] = &[$((stringify!($case), $case),)*];
    };
}

/// The one list of cases; everything else is generated from it.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_for_each {
    ($callback:ident ( $($args:tt)* )) => {
        $crate::$callback!($($args)*;
            roundtrip_empty,
            roundtrip_one_byte,
            roundtrip_multi_mib_in_small_pieces,
            roundtrip_binary_all_byte_values,
            overwrite_replaces_content,
            overwrite_with_shorter_content,
            create_new_on_missing_path,
            create_new_on_existing_path_fails,
            create_new_race_has_one_winner,
            missing_object_is_not_found,
            missing_object_is_io_not_found,
            reader_reports_its_size,
            reader_works_with_tiny_reads,
            root_is_not_an_object,
            delete_removes_object,
            delete_missing_is_ok,
            exists_reports_objects_only,
            list_root_lists_everything,
            list_prefix_matches_by_segment,
            list_prefix_naming_an_object,
            list_missing_prefix_is_empty,
            list_is_in_byte_order,
            list_nested_names_sort_by_full_path,
            list_reports_sizes,
            list_many_objects,
            names_with_spaces,
            names_with_percent,
            names_with_hash_and_query_characters,
            names_with_unicode,
            names_with_punctuation,
            deep_paths,
            abort_leaves_nothing,
            drop_without_finish_leaves_nothing,
            abort_keeps_old_object,
            drop_keeps_old_object,
            nothing_visible_before_finish,
            finish_returns_entry,
            stat_agrees_with_list,
            stat_missing_is_not_found,
            range_read_middle,
            range_read_open_ended,
            range_read_past_end_is_cut,
            range_read_starting_past_end_is_empty,
            modified_time_is_kept,
            metadata_is_kept,
            server_side_copy,
            server_side_copy_missing_source,
            server_side_copy_onto_itself,
            server_side_rename,
            server_side_rename_missing_source,
            server_side_rename_onto_itself,
            directories,
            copy_path_within_backend,
            copy_path_onto_itself_keeps_data,
            copy_path_missing_source_creates_nothing,
            move_path_within_backend,
            move_path_onto_itself_keeps_data,
            concurrent_writers_on_distinct_paths,
            capabilities_tell_the_truth,
            close_then_use_is_closed,
            finish_after_close_fails,
        );
    };
}

crate::__conformance_for_each!(__conformance_cases_table());

// ---------------------------------------------------------------------------------------------
// Helpers

fn p(s: &str) -> Path {
    Path::parse(s).unwrap_or_else(|e| panic!("test path {s:?}: {e}"))
}

fn caps(b: &dyn Backend) -> Capabilities {
    b.capabilities()
}

/// Whether the backend can write, then read back what it wrote; cases that need that skip
/// otherwise (`capabilities_tell_the_truth` checks the `Unsupported` answers). Consumed
/// streams cannot be read back unless a reader was waiting for them.
fn rw(b: &dyn Backend) -> bool {
    let c = caps(b);
    c.read && c.write && c.streams != Some(StreamDelivery::Consume)
}

/// Whether objects are live streams: a reader of a path not yet written waits for a writer.
fn streams(b: &dyn Backend) -> bool {
    caps(b).streams.is_some()
}

fn rwl(b: &dyn Backend) -> bool {
    rw(b) && caps(b).list
}

fn put(b: &dyn Backend, path: &str, data: &[u8]) -> Entry {
    b.write_all(path, data)
        .unwrap_or_else(|e| panic!("write {path}: {e}"))
}

fn get(b: &dyn Backend, path: &str) -> Vec<u8> {
    b.read_to_vec(path)
        .unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn names(b: &dyn Backend, prefix: &str) -> Vec<String> {
    b.list(&p(prefix), &ListOptions::default())
        .unwrap_or_else(|e| panic!("list {prefix}: {e}"))
        .map(|e| {
            e.unwrap_or_else(|e| panic!("list {prefix}: {e}"))
                .path
                .into_string()
        })
        .collect()
}

fn expect_kind<T: std::fmt::Debug>(r: Result<T>, kind: ErrorKind, what: &str) {
    match r {
        Ok(v) => panic!("{what}: expected {kind:?}, got Ok({v:?})"),
        Err(e) => assert_eq!(e.kind(), kind, "{what}: {e}"),
    }
}

fn pattern(len: usize, seed: u64) -> Vec<u8> {
    // xorshift: cheap, deterministic, not all zeros.
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn ext(b: &dyn Backend) -> Option<&dyn Backend> {
    Some(b)
}

fn roundtrip(b: &dyn Backend, path: &str, data: &[u8]) {
    let entry = put(b, path, data);
    assert_eq!(entry.size, data.len() as u64, "size of {path} from finish");
    assert_eq!(get(b, path), data, "content of {path}");
}

// ---------------------------------------------------------------------------------------------
// Round trips

/// An empty object reads back empty and lists with size 0.
pub fn roundtrip_empty(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    roundtrip(b, "empty", b"");
    if caps(b).list {
        let listed = b.list_all("empty").expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].size, 0);
    }
}

/// A one-byte object reads back.
pub fn roundtrip_one_byte(b: &dyn Backend) {
    if rw(b) {
        roundtrip(b, "one", b"x");
    }
}

/// Several MiB written in many small, uneven pieces read back exactly.
pub fn roundtrip_multi_mib_in_small_pieces(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    let data = pattern(3 * 1024 * 1024 + 17, 7);
    let mut w = b.open_writer("big/object.bin").expect("writer");
    let mut rest = &data[..];
    let mut step = 1;
    while !rest.is_empty() {
        let n = step.min(rest.len());
        w.write_all(&rest[..n]).expect("write piece");
        rest = &rest[n..];
        step = step * 3 % 4099 + 1;
    }
    let entry = w.finish().expect("finish");
    assert_eq!(entry.size, data.len() as u64);
    let back = get(b, "big/object.bin");
    assert_eq!(back.len(), data.len());
    assert!(back == data, "content differs");
}

/// Every byte value survives.
pub fn roundtrip_binary_all_byte_values(b: &dyn Backend) {
    if rw(b) {
        let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        roundtrip(b, "bytes.bin", &data);
    }
}

/// Writing an existing path replaces its content.
pub fn overwrite_replaces_content(b: &dyn Backend) {
    if rw(b) {
        put(b, "k", b"first");
        roundtrip(b, "k", b"second version");
    }
}

/// Overwriting with shorter content leaves no tail of the old content.
pub fn overwrite_with_shorter_content(b: &dyn Backend) {
    if rw(b) {
        put(b, "k", b"a much longer first version");
        roundtrip(b, "k", b"short");
    }
}

/// `CreateNew` on a free path writes the object.
pub fn create_new_on_missing_path(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    let opts = WriteOptions::new().mode(WriteMode::CreateNew);
    let mut w = b.writer(&p("fresh"), &opts).expect("writer");
    w.write_all(b"new").expect("write");
    w.finish().expect("finish");
    assert_eq!(get(b, "fresh"), b"new");
}

/// `CreateNew` on an existing path fails with `AlreadyExists` and keeps the old object.
pub fn create_new_on_existing_path_fails(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    put(b, "taken", b"old");
    let opts = WriteOptions::new().mode(WriteMode::CreateNew);
    let result = b.writer(&p("taken"), &opts).and_then(|mut w| {
        w.write_all(b"new").map_err(Error::from)?;
        w.finish()
    });
    expect_kind(result, ErrorKind::AlreadyExists, "CreateNew on existing");
    assert_eq!(get(b, "taken"), b"old");
}

/// Two `CreateNew` writers racing for one path: the first to finish wins, the second gets
/// `AlreadyExists` (where `create_new` is atomic). On a backend of streams, which has one
/// writer per path at a time, the second is refused when it opens.
pub fn create_new_race_has_one_winner(b: &dyn Backend) {
    if !rw(b) || !caps(b).create_new {
        return;
    }
    let opts = WriteOptions::new().mode(WriteMode::CreateNew);
    let mut first = b.writer(&p("race"), &opts).expect("first writer");
    if streams(b) {
        expect_kind(
            b.writer(&p("race"), &opts).map(|_| ()),
            ErrorKind::AlreadyExists,
            "second writer of a stream being written",
        );
        first.write_all(b"first").expect("write");
        first.finish().expect("first finish");
        assert_eq!(get(b, "race"), b"first");
        return;
    }
    let mut second = b.writer(&p("race"), &opts).expect("second writer");
    first.write_all(b"first").expect("write");
    second.write_all(b"second").expect("write");
    first.finish().expect("first finish");
    expect_kind(
        second.finish(),
        ErrorKind::AlreadyExists,
        "second CreateNew",
    );
    assert_eq!(get(b, "race"), b"first");
}

/// Reading a missing object is `NotFound` (a reader of a stream waits for its writer).
pub fn missing_object_is_not_found(b: &dyn Backend) {
    if !caps(b).read || streams(b) {
        return;
    }
    expect_kind(
        b.open_reader("nope").map(|_| ()),
        ErrorKind::NotFound,
        "missing",
    );
    expect_kind(
        b.open_reader("no/such/dir/x").map(|_| ()),
        ErrorKind::NotFound,
        "missing dir",
    );
}

/// Reading a missing object, as an `io::Error`, is `io::ErrorKind::NotFound` (a reader of a
/// stream waits for its writer).
pub fn missing_object_is_io_not_found(b: &dyn Backend) {
    if !caps(b).read || streams(b) {
        return;
    }
    let err = b.open_reader("nope").expect_err("missing object");
    let io: io::Error = err.into();
    assert_eq!(io.kind(), io::ErrorKind::NotFound);
}

/// A reader that knows its size reports the true one.
pub fn reader_reports_its_size(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    put(b, "sized", &[7u8; 1000]);
    let r = b.open_reader("sized").expect("reader");
    if let Some(size) = r.size() {
        assert_eq!(size, 1000);
    }
    let r = b
        .reader(&p("sized"), &ReadOptions::new().range(10..20))
        .expect("range reader");
    if let Some(size) = r.size() {
        assert_eq!(size, 10);
    }
}

/// Reading one byte at a time yields the whole object.
pub fn reader_works_with_tiny_reads(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    let data = pattern(5000, 3);
    put(b, "tiny-reads", &data);
    let mut r = b.open_reader("tiny-reads").expect("reader");
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match r.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => out.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read: {e}"),
        }
    }
    assert_eq!(out, data);
}

/// The root cannot be written, deleted or read as an object.
pub fn root_is_not_an_object(b: &dyn Backend) {
    if caps(b).write {
        expect_kind(
            b.writer(&Path::root(), &WriteOptions::new()).map(|_| ()),
            ErrorKind::InvalidPath,
            "writer(root)",
        );
    }
    if caps(b).read {
        assert!(b.reader(&Path::root(), &ReadOptions::new()).is_err());
    }
    if caps(b).delete {
        expect_kind(
            b.delete(&Path::root()),
            ErrorKind::InvalidPath,
            "delete(root)",
        );
    }
    assert!(!b.exists(&Path::root()).expect("exists(root)"));
}

// ---------------------------------------------------------------------------------------------
// Delete and exists

/// `delete` removes the object: it no longer exists, reads (a reader of a stream would wait
/// for a new writer) or lists.
pub fn delete_removes_object(b: &dyn Backend) {
    if !rw(b) || !caps(b).delete {
        return;
    }
    put(b, "d/x", b"1");
    put(b, "d/y", b"2");
    b.remove("d/x").expect("delete");
    assert!(!b.contains("d/x").expect("exists"));
    if !streams(b) {
        expect_kind(
            b.read_to_vec("d/x"),
            ErrorKind::NotFound,
            "read after delete",
        );
    }
    if caps(b).list {
        assert_eq!(names(b, ""), ["d/y"]);
    }
}

/// Deleting a missing object is `Ok`, and so is deleting twice.
pub fn delete_missing_is_ok(b: &dyn Backend) {
    if !caps(b).delete {
        return;
    }
    b.remove("never-there").expect("delete missing");
    b.remove("no/such/dir/x")
        .expect("delete missing in missing dir");
    if rw(b) {
        put(b, "twice", b"x");
        b.remove("twice").expect("first delete");
        b.remove("twice").expect("second delete");
    }
}

/// `exists` is true for objects, false for missing paths and for directories.
pub fn exists_reports_objects_only(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    assert!(!b.contains("e/x").expect("exists before"));
    put(b, "e/x", b"1");
    assert!(b.contains("e/x").expect("exists after"));
    assert!(!b.contains("e").expect("exists(dir)"));
    assert!(!b.contains("e/x/y").expect("exists(below object)"));
}

// ---------------------------------------------------------------------------------------------
// Listing

/// The root lists every object.
pub fn list_root_lists_everything(b: &dyn Backend) {
    if !rwl(b) {
        return;
    }
    assert!(names(b, "").is_empty(), "a fresh backend lists nothing");
    for path in ["top", "a/one", "a/b/two", "z/y/x/three"] {
        put(b, path, b".");
    }
    assert_eq!(names(b, ""), ["a/b/two", "a/one", "top", "z/y/x/three"]);
}

/// A prefix matches whole segments: `a/b` lists `a/b/...` but never `a/bc` or `a/b-c`.
pub fn list_prefix_matches_by_segment(b: &dyn Backend) {
    if !rwl(b) {
        return;
    }
    for path in ["a/b/1", "a/b/c/2", "a/bc/3", "a/b-c/4", "a/b.c", "a/a", "b"] {
        put(b, path, b".");
    }
    assert_eq!(names(b, "a/b"), ["a/b/1", "a/b/c/2"]);
    assert_eq!(names(b, "a/b/c"), ["a/b/c/2"]);
    assert_eq!(
        names(b, "a"),
        ["a/a", "a/b-c/4", "a/b.c", "a/b/1", "a/b/c/2", "a/bc/3"]
    );
}

/// A prefix that names an object lists that object.
pub fn list_prefix_naming_an_object(b: &dyn Backend) {
    if !rwl(b) {
        return;
    }
    put(b, "dir/file.txt", b"abc");
    put(b, "dir/file.txt2", b"x");
    let listed = b.list_all("dir/file.txt").expect("list");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].path, p("dir/file.txt"));
    assert_eq!(listed[0].size, 3);
}

/// A prefix with nothing under it lists nothing, without an error.
pub fn list_missing_prefix_is_empty(b: &dyn Backend) {
    if !rwl(b) {
        return;
    }
    put(b, "present/x", b".");
    assert!(names(b, "absent").is_empty());
    assert!(names(b, "absent/deeper").is_empty());
    assert!(names(b, "present/x/below-an-object").is_empty());
}

/// Objects come in ascending byte order of their full path.
pub fn list_is_in_byte_order(b: &dyn Backend) {
    if !rwl(b) {
        return;
    }
    let paths = [
        "a", "a b", "a!", "a-1", "a.txt", "a0", "aZ", "a_", "b/c", "b.c", "b0", "A", "Z/z", "~x",
        "é", "日本", "z",
    ];
    for path in paths {
        put(b, path, path.as_bytes());
    }
    let mut expected: Vec<String> = paths.iter().map(|s| s.to_string()).collect();
    expected.sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
    assert_eq!(names(b, ""), expected);
}

/// A directory's contents sort where their full paths do: `x/y-z` < `x/y.z` < `x/y/z` <
/// `x/y0`.
pub fn list_nested_names_sort_by_full_path(b: &dyn Backend) {
    if !rwl(b) {
        return;
    }
    let paths = [
        "x/y0", "x/y/z", "x/y.z", "x/y-z", "x/y/a/b", "x/y/a.b", "x/y/a-b",
    ];
    for path in paths {
        put(b, path, b".");
    }
    assert_eq!(
        names(b, "x"),
        [
            "x/y-z", "x/y.z", "x/y/a-b", "x/y/a.b", "x/y/a/b", "x/y/z", "x/y0"
        ]
    );
}

/// Listed entries carry the objects' sizes and are objects (not directories).
pub fn list_reports_sizes(b: &dyn Backend) {
    if !rwl(b) {
        return;
    }
    put(b, "s/zero", b"");
    put(b, "s/ten", &[1u8; 10]);
    put(b, "s/deep/thousand", &[2u8; 1000]);
    let listed = b.list_all("s").expect("list");
    let got: Vec<(String, u64, bool)> = listed
        .into_iter()
        .map(|e| (e.path.into_string(), e.size, e.is_dir))
        .collect();
    assert_eq!(
        got,
        [
            ("s/deep/thousand".to_string(), 1000, false),
            ("s/ten".to_string(), 10, false),
            ("s/zero".to_string(), 0, false),
        ]
    );
}

/// Hundreds of objects across directories all list, once each, in order.
pub fn list_many_objects(b: &dyn Backend) {
    if !rwl(b) {
        return;
    }
    let mut expected = Vec::new();
    for d in 0..12 {
        for f in 0..40 {
            let path = format!("many/d{d:x}/f{f}");
            put(b, &path, b"");
            expected.push(path);
        }
    }
    expected.sort();
    let got = names(b, "many");
    assert_eq!(got.len(), expected.len());
    assert_eq!(got, expected);
}

// ---------------------------------------------------------------------------------------------
// Names

fn names_roundtrip(b: &dyn Backend, paths: &[&str]) {
    if !rw(b) {
        return;
    }
    for path in paths {
        roundtrip(b, path, path.as_bytes());
        assert!(b.contains(*path).expect("exists"), "{path}");
    }
    if caps(b).list {
        let mut expected: Vec<String> = paths.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(names(b, ""), expected);
    }
}

/// Spaces (leading, trailing, inner) are kept byte for byte.
pub fn names_with_spaces(b: &dyn Backend) {
    names_roundtrip(b, &["with space", "dir with space/ lead", "trail /x "]);
}

/// `%` is kept, never decoded: `%20` stays three characters.
pub fn names_with_percent(b: &dyn Backend) {
    names_roundtrip(b, &["100%", "a%20b", "%2F/%zz"]);
}

/// `#`, `?`, `&`, `=` and `+` are kept.
pub fn names_with_hash_and_query_characters(b: &dyn Backend) {
    names_roundtrip(b, &["a#b", "q?x=1&y=2", "plus+sign"]);
}

/// Unicode is kept byte for byte (no normalization: `é` precomposed and decomposed differ).
pub fn names_with_unicode(b: &dyn Backend) {
    names_roundtrip(
        b,
        &["日本語/ファイル", "caf\u{e9}", "cafe\u{301}", "🦀/ünï"],
    );
}

/// Other punctuation is kept.
pub fn names_with_punctuation(b: &dyn Backend) {
    names_roundtrip(
        b,
        &[
            "quote'd",
            "dq\"x",
            "semi;colon",
            "brace{s}",
            "[brackets]",
            "star*",
            "at@",
            "~tilde",
            "back\\slash",
            "...dots",
        ],
    );
}

/// Twelve levels deep works.
pub fn deep_paths(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    let path = "1/2/3/4/5/6/7/8/9/10/11/12";
    roundtrip(b, path, b"deep");
    if caps(b).list {
        assert_eq!(names(b, "1/2/3"), [path]);
    }
}

// ---------------------------------------------------------------------------------------------
// Atomic writes

/// `abort` leaves no object and nothing listed.
pub fn abort_leaves_nothing(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    let mut w = b.open_writer("aborted/x").expect("writer");
    w.write_all(&pattern(100_000, 1)).expect("write");
    w.abort().expect("abort");
    assert!(!b.contains("aborted/x").expect("exists"));
    if caps(b).list {
        assert!(names(b, "").is_empty(), "{:?}", names(b, ""));
    }
}

/// Dropping a writer without `finish` leaves no object and nothing listed.
pub fn drop_without_finish_leaves_nothing(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    {
        let mut w = b.open_writer("dropped/x").expect("writer");
        w.write_all(&pattern(100_000, 2)).expect("write");
        w.flush().expect("flush");
    }
    assert!(!b.contains("dropped/x").expect("exists"));
    if caps(b).list {
        assert!(names(b, "").is_empty(), "{:?}", names(b, ""));
    }
}

/// An aborted overwrite keeps the old object.
pub fn abort_keeps_old_object(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    put(b, "keep", b"old content");
    let mut w = b.open_writer("keep").expect("writer");
    w.write_all(b"new content that must not appear")
        .expect("write");
    w.abort().expect("abort");
    assert_eq!(get(b, "keep"), b"old content");
}

/// A dropped overwrite keeps the old object.
pub fn drop_keeps_old_object(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    put(b, "keep", b"old content");
    {
        let mut w = b.open_writer("keep").expect("writer");
        w.write_all(b"new").expect("write");
    }
    assert_eq!(get(b, "keep"), b"old content");
}

/// While a writer is open (even flushed), readers see the old state; after `finish`, the new.
/// (A reader of a stream being written would wait for its end, so with streams only `exists`
/// and `list` are checked before `finish`.)
pub fn nothing_visible_before_finish(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    put(b, "old", b"v1");
    let mut fresh = b.open_writer("fresh").expect("writer");
    let mut over = b.open_writer("old").expect("writer");
    fresh.write_all(b"data").expect("write");
    over.write_all(b"v2").expect("write");
    fresh.flush().expect("flush");
    over.flush().expect("flush");
    assert!(!b.contains("fresh").expect("exists"));
    if streams(b) {
        if caps(b).list {
            assert!(
                !names(b, "").iter().any(|n| n == "fresh"),
                "unfinished stream listed"
            );
        }
    } else {
        expect_kind(
            b.read_to_vec("fresh"),
            ErrorKind::NotFound,
            "unfinished object",
        );
        assert_eq!(get(b, "old"), b"v1");
        if caps(b).list {
            assert_eq!(names(b, ""), ["old"]);
        }
    }
    fresh.finish().expect("finish");
    over.finish().expect("finish");
    assert_eq!(get(b, "fresh"), b"data");
    assert_eq!(get(b, "old"), b"v2");
}

/// `finish` returns the committed entry: its path and size.
pub fn finish_returns_entry(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    let mut w = b.open_writer("f/entry").expect("writer");
    w.write_all(b"12345").expect("write");
    let entry = w.finish().expect("finish");
    assert_eq!(entry.path, p("f/entry"));
    assert_eq!(entry.size, 5);
    assert!(!entry.is_dir);
}

// ---------------------------------------------------------------------------------------------
// Stat

/// `stat` agrees with `list` on path, size and modification time.
pub fn stat_agrees_with_list(b: &dyn Backend) {
    if !rwl(b) || !caps(b).stat {
        return;
    }
    let Some(ext) = ext(b) else {
        panic!("capabilities say stat, but as_extended() is None");
    };
    put(b, "st/a", b"abc");
    put(b, "st/b/c", &[0u8; 4096]);
    for listed in b.list_all("st").expect("list") {
        let stat = ext.stat(&listed.path).expect("stat");
        assert_eq!(stat.path, listed.path);
        assert_eq!(stat.size, listed.size, "{}", listed.path);
        assert!(!stat.is_dir);
        if listed.modified.is_some() {
            assert_eq!(stat.modified, listed.modified, "{}", listed.path);
        }
    }
}

/// `stat` of a missing path is `NotFound`.
pub fn stat_missing_is_not_found(b: &dyn Backend) {
    if !caps(b).stat {
        return;
    }
    let Some(ext) = ext(b) else {
        panic!("capabilities say stat, but as_extended() is None");
    };
    expect_kind(ext.stat(&p("missing")), ErrorKind::NotFound, "stat missing");
    expect_kind(
        ext.stat(&p("missing/deeper")),
        ErrorKind::NotFound,
        "stat missing",
    );
}

// ---------------------------------------------------------------------------------------------
// Ranges

fn range(b: &dyn Backend, r: impl std::ops::RangeBounds<u64>) -> Vec<u8> {
    b.read_range("r", r).expect("range read")
}

fn range_fixture(b: &dyn Backend) -> Option<Vec<u8>> {
    if !rw(b) {
        return None;
    }
    let data: Vec<u8> = (0..100u8).collect();
    put(b, "r", &data);
    Some(data)
}

/// A range in the middle reads exactly those bytes.
pub fn range_read_middle(b: &dyn Backend) {
    if let Some(data) = range_fixture(b) {
        assert_eq!(range(b, 10..20), &data[10..20]);
        assert_eq!(range(b, 0..1), &data[..1]);
        assert_eq!(range(b, 99..100), &data[99..]);
        assert_eq!(range(b, 5..5), b"");
    }
}

/// `offset..` reads to the end.
pub fn range_read_open_ended(b: &dyn Backend) {
    if let Some(data) = range_fixture(b) {
        assert_eq!(range(b, 90..), &data[90..]);
        assert_eq!(range(b, 0..), data);
    }
}

/// A range that runs past the end is cut at the end.
pub fn range_read_past_end_is_cut(b: &dyn Backend) {
    if let Some(data) = range_fixture(b) {
        assert_eq!(range(b, 95..200), &data[95..]);
        assert_eq!(range(b, 0..u64::MAX), data);
    }
}

/// A range starting at or past the end reads nothing (not an error).
pub fn range_read_starting_past_end_is_empty(b: &dyn Backend) {
    if range_fixture(b).is_some() {
        assert_eq!(range(b, 100..), b"");
        assert_eq!(range(b, 150..160), b"");
    }
}

// ---------------------------------------------------------------------------------------------
// Metadata

/// A modification time given to the writer is kept to the backend's precision, in `finish`,
/// `list` and `stat`.
pub fn modified_time_is_kept(b: &dyn Backend) {
    let Some(precision) = caps(b).modified_time else {
        return;
    };
    if !rw(b) {
        return;
    }
    let when = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
    let opts = WriteOptions::new().modified(when);
    let mut w = b.writer(&p("timed"), &opts).expect("writer");
    w.write_all(b"t").expect("write");
    let entry = w.finish().expect("finish");
    let close = |got: Option<SystemTime>, what: &str| {
        let got = got.unwrap_or_else(|| panic!("{what}: no modification time"));
        let diff = match got.duration_since(when) {
            Ok(d) => d,
            Err(e) => e.duration(),
        };
        assert!(
            diff < precision.max(Duration::from_nanos(1)),
            "{what}: {got:?} vs {when:?}"
        );
    };
    close(entry.modified, "finish");
    if caps(b).list {
        close(b.list_all("timed").expect("list")[0].modified, "list");
    }
    if caps(b).stat
        && let Some(ext) = ext(b)
    {
        close(ext.stat(&p("timed")).expect("stat").modified, "stat");
    }
}

/// Content type and user metadata given to the writer come back from `stat` (or `lookup`).
pub fn metadata_is_kept(b: &dyn Backend) {
    if !caps(b).metadata || !rw(b) {
        return;
    }
    let opts = WriteOptions::new()
        .content_type("text/plain; charset=utf-8")
        .metadata("owner", "ops team")
        .metadata("build", "42");
    let mut w = b.writer(&p("meta"), &opts).expect("writer");
    w.write_all(b"m").expect("write");
    w.finish().expect("finish");
    let entry = lookup(b, &p("meta")).expect("lookup").expect("object");
    assert_eq!(
        entry.content_type.as_deref(),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(
        entry.metadata.get("owner").map(String::as_str),
        Some("ops team")
    );
    assert_eq!(entry.metadata.get("build").map(String::as_str), Some("42"));
}

// ---------------------------------------------------------------------------------------------
// Server-side copy and rename

/// The extended interface where the capabilities need it, or `None` (after checking that the
/// operation answers `Unsupported`) where they say it is missing.
fn ext_for(
    b: &dyn Backend,
    supported: bool,
    op: fn(&dyn Backend) -> Result<()>,
) -> Option<&dyn Backend> {
    match (ext(b), supported) {
        (Some(ext), true) => Some(ext),
        (None, true) => panic!("capabilities promise an extended operation, as_extended() is None"),
        (Some(ext), false) => {
            expect_kind(
                op(ext),
                ErrorKind::Unsupported,
                "operation the capabilities deny",
            );
            None
        }
        (None, false) => None,
    }
}

/// Server-side copy duplicates the object, keeps the source, replaces the target.
pub fn server_side_copy(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    let Some(ext) = ext_for(b, caps(b).server_side_copy, |e| {
        e.copy(&p("x"), &p("y")).map(drop)
    }) else {
        return;
    };
    let when = UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    let mut w = b
        .writer(&p("src"), &WriteOptions::new().modified(when))
        .expect("writer");
    w.write_all(b"payload").expect("write");
    w.finish().expect("finish");
    put(b, "dst/copy", b"to be replaced");
    ext.copy(&p("src"), &p("dst/copy")).expect("copy");
    assert_eq!(get(b, "src"), b"payload");
    assert_eq!(get(b, "dst/copy"), b"payload");
    ext.copy(&p("src"), &p("new/dir/copy"))
        .expect("copy into new dir");
    assert_eq!(get(b, "new/dir/copy"), b"payload");
    if let Some(precision) = caps(b).modified_time
        && caps(b).stat
    {
        let got = ext
            .stat(&p("new/dir/copy"))
            .expect("stat")
            .modified
            .expect("mtime");
        let diff = got.duration_since(when).unwrap_or_else(|e| e.duration());
        assert!(
            diff < precision.max(Duration::from_secs(1)),
            "copy keeps mtime"
        );
    }
}

/// Server-side copy of a missing source is `NotFound` and creates nothing.
pub fn server_side_copy_missing_source(b: &dyn Backend) {
    let Some(ext) = ext_for(b, caps(b).server_side_copy, |e| {
        e.copy(&p("x"), &p("y")).map(drop)
    }) else {
        return;
    };
    expect_kind(
        ext.copy(&p("ghost"), &p("target")),
        ErrorKind::NotFound,
        "copy missing",
    );
    assert!(!b.contains("target").expect("exists"));
}

/// Server-side copy of an object onto itself keeps it.
pub fn server_side_copy_onto_itself(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    let Some(ext) = ext_for(b, caps(b).server_side_copy, |e| {
        e.copy(&p("x"), &p("y")).map(drop)
    }) else {
        return;
    };
    put(b, "self", b"precious");
    ext.copy(&p("self"), &p("self")).expect("copy onto itself");
    assert_eq!(get(b, "self"), b"precious");
}

/// Server-side rename moves the object and replaces the target.
pub fn server_side_rename(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    let Some(ext) = ext_for(b, caps(b).server_side_move, |e| {
        e.rename(&p("x"), &p("y")).map(drop)
    }) else {
        return;
    };
    put(b, "from", b"moving");
    put(b, "to/here", b"old");
    ext.rename(&p("from"), &p("to/here")).expect("rename");
    assert!(!b.contains("from").expect("exists"));
    assert_eq!(get(b, "to/here"), b"moving");
    ext.rename(&p("to/here"), &p("a/new/dir/there"))
        .expect("rename into new dir");
    assert_eq!(get(b, "a/new/dir/there"), b"moving");
}

/// Server-side rename of a missing source is `NotFound` and creates nothing.
pub fn server_side_rename_missing_source(b: &dyn Backend) {
    let Some(ext) = ext_for(b, caps(b).server_side_move, |e| {
        e.rename(&p("x"), &p("y")).map(drop)
    }) else {
        return;
    };
    expect_kind(
        ext.rename(&p("ghost"), &p("target")),
        ErrorKind::NotFound,
        "rename missing",
    );
    assert!(!b.contains("target").expect("exists"));
}

/// Renaming an object onto itself keeps it.
pub fn server_side_rename_onto_itself(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    let Some(ext) = ext_for(b, caps(b).server_side_move, |e| {
        e.rename(&p("x"), &p("y")).map(drop)
    }) else {
        return;
    };
    put(b, "self", b"precious");
    ext.rename(&p("self"), &p("self"))
        .expect("rename onto itself");
    assert_eq!(get(b, "self"), b"precious");
}

/// With real directories: `create_dir` makes one (`stat` says so, `list` shows no object),
/// `remove_dir` refuses a non-empty one and removes an empty one. Without: both are `Ok`.
pub fn directories(b: &dyn Backend) {
    let Some(ext) = ext(b) else {
        return;
    };
    if !caps(b).directories {
        ext.create_dir(&p("d/e"))
            .expect("create_dir is Ok without directories");
        ext.remove_dir(&p("d/e"))
            .expect("remove_dir is Ok without directories");
        if caps(b).list {
            assert!(names(b, "").is_empty(), "create_dir made no object");
        }
        return;
    }
    ext.create_dir(&p("d/e")).expect("create_dir");
    ext.create_dir(&p("d/e")).expect("create_dir again");
    if caps(b).stat {
        assert!(ext.stat(&p("d/e")).expect("stat dir").is_dir);
        assert!(ext.stat(&p("d")).expect("stat parent").is_dir);
    }
    if caps(b).list {
        assert!(names(b, "").is_empty(), "directories are not objects");
    }
    assert!(!b.contains("d/e").expect("exists(dir)"));
    if rw(b) {
        put(b, "d/e/x", b"1");
        expect_kind(
            ext.remove_dir(&p("d/e")),
            ErrorKind::DirectoryNotEmpty,
            "remove non-empty",
        );
        expect_kind(
            ext.remove_dir(&p("d/e/x")),
            ErrorKind::NotADirectory,
            "remove_dir(object)",
        );
        expect_kind(
            ext.create_dir(&p("d/e/x")),
            ErrorKind::AlreadyExists,
            "create_dir(object)",
        );
        b.remove("d/e/x").expect("delete");
    }
    ext.remove_dir(&p("d/e")).expect("remove empty dir");
    ext.remove_dir(&p("d/e")).expect("remove missing dir is Ok");
    if caps(b).stat {
        expect_kind(ext.stat(&p("d/e")), ErrorKind::NotFound, "stat removed dir");
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers across backends

/// [`copy_path`] within one backend copies (server-side or streamed) and keeps the source.
pub fn copy_path_within_backend(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    put(b, "orig", b"data");
    let entry = copy_path(b, &p("orig"), b, &p("dup/orig")).expect("copy_path");
    assert_eq!(entry.size, 4);
    assert_eq!(get(b, "orig"), b"data");
    assert_eq!(get(b, "dup/orig"), b"data");
}

/// [`copy_path`] of an object onto itself keeps it.
pub fn copy_path_onto_itself_keeps_data(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    put(b, "self", b"precious");
    copy_path(b, &p("self"), b, &p("self")).expect("copy onto itself");
    assert_eq!(get(b, "self"), b"precious");
}

/// [`copy_path`] of a missing source is `NotFound` and creates nothing.
pub fn copy_path_missing_source_creates_nothing(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    expect_kind(
        copy_path(b, &p("ghost"), b, &p("target")),
        ErrorKind::NotFound,
        "copy_path missing",
    );
    assert!(!b.contains("target").expect("exists"));
}

/// [`move_path`] within one backend moves.
pub fn move_path_within_backend(b: &dyn Backend) {
    if !rw(b) || !caps(b).delete {
        return;
    }
    put(b, "mv/src", b"data");
    move_path(b, &p("mv/src"), b, &p("mv/dst")).expect("move_path");
    assert!(!b.contains("mv/src").expect("exists"));
    assert_eq!(get(b, "mv/dst"), b"data");
}

/// [`move_path`] of an object onto itself keeps it (it is never deleted).
pub fn move_path_onto_itself_keeps_data(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    put(b, "self", b"precious");
    move_path(b, &p("self"), b, &p("self")).expect("move onto itself");
    assert_eq!(get(b, "self"), b"precious");
}

// ---------------------------------------------------------------------------------------------
// Concurrency and lifecycle

/// Eight threads writing 25 objects each, in interleaved pieces, never interfere.
pub fn concurrent_writers_on_distinct_paths(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    std::thread::scope(|s| {
        for t in 0..8u64 {
            s.spawn(move || {
                for i in 0..25u64 {
                    let path = format!("c/t{t}/o{i}");
                    let data = pattern(1000 + (i as usize) * 37, t * 100 + i);
                    let mut w = b.open_writer(path.as_str()).expect("writer");
                    for chunk in data.chunks(333) {
                        w.write_all(chunk).expect("write");
                        std::thread::yield_now();
                    }
                    w.finish().expect("finish");
                }
            });
        }
    });
    for t in 0..8u64 {
        for i in 0..25u64 {
            let path = format!("c/t{t}/o{i}");
            let data = pattern(1000 + (i as usize) * 37, t * 100 + i);
            assert!(get(b, &path) == data, "content of {path}");
        }
    }
    if caps(b).list {
        let listed: BTreeSet<String> = names(b, "c").into_iter().collect();
        assert_eq!(listed.len(), 200);
    }
}

/// What the capabilities deny answers `Unsupported`; what they grant does not.
pub fn capabilities_tell_the_truth(b: &dyn Backend) {
    let c = caps(b);
    let unsupported = |r: Result<()>, what: &str| expect_kind(r, ErrorKind::Unsupported, what);
    if !c.read {
        unsupported(b.open_reader("x").map(|_| ()), "reader");
    }
    if !c.write {
        unsupported(b.open_writer("x").map(|_| ()), "writer");
    }
    if !c.list {
        unsupported(
            b.list(&Path::root(), &ListOptions::default()).map(|_| ()),
            "list",
        );
    }
    if !c.delete {
        unsupported(b.remove("x"), "delete");
    }
    match ext(b) {
        Some(ext) => {
            if !c.stat {
                unsupported(ext.stat(&p("x")).map(|_| ()), "stat");
            }
            if !c.server_side_copy {
                unsupported(ext.copy(&p("x"), &p("y")).map(drop), "copy");
            }
            if !c.server_side_move {
                unsupported(ext.rename(&p("x"), &p("y")).map(drop), "rename");
            }
        }
        None => {
            assert!(
                !(c.stat || c.directories || c.server_side_copy || c.server_side_move),
                "capabilities promise extended operations, but as_extended() is None"
            );
        }
    }
    if c.list {
        assert!(b.list(&Path::root(), &ListOptions::default()).is_ok());
    }
    if c.create_new {
        assert!(c.write, "create_new without write");
    }
}

/// After `close`, every operation answers `Closed`; closing twice is `Ok`.
pub fn close_then_use_is_closed(b: &dyn Backend) {
    if rw(b) {
        put(b, "before-close", b"x");
    }
    b.close().expect("close");
    b.close().expect("close twice");
    let closed = |r: Result<()>, what: &str| expect_kind(r, ErrorKind::Closed, what);
    if caps(b).read {
        closed(b.open_reader("before-close").map(|_| ()), "reader");
    }
    if caps(b).write {
        closed(b.open_writer("after").map(|_| ()), "writer");
    }
    if caps(b).list {
        closed(
            b.list(&Path::root(), &ListOptions::default()).map(|_| ()),
            "list",
        );
    }
    if caps(b).delete {
        closed(b.remove("before-close"), "delete");
    }
    closed(b.contains("before-close").map(|_| ()), "exists");
    if let Some(ext) = ext(b)
        && caps(b).stat
    {
        closed(ext.stat(&p("before-close")).map(|_| ()), "stat");
    }
}

/// A writer finished after `close` fails with `Closed` instead of committing.
pub fn finish_after_close_fails(b: &dyn Backend) {
    if !rw(b) {
        return;
    }
    let mut w = b.open_writer("late").expect("writer");
    w.write_all(b"late data").expect("write");
    b.close().expect("close");
    expect_kind(w.finish(), ErrorKind::Closed, "finish after close");
}
