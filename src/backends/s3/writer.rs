//! Uploads: one PUT for what fits in a part, a parallel multipart upload for the rest.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::client::{self, Client, Method, Request};
use super::util;
use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};
use crate::hash::HashKind;
use crate::io::WriteSink;
use crate::options::{WriteMode, WriteOptions};
use crate::path::Path;

/// S3's limit on the number of parts of one upload.
pub(crate) const MAX_PARTS: u64 = 10_000;

/// What every request of one upload shares.
pub(crate) struct Target {
    pub(crate) client: Arc<Client>,
    pub(crate) key: String,
    pub(crate) path: Path,
    pub(crate) opts: WriteOptions,
    /// Signed headers for PUT / CreateMultipartUpload: content type and metadata.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) part_size: usize,
    pub(crate) concurrency: usize,
    pub(crate) conditional: bool,
    /// The backend's closed flag: a writer finished after `close` aborts.
    pub(crate) closed: Arc<std::sync::atomic::AtomicBool>,
}

impl Target {
    fn err(&self, e: Error) -> Error {
        e.context("write", self.path.as_str(), client::NAME)
    }

    fn create_new(&self) -> bool {
        self.opts.mode == WriteMode::CreateNew
    }
}

pub(crate) struct S3Writer {
    target: Arc<Target>,
    buf: Vec<u8>,
    written: u64,
    md5: md5::Md5,
    upload: Option<Upload>,
}

struct Job {
    number: u32,
    data: Vec<u8>,
}

/// A multipart upload under way, and its pool of part uploaders.
struct Upload {
    id: String,
    next_part: u32,
    jobs: Option<SyncSender<Job>>,
    results: Receiver<(u32, Result<String>)>,
    etags: BTreeMap<u32, String>,
    outstanding: usize,
    workers: Vec<JoinHandle<()>>,
    error: Option<Error>,
}

impl S3Writer {
    pub(crate) fn new(target: Target) -> S3Writer {
        S3Writer {
            target: Arc::new(target),
            // Grows as bytes come: a small object never reserves a whole part.
            buf: Vec::new(),
            written: 0,
            md5: md5::Digest::new(),
            upload: None,
        }
    }

    /// Hands the full buffer to the pool (starting the multipart upload first if needed).
    fn flush_part(&mut self) -> Result<()> {
        if self.upload.is_none() {
            self.upload = Some(Upload::start(&self.target)?);
        }
        let Some(upload) = self.upload.as_mut() else {
            return Err(Error::new(ErrorKind::Other, "no upload"));
        };
        upload.collect(false);
        if let Some(e) = upload.error.take() {
            return Err(self.target.err(e));
        }
        if u64::from(upload.next_part) > MAX_PARTS {
            return Err(self.target.err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "the object needs more than {MAX_PARTS} parts of {} bytes; set a larger \
                     part size, or give the size in WriteOptions::size_hint",
                    self.target.part_size
                ),
            )));
        }
        // The next buffer is allocated only when bytes arrive, after the hand-off (which waits
        // for a free uploader): at most `concurrency` parts in flight plus the one handed over.
        let data = std::mem::take(&mut self.buf);
        upload.submit(data)
    }

    fn single_put(&mut self) -> Result<Entry> {
        let t = &self.target;
        let body = std::mem::take(&mut self.buf);
        let md5 = util::md5(&body);
        let mut req = Request::new(Method::Put, Some(&t.key)).body(&body);
        req.headers = t.headers.clone();
        req = req.header("content-md5", util::base64(&md5));
        if t.create_new() && t.conditional {
            req = req.header("if-none-match", "*");
        }
        match t.client.call(&req, true) {
            Ok(_) => Ok(self.entry(Some(util::hex(&md5)))),
            Err(e) if e.kind() == ErrorKind::PreconditionFailed => {
                Err(t.err(Error::new(ErrorKind::AlreadyExists, "the object exists")))
            }
            Err(e) => Err(t.err(e)),
        }
    }

    fn entry(&self, md5_hex: Option<String>) -> Entry {
        let t = &self.target;
        let mut entry = Entry::file(t.path.clone(), self.written)
            .with_modified(t.opts.modified)
            .with_content_type(t.opts.content_type.clone())
            .with_metadata(
                t.opts
                    .metadata
                    .iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                    .collect(),
            );
        if let Some(md5) = md5_hex
            && let Ok(md5) = crate::hash::Hash::from_hex(HashKind::Md5, &md5)
        {
            entry = entry.with_hash(md5);
        }
        entry
    }
}

fn head_etag(t: &Target) -> Option<String> {
    let req = Request::new(Method::Head, Some(&t.key));
    let resp = t.client.call(&req, true).ok()?;
    client::header(&resp, "etag").map(|e| util::unquote_etag(&e))
}

