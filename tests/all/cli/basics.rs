//! Commands, flags, output and exit codes on local trees.

use omnistorage::conformance::TempDir;
use omnistorage::{BackendExt, FileBackend};

use super::{code, run, stderr, stdout};
use crate::sync::{put, t, tree};

/// A home of its own, a source tree and an empty destination directory.
struct World {
    home: TempDir,
    src: TempDir,
    dst: TempDir,
}

fn world() -> World {
    let w = World {
        home: TempDir::new().unwrap(),
        src: TempDir::new().unwrap(),
        dst: TempDir::new().unwrap(),
    };
    let b = FileBackend::new(w.src.path()).unwrap();
    put(&b, "a.txt", b"alpha", t(1));
    put(&b, "dir/b.jpg", b"bravo!", t(2));
    put(&b, "dir/sub/c.tmp", b"charlie", t(3));
    w
}

impl World {
    fn s(&self) -> String {
        self.src.path().to_string_lossy().into_owned()
    }
    fn d(&self) -> String {
        self.dst.path().to_string_lossy().into_owned()
    }
    fn run(&self, args: &[&str]) -> std::process::Output {
        run(args, None, self.home.path())
    }
    fn src_tree(&self) -> std::collections::BTreeMap<String, Vec<u8>> {
        tree(&FileBackend::new(self.src.path()).unwrap(), "")
    }
    fn dst_tree(&self) -> std::collections::BTreeMap<String, Vec<u8>> {
        tree(&FileBackend::new(self.dst.path()).unwrap(), "")
    }
}

