//! Making one SSH session: TCP with a timeout, the handshake, the host key check, and
//! authentication in the documented order (key files, agent, password).

use std::fmt;
use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path as FsPath;
use std::time::Duration;

use ssh2::{HashType, Session};

use super::NAME;
use super::config::{Config, HostKeyCheck};
use super::errors::{classify, from_ssh};
use super::known_hosts::{self, HostKeyStatus, KnownHosts};
use crate::error::{Error, ErrorKind, Result};

/// Why a server's host key was refused. The source of the [`ErrorKind::Unauthenticated`]
/// error that [`SftpBuilder::build`](super::SftpBuilder::build) (or any later connection)
/// returns; downcast to it to tell the cases apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostKeyError {
    /// The host as it is named in known_hosts: `host`, or `[host]:port` off port 22.
    pub host: String,
    /// The server's key's SHA-256 fingerprint, as `ssh-keygen -l` prints it (`SHA256:...`).
    pub fingerprint: String,
    /// The key's type (`ssh-ed25519`, ...).
    pub key_type: String,
    /// What was wrong.
    pub problem: HostKeyProblem,
}

/// See [`HostKeyError`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostKeyProblem {
    /// No known_hosts file lists this host with a key of this type.
    Unknown,
    /// A known_hosts file lists another key of this type for this host: the key changed,
    /// or someone is posing as the server.
    Changed {
        /// The file.
        file: String,
        /// Its line (1-based).
        line: usize,
    },
    /// The key is marked `@revoked`.
    Revoked {
        /// The file.
        file: String,
        /// Its line (1-based).
        line: usize,
    },
    /// The key is not the one pinned with `host_key_fingerprint`.
    NotPinned {
        /// The fingerprint that was expected.
        expected: String,
    },
}

impl fmt::Display for HostKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (host, fp, ty) = (&self.host, &self.fingerprint, &self.key_type);
        match &self.problem {
            HostKeyProblem::Unknown => write!(
                f,
                "host key for {host} is not known: {ty} {fp}; check the fingerprint with the \
                 server's owner, then add it (ssh-keyscan) to known_hosts"
            ),
            HostKeyProblem::Changed { file, line } => write!(
                f,
                "HOST KEY FOR {host} HAS CHANGED: the server offers {ty} {fp}, which is not the \
                 key in {file}:{line}; someone may be posing as the server"
            ),
            HostKeyProblem::Revoked { file, line } => write!(
                f,
                "host key for {host} is revoked ({file}:{line}): {ty} {fp}"
            ),
            HostKeyProblem::NotPinned { expected } => write!(
                f,
                "host key for {host} is {ty} {fp}, not the pinned {expected}"
            ),
        }
    }
}

impl std::error::Error for HostKeyError {}

fn connect_err(cfg: &Config, kind: ErrorKind, msg: String) -> Error {
    Error::new(kind, msg)
        .with_operation("connect")
        .with_path(cfg.store())
        .with_backend(NAME)
}

fn millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX).max(1)
}

/// Opens the TCP connection, trying each address of the host in turn.
fn tcp(cfg: &Config) -> Result<TcpStream> {
    let addrs = (cfg.host.as_str(), cfg.port)
        .to_socket_addrs()
        .map_err(|e| {
            connect_err(
                cfg,
                ErrorKind::InvalidConfig,
                format!("cannot resolve host {:?}", cfg.host),
            )
            .with_source(e)
        })?;
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, cfg.connect_timeout) {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last = Some(e),
        }
    }
    let e = last.unwrap_or_else(|| std::io::Error::other("no address"));
    let kind = match e.kind() {
        std::io::ErrorKind::TimedOut => ErrorKind::TimedOut,
        _ => ErrorKind::Io,
    };
    Err(connect_err(
        cfg,
        kind,
        format!("cannot connect to {}:{}", cfg.host, cfg.port),
    )
    .with_temporary(true)
    .with_source(e))
}

