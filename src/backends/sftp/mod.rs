//! The SFTP backend (feature `sftp`): a directory tree on an SSH server, through libssh2.
//!
//! One concern per file: `config.rs` (the [`SftpBuilder`] and `~/.ssh/config`),
//! `connect.rs` (one session: TCP, host key, authentication), `pool.rs` (the sessions),
//! `ext.rs` (OpenSSH's extensions, spoken on a channel of its own), `errors.rs` (the one
//! error table), `tree.rs` (directories, for the shared walk of `src/backends/tree/`),
//! `read.rs`, `write.rs` (staged writes and the commit), `ops.rs` (the [`Backend`] impl),
//! `shell.rs` (hashes computed by the server), `reclaim.rs` (staged files left by a crash),
//! `url.rs`, and the parsers `known_hosts.rs`, `ssh_config.rs` and `pattern.rs`.
//!
//! ```no_run
//! use omnistorage::backends::sftp::SftpBackend;
//! use omnistorage::BackendExt;
//!
//! let store = SftpBackend::builder("files.example.com")
//!     .user("backup")
//!     .key_file("/home/me/.ssh/id_ed25519")
//!     .root("/srv/backups")
//!     .build()?;
//! store.write_all("2026/12/db.dump", b"...")?;
//!
//! // The same, by URL (`~/.ssh/config` and known_hosts are read as ssh reads them):
//! let store = omnistorage::open("sftp://backup@files.example.com/srv/backups")?;
//! # Ok::<(), omnistorage::Error>(())
//! ```
//!
//! # Connecting
//!
//! [`SftpBuilder::build`] connects once, so that a wrong address, host key or credential
//! fails there, with [`ErrorKind::Unauthenticated`] for credentials and host keys. Settings
//! not given to the builder come from `~/.ssh/config`'s block for the host (`HostName`,
//! `Port`, `User`, `IdentityFile`, `UserKnownHostsFile`, `StrictHostKeyChecking`,
//! `ConnectTimeout`, `ServerAliveInterval`; `Match` blocks and `Include` are not read).
//!
//! Authentication tries, in this order, each only if the server offers the method:
//!
//! 1. the key files given with [`SftpBuilder::key_file`] (with the
//!    [passphrase](SftpBuilder::passphrase)), else `~/.ssh/config`'s `IdentityFile`s for the
//!    host, else the default keys `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa` that exist;
//! 2. the keys of an ssh-agent (`$SSH_AUTH_SOCK`, or [`SftpBuilder::agent_socket`]), unless
//!    [`SftpBuilder::agent`] is `false`;
//! 3. the [password](SftpBuilder::password).
//!
//! The error lists what was tried and why each failed, never a secret. Passwords and
//! passphrases never appear in `Debug`, `Display` or errors.
//!
//! The session offers the ciphers of [`DEFAULT_CIPHERS`] in that order: AES-CTR (computed by
//! OpenSSL with the processor's AES instructions), ChaCha20-Poly1305, then AES-GCM, whose
//! libssh2 implementation costs about 40 % more client CPU per byte than the other two
//! (measured with `scripts/bench-sftp`); and the MACs of [`DEFAULT_MACS`], encrypt-then-MAC
//! first. [`SftpBuilder::ciphers`] and [`SftpBuilder::macs`] name other lists;
//! [`SftpBuilder::use_insecure_cipher`] adds the CBC and 3DES ciphers for old servers, as
//! rclone's option of that name does.
//!
//! # Host keys
//!
//! The server's host key is checked against known_hosts files by default: those given with
//! [`SftpBuilder::known_hosts`], else `~/.ssh/config`'s `UserKnownHostsFile`, else
//! `~/.ssh/known_hosts`; and `/etc/ssh/ssh_known_hosts`. Plain, wildcard, negated,
//! `[host]:port` and hashed (`|1|...`) entries are understood, `@revoked` keys refused. An
//! unknown host, a changed key and a revoked key are refused with an
//! [`ErrorKind::Unauthenticated`] error whose source is a [`HostKeyError`] naming the host
//! and the key's SHA-256 fingerprint as `ssh-keygen -l` prints it. [`HostKeyCheck`] relaxes
//! the check explicitly ([`AcceptNew`](HostKeyCheck::AcceptNew) records an unknown host's
//! key; [`InsecureOff`](HostKeyCheck::InsecureOff) checks nothing), and
//! [`SftpBuilder::host_key_fingerprint`] pins one key.
//!
//! # Sessions
//!
//! The backend is `Send + Sync`; clones share it. It keeps a pool of up to
//! [`pool_size`](SftpBuilder::pool_size) SSH sessions (default [`DEFAULT_POOL_SIZE`]),
//! opened as parallel work needs them. A session carries one call at a time; readers and
//! writers keep theirs while they live, and work beyond the pool's size shares the least
//! busy session. A session that breaks (a dropped connection, a timeout) is replaced, and
//! operations that may safely run twice (everything but a write's commit and a rename) are
//! retried on a fresh one, [`retries`](SftpBuilder::retries) times. [`SftpBuilder::timeout`]
//! bounds every exchange; an idle session is probed with a keepalive before it is reused.
//!
//! # Reading
//!
//! A reader streams the file (a range of it, if asked). If the connection drops mid-read,
//! it reopens the file on a fresh session (making it is retried as any connection is, a
//! session cut in its key exchange included) and goes on from the byte it reached, provided
//! the file's size and modification time are unchanged; otherwise it fails with
//! [`ErrorKind::PreconditionFailed`] rather than splice two versions. A file that ends early
//! is [`ErrorKind::Corrupt`], never a silently short read.
//!
//! # Writing
//!
//! A writer stages its bytes in `.omnistorage-tmp-PID-N-TIME.NAME` beside the target (such
//! names are reserved, never listed, and refused as paths) and moves it into place on
//! [`Writer::finish`], after setting the modification time from
//! [`WriteOptions::modified`](crate::WriteOptions) (SFTP version 3 keeps whole seconds; the
//! capabilities say so). If the connection drops mid-upload, the writer goes on on a fresh
//! session from the offset the server acknowledged, once it has checked that the staged
//! file holds at least that much (what was sent but not acknowledged is sent again); closing
//! the file and a commit that is one rename are resumed the same way (three resumes without
//! a MiB of progress in between, each retried, before it fails). Abort, drop and every error
//! that ends the writer remove the staged file. Parent
//! directories are created as needed. [`WriteMode::CreateNew`](crate::WriteMode) commits
//! with SFTP's own rename, which never replaces a file (OpenSSH links, then unlinks): atomic.
//!
//! ## Replacing an object
//!
//! SFTP version 3's rename fails when the target exists. Where the server offers
//! `posix-rename@openssh.com` (OpenSSH since 4.8), the staged file replaces the target
//! atomically: readers see the old object or the new one, never neither. Otherwise (or with
//! [`SftpBuilder::posix_rename`]`(false)`), the old object is first renamed aside to
//! `.omnistorage-tmp-old-...` in the same directory, the new one renamed into place, and the
//! old one deleted; if the second rename fails, the old object is put back. **Between the
//! two renames (two round trips), a reader finds no object at the path.** If the process
//! dies in that moment, the old object survives under its aside name, and the next writer
//! into that directory (or [`pending_uploads`](Backend::pending_uploads) and
//! [`abort_upload`](Backend::abort_upload)) puts it back if nothing took its place.
//!
//! ## Staged files left by a crash
//!
//! SFTP has no locks. A staged file's name records the process that made it, and on Linux
//! also the boot it ran in and its start time (see `src/backends/tree/names.rs`), so a
//! client on the same machine can tell a dead writer's file: a writer staging into a
//! directory this backend has not looked at yet deletes the staged files there whose writer
//! no longer runs (so the next run after a `kill -9` clears what the killed one left where it
//! writes), keeps those of live writers, and, for names made elsewhere (another machine, an
//! earlier boot, an older version), deletes those whose name and modification time are both
//! older than [`SftpBuilder::reclaim_after`] (default one hour; a live writer's file is
//! modified with every write it sends, so only a writer idle for that long can lose its
//! file, and its `finish` then fails). `pending_uploads` lists them, `abort_upload` deletes
//! one at once.
//!
//! # Listing
//!
//! `list` reads one directory at a time and yields full paths in ascending byte order (a
//! directory's name compared as `name + "/"`), with sizes and modification times from the
//! directory listing itself: no request per file. Symlinks are not followed, and not listed;
//! paths through them are refused ([`ErrorKind::PermissionDenied`]), as in the file backend.
//!
//! # Copies and hashes
//!
//! Where the server offers OpenSSH's `copy-data` extension (OpenSSH 9.0 and later),
//! [`copy`](Backend::copy) copies inside the server, into a staged file committed like a
//! write, keeping the modification time; otherwise `copy` answers
//! [`ErrorKind::Unsupported`] (and the capabilities say `server_side_copy: false`), and
//! [`copy_path`](crate::copy_path) and the sync engine stream the object through the client
//! (`rclone serve sftp` is such a server). `rename` is server-side.
//!
//! A server whose RENAME replaces an existing file (`rclone serve sftp`, against SFTP v3)
//! decides [`WriteMode::CreateNew`](crate::WriteMode) only when the writer opens: two
//! writers racing for a free path can both commit there, the later one winning.
//!
//! Where the account has a shell with `md5sum` and `sha1sum` (checked once, in the background
//! when the backend is made, by hashing `/dev/null`: [`SftpBackend::server_hashes`], and
//! [`Capabilities::server_hashes`](crate::Capabilities)), [`hash`](Backend::hash) runs them
//! on the server, as rclone does; the path is passed single-quoted, never interpreted. Other
//! kinds, or a server without them (`rclone serve sftp`, whose `md5sum` is no shell), are
//! hashed by reading the object.

