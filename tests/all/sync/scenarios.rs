//! One test per rule and option of the sync engine, on memory and file trees.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use omnistorage::conformance::TempDir;
use omnistorage::sync::{self, Action, Compare, DeleteMode, Options, Reason, SkipReason};
use omnistorage::{Backend, BackendExt, ErrorKind, FileBackend, MemoryBackend, Path};

use super::{names, p, put, t, tree};

fn root() -> Path {
    Path::root()
}

/// Two memory stores: a source with `a`, `dir/b`, `dir/sub/c`; an empty destination.
fn pair() -> (MemoryBackend, MemoryBackend) {
    let (src, dst) = (MemoryBackend::new(), MemoryBackend::new());
    put(&src, "a", b"one", t(1));
    put(&src, "dir/b", b"two", t(2));
    put(&src, "dir/sub/c", b"three", t(3));
    (src, dst)
}

fn run_sync(src: &dyn Backend, dst: &dyn Backend, opts: &Options) -> sync::Report {
    let r = sync::sync(src, &root(), dst, &root(), opts).expect("sync starts");
    assert!(r.is_ok(), "{:?}", r.failures);
    r
}

#[test]
fn sync_copies_everything_into_an_empty_destination() {
    let (src, dst) = pair();
    let r = run_sync(&src, &dst, &Options::new());
    assert_eq!((r.copied, r.copied_bytes, r.deleted), (3, 11, 0));
    assert_eq!(tree(&dst, ""), tree(&src, ""));
}

#[test]
fn copies_keep_the_modification_time() {
    let (src, dst) = pair();
    let _ = run_sync(&src, &dst, &Options::new());
    assert_eq!(dst.info("dir/b").expect("stat").modified, Some(t(2)));
}

#[test]
fn second_run_changes_nothing() {
    let (src, dst) = pair();
    let _ = run_sync(&src, &dst, &Options::new());
    let r = run_sync(&src, &dst, &Options::new());
    assert_eq!(
        (r.copied, r.unchanged, r.deleted, r.set_modified),
        (0, 3, 0, 0)
    );
}

#[test]
fn sync_deletes_what_the_source_lacks() {
    let (src, dst) = pair();
    put(&dst, "extra", b"x", t(9));
    put(&dst, "dir/extra2", b"y", t(9));
    let r = run_sync(&src, &dst, &Options::new());
    assert_eq!(r.deleted, 2);
    assert_eq!(names(&dst, ""), ["a", "dir/b", "dir/sub/c"]);
}

#[test]
fn copy_never_deletes() {
    let (src, dst) = pair();
    put(&dst, "extra", b"x", t(9));
    let r = sync::copy(&src, &root(), &dst, &root(), &Options::new()).expect("copy");
    assert_eq!((r.copied, r.deleted), (3, 0));
    assert!(dst.contains("extra").expect("exists"));
}

#[test]
fn changed_size_is_copied_again() {
    let (src, dst) = pair();
    let _ = run_sync(&src, &dst, &Options::new());
    put(&src, "a", b"one more", t(1));
    let r = run_sync(&src, &dst, &Options::new());
    assert_eq!((r.copied, r.unchanged), (1, 2));
    assert_eq!(dst.read_to_vec("a").expect("read"), b"one more");
}

#[test]
fn changed_time_and_content_of_equal_size_is_copied() {
    let (src, dst) = pair();
    let _ = run_sync(&src, &dst, &Options::new());
    put(&src, "a", b"ONE", t(50));
    let r = run_sync(&src, &dst, &Options::new());
    assert_eq!((r.copied, r.set_modified), (1, 0));
    assert_eq!(dst.read_to_vec("a").expect("read"), b"ONE");
}

