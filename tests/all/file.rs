//! The file backend's own contracts: confinement to the root, staged writes on disk, OS errors.

use std::io::Write;
use std::process::Command;

use omnistorage::conformance::TempDir;
use omnistorage::{Backend, BackendExt, ErrorKind, FileBackend, Path};

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

// ---------------------------------------------------------------------------------------------
// OS errors during writes. These run a child copy of this test binary under a limit.

const CHILD_ENV: &str = "OMNISTORAGE_TEST_CHILD_DIR";
const CHILD_OK: &str = "child-checks-passed";

/// Runs the test `name` of this binary again, as a child, with `CHILD_ENV` set to `dir`, under
/// the shell prefix `wrap` (for example `ulimit -f 64;`). Returns its stdout.
fn run_child(name: &str, dir: &std::path::Path, pre: &[&str], wrap: &str) -> String {
    let exe = std::env::current_exe().unwrap();
    let script = format!("{wrap} exec \"$0\" \"$@\"");
    let out = Command::new(pre.first().copied().unwrap_or("sh"))
        .args(pre.iter().skip(1))
        .args(if pre.is_empty() { vec![] } else { vec!["sh"] })
        .arg("-c")
        .arg(script)
        .arg(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed: {stdout}\n{stderr}");
    assert!(
        stdout.contains(CHILD_OK),
        "the child did not run its checks: {stdout}\n{stderr}"
    );
    stdout
}

/// In the child: overwrite `k` with more than the limit allows; the write or the commit must
/// fail, and the error must keep the OS's kind.
fn child_overwrite_fails(dir: &str, expected: std::io::ErrorKind) {
    let b = FileBackend::new(dir).unwrap();
    let mut w = b.open_writer("k").unwrap();
    let chunk = vec![7u8; 64 * 1024];
    let mut err = None;
    for _ in 0..32 {
        if let Err(e) = w.write_all(&chunk) {
            err = Some(omnistorage::Error::from(e));
            break;
        }
    }
    let err = match err {
        Some(e) => {
            // Poisoned: finish must refuse to commit.
            assert!(w.finish().is_err());
            e
        }
        None => w.finish().unwrap_err(),
    };
    assert_eq!(err.io_kind(), expected, "{err}");
    println!("{CHILD_OK}");
}

#[cfg(unix)]
#[test]
fn write_past_file_size_limit_keeps_old_object() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        return child_overwrite_fails(&dir, std::io::ErrorKind::FileTooLarge);
    }
    let (dir, b) = setup();
    b.write_all("k", b"old").unwrap();
    // 100 KiB file size limit; SIGXFSZ ignored so that write() returns EFBIG instead.
    run_child(
        "file::write_past_file_size_limit_keeps_old_object",
        &dir.path().join("root"),
        &[],
        "trap '' XFSZ; ulimit -f 100;",
    );
    assert_eq!(b.read_to_vec("k").unwrap(), b"old");
    assert_eq!(files_on_disk(&dir.path().join("root")), ["k"]);
}

fn running_as_root() -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self")
            .map(|m| m.uid() == 0)
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    false
}

#[cfg(target_os = "linux")]
#[test]
fn full_disk_keeps_old_object_and_leaves_no_partial_file() {
    let dir = TempDir::new().unwrap();
    let mnt = dir.path().join("small");
    std::fs::create_dir(&mnt).unwrap();
    if !running_as_root() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must run this test as root"
        );
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    }
    let status = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&mnt)
        .status()
        .unwrap();
    assert!(status.success(), "mount tmpfs");
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mnt.clone());
    let b = FileBackend::new(&mnt).unwrap();
    b.write_all("k", b"old").unwrap();
    let mut w = b.open_writer("k").unwrap();
    let mut failed = None;
    for _ in 0..16 {
        if let Err(e) = w.write_all(&[9u8; 64 * 1024]) {
            failed = Some(omnistorage::Error::from(e));
            break;
        }
    }
    let err = match failed {
        Some(e) => {
            assert!(w.finish().is_err(), "a poisoned writer must not commit");
            e
        }
        None => w.finish().unwrap_err(),
    };
    assert_eq!(err.io_kind(), std::io::ErrorKind::StorageFull, "{err}");
    assert_eq!(b.read_to_vec("k").unwrap(), b"old");
    assert_eq!(files_on_disk(&mnt), ["k"]);
}

#[cfg(target_os = "linux")]
#[test]
fn permission_denied_stays_permission_denied() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        let b = FileBackend::new(&dir).unwrap();
        assert_eq!(b.read_to_vec("k").unwrap(), b"old", "reading is allowed");
        let err = b.write_all("k", b"new").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
        let err = b.write_all("sub/new", b"new").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
        let err = b.remove("k").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
        println!("{CHILD_OK}");
        return;
    }
    let (dir, b) = setup();
    b.write_all("k", b"old").unwrap();
    let root = dir.path().join("root");
    if running_as_root() {
        // Root ignores permissions: run the checks as `nobody`, who may read but not write.
        use std::os::unix::fs::PermissionsExt;
        for p in [dir.path(), root.as_path()] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        run_child(
            "file::permission_denied_stays_permission_denied",
            &root,
            &[
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
            ],
            "",
        );
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o555)).unwrap();
        let err = b.write_all("k", b"new").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    assert_eq!(b.read_to_vec("k").unwrap(), b"old");
    assert_eq!(files_on_disk(&root), ["k"]);
}