/// A new, authenticated session, its timeouts and keepalive set.
pub(crate) fn session(cfg: &Config) -> Result<Session> {
    let tcp = tcp(cfg)?;
    let mut sess = Session::new().map_err(from_ssh)?;
    sess.set_timeout(millis(cfg.connect_timeout));
    sess.set_tcp_stream(tcp);
    use ssh2::MethodType;
    for (way, list, what) in [
        (MethodType::CryptCs, &cfg.ciphers, "ciphers"),
        (MethodType::CryptSc, &cfg.ciphers, "ciphers"),
        (MethodType::MacCs, &cfg.macs, "macs"),
        (MethodType::MacSc, &cfg.macs, "macs"),
    ] {
        sess.method_pref(way, list).map_err(|e| {
            Error::new(
                ErrorKind::InvalidConfig,
                format!("{what}: none of \"{list}\" is known to libssh2"),
            )
            .with_backend(NAME)
            .with_source(e)
        })?;
    }
    sess.handshake().map_err(|e| {
        let mut err = from_ssh(e);
        if !err.is_temporary() {
            err = err.with_temporary(true);
        }
        err.with_operation("connect").with_path(cfg.store())
    })?;
    check_host_key(&sess, cfg)?;
    authenticate(&sess, cfg)?;
    sess.set_timeout(millis(cfg.timeout));
    if let Some(k) = cfg.keepalive {
        sess.set_keepalive(false, u32::try_from(k.as_secs()).unwrap_or(u32::MAX).max(1));
    }
    Ok(sess)
}

/// Checks the server's host key as `cfg` says.
fn check_host_key(sess: &Session, cfg: &Config) -> Result<()> {
    let Some((blob, _)) = sess.host_key() else {
        return Err(connect_err(
            cfg,
            ErrorKind::Unauthenticated,
            "the server sent no host key".into(),
        ));
    };
    let fingerprint = sess
        .host_key_hash(HashType::Sha256)
        .map(known_hosts::fingerprint)
        .unwrap_or_default();
    let key_type = known_hosts::blob_key_type(blob)
        .unwrap_or("unknown")
        .to_owned();
    let refuse = |problem: HostKeyProblem| {
        let e = HostKeyError {
            host: known_hosts::host_entry_name(&cfg.host, cfg.port),
            fingerprint: fingerprint.clone(),
            key_type: key_type.clone(),
            problem,
        };
        connect_err(cfg, ErrorKind::Unauthenticated, e.to_string()).with_source(e)
    };
    if let Some(expected) = &cfg.fingerprint {
        let want = expected.trim_end_matches('=');
        return match want == fingerprint {
            true => Ok(()),
            false => Err(refuse(HostKeyProblem::NotPinned {
                expected: expected.clone(),
            })),
        };
    }
    if cfg.host_key_check == HostKeyCheck::InsecureOff {
        return Ok(());
    }
    let mut found = false;
    let mut changed = None;
    for file in &cfg.known_hosts {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue; // a missing file lists nothing
        };
        let name = file.display().to_string();
        match KnownHosts::parse(&text).check(&cfg.host, cfg.port, blob) {
            HostKeyStatus::Match => found = true,
            HostKeyStatus::Revoked { line } => {
                return Err(refuse(HostKeyProblem::Revoked { file: name, line }));
            }
            HostKeyStatus::Changed { line } => {
                changed.get_or_insert(HostKeyProblem::Changed { file: name, line });
            }
            HostKeyStatus::Unknown { .. } => {}
        }
    }
    if let Some(problem) = changed {
        return Err(refuse(problem));
    }
    if found {
        return Ok(());
    }
    if cfg.host_key_check == HostKeyCheck::AcceptNew
        && let Some(file) = cfg.known_hosts.first()
        && let Some(line) = known_hosts::line_for(&cfg.host, cfg.port, blob)
    {
        append_line(file, &line).map_err(|e| {
            connect_err(
                cfg,
                ErrorKind::Io,
                "cannot record the new host key in known_hosts".into(),
            )
            .with_source(e)
        })?;
        return Ok(());
    }
    Err(refuse(HostKeyProblem::Unknown))
}

fn append_line(file: &FsPath, line: &str) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)?;
    writeln!(f, "{line}")
}

