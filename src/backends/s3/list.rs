//! Lazy ListObjectsV2 paging: by segment, natively from a start point (`start-after`), one
//! level at a time (`delimiter=/`, common prefixes as directories), cancellable.

use std::sync::Arc;

use super::MtimeSource;
use super::client::{self, Client, Op, Request};
use super::meta::{self, Head};
use super::xml::{self, Doc};
use crate::cancel::Cancel;
use crate::entry::{Entry, Fields};
use crate::error::{Error, ErrorKind, Result};
use crate::listing;
use crate::path::Path;

/// The most keys one page asks for (S3's maximum).
const PAGE: usize = 1000;

/// What one ListObjectsV2 walk asks for.
#[derive(Clone, Debug)]
pub(crate) struct Query {
    /// Keys that start with this.
    pub(crate) key_prefix: String,
    /// How many bytes of each key are the backend's root (`prefix/`).
    pub(crate) root_len: usize,
    /// One level: `delimiter=/`.
    pub(crate) delimiter: bool,
    /// Only keys after this one (S3's `start-after`).
    pub(crate) start_after: Option<String>,
    pub(crate) mtime: MtimeSource,
    pub(crate) cancel: Option<Cancel>,
}

/// Lists every key starting with `key_prefix`, page by page, as entries relative to the
/// backend's root.
pub(crate) struct Pager {
    client: Arc<Client>,
    q: Query,
    token: Option<String>,
    page: std::vec::IntoIter<Result<Entry>>,
    done: bool,
    /// Stop after this many entries (used to probe for one).
    limit: Option<usize>,
    yielded: usize,
}

impl Pager {
    pub(crate) fn new(client: Arc<Client>, q: Query) -> Pager {
        Pager {
            client,
            q,
            token: None,
            page: Vec::new().into_iter(),
            done: false,
            limit: None,
            yielded: 0,
        }
    }

    pub(crate) fn limit(mut self, limit: usize) -> Pager {
        self.limit = Some(limit);
        self
    }

    /// ListObjectsV2: the next page, into `self.page`.
    fn list_objects_v2(&mut self) -> Result<()> {
        let max = self.limit.map_or(PAGE, |l| l.min(PAGE));
        let mut req = Request::new(Op::ListObjectsV2, None)
            .query("list-type", "2")
            .query("max-keys", max.to_string())
            .cancel(self.q.cancel.as_ref());
        if !self.q.key_prefix.is_empty() {
            req = req.query("prefix", self.q.key_prefix.clone());
        }
        if self.q.delimiter {
            req = req.query("delimiter", "/");
        }
        match &self.token {
            Some(token) => req = req.query("continuation-token", token.clone()),
            None => {
                // Only a start inside or after the prefix says anything: every key under the
                // prefix sorts after one before it (and Garage lists nothing for such a
                // `start-after`).
                if let Some(start) = &self.q.start_after
                    && start.as_bytes() > self.q.key_prefix.as_bytes()
                {
                    req = req.query("start-after", start.clone());
                }
            }
        }
        let resp = self.client.call(&req)?;
        let body = client::read_body(resp, 64 * 1024 * 1024)?;
        let page = parse_page(&body, self.q.root_len)?;
        self.token = page.next;
        if self.token.is_none() {
            self.done = true;
        }
        let mut items = Vec::with_capacity(page.items.len());
        for item in page.items {
            match item {
                Ok(Listed {
                    entry,
                    key,
                    etag_md5,
                }) => {
                    if let Some(item) = self.complete(entry, &key, etag_md5).transpose() {
                        items.push(item);
                    }
                }
                Err(e) => items.push(Err(e)),
            }
        }
        self.page = items.into_iter();
        Ok(())
    }

    /// Fills the modification time as the backend is configured to; `None` for an object
    /// that vanished since it was listed.
    fn complete(&self, entry: Entry, key: &str, has_md5: bool) -> Result<Option<Entry>> {
        if entry.is_dir || self.q.mtime != MtimeSource::Stored {
            return Ok(Some(entry));
        }
        let req = Request::new(Op::HeadObject, Some(key)).cancel(self.q.cancel.as_ref());
        match self.client.call(&req) {
            Ok(resp) => {
                let head = Head::from_response(&resp);
                let mut entry = entry.with_modified(head.stored_mtime().or(head.last_modified));
                if !has_md5 && let Some(md5) = head.md5() {
                    entry = entry.with_hash(md5);
                }
                Ok(Some(entry.with_filled(Fields::HASHES)))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e
                .with_message(format!("reading the modification time of {key:?} failed"))
                .context("list", entry.path.as_str(), client::NAME)),
        }
    }
}

