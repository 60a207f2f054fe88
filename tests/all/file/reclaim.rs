//! Staged files left by a crash: listed, aborted, reclaimed, and never a live writer's.

use std::io::Write;
use std::process::Command;

use omnistorage::{Backend, BackendExt, ErrorKind, FileBackend, Path};

use super::{CHILD_ENV, files_on_disk, setup};

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
    // Several, in the order of the paths they are for (replacing objects: staged by name).
    for p in ["d/z", "d/a", "d/m/x", "c"] {
        b.write_all(p, b"before").unwrap();
    }
    assert_eq!(b.pending_uploads(&Path::root()).unwrap().count(), 1);
    let mut more: Vec<_> = ["d/z", "d/a", "d/m/x", "c"]
        .into_iter()
        .map(|p| b.open_writer(p).unwrap())
        .collect();
    let paths: Vec<String> = b
        .pending_uploads(&Path::root())
        .unwrap()
        .map(|u| u.unwrap().path.to_string())
        .collect();
    assert_eq!(paths, ["c", "d/a", "d/k", "d/m/x", "d/z"]);
    more.clear(); // aborts them
    // Another backend value with no grace period stages into the same directory.
    let eager = FileBackend::new(dir.path().join("root"))
        .unwrap()
        .with_reclaim_after(Some(std::time::Duration::ZERO));
    eager.write_all("d/other", b"o").unwrap();
    w.finish().unwrap();
    assert_eq!(b.read_to_vec("d/k").unwrap(), b"partial");
    assert!(b.pending_uploads(&Path::root()).unwrap().next().is_none());
    // An id that is not a staged file's names no upload (it is gone: Ok), and deletes
    // nothing.
    for id in ["d/k", "../d/k", "d"] {
        let fake = omnistorage::PendingUpload::new(Path::parse("d/k").unwrap(), id, None);
        b.abort_upload(&fake).unwrap();
    }
    assert!(b.contains("d/k").unwrap());
}

/// Where a new object is staged without a name, a writer killed in the middle leaves
/// nothing at all: no object, no staged file, nothing pending.
#[cfg(all(feature = "openat2", target_os = "linux"))]
#[test]
fn a_killed_writer_of_a_new_object_leaves_nothing() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        return child_writes_and_waits(&dir);
    }
    let (dir, b) = setup();
    let root = dir.path().join("root");
    b.write_all("d/other", b"o").unwrap(); // `d` exists: the child's writer has a handle
    let child = spawn_child(
        "file::reclaim::a_killed_writer_of_a_new_object_leaves_nothing",
        &root,
        true,
    );
    assert!(b.pending_uploads(&Path::root()).unwrap().next().is_none());
    assert_eq!(files_on_disk(&root), ["d/other", "d/warm"]);
    kill(child);
    assert_eq!(files_on_disk(&root), ["d/other", "d/warm"]);
    assert!(!b.contains("d/big").unwrap());
}

/// An object that appears while a new one is staged without a name: `CreateNew` fails and
/// keeps it; an overwrite replaces it whole.
#[cfg(all(feature = "openat2", target_os = "linux"))]
#[test]
fn an_object_that_appears_during_an_unnamed_write_is_kept_or_replaced_as_the_mode_says() {
    use omnistorage::{WriteMode, WriteOptions};
    let (dir, b) = setup();
    let root = dir.path().join("root");
    b.write_all("d/other", b"o").unwrap();
    let p = Path::parse("d/x").unwrap();
    let mut w = b
        .writer(&p, &WriteOptions::new().mode(WriteMode::CreateNew))
        .unwrap();
    w.write_all(b"mine").unwrap();
    std::fs::write(root.join("d/x"), b"theirs").unwrap();
    let err = w.finish().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
    assert_eq!(b.read_to_vec("d/x").unwrap(), b"theirs");

    let mut w = b.open_writer("d/y").unwrap();
    w.write_all(b"mine").unwrap();
    std::fs::write(root.join("d/y"), b"theirs").unwrap();
    w.finish().unwrap();
    assert_eq!(b.read_to_vec("d/y").unwrap(), b"mine");
    assert_eq!(files_on_disk(&root), ["d/other", "d/x", "d/y"]);
}

const CHILD_READY: &str = "child-writer-ready";
/// Set for a child that should write something before its writer.
const CHILD_WARM: &str = "OMNISTORAGE_TEST_CHILD_WARM";

/// In the child: opens a writer on `big` under the root, writes, says so, and waits to be
/// killed (reading stdin, which the parent never closes first).
fn child_writes_and_waits(dir: &str) {
    let b = FileBackend::new(dir).unwrap();
    if std::env::var_os(CHILD_WARM).is_some() {
        // A first write, so that the writer below is not this backend's first (which
        // checks the root by its path, and so stages by name).
        b.write_all("d/warm", b"w").unwrap();
    }
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
    spawn_child(name, dir, false)
}

fn spawn_child(name: &str, dir: &std::path::Path, warm: bool) -> std::process::Child {
    use std::io::BufRead;
    use std::process::Stdio;
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    if warm {
        cmd.env(CHILD_WARM, "1");
    }
    let mut child = cmd
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
    let child = spawn_writer_child(
        "file::reclaim::staged_file_of_a_killed_writer_is_reclaimed",
        &root,
    );
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
    // The next run (a fresh backend, default settings) reclaims it at once when it stages
    // into that directory: nobody holds its lock (the grace period, an hour by default, is
    // for file systems without locks).
    let next = FileBackend::new(&root).unwrap();
    next.write_all("d/y", b"y").unwrap();
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
    let name = "file::reclaim::abort_upload_frees_a_killed_writers_file_but_never_a_live_ones";
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
