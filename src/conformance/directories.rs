//! `create_dir` and `remove_dir`.

use super::support::*;
use crate::{Backend, BackendExt, ErrorKind};

/// With real directories: `create_dir` makes one (`stat` says so, `list` shows no object),
/// `remove_dir` refuses a non-empty one and removes an empty one. Without: both are `Ok`.
pub fn directories(b: &dyn Backend) -> Outcome {
    need(caps(b).stat, "Capabilities::stat")?;
    if !caps(b).directories {
        b.create_dir(&p("d/e"))
            .expect("create_dir is Ok without directories");
        b.remove_dir(&p("d/e"))
            .expect("remove_dir is Ok without directories");
        if caps(b).list {
            assert!(names(b, "").is_empty(), "create_dir made no object");
        }
        return Ok(());
    }
    b.create_dir(&p("d/e")).expect("create_dir");
    b.create_dir(&p("d/e")).expect("create_dir again");
    if caps(b).stat {
        assert!(b.stat(&p("d/e")).expect("stat dir").is_dir);
        assert!(b.stat(&p("d")).expect("stat parent").is_dir);
    }
    if caps(b).list {
        assert!(names(b, "").is_empty(), "directories are not objects");
    }
    assert!(!b.contains("d/e").expect("exists(dir)"));
    if rw(b) {
        put(b, "d/e/x", b"1");
        expect_kind(
            b.remove_dir(&p("d/e")),
            ErrorKind::DirectoryNotEmpty,
            "remove non-empty",
        );
        expect_kind(
            b.remove_dir(&p("d/e/x")),
            ErrorKind::NotADirectory,
            "remove_dir(object)",
        );
        expect_kind(
            b.create_dir(&p("d/e/x")),
            ErrorKind::AlreadyExists,
            "create_dir(object)",
        );
        b.remove("d/e/x").expect("delete");
    }
    b.remove_dir(&p("d/e")).expect("remove empty dir");
    b.remove_dir(&p("d/e")).expect("remove missing dir is Ok");
    if caps(b).stat {
        expect_kind(b.stat(&p("d/e")), ErrorKind::NotFound, "stat removed dir");
    }
    Ok(())
}
