//! Server-side `copy` and `rename` within a backend, and `copy_from` / `rename_from` a sibling
//! backend on the same store.

use std::time::{Duration, UNIX_EPOCH};

use super::Fixture;
use super::support::*;
use crate::{Backend, BackendExt, Entry, ErrorKind, Path, Result, WriteOptions};

/// Server-side copy duplicates the object, keeps the source, replaces the target, creates
/// missing directories and keeps the modification time.
pub fn server_side_copy(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    need(caps(b).server_side_copy, "Capabilities::server_side_copy")?;
    let when = UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    put_with(b, "src", b"payload", &WriteOptions::new().modified(when));
    put(b, "dst/copy", b"to be replaced");
    b.copy(&p("src"), &p("dst/copy")).expect("copy");
    assert_eq!(get(b, "src"), b"payload");
    assert_eq!(get(b, "dst/copy"), b"payload");
    b.copy(&p("src"), &p("new/dir/copy"))
        .expect("copy into new dir");
    assert_eq!(get(b, "new/dir/copy"), b"payload");
    if let Some(precision) = caps(b).modified_time
        && caps(b).stat
    {
        let got = b.stat(&p("new/dir/copy")).expect("stat").modified;
        assert_time(
            got,
            when,
            precision.max(Duration::from_secs(1)),
            "copy keeps mtime",
        );
    }
    Ok(())
}

/// Checks the entry a server-side copy or rename returned against the object at its path.
fn check_new_entry(b: &dyn Backend, entry: &Entry, path: &str, size: u64, what: &str) {
    assert_eq!(entry.path, p(path), "{what}: path");
    assert_eq!(entry.size, size, "{what}: size");
    assert!(!entry.is_dir, "{what}: is_dir");
    if caps(b).stat {
        assert_agrees(entry, &b.stat(&p(path)).expect("stat"), what);
    }
    if caps(b).list {
        let listed = b.list_all(path).expect("list");
        assert_eq!(listed.len(), 1, "{what}: listed");
        assert_agrees(entry, &listed[0], what);
    }
}

fn written_with_metadata(b: &dyn Backend, path: &str) -> u64 {
    let mut opts = WriteOptions::new().modified(UNIX_EPOCH + Duration::from_secs(1_620_000_000));
    if caps(b).metadata {
        opts = opts.content_type("image/png").metadata("camera", "x100");
    }
    put_with(b, path, b"new entry", &opts).size
}

/// A server-side copy or rename of `b`, named for messages.
type Op = (
    &'static str,
    fn(&dyn Backend, &Path, &Path) -> Result<Entry>,
);

const COPY: Op = ("copy", |b, from, to| b.copy(from, to));
const RENAME: Op = ("rename", |b, from, to| b.rename(from, to));

/// The operation returns the new object's entry, and it agrees with `stat` (and `list`).
fn returns_the_new_entry(b: &dyn Backend, able: (bool, &str), (name, op): Op) -> Outcome {
    need_rw(b)?;
    need(able.0, able.1)?;
    let size = written_with_metadata(b, "n/src");
    let entry = op(b, &p("n/src"), &p("n/dst")).unwrap_or_else(|e| panic!("{name}: {e}"));
    check_new_entry(b, &entry, "n/dst", size, &format!("{name}'s entry"));
    Ok(())
}

/// The operation on a missing source is `NotFound` and creates nothing.
fn missing_source(b: &dyn Backend, able: (bool, &str), (name, op): Op) -> Outcome {
    need(able.0, able.1)?;
    expect_kind(
        op(b, &p("ghost"), &p("target")),
        ErrorKind::NotFound,
        &format!("{name} missing"),
    );
    assert!(!b.contains("target").expect("exists"));
    Ok(())
}

/// The operation from an object onto itself keeps it.
fn onto_itself(b: &dyn Backend, able: (bool, &str), (name, op): Op) -> Outcome {
    need_rw(b)?;
    need(able.0, able.1)?;
    put(b, "self", b"precious");
    op(b, &p("self"), &p("self")).unwrap_or_else(|e| panic!("{name} onto itself: {e}"));
    assert_eq!(get(b, "self"), b"precious");
    Ok(())
}

/// `copy` returns the new object's entry, and it agrees with `stat` (and `list`).
pub fn server_side_copy_returns_the_new_entry(b: &dyn Backend) -> Outcome {
    returns_the_new_entry(
        b,
        (caps(b).server_side_copy, "Capabilities::server_side_copy"),
        COPY,
    )
}

/// Server-side copy of a missing source is `NotFound` and creates nothing.
pub fn server_side_copy_missing_source(b: &dyn Backend) -> Outcome {
    missing_source(
        b,
        (caps(b).server_side_copy, "Capabilities::server_side_copy"),
        COPY,
    )
}

