//! The S3 backend: AWS S3 and S3-compatible stores (feature `s3`).
//!
//! Requests are signed with [rusty-s3](https://docs.rs/rusty-s3) (AWS Signature V4, as
//! presigned URLs, every `x-amz-*` header among the signed ones) and sent with
//! [ureq](https://docs.rs/ureq) over rustls: blocking, no async runtime. TLS certificates are
//! verified by default against Mozilla's roots, or against a CA bundle you give (or the one
//! `AWS_CA_BUNDLE` names); turning verification off is explicit
//! ([`S3Builder::danger_accept_invalid_certs`]).
//!
//! ```no_run
//! use omnistorage::backends::s3::{Provider, S3Backend};
//! use omnistorage::BackendExt;
//!
//! let store = S3Backend::builder("my-bucket")
//!     .provider(Provider::Garage)
//!     .endpoint("http://127.0.0.1:3900")
//!     .credentials("GK...", "secret")
//!     .prefix("backups/2026")
//!     .build()?;
//! store.write_all("db.dump", b"...")?;
//! // or: omnistorage::open("s3://my-bucket/backups/2026?provider=garage&endpoint=http://127.0.0.1:3900")
//! # Ok::<(), omnistorage::Error>(())
//! ```
//!
//! # Behaviour
//!
//! - **Reading** streams a GET. When the connection breaks mid-body, the reader asks for the
//!   rest with a ranged GET guarded by `If-Match` on the first response's ETag, so a changed
//!   object is an error ([`ErrorKind::PreconditionFailed`]), never a splice. A whole-object read
//!   of a single-part object is checked against the MD5 in its ETag ([`ErrorKind::Corrupt`]).
//! - **Writing** buffers up to the part size. An object that fits in one part goes up as one
//!   PUT with `Content-MD5`; a larger one as a multipart upload whose parts (each with
//!   `Content-MD5`) go up in parallel on a pool of [`S3Builder::concurrency`] threads, so
//!   memory stays near part size × (concurrency + 1) whatever the object's size. `finish`
//!   completes the upload; `abort`, an error, or dropping the writer aborts it, so nothing
//!   half-written is visible or left billable. S3 allows 10,000 parts: with a
//!   [`size_hint`](crate::WriteOptions::size_hint) the part size grows to fit, without one an
//!   object that outgrows 10,000 parts fails with [`ErrorKind::InvalidInput`].
//! - **Metadata**: content type and user metadata become `Content-Type` and `x-amz-meta-*`;
//!   a modification time is stored as `x-amz-meta-mtime` in seconds with nine decimals, as
//!   rclone does, so buckets written by either read right in the other.
//! - **Listing** streams ListObjectsV2 pages (1,000 keys each) as it goes, by segment, in S3's
//!   (byte) order. Entries carry size and, for single-part objects, the MD5 from the ETag.
//!   S3 lists only the upload time (`LastModified`), not the stored modification time, so
//!   `modified` comes from one of three places, one per backend so that `list` and `stat`
//!   always agree: by default entries carry `modified: None` and `stat` reads the stored
//!   time; [`S3Builder::read_mtime`] reads it for each listed entry too (one HEAD each, then
//!   [`Capabilities::modified_time`] is set); [`S3Builder::server_modtime`] makes both
//!   report the server's `LastModified`, to the second (rclone's `--use-server-modtime`).
//! - **Directories** are implicit: `create_dir` and `remove_dir` succeed and do nothing.
//! - **Copy** is server-side (CopyObject, or UploadPartCopy above
//!   [`S3Builder::copy_cutoff`], 5 GiB by default); **rename** is copy then delete.
//! - **Errors**: the HTTP status and S3's `<Code>` are mapped in one place
//!   (`NoSuchKey`/`NoSuchBucket` → [`ErrorKind::NotFound`], `AccessDenied` →
//!   [`ErrorKind::PermissionDenied`], bad keys or signatures → [`ErrorKind::Unauthenticated`],
//!   `SlowDown`, 5xx, timeouts and broken connections → temporary). Idempotent requests are
//!   retried with exponential backoff and jitter.
//!
//! # Providers
//!
//! [`S3Builder::provider`] sets the endpoint pattern, addressing and default region of a
//! well-known service; anything it sets can be overridden.
//!
//! | provider | endpoint | addressing | default region | atomic `CreateNew` |
//! | --- | --- | --- | --- | --- |
//! | `Aws` | `https://s3.{region}.amazonaws.com` | virtual host (path for dotted buckets) | `us-east-1` | yes |
//! | `CloudflareR2 { account_id }` | `https://{account_id}.r2.cloudflarestorage.com` | path | `auto` | yes |
//! | `Minio` | yours (required) | path | `us-east-1` | yes |
//! | `BackblazeB2` | `https://s3.{region}.backblazeb2.com` | virtual host | `us-west-004` | assumed not |
//! | `Wasabi` | `https://s3.{region}.wasabisys.com` | virtual host | `us-east-1` | assumed not |
//! | `DigitalOceanSpaces` | `https://{region}.digitaloceanspaces.com` | virtual host | `nyc3` | assumed not |
//! | `GoogleCloudStorage` (XML API, HMAC keys) | `https://storage.googleapis.com` | path | `auto` | assumed not |
//! | `Garage` | yours (required) | path | `garage` | no (ignores `If-None-Match`) |
//! | `Ceph` (RADOS Gateway) | yours (required) | path | `us-east-1` | yes |
//!
//! "Atomic `CreateNew`" is whether the service honours `If-None-Match: *`
//! ([`S3Builder::conditional_writes`]); without it `CreateNew` is checked before the upload.
//!
//! # Credentials
//!
//! In order: [`S3Builder::credentials`] (or the URL's `access_key_id`/`secret_access_key`),
//! then `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, then the shared
//! files `~/.aws/credentials` and `~/.aws/config` for the profile in [`S3Builder::profile`] or
//! `AWS_PROFILE` (default `default`), then anonymous access if [`S3Builder::anonymous`] asked
//! for it; otherwise [`ErrorKind::Unauthenticated`]. `Debug` shows the key id, never the secret.

