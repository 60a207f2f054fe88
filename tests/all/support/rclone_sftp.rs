//! The second SFTP server, `rclone serve sftp` (`scripts/servers/rclone-sftp`), found through
//! `OMNISTORAGE_TEST_RCLONE_SFTP_*`: written independently of OpenSSH, without `copy-data`.

use std::fmt;
use std::path::PathBuf;

use super::{missing_server, var, var_name};

/// The name its variables use: `OMNISTORAGE_TEST_RCLONE_SFTP_*`.
const SERVER: &str = "rclone-sftp";

const FIELDS: [&str; 8] = [
    "HOST",
    "PORT",
    "USER",
    "PASSWORD",
    "KEY",
    "KNOWN_HOSTS",
    "ROOT",
    "DATA",
];

/// Where `rclone serve sftp` listens, and how to log in to it.
#[derive(Clone, PartialEq, Eq)]
pub struct RcloneSftpEnv {
    /// `127.0.0.1`.
    pub host: String,
    /// Its port (2224 unless `OMNISTORAGE_RCLONE_SFTP_PORT` moved it).
    pub port: u16,
    /// The one user it knows, who logs in by [`password`](Self::password) or [`key`](Self::key).
    pub user: String,
    /// The user's password, random at each start of the server.
    pub password: String,
    /// A private key (ed25519, no passphrase) authorized for `user`.
    pub key: PathBuf,
    /// A known_hosts file with the server's host key.
    pub known_hosts: PathBuf,
    /// The served directory as the client sees it: `/`.
    pub root: String,
    /// The served directory on this machine: an empty directory when the server starts.
    pub data: PathBuf,
}

impl fmt::Debug for RcloneSftpEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RcloneSftpEnv")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("key", &self.key)
            .field("known_hosts", &self.known_hosts)
            .field("root", &self.root)
            .field("data", &self.data)
            .finish()
    }
}

/// Its variables, if all are set and not empty.
///
/// # Panics
///
/// If `OMNISTORAGE_TEST_RCLONE_SFTP_PORT` is set but is not a port number.
pub fn rclone_sftp_env() -> Option<RcloneSftpEnv> {
    let port = var(SERVER, "PORT")?;
    let Ok(port) = port.parse::<u16>() else {
        panic!("{}={port:?} is not a port number", var_name(SERVER, "PORT"));
    };
    Some(RcloneSftpEnv {
        host: var(SERVER, "HOST")?,
        port,
        user: var(SERVER, "USER")?,
        password: var(SERVER, "PASSWORD")?,
        key: var(SERVER, "KEY")?.into(),
        known_hosts: var(SERVER, "KNOWN_HOSTS")?.into(),
        root: var(SERVER, "ROOT")?,
        data: var(SERVER, "DATA")?.into(),
    })
}

/// Its variables, for a test that needs it: when they are missing, a panic under CI,
/// elsewhere a loud message on stderr and `None`, and the test returns early.
pub fn require_rclone_sftp() -> Option<RcloneSftpEnv> {
    if let Some(env) = rclone_sftp_env() {
        return Some(env);
    }
    let missing: Vec<String> = FIELDS
        .iter()
        .filter(|field| var(SERVER, field).is_none())
        .map(|field| var_name(SERVER, field))
        .collect();
    missing_server("the rclone SFTP server", &missing.join(", "), "rclone-sftp")
}
