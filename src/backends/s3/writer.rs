//! Uploads: one PUT for what fits in a part, a multipart upload (parts on the backend's pool,
//! within its memory budget) for the rest.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use md5::Digest;

use super::client::{self, Client, Method, Request};
use super::meta;
use super::multipart::{MAX_PARTS, Upload};
use super::pool::{PartPool, Permit};
use crate::cancel;
use crate::entry::{Entry, Fields};
use crate::error::{Error, ErrorKind, Result};
use crate::hash::{Hash, HashKind, hex_encode};
use crate::io::WriteSink;
use crate::options::{WriteMode, WriteOptions};
use crate::path::Path;

/// A writer buffers this much before it takes a whole part from the memory budget.
pub(crate) const SMALL: usize = 1024 * 1024;

/// What every request of one upload shares.
pub(crate) struct Target {
    pub(crate) client: Arc<Client>,
    pub(crate) pool: PartPool,
    pub(crate) key: String,
    pub(crate) path: Path,
    pub(crate) opts: WriteOptions,
    /// Signed headers for PUT / CreateMultipartUpload: content type and metadata.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) part_size: usize,
    pub(crate) conditional: bool,
    /// The whole object's MD5, given by the caller as `md5chksum` metadata: stored with a
    /// multipart upload, and checked before it completes.
    pub(crate) given_md5: Option<Hash>,
    /// The backend's closed flag: a writer finished after `close` aborts.
    pub(crate) closed: Arc<AtomicBool>,
}

impl Target {
    pub(crate) fn err(&self, e: Error) -> Error {
        e.context("write", self.path.as_str(), client::NAME)
    }

    pub(crate) fn create_new(&self) -> bool {
        self.opts.mode == WriteMode::CreateNew
    }
}

pub(crate) struct S3Writer {
    target: Arc<Target>,
    buf: Vec<u8>,
    /// The budget held by `buf`, once it grew past [`SMALL`].
    permit: Option<Permit>,
    written: u64,
    md5: md5::Md5,
    upload: Option<Upload>,
}

impl S3Writer {
    pub(crate) fn new(target: Target) -> S3Writer {
        S3Writer {
            target: Arc::new(target),
            // Grows as bytes come: a small object never reserves a whole part.
            buf: Vec::new(),
            permit: None,
            written: 0,
            md5: md5::Md5::new(),
            upload: None,
        }
    }

    /// Hands the full buffer to the pool (starting the multipart upload first if needed).
    fn flush_part(&mut self) -> Result<()> {
        let t = Arc::clone(&self.target);
        cancel::check(t.opts.cancel.as_ref()).map_err(|e| t.err(e))?;
        if self.upload.is_none() {
            self.upload = Some(Upload::start(&t)?);
        }
        let Some(upload) = self.upload.as_mut() else {
            return Err(t.err(Error::new(ErrorKind::Other, "no upload")));
        };
        if let Some(e) = upload.take_error() {
            return Err(t.err(e));
        }
        if u64::from(upload.next_part()) > MAX_PARTS {
            return Err(t.err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "the object needs more than {MAX_PARTS} parts of {} bytes; set a larger \
                     part size, or give the size in WriteOptions::size_hint",
                    t.part_size
                ),
            )));
        }
        let data = std::mem::take(&mut self.buf);
        upload
            .submit(&t, data, self.permit.take())
            .map_err(|e| t.err(e))
    }

    fn single_put(&mut self) -> Result<Entry> {
        let t = Arc::clone(&self.target);
        let body = std::mem::take(&mut self.buf);
        let md5 = client::md5_of(&body);
        let mut req = Request::new(Method::Put, Some(&t.key))
            .body(&body)
            .cancel(t.opts.cancel.as_ref());
        req.headers = t.headers.clone();
        req = req.header("content-md5", crate::hash::base64_encode(&md5));
        if t.create_new() && t.conditional {
            req = req.header("if-none-match", "*");
        }
        let resp = match t.client.call(&req, true) {
            Ok(resp) => resp,
            Err(e) if e.kind() == ErrorKind::PreconditionFailed => {
                return Err(t.err(Error::new(ErrorKind::AlreadyExists, "the object exists")));
            }
            Err(e) => return Err(t.err(e)),
        };
        drop(self.permit.take());
        let etag = client::header(&resp, "etag").map(|e| meta::unquote_etag(&e));
        let hash = Hash::from_hex(HashKind::Md5, &hex_encode(&md5)).ok();
        Ok(self.entry(hash, etag))
    }

    /// The entry of what was stored: every field this writer set is known.
    fn entry(&self, md5: Option<Hash>, etag: Option<String>) -> Entry {
        let t = &self.target;
        let metadata = t
            .opts
            .metadata
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .filter(|(k, _)| k != meta::MTIME && k != meta::MD5CHKSUM)
            .collect();
        let mut entry = Entry::file(t.path.clone(), self.written)
            .with_content_type(t.opts.content_type.clone())
            .with_metadata(metadata)
            .with_etag(etag);
        if t.opts.modified.is_some() {
            entry = entry.with_modified(t.opts.modified);
        }
        if let Some(md5) = md5 {
            entry = entry.with_hash(md5).with_filled(Fields::HASHES);
        }
        entry
    }

    /// Takes a part's budget before the buffer grows past [`SMALL`].
    fn reserve(&mut self, incoming: usize) -> Result<()> {
        let t = &self.target;
        if self.permit.is_none() && self.buf.len() + incoming > SMALL.min(t.part_size) {
            let permit = t
                .pool
                .acquire(t.part_size, t.opts.cancel.as_ref())
                .map_err(|e| t.err(e))?;
            self.permit = Some(permit);
            self.buf.reserve_exact(t.part_size - self.buf.len());
        }
        Ok(())
    }
}

