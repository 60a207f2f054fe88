//! [`SftpBuilder`]: where to connect, how to authenticate and check the host, and the
//! settings of the session pool; and how `~/.ssh/config` fills in what it was not told.

use std::path::PathBuf;
use std::time::Duration;

use super::ssh_config::{self, HostSettings, SshConfig, Tokens};
use super::{NAME, SftpBackend};
use crate::backends::secret::Secret;
use crate::error::{Error, ErrorKind, Result};

/// The default number of SSH sessions in the pool: the sync engine's default number of
/// parallel transfers (rclone's `--transfers` default), so that a sync with the defaults
/// never waits for a session.
pub const DEFAULT_POOL_SIZE: usize = 4;
/// The default [`SftpBuilder::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default [`SftpBuilder::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The default [`SftpBuilder::keepalive`].
pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(30);
/// The default [`SftpBuilder::reclaim_after`].
pub const DEFAULT_RECLAIM_AFTER: Duration = Duration::from_secs(3600);

/// How the server's host key is checked. See the [module docs](super#host-keys).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HostKeyCheck {
    /// The key must be in a known_hosts file (the default): an unknown host and a changed
    /// key are both refused.
    #[default]
    Strict,
    /// An unknown host's key is accepted and appended to the first known_hosts file (as
    /// OpenSSH's `StrictHostKeyChecking accept-new`); a changed key is still refused.
    AcceptNew,
    /// No check at all: anyone on the network path can pose as the server. Only for
    /// throw-away test servers.
    InsecureOff,
}

/// Settings for an [`SftpBackend`]. Start with [`SftpBackend::builder`].
///
/// `Debug` never shows the password or the passphrase.
#[derive(Clone, Debug)]
pub struct SftpBuilder {
    pub(crate) host: String,
    pub(crate) port: Option<u16>,
    pub(crate) user: Option<String>,
    pub(crate) root: String,
    pub(crate) key_files: Vec<PathBuf>,
    pub(crate) passphrase: Option<Secret>,
    pub(crate) password: Option<Secret>,
    pub(crate) agent: bool,
    pub(crate) agent_socket: Option<PathBuf>,
    pub(crate) known_hosts: Vec<PathBuf>,
    pub(crate) host_key_check: Option<HostKeyCheck>,
    pub(crate) fingerprint: Option<String>,
    pub(crate) ssh_config: Option<PathBuf>,
    pub(crate) read_ssh_config: bool,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) timeout: Duration,
    pub(crate) keepalive: Option<Option<Duration>>,
    pub(crate) pool_size: usize,
    pub(crate) max_sessions: Option<usize>,
    pub(crate) retries: u32,
    pub(crate) shell_hashes: bool,
    pub(crate) posix_rename: bool,
    pub(crate) reclaim_after: Option<Duration>,
    pub(crate) ciphers: Option<Vec<String>>,
    pub(crate) macs: Option<Vec<String>>,
    pub(crate) insecure_ciphers: bool,
    /// rclone options [`SftpBuilder::set`] accepted without using them.
    pub(crate) ignored: Vec<String>,
}

impl SftpBuilder {
    pub(crate) fn new(host: impl Into<String>) -> SftpBuilder {
        SftpBuilder {
            host: host.into(),
            port: None,
            user: None,
            root: String::new(),
            key_files: Vec::new(),
            passphrase: None,
            password: None,
            agent: true,
            agent_socket: None,
            known_hosts: Vec::new(),
            host_key_check: None,
            fingerprint: None,
            ssh_config: None,
            read_ssh_config: true,
            connect_timeout: None,
            timeout: DEFAULT_TIMEOUT,
            keepalive: None,
            pool_size: DEFAULT_POOL_SIZE,
            max_sessions: None,
            retries: 3,
            shell_hashes: true,
            posix_rename: true,
            reclaim_after: Some(DEFAULT_RECLAIM_AFTER),
            ciphers: None,
            macs: None,
            insecure_ciphers: false,
            ignored: Vec::new(),
        }
    }

    /// The port (default: `~/.ssh/config`'s `Port` for this host, else 22).
    pub fn port(mut self, port: u16) -> SftpBuilder {
        self.port = Some(port);
        self
    }

