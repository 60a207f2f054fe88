//! Log lines side by side with rclone 1.60: `-v` names each transfer and delete, `-vv`
//! adds the skips and reasons, `--dry-run` logs what it skips and never `Copied` or
//! `Deleted`.

use std::path::Path as FsPath;
use std::process::Command;

use omnistorage::conformance::TempDir;

use super::{code, run, stderr};
use crate::sync::parity::rclone;

fn s(p: &FsPath) -> String {
    p.to_string_lossy().into_owned()
}

/// The per-object lines of a log (`LEVEL: object: message`, the date cut off, without
/// rclone's config notice and the stats block), sorted: transfers run in parallel.
fn object_lines(log: &str) -> Vec<String> {
    let mut lines: Vec<String> = log
        .lines()
        .filter_map(|l| l.get(20..))
        .filter(|l| {
            let obj = l.split_once(": ").map_or("", |(_, rest)| rest);
            (l.starts_with("INFO") || l.starts_with("NOTICE") || l.starts_with("DEBUG"))
                && obj.contains(": ")
                && !obj.contains("Config file")
                && !obj.starts_with("omnistorage: ")
                && !obj.starts_with("rclone: ")
        })
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

fn rclone_log(args: &[&str]) -> String {
    let o = Command::new("rclone")
        .args(["--config", "/dev/null"])
        .args(args)
        .output()
        .expect("rclone runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A source with two files, a destination with a changed one and an extra.
fn trees() -> (TempDir, TempDir) {
    let (src, dst) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    std::fs::create_dir(src.path().join("sub")).unwrap();
    std::fs::write(src.path().join("a.txt"), b"alpha").unwrap();
    std::fs::write(src.path().join("sub/b.txt"), b"beta").unwrap();
    std::fs::write(dst.path().join("a.txt"), b"old").unwrap();
    std::fs::write(dst.path().join("extra"), b"x").unwrap();
    (src, dst)
}

#[test]
fn verbose_sync_logs_each_copy_and_delete_as_rclone() {
    if rclone().is_none() {
        return;
    }
    let home = TempDir::new().unwrap();
    let mut logs = Vec::new();
    for who in ["ours", "rclone"] {
        for dry in [true, false] {
            let (src, dst) = trees();
            let mut args = vec!["sync", "-v"];
            if dry {
                args.push("--dry-run");
            }
            let (a, b) = (s(src.path()), s(dst.path()));
            args.extend([a.as_str(), b.as_str()]);
            let log = if who == "ours" {
                args.push("--no-hash-cache");
                let o = run(&args, None, home.path());
                assert_eq!(code(&o), 0, "{}", stderr(&o));
                stderr(&o)
            } else {
                rclone_log(&args)
            };
            if dry {
                assert!(
                    !log.contains(": Copied") && !log.contains(": Deleted"),
                    "{who}: a dry run logged a change:\n{log}"
                );
            }
            logs.push(object_lines(&log));
        }
    }
    assert_eq!(logs[0], logs[2], "dry run");
    assert_eq!(logs[1], logs[3], "real run");
    assert_eq!(
        logs[1],
        [
            "INFO  : a.txt: Copied (replaced existing)",
            "INFO  : extra: Deleted",
            "INFO  : sub/b.txt: Copied (new)",
        ]
    );
    assert!(logs[0].contains(&"NOTICE: extra: Skipped delete as --dry-run is set (size 1)".into()));
}

#[test]
fn verbose_copyto_and_moveto_log_as_rclone() {
    if rclone().is_none() {
        return;
    }
    let home = TempDir::new().unwrap();
    let mut logs = Vec::new();
    for who in ["ours", "rclone"] {
        let (src, dst) = trees();
        let from = s(&src.path().join("a.txt"));
        let to = s(&dst.path().join("x.txt"));
        let moved = s(&dst.path().join("moved.txt"));
        let steps: [&[&str]; 5] = [
            &["copyto", "-v", "--dry-run", &from, &to],
            &["copyto", "-v", &from, &to],
            &["copyto", "-vv", &from, &to],
            &["copyto", "-v", "--ignore-times", &from, &to],
            &["moveto", "-vv", &to, &moved],
        ];
        let mut mine = Vec::new();
        for args in steps {
            let log = if who == "ours" {
                let o = run(args, None, home.path());
                assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
                stderr(&o)
            } else {
                rclone_log(args)
            };
            // rclone's -vv says why a file is unchanged in its own words: the verdicts.
            let keep = |l: &String| !l.starts_with("DEBUG") || l.ends_with("Unchanged skipping");
            mine.push(
                object_lines(&log)
                    .into_iter()
                    .filter(keep)
                    .collect::<Vec<_>>(),
            );
        }
        logs.push(mine);
    }
    assert_eq!(logs[0], logs[1]);
    assert_eq!(
        logs[0][1],
        ["INFO  : a.txt: Copied (new) to: x.txt"],
        "{:?}",
        logs[0]
    );
    assert_eq!(logs[0][2], ["DEBUG : a.txt: Unchanged skipping"]);
}

#[test]
fn very_verbose_says_something_on_every_command() {
    let home = TempDir::new().unwrap();
    let (src, _) = trees();
    let o = run(&["ls", "-vv", &s(src.path())], None, home.path());
    assert_eq!(code(&o), 0);
    assert!(
        stderr(&o).contains("DEBUG : omnistorage: Version "),
        "{}",
        stderr(&o)
    );
    let quiet = run(&["ls", &s(src.path())], None, home.path());
    assert_eq!(stderr(&quiet), "");
}
