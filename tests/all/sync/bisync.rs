//! `sync::bisync` on memory and file backends: scenarios modelled on rclone's
//! `cmd/bisync/testdata` (first run, resync, one-sided changes, conflicts per strategy,
//! change vs delete, guards, damaged state, locks, dry run), and a property test with random
//! edits and interrupted runs (`props`).

mod promises;
mod props;

use omnistorage::conformance::TempDir;
use omnistorage::sync::bisync::{BisyncOptions, BisyncReport, Conflict, Resolution, Side, bisync};
use omnistorage::{Backend, BackendExt, ErrorKind, FileBackend, MemoryBackend, Path, Result};

use super::{names, put, t, tree};

/// Two sides and a state directory, kept alive for the test.
struct Pair {
    a: Box<dyn Backend>,
    b: Box<dyn Backend>,
    state: TempDir,
    dirs: Vec<TempDir>,
}

impl Pair {
    fn memory() -> Pair {
        Pair {
            a: Box::new(MemoryBackend::new()),
            b: Box::new(MemoryBackend::new()),
            state: TempDir::new().expect("tmp"),
            dirs: Vec::new(),
        }
    }

    fn file() -> Pair {
        let (x, y) = (TempDir::new().expect("tmp"), TempDir::new().expect("tmp"));
        Pair {
            a: Box::new(FileBackend::new(x.path()).expect("file")),
            b: Box::new(FileBackend::new(y.path()).expect("file")),
            state: TempDir::new().expect("tmp"),
            dirs: vec![x, y],
        }
    }

    fn both() -> [Pair; 2] {
        [Pair::memory(), Pair::file()]
    }

    fn opts(&self) -> BisyncOptions {
        BisyncOptions::new().state_dir(self.state.path())
    }

    fn run(&self, opts: &BisyncOptions) -> Result<BisyncReport> {
        bisync(&*self.a, &Path::root(), &*self.b, &Path::root(), opts)
    }

    /// A clean run that must succeed.
    fn ok(&self, opts: &BisyncOptions) -> BisyncReport {
        let report = self.run(opts).expect("run");
        report.result().expect("no failures");
        report
    }

    /// Both sides seeded and resynced.
    fn seeded(self, files: &[(&str, &[u8])]) -> Pair {
        for (i, (path, data)) in files.iter().enumerate() {
            put(&*self.a, path, data, t(i as u64));
            put(&*self.b, path, data, t(i as u64));
        }
        let r = self.ok(&self.opts().resync(true));
        assert!(r.resynced && r.listings_saved);
        self
    }

    /// A file pair's directory of side `i` (0: path1).
    fn dir(&self, i: usize) -> &std::path::Path {
        self.dirs[i].path()
    }

    fn state_file(&self) -> std::path::PathBuf {
        std::fs::read_dir(self.state.path())
            .expect("state dir")
            .map(|e| e.expect("entry").path())
            .find(|p| p.extension().is_some_and(|e| e == "lst"))
            .expect("a listing file")
    }

    fn assert_same(&self) {
        assert_eq!(tree(&*self.a, ""), tree(&*self.b, ""));
    }
}

const BASE: &[(&str, &[u8])] = &[("a", b"a0"), ("b", b"b0"), ("d/c", b"c0"), ("d/e", b"e0")];

#[test]
fn the_first_run_needs_resync() {
    for pair in Pair::both() {
        put(&*pair.a, "x", b"1", t(1));
        let err = pair.run(&pair.opts()).expect_err("no state");
        assert_eq!(err.kind(), ErrorKind::PreconditionFailed);
        assert!(err.to_string().contains("resync"), "{err}");
        assert!(
            !pair.b.contains("x").expect("contains"),
            "nothing was changed"
        );
    }
}

#[test]
fn resync_merges_both_sides_and_never_deletes() {
    for pair in Pair::both() {
        put(&*pair.a, "only1", b"1", t(1));
        put(&*pair.b, "only2", b"2", t(2));
        put(&*pair.a, "same", b"s", t(3));
        put(&*pair.b, "same", b"s", t(3));
        put(&*pair.a, "differ", b"path1's", t(4));
        put(&*pair.b, "differ", b"path2's", t(5));
        let r = pair.ok(&pair.opts().resync(true));
        assert_eq!((r.copied_to_path1, r.copied_to_path2), (2, 2));
        assert_eq!((r.deleted_on_path1, r.deleted_on_path2), (0, 0));
        pair.assert_same();
        let got = tree(&*pair.a, "");
        assert_eq!(got["differ"], b"path1's");
        assert_eq!(got["differ.conflict1"], b"path2's", "path2's version kept");
        assert_eq!(names(&*pair.a, "").len(), 5);
        // The next run finds nothing to do.
        let again = pair.ok(&pair.opts());
        assert_eq!(again.copied_to_path1 + again.copied_to_path2, 0);
        assert_eq!(again.unchanged, 5);
    }
}

