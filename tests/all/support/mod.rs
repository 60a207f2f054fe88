//! Helpers for the integration tests: the real servers that `scripts/servers/up` starts (S3
//! servers, OpenSSH's sshd and `rclone serve sftp` for SFTP), found through
//! `OMNISTORAGE_TEST_<SERVER>_*` variables, a fault-injecting TCP proxy, and an HTTP one that
//! answers chosen requests with an error and counts them.
//!
//! `scripts/test` starts the servers and exports the variables; by hand:
//!
//! ```text
//! scripts/servers/up s3s-fs        # or: garage, moto, sshd; nothing = all four
//! . target/servers/env
//! cargo nextest run --all-features -E 'test(s3)'
//! scripts/servers/down
//! ```

// Each suite uses some of these helpers, and the first of them arrive before their users.
#![allow(dead_code)]

pub mod http_fault;
pub mod rclone_sftp;
pub mod rng;
pub mod tcp_proxy;

/// A size read from `var`, or `default` when it is unset (a malformed value is a failure:
/// a campaign that silently runs at another size would report the wrong figures).
pub fn env_size(var: &str, default: u64) -> u64 {
    match std::env::var(var) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{var}={v:?} is not a whole number")),
        Err(_) => default,
    }
}

use std::fmt;
use std::path::PathBuf;

/// The servers that `scripts/servers/up` can start, by the name their variables use:
/// `OMNISTORAGE_TEST_S3S_*` (s3s-fs), `OMNISTORAGE_TEST_GARAGE_*`, `OMNISTORAGE_TEST_MOTO_*`.
pub const S3_SERVERS: [&str; 3] = ["s3s", "garage", "moto"];

/// Where an S3 test server is, and how to sign for it.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Env {
    /// The server's name, as given to [`s3_env`].
    pub server: String,
    /// `http://127.0.0.1:PORT`: path-style addressing, no TLS.
    pub endpoint: String,
    /// The region to sign for (`us-east-1`; `garage` for Garage).
    pub region: String,
    /// A bucket that exists and is empty when the server starts: `omnistorage-test`.
    pub bucket: String,
    /// The access key id to sign with.
    pub access_key: String,
    /// The secret key to sign with.
    pub secret_key: String,
}

impl fmt::Debug for S3Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Env")
            .field("server", &self.server)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

const FIELDS: [&str; 5] = ["ENDPOINT", "REGION", "BUCKET", "ACCESS_KEY", "SECRET_KEY"];

fn var_name(server: &str, field: &str) -> String {
    let server = server.to_ascii_uppercase().replace('-', "_");
    format!("OMNISTORAGE_TEST_{server}_{field}")
}

fn var(server: &str, field: &str) -> Option<String> {
    std::env::var(var_name(server, field))
        .ok()
        .filter(|v| !v.is_empty())
}

/// The variables of `server` ("s3s", "garage" or "moto"; case does not matter), if all five
/// are set and not empty.
pub fn s3_env(server: &str) -> Option<S3Env> {
    Some(S3Env {
        server: server.to_owned(),
        endpoint: var(server, "ENDPOINT")?,
        region: var(server, "REGION")?,
        bucket: var(server, "BUCKET")?,
        access_key: var(server, "ACCESS_KEY")?,
        secret_key: var(server, "SECRET_KEY")?,
    })
}

/// True when running under CI (`CI` set to anything but empty, `0` or `false`), as
/// `scripts/servers/lib.sh` decides it.
pub fn under_ci() -> bool {
    match std::env::var("CI") {
        Ok(v) => !matches!(v.as_str(), "" | "0" | "false" | "FALSE" | "False"),
        Err(_) => false,
    }
}

/// The variables of `server`, for a test that needs it. When they are missing: under CI a
/// panic (a server that is missing fails the run, it is never skipped); elsewhere a loud
/// message on stderr and `None`, and the test returns early:
///
/// ```ignore
/// let Some(env) = require_server("garage") else { return };
/// ```
pub fn require_server(server: &str) -> Option<S3Env> {
    if let Some(env) = s3_env(server) {
        return Some(env);
    }
    let missing: Vec<String> = FIELDS
        .iter()
        .filter(|field| var(server, field).is_none())
        .map(|field| var_name(server, field))
        .collect();
    let script = match server.to_ascii_lowercase().as_str() {
        "s3s" => "s3s-fs".to_owned(),
        other => other.to_owned(),
    };
    missing_server(&format!("server {server}"), &missing.join(", "), &script)
}

