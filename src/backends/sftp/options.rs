//! [`SftpBuilder::set`]: every setting by its name, with rclone's option names and units,
//! for `sftp://` URL parameters, rclone.conf sections and the CLI's config alike.

use super::NAME;
use super::config::{HostKeyCheck, SftpBuilder};
use crate::backends::setting::{Setting, parse_bool};
use crate::error::{Error, ErrorKind, Result};

/// rclone's sftp options that this backend does not implement. [`SftpBuilder::set`]
/// accepts them and does nothing (see [`SftpBuilder::ignored`]), so an rclone.conf section
/// works as it is; a URL naming one is refused, since nothing in it comes from rclone.
pub const RCLONE_IGNORED: &[&str] = &[
    "ask_password",
    "blake3sum_command",
    "chunk_size",
    "ciphers",
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
    "macs",
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
    "use_insecure_cipher",
    "xxh128sum_command",
    "xxh3sum_command",
];

/// The keys [`SftpBuilder::set`] reads (besides [`RCLONE_IGNORED`]): what a typo is compared with.
const KEYS: &[&str] = &[
    "host",
    "user",
    "port",
    "password",
    "passphrase",
    "pass",
    "key_file_pass",
    "key_pem",
    "key_file",
    "key",
    "key_use_agent",
    "agent",
    "agent_socket",
    "known_hosts_file",
    "known_hosts",
    "host_key_check",
    "fingerprint",
    "ssh_config",
    "connect_timeout",
    "timeout",
    "keepalive",
    "pool",
    "connections",
    "max_sessions",
    "retries",
    "disable_hashcheck",
    "hashes",
    "posix_rename",
];

/// The keys [`SftpBuilder::set`] reads as secrets: never printed, not even in errors.
const SECRETS: &[&str] = &["password", "passphrase", "pass", "key_file_pass", "key_pem"];

impl SftpBuilder {
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
            secret: SECRETS.contains(&key),
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
            ignored if RCLONE_IGNORED.contains(&ignored) => {
                self.ignored.push(ignored.to_owned());
                self
            }
            _ => return Err(v.unknown(KEYS)),
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
    use super::*;

    #[test]
    fn every_listed_key_is_known_and_typos_name_their_key() {
        for key in KEYS {
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
