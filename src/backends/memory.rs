//! The in-memory backend: a thread-safe ordered map of objects.
//!
//! It keeps every contract of [`Backend`] (atomic commit, byte-ordered listing, `CreateNew`
//! checked atomically), modification times to the nanosecond, content types and user metadata.
//! It is an object store: an object `a` and an object `a/b` may both exist, directories are
//! implied by the objects under them (`stat` reports one where objects lie beneath), and
//! `create_dir` / `remove_dir` do nothing.
//!
//! One store can be seen through backends with different roots ([`MemoryBackend::scoped`],
//! `mem://NAME/dir`), as S3 prefixes of one bucket: they are on the [same
//! store](crate::Location::same_store), so [`copy_from`](crate::Backend::copy_from) and
//! [`rename_from`](crate::Backend::rename_from) between them work in memory.
//!
//! Listings are lazy and read the map a page at a time, so a listing sees writes made while
//! it runs if they sort after the point it has reached; it never yields a path twice or out of
//! order. A start point and one-level listings are served from the map directly: a listing
//! starts at its start point, and a one-level listing jumps over each directory's subtree.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::ops::Bound;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime};

use super::guard::Guard;
use super::paged::{PagedList, PagedSource};
use crate::backend::{Backend, List};
use crate::entry::{Capabilities, Entry, Fields};
use crate::error::{Error, ErrorKind, Result};
use crate::hash::HashKinds;
use crate::io::{Reader, WriteSink, Writer};
use crate::location::Location;
use crate::options::{ListOptions, ReadOptions, WriteMode, WriteOptions};
use crate::path::{AsPath, Path};

const NAME: &str = "mem";

/// A store of objects in memory. `Clone` shares the store (and closing one closes all).
///
/// ```
/// use omnistorage::{BackendExt, MemoryBackend};
///
/// let store = MemoryBackend::new();
/// let shared = store.clone();
/// store.write_all("k", b"v")?;
/// assert_eq!(shared.read_to_vec("k")?, b"v");
/// # Ok::<(), omnistorage::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct MemoryBackend {
    shared: Arc<Shared>,
    /// Where this backend's paths start in the store (the root for the whole store).
    root: Path,
}

struct Shared {
    objects: RwLock<BTreeMap<Path, Object>>,
    guard: Guard,
}

impl Default for Shared {
    fn default() -> Shared {
        Shared {
            objects: RwLock::default(),
            guard: Guard::new(NAME),
        }
    }
}

#[derive(Clone)]
pub(crate) struct Object {
    data: Arc<[u8]>,
    modified: SystemTime,
    content_type: Option<String>,
    metadata: BTreeMap<String, String>,
    /// Its version tag ([`Entry::etag`]): new at every write and every change of its time,
    /// unique in the process; a copy keeps its source's (the same bytes and time).
    version: u64,
}

/// The next version tag of the process's memory stores.
fn next_version() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Object {
    fn entry(&self, path: &Path) -> Entry {
        Entry::file(path.clone(), self.data.len() as u64)
            .with_etag(Some(format!("m{}", self.version)))
            .with_modified(Some(self.modified))
            .with_content_type(self.content_type.clone())
            .with_metadata(self.metadata.clone())
            .with_hashes_filled()
    }
}

impl std::fmt::Debug for MemoryBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBackend")
            .field("root", &self.root)
            .field("objects", &self.read().len())
            .finish()
    }
}

fn err(kind: ErrorKind, msg: &'static str, op: &'static str, path: &Path) -> Error {
    Error::new(kind, msg).context(op, path.as_str(), NAME)
}

impl MemoryBackend {
    /// A new, empty store.
    pub fn new() -> MemoryBackend {
        MemoryBackend::default()
    }

