//! Helpers for the integration tests: the real S3 servers that `scripts/servers/up` starts,
//! found through `OMNISTORAGE_TEST_<SERVER>_*` variables, and a fault-injecting TCP proxy.
//!
//! `scripts/test` starts the servers and exports the variables; by hand:
//!
//! ```text
//! scripts/servers/up s3s-fs        # or: garage, moto; nothing = all three
//! . target/servers/env
//! cargo nextest run --all-features -E 'test(s3)'
//! scripts/servers/down
//! ```

// Each suite uses some of these helpers, and the first of them arrive before their users.
#![allow(dead_code)]

pub mod tcp_proxy;

use std::fmt;

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
    if under_ci() {
        panic!(
            "server {server} is required under CI, but {} not set (scripts/test starts it \
             with scripts/servers/up)",
            missing.join(", ")
        );
    }
    let script = match server.to_ascii_lowercase().as_str() {
        "s3s" => "s3s-fs".to_owned(),
        other => other.to_owned(),
    };
    eprintln!(
        "\n!!! SKIPPED: server {server} is not running ({} not set).\n!!! Start it with \
         `scripts/servers/up {script}`, then `. target/servers/env` (scripts/test does both).\n",
        missing.join(", ")
    );
    None
}
