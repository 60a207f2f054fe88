//! The binary against the test servers: S3 (every one) and sshd, by URL.

use omnistorage::FileBackend;
use omnistorage::conformance::TempDir;

use super::{code, run, stderr, stdout};
use crate::sync::{put, t, tree};

fn local() -> (TempDir, FileBackend) {
    let dir = TempDir::new().unwrap();
    let b = FileBackend::new(dir.path()).unwrap();
    for i in 0..6u64 {
        put(
            &b,
            &format!("d{}/f{i}", i % 2),
            format!("data {i}").as_bytes(),
            t(i),
        );
    }
    (dir, b)
}

/// up, nothing to do, check, down, lsf — through `url`.
fn round_trip(url: &str) {
    let home = TempDir::new().unwrap();
    let (src_dir, src) = local();
    let s = src_dir.path().to_string_lossy().into_owned();
    let up = run(&["sync", &s, url], None, home.path());
    assert_eq!(code(&up), 0, "{}", stderr(&up));
    let again = run(
        &["sync", &s, url, "--error-on-no-transfer"],
        None,
        home.path(),
    );
    assert_eq!(code(&again), 9, "{}", stderr(&again));
    let check = run(&["check", &s, url], None, home.path());
    assert_eq!(code(&check), 0, "{}", stderr(&check));
    let back = TempDir::new().unwrap();
    let b = back.path().to_string_lossy().into_owned();
    let down = run(&["copy", url, &b], None, home.path());
    assert_eq!(code(&down), 0, "{}", stderr(&down));
    assert_eq!(
        tree(&FileBackend::new(back.path()).unwrap(), ""),
        tree(&src, "")
    );
    let lsf = run(&["lsf", "-R", "--files-only", url], None, home.path());
    assert_eq!(stdout(&lsf).lines().count(), 6, "{}", stdout(&lsf));
    let purge = run(&["purge", url], None, home.path());
    assert_eq!(code(&purge), 0, "{}", stderr(&purge));
}

/// The URL of `path` (a bucket's key prefix) on the S3 server of `env`.
#[cfg(feature = "s3")]
pub(super) fn s3_url(env: &crate::support::S3Env, path: &str) -> String {
    format!(
        "s3://{}/{path}?endpoint={}&region={}&access_key_id={}&secret_access_key={}",
        env.bucket, env.endpoint, env.region, env.access_key, env.secret_key
    )
}

/// The URL of `path` (absolute) on the sshd of `env`, with its key and known hosts.
#[cfg(feature = "sftp")]
pub(super) fn sftp_url(env: &crate::support::SftpEnv, path: &str) -> String {
    format!(
        "sftp://{}@{}:{}{path}?key={}&known_hosts={}&ssh_config=false&agent=false",
        env.user,
        env.host,
        env.port,
        env.key.to_string_lossy(),
        env.known_hosts.to_string_lossy()
    )
}

#[cfg(feature = "s3")]
#[test]
fn s3_by_url_on_every_server() {
    for server in ["s3s", "garage", "moto"] {
        let Some(env) = crate::support::require_server(server) else {
            continue;
        };
        let prefix = crate::s3::unique_prefix("cli");
        round_trip(&s3_url(&env, &prefix));
        crate::s3::cleanup(&env, &prefix);
    }
}

#[cfg(feature = "s3")]
#[test]
fn wrong_s3_credentials_are_one_clear_line() {
    let Some(env) = crate::support::require_server("garage") else {
        return;
    };
    let home = TempDir::new().unwrap();
    let url = format!(
        "s3://{}/x?endpoint={}&region={}&access_key_id=GKwrong&secret_access_key=nope",
        env.bucket, env.endpoint, env.region
    );
    let o = run(&["lsf", &url], None, home.path());
    assert_ne!(code(&o), 0);
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
}

#[cfg(feature = "sftp")]
#[test]
fn sftp_by_url() {
    let Some(env) = crate::support::require_sftp() else {
        return;
    };
    let root = crate::sftp::root(&env, "cli");
    round_trip(&sftp_url(&env, &root.to_string_lossy()));
}
