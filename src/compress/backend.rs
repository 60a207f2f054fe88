//! [`CompressBackend`]: a layer that compresses on write and decompresses on read.

use std::fmt;
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Duration;

use super::{Compression, Settings};
use crate::backend::{Backend, List, Presign};
use crate::cancel::Cancel;
use crate::entry::{Capabilities, Entry};
use crate::error::{Error, ErrorKind, Result};
use crate::hash::{Hash, HashKind, HashKinds};
use crate::helpers::{self, lookup};
use crate::io::{Reader, WriteSink, Writer};
use crate::location::Location;
use crate::options::{ListOptions, ReadOptions, WriteOptions};
use crate::path::Path;

const NAME: &str = "compress";

/// Which objects are compressed, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Every object, with one algorithm.
    All(Compression),
    /// By each path's extension: `.gz` gzip, `.zst`/`.zstd` zstd, others as they are.
    ByExtension,
}

/// A [`Backend`] that compresses objects on their way into another backend and decompresses
/// them on their way out, transparently: callers read and write plain bytes.
///
/// Two modes:
///
/// - [`CompressBackend::new`]: **every** object with one algorithm;
/// - [`CompressBackend::by_extension`]: by each path's extension, as
///   [`Compression::from_path`] reads it: `x.gz` is gzip, `x.zst` and `x.zstd` are zstd,
///   anything else is stored as it is (and read, range-read, listed and copied by the inner
///   backend directly).
///
/// Object names are never changed: `a.json` is stored as `a.json` (compressed, in the first
/// mode), `a.json.gz` as `a.json.gz`.
///
/// ```
/// use omnistorage::compress::CompressBackend;
/// use omnistorage::{BackendExt, MemoryBackend};
///
/// let raw = MemoryBackend::new();
/// let store = CompressBackend::by_extension(raw.clone()).gzip_level(9);
/// store.write_all("logs/app.log.gz", "a line\n".repeat(1000))?;
/// store.write_all("logs/notes.txt", b"kept as is")?;
///
/// let listed = store.list_all("logs")?;
/// assert_eq!(listed[0].size, 7000); // uncompressed, in listings too
/// assert!(raw.info("logs/app.log.gz")?.size < 100);
/// assert_eq!(raw.read_to_vec("logs/notes.txt")?, b"kept as is");
/// # Ok::<(), omnistorage::Error>(())
/// ```
///
/// # Sizes
///
/// [`Writer::finish`] returns the uncompressed size it counted, and listings and `stat`
/// report the **uncompressed** size too, never the stored one: the sync engine compares sizes,
/// and a compressed size would differ from the source's every time.
///
/// - The writers end each object with a small **size trailer** that records the uncompressed
///   size and the compressed length it covers (an empty gzip member with an extra field, a zstd
///   skippable frame; see [`gzip`][gzip-trailer] and [`zstd`][zstd-trailer]). Listing or `stat`ing an object reads its last 42
///   (gzip) or 28 (zstd) bytes in one range read of the inner backend: exact for any size.
/// - An object without a trailer that describes all of it (written by another tool, or by
///   concatenating two of ours) is **decompressed to count its bytes**: exact, but a full
///   read. gzip's `ISIZE` is not used: it holds the size modulo 2³² of the last member only,
///   and nothing short of reading the file says whether that is the whole file.
/// - An object that cannot be decoded to the end lists as one `Err` item of kind
///   [`ErrorKind::Corrupt`]; the listing goes on.
///
/// So a listing costs one small read per compressed object on top of the inner listing. Hashes
/// that the inner backend knows are of the compressed bytes: they are dropped from the entries
/// of compressed objects.
///
/// # Reads
///
/// Range reads decompress from the start and skip to the offset:
/// [`Capabilities::range_read`] is `false`. Readers do not know their size in advance
/// ([`Reader::size`] is `None`).
///
/// # Copy and rename
///
/// Server-side [`copy`](Backend::copy) and [`rename`](Backend::rename) are
/// forwarded to the inner backend when the source and the target use the same compression
/// (always, with one algorithm); in extension mode, between `a.gz` and `a.zst` or `a`, they
/// stream the object through this layer (decompress, recompress), keeping its modification
/// time and metadata, and `rename` deletes the source once the copy is committed.
///
/// [`location`](Backend::location) is the inner backend's, marked with the mode
/// (`compress+gzip:…`, `compress+ext:…`), so that copies between this layer and its inner
/// backend are never mistaken for copies within one store.
///
#[cfg_attr(
    feature = "gzip",
    doc = "\n[gzip-trailer]: super::gzip#the-size-trailer"
)]
#[cfg_attr(not(feature = "gzip"), doc = "\n[gzip-trailer]: crate#crate-features")]
#[cfg_attr(
    feature = "zstd",
    doc = "\n[zstd-trailer]: super::zstd#the-size-trailer"
)]
#[cfg_attr(not(feature = "zstd"), doc = "\n[zstd-trailer]: crate#crate-features")]
pub struct CompressBackend<B> {
    inner: Arc<B>,
    mode: Mode,
    settings: Settings,
}

