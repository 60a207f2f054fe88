//! What the cases share: paths, capability gates, reads and writes that panic with context,
//! listing shorthands and comparisons.

use std::time::{Duration, SystemTime};

pub(super) use super::outcome::{Outcome, Skipped};
use crate::{
    Backend, BackendExt, Capabilities, Entry, ErrorKind, Fields, ListOptions, Path, Result,
    StreamDelivery, WriteOptions,
};

#[track_caller]
pub(super) fn p(s: &str) -> Path {
    match Path::parse(s) {
        Ok(path) => path,
        Err(e) => panic!("test path {s:?}: {e}"),
    }
}

pub(super) fn caps(b: &dyn Backend) -> Capabilities {
    b.capabilities()
}

/// Whether the backend can write, then read back what it wrote; cases that need that skip
/// otherwise (`capabilities_tell_the_truth` checks the `Unsupported` answers). Consumed
/// streams cannot be read back unless a reader was waiting for them.
pub(super) fn rw(b: &dyn Backend) -> bool {
    let c = caps(b);
    c.read && c.write && c.streams != Some(StreamDelivery::Consume)
}

/// Whether objects are live streams: a reader of a path not yet written waits for a writer.
pub(super) fn streams(b: &dyn Backend) -> bool {
    caps(b).streams.is_some()
}

/// Skips the case unless `ok`: it needs `what` (`"Capabilities::stat"`).
pub(super) fn need(ok: bool, what: &str) -> Outcome {
    if ok {
        Ok(())
    } else {
        Err(Skipped::needs(what))
    }
}

/// Skips the case unless the backend can write, then read back ([`rw`]), naming what lacks.
pub(super) fn need_rw(b: &dyn Backend) -> Outcome {
    let c = caps(b);
    need(c.read, "Capabilities::read")?;
    need(c.write, "Capabilities::write")?;
    need(
        c.streams != Some(StreamDelivery::Consume),
        "objects that read back (Capabilities::streams is Consume)",
    )
}

/// [`need_rw`], and `list` works.
pub(super) fn need_rwl(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    need(caps(b).list, "Capabilities::list")
}

#[track_caller]
pub(super) fn put(b: &dyn Backend, path: &str, data: &[u8]) -> Entry {
    ok(b.write_all(path, data), || format!("write {path}"))
}

/// Writes `data` at `path` with `opts`, and returns the entry `finish` gave.
#[track_caller]
pub(super) fn put_with(b: &dyn Backend, path: &str, data: &[u8], opts: &WriteOptions) -> Entry {
    ok(crate::write_all(b, &p(path), opts, data), || {
        format!("write {path}")
    })
}

#[track_caller]
pub(super) fn get(b: &dyn Backend, path: &str) -> Vec<u8> {
    ok(b.read_to_vec(path), || format!("read {path}"))
}

/// Writes `data` at `path` and checks that it reads back, and the size `finish` gave.
#[track_caller]
pub(super) fn roundtrip(b: &dyn Backend, path: &str, data: &[u8]) {
    let entry = put(b, path, data);
    assert_eq!(entry.size, data.len() as u64, "size of {path} from finish");
    assert_eq!(get(b, path), data, "content of {path}");
}

/// The entries of a listing of `prefix` with `opts`, failing on the first bad one.
#[track_caller]
pub(super) fn listing(b: &dyn Backend, prefix: &str, opts: &ListOptions) -> Vec<Entry> {
    let mut entries = Vec::new();
    for entry in ok(b.list(&p(prefix), opts), || format!("list {prefix}")) {
        entries.push(ok(entry, || format!("list {prefix}")));
    }
    entries
}

/// The paths of a recursive listing of `prefix`.
#[track_caller]
pub(super) fn names(b: &dyn Backend, prefix: &str) -> Vec<String> {
    listing(b, prefix, &ListOptions::default())
        .into_iter()
        .map(|e| e.path.into_string())
        .collect()
}

/// A listing as `path` for objects and `path/` for directories.
pub(super) fn keys(entries: &[Entry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| {
            let slash = if e.is_dir { "/" } else { "" };
            format!("{}{slash}", e.path)
        })
        .collect()
}

/// The value of `r`, or a panic naming `what` (made only then) and the error's chain, at the
/// caller's line.
#[track_caller]
pub(super) fn ok<T>(r: Result<T>, what: impl FnOnce() -> String) -> T {
    match r {
        Ok(value) => value,
        Err(e) => panic!("{}: {}", what(), e.display_chain()),
    }
}

#[track_caller]
pub(super) fn expect_kind<T: std::fmt::Debug>(r: Result<T>, kind: ErrorKind, what: &str) {
    match r {
        Ok(v) => panic!("{what}: expected {kind:?}, got Ok({v:?})"),
        Err(e) => assert_eq!(e.kind(), kind, "{what}: {}", e.display_chain()),
    }
}

/// Checks that an operation the capabilities deny answers `Unsupported`.
#[track_caller]
pub(super) fn unsupported<T: std::fmt::Debug>(r: Result<T>, what: &str) {
    expect_kind(r, ErrorKind::Unsupported, what);
}

/// Deterministic bytes that are not all zeros (xorshift).
pub(super) fn pattern(len: usize, seed: u64) -> Vec<u8> {
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

/// Checks that `got` is `when` to within `precision` (at least a nanosecond).
#[track_caller]
pub(super) fn assert_time(
    got: Option<SystemTime>,
    when: SystemTime,
    precision: Duration,
    what: &str,
) {
    let Some(got) = got else {
        panic!("{what}: no modification time")
    };
    let diff = got.duration_since(when).unwrap_or_else(|e| e.duration());
    assert!(
        diff < precision.max(Duration::from_nanos(1)),
        "{what}: {got:?} is not {when:?} to within {precision:?}"
    );
}

/// Checks that two entries of one object agree on path, size and kind, and on every optional
/// field that both say they filled.
#[track_caller]
pub(super) fn assert_agrees(a: &Entry, b: &Entry, what: &str) {
    agree(a, b, None, what);
}

/// [`assert_agrees`], with modification times compared to within `precision` (for the entry
/// `finish` returns, which may carry the time asked for rather than the one stored).
#[track_caller]
pub(super) fn assert_agrees_within(a: &Entry, b: &Entry, precision: Duration, what: &str) {
    agree(a, b, Some(precision), what);
}

#[track_caller]
fn agree(a: &Entry, b: &Entry, precision: Option<Duration>, what: &str) {
    assert_eq!(a.path, b.path, "{what}: path");
    assert_eq!(a.size, b.size, "{what}: size of {}", a.path);
    assert_eq!(a.is_dir, b.is_dir, "{what}: is_dir of {}", a.path);
    let both = a.filled.intersection(b.filled);
    if both.contains(Fields::MODIFIED) {
        match (precision, b.modified) {
            (Some(precision), Some(when)) => assert_time(a.modified, when, precision, what),
            _ => assert_eq!(a.modified, b.modified, "{what}: modified of {}", a.path),
        }
    }
    if both.contains(Fields::CONTENT_TYPE) {
        assert_eq!(
            a.content_type, b.content_type,
            "{what}: content type of {}",
            a.path
        );
    }
    if both.contains(Fields::METADATA) {
        assert_eq!(a.metadata, b.metadata, "{what}: metadata of {}", a.path);
    }
    if both.contains(Fields::HASHES) {
        let mut x = a.hashes.clone();
        let mut y = b.hashes.clone();
        x.sort_by_key(|h| h.kind());
        y.sort_by_key(|h| h.kind());
        assert_eq!(x, y, "{what}: hashes of {}", a.path);
    }
}