    /// The user to log in as (default: `~/.ssh/config`'s `User`, else `$USER`).
    pub fn user(mut self, user: impl Into<String>) -> SftpBuilder {
        self.user = Some(user.into());
        self
    }

    /// The directory on the server that is the backend's root: absolute (`/srv/data`), or
    /// relative to the login directory (`backups`; the default, `""`, is the login
    /// directory itself). Created by the first write if missing.
    pub fn root(mut self, root: impl Into<String>) -> SftpBuilder {
        self.root = root.into();
        self
    }

    /// A private key file to authenticate with (repeatable; tried in order). Without one,
    /// `~/.ssh/config`'s `IdentityFile`s for the host are used, then the default keys
    /// (`~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`).
    pub fn key_file(mut self, path: impl Into<PathBuf>) -> SftpBuilder {
        self.key_files.push(path.into());
        self
    }

    /// The passphrase of the key files.
    pub fn passphrase(mut self, passphrase: impl Into<String>) -> SftpBuilder {
        self.passphrase = Some(Secret(passphrase.into()));
        self
    }

    /// A password, tried after the keys and the agent.
    pub fn password(mut self, password: impl Into<String>) -> SftpBuilder {
        self.password = Some(Secret(password.into()));
        self
    }

    /// Whether to ask an ssh-agent (at `$SSH_AUTH_SOCK`, or [`agent_socket`]) for keys
    /// (default `true`).
    ///
    /// [`agent_socket`]: SftpBuilder::agent_socket
    pub fn agent(mut self, agent: bool) -> SftpBuilder {
        self.agent = agent;
        self
    }

    /// The ssh-agent's socket, instead of `$SSH_AUTH_SOCK`.
    pub fn agent_socket(mut self, path: impl Into<PathBuf>) -> SftpBuilder {
        self.agent_socket = Some(path.into());
        self
    }

    /// A known_hosts file to check the host key against (repeatable). Without one:
    /// `~/.ssh/config`'s `UserKnownHostsFile` for the host, else `~/.ssh/known_hosts`, and
    /// always `/etc/ssh/ssh_known_hosts`.
    pub fn known_hosts(mut self, path: impl Into<PathBuf>) -> SftpBuilder {
        self.known_hosts.push(path.into());
        self
    }

    /// How the host key is checked (default [`HostKeyCheck::Strict`], or what
    /// `~/.ssh/config`'s `StrictHostKeyChecking` says for the host: `accept-new`, or `no`
    /// for [`HostKeyCheck::InsecureOff`]).
    pub fn host_key_check(mut self, check: HostKeyCheck) -> SftpBuilder {
        self.host_key_check = Some(check);
        self
    }

    /// Accepts exactly the host key with this SHA-256 fingerprint (`SHA256:...`, as
    /// `ssh-keygen -l` prints it), whatever the known_hosts files say.
    pub fn host_key_fingerprint(mut self, fingerprint: impl Into<String>) -> SftpBuilder {
        self.fingerprint = Some(fingerprint.into());
        self
    }

    /// Reads this file instead of `~/.ssh/config`.
    pub fn ssh_config(mut self, path: impl Into<PathBuf>) -> SftpBuilder {
        self.ssh_config = Some(path.into());
        self.read_ssh_config = true;
        self
    }

    /// Whether to read `~/.ssh/config` at all (default `true`).
    pub fn read_ssh_config(mut self, read: bool) -> SftpBuilder {
        self.read_ssh_config = read;
        self
    }