mod ciphers;
mod config;
mod connect;
mod errors;
mod ext;
mod known_hosts;
mod op;
mod ops;
mod options;
mod pattern;
mod pool;
mod read;
mod reclaim;
mod shell;
mod ssh_config;
mod tree;
mod url;
mod write;

use std::collections::HashSet;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

pub use ciphers::{DEFAULT_CIPHERS, DEFAULT_MACS};
pub use config::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_KEEPALIVE, DEFAULT_POOL_SIZE, DEFAULT_RECLAIM_AFTER,
    DEFAULT_TIMEOUT, HostKeyCheck, SftpBuilder,
};
pub use connect::{HostKeyError, HostKeyProblem};
pub use options::RCLONE_IGNORED;

use crate::backends::guard::Guard;
use crate::error::{Error, ErrorKind, Result};
use crate::hash::HashKinds;
use crate::path::Path;
use crate::retry::Retry;

#[allow(unused_imports)] // named by the module docs
use crate::{Backend, Writer};

pub(crate) const NAME: &str = "sftp";

/// A directory tree on an SSH server. See the [module docs](self).
///
/// Cloning is cheap and shares the sessions (closing one closes all clones).
#[derive(Clone)]
pub struct SftpBackend {
    inner: Arc<Inner>,
}

struct Inner {
    pool: pool::Pool,
    /// The root, absolute, without a trailing `/` (`""` for `/` itself).
    root: String,
    guard: Guard,
    retry: Retry,
    /// What the server offers beyond SFTP version 3.
    posix_rename: bool,
    copy_data: bool,
    /// `statvfs@openssh.com`: `usage` works.
    statvfs: bool,
    /// What `md5sum`/`sha1sum` can hash on the server: asked in the background when the
    /// backend is made (it costs an exec, which a login shell can make slow).
    shell_hashes: std::sync::OnceLock<HashKinds>,
    /// The root is known to exist.
    root_seen: AtomicBool,
    /// Directories known to be directories, not symlinks (full paths; bounded).
    dirs: Mutex<HashSet<String>>,
    /// Directories already swept for leftovers (bounded).
    swept: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for SftpBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cfg = self.inner.pool.config();
        f.debug_struct("SftpBackend")
            .field("store", &cfg.store())
            .field("root", &self.inner.root)
            .field("pool_size", &cfg.pool_size)
            .finish_non_exhaustive()
    }
}