impl Upload {
    fn start(t: &Arc<Target>) -> Result<Upload> {
        let mut req = Request::new(Method::Post, Some(&t.key)).query("uploads", "");
        req.headers = t.headers.clone();
        let resp = t.client.call(&req, true).map_err(|e| t.err(e))?;
        let body = client::read_body(resp, 1024 * 1024).map_err(|e| t.err(e))?;
        let id = util::xml_tag(&body, "UploadId")
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                t.err(Error::new(
                    ErrorKind::Corrupt,
                    "CreateMultipartUpload answered without an UploadId",
                ))
            })?;
        // A rendezvous channel: a part is handed over only when a worker is free, so at most
        // `concurrency` parts are in flight and one more is being filled.
        let (jobs, job_rx) = mpsc::sync_channel::<Job>(0);
        let job_rx = Arc::new(Mutex::new(job_rx));
        let (result_tx, results) = mpsc::channel();
        let mut workers = Vec::new();
        for n in 0..t.concurrency.max(1) {
            let job_rx = Arc::clone(&job_rx);
            let result_tx = result_tx.clone();
            let target = Arc::clone(t);
            let part_id = id.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("omnistorage-s3-part-{n}"))
                .spawn(move || {
                    loop {
                        let job = {
                            let rx = job_rx.lock().unwrap_or_else(|e| e.into_inner());
                            rx.recv()
                        };
                        let Ok(job) = job else { return };
                        let result = upload_part(&target, &part_id, job.number, &job.data);
                        if result_tx.send((job.number, result)).is_err() {
                            return;
                        }
                    }
                });
            match spawned {
                Ok(handle) => workers.push(handle),
                Err(e) if workers.is_empty() => {
                    let upload = Upload {
                        id,
                        next_part: 1,
                        jobs: None,
                        results,
                        etags: BTreeMap::new(),
                        outstanding: 0,
                        workers,
                        error: None,
                    };
                    let _ = upload.abort(t);
                    return Err(t.err(Error::from(e)));
                }
                Err(_) => break, // fewer workers than asked for: still correct
            }
        }
        Ok(Upload {
            id,
            next_part: 1,
            jobs: Some(jobs),
            results,
            etags: BTreeMap::new(),
            outstanding: 0,
            workers,
            error: None,
        })
    }

    fn submit(&mut self, data: Vec<u8>) -> Result<()> {
        let number = self.next_part;
        let Some(jobs) = &self.jobs else {
            return Err(Error::new(ErrorKind::Closed, "upload already closed"));
        };
        jobs.send(Job { number, data })
            .map_err(|_| Error::new(ErrorKind::Io, "the part uploaders stopped"))?;
        self.next_part += 1;
        self.outstanding += 1;
        Ok(())
    }

    /// Gathers finished parts; with `wait`, until none is outstanding.
    fn collect(&mut self, wait: bool) {
        loop {
            let next = if wait && self.outstanding > 0 {
                self.results.recv().ok()
            } else {
                self.results.try_recv().ok()
            };
            let Some((number, result)) = next else { return };
            self.outstanding = self.outstanding.saturating_sub(1);
            match result {
                Ok(etag) => {
                    self.etags.insert(number, etag);
                }
                Err(e) => {
                    if self.error.is_none() {
                        self.error =
                            Some(e.context("write", &format!("part {number}"), client::NAME));
                    }
                }
            }
        }
    }

    /// Stops the pool: no new parts, wait for those in flight.
    fn close_pool(&mut self) {
        self.jobs = None;
        self.collect(true);
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }

    fn abort(mut self, t: &Target) -> Result<()> {
        self.close_pool();
        let req = Request::new(Method::Delete, Some(&t.key)).query("uploadId", self.id.clone());
        match t.client.call(&req, true) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(t.err(e)),
        }
    }

    fn complete(mut self, t: &Target) -> Result<()> {
        self.close_pool();
        if let Some(e) = self.error.take() {
            let _ = self.abort(t);
            return Err(t.err(e));
        }
        let parts = self.next_part - 1;
        if self.etags.len() != parts as usize {
            let _ = self.abort(t);
            return Err(t.err(Error::new(ErrorKind::Io, "a part upload was lost")));
        }
        let mut xml = String::from("<CompleteMultipartUpload>");
        for (number, etag) in &self.etags {
            xml.push_str(&format!(
                "<Part><PartNumber>{number}</PartNumber><ETag>\"{}\"</ETag></Part>",
                util::xml_escape(etag)
            ));
        }
        xml.push_str("</CompleteMultipartUpload>");
        let mut req = Request::new(Method::Post, Some(&t.key))
            .query("uploadId", self.id.clone())
            .body(xml.as_bytes());
        if t.create_new() && t.conditional {
            req = req.header("if-none-match", "*");
        }
        let mut attempt = 0;
        loop {
            let result = t.client.call(&req, false).and_then(|resp| {
                // CompleteMultipartUpload can fail after a 200, with an <Error> body.
                let body = client::read_body(resp, 1024 * 1024)?;
                if body.contains("<Error>") {
                    let code = util::xml_tag(&body, "Code").unwrap_or_default();
                    let message = util::xml_tag(&body, "Message").unwrap_or_default();
                    let (kind, temporary, what) = client::classify(500, &code, &message);
                    return Err(Error::new(
                        kind,
                        format!("complete upload: {what} ({code}: {message})"),
                    )
                    .with_temporary(temporary));
                }
                Ok(())
            });
            match result {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == ErrorKind::PreconditionFailed && t.create_new() => {
                    let _ = self.abort(t);
                    return Err(t.err(Error::new(ErrorKind::AlreadyExists, "the object exists")));
                }
                Err(e) if e.kind() == ErrorKind::NotFound && attempt > 0 => {
                    // The upload is gone: an earlier attempt completed it if the object now
                    // has a multipart ETag for this many parts.
                    if head_etag(t).is_some_and(|etag| etag.ends_with(&format!("-{parts}"))) {
                        return Ok(());
                    }
                    return Err(t.err(e));
                }
                Err(e) if e.is_temporary() && attempt < t.client.cfg.retries => {
                    std::thread::sleep(util::backoff(
                        attempt,
                        t.client.cfg.retry_base,
                        std::time::Duration::from_secs(5),
                    ));
                    attempt += 1;
                }
                Err(e) => {
                    let _ = self.abort(t);
                    return Err(t.err(e));
                }
            }
        }
    }
}