mod client;
mod creds;
mod list;
mod reader;
mod util;
mod writer;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use self::client::{Client, ClientConfig, Method, NAME, Request};
use self::creds::{CredsConfig, ProcessEnv, Secret};
use crate::backend::{Backend, List};
use crate::entry::{Capabilities, Entry, Fields};
use crate::error::{Error, ErrorKind, Result};
use crate::hash::{HashKind, HashKinds};
use crate::io::{Reader, Writer};
use crate::location::Location;
use crate::options::{ListOptions, ReadOptions, WriteMode, WriteOptions};
use crate::path::Path;

const MIB: usize = 1024 * 1024;
/// S3's smallest part (except the last).
pub const MIN_PART_SIZE: usize = 5 * MIB;
/// S3's largest part.
pub const MAX_PART_SIZE: usize = 5 * 1024 * MIB;
/// S3's largest single CopyObject.
const MAX_COPY: u64 = 5 * 1024 * 1024 * 1024;

/// A well-known S3-compatible service. See the [module docs](self) for what each sets.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Provider {
    /// Amazon S3.
    Aws,
    /// Cloudflare R2.
    CloudflareR2 {
        /// The Cloudflare account id (part of the endpoint).
        account_id: String,
    },
    /// MinIO (give the endpoint).
    Minio,
    /// Backblaze B2's S3 API.
    BackblazeB2,
    /// Wasabi.
    Wasabi,
    /// DigitalOcean Spaces.
    DigitalOceanSpaces,
    /// Google Cloud Storage's XML API with HMAC keys.
    GoogleCloudStorage,
    /// Garage (give the endpoint).
    Garage,
    /// Ceph's RADOS Gateway (give the endpoint).
    Ceph,
}

impl Provider {
    /// Parses a provider name as used in URLs (`aws`, `r2`, `minio`, `b2`, `wasabi`,
    /// `digitalocean`, `gcs`, `garage`, `ceph`). R2's account id comes separately.
    pub fn from_name(name: &str, account_id: Option<&str>) -> Result<Provider> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "aws" | "amazon" => Provider::Aws,
            "r2" | "cloudflare" => Provider::CloudflareR2 {
                account_id: account_id
                    .ok_or_else(|| {
                        Error::new(ErrorKind::InvalidConfig, "provider r2 needs account_id")
                            .with_backend(NAME)
                    })?
                    .to_owned(),
            },
            "minio" => Provider::Minio,
            "b2" | "backblaze" => Provider::BackblazeB2,
            "wasabi" => Provider::Wasabi,
            "digitalocean" | "spaces" | "do" => Provider::DigitalOceanSpaces,
            "gcs" | "google" => Provider::GoogleCloudStorage,
            "garage" => Provider::Garage,
            "ceph" | "rgw" => Provider::Ceph,
            other => {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    format!("unknown S3 provider {other:?}"),
                )
                .with_backend(NAME));
            }
        })
    }

    fn default_region(&self) -> &'static str {
        match self {
            Provider::CloudflareR2 { .. } | Provider::GoogleCloudStorage => "auto",
            Provider::BackblazeB2 => "us-west-004",
            Provider::DigitalOceanSpaces => "nyc3",
            Provider::Garage => "garage",
            _ => "us-east-1",
        }
    }

    fn endpoint(&self, region: &str) -> Option<String> {
        match self {
            Provider::Aws => Some(format!("https://s3.{region}.amazonaws.com")),
            Provider::CloudflareR2 { account_id } => {
                Some(format!("https://{account_id}.r2.cloudflarestorage.com"))
            }
            Provider::BackblazeB2 => Some(format!("https://s3.{region}.backblazeb2.com")),
            Provider::Wasabi => Some(format!("https://s3.{region}.wasabisys.com")),
            Provider::DigitalOceanSpaces => {
                Some(format!("https://{region}.digitaloceanspaces.com"))
            }
            Provider::GoogleCloudStorage => Some("https://storage.googleapis.com".to_owned()),
            Provider::Minio | Provider::Garage | Provider::Ceph => None,
        }
    }

    /// Whether the service honours `If-None-Match: *` on PUT (atomic create-if-absent).
    /// Garage 2.5 ignores it (seen here); for services not checked, assume not.
    fn conditional_writes(&self) -> bool {
        matches!(
            self,
            Provider::Aws | Provider::CloudflareR2 { .. } | Provider::Minio | Provider::Ceph
        )
    }

    fn path_style(&self) -> bool {
        matches!(
            self,
            Provider::CloudflareR2 { .. }
                | Provider::Minio
                | Provider::GoogleCloudStorage
                | Provider::Garage
                | Provider::Ceph
        )
    }
}

/// Builds an [`S3Backend`]. Every setter documents its default.
#[derive(Clone, Debug)]
pub struct S3Builder {
    bucket: String,
    prefix: String,
    provider: Provider,
    endpoint: Option<String>,
    region: Option<String>,
    path_style: Option<bool>,
    creds: CredsConfig,
    part_size: usize,
    concurrency: usize,
    retries: u32,
    retry_base: Duration,
    connect_timeout: Duration,
    request_timeout: Duration,
    ca_bundle: Option<Vec<u8>>,
    ca_bundle_from_env: bool,
    insecure: bool,
    read_mtime: bool,
    server_modtime: bool,
    conditional_writes: Option<bool>,
    copy_cutoff: u64,
}