impl<B> Clone for CompressBackend<B> {
    fn clone(&self) -> Self {
        CompressBackend {
            inner: Arc::clone(&self.inner),
            mode: self.mode,
            settings: self.settings,
        }
    }
}

impl<B: Backend + 'static> CompressBackend<B> {
    /// Compresses every object with `compression` (at its default level; see
    /// [`gzip_level`](CompressBackend::gzip_level) and
    /// [`zstd_level`](CompressBackend::zstd_level)). [`Compression::None`] passes everything
    /// through.
    pub fn new(inner: B, compression: Compression) -> CompressBackend<B> {
        CompressBackend::with_mode(inner, Mode::All(compression))
    }

    /// Compresses each object as its path's extension says (`.gz`, `.zst`, `.zstd`), and
    /// stores the others as they are.
    pub fn by_extension(inner: B) -> CompressBackend<B> {
        CompressBackend::with_mode(inner, Mode::ByExtension)
    }

    fn with_mode(inner: B, mode: Mode) -> CompressBackend<B> {
        CompressBackend {
            inner: Arc::new(inner),
            mode,
            settings: Settings::default(),
        }
    }

    /// The gzip level for new objects, 0–9. Default 6. Out of range, writers fail with
    /// [`ErrorKind::InvalidInput`].
    pub fn gzip_level(mut self, level: u32) -> CompressBackend<B> {
        self.settings.gzip_level = level;
        self
    }

    /// The zstd level for new objects (1–22, negative for faster). Default 3. Out of range,
    /// writers fail with [`ErrorKind::InvalidInput`].
    pub fn zstd_level(mut self, level: i32) -> CompressBackend<B> {
        self.settings.zstd_level = level;
        self
    }

    /// zstd worker threads per writer (see [`zstd::Options::workers`]).
    /// Default 0: compress on the writing thread.
    ///
    #[cfg_attr(
        feature = "zstd",
        doc = "\n[`zstd::Options::workers`]: super::zstd::Options::workers"
    )]
    #[cfg_attr(
        not(feature = "zstd"),
        doc = "\n[`zstd::Options::workers`]: crate#crate-features"
    )]
    pub fn zstd_workers(mut self, workers: u32) -> CompressBackend<B> {
        self.settings.zstd_workers = workers;
        self
    }

    /// The backend underneath.
    pub fn inner(&self) -> &B {
        &self.inner
    }

    /// The compression used for `path`.
    pub fn compression_for(&self, path: &Path) -> Compression {
        match self.mode {
            Mode::All(c) => c,
            Mode::ByExtension => Compression::from_path(path),
        }
    }

    /// Rewrites an inner entry (from `list` or `stat`) as this layer sees it.
    fn entry(&self, mut entry: Entry) -> Result<Entry> {
        let compression = self.compression_for(&entry.path);
        if entry.is_dir || compression == Compression::None {
            return Ok(entry);
        }
        entry.size = self.uncompressed_size(&entry.path, entry.size, compression)?;
        entry.hashes.clear();
        Ok(entry)
    }

    /// The uncompressed size of the object at `path`, stored in `stored` bytes: from its size
    /// trailer, or by decompressing it.
    fn uncompressed_size(&self, path: &Path, stored: u64, compression: Compression) -> Result<u64> {
        if let Some((len, parse)) = compression.trailer()
            && stored >= len as u64
        {
            let opts = ReadOptions::new().range(stored - len as u64..stored);
            let tail = helpers::read_to_vec(&*self.inner, path, &opts)?;
            if let Some(size) = super::stream::SizeTrailer::size_of(parse, &tail, stored) {
                return Ok(size);
            }
        }
        let mut reader = compression.reader(self.inner().reader(path, &ReadOptions::new())?)?;
        io::copy(&mut reader, &mut io::sink())
            .map_err(|e| Error::from(e).context("stat", path.as_str(), NAME))
    }

    fn stream_copy(&self, from: &Path, to: &Path) -> Result<Entry> {
        let source = lookup(self, from)?.ok_or_else(|| {
            Error::new(ErrorKind::NotFound, "no such object").context("copy", from.as_str(), NAME)
        })?;
        helpers::copy_entry(self, &source, self, to, None)
    }
}

