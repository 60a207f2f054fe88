//! The SFTP backend against OpenSSH's sshd on loopback, started by `scripts/servers/sshd`
//! (fresh keys and data per start; `OMNISTORAGE_TEST_SFTP_*`). Under CI a missing server
//! fails these tests.
//!
//! - the shared conformance suite, with and without `posix-rename` (the fallback that moves
//!   the old object aside);
//! - `auth`: keys with and without a passphrase, password, agent, a wrong key, an unknown
//!   host, a changed host key, URLs;
//! - `faults`: connections cut mid-upload and mid-download through the fault proxy;
//! - `ops`: what SFTP adds (server hashes, copy-data, symlinks, staged files, sessions,
//!   16 threads through one backend);
//! - `rclone`: the same suite against a second, independent server (`rclone serve sftp`,
//!   `OMNISTORAGE_TEST_RCLONE_SFTP_*`), which has no `copy-data`: copies stream.

mod algorithms;
mod auth;
pub(crate) mod faults;
mod ops;
mod rclone;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use omnistorage::backends::sftp::{SftpBackend, SftpBuilder};
use omnistorage::conformance::Fixture;

use crate::support::{SftpEnv, require_sftp};

/// A directory name no other test uses.
pub(crate) fn unique(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A builder for the test server, key auth, host keys checked against the server's
/// known_hosts, nothing read from the user's own ssh setup.
pub(crate) fn builder(env: &SftpEnv) -> SftpBuilder {
    base(env).known_hosts(&env.known_hosts)
}

/// [`builder`] without a known_hosts file (give one).
pub(crate) fn base(env: &SftpEnv) -> SftpBuilder {
    SftpBackend::builder(env.host.clone())
        .port(env.port)
        .user(env.user.clone())
        .key_file(&env.key)
        .read_ssh_config(false)
        .agent(false)
}

/// A root of its own under the server's data directory (removed by the cleanup).
pub(crate) fn root(env: &SftpEnv, tag: &str) -> PathBuf {
    PathBuf::from(&env.root).join(unique(tag))
}

fn fixture(posix_rename: bool) -> Fixture {
    let Some(env) = require_sftp() else {
        return Fixture::new(omnistorage::MemoryBackend::new());
    };
    let dir = root(&env, "conf");
    let sibling_dir = root(&env, "conf-sibling");
    let backend = builder(&env)
        .root(dir.to_string_lossy())
        .posix_rename(posix_rename)
        .build()
        .expect("backend");
    let env2 = env.clone();
    let sib = sibling_dir.clone();
    Fixture::new(backend)
        .with_sibling(move || {
            Box::new(
                builder(&env2)
                    .root(sib.to_string_lossy())
                    .posix_rename(posix_rename)
                    .build()
                    .expect("sibling"),
            )
        })
        .with_cleanup(move || {
            let _ = std::fs::remove_dir_all(&dir);
            let _ = std::fs::remove_dir_all(&sibling_dir);
        })
}

mod conformance_posix_rename {
    omnistorage::conformance_tests!(|| super::fixture(true));
}

mod conformance_move_aside {
    omnistorage::conformance_tests!(|| super::fixture(false));
}
