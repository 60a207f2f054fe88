//! The one route an object takes from one backend to another, as rclone's `operations.Copy`:
//! [`copy_object`]. [`copy_path`], [`copy_entry`], [`move_path`],
//! [`BackendExt::copy_to`](crate::BackendExt::copy_to), the CLI's `copyto`/`moveto` and the
//! sync engine's transfers all go through it, so its checks hold everywhere:
//!
//! - a source that yields more or fewer bytes than it was listed with changed while it was
//!   read: [`ErrorKind::PreconditionFailed`] (temporary: a retry reads it again), and nothing
//!   is committed;
//! - bytes whose hash (of a kind asked for in [`CopyOptions::hashes`]) differs from the one
//!   the source was listed with: the same;
//! - the destination is written through a [`Writer`](crate::Writer): it appears whole or
//!   not at all.

use std::fmt;
use std::io::{self, Read};

use crate::backend::Backend;
use crate::cancel::{self, Cancel};
use crate::entry::{Entry, Fields};
use crate::error::{Error, ErrorKind, Result};
use crate::hash::{Hash, HashKind, HashKinds, HashingReader};
use crate::helpers::{COPY_BUFFER, copy_with_buffer, lookup};
use crate::options::{ReadOptions, WriteOptions};
use crate::path::Path;

/// A bandwidth limit, as [`copy_object`] sees it: a wrapper around the source's reader whose
/// bytes then pass no faster than it allows. The sync engine's [`BwLimit`] is one (feature
/// `sync`).
///
/// ```
/// use omnistorage::{copy_object, BackendExt, Cancel, CopyOptions, MemoryBackend, Path, Throttle};
/// use std::io::Read;
///
/// /// Hands out at most 3 bytes per read (a real limit also waits).
/// struct Small;
/// impl Throttle for Small {
///     fn limit<'r>(&self, inner: Box<dyn Read + 'r>, _: Option<&Cancel>) -> Box<dyn Read + 'r> {
///         struct Three<R>(R);
///         impl<R: Read> Read for Three<R> {
///             fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
///                 let n = buf.len().min(3);
///                 self.0.read(&mut buf[..n])
///             }
///         }
///         Box::new(Three(inner))
///     }
/// }
///
/// let (a, b) = (MemoryBackend::new(), MemoryBackend::new());
/// a.write_all("x", b"limited")?;
/// let reads = std::sync::atomic::AtomicU64::new(0);
/// let count = |_n: u64| {
///     reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
/// };
/// let opts = CopyOptions::new().throttle(&Small).progress(&count);
/// copy_object(&a, &Path::parse("x")?, &b, &Path::parse("x")?, None, &opts)?;
/// assert_eq!(b.read_to_vec("x")?, b"limited");
/// assert_eq!(reads.into_inner(), 3); // 3 + 3 + 1 bytes
/// # Ok::<(), omnistorage::Error>(())
/// ```
#[cfg_attr(feature = "sync", doc = "\n[`BwLimit`]: crate::sync::bwlimit::BwLimit")]
#[cfg_attr(not(feature = "sync"), doc = "\n[`BwLimit`]: crate#crate-features")]
pub trait Throttle: Send + Sync {
    /// Wraps `inner` so that its bytes pass at the allowed rate. A wait that `cancel` stops
    /// should fail the read with an error that converts back ([`Error::from`]) to
    /// [`ErrorKind::Cancelled`].
    fn limit<'r>(&self, inner: Box<dyn Read + 'r>, cancel: Option<&Cancel>) -> Box<dyn Read + 'r>;
}

