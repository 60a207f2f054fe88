//! Server-side copies: CopyObject, UploadPartCopy above the copy cutoff, between prefixes of
//! one bucket (`copy_from`), and onto the object itself with new metadata (`set_modified`).

use std::time::SystemTime;

use super::S3Backend;
use super::client::{self, NAME, Op, Request, uri_encode};
use super::errors;
use super::meta::{self, Head};
use super::multipart::{self, MAX_PARTS};
use super::xml::{self, Doc};
use crate::backend::Backend;
use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};
use crate::location::Location;
use crate::options::WriteOptions;
use crate::path::Path;

/// What a copy writes: the source's metadata (`COPY`), or these headers (`REPLACE`).
enum Directive {
    Copy,
    Replace(Vec<(String, String)>),
}

impl S3Backend {
    /// The `x-amz-copy-source` of a key of this bucket.
    fn copy_source(&self, key: &str) -> String {
        let encoded: Vec<String> = key.split('/').map(uri_encode).collect();
        format!("/{}/{}", self.client().cfg.bucket, encoded.join("/"))
    }

    /// HeadObject by key: `Ok(None)` for a missing object.
    pub(super) fn head_object(
        &self,
        op: &'static str,
        key: &str,
        path: &str,
    ) -> Result<Option<Head>> {
        let req = Request::new(Op::HeadObject, Some(key));
        match self.client().call(&req) {
            Ok(resp) => Ok(Some(Head::from_response(&resp))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) if e.kind() == ErrorKind::PermissionDenied => {
                // A HEAD error has no body: ask with a one-byte GET to learn whether the
                // credentials or the permissions are at fault.
                // The probe is retried like any GET, and only an answer from the server
                // replaces the HEAD's error: a broken connection must not turn "credentials
                // refused" into a transport error.
                let probe = Request::new(Op::GetObject, Some(key)).header("range", "bytes=0-0");
                match self.client().call(&probe) {
                    Err(detail) if errors::code_of(&detail).is_some() => {
                        Err(detail.context(op, path, NAME))
                    }
                    _ => Err(e.context(op, path, NAME)),
                }
            }
            Err(e) => Err(e.context(op, path, NAME)),
        }
    }

    /// Copies the object at key `from_key` (shown as `from` in errors) to `to`.
    pub(super) fn copy_key(
        &self,
        op: &'static str,
        from_key: &str,
        from: &str,
        to: &Path,
    ) -> Result<Entry> {
        self.object_path(op, to)?;
        let source = self.head_object(op, from_key, from)?.ok_or_else(|| {
            Error::new(ErrorKind::NotFound, "no such object").context(op, from, NAME)
        })?;
        let to_key = self.key(to);
        if from_key == to_key {
            // S3 refuses to copy an object onto itself unchanged; it is a no-op anyway.
            return self.stat(to);
        }
        self.copy_object(op, from_key, &source, to, Directive::Copy)?;
        self.stat(to)
    }