    /// A backend on the same store whose root is `dir` under this one's: its path `x` is
    /// this one's `dir/x`. Both are on the [same store](crate::Location::same_store), so
    /// each can copy and move from the other server-side; closing either closes the store.
    ///
    /// ```
    /// use omnistorage::{Backend, BackendExt, MemoryBackend, Path};
    ///
    /// let store = MemoryBackend::new();
    /// let photos = store.scoped("photos")?;
    /// photos.write_all("2025/a.jpg", b"jpeg")?;
    /// assert!(store.contains("photos/2025/a.jpg")?);
    /// let backup = store.scoped("backup")?;
    /// let from = photos.location().expect("a location");
    /// backup.copy_from(&from, &Path::parse("2025/a.jpg")?, &Path::parse("a.jpg")?)?;
    /// assert_eq!(store.read_to_vec("backup/a.jpg")?, b"jpeg");
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn scoped(&self, dir: impl AsPath) -> Result<MemoryBackend> {
        let dir = dir.as_path()?;
        Ok(MemoryBackend {
            shared: self.shared.clone(),
            root: self.root.join(&dir),
        })
    }

    /// The number of objects in the whole store (whatever this backend's root).
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether the whole store holds no objects.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// The store's key for `path`.
    fn key<'a>(&self, path: &'a Path) -> Cow<'a, Path> {
        if self.root.is_root() {
            Cow::Borrowed(path)
        } else {
            Cow::Owned(self.root.join(path))
        }
    }

    /// The store's key for `path` under the root of `src`, a location on this store.
    fn key_from(&self, op: &'static str, src: &Location, path: &Path) -> Result<Path> {
        let root = match src.root() {
            "" => Path::root(),
            root => Path::parse(root).map_err(|e| e.with_operation(op))?,
        };
        Ok(root.join(path))
    }

    // A panic while holding the lock cannot leave the map half-updated (every update is one
    // insert or remove), so a poisoned lock is still safe to use.
    fn read(&self) -> RwLockReadGuard<'_, BTreeMap<Path, Object>> {
        self.shared
            .objects
            .read()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<Path, Object>> {
        self.shared
            .objects
            .write()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn check_open(&self, op: &'static str) -> Result<()> {
        self.shared.guard.check(op)
    }

    fn object_path(&self, op: &'static str, path: &Path) -> Result<()> {
        self.shared.guard.object(op, path)
    }

    fn get(&self, op: &'static str, path: &Path) -> Result<Object> {
        self.read()
            .get(&*self.key(path))
            .cloned()
            .ok_or_else(|| err(ErrorKind::NotFound, "no such object", op, path))
    }

    /// Copies (or, with `remove`, moves) the object at the store's key `from` to `to` (a path
    /// of this backend), in one step under the lock; the same object keeps it. `shown` is
    /// `from` as the caller named it, for errors.
    fn transfer(
        &self,
        op: &'static str,
        (from, shown): (&Path, &Path),
        to: &Path,
        remove: bool,
    ) -> Result<Entry> {
        self.object_path(op, shown)?;
        self.object_path(op, to)?;
        let key = self.key(to);
        let mut map = self.write();
        let object = map
            .get(from)
            .cloned()
            .ok_or_else(|| err(ErrorKind::NotFound, "no such object", op, shown))?;
        let entry = object.entry(to);
        if *from != *key {
            if remove {
                map.remove(from);
            }
            map.insert(key.into_owned(), object);
        }
        Ok(entry)
    }

    /// Whether any object lies under `dir/` (a store key).
    fn has_children(&self, dir: &Path) -> bool {
        let map = self.read();
        let start = Bound::Excluded(dir.clone());
        map.range((start, Bound::Unbounded))
            .take_while(|(k, _)| k.as_str().starts_with(dir.as_str()))
            .any(|(k, _)| k.starts_with(dir))
    }
}

impl Backend for MemoryBackend {
    fn reader(&self, path: &Path, opts: &ReadOptions) -> Result<Reader> {
        const OP: &str = "read";
        self.object_path(OP, path)?;
        let object = self.get(OP, path)?;
        let (start, end) = opts.clamp(object.data.len() as u64);
        // Both fit in usize: they are at most the length of an in-memory slice.
        let (start, end) = (start as usize, end as usize);
        Ok(Reader::new(SliceReader {
            data: object.data,
            pos: start,
            end,
        })
        .with_size((end - start) as u64))
    }