/// Where objects' modification times come from (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MtimeSource {
    /// Listings carry none; `stat` reads the stored one.
    None,
    /// Listings and `stat` read the stored one (a HEAD per listed entry).
    Stored,
    /// Listings and `stat` report the server's `LastModified`, to the second.
    Server,
}

impl S3Builder {
    /// A builder for `bucket`.
    pub fn new(bucket: impl Into<String>) -> S3Builder {
        S3Builder {
            bucket: bucket.into(),
            prefix: String::new(),
            provider: Provider::Aws,
            endpoint: None,
            region: None,
            path_style: None,
            creds: CredsConfig::default(),
            part_size: 8 * MIB,
            concurrency: 4,
            retries: 4,
            retry_base: Duration::from_millis(100),
            connect_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(300),
            ca_bundle: None,
            ca_bundle_from_env: true,
            insecure: false,
            read_mtime: false,
            server_modtime: false,
            conditional_writes: None,
            copy_cutoff: MAX_COPY,
        }
    }

    /// The service. Default [`Provider::Aws`].
    pub fn provider(mut self, provider: Provider) -> S3Builder {
        self.provider = provider;
        self
    }

    /// The endpoint URL (`http://127.0.0.1:3900`). Default: the provider's.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> S3Builder {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The region. Default: `AWS_REGION`, `AWS_DEFAULT_REGION`, the shared config file, then
    /// the provider's default.
    pub fn region(mut self, region: impl Into<String>) -> S3Builder {
        self.region = Some(region.into());
        self
    }

    /// Path-style (`endpoint/bucket/key`) or virtual-host (`bucket.endpoint/key`) addressing.
    /// Default: the provider's.
    pub fn path_style(mut self, path_style: bool) -> S3Builder {
        self.path_style = Some(path_style);
        self
    }

    /// The key prefix that is the backend's root inside the bucket (`a/b`: paths are
    /// `a/b/...` keys). Default: none, the whole bucket. Validated as a [`Path`] by `build`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> S3Builder {
        self.prefix = prefix.into();
        self
    }

    /// Explicit credentials (they win over every other source). Default: none.
    pub fn credentials(
        mut self,
        key_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> S3Builder {
        let token = self.creds.explicit.take().and_then(|(_, _, t)| t);
        self.creds.explicit = Some((key_id.into(), Secret(secret.into()), token));
        self
    }

    /// A session token to go with [`credentials`](S3Builder::credentials). Default: none.
    pub fn session_token(mut self, token: impl Into<String>) -> S3Builder {
        if let Some((_, _, t)) = self.creds.explicit.as_mut() {
            *t = Some(Secret(token.into()));
        }
        self
    }

    /// The profile of the shared credentials files. Default: `AWS_PROFILE`, then `default`.
    pub fn profile(mut self, profile: impl Into<String>) -> S3Builder {
        self.creds.profile = Some(profile.into());
        self
    }

    /// Use no credentials at all (public buckets) when no explicit ones are given. Default
    /// `false`: without credentials, `build` fails.
    pub fn anonymous(mut self, anonymous: bool) -> S3Builder {
        self.creds.anonymous = anonymous;
        self
    }

    /// The part size of multipart uploads, and the largest object sent as one PUT. Default
    /// 8 MiB; between 5 MiB and 5 GiB.
    pub fn part_size(mut self, bytes: usize) -> S3Builder {
        self.part_size = bytes;
        self
    }

    /// How many parts of one upload go up at once. Default 4.
    pub fn concurrency(mut self, n: usize) -> S3Builder {
        self.concurrency = n;
        self
    }

    /// How many times a failed idempotent request is retried. Default 4.
    pub fn retries(mut self, n: u32) -> S3Builder {
        self.retries = n;
        self
    }

    /// The first retry's delay; later ones double, up to 5 s, with jitter. Default 100 ms.
    pub fn retry_base(mut self, delay: Duration) -> S3Builder {
        self.retry_base = delay;
        self
    }

    /// How long to wait for a connection. Default 30 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> S3Builder {
        self.connect_timeout = timeout;
        self
    }

    /// How long to wait for a response, and for each read or write on the connection.
    /// Default 300 s.
    pub fn request_timeout(mut self, timeout: Duration) -> S3Builder {
        self.request_timeout = timeout;
        self
    }

    /// Trust these PEM certificates instead of the default roots. Default: the file named by
    /// `AWS_CA_BUNDLE` if set, otherwise Mozilla's roots.
    pub fn ca_bundle_pem(mut self, pem: impl Into<Vec<u8>>) -> S3Builder {
        self.ca_bundle = Some(pem.into());
        self
    }

    /// Whether `AWS_CA_BUNDLE` is honoured when no bundle is given. Default `true`.
    pub fn ca_bundle_from_env(mut self, yes: bool) -> S3Builder {
        self.ca_bundle_from_env = yes;
        self
    }

    /// Accept any TLS certificate. **Insecure**: only for test servers. Default `false`.
    pub fn danger_accept_invalid_certs(mut self, yes: bool) -> S3Builder {
        self.insecure = yes;
        self
    }

    /// Read each listed object's stored modification time with one HEAD per entry (as rclone
    /// does when it compares times). Default `false`: listings carry no modification time.
    pub fn read_mtime(mut self, yes: bool) -> S3Builder {
        self.read_mtime = yes;
        self
    }

    /// Report the server's `LastModified` (the upload time, to the second) as every object's
    /// modification time, in listings and `stat` alike, ignoring stored times: rclone's
    /// `--use-server-modtime`. Free in listings. Wins over [`read_mtime`](Self::read_mtime).
    /// Default `false`.
    pub fn server_modtime(mut self, yes: bool) -> S3Builder {
        self.server_modtime = yes;
        self
    }

    /// Whether the server honours `If-None-Match: *`, which makes [`WriteMode::CreateNew`]
    /// atomic. Default: the provider's (AWS, R2, MinIO and Ceph do; Garage 2.5 ignores it;
    /// others are assumed not to). Without it, `CreateNew` is a check before the upload, not
    /// atomic, and [`Capabilities::create_new`] says so.
    pub fn conditional_writes(mut self, yes: bool) -> S3Builder {
        self.conditional_writes = Some(yes);
        self
    }

    /// Objects larger than this are copied part by part (UploadPartCopy). Default 5 GiB, the
    /// largest single CopyObject.
    pub fn copy_cutoff(mut self, bytes: u64) -> S3Builder {
        self.copy_cutoff = bytes.min(MAX_COPY);
        self
    }

    /// Checks the configuration, resolves credentials and the region, and makes the backend.
    /// Nothing is sent to the server.
    pub fn build(self) -> Result<S3Backend> {
        let bad = |msg: String| Error::new(ErrorKind::InvalidConfig, msg).with_backend(NAME);
        if !valid_bucket(&self.bucket) {
            return Err(bad(format!("invalid bucket name {:?}", self.bucket)));
        }
        let prefix = Path::parse(self.prefix.trim_matches('/'))
            .map_err(|e| bad(format!("invalid prefix {:?}: {e}", self.prefix)))?;
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&self.part_size) {
            return Err(bad(format!(
                "part size {} is outside S3's limits of 5 MiB to 5 GiB",
                self.part_size
            )));
        }
        if self.concurrency == 0 {
            return Err(bad("concurrency must be at least 1".into()));
        }
        let env = ProcessEnv;
        let region = self
            .region
            .clone()
            .or_else(|| creds::env_region(&self.creds, &env))
            .unwrap_or_else(|| self.provider.default_region().to_owned());
        let endpoint = match (&self.endpoint, self.provider.endpoint(&region)) {
            (Some(e), _) => e.trim_end_matches('/').to_owned(),
            (None, Some(e)) => e,
            (None, None) => {
                return Err(bad(format!(
                    "provider {:?} needs an endpoint",
                    self.provider
                )));
            }
        };
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(bad(format!(
                "endpoint {endpoint:?} must start with http:// or https://"
            )));
        }
        let path_style = self
            .path_style
            .unwrap_or(self.provider.path_style() || self.bucket.contains('.'));
        let ca_bundle = match self.ca_bundle {
            Some(pem) => Some(pem),
            None if self.ca_bundle_from_env && endpoint.starts_with("https://") => {
                match std::env::var_os("AWS_CA_BUNDLE").filter(|v| !v.is_empty()) {
                    Some(file) => Some(std::fs::read(&file).map_err(|e| {
                        bad(format!(
                            "cannot read AWS_CA_BUNDLE {}: {e}",
                            file.to_string_lossy()
                        ))
                    })?),
                    None => None,
                }
            }
            None => None,
        };
        let creds = creds::resolve(&self.creds, &env)?;
        let cfg = ClientConfig {
            endpoint: endpoint.clone(),
            path_style,
            bucket: self.bucket.clone(),
            region,
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
            retries: self.retries,
            retry_base: self.retry_base,
            ca_bundle,
            insecure: self.insecure,
            max_connections: self.concurrency * 2 + 4,
        };
        let client = Arc::new(Client::new(cfg, creds)?);
        Ok(S3Backend {
            inner: Arc::new(Inner {
                client,
                prefix,
                part_size: self.part_size,
                concurrency: self.concurrency,
                mtime: if self.server_modtime {
                    MtimeSource::Server
                } else if self.read_mtime {
                    MtimeSource::Stored
                } else {
                    MtimeSource::None
                },
                conditional_writes: self
                    .conditional_writes
                    .unwrap_or_else(|| self.provider.conditional_writes()),
                copy_cutoff: self.copy_cutoff,
                closed: Arc::new(AtomicBool::new(false)),
            }),
        })
    }
}

