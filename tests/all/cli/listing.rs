//! The listing commands side by side with rclone 1.60 on the same trees: the same bytes
//! (lines compared in order where both tools sort, as sets where rclone prints its walk's
//! order and we print full-path order), a file as the listed path, empty directories,
//! `--max-depth`, `cat` of a directory, and `about`.

use std::path::Path as FsPath;
use std::process::Command;

use omnistorage::FileBackend;
use omnistorage::conformance::TempDir;

use super::{code, run, stderr, stdout};
use crate::sync::parity::{rclone, source};
use crate::sync::{put, t};

/// rclone with no config, errors only, times in UTC (ours are).
fn theirs(args: &[&str]) -> std::process::Output {
    Command::new("rclone")
        .args(["--config", "/dev/null", "--log-level", "ERROR"])
        .args(args)
        .env("TZ", "UTC")
        .output()
        .expect("rclone runs")
}

/// The parity source (odd names, an empty file, an empty directory) and more: a file of
/// 3 MiB and some, nested empty directories, directory times set.
fn tree(dir: &FsPath) {
    source(dir);
    let b = FileBackend::new(dir).expect("file");
    put(&b, "big/blob", &vec![7u8; 3_147_441], t(5));
    std::fs::create_dir_all(dir.join("e/f/g")).expect("mkdir");
    // Directory times: fixed, so that both tools print the same ones.
    for d in [
        "b",
        "b/a0",
        "b/a0/deep",
        "big",
        "c d",
        "dir",
        "dir/sub",
        "dir/sub2",
    ] {
        set_time(&dir.join(d));
    }
    for d in ["e/f/g", "e/f", "e", "only-empty-in-src"] {
        set_time(&dir.join(d));
    }
}

fn set_time(path: &FsPath) {
    let f = std::fs::File::open(path).expect("open");
    f.set_modified(t(42)).expect("set time");
}

/// Our output and rclone's for `args` (the tree's path appended), with their exit codes.
fn both(args: &[&str], path: &str, home: &FsPath) -> ((i32, String), (i32, String)) {
    let mut full = args.to_vec();
    full.push(path);
    let o = run(&full, None, home);
    let r = theirs(&full);
    let ours = (code(&o), stdout(&o));
    let rc = r.status.code().unwrap_or(-1);
    let theirs = (rc, String::from_utf8_lossy(&r.stdout).into_owned());
    assert_eq!(ours.0, theirs.0, "{args:?}: exit codes: {}", stderr(&o));
    (ours, theirs)
}

/// The lines, sorted (`lsjson`'s without the comma that only the last one lacks).
fn sorted(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches(',')).collect();
    lines.sort_unstable();
    lines
}

/// Each command and flag set, on the same tree: the same bytes.
#[test]
fn listings_match_rclone_byte_for_byte() {
    if rclone().is_none() {
        return;
    }
    let (home, dir) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    tree(dir.path());
    let p = dir.path().to_string_lossy().into_owned();
    // Both tools print these in the same order.
    let exact: &[&[&str]] = &[
        &["tree"],
        &["tree", "--max-depth", "2"],
        &["tree", "--level", "1"],
        &["size"],
        &["size", "--json"],
        &["size", "--max-depth", "1"],
        &["lsd"],
        &["lsf"],
        &["lsf", "--format", "tsp", "--separator", "|"],
    ];
    for args in exact {
        let (ours, theirs) = both(args, &p, home.path());
        assert_eq!(ours.1, theirs.1, "{args:?}");
    }
    // rclone prints these in its walk's order, we in full-path order: the same lines.
    let as_sets: &[&[&str]] = &[
        &["ls"],
        &["lsl"],
        &["ls", "--max-depth", "2"],
        &["lsl", "--max-depth", "1"],
        &["lsd", "-R"],
        &["lsd", "--max-depth", "2"],
        &["lsf", "-R"],
        &["lsf", "-R", "--format", "pst", "--max-depth", "2"],
        &[
            "lsf",
            "-R",
            "--files-only",
            "--format",
            "hp",
            "--hash",
            "SHA-1",
        ],
        &["lsf", "-R", "--dirs-only"],
        &["lsf", "--max-depth", "3"],
        &["lsjson"],
        &["lsjson", "-R"],
        &["lsjson", "-R", "--files-only"],
        &["lsjson", "-R", "--dirs-only"],
        &[
            "lsjson",
            "-R",
            "--max-depth",
            "2",
            "--no-modtime",
            "--no-mimetype",
        ],
        &["lsjson", "--original"],
        &[
            "lsjson",
            "-R",
            "--hash",
            "--hash-type",
            "MD5",
            "--hash-type",
            "sha1",
        ],
        &["lsjson", "-R", "--hash-type", "sha256"],
        &["ls", "--include", "*.txt"],
        &["lsf", "-R", "--exclude", "dir/**"],
    ];
    for args in as_sets {
        let (ours, theirs) = both(args, &p, home.path());
        assert_eq!(sorted(&ours.1), sorted(&theirs.1), "{args:?}");
        assert!(!ours.1.is_empty(), "{args:?}");
    }
}

