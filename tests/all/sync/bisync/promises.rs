//! Issue 21's promises of bisync, each tested by changing the world behind the state's back
//! and asserting what the user is promised: no version lost, both sides converge.

use std::fs;
use std::time::{Duration, SystemTime};

use omnistorage::conformance::TempDir;
use omnistorage::sync::bisync::{Conflict, Resolution, Side};
use omnistorage::{BackendExt, ErrorKind, Path};

use super::super::{put, t, tree};
use super::props::Crashy;
use super::{BASE, Pair};

/// Rewrites the file `rel` under `dir` in place with `data` (the same size) and puts its
/// old modification time back: an edit that size and time cannot see.
fn sneaky_edit(dir: &std::path::Path, rel: &str, data: &[u8]) {
    let file = dir.join(rel);
    let before = fs::metadata(&file).expect("stat");
    assert_eq!(before.len(), data.len() as u64, "the same size");
    fs::write(&file, data).expect("write");
    let f = fs::File::options().write(true).open(&file).expect("open");
    f.set_modified(before.modified().expect("mtime"))
        .expect("restore mtime");
    drop(f);
    let after = fs::metadata(&file).expect("stat");
    assert_eq!(after.modified().ok(), before.modified().ok());
}

/// Whether `content` is on both sides, at `path` or under one of its conflict names.
fn kept(pair: &Pair, path: &str, content: &[u8]) -> bool {
    let a = tree(&*pair.a, "");
    a == tree(&*pair.b, "")
        && a.iter()
            .any(|(p, c)| c == content && (p == path || p.starts_with(&format!("{path}.conflict"))))
}

#[test]
fn an_edit_that_keeps_size_and_time_is_never_lost_on_the_file_backend() {
    // What the other side does meanwhile: nothing, a delete, a touch, an edit.
    for other in ["nothing", "delete", "touch", "edit"] {
        let pair = Pair::file().seeded(BASE);
        sneaky_edit(pair.dir(0), "a", b"A0");
        match other {
            "delete" => pair.b.remove("a").expect("rm"),
            "touch" => {
                pair.b
                    .set_modified(&Path::parse("a").expect("p"), t(50))
                    .expect("touch");
            }
            "edit" => put(&*pair.b, "a", b"b-side", t(51)),
            _ => {}
        }
        let r = pair.ok(&pair.opts().max_delete_percent(100));
        assert!(
            kept(&pair, "a", b"A0"),
            "{other}: the edit is lost: {:?}",
            tree(&*pair.a, "")
        );
        if other == "nothing" || other == "delete" {
            assert_eq!(pair.b.read_to_vec("a").expect("read"), b"A0", "{other}");
            assert!(r.conflicts.is_empty(), "{other}");
        }
        if other == "edit" {
            assert!(kept(&pair, "a", b"b-side"), "{other}");
        }
        let again = pair.ok(&pair.opts());
        assert_eq!(
            again.copied_to_path1 + again.copied_to_path2,
            0,
            "{other}: settled"
        );
    }
}

#[test]
fn checksum_after_a_plain_resync_still_sees_an_edit_that_keeps_size_and_time() {
    let pair = Pair::file().seeded(BASE); // a resync without checksum: no hashes recorded
    sneaky_edit(pair.dir(1), "b", b"B0");
    pair.a.remove("b").expect("rm");
    let opts = pair.opts().checksum(true).max_delete_percent(100);
    let _ = pair.ok(&opts);
    assert!(kept(&pair, "b", b"B0"), "{:?}", tree(&*pair.a, ""));
}

#[test]
fn checksum_records_hashes_from_the_resync_on_even_of_what_it_copied() {
    // Without version tags, only the recorded hash can tell.
    let pair = Pair {
        a: Box::new(Crashy::untagged()),
        b: Box::new(Crashy::untagged()),
        state: TempDir::new().expect("tmp"),
        dirs: Vec::new(),
    };
    put(&*pair.a, "keep", b"k", t(0));
    put(&*pair.a, "copied", b"c0", t(1)); // crosses to path2 during the resync
    let opts = pair.opts().checksum(true).max_delete_percent(100);
    let _ = pair.ok(&opts.clone().resync(true));
    put(&*pair.b, "copied", b"C0", t(1)); // same size, same time
    pair.a.remove("copied").expect("rm");
    let _ = pair.ok(&opts);
    assert!(kept(&pair, "copied", b"C0"), "{:?}", tree(&*pair.a, ""));
}