fn err(kind: ErrorKind, msg: &'static str, op: &'static str, path: &Path) -> Error {
    Error::new(kind, msg).context(op, path.as_str(), NAME)
}

impl SftpBackend {
    /// Settings for a backend on `host` (a name, an address, or an `~/.ssh/config` alias).
    pub fn builder(host: impl Into<String>) -> SftpBuilder {
        SftpBuilder::new(host)
    }

    fn connect(cfg: config::Config) -> Result<SftpBackend> {
        let pool = pool::Pool::new(Arc::new(cfg))?;
        let cfg = pool.config();
        let conn = pool.get()?;
        let root = Self::absolute_root(&conn, cfg)?;
        let (posix_rename, copy_data, statvfs) = {
            let has = |ext: &str| conn.with_ext(ext, |_| Ok(())).is_some_and(|r| r.is_ok());
            (
                cfg.posix_rename && has(ext::POSIX_RENAME),
                has(ext::COPY_DATA),
                // Announced is not enough: `rclone serve sftp` announces it and refuses it.
                conn.with_ext(ext::STATVFS, |x| x.statvfs("/"))
                    .is_some_and(|r| r.is_ok()),
            )
        };
        let retry = Retry::new(cfg.retries, std::time::Duration::from_millis(100));
        let probe_hashes = cfg.shell_hashes;
        drop(conn);
        let backend = SftpBackend {
            inner: Arc::new(Inner {
                pool,
                root,
                guard: Guard::new(NAME),
                retry,
                posix_rename,
                copy_data,
                statvfs,
                shell_hashes: std::sync::OnceLock::new(),
                root_seen: AtomicBool::new(false),
                dirs: Mutex::new(HashSet::new()),
                swept: Mutex::new(HashSet::new()),
            }),
        };
        // Ask the server what it can hash now, beside whatever the caller does first (a login
        // shell can take a while); `server_hashes` waits for the answer if it needs it.
        if probe_hashes {
            let probe = backend.clone();
            let _ = std::thread::Builder::new()
                .name("omnistorage-sftp-probe".into())
                .spawn(move || probe.server_hashes());
        }
        Ok(backend)
    }