impl Write for S3Writer {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = self.target.part_size - self.buf.len();
        let n = room.min(data.len());
        self.reserve(n)?;
        self.buf.extend_from_slice(&data[..n]);
        self.md5.update(&data[..n]);
        self.written += n as u64;
        if self.buf.len() == self.target.part_size {
            self.flush_part()?;
        }
        Ok(n)
    }

    /// Does nothing: parts go up when they are full, the rest on `finish`.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl WriteSink for S3Writer {
    fn finish(mut self: Box<Self>) -> Result<Entry> {
        let t = Arc::clone(&self.target);
        let checks = t
            .opts
            .check_size(self.written)
            .and_then(|()| cancel::check(t.opts.cancel.as_ref()))
            .and_then(|()| {
                if t.closed.load(Ordering::Acquire) {
                    Err(Error::closed("write"))
                } else {
                    Ok(())
                }
            });
        if let Err(e) = checks {
            if let Some(upload) = self.upload.take() {
                let _ = upload.abort(&t);
            }
            return Err(t.err(e));
        }
        let computed = Hash::from_hex(
            HashKind::Md5,
            &hex_encode(&std::mem::take(&mut self.md5).finalize()),
        )
        .ok();
        if let Some(given) = t.given_md5
            && computed.is_some_and(|c| c != given)
        {
            if let Some(upload) = self.upload.take() {
                let _ = upload.abort(&t);
            }
            return Err(t.err(Error::new(
                ErrorKind::Corrupt,
                format!(
                    "the content's MD5 is not the md5chksum given ({})",
                    given.to_base64()
                ),
            )));
        }
        let Some(mut upload) = self.upload.take() else {
            return self.single_put();
        };
        if !self.buf.is_empty() {
            let data = std::mem::take(&mut self.buf);
            if let Err(e) = upload.submit(&t, data, self.permit.take()) {
                let _ = upload.abort(&t);
                return Err(t.err(e));
            }
        }
        let etag = upload.complete(&t)?;
        Ok(self.entry(t.given_md5, etag))
    }

    fn abort(mut self: Box<Self>) -> Result<()> {
        match self.upload.take() {
            Some(upload) => upload.abort(&self.target),
            None => Ok(()),
        }
    }
}

impl Drop for S3Writer {
    fn drop(&mut self) {
        if let Some(upload) = self.upload.take() {
            let _ = upload.abort(&self.target);
        }
    }
}