/// Server-side copy of an object onto itself keeps it.
pub fn server_side_copy_onto_itself(b: &dyn Backend) -> Outcome {
    onto_itself(
        b,
        (caps(b).server_side_copy, "Capabilities::server_side_copy"),
        COPY,
    )
}

/// Server-side rename moves the object and replaces the target.
pub fn server_side_rename(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    need(caps(b).server_side_move, "Capabilities::server_side_move")?;
    put(b, "from", b"moving");
    put(b, "to/here", b"old");
    b.rename(&p("from"), &p("to/here")).expect("rename");
    assert!(!b.contains("from").expect("exists"));
    assert_eq!(get(b, "to/here"), b"moving");
    b.rename(&p("to/here"), &p("a/new/dir/there"))
        .expect("rename into new dir");
    assert_eq!(get(b, "a/new/dir/there"), b"moving");
    Ok(())
}

/// `rename` returns the new object's entry, and it agrees with `stat` (and `list`).
pub fn server_side_rename_returns_the_new_entry(b: &dyn Backend) -> Outcome {
    returns_the_new_entry(
        b,
        (caps(b).server_side_move, "Capabilities::server_side_move"),
        RENAME,
    )
}

/// Server-side rename of a missing source is `NotFound` and creates nothing.
pub fn server_side_rename_missing_source(b: &dyn Backend) -> Outcome {
    missing_source(
        b,
        (caps(b).server_side_move, "Capabilities::server_side_move"),
        RENAME,
    )
}

/// Renaming an object onto itself keeps it.
pub fn server_side_rename_onto_itself(b: &dyn Backend) -> Outcome {
    onto_itself(
        b,
        (caps(b).server_side_move, "Capabilities::server_side_move"),
        RENAME,
    )
}

/// The fixture's backend and a sibling on the same store, when the case can run: the
/// backend reads and writes, has `able`, and the fixture opens siblings.
fn with_sibling<'f>(
    f: &'f Fixture,
    able: (bool, &str),
) -> Result<(&'f dyn Backend, Box<dyn Backend>), Skipped> {
    let b = f.backend();
    need_rw(b)?;
    need(able.0, able.1)?;
    let sibling = f
        .sibling()
        .ok_or_else(|| Skipped::needs("a sibling store (Fixture::with_sibling)"))?;
    let (Some(here), Some(there)) = (b.location(), sibling.location()) else {
        panic!("a backend and its sibling need locations");
    };
    assert!(here.same_store(&there), "{here} and {there}: not one store");
    assert_ne!(here, there, "a sibling has a root of its own");
    Ok((b, sibling))
}

/// `copy_from` a sibling on the same store copies server-side: the object appears here, the
/// source stays, the entry returned agrees with `stat`; a missing source is `NotFound` and
/// creates nothing.
pub fn copy_from_sibling(f: &Fixture) -> Outcome {
    let (b, sibling) = with_sibling(
        f,
        (
            caps(f.backend()).server_side_copy,
            "Capabilities::server_side_copy",
        ),
    )?;
    let src = sibling.location().expect("location");
    let size = written_with_metadata(&*sibling, "sib/x");
    put(b, "here/x", b"to be replaced");
    let entry = b
        .copy_from(&src, &p("sib/x"), &p("here/x"))
        .expect("copy_from");
    assert_eq!(get(b, "here/x"), b"new entry");
    assert_eq!(get(&*sibling, "sib/x"), b"new entry", "the source stays");
    check_new_entry(b, &entry, "here/x", size, "copy_from's entry");
    assert!(!b.contains("sib/x").expect("exists"), "paths are per root");
    expect_kind(
        b.copy_from(&src, &p("ghost"), &p("here/ghost")),
        ErrorKind::NotFound,
        "copy_from missing",
    );
    assert!(!b.contains("here/ghost").expect("exists"));
    Ok(())
}

/// `rename_from` a sibling on the same store moves server-side: the object appears here and
/// is gone there; a missing source is `NotFound` and changes nothing.
pub fn rename_from_sibling(f: &Fixture) -> Outcome {
    let (b, sibling) = with_sibling(
        f,
        (
            caps(f.backend()).server_side_move,
            "Capabilities::server_side_move",
        ),
    )?;
    let src = sibling.location().expect("location");
    let size = written_with_metadata(&*sibling, "sib/y");
    let entry = b
        .rename_from(&src, &p("sib/y"), &p("here/y"))
        .expect("rename_from");
    assert_eq!(get(b, "here/y"), b"new entry");
    assert!(
        !sibling.contains("sib/y").expect("exists"),
        "the source is gone"
    );
    check_new_entry(b, &entry, "here/y", size, "rename_from's entry");
    expect_kind(
        b.rename_from(&src, &p("ghost"), &p("here/ghost")),
        ErrorKind::NotFound,
        "rename_from missing",
    );
    assert!(!b.contains("here/ghost").expect("exists"));
    Ok(())
}