/// How [`copy_object`] copies. The default: server-side where the store can, the source's
/// modification time, content type and user metadata kept, no hashes taken, no limit, no
/// progress, no cancel.
///
/// ```
/// use omnistorage::{CopyOptions, HashKind, HashKinds};
///
/// let opts = CopyOptions::new()
///     .hashes(HashKinds::NONE.with(HashKind::Md5))
///     .metadata(false);
/// assert!(opts.server_side);
/// assert!(!opts.metadata);
/// ```
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct CopyOptions<'a> {
    /// Copy (or move) inside the store when both sides are on the [same
    /// store](crate::Location::same_store) and it can, instead of streaming. A store that
    /// answers [`ErrorKind::Unsupported`] is streamed to. Default `true`.
    pub server_side: bool,
    /// Move rather than copy, where the store renames server-side
    /// ([`Capabilities::server_side_move`](crate::Capabilities)); [`Copied::route`] says
    /// whether it did. Any other route copies and leaves the source for the caller to delete.
    /// Default `false`.
    pub rename: bool,
    /// Keep the source's user metadata (its modification time and content type are always
    /// kept where the destination stores them). Default `true`.
    pub metadata: bool,
    /// Hash the bytes on their way ([`Copied::hashes`]). A kind the source was listed with is
    /// also checked against that listing before the commit. Default: none. A kind this build
    /// cannot compute is [`ErrorKind::Unsupported`].
    pub hashes: HashKinds,
    /// The bandwidth limit the bytes pass through. Default: none.
    pub throttle: Option<&'a dyn Throttle>,
    /// Called with the count of each run of bytes that passed, never with 0 (a server-side
    /// copy counts the object's size once, when done). Default: none.
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
    /// Stops the copy ([`ErrorKind::Cancelled`]) between buffers; the destination is then
    /// aborted, never committed. Default: none.
    pub cancel: Option<&'a Cancel>,
}

impl Default for CopyOptions<'_> {
    fn default() -> Self {
        CopyOptions {
            server_side: true,
            rename: false,
            metadata: true,
            hashes: HashKinds::NONE,
            throttle: None,
            progress: None,
            cancel: None,
        }
    }
}

impl<'a> CopyOptions<'a> {
    /// The defaults (see [`CopyOptions`]).
    pub fn new() -> CopyOptions<'a> {
        CopyOptions::default()
    }

    /// Sets [`server_side`](CopyOptions::server_side).
    pub fn server_side(mut self, on: bool) -> CopyOptions<'a> {
        self.server_side = on;
        self
    }

    /// Sets [`rename`](CopyOptions::rename).
    pub fn rename(mut self, on: bool) -> CopyOptions<'a> {
        self.rename = on;
        self
    }

    /// Sets [`metadata`](CopyOptions::metadata).
    pub fn metadata(mut self, on: bool) -> CopyOptions<'a> {
        self.metadata = on;
        self
    }

    /// Sets [`hashes`](CopyOptions::hashes).
    pub fn hashes(mut self, kinds: HashKinds) -> CopyOptions<'a> {
        self.hashes = kinds;
        self
    }

    /// Sets [`throttle`](CopyOptions::throttle).
    pub fn throttle(mut self, throttle: &'a dyn Throttle) -> CopyOptions<'a> {
        self.throttle = Some(throttle);
        self
    }

    /// Sets [`progress`](CopyOptions::progress).
    pub fn progress(mut self, progress: &'a (dyn Fn(u64) + Sync)) -> CopyOptions<'a> {
        self.progress = Some(progress);
        self
    }

    /// Sets [`cancel`](CopyOptions::cancel).
    pub fn cancel(mut self, cancel: &'a Cancel) -> CopyOptions<'a> {
        self.cancel = Some(cancel);
        self
    }
}

impl fmt::Debug for CopyOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CopyOptions")
            .field("server_side", &self.server_side)
            .field("rename", &self.rename)
            .field("metadata", &self.metadata)
            .field("hashes", &self.hashes)
            .field("throttle", &self.throttle.is_some())
            .field("progress", &self.progress.is_some())
            .field("cancel", &self.cancel)
            .finish()
    }
}

/// Which way the bytes went in a [`copy_object`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CopyRoute {
    /// Source and destination are the same object: nothing was done.
    Itself,
    /// Copied inside the store.
    ServerCopy,
    /// Moved inside the store: the source is gone.
    ServerMove,
    /// Copied by the kernel, local file to local file (`Writer::copy_from_file`).
    Kernel,
    /// Streamed through this process.
    Streamed,
}

/// What a [`copy_object`] did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Copied {
    /// The destination's new entry.
    pub entry: Entry,
    /// Which way the bytes went.
    pub route: CopyRoute,
    /// The hashes of the bytes that passed, of the kinds asked for in
    /// [`CopyOptions::hashes`] (empty unless the bytes were streamed).
    pub hashes: Vec<Hash>,
}

impl Copied {
    /// The hash of kind `kind` of the bytes that passed, if it was taken.
    pub fn hash(&self, kind: HashKind) -> Option<Hash> {
        self.hashes.iter().find(|h| h.kind() == kind).cloned()
    }

