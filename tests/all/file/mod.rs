//! The file backend's own contracts: confinement to the root and staged writes on disk here;
//! OS errors (`os_errors.rs`), server-side operations and listing options (`options.rs`),
//! staged files left by a crash (`reclaim.rs`).

mod handles;
mod options;
mod os_errors;
mod reclaim;

use std::io::Write;

use omnistorage::conformance::TempDir;
use omnistorage::{Backend, BackendExt, ErrorKind, FileBackend, Path};

/// Whether a new object in an existing directory is staged without a name (`O_TMPFILE`,
/// where directory handles are used).
const ANONYMOUS_STAGING: bool = cfg!(all(feature = "openat2", target_os = "linux"));

fn setup() -> (TempDir, FileBackend) {
    let dir = TempDir::new().unwrap();
    let backend = FileBackend::new(dir.path().join("root")).unwrap();
    std::fs::create_dir(dir.path().join("root")).unwrap();
    (dir, backend)
}

/// Every file under `dir`, relative, sorted (to see staged files that should not be there).
fn files_on_disk(dir: &std::path::Path) -> Vec<String> {
    fn walk(base: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let path = e.path();
            if e.file_type().unwrap().is_dir() {
                walk(base, &path, out);
            } else {
                out.push(path.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn hostile_paths_are_invalid() {
    let (dir, b) = setup();
    std::fs::write(dir.path().join("outside"), b"secret").unwrap();
    for path in [
        "../outside",
        "/etc/passwd",
        "a//b",
        "a/./b",
        "a/../../outside",
        "a\0b",
        "",
    ] {
        let err = b.write_all(path, b"x").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidPath, "{path:?}: {err}");
        if !path.is_empty() {
            let err = b.read_to_vec(path).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidPath, "{path:?}: {err}");
        }
    }
    assert_eq!(files_on_disk(dir.path()), ["outside"]);
}

#[cfg(unix)]
#[test]
fn symlinked_directory_pointing_out_is_refused() {
    let (dir, b) = setup();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret"), b"secret").unwrap();
    std::os::unix::fs::symlink(&outside, dir.path().join("root/link")).unwrap();

    let err = b.read_to_vec("link/secret").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    assert!(err.to_string().contains("symlink"), "{err}");
    let err = b.write_all("link/planted", b"x").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    let err = b.write_all("link/new/deeper", b"x").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    let err = b.remove("link/secret").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    let ext = &b;
    let p = |s: &str| Path::parse(s).unwrap();
    b.write_all("inside", b"x").unwrap();
    assert_eq!(
        ext.copy(&p("inside"), &p("link/copied"))
            .unwrap_err()
            .kind(),
        ErrorKind::PermissionDenied
    );
    assert_eq!(
        ext.rename(&p("inside"), &p("link/moved"))
            .unwrap_err()
            .kind(),
        ErrorKind::PermissionDenied
    );
    assert_eq!(
        ext.stat(&p("link/secret")).unwrap_err().kind(),
        ErrorKind::PermissionDenied
    );
    assert_eq!(
        ext.create_dir(&p("link/d")).unwrap_err().kind(),
        ErrorKind::PermissionDenied
    );

    // Nothing was written outside, and listing does not follow the link.
    assert_eq!(files_on_disk(&outside), ["secret"]);
    assert_eq!(std::fs::read(outside.join("secret")).unwrap(), b"secret");
    let listed: Vec<String> = b
        .list_all("")
        .unwrap()
        .into_iter()
        .map(|e| e.path.to_string())
        .collect();
    assert_eq!(listed, ["inside"]);
    assert!(b.list_all("link").unwrap().is_empty());
}

#[cfg(unix)]
#[test]
fn symlinked_file_is_refused_whether_it_points_in_or_out() {
    let (dir, b) = setup();
    std::fs::write(dir.path().join("outside"), b"secret").unwrap();
    b.write_all("real", b"inside data").unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside"), dir.path().join("root/out")).unwrap();
    std::os::unix::fs::symlink("real", dir.path().join("root/in")).unwrap();
    for link in ["out", "in"] {
        let err = b.read_to_vec(link).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{link}: {err}");
        let err = b.write_all(link, b"overwrite").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{link}: {err}");
        assert!(!b.contains(link).is_ok_and(|x| x), "{link}");
    }
    assert_eq!(
        std::fs::read(dir.path().join("outside")).unwrap(),
        b"secret"
    );
    let listed: Vec<String> = b
        .list_all("")
        .unwrap()
        .into_iter()
        .map(|e| e.path.to_string())
        .collect();
    assert_eq!(listed, ["real"]);
}

#[cfg(unix)]
#[test]
fn root_given_through_a_symlink_is_resolved_once() {
    let dir = TempDir::new().unwrap();
    std::fs::create_dir(dir.path().join("real")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("alias")).unwrap();
    let b = FileBackend::new(dir.path().join("alias")).unwrap();
    b.write_all("x", b"1").unwrap();
    assert_eq!(std::fs::read(dir.path().join("real/x")).unwrap(), b"1");
    assert_eq!(
        b.root(),
        std::fs::canonicalize(dir.path().join("real")).unwrap()
    );
}

#[test]
fn staged_names_are_reserved_and_stale_ones_ignored() {
    let (dir, b) = setup();
    let err = b.write_all(".omnistorage-tmp-123", b"x").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidPath);
    let err = b.read_to_vec("d/.omnistorage-tmp-123").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidPath);
    // Errors name entries relative to the root, never by a path on this machine.
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let bad = std::ffi::OsStr::from_bytes(b"bad\xff");
        std::fs::create_dir_all(dir.path().join("root/e")).unwrap();
        std::fs::write(dir.path().join("root/e").join(bad), b"x").unwrap();
        let err = b.list_all("e").unwrap_err();
        assert_eq!(err.path(), Some("e/bad\u{fffd}"), "{err:?}");
        std::fs::remove_dir_all(dir.path().join("root/e")).unwrap();
    }
    // A staged file left by a crash is neither listed nor an object.
    std::fs::create_dir(dir.path().join("root/d")).unwrap();
    std::fs::write(dir.path().join("root/d/.omnistorage-tmp-1-2-3"), b"partial").unwrap();
    b.write_all("d/real", b"ok").unwrap();
    let listed: Vec<String> = b
        .list_all("")
        .unwrap()
        .into_iter()
        .map(|e| e.path.to_string())
        .collect();
    assert_eq!(listed, ["d/real"]);
    // A similar but unreserved name is an ordinary object.
    b.write_all(".omnistorage-tm", b"fine").unwrap();
    assert_eq!(b.read_to_vec(".omnistorage-tm").unwrap(), b"fine");
}

