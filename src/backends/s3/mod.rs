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
//!   `Content-MD5`) go up in parallel on the backend's part-upload pool: one pool per backend,
//!   [`S3Builder::concurrency`] threads shared by all its writers, and one memory budget for
//!   all their part buffers ([`S3Builder::upload_memory`], 64 MiB by default; see
//!   [`S3Backend::upload_memory_peak`]). `finish` completes the upload; `abort`, an error, a
//!   cancel, or dropping the writer aborts it, so nothing half-written is visible or left
//!   billable (and [`pending_uploads`](crate::Backend::pending_uploads) finds what a crashed
//!   process left). S3 allows 10,000 parts: with a
//!   [`size_hint`](crate::WriteOptions::size_hint) the part size grows to fit, without one an
//!   object that outgrows 10,000 parts fails with [`ErrorKind::InvalidInput`].
//! - **Resuming** after a kill: with an [upload journal](S3Builder::upload_journal), a writer
//!   given a [`resume_id`](crate::WriteOptions::resume_id) records its upload, and the next
//!   writer of the same content takes up the parts already stored (each checked by size and
//!   MD5); `close` aborts the uploads of dead writers that no one took up. Within a process
//!   too: such a writer that fails or ends without `finish` (unless cancelled) leaves its
//!   upload to the next writer of the same content, so the sync engine's next attempt at an
//!   object sends only the parts not stored. A part cut mid-way is sent again in place.
//! - **Metadata**: content type and user metadata become `Content-Type` and `x-amz-meta-*`;
//!   a modification time is stored as `x-amz-meta-mtime` in seconds with nine decimals, as
//!   rclone does, so buckets written by either read right in the other.
//!   [`set_modified`](crate::Backend::set_modified) copies the object onto itself with the
//!   new time, keeping everything else.
//! - **Hashes**: the MD5 is the only hash S3 keeps. [`Entry::hashes`] holds it when it can be
//!   trusted: the ETag of a single-part object, or rclone's `x-amz-meta-md5chksum` (base64)
//!   of a multipart one. A writer given the whole object's MD5 (in
//!   [`WriteOptions::hashes`](crate::WriteOptions::hashes), as a copy from a store that knows
//!   it gives it, or as `md5chksum` metadata) stores
//!   it so (and fails with [`ErrorKind::Corrupt`], storing nothing, if the content does not
//!   match it); part-by-part copies carry it over. [`Entry::etag`] keeps the raw ETag.
//! - **Listing** streams ListObjectsV2 pages (1,000 keys each) as it goes, by segment, in S3's
//!   (byte) order, from [`ListOptions::start_after`] natively (`start-after`), one level at a
//!   time with `delimiter=/` when not recursive (common prefixes are directories). Entries
//!   carry size, the ETag and, for single-part objects, the MD5; never the content type or
//!   user metadata (ask `stat`).
//!   S3 lists only the upload time (`LastModified`), not the stored modification time, so
//!   `modified` comes from one of three places, one per backend so that `list` and `stat`
//!   always agree: by default entries carry `modified: None` and `stat` reads the stored
//!   time; [`S3Builder::read_mtime`] reads it for each listed entry too (one HEAD each, then
//!   [`Capabilities::modified_time`] is set, and a failed HEAD is an `Err` item);
//!   [`S3Builder::server_modtime`] makes both report the server's `LastModified`, to the
//!   second (rclone's `--use-server-modtime`). [`Capabilities::listed`] says which.
//! - **Directories** are implicit: `create_dir` and `remove_dir` succeed and do nothing.
//! - **Copy** is server-side (CopyObject, or UploadPartCopy above
//!   [`S3Builder::copy_cutoff`], 5 GiB by default), also from another backend on the same
//!   endpoint and bucket with another prefix ([`copy_from`](crate::Backend::copy_from));
//!   **rename** is copy then delete. **Batch deletes** use DeleteObjects, 1,000 keys a request.
//! - **Errors**: the HTTP status and S3's `<Code>` are mapped in one place
//!   (`NoSuchKey`/`NoSuchBucket` → [`ErrorKind::NotFound`], `AccessDenied` →
//!   [`ErrorKind::PermissionDenied`], bad keys or signatures → [`ErrorKind::Unauthenticated`],
//!   `SlowDown`, 5xx, timeouts and broken connections → temporary). Idempotent requests are
//!   retried with exponential backoff and jitter; a [`Cancel`] in the options
//!   ends the waits at once. A transport failure keeps ureq's error as its `source()`.
//! - **A dead endpoint** is bounded: an endpoint that cannot be reached (connection refused,
//!   no route, connect timeout; a connection cut mid-request counts when the retry's new one
//!   is refused) with no answer for
//!   [`S3Builder::endpoint_down_after`] (30 s by default) is down, and while every endpoint
//!   is down requests fail at once with one [`ErrorKind::Unavailable`] error (temporary)
//!   naming the endpoints and since when; the sync engine stops the run with it, once,
//!   instead of recording one error per file as rclone does. One probe request at a time
//!   finds out when an endpoint answers again.
//! - **Several endpoints** of one store ([`S3Builder::endpoints`], or
//!   `endpoint=http://a,http://b` in a URL or a CLI remote's config): the one in use stays
//!   while it answers; when it cannot be reached the request's own retry goes on at the next one
//!   that answers (every attempt is signed for its endpoint, so resumed reads and multipart
//!   parts cross over too), and a failing one is tried again after a while.
//!
//! # Providers
//!
//! [`S3Builder::provider`] sets the endpoint pattern, addressing and default region of a
//! well-known service; anything it sets can be overridden. Without a provider, an endpoint
//! is taken as `Other` (path style, as rclone does) unless its host is a known virtual-host
//! service; an IP address or `localhost` is always addressed path style, so
//! `s3://bucket/x?endpoint=http://127.0.0.1:3900` just works.
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
//! | `Other` (the default with an endpoint) | yours (required) | path | `us-east-1` | assumed not |
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