/// Changes the file's change time (part of its version tag), not its bytes or times.
fn chmod(dir: &std::path::Path, rel: &str) {
    use std::os::unix::fs::PermissionsExt;
    let file = dir.join(rel);
    let mode = fs::metadata(&file).expect("stat").permissions().mode();
    fs::set_permissions(&file, fs::Permissions::from_mode(mode ^ 0o004)).expect("chmod");
}

#[test]
fn a_version_tag_that_moves_without_an_edit_copies_nothing_and_is_no_conflict() {
    let pair = Pair::file().seeded(BASE);
    chmod(pair.dir(0), "a"); // one side
    chmod(pair.dir(0), "b"); // both sides
    chmod(pair.dir(1), "b");
    let r = pair.ok(&pair.opts());
    assert!(r.conflicts.is_empty());
    assert_eq!(r.copied_to_path1 + r.copied_to_path2, 0);
    pair.assert_same();
    // The copies bisync makes are recorded with their new tags: not seen as edits later.
    put(&*pair.a, "new", b"n", t(9));
    let _ = pair.ok(&pair.opts());
    let again = pair.ok(&pair.opts());
    assert_eq!(again.copied_to_path1 + again.copied_to_path2, 0);
    assert_eq!((again.identical, again.unchanged), (0, 5));
}

#[test]
fn an_empty_lock_left_by_a_kill_is_taken_over() {
    let pair = Pair::memory().seeded(BASE);
    let lock = pair.state_file().with_extension("lck");
    fs::write(&lock, "").expect("write"); // killed between creating and writing it
    put(&*pair.a, "new", b"n", t(5));
    let r = pair.ok(&pair.opts());
    assert!(r.lock_taken_over && r.listings_saved);
    assert!(pair.b.contains("new").expect("contains"));
    assert!(!lock.exists(), "released at the end");
}

#[test]
fn a_lock_held_by_a_live_process_is_refused_and_taken_over_once_it_dies() {
    let pair = Pair::memory().seeded(BASE);
    let lock = pair.state_file().with_extension("lck");
    // A live owner: another process holding the lock file's flock.
    // `--no-fork`: the process that holds it is the one killed below.
    let mut holder = std::process::Command::new("flock")
        .arg("--no-fork")
        .arg(&lock)
        .args(["sleep", "60"])
        .spawn()
        .expect("flock(1) from util-linux");
    let held = (0..500).any(|_| {
        let busy = fs::File::open(&lock).is_ok_and(|f| f.try_lock().is_err());
        if !busy {
            std::thread::sleep(Duration::from_millis(10));
        }
        busy
    });
    assert!(held, "the holder took the lock");
    let err = pair.run(&pair.opts()).expect_err("held by a live process");
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert!(lock.exists(), "a live owner's lock is left alone");
    holder.kill().expect("kill");
    holder.wait().expect("wait");
    let r = pair.ok(&pair.opts());
    assert!(r.lock_taken_over, "its owner died: taken over");
}

#[test]
fn a_file_and_a_directory_of_the_same_name_converge_keeping_both() {
    // At the resync, and in a normal run.
    let pair = Pair::file();
    put(&*pair.a, "x", b"a file", t(1));
    put(&*pair.b, "x/y", b"in a directory", t(2));
    let r = pair.ok(&pair.opts().resync(true));
    assert_eq!(r.conflicts.len(), 1);
    assert_eq!(r.conflicts[0].resolution, Resolution::Won(Side::Path2));
    pair.assert_same();
    assert!(kept(&pair, "x", b"a file") && kept(&pair, "x/y", b"in a directory"));

    put(&*pair.a, "n", b"file n", t(3));
    put(&*pair.b, "n/m", b"file n/m", t(4));
    let r = pair.ok(&pair.opts());
    assert_eq!(r.conflicts.len(), 1);
    pair.assert_same();
    assert!(kept(&pair, "n", b"file n") && kept(&pair, "n/m", b"file n/m"));
    let again = pair.ok(&pair.opts());
    assert!(again.conflicts.is_empty());
    assert_eq!(again.copied_to_path1 + again.copied_to_path2, 0);
}

