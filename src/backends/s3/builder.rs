//! Configuration: the well-known [`Provider`]s, the [`S3Builder`] and its checks, and the
//! `s3://` URL parameters ([`S3Backend::from_url`]).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use super::client::{Client, ClientConfig, NAME};
use super::creds::{self, CredsConfig, ProcessEnv, Secret};
use super::pool::PartPool;
use super::{Inner, MtimeSource, S3Backend};
use crate::error::{Error, ErrorKind, Result};
use crate::path::Path;
use crate::retry::Retry;

const MIB: usize = 1024 * 1024;
/// S3's smallest part (except the last).
pub const MIN_PART_SIZE: usize = 5 * MIB;
/// S3's largest part.
pub const MAX_PART_SIZE: usize = 5 * 1024 * MIB;
/// S3's largest single CopyObject.
pub(crate) const MAX_COPY: u64 = 5 * 1024 * 1024 * 1024;
/// The default [`S3Builder::upload_memory`]: 64 MiB.
pub const DEFAULT_UPLOAD_MEMORY: usize = 64 * MIB;
/// The default [`S3Builder::endpoint_down_after`]: 30 s.
pub const DEFAULT_ENDPOINT_DOWN_AFTER: Duration = Duration::from_secs(30);

/// rclone's S3 providers that have nothing of their own here: generic stores, given by
/// their endpoint.
const RCLONE_GENERIC: &[&str] = &[
    "alibaba",
    "arvancloud",
    "bizflycloud",
    "chinamobile",
    "cubbit",
    "dreamhost",
    "exaba",
    "filelu",
    "flashblade",
    "hetzner",
    "huaweiobs",
    "ibmcos",
    "idrive",
    "intercolo",
    "ionos",
    "leviia",
    "liara",
    "linode",
    "lyvecloud",
    "magalu",
    "mega",
    "netease",
    "outscale",
    "ovhcloud",
    "petabox",
    "qiniu",
    "rackcorp",
    "rclone",
    "scaleway",
    "seaweedfs",
    "selectel",
    "servercore",
    "spectralogic",
    "stackpath",
    "storj",
    "synology",
    "tencentcos",
    "zata",
];

/// A well-known S3-compatible service. See the [module docs](super) for what each sets.
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
    /// Any other S3-compatible store (give the endpoint): path style, region `us-east-1`,
    /// `If-None-Match` assumed not honoured. rclone's `Other`, and the default when an
    /// endpoint is given without a provider.
    Other,
}

impl Provider {
    /// Parses a provider name as used in URLs (`aws`, `r2`, `minio`, `b2`, `wasabi`,
    /// `digitalocean`, `gcs`, `garage`, `ceph`, `other`) or in rclone's config (`AWS`,
    /// `Cloudflare`, `Minio`, `Wasabi`, `DigitalOcean`, `GCS`, `Ceph`, `Other`), in any case.
    /// rclone's other providers (`Scaleway`, `IDrive`, `Storj`, ...) are [`Provider::Other`]:
    /// give their endpoint. R2's account id comes separately.
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
            "other" => Provider::Other,
            known if RCLONE_GENERIC.contains(&known) => Provider::Other,
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
            Provider::Minio | Provider::Garage | Provider::Ceph | Provider::Other => None,
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
                | Provider::Other
        )
    }
}

/// Builds an [`S3Backend`]. Every setter documents its default.
#[derive(Clone, Debug)]
pub struct S3Builder {
    bucket: String,
    prefix: String,
    pub(super) provider: Option<Provider>,
    endpoint: Option<String>,
    region: Option<String>,
    path_style: Option<bool>,
    pub(super) creds: CredsConfig,
    pub(super) part_size: usize,
    concurrency: usize,
    upload_memory: usize,
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
    upload_journal: Option<std::path::PathBuf>,
    /// Failover: the endpoints after the first ([`S3Builder::endpoints`]).
    more_endpoints: Vec<String>,
    down_after: Duration,
    /// Set by [`S3Builder::set`]: R2's account id when given apart from the provider.
    pub(super) account_id: Option<String>,
    /// rclone's `env_auth`: `Some(false)` and no keys means anonymous access.
    pub(super) env_auth: Option<bool>,
    /// rclone options [`S3Builder::set`] accepted without using them.
    pub(super) ignored: Vec<String>,
}