/// Empty directories are listed where the backend has directories, with their times.
#[test]
fn recursive_listings_show_empty_directories() {
    let (home, dir) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    tree(dir.path());
    let p = dir.path().to_string_lossy().into_owned();
    let lsf = run(&["lsf", "-R", "--dirs-only", &p], None, home.path());
    let text = stdout(&lsf);
    for d in ["e/\n", "e/f/\n", "e/f/g/\n", "only-empty-in-src/\n"] {
        assert!(text.contains(d), "{d}: {text}");
    }
    let lsd = run(&["lsd", "-R", &p], None, home.path());
    assert!(
        stdout(&lsd).contains("          -1 2023-11-14 22:14:02        -1 e/f/g\n"),
        "{}",
        stdout(&lsd)
    );
    let tree = run(&["tree", &p], None, home.path());
    assert!(
        stdout(&tree).contains("├── e\n│   └── f\n│       └── g\n"),
        "{}",
        stdout(&tree)
    );
}

/// A file as the listed path: that one object, exit 0, as rclone's.
#[test]
fn a_file_as_the_path_lists_that_object() {
    if rclone().is_none() {
        return;
    }
    let (home, dir) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    tree(dir.path());
    let file = dir.path().join("b/a.txt").to_string_lossy().into_owned();
    for args in [
        &["ls"][..],
        &["lsl"],
        &["lsd"],
        &["lsf"],
        &["lsf", "--format", "psth"],
        &["lsjson"],
        &["lsjson", "-R", "--hash-type", "md5"],
        &["size"],
        &["size", "--json"],
        &["tree"],
    ] {
        let (ours, theirs) = both(args, &file, home.path());
        assert_eq!(ours, theirs, "{args:?}");
    }
    let lsf = run(&["lsf", &file], None, home.path());
    assert_eq!(stdout(&lsf), "a.txt\n");
}

/// `cat DIR` prints the files under it, filters and `--max-depth` applied, as rclone's.
#[test]
fn cat_of_a_directory_prints_its_files() {
    if rclone().is_none() {
        return;
    }
    let (home, dir) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let b = FileBackend::new(dir.path()).unwrap();
    put(&b, "d/one.txt", b"1", t(1));
    put(&b, "d/two.jpg", b"22", t(2));
    put(&b, "d/sub/three.txt", b"333", t(3));
    let d = dir.path().join("d").to_string_lossy().into_owned();
    for args in [
        &["cat"][..],
        &["cat", "--include", "*.txt"],
        &["cat", "--max-depth", "1"],
    ] {
        let (ours, theirs) = both(args, &d, home.path());
        // rclone concatenates in its walk's order; compare the bytes as a multiset.
        let (mut a, mut b) = (ours.1.into_bytes(), theirs.1.into_bytes());
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "{args:?}");
    }
    let all = run(&["cat", &d], None, home.path());
    assert_eq!(stdout(&all), "133322", "full-path order");
}

