//! The HTTP side: signing with rusty-s3, sending with ureq, mapping every failure to an
//! [`Error`] in one place, and retrying what is safe to retry: each [`Request`] is made for
//! one S3 operation ([`Op`]), and the operation says whether sending it again is safe.
//!
//! A store can have several endpoints (one signed bucket each); every attempt goes to the
//! one [`choose`] picks (see the `endpoints` module for the rules). While every endpoint is
//! down, requests fail at once with one [`ErrorKind::Unavailable`] error naming them and
//! since when.

use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use super::creds::Creds;
use super::endpoints::{Choice, Health, choose, revisit, transport_pause};
use super::errors;
pub(crate) use super::errors::NAME;
pub(crate) use super::op::Op;
use crate::cancel::Cancel;
use crate::error::{Error, ErrorKind, Result};
use crate::hash::base64_encode;
use crate::retry::Retry;

/// How long a signed request stays valid. Requests are signed just before they are sent, so
/// this only needs to cover clock skew and a slow upload of one part.
const SIGN_EXPIRY: Duration = Duration::from_secs(3600);

/// Error bodies are read up to this size.
const MAX_ERROR_BODY: u64 = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Head,
    Put,
    Post,
    Delete,
}

impl Method {
    fn rusty(self) -> rusty_s3::Method {
        match self {
            Method::Get => rusty_s3::Method::Get,
            Method::Head => rusty_s3::Method::Head,
            Method::Put => rusty_s3::Method::Put,
            Method::Post => rusty_s3::Method::Post,
            Method::Delete => rusty_s3::Method::Delete,
        }
    }
}

/// One request: everything needed to sign and send it (again, on a retry).
#[derive(Debug, Clone)]
pub(crate) struct Request<'a> {
    /// The S3 operation; its method is the request's.
    pub(crate) op: Op,
    /// Whether the client sends it again after a temporary failure: the operation's
    /// [idempotency](Op::idempotent), unless [`repeat_safely`](Request::repeat_safely) or
    /// [`once`](Request::once) said otherwise.
    retried: bool,
    /// The object key, or `None` for a bucket-level request.
    pub(crate) key: Option<&'a str>,
    pub(crate) query: Vec<(String, String)>,
    /// Signed headers; names in lower case.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: &'a [u8],
    /// Observed between attempts and in the retries' sleeps.
    pub(crate) cancel: Option<&'a Cancel>,
}

impl<'a> Request<'a> {
    pub(crate) fn new(op: Op, key: Option<&'a str>) -> Request<'a> {
        Request {
            op,
            retried: op.idempotent(),
            key,
            query: Vec::new(),
            headers: Vec::new(),
            body: &[],
            cancel: None,
        }
    }

    /// The HTTP method (the operation's).
    pub(crate) fn method(&self) -> Method {
        self.op.method()
    }

    /// Retries a request whose operation is not idempotent: for a caller that makes the
    /// repeat safe itself (CreateMultipartUpload aborts the lost twins of its upload
    /// afterwards).
    pub(crate) fn repeat_safely(mut self) -> Request<'a> {
        self.retried = true;
        self
    }

    /// Sends the request once, whatever its operation: for a caller whose own loop repeats
    /// it (a resumed read counts its resumes), so that the retries are not multiplied.
    pub(crate) fn once(mut self) -> Request<'a> {
        self.retried = false;
        self
    }

    pub(crate) fn cancel(mut self, cancel: Option<&'a Cancel>) -> Request<'a> {
        self.cancel = cancel;
        self
    }

    pub(crate) fn query(mut self, k: &str, v: impl Into<String>) -> Request<'a> {
        self.query.push((k.to_owned(), v.into()));
        self
    }

    pub(crate) fn header(mut self, k: &str, v: impl Into<String>) -> Request<'a> {
        self.headers.push((k.to_ascii_lowercase(), v.into()));
        self
    }

    pub(crate) fn body(mut self, body: &'a [u8]) -> Request<'a> {
        self.body = body;
        self
    }

    /// Adds `Content-MD5` for the body (signed).
    pub(crate) fn content_md5(self) -> Request<'a> {
        let md5 = base64_encode(&md5_of(self.body));
        self.header("content-md5", md5)
    }
}