#[test]
fn an_empty_directory_in_a_files_way_is_removed() {
    let pair = Pair::file().seeded(BASE);
    fs::create_dir(pair.dir(1).join("e")).expect("mkdir");
    put(&*pair.a, "e", b"a file", t(5));
    let r = pair.ok(&pair.opts());
    assert!(r.conflicts.is_empty());
    assert_eq!(pair.b.read_to_vec("e").expect("read"), b"a file");
}

#[test]
fn times_changed_on_both_sides_converge_to_the_newer() {
    for pair in Pair::both() {
        let pair = pair.seeded(BASE);
        let a = Path::parse("a").expect("p");
        pair.a.set_modified(&a, t(100)).expect("touch");
        pair.b.set_modified(&a, t(200)).expect("touch");
        let r = pair.ok(&pair.opts());
        assert!(r.conflicts.is_empty());
        assert_eq!((r.identical, r.times_set), (1, 1));
        let time = |b: &dyn omnistorage::Backend| b.stat(&a).expect("stat").modified;
        assert_eq!(time(&*pair.a), Some(t(200)));
        assert_eq!(time(&*pair.b), Some(t(200)));
        let again = pair.ok(&pair.opts());
        assert_eq!(
            again.copied_to_path1 + again.copied_to_path2 + again.times_set,
            0
        );
    }
}

#[test]
fn a_staged_file_left_by_a_kill_does_not_survive_a_failed_run() {
    let pair = Pair::file().seeded(BASE);
    // What a run killed mid-copy into d/ leaves: its pending marker and a staged file.
    fs::write(pair.state_file().with_extension("pending"), "4000000000\n").expect("marker");
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("now")
        .as_nanos();
    let staged = pair
        .dir(1)
        .join(format!("d/.omnistorage-tmp-4000000000-0-{nanos:016x}.new"));
    fs::write(&staged, b"half a copy").expect("stage");
    // The next run fails (a conflict it must not resolve) and writes nothing into d/.
    put(&*pair.a, "a", b"one", t(20));
    put(&*pair.b, "a", b"second", t(21));
    let r = pair
        .run(&pair.opts().conflict(Conflict::Error))
        .expect("run");
    assert!(!r.is_ok() && r.recovered);
    assert_eq!(r.leftovers_reclaimed, 1);
    assert!(!staged.exists(), "the leftover was reclaimed");
}

/// On S3 the ETag is the version tag: an object overwritten by another tool with other bytes
/// of the same size and the same stored time is still seen, and survives the other side's
/// delete. (Where the server lists no ETags, s3s-fs, size and time are all there is.)
#[cfg(feature = "s3")]
#[test]
fn an_s3_overwrite_that_keeps_size_and_time_is_never_lost() {
    crate::s3::each_server(|env, remote, _prefix| {
        let dir = TempDir::new().expect("tmp");
        let pair = Pair {
            a: Box::new(omnistorage::FileBackend::new(dir.path()).expect("file")),
            b: Box::new(remote),
            state: TempDir::new().expect("tmp"),
            dirs: vec![dir],
        };
        let pair = pair.seeded(BASE);
        let listed_tag = pair
            .b
            .list_all("")
            .expect("list")
            .iter()
            .all(|e| e.etag.is_some());
        if !listed_tag {
            eprintln!("SKIPPED on {}: its listings carry no ETag", env.server);
            return;
        }
        put(&*pair.b, "a", b"A0", t(0)); // another tool: same size, same time
        pair.a.remove("a").expect("rm");
        let _ = pair.ok(&pair.opts().max_delete_percent(100));
        assert!(
            kept(&pair, "a", b"A0"),
            "{}: {:?}",
            env.server,
            tree(&*pair.a, "")
        );
    });
}