fn valid_bucket(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'_')
        })
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric()
}

/// A store of objects in an S3 bucket (under an optional key prefix). See the
/// [module docs](self). Cloning is cheap and shares the connection pool.
#[derive(Clone)]
pub struct S3Backend {
    inner: Arc<Inner>,
}

struct Inner {
    client: Arc<Client>,
    prefix: Path,
    part_size: usize,
    concurrency: usize,
    mtime: MtimeSource,
    conditional_writes: bool,
    copy_cutoff: u64,
    closed: Arc<AtomicBool>,
}

impl std::fmt::Debug for S3Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Backend")
            .field("client", &self.inner.client)
            .field("prefix", &self.inner.prefix)
            .field("part_size", &self.inner.part_size)
            .field("concurrency", &self.inner.concurrency)
            .finish()
    }
}

/// What [`S3Backend::delete_many`] could not delete.
pub type DeleteFailures = Vec<(Path, Error)>;

impl S3Backend {
    /// A builder for `bucket`.
    pub fn builder(bucket: impl Into<String>) -> S3Builder {
        S3Builder::new(bucket)
    }

    /// Opens from a parsed `s3://bucket/prefix?...` URL. Query parameters: `endpoint`,
    /// `region`, `provider`, `account_id`, `path_style`, `access_key_id`,
    /// `secret_access_key`, `session_token`, `profile`, `anonymous`, `read_mtime`, `server_modtime`,
    /// `part_size`, `concurrency`, `retries`, `conditional_writes`,
    /// `danger_accept_invalid_certs`. A user and password in the URL are the key id and
    /// secret.
    pub fn from_url(url: &crate::registry::Url) -> Result<S3Backend> {
        let bad = |msg: String| Error::new(ErrorKind::InvalidConfig, msg).with_backend(NAME);
        let mut b = S3Builder::new(url.host.clone()).prefix(url.path.trim_start_matches('/'));
        let flag = |key: &str| -> Result<Option<bool>> {
            match url.param(key) {
                None => Ok(None),
                Some("" | "true" | "1" | "yes") => Ok(Some(true)),
                Some("false" | "0" | "no") => Ok(Some(false)),
                Some(v) => Err(bad(format!("{key}={v:?} is not true or false"))),
            }
        };
        let number = |key: &str| -> Result<Option<u64>> {
            url.param(key)
                .map(|v| parse_size(v).ok_or_else(|| bad(format!("{key}={v:?} is not a size"))))
                .transpose()
        };
        if let Some(p) = url.param("provider") {
            b = b.provider(Provider::from_name(p, url.param("account_id"))?);
        }
        if let Some(e) = url.param("endpoint") {
            b = b.endpoint(e);
        }
        if let Some(r) = url.param("region") {
            b = b.region(r);
        }
        if let Some(v) = flag("path_style")? {
            b = b.path_style(v);
        }
        let key = url
            .param("access_key_id")
            .map(str::to_owned)
            .or(url.user.clone());
        let secret = url
            .param("secret_access_key")
            .map(str::to_owned)
            .or(url.password.clone());
        match (key, secret) {
            (Some(k), Some(s)) => b = b.credentials(k, s),
            (None, None) => {}
            _ => return Err(bad("give both access_key_id and secret_access_key".into())),
        }
        if let Some(t) = url.param("session_token") {
            b = b.session_token(t);
        }
        if let Some(p) = url.param("profile") {
            b = b.profile(p);
        }
        if let Some(v) = flag("anonymous")? {
            b = b.anonymous(v);
        }
        if let Some(v) = flag("read_mtime")? {
            b = b.read_mtime(v);
        }
        if let Some(v) = flag("server_modtime")? {
            b = b.server_modtime(v);
        }
        if let Some(v) = flag("conditional_writes")? {
            b = b.conditional_writes(v);
        }
        if let Some(v) = flag("danger_accept_invalid_certs")? {
            b = b.danger_accept_invalid_certs(v);
        }
        if let Some(n) = number("part_size")? {
            b = b.part_size(usize::try_from(n).map_err(|_| bad("part_size too large".into()))?);
        }
        if let Some(n) = number("concurrency")? {
            b = b.concurrency(n as usize);
        }
        if let Some(n) = number("retries")? {
            b = b.retries(u32::try_from(n).unwrap_or(u32::MAX));
        }
        b.build()
    }