/// A server whose variables (`missing`) are not set: a panic under CI (a missing server
/// fails the run, it is never skipped); elsewhere a loud message on stderr, and `None`.
fn missing_server<T>(what: &str, missing: &str, script: &str) -> Option<T> {
    if under_ci() {
        panic!(
            "{what} is required under CI, but {missing} not set (scripts/test starts it with \
             scripts/servers/up)"
        );
    }
    eprintln!(
        "\n!!! SKIPPED: {what} is not running ({missing} not set).\n!!! Start it with \
         `scripts/servers/up {script}`, then `. target/servers/env` (scripts/test does both).\n"
    );
    None
}

/// Where the SFTP test server (`scripts/servers/sshd`: OpenSSH on loopback) is, and how to
/// log in to it. Its keys and known_hosts are fresh at each start of the server.
#[derive(Clone, PartialEq, Eq)]
pub struct SftpEnv {
    /// `127.0.0.1`.
    pub host: String,
    /// The port sshd listens on (2222 unless `OMNISTORAGE_SSHD_PORT` moved it).
    pub port: u16,
    /// The user that logs in by key: whoever started the server (`id -un`; root in CI).
    pub user: String,
    /// An absolute path on the server, an empty directory when it starts, writable by
    /// [`user`](Self::user): the root for the backend.
    pub root: String,
    /// A private key (ed25519, OpenSSH format) without passphrase, authorized for `user`.
    pub key: PathBuf,
    /// A private key (ed25519) protected by [`passphrase`](Self::passphrase), authorized
    /// for `user`.
    pub key_pass: PathBuf,
    /// The passphrase of [`key_pass`](Self::key_pass).
    pub passphrase: String,
    /// A private key (ed25519, no passphrase) that the server does not accept.
    pub wrong_key: PathBuf,
    /// A known_hosts file with the server's host key, one plain (unhashed) line
    /// `[127.0.0.1]:PORT ssh-ed25519 ...`, as `ssh-keyscan` saw it.
    pub known_hosts: PathBuf,
    /// The server's public host key (`ssh-ed25519 AAAA... comment`, one line).
    pub host_key_pub: PathBuf,
    /// The user that logs in by password, when the server set one up (it needs root).
    pub password: Option<PasswordEnv>,
}

/// A user of the SFTP test server that logs in by password only (no key is authorized for
/// it), with a data directory of its own.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordEnv {
    /// The user's name (`omnistorage-sftp` unless `OMNISTORAGE_SSHD_PASSWORD_USER` says).
    pub user: String,
    /// Its password, random at each start of the server.
    pub password: String,
    /// An absolute path on the server, an empty directory it owns when the server starts
    /// (also its home: relative paths start there).
    pub root: String,
}

impl fmt::Debug for SftpEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SftpEnv")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("root", &self.root)
            .field("key", &self.key)
            .field("key_pass", &self.key_pass)
            .field("passphrase", &"<redacted>")
            .field("wrong_key", &self.wrong_key)
            .field("known_hosts", &self.known_hosts)
            .field("host_key_pub", &self.host_key_pub)
            .field("password", &self.password)
            .finish()
    }
}

impl fmt::Debug for PasswordEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordEnv")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("root", &self.root)
            .finish()
    }
}

/// The name `scripts/servers/sshd` gives its variables: `OMNISTORAGE_TEST_SFTP_*`.
const SFTP: &str = "sftp";

/// The variables every [`SftpEnv`] needs; the password user's three are optional.
const SFTP_FIELDS: [&str; 10] = [
    "HOST",
    "PORT",
    "USER",
    "ROOT",
    "KEY",
    "KEY_PASS",
    "PASSPHRASE",
    "WRONG_KEY",
    "KNOWN_HOSTS",
    "HOST_KEY_PUB",
];

/// The variables of the password user, all three or none.
const SFTP_PASSWORD_FIELDS: [&str; 3] = ["PASSWORD_USER", "PASSWORD", "PASSWORD_ROOT"];