// ---------------------------------------------------------------------------------------------
// Between two file backends, set_modified, native listing options.

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

// ---------------------------------------------------------------------------------------------
// Staged files left by a crash.

#[test]
fn a_live_writer_is_pending_and_never_reclaimed_in_this_process() {
    let (dir, b) = setup();
    let mut w = b.open_writer("d/k").unwrap();
    w.write_all(b"partial").unwrap();
    let pending: Vec<_> = b
        .pending_uploads(&Path::root())
        .unwrap()
        .collect::<omnistorage::Result<_>>()
        .unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].path.as_str(), "d/k");
    assert!(
        pending[0].id.starts_with("d/.omnistorage-tmp-"),
        "{pending:?}"
    );
    let err = b.abort_upload(&pending[0]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PreconditionFailed, "{err}");
    // Another backend value with no grace period stages into the same directory.
    let eager = FileBackend::new(dir.path().join("root"))
        .unwrap()
        .with_reclaim_after(Some(std::time::Duration::ZERO));
    eager.write_all("d/other", b"o").unwrap();
    w.finish().unwrap();
    assert_eq!(b.read_to_vec("d/k").unwrap(), b"partial");
    assert!(b.pending_uploads(&Path::root()).unwrap().next().is_none());
    // An id that is not a staged file's is refused, never deleted.
    let fake = omnistorage::PendingUpload::new(Path::parse("d/k").unwrap(), "d/k", None);
    assert_eq!(
        b.abort_upload(&fake).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert!(b.contains("d/k").unwrap());
}

const CHILD_READY: &str = "child-writer-ready";

/// In the child: opens a writer on `big` under the root, writes, says so, and waits to be
/// killed (reading stdin, which the parent never closes first).
fn child_writes_and_waits(dir: &str) {
    let b = FileBackend::new(dir).unwrap();
    let mut w = b.open_writer("d/big").unwrap();
    w.write_all(&vec![5u8; 1 << 20]).unwrap();
    w.flush().unwrap();
    println!("{CHILD_READY}");
    std::io::stdout().flush().unwrap();
    let mut sink = Vec::new();
    let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
    drop(w);
}

/// Starts the test `name` of this binary again as a child writer, and waits until it says
/// its writer is open.
fn spawn_writer_child(name: &str, dir: &std::path::Path) -> std::process::Child {
    use std::io::BufRead;
    use std::process::Stdio;
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let ready = std::io::BufReader::new(stdout)
        .lines()
        .map_while(|l| l.ok())
        .any(|l| l.contains(CHILD_READY));
    assert!(ready, "the child never opened its writer");
    child
}

fn kill(mut child: std::process::Child) {
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
}

#[cfg(unix)]
#[test]
fn staged_file_of_a_killed_writer_is_reclaimed() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        return child_writes_and_waits(&dir);
    }
    let (dir, b) = setup();
    let root = dir.path().join("root");
    b.write_all("d/big", b"old").unwrap();
    let child = spawn_writer_child("file::staged_file_of_a_killed_writer_is_reclaimed", &root);
    kill(child);
    // The killed writer left its staged file, which is not an object.
    let on_disk = files_on_disk(&root);
    assert_eq!(on_disk.len(), 2, "{on_disk:?}");
    assert_eq!(b.list_all("").unwrap().len(), 1);
    let pending: Vec<_> = b
        .pending_uploads(&Path::parse("d").unwrap())
        .unwrap()
        .collect::<omnistorage::Result<_>>()
        .unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].path.as_str(), "d/big");
    assert!(pending[0].started.is_some());
    // The default grace period (an hour) keeps it from an automatic sweep...
    b.write_all("d/x", b"x").unwrap();
    assert_eq!(files_on_disk(&root).len(), 3);
    b.delete(&Path::parse("d/x").unwrap()).unwrap();
    // ...and a writer with none reclaims it when it stages into that directory.
    let eager = FileBackend::new(&root)
        .unwrap()
        .with_reclaim_after(Some(std::time::Duration::ZERO));
    eager.write_all("d/y", b"y").unwrap();
    assert_eq!(files_on_disk(&root), ["d/big", "d/y"]);
    assert_eq!(b.read_to_vec("d/big").unwrap(), b"old");
    assert!(b.pending_uploads(&Path::root()).unwrap().next().is_none());
}

#[cfg(unix)]
#[test]
fn abort_upload_frees_a_killed_writers_file_but_never_a_live_ones() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        return child_writes_and_waits(&dir);
    }
    let (dir, b) = setup();
    let root = dir.path().join("root");
    let name = "file::abort_upload_frees_a_killed_writers_file_but_never_a_live_ones";
    let child = spawn_writer_child(name, &root);
    let eager = FileBackend::new(&root)
        .unwrap()
        .with_reclaim_after(Some(std::time::Duration::ZERO));
    let pending: Vec<_> = b
        .pending_uploads(&Path::parse("d/big").unwrap())
        .unwrap()
        .collect::<omnistorage::Result<_>>()
        .unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    // Alive in another process: neither abort_upload nor a sweep touches it.
    let err = b.abort_upload(&pending[0]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PreconditionFailed, "{err}");
    eager.write_all("d/z", b"z").unwrap();
    assert_eq!(files_on_disk(&root).len(), 2, "{:?}", files_on_disk(&root));
    kill(child);
    b.abort_upload(&pending[0]).unwrap();
    b.abort_upload(&pending[0]).unwrap(); // idempotent
    assert_eq!(files_on_disk(&root), ["d/z"]);
}