    fn writer(&self, path: &Path, opts: &WriteOptions) -> Result<Writer> {
        const OP: &str = "write";
        self.object_path(OP, path)?;
        if opts.mode == WriteMode::CreateNew && self.read().contains_key(&*self.key(path)) {
            return Err(err(ErrorKind::AlreadyExists, "the object exists", OP, path));
        }
        Ok(Writer::new(MemorySink {
            buf: Vec::new(),
            path: path.clone(),
            opts: opts.clone(),
            store: self.clone(),
        })
        .with_cancel(opts.cancel.as_ref()))
    }

    fn exists(&self, path: &Path) -> Result<bool> {
        self.check_open("exists")?;
        Ok(!path.is_root() && self.read().contains_key(&*self.key(path)))
    }

    fn delete(&self, path: &Path) -> Result<()> {
        self.object_path("delete", path)?;
        self.write().remove(&*self.key(path));
        Ok(())
    }

    fn list(&self, prefix: &Path, opts: &ListOptions) -> Result<List> {
        self.check_open("list")?;
        Ok(PagedList::list(self.clone(), &self.root, prefix, opts))
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            read: true,
            range_read: true,
            write: true,
            create_new: true,
            list: true,
            delete: true,
            stat: true,
            directories: false,
            server_side_copy: true,
            server_side_move: true,
            modified_time: Some(Duration::from_nanos(1)),
            set_modified: true,
            metadata: true,
            hashes: HashKinds::NONE,
            server_hashes: HashKinds::NONE,
            listed: Fields::ALL,
            presign: false,
            pending_uploads: false,
            usage: false,
            close: true,
            local: true,
            streams: None,
            version_tags: true,
        }
    }

    fn close(&self) -> Result<()> {
        self.shared.guard.close();
        Ok(())
    }

    fn location(&self) -> Option<Location> {
        Some(Location::new(
            NAME,
            format!("@{:p}", Arc::as_ptr(&self.shared)),
            self.root.as_str(),
        ))
    }

    fn stat(&self, path: &Path) -> Result<Entry> {
        const OP: &str = "stat";
        self.check_open(OP)?;
        let key = self.key(path);
        if !path.is_root()
            && let Some(object) = self.read().get(&*key)
        {
            return Ok(object.entry(path));
        }
        if path.is_root() || self.has_children(&key) {
            return Ok(Entry::dir(path.clone()));
        }
        Err(err(ErrorKind::NotFound, "no such object", OP, path))
    }

    fn create_dir(&self, _path: &Path) -> Result<()> {
        self.check_open("create_dir")
    }

    fn remove_dir(&self, _path: &Path) -> Result<()> {
        self.check_open("remove_dir")
    }

    fn copy(&self, from: &Path, to: &Path) -> Result<Entry> {
        self.transfer("copy", (&self.key(from), from), to, false)
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<Entry> {
        self.transfer("rename", (&self.key(from), from), to, true)
    }

    /// Copies from another backend on this store ([`scoped`](MemoryBackend::scoped), or the
    /// same named store), in one step.
    fn copy_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        const OP: &str = "copy_from";
        if !self.location().is_some_and(|here| here.same_store(src)) {
            return Err(Error::unsupported(OP).with_backend(NAME));
        }
        self.transfer(OP, (&self.key_from(OP, src, from)?, from), to, false)
    }

    /// Moves from another backend on this store, in one step.
    fn rename_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        const OP: &str = "rename_from";
        if !self.location().is_some_and(|here| here.same_store(src)) {
            return Err(Error::unsupported(OP).with_backend(NAME));
        }
        self.transfer(OP, (&self.key_from(OP, src, from)?, from), to, true)
    }

    fn set_modified(&self, path: &Path, modified: SystemTime) -> Result<Entry> {
        const OP: &str = "set_modified";
        self.object_path(OP, path)?;
        let mut map = self.write();
        let object = map
            .get_mut(&*self.key(path))
            .ok_or_else(|| err(ErrorKind::NotFound, "no such object", OP, path))?;
        object.modified = modified;
        object.version = next_version();
        Ok(object.entry(path))
    }
}

/// Reads a shared slice without copying it first.
struct SliceReader {
    data: Arc<[u8]>,
    pos: usize,
    end: usize,
}

impl Read for SliceReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = self.data.get(self.pos..self.end).unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

