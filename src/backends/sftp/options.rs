//! [`SftpBuilder::set`]: every setting by its name, with rclone's option names and units,
//! for `sftp://` URL parameters, rclone.conf sections and the CLI's config alike.

use super::NAME;
use super::config::{HostKeyCheck, SftpBuilder};
use crate::backends::OptionInfo;
use crate::backends::setting::{Setting, parse_bool};
use crate::error::{Error, ErrorKind, Result};

/// rclone's sftp options that this backend does not implement. [`SftpBuilder::set`]
/// accepts them and does nothing (see [`SftpBuilder::ignored`]), so an rclone.conf section
/// works as it is; a URL naming one is refused, since nothing in it comes from rclone.
pub const RCLONE_IGNORED: &[&str] = &[
    "ask_password",
    "blake3sum_command",
    "chunk_size",
    "concurrency",
    "copy_is_hardlink",
    "crc32sum_command",
    "description",
    "disable_concurrent_reads",
    "disable_concurrent_writes",
    "encoding",
    "host_key_algorithms",
    "host_keys",
    "http_proxy",
    "idle_timeout",
    "key_exchange",
    "md5sum_command",
    "multithread_upload",
    "path_override",
    "pin_host_key",
    "pubkey",
    "pubkey_file",
    "server_command",
    "set_env",
    "set_modtime",
    "sha1sum_command",
    "sha256sum_command",
    "shell_type",
    "skip_links",
    "socks_proxy",
    "ssh",
    "subsystem",
    "use_fstat",
    "xxh128sum_command",
    "xxh3sum_command",
];

/// Keys [`SftpBuilder::set`] refuses that hold secrets all the same (rclone's obscured
/// passwords, an inline key): never printed, not even in errors. The secrets it takes are
/// marked in [`SftpBuilder::OPTIONS`].
const REFUSED_SECRETS: &[&str] = &["pass", "key_file_pass", "key_pem"];