#[test]
fn only_the_time_differs_so_the_time_is_set_not_copied() {
    // File to file: both hash cheaply, so equal MD5s prove the data equal.
    let (a, b) = (TempDir::new().expect("tmp"), TempDir::new().expect("tmp"));
    let src = FileBackend::new(a.path()).expect("file");
    let dst = FileBackend::new(b.path()).expect("file");
    put(&src, "x", b"same bytes", t(100));
    put(&dst, "x", b"same bytes", t(5));
    let r = run_sync(&src, &dst, &Options::new());
    assert_eq!((r.copied, r.set_modified), (0, 1));
    assert_eq!(dst.info("x").expect("stat").modified, Some(t(100)));
    let again = run_sync(&src, &dst, &Options::new());
    assert_eq!(
        (again.copied, again.set_modified, again.unchanged),
        (0, 0, 1)
    );
}

#[test]
fn checksum_mode_copies_equal_size_and_time_with_other_bytes() {
    let (src, dst) = (MemoryBackend::new(), MemoryBackend::new());
    put(&src, "x", b"aaaa", t(1));
    put(&dst, "x", b"bbbb", t(1));
    let size_time = run_sync(&src, &dst, &Options::new());
    assert_eq!(size_time.copied, 0, "size and time say equal");
    let r = run_sync(&src, &dst, &Options::new().compare(Compare::Checksum));
    assert_eq!(r.copied, 1);
    assert_eq!(dst.read_to_vec("x").expect("read"), b"aaaa");
}

#[test]
fn checksum_mode_ignores_times_of_equal_data() {
    let (src, dst) = (MemoryBackend::new(), MemoryBackend::new());
    put(&src, "x", b"aaaa", t(1));
    put(&dst, "x", b"aaaa", t(99));
    let r = run_sync(&src, &dst, &Options::new().compare(Compare::Checksum));
    assert_eq!((r.copied, r.unchanged, r.set_modified), (0, 1, 0));
}

#[test]
fn size_only_ignores_content_and_time() {
    let (src, dst) = (MemoryBackend::new(), MemoryBackend::new());
    put(&src, "x", b"aaaa", t(1));
    put(&dst, "x", b"bbbb", t(99));
    let r = run_sync(&src, &dst, &Options::new().compare(Compare::SizeOnly));
    assert_eq!((r.copied, r.unchanged), (0, 1));
}

#[test]
fn ignore_times_copies_everything() {
    let (src, dst) = pair();
    let _ = run_sync(&src, &dst, &Options::new());
    let r = run_sync(&src, &dst, &Options::new().compare(Compare::Always));
    assert_eq!(r.copied, 3);
}

#[test]
fn ignore_existing_leaves_destination_objects() {
    let (src, dst) = pair();
    put(&dst, "a", b"different", t(9));
    let r = run_sync(&src, &dst, &Options::new().ignore_existing(true));
    assert_eq!((r.copied, r.skipped), (2, 1));
    assert_eq!(dst.read_to_vec("a").expect("read"), b"different");
}

#[test]
fn update_skips_newer_destinations() {
    let (src, dst) = pair();
    put(&dst, "a", b"newer at the destination", t(1000));
    put(&dst, "dir/b", b"older", t(0));
    let r = run_sync(&src, &dst, &Options::new().update(true));
    assert_eq!(r.skipped, 1);
    assert_eq!(
        dst.read_to_vec("a").expect("read"),
        b"newer at the destination"
    );
    assert_eq!(dst.read_to_vec("dir/b").expect("read"), b"two");
}

#[test]
fn ignore_size_with_equal_times_is_equal() {
    let (src, dst) = (MemoryBackend::new(), MemoryBackend::new());
    put(&src, "x", b"short", t(1));
    put(&dst, "x", b"much longer", t(1));
    let r = run_sync(&src, &dst, &Options::new().ignore_size(true));
    assert_eq!((r.copied, r.unchanged), (0, 1));
}

#[test]
fn modify_window_tolerates_small_time_differences() {
    let (src, dst) = (MemoryBackend::new(), MemoryBackend::new());
    put(&src, "x", b"aaaa", t(10));
    put(&dst, "x", b"bbbb", t(11));
    let r = run_sync(
        &src,
        &dst,
        &Options::new().modify_window(Duration::from_secs(2)),
    );
    assert_eq!((r.copied, r.unchanged), (0, 1));
}

