//! One-object transfers side by side with rclone 1.60: a file as the source of `copy` and
//! `sync`, `copyto`/`moveto` comparing as `sync` does, and the exit codes of commands on a
//! missing object.

use std::os::unix::fs::MetadataExt;
use std::path::Path as FsPath;
use std::process::Command;
use std::time::{Duration, SystemTime};

use omnistorage::conformance::TempDir;

use super::{code, run, stderr};
use crate::sync::parity::{rclone, run_rclone, snapshot};

fn s(p: &FsPath) -> String {
    p.to_string_lossy().into_owned()
}

/// A source directory with `a.txt` and a destination directory holding `other`.
fn trees() -> (TempDir, TempDir) {
    let (src, dst) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    std::fs::write(src.path().join("a.txt"), b"alpha").unwrap();
    std::fs::write(src.path().join("b.txt"), b"beta").unwrap();
    std::fs::write(dst.path().join("other"), b"kept").unwrap();
    (src, dst)
}

#[test]
fn a_file_as_the_source_of_copy_and_sync_goes_into_the_directory_as_in_rclone() {
    if rclone().is_none() {
        return;
    }
    let home = TempDir::new().unwrap();
    for command in ["copy", "sync"] {
        let (src, ours) = trees();
        let (_, theirs) = trees();
        let file = s(&src.path().join("a.txt"));
        let o = run(
            &[command, &file, &format!("{}/", s(ours.path()))],
            None,
            home.path(),
        );
        assert_eq!(code(&o), 0, "{command}: {}", stderr(&o));
        let r = run_rclone(&[command, &file, &format!("{}/", s(theirs.path()))]);
        assert!(r.status.success(), "{command}: rclone failed");
        // The file is in the directory, nothing else came, and a sync deleted nothing.
        assert_eq!(contents(ours.path()), contents(theirs.path()), "{command}");
        assert_eq!(std::fs::read(ours.path().join("a.txt")).unwrap(), b"alpha");
        assert_eq!(std::fs::read(ours.path().join("other")).unwrap(), b"kept");
        assert!(!ours.path().join("b.txt").exists(), "{command}");
    }
}

/// The files under `dir` and their bytes (the two trees are made apart: times differ).
fn contents(dir: &FsPath) -> Vec<(String, Vec<u8>)> {
    let (files, dirs) = snapshot(dir);
    let mut out: Vec<_> = files.into_iter().map(|(k, (data, _))| (k, data)).collect();
    out.extend(dirs.into_iter().map(|d| (format!("{d}/"), Vec::new())));
    out
}

/// Runs each of `steps` with our binary or with rclone (`who`), each expected to succeed,
/// and returns the tree under `dir` after each.
fn steps_by(
    who: &str,
    home: &FsPath,
    steps: &[&[&str]],
    dir: &FsPath,
) -> Vec<Vec<(String, Vec<u8>)>> {
    let mut seen = Vec::new();
    for args in steps {
        if who == "ours" {
            let o = run(args, None, home);
            assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
        } else {
            assert!(run_rclone(args).status.success(), "{args:?}");
        }
        seen.push(contents(dir));
    }
    seen
}

fn inode(p: &FsPath) -> u64 {
    std::fs::metadata(p).unwrap().ino()
}