impl SftpBuilder {
    /// Every option [`set`](Self::set) takes, most asked-for first (rclone's
    /// [`RCLONE_IGNORED`] options left out): for the CLI's `config` wizard and for checks.
    /// The secrets among them are never printed, not even in errors.
    ///
    /// ```
    /// use omnistorage::backends::OptionInfo;
    /// use omnistorage::backends::sftp::SftpBuilder;
    ///
    /// assert!(OptionInfo::find(SftpBuilder::OPTIONS, "host").unwrap().required);
    /// assert!(OptionInfo::find(SftpBuilder::OPTIONS, "password").unwrap().secret);
    /// ```
    pub const OPTIONS: &'static [OptionInfo] = &[
        OptionInfo::new("host", "The SSH server's host name or address.").required(),
        OptionInfo::new("user", "The user to log in as.")
            .default_value("~/.ssh/config's User for the host, else $USER"),
        OptionInfo::new("port", "The SSH port.")
            .default_value("~/.ssh/config's Port for the host, else 22"),
        OptionInfo::new(
            "password",
            "The password, for a server that takes one. Leave empty to log in by key or agent.",
        )
        .secret(),
        OptionInfo::new(
            "key_file",
            "A private key file (OpenSSH or PEM format); repeatable in a URL.",
        )
        .aliases(&["key"])
        .default_value("~/.ssh/config's IdentityFile, then the agent and ~/.ssh/id_*"),
        OptionInfo::new(
            "passphrase",
            "The passphrase of the key file, if it has one.",
        )
        .secret(),
        OptionInfo::new(
            "known_hosts_file",
            "A known_hosts file to check the server's host key against.",
        )
        .aliases(&["known_hosts"])
        .default_value("~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts"),
        OptionInfo::new(
            "host_key_check",
            "How the host key is checked: strict (it must be known), accept-new (a new host's \
             key is added to known_hosts), or off (insecure).",
        )
        .default_value("strict, or ~/.ssh/config's StrictHostKeyChecking"),
        OptionInfo::new(
            "fingerprint",
            "Accept exactly the host key with this SHA-256 fingerprint (SHA256:..., as \
             ssh-keygen -l prints it), whatever known_hosts says.",
        )
        .advanced(),
        OptionInfo::new(
            "key_use_agent",
            "true: use the SSH agent (it is used by default).",
        )
        .default_value("true")
        .advanced(),
        OptionInfo::new("agent", "Whether to use the SSH agent: true or false.")
            .default_value("true")
            .advanced(),
        OptionInfo::new("agent_socket", "The SSH agent's socket.")
            .default_value("$SSH_AUTH_SOCK")
            .advanced(),
        OptionInfo::new(
            "ssh_config",
            "An ssh config file to read instead of ~/.ssh/config, or false to read none.",
        )
        .default_value("~/.ssh/config")
        .advanced(),
        OptionInfo::new(
            "connect_timeout",
            "How long connecting (TCP, handshake, authentication) may take.",
        )
        .default_value("30s")
        .advanced(),
        OptionInfo::new("timeout", "How long one operation may wait for the server.")
            .default_value("60s")
            .advanced(),
        OptionInfo::new(
            "keepalive",
            "How often idle sessions are kept alive (0: never).",
        )
        .default_value("30s")
        .advanced(),
        OptionInfo::new(
            "pool",
            "How many idle SSH sessions are kept for the next operations.",
        )
        .default_value("4")
        .advanced(),
        OptionInfo::new(
            "connections",
            "The most SSH sessions open at once (0: no limit).",
        )
        .aliases(&["max_sessions"])
        .default_value("0")
        .advanced(),
        OptionInfo::new(
            "retries",
            "How many times an operation that fails for a temporary reason is retried.",
        )
        .default_value("3")
        .advanced(),
        OptionInfo::new(
            "disable_hashcheck",
            "true: never run md5sum/sha1sum on the server for hashes.",
        )
        .default_value("false")
        .advanced(),
        OptionInfo::new(
            "posix_rename",
            "Replace files with the server's posix-rename extension when it offers one: true \
             or false.",
        )
        .default_value("true")
        .advanced(),
        OptionInfo::new(
            "ciphers",
            "The ciphers to offer, most preferred first, separated by spaces or commas.",
        )
        .default_value("AES-CTR, then ChaCha20-Poly1305, then AES-GCM (DEFAULT_CIPHERS)")
        .advanced(),
        OptionInfo::new(
            "macs",
            "The MACs to offer, most preferred first, separated by spaces or commas.",
        )
        .default_value("SHA-2, encrypt-then-MAC first (DEFAULT_MACS)")
        .advanced(),
        OptionInfo::new(
            "use_insecure_cipher",
            "Also offer the CBC and 3DES ciphers, for old servers: true or false.",
        )
        .default_value("false")
        .advanced(),
    ];

    /// Sets one option by its name: rclone's name where rclone has the option, else this
    /// crate's; the same call serves `sftp://` URL parameters ([`SftpBackend::from_url`](super::SftpBackend::from_url)),
    /// rclone.conf sections and the CLI's TOML config. Options may come in any order.
    ///
    /// | key | aliases | setting |
    /// | --- | --- | --- |
    /// | `host`, `user`, `port` | | [`port`](Self::port), [`user`](Self::user), and the host |
    /// | `password` | | [`password`](Self::password), as it is |
    /// | `passphrase` | | [`passphrase`](Self::passphrase), as it is |
    /// | `key_file` (repeatable) | `key` | [`key_file`](Self::key_file) |
    /// | `key_use_agent` | | `true`: [`agent`](Self::agent) on (it is by default) |
    /// | `agent`, `agent_socket` | | [`agent`](Self::agent), [`agent_socket`](Self::agent_socket) |
    /// | `known_hosts_file` (repeatable) | `known_hosts` | [`known_hosts`](Self::known_hosts) |
    /// | `host_key_check` | | `strict`, `accept-new` or `off`: [`host_key_check`](Self::host_key_check) |
    /// | `fingerprint` | | [`host_key_fingerprint`](Self::host_key_fingerprint) |
    /// | `ssh_config` | | a file, or `false`: [`ssh_config`](Self::ssh_config), [`read_ssh_config`](Self::read_ssh_config) |
    /// | `connect_timeout`, `timeout`, `keepalive` | | durations (`30s`, `2m`; `keepalive = 0`: off) |
    /// | `pool` | | [`pool_size`](Self::pool_size) |
    /// | `connections` | `max_sessions` | [`max_sessions`](Self::max_sessions) (rclone's `connections`; `0`: no limit) |
    /// | `retries` | | [`retries`](Self::retries) |
    /// | `disable_hashcheck` | `hashes` (negated) | [`shell_hashes`](Self::shell_hashes) |
    /// | `posix_rename` | | [`posix_rename`](Self::posix_rename) |
    /// | `ciphers` | | a list, space- or comma-separated: [`ciphers`](Self::ciphers) |
    /// | `macs` | | a list, likewise: [`macs`](Self::macs) |
    /// | `use_insecure_cipher` | | [`use_insecure_cipher`](Self::use_insecure_cipher) |
    ///
    /// rclone.conf's `pass` and `key_file_pass` hold *obscured* passwords: they are refused
    /// here (the CLI reveals them, as rclone does, and gives `password` and `passphrase`);
    /// rclone's `key_pem` (an inline key) is [`ErrorKind::Unsupported`]. rclone's options this
    /// backend does not implement ([`RCLONE_IGNORED`]: `shell_type`, `md5sum_command`, ...,
    /// and `hashes` given as a list) are accepted and listed by [`ignored`](Self::ignored).
    /// Any other key, and a value that does not parse, is [`ErrorKind::InvalidConfig`]
    /// naming the key and the backend (never a secret's value).
    ///
    /// ```
    /// use omnistorage::backends::sftp::SftpBackend;
    ///
    /// let b = SftpBackend::builder("")
    ///     .set("host", "files.example.com")?
    ///     .set("port", "2222")?
    ///     .set("key_file", "/home/me/.ssh/id_ed25519")?
    ///     .set("timeout", "2m")?;
    /// assert!(SftpBackend::builder("h").set("colour", "blue").is_err());
    /// # drop(b);
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn set(mut self, key: &str, value: &str) -> Result<SftpBuilder> {
        let v = Setting {
            backend: NAME,
            key,
            value,
            secret: REFUSED_SECRETS.contains(&key)
                || OptionInfo::find(Self::OPTIONS, key).is_some_and(|o| o.secret),
        };
        let many = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        Ok(match key {
            "host" => {
                self.host = value.trim().to_owned();
                self
            }
            "user" => self.user(value),
            "port" => self.port(
                value
                    .trim()
                    .parse()
                    .map_err(|_| v.invalid("not a port number"))?,
            ),
            "password" => self.password(value),
            "passphrase" => self.passphrase(value),
            "pass" | "key_file_pass" => {
                return Err(v.invalid(
                    "rclone's obscured password: give it revealed, as password or passphrase",
                ));
            }
            "key_pem" => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    "key_pem (an inline key) is not supported; put the key in a file and set key_file",
                )
                .with_backend(NAME));
            }
            "key_file" | "key" => self.key_file(value),
            "key_use_agent" => {
                if v.flag()? {
                    self.agent(true)
                } else {
                    self
                }
            }
            "agent" => self.agent(v.flag()?),
            "agent_socket" => self.agent_socket(value),
            "known_hosts_file" | "known_hosts" => self.known_hosts(value),
            "host_key_check" => self.host_key_check(match value.trim() {
                "strict" | "yes" => HostKeyCheck::Strict,
                "accept-new" => HostKeyCheck::AcceptNew,
                "off" | "no" => HostKeyCheck::InsecureOff,
                _ => return Err(v.invalid("use strict, accept-new or off")),
            }),
            "fingerprint" => self.host_key_fingerprint(value),
            "ssh_config" => match parse_bool(value) {
                Some(false) => self.read_ssh_config(false),
                _ => self.ssh_config(value),
            },
            "connect_timeout" => self.connect_timeout(v.duration()?),
            "timeout" => self.timeout(v.duration()?),
            "keepalive" => {
                let d = v.duration()?;
                self.keepalive((!d.is_zero()).then_some(d))
            }
            "pool" => self.pool_size(many(v.count()?)),
            "connections" | "max_sessions" => {
                let n = v.count()?;
                self.max_sessions((n > 0).then(|| many(n)))
            }
            "retries" => self.retries(u32::try_from(v.count()?).unwrap_or(u32::MAX)),
            "disable_hashcheck" => self.shell_hashes(!v.flag()?),
            // Ours is a switch; rclone's `hashes` is a list of hash names.
            "hashes" => match parse_bool(value) {
                Some(on) => self.shell_hashes(on),
                None => {
                    self.ignored.push(key.to_owned());
                    self
                }
            },
            "posix_rename" => self.posix_rename(v.flag()?),
            "ciphers" => self.ciphers([value]),
            "macs" => self.macs([value]),
            "use_insecure_cipher" => self.use_insecure_cipher(v.flag()?),
            ignored if RCLONE_IGNORED.contains(&ignored) => {
                self.ignored.push(ignored.to_owned());
                self
            }
            _ => return Err(v.unknown_in(Self::OPTIONS, RCLONE_IGNORED)),
        })
    }

    /// The rclone options [`set`](Self::set) accepted without using them
    /// ([`RCLONE_IGNORED`]), in the order given.
    pub fn ignored(&self) -> &[String] {
        &self.ignored
    }
}

#[cfg(test)]
mod tests {
    use super::SftpBuilder;
    use crate::ErrorKind;
    use crate::backends::sftp::SftpBackend;

    #[test]
    fn set_takes_every_listed_option() {
        crate::backends::option_info::check_list(SftpBuilder::OPTIONS, |k, v| {
            SftpBackend::builder("").set(k, v).is_ok()
        });
    }

    #[test]
    fn listed_secrets_stay_hidden_in_errors() {
        let e = SftpBackend::builder("")
            .set("pass", "HIDDEN-VALUE")
            .err()
            .map(|e| e.to_string());
        assert!(e.as_deref().is_some_and(|e| !e.contains("HIDDEN")), "{e:?}");
    }

    #[test]
    fn every_listed_key_is_known_and_typos_name_their_key() {
        for key in crate::backends::OptionInfo::keys(SftpBuilder::OPTIONS) {
            if let Err(e) = super::super::SftpBackend::builder("h").set(key, "") {
                assert!(!e.to_string().contains("unknown option"), "{key}: {e}");
            }
        }
        let e = super::super::SftpBackend::builder("h")
            .set("pasword", "x")
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        assert!(e.to_string().contains("did you mean \"password\"?"), "{e}");
    }
}