/// Authenticates: each key file (with the passphrase), then the agent's keys, then the
/// password; each only if the server offers the method. The error lists what was tried.
fn authenticate(sess: &Session, cfg: &Config) -> Result<()> {
    let user = cfg.user.as_str();
    let methods = match sess.auth_methods(user) {
        Ok(m) => m.to_owned(),
        // `none` authentication succeeded (a server that asks for nothing).
        Err(_) if sess.authenticated() => return Ok(()),
        Err(e) => return Err(lost(cfg, e)),
    };
    let offers = |m: &str| methods.split(',').any(|x| x == m);
    let mut tried: Vec<String> = Vec::new();
    if offers("publickey") {
        let passphrase = cfg.passphrase.as_ref().map(|p| p.0.as_str());
        for key in &cfg.key_files {
            let shown = key.display();
            if !key.is_file() {
                tried.push(format!("key {shown} (missing)"));
                continue;
            }
            match sess.userauth_pubkey_file(user, None, key, passphrase) {
                Ok(()) if sess.authenticated() => return Ok(()),
                Ok(()) => tried.push(format!("key {shown} (refused)")),
                Err(e) if e.code() == ssh2::ErrorCode::Session(-16) => tried.push(format!(
                    "key {shown} (unreadable: {})",
                    match passphrase {
                        Some(_) => "wrong passphrase or not a key",
                        None => "needs a passphrase, or not a key",
                    }
                )),
                // The connection went during the exchange: not an answer about the key.
                Err(e) if classify(e.code()).dead => return Err(lost(cfg, e)),
                Err(_) => tried.push(format!("key {shown} (refused)")),
            }
        }
        if cfg.agent {
            match agent_auth(sess, cfg) {
                Ok(true) => return Ok(()),
                Ok(false) => tried.push("ssh-agent (no key accepted)".into()),
                Err(why) => tried.push(format!("ssh-agent ({why})")),
            }
        }
    }
    if let Some(password) = &cfg.password {
        if offers("password") {
            match sess.userauth_password(user, &password.0) {
                Ok(()) if sess.authenticated() => return Ok(()),
                Err(e) if classify(e.code()).dead => return Err(lost(cfg, e)),
                _ => tried.push("password (refused)".into()),
            }
        } else {
            tried.push("password (not offered by the server)".into());
        }
    }
    // A connection cut during the exchange can read as a refusal: ask the server once more
    // (a refusal answers; a lost connection fails as one).
    if let Err(e) = sess.auth_methods(user)
        && classify(e.code()).dead
    {
        return Err(lost(cfg, e));
    }
    if tried.is_empty() {
        tried.push(format!(
            "nothing: the server offers {methods}, and no key, agent or password was given"
        ));
    }
    Err(connect_err(
        cfg,
        ErrorKind::Unauthenticated,
        format!(
            "authentication as {user} failed; tried {}",
            tried.join(", ")
        ),
    ))
}

/// The error of a connection lost while authenticating.
fn lost(cfg: &Config, e: ssh2::Error) -> Error {
    from_ssh(e).with_operation("connect").with_path(cfg.store())
}

/// Tries the agent's keys; `Err` says why the agent could not be used.
fn agent_auth(sess: &Session, cfg: &Config) -> std::result::Result<bool, &'static str> {
    if cfg.agent_socket.is_none() && std::env::var_os("SSH_AUTH_SOCK").is_none() {
        return Err("none running: SSH_AUTH_SOCK is not set");
    }
    let mut agent = sess.agent().map_err(|_| "cannot start")?;
    if let Some(path) = &cfg.agent_socket {
        agent
            .set_identity_path(path)
            .map_err(|_| "bad socket path")?;
    }
    agent.connect().map_err(|_| "cannot connect to it")?;
    let ok = (|| {
        agent
            .list_identities()
            .map_err(|_| "cannot list its keys")?;
        let ids = agent.identities().map_err(|_| "cannot list its keys")?;
        for id in ids {
            if agent.userauth(&cfg.user, &id).is_ok() && sess.authenticated() {
                return Ok(true);
            }
        }
        Ok(false)
    })();
    let _ = agent.disconnect();
    ok
}
