//! `delete`, `delete_many`, `remove_all` and `exists`.

use super::support::*;
use crate::{Backend, BackendExt, ErrorKind, Path};

/// `delete` removes the object: it no longer exists, reads (a reader of a stream would wait
/// for a new writer) or lists.
pub fn delete_removes_object(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    need(caps(b).delete, "Capabilities::delete")?;
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
    Ok(())
}

/// Deleting a missing object is `Ok`, and so is deleting twice.
pub fn delete_missing_is_ok(b: &dyn Backend) -> Outcome {
    need(caps(b).delete, "Capabilities::delete")?;
    b.remove("never-there").expect("delete missing");
    b.remove("no/such/dir/x")
        .expect("delete missing in missing dir");
    if rw(b) {
        put(b, "twice", b"x");
        b.remove("twice").expect("first delete");
        b.remove("twice").expect("second delete");
    }
    Ok(())
}

/// `exists` is true for objects, false for missing paths and for directories.
pub fn exists_reports_objects_only(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    assert!(!b.contains("e/x").expect("exists before"));
    put(b, "e/x", b"1");
    assert!(b.contains("e/x").expect("exists after"));
    assert!(!b.contains("e").expect("exists(dir)"));
    assert!(!b.contains("e/x/y").expect("exists(below object)"));
    Ok(())
}

/// `delete_many` answers one result per path, in order, as `delete` would: existing and
/// missing paths are `Ok` (and gone afterwards), the root is `InvalidPath`.
pub fn delete_many_answers_each_path(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    need(caps(b).delete, "Capabilities::delete")?;
    for path in ["dm/a", "dm/b", "dm/sub/c", "dm/keep"] {
        put(b, path, b"x");
    }
    let paths = [
        p("dm/a"),
        p("dm/missing"),
        Path::root(),
        p("dm/sub/c"),
        p("dm/b"),
        p("no/such/dir/x"),
    ];
    let results = b.delete_many(&paths);
    assert_eq!(results.len(), paths.len(), "one result per path");
    for (path, result) in paths.iter().zip(results) {
        if path.is_root() {
            expect_kind(result, ErrorKind::InvalidPath, "delete_many(root)");
        } else {
            result.unwrap_or_else(|e| panic!("delete_many {path}: {}", e.display_chain()));
        }
    }
    for gone in ["dm/a", "dm/b", "dm/sub/c"] {
        assert!(!b.contains(gone).expect("exists"), "{gone} deleted");
    }
    assert!(b.contains("dm/keep").expect("exists"), "dm/keep untouched");
    assert!(b.delete_many(&[]).is_empty());
    Ok(())
}

/// `remove_all` deletes the objects at and under a prefix, matched by segment (a sibling
/// sharing its first letters stays), and the directories there; a missing prefix is `Ok(0)`.
pub fn remove_all_removes_the_prefix(b: &dyn Backend) -> Outcome {
    need_rwl(b)?;
    need(caps(b).delete, "Capabilities::delete")?;
    put(b, "ra/x", b"1");
    put(b, "ra/sub/y", b"2");
    put(b, "ra/sub/deeper/z", b"3");
    put(b, "rab", b"kept");
    assert_eq!(b.remove_all("ra").expect("remove_all"), 3);
    assert!(names(b, "ra").is_empty(), "objects left under the prefix");
    assert_eq!(names(b, "rab"), ["rab"]);
    if caps(b).directories {
        expect_kind(
            b.stat(&Path::parse("ra").expect("path")),
            ErrorKind::NotFound,
            "the prefix itself",
        );
    }
    assert_eq!(b.remove_all("ra").expect("remove_all again"), 0);
    assert_eq!(b.remove_all("never/there").expect("missing prefix"), 0);
    Ok(())
}

/// `remove_empty_dirs` removes the empty directories below a root, deepest first, and the
/// root when asked; a directory holding an object stays, with its parents; a backend
/// without directories has none to remove.
pub fn remove_empty_dirs_leaves_the_full_ones(b: &dyn Backend) -> Outcome {
    need_rwl(b)?;
    need(caps(b).delete, "Capabilities::delete")?;
    let p = |s: &str| Path::parse(s).expect("path");
    if !caps(b).directories {
        put(b, "re/x", b"1");
        assert_eq!(
            crate::remove_empty_dirs(b, &p("re"), false).expect("rmdirs"),
            0
        );
        assert_eq!(names(b, "re"), ["re/x"]);
        return Ok(());
    }
    b.create_dir(&p("re/empty/deeper")).expect("create_dir");
    b.create_dir(&p("re/kept")).expect("create_dir");
    put(b, "re/full/sub/x", b"1");
    assert_eq!(
        crate::remove_empty_dirs(b, &p("re/kept"), true).expect("keep root"),
        0
    );
    assert!(b.stat(&p("re/kept")).expect("kept root").is_dir);
    assert_eq!(
        crate::remove_empty_dirs(b, &p("re"), false).expect("rmdirs"),
        3
    );
    expect_kind(b.stat(&p("re/empty")), ErrorKind::NotFound, "emptied dir");
    assert!(b.stat(&p("re/full/sub")).expect("full dir").is_dir);
    assert!(b.stat(&p("re")).expect("the root, not empty").is_dir);
    assert_eq!(names(b, "re"), ["re/full/sub/x"]);
    Ok(())
}
