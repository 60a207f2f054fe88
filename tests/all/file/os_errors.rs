//! OS errors during writes. These run a child copy of this test binary under a limit.

use std::io::Write;
use std::process::Command;

use omnistorage::conformance::TempDir;
use omnistorage::{BackendExt, ErrorKind, FileBackend};

use super::{CHILD_ENV, files_on_disk, setup};

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
        "file::os_errors::write_past_file_size_limit_keeps_old_object",
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
            "file::os_errors::permission_denied_stays_permission_denied",
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
