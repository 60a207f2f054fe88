//! Streaming GET that resumes after a broken connection.

use std::io::{self, Read};
use std::sync::Arc;

use md5::Digest;

use super::client::{self, Client, Op, Request};
use super::meta;
use crate::cancel::{self, Cancel};
use crate::error::{Error, ErrorKind, Result};
use crate::hash::hex_encode;

/// After this many bytes read since the last resume, the budget of resumes is full again: a
/// long download survives any number of well-spaced breaks, a connection that keeps breaking
/// at once still fails.
pub(crate) const REFILL_AFTER: u64 = 1024 * 1024;

/// Reads an object's bytes `[pos, end)`, or to the end when `end` is `None`.
///
/// When the connection breaks mid-body, it asks again for the rest with a ranged GET guarded
/// by `If-Match` on the ETag of the first response, so an object that changed meanwhile is
/// an error ([`ErrorKind::PreconditionFailed`]), never a splice of two versions. A whole-object
/// read of a single-part object is checked against the MD5 in its ETag. Resumes are limited
/// to the configured retries in a row; the count starts again after [`REFILL_AFTER`] bytes of
/// progress.
pub(crate) struct S3Reader {
    client: Arc<Client>,
    key: String,
    path: String,
    body: Option<Box<dyn Read + Send>>,
    /// The next byte to read (absolute offset).
    pos: u64,
    /// One past the last byte to read (absolute), once known.
    end: Option<u64>,
    etag: Option<String>,
    md5: Option<(md5::Md5, String)>,
    resumes: u32,
    /// Bytes read since the last resume.
    progress: u64,
    cancel: Option<Cancel>,
    done: bool,
    /// Set after an error: every later read fails too, so that an error is never followed by
    /// what looks like a clean end of the object.
    failed: bool,
}

impl S3Reader {
    /// Sends the first GET. `len` of `None` reads to the end.
    pub(crate) fn open(
        client: Arc<Client>,
        key: String,
        path: String,
        offset: u64,
        len: Option<u64>,
        cancel: Option<Cancel>,
    ) -> Result<(S3Reader, u64)> {
        let whole = offset == 0 && len.is_none();
        let mut reader = S3Reader {
            client,
            key,
            path,
            body: None,
            pos: offset,
            // A range past any real object (e.g. `0..u64::MAX`) is sent open-ended: servers
            // refuse a last byte position beyond what they can represent.
            end: len
                .map(|l| offset.saturating_add(l))
                .filter(|&end| end <= i64::MAX as u64),
            etag: None,
            md5: None,
            resumes: 0,
            progress: 0,
            cancel,
            done: false,
            failed: false,
        };
        if reader.end.is_some_and(|end| end <= offset) {
            // An empty range: nothing to fetch, but the object must exist.
            reader.done = true;
            reader.head_exists()?;
            return Ok((reader, 0));
        }
        let size = reader.get_object(true)?;
        if whole && let Some(etag) = reader.etag.clone().filter(|e| meta::etag_md5(e).is_some()) {
            reader.md5 = Some((md5::Md5::new(), etag));
        }
        Ok((reader, size))
    }

    fn head_exists(&self) -> Result<()> {
        let req = Request::new(Op::HeadObject, Some(&self.key)).cancel(self.cancel.as_ref());
        self.client
            .call(&req)
            .map(|_| ())
            .map_err(|e| e.context("read", &self.path, client::NAME))
    }

