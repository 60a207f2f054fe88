//! Uploads: one PUT for what fits in a part, a multipart upload (parts on the backend's pool,
//! within its memory budget) for the rest.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use md5::Digest;

use super::builder::{MAX_PART_SIZE, MIN_PART_SIZE};
use super::client::{self, Client, Op, Request};
use super::journal::{Claim, Found, Journal, Record, headers_digest};
use super::meta;
use super::multipart::{self, MAX_PARTS, Upload};
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
    /// The journal entry of this writer's object, with a resume identity and a journal.
    claim: Option<Claim>,
    /// The upload of a dead writer with the same identity, to take up at the first part.
    resume_from: Option<String>,
    /// The journal entry held by `claim` names `upload`: a writer that fails can leave the
    /// upload to the next writer of the same content.
    journaled: bool,
}

impl S3Writer {
    /// A writer of `target`; with a `journal` and a resume identity in the options, one
    /// that takes up the upload a dead writer of the same content left, and records its own.
    pub(crate) fn new(mut target: Target, journal: Option<&Arc<Journal>>) -> S3Writer {
        let mut claim = None;
        let mut resume_from = None;
        if let (Some(journal), Some(identity)) = (journal, target.opts.resume_id.as_ref()) {
            let cfg = &target.client.cfg;
            match journal.find(&cfg.endpoint, &cfg.bucket, &target.key) {
                Found::Busy => {}
                Found::Fresh(c) => claim = Some(c),
                Found::Dead(c, record) => {
                    if !record.creating()
                        && &record.identity == identity
                        && record.headers == headers_digest(&target.headers)
                        && part_size_fits(&record, &target.opts)
                    {
                        // Parts are compared by number: the part size must be the same.
                        target.part_size = record.part_size;
                        resume_from = Some(record.upload_id);
                        claim = Some(c);
                    } else if multipart::abort_recorded(&target.client, &record).is_ok() {
                        // Other content or metadata, or killed before it knew its upload's
                        // id: of no use.
                        claim = Some(c);
                    }
                    // Otherwise the entry stays for a later reclaim, and this writer goes
                    // without one.
                }
            }
        }
        S3Writer {
            target: Arc::new(target),
            // Grows as bytes come: a small object never reserves a whole part.
            buf: Vec::new(),
            permit: None,
            written: 0,
            md5: md5::Md5::new(),
            upload: None,
            claim,
            resume_from,
            journaled: false,
        }
    }

    /// The multipart upload of this writer: a dead writer's taken up (a missing one starts
    /// over), or a new one, recorded in the journal.
    fn begin(&mut self) -> Result<Upload> {
        let t = Arc::clone(&self.target);
        if let Some(id) = self.resume_from.take() {
            match Upload::resume(&t, id.clone()) {
                Ok(upload) => {
                    // The dead writer's entry, held by the claim, names it.
                    self.journaled = self.claim.is_some();
                    return Ok(upload);
                }
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                // Its parts cannot be read: it is not taken up, but aborted, so that it is
                // not left behind; if even that fails, its entry stays for a later reclaim
                // and this writer goes without one.
                Err(_) => {
                    if multipart::abort_multipart_upload(&t.client, &t.key, &id).is_err() {
                        self.claim = None;
                    }
                }
            }
        }
        // The entry is written before the upload is created, and again with its id after:
        // a kill in between leaves a creating entry, whose finder aborts what it began.
        let record = |upload_id: String, started: u64| {
            let identity = t.opts.resume_id.clone()?;
            Some(Record {
                endpoint: t.client.cfg.endpoint.clone(),
                bucket: t.client.cfg.bucket.clone(),
                key: t.key.clone(),
                upload_id,
                part_size: t.part_size,
                identity,
                headers: headers_digest(&t.headers),
                started: Some(started),
            })
        };
        let started = Record::now();
        self.journaled = false;
        if let (Some(claim), Some(creating)) = (&self.claim, record(String::new(), started))
            && !claim.record(&creating)
        {
            // No entry: this upload goes without the journal.
            self.claim = None;
        }
        let upload = match Upload::start(&t) {
            Ok(upload) => upload,
            Err(e) => {
                // An upload may have been made whose answer was lost: the creating entry
                // stays (let go) for the next writer of the object or a reclaim.
                self.claim = None;
                return Err(e);
            }
        };
        if let (Some(claim), Some(entry)) = (&self.claim, record(upload.id().to_owned(), started)) {
            self.journaled = claim.record(&entry);
        }
        Ok(upload)
    }

    /// The journal entry after the upload ended: removed if the upload is gone (completed
    /// or aborted), otherwise let go for a later reclaim.
    fn settle(&mut self, gone: bool) {
        if let Some(claim) = self.claim.take()
            && gone
        {
            claim.remove();
        }
    }