pub(crate) type Response = ureq::http::Response<ureq::Body>;

/// Connection settings the client needs.
#[derive(Clone, Debug)]
pub(crate) struct ClientConfig {
    /// The first endpoint: the store's identity (its [`Location`](crate::location::Location))
    /// and the one named in error messages that are not about one endpoint.
    pub(crate) endpoint: String,
    /// Every endpoint, the first one first (never empty: `Client::new` checks).
    pub(crate) endpoints: Vec<String>,
    /// An endpoint with no answer for this long is down.
    pub(crate) down_after: Duration,
    pub(crate) path_style: bool,
    pub(crate) bucket: String,
    pub(crate) region: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) retry: Retry,
    pub(crate) ca_bundle: Option<Vec<u8>>,
    pub(crate) insecure: bool,
    pub(crate) max_connections: usize,
}

pub(crate) struct Client {
    agent: ureq::Agent,
    /// Never empty.
    endpoints: Vec<Endpoint>,
    /// The endpoint in use (an index into `endpoints`).
    current: AtomicUsize,
    /// Some endpoint has answered once: the store exists, and a transport failure now is
    /// an outage worth waiting out (up to `down_after`), not a wrong address.
    reached: AtomicBool,
    creds: Option<Creds>,
    pub(crate) cfg: ClientConfig,
}

/// One endpoint of the store: its signed bucket and what is known of its health.
struct Endpoint {
    url: String,
    bucket: rusty_s3::Bucket,
    health: Mutex<Health>,
}

impl Endpoint {
    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A failed attempt: the error, and whether the endpoint could not be reached
/// ([`errors::unreachable`]).
struct Failed {
    error: Error,
    transport: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoints", &self.cfg.endpoints)
            .field("bucket", &self.cfg.bucket)
            .field("region", &self.cfg.region)
            .field("key_id", &self.creds.as_ref().map(|c| c.key.as_str()))
            .finish_non_exhaustive()
    }
}

fn config_err(msg: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::InvalidConfig, msg).with_backend(NAME)
}