    /// GetObject of `[pos, end)`; returns how many bytes it will yield. The `first` is
    /// retried by the client; a resume is sent once ([`Request::once`]): [`resume`](Self::resume)
    /// counts the retries of a broken read.
    fn get_object(&mut self, first: bool) -> Result<u64> {
        let mut req = Request::new(Op::GetObject, Some(&self.key)).cancel(self.cancel.as_ref());
        if !first {
            req = req.once();
        }
        let ranged = self.pos > 0 || self.end.is_some();
        if ranged {
            let range = match self.end {
                Some(end) => format!("bytes={}-{}", self.pos, end - 1),
                None => format!("bytes={}-", self.pos),
            };
            req = req.header("range", range);
        }
        if let Some(etag) = &self.etag {
            req = req.header("if-match", format!("\"{etag}\""));
        }
        let resp = match self.client.call_accepting(&req, &[416]) {
            Ok(resp) if resp.status().as_u16() == 416 => {
                // The range starts at or past the end: nothing to read.
                self.done = true;
                return Ok(0);
            }
            Ok(resp) => resp,
            Err(e) if !first && e.kind() == ErrorKind::PreconditionFailed => {
                return Err(Error::new(
                    ErrorKind::PreconditionFailed,
                    "the object changed while it was being read",
                )
                .context("read", &self.path, client::NAME));
            }
            Err(e) => return Err(e.context("read", &self.path, client::NAME)),
        };
        if first {
            self.etag = client::header(&resp, "etag").map(|e| meta::unquote_etag(&e));
        }
        let status = resp.status().as_u16();
        let length: Option<u64> =
            client::header(&resp, "content-length").and_then(|v| v.parse().ok());
        if ranged && status == 200 {
            // The server ignored the range: skip to `pos` ourselves.
            let (_, body) = resp.into_parts();
            let mut reader = body.into_reader();
            io::copy(&mut (&mut reader).take(self.pos), &mut io::sink())
                .map_err(|e| Error::from(e).context("read", &self.path, client::NAME))?;
            let total = length.unwrap_or(0);
            let end = self.end.map_or(total, |e| e.min(total));
            self.end = Some(end);
            self.body = Some(Box::new(reader.take(end.saturating_sub(self.pos))));
            return Ok(end.saturating_sub(self.pos));
        }
        let Some(length) = length else {
            return Err(
                Error::new(ErrorKind::Io, "response without Content-Length").context(
                    "read",
                    &self.path,
                    client::NAME,
                ),
            );
        };
        let end = self.pos + length;
        if self.end.is_none_or(|e| e > end) {
            // Cut at the object's end (the range asked for more than there is).
            self.end = Some(end);
        }
        let (_, body) = resp.into_parts();
        self.body = Some(Box::new(body.into_reader()));
        Ok(length)
    }

    fn finish_checks(&mut self) -> io::Result<()> {
        self.done = true;
        if let Some((hasher, etag)) = self.md5.take() {
            let got = hex_encode(&hasher.finalize());
            if got != etag {
                self.failed = true;
                return Err(Error::new(
                    ErrorKind::Corrupt,
                    format!("content MD5 {got} does not match the ETag {etag}"),
                )
                .context("read", &self.path, client::NAME)
                .into());
            }
        }
        Ok(())
    }
}

impl Read for S3Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.failed {
                return Err(
                    Error::new(ErrorKind::Io, "an earlier read of this object failed")
                        .context("read", &self.path, client::NAME)
                        .into(),
                );
            }
            if self.done || buf.is_empty() {
                return Ok(0);
            }
            if self.end.is_some_and(|end| self.pos >= end) {
                self.finish_checks()?;
                return Ok(0);
            }
            let want = match self.end {
                Some(end) => buf
                    .len()
                    .min((end - self.pos).min(usize::MAX as u64) as usize),
                None => buf.len(),
            };
            let result = match self.body.as_mut() {
                Some(body) => body.read(&mut buf[..want]),
                None => Err(io::Error::new(io::ErrorKind::ConnectionAborted, "no body")),
            };
            match result {
                Ok(0) => {
                    // A clean end before `end` means the body was cut short.
                    if self.end.is_none() {
                        self.finish_checks()?;
                        return Ok(0);
                    }
                    self.resume(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "body ended early",
                    ))?;
                }
                Ok(n) => {
                    if let Some((hasher, _)) = self.md5.as_mut() {
                        hasher.update(&buf[..n]);
                    }
                    self.pos += n as u64;
                    self.progress += n as u64;
                    if self.progress >= REFILL_AFTER {
                        self.resumes = 0;
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => self.resume(e)?,
            }
        }
    }
}

impl S3Reader {
    /// After a broken body: asks for the rest, up to the configured number of retries in a
    /// row (see [`REFILL_AFTER`]).
    fn resume(&mut self, cause: io::Error) -> io::Result<()> {
        self.body = None;
        self.progress = 0;
        let retry = self.client.cfg.retry;
        let mut last: Error = Error::from(cause);
        while self.resumes < retry.retries {
            if let Err(e) = retry
                .sleep(self.resumes, self.cancel.as_ref())
                .and_then(|()| cancel::check(self.cancel.as_ref()))
            {
                self.failed = true;
                return Err(e.context("read", &self.path, client::NAME).into());
            }
            self.resumes += 1;
            match self.get_object(false) {
                Ok(_) => return Ok(()),
                // Every endpoint is down: say so, not "the connection broke N times".
                Err(e) if e.kind() == ErrorKind::Unavailable => {
                    self.failed = true;
                    return Err(e.into());
                }
                Err(e) if e.is_temporary() => last = e,
                Err(e) => {
                    self.failed = true;
                    return Err(e.into());
                }
            }
        }
        self.failed = true;
        Err(Error::new(
            ErrorKind::Io,
            format!(
                "the connection broke {} times in a row while reading",
                self.resumes + 1
            ),
        )
        .context("read", &self.path, client::NAME)
        .with_temporary(true)
        .with_retries(self.resumes)
        .with_source(last)
        .into())
    }
}