#[test]
fn writer_stages_beside_the_target_and_cleans_up() {
    let (dir, b) = setup();
    let root = dir.path().join("root");
    b.write_all("a/old", b"old").unwrap();
    let mut w = b.open_writer("a/new").unwrap();
    w.write_all(&vec![1u8; 300_000]).unwrap();
    w.flush().unwrap();
    let on_disk = files_on_disk(&root);
    if ANONYMOUS_STAGING {
        // A new object is staged without a name: nothing is seen until it is complete.
        assert_eq!(on_disk, ["a/old"]);
    } else {
        assert_eq!(on_disk.len(), 2, "{on_disk:?}");
        assert!(on_disk[0].starts_with("a/.omnistorage-tmp-"), "{on_disk:?}");
    }
    drop(w);
    assert_eq!(files_on_disk(&root), ["a/old"]);

    // Replacing an object stages under a name beside it.
    let mut w = b.open_writer("a/old").unwrap();
    w.write_all(b"new").unwrap();
    w.flush().unwrap();
    let on_disk = files_on_disk(&root);
    assert_eq!(on_disk.len(), 2, "{on_disk:?}");
    assert!(on_disk[0].starts_with("a/.omnistorage-tmp-"), "{on_disk:?}");
    drop(w);
    assert_eq!(files_on_disk(&root), ["a/old"]);

    let mut w = b.open_writer("a/old").unwrap();
    w.write_all(b"new").unwrap();
    w.abort().unwrap();
    assert_eq!(files_on_disk(&root), ["a/old"]);
    assert_eq!(std::fs::read(root.join("a/old")).unwrap(), b"old");

    let mut w = b.open_writer("a/old").unwrap();
    w.write_all(b"new").unwrap();
    w.finish().unwrap();
    assert_eq!(files_on_disk(&root), ["a/old"]);
    assert_eq!(std::fs::read(root.join("a/old")).unwrap(), b"new");
}