fn set_mtime(p: &FsPath, t: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(p)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

#[test]
fn copyto_leaves_an_unchanged_destination_alone_and_compares_as_sync() {
    let home = TempDir::new().unwrap();
    let (src, dst) = trees();
    let from = src.path().join("a.txt");
    let to = dst.path().join("renamed.txt");
    let copyto = |extra: &[&str]| {
        let mut args = vec!["copyto", "--no-hash-cache"];
        args.extend_from_slice(extra);
        let (f, t) = (s(&from), s(&to));
        args.extend([f.as_str(), t.as_str()]);
        let o = run(&args, None, home.path());
        assert_eq!(code(&o), 0, "{extra:?}: {}", stderr(&o));
    };
    copyto(&[]);
    assert_eq!(std::fs::read(&to).unwrap(), b"alpha");
    // Unchanged (size and time): the destination file is not written again (a write
    // replaces the file, a new inode).
    let first = inode(&to);
    copyto(&[]);
    assert_eq!(
        inode(&to),
        first,
        "an unchanged destination was copied again"
    );
    // --ignore-times copies anyway.
    copyto(&["--ignore-times"]);
    let second = inode(&to);
    assert_ne!(second, first, "--ignore-times did not copy");
    // --size-only: a same-size change with another time is left alone.
    std::fs::write(&to, b"ALPHA").unwrap();
    set_mtime(&to, SystemTime::now() - Duration::from_secs(3600));
    let third = inode(&to);
    copyto(&["--size-only"]);
    assert_eq!(inode(&to), third, "--size-only copied a same-size file");
    assert_eq!(std::fs::read(&to).unwrap(), b"ALPHA");
    // -c: the hashes differ, so it is copied; then with equal data and another time only
    // the time is set.
    copyto(&["-c"]);
    assert_eq!(std::fs::read(&to).unwrap(), b"alpha");
    let fourth = inode(&to);
    set_mtime(&to, SystemTime::now() - Duration::from_secs(7200));
    copyto(&["-c"]);
    assert_eq!(inode(&to), fourth, "-c copied equal data");
    // The default mode: the time differs, the data is equal (as rclone, hashes decide):
    // the time is set, the file not written again.
    set_mtime(&to, SystemTime::now() - Duration::from_secs(7200));
    copyto(&[]);
    assert_eq!(inode(&to), fourth);
    let (a, b) = (
        std::fs::metadata(&from).unwrap().modified().unwrap(),
        std::fs::metadata(&to).unwrap().modified().unwrap(),
    );
    assert_eq!(a, b, "the destination's time is the source's");
}

#[test]
fn moveto_onto_an_unchanged_destination_deletes_the_source_as_rclone() {
    if rclone().is_none() {
        return;
    }
    let home = TempDir::new().unwrap();
    for who in ["ours", "rclone"] {
        let (src, dst) = trees();
        let from = src.path().join("a.txt");
        let to = dst.path().join("a.txt");
        std::fs::copy(&from, &to).unwrap();
        let t = std::fs::metadata(&from).unwrap().modified().unwrap();
        set_mtime(&to, t);
        let before = inode(&to);
        let args = ["moveto", &s(&from), &s(&to)];
        if who == "ours" {
            let o = run(&args, None, home.path());
            assert_eq!(code(&o), 0, "{}", stderr(&o));
        } else {
            assert!(run_rclone(&args).status.success());
        }
        assert!(!from.exists(), "{who}: the source is still there");
        assert_eq!(
            inode(&to),
            before,
            "{who}: the destination was written again"
        );
    }
}

#[test]
fn dry_run_of_copyto_and_moveto_changes_nothing() {
    let home = TempDir::new().unwrap();
    let (src, dst) = trees();
    let from = src.path().join("a.txt");
    for command in ["copyto", "moveto"] {
        let to = dst.path().join(format!("{command}.txt"));
        let o = run(
            &[command, "--dry-run", &s(&from), &s(&to)],
            None,
            home.path(),
        );
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(from.exists() && !to.exists(), "{command}");
    }
}

#[test]
fn exit_codes_of_a_missing_object_are_rclones() {
    if rclone().is_none() {
        return;
    }
    let home = TempDir::new().unwrap();
    let (src, dst) = trees();
    let missing = s(&src.path().join("nope"));
    let deep = s(&src.path().join("nope/x/y"));
    let d = s(&dst.path().join("x"));
    let cases: &[&[&str]] = &[
        &["cat", &missing],
        &["deletefile", &missing],
        &["copyto", &missing, &d],
        &["moveto", &missing, &d],
        &["copy", &missing, &d],
        &["move", &missing, &d],
        &["sync", &missing, &d],
        &["md5sum", &missing],
        &["delete", &missing],
        &["purge", &missing],
        &["rmdir", &missing],
        &["rmdirs", &missing],
        &["size", &missing],
        &["lsjson", &missing],
        &["touch", "--no-create", &deep],
    ];
    for args in cases {
        let theirs = run_rclone(args).status.code();
        let ours = run(args, None, home.path());
        assert_eq!(ours.status.code(), theirs, "{args:?}: {}", stderr(&ours));
    }
    assert!(
        !src.path().join("nope").exists(),
        "touch --no-create created it"
    );
}

#[test]
fn backup_dir_beside_the_destination_works_as_in_rclone() {
    if rclone().is_none() {
        return;
    }
    let home = TempDir::new().unwrap();
    let mut kept = Vec::new();
    for who in ["ours", "rclone"] {
        let top = TempDir::new().unwrap();
        let (src, dst, bak) = (
            top.path().join("src"),
            top.path().join("dst"),
            top.path().join("bak"),
        );
        std::fs::create_dir_all(&src).unwrap();
        std::fs::create_dir_all(&dst).unwrap();
        std::fs::write(src.join("f"), b"new").unwrap();
        std::fs::write(dst.join("f"), b"older").unwrap();
        std::fs::write(dst.join("gone"), b"x").unwrap();
        // Relative paths, from the common directory, as a user types them.
        let args = ["sync", "src", "dst", "--backup-dir", "bak"];
        let ok = if who == "ours" {
            let o = super::command(&args, home.path())
                .current_dir(top.path())
                .output()
                .unwrap();
            assert_eq!(code(&o), 0, "{}", stderr(&o));
            true
        } else {
            Command::new("rclone")
                .args(["--config", "/dev/null"])
                .args(args)
                .current_dir(top.path())
                .status()
                .unwrap()
                .success()
        };
        assert!(ok, "{who}");
        assert_eq!(std::fs::read(dst.join("f")).unwrap(), b"new", "{who}");
        kept.push(contents(&bak));
        // The backup directory inside the synced tree is refused.
        let inside = ["sync", "src", "dst", "--backup-dir", "dst/bak"];
        if who == "ours" {
            let o = super::command(&inside, home.path())
                .current_dir(top.path())
                .output()
                .unwrap();
            assert_eq!(code(&o), 1, "{}", stderr(&o));
            assert!(stderr(&o).contains("overlaps"), "{}", stderr(&o));
        }
    }
    assert_eq!(kept[0], kept[1]);
}

#[test]
fn purge_and_rmdirs_remove_the_directory_itself_as_rclone() {
    if rclone().is_none() {
        return;
    }
    let home = TempDir::new().unwrap();
    let mut trees = Vec::new();
    for who in ["ours", "rclone"] {
        let top = TempDir::new().unwrap();
        let p = |rel: &str| top.path().join(rel);
        for d in ["d/e/f", "g", "h/i", "k"] {
            std::fs::create_dir_all(p(d)).unwrap();
        }
        std::fs::write(p("d/x"), b"1").unwrap();
        std::fs::write(p("k/y"), b"2").unwrap();
        let steps: [&[&str]; 4] = [
            &["purge", &s(&p("d"))],
            &["rmdirs", "--leave-root", &s(&p("g"))],
            &["rmdirs", &s(&p("h"))],
            &["rmdirs", &s(&p("k"))],
        ];
        let seen = steps_by(who, home.path(), &steps, top.path());
        trees.push(seen);
    }
    assert_eq!(trees[0], trees[1]);
    // purge took d itself; rmdirs --leave-root kept g; rmdirs took h; k has a file.
    assert_eq!(
        trees[0][3],
        [
            ("k/y".to_string(), b"2".to_vec()),
            ("g/".to_string(), Vec::new()),
            ("k/".to_string(), Vec::new())
        ]
    );
}

#[test]
fn bwlimit_holds_for_copyto_moveto_and_rcat() {
    let home = TempDir::new().unwrap();
    let (src, dst) = trees();
    let data = vec![7u8; 3000];
    std::fs::write(src.path().join("z"), &data).unwrap();
    let z = s(&src.path().join("z"));
    // 3000 bytes at 1 KiB/s from an empty bucket: at least 2 s; a timetable whose every
    // entry says 1k too.
    for (i, bw) in ["1k", "Mon-00:00,1k Sun-00:00,1k"].into_iter().enumerate() {
        for (command, stdin) in [
            ("copyto", None),
            ("moveto", None),
            ("rcat", Some(&data[..])),
        ] {
            // New names each round: an unchanged destination would not be written at all.
            let to = s(&dst.path().join(format!("{command}{i}")));
            let from = s(&dst.path().join(format!("copyto{i}")));
            let args: Vec<&str> = match command {
                "copyto" => vec![command, "--bwlimit", bw, &z, &to],
                "moveto" => vec![command, "--bwlimit", bw, &from, &to],
                _ => vec![command, "--bwlimit", bw, &to],
            };
            let started = std::time::Instant::now();
            let o = run(&args, stdin, home.path());
            assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
            let took = started.elapsed();
            assert!(took >= Duration::from_secs(2), "{bw} {command}: {took:?}");
            assert_eq!(std::fs::read(&to).unwrap(), data);
        }
    }
    let o = run(
        &["copyto", "--bwlimit", "08:00,1M 9:00", &z, &z],
        None,
        home.path(),
    );
    assert_eq!(code(&o), 1, "a bad timetable is a usage error");
}

#[test]
fn dedupe_goes_by_name_unless_by_hash_as_rclone() {
    if rclone().is_none() {
        return;
    }
    let home = TempDir::new().unwrap();
    let mut results = Vec::new();
    for who in ["ours", "rclone"] {
        let dir = TempDir::new().unwrap();
        std::fs::write(dir.path().join("a"), b"same").unwrap();
        std::fs::write(dir.path().join("b"), b"same").unwrap();
        std::fs::write(dir.path().join("c"), b"diff").unwrap();
        let d = s(dir.path());
        let steps: [&[&str]; 2] = [
            // By name: no store here has duplicate names; identical content is left alone.
            &["dedupe", "--dedupe-mode", "first", &d],
            &["dedupe", "--by-hash", "--dedupe-mode", "first", &d],
        ];
        let seen = steps_by(who, home.path(), &steps, dir.path());
        results.push(seen);
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0][0].len(), 3, "by name deleted something");
    assert_eq!(results[0][1].len(), 2, "by hash kept both copies");
}

