//! Server-side operations between two file backends, `set_modified`, and the listing options
//! served natively by the walk.

use omnistorage::conformance::TempDir;
use omnistorage::{Backend, BackendExt, ErrorKind, FileBackend, Path};

use super::setup;

fn names(list: omnistorage::List) -> Vec<(String, bool)> {
    list.map(|e| e.map(|e| (e.path.to_string(), e.is_dir)))
        .collect::<omnistorage::Result<_>>()
        .unwrap()
}

#[test]
fn copy_and_rename_between_two_roots_go_server_side_and_keep_the_time() {
    let dir = TempDir::new().unwrap();
    let a = FileBackend::new(dir.path().join("a")).unwrap();
    let b = FileBackend::new(dir.path().join("b")).unwrap();
    let (la, lb) = (a.location().unwrap(), b.location().unwrap());
    assert!(la.same_store(&lb) && la != lb);
    let when = std::time::UNIX_EPOCH + std::time::Duration::new(1_600_000_000, 7);
    let p = |s: &str| Path::parse(s).unwrap();
    omnistorage::write_all(
        &a,
        &p("x/one"),
        &omnistorage::WriteOptions::new().modified(when),
        b"one",
    )
    .unwrap();
    let copied = b.copy_from(&la, &p("x/one"), &p("y/copy")).unwrap();
    assert_eq!((copied.size, copied.modified), (3, Some(when)));
    assert_eq!(
        copied,
        b.stat(&p("y/copy")).unwrap(),
        "no second lookup needed"
    );
    assert_eq!(b.read_to_vec("y/copy").unwrap(), b"one");
    let moved = b.rename_from(&la, &p("x/one"), &p("y/moved")).unwrap();
    assert_eq!(moved, b.stat(&p("y/moved")).unwrap());
    assert!(!a.contains("x/one").unwrap());
    // copy_path finds the server-side way by itself.
    a.write_all("z", b"zz").unwrap();
    let e = omnistorage::copy_path(&a, &p("z"), &b, &p("z")).unwrap();
    assert_eq!(e.size, 2);
    // A missing source is NotFound and creates nothing.
    let err = b.copy_from(&la, &p("missing"), &p("m")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(!b.contains("m").unwrap());
    // Another store is not served.
    let other = omnistorage::Location::new("mem", "x", "");
    let err = b.copy_from(&other, &p("z"), &p("m")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}

#[cfg(unix)]
#[test]
fn copy_from_resolves_the_source_under_its_own_root_and_refuses_symlinks() {
    let dir = TempDir::new().unwrap();
    let a = FileBackend::new(dir.path().join("a")).unwrap();
    let b = FileBackend::new(dir.path().join("b")).unwrap();
    let p = |s: &str| Path::parse(s).unwrap();
    std::fs::write(dir.path().join("secret"), b"secret").unwrap();
    a.write_all("real", b"r").unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret"), dir.path().join("a/out")).unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("a/up")).unwrap();
    let la = a.location().unwrap();
    for from in ["out", "up/secret"] {
        let err = b.copy_from(&la, &p(from), &p("got")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{from}: {err}");
        let err = b.rename_from(&la, &p(from), &p("got")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{from}: {err}");
    }
    assert!(!b.contains("got").unwrap());
    assert_eq!(std::fs::read(dir.path().join("secret")).unwrap(), b"secret");
    // Reserved names are refused on the source side too.
    let err = b
        .copy_from(&la, &p(".omnistorage-tmp-1-2-3"), &p("got"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidPath);
}

#[test]
fn set_modified_changes_only_the_time() {
    let (dir, b) = setup();
    let p = Path::parse("t").unwrap();
    b.write_all("t", b"data").unwrap();
    assert!(b.capabilities().set_modified);
    let when = std::time::UNIX_EPOCH + std::time::Duration::new(1_400_000_000, 123);
    let e = b.set_modified(&p, when).unwrap();
    assert_eq!((e.size, e.modified), (4, Some(when)));
    let on_disk = std::fs::metadata(dir.path().join("root/t")).unwrap();
    assert_eq!(on_disk.modified().unwrap(), when);
    assert_eq!(b.read_to_vec("t").unwrap(), b"data");
    let err = b
        .set_modified(&Path::parse("missing").unwrap(), when)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[cfg(target_os = "linux")]
#[test]
fn start_after_skips_subtrees_without_reading_them() {
    use std::os::unix::ffi::OsStrExt;
    let (dir, b) = setup();
    for p in ["a/1", "a/2", "b/1", "b/c/1", "b/c/2", "c"] {
        b.write_all(p, b"x").unwrap();
    }
    // A name that is one `Err` item whenever its directory is read.
    let bad = std::ffi::OsStr::from_bytes(b"bad\xff");
    std::fs::write(dir.path().join("root/a").join(bad), b"x").unwrap();
    let list = |start: &str| {
        names(
            b.list(
                &Path::root(),
                &omnistorage::ListOptions::new().start_after(Path::parse(start).unwrap()),
            )
            .unwrap(),
        )
    };
    let files = |v: &[&str]| v.iter().map(|s| (s.to_string(), false)).collect::<Vec<_>>();
    // "a" is never read: no error from its bad name ("a/" sorts before "a0").
    assert_eq!(list("a0"), files(&["b/1", "b/c/1", "b/c/2", "c"]));
    assert_eq!(list("b/c/1"), files(&["b/c/2", "c"]));
    assert_eq!(list("b"), files(&["b/1", "b/c/1", "b/c/2", "c"]));
    assert_eq!(list("c"), files(&[]));
    // Under a prefix, and one level.
    let one = b
        .list(
            &Path::parse("b").unwrap(),
            &omnistorage::ListOptions::new()
                .recursive(false)
                .start_after(Path::parse("b/1").unwrap()),
        )
        .unwrap();
    assert_eq!(names(one), [("b/c".to_string(), true)]);
}

#[cfg(target_os = "linux")]
#[test]
fn one_level_lists_directories_and_reads_no_subdirectory() {
    use std::os::unix::ffi::OsStrExt;
    let (dir, b) = setup();
    for p in ["a.txt", "a/x", "a0", "d/e/f"] {
        b.write_all(p, b"x").unwrap();
    }
    std::fs::create_dir(dir.path().join("root/empty")).unwrap();
    let bad = std::ffi::OsStr::from_bytes(b"bad\xff");
    std::fs::write(dir.path().join("root/d").join(bad), b"x").unwrap();
    let top = b
        .list(
            &Path::root(),
            &omnistorage::ListOptions::new().recursive(false),
        )
        .unwrap();
    // "a/" sorts after "a.txt" and before "a0"; an empty directory is a directory too; "d"
    // is not read (no error from its bad name).
    let expected = [
        ("a.txt", false),
        ("a", true),
        ("a0", false),
        ("d", true),
        ("empty", true),
    ]
    .map(|(p, d)| (p.to_string(), d));
    assert_eq!(names(top), expected);
}

#[test]
fn cancelled_listing_ends_with_one_cancelled_error() {
    let (_dir, b) = setup();
    for p in ["a/1", "b/1", "c/1"] {
        b.write_all(p, b"x").unwrap();
    }
    let cancel = omnistorage::Cancel::new();
    let mut list = b
        .list(
            &Path::root(),
            &omnistorage::ListOptions::new().cancel(&cancel),
        )
        .unwrap();
    assert_eq!(list.next().unwrap().unwrap().path.as_str(), "a/1");
    cancel.cancel();
    let rest: Vec<_> = list.collect();
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0].as_ref().unwrap_err().kind(), ErrorKind::Cancelled);
}