    /// Whether the source is gone (moved server-side).
    pub fn moved(&self) -> bool {
        self.route == CopyRoute::ServerMove
    }
}

/// Copies the object at `from` on `src` to `to` on `dst`: the one route every copy takes.
///
/// `listed` is the source as its listing described it (its `path` is not used: `from` is
/// the object), or `None` to look it up when needed. The bytes read are checked against its
/// size (and, for the kinds hashed on the way, its hashes).
///
/// Behaviour:
/// - the same object on both sides (the same backend, or equal
///   [locations](Backend::location), and `from == to`): nothing is done ([`CopyRoute::Itself`]);
/// - with [`CopyOptions::server_side`], within one store that copies (or, with
///   [`rename`](CopyOptions::rename), moves) server-side, it does; an
///   [`ErrorKind::Unsupported`] answer falls back to streaming;
/// - otherwise the bytes stream from a reader into a [`Writer`](crate::Writer), through the
///   [throttle](CopyOptions::throttle), the [progress](CopyOptions::progress) count and the
///   [hashers](CopyOptions::hashes), keeping the modification time, content type and (with
///   [`metadata`](CopyOptions::metadata)) user metadata, and carrying a
///   [resume identity](crate::WriteOptions::resume_id) (the source's store, key, size, time
///   and ETag) so a writer that can resume an upload a killed process left does; local file
///   to local file with nothing to see the bytes, the kernel copies them;
/// - a source that yields another number of bytes than listed, or bytes whose hash differs
///   from a listed one, is [`ErrorKind::PreconditionFailed`] (temporary) and nothing is
///   committed;
/// - a missing source is [`ErrorKind::NotFound`] and creates nothing.
///
/// ```
/// use omnistorage::{copy_object, BackendExt, CopyOptions, HashKind, HashKinds, MemoryBackend, Path, CopyRoute};
///
/// let (a, b) = (MemoryBackend::new(), MemoryBackend::new());
/// a.write_all("x", b"data")?;
/// let opts = CopyOptions::new().hashes(HashKinds::NONE.with(HashKind::Crc32c));
/// let done = copy_object(&a, &Path::parse("x")?, &b, &Path::parse("y")?, None, &opts)?;
/// assert_eq!(done.route, CopyRoute::Streamed);
/// assert_eq!(done.entry.size, 4);
/// assert!(done.hash(HashKind::Crc32c).is_some());
/// assert_eq!(b.read_to_vec("y")?, b"data");
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub fn copy_object<S: Backend + ?Sized, D: Backend + ?Sized>(
    src: &S,
    from: &Path,
    dst: &D,
    to: &Path,
    listed: Option<&Entry>,
    opts: &CopyOptions<'_>,
) -> Result<Copied> {
    cancel::check(opts.cancel)?;
    let copied = |entry, route| Copied {
        entry,
        route,
        hashes: Vec::new(),
    };
    if same_backend(src, dst) && from == to {
        let entry = match listed {
            Some(e) => Entry {
                path: from.clone(),
                ..e.clone()
            },
            None => lookup(src, from)?.ok_or_else(|| not_found(from))?,
        };
        return Ok(copied(entry, CopyRoute::Itself));
    }
    if opts.server_side
        && let Some((entry, route)) = server_side(src, from, dst, to, opts.rename)?
    {
        if let Some(progress) = opts.progress
            && entry.size > 0
        {
            // The bytes moved inside the store; they count as transferred.
            progress(entry.size);
        }
        return Ok(copied(entry, route));
    }
    let source = match listed {
        Some(e) => Entry {
            path: from.clone(),
            ..e.clone()
        },
        None => lookup(src, from)?.ok_or_else(|| not_found(from))?,
    };
    stream(src, &source, dst, to, opts)
}

/// Moves the object at `from` on `src` to `to` on `dst`: [`copy_object`] with
/// [`rename`](CopyOptions::rename) on, then, unless the store moved it or it is the same
/// object, the source is deleted **only after** the copy is committed (a failed copy leaves
/// it untouched).
///
/// ```
/// use omnistorage::{move_object, BackendExt, CopyOptions, MemoryBackend, Path};
///
/// let (a, b) = (MemoryBackend::new(), MemoryBackend::new());
/// a.write_all("x", b"data")?;
/// move_object(&a, &Path::parse("x")?, &b, &Path::parse("y")?, None, &CopyOptions::new())?;
/// assert!(!a.contains("x")?);
/// assert_eq!(b.read_to_vec("y")?, b"data");
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub fn move_object<S: Backend + ?Sized, D: Backend + ?Sized>(
    src: &S,
    from: &Path,
    dst: &D,
    to: &Path,
    listed: Option<&Entry>,
    opts: &CopyOptions<'_>,
) -> Result<Copied> {
    let done = copy_object(src, from, dst, to, listed, &opts.rename(true))?;
    if done.route != CopyRoute::Itself && !done.moved() {
        src.delete(from)?;
    }
    Ok(done)
}