    /// How long connecting (TCP, handshake and authentication) may take (default 30 s, or
    /// `ConnectTimeout` from `~/.ssh/config`).
    pub fn connect_timeout(mut self, timeout: Duration) -> SftpBuilder {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long any one exchange with the server may take once connected, reads and writes
    /// included (default 60 s). Past it the operation fails with [`ErrorKind::TimedOut`]
    /// (temporary) and the session is replaced.
    pub fn timeout(mut self, timeout: Duration) -> SftpBuilder {
        self.timeout = timeout;
        self
    }

    /// How often an idle session is probed with an SSH keepalive when it is taken from the
    /// pool (default 30 s, or `ServerAliveInterval`); `None`: never.
    pub fn keepalive(mut self, interval: Option<Duration>) -> SftpBuilder {
        self.keepalive = Some(interval);
        self
    }

    /// How many idle SSH sessions the backend keeps open for the next operations (default
    /// [`DEFAULT_POOL_SIZE`]). Every open reader or writer, and every operation in flight,
    /// has a session to itself; more are opened while needed, and those beyond this number
    /// are closed after a minute without use.
    pub fn pool_size(mut self, size: usize) -> SftpBuilder {
        self.pool_size = size.max(1);
        self
    }

    /// The most SSH sessions open at once (default: no limit, as rclone's
    /// `--sftp-connections 0`). Past it, an operation waits for a session to be returned,
    /// up to [`timeout`](SftpBuilder::timeout), then fails with [`ErrorKind::TimedOut`]:
    /// holding more readers and writers open at once than this fails.
    pub fn max_sessions(mut self, max: Option<usize>) -> SftpBuilder {
        self.max_sessions = max.map(|m| m.max(1));
        self
    }

    /// How many times an idempotent operation is retried on a fresh session after a
    /// temporary failure (default 3).
    pub fn retries(mut self, retries: u32) -> SftpBuilder {
        self.retries = retries;
        self
    }

    /// Whether [`hash`](crate::Backend::hash) may run `md5sum` and `sha1sum` on the server
    /// (default `true`; used only if they work there). See the [module docs](super#hashes).
    pub fn shell_hashes(mut self, on: bool) -> SftpBuilder {
        self.shell_hashes = on;
        self
    }

    /// Whether to replace objects with OpenSSH's `posix-rename@openssh.com` when the server
    /// offers it (default `true`). With `false`, or without it, the old object is moved
    /// aside first: see the [module docs](super#replacing-an-object).
    pub fn posix_rename(mut self, on: bool) -> SftpBuilder {
        self.posix_rename = on;
        self
    }

    /// How old a staged file must be before a writer staging into its directory deletes it
    /// (default one hour); `None`: never automatically. See the [module
    /// docs](super#staged-files-left-by-a-crash).
    pub fn reclaim_after(mut self, after: Option<Duration>) -> SftpBuilder {
        self.reclaim_after = after;
        self
    }

    /// The ciphers to offer, in order of preference (rclone's `ciphers`); names the
    /// linked libssh2 does not know are left out, and none known is an error at connect.
    /// Default: [`DEFAULT_CIPHERS`](super::DEFAULT_CIPHERS): AES-CTR, ChaCha20-Poly1305,
    /// AES-GCM (the order that costs the least CPU with libssh2; see the module docs).
    ///
    /// ```
    /// use omnistorage::backends::sftp::SftpBackend;
    ///
    /// let b = SftpBackend::builder("files.example.com")
    ///     .ciphers(["aes256-gcm@openssh.com", "aes256-ctr"]);
    /// # drop(b);
    /// ```
    pub fn ciphers<I, S>(mut self, names: I) -> SftpBuilder
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.ciphers = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// The MACs to offer, in order of preference (rclone's `macs`), for the ciphers that
    /// need one; names the linked libssh2 does not know are left out. Default:
    /// [`DEFAULT_MACS`](super::DEFAULT_MACS), encrypt-then-MAC first.
    pub fn macs<I, S>(mut self, names: I) -> SftpBuilder
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.macs = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Whether to also offer the CBC and 3DES ciphers, after the default ones, for old
    /// servers that know nothing newer (rclone's `use_insecure_cipher`; default `false`).
    /// Ignored when [`ciphers`](Self::ciphers) names the list.
    pub fn use_insecure_cipher(mut self, on: bool) -> SftpBuilder {
        self.insecure_ciphers = on;
        self
    }

    /// Connects (one session, to check the address, the host key and the credentials at
    /// once) and makes the backend.
    pub fn build(self) -> Result<SftpBackend> {
        let config = self.resolve(&Env::process())?;
        SftpBackend::connect(config)
    }

    /// The final settings: this builder's, then `~/.ssh/config`'s for the host, then the
    /// defaults.
    pub(crate) fn resolve(self, env: &Env) -> Result<Config> {
        let bad = |msg: String| Error::new(ErrorKind::InvalidConfig, msg).with_backend(NAME);
        if self.host.is_empty() {
            return Err(bad("an SFTP backend needs a host".into()));
        }
        let ssh = if self.read_ssh_config {
            let path = self
                .ssh_config
                .clone()
                .or_else(|| env.home.as_ref().map(|h| h.join(".ssh/config")));
            match path.map(std::fs::read_to_string) {
                Some(Ok(text)) => SshConfig::parse(&text).lookup(&self.host),
                // An ssh config that was named must be readable; the default may be absent.
                Some(Err(e)) if self.ssh_config.is_some() => {
                    return Err(bad("cannot read the ssh config file".into())
                        .with_path(self.ssh_config.unwrap_or_default().display().to_string())
                        .with_source(e));
                }
                _ => HostSettings::default(),
            }
        } else {
            HostSettings::default()
        };
        // `HostName %h.example.com`: the one token a HostName commonly holds.
        let host_name = ssh
            .host_name
            .as_ref()
            .map(|h| h.replace("%h", &self.host))
            .unwrap_or_else(|| self.host.clone());
        let port = self.port.or(ssh.port).unwrap_or(22);
        let user = match self.user.clone().or(ssh.user.clone()).or(env.user.clone()) {
            Some(u) if !u.is_empty() => u,
            _ => return Err(bad("no user: give one (user@host) or set $USER".into())),
        };
        let home = env.home.clone().unwrap_or_default();
        let home_str = home.to_string_lossy().into_owned();
        let local_user = env.user.clone().unwrap_or_default();
        let tokens = Tokens {
            host: &host_name,
            port,
            remote_user: &user,
            local_user: &local_user,
            home: &home_str,
        };
        let expand = |v: &String| PathBuf::from(ssh_config::expand(v, &tokens));
        let mut key_files = self.key_files.clone();
        if key_files.is_empty() {
            key_files = ssh.identity_files.iter().map(expand).collect();
        }
        if key_files.is_empty() && env.home.is_some() {
            key_files = ["id_ed25519", "id_ecdsa", "id_rsa"]
                .iter()
                .map(|k| home.join(".ssh").join(k))
                .filter(|p| p.is_file())
                .collect();
        }
        let mut known_hosts = self.known_hosts.clone();
        if known_hosts.is_empty() {
            known_hosts = ssh.user_known_hosts_files.iter().map(expand).collect();
            if known_hosts.is_empty() && env.home.is_some() {
                known_hosts.push(home.join(".ssh/known_hosts"));
            }
            known_hosts.push(PathBuf::from("/etc/ssh/ssh_known_hosts"));
        }
        let host_key_check = match self.host_key_check {
            Some(c) => c,
            None => match ssh.strict_host_key_checking.as_deref() {
                Some("accept-new") => HostKeyCheck::AcceptNew,
                Some("no" | "off") => HostKeyCheck::InsecureOff,
                _ => HostKeyCheck::Strict,
            },
        };
        let keepalive = match self.keepalive {
            Some(k) => k,
            None => Some(
                ssh.server_alive_interval
                    .filter(|&s| s > 0)
                    .map_or(DEFAULT_KEEPALIVE, Duration::from_secs),
            ),
        };
        let connect_timeout = self
            .connect_timeout
            .or(ssh.connect_timeout.map(Duration::from_secs))
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        Ok(Config {
            host: host_name,
            port,
            user,
            root: self.root,
            key_files,
            passphrase: self.passphrase,
            password: self.password,
            agent: self.agent,
            agent_socket: self.agent_socket,
            known_hosts,
            host_key_check,
            fingerprint: self.fingerprint,
            connect_timeout,
            timeout: self.timeout,
            keepalive,
            pool_size: self.pool_size,
            max_sessions: self.max_sessions,
            retries: self.retries,
            shell_hashes: self.shell_hashes,
            posix_rename: self.posix_rename,
            reclaim_after: self.reclaim_after,
            ciphers: super::ciphers::ciphers(self.ciphers.as_deref(), self.insecure_ciphers),
            macs: super::ciphers::offer(self.macs.as_deref(), super::DEFAULT_MACS, &[]),
        })
    }
}

/// What the builder reads from the process: the home directory and the user name.
pub(crate) struct Env {
    pub(crate) home: Option<PathBuf>,
    pub(crate) user: Option<String>,
}

impl Env {
    fn process() -> Env {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Env {
            home: var("HOME").map(PathBuf::from),
            user: var("USER").or_else(|| var("LOGNAME")),
        }
    }
}

/// The resolved settings a backend runs with.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) user: String,
    pub(crate) root: String,
    pub(crate) key_files: Vec<PathBuf>,
    pub(crate) passphrase: Option<Secret>,
    pub(crate) password: Option<Secret>,
    pub(crate) agent: bool,
    pub(crate) agent_socket: Option<PathBuf>,
    pub(crate) known_hosts: Vec<PathBuf>,
    pub(crate) host_key_check: HostKeyCheck,
    pub(crate) fingerprint: Option<String>,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) keepalive: Option<Duration>,
    pub(crate) pool_size: usize,
    pub(crate) max_sessions: Option<usize>,
    pub(crate) retries: u32,
    pub(crate) shell_hashes: bool,
    pub(crate) posix_rename: bool,
    pub(crate) reclaim_after: Option<Duration>,
    /// The ciphers offered, comma-separated, most preferred first.
    pub(crate) ciphers: String,
    /// The MACs offered, likewise.
    pub(crate) macs: String,
}

