//! Deletes (one, and DeleteObjects batches of 1,000), pending multipart uploads (list and
//! abort), and presigned URLs.

use std::time::Duration;

use super::S3Backend;
use super::client::{self, NAME, Op, Request};
use super::errors;
use super::multipart;
use super::xml::{self, Doc};
use crate::backend::{PendingList, PendingUpload, Presign};
use crate::error::{Error, ErrorKind, Result};
use crate::path::Path;

/// DeleteObjects takes at most this many keys.
const BATCH: usize = 1000;

impl S3Backend {
    /// DeleteObject: a missing key is `Ok` (idempotent); a missing bucket is not, told apart
    /// by S3's error code.
    pub(super) fn delete_object(&self, path: &Path) -> Result<()> {
        self.object_path("delete", path)?;
        let key = self.key(path);
        match self
            .client()
            .call(&Request::new(Op::DeleteObject, Some(&key)))
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.kind() == ErrorKind::NotFound
                    && errors::code_of(&e) != Some("NoSuchBucket") =>
            {
                Ok(())
            }
            Err(e) => Err(e.context("delete", path.as_str(), NAME)),
        }
    }

    /// DeleteObjects in batches of 1,000: one result per path, in order.
    pub(super) fn delete_many_now(&self, paths: &[Path]) -> Vec<Result<()>> {
        const OP: &str = "delete_many";
        let mut out: Vec<Result<()>> = Vec::with_capacity(paths.len());
        for chunk in paths.chunks(BATCH) {
            let mut results: Vec<Result<()>> = chunk
                .iter()
                .map(|p| self.object_path("delete", p))
                .collect();
            let keys: Vec<(usize, String)> = chunk
                .iter()
                .enumerate()
                .filter(|(i, _)| results[*i].is_ok())
                .map(|(i, p)| (i, self.key(p)))
                .collect();
            if !keys.is_empty() {
                match self.delete_objects(keys.iter().map(|(_, k)| k.as_str())) {
                    Ok(failures) => {
                        for failure in failures {
                            for (i, key) in &keys {
                                if *key == failure.key {
                                    let path = chunk[*i].as_str();
                                    let err = errors::from_body(
                                        "delete",
                                        500,
                                        &xml::ErrorBody {
                                            code: failure.code.clone(),
                                            message: failure.message.clone(),
                                        },
                                        None,
                                        &self.client().cfg.bucket,
                                        &self.client().cfg.endpoint,
                                    );
                                    // A key that is already gone is deleted.
                                    if err.kind() != ErrorKind::NotFound {
                                        results[*i] = Err(err.context(OP, path, NAME));
                                    }
                                }
                            }
                        }
                    }
                    Err(e) => {
                        for (i, _) in &keys {
                            results[*i] = Err(e.clone().context(OP, chunk[*i].as_str(), NAME));
                        }
                    }
                }
            }
            out.extend(results);
        }
        out
    }

    /// DeleteObjects (quiet) of up to 1,000 keys: the keys that failed.
    fn delete_objects<'a>(
        &self,
        keys: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<xml::DeleteError>> {
        let body = xml::delete_request(keys);
        let req = Request::new(Op::DeleteObjects, None)
            .query("delete", "")
            .body(body.as_bytes())
            .content_md5();
        let resp = self.client().call(&req)?;
        let body = client::read_body(resp, 64 * 1024 * 1024)?;
        match xml::parse_doc(&body, "DeleteResult") {
            Ok(Doc::Result(root)) => Ok(xml::delete_errors(&root)),
            Ok(Doc::Error(err)) => Err(self.client().body_error("delete", &err)),
            Err(e) => Err(Error::new(
                ErrorKind::Corrupt,
                format!("unreadable DeleteObjects response: {e}"),
            )
            .with_backend(NAME)),
        }
    }

    /// The multipart uploads begun under `prefix` (by segment) and never completed
    /// (ListMultipartUploads, page by page).
    pub(super) fn pending_now(&self, prefix: &Path) -> Result<PendingList> {
        const OP: &str = "pending_uploads";
        self.check_open(OP)?;
        let root = self.root_key();
        let exact = if prefix.is_root() {
            root.clone()
        } else {
            self.key(prefix)
        };
        let key_prefix = exact.clone();
        let client = std::sync::Arc::clone(self.client());
        let mut markers: Option<(String, String)> = None;
        let mut page: std::vec::IntoIter<Result<PendingUpload>> = Vec::new().into_iter();
        let mut done = false;
        let under =
            move |key: &str| prefix_matches(key, &exact, &root).map(|rel| Path::parse(rel).ok());
        let prefix_text = prefix.to_string();
        Ok(Box::new(std::iter::from_fn(move || {
            loop {
                if let Some(item) = page.next() {
                    return Some(item);
                }
                if done {
                    return None;
                }
                let parsed = multipart::list_multipart_uploads(
                    &client,
                    &key_prefix,
                    markers.as_ref(),
                    64 * 1024 * 1024,
                );
                let parsed = match parsed {
                    Ok(p) => p,
                    Err(e) => {
                        done = true;
                        return Some(Err(e.context(OP, &prefix_text, NAME)));
                    }
                };
                done = parsed.next.is_none();
                markers = parsed.next;
                let mut items: Vec<Result<PendingUpload>> = Vec::new();
                for (key, id, started) in parsed.uploads {
                    match under(&key) {
                        None => {}
                        Some(Some(path)) => items.push(Ok(PendingUpload::new(path, id, started))),
                        Some(None) => items.push(Err(Error::new(
                            ErrorKind::InvalidPath,
                            format!("key {key:?} is not a valid path"),
                        )
                        .context(OP, &prefix_text, NAME))),
                    }
                }
                page = items.into_iter();
            }
        })))
    }

    /// AbortMultipartUpload of a pending upload; an upload that is gone is `Ok`.
    pub(super) fn abort_now(&self, upload: &PendingUpload) -> Result<()> {
        self.object_path("abort_upload", &upload.path)?;
        let key = self.key(&upload.path);
        multipart::abort_multipart_upload(self.client(), &key, &upload.id)
            .map_err(|e| e.context("abort_upload", upload.path.as_str(), NAME))
    }

    /// A presigned URL (1 second to 7 days). A presigned PUT must send a `Content-Length`
    /// (no chunked transfer).
    pub(super) fn presign_now(
        &self,
        path: &Path,
        method: Presign,
        expires: Duration,
    ) -> Result<String> {
        self.object_path("presign", path)?;
        let key = self.key(path);
        let op = match method {
            Presign::Get => Op::GetObject,
            Presign::Put => Op::PutObject,
        };
        self.client()
            .presign(&Request::new(op, Some(&key)), expires)
            .map_err(|e| e.context("presign", path.as_str(), NAME))
    }
}

/// The part of `key` below the root, if `key` is `exact` itself or under `exact/` (or under
/// the root when `exact` is the root's key).
fn prefix_matches<'a>(key: &'a str, exact: &str, root: &str) -> Option<&'a str> {
    let rel = key
        .strip_prefix(root)
        .or_else(|| (root.is_empty()).then_some(key))?;
    let exact_rel = exact.strip_prefix(root).unwrap_or(exact);
    if exact_rel.is_empty()
        || rel == exact_rel
        || rel
            .strip_prefix(exact_rel)
            .is_some_and(|rest| rest.starts_with('/'))
    {
        Some(rel)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_prefixes_match_by_segment() {
        assert_eq!(prefix_matches("r/a/b", "r/a", "r/"), Some("a/b"));
        assert_eq!(prefix_matches("r/a", "r/a", "r/"), Some("a"));
        assert_eq!(prefix_matches("r/ab", "r/a", "r/"), None);
        assert_eq!(prefix_matches("x/a", "", ""), Some("x/a"));
        assert_eq!(prefix_matches("r/x", "r/", "r/"), Some("x"));
        assert_eq!(prefix_matches("other", "r", "r/"), None);
    }
}