fn upload_part(t: &Target, id: &str, number: u32, data: &[u8]) -> Result<String> {
    let req = Request::new(Method::Put, Some(&t.key))
        .query("partNumber", number.to_string())
        .query("uploadId", id)
        .body(data)
        .content_md5();
    let resp = t.client.call(&req, true)?;
    client::header(&resp, "etag")
        .map(|e| util::unquote_etag(&e))
        .ok_or_else(|| Error::new(ErrorKind::Corrupt, "UploadPart answered without an ETag"))
}

impl Write for S3Writer {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = self.target.part_size - self.buf.len();
        let n = room.min(data.len());
        if self.buf.len() + n > 1024 * 1024 && self.buf.capacity() < self.target.part_size {
            // Past 1 MiB the object is likely large: take the whole part at once rather than
            // doubling (and copying) up to it.
            self.buf
                .reserve_exact(self.target.part_size - self.buf.len());
        }
        self.buf.extend_from_slice(&data[..n]);
        md5::Digest::update(&mut self.md5, &data[..n]);
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
        t.opts.check_size(self.written).map_err(|e| t.err(e))?;
        if t.closed.load(std::sync::atomic::Ordering::Acquire) {
            if let Some(upload) = self.upload.take() {
                let _ = upload.abort(&t);
            }
            return Err(t.err(Error::closed("write")));
        }
        match self.upload.take() {
            None => self.single_put(),
            Some(mut upload) => {
                if !self.buf.is_empty() {
                    let data = std::mem::take(&mut self.buf);
                    if let Err(e) = upload.submit(data) {
                        let _ = upload.abort(&t);
                        return Err(t.err(e));
                    }
                }
                upload.complete(&t)?;
                Ok(self.entry(None))
            }
        }
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

/// `WriteOptions` as signed headers: content type, `x-amz-meta-*`, and rclone's `mtime`.
pub(crate) fn object_headers(opts: &WriteOptions) -> Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    if let Some(ct) = &opts.content_type {
        check_header_value("content type", ct)?;
        headers.push(("content-type".to_owned(), ct.clone()));
    }
    for (k, v) in &opts.metadata {
        let key = k.to_ascii_lowercase();
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("metadata key {k:?}: use ASCII letters, digits, '-', '_' and '.'"),
            ));
        }
        if key == "mtime" && opts.modified.is_some() {
            continue;
        }
        check_header_value("metadata value", v)?;
        headers.push((format!("x-amz-meta-{key}"), v.clone()));
    }
    if let Some(modified) = opts.modified {
        let mtime = util::format_mtime(modified).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                "modification times before 1970 cannot be stored",
            )
        })?;
        headers.push(("x-amz-meta-mtime".to_owned(), mtime));
    }
    Ok(headers)
}

fn check_header_value(what: &str, v: &str) -> Result<()> {
    if v.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidInput,
            format!("{what} {v:?}: S3 keeps only printable ASCII in headers"),
        ))
    }
}
