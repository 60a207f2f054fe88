//! [`ListOptions`]: starting after a path, listing one level, and cancelling a listing.

use super::support::*;
use crate::{Backend, Cancel, ErrorKind, ListOptions};

/// Objects that exercise the order around `/`: `b-c` and `b.c` sort before `b/`, `b0` after.
const TREE: [&str; 9] = [
    "t/a", "t/b-c", "t/b.c", "t/b/1", "t/b/2", "t/b/d/3", "t/b0", "t/c/4", "top",
];

fn plant(b: &dyn Backend) {
    for path in TREE {
        put(b, path, path.as_bytes());
    }
}

fn after(start: &str) -> ListOptions {
    ListOptions::new().start_after(p(start))
}

fn one_level() -> ListOptions {
    ListOptions::new().recursive(false)
}

/// `start_after` lists only what sorts strictly after it: not the path itself, nothing
/// before it; a start that names no object works the same.
pub fn list_start_after_is_strict(b: &dyn Backend) -> Outcome {
    need_rwl(b)?;
    plant(b);
    let names = |opts| keys(&listing(b, "", &opts));
    assert_eq!(
        names(after("t/b/1")),
        ["t/b/2", "t/b/d/3", "t/b0", "t/c/4", "top"]
    );
    assert_eq!(
        names(after("t/b/10")),
        ["t/b/2", "t/b/d/3", "t/b0", "t/c/4", "top"]
    );
    assert_eq!(names(after("top")), Vec::<String>::new());
    assert_eq!(names(after("zzz")), Vec::<String>::new());
    assert_eq!(names(after("0")), TREE);
    Ok(())
}

/// Resuming a listing after any entry it yielded gives exactly the rest, at the root and
/// under a prefix.
pub fn list_start_after_resumes(b: &dyn Backend) -> Outcome {
    need_rwl(b)?;
    plant(b);
    for prefix in ["", "t", "t/b"] {
        let all = keys(&listing(b, prefix, &ListOptions::new()));
        assert!(!all.is_empty());
        for (i, start) in all.iter().enumerate() {
            let rest = keys(&listing(b, prefix, &after(start)));
            assert_eq!(rest, all[i + 1..], "list {prefix:?} after {start:?}");
        }
    }
    Ok(())
}

/// Under a prefix, `start_after` before the prefix lists all of it, after it nothing, and
/// inside a subtree what follows there (the prefix still bounds the listing).
pub fn list_start_after_under_a_prefix(b: &dyn Backend) -> Outcome {
    need_rwl(b)?;
    plant(b);
    let names = |prefix, opts| keys(&listing(b, prefix, &opts));
    let all_b = ["t/b/1", "t/b/2", "t/b/d/3"];
    assert_eq!(names("t/b", after("a")), all_b);
    assert_eq!(names("t/b", after("t/b")), all_b);
    assert_eq!(names("t/b", after("t/b-c")), all_b);
    assert_eq!(names("t/b", after("t/b/1")), ["t/b/2", "t/b/d/3"]);
    assert_eq!(names("t/b", after("t/b/d")), ["t/b/d/3"]);
    assert_eq!(names("t/b", after("t/b/d/3")), Vec::<String>::new());
    assert_eq!(names("t/b", after("t/b0")), Vec::<String>::new());
    assert_eq!(names("t/b", after("u")), Vec::<String>::new());
    // A prefix naming an object: starting after it leaves it out.
    assert_eq!(names("t/a", after("t/a")), Vec::<String>::new());
    assert_eq!(names("t/a", after("t")), ["t/a"]);
    Ok(())
}