/// Through `at(path)` (a URL on a test server): a second `copyto` of an unchanged file
/// transfers nothing; `moveto` onto it deletes the source; `--backup-dir` on the same
/// store keeps what a sync replaces.
#[cfg(any(feature = "s3", feature = "sftp"))]
fn one_object_on_a_server(at: &dyn Fn(&str) -> String) {
    let home = TempDir::new().unwrap();
    let (src, _) = trees();
    let a = s(&src.path().join("a.txt"));
    let obj = at("one.txt");
    let o = run(&["copyto", &a, &obj], None, home.path());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let again = run(
        &["copyto", "-v", "--error-on-no-transfer", &a, &obj],
        None,
        home.path(),
    );
    assert_eq!(code(&again), 9, "copied again: {}", stderr(&again));
    assert!(!stderr(&again).contains(": Copied"), "{}", stderr(&again));
    let twin = src.path().join("twin.txt");
    std::fs::copy(src.path().join("a.txt"), &twin).unwrap();
    let t = std::fs::metadata(src.path().join("a.txt"))
        .unwrap()
        .modified()
        .unwrap();
    set_mtime(&twin, t);
    let o = run(&["moveto", &s(&twin), &obj], None, home.path());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!twin.exists(), "moveto kept the source");
    // A sync that replaces one.txt keeps the old one in the backup directory beside it.
    std::fs::write(src.path().join("one.txt"), b"replaced!").unwrap();
    let tree = at("tree");
    let o = run(&["copyto", &a, &at("tree/one.txt")], None, home.path());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = run(
        &["sync", &s(src.path()), &tree, "--backup-dir", &at("bak")],
        None,
        home.path(),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let kept = run(&["cat", &at("bak/one.txt")], None, home.path());
    assert_eq!(super::stdout(&kept), "alpha", "{}", stderr(&kept));
    let purge = run(&["purge", &at("")], None, home.path());
    assert_eq!(code(&purge), 0, "{}", stderr(&purge));
}