#[test]
fn sync_copies_the_tree_and_reports() {
    let w = world();
    let o = w.run(&["sync", &w.s(), &w.d(), "-P"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(w.dst_tree(), w.src_tree());
    // -P off a terminal: rclone's summary block.
    let err = stderr(&o);
    assert!(
        err.contains("Transferred:") && err.contains("3 / 3, 100%"),
        "{err}"
    );
    assert!(err.contains("Elapsed time:"), "{err}");
    // Without -P or -v a sync prints nothing, as rclone's.
    let quiet = w.run(&["sync", &w.s(), &w.d()]);
    assert_eq!(stderr(&quiet), "");
    let again = w.run(&["sync", &w.s(), &w.d(), "--error-on-no-transfer"]);
    assert_eq!(code(&again), 9, "nothing to transfer: {}", stderr(&again));
}

#[test]
fn sync_deletes_extras_and_dry_run_changes_nothing() {
    let w = world();
    let dst = FileBackend::new(w.dst.path()).unwrap();
    put(&dst, "extra", b"x", t(1));
    let dry = w.run(&["sync", "-n", &w.s(), &w.d()]);
    assert_eq!(code(&dry), 0);
    assert!(dst.contains("extra").unwrap());
    assert!(!dst.contains("a.txt").unwrap());
    let o = w.run(&["sync", &w.s(), &w.d()]);
    assert_eq!(code(&o), 0);
    assert_eq!(w.dst_tree(), w.src_tree());
}

#[test]
fn filters_from_flags_and_files() {
    let w = world();
    let rules = w.home.path().join("rules");
    std::fs::write(&rules, "- *.tmp\n+ **\n").unwrap();
    let o = w.run(&[
        "copy",
        &w.s(),
        &w.d(),
        "--exclude",
        "*.jpg",
        "--filter-from",
        &rules.to_string_lossy(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(w.dst_tree().keys().collect::<Vec<_>>(), ["a.txt"]);
    let bad = w.run(&["copy", &w.s(), &w.d(), "--include", "a***b"]);
    assert_eq!(code(&bad), 1);
    assert!(stderr(&bad).contains("a***b"), "{}", stderr(&bad));
}

#[test]
fn exit_codes_follow_rclone() {
    let w = world();
    let home = w.home.path();
    let missing_dir = home.join("nope").to_string_lossy().into_owned();
    let missing_file = home.join("nope.txt").to_string_lossy().into_owned();
    let cases: &[(&[&str], i32)] = &[
        (&["sync", &missing_dir, &w.d()], 3),
        // rclone 1.60: cat lists the parent for the file ("directory not found").
        (&["cat", &missing_file], 3),
        (&["frobnicate"], 1),
        (&["sync", "--no-such-flag", "a", "b"], 1),
        (&["sync", "only-one"], 1),
        (&["sync", "bogus://x", &w.d()], 1),
        (
            &[
                "copy",
                &w.s(),
                &w.d(),
                "--max-transfer",
                "10B",
                "--transfers",
                "1",
            ],
            8,
        ),
        (&["version"], 0),
    ];
    for (args, want) in cases {
        let o = w.run(args);
        assert_eq!(code(&o), *want, "{args:?}: {}", stderr(&o));
        if *want != 0 {
            let err = stderr(&o);
            assert!(
                !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
                "{err}"
            );
        }
    }
}

#[test]
fn max_delete_is_fatal_and_deletes_nothing() {
    let w = world();
    let dst = FileBackend::new(w.dst.path()).unwrap();
    for i in 0..3 {
        put(&dst, &format!("extra{i}"), b"x", t(1));
    }
    let o = w.run(&["sync", &w.s(), &w.d(), "--max-delete", "2"]);
    assert_eq!(code(&o), 7, "{}", stderr(&o));
    assert!(dst.contains("extra0").unwrap());
}

#[test]
fn json_log_lines_parse_and_verbose_names_each_object() {
    let w = world();
    let o = w.run(&["copy", &w.s(), &w.d(), "-v", "--use-json-log"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    let copied: Vec<&str> = err.lines().filter(|l| l.contains("Copied (new)")).collect();
    assert_eq!(copied.len(), 3, "{err}");
    for line in err.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            line.starts_with('{') && line.ends_with('}'),
            "not a JSON line: {line}"
        );
        assert!(
            line.contains("\"level\":") && line.contains("\"time\":"),
            "{line}"
        );
    }
    assert!(
        copied
            .iter()
            .any(|l| l.contains("\"object\":\"dir/b.jpg\"")),
        "{err}"
    );
}

#[test]
fn log_file_gets_the_lines() {
    let w = world();
    let log = w.home.path().join("run.log");
    let o = w.run(&[
        "copy",
        &w.s(),
        &w.d(),
        "-v",
        "--log-file",
        &log.to_string_lossy(),
    ]);
    assert_eq!(code(&o), 0);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("a.txt") && text.contains("INFO"), "{text}");
}

#[test]
fn errors_are_one_line_each() {
    let w = world();
    let o = w.run(&[
        "sync",
        &w.home.path().join("nope").to_string_lossy(),
        &w.d(),
    ]);
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not found"), "{err}");
}

#[test]
fn listings_in_rclone_formats() {
    let w = world();
    let ls = w.run(&["ls", &w.s()]);
    assert_eq!(
        stdout(&ls),
        "        5 a.txt\n        6 dir/b.jpg\n        7 dir/sub/c.tmp\n"
    );
    let lsf = w.run(&["lsf", &w.s()]);
    assert_eq!(stdout(&lsf), "a.txt\ndir/\n");
    let lsf = w.run(&[
        "lsf",
        "-R",
        "--files-only",
        "--format",
        "ps",
        "--separator",
        ",",
        &w.s(),
    ]);
    assert_eq!(stdout(&lsf), "a.txt,5\ndir/b.jpg,6\ndir/sub/c.tmp,7\n");
    let size = w.run(&["size", &w.s()]);
    assert_eq!(
        stdout(&size),
        "Total objects: 3 (3)\nTotal size: 18 B (18 Byte)\n"
    );
    let json = w.run(&["lsjson", "-R", "--files-only", &w.s()]);
    let text = stdout(&json);
    assert!(text.starts_with("[\n{\"Path\":\"a.txt\",\"Name\":\"a.txt\",\"Size\":5,\"MimeType\":\"text/plain; charset=utf-8\",\"ModTime\":\"2023-11-14T22:13:21"), "{text}");
    assert!(text.trim_end().ends_with(']'));
    let sums = w.run(&["md5sum", &w.s()]);
    assert!(
        stdout(&sums).contains("2c1743a391305fbf367df8e4f069f9f9  a.txt"),
        "{}",
        stdout(&sums)
    );
}

#[test]
fn cat_with_offsets_and_rcat_from_stdin() {
    let w = world();
    let file = w.src.path().join("a.txt").to_string_lossy().into_owned();
    let all = w.run(&["cat", &file]);
    assert_eq!(stdout(&all), "alpha");
    assert_eq!(stdout(&w.run(&["cat", "--head", "2", &file])), "al");
    assert_eq!(stdout(&w.run(&["cat", "--tail", "2", &file])), "ha");
    assert_eq!(
        stdout(&w.run(&["cat", "--offset", "1", "--count", "3", &file])),
        "lph"
    );
    let target = w
        .dst
        .path()
        .join("in/streamed.txt")
        .to_string_lossy()
        .into_owned();
    let o = run(&["rcat", &target], Some(b"from stdin"), w.home.path());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        std::fs::read(w.dst.path().join("in/streamed.txt")).unwrap(),
        b"from stdin"
    );
}

#[test]
fn check_writes_rclone_reports() {
    let w = world();
    let _ = w.run(&["sync", &w.s(), &w.d()]);
    let dst = FileBackend::new(w.dst.path()).unwrap();
    put(&dst, "a.txt", b"ALPHA", t(1));
    put(&dst, "only-dst", b"x", t(1));
    let o = w.run(&["check", &w.s(), &w.d(), "--combined", "-"]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        stdout(&o),
        "* a.txt\n= dir/b.jpg\n= dir/sub/c.tmp\n- only-dst\n"
    );
    let one = w.run(&["check", "--one-way", &w.s(), &w.d(), "--differ", "-"]);
    assert_eq!(stdout(&one), "a.txt\n");
}

#[test]
fn copyto_moveto_deletefile_touch_and_purge() {
    let w = world();
    let from = w.src.path().join("a.txt").to_string_lossy().into_owned();
    let to = w
        .dst
        .path()
        .join("x/renamed.txt")
        .to_string_lossy()
        .into_owned();
    assert_eq!(code(&w.run(&["copyto", &from, &to])), 0);
    assert_eq!(
        std::fs::read(w.dst.path().join("x/renamed.txt")).unwrap(),
        b"alpha"
    );
    let moved = w
        .dst
        .path()
        .join("moved.txt")
        .to_string_lossy()
        .into_owned();
    assert_eq!(code(&w.run(&["moveto", &to, &moved])), 0);
    assert!(!w.dst.path().join("x/renamed.txt").exists());
    assert_eq!(code(&w.run(&["deletefile", &moved])), 0);
    // rclone 1.60: "is a directory or doesn't exist", exit 1.
    assert_eq!(code(&w.run(&["deletefile", &moved])), 1);
    let touched = w.dst.path().join("t.txt").to_string_lossy().into_owned();
    assert_eq!(code(&w.run(&["touch", &touched])), 0);
    assert!(w.dst.path().join("t.txt").exists());
    assert_eq!(code(&w.run(&["purge", &w.s()])), 0);
    assert!(w.src_tree().is_empty());
}