mod batch;
mod builder;
mod client;
mod copy;
mod creds;
mod endpoints;
mod errors;
#[doc(hidden)]
pub mod fuzzing;
mod journal;
mod list;
mod meta;
mod multipart;
mod op;
mod options;
mod pool;
mod reader;
mod url;
mod writer;
mod xml;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

pub use self::builder::{
    DEFAULT_ENDPOINT_DOWN_AFTER, DEFAULT_UPLOAD_MEMORY, MAX_PART_SIZE, MIN_PART_SIZE, Provider,
    S3Builder,
};
use self::client::{Client, NAME};
pub use self::options::RCLONE_IGNORED;
use self::pool::PartPool;
use crate::backend::{Backend, List, PendingList, PendingUpload, Presign};
use crate::cancel::Cancel;
use crate::entry::{Capabilities, Entry, Fields};
use crate::error::{Error, ErrorKind, Result};
use crate::hash::{Hash, HashKind, HashKinds};
use crate::io::{Reader, Writer};
use crate::location::Location;
use crate::options::{ListOptions, ReadOptions, WriteMode, WriteOptions};
use crate::path::Path;

const MIB: usize = 1024 * 1024;

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

/// A store of objects in an S3 bucket (under an optional key prefix). See the
/// [module docs](self). Cloning is cheap and shares the connection pool and the part-upload
/// pool.
#[derive(Clone)]
pub struct S3Backend {
    inner: Arc<Inner>,
}

struct Inner {
    client: Arc<Client>,
    prefix: Path,
    part_size: usize,
    pool: PartPool,
    mtime: MtimeSource,
    conditional_writes: bool,
    copy_cutoff: u64,
    closed: Arc<AtomicBool>,
    journal: Option<Arc<journal::Journal>>,
}

impl Inner {
    /// The key prefix of the root, with its trailing `/` (empty for the whole bucket).
    fn root_key(&self) -> String {
        if self.prefix.is_root() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        }
    }
}

impl std::fmt::Debug for S3Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Backend")
            .field("client", &self.inner.client)
            .field("prefix", &self.inner.prefix)
            .field("part_size", &self.inner.part_size)
            .field("pool", &self.inner.pool)
            .finish()
    }
}

impl S3Backend {
    /// A builder for `bucket`.
    pub fn builder(bucket: impl Into<String>) -> S3Builder {
        S3Builder::new(bucket)
    }