#[test]
fn modified_time_lands_on_disk() {
    let (dir, b) = setup();
    let when = std::time::UNIX_EPOCH + std::time::Duration::new(1_500_000_000, 5);
    let mut w = b
        .writer(
            &Path::parse("t").unwrap(),
            &omnistorage::WriteOptions::new().modified(when),
        )
        .unwrap();
    w.write_all(b"x").unwrap();
    w.finish().unwrap();
    let on_disk = std::fs::metadata(dir.path().join("root/t"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(on_disk, when);
}

#[test]
fn object_in_the_way_of_a_directory() {
    let (_dir, b) = setup();
    b.write_all("a", b"file").unwrap();
    let err = b.write_all("a/b", b"x").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotADirectory, "{err}");
    let err = b.read_to_vec("a/b").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    b.write_all("d/x", b"x").unwrap();
    let err = b.write_all("d", b"x").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::IsADirectory, "{err}");
    let err = b.read_to_vec("d").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::IsADirectory, "{err}");
    let err = b.remove("d").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::IsADirectory, "{err}");
}

#[test]
fn special_files_are_not_listed() {
    let (dir, b) = setup();
    b.write_all("f", b"x").unwrap();
    std::fs::create_dir(dir.path().join("root/empty-dir")).unwrap();
    #[cfg(unix)]
    {
        let _sock = std::os::unix::net::UnixListener::bind(dir.path().join("root/sock")).unwrap();
        let listed: Vec<String> = b
            .list_all("")
            .unwrap()
            .into_iter()
            .map(|e| e.path.to_string())
            .collect();
        assert_eq!(listed, ["f"]);
        let err = b.read_to_vec("sock").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn non_utf8_names_are_one_error_item_and_the_walk_goes_on() {
    use std::os::unix::ffi::OsStrExt;
    let (dir, b) = setup();
    b.write_all("a", b"1").unwrap();
    b.write_all("z", b"2").unwrap();
    let bad = std::ffi::OsStr::from_bytes(b"bad\xff");
    std::fs::write(dir.path().join("root").join(bad), b"x").unwrap();
    std::fs::write(dir.path().join("root/ctl\x01"), b"x").unwrap();
    let items: Vec<_> = b
        .list(&Path::root(), &omnistorage::ListOptions::new())
        .unwrap()
        .collect();
    let ok: Vec<String> = items
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|e| e.path.to_string())
        .collect();
    let errs: Vec<ErrorKind> = items
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|e| e.kind())
        .collect();
    assert_eq!(ok, ["a", "z"]);
    assert_eq!(errs, [ErrorKind::InvalidPath, ErrorKind::InvalidPath]);
}

#[test]
fn a_file_as_root_is_not_a_directory() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("f"), b"x").unwrap();
    let err = FileBackend::new(dir.path().join("f")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotADirectory);
}

#[test]
fn listing_is_lazy_and_sees_one_directory_at_a_time() {
    // Deleting a directory that the walk has not reached yet: the walk skips it quietly,
    // which shows it had not read it in advance.
    let (dir, b) = setup();
    b.write_all("a/1", b"").unwrap();
    b.write_all("b/1", b"").unwrap();
    let mut list = b
        .list(&Path::root(), &omnistorage::ListOptions::new())
        .unwrap();
    assert_eq!(list.next().unwrap().unwrap().path.as_str(), "a/1");
    std::fs::remove_dir_all(dir.path().join("root/b")).unwrap();
    let rest: Vec<_> = list.collect();
    assert!(
        rest.iter()
            .all(|r| r.as_ref().is_err_and(|e| e.kind() == ErrorKind::NotFound)),
        "{rest:?}"
    );
}

/// Set in a child copy of this test binary: the directory the child works in.
const CHILD_ENV: &str = "OMNISTORAGE_TEST_CHILD_DIR";