/// `--max-depth` is a flag of the commands that honour it; any other refuses it by name.
#[test]
fn a_flag_a_command_does_not_take_is_refused_naming_both() {
    let (home, dir) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let p = dir.path().to_string_lossy().into_owned();
    for command in ["ls", "lsl", "lsd", "lsf", "lsjson", "size", "tree"] {
        let o = run(&[command, "--max-depth", "1", &p], None, home.path());
        assert_eq!(code(&o), 0, "{command}: {}", stderr(&o));
    }
    for line in [
        &["mkdir", "--max-depth", "1", "x"][..],
        &["about", "--max-depth", "1", "x"],
        &["lsd", "--hash-type", "md5", "x"],
        &["ls", "--json", "x"],
        &["lsl", "--no-modtime", "x"],
    ] {
        let o = run(line, None, home.path());
        assert_eq!(code(&o), 1, "{line:?}");
        let (flag, command) = (line[1], line[0]);
        let err = stderr(&o);
        assert!(
            err.contains(flag) && err.contains(&format!("\"{command}\"")),
            "{line:?}: {err}"
        );
    }
    // lsf's --hash takes a kind, lsjson's is a switch: each command parses its own.
    let o = run(
        &["lsf", "--hash", "sha1", "--format", "h", &p],
        None,
        home.path(),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = run(&["lsjson", "--hash", &p], None, home.path());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = run(&["lsf", "--hash", "whirlpool", &p], None, home.path());
    assert_eq!(code(&o), 1, "an unknown hash is an error: {}", stderr(&o));
}

/// `about` on local files: rclone's numbers (the total; used and free move as others
/// write), its line shapes and its JSON keys.
#[test]
fn about_on_local_files_as_rclone() {
    if rclone().is_none() {
        return;
    }
    let (home, dir) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let p = dir.path().to_string_lossy().into_owned();
    let (ours, theirs) = both(&["about", "--full"], &p, home.path());
    let total = |s: &str| s.lines().next().map(str::to_owned);
    assert_eq!(total(&ours.1), total(&theirs.1));
    let names = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| l.split(':').next().unwrap_or("").to_owned())
            .collect()
    };
    assert_eq!(names(&ours.1), ["Total", "Used", "Free"]);
    let (ours, theirs) = both(&["about"], &p, home.path());
    assert_eq!(names(&ours.1), names(&theirs.1));
    assert_eq!(total(&ours.1), total(&theirs.1));
    let (ours, theirs) = both(&["about", "--json"], &p, home.path());
    let keys = |s: &str| -> Vec<String> {
        s.lines()
            .filter_map(|l| l.trim().split('"').nth(1).map(str::to_owned))
            .collect()
    };
    assert_eq!(keys(&ours.1), keys(&theirs.1));
    assert!(ours.1.starts_with("{\n\t\"total\": "), "{}", ours.1);
}

/// `about` over SFTP (`statvfs@openssh.com`), and `ls` of a file and of an empty directory
/// there.
#[cfg(feature = "sftp")]
#[test]
fn about_and_listings_over_sftp() {
    let Some(env) = crate::support::require_sftp() else {
        return;
    };
    let home = TempDir::new().unwrap();
    let root = crate::sftp::root(&env, "cli-about");
    std::fs::create_dir_all(root.join("empty/inner")).unwrap();
    std::fs::write(root.join("f.txt"), b"hello").unwrap();
    let base = root.to_string_lossy().into_owned();
    let url = |path: &str| super::remote::sftp_url(&env, &format!("{base}{path}"));
    let o = run(&["about", "--json", &url("")], None, home.path());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.starts_with("{\n\t\"total\": ") && text.contains("\t\"free\": "),
        "{text}"
    );
    // The numbers as rclone's SFTP backend gives them: free is every free block.
    let o = run(&["about", "--full", &url("")], None, home.path());
    let ours = stdout(&o);
    let n = |text: &str, line: usize| -> u64 {
        let l = text.lines().nth(line).unwrap_or_default();
        l.split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    assert_eq!(n(&ours, 1) + n(&ours, 2), n(&ours, 0), "{ours}");
    if rclone().is_some() {
        let r = Command::new("rclone")
            .args(["--config", "/dev/null", "about", "--full"])
            .arg(format!("ss:{base}"))
            .env("RCLONE_CONFIG_SS_TYPE", "sftp")
            .env("RCLONE_CONFIG_SS_HOST", &env.host)
            .env("RCLONE_CONFIG_SS_PORT", env.port.to_string())
            .env("RCLONE_CONFIG_SS_USER", &env.user)
            .env("RCLONE_CONFIG_SS_KEY_FILE", &env.key)
            .env("RCLONE_CONFIG_SS_KNOWN_HOSTS_FILE", &env.known_hosts)
            .output()
            .expect("rclone runs");
        let theirs = String::from_utf8_lossy(&r.stdout).into_owned();
        assert_eq!(n(&ours, 0), n(&theirs, 0), "total: {ours} / {theirs}");
        let names = |t: &str| -> Vec<String> {
            t.lines()
                .map(|l| l.split(':').next().unwrap_or("").to_owned())
                .collect()
        };
        assert_eq!(names(&ours), names(&theirs));
    }
    let o = run(&["lsf", "-R", &url("")], None, home.path());
    assert_eq!(
        stdout(&o),
        "empty/\nempty/inner/\nf.txt\n",
        "{}",
        stderr(&o)
    );
    let o = run(&["lsl", &url("/f.txt")], None, home.path());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).ends_with(" f.txt\n"), "{}", stdout(&o));
}

