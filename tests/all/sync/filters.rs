//! Filters in a run: excluded objects are neither copied nor deleted (unless
//! `delete_excluded`), excluded directories are never listed, files-from, sizes.

use omnistorage::conformance::TempDir;
use omnistorage::sync::filter::Filter;
use omnistorage::sync::{self, Options};
use omnistorage::{BackendExt, FileBackend, MemoryBackend, Path};

use super::{Counting, names, put, t};

fn trees() -> (MemoryBackend, MemoryBackend) {
    let (src, dst) = (MemoryBackend::new(), MemoryBackend::new());
    for name in [
        "a.jpg",
        "a.tmp",
        "keep/b.jpg",
        "skip/c.jpg",
        "skip/deep/d.jpg",
        "big.bin",
    ] {
        let data = if name == "big.bin" {
            vec![0u8; 5000]
        } else {
            name.as_bytes().to_vec()
        };
        put(&src, name, &data, t(1));
    }
    put(&dst, "old.tmp", b"excluded at the destination", t(1));
    put(&dst, "old.jpg", b"an extra", t(1));
    (src, dst)
}

fn run(src: &MemoryBackend, dst: &MemoryBackend, opts: &Options) -> sync::Report {
    let r = sync::sync(src, &Path::root(), dst, &Path::root(), opts).expect("sync");
    assert!(r.is_ok(), "{:?}", r.failures);
    r
}

#[test]
fn excluded_objects_are_not_copied_and_not_deleted() {
    let (src, dst) = trees();
    let f = Filter::builder()
        .exclude("*.tmp")
        .exclude("/skip/")
        .build()
        .expect("filter");
    let r = run(&src, &dst, &Options::new().filter(f));
    assert_eq!((r.copied, r.deleted), (3, 1));
    assert_eq!(
        names(&dst, ""),
        ["a.jpg", "big.bin", "keep/b.jpg", "old.tmp"]
    );
}

#[test]
fn delete_excluded_deletes_excluded_objects_at_the_destination() {
    let (src, dst) = trees();
    let f = Filter::builder().exclude("*.tmp").build().expect("filter");
    let r = run(&src, &dst, &Options::new().filter(f).delete_excluded(true));
    assert_eq!(r.deleted, 2);
    assert!(!dst.contains("old.tmp").expect("exists"));
}

#[test]
fn an_include_rule_excludes_everything_else() {
    let (src, dst) = trees();
    let f = Filter::builder().include("*.jpg").build().expect("filter");
    let r = run(&src, &dst, &Options::new().filter(f));
    assert_eq!(r.copied, 4);
    assert!(!dst.contains("big.bin").expect("exists"));
}

#[test]
fn a_filter_file_with_first_match_wins() {
    let (src, dst) = trees();
    let rules = "# photos but not under skip\n- /skip/**\n+ *.jpg\n- *\n";
    let f = Filter::builder()
        .filter_from(rules, "rules.txt")
        .build()
        .expect("filter");
    let r = run(&src, &dst, &Options::new().filter(f));
    assert_eq!(r.copied, 2);
    assert_eq!(names(&dst, ""), ["a.jpg", "keep/b.jpg", "old.tmp"]);
}

#[test]
fn files_from_copies_only_the_listed_paths() {
    let (src, dst) = trees();
    let f = Filter::builder()
        .files_from("keep/b.jpg\n# a comment\n/a.tmp\nmissing.jpg\n", "list")
        .build()
        .expect("filter");
    let r = run(&src, &dst, &Options::new().filter(f));
    assert_eq!(r.copied, 2);
    assert!(dst.contains("keep/b.jpg").expect("exists") && dst.contains("a.tmp").expect("exists"));
}

#[test]
fn size_limits_select_objects() {
    let (src, dst) = trees();
    let f = Filter::builder().min_size(1000).build().expect("filter");
    let r = run(&src, &dst, &Options::new().filter(f));
    assert_eq!(r.copied, 1);
    assert!(dst.contains("big.bin").expect("exists"));
}

#[test]
fn an_excluded_directory_is_never_listed() {
    let (a, b) = (TempDir::new().expect("tmp"), TempDir::new().expect("tmp"));
    let src = Counting::new(FileBackend::new(a.path()).expect("file"));
    let dst = FileBackend::new(b.path()).expect("file");
    for name in ["x/1", "skip/2", "skip/deeper/3", "y/z/4"] {
        put(&src.inner, name, b"data", t(1));
    }
    let f = Filter::builder().exclude("/skip/").build().expect("filter");
    let r = sync::sync(
        &src,
        &Path::root(),
        &dst,
        &Path::root(),
        &Options::new().filter(f),
    )
    .expect("sync");
    assert!(r.is_ok());
    assert_eq!(r.copied, 2);
    let listed = src.lists.lock().unwrap().clone();
    assert!(listed.iter().any(|p| p == "x"), "{listed:?}");
    assert!(!listed.iter().any(|p| p.starts_with("skip")), "{listed:?}");
}

#[test]
fn an_invalid_rule_is_an_error_naming_it_and_its_line() {
    let err = Filter::builder()
        .filter_from("+ *.jpg\n- a***b\n", "rules.txt")
        .build()
        .expect_err("invalid");
    assert_eq!(err.kind(), omnistorage::ErrorKind::InvalidInput);
    let text = err.to_string();
    assert!(
        text.contains("rules.txt") && text.contains('2') && text.contains("a***b"),
        "{text}"
    );
}
