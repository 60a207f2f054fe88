//! Multipart uploads: create, parts on the backend's [`PartPool`], complete or abort; and
//! the functions that send the multipart operations (`create_multipart_upload`,
//! `upload_part`, `complete_multipart_upload`, `abort_multipart_upload`,
//! `list_multipart_uploads`, `list_parts`), shared with the server-side copy, the pending
//! uploads and the journal.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, SystemTime};

use super::client::{self, Client, Op, Request};
use super::journal::Record;
use super::meta;
use super::pool::Permit;
use super::writer::Target;
use super::xml::{self, Doc, PartsPage, StoredPart, UploadsPage};
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
    /// The parts a resumed upload found stored, by number: a part whose size and MD5 match
    /// one of them is not sent again.
    stored: BTreeMap<u32, StoredPart>,
}

impl Upload {
    /// A new upload of `t` ([`create_multipart_upload`]).
    pub(crate) fn start(t: &Target) -> Result<Upload> {
        let id =
            create_multipart_upload(&t.client, &t.key, t.headers.clone(), t.opts.cancel.as_ref())
                .map_err(|e| t.err(e))?;
        Ok(Upload::with(id, BTreeMap::new()))
    }

    fn with(id: String, stored: BTreeMap<u32, StoredPart>) -> Upload {
        let (results_tx, results) = mpsc::channel();
        Upload {
            id,
            next_part: 1,
            results_tx,
            results,
            etags: BTreeMap::new(),
            outstanding: 0,
            error: None,
            stop: Arc::new(AtomicBool::new(false)),
            stored,
        }
    }

    /// Takes up the upload `id` that a dead writer began: its stored parts (ListParts, every
    /// page). An upload that is gone is [`ErrorKind::NotFound`].
    pub(crate) fn resume(t: &Target, id: String) -> Result<Upload> {
        let mut stored = BTreeMap::new();
        let mut marker: Option<u32> = None;
        loop {
            let page = list_parts(&t.client, &t.key, &id, marker, t.opts.cancel.as_ref())
                .map_err(|e| t.err(e))?;
            for part in page.parts {
                stored.insert(part.number, part);
            }
            match page.next {
                // Forward only, and within S3's 10,000 parts: a server cannot keep us here.
                Some(next) if marker.is_none_or(|m| next > m) && u64::from(next) < MAX_PARTS => {
                    marker = Some(next)
                }
                _ => break,
            }
        }
        Ok(Upload::with(id, stored))
    }