    fn client(&self) -> &Arc<Client> {
        &self.inner.client
    }

    /// The key of `path` in the bucket.
    fn key(&self, path: &Path) -> String {
        self.inner.prefix.join(path).into_string()
    }

    /// The key prefix of the root, with its trailing `/` (empty for the whole bucket).
    fn root_key(&self) -> String {
        if self.inner.prefix.is_root() {
            String::new()
        } else {
            format!("{}/", self.inner.prefix)
        }
    }

    fn check_open(&self, op: &'static str) -> Result<()> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::closed(op).with_backend(NAME));
        }
        Ok(())
    }

    fn object_path(&self, op: &'static str, path: &Path) -> Result<()> {
        self.check_open(op)?;
        if path.is_root() {
            return Err(
                Error::new(ErrorKind::InvalidPath, "the root is not an object").context(
                    op,
                    path.as_str(),
                    NAME,
                ),
            );
        }
        Ok(())
    }

    /// HEAD: `Ok(None)` for a missing object.
    fn head(&self, op: &'static str, path: &Path) -> Result<Option<Entry>> {
        let key = self.key(path);
        let req = Request::new(Method::Head, Some(&key));
        match self.client().call(&req, true) {
            Ok(resp) => Ok(Some(entry_from_head(
                path,
                &resp,
                self.inner.mtime == MtimeSource::Server,
            ))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) if e.kind() == ErrorKind::PermissionDenied => {
                // A HEAD error has no body: ask with a one-byte GET to learn whether the
                // credentials or the permissions are at fault.
                let probe = Request::new(Method::Get, Some(&key)).header("range", "bytes=0-0");
                match self.client().call(&probe, false) {
                    Err(detail) => Err(detail.context(op, path.as_str(), NAME)),
                    Ok(_) => Err(e.context(op, path.as_str(), NAME)),
                }
            }
            Err(e) => Err(e.context(op, path.as_str(), NAME)),
        }
    }

    /// Whether any object lies under `path/`.
    fn has_children(&self, path: &Path) -> Result<bool> {
        let prefix = format!("{}/", self.key(path));
        let root_len = self.root_key().len();
        match list::Pager::new(
            Arc::clone(self.client()),
            prefix,
            root_len,
            MtimeSource::None,
        )
        .limit(1)
        .next()
        {
            Some(Err(e)) => Err(e),
            Some(Ok(_)) => Ok(true),
            None => Ok(false),
        }
    }

    /// Deletes many objects with DeleteObjects, 1,000 per request. Missing objects are not
    /// failures. Returns the objects the server refused to delete, with the reason; a request
    /// that fails as a whole is an `Err`.
    pub fn delete_many<'a>(
        &self,
        paths: impl IntoIterator<Item = &'a Path>,
    ) -> Result<DeleteFailures> {
        self.check_open("delete_many")?;
        let paths: Vec<&Path> = paths.into_iter().collect();
        let mut failures = Vec::new();
        for chunk in paths.chunks(1000) {
            let mut xml = String::from("<Delete><Quiet>true</Quiet>");
            for path in chunk {
                if path.is_root() {
                    failures.push((
                        (*path).clone(),
                        Error::new(ErrorKind::InvalidPath, "the root is not an object"),
                    ));
                    continue;
                }
                xml.push_str(&format!(
                    "<Object><Key>{}</Key></Object>",
                    util::xml_escape(&self.key(path))
                ));
            }
            xml.push_str("</Delete>");
            let req = Request::new(Method::Post, None)
                .query("delete", "")
                .body(xml.as_bytes())
                .content_md5();
            let resp = self
                .client()
                .call(&req, true)
                .map_err(|e| e.context("delete_many", "", NAME))?;
            let body = client::read_body(resp, 64 * 1024 * 1024)?;
            let root_len = self.root_key().len();
            for block in util::xml_blocks(&body, "Error") {
                let key = util::xml_tag(block, "Key").unwrap_or_default();
                let code = util::xml_tag(block, "Code").unwrap_or_default();
                let message = util::xml_tag(block, "Message").unwrap_or_default();
                let (kind, temporary, what) = client::classify(500, &code, &message);
                if kind == ErrorKind::NotFound {
                    continue;
                }
                let rel = key.get(root_len..).unwrap_or(&key);
                let path = Path::parse(rel).unwrap_or_default();
                failures.push((
                    path,
                    Error::new(kind, format!("delete: {what} ({code}: {message})"))
                        .with_temporary(temporary)
                        .context("delete_many", rel, NAME),
                ));
            }
        }
        Ok(failures)
    }

    /// The multipart uploads that were started under this backend's root and never
    /// completed or aborted (left by a crashed process, for instance): `(path, upload id)`.
    /// They are invisible as objects but billed by most providers; see
    /// [`abort_pending_uploads`](S3Backend::abort_pending_uploads).
    pub fn pending_uploads(&self) -> Result<Vec<(String, String)>> {
        self.check_open("pending_uploads")?;
        let root = self.root_key();
        let mut out = Vec::new();
        let mut markers: Option<(String, String)> = None;
        loop {
            let mut req = Request::new(Method::Get, None).query("uploads", "");
            if !root.is_empty() {
                req = req.query("prefix", root.clone());
            }
            if let Some((key, id)) = &markers {
                req = req
                    .query("key-marker", key.clone())
                    .query("upload-id-marker", id.clone());
            }
            let resp = self
                .client()
                .call(&req, true)
                .map_err(|e| e.context("pending_uploads", "", NAME))?;
            let body = client::read_body(resp, 64 * 1024 * 1024)?;
            for block in util::xml_blocks(&body, "Upload") {
                let key = util::xml_tag(block, "Key").unwrap_or_default();
                let id = util::xml_tag(block, "UploadId").unwrap_or_default();
                out.push((key.get(root.len()..).unwrap_or(&key).to_owned(), id));
            }
            let truncated = util::xml_tag(&body, "IsTruncated").as_deref() == Some("true");
            let next = (
                util::xml_tag(&body, "NextKeyMarker").unwrap_or_default(),
                util::xml_tag(&body, "NextUploadIdMarker").unwrap_or_default(),
            );
            if !truncated || next.0.is_empty() {
                return Ok(out);
            }
            markers = Some(next);
        }
    }

    /// Aborts every multipart upload listed by [`pending_uploads`](S3Backend::pending_uploads).
    /// Only for when no other writer is running under this root: it would abort theirs too.
    pub fn abort_pending_uploads(&self) -> Result<usize> {
        let pending = self.pending_uploads()?;
        let root = self.root_key();
        for (path, id) in &pending {
            let key = format!("{root}{path}");
            let req = Request::new(Method::Delete, Some(&key)).query("uploadId", id.clone());
            match self.client().call(&req, true) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e.context("abort_pending_uploads", path, NAME)),
            }
        }
        Ok(pending.len())
    }

    /// A presigned URL that lets anyone GET the object at `path` until `expiry` passes
    /// (1 second to 7 days).
    pub fn presign_get(&self, path: &Path, expiry: Duration) -> Result<String> {
        self.object_path("presign", path)?;
        let key = self.key(path);
        self.client()
            .presign(&Request::new(Method::Get, Some(&key)), expiry)
    }

    /// A presigned URL that lets anyone PUT an object at `path` until `expiry` passes. The
    /// request must send a body with a `Content-Length` (no chunked transfer).
    pub fn presign_put(&self, path: &Path, expiry: Duration) -> Result<String> {
        self.object_path("presign", path)?;
        let key = self.key(path);
        self.client()
            .presign(&Request::new(Method::Put, Some(&key)), expiry)
    }

    /// The `x-amz-copy-source` of an object key of this bucket.
    fn copy_source(&self, key: &str) -> String {
        let encoded: Vec<String> = key.split('/').map(client::uri_encode).collect();
        format!("/{}/{}", self.client().cfg.bucket, encoded.join("/"))
    }

    fn copy_object(&self, from: &Path, to: &Path) -> Result<()> {
        const OP: &str = "copy";
        let source = self.head(OP, from)?.ok_or_else(|| {
            Error::new(ErrorKind::NotFound, "no such object").context(OP, from.as_str(), NAME)
        })?;
        let from_key = self.key(from);
        let to_key = self.key(to);
        if source.size <= self.inner.copy_cutoff {
            let req = Request::new(Method::Put, Some(&to_key))
                .header("x-amz-copy-source", self.copy_source(&from_key))
                .header("x-amz-metadata-directive", "COPY");
            let resp = self
                .client()
                .call(&req, true)
                .map_err(|e| e.context(OP, to.as_str(), NAME))?;
            // CopyObject can fail after a 200, with an <Error> body.
            let body = client::read_body(resp, 1024 * 1024)?;
            if body.contains("<Error>") {
                let code = util::xml_tag(&body, "Code").unwrap_or_default();
                let message = util::xml_tag(&body, "Message").unwrap_or_default();
                let (kind, temporary, what) = client::classify(500, &code, &message);
                return Err(
                    Error::new(kind, format!("copy: {what} ({code}: {message})"))
                        .with_temporary(temporary)
                        .context(OP, to.as_str(), NAME),
                );
            }
            return Ok(());
        }
        // Part by part: the metadata is not copied by UploadPartCopy, so send it again.
        let mut opts = WriteOptions::new();
        opts.content_type = source.content_type.clone();
        opts.metadata = source.metadata.clone();
        opts.modified = source.modified;
        let headers = writer::object_headers(&opts)?;
        let part = (self.inner.part_size as u64).max(source.size.div_ceil(writer::MAX_PARTS));
        let mut create = Request::new(Method::Post, Some(&to_key)).query("uploads", "");
        create.headers = headers;
        let resp = self
            .client()
            .call(&create, true)
            .map_err(|e| e.context(OP, to.as_str(), NAME))?;
        let body = client::read_body(resp, 1024 * 1024)?;
        let id = util::xml_tag(&body, "UploadId").ok_or_else(|| {
            Error::new(ErrorKind::Corrupt, "no UploadId").context(OP, to.as_str(), NAME)
        })?;
        let abort = || {
            let req = Request::new(Method::Delete, Some(&to_key)).query("uploadId", id.clone());
            let _ = self.client().call(&req, true);
        };
        let mut parts = String::from("<CompleteMultipartUpload>");
        let mut offset = 0u64;
        let mut number = 1u32;
        while offset < source.size {
            let end = (offset + part).min(source.size);
            let mut req = Request::new(Method::Put, Some(&to_key))
                .query("partNumber", number.to_string())
                .query("uploadId", id.clone())
                .header("x-amz-copy-source", self.copy_source(&from_key))
                .header(
                    "x-amz-copy-source-range",
                    format!("bytes={offset}-{}", end - 1),
                );
            // Pin the source by its ETag where it is a plain MD5, so that an object changed
            // during the copy fails the copy instead of mixing two versions.
            if let Some(md5) = source.hash(HashKind::Md5) {
                req = req.header("x-amz-copy-source-if-match", format!("\"{md5}\""));
            }
            let result = self
                .client()
                .call(&req, true)
                .and_then(|resp| client::read_body(resp, 1024 * 1024));
            let body = match result {
                Ok(body) => body,
                Err(e) => {
                    abort();
                    return Err(e.context(OP, to.as_str(), NAME));
                }
            };
            let Some(etag) = util::xml_tag(&body, "ETag") else {
                abort();
                return Err(Error::new(
                    ErrorKind::Corrupt,
                    "UploadPartCopy answered without an ETag",
                )
                .context(OP, to.as_str(), NAME));
            };
            parts.push_str(&format!(
                "<Part><PartNumber>{number}</PartNumber><ETag>\"{}\"</ETag></Part>",
                util::xml_escape(&util::unquote_etag(&etag))
            ));
            offset = end;
            number += 1;
        }
        parts.push_str("</CompleteMultipartUpload>");
        let req = Request::new(Method::Post, Some(&to_key))
            .query("uploadId", id.clone())
            .body(parts.as_bytes());
        let result = self
            .client()
            .call(&req, false)
            .and_then(|resp| client::read_body(resp, 1024 * 1024));
        match result {
            Ok(body) if !body.contains("<Error>") => Ok(()),
            Ok(body) => {
                abort();
                Err(Error::new(
                    ErrorKind::Io,
                    format!(
                        "complete copy failed: {}",
                        util::xml_tag(&body, "Message").unwrap_or_default()
                    ),
                )
                .context(OP, to.as_str(), NAME))
            }
            Err(e) => {
                abort();
                Err(e.context(OP, to.as_str(), NAME))
            }
        }
    }
}