impl S3Builder {
    /// A builder for `bucket`.
    pub fn new(bucket: impl Into<String>) -> S3Builder {
        S3Builder {
            bucket: bucket.into(),
            prefix: String::new(),
            provider: None,
            endpoint: None,
            region: None,
            path_style: None,
            creds: CredsConfig::default(),
            part_size: 8 * MIB,
            concurrency: 4,
            upload_memory: DEFAULT_UPLOAD_MEMORY,
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
            upload_journal: None,
            more_endpoints: Vec::new(),
            down_after: DEFAULT_ENDPOINT_DOWN_AFTER,
            account_id: None,
            env_auth: None,
            ignored: Vec::new(),
        }
    }

    /// The service. Default: [`Provider::Aws`] when no endpoint is given; with an endpoint,
    /// a store that is not one of the known providers (path-style addressing, region
    /// `us-east-1`, `CreateNew` checked before the upload), as rclone's `Other`.
    pub fn provider(mut self, provider: Provider) -> S3Builder {
        self.provider = Some(provider);
        self
    }

    /// The endpoint URL (`http://127.0.0.1:3900`). Default: `AWS_ENDPOINT_URL_S3`, then
    /// `AWS_ENDPOINT_URL` (as the AWS SDKs read them; neither when
    /// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`), then the provider's. See also
    /// [`endpoints`](Self::endpoints).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> S3Builder {
        self.endpoint = Some(endpoint.into());
        self.more_endpoints.clear();
        self
    }

    /// Several endpoints of one store (the nodes of a cluster), the first one first: it is
    /// used while it answers; when it cannot be reached (connection refused, no route,
    /// connect timeout; a connection cut mid-request counts when the retry's new one is
    /// refused) requests move to the next one that answers, and the request's own retry
    /// goes on there (resumed reads and multipart parts too: every attempt is signed for the
    /// endpoint it goes to). A failing endpoint is tried again after a while. Replaces what
    /// [`endpoint`](Self::endpoint) set; an empty list sets nothing. The first endpoint is
    /// the store's identity (server-side copies between backends need the same one).
    /// Default: the one endpoint.
    ///
    /// ```
    /// use omnistorage::backends::s3::{Provider, S3Backend};
    ///
    /// let store = S3Backend::builder("bucket")
    ///     .provider(Provider::Garage)
    ///     .endpoints(["http://127.0.0.1:3910", "http://127.0.0.1:3920"])
    ///     .endpoint_down_after(std::time::Duration::from_secs(10))
    ///     .credentials("GK...", "secret")
    ///     .build()?;
    /// # drop(store);
    /// // or: s3://bucket?provider=garage&endpoint=http://127.0.0.1:3910,http://127.0.0.1:3920
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn endpoints<I, S>(mut self, endpoints: I) -> S3Builder
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut all = endpoints.into_iter().map(Into::into);
        if let Some(first) = all.next() {
            self.endpoint = Some(first);
            self.more_endpoints = all.collect();
        }
        self
    }

    /// How long an endpoint may be unreachable (connection refused, no route, connect
    /// timeout) with no answer before it is down. While every endpoint is down, requests fail at once with one
    /// [`ErrorKind::Unavailable`] error naming them and since when (no more retries and
    /// backoff per request), and a request that meets a failing endpoint retries until it
    /// answers or is down: the sync engine then stops the run with that one error. One probe
    /// request at a time finds out when an endpoint is back. A hung endpoint also needs
    /// [`connect_timeout`](Self::connect_timeout) to fail. Default
    /// [`DEFAULT_ENDPOINT_DOWN_AFTER`] (30 s).
    pub fn endpoint_down_after(mut self, after: Duration) -> S3Builder {
        self.down_after = after;
        self
    }

    /// The region. Default: `AWS_REGION`, `AWS_DEFAULT_REGION`, the shared config file, then
    /// the provider's default.
    pub fn region(mut self, region: impl Into<String>) -> S3Builder {
        self.region = Some(region.into());
        self
    }

    /// Path-style (`endpoint/bucket/key`) or virtual-host (`bucket.endpoint/key`) addressing.
    /// Default: path style for an endpoint that is an IP address or `localhost` (they can only
    /// work that way), for a dotted bucket name, and for an endpoint given without a provider
    /// unless its host is a known virtual-host service (`amazonaws.com`, `backblazeb2.com`,
    /// `wasabisys.com`, `digitaloceanspaces.com`), as rclone does; otherwise the provider's.
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
        self.creds.key_id = Some(key_id.into());
        self.creds.secret = Some(Secret(secret.into()));
        self
    }

    /// A session token to go with [`credentials`](S3Builder::credentials). Default: none.
    pub fn session_token(mut self, token: impl Into<String>) -> S3Builder {
        self.creds.token = Some(Secret(token.into()));
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

    /// How many parts go up at once, over all the writers of this backend: the threads of
    /// its part-upload pool. Default 4.
    pub fn concurrency(mut self, n: usize) -> S3Builder {
        self.concurrency = n;
        self
    }

    /// The most memory the part buffers of all this backend's writers hold at once (parts
    /// being filled, waiting, or going up). A writer that needs a part buffer when the budget
    /// is spent waits for one to be freed. Each writer also buffers up to 1 MiB before it
    /// takes its first part from the budget, so that small objects never wait. A budget
    /// smaller than one part still lets one part at a time go up. Default
    /// [`DEFAULT_UPLOAD_MEMORY`] (64 MiB: eight 8 MiB parts).
    pub fn upload_memory(mut self, bytes: usize) -> S3Builder {
        self.upload_memory = bytes;
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

    /// Whether the server honours `If-None-Match: *`, which makes [`WriteMode::CreateNew`](crate::WriteMode::CreateNew)
    /// atomic. Default: the provider's (AWS, R2, MinIO and Ceph do; Garage 2.5 ignores it;
    /// others are assumed not to). Without it, `CreateNew` is a check before the upload, not
    /// atomic, and [`Capabilities::create_new`](crate::Capabilities::create_new) says so.
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

    /// Keep a journal of multipart uploads in `dir` (created when first needed), so that an
    /// upload cut short by a killed process resumes in the next one: a writer whose options
    /// carry a [`resume_id`](crate::WriteOptions::resume_id) records its upload there, and a
    /// later writer of the same object with the same identity sends only the parts that are
    /// not already stored (each stored part's size and MD5 are checked against the new bytes).
    /// The same holds within one process: a writer with an identity that fails (a part
    /// failed after the backend's retries) or ends without `finish` (aborted or dropped: its
    /// source failed) leaves its upload, and the next writer of the same content takes it up
    /// (the sync engine's next attempt at the object does); a cancelled writer aborts its
    /// upload.
    /// [`close`](crate::Backend::close) aborts the uploads of dead writers under the
    /// backend's root that no writer took up, and removes their entries. Processes may share
    /// the directory (entries are locked while their writer lives). Default: none, and
    /// uploads are never resumed; the `omnistorage` tool keeps one under its cache
    /// directory.
    ///
    /// ```
    /// use omnistorage::backends::s3::S3Backend;
    ///
    /// let store = S3Backend::builder("bucket")
    ///     .endpoint("http://127.0.0.1:3900")
    ///     .credentials("key", "secret")
    ///     .upload_journal(std::env::temp_dir().join("uploads"))
    ///     .build()?;
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn upload_journal(mut self, dir: impl Into<std::path::PathBuf>) -> S3Builder {
        self.upload_journal = Some(dir.into());
        self
    }

    /// Checks the configuration, resolves credentials and the region, and makes the backend.
    /// Nothing is sent to the server.
    pub fn build(mut self) -> Result<S3Backend> {
        let bad = |msg: String| Error::new(ErrorKind::InvalidConfig, msg).with_backend(NAME);
        // rclone: with `env_auth = false` and no keys, access is anonymous.
        if self.env_auth == Some(false)
            && self.creds.key_id.is_none()
            && self.creds.secret.is_none()
        {
            self.creds.anonymous = true;
        }
        if let Some(Provider::CloudflareR2 { account_id }) = &self.provider
            && account_id.is_empty()
            && self.endpoint.is_none()
        {
            return Err(bad("provider r2 needs account_id, or the endpoint".into()));
        }
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
        if self.endpoint.is_none() {
            self.endpoint = creds::env_endpoint(&env);
        }
        // Without a provider: AWS unless an endpoint says otherwise (then a generic store).
        let provider = match (&self.provider, &self.endpoint) {
            (Some(p), _) => p.clone(),
            (None, None) => Provider::Aws,
            (None, Some(_)) => Provider::Other,
        };
        let region = self
            .region
            .clone()
            .or_else(|| creds::env_region(&self.creds, &env))
            .unwrap_or_else(|| provider.default_region().to_owned());
        let endpoint = match (&self.endpoint, provider.endpoint(&region)) {
            (Some(e), _) => e.trim_end_matches('/').to_owned(),
            (None, Some(e)) => e,
            (None, None) => {
                return Err(bad(format!("provider {:?} needs an endpoint", provider)));
            }
        };
        let mut endpoints = vec![endpoint.clone()];
        endpoints.extend(
            self.more_endpoints
                .iter()
                .map(|e| e.trim_end_matches('/').to_owned()),
        );
        for e in &endpoints {
            if !(e.starts_with("http://") || e.starts_with("https://")) {
                return Err(bad(format!(
                    "endpoint {e:?} must start with http:// or https://"
                )));
            }
        }
        let path_style = self.path_style.unwrap_or_else(|| {
            let host = endpoint_host(&endpoint);
            let needs_path = is_ip_or_localhost(host) || self.bucket.contains('.');
            let by_provider = match &self.provider {
                Some(p) => p.path_style(),
                None => !known_virtual_host(host),
            };
            needs_path || by_provider
        });
        let ca_bundle = match self.ca_bundle {
            Some(pem) => Some(pem),
            None if self.ca_bundle_from_env
                && endpoints.iter().any(|e| e.starts_with("https://")) =>
            {
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
            endpoints,
            down_after: self.down_after,
            path_style,
            bucket: self.bucket.clone(),
            region,
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
            retry: Retry::new(self.retries, self.retry_base),
            ca_bundle,
            insecure: self.insecure,
            max_connections: self.concurrency * 2 + 4,
        };
        let client = Arc::new(Client::new(cfg, creds)?);
        let pool = PartPool::new(self.concurrency, self.upload_memory);
        Ok(S3Backend {
            inner: Arc::new(Inner {
                client,
                prefix,
                part_size: self.part_size,
                pool,
                mtime: if self.server_modtime {
                    MtimeSource::Server
                } else if self.read_mtime {
                    MtimeSource::Stored
                } else {
                    MtimeSource::None
                },
                conditional_writes: self
                    .conditional_writes
                    .unwrap_or_else(|| provider.conditional_writes()),
                copy_cutoff: self.copy_cutoff,
                closed: Arc::new(std::sync::atomic::AtomicBool::new(false)),
                journal: self
                    .upload_journal
                    .map(|dir| Arc::new(super::journal::Journal::new(dir))),
            }),
        })
    }
}

/// The host of an `http(s)://host[:port][/...]` endpoint (IPv6 without its brackets).
fn endpoint_host(endpoint: &str) -> &str {
    let rest = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))
        .unwrap_or(endpoint);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    authority.split(':').next().unwrap_or(authority)
}