/// On S3 (no directories) a path naming an object lists that object.
#[cfg(feature = "s3")]
#[test]
fn a_file_on_s3_lists_that_object() {
    let Some(env) = crate::support::require_server("garage") else {
        return;
    };
    let home = TempDir::new().unwrap();
    let prefix = crate::s3::unique_prefix("cli-list");
    let url = |path: &str| super::remote::s3_url(&env, &format!("{prefix}{path}"));
    let o = run(&["rcat", &url("/d/f.txt")], Some(b"hello"), home.path());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = run(&["lsf", &url("/d/f.txt")], None, home.path());
    assert_eq!(
        (code(&o), stdout(&o)),
        (0, "f.txt\n".into()),
        "{}",
        stderr(&o)
    );
    let o = run(&["lsf", "-R", &url("")], None, home.path());
    assert_eq!(stdout(&o), "d/\nd/f.txt\n", "{}", stderr(&o));
    let o = run(&["cat", &url("/d")], None, home.path());
    assert_eq!(stdout(&o), "hello", "{}", stderr(&o));
    crate::s3::cleanup(&env, &prefix);
}

/// On S3 (Garage), a tree rclone uploaded lists the same through both tools: times read
/// from each object (rclone's `mtime` metadata), directories as prefixes.
#[cfg(feature = "s3")]
#[test]
fn listings_on_s3_match_rclone() {
    let Some(env) = crate::support::require_server("garage") else {
        return;
    };
    if rclone().is_none() {
        return;
    }
    let (home, dir) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let b = FileBackend::new(dir.path()).unwrap();
    put(&b, "a.txt", b"alpha", t(1));
    put(&b, "d/b.jpg", b"bravo!", t(2));
    put(&b, "d/sub/c", &vec![3u8; 3_147_441], t(3));
    let prefix = crate::s3::unique_prefix("cli-list-parity");
    let remote = format!("g:{}/{prefix}", env.bucket);
    let rclone_s3 = |args: &[&str]| {
        crate::s3::rclone::rclone_on(&env, "g")
            .args(["--config", "/dev/null", "--log-level", "ERROR"])
            .args(args)
            .env("TZ", "UTC")
            .output()
            .expect("rclone runs")
    };
    let up = rclone_s3(&["copy", &dir.path().to_string_lossy(), &remote]);
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let url = super::remote::s3_url(&env, &prefix);
    for args in [
        &["lsl"][..],
        &["ls", "--max-depth", "2"],
        &["lsf", "-R", "--format", "psth"],
        &["lsf", "-R", "--dirs-only"],
        &["size"],
        &["tree"],
        &["lsjson", "-R", "--files-only", "--hash"],
    ] {
        let mut ours = args.to_vec();
        ours.push(&url);
        let o = run(&ours, None, home.path());
        assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
        let mut theirs = args.to_vec();
        theirs.push(&remote);
        let r = rclone_s3(&theirs);
        // rclone adds the storage class to lsjson on S3; we keep none.
        let r = String::from_utf8_lossy(&r.stdout).replace(",\"Tier\":\"STANDARD\"", "");
        assert_eq!(sorted(&stdout(&o)), sorted(&r), "{args:?}");
    }
    crate::s3::cleanup(&env, &prefix);
}