impl<B: fmt::Debug> fmt::Debug for CompressBackend<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompressBackend")
            .field("inner", &self.inner)
            .field("mode", &self.mode)
            .field("settings", &self.settings)
            .finish()
    }
}

/// Reads, writes, listings and entries go through the compression; the rest (exists, delete,
/// directories, pending uploads, close) is the inner backend's.
impl<B: Backend + 'static> crate::Wrap for CompressBackend<B> {
    type Inner = B;

    fn inner(&self) -> &B {
        &self.inner
    }

    fn reader(&self, path: &Path, opts: &ReadOptions) -> Result<Reader> {
        let compression = self.compression_for(path);
        if compression == Compression::None {
            return self.inner().reader(path, opts);
        }
        let raw = self.inner().reader(path, &ReadOptions::new())?;
        let decoded = compression.reader(raw)?;
        Ok(Reader::new(Window {
            inner: decoded,
            skip: opts.offset,
            left: opts.length,
            path: path.clone(),
        }))
    }

    fn writer(&self, path: &Path, opts: &WriteOptions) -> Result<Writer> {
        let compression = self.compression_for(path);
        if compression == Compression::None {
            return self.inner().writer(path, opts);
        }
        // The size hint is of the uncompressed bytes: checked here, not by the inner writer.
        let mut inner_opts = opts.clone();
        inner_opts.size_hint = None;
        let raw = self.inner().writer(path, &inner_opts)?;
        let compressed = compression
            .writer_with(raw, &self.settings)
            .map_err(|e| e.context("write", path.as_str(), NAME))?;
        Ok(Writer::new(Counted {
            inner: compressed,
            written: 0,
            opts: opts.clone(),
            path: path.clone(),
        })
        .with_cancel(opts.cancel.as_ref()))
    }

    fn list(&self, prefix: &Path, opts: &ListOptions) -> Result<List> {
        let inner = self.inner().list(prefix, opts)?;
        let this = self.clone();
        Ok(Box::new(
            inner.map(move |item| item.and_then(|e| this.entry(e))),
        ))
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = self.inner().capabilities();
        if self.mode != Mode::All(Compression::None) {
            caps.range_read = false;
            caps.hashes = HashKinds::NONE;
            // A presigned URL would hand out the compressed bytes.
            caps.presign = false;
        }
        caps
    }

    fn location(&self) -> Option<Location> {
        let mode = match self.mode {
            Mode::All(c) => c.name(),
            Mode::ByExtension => "ext",
        };
        self.inner().location().map(|inner| {
            Location::new(
                format!("compress+{mode}:{}", inner.scheme()),
                inner.store(),
                inner.root(),
            )
        })
    }

    fn stat(&self, path: &Path) -> Result<Entry> {
        let entry = self.inner().stat(path)?;
        self.entry(entry)
    }

    fn copy(&self, from: &Path, to: &Path) -> Result<Entry> {
        if self.compression_for(from) == self.compression_for(to)
            || !self.inner().capabilities().server_side_copy
        {
            let entry = self.inner().copy(from, to)?;
            return self.entry(entry);
        }
        self.stream_copy(from, to)
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<Entry> {
        if self.compression_for(from) == self.compression_for(to)
            || !self.inner().capabilities().server_side_move
        {
            let entry = self.inner().rename(from, to)?;
            return self.entry(entry);
        }
        let entry = self.stream_copy(from, to)?;
        self.inner().delete(from)?;
        Ok(entry)
    }

    fn copy_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        // Only from this very layer: the inner backend's objects are not this layer's.
        if Backend::location(self).as_ref() == Some(src) {
            return Backend::copy(self, from, to);
        }
        Err(Error::unsupported("copy_from"))
    }

    fn rename_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        if Backend::location(self).as_ref() == Some(src) {
            return Backend::rename(self, from, to);
        }
        Err(Error::unsupported("rename_from"))
    }

    fn set_modified(&self, path: &Path, modified: std::time::SystemTime) -> Result<Entry> {
        let entry = self.inner().set_modified(path, modified)?;
        self.entry(entry)
    }

    fn hash(&self, path: &Path, kind: HashKind, cancel: Option<&Cancel>) -> Result<Hash> {
        if self.compression_for(path) == Compression::None {
            return self.inner().hash(path, kind, cancel);
        }
        // Of the bytes callers read, never of the stored ones.
        helpers::hash_object(self, path, kind, cancel)
    }

    fn presign(&self, path: &Path, method: Presign, expires: Duration) -> Result<String> {
        // A presigned URL would hand out the compressed bytes.
        if self.mode != Mode::All(Compression::None) {
            return Err(Error::unsupported("presign"));
        }
        self.inner().presign(path, method, expires)
    }
}