#[test]
fn new_changed_and_deleted_propagate_from_either_side() {
    for pair in Pair::both() {
        let pair = pair.seeded(BASE);
        put(&*pair.a, "new1", b"n1", t(10));
        put(&*pair.a, "a", b"a1 changed", t(11));
        pair.a.remove("d/c").expect("rm");
        put(&*pair.b, "d/new2", b"n2", t(12));
        put(&*pair.b, "b", b"b1", t(13)); // same size, newer time
        let r = pair.ok(&pair.opts());
        assert_eq!((r.copied_to_path2, r.copied_to_path1), (2, 2));
        assert_eq!((r.deleted_on_path2, r.deleted_on_path1), (1, 0));
        assert!(r.conflicts.is_empty());
        pair.assert_same();
        let got = tree(&*pair.b, "");
        assert_eq!(got["a"], b"a1 changed");
        assert_eq!(got["b"], b"b1");
        assert!(!got.contains_key("d/c"));
        assert_eq!(got["d/new2"], b"n2");
        let again = pair.ok(&pair.opts());
        assert_eq!(again.copied_to_path1 + again.copied_to_path2, 0);
    }
}

#[test]
fn changed_on_both_keeps_the_loser_under_a_conflict_name_for_every_strategy() {
    // path1: "one" (3 bytes) at t(20); path2: "second" (6 bytes) at t(21).
    let cases = [
        (Conflict::Newer, Resolution::Won(Side::Path2)),
        (Conflict::Older, Resolution::Won(Side::Path1)),
        (Conflict::Larger, Resolution::Won(Side::Path2)),
        (Conflict::Smaller, Resolution::Won(Side::Path1)),
        (Conflict::Path1, Resolution::Won(Side::Path1)),
        (Conflict::Path2, Resolution::Won(Side::Path2)),
        (Conflict::KeepBoth, Resolution::KeptBoth),
    ];
    for (strategy, expected) in cases {
        for pair in Pair::both() {
            let pair = pair.seeded(BASE);
            put(&*pair.a, "d/c", b"one", t(20));
            put(&*pair.b, "d/c", b"second", t(21));
            put(&*pair.a, "d/c.conflict1", b"taken", t(22)); // the next free name is 2
            let r = pair.ok(&pair.opts().conflict(strategy));
            assert_eq!(r.conflicts.len(), 1, "{strategy:?}");
            assert_eq!(r.conflicts[0].resolution, expected, "{strategy:?}");
            pair.assert_same();
            let got = tree(&*pair.a, "");
            assert_eq!(got["d/c.conflict1"], b"taken");
            let kept: Vec<(Side, &str)> = r.conflicts[0]
                .kept_as
                .iter()
                .map(|(s, p)| (*s, p.as_str()))
                .collect();
            match expected {
                Resolution::Won(winner) => {
                    let (win, lose): (&[u8], &[u8]) = if winner == Side::Path1 {
                        (b"one", b"second")
                    } else {
                        (b"second", b"one")
                    };
                    assert_eq!(got["d/c"], win, "{strategy:?}");
                    assert_eq!(got["d/c.conflict2"], lose, "{strategy:?}");
                    assert_eq!(kept, vec![(winner.other(), "d/c.conflict2")]);
                }
                _ => {
                    assert!(!got.contains_key("d/c"));
                    assert_eq!(got["d/c.conflict2"], b"one");
                    assert_eq!(got["d/c.conflict3"], b"second");
                    assert_eq!(
                        kept,
                        vec![
                            (Side::Path1, "d/c.conflict2"),
                            (Side::Path2, "d/c.conflict3")
                        ]
                    );
                }
            }
            let again = pair.ok(&pair.opts().conflict(strategy));
            assert!(again.conflicts.is_empty());
            assert_eq!(again.copied_to_path1 + again.copied_to_path2, 0);
        }
    }
}