struct MemorySink {
    buf: Vec<u8>,
    path: Path,
    opts: WriteOptions,
    store: MemoryBackend,
}

impl Write for MemorySink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl WriteSink for MemorySink {
    fn finish(self: Box<Self>) -> Result<Entry> {
        const OP: &str = "write";
        let MemorySink {
            buf,
            path,
            opts,
            store,
        } = *self;
        opts.check_size(buf.len() as u64)
            .map_err(|e| e.context(OP, path.as_str(), NAME))?;
        let object = Object {
            data: buf.into(),
            modified: opts.modified.unwrap_or_else(SystemTime::now),
            content_type: opts.content_type,
            metadata: opts.metadata,
            version: next_version(),
        };
        let entry = object.entry(&path);
        let key = store.key(&path).into_owned();
        let mut map = store.write();
        store.check_open(OP)?;
        if opts.mode == WriteMode::CreateNew && map.contains_key(&key) {
            return Err(err(
                ErrorKind::AlreadyExists,
                "the object exists",
                OP,
                &path,
            ));
        }
        map.insert(key, object);
        Ok(entry)
    }

    fn abort(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

impl PagedSource for MemoryBackend {
    type Value = Object;

    fn with_map<R>(&self, f: impl FnOnce(&BTreeMap<Path, Object>) -> R) -> R {
        f(&self.read())
    }

    fn entry(path: &Path, object: &Object) -> Option<Entry> {
        Some(object.entry(path))
    }

    fn check_open(&self) -> Result<()> {
        self.check_open("list")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BackendExt;

    #[test]
    fn paging_skips_byte_neighbours_across_page_boundaries() {
        // Keys that share the prefix's bytes but not its segments (`a/b-…`, `a/b.…`) sort
        // between `a/b` and `a/b/…`; with more of them than a page holds, the listing must
        // still skip them all and find every key under `a/b/`.
        let store = MemoryBackend::new();
        const LIST_PAGE: usize = 256;
        for i in 0..(LIST_PAGE * 2 + 7) {
            store.write_all(format!("a/b-{i:04}"), b"").unwrap();
            store.write_all(format!("a/b.{i:04}"), b"").unwrap();
        }
        for i in 0..(LIST_PAGE + 3) {
            store.write_all(format!("a/b/{i:04}"), b"").unwrap();
        }
        store.write_all("a/b", b"itself").unwrap();
        store.write_all("a/b0", b"").unwrap();
        let listed: Vec<String> = store
            .list_all("a/b")
            .unwrap()
            .into_iter()
            .map(|e| e.path.into_string())
            .collect();
        let mut expected = vec!["a/b".to_string()];
        expected.extend((0..(LIST_PAGE + 3)).map(|i| format!("a/b/{i:04}")));
        assert_eq!(listed, expected);
    }

    #[test]
    fn a_scoped_backend_sees_only_its_root() {
        let store = MemoryBackend::new();
        for path in ["main", "main/x", "main/d/y", "main-x", "mainx/z", "other/w"] {
            store.write_all(path, path.as_bytes()).unwrap();
        }
        let main = store.scoped("main").unwrap();
        let names = |opts: ListOptions| -> Vec<String> {
            main.list(&Path::root(), &opts)
                .unwrap()
                .map(|e| e.unwrap().path.into_string())
                .collect()
        };
        assert_eq!(names(ListOptions::new()), ["d/y", "x"]);
        assert_eq!(names(ListOptions::new().recursive(false)), ["d", "x"]);
        let after_d = ListOptions::new().start_after(Path::parse("d/y").unwrap());
        assert_eq!(names(after_d), ["x"]);
        assert!(!main.exists(&Path::root()).unwrap());
        assert!(main.stat(&Path::root()).unwrap().is_dir);
        assert_eq!(main.read_to_vec("d/y").unwrap(), b"main/d/y");
        main.remove("x").unwrap();
        assert!(!store.contains("main/x").unwrap());
        assert!(store.contains("main").unwrap());
        let nested = main.scoped("d").unwrap();
        assert_eq!(nested.location().unwrap().root(), "main/d");
        assert_eq!(nested.read_to_vec("y").unwrap(), b"main/d/y");
    }
}