/// Hosts that can only be addressed path-style.
fn is_ip_or_localhost(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host.parse::<IpAddr>().is_ok() || host == "localhost" || host.ends_with(".localhost")
}

/// Services that address buckets as virtual hosts by default (rclone's list, in short).
fn known_virtual_host(host: &str) -> bool {
    const DOMAINS: [&str; 5] = [
        "amazonaws.com",
        "backblazeb2.com",
        "wasabisys.com",
        "digitaloceanspaces.com",
        "aliyuncs.com",
    ];
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    DOMAINS
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

fn valid_bucket(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'_')
        })
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addressing_defaults_like_rclone() {
        let style = |b: S3Builder| {
            b.credentials("k", "s")
                .build()
                .map(|s| s.inner.client.cfg.path_style)
                .unwrap()
        };
        let b = || S3Builder::new("bucket");
        assert!(!style(b()), "AWS by default: virtual host");
        assert!(style(b().endpoint("http://127.0.0.1:3900")), "an IP");
        assert!(style(b().endpoint("http://[::1]:3900")), "an IPv6 address");
        assert!(style(b().endpoint("http://localhost:9000")), "localhost");
        assert!(
            style(b().endpoint("https://s3.example.net")),
            "unknown: path"
        );
        assert!(!style(b().endpoint("https://s3.eu-west-1.amazonaws.com")));
        assert!(style(
            b().provider(Provider::Aws).endpoint("http://127.0.0.1:1")
        ));
        assert!(
            style(S3Builder::new("a.b").provider(Provider::Aws)),
            "dotted bucket"
        );
        assert_eq!(endpoint_host("http://u@h:1/x"), "h");
    }
}
