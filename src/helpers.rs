//! Operations built from the [`Backend`] methods: whole-object reads and writes, and copying
//! or moving between any two backends.

use std::io::{self, Read, Write};

use crate::backend::Backend;
use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};
use crate::io::Writer;
use crate::options::{ReadOptions, WriteOptions};
use crate::path::Path;

/// The buffer size used to stream between backends.
pub(crate) const COPY_BUFFER: usize = 256 * 1024;

/// Reads an object (or the range `opts` selects) into memory.
pub fn read_to_vec<B: Backend + ?Sized>(
    backend: &B,
    path: &Path,
    opts: &ReadOptions,
) -> Result<Vec<u8>> {
    let mut reader = backend.reader(path, opts)?;
    let mut buf = Vec::new();
    reader.read_to_end(&mut buf).map_err(Error::from)?;
    Ok(buf)
}

/// Stores `data` at `path` in one writer and returns the committed entry.
pub fn write_all<B: Backend + ?Sized>(
    backend: &B,
    path: &Path,
    opts: &WriteOptions,
    data: &[u8],
) -> Result<Entry> {
    let mut writer = backend.writer(path, opts)?;
    writer.write_all(data).map_err(Error::from)?;
    writer.finish()
}

/// Finds the object at `path`: through [`stat`](crate::ExtendedBackend::stat) where the
/// backend has it, otherwise as the first entry of `list(path)`. `Ok(None)` if there is no
/// object (a directory is not one).
pub fn lookup<B: Backend + ?Sized>(backend: &B, path: &Path) -> Result<Option<Entry>> {
    if let Some(ext) = backend.as_extended()
        && backend.capabilities().stat
    {
        return match ext.stat(path) {
            Ok(entry) if entry.is_dir => Ok(None),
            Ok(entry) => Ok(Some(entry)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        };
    }
    // `path` itself, if it is an object, sorts before everything under it.
    match backend.list(path)?.next() {
        Some(Ok(entry)) if entry.path == *path => Ok(Some(entry)),
        Some(Err(e)) => Err(e),
        _ => Ok(None),
    }
}

/// Whether `(a, pa)` and `(b, pb)` are known to name the same object: the same backend value,
/// or backends with the same [`location`](Backend::location), and the same path.
fn same_object<A: Backend + ?Sized, B: Backend + ?Sized>(
    a: &A,
    pa: &Path,
    b: &B,
    pb: &Path,
) -> bool {
    same_storage(a, b) && pa == pb
}

fn same_storage<A: Backend + ?Sized, B: Backend + ?Sized>(a: &A, b: &B) -> bool {
    if std::ptr::addr_eq(a as *const A, b as *const B) {
        return true;
    }
    matches!((a.location(), b.location()), (Some(x), Some(y)) if x == y)
}

fn not_found(op: &'static str, path: &Path) -> Error {
    Error::new(ErrorKind::NotFound, "no such object")
        .with_operation(op)
        .with_path(path.as_str())
}

/// Copies the object at `from` on `src` to `to` on `dst`, and returns the new entry.
///
/// - Within one store (the same backend, or backends with the same
///   [`location`](Backend::location)) that can copy server-side, it does; otherwise it
///   streams, keeping the modification time, content type and metadata.
/// - Copying an object onto itself is a no-op that returns its entry.
/// - A missing source is [`ErrorKind::NotFound`] and creates nothing at the destination.
/// - The destination is written through a [`Writer`], so it appears whole or not at all.
///
/// ```
/// use omnistorage::{copy_path, BackendExt, MemoryBackend, Path};
///
/// let a = MemoryBackend::new();
/// let b = MemoryBackend::new();
/// a.write_all("x", b"data")?;
/// copy_path(&a, &Path::parse("x")?, &b, &Path::parse("y/x")?)?;
/// assert_eq!(b.read_to_vec("y/x")?, b"data");
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub fn copy_path<S: Backend + ?Sized, D: Backend + ?Sized>(
    src: &S,
    from: &Path,
    dst: &D,
    to: &Path,
) -> Result<Entry> {
    if same_object(src, from, dst, to) {
        return lookup(src, from)?.ok_or_else(|| not_found("copy", from));
    }
    if same_storage(src, dst)
        && src.capabilities().server_side_copy
        && let Some(ext) = src.as_extended()
    {
        ext.copy(from, to)?;
        return lookup(dst, to)?.ok_or_else(|| not_found("copy", to));
    }
    let source = lookup(src, from)?.ok_or_else(|| not_found("copy", from))?;
    copy_entry(src, &source, dst, to)
}

/// Streams the object `source` describes (an entry that `src` listed or `stat`ed) to `to` on
/// `dst`, keeping its modification time, content type and metadata, and returns the new
/// entry. Unlike [`copy_path`], it does not look the source up again, which is what a loop
/// over a listing wants; it never copies server-side.
///
/// ```
/// use omnistorage::{copy_entry, Backend, BackendExt, MemoryBackend, Path};
///
/// let a = MemoryBackend::new();
/// let b = MemoryBackend::new();
/// a.write_all("logs/1", b"one")?;
/// a.write_all("logs/2", b"two")?;
/// for entry in a.list(&Path::parse("logs")?)? {
///     let entry = entry?;
///     copy_entry(&a, &entry, &b, &entry.path)?;
/// }
/// assert_eq!(b.read_to_vec("logs/2")?, b"two");
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub fn copy_entry<S: Backend + ?Sized, D: Backend + ?Sized>(
    src: &S,
    source: &Entry,
    dst: &D,
    to: &Path,
) -> Result<Entry> {
    let mut reader = src.reader(&source.path, &ReadOptions::default())?;
    let mut opts = WriteOptions::new().size_hint(source.size);
    opts.modified = source.modified;
    opts.content_type = source.content_type.clone();
    opts.metadata = source.metadata.clone();
    let mut writer = dst.writer(to, &opts)?;
    // A buffer no larger than the object: zeroing 256 KiB for a 1 KiB file dominates small
    // copies.
    let size = usize::try_from(source.size.saturating_add(1)).unwrap_or(COPY_BUFFER);
    copy_with_buffer(&mut reader, &mut writer, size.clamp(8 * 1024, COPY_BUFFER))?;
    writer.finish()
}

/// Copies all of `reader` into `writer` with a large buffer. Errors from either side come
/// back as this crate's [`Error`], unwrapped from `io::Error`.
pub fn copy_stream(reader: &mut dyn Read, writer: &mut Writer) -> Result<u64> {
    copy_with_buffer(reader, writer, COPY_BUFFER)
}

fn copy_with_buffer(reader: &mut dyn Read, writer: &mut Writer, size: usize) -> Result<u64> {
    let mut buf = vec![0u8; size];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::from(e)),
        };
        writer.write_all(&buf[..n]).map_err(Error::from)?;
        total += n as u64;
    }
}

/// Moves the object at `from` on `src` to `to` on `dst`.
///
/// - Within one store that can rename server-side, it does.
/// - Otherwise it copies (as [`copy_path`]) and deletes the source **only after** the copy
///   is committed; if the copy fails, the source is untouched.
/// - Moving an object onto itself is a no-op (it is never deleted).
/// - A missing source is [`ErrorKind::NotFound`] and creates nothing.
///
/// Two backends that reach the same storage but report no [`location`](Backend::location)
/// cannot be told apart from two different stores; give every backend a location.
pub fn move_path<S: Backend + ?Sized, D: Backend + ?Sized>(
    src: &S,
    from: &Path,
    dst: &D,
    to: &Path,
) -> Result<Entry> {
    if same_object(src, from, dst, to) {
        return lookup(src, from)?.ok_or_else(|| not_found("move", from));
    }
    if same_storage(src, dst)
        && src.capabilities().server_side_move
        && let Some(ext) = src.as_extended()
    {
        ext.rename(from, to)?;
        return lookup(dst, to)?.ok_or_else(|| not_found("move", to));
    }
    let entry = copy_path(src, from, dst, to)?;
    src.delete(from)?;
    Ok(entry)
}