/// Parses `8M`, `5MiB`, `1048576`, `1G` (powers of 1024).
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits = s.bytes().take_while(|b| b.is_ascii_digit()).count();
    let (n, unit) = s.split_at(digits);
    let n: u64 = n.parse().ok()?;
    let mult = match unit
        .trim()
        .to_ascii_lowercase()
        .trim_end_matches("ib")
        .trim_end_matches('b')
    {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// The entry a HEAD response describes.
/// With `server_time`, the modification time is the `Last-Modified` header even when a stored
/// one exists.
fn entry_from_head(path: &Path, resp: &client::Response, server_time: bool) -> Entry {
    let size = client::header(resp, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut metadata = std::collections::BTreeMap::new();
    let mut mtime = None;
    for (name, value) in resp.headers() {
        if let Some(key) = name.as_str().strip_prefix("x-amz-meta-") {
            let Ok(value) = value.to_str() else { continue };
            if key == "mtime" {
                mtime = util::parse_mtime(value);
            } else {
                metadata.insert(key.to_owned(), value.to_owned());
            }
        }
    }
    let last_modified =
        || client::header(resp, "last-modified").and_then(|v| util::parse_http_date(&v));
    let modified = if server_time {
        last_modified()
    } else {
        mtime.or_else(last_modified)
    };
    let mut entry = Entry::file(path.clone(), size)
        .with_modified(modified)
        .with_content_type(client::header(resp, "content-type"))
        .with_metadata(metadata);
    if let Some(etag) = client::header(resp, "etag").map(|e| util::unquote_etag(&e)) {
        if util::etag_is_md5(&etag)
            && let Ok(md5) = crate::hash::Hash::from_hex(HashKind::Md5, &etag)
        {
            entry = entry.with_hash(md5);
        }
        entry = entry.with_etag(Some(etag));
    }
    entry
}

/// The stored modification time of a key (HEAD), for listings that ask for it.
pub(crate) fn head_modified(client: &Client, key: &str) -> Option<std::time::SystemTime> {
    let req = Request::new(Method::Head, Some(key));
    let resp = client.call(&req, true).ok()?;
    entry_from_head(&Path::root(), &resp, false).modified
}

impl Backend for S3Backend {
    fn reader(&self, path: &Path, opts: &ReadOptions) -> Result<Reader> {
        self.object_path("read", path)?;
        let (reader, size) = reader::S3Reader::open(
            Arc::clone(self.client()),
            self.key(path),
            path.to_string(),
            opts.offset,
            opts.length,
        )?;
        Ok(Reader::new(reader).with_size(size))
    }

    fn writer(&self, path: &Path, opts: &WriteOptions) -> Result<Writer> {
        const OP: &str = "write";
        self.object_path(OP, path)?;
        let headers =
            writer::object_headers(opts).map_err(|e| e.context(OP, path.as_str(), NAME))?;
        if opts.mode == WriteMode::CreateNew && self.head(OP, path)?.is_some() {
            return Err(
                Error::new(ErrorKind::AlreadyExists, "the object exists").context(
                    OP,
                    path.as_str(),
                    NAME,
                ),
            );
        }
        let mut part_size = self.inner.part_size;
        if let Some(size) = opts.size_hint {
            let needed = size.div_ceil(writer::MAX_PARTS).div_ceil(MIB as u64) * MIB as u64;
            part_size = part_size
                .max(usize::try_from(needed).unwrap_or(MAX_PART_SIZE))
                .min(MAX_PART_SIZE);
        }
        Ok(Writer::new(writer::S3Writer::new(writer::Target {
            client: Arc::clone(self.client()),
            key: self.key(path),
            path: path.clone(),
            opts: opts.clone(),
            headers,
            part_size,
            concurrency: self.inner.concurrency,
            conditional: self.inner.conditional_writes,
            closed: Arc::clone(&self.inner.closed),
        })))
    }

    fn exists(&self, path: &Path) -> Result<bool> {
        self.check_open("exists")?;
        if path.is_root() {
            return Ok(false);
        }
        Ok(self.head("exists", path)?.is_some())
    }

    fn delete(&self, path: &Path) -> Result<()> {
        self.object_path("delete", path)?;
        let key = self.key(path);
        match self
            .client()
            .call(&Request::new(Method::Delete, Some(&key)), true)
        {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound && !e.to_string().contains("bucket") => {
                Ok(())
            }
            Err(e) => Err(e.context("delete", path.as_str(), NAME)),
        }
    }

    fn list(&self, prefix: &Path, opts: &ListOptions) -> Result<List> {
        Ok(crate::listing::adapt(
            self.list_recursive(prefix)?,
            prefix,
            opts,
        ))
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities_now()
    }

    fn close(&self) -> Result<()> {
        self.inner.closed.store(true, Ordering::Release);
        Ok(())
    }

    fn location(&self) -> Option<Location> {
        let cfg = &self.client().cfg;
        Some(Location::new(
            NAME,
            format!("{}/{}", cfg.endpoint, cfg.bucket),
            self.inner.prefix.clone(),
        ))
    }

    fn stat(&self, path: &Path) -> Result<Entry> {
        self.check_open("stat")?;
        if path.is_root() {
            return Ok(Entry::dir(Path::root()));
        }
        if let Some(entry) = self.head("stat", path)? {
            return Ok(entry);
        }
        if self.has_children(path)? {
            return Ok(Entry::dir(path.clone()));
        }
        Err(Error::new(ErrorKind::NotFound, "no such object").context("stat", path.as_str(), NAME))
    }

    fn create_dir(&self, _path: &Path) -> Result<()> {
        self.check_open("create_dir")
    }

    fn remove_dir(&self, _path: &Path) -> Result<()> {
        self.check_open("remove_dir")
    }

    fn copy(&self, from: &Path, to: &Path) -> Result<Entry> {
        self.copy_within(from, to)?;
        self.stat(to)
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<Entry> {
        let entry = self.copy(from, to)?;
        if from != to {
            self.delete(from)?;
        }
        Ok(entry)
    }
}

impl S3Backend {
    fn list_recursive(&self, prefix: &Path) -> Result<List> {
        self.check_open("list")?;
        let root_len = self.root_key().len();
        let client = Arc::clone(self.client());
        let mtime = self.inner.mtime;
        if prefix.is_root() {
            return Ok(Box::new(list::Pager::new(
                client,
                self.root_key(),
                root_len,
                mtime,
            )));
        }
        // The object named by the prefix itself (it sorts before everything under it), then
        // everything under `prefix/`.
        let key = self.key(prefix);
        let wanted = prefix.clone();
        let exact = list::Pager::new(Arc::clone(&client), key.clone(), root_len, mtime)
            .limit(1)
            .filter(move |item| match item {
                Ok(entry) => entry.path == wanted,
                Err(_) => true,
            });
        let below = list::Pager::new(client, format!("{key}/"), root_len, mtime);
        Ok(Box::new(exact.chain(below)))
    }

    fn capabilities_now(&self) -> Capabilities {
        Capabilities {
            read: true,
            range_read: true,
            write: true,
            create_new: self.inner.conditional_writes,
            list: true,
            delete: true,
            stat: true,
            directories: false,
            server_side_copy: true,
            server_side_move: true,
            // Only stored times keep what the writer gave; server times are upload times.
            modified_time: (self.inner.mtime == MtimeSource::Stored)
                .then_some(Duration::from_nanos(1)),
            set_modified: false,
            metadata: true,
            hashes: HashKinds::NONE.with(HashKind::Md5),
            listed: Fields::NONE,
            presign: false,
            pending_uploads: false,
            streams: None,
        }
    }
}

impl S3Backend {
    fn copy_within(&self, from: &Path, to: &Path) -> Result<()> {
        self.object_path("copy", from)?;
        self.object_path("copy", to)?;
        if from == to {
            // S3 refuses to copy an object onto itself unchanged; it is a no-op anyway.
            return match self.head("copy", from)? {
                Some(_) => Ok(()),
                None => Err(Error::new(ErrorKind::NotFound, "no such object").context(
                    "copy",
                    from.as_str(),
                    NAME,
                )),
            };
        }
        self.copy_object(from, to)
    }
}
