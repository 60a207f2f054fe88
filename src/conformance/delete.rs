//! `delete`, `delete_many` and `exists`.

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