#[test]
fn skip_leaves_both_versions_and_reports_again_error_fails_the_path() {
    for pair in Pair::both() {
        let pair = pair.seeded(BASE);
        put(&*pair.a, "a", b"one", t(20));
        put(&*pair.b, "a", b"second", t(21));
        let r = pair.ok(&pair.opts().conflict(Conflict::Skip));
        assert_eq!(r.conflicts[0].resolution, Resolution::Skipped);
        assert_eq!(pair.a.read_to_vec("a").expect("read"), b"one");
        assert_eq!(pair.b.read_to_vec("a").expect("read"), b"second");
        let again = pair.ok(&pair.opts().conflict(Conflict::Skip));
        assert_eq!(again.conflicts.len(), 1, "still unresolved, reported again");

        let failed = pair
            .run(&pair.opts().conflict(Conflict::Error))
            .expect("run");
        assert_eq!(failed.failures.len(), 1);
        assert_eq!(
            failed.failures[0].error.kind(),
            ErrorKind::PreconditionFailed
        );
        assert!(!failed.listings_saved);
        assert_eq!(pair.b.read_to_vec("a").expect("read"), b"second");
    }
}

#[test]
fn changed_on_both_to_the_same_content_is_nothing() {
    for pair in Pair::both() {
        let pair = pair.seeded(BASE);
        put(&*pair.a, "a", b"same new", t(30));
        put(&*pair.b, "a", b"same new", t(31)); // other time: hashes decide
        let r = pair.ok(&pair.opts());
        assert_eq!(r.identical, 1);
        assert!(r.conflicts.is_empty());
        assert_eq!(r.copied_to_path1 + r.copied_to_path2, 0);
    }
}

#[test]
fn a_change_beats_a_delete_and_deleted_on_both_is_nothing() {
    for pair in Pair::both() {
        let pair = pair.seeded(BASE);
        put(&*pair.a, "a", b"a changed", t(40));
        pair.b.remove("a").expect("rm");
        pair.a.remove("b").expect("rm");
        put(&*pair.b, "b", b"b changed", t(41));
        pair.a.remove("d/e").expect("rm");
        pair.b.remove("d/e").expect("rm");
        let r = pair.ok(&pair.opts().max_delete_percent(100));
        assert_eq!((r.copied_to_path1, r.copied_to_path2), (1, 1));
        assert_eq!(r.deleted_on_path1 + r.deleted_on_path2, 0);
        pair.assert_same();
        let got = tree(&*pair.a, "");
        assert_eq!(got["a"], b"a changed");
        assert_eq!(got["b"], b"b changed");
        assert!(!got.contains_key("d/e"));
    }
}

#[test]
fn too_many_deletions_abort_before_anything_changes() {
    for pair in Pair::both() {
        let pair = pair.seeded(BASE);
        for path in ["a", "b", "d/c"] {
            pair.a.remove(path).expect("rm");
        }
        put(&*pair.a, "new", b"n", t(50));
        let err = pair.run(&pair.opts()).expect_err("75% > 50%");
        assert_eq!(err.kind(), ErrorKind::LimitExceeded);
        assert_eq!(names(&*pair.b, "").len(), 4, "nothing deleted");
        assert!(!pair.b.contains("new").expect("contains"), "nothing copied");
        let r = pair.ok(&pair.opts().max_delete_percent(75));
        assert_eq!(r.deleted_on_path2, 3);
        pair.assert_same();
    }
}

#[test]
fn check_access_aborts_unless_the_access_files_match() {
    for pair in Pair::both() {
        let pair = pair.seeded(&[("a", b"1"), ("RCLONE_TEST", b""), ("d/RCLONE_TEST", b"")]);
        let opts = pair.opts().check_access(true);
        let _ = pair.ok(&opts);
        pair.b.remove("d/RCLONE_TEST").expect("rm");
        put(&*pair.a, "a", b"changed", t(60));
        let err = pair.run(&opts).expect_err("differ");
        assert_eq!(err.kind(), ErrorKind::PreconditionFailed);
        assert_eq!(
            pair.b.read_to_vec("a").expect("read"),
            b"1",
            "nothing changed"
        );
        let named = pair.opts().check_access(true).access_file("MOUNTED");
        assert!(pair.run(&named).is_err(), "no MOUNTED files at all");
    }
}

#[test]
fn an_emptied_side_is_refused() {
    for pair in Pair::both() {
        let pair = pair.seeded(&[("a", b"1")]);
        pair.b.remove("a").expect("rm");
        let err = pair
            .run(&pair.opts().max_delete_percent(100))
            .expect_err("empty");
        assert_eq!(err.kind(), ErrorKind::PreconditionFailed);
        assert!(pair.a.contains("a").expect("contains"));
    }
}