impl Client {
    pub(crate) fn new(cfg: ClientConfig, creds: Option<Creds>) -> Result<Client> {
        let style = if cfg.path_style {
            rusty_s3::UrlStyle::Path
        } else {
            rusty_s3::UrlStyle::VirtualHost
        };
        let mut endpoints = Vec::with_capacity(cfg.endpoints.len());
        for url in &cfg.endpoints {
            let parsed: std::result::Result<_, _> = url.parse();
            let parsed = parsed.map_err(|e| {
                config_err(format!("invalid endpoint {url:?}")).with_source(Box::new(e))
            })?;
            let bucket =
                rusty_s3::Bucket::new(parsed, style, cfg.bucket.clone(), cfg.region.clone())
                    .map_err(|e| {
                        config_err(format!(
                            "invalid endpoint {url:?} or bucket {:?}: {e}",
                            cfg.bucket
                        ))
                        .with_source(e)
                    })?;
            endpoints.push(Endpoint {
                url: url.clone(),
                bucket,
                health: Mutex::new(Health::default()),
            });
        }
        if endpoints.is_empty() {
            return Err(config_err("no endpoint"));
        }
        let mut tls = ureq::tls::TlsConfig::builder().disable_verification(cfg.insecure);
        if let Some(pem) = &cfg.ca_bundle {
            let mut certs = Vec::new();
            for item in ureq::tls::parse_pem(pem) {
                match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
                    Ok(_) => {}
                    Err(e) => {
                        return Err(
                            config_err("the CA bundle is not valid PEM").with_source(Box::new(e))
                        );
                    }
                }
            }
            if certs.is_empty() {
                return Err(config_err("the CA bundle holds no certificate"));
            }
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(cfg.connect_timeout))
            .timeout_recv_response(Some(cfg.request_timeout))
            .timeout_per_read(Some(cfg.request_timeout))
            .timeout_per_write(Some(cfg.request_timeout))
            .max_idle_connections_per_host(cfg.max_connections)
            .max_redirects(0)
            .user_agent(concat!("omnistorage/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls.build())
            .build()
            .new_agent();
        Ok(Client {
            agent,
            endpoints,
            current: AtomicUsize::new(0),
            reached: AtomicBool::new(false),
            creds,
            cfg,
        })
    }

    /// Endpoint `i` (modulo their number: there is at least one).
    fn endpoint(&self, i: usize) -> &Endpoint {
        &self.endpoints[i % self.endpoints.len()]
    }

    /// The signed URL of a request, for the endpoint in use.
    pub(crate) fn sign(&self, req: &Request<'_>, expiry: Duration) -> String {
        let current = self.endpoint(self.current.load(Ordering::Relaxed));
        self.sign_for(current, req, expiry)
    }

    /// The signed URL of a request to `endpoint`.
    fn sign_for(&self, endpoint: &Endpoint, req: &Request<'_>, expiry: Duration) -> String {
        let mut url = match req.key {
            Some(key) => endpoint.bucket.object_url(key),
            None => endpoint.bucket.base_url().clone(),
        };
        let mut query = req.query.clone();
        query.sort();
        let mut headers = req.headers.clone();
        headers.sort();
        match &self.creds {
            Some(creds) => rusty_s3::signing::sign(
                &jiff::Timestamp::now(),
                req.method().rusty(),
                url,
                &creds.key,
                &creds.secret.0,
                creds.token.as_ref().map(|t| t.0.as_str()),
                &self.cfg.region,
                expiry.as_secs().max(1),
                query.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            )
            .to_string(),
            None => {
                if !query.is_empty() {
                    let q: Vec<String> = query
                        .iter()
                        .map(|(k, v)| {
                            if v.is_empty() {
                                uri_encode(k)
                            } else {
                                format!("{}={}", uri_encode(k), uri_encode(v))
                            }
                        })
                        .collect();
                    url.set_query(Some(&q.join("&")));
                }
                url.to_string()
            }
        }
    }

    /// A presigned URL for `req`, valid for `expiry`.
    pub(crate) fn presign(&self, req: &Request<'_>, expiry: Duration) -> Result<String> {
        if !(Duration::from_secs(1)..=Duration::from_secs(7 * 24 * 3600)).contains(&expiry) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "a presigned URL must expire after 1 second to 7 days",
            )
            .with_backend(NAME));
        }
        if self.creds.is_none() {
            return Err(Error::new(
                ErrorKind::Unauthenticated,
                "presigned URLs need credentials",
            )
            .with_backend(NAME));
        }
        Ok(self.sign(req, expiry))
    }

    /// Where the next attempt goes, or the error saying that every endpoint is down.
    fn pick(&self) -> Result<usize> {
        let now = Instant::now();
        let health: Vec<Health> = self.endpoints.iter().map(|e| *e.health()).collect();
        let start = self.current.load(Ordering::Relaxed);
        let down_after = self.cfg.down_after;
        match choose(&health, start, now, down_after, revisit(down_after)) {
            Choice::Use { index, probe } => {
                if probe {
                    // One probe at a time: the others see it tried just now.
                    self.endpoint(index).health().last_try = Some(now);
                }
                Ok(index)
            }
            Choice::AllDown => Err(self.unavailable(&health, now)),
        }
    }

    /// The error of a request not sent because every endpoint is down.
    fn unavailable(&self, health: &[Health], now: Instant) -> Error {
        let since: Vec<String> = self
            .endpoints
            .iter()
            .zip(health)
            .filter_map(|(e, h)| {
                let (t, wall) = h.failing_since?;
                Some(format!(
                    "{} since {} ({:.1} s)",
                    e.url,
                    wall_clock(wall),
                    now.saturating_duration_since(t).as_secs_f64()
                ))
            })
            .collect();
        let which = if self.endpoints.len() == 1 {
            "the endpoint".to_owned()
        } else {
            format!("any of the {} endpoints", self.endpoints.len())
        };
        Error::new(
            ErrorKind::Unavailable,
            format!(
                "no answer from {which}: {}; requests fail at once until one answers again \
                 (endpoint down after {:.1} s without an answer)",
                since.join(", "),
                self.cfg.down_after.as_secs_f64()
            ),
        )
        .with_backend(NAME)
    }

    /// Sends `req` once, to the endpoint [`pick`](Self::pick) chooses, and notes how it
    /// went there. Transport failures become errors; any status comes back as a response.
    fn send(&self, req: &Request<'_>) -> std::result::Result<Response, Failed> {
        let index = self.pick().map_err(|error| Failed {
            error,
            transport: false,
        })?;
        let endpoint = self.endpoint(index);
        let url = self.sign_for(endpoint, req, SIGN_EXPIRY);
        let result = match req.method() {
            Method::Get | Method::Head | Method::Delete => {
                let mut b = match req.method() {
                    Method::Get => self.agent.get(&url),
                    Method::Head => self.agent.head(&url),
                    _ => self.agent.delete(&url),
                };
                for (k, v) in &req.headers {
                    b = b.header(k.as_str(), v.as_str());
                }
                b.call()
            }
            Method::Put | Method::Post => {
                let mut b = match req.method() {
                    Method::Put => self.agent.put(&url),
                    _ => self.agent.post(&url),
                };
                for (k, v) in &req.headers {
                    b = b.header(k.as_str(), v.as_str());
                }
                b.send(req.body)
            }
        };
        match result {
            Ok(resp) => {
                endpoint.health().answered();
                self.reached.store(true, Ordering::Relaxed);
                if self.current.load(Ordering::Relaxed) != index {
                    self.current.store(index, Ordering::Relaxed);
                }
                Ok(resp)
            }
            Err(e) => {
                let transport = errors::unreachable(&e);
                if transport {
                    endpoint.health().failed(Instant::now(), SystemTime::now());
                }
                Err(Failed {
                    error: errors::from_transport(req.op.name(), &endpoint.url, e),
                    transport,
                })
            }
        }
    }

    /// Sends `req` and checks its status; retries temporary failures (with exponential
    /// backoff and jitter) when its operation is idempotent ([`Op::idempotent`]). An error
    /// given up on after retries is [persistent](Error::is_persistent).
    pub(crate) fn call(&self, req: &Request<'_>) -> Result<Response> {
        self.call_accepting(req, &[])
    }

    /// Like [`call`](Self::call), but the statuses in `accept` come back as responses too.
    ///
    /// Once the store has answered, a retried request that meets no answer is retried
    /// past its retries for as long as the endpoint may still come back (`down_after`, and
    /// one more pause), so that it ends either answered or with [`ErrorKind::Unavailable`]:
    /// a dead endpoint stops a run with that one error, not with one transport error per
    /// file. A store that never answered (a wrong address) fails after the usual retries.
    /// `Unavailable` itself is never retried.
    pub(crate) fn call_accepting(&self, req: &Request<'_>, accept: &[u16]) -> Result<Response> {
        let retry = self.cfg.retry;
        let idempotent = req.retried;
        let retries = if idempotent { retry.retries } else { 0 };
        let patience = self.cfg.down_after.saturating_add(retry.cap);
        let started = Instant::now();
        // Whether the last failure was the transport's (no answer), for `again`.
        let transport = std::cell::Cell::new(false);
        retry.run_with(
            req.cancel,
            |_| {
                let (result, t) = match self.send(req) {
                    Ok(resp) if accept.contains(&resp.status().as_u16()) => (Ok(resp), false),
                    Ok(resp) => (self.check(req, resp), false),
                    Err(f) => (Err(f.error), f.transport),
                };
                transport.set(t);
                result
            },
            |e, attempt| {
                let transport = transport.get();
                let again = e.kind() != ErrorKind::Unavailable
                    && e.is_temporary()
                    && (attempt < retries
                        || (idempotent
                            && transport
                            && self.reached.load(Ordering::Relaxed)
                            && started.elapsed() < patience));
                // Short enough, when the endpoint does not answer, not to overshoot the
                // bound by much.
                again.then(|| match transport {
                    true => retry
                        .delay(attempt)
                        .min(transport_pause(self.cfg.down_after)),
                    false => retry.delay(attempt),
                })
            },
        )
    }

    /// A 2xx response passes; anything else becomes an error (reading the error body).
    pub(crate) fn check(&self, req: &Request<'_>, resp: Response) -> Result<Response> {
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(resp);
        }
        let request_id = header(&resp, "x-amz-request-id");
        let body = if req.method() == Method::Head {
            String::new()
        } else {
            read_small(resp)
        };
        Err(self.status_error(req, status, &body, request_id))
    }

    /// The error of an S3 error response to `req`.
    pub(crate) fn status_error(
        &self,
        req: &Request<'_>,
        status: u16,
        body: &str,
        request_id: Option<String>,
    ) -> Error {
        errors::from_response(
            req.op.name(),
            status,
            body,
            request_id.as_deref(),
            &self.cfg.bucket,
            &self.cfg.endpoint,
        )
    }

    /// The error of an `<Error>` body that came with a 2xx (CopyObject, UploadPartCopy and
    /// CompleteMultipartUpload can fail after their 200).
    pub(crate) fn body_error(&self, what: &str, body: &super::xml::ErrorBody) -> Error {
        errors::from_body(what, 500, body, None, &self.cfg.bucket, &self.cfg.endpoint)
    }
}

