//! The `s3://bucket/prefix?...` URL: its parameters become an [`S3Builder`]'s settings.

use super::S3Backend;
use super::builder::S3Builder;
use super::client::NAME;
use crate::error::{Error, ErrorKind, Result};

impl S3Backend {
    /// Opens from a parsed `s3://bucket/prefix?...` URL: [`S3Builder::from_url`], then
    /// [`build`](S3Builder::build).
    pub fn from_url(url: &crate::url::Url) -> Result<S3Backend> {
        S3Builder::from_url(url)?.build()
    }
}

impl S3Builder {
    /// The settings of a parsed `s3://bucket/prefix?...` URL: the host is the bucket, the
    /// path the prefix, a user and password the key id and secret, and every query
    /// parameter goes through [`set`](S3Builder::set) (rclone's option names, and this
    /// crate's: `endpoint`, `endpoint_down_after`, `region`, `provider`, `account_id`,
    /// `path_style`, `access_key_id`, `secret_access_key`, `session_token`, `profile`,
    /// `anonymous`, `read_mtime`, `server_modtime`, `chunk_size`, `part_size`,
    /// `concurrency`, `retries`, `conditional_writes`, `danger_accept_invalid_certs`,
    /// `upload_journal`). An unknown parameter is [`ErrorKind::InvalidConfig`], and so is an
    /// rclone option this backend does not implement ([`RCLONE_IGNORED`](super::RCLONE_IGNORED)):
    /// in a URL, nothing is ignored.
    pub fn from_url(url: &crate::url::Url) -> Result<S3Builder> {
        let mut b = S3Builder::new(url.host.clone()).prefix(url.path.trim_start_matches('/'));
        if let Some(user) = &url.user {
            b = b.set("access_key_id", user)?;
        }
        if let Some(password) = &url.password {
            b = b.set("secret_access_key", password)?;
        }
        for (key, value) in &url.query {
            b = b.set(key, value)?;
        }
        if let Some(key) = b.ignored().first() {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "the URL parameter {key:?} is an rclone option this backend does not implement"
                ),
            )
            .with_backend(NAME));
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_bound_from_the_url() {
        let url = crate::url::Url::parse(
            "s3://bucket/p?endpoint=http://127.0.0.1:3910,http://127.0.0.1:3920/&endpoint_down_after=3s&access_key_id=k&secret_access_key=s",
        )
        .unwrap();
        let store = S3Backend::from_url(&url).unwrap();
        let cfg = &store.inner.client.cfg;
        assert_eq!(cfg.endpoint, "http://127.0.0.1:3910");
        assert_eq!(
            cfg.endpoints,
            ["http://127.0.0.1:3910", "http://127.0.0.1:3920"]
        );
        assert_eq!(cfg.down_after, std::time::Duration::from_secs(3));
        let bad = crate::url::Url::parse(
            "s3://bucket/?endpoint=http://a:1&endpoint_down_after=soon&anonymous=true",
        )
        .unwrap();
        let err = S3Backend::from_url(&bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    }
}