#[test]
fn roots_are_subtrees_on_both_sides() {
    let (src, dst) = pair();
    put(&dst, "elsewhere", b"kept", t(1));
    let r = sync::sync(&src, &p("dir"), &dst, &p("backup/dir"), &Options::new()).expect("sync");
    assert!(r.is_ok());
    assert_eq!(names(&dst, "backup"), ["dir/b", "dir/sub/c"]);
    assert!(
        dst.contains("elsewhere").expect("exists"),
        "outside the root: untouched"
    );
}

#[test]
fn a_missing_source_root_is_not_found_and_deletes_nothing() {
    let (src, dst) = pair();
    put(&dst, "keep", b"x", t(1));
    let err = sync::sync(&src, &p("no-such-dir"), &dst, &root(), &Options::new())
        .expect_err("missing source");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(dst.contains("keep").expect("exists"));
}

#[test]
fn a_missing_source_root_on_disk_is_not_found() {
    let (a, b) = (TempDir::new().expect("tmp"), TempDir::new().expect("tmp"));
    let src = FileBackend::new(a.path()).expect("file");
    let dst = FileBackend::new(b.path()).expect("file");
    put(&dst, "keep", b"x", t(1));
    let err = sync::sync(&src, &p("typo"), &dst, &root(), &Options::new()).expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(dst.contains("keep").expect("exists"));
}

#[test]
fn a_file_backend_rooted_at_a_missing_directory_is_not_found() {
    let (a, b) = (TempDir::new().expect("tmp"), TempDir::new().expect("tmp"));
    let src = FileBackend::new(a.path().join("typo")).expect("opens: writes would create it");
    let dst = FileBackend::new(b.path()).expect("file");
    put(&dst, "keep", b"x", t(1));
    let err = sync::sync(&src, &root(), &dst, &root(), &Options::new()).expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(dst.contains("keep").expect("exists"));
}

#[test]
fn an_empty_source_directory_on_disk_empties_the_destination() {
    let (a, b) = (TempDir::new().expect("tmp"), TempDir::new().expect("tmp"));
    let src = FileBackend::new(a.path()).expect("file");
    let dst = FileBackend::new(b.path()).expect("file");
    src.create_dir(&p("empty")).expect("mkdir");
    put(&dst, "gone", b"x", t(1));
    let r = sync::sync(&src, &p("empty"), &dst, &root(), &Options::new()).expect("sync");
    assert_eq!(r.deleted, 1);
}

#[test]
fn a_source_root_that_is_an_object_is_refused() {
    let (src, dst) = pair();
    let err = sync::sync(&src, &p("a"), &dst, &root(), &Options::new()).expect_err("object");
    assert_eq!(err.kind(), ErrorKind::NotADirectory);
}