/// Whether `a` and `b` are known to reach the same objects under the same paths: the same
/// backend value, or backends with equal [`location`](Backend::location)s.
pub(crate) fn same_backend<A: Backend + ?Sized, B: Backend + ?Sized>(a: &A, b: &B) -> bool {
    if std::ptr::addr_eq(a as *const A, b as *const B) {
        return true;
    }
    matches!((a.location(), b.location()), (Some(x), Some(y)) if x == y)
}

fn not_found(path: &Path) -> Error {
    Error::new(ErrorKind::NotFound, "no such object")
        .with_operation("copy")
        .with_path(path.as_str())
}

/// The copy or move inside the store, if `dst` can do it from `src`: `None` to stream.
fn server_side<S: Backend + ?Sized, D: Backend + ?Sized>(
    src: &S,
    from: &Path,
    dst: &D,
    to: &Path,
    rename: bool,
) -> Result<Option<(Entry, CopyRoute)>> {
    let caps = dst.capabilities();
    let route = if rename && caps.server_side_move {
        CopyRoute::ServerMove
    } else if caps.server_side_copy {
        CopyRoute::ServerCopy
    } else {
        return Ok(None);
    };
    let moving = route == CopyRoute::ServerMove;
    let r = if same_backend(src, dst) {
        if moving {
            dst.rename(from, to)
        } else {
            dst.copy(from, to)
        }
    } else {
        let (Some(src_loc), Some(dst_loc)) = (src.location(), dst.location()) else {
            return Ok(None);
        };
        if !src_loc.same_store(&dst_loc) {
            return Ok(None);
        }
        if moving {
            dst.rename_from(&src_loc, from, to)
        } else {
            dst.copy_from(&src_loc, from, to)
        }
    };
    match r {
        Ok(entry) => Ok(Some((entry, route))),
        Err(e) if e.kind() == ErrorKind::Unsupported => Ok(None),
        Err(e) => Err(e),
    }
}

/// The bytes through this process (or the kernel), checked against `source` before the
/// commit.
fn stream<S: Backend + ?Sized, D: Backend + ?Sized>(
    src: &S,
    source: &Entry,
    dst: &D,
    to: &Path,
    opts: &CopyOptions<'_>,
) -> Result<Copied> {
    let source = complete_for(src, source, dst)?;
    let source = source.as_ref();
    let from = &source.path;
    let mut read_opts = ReadOptions::new();
    read_opts.cancel = opts.cancel.cloned();
    let mut reader = src.reader(from, &read_opts)?;
    let mut wopts = WriteOptions::new().size_hint(source.size);
    wopts.modified = source.modified;
    wopts.content_type = source.content_type.clone();
    if opts.metadata {
        wopts.metadata = source.metadata.clone();
    }
    wopts.hashes = source.hashes.clone();
    wopts.resume_id = resume_identity(src, from, source);
    wopts.cancel = opts.cancel.cloned();
    let mut writer = dst.writer(to, &wopts)?;
    let count = |n: u64| {
        if let Some(progress) = opts.progress {
            progress(n);
        }
    };
    // Local file to local file, with nothing to see the bytes on their way: the kernel
    // copies.
    let fast = match (opts.throttle, opts.hashes.is_empty()) {
        (None, true) => writer.copy_from_file(&mut reader, opts.cancel),
        _ => None,
    };
    let mut hashes = Vec::new();
    let (read, route) = match fast {
        Some(n) => (n.inspect(|&n| count(n))?, CopyRoute::Kernel),
        None => {
            // One byte past the listed size is enough to know the source grew; a source
            // that keeps growing is not read to its end.
            let bounded: Box<dyn Read + '_> =
                Box::new((&mut reader).take(source.size.saturating_add(1)));
            let limited = match opts.throttle {
                Some(t) => t.limit(bounded, opts.cancel),
                None => bounded,
            };
            let mut counted = Counting {
                inner: limited,
                count: &count,
            };
            // A buffer no larger than the object: zeroing 256 KiB for a 1 KiB file
            // dominates small copies.
            let size = usize::try_from(source.size.saturating_add(1))
                .unwrap_or(COPY_BUFFER)
                .clamp(8 * 1024, COPY_BUFFER);
            let n = if opts.hashes.is_empty() {
                copy_with_buffer(&mut counted, &mut writer, size, opts.cancel)?
            } else {
                let mut hashing = HashingReader::new(counted, opts.hashes)?;
                let n = copy_with_buffer(&mut hashing, &mut writer, size, opts.cancel)?;
                hashes = hashing.hashes();
                n
            };
            (n, CopyRoute::Streamed)
        }
    };
    let grew = grew_since_open(&mut reader).map_err(Error::from)?;
    let changed = |what: String| {
        Err(Error::new(
            ErrorKind::PreconditionFailed,
            format!("the source changed during the copy: {what}"),
        )
        .with_operation("copy")
        .with_path(from.as_str())
        .with_temporary(true))
    };
    if read != source.size || grew {
        let more = if grew { " and more" } else { "" };
        // Dropping the writer aborts it: nothing is committed.
        return changed(format!("listed {} bytes, read {read}{more}", source.size));
    }
    for got in &hashes {
        if let Some(want) = source.hash(got.kind())
            && want != *got
        {
            return changed(format!(
                "listed with {} {}, the bytes read hash to {}",
                got.kind(),
                want.to_hex(),
                got.to_hex()
            ));
        }
    }
    Ok(Copied {
        entry: writer.finish()?,
        route,
        hashes,
    })
}