    /// The configured root as an absolute path: relative roots are under the login
    /// directory (asked of the server with `realpath .`).
    fn absolute_root(conn: &pool::Conn, cfg: &config::Config) -> Result<String> {
        let root = cfg.root.trim_end_matches('/');
        if cfg.root.starts_with('/') {
            return Ok(root.to_owned());
        }
        let home = conn
            .sftp
            .realpath(std::path::Path::new("."))
            .map_err(|e| errors::from_ssh(e).with_operation("connect"))?;
        let home = home.to_string_lossy();
        let home = home.trim_end_matches('/');
        Ok(match root {
            "" | "." => home.to_owned(),
            rel => format!("{home}/{}", rel.trim_start_matches("./")),
        })
    }

    /// The root directory on the server (absolute; `/` for the whole file system).
    pub fn root(&self) -> &str {
        match self.inner.root.as_str() {
            "" => "/",
            r => r,
        }
    }

    /// Whether objects are replaced atomically with `posix-rename@openssh.com` (see the
    /// [module docs](self#replacing-an-object)).
    pub fn atomic_replace(&self) -> bool {
        self.inner.posix_rename
    }

    /// The kinds `md5sum` and `sha1sum` hash on the server (none if
    /// [`shell_hashes`](SftpBuilder::shell_hashes) is off, or the account has no shell or
    /// no such commands). Asked of the server once, in the background, when the backend is
    /// made; this waits for the answer if it has not come yet.
    pub fn server_hashes(&self) -> HashKinds {
        *self.inner.shell_hashes.get_or_init(|| {
            if !self.inner.pool.config().shell_hashes || self.check_open("hash").is_err() {
                return HashKinds::NONE;
            }
            match self.inner.pool.get() {
                Ok(conn) => shell::detect(&conn.sess),
                Err(_) => HashKinds::NONE,
            }
        })
    }

    /// The full server path of `path` under the root.
    fn full(&self, path: &Path) -> String {
        full_under(&self.inner.root, path)
    }

    fn check_open(&self, op: &'static str) -> Result<()> {
        self.inner.guard.check(op)
    }

    /// Checks that `path` names an object (not the root) and no segment is reserved.
    fn object_path(&self, op: &'static str, path: &Path) -> Result<()> {
        self.inner.guard.object(op, path)?;
        crate::backends::tree::names::check_reserved(op, path, NAME)
    }

