//! `dedupe`: identical content found by size then hash; each mode keeps one and never
//! touches an object whose content is unique.

use omnistorage::sync::{self, DedupeMode, Options};
use omnistorage::{BackendExt, MemoryBackend, Path};

use super::{names, p, put, t};

/// `x1`..`x3` equal (times 3, 1, 2), `y1`,`y2` equal, `z` of the same size as the x's but
/// other bytes, `u` unique.
fn store() -> MemoryBackend {
    let b = MemoryBackend::new();
    put(&b, "a/x1", b"xxxx", t(3));
    put(&b, "b/x2.txt", b"xxxx", t(1));
    put(&b, "c/x3", b"xxxx", t(2));
    put(&b, "y1", b"yy", t(1));
    put(&b, "d/y2", b"yy", t(1));
    put(&b, "z", b"zzzz", t(1));
    put(&b, "u", b"unique", t(1));
    b
}

fn run(b: &MemoryBackend, mode: DedupeMode, opts: &Options) -> sync::DedupeReport {
    let r = sync::dedupe(b, &Path::root(), mode, opts).expect("dedupe");
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    r
}

#[test]
fn list_finds_the_groups_and_changes_nothing() {
    let b = store();
    let r = run(&b, DedupeMode::List, &Options::new());
    let groups: Vec<Vec<String>> = r
        .groups
        .iter()
        .map(|g| g.paths.iter().map(|p| p.to_string()).collect())
        .collect();
    assert_eq!(
        groups,
        [vec!["a/x1", "b/x2.txt", "c/x3"], vec!["d/y2", "y1"]]
    );
    assert!(r.groups.iter().all(|g| g.kept.is_none()));
    assert_eq!(names(&b, "").len(), 7);
}

#[test]
fn keep_first_deletes_the_others() {
    let b = store();
    let r = run(&b, DedupeMode::KeepFirst, &Options::new());
    assert_eq!(r.deleted, 3);
    assert_eq!(names(&b, ""), ["a/x1", "d/y2", "u", "z"]);
}

#[test]
fn keep_newest_and_oldest_go_by_time() {
    let b = store();
    let r = run(&b, DedupeMode::KeepNewest, &Options::new());
    assert_eq!(r.groups[0].kept, Some(p("a/x1")));
    assert!(b.contains("a/x1").unwrap() && !b.contains("c/x3").unwrap());
    let b = store();
    let r = run(&b, DedupeMode::KeepOldest, &Options::new());
    assert_eq!(r.groups[0].kept, Some(p("b/x2.txt")));
    assert!(b.contains("b/x2.txt").unwrap() && !b.contains("a/x1").unwrap());
    // Equal times: the first path.
    assert_eq!(r.groups[1].kept, Some(p("d/y2")));
}

#[test]
fn rename_keeps_every_byte_under_marked_names() {
    let b = store();
    put(&b, "b/x2-dup1.txt", b"taken name", t(1));
    let r = run(&b, DedupeMode::Rename, &Options::new());
    assert_eq!(r.deleted, 0);
    let renamed: Vec<(String, String)> = r
        .renamed
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(
        renamed,
        [
            ("b/x2.txt".to_string(), "b/x2-dup2.txt".to_string()),
            ("c/x3".to_string(), "c/x3-dup1".to_string()),
            ("y1".to_string(), "y1-dup1".to_string()),
        ]
    );
    assert_eq!(b.read_to_vec("b/x2-dup2.txt").unwrap(), b"xxxx");
    assert_eq!(b.read_to_vec("b/x2-dup1.txt").unwrap(), b"taken name");
}

#[test]
fn dry_run_reports_without_deleting() {
    let b = store();
    let r = run(&b, DedupeMode::KeepFirst, &Options::new().dry_run(true));
    assert_eq!(r.deleted, 3);
    assert_eq!(names(&b, "").len(), 7);
}

#[test]
fn a_missing_root_is_not_found() {
    let b = store();
    let err =
        sync::dedupe(&b, &p("nope"), DedupeMode::KeepFirst, &Options::new()).expect_err("missing");
    assert_eq!(err.kind(), omnistorage::ErrorKind::NotFound);
}