impl Config {
    /// `user@host:port`, for messages and the backend's location.
    pub(crate) fn store(&self) -> String {
        if self.host.contains(':') {
            format!("{}@[{}]:{}", self.user, self.host, self.port)
        } else {
            format!("{}@{}:{}", self.user, self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(home: &std::path::Path) -> Env {
        Env {
            home: Some(home.to_path_buf()),
            user: Some("me".into()),
        }
    }

    #[test]
    fn ssh_config_fills_in_what_the_builder_was_not_told() {
        let dir = std::env::temp_dir().join(format!("omni-sftp-cfg-{}", std::process::id()));
        std::fs::create_dir_all(dir.join(".ssh")).unwrap();
        let cfg = dir.join("config");
        std::fs::write(
            &cfg,
            "Host box\n  HostName 10.0.0.7\n  Port 2200\n  User deploy\n  IdentityFile ~/.ssh/box_%r\n  StrictHostKeyChecking accept-new\n",
        )
        .unwrap();
        let c = SftpBuilder::new("box")
            .ssh_config(&cfg)
            .resolve(&env(&dir))
            .unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.user.as_str()),
            ("10.0.0.7", 2200, "deploy")
        );
        assert_eq!(c.key_files, vec![dir.join(".ssh/box_deploy")]);
        assert_eq!(c.host_key_check, HostKeyCheck::AcceptNew);
        assert_eq!(c.known_hosts[0], dir.join(".ssh/known_hosts"));
        // What the builder says wins.
        let c = SftpBuilder::new("box")
            .ssh_config(&cfg)
            .port(22)
            .user("root")
            .key_file("/k")
            .host_key_check(HostKeyCheck::Strict)
            .resolve(&env(&dir))
            .unwrap();
        assert_eq!((c.port, c.user.as_str()), (22, "root"));
        assert_eq!(c.key_files, vec![PathBuf::from("/k")]);
        assert_eq!(c.host_key_check, HostKeyCheck::Strict);
        // A host the file does not name keeps the defaults.
        let c = SftpBuilder::new("other")
            .ssh_config(&cfg)
            .resolve(&env(&dir))
            .unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.user.as_str()),
            ("other", 22, "me")
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let b = SftpBuilder::new("h")
            .password("pw-hunter2")
            .passphrase("pp-hunter3");
        let shown = format!("{b:?}");
        assert!(!shown.contains("hunter"), "{shown}");
        let c = b
            .resolve(&env(std::path::Path::new("/nonexistent")))
            .unwrap();
        assert!(!format!("{c:?}").contains("hunter"));
    }
}
