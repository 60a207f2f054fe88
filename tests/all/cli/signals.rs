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

/// Ctrl-C during a multipart upload to S3 (Garage): no object appears and no multipart
/// upload is left pending (rclone leaves them, invisible and billed).
#[cfg(feature = "s3")]
#[test]
fn sigint_during_a_multipart_upload_leaves_nothing_pending() {
    use omnistorage::{Backend, Path};
    let Some(env) = crate::support::require_server("garage") else {
        return;
    };
    let (home, src) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let b = FileBackend::new(src.path()).unwrap();
    put(&b, "big.bin", &vec![7u8; 16 * 1024 * 1024], t(1));
    let prefix = crate::s3::unique_prefix("clisig");
    let url = format!(
        "s3://{}/{prefix}?endpoint={}&region={}&access_key_id={}&secret_access_key={}&part_size=5M",
        env.bucket, env.endpoint, env.region, env.access_key, env.secret_key
    );
    let store = crate::s3::builder(&env)
        .prefix(&prefix)
        .build()
        .expect("backend");
    // 16 MiB at 2 MiB/s: eight seconds; the signal comes once the first part is stored.
    let child = Command::new(env!("CARGO_BIN_EXE_omnistorage"))
        .args(["copy", "--bwlimit", "2M"])
        .arg(src.path())
        .arg(&url)
        .env("HOME", home.path())
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let started = Instant::now();
    while store
        .pending_uploads(&Path::root())
        .map(|l| l.count())
        .unwrap_or(0)
        == 0
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no multipart upload began"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let out = child.wait_with_output().expect("ends");
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !store.exists(&Path::parse("big.bin").unwrap()).unwrap(),
        "no object"
    );
    let pending = store.pending_uploads(&Path::root()).unwrap().count();
    assert_eq!(pending, 0, "the multipart upload was aborted");
    crate::s3::cleanup(&env, &prefix);
}