#[cfg(feature = "s3")]
#[test]
fn one_object_transfers_on_s3() {
    let Some(env) = crate::support::require_server("garage") else {
        return;
    };
    let prefix = crate::s3::unique_prefix("cli-one");
    let at = |rel: &str| super::remote::s3_url(&env, &format!("{prefix}/{rel}"));
    one_object_on_a_server(&at);
    crate::s3::cleanup(&env, &prefix);
}

#[cfg(feature = "sftp")]
#[test]
fn one_object_transfers_on_sftp() {
    let Some(env) = crate::support::require_sftp() else {
        return;
    };
    let root = crate::sftp::root(&env, "cli-one");
    let at = |rel: &str| super::remote::sftp_url(&env, &format!("{}/{rel}", root.display()));
    one_object_on_a_server(&at);
}

/// `--max-depth` on the transfer, check, hash and delete commands, side by side with
/// rclone: objects deeper than the limit take no part, and a sync deletes none of them.
#[test]
fn max_depth_limits_transfers_checks_sums_and_deletes_as_rclone() {
    if rclone().is_none() {
        return;
    }
    let home = TempDir::new().unwrap();
    let make = || {
        let (src, dst) = (TempDir::new().unwrap(), TempDir::new().unwrap());
        for (p, data) in [("a.txt", "a"), ("d/b.txt", "bb"), ("d/e/c.txt", "ccc")] {
            let f = src.path().join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, data).unwrap();
        }
        for (p, data) in [("z", "extra"), ("d/e/deep", "extra")] {
            let f = dst.path().join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, data).unwrap();
        }
        (src, dst)
    };
    for (command, depth) in [("copy", "1"), ("sync", "2"), ("sync", "1"), ("move", "2")] {
        let ((src_o, ours), (src_r, theirs)) = (make(), make());
        let o = run(
            &[
                command,
                "--max-depth",
                depth,
                &s(src_o.path()),
                &s(ours.path()),
            ],
            None,
            home.path(),
        );
        assert_eq!(code(&o), 0, "{command} {depth}: {}", stderr(&o));
        let r = run_rclone(&[
            command,
            "--max-depth",
            depth,
            &s(src_r.path()),
            &s(theirs.path()),
        ]);
        assert!(r.status.success(), "{command} {depth}: rclone failed");
        assert_eq!(
            contents(ours.path()),
            contents(theirs.path()),
            "{command} {depth}"
        );
        assert_eq!(
            contents(src_o.path()),
            contents(src_r.path()),
            "{command} {depth}: source"
        );
    }
    let (src, dst) = make();
    for line in [
        &["md5sum", "--max-depth", "2"][..],
        &["sha1sum", "--max-depth", "1"],
        &["check", "--max-depth", "1"],
    ] {
        let mut ours: Vec<String> = line.iter().map(|a| a.to_string()).collect();
        ours.push(s(src.path()));
        if line[0] == "check" {
            // The same depth-1 file on both sides, a difference below.
            std::fs::write(dst.path().join("a.txt"), "a").unwrap();
            std::fs::remove_file(dst.path().join("z")).unwrap();
            ours.push(s(dst.path()));
        }
        let args: Vec<&str> = ours.iter().map(String::as_str).collect();
        let o = run(&args, None, home.path());
        let r = run_rclone(&args);
        assert_eq!(
            code(&o),
            r.status.code().unwrap(),
            "{line:?}: {}",
            stderr(&o)
        );
        if line[0] != "check" {
            let mut a: Vec<_> = String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_owned)
                .collect();
            let mut b: Vec<_> = String::from_utf8_lossy(&r.stdout)
                .lines()
                .map(str::to_owned)
                .collect();
            a.sort();
            b.sort();
            assert_eq!(a, b, "{line:?}");
        }
    }
    let (tree, _) = make();
    let o = run(
        &["delete", "--max-depth", "1", &s(tree.path())],
        None,
        home.path(),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let (files, _) = snapshot(tree.path());
    let left: Vec<_> = files.keys().cloned().collect();
    assert_eq!(left, ["d/b.txt", "d/e/c.txt"]);
}
