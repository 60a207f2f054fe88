//! Parity with rclone (the behaviour reference), run side by side on the same trees: the
//! same destination tree after `sync`, the same `check` verdicts. rclone 1.60 is installed
//! by `scripts/test`; without it these tests fail under CI and skip (loudly) elsewhere.

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use omnistorage::conformance::TempDir;
use omnistorage::sync::{self, Options};
use omnistorage::{FileBackend, Path};

use super::{put, t};

pub(crate) fn rclone() -> Option<()> {
    let ok = Command::new("rclone")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(());
    }
    if crate::support::under_ci() {
        panic!("rclone is not installed: scripts/test installs it (CI=true: no skipping)");
    }
    eprintln!("!!! rclone missing: parity test skipped");
    None
}

pub(crate) fn run_rclone(args: &[&str]) -> std::process::Output {
    Command::new("rclone")
        .args(["--config", "/dev/null", "--log-level", "ERROR"])
        .args(args)
        .output()
        .expect("rclone runs")
}

/// The source: nested names that exercise ordering, odd characters, an empty file, an
/// empty directory.
pub(crate) fn source(dir: &FsPath) {
    let b = FileBackend::new(dir).expect("file");
    let names = [
        "a",
        "a.b",
        "a-b",
        "a0",
        "b/a",
        "b/a.txt",
        "b/a0/deep/x",
        "c d/é è",
        "c d/[x]{y}",
        "dir/sub/f1",
        "dir/sub/f2",
        "dir/sub2/f",
        "empty-file",
        "z",
    ];
    for (i, n) in names.iter().enumerate() {
        let data = if *n == "empty-file" {
            Vec::new()
        } else {
            format!("{n} {i}").repeat(i + 1).into_bytes()
        };
        put(&b, n, &data, t(i as u64 * 7));
    }
    std::fs::create_dir_all(dir.join("only-empty-in-src")).expect("mkdir");
}

/// A destination with extras (files and directories), changed files (size; same size other
/// bytes and time), files equal to the source, and an empty directory.
pub(crate) fn destination(dir: &FsPath) {
    let b = FileBackend::new(dir).expect("file");
    put(&b, "a", b"a 0", t(0)); // equal to the source's
    put(&b, "a.b", b"shorter", t(7)); // other size
    put(&b, "a-b", b"a-b 2a-b 2x", t(999)); // same size, other bytes and time
    put(&b, "extra", b"x", t(1));
    put(&b, "gone/deeper/y", b"y", t(1));
    put(&b, "dir/sub/old", b"o", t(1));
    std::fs::create_dir_all(dir.join("empty-in-dst/inner")).expect("mkdir");
}

/// Files (relative path → bytes and mtime) and directories of a local tree.
pub(crate) type Snapshot = (BTreeMap<String, (Vec<u8>, SystemTime)>, Vec<String>);

pub(crate) fn snapshot(root: &FsPath) -> Snapshot {
    let mut files = BTreeMap::new();
    let mut dirs = Vec::new();
    let mut todo = vec![PathBuf::from(root)];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let e = e.expect("entry");
            let path = e.path();
            let rel = path
                .strip_prefix(root)
                .expect("under")
                .to_string_lossy()
                .into_owned();
            let meta = e.metadata().expect("meta");
            if meta.is_dir() {
                dirs.push(rel);
                todo.push(path);
            } else {
                let data = std::fs::read(&path).expect("read");
                files.insert(rel, (data, meta.modified().expect("mtime")));
            }
        }
    }
    dirs.sort();
    (files, dirs)
}

