//! Multipart uploads: create, parts on the backend's [`PartPool`], complete or abort.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};

use super::client::{self, Client, Method, Request};
use super::meta;
use super::pool::Permit;
use super::writer::Target;
use super::xml::{self, Doc};
use crate::cancel::{self, Cancel};
use crate::error::{Error, ErrorKind, Result};

/// S3's limit on the number of parts of one upload.
pub(crate) const MAX_PARTS: u64 = 10_000;

type PartResult = (u32, Result<String>);

/// A multipart upload under way.
pub(crate) struct Upload {
    id: String,
    next_part: u32,
    results_tx: Sender<PartResult>,
    results: Receiver<PartResult>,
    etags: BTreeMap<u32, String>,
    outstanding: usize,
    error: Option<Error>,
    /// Set on abort: parts still queued are not sent.
    stop: Arc<AtomicBool>,
}

impl Upload {
    /// CreateMultipartUpload.
    pub(crate) fn start(t: &Target) -> Result<Upload> {
        let mut req = Request::new(Method::Post, Some(&t.key))
            .query("uploads", "")
            .cancel(t.opts.cancel.as_ref());
        req.headers = t.headers.clone();
        let resp = t.client.call(&req, true).map_err(|e| t.err(e))?;
        let body = client::read_body(resp, 1024 * 1024).map_err(|e| t.err(e))?;
        let id = match xml::parse_doc(&body, "InitiateMultipartUploadResult") {
            Ok(Doc::Result(root)) => root.text_of("UploadId").unwrap_or_default().to_owned(),
            Ok(Doc::Error(err)) => return Err(t.err(t.client.body_error("create upload", &err))),
            Err(_) => String::new(),
        };
        if id.is_empty() {
            return Err(t.err(Error::new(
                ErrorKind::Corrupt,
                "CreateMultipartUpload answered without an UploadId",
            )));
        }
        let (results_tx, results) = mpsc::channel();
        Ok(Upload {
            id,
            next_part: 1,
            results_tx,
            results,
            etags: BTreeMap::new(),
            outstanding: 0,
            error: None,
            stop: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The number the next part will have.
    pub(crate) fn next_part(&self) -> u32 {
        self.next_part
    }

    /// The first error of a part, if any (taken).
    pub(crate) fn take_error(&mut self) -> Option<Error> {
        self.collect(false);
        self.error.take()
    }

    /// Hands a full part (and the budget it holds) to the pool.
    pub(crate) fn submit(
        &mut self,
        t: &Arc<Target>,
        data: Vec<u8>,
        permit: Option<Permit>,
    ) -> Result<()> {
        let number = self.next_part;
        let target = Arc::clone(t);
        let id = self.id.clone();
        let tx = self.results_tx.clone();
        let stop = Arc::clone(&self.stop);
        t.pool.spawn(move || {
            let result = if stop.load(Ordering::Acquire) {
                Err(Error::new(ErrorKind::Cancelled, "the upload was aborted"))
            } else {
                cancel::check(target.opts.cancel.as_ref())
                    .and_then(|()| upload_part(&target, &id, number, &data))
            };
            // The buffer and its budget go back before the writer hears of it.
            drop(data);
            drop(permit);
            let _ = tx.send((number, result));
        })?;
        self.next_part += 1;
        self.outstanding += 1;
        Ok(())
    }

    /// Gathers finished parts; with `wait`, until none is outstanding.
    fn collect(&mut self, wait: bool) {
        while self.outstanding > 0 {
            let next = if wait {
                self.results.recv().ok()
            } else {
                self.results.try_recv().ok()
            };
            let Some((number, result)) = next else { return };
            self.outstanding -= 1;
            match result {
                Ok(etag) => {
                    self.etags.insert(number, etag);
                }
                Err(e) => {
                    if self.error.is_none() {
                        self.error = Some(e.with_message(format!("part {number} failed")));
                    }
                }
            }
        }
    }

    /// Stops sending queued parts, waits for those in flight, and aborts the upload.
    pub(crate) fn abort(mut self, t: &Target) -> Result<()> {
        self.stop.store(true, Ordering::Release);
        self.collect(true);
        let req = Request::new(Method::Delete, Some(&t.key)).query("uploadId", self.id.clone());
        match t.client.call(&req, true) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(t.err(e)),
        }
    }

    /// Waits for every part, then completes the upload; aborts it on any failure. Returns
    /// the object's ETag, if the server said.
    pub(crate) fn complete(mut self, t: &Target) -> Result<Option<String>> {
        self.collect(true);
        if let Some(e) = self.error.take() {
            let _ = self.abort(t);
            return Err(t.err(e));
        }
        let parts = self.next_part - 1;
        if self.etags.len() != parts as usize {
            let _ = self.abort(t);
            return Err(t.err(Error::new(ErrorKind::Io, "a part upload was lost")));
        }
        let etags: Vec<(u32, String)> = std::mem::take(&mut self.etags).into_iter().collect();
        let mut headers = Vec::new();
        if t.create_new() && t.conditional {
            headers.push(("if-none-match".to_owned(), "*".to_owned()));
        }
        match complete(
            &t.client,
            &t.key,
            &self.id,
            &etags,
            headers,
            t.opts.cancel.as_ref(),
        ) {
            Ok(etag) => Ok(etag),
            Err(e) if e.kind() == ErrorKind::PreconditionFailed && t.create_new() => {
                let _ = self.abort(t);
                Err(t.err(Error::new(ErrorKind::AlreadyExists, "the object exists")))
            }
            Err(e) => {
                let _ = self.abort(t);
                Err(t.err(e))
            }
        }
    }
}

/// CompleteMultipartUpload, retried on temporary failures: a retry that finds the upload
/// gone checks whether an earlier attempt completed it (the object then has a multipart ETag
/// for this many parts). Returns the object's ETag, if known.
pub(crate) fn complete(
    client: &Client,
    key: &str,
    id: &str,
    etags: &[(u32, String)],
    headers: Vec<(String, String)>,
    cancel: Option<&Cancel>,
) -> Result<Option<String>> {
    let body = xml::complete_request(etags.iter().map(|(n, e)| (*n, e.as_str())));
    let mut req = Request::new(Method::Post, Some(key))
        .query("uploadId", id)
        .body(body.as_bytes());
    req.headers = headers;
    let parts = etags.len();
    let retry = client.cfg.retry;
    let mut attempt = 0;
    loop {
        cancel::check(cancel)?;
        let result = client.call(&req, false).and_then(|resp| {
            // CompleteMultipartUpload can fail after a 200, with an <Error> body.
            let body = client::read_body(resp, 1024 * 1024)?;
            match xml::parse_doc(&body, "CompleteMultipartUploadResult") {
                Ok(Doc::Error(err)) => Err(client.body_error("complete upload", &err)),
                Ok(Doc::Result(root)) => Ok(root.text_of("ETag").map(meta::unquote_etag)),
                // Not an <Error>: the upload is complete, whatever else the body says.
                Err(_) => Ok(None),
            }
        });
        match result {
            Ok(etag) => return Ok(etag),
            Err(e) if e.kind() == ErrorKind::NotFound && attempt > 0 => {
                if let Some(etag) =
                    head_etag(client, key).filter(|e| e.ends_with(&format!("-{parts}")))
                {
                    return Ok(Some(etag));
                }
                return Err(e);
            }
            Err(e) if e.kind() == ErrorKind::Unavailable => return Err(e),
            Err(e) if e.is_temporary() && attempt < retry.retries => {
                retry.sleep(attempt, cancel)?;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

fn head_etag(client: &Client, key: &str) -> Option<String> {
    let req = Request::new(Method::Head, Some(key));
    let resp = client.call(&req, true).ok()?;
    client::header(&resp, "etag").map(|e| meta::unquote_etag(&e))
}
fn upload_part(t: &Target, id: &str, number: u32, data: &[u8]) -> Result<String> {
    let req = Request::new(Method::Put, Some(&t.key))
        .query("partNumber", number.to_string())
        .query("uploadId", id)
        .body(data)
        .content_md5()
        .cancel(t.opts.cancel.as_ref());
    let resp = t.client.call(&req, true)?;
    client::header(&resp, "etag")
        .map(|e| meta::unquote_etag(&e))
        .ok_or_else(|| Error::new(ErrorKind::Corrupt, "UploadPart answered without an ETag"))
}
