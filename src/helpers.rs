//! Operations built from the [`Backend`] methods: whole-object reads and writes, hashing, and
//! copying or moving between any two backends.

use std::io::{self, Read, Write};

use crate::backend::Backend;
use crate::cancel::{self, Cancel};
use crate::copy::{CopyOptions, copy_object, move_object};
use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};
use crate::hash::{Hash, HashKind, HashKinds, Hasher};
use crate::options::{ListOptions, ReadOptions, WriteOptions};
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

/// Finds the object at `path`: through [`stat`](Backend::stat) where the backend has it,
/// otherwise as the first entry of `list(path)`. `Ok(None)` if there is no object (a
/// directory is not one).
pub fn lookup<B: Backend + ?Sized>(backend: &B, path: &Path) -> Result<Option<Entry>> {
    if backend.capabilities().stat {
        return match backend.stat(path) {
            Ok(entry) if entry.is_dir => Ok(None),
            Ok(entry) => Ok(Some(entry)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        };
    }
    // `path` itself, if it is an object, sorts before everything under it.
    match backend.list(path, &ListOptions::default())?.next() {
        Some(Ok(entry)) if entry.path == *path => Ok(Some(entry)),
        Some(Err(e)) => Err(e),
        _ => Ok(None),
    }
}

fn not_found(op: &'static str, path: &Path) -> Error {
    Error::new(ErrorKind::NotFound, "no such object")
        .with_operation(op)
        .with_path(path.as_str())
}

/// Copies the object at `from` on `src` to `to` on `dst`, and returns the new entry:
/// [`copy_object`] with the default [`CopyOptions`].
///
/// - Within one store (the same backend, or backends on the [same
///   store](crate::Location::same_store), even with different roots) that can copy
///   server-side, it does; otherwise it streams, keeping the modification time, content type
///   and metadata (see [`copy_entry`]).
/// - Copying an object onto itself is a no-op that returns its entry.
/// - A missing source is [`ErrorKind::NotFound`] and creates nothing at the destination.
/// - A source that changes while it is read is [`ErrorKind::PreconditionFailed`] and nothing
///   is committed.
/// - The destination is written through a [`Writer`](crate::Writer), so it appears whole or not at all.
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
    copy_object(src, from, dst, to, None, &CopyOptions::new()).map(|c| c.entry)
}

/// Streams the object `source` describes (an entry that `src` listed or `stat`ed) to `to` on
/// `dst`, keeping its modification time, content type and metadata, and returns the new
/// entry: [`copy_object`] without the server-side route. The bytes read are checked against
/// `source`'s size.
///
/// What the destination stores but `source` did not carry ([`Entry::filled`]: an S3 listing
/// has no content type, for one) is asked of the source once, with
/// [`stat`](Backend::stat), and only then. `cancel` stops the copy between buffers; the
/// destination is then aborted, never committed.
///
/// ```
/// use omnistorage::{copy_entry, Backend, BackendExt, MemoryBackend, Path};
///
/// let a = MemoryBackend::new();
/// let b = MemoryBackend::new();
/// a.write_all("logs/1", b"one")?;
/// a.write_all("logs/2", b"two")?;
/// for entry in a.list_at("logs")? {
///     let entry = entry?;
///     copy_entry(&a, &entry, &b, &entry.path, None)?;
/// }
/// assert_eq!(b.read_to_vec("logs/2")?, b"two");
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub fn copy_entry<S: Backend + ?Sized, D: Backend + ?Sized>(
    src: &S,
    source: &Entry,
    dst: &D,
    to: &Path,
    cancel: Option<&Cancel>,
) -> Result<Entry> {
    let mut opts = CopyOptions::new().server_side(false);
    opts.cancel = cancel;
    copy_object(src, &source.path, dst, to, Some(source), &opts).map(|c| c.entry)
}

/// Copies all of `reader` into `writer` with a large buffer. Errors from either side come
/// back as this crate's [`Error`], unwrapped from `io::Error`. `cancel` is checked between
/// buffers.
pub fn copy_stream(
    reader: &mut dyn Read,
    writer: &mut dyn Write,
    cancel: Option<&Cancel>,
) -> Result<u64> {
    copy_with_buffer(reader, writer, COPY_BUFFER, cancel)
}

pub(crate) fn copy_with_buffer(
    reader: &mut dyn Read,
    writer: &mut dyn Write,
    size: usize,
    cancel: Option<&Cancel>,
) -> Result<u64> {
    let mut buf = vec![0u8; size];
    let mut total = 0u64;
    loop {
        cancel::check(cancel)?;
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

/// Moves the object at `from` on `src` to `to` on `dst`, and returns the new entry.
///
/// - Within one store that can rename server-side, it does (between two roots of the same
///   store too).
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
    move_object(src, from, dst, to, None, &CopyOptions::new()).map(|m| m.entry)
}

/// The default of [`Backend::hash`]: the stored hash where the backend has one, otherwise
/// the object read and hashed.
pub(crate) fn hash_object<B: Backend + ?Sized>(
    backend: &B,
    path: &Path,
    kind: HashKind,
    cancel: Option<&Cancel>,
) -> Result<Hash> {
    if backend.capabilities().hashes.contains(kind) {
        let entry = lookup(backend, path)?.ok_or_else(|| not_found("hash", path))?;
        if let Some(hash) = entry.hash(kind) {
            return Ok(hash);
        }
    }
    let mut hasher = Hasher::new(HashKinds::NONE.with(kind))?;
    let mut opts = ReadOptions::new();
    opts.cancel = cancel.cloned();
    let mut reader = backend.reader(path, &opts)?;
    let mut buf = vec![0u8; COPY_BUFFER];
    loop {
        cancel::check(cancel)?;
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::from(e)),
        }
    }
    hasher
        .finish()
        .into_iter()
        .next()
        .ok_or_else(|| Error::new(ErrorKind::Other, "the hasher returned nothing"))
}

