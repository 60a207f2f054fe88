//! Interoperability with rclone: modification times, and `--use-server-modtime`.

use std::io::Write;
use std::time::{Duration, UNIX_EPOCH};

use omnistorage::{Backend, BackendExt, Path, WriteOptions};

use super::{builder, cleanup, each_server, unique_prefix};
use crate::support::require_server;

/// rclone with the remote `name:` on the S3 server of `env` (from the environment, as
/// rclone reads `RCLONE_CONFIG_NAME_*`), without the machine's CA bundle (loopback HTTP).
pub(crate) fn rclone_on(env: &crate::support::S3Env, name: &str) -> std::process::Command {
    let var = |key: &str| format!("RCLONE_CONFIG_{}_{key}", name.to_ascii_uppercase());
    let mut cmd = std::process::Command::new("rclone");
    cmd.env_remove("AWS_CA_BUNDLE")
        .env(var("TYPE"), "s3")
        .env(var("PROVIDER"), "Other")
        .env(var("ENDPOINT"), &env.endpoint)
        .env(var("ACCESS_KEY_ID"), &env.access_key)
        .env(var("SECRET_ACCESS_KEY"), &env.secret_key)
        .env(var("REGION"), &env.region)
        .env(var("FORCE_PATH_STYLE"), "true");
    cmd
}

/// Buckets written by rclone read right here, and the other way round: both keep the
/// modification time in `x-amz-meta-mtime`, in seconds with nine decimals.
#[test]
fn mtimes_interoperate_with_rclone() {
    // Not on s3s-fs: rclone HEADs the prefix it is given, and s3s-fs takes ~45 s to answer a
    // HEAD on a "directory" (with a 500).
    let Some(env) = require_server("garage") else {
        return;
    };
    if std::process::Command::new("rclone")
        .arg("version")
        .output()
        .is_err()
    {
        assert!(!crate::support::under_ci(), "rclone is required under CI");
        eprintln!("!!! SKIPPED: rclone is not installed");
        return;
    }
    let prefix = unique_prefix("rclone");
    let b = builder(&env).prefix(&prefix).build().unwrap();
    let ours = UNIX_EPOCH + Duration::new(1_577_934_245, 123_456_789); // 2020-01-02 03:04:05.123456789 UTC
    let mut w = b
        .writer(
            &Path::parse("ours.txt").unwrap(),
            &WriteOptions::new().modified(ours),
        )
        .unwrap();
    w.write_all(b"written by omnistorage").unwrap();
    w.finish().unwrap();

    let rclone = |args: &[&str]| {
        let out = rclone_on(&env, "t").args(args).output().expect("rclone");
        assert!(
            out.status.success(),
            "rclone {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let remote = format!("t:{}/{prefix}", env.bucket);
    let listed = rclone(&["lsl", "-q", &format!("{remote}/ours.txt")]);
    assert!(
        listed.contains("2020-01-02 03:04:05.123456789"),
        "rclone sees our mtime: {listed}"
    );

    let dir = omnistorage::conformance::TempDir::new().unwrap();
    std::fs::write(dir.path().join("theirs.txt"), b"written by rclone").unwrap();
    let theirs = UNIX_EPOCH + Duration::new(1_557_126_489, 987_654_321);
    std::fs::File::options()
        .write(true)
        .open(dir.path().join("theirs.txt"))
        .unwrap()
        .set_modified(theirs)
        .unwrap();
    rclone(&["copy", "-q", dir.path().to_str().unwrap(), &remote]);
    assert_eq!(
        b.info("theirs.txt").unwrap().modified,
        Some(theirs),
        "we see rclone's mtime"
    );
    assert_eq!(b.read_to_vec("theirs.txt").unwrap(), b"written by rclone");
    cleanup(&env, &prefix);
}

/// rclone's `--use-server-modtime`: list and stat both report the upload time, to the second,
/// and agree; the stored time stays there for a backend that reads it.
#[test]
fn server_modtime_reports_last_modified_in_list_and_stat() {
    each_server(|env, _, prefix| {
        let b = builder(env)
            .prefix(prefix)
            .server_modtime(true)
            .build()
            .unwrap();
        assert_eq!(
            b.capabilities().modified_time,
            None,
            "upload times are not the given ones"
        );
        let stored = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let mut w = b
            .writer(
                &Path::parse("x").unwrap(),
                &WriteOptions::new().modified(stored),
            )
            .unwrap();
        w.write_all(b"x").unwrap();
        w.finish().unwrap();
        let listed = b.list_all("").unwrap();
        let m = listed[0].modified.expect("listings carry LastModified");
        assert!(
            m > UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            "{}: the upload time, not the stored one",
            env.server
        );
        assert_eq!(
            m.duration_since(UNIX_EPOCH).unwrap().subsec_nanos(),
            0,
            "to the second"
        );
        assert_eq!(
            b.info("x").unwrap().modified,
            Some(m),
            "{}: stat agrees with list",
            env.server
        );
        let reader = builder(env).prefix(prefix).build().unwrap();
        assert_eq!(
            reader.info("x").unwrap().modified,
            Some(stored),
            "{}: the stored time is kept",
            env.server
        );
        b.remove("x").unwrap();
        omnistorage::conformance::stat_agrees_with_list(&b).expect("the case ran");
    });
}