#[test]
fn sync_leaves_the_same_tree_as_rclone() {
    if rclone().is_none() {
        return;
    }
    let (src, ours, theirs) = (
        TempDir::new().unwrap(),
        TempDir::new().unwrap(),
        TempDir::new().unwrap(),
    );
    source(src.path());
    destination(ours.path());
    destination(theirs.path());
    let out = run_rclone(&[
        "sync",
        &src.path().to_string_lossy(),
        &theirs.path().to_string_lossy(),
    ]);
    assert!(
        out.status.success(),
        "rclone: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = FileBackend::new(src.path()).unwrap();
    let b = FileBackend::new(ours.path()).unwrap();
    let r = sync::sync(
        &a,
        &Path::root(),
        &b,
        &Path::root(),
        &Options::new().hash_cache(false),
    )
    .expect("sync");
    assert!(r.is_ok(), "{:?}", r.failures);
    assert_eq!(snapshot(ours.path()), snapshot(theirs.path()));
}

/// rclone check's `--combined` report as `(mark, path)` lines, sorted.
pub(crate) fn rclone_combined(src: &FsPath, dst: &FsPath, extra: &[&str]) -> Vec<String> {
    let report = TempDir::new().unwrap();
    let file = report.path().join("combined");
    let mut args = vec![
        "check".to_string(),
        src.to_string_lossy().into_owned(),
        dst.to_string_lossy().into_owned(),
        "--combined".into(),
        file.to_string_lossy().into_owned(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let _ = run_rclone(&refs); // exits 1 when the trees differ: the report is what counts
    let mut lines: Vec<String> = std::fs::read_to_string(&file)
        .expect("combined report")
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

#[test]
fn check_gives_the_same_verdicts_as_rclone() {
    if rclone().is_none() {
        return;
    }
    let (src, dst) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    source(src.path());
    destination(dst.path());
    let a = FileBackend::new(src.path()).unwrap();
    let b = FileBackend::new(dst.path()).unwrap();
    for one_way in [false, true] {
        let r = sync::check(
            &a,
            &Path::root(),
            &b,
            &Path::root(),
            &Options::new().one_way(one_way),
        )
        .expect("check");
        let mut ours: Vec<String> = r
            .combined()
            .iter()
            .map(|(c, p)| format!("{c} {p}"))
            .collect();
        ours.sort();
        let extra: &[&str] = if one_way { &["--one-way"] } else { &[] };
        assert_eq!(
            ours,
            rclone_combined(src.path(), dst.path(), extra),
            "one_way {one_way}"
        );
    }
}

/// A filter file with most of rclone's syntax: comments, anchors, directory rules, `**`,
/// classes and alternatives, first match wins, an include that hides the rest.
pub(crate) const RULES: &str = "\
# parity rules
- /dir/sub2/
- *.b
+ /b/**
+ {a,z}
+ c d/[xé]*
- dir/sub/f2
+ dir/**
- *
";

#[test]
fn a_filter_file_gives_the_same_tree_and_check_as_rclone() {
    if rclone().is_none() {
        return;
    }
    let (src, ours, theirs) = (
        TempDir::new().unwrap(),
        TempDir::new().unwrap(),
        TempDir::new().unwrap(),
    );
    let rules_dir = TempDir::new().unwrap();
    let rules = rules_dir.path().join("rules.txt");
    std::fs::write(&rules, RULES).unwrap();
    source(src.path());
    destination(ours.path());
    destination(theirs.path());
    let out = run_rclone(&[
        "sync",
        &src.path().to_string_lossy(),
        &theirs.path().to_string_lossy(),
        "--filter-from",
        &rules.to_string_lossy(),
    ]);
    assert!(
        out.status.success(),
        "rclone: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let filter = omnistorage::sync::filter::Filter::builder()
        .filter_from(RULES, "rules.txt")
        .build()
        .expect("rules");
    let a = FileBackend::new(src.path()).unwrap();
    let b = FileBackend::new(ours.path()).unwrap();
    let opts = Options::new().hash_cache(false).filter(filter);
    let r = sync::sync(&a, &Path::root(), &b, &Path::root(), &opts).expect("sync");
    assert!(r.is_ok(), "{:?}", r.failures);
    assert!(
        r.copied > 0 && r.copied < 14,
        "the rules select some: {r:?}"
    );
    assert_eq!(snapshot(ours.path()), snapshot(theirs.path()));

    // And check, with the same rules, on a fresh destination.
    let fresh = TempDir::new().unwrap();
    destination(fresh.path());
    let c = FileBackend::new(fresh.path()).unwrap();
    let report = sync::check(&a, &Path::root(), &c, &Path::root(), &opts).expect("check");
    let mut lines: Vec<String> = report
        .combined()
        .iter()
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    lines.sort();
    let rules_arg = rules.to_string_lossy().into_owned();
    assert_eq!(
        lines,
        rclone_combined(src.path(), fresh.path(), &["--filter-from", &rules_arg])
    );
}