/// The part of a decompressed stream that a range asks for: skips `skip` bytes on the first
/// read, then yields at most `left`. Errors get the path as context.
struct Window {
    inner: Reader,
    skip: u64,
    left: Option<u64>,
    path: Path,
}

impl Window {
    fn context(&self, e: io::Error) -> io::Error {
        if e.kind() == io::ErrorKind::Interrupted {
            return e;
        }
        Error::from(e)
            .context("read", self.path.as_str(), NAME)
            .into()
    }
}

impl Read for Window {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.skip > 0 {
            let mut scratch = [0u8; 8192];
            let want = scratch
                .len()
                .min(usize::try_from(self.skip).unwrap_or(usize::MAX));
            match self.inner.read(&mut scratch[..want]) {
                Ok(0) => self.skip = 0,
                Ok(n) => self.skip -= n as u64,
                Err(e) => return Err(self.context(e)),
            }
        }
        let max = match self.left {
            Some(left) => buf.len().min(usize::try_from(left).unwrap_or(usize::MAX)),
            None => buf.len(),
        };
        if max == 0 {
            return Ok(0);
        }
        match self.inner.read(&mut buf[..max]) {
            Ok(n) => {
                if let Some(left) = &mut self.left {
                    *left -= n as u64;
                }
                Ok(n)
            }
            Err(e) => Err(self.context(e)),
        }
    }
}

/// Counts the uncompressed bytes, checks them against the size hint, and reports them as the
/// committed entry's size.
struct Counted {
    inner: Writer,
    written: u64,
    opts: WriteOptions,
    path: Path,
}

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl WriteSink for Counted {
    fn finish(self: Box<Self>) -> Result<Entry> {
        let Counted {
            inner,
            written,
            opts,
            path,
        } = *self;
        if let Err(e) = opts.check_size(written) {
            let _ = inner.abort();
            return Err(e.context("write", path.as_str(), NAME));
        }
        let mut entry = inner.finish()?;
        entry.size = written;
        entry.hashes.clear();
        Ok(entry)
    }

    fn abort(self: Box<Self>) -> Result<()> {
        self.inner.abort()
    }
}
