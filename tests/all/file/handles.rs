//! Directories changed by someone else between (and during) operations: what a write sees
//! after a directory is renamed, replaced by a symlink or removed, and what a read of a
//! special file does. The same behaviour on both routes: directory handles (`openat2`,
//! Linux with the `openat2` feature) and the portable walk.

use std::io::Write;

use omnistorage::{Backend, BackendExt, ErrorKind, Path, WriteOptions};

use super::{files_on_disk, setup};

/// A writer holds its directory (by handle, or by path); the directory is moved away and a
/// symlink to a directory outside the root put at its name. Committing never writes through
/// the symlink: nothing lands outside, and the object's path is refused as going through a
/// symlink. Later writes there are refused too (each operation looks again: nothing stale
/// is kept).
#[cfg(unix)]
#[test]
fn a_symlinked_directory_swapped_in_under_an_open_writer_is_never_written_through() {
    let (dir, b) = setup();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    b.write_all("a/first", b"1").unwrap();
    let mut w = b
        .writer(&Path::parse("a/x").unwrap(), &WriteOptions::new())
        .unwrap();
    w.write_all(b"payload").unwrap();
    std::fs::rename(dir.path().join("root/a"), dir.path().join("root/moved")).unwrap();
    std::os::unix::fs::symlink(&outside, dir.path().join("root/a")).unwrap();
    // With a handle the commit lands in the directory the writer holds (now `moved`);
    // by path, the staged file is not found through the symlink and the commit fails.
    let _ = w.finish();
    assert!(
        std::fs::read_dir(&outside).unwrap().next().is_none(),
        "nothing may land outside the root"
    );
    let err = b.read_to_vec("a/x").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    let err = b.write_all("a/y", b"2").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    let err = b.write_all("a/new/deeper", b"2").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    assert!(std::fs::read_dir(&outside).unwrap().next().is_none());
    // What the writer wrote is in the moved directory, if anywhere (by path, its staged
    // file stays there, for the next sweep: its removal by path found the symlink).
    let on_disk = files_on_disk(dir.path());
    assert!(
        on_disk.contains(&"root/moved/first".to_owned()),
        "{on_disk:?}"
    );
    for f in &on_disk {
        // `root/a` is the symlink itself.
        let ok = f == "root/a"
            || f == "root/moved/first"
            || f == "root/moved/x"
            || f.starts_with("root/moved/.omnistorage-tmp-");
        assert!(ok, "{f} in {on_disk:?}");
    }
}

/// A directory renamed away and made again between two writes: the second write lands in
/// the new directory, the renamed one keeps only what was there.
#[test]
fn a_directory_replaced_between_writes_is_looked_up_again() {
    let (dir, b) = setup();
    b.write_all("a/b/one", b"1").unwrap();
    std::fs::rename(dir.path().join("root/a"), dir.path().join("root/old")).unwrap();
    std::fs::create_dir_all(dir.path().join("root/a/b")).unwrap();
    b.write_all("a/b/two", b"2").unwrap();
    assert_eq!(b.read_to_vec("a/b/two").unwrap(), b"2");
    assert_eq!(
        files_on_disk(dir.path()),
        ["root/a/b/two", "root/old/b/one"]
    );
    // Removed altogether: made again.
    std::fs::remove_dir_all(dir.path().join("root/a")).unwrap();
    b.write_all("a/b/three", b"3").unwrap();
    assert_eq!(
        files_on_disk(dir.path()),
        ["root/a/b/three", "root/old/b/one"]
    );
}

/// An object in the way of a directory, at any depth, for reads, writes and copies.
#[test]
fn an_object_in_the_way_of_a_directory() {
    let (_dir, b) = setup();
    b.write_all("f", b"x").unwrap();
    let err = b.write_all("f/g", b"y").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotADirectory, "{err}");
    let err = b.write_all("f/g/h", b"y").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotADirectory, "{err}");
    let err = b.read_to_vec("f/g").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let p = |s: &str| Path::parse(s).unwrap();
    let err = b.copy(&p("f"), &p("f/g")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotADirectory, "{err}");
    let err = b.read_to_vec("dir-missing/x").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

/// Reading a FIFO is refused at once (it is not waited on for a writer), and so is a
/// directory.
#[cfg(target_os = "linux")]
#[test]
fn reading_a_fifo_or_a_directory_is_refused_without_waiting() {
    let (dir, b) = setup();
    let status = std::process::Command::new("mkfifo")
        .arg(dir.path().join("root/pipe"))
        .status()
        .unwrap();
    assert!(status.success());
    let err = b.read_to_vec("pipe").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    b.write_all("d/f", b"x").unwrap();
    let err = b.read_to_vec("d").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::IsADirectory, "{err}");
}

/// Files copied between two backends (the sync engine's local-to-local route) keep their
/// bytes and times, file after file, through the kept peer backend.
#[test]
fn many_copies_from_another_root() {
    let (dir, dst) = setup();
    let src = omnistorage::FileBackend::new(dir.path().join("src")).unwrap();
    for i in 0..50 {
        src.write_all(format!("d{}/f{i}", i % 3), vec![i as u8; i * 100])
            .unwrap();
    }
    let loc = src.location().unwrap();
    for i in 0..50 {
        let p = Path::parse(format!("d{}/f{i}", i % 3)).unwrap();
        let entry = dst.copy_from(&loc, &p, &p).unwrap();
        assert_eq!(entry.size, (i * 100) as u64);
        assert_eq!(entry.modified, src.stat(&p).unwrap().modified);
        assert_eq!(dst.read_to_vec(&p).unwrap(), vec![i as u8; i * 100]);
    }
}