#[test]
fn a_damaged_state_is_an_error_asking_for_resync() {
    for pair in Pair::both() {
        let pair = pair.seeded(BASE);
        let file = pair.state_file();
        let text = std::fs::read_to_string(&file).expect("read");
        // Cut off the last listed object and the trailer: it must not read as a deletion.
        let cut = text.rfind("d/e").expect("listed");
        std::fs::write(&file, &text[..cut]).expect("write");
        let err = pair.run(&pair.opts()).expect_err("damaged");
        assert_eq!(err.kind(), ErrorKind::Corrupt);
        assert!(err.to_string().contains("resync"), "{err}");
        assert!(pair.b.contains("d/e").expect("contains"));
        let _ = pair.ok(&pair.opts().resync(true));
        let _ = pair.ok(&pair.opts());
    }
}

#[test]
fn a_stale_lock_is_taken_over_and_a_live_one_refused() {
    let pair = Pair::memory().seeded(BASE);
    let lock = pair.state_file().with_extension("lck");
    std::fs::write(&lock, "4000000000\n").expect("write"); // no such process
    let r = pair.ok(&pair.opts());
    assert!(r.lock_taken_over);
    assert!(!lock.exists(), "released at the end");
    std::fs::write(&lock, format!("{}\n", std::process::id())).expect("write");
    let err = pair.run(&pair.opts()).expect_err("held by a live process");
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    std::fs::remove_file(&lock).expect("rm");
}

#[test]
fn a_dry_run_reports_and_changes_nothing() {
    for pair in Pair::both() {
        let pair = pair.seeded(BASE);
        put(&*pair.a, "new", b"n", t(70));
        pair.b.remove("a").expect("rm");
        put(&*pair.a, "b", b"one", t(71));
        put(&*pair.b, "b", b"second", t(72));
        let (before_a, before_b) = (tree(&*pair.a, ""), tree(&*pair.b, ""));
        let state = std::fs::read(pair.state_file()).expect("state");
        let r = pair.ok(&pair.opts().dry_run(true));
        assert!(r.dry_run && !r.listings_saved);
        // new → path2; a deleted on path1; both versions of b kept, each copied across.
        assert_eq!(
            (r.copied_to_path2, r.copied_to_path1, r.deleted_on_path1),
            (2, 1, 1)
        );
        assert_eq!(r.conflicts.len(), 1);
        assert_eq!(
            (tree(&*pair.a, ""), tree(&*pair.b, "")),
            (before_a, before_b)
        );
        assert_eq!(std::fs::read(pair.state_file()).expect("state"), state);
        let real = pair.ok(&pair.opts());
        assert_eq!(
            (
                real.copied_to_path2,
                real.copied_to_path1,
                real.deleted_on_path1
            ),
            (2, 1, 1)
        );
    }
}

#[test]
fn a_backend_without_a_location_needs_a_state_name() {
    let (a, b) = (props::Crashy::new(false), MemoryBackend::new());
    let state = TempDir::new().expect("tmp");
    let opts = BisyncOptions::new().state_dir(state.path()).resync(true);
    let err = bisync(&a, &Path::root(), &b, &Path::root(), &opts).expect_err("no key");
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    let named = opts.state_name("laptop-server");
    bisync(&a, &Path::root(), &b, &Path::root(), &named)
        .expect("named")
        .result()
        .expect("ok");
    assert!(state.path().join("laptop-server.lst").exists());
}

#[test]
fn roots_below_the_top_are_synced_by_relative_path() {
    let pair = Pair::memory();
    put(&*pair.a, "in/x", b"1", t(1));
    put(&*pair.a, "out", b"ignored", t(1));
    put(&*pair.b, "deep/er/y", b"2", t(2));
    let (r1, r2) = (
        Path::parse("in").expect("p"),
        Path::parse("deep/er").expect("p"),
    );
    let opts = pair.opts().resync(true);
    bisync(&*pair.a, &r1, &*pair.b, &r2, &opts)
        .expect("run")
        .result()
        .expect("ok");
    assert_eq!(pair.b.read_to_vec("deep/er/x").expect("read"), b"1");
    assert_eq!(pair.a.read_to_vec("in/y").expect("read"), b"2");
    assert!(!pair.b.contains("deep/er/out").expect("contains"));
}

#[test]
fn checksum_sees_a_change_that_keeps_size_and_time() {
    for pair in Pair::both() {
        let pair = pair.seeded(BASE);
        let opts = pair.opts().checksum(true);
        let _ = pair.ok(&opts); // the listings now hold MD5s
        put(&*pair.a, "a", b"A0", t(0)); // same size, same time as "a0"
        let r = pair.ok(&opts);
        assert_eq!(r.copied_to_path2, 1);
        assert_eq!(pair.b.read_to_vec("a").expect("read"), b"A0");
    }
}