    /// The upload id.
    pub(crate) fn id(&self) -> &str {
        &self.id
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
        let stored = self.stored.remove(&number);
        t.pool.spawn(move || {
            let result = if stop.load(Ordering::Acquire) {
                Err(Error::new(ErrorKind::Cancelled, "the upload was aborted"))
            } else if let Some(etag) = stored.filter(|s| matches(s, &data)).map(|s| s.etag) {
                Ok(etag)
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
        abort_multipart_upload(&t.client, &t.key, &self.id).map_err(|e| t.err(e))
    }

    /// Stops sending queued parts and waits for those in flight, leaving the upload and the
    /// parts it stored on the server (for the next writer of the same content to take up).
    pub(crate) fn release(mut self) {
        self.stop.store(true, Ordering::Release);
        self.collect(true);
    }

    /// Waits for every part, then completes the upload. On a failure, the upload is aborted;
    /// or, with `keep` and a temporary failure, left with its stored parts (see
    /// [`release`](Self::release)). Returns the object's ETag, if the server said.
    pub(crate) fn complete(mut self, t: &Target, keep: bool) -> Result<Option<String>> {
        self.collect(true);
        if let Some(e) = self.error.take() {
            if keep && e.is_temporary() {
                self.release();
            } else {
                let _ = self.abort(t);
            }
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
        match complete_multipart_upload(
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
            Err(e) if keep && e.is_temporary() => {
                self.release();
                Err(t.err(e))
            }
            Err(e) => {
                let _ = self.abort(t);
                Err(t.err(e))
            }
        }
    }
}

/// CreateMultipartUpload of `key` with `headers`: the new upload's id.
///
/// Creating is not idempotent: a request whose answer was lost may have created an upload
/// nobody knows the id of. So the first try is not repeated blindly; when it fails, the
/// retries that follow are, and then the uploads of this key begun since the first try,
/// other than the one we got, are aborted ([`abort_lost_twins`]).
pub(crate) fn create_multipart_upload(
    client: &Client,
    key: &str,
    headers: Vec<(String, String)>,
    cancel: Option<&Cancel>,
) -> Result<String> {
    let mut req = Request::new(Op::CreateMultipartUpload, Some(key))
        .query("uploads", "")
        .cancel(cancel);
    req.headers = headers;
    let since = SystemTime::now();
    // The answer's body is part of the attempt: one cut mid-body is as lost as one cut
    // before the status line.
    let attempt = |req: &Request<'_>| {
        client
            .call(req)
            .and_then(|resp| client::read_body(resp, 1024 * 1024))
    };
    let (body, retried) = match attempt(&req) {
        Ok(body) => (body, false),
        Err(e) if e.is_temporary() && !e.is_persistent() => {
            match attempt(&req.clone().repeat_safely()) {
                Ok(body) => (body, true),
                Err(e) => {
                    abort_lost_twins(client, key, None, since);
                    return Err(e);
                }
            }
        }
        Err(e) => return Err(e),
    };
    let id = match xml::parse_doc(&body, "InitiateMultipartUploadResult") {
        Ok(Doc::Result(root)) => root.text_of("UploadId").unwrap_or_default().to_owned(),
        Ok(Doc::Error(err)) => return Err(client.body_error("create upload", &err)),
        Err(_) => String::new(),
    };
    if id.is_empty() {
        return Err(Error::new(
            ErrorKind::Corrupt,
            "CreateMultipartUpload answered without an UploadId",
        ));
    }
    if retried {
        abort_lost_twins(client, key, Some(&id), since);
    }
    Ok(id)
}

/// ListParts of upload `id` on `key`: one page, from `marker`.
pub(crate) fn list_parts(
    client: &Client,
    key: &str,
    id: &str,
    marker: Option<u32>,
    cancel: Option<&Cancel>,
) -> Result<PartsPage> {
    let mut req = Request::new(Op::ListParts, Some(key))
        .query("uploadId", id)
        .cancel(cancel);
    if let Some(m) = marker {
        req = req.query("part-number-marker", m.to_string());
    }
    let resp = client.call(&req)?;
    let body = client::read_body(resp, 64 * 1024 * 1024)?;
    match xml::parse_doc(&body, "ListPartsResult") {
        Ok(Doc::Result(root)) => xml::parts_page(&root),
        Ok(Doc::Error(err)) => return Err(client.body_error("list parts", &err)),
        Err(e) => Err(e),
    }
    .map_err(|e| {
        Error::new(
            ErrorKind::Corrupt,
            format!("unreadable ListParts response: {e}"),
        )
    })
}

/// ListMultipartUploads of the keys starting with `key_prefix`: one page, after `markers`
/// (key and upload id).
pub(crate) fn list_multipart_uploads(
    client: &Client,
    key_prefix: &str,
    markers: Option<&(String, String)>,
    limit: u64,
) -> Result<UploadsPage> {
    let mut req = Request::new(Op::ListMultipartUploads, None).query("uploads", "");
    if !key_prefix.is_empty() {
        req = req.query("prefix", key_prefix);
    }
    if let Some((key, id)) = markers {
        req = req
            .query("key-marker", key.clone())
            .query("upload-id-marker", id.clone());
    }
    let body = client
        .call(&req)
        .and_then(|resp| client::read_body(resp, limit))?;
    match xml::parse_doc(&body, "ListMultipartUploadsResult") {
        Ok(Doc::Result(root)) => xml::uploads_page(&root)
            .map_err(|e| Error::new(ErrorKind::Corrupt, format!("unreadable uploads: {e}"))),
        Ok(Doc::Error(err)) => Err(client.body_error("list uploads", &err)),
        Err(e) => Err(Error::new(
            ErrorKind::Corrupt,
            format!("unreadable ListMultipartUploads response: {e}"),
        )),
    }
}

/// AbortMultipartUpload of `id` on `key`; an upload that is gone is `Ok`.
pub(crate) fn abort_multipart_upload(client: &Client, key: &str, id: &str) -> Result<()> {
    let req = Request::new(Op::AbortMultipartUpload, Some(key)).query("uploadId", id.to_owned());
    match client.call(&req) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// CompleteMultipartUpload, retried on temporary failures: a retry that finds the upload
/// gone checks whether an earlier attempt completed it (the object then has a multipart ETag
/// for this many parts). Returns the object's ETag, if known.
pub(crate) fn complete_multipart_upload(
    client: &Client,
    key: &str,
    id: &str,
    etags: &[(u32, String)],
    headers: Vec<(String, String)>,
    cancel: Option<&Cancel>,
) -> Result<Option<String>> {
    let body = xml::complete_request(etags.iter().map(|(n, e)| (*n, e.as_str())));
    // Not idempotent: the client sends it once, and this loop retries it with the check.
    let mut req = Request::new(Op::CompleteMultipartUpload, Some(key))
        .query("uploadId", id)
        .body(body.as_bytes());
    req.headers = headers;
    let parts = etags.len();
    let retry = client.cfg.retry;
    retry.run_with(
        cancel,
        |attempt| {
            let result = client.call(&req).and_then(|resp| {
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
                // A retry that finds the upload gone (NoSuchUpload; s3s-fs says
                // AccessDenied): an earlier attempt may have completed it, its answer lost.
                Err(e) if !e.is_temporary() && attempt > 0 => {
                    let expected = multipart_etag(etags);
                    let done = |found: &String| match &expected {
                        Some(x) => found == x,
                        None => found.ends_with(&format!("-{parts}")),
                    };
                    match head_etag(client, key).filter(done) {
                        Some(etag) => Ok(Some(etag)),
                        None => Err(e),
                    }
                }
                other => other,
            }
        },
        // `Unavailable` is temporary, but not worth retrying here.
        |e, attempt| {
            (e.kind() != ErrorKind::Unavailable && e.is_temporary() && attempt < retry.retries)
                .then(|| retry.delay(attempt))
        },
    )
}

fn head_etag(client: &Client, key: &str) -> Option<String> {
    let req = Request::new(Op::HeadObject, Some(key));
    let resp = client.call(&req).ok()?;
    client::header(&resp, "etag").map(|e| meta::unquote_etag(&e))
}

/// Whether a stored part holds `data`: same size, and its ETag is the MD5 of `data` (S3's
/// part ETags are; one that is not never matches, and the part is sent again).
fn matches(stored: &StoredPart, data: &[u8]) -> bool {
    stored.size == data.len() as u64
        && stored
            .etag
            .eq_ignore_ascii_case(&crate::hash::hex_encode(&client::md5_of(data)))
}

/// UploadPart: the part's ETag.
fn upload_part(t: &Target, id: &str, number: u32, data: &[u8]) -> Result<String> {
    let req = Request::new(Op::UploadPart, Some(&t.key))
        .query("partNumber", number.to_string())
        .query("uploadId", id)
        .body(data)
        .content_md5()
        .cancel(t.opts.cancel.as_ref());
    let resp = t.client.call(&req)?;
    client::header(&resp, "etag")
        .map(|e| meta::unquote_etag(&e))
        .ok_or_else(|| Error::new(ErrorKind::Corrupt, "UploadPart answered without an ETag"))
}

/// How far before our first try an upload's recorded start may be and still be taken for one
/// of its lost twins: the server's clock against ours.
const TWIN_SKEW: Duration = Duration::from_secs(5);

/// Aborts the uploads of `key` begun since `since` (less [`TWIN_SKEW`]) other than `keep`:
/// those that a CreateMultipartUpload whose answer was lost made. Best effort: an upload of
/// the same key that another client began in those same seconds is aborted too (its writer
/// then fails with a clear error; nothing is lost), and failures here are ignored (what is
/// left is found by `pending_uploads`).
fn abort_lost_twins(client: &Client, key: &str, keep: Option<&str>, since: SystemTime) {
    let _ = abort_begun(client, key, keep, since, None);
}

/// What a dead writer's journal entry leaves ([`Record`]): its upload, or, for an entry
/// written before its upload was created, the uploads of its key begun within the entry's
/// window (the writer was killed before it could record which). An upload that is gone, or
/// a server that cannot list uploads, is `Ok`.
pub(crate) fn abort_recorded(client: &Client, record: &Record) -> Result<()> {
    if !record.creating() {
        return abort_multipart_upload(client, &record.key, &record.upload_id);
    }
    let Some((from, to)) = record.create_window() else {
        return Ok(());
    };
    match abort_begun(client, &record.key, None, from, Some(to)) {
        Err(e) if e.kind() == ErrorKind::Unsupported => Ok(()),
        other => other,
    }
}

/// Aborts the uploads of `key` (exactly) other than `keep`, begun from `from` (less
/// [`TWIN_SKEW`]) to `to` (plus it; no end if `None`). An upload whose start the server does
/// not say counts as within.
fn abort_begun(
    client: &Client,
    key: &str,
    keep: Option<&str>,
    from: SystemTime,
    to: Option<SystemTime>,
) -> Result<()> {
    let from = from.checked_sub(TWIN_SKEW).unwrap_or(from);
    let to = to.map(|t| t + TWIN_SKEW);
    let mut markers: Option<(String, String)> = None;
    let mut failed = None;
    for _ in 0..100 {
        let page = list_multipart_uploads(client, key, markers.as_ref(), 16 * 1024 * 1024)?;
        for (found, id, started) in page.uploads {
            let within = started.is_none_or(|s| s >= from && to.is_none_or(|to| s <= to));
            if found == key
                && keep != Some(id.as_str())
                && within
                && let Err(e) = abort_multipart_upload(client, key, &id)
            {
                failed = Some(e);
            }
        }
        match page.next {
            Some(next) => markers = Some(next),
            None => break,
        }
    }
    failed.map_or(Ok(()), Err)
}

/// The ETag S3 gives an object completed from these parts: the MD5 of their MD5s, `-N`;
/// `None` when a part's ETag is not a plain MD5.
fn multipart_etag(etags: &[(u32, String)]) -> Option<String> {
    use md5::Digest;
    let mut all = md5::Md5::new();
    for (_, etag) in etags {
        let bin = crate::hash::hex_decode(&meta::unquote_etag(etag)).filter(|b| b.len() == 16)?;
        all.update(bin);
    }
    Some(format!(
        "{}-{}",
        crate::hash::hex_encode(&all.finalize()),
        etags.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::multipart_etag;

    #[test]
    fn the_multipart_etag_is_the_md5_of_the_parts_md5s() {
        // Two parts, "a" and "b": md5("a") = 0cc175b9..., md5("b") = 92eb5ffe...; the MD5 of
        // their 32 binary bytes, as S3 (and `printf ... | xxd -r -p | md5sum`) computes it.
        let etags = vec![
            (1, "\"0cc175b9c0f1b6a831c399e269772661\"".to_owned()),
            (2, "92eb5ffee6ae2fec3ad71c777531578f".to_owned()),
        ];
        // printf 0cc175b9...92eb5ffe...578f | xxd -r -p | md5sum
        let expected = "96e024ba2074fe77e8e965ba43a704be-2";
        assert_eq!(multipart_etag(&etags).as_deref(), Some(expected));
        assert_eq!(multipart_etag(&[(1, "abc-3".to_owned())]), None);
    }
}