#[test]
fn overlapping_roots_on_one_store_are_refused() {
    let (src, _) = pair();
    let err = sync::sync(&src, &root(), &src, &p("dir"), &Options::new()).expect_err("overlap");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err =
        sync::sync(&src, &p("dir"), &src, &p("dir/sub"), &Options::new()).expect_err("overlap");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn sibling_roots_on_one_store_copy_server_side() {
    let (src, _) = pair();
    let r = sync::sync(&src, &p("dir"), &src, &p("copy"), &Options::new()).expect("sync");
    assert!(r.is_ok());
    assert_eq!(names(&src, "copy"), ["b", "sub/c"]);
    assert_eq!(src.info("copy/b").expect("stat").modified, Some(t(2)));
}

#[test]
fn dry_run_reports_what_a_real_run_does_and_changes_nothing() {
    let (src, dst) = pair();
    put(&dst, "extra", b"x", t(1));
    put(&dst, "a", b"old", t(0));
    let before = tree(&dst, "");
    let dry = run_sync(&src, &dst, &Options::new().dry_run(true));
    assert!(dry.dry_run);
    assert_eq!(tree(&dst, ""), before, "a dry run changes nothing");
    let real = run_sync(&src, &dst, &Options::new());
    assert_eq!(
        (
            dry.copied,
            dry.copied_bytes,
            dry.deleted,
            dry.unchanged,
            dry.set_modified
        ),
        (
            real.copied,
            real.copied_bytes,
            real.deleted,
            real.unchanged,
            real.set_modified
        )
    );
}

#[test]
fn diff_lists_the_plan_in_path_order() {
    let (src, dst) = pair();
    put(&dst, "a", b"old", t(0));
    put(&dst, "b-extra", b"x", t(0));
    put(&dst, "dir/sub/c", b"three but longer", t(3));
    put(&dst, "dir/b", b"two", t(2));
    let plan = sync::diff(&src, &root(), &dst, &root(), &Options::new(), false).expect("diff");
    assert_eq!(
        plan,
        vec![
            // Same size, other time, other bytes: the hashes decide.
            Action::Copy {
                path: p("a"),
                size: 3,
                reason: Reason::Hash
            },
            Action::Delete {
                path: p("b-extra"),
                size: 1
            },
            Action::Copy {
                path: p("dir/sub/c"),
                size: 5,
                reason: Reason::Size
            },
        ]
    );
    assert_eq!(dst.read_to_vec("a").expect("read"), b"old");
    let copy_plan = sync::diff(&src, &root(), &dst, &root(), &Options::new(), true).expect("diff");
    assert_eq!(copy_plan.len(), 2, "copy deletes nothing");
}

#[test]
fn skips_are_reported_as_actions() {
    let (src, dst) = pair();
    put(&dst, "a", b"x", t(0));
    let plan = sync::diff(
        &src,
        &root(),
        &dst,
        &root(),
        &Options::new().ignore_existing(true),
        false,
    )
    .expect("diff");
    assert!(plan.contains(&Action::Skip {
        path: p("a"),
        reason: SkipReason::Exists
    }));
}

#[test]
fn delete_modes_reach_the_same_tree() {
    for mode in [DeleteMode::Before, DeleteMode::During, DeleteMode::After] {
        let (src, dst) = pair();
        put(&dst, "extra", b"x", t(1));
        put(&dst, "dir/zz", b"x", t(1));
        let r = run_sync(&src, &dst, &Options::new().delete_mode(mode));
        assert_eq!((r.copied, r.deleted), (3, 2), "{mode:?}");
        assert_eq!(tree(&dst, ""), tree(&src, ""), "{mode:?}");
    }
}

#[test]
fn max_delete_stops_before_deleting_anything() {
    let (src, dst) = pair();
    for i in 0..5 {
        put(&dst, &format!("extra{i}"), b"x", t(1));
    }
    let r = sync::sync(&src, &root(), &dst, &root(), &Options::new().max_delete(3)).expect("run");
    let stop = r.stopped.as_ref().expect("stopped");
    assert_eq!(stop.kind(), ErrorKind::LimitExceeded);
    assert_eq!((r.deleted, r.deletes_held), (0, 5));
    assert_eq!(names(&dst, "").len(), 8, "copied 3, deleted none");
    let ok = run_sync(&src, &dst, &Options::new().max_delete(5));
    assert_eq!(ok.deleted, 5);
}

#[test]
fn max_transfer_stops_before_crossing_the_limit() {
    let (src, dst) = (MemoryBackend::new(), MemoryBackend::new());
    for i in 0..10 {
        put(&src, &format!("f{i}"), &[7u8; 100], t(1));
    }
    let opts = Options::new().max_transfer(450).transfers(1);
    let r = sync::sync(&src, &root(), &dst, &root(), &opts).expect("run");
    assert_eq!(
        r.stopped.as_ref().map(|e| e.kind()),
        Some(ErrorKind::LimitExceeded)
    );
    assert!(r.copied_bytes <= 450, "{} bytes", r.copied_bytes);
    assert_eq!(r.copied, 4);
    assert_eq!(r.deleted, 0);
}

#[test]
fn move_deletes_sources_that_arrived() {
    let (src, dst) = pair();
    put(&dst, "a", b"one", t(1)); // equal already: its source goes too
    let r = sync::move_(&src, &root(), &dst, &root(), &Options::new()).expect("move");
    assert!(r.is_ok(), "{:?}", r.failures);
    assert_eq!((r.copied, r.unchanged, r.source_deleted), (2, 1, 3));
    assert!(names(&src, "").is_empty());
    assert_eq!(names(&dst, ""), ["a", "dir/b", "dir/sub/c"]);
}

#[test]
fn move_keeps_sources_that_were_skipped() {
    let (src, dst) = pair();
    put(&dst, "a", b"other", t(1));
    let r = sync::move_(
        &src,
        &root(),
        &dst,
        &root(),
        &Options::new().ignore_existing(true),
    )
    .expect("move");
    assert_eq!((r.skipped, r.source_deleted), (1, 2));
    assert_eq!(names(&src, ""), ["a"]);
}

#[test]
fn move_removes_empty_source_directories_when_asked() {
    let (a, b) = (TempDir::new().expect("tmp"), TempDir::new().expect("tmp"));
    let src = FileBackend::new(a.path()).expect("file");
    let dst = FileBackend::new(b.path()).expect("file");
    put(&src, "d/e/f", b"x", t(1));
    put(&src, "d/g", b"y", t(1));
    let opts = Options::new().delete_empty_src_dirs(true);
    let r = sync::move_(&src, &root(), &dst, &root(), &opts).expect("move");
    assert!(r.is_ok());
    assert!(!a.path().join("d").exists(), "empty directories removed");
    let (a2, b2) = (TempDir::new().expect("tmp"), TempDir::new().expect("tmp"));
    let src2 = FileBackend::new(a2.path()).expect("file");
    let dst2 = FileBackend::new(b2.path()).expect("file");
    put(&src2, "d/e/f", b"x", t(1));
    let _ = sync::move_(&src2, &root(), &dst2, &root(), &Options::new()).expect("move");
    assert!(a2.path().join("d/e").is_dir(), "kept without the option");
}

#[test]
fn move_within_one_store_renames() {
    let (src, _) = pair();
    let r = sync::move_(&src, &p("dir"), &src, &p("moved"), &Options::new()).expect("move");
    assert!(r.is_ok());
    assert_eq!(r.source_deleted, 2);
    assert_eq!(names(&src, ""), ["a", "moved/b", "moved/sub/c"]);
}

#[test]
fn file_to_file_sync_round_trips_and_second_run_is_a_no_op() {
    let (a, b) = (TempDir::new().expect("tmp"), TempDir::new().expect("tmp"));
    let src = FileBackend::new(a.path()).expect("file");
    let dst = FileBackend::new(b.path()).expect("file");
    for i in 0..50 {
        put(
            &src,
            &format!("d{}/f{i}", i % 7),
            format!("data {i}").as_bytes(),
            t(i),
        );
    }
    let r = run_sync(&src, &dst, &Options::new());
    assert_eq!(r.copied, 50);
    assert_eq!(tree(&dst, ""), tree(&src, ""));
    let again = run_sync(&src, &dst, &Options::new());
    assert_eq!((again.copied, again.unchanged), (0, 50));
}

#[test]
fn actions_are_reported_as_they_happen() {
    let (src, dst) = pair();
    put(&dst, "gone", b"x", t(1));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let opts = Options::new().on_action(move |a| sink.lock().unwrap().push(a.path().to_string()));
    let _ = run_sync(&src, &dst, &opts);
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    assert_eq!(seen, ["a", "dir/b", "dir/sub/c", "gone"]);
}

#[test]
fn progress_ends_with_the_totals() {
    let (src, dst) = pair();
    let last = Arc::new(Mutex::new(None));
    let sink = last.clone();
    let opts = Options::new().progress(Duration::from_millis(5), move |s| {
        *sink.lock().unwrap() = Some(s.clone());
    });
    let _ = run_sync(&src, &dst, &opts);
    let s = last.lock().unwrap().clone().expect("called at the end");
    assert_eq!(
        (s.transfers, s.planned_transfers, s.bytes, s.planned_bytes),
        (3, 3, 11, 11)
    );
}

#[test]
fn check_sorts_paths_into_matched_differ_and_missing() {
    let (src, dst) = pair();
    let _ = run_sync(&src, &dst, &Options::new());
    put(&dst, "a", b"ONE", t(1)); // same size, other bytes
    put(&dst, "only-dst", b"x", t(1));
    dst.remove("dir/b").expect("delete");
    let r = sync::check(&src, &root(), &dst, &root(), &Options::new()).expect("check");
    assert_eq!(r.hash, Some(omnistorage::HashKind::Md5));
    assert_eq!(r.matched, [p("dir/sub/c")]);
    assert_eq!(r.differ, [p("a")]);
    assert_eq!(r.missing_on_dst, [p("dir/b")]);
    assert_eq!(r.missing_on_src, [p("only-dst")]);
    let lines: Vec<String> = r
        .combined()
        .iter()
        .map(|(c, p)| format!("{c} {p}"))
        .collect();
    assert_eq!(lines, ["* a", "+ dir/b", "= dir/sub/c", "- only-dst"]);
    let one_way =
        sync::check(&src, &root(), &dst, &root(), &Options::new().one_way(true)).expect("check");
    assert!(one_way.missing_on_src.is_empty());
}

#[test]
fn verify_hashes_both_sides() {
    let (a, b) = (TempDir::new().expect("tmp"), TempDir::new().expect("tmp"));
    let src = FileBackend::new(a.path()).expect("file");
    let dst = FileBackend::new(b.path()).expect("file");
    put(&src, "x", b"12345", t(1));
    put(&dst, "x", b"12345", t(2));
    put(&src, "y", b"abcde", t(1));
    put(&dst, "y", b"abcdE", t(1));
    let r = sync::verify(&src, &root(), &dst, &root(), &Options::new()).expect("verify");
    assert_eq!(
        (r.matched.clone(), r.differ.clone()),
        (vec![p("x")], vec![p("y")])
    );
}

#[test]
fn backup_dir_keeps_what_is_replaced_or_deleted() {
    let (src, dst) = pair();
    put(&dst, "live/a", b"old a", t(0));
    put(&dst, "live/gone", b"old gone", t(0));
    let opts = Options::new().backup_dir(p("backups/today"));
    let r = sync::sync(&src, &root(), &dst, &p("live"), &opts).expect("sync");
    assert!(r.is_ok(), "{:?}", r.failures);
    assert_eq!(r.backed_up, 2);
    assert_eq!(dst.read_to_vec("live/a").expect("read"), b"one");
    assert!(!dst.contains("live/gone").expect("exists"));
    assert_eq!(dst.read_to_vec("backups/today/a").expect("read"), b"old a");
    assert_eq!(
        dst.read_to_vec("backups/today/gone").expect("read"),
        b"old gone"
    );
}

#[test]
fn suffix_alone_keeps_the_old_object_beside_the_new() {
    let (src, dst) = pair();
    put(&dst, "a", b"old a", t(0));
    let r = run_sync(&src, &dst, &Options::new().suffix(".bak"));
    assert_eq!(r.backed_up, 1);
    assert_eq!(dst.read_to_vec("a.bak").expect("read"), b"old a");
    assert_eq!(dst.read_to_vec("a").expect("read"), b"one");
}

#[test]
fn a_backup_dir_inside_the_destination_is_refused() {
    let (src, dst) = pair();
    let opts = Options::new().backup_dir(p("dst/old"));
    let err = sync::sync(&src, &root(), &dst, &p("dst"), &opts).expect_err("overlap");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn server_side_copies_count_their_bytes_in_progress() {
    let (a, b) = (TempDir::new().expect("tmp"), TempDir::new().expect("tmp"));
    let src = FileBackend::new(a.path()).expect("file");
    let dst = FileBackend::new(b.path()).expect("file");
    put(&src, "x", b"12345", t(1));
    put(&src, "y/z", b"678", t(2));
    let last = Arc::new(Mutex::new(None));
    let sink = last.clone();
    let opts = Options::new().progress(Duration::from_millis(5), move |s| {
        *sink.lock().unwrap() = Some(s.clone());
    });
    let _ = run_sync(&src, &dst, &opts);
    let s = last.lock().unwrap().clone().expect("called at the end");
    assert_eq!((s.transfers, s.bytes, s.planned_bytes), (2, 8, 8));
}
