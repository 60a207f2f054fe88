//! The `s3://bucket/prefix?...` URL: its parameters become an [`S3Builder`]'s settings.

use super::S3Backend;
use super::builder::{Provider, S3Builder};
use super::client::NAME;
use crate::error::{Error, ErrorKind, Result};
use crate::units::BareUnit;

impl S3Backend {
    /// Opens from a parsed `s3://bucket/prefix?...` URL. Query parameters: `endpoint` (several
    /// separated by commas: [`S3Builder::endpoints`]), `endpoint_down_after` (`3s`, `500ms`,
    /// `2m`, or seconds: [`S3Builder::endpoint_down_after`]), `region`, `provider`, `account_id`, `path_style`, `access_key_id`,
    /// `secret_access_key`, `session_token`, `profile`, `anonymous`, `read_mtime`, `server_modtime`,
    /// `part_size`, `concurrency`, `retries`, `conditional_writes`,
    /// `danger_accept_invalid_certs`, `upload_journal` (a directory). A user and password in the URL are the key id and
    /// secret.
    pub fn from_url(url: &crate::registry::Url) -> Result<S3Backend> {
        let bad = |msg: String| Error::new(ErrorKind::InvalidConfig, msg).with_backend(NAME);
        let mut b = S3Builder::new(url.host.clone()).prefix(url.path.trim_start_matches('/'));
        let flag = |key: &str| -> Result<Option<bool>> {
            match url.param(key) {
                None => Ok(None),
                Some("" | "true" | "1" | "yes") => Ok(Some(true)),
                Some("false" | "0" | "no") => Ok(Some(false)),
                Some(v) => Err(bad(format!("{key}={v:?} is not true or false"))),
            }
        };
        // This crate's own size parameters always counted bytes.
        let size = |key: &str| -> Result<Option<u64>> {
            url.param(key)
                .map(|v| {
                    crate::units::parse_size(v, BareUnit::Bytes)
                        .map_err(|e| bad(format!("{key}: {}", e.message().unwrap_or(""))))
                })
                .transpose()
        };
        let number = |key: &str| -> Result<Option<u64>> {
            url.param(key)
                .map(|v| {
                    v.trim()
                        .parse()
                        .map_err(|_| bad(format!("{key}={v:?} is not a number")))
                })
                .transpose()
        };
        if let Some(p) = url.param("provider") {
            b = b.provider(Provider::from_name(p, url.param("account_id"))?);
        }
        if let Some(e) = url.param("endpoint") {
            b = b.endpoints(e.split(',').map(str::trim).filter(|e| !e.is_empty()));
        }
        if let Some(v) = url.param("endpoint_down_after") {
            let after = crate::units::parse_duration(v).map_err(|e| {
                bad(format!(
                    "endpoint_down_after: {}",
                    e.message().unwrap_or("")
                ))
            })?;
            b = b.endpoint_down_after(after);
        }
        if let Some(r) = url.param("region") {
            b = b.region(r);
        }
        if let Some(v) = flag("path_style")? {
            b = b.path_style(v);
        }
        let key = url
            .param("access_key_id")
            .map(str::to_owned)
            .or(url.user.clone());
        let secret = url
            .param("secret_access_key")
            .map(str::to_owned)
            .or(url.password.clone());
        match (key, secret) {
            (Some(k), Some(s)) => b = b.credentials(k, s),
            (None, None) => {}
            _ => return Err(bad("give both access_key_id and secret_access_key".into())),
        }
        if let Some(t) = url.param("session_token") {
            b = b.session_token(t);
        }
        if let Some(p) = url.param("profile") {
            b = b.profile(p);
        }
        if let Some(v) = flag("anonymous")? {
            b = b.anonymous(v);
        }
        if let Some(v) = flag("read_mtime")? {
            b = b.read_mtime(v);
        }
        if let Some(v) = flag("server_modtime")? {
            b = b.server_modtime(v);
        }
        if let Some(v) = flag("conditional_writes")? {
            b = b.conditional_writes(v);
        }
        if let Some(v) = flag("danger_accept_invalid_certs")? {
            b = b.danger_accept_invalid_certs(v);
        }
        if let Some(dir) = url.param("upload_journal").filter(|d| !d.is_empty()) {
            b = b.upload_journal(dir);
        }
        if let Some(n) = size("part_size")? {
            b = b.part_size(usize::try_from(n).map_err(|_| bad("part_size too large".into()))?);
        }
        if let Some(n) = number("concurrency")? {
            b = b.concurrency(n as usize);
        }
        if let Some(n) = number("retries")? {
            b = b.retries(u32::try_from(n).unwrap_or(u32::MAX));
        }
        b.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_bound_from_the_url() {
        let url = crate::registry::Url::parse(
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
        let bad = crate::registry::Url::parse(
            "s3://bucket/?endpoint=http://a:1&endpoint_down_after=soon&anonymous=true",
        )
        .unwrap();
        let err = S3Backend::from_url(&bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    }
}