/// The SFTP test server's variables (`OMNISTORAGE_TEST_SFTP_*`), if all but the password
/// user's are set and not empty; [`SftpEnv::password`] is there when its three are.
///
/// # Panics
///
/// If `OMNISTORAGE_TEST_SFTP_PORT` is set but is not a port number.
pub fn sftp_env() -> Option<SftpEnv> {
    let port = var(SFTP, "PORT")?;
    let Ok(port) = port.parse::<u16>() else {
        panic!("{}={port:?} is not a port number", var_name(SFTP, "PORT"));
    };
    let password = match (
        var(SFTP, "PASSWORD_USER"),
        var(SFTP, "PASSWORD"),
        var(SFTP, "PASSWORD_ROOT"),
    ) {
        (Some(user), Some(password), Some(root)) => Some(PasswordEnv {
            user,
            password,
            root,
        }),
        _ => None,
    };
    Some(SftpEnv {
        host: var(SFTP, "HOST")?,
        port,
        user: var(SFTP, "USER")?,
        root: var(SFTP, "ROOT")?,
        key: var(SFTP, "KEY")?.into(),
        key_pass: var(SFTP, "KEY_PASS")?.into(),
        passphrase: var(SFTP, "PASSPHRASE")?,
        wrong_key: var(SFTP, "WRONG_KEY")?.into(),
        known_hosts: var(SFTP, "KNOWN_HOSTS")?.into(),
        host_key_pub: var(SFTP, "HOST_KEY_PUB")?.into(),
        password,
    })
}

/// The names among `fields` of the SFTP variables that are not set (or empty).
fn missing_sftp_vars(fields: &[&str]) -> Vec<String> {
    fields
        .iter()
        .filter(|field| var(SFTP, field).is_none())
        .map(|field| var_name(SFTP, field))
        .collect()
}

/// The SFTP test server's variables, for a test that needs it, with the CI rules of
/// [`require_server`]: when they are missing, a panic under CI, elsewhere a loud message on
/// stderr and `None`, and the test returns early:
///
/// ```ignore
/// let Some(env) = require_sftp() else { return };
/// ```
pub fn require_sftp() -> Option<SftpEnv> {
    if let Some(env) = sftp_env() {
        return Some(env);
    }
    let missing = missing_sftp_vars(&SFTP_FIELDS).join(", ");
    missing_server("the SFTP server", &missing, "sshd")
}

impl SftpEnv {
    /// The password user, for a test that needs it, with the CI rules of [`require_sftp`]:
    /// when the server has none (it was not started as root), a panic under CI, elsewhere a
    /// loud message on stderr and `None`:
    ///
    /// ```ignore
    /// let Some(env) = require_sftp() else { return };
    /// let Some(login) = env.require_password() else { return };
    /// ```
    pub fn require_password(&self) -> Option<&PasswordEnv> {
        if let Some(password) = &self.password {
            return Some(password);
        }
        let missing = missing_sftp_vars(&SFTP_PASSWORD_FIELDS).join(", ");
        if under_ci() {
            panic!(
                "the SFTP server's password user is required under CI, but {missing} not set \
                 (scripts/servers/sshd sets it up when it runs as root)"
            );
        }
        eprintln!(
            "\n!!! SKIPPED: the SFTP server has no password user ({missing} not set): \
             scripts/servers/sshd sets one up only when it runs as root.\n"
        );
        None
    }
}

#[cfg(test)]
mod tests {
    use super::{PasswordEnv, SftpEnv};

    #[test]
    fn sftp_env_debug_redacts_passphrase_and_password() {
        let env = SftpEnv {
            host: "127.0.0.1".into(),
            port: 2222,
            user: "root".into(),
            root: "/srv/data".into(),
            key: "/k/client_key".into(),
            key_pass: "/k/client_key_pass".into(),
            passphrase: "secret-passphrase".into(),
            wrong_key: "/k/wrong_key".into(),
            known_hosts: "/k/known_hosts".into(),
            host_key_pub: "/k/host_key.pub".into(),
            password: Some(PasswordEnv {
                user: "omnistorage-sftp".into(),
                password: "secret-password".into(),
                root: "/srv/pwdata".into(),
            }),
        };
        let shown = format!("{env:?}");
        assert!(!shown.contains("secret-passphrase"), "{shown}");
        assert!(!shown.contains("secret-password"), "{shown}");
        assert!(
            shown.contains("omnistorage-sftp") && shown.contains("2222"),
            "{shown}"
        );
    }
}