    /// The most memory the part buffers of this backend's writers have held at once, since
    /// it was built: never more than [`S3Builder::upload_memory`] (or one part, if the budget
    /// is smaller than a part).
    ///
    /// ```
    /// use omnistorage::backends::s3::S3Backend;
    ///
    /// let store = S3Backend::builder("bucket")
    ///     .endpoint("http://127.0.0.1:3900")
    ///     .credentials("key", "secret")
    ///     .upload_memory(32 << 20)
    ///     .build()?;
    /// assert_eq!(store.upload_memory_peak(), 0); // nothing uploaded yet
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn upload_memory_peak(&self) -> usize {
        self.inner.pool.peak()
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
        self.inner.root_key()
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

    fn location_now(&self) -> Location {
        let cfg = &self.client().cfg;
        Location::new(
            NAME,
            format!("{}/{}", cfg.endpoint, cfg.bucket),
            self.inner.prefix.as_str(),
        )
    }

    /// HEAD: `Ok(None)` for a missing object.
    fn head(&self, op: &'static str, path: &Path) -> Result<Option<Entry>> {
        let head = self.head_object(op, &self.key(path), path.as_str())?;
        Ok(head.map(|h| h.entry(path, self.inner.mtime == MtimeSource::Server)))
    }

    fn query(&self, key_prefix: String, opts: &ListOptions) -> list::Query {
        list::Query {
            key_prefix,
            root_len: self.root_key().len(),
            delimiter: !opts.recursive,
            start_after: opts.start_after.as_ref().map(|p| self.key(p)),
            mtime: self.inner.mtime,
            cancel: opts.cancel.clone(),
        }
    }

    /// Whether any object lies under `path/`.
    fn has_children(&self, path: &Path) -> Result<bool> {
        let mut q = self.query(format!("{}/", self.key(path)), &ListOptions::new());
        q.mtime = MtimeSource::None;
        match list::Pager::new(Arc::clone(self.client()), q)
            .limit(1)
            .next()
        {
            Some(Err(e)) => Err(e),
            Some(Ok(_)) => Ok(true),
            None => Ok(false),
        }
    }

    fn part_size_for(&self, opts: &WriteOptions) -> usize {
        let mut part_size = self.inner.part_size;
        if let Some(size) = opts.size_hint {
            let needed = size.div_ceil(multipart::MAX_PARTS).div_ceil(MIB as u64) * MIB as u64;
            part_size = part_size
                .max(usize::try_from(needed).unwrap_or(MAX_PART_SIZE))
                .min(MAX_PART_SIZE);
        }
        part_size
    }
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
            opts.cancel.clone(),
        )?;
        Ok(Reader::new(reader).with_size(size))
    }

    fn writer(&self, path: &Path, opts: &WriteOptions) -> Result<Writer> {
        const OP: &str = "write";
        self.object_path(OP, path)?;
        let ctx = |e: Error| e.context(OP, path.as_str(), NAME);
        let given_md5 = opts
            .metadata
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(meta::MD5CHKSUM))
            .map(|(_, v)| Hash::from_base64(HashKind::Md5, v))
            .transpose()
            .map_err(|e| ctx(e.with_message("md5chksum is not a base64 MD5")))?
            .or_else(|| {
                opts.hashes
                    .iter()
                    .find(|h| h.kind() == HashKind::Md5)
                    .copied()
            });
        let headers = meta::object_headers(opts, given_md5.as_ref()).map_err(ctx)?;
        if opts.mode == WriteMode::CreateNew && self.head(OP, path)?.is_some() {
            return Err(ctx(Error::new(
                ErrorKind::AlreadyExists,
                "the object exists",
            )));
        }
        let target = writer::Target {
            client: Arc::clone(self.client()),
            pool: self.inner.pool.clone(),
            key: self.key(path),
            path: path.clone(),
            opts: opts.clone(),
            headers,
            part_size: self.part_size_for(opts),
            conditional: self.inner.conditional_writes,
            given_md5,
            closed: Arc::clone(&self.inner.closed),
        };
        let w = writer::S3Writer::new(target, self.inner.journal.as_ref());
        Ok(Writer::new(w).with_cancel(opts.cancel.as_ref()))
    }

    fn exists(&self, path: &Path) -> Result<bool> {
        self.check_open("exists")?;
        if path.is_root() {
            return Ok(false);
        }
        Ok(self.head("exists", path)?.is_some())
    }

    fn delete(&self, path: &Path) -> Result<()> {
        self.delete_object(path)
    }

    fn list(&self, prefix: &Path, opts: &ListOptions) -> Result<List> {
        self.check_open("list")?;
        let client = Arc::clone(self.client());
        let start = opts.start_after.clone();
        let keep = move |item: &Result<Entry>| match item {
            Ok(e) => list::after(e, start.as_ref()),
            Err(_) => true,
        };
        let finish = |list: List| -> List {
            match opts.cancel.clone() {
                Some(cancel) => list::cancellable(list, cancel),
                None => list,
            }
        };
        if prefix.is_root() {
            let pager = list::Pager::new(client, self.query(self.root_key(), opts));
            return Ok(finish(Box::new(pager.filter(keep))));
        }
        // The object named by the prefix itself (it sorts before everything under it), then
        // what is under `prefix/`.
        let key = self.key(prefix);
        let wanted = prefix.clone();
        let mut exact_q = self.query(key.clone(), &ListOptions::new());
        exact_q.start_after = None;
        exact_q.cancel = opts.cancel.clone();
        let exact = list::Pager::new(Arc::clone(&client), exact_q)
            .limit(1)
            .filter(move |item| match item {
                Ok(entry) => entry.path == wanted,
                Err(_) => true,
            });
        let below = list::Pager::new(client, self.query(format!("{key}/"), opts));
        Ok(finish(Box::new(exact.chain(below).filter(keep))))
    }

    fn capabilities(&self) -> Capabilities {
        let mtime = self.inner.mtime;
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
            modified_time: (mtime != MtimeSource::Server).then_some(Duration::from_nanos(1)),
            set_modified: mtime != MtimeSource::Server,
            metadata: true,
            hashes: HashKinds::NONE.with(HashKind::Md5),
            server_hashes: HashKinds::NONE,
            listed: match mtime {
                MtimeSource::None => Fields::NONE,
                MtimeSource::Server => Fields::MODIFIED,
                MtimeSource::Stored => Fields::MODIFIED | Fields::HASHES,
            },
            presign: true,
            pending_uploads: true,
            usage: false,
            close: true,
            local: false,
            streams: None,
            version_tags: true,
        }
    }

    /// Also aborts the uploads that dead writers left in the
    /// [upload journal](S3Builder::upload_journal) under this backend's root (as dropping
    /// the last handle without `close` does).
    fn close(&self) -> Result<()> {
        self.inner.closed.store(true, Ordering::Release);
        self.inner.reclaim();
        Ok(())
    }

    fn location(&self) -> Option<Location> {
        Some(self.location_now())
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
        self.object_path("copy", from)?;
        self.copy_key("copy", &self.key(from), from.as_str(), to)
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<Entry> {
        let entry = self.copy(from, to)?;
        if from != to {
            self.delete(from)?;
        }
        Ok(entry)
    }

    fn copy_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        let key = self.source_key("copy_from", src, from)?;
        self.copy_key("copy_from", &key, from.as_str(), to)
    }

    fn rename_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        const OP: &str = "rename_from";
        let key = self.source_key(OP, src, from)?;
        let entry = self.copy_key(OP, &key, from.as_str(), to)?;
        if key != self.key(to) {
            let req = client::Request::new(client::Op::DeleteObject, Some(&key));
            self.client()
                .call(&req)
                .map_err(|e| e.context(OP, from.as_str(), NAME))?;
        }
        Ok(entry)
    }

    fn set_modified(&self, path: &Path, modified: SystemTime) -> Result<Entry> {
        if self.inner.mtime == MtimeSource::Server {
            return Err(Error::unsupported("set_modified").with_backend(NAME));
        }
        self.set_modified_now(path, modified)
    }

    fn hash(&self, path: &Path, kind: HashKind, cancel: Option<&Cancel>) -> Result<Hash> {
        if kind == HashKind::Md5 {
            crate::cancel::check(cancel)?;
            if let Some(md5) = self.stat(path)?.hash(HashKind::Md5) {
                return Ok(md5);
            }
        }
        crate::helpers::hash_object(self, path, kind, cancel)
    }

    fn delete_many(&self, paths: &[Path]) -> Vec<Result<()>> {
        if let Err(e) = self.check_open("delete_many") {
            return paths.iter().map(|_| Err(e.clone())).collect();
        }
        self.delete_many_now(paths)
    }

    fn presign(&self, path: &Path, method: Presign, expires: Duration) -> Result<String> {
        self.presign_now(path, method, expires)
    }

    fn pending_uploads(&self, prefix: &Path) -> Result<PendingList> {
        self.pending_now(prefix)
    }

    fn abort_upload(&self, upload: &PendingUpload) -> Result<()> {
        self.abort_now(upload)
    }
}
