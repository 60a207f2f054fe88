//! The `sftp://[user[:password]@]host[:port]/path?...` URL: its parts and parameters become
//! an [`SftpBuilder`]'s settings.

use super::config::SftpBuilder;
use super::{NAME, SftpBackend};
use crate::error::{Error, ErrorKind, Result};
use crate::url::Url;

impl SftpBackend {
    /// Opens from a parsed URL: [`SftpBuilder::from_url`], then [`build`](SftpBuilder::build).
    pub fn from_url(url: &Url) -> Result<SftpBackend> {
        SftpBuilder::from_url(url)?.build()
    }
}

impl SftpBuilder {
    /// The settings of a parsed `sftp://[user[:password]@]host[:port]/path?...` URL. The
    /// path is absolute (`sftp://host/srv/data`), or under the login directory when it
    /// starts with `/~/` (`sftp://host/~/backups`; no path at all is the login directory).
    /// A password in the URL is used (prefer `password` from a file or the environment:
    /// URLs end up in shell histories). Every query parameter goes through
    /// [`set`](SftpBuilder::set) (rclone's option names, and this crate's: `key`,
    /// `passphrase`, `password`, `agent`, `agent_socket`, `known_hosts`, `host_key_check`,
    /// `fingerprint`, `ssh_config`, `connect_timeout`, `timeout`, `keepalive`, `pool`,
    /// `max_sessions`, `retries`, `hashes`, `posix_rename`).
    ///
    /// An unknown parameter is [`ErrorKind::InvalidConfig`], and so is an rclone option this
    /// backend does not implement ([`RCLONE_IGNORED`](super::RCLONE_IGNORED)): in a URL,
    /// nothing is ignored.
    pub fn from_url(url: &Url) -> Result<SftpBuilder> {
        let bad = |msg: String| {
            Error::new(ErrorKind::InvalidConfig, msg)
                .with_backend(NAME)
                .with_path(url.to_string())
        };
        if url.host.is_empty() {
            return Err(bad("an sftp URL needs a host: sftp://user@host/path".into()));
        }
        let root = match url.path.as_str() {
            "" | "/" | "/~" => String::new(),
            p => match p.strip_prefix("/~/") {
                Some(rel) => rel.to_owned(),
                None => p.to_owned(),
            },
        };
        let mut b = SftpBuilder::new(url.host.clone()).root(root);
        if let Some(port) = url.port {
            b = b.port(port);
        }
        if let Some(user) = &url.user {
            b = b.set("user", user)?;
        }
        if let Some(password) = &url.password {
            b = b.set("password", password)?;
        }
        for (key, value) in &url.query {
            b = b
                .set(key, value)
                .map_err(|e| e.with_path(url.to_string()))?;
        }
        if let Some(key) = b.ignored().first() {
            return Err(bad(format!(
                "the URL parameter {key:?} is an rclone option this backend does not implement"
            )));
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::sftp::HostKeyCheck;
    use std::time::Duration;

    fn builder(url: &str) -> Result<SftpBuilder> {
        SftpBuilder::from_url(&Url::parse(url)?)
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