/// One listed entry, before the modification time is filled.
#[derive(Debug)]
pub(crate) struct Listed {
    pub(crate) entry: Entry,
    pub(crate) key: String,
    /// Whether the ETag gave the MD5.
    pub(crate) etag_md5: bool,
}

/// A parsed page: its entries in listing order (objects and common prefixes merged), and the
/// continuation token.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) items: Vec<Result<Listed>>,
    pub(crate) next: Option<String>,
}

/// Parses a ListObjectsV2 page (with the backend's XML parser, [`xml::objects_page`]) into
/// entries relative to the root (`root_len` bytes of each key). With server times
/// (`LastModified`), they are cut to the second; otherwise none is set.
pub(crate) fn parse_page(body: &str, root_len: usize) -> Result<Page> {
    let unreadable = |why: String| {
        Error::new(
            ErrorKind::Corrupt,
            format!("unreadable ListObjectsV2 response: {why}"),
        )
        .with_backend(client::NAME)
    };
    let parsed = match xml::parse_doc(body, "ListBucketResult") {
        Ok(Doc::Result(root)) => xml::objects_page(&root).map_err(unreadable)?,
        Ok(Doc::Error(e)) => return Err(unreadable(format!("<Error> {}: {}", e.code, e.message))),
        Err(why) => return Err(unreadable(why)),
    };
    let mut keyed: Vec<(String, bool, Result<Listed>)> = Vec::new();
    for object in parsed.objects {
        let object =
            match object {
                Ok(object) => object,
                Err((key, why)) => {
                    let rel = key.get(root_len..).unwrap_or(&key);
                    let err = Error::new(ErrorKind::Corrupt, format!("key {key:?}: {why}"))
                        .context("list", rel, client::NAME);
                    keyed.push((key, false, Err(err)));
                    continue;
                }
            };
        let Some(rel) = object.key.get(root_len..) else {
            continue;
        };
        // Console "folder" markers (`dir/`) are not objects, nor is the root's own marker.
        if rel.is_empty() || (rel.ends_with('/') && object.size.unwrap_or(0) == 0) {
            continue;
        }
        let path = match Path::parse(rel) {
            Ok(p) => p,
            Err(e) => {
                let err = e
                    .with_message(format!("key {:?} is not a valid path", object.key))
                    .context("list", rel, client::NAME);
                keyed.push((object.key.clone(), false, Err(err)));
                continue;
            }
        };
        let mut entry = Entry::file(path, object.size.unwrap_or(0));
        let mut etag_md5 = false;
        if let Some(etag) = object.etag.as_deref().map(meta::unquote_etag) {
            if let Some(md5) = meta::etag_md5(&etag) {
                // An MD5 is the only hash S3 keeps: with it, the hashes are all known.
                entry = entry.with_hash(md5);
                etag_md5 = true;
            }
            entry = entry.with_etag(Some(etag));
        }
        entry.modified = object
            .last_modified
            .as_deref()
            .and_then(meta::parse_rfc3339_seconds);
        let key = object.key.clone();
        keyed.push((
            object.key,
            false,
            Ok(Listed {
                entry,
                key,
                etag_md5,
            }),
        ));
    }
    for prefix in parsed.prefixes {
        let Some(rel) = prefix.get(root_len..) else {
            continue;
        };
        let rel = rel.strip_suffix('/').unwrap_or(rel);
        if rel.is_empty() {
            continue;
        }
        let item = match Path::parse(rel) {
            Ok(path) => Ok(Listed {
                entry: Entry::dir(path),
                key: prefix.clone(),
                etag_md5: false,
            }),
            Err(e) => Err(e
                .with_message(format!("prefix {prefix:?} is not a valid path"))
                .context("list", rel, client::NAME)),
        };
        // A common prefix already ends with '/', as a directory sorts.
        keyed.push((prefix, true, item));
    }
    keyed.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(Page {
        items: keyed.into_iter().map(|(_, _, item)| item).collect(),
        next: parsed.next,
    })
}

