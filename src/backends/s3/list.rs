//! Lazy ListObjectsV2 paging.

use std::sync::Arc;

use super::client::{self, Client, Method, Request};
use super::util;
use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};
use crate::hash::HashKind;
use crate::path::Path;

/// The most keys one page asks for (S3's maximum).
const PAGE: usize = 1000;

/// Lists every key starting with `key_prefix`, page by page, as entries relative to the
/// backend's root (`root_len` bytes of each key are its root prefix).
pub(crate) struct Pager {
    client: Arc<Client>,
    key_prefix: String,
    root_len: usize,
    token: Option<String>,
    page: std::vec::IntoIter<Result<Entry>>,
    done: bool,
    /// Stop after this many keys (used to probe for one exact key).
    limit: Option<usize>,
    yielded: usize,
    /// Where entries' modification times come from.
    mtime: super::MtimeSource,
}

impl Pager {
    pub(crate) fn new(
        client: Arc<Client>,
        key_prefix: String,
        root_len: usize,
        mtime: super::MtimeSource,
    ) -> Pager {
        Pager {
            client,
            key_prefix,
            root_len,
            token: None,
            page: Vec::new().into_iter(),
            done: false,
            limit: None,
            yielded: 0,
            mtime,
        }
    }

    pub(crate) fn limit(mut self, limit: usize) -> Pager {
        self.limit = Some(limit);
        self
    }

    fn fetch(&mut self) -> Result<()> {
        let max = self.limit.map_or(PAGE, |l| l.min(PAGE));
        let mut req = Request::new(Method::Get, None)
            .query("list-type", "2")
            .query("max-keys", max.to_string());
        if !self.key_prefix.is_empty() {
            req = req.query("prefix", self.key_prefix.clone());
        }
        if let Some(token) = &self.token {
            req = req.query("continuation-token", token.clone());
        }
        let resp = self.client.call(&req, true)?;
        let body = client::read_body(resp, 64 * 1024 * 1024)?;
        let parsed = rusty_s3::actions::ListObjectsV2::parse_response(&body).map_err(|e| {
            Error::new(
                ErrorKind::Corrupt,
                format!("unreadable ListObjectsV2 response: {e}"),
            )
            .with_backend(client::NAME)
        })?;
        self.token = parsed.next_continuation_token;
        if self.token.is_none() {
            self.done = true;
        }
        let mut items = Vec::with_capacity(parsed.contents.len());
        for object in parsed.contents {
            let Some(rel) = object.key.get(self.root_len..) else {
                continue;
            };
            // Console "folder" markers (`dir/`) are not objects.
            if rel.ends_with('/') && object.size.unwrap_or(0) == 0 {
                continue;
            }
            let path = match Path::parse(rel) {
                Ok(p) => p,
                Err(e) => {
                    items.push(Err(e
                        .with_message(format!("key {:?} is not a valid path", object.key))
                        .context("list", rel, client::NAME)));
                    continue;
                }
            };
            let mut entry = Entry::file(path, object.size.unwrap_or(0));
            if let Some(etag) = object.etag.as_deref().map(util::unquote_etag) {
                if util::etag_is_md5(&etag)
                    && let Ok(md5) = crate::hash::Hash::from_hex(HashKind::Md5, &etag)
                {
                    entry = entry.with_hash(md5);
                }
                entry = entry.with_etag(Some(etag));
            }
            entry.modified = match self.mtime {
                super::MtimeSource::None => None,
                super::MtimeSource::Stored => super::head_modified(&self.client, &object.key),
                super::MtimeSource::Server => object
                    .last_modified
                    .as_deref()
                    .and_then(util::parse_rfc3339_seconds),
            };
            items.push(Ok(entry));
        }
        self.page = items.into_iter();
        Ok(())
    }
}

impl Iterator for Pager {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        loop {
            if self.limit.is_some_and(|l| self.yielded >= l) {
                return None;
            }
            if let Some(item) = self.page.next() {
                self.yielded += 1;
                return Some(item);
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.fetch() {
                self.done = true;
                return Some(Err(e.context("list", &self.key_prefix, client::NAME)));
            }
        }
    }
}