/// Deletes everything at and under `prefix`, rclone's `purge`: every object the recursive
/// listing of `prefix` shows (in batches of 1,000 through [`Backend::delete_many`], so that
/// S3 sends DeleteObjects requests), then, on backends with directories, each directory
/// below `prefix`, deepest first, and `prefix` itself (never the root). Returns the number of
/// objects deleted.
///
/// Behaviour:
/// - `prefix` is matched by segment, as [`Backend::list`] matches it: `a` removes `a` (an
///   object or a directory) and `a/x`, never `ab`;
/// - a missing `prefix` is `Ok(0)` (as [`Backend::delete`] of a missing object);
/// - a delete that fails does not stop the others of its batch; the first failure is then
///   returned, and the directories are left;
/// - objects written under `prefix` while it runs may remain.
///
/// ```
/// use omnistorage::{BackendExt, MemoryBackend, Path, remove_all};
///
/// let b = MemoryBackend::new();
/// b.write_all("logs/a", b"1")?;
/// b.write_all("logs/old/b", b"2")?;
/// b.write_all("logs2", b"kept")?;
/// assert_eq!(remove_all(&b, &Path::parse("logs")?)?, 2);
/// assert!(b.list_all("logs")?.is_empty());
/// assert!(b.contains("logs2")?);
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub fn remove_all<B: Backend + ?Sized>(backend: &B, prefix: &Path) -> Result<u64> {
    let mut batch = Vec::with_capacity(1000);
    let mut deleted = 0;
    let mut first_error = None;
    let mut flush = |batch: &mut Vec<Path>| {
        for r in backend.delete_many(batch) {
            match r {
                Ok(()) => deleted += 1,
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        batch.clear();
    };
    for entry in backend.list(prefix, &ListOptions::new())? {
        let entry = entry?;
        if entry.is_dir {
            continue;
        }
        batch.push(entry.path);
        if batch.len() == 1000 {
            flush(&mut batch);
        }
    }
    flush(&mut batch);
    if let Some(e) = first_error {
        return Err(e);
    }
    // The objects are gone: the directories left are empty, and go with the prefix.
    remove_empty_dirs(backend, prefix, false)?;
    Ok(deleted)
}

/// The directories below `root` (not `root` itself), deepest first: found by non-recursive
/// listings, parents before children; a listing that fails leaves that branch out.
pub(crate) fn dirs_below<B: Backend + ?Sized>(backend: &B, root: &Path) -> Vec<Path> {
    let mut dirs = Vec::new();
    let mut todo = vec![root.clone()];
    while let Some(d) = todo.pop() {
        if let Ok(list) = backend.list(&d, &ListOptions::new().recursive(false)) {
            for e in list.flatten().filter(|e| e.is_dir && e.path != d) {
                todo.push(e.path.clone());
                dirs.push(e.path);
            }
        }
    }
    // Deeper first: a parent can only be empty once its children are gone.
    dirs.sort_by_key(|d| std::cmp::Reverse(d.depth()));
    dirs
}

/// Removes the empty directories below `root`, deepest first, and `root` itself when it
/// ends up empty unless `keep_root` (never the backend's root): rclone's `rmdirs`. Returns
/// how many were removed.
///
/// Behaviour:
/// - a directory that is not empty (it holds an object, at any depth) is left, and so are
///   its parents; one that is gone already is skipped;
/// - a backend without directories (object stores) has none: `Ok(0)`;
/// - any other failure of [`Backend::remove_dir`] stops it and is returned.
///
/// ```
/// use omnistorage::{Backend, BackendExt, FileBackend, Path, remove_empty_dirs};
///
/// let dir = std::env::temp_dir().join(format!("rmdirs-doc-{}", std::process::id()));
/// let b = FileBackend::new(&dir)?;
/// b.create_dir(&Path::parse("top/empty/deeper")?)?;
/// b.write_all("top/full/x", b"1")?;
/// assert_eq!(remove_empty_dirs(&b, &Path::parse("top")?, false)?, 2);
/// assert!(b.stat(&Path::parse("top/full")?)?.is_dir);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn remove_empty_dirs<B: Backend + ?Sized>(
    backend: &B,
    root: &Path,
    keep_root: bool,
) -> Result<u64> {
    if !backend.capabilities().directories {
        return Ok(0);
    }
    let mut dirs = dirs_below(backend, root);
    if !keep_root && !root.is_root() {
        dirs.push(root.clone());
    }
    let mut removed = 0;
    for dir in dirs {
        match backend.remove_dir(&dir) {
            Ok(()) => removed += 1,
            Err(e) if matches!(e.kind(), ErrorKind::DirectoryNotEmpty | ErrorKind::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}
