//! Ctrl-C: the first one stops the run cleanly (no partial object at the destination), the
//! exit code is 130; a second run converges.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use omnistorage::FileBackend;
use omnistorage::conformance::TempDir;

use crate::sync::{put, t, tree};

#[test]
fn sigint_stops_cleanly_and_leaves_no_partial_object() {
    let (home, src, dst) = (
        TempDir::new().unwrap(),
        TempDir::new().unwrap(),
        TempDir::new().unwrap(),
    );
    let b = FileBackend::new(src.path()).unwrap();
    for i in 0..8 {
        put(&b, &format!("f{i}"), &vec![i as u8; 256 * 1024], t(i));
    }
    // 2 MiB at 256 KiB/s: about 8 s, so the signal comes mid-run.
    let child = Command::new(env!("CARGO_BIN_EXE_omnistorage"))
        .args(["sync", "--bwlimit", "256K", "--transfers", "2"])
        .arg(src.path())
        .arg(dst.path())
        .env("HOME", home.path())
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    // Wait until the run has begun writing (a staged file appears), then interrupt.
    let started = Instant::now();
    while std::fs::read_dir(dst.path())
        .map(|d| d.count())
        .unwrap_or(0)
        == 0
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the run never started writing"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("ends");
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Cancelled writers were aborted: no staged file is left on disk.
    let leftovers: Vec<String> = std::fs::read_dir(dst.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".omnistorage"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // Whatever is at the destination is whole.
    let src_tree = tree(&b, "");
    for (name, data) in tree(&FileBackend::new(dst.path()).unwrap(), "") {
        assert_eq!(Some(&data), src_tree.get(&name), "{name}");
    }
    let again = Command::new(env!("CARGO_BIN_EXE_omnistorage"))
        .arg("sync")
        .arg(src.path())
        .arg(dst.path())
        .env("HOME", home.path())
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .output()
        .expect("runs");
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(tree(&FileBackend::new(dst.path()).unwrap(), ""), src_tree);
}