    /// Whether a failed or dropped writer leaves its upload to the next writer of the same
    /// content rather than aborting it: when its journal entry names the upload, and the
    /// writer was neither cancelled nor its backend closed.
    fn keeps(&self) -> bool {
        let t = &self.target;
        self.journaled
            && self.claim.is_some()
            && cancel::check(t.opts.cancel.as_ref()).is_ok()
            && !t.closed.load(Ordering::Acquire)
    }

    /// A writer that ends without `finish` (aborted or dropped: its caller met an error, most
    /// often, such as a failed part or a failed source): with a journal entry, the upload
    /// stays for the next writer of the same content, which sends only the parts not stored
    /// (the sync engine's next attempt at the object does); if none comes, `close` (or
    /// dropping the backend) aborts it. Without one, or once cancelled, it is aborted. Either
    /// way the object is as it was.
    fn end_unfinished(&mut self) -> Result<()> {
        if self.keeps()
            && let Some(upload) = self.upload.take()
        {
            upload.release();
            // The entry stays, let go: the next writer finds a dead writer's upload.
            self.settle(false);
            return Ok(());
        }
        self.abort_upload()
    }

    /// Aborts the upload, if any, and settles the journal entry.
    fn abort_upload(&mut self) -> Result<()> {
        let r = match self.upload.take() {
            Some(upload) => upload.abort(&self.target),
            None => Ok(()),
        };
        if self.resume_from.is_none() {
            self.settle(r.is_ok());
        }
        r
    }

    /// Hands the full buffer to the pool (starting the multipart upload first if needed).
    fn flush_part(&mut self) -> Result<()> {
        let t = Arc::clone(&self.target);
        cancel::check(t.opts.cancel.as_ref()).map_err(|e| t.err(e))?;
        if self.upload.is_none() {
            self.upload = Some(self.begin()?);
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

    /// PutObject of the buffered bytes: the whole object in one request.
    fn put_object(&mut self) -> Result<Entry> {
        let t = Arc::clone(&self.target);
        let body = std::mem::take(&mut self.buf);
        let md5 = client::md5_of(&body);
        let mut req = Request::new(Op::PutObject, Some(&t.key))
            .body(&body)
            .cancel(t.opts.cancel.as_ref());
        req.headers = t.headers.clone();
        req = req.header("content-md5", crate::hash::base64_encode(&md5));
        if t.create_new() && t.conditional {
            req = req.header("if-none-match", "*");
        }
        let resp = match t.client.call(&req) {
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
            let _ = self.abort_upload();
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
            let _ = self.abort_upload();
            return Err(t.err(Error::new(
                ErrorKind::Corrupt,
                format!(
                    "the content's MD5 is not the md5chksum given ({})",
                    given.to_base64()
                ),
            )));
        }
        let Some(mut upload) = self.upload.take() else {
            let entry = self.put_object()?;
            // A dead writer's upload of this content (a smaller object now?): of no use.
            if let Some(id) = self.resume_from.take() {
                let gone = multipart::abort_multipart_upload(&t.client, &t.key, &id).is_ok();
                self.settle(gone);
            }
            return Ok(entry);
        };
        if !self.buf.is_empty() {
            let data = std::mem::take(&mut self.buf);
            if let Err(e) = upload.submit(&t, data, self.permit.take()) {
                let gone = upload.abort(&t).is_ok();
                self.settle(gone);
                return Err(t.err(e));
            }
        }
        // A part that failed after its retries, or a completion that did: with a journal
        // entry, the upload is kept for the next writer of the same content (the sync
        // engine's next attempt sends only the parts not stored).
        let done = upload.complete(&t, self.keeps());
        // Completed: the entry goes. Failed: `complete` aborted the upload (whether that
        // worked is not known here) or kept it; the entry stays, for the next writer or a
        // reclaim.
        self.settle(done.is_ok());
        Ok(self.entry(t.given_md5, done?))
    }

    fn abort(mut self: Box<Self>) -> Result<()> {
        self.end_unfinished()
    }
}

impl Drop for S3Writer {
    fn drop(&mut self) {
        let _ = self.end_unfinished();
    }
}

/// Whether a recorded upload's part size can be used for these options: within S3's limits,
/// and enough for the announced size in 10,000 parts.
fn part_size_fits(record: &Record, opts: &WriteOptions) -> bool {
    (MIN_PART_SIZE..=MAX_PART_SIZE).contains(&record.part_size)
        && opts
            .size_hint
            .is_none_or(|size| size.div_ceil(record.part_size as u64) <= MAX_PARTS)
}
