//! The `sftp://[user[:password]@]host[:port]/path?...` URL: its parts and parameters become
//! an [`SftpBuilder`]'s settings.

use std::time::Duration;

use super::config::{HostKeyCheck, SftpBuilder};
use super::{NAME, SftpBackend};
use crate::error::{Error, ErrorKind, Result};
use crate::registry::Url;

impl SftpBackend {
    /// Opens from a parsed URL. The path is absolute (`sftp://host/srv/data`), or under the
    /// login directory when it starts with `/~/` (`sftp://host/~/backups`; no path at all
    /// is the login directory). A password in the URL is used (prefer `password` from a
    /// file or the environment: URLs end up in shell histories). Query parameters:
    ///
    /// | parameter | builder setting |
    /// | --- | --- |
    /// | `key` (repeatable) | [`key_file`](SftpBuilder::key_file) |
    /// | `passphrase` | [`passphrase`](SftpBuilder::passphrase) |
    /// | `password` | [`password`](SftpBuilder::password) |
    /// | `agent=false`, `agent_socket` | [`agent`](SftpBuilder::agent), [`agent_socket`](SftpBuilder::agent_socket) |
    /// | `known_hosts` (repeatable) | [`known_hosts`](SftpBuilder::known_hosts) |
    /// | `host_key_check=strict\|accept-new\|off` | [`host_key_check`](SftpBuilder::host_key_check) |
    /// | `fingerprint=SHA256:...` | [`host_key_fingerprint`](SftpBuilder::host_key_fingerprint) |
    /// | `ssh_config=PATH\|false` | [`ssh_config`](SftpBuilder::ssh_config), [`read_ssh_config`](SftpBuilder::read_ssh_config) |
    /// | `connect_timeout`, `timeout`, `keepalive` (`30s`, `2m`, `500ms`; `keepalive=0`: off) | the timeouts |
    /// | `pool`, `max_sessions` | [`pool_size`](SftpBuilder::pool_size), [`max_sessions`](SftpBuilder::max_sessions) |
    /// | `retries` | [`retries`](SftpBuilder::retries) |
    /// | `hashes=false` | [`shell_hashes`](SftpBuilder::shell_hashes) |
    /// | `posix_rename=false` | [`posix_rename`](SftpBuilder::posix_rename) |
    ///
    /// An unknown parameter is [`ErrorKind::InvalidConfig`].
    pub fn from_url(url: &Url) -> Result<SftpBackend> {
        Self::builder_from_url(url)?.build()
    }

    pub(crate) fn builder_from_url(url: &Url) -> Result<SftpBuilder> {
        let bad = |msg: String| {
            Error::new(ErrorKind::InvalidConfig, msg)
                .with_backend(NAME)
                .with_path(url.to_string())
        };
        if url.host.is_empty() {
            return Err(bad("an sftp URL needs a host: sftp://user@host/path".into()));
        }
        let mut b = SftpBuilder::new(url.host.clone());
        if let Some(port) = url.port {
            b = b.port(port);
        }
        if let Some(user) = &url.user {
            b = b.user(user.clone());
        }
        if let Some(password) = &url.password {
            b = b.password(password.clone());
        }
        let root = match url.path.as_str() {
            "" | "/" | "/~" => String::new(),
            p => match p.strip_prefix("/~/") {
                Some(rel) => rel.to_owned(),
                None => p.to_owned(),
            },
        };
        b = b.root(root);
        let flag = |key: &str, v: &str| -> Result<bool> {
            match v {
                "" | "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(bad(format!("{key}={v:?} is not true or false"))),
            }
        };
        let number = |key: &str, v: &str| -> Result<u64> {
            v.parse()
                .map_err(|_| bad(format!("{key}={v:?} is not a number")))
        };
        let duration = |key: &str, v: &str| -> Result<Duration> {
            crate::units::parse_duration(v)
                .map_err(|e| bad(format!("{key}: {}", e.message().unwrap_or(""))))
        };
        for (key, v) in &url.query {
            let v = v.as_str();
            b = match key.as_str() {
                "key" => b.key_file(v),
                "passphrase" => b.passphrase(v),
                "password" => b.password(v),
                "agent" => b.agent(flag(key, v)?),
                "agent_socket" => b.agent_socket(v),
                "known_hosts" => b.known_hosts(v),
                "host_key_check" => b.host_key_check(match v {
                    "strict" | "yes" => HostKeyCheck::Strict,
                    "accept-new" => HostKeyCheck::AcceptNew,
                    "off" | "no" => HostKeyCheck::InsecureOff,
                    _ => {
                        return Err(bad(format!(
                            "host_key_check={v:?}: use strict, accept-new or off"
                        )));
                    }
                }),
                "fingerprint" => b.host_key_fingerprint(v),
                "ssh_config" => match v {
                    "false" | "no" | "0" => b.read_ssh_config(false),
                    path => b.ssh_config(path),
                },
                "connect_timeout" => b.connect_timeout(duration(key, v)?),
                "timeout" => b.timeout(duration(key, v)?),
                "keepalive" => {
                    let d = duration(key, v)?;
                    b.keepalive((!d.is_zero()).then_some(d))
                }
                "pool" => b.pool_size(usize::try_from(number(key, v)?).unwrap_or(usize::MAX)),
                "max_sessions" => {
                    b.max_sessions(Some(usize::try_from(number(key, v)?).unwrap_or(usize::MAX)))
                }
                "retries" => b.retries(u32::try_from(number(key, v)?).unwrap_or(u32::MAX)),
                "hashes" => b.shell_hashes(flag(key, v)?),
                "posix_rename" => b.posix_rename(flag(key, v)?),
                other => return Err(bad(format!("unknown parameter {other:?}"))),
            };
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder(url: &str) -> Result<SftpBuilder> {
        SftpBackend::builder_from_url(&Url::parse(url)?)
    }

    #[test]
    fn urls_set_the_builder() {
        let b = builder("sftp://bob:pw@example.com:2222/srv/data?key=/k1&key=/k2&known_hosts=/kh&pool=8&timeout=5s&host_key_check=accept-new").unwrap();
        assert_eq!(b.host, "example.com");
        assert_eq!(b.port, Some(2222));
        assert_eq!(b.user.as_deref(), Some("bob"));
        assert_eq!(b.root, "/srv/data");
        assert_eq!(b.key_files.len(), 2);
        assert_eq!(b.known_hosts, vec![std::path::PathBuf::from("/kh")]);
        assert_eq!(b.pool_size, 8);
        assert_eq!(b.timeout, Duration::from_secs(5));
        assert_eq!(b.host_key_check, Some(HostKeyCheck::AcceptNew));
        assert!(b.password.is_some());
        assert_eq!(builder("sftp://h/~/backups").unwrap().root, "backups");
        assert_eq!(builder("sftp://h").unwrap().root, "");
    }

    #[test]
    fn bad_urls_are_invalid_config_and_hide_secrets() {
        for url in [
            "sftp:///path",
            "sftp://h/p?nosuch=1",
            "sftp://h/p?pool=x",
            "sftp://h/p?timeout=soon",
            "sftp://h/p?host_key_check=maybe",
        ] {
            let e = builder(url).map(|_| ()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{url}");
        }
        let e = builder("sftp://u:hunter2@h/p?passphrase=hunter3&bad=1")
            .map(|_| ())
            .unwrap_err();
        let shown = format!("{e} {e:?} {}", e.display_chain());
        assert!(!shown.contains("hunter"), "{shown}");
    }
}