/// A wall-clock time as `2026-12-03T06:52:01Z` (UTC, to the second).
fn wall_clock(t: SystemTime) -> String {
    jiff::Timestamp::try_from(t)
        .map(|ts| ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| "an unknown time".to_owned())
}

/// The MD5 of `data`.
pub(crate) fn md5_of(data: &[u8]) -> [u8; 16] {
    use md5::Digest;
    md5::Md5::digest(data).into()
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A response header as text.
pub(crate) fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Reads a (small) response body as text, lossily, up to a limit.
pub(crate) fn read_small(resp: Response) -> String {
    let mut buf = Vec::new();
    let (_, body) = resp.into_parts();
    let _ = body
        .into_reader()
        .take(MAX_ERROR_BODY)
        .read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// Reads a response body that the caller needs whole (XML listings), up to `limit`.
pub(crate) fn read_body(resp: Response, limit: u64) -> Result<String> {
    let mut buf = Vec::new();
    let (_, body) = resp.into_parts();
    let mut reader = body.into_reader().take(limit + 1);
    reader.read_to_end(&mut buf).map_err(|e| {
        // The connection broke (or stalled) mid-body: trying again may help.
        Error::from(e)
            .with_backend(NAME)
            .with_message("reading the response body failed")
            .with_temporary(true)
    })?;
    if buf.len() as u64 > limit {
        return Err(Error::new(ErrorKind::Corrupt, "response body too large").with_backend(NAME));
    }
    String::from_utf8(buf).map_err(|_| {
        Error::new(ErrorKind::Corrupt, "response body is not UTF-8").with_backend(NAME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_encoding() {
        assert_eq!(uri_encode("a b/c~d_e.f-g+h%"), "a%20b%2Fc~d_e.f-g%2Bh%25");
        assert_eq!(uri_encode("é"), "%C3%A9");
    }
}