    /// `copy_from` and `rename_from`: the source key under another root of this bucket.
    pub(super) fn source_key(
        &self,
        op: &'static str,
        src: &Location,
        from: &Path,
    ) -> Result<String> {
        self.check_open(op)?;
        let here = self.location_now();
        if !src.same_store(&here) {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("{src} is not on this store ({here}): copy by streaming"),
            )
            .context(op, from.as_str(), NAME));
        }
        if from.is_root() && src.root().is_empty() {
            return Err(
                Error::new(ErrorKind::InvalidPath, "the root is not an object").context(
                    op,
                    from.as_str(),
                    NAME,
                ),
            );
        }
        Ok(src.key(from))
    }

    /// Sets the stored modification time by copying the object onto itself with its
    /// metadata replaced (content type, user metadata and the other stored headers kept).
    pub(super) fn set_modified_now(&self, path: &Path, modified: SystemTime) -> Result<Entry> {
        const OP: &str = "set_modified";
        self.object_path(OP, path)?;
        let key = self.key(path);
        let source = self.head_object(OP, &key, path.as_str())?.ok_or_else(|| {
            Error::new(ErrorKind::NotFound, "no such object").context(OP, path.as_str(), NAME)
        })?;
        let headers = source
            .replace_headers(modified)
            .map_err(|e| e.context(OP, path.as_str(), NAME))?;
        self.copy_object(OP, &key, &source, path, Directive::Replace(headers))?;
        self.stat(path)
    }

    /// CopyObject, or above the copy cutoff a multipart upload of UploadPartCopy parts.
    fn copy_object(
        &self,
        op: &'static str,
        from_key: &str,
        source: &Head,
        to: &Path,
        directive: Directive,
    ) -> Result<()> {
        let to_key = self.key(to);
        let fail = |e: Error| e.context(op, to.as_str(), NAME);
        if source.size > self.inner.copy_cutoff {
            let headers = match directive {
                Directive::Replace(headers) => headers,
                // UploadPartCopy copies no metadata: send it again (and the MD5, if known).
                Directive::Copy => {
                    let mut opts = WriteOptions::new();
                    opts.content_type = source.content_type.clone();
                    opts.metadata = source.meta.clone();
                    let mut headers = meta::object_headers(&opts, None).map_err(fail)?;
                    headers.extend(source.kept.iter().cloned());
                    headers
                }
            };
            return self
                .copy_in_parts(from_key, source, &to_key, headers)
                .map_err(fail);
        }
        let mut req = Request::new(Op::CopyObject, Some(&to_key))
            .header("x-amz-copy-source", self.copy_source(from_key));
        // Pin the source by its ETag where it is a plain MD5 (some servers mishandle a
        // multipart ETag here), so that an object changed meanwhile fails the copy.
        if let Some(etag) = source
            .etag
            .as_deref()
            .filter(|e| meta::etag_md5(e).is_some())
        {
            req = req.header("x-amz-copy-source-if-match", format!("\"{etag}\""));
        }
        match directive {
            Directive::Copy => req = req.header("x-amz-metadata-directive", "COPY"),
            Directive::Replace(headers) => {
                req = req.header("x-amz-metadata-directive", "REPLACE");
                req.headers.extend(headers);
            }
        }
        let resp = self.client().call(&req).map_err(fail)?;
        // CopyObject can fail after a 200, with an <Error> body.
        let body = client::read_body(resp, 1024 * 1024).map_err(fail)?;
        match xml::parse_doc(&body, "CopyObjectResult") {
            Ok(Doc::Error(err)) => Err(fail(self.client().body_error("copy", &err))),
            _ => Ok(()),
        }
    }

    /// Copies part by part (UploadPartCopy) into a new multipart upload with `headers`.
    fn copy_in_parts(
        &self,
        from_key: &str,
        source: &Head,
        to_key: &str,
        headers: Vec<(String, String)>,
    ) -> Result<()> {
        let part = (self.inner.part_size as u64).max(source.size.div_ceil(MAX_PARTS));
        let client = self.client();
        let id = multipart::create_multipart_upload(client, to_key, headers, None)?;
        let abort = |e: Error| {
            let _ = multipart::abort_multipart_upload(client, to_key, &id);
            e
        };
        let mut etags = Vec::new();
        let mut offset = 0u64;
        let mut number = 1u32;
        while offset < source.size {
            let end = (offset + part).min(source.size);
            let etag = self
                .upload_part_copy(from_key, source, to_key, &id, number, offset..end)
                .map_err(abort)?;
            etags.push((number, etag));
            offset = end;
            number += 1;
        }
        multipart::complete_multipart_upload(client, to_key, &id, &etags, Vec::new(), None)
            .map(|_| ())
            .map_err(abort)
    }

    /// UploadPartCopy of the bytes `range` of `from_key` as part `number` of upload `id`:
    /// the part's ETag.
    fn upload_part_copy(
        &self,
        from_key: &str,
        source: &Head,
        to_key: &str,
        id: &str,
        number: u32,
        range: std::ops::Range<u64>,
    ) -> Result<String> {
        let mut req = Request::new(Op::UploadPartCopy, Some(to_key))
            .query("partNumber", number.to_string())
            .query("uploadId", id)
            .header("x-amz-copy-source", self.copy_source(from_key))
            .header(
                "x-amz-copy-source-range",
                format!("bytes={}-{}", range.start, range.end - 1),
            );
        // Pin the source by its ETag where it is a plain MD5, so that an object changed
        // during the copy fails the copy instead of mixing two versions.
        if let Some(etag) = source
            .etag
            .as_deref()
            .filter(|e| meta::etag_md5(e).is_some())
        {
            req = req.header("x-amz-copy-source-if-match", format!("\"{etag}\""));
        }
        let client = self.client();
        let body = client
            .call(&req)
            .and_then(|resp| client::read_body(resp, 1024 * 1024))?;
        let etag = match xml::parse_doc(&body, "CopyPartResult") {
            Ok(Doc::Result(root)) => root.text_of("ETag").map(meta::unquote_etag),
            Ok(Doc::Error(err)) => return Err(client.body_error("copy", &err)),
            Err(_) => None,
        };
        etag.filter(|e| !e.is_empty()).ok_or_else(|| {
            Error::new(
                ErrorKind::Corrupt,
                "UploadPartCopy answered without an ETag",
            )
        })
    }
}