impl Iterator for Pager {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        loop {
            if self.limit.is_some_and(|l| self.yielded >= l) {
                return None;
            }
            if let Some(cancel) = &self.q.cancel
                && let Err(e) = cancel.check()
            {
                self.limit = Some(0);
                return Some(Err(e.context("list", &self.q.key_prefix, client::NAME)));
            }
            if let Some(item) = self.page.next() {
                self.yielded += 1;
                return Some(item.map(|e| self.with_time(e)));
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.list_objects_v2() {
                self.done = true;
                self.page = Vec::new().into_iter();
                return Some(Err(e.context("list", &self.q.key_prefix, client::NAME)));
            }
        }
    }
}

impl Pager {
    /// Keeps or drops the listed `LastModified` as configured, and marks the time filled when
    /// it is known.
    fn with_time(&self, entry: Entry) -> Entry {
        if entry.is_dir {
            return entry;
        }
        match self.q.mtime {
            MtimeSource::Server => {
                let m = entry.modified;
                entry.with_modified(m)
            }
            MtimeSource::Stored => entry,
            MtimeSource::None => Entry {
                modified: None,
                ..entry
            },
        }
    }
}

/// Ends `list` with exactly one [`Cancelled`](ErrorKind::Cancelled) error once `cancel` is
/// cancelled: checked before each item, and after an item that is itself `Cancelled` (a
/// page request cut short), whichever of the chained pagers it came from.
pub(crate) fn cancellable(
    mut list: impl Iterator<Item = Result<Entry>> + Send + 'static,
    cancel: Cancel,
) -> crate::backend::List {
    let mut done = false;
    Box::new(std::iter::from_fn(move || {
        if done {
            return None;
        }
        if let Err(e) = cancel.check() {
            done = true;
            return Some(Err(e.with_operation("list").with_backend(client::NAME)));
        }
        let item = list.next();
        if let Some(Err(e)) = &item
            && e.kind() == ErrorKind::Cancelled
        {
            done = true;
        }
        item
    }))
}

/// Whether `entry` belongs in a listing that starts after `start` (directories sorting as
/// their path followed by `/`).
pub(crate) fn after(entry: &Entry, start: Option<&Path>) -> bool {
    listing::after_start(&entry.path, entry.is_dir, start)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";

    #[test]
    fn pages_merge_objects_and_prefixes_in_order() {
        let body = format!(
            "<ListBucketResult {NS}><IsTruncated>false</IsTruncated>\
             <Contents><Key>r/a.txt</Key><Size>1</Size>\
             <ETag>\"d41d8cd98f00b204e9800998ecf8427e\"</ETag>\
             <LastModified>2023-11-14T22:13:20.789Z</LastModified></Contents>\
             <Contents><Key>r/a0</Key><Size>2</Size><ETag>\"abc-2\"</ETag></Contents>\
             <Contents><Key>r/d/</Key><Size>0</Size></Contents>\
             <CommonPrefixes><Prefix>r/a/</Prefix></CommonPrefixes>\
             </ListBucketResult>"
        );
        let page = parse_page(&body, 2).unwrap();
        let got: Vec<(String, bool)> = page
            .items
            .iter()
            .map(|i| {
                let l = i.as_ref().unwrap();
                (l.entry.path.to_string(), l.entry.is_dir)
            })
            .collect();
        assert_eq!(
            got,
            [
                ("a.txt".to_string(), false),
                ("a".to_string(), true),
                ("a0".to_string(), false)
            ]
        );
        let first = &page.items[0].as_ref().unwrap().entry;
        assert!(first.hash(crate::hash::HashKind::Md5).is_some());
        assert!(first.filled.contains(Fields::HASHES));
        let multipart = &page.items[2].as_ref().unwrap().entry;
        assert!(
            multipart.hashes.is_empty(),
            "a multipart ETag is not an MD5"
        );
        assert_eq!(multipart.etag.as_deref(), Some("abc-2"));
        assert!(page.next.is_none());
    }
}