    /// Runs `op` (`f`) on a pooled session about `path`: when the operation is idempotent
    /// ([`Op::idempotent`]), again on a fresh session while the error is temporary, up to the
    /// configured retries (an error given up on after them is
    /// [persistent](Error::is_persistent)); otherwise once.
    fn run<T>(
        &self,
        op: op::Op,
        path: &Path,
        f: impl FnMut(&pool::Conn) -> Result<T>,
    ) -> Result<T> {
        self.attempt(op, f)
            .map_err(|e| e.context(op.name(), path.as_str(), NAME))
    }

    /// [`run`](SftpBackend::run), leaving the context to the caller.
    fn attempt<T>(&self, op: op::Op, mut f: impl FnMut(&pool::Conn) -> Result<T>) -> Result<T> {
        let mut once = |_| {
            self.check_open(op.name())?;
            let conn = self.inner.pool.get()?;
            f(&conn).map_err(|e| conn.note(e))
        };
        match op.idempotent() {
            true => self.inner.retry.run(None, once),
            false => once(0),
        }
    }
}

/// The server path of `path` under `root` (absolute, no trailing `/`; `""` is `/`).
fn full_under(root: &str, path: &Path) -> String {
    if path.is_root() {
        return match root {
            "" => "/".to_owned(),
            r => r.to_owned(),
        };
    }
    format!("{root}/{}", path.as_str())
}

/// The parsers, for the fuzz targets (`fuzz/fuzz_targets/sftp_*.rs`) and their regression
/// tests. Not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::known_hosts::HostKeyStatus;
    pub use super::ssh_config::HostSettings;

    /// The replies of the small SFTP client on the extension channel (`ext.rs`): a VERSION
    /// body's extension names, a STATUS body's code (0 for OK), a HANDLE body's handle;
    /// `None` where the body is malformed.
    pub fn ext_replies(body: &[u8]) -> (Option<Vec<String>>, Option<u32>, Option<Vec<u8>>) {
        use super::ext::{ExtError, extension_names, handle_of, status_of};
        let status = match status_of(body) {
            Ok(()) => Some(0),
            Err(ExtError::Status(code)) => Some(code),
            Err(_) => None,
        };
        (extension_names(body).ok(), status, handle_of(body).ok())
    }

    /// A `statvfs@openssh.com` reply's body: the fragment size (the block size where it is
    /// 0), blocks, free blocks and blocks available; `None` where the body is malformed.
    pub fn ext_statvfs(body: &[u8]) -> Option<[u64; 4]> {
        let s = super::ext::statvfs_of(body).ok()?;
        Some([s.frsize, s.blocks, s.bfree, s.bavail])
    }

    /// Parses a known_hosts file; the number of malformed lines skipped.
    pub fn known_hosts_skipped(text: &str) -> usize {
        super::known_hosts::KnownHosts::parse(text).skipped()
    }

    /// Parses a known_hosts file and checks one host key against it.
    pub fn known_hosts_check(text: &str, host: &str, port: u16, key_blob: &[u8]) -> HostKeyStatus {
        super::known_hosts::KnownHosts::parse(text).check(host, port, key_blob)
    }

    /// The known_hosts line that records this host and key, if one can be written.
    pub fn known_hosts_line(host: &str, port: u16, key_blob: &[u8]) -> Option<String> {
        super::known_hosts::line_for(host, port, key_blob)
    }

    /// `SHA256:...` of a SHA-256 digest, as `ssh-keygen -l` prints it.
    pub fn fingerprint(sha256_digest: &[u8]) -> String {
        super::known_hosts::fingerprint(sha256_digest)
    }

    /// Parses an ssh_config file and looks one alias up.
    pub fn ssh_config_lookup(text: &str, alias: &str) -> HostSettings {
        super::ssh_config::SshConfig::parse(text).lookup(alias)
    }

    /// Expands `~` and the `%` tokens in an IdentityFile/UserKnownHostsFile value.
    pub fn ssh_config_expand(
        value: &str,
        host: &str,
        port: u16,
        remote_user: &str,
        local_user: &str,
        home: &str,
    ) -> String {
        let tokens = super::ssh_config::Tokens {
            host,
            port,
            remote_user,
            local_user,
            home,
        };
        super::ssh_config::expand(value, &tokens)
    }
}