/// Whether a local file read through [`Reader::from_file`](crate::Reader::from_file), read
/// to the length it had when opened, has more bytes now.
fn grew_since_open(reader: &mut crate::Reader) -> io::Result<bool> {
    let Some(file) = reader.file_mut() else {
        return Ok(false);
    };
    if file.limit() > 0 {
        return Ok(false);
    }
    let mut byte = [0u8; 1];
    loop {
        match file.get_mut().read(&mut byte) {
            Ok(n) => return Ok(n > 0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// A reader that reports how many bytes passed.
struct Counting<'a, R> {
    inner: R,
    count: &'a dyn Fn(u64),
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            (self.count)(u64::try_from(n).unwrap_or(u64::MAX));
        }
        Ok(n)
    }
}

/// `source`, with what `dst` would keep but `source` lacks asked of `src` once.
fn complete_for<'a, S: Backend + ?Sized, D: Backend + ?Sized>(
    src: &S,
    source: &'a Entry,
    dst: &D,
) -> Result<std::borrow::Cow<'a, Entry>> {
    let dst_caps = dst.capabilities();
    let mut wanted = Fields::NONE;
    if dst_caps.modified_time.is_some() {
        wanted |= Fields::MODIFIED;
    }
    if dst_caps.metadata {
        wanted |= Fields::CONTENT_TYPE | Fields::METADATA;
    }
    let src_caps = src.capabilities();
    let mut stored = Fields::NONE;
    if src_caps.modified_time.is_some() {
        stored |= Fields::MODIFIED;
    }
    if src_caps.metadata {
        stored |= Fields::CONTENT_TYPE | Fields::METADATA;
    }
    let missing = wanted.intersection(stored).difference(source.filled);
    if missing.is_empty() || !src_caps.stat {
        return Ok(std::borrow::Cow::Borrowed(source));
    }
    let full = src.stat(&source.path)?;
    Ok(std::borrow::Cow::Owned(full))
}

/// What the source object is, for a destination that can resume an upload a killed process
/// left ([`WriteOptions::resume_id`]): the source's store, key, size, modification time and
/// ETag. The destination still checks every stored part against the bytes. `None` for a
/// source without a location.
fn resume_identity<S: Backend + ?Sized>(src: &S, from: &Path, entry: &Entry) -> Option<String> {
    let loc = src.location()?;
    let mtime = entry
        .modified
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or_else(|| "-".to_owned(), |d| d.as_nanos().to_string());
    Some(format!(
        "{}://{}/{} size={} mtime={mtime} etag={}",
        loc.scheme(),
        loc.store(),
        loc.key(from),
        entry.size,
        entry.etag.as_deref().unwrap_or("-"),
    ))
}