/// Not recursive: the objects directly under the prefix and one directory entry per
/// directory, in order with a directory sorting as `name/`.
pub fn list_one_level(b: &dyn Backend) -> Outcome {
    need_rwl(b)?;
    plant(b);
    let entries = listing(b, "t", &one_level());
    assert_eq!(
        keys(&entries),
        ["t/a", "t/b-c", "t/b.c", "t/b/", "t/b0", "t/c/"]
    );
    for e in &entries {
        if e.is_dir {
            assert_eq!(e.size, 0, "{}: a directory has size 0", e.path);
        } else {
            assert_eq!(e.size, e.path.as_str().len() as u64, "{}", e.path);
        }
    }
    assert_eq!(keys(&listing(b, "", &one_level())), ["t/", "top"]);
    assert_eq!(
        keys(&listing(b, "t/b", &one_level())),
        ["t/b/1", "t/b/2", "t/b/d/"]
    );
    assert_eq!(keys(&listing(b, "t/b/d", &one_level())), ["t/b/d/3"]);
    Ok(())
}

/// Not recursive, a prefix naming an object lists that object (and what is under it, if the
/// store allows both); a missing prefix lists nothing.
pub fn list_one_level_prefix_itself_and_missing(b: &dyn Backend) -> Outcome {
    need_rwl(b)?;
    plant(b);
    assert_eq!(keys(&listing(b, "t/a", &one_level())), ["t/a"]);
    assert_eq!(keys(&listing(b, "top", &one_level())), ["top"]);
    assert!(listing(b, "absent", &one_level()).is_empty());
    assert!(listing(b, "t/b/absent", &one_level()).is_empty());
    assert!(listing(b, "t/a/below-an-object", &one_level()).is_empty());
    Ok(())
}

/// Not recursive, with `start_after`: only the entries that sort strictly after it, a
/// directory as `name/`. A start inside a directory's subtree leaves that directory out
/// (it sorts before the start); resuming after an object gives exactly the rest.
pub fn list_one_level_start_after(b: &dyn Backend) -> Outcome {
    need_rwl(b)?;
    plant(b);
    let names = |prefix, start| keys(&listing(b, prefix, &one_level().start_after(p(start))));
    assert_eq!(names("t", "t/b.c"), ["t/b/", "t/b0", "t/c/"]);
    assert_eq!(names("t", "t/b/1"), ["t/b0", "t/c/"]);
    assert_eq!(names("t", "t/b/d/3"), ["t/b0", "t/c/"]);
    assert_eq!(names("", "t/b/1"), ["top"]);
    assert_eq!(names("", "s"), ["t/", "top"]);
    let all = listing(b, "t", &one_level());
    for (i, entry) in all.iter().enumerate().filter(|(_, e)| !e.is_dir) {
        assert_eq!(
            names("t", entry.path.as_str()),
            keys(&all[i + 1..]),
            "one level after {}",
            entry.path
        );
    }
    Ok(())
}

/// A listing whose token is cancelled yields one `Cancelled` error, then ends: when
/// cancelled before it starts, and in the middle (more objects than a page).
pub fn list_cancelled_ends_with_one_error(b: &dyn Backend) -> Outcome {
    need_rwl(b)?;
    for i in 0..300 {
        put(b, &format!("cx/{i:03}"), b"");
    }
    for recursive in [true, false] {
        let cancel = Cancel::new();
        cancel.cancel();
        let opts = ListOptions::new().recursive(recursive).cancel(&cancel);
        let mut list = b.list(&p("cx"), &opts).expect("list");
        expect_kind(
            list.next().expect("an item"),
            ErrorKind::Cancelled,
            "cancelled list",
        );
        assert!(list.next().is_none(), "the listing ends after Cancelled");

        let cancel = Cancel::new();
        let opts = ListOptions::new().recursive(recursive).cancel(&cancel);
        let mut list = b.list(&p("cx"), &opts).expect("list");
        list.next().expect("an item").expect("the first entry");
        cancel.cancel();
        expect_kind(
            list.next().expect("an item"),
            ErrorKind::Cancelled,
            "cancelled in the middle",
        );
        assert!(list.next().is_none(), "the listing ends after Cancelled");
    }
    Ok(())
}
