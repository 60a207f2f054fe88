//! The trait every store implements, [`Backend`], and its sugar, [`BackendExt`].

use std::fmt;
use std::time::{Duration, SystemTime};

use crate::cancel::Cancel;
use crate::entry::{Capabilities, Entry};
use crate::error::{Error, ErrorKind, Result};
use crate::hash::{Hash, HashKind};
use crate::helpers;
use crate::io::{Reader, Writer};
use crate::location::Location;
use crate::options::{ListOptions, ReadOptions, WriteOptions};
use crate::path::{AsPath, Path};
use crate::usage::Usage;

/// A listing: one `Result` per entry, so that one bad entry does not end the walk.
///
/// Listings are lazy (they fetch as they go) and own what they need (`'static`), so they can
/// outlive the borrow of the backend and move to another thread.
pub type List = Box<dyn Iterator<Item = Result<Entry>> + Send + 'static>;

/// A listing of [pending uploads](Backend::pending_uploads).
pub type PendingList = Box<dyn Iterator<Item = Result<PendingUpload>> + Send + 'static>;

/// A write that was begun and never finished: an S3 multipart upload that was neither
/// completed nor aborted, a file backend's staged file left by a process that died.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PendingUpload {
    /// The object it would have written.
    pub path: Path,
    /// The backend's name for it (an upload id, a staged file's name).
    pub id: String,
    /// When it began, if known.
    pub started: Option<SystemTime>,
}

impl PendingUpload {
    /// A pending upload.
    pub fn new(path: Path, id: impl Into<String>, started: Option<SystemTime>) -> PendingUpload {
        PendingUpload {
            path,
            id: id.into(),
            started,
        }
    }
}

/// What a [presigned URL](Backend::presign) lets its holder do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Presign {
    /// Read the object (`GET`).
    Get,
    /// Store an object (`PUT`).
    Put,
}

/// A storage system, seen through blocking `std::io` streams.
///
/// Every method documents its **behaviour**; that list is also the plan of the conformance
/// suite (module `conformance`, feature `conformance`) that every backend runs. In short:
///
/// - paths are [`Path`]s, relative to the backend's root; the root itself is not an object;
/// - objects become visible whole or not at all ([`Writer::finish`]);
/// - `list` matches its prefix by segment and yields entries in ascending byte order of their
///   full path;
/// - optional operations (`stat` onwards) answer [`ErrorKind::Unsupported`] by default, and
///   [`capabilities`](Backend::capabilities) says which ones a backend has: one trait, one
///   gate, and every operation reachable through `Box<dyn Backend>` (what
///   [`open`](crate::open) returns);
/// - after [`close`](Backend::close), operations answer [`ErrorKind::Closed`] (where
///   [`Capabilities::close`] says so).
///
/// Implement the first six methods for a new store, then the optional ones it can do, and set
/// its [`Capabilities`] to match (a backend of the six alone passes the conformance suite,
/// which skips what its capabilities deny); use [`BackendExt`] (implemented for every backend) for the
/// conveniences. A backend that wraps another and changes a few operations (a layer, a test
/// double) implements [`Wrap`](crate::Wrap) instead, and gets the rest forwarded.
pub trait Backend: Send + Sync + fmt::Debug {
    /// Opens the object at `path` for reading.
    ///
    /// Behaviour:
    /// - a missing object: [`ErrorKind::NotFound`] (which becomes `io::ErrorKind::NotFound`
    ///   when converted to an `io::Error`);
    /// - the root: [`ErrorKind::InvalidPath`] (it is not an object); a directory:
    ///   [`ErrorKind::IsADirectory`] where the backend has directories, otherwise `NotFound`;
    /// - `opts` selects a byte range: an offset at or past the end reads nothing, a range that
    ///   runs past the end is cut there.
    fn reader(&self, path: &Path, opts: &ReadOptions) -> Result<Reader>;

    /// Opens a writer that will store an object at `path`.
    ///
    /// Behaviour:
    /// - nothing is visible at `path` until [`Writer::finish`]; then the whole object is, in
    ///   one step; [`Writer::abort`] or dropping the writer leaves `path` as it was;
    /// - an existing object is replaced, unless `opts.mode` is
    ///   [`WriteMode::CreateNew`](crate::WriteMode), which fails with
    ///   [`ErrorKind::AlreadyExists`] (here or on `finish`);
    /// - a failed write or commit never leaves a partial object, and keeps the old one;
    /// - missing parent directories are created;
    /// - the root: [`ErrorKind::InvalidPath`].
    fn writer(&self, path: &Path, opts: &WriteOptions) -> Result<Writer>;

    /// Whether an object exists at `path`. A directory is not an object: `false`.
    fn exists(&self, path: &Path) -> Result<bool>;

    /// Deletes the object at `path`.
    ///
    /// Behaviour: idempotent (a missing object is `Ok`); the root is
    /// [`ErrorKind::InvalidPath`]; a directory is never deleted: where the backend has
    /// directories it answers [`ErrorKind::IsADirectory`], elsewhere there is no object at
    /// that path and the answer is `Ok`.
    fn delete(&self, path: &Path) -> Result<()>;

    /// Lists what is under `prefix`.
    ///
    /// Behaviour:
    /// - `prefix` matches by segment: `a/b` lists `a/b` itself and `a/b/...`, never `a/bc`;
    /// - the root lists everything; a missing prefix lists nothing (not an error);
    /// - recursive (the default): objects only, no directory entries;
    /// - not recursive ([`ListOptions::recursive`]): the objects directly under `prefix` (and
    ///   `prefix` itself if it is an object) and one directory entry for each directory (or
    ///   common prefix) directly under it;
    /// - entries come in **ascending byte order of their full path**, a directory sorting as
    ///   its path followed by `/`;
    /// - [`ListOptions::start_after`]: only the entries that sort strictly after it;
    /// - lazy: it does not gather the whole tree before yielding the first entry;
    /// - a problem with one entry is one `Err` item; the walk goes on where it can;
    /// - cancelled ([`ListOptions::cancel`]): one `Err` of kind [`ErrorKind::Cancelled`],
    ///   then the end.
    fn list(&self, prefix: &Path, opts: &ListOptions) -> Result<List>;

    /// What this backend can do.
    fn capabilities(&self) -> Capabilities;

    /// Releases what the backend holds. Closing twice is `Ok`.
    ///
    /// Behaviour, where [`Capabilities::close`] is set: afterwards every operation answers
    /// [`ErrorKind::Closed`] ([`Error::closed`]), and a writer opened before fails its
    /// [`finish`](Writer::finish) with it instead of committing. Implement it with a closed
    /// flag that every operation checks first, and set the capability.
    ///
    /// The default does nothing and the backend keeps working (with `Capabilities::close`
    /// left `false`): for a backend with nothing to release.
    fn close(&self) -> Result<()> {
        Ok(())
    }

    /// Where this backend's root is, or `None` if unknown.
    ///
    /// Two backends with equal locations reach the same objects under the same paths; two on
    /// the [same store](Location::same_store) can copy between each other server-side. The
    /// helpers use it to choose server-side operations and to refuse to move an object onto
    /// itself; the sync engine, to refuse overlapping source and destination.
    fn location(&self) -> Option<Location> {
        None
    }

    /// Describes the object (or directory) at `path`, with every field the backend stores
    /// ([`Entry::filled`]). Needs [`Capabilities::stat`].
    ///
    /// Behaviour: missing → [`ErrorKind::NotFound`]; the entry agrees with what `list`
    /// yields for the same object (size, and whatever `list` fills); a directory gives an
    /// entry with `is_dir` set.
    fn stat(&self, path: &Path) -> Result<Entry> {
        let _ = path;
        Err(Error::unsupported("stat"))
    }

    /// Creates a directory and its parents (`mkdir -p`). Needs [`Capabilities::stat`].
    ///
    /// Behaviour: `Ok` if it exists already; an object in the way is
    /// [`ErrorKind::AlreadyExists`] or [`ErrorKind::NotADirectory`]; on stores without
    /// directories ([`Capabilities::directories`] is false), `Ok` and nothing happens.
    fn create_dir(&self, path: &Path) -> Result<()> {
        let _ = path;
        Err(Error::unsupported("create_dir"))
    }

    /// Removes an empty directory. Needs [`Capabilities::stat`].
    ///
    /// Behaviour: a missing directory is `Ok`; a non-empty one is
    /// [`ErrorKind::DirectoryNotEmpty`]; an object is [`ErrorKind::NotADirectory`]; on stores
    /// without directories, `Ok` and nothing happens.
    fn remove_dir(&self, path: &Path) -> Result<()> {
        let _ = path;
        Err(Error::unsupported("remove_dir"))
    }

    /// Copies the object at `from` to `to` inside the store, without streaming it through the
    /// client, and returns the new entry. Needs [`Capabilities::server_side_copy`].
    ///
    /// Behaviour: keeps the modification time, content type and metadata; replaces an object
    /// at `to`, atomically; a missing `from` is [`ErrorKind::NotFound`] and creates nothing;
    /// `from == to` is a no-op (after checking that it exists).
    fn copy(&self, from: &Path, to: &Path) -> Result<Entry> {
        let _ = (from, to);
        Err(Error::unsupported("copy"))
    }

    /// Moves the object at `from` to `to` inside the store, and returns the new entry. Needs
    /// [`Capabilities::server_side_move`].
    ///
    /// Behaviour: keeps the modification time, content type and metadata; replaces an object
    /// at `to`; afterwards `from` is gone; a missing `from` is [`ErrorKind::NotFound`] and
    /// changes nothing; `from == to` is a no-op (after checking that it exists).
    fn rename(&self, from: &Path, to: &Path) -> Result<Entry> {
        let _ = (from, to);
        Err(Error::unsupported("rename"))
    }

    /// [`copy`](Backend::copy) from another backend on the same store: `from` is a path
    /// under `src` (another backend's [`location`](Backend::location)), `to` one under this
    /// backend. Needs [`Capabilities::server_side_copy`].
    ///
    /// Behaviour: as `copy`; a `src` that is not on [the same
    /// store](Location::same_store) is [`ErrorKind::Unsupported`] (copy by streaming then).
    /// The default serves `src` equal to this backend's location through `copy`.
    fn copy_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        if self.location().as_ref() == Some(src) {
            return self.copy(from, to);
        }
        Err(Error::unsupported("copy_from"))
    }

    /// [`rename`](Backend::rename) from another backend on the same store; see
    /// [`copy_from`](Backend::copy_from). Needs [`Capabilities::server_side_move`].
    fn rename_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        if self.location().as_ref() == Some(src) {
            return self.rename(from, to);
        }
        Err(Error::unsupported("rename_from"))
    }

    /// Sets the stored modification time of the object at `path` without rewriting its data,
    /// and returns the new entry. Needs [`Capabilities::set_modified`].
    ///
    /// Behaviour: the time is kept to [`Capabilities::modified_time`]'s precision; the
    /// content, content type and metadata are unchanged; a missing object is
    /// [`ErrorKind::NotFound`].
    fn set_modified(&self, path: &Path, modified: SystemTime) -> Result<Entry> {
        let _ = (path, modified);
        Err(Error::unsupported("set_modified"))
    }

    /// The hash of the object at `path` in `kind`.
    ///
    /// Behaviour: what the backend stores when it has it ([`Capabilities::hashes`]: no read
    /// of the data); otherwise the object is read and hashed, which needs the hash's feature
    /// (`md5`, `sha1`, `sha256`; CRC-32C is always there) and is
    /// [`ErrorKind::Unsupported`] without it; a missing object is [`ErrorKind::NotFound`];
    /// `cancel` stops the reading ([`ErrorKind::Cancelled`]).
    fn hash(&self, path: &Path, kind: HashKind, cancel: Option<&Cancel>) -> Result<Hash> {
        helpers::hash_object(self, path, kind, cancel)
    }

    /// Deletes many objects; one result per path, in order.
    ///
    /// Behaviour: as [`delete`](Backend::delete) for each path; backends with a batch call
    /// (S3's DeleteObjects) use it. The default deletes one at a time.
    fn delete_many(&self, paths: &[Path]) -> Vec<Result<()>> {
        paths.iter().map(|p| self.delete(p)).collect()
    }

    /// A URL that lets anyone who holds it read or write the object at `path` until
    /// `expires` from now, without credentials. Needs [`Capabilities::presign`].
    fn presign(&self, path: &Path, method: Presign, expires: Duration) -> Result<String> {
        let _ = (path, method, expires);
        Err(Error::unsupported("presign"))
    }

    /// Writes under `prefix` that were begun and never finished, in ascending path order.
    /// Needs [`Capabilities::pending_uploads`].
    ///
    /// Behaviour: a write still in progress, in this process or another, may be listed too:
    /// check [`PendingUpload::started`] before aborting one.
    fn pending_uploads(&self, prefix: &Path) -> Result<PendingList> {
        let _ = prefix;
        Err(Error::unsupported("pending_uploads"))
    }

    /// Aborts a [pending upload](Backend::pending_uploads) and frees what it holds. Needs
    /// [`Capabilities::pending_uploads`].
    ///
    /// Behaviour: idempotent (an upload that is gone is `Ok`); the object at its path, if
    /// any, is untouched.
    fn abort_upload(&self, upload: &PendingUpload) -> Result<()> {
        let _ = upload;
        Err(Error::unsupported("abort_upload"))
    }

    /// How much space the store has: its total, what is used, what is still free ([`Usage`];
    /// rclone's `about`). Needs [`Capabilities::usage`].
    ///
    /// Behaviour: the fields the backend knows are filled, the others are `None`; `used` and
    /// `free` are each at most `total` where both are known; the answer is about the whole
    /// store (a file system, a quota), not about the objects under this backend's root.
    fn usage(&self) -> Result<Usage> {
        Err(Error::unsupported("usage"))
    }
}

/// Conveniences for every [`Backend`] (`dyn Backend` included): text paths, default options,
/// whole-object reads and writes.
///
/// **One convention for paths:** [`Backend`]'s own methods take `&Path` (they are what a
/// backend implements, and stay callable on `dyn Backend`); every method here takes
/// anything [`AsPath`], a [`Path`] or text, validated on the way in, and every operation a
/// caller names a path for has its form here: `open_reader`, `open_writer`, `contains`,
/// `remove`, `list_at`, and the `_at` forms of the optional ones ([`stat_at`], [`hash_at`],
/// [`set_modified_at`], [`create_dir_at`], [`remove_dir_at`], [`presign_at`],
/// [`pending_uploads_at`]).
///
/// [`stat_at`]: BackendExt::stat_at
/// [`hash_at`]: BackendExt::hash_at
/// [`set_modified_at`]: BackendExt::set_modified_at
/// [`create_dir_at`]: BackendExt::create_dir_at
/// [`remove_dir_at`]: BackendExt::remove_dir_at
/// [`presign_at`]: BackendExt::presign_at
/// [`pending_uploads_at`]: BackendExt::pending_uploads_at
///
/// ```
/// use omnistorage::{BackendExt, MemoryBackend};
///
/// let store = MemoryBackend::new();
/// store.write_all("a/one.txt", b"1")?;
/// store.write_all("a/two.txt", b"22")?;
/// assert_eq!(store.read_to_string("a/two.txt")?, "22");
/// assert_eq!(store.read_range("a/two.txt", 1..)?, b"2");
/// let names: Vec<String> = store
///     .list_all("a")?
///     .into_iter()
///     .map(|e| e.path.to_string())
///     .collect();
/// assert_eq!(names, ["a/one.txt", "a/two.txt"]);
/// store.remove("a/one.txt")?;
/// assert!(!store.contains("a/one.txt")?);
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub trait BackendExt: Backend {
    /// [`Backend::reader`] with default options.
    fn open_reader(&self, path: impl AsPath) -> Result<Reader> {
        self.reader(&*path.as_path()?, &ReadOptions::default())
    }

    /// [`Backend::writer`] with default options.
    fn open_writer(&self, path: impl AsPath) -> Result<Writer> {
        self.writer(&*path.as_path()?, &WriteOptions::default())
    }

    /// Reads a whole object into memory.
    fn read_to_vec(&self, path: impl AsPath) -> Result<Vec<u8>> {
        helpers::read_to_vec(self, &*path.as_path()?, &ReadOptions::default())
    }

    /// Reads a whole object as UTF-8 text; other bytes are [`ErrorKind::Corrupt`].
    fn read_to_string(&self, path: impl AsPath) -> Result<String> {
        let path = path.as_path()?;
        let bytes = helpers::read_to_vec(self, &path, &ReadOptions::default())?;
        String::from_utf8(bytes).map_err(|e| {
            Error::new(ErrorKind::Corrupt, "not valid UTF-8")
                .with_path(path.as_str())
                .with_source(e)
        })
    }

    /// Reads the bytes in `range` (cut at the end of the object).
    fn read_range(
        &self,
        path: impl AsPath,
        range: impl std::ops::RangeBounds<u64>,
    ) -> Result<Vec<u8>> {
        helpers::read_to_vec(self, &*path.as_path()?, &ReadOptions::new().range(range))
    }

    /// Stores `data` at `path` (replacing what is there) and returns the new entry.
    fn write_all(&self, path: impl AsPath, data: impl AsRef<[u8]>) -> Result<Entry> {
        helpers::write_all(
            self,
            &*path.as_path()?,
            &WriteOptions::default(),
            data.as_ref(),
        )
    }

    /// [`Backend::exists`] with a text path.
    fn contains(&self, path: impl AsPath) -> Result<bool> {
        self.exists(&*path.as_path()?)
    }

    /// [`Backend::delete`] with a text path.
    fn remove(&self, path: impl AsPath) -> Result<()> {
        self.delete(&*path.as_path()?)
    }

    /// Deletes everything at and under `prefix` (objects in batches, then directories): see
    /// [`remove_all`](crate::remove_all) for its behaviour. Returns the number of objects
    /// deleted.
    fn remove_all(&self, prefix: impl AsPath) -> Result<u64> {
        helpers::remove_all(self, &*prefix.as_path()?)
    }

    /// [`Backend::list`] with a text prefix and default options (recursive).
    fn list_at(&self, prefix: impl AsPath) -> Result<List> {
        self.list(&*prefix.as_path()?, &ListOptions::default())
    }

    /// Gathers a whole recursive listing into a `Vec`, failing on the first bad entry. Use
    /// [`Backend::list`] to stream instead.
    fn list_all(&self, prefix: impl AsPath) -> Result<Vec<Entry>> {
        self.list(&*prefix.as_path()?, &ListOptions::default())?
            .collect()
    }

    /// Describes the object at `path`: [`Backend::stat`] where the backend has it,
    /// otherwise found through `list`.
    fn info(&self, path: impl AsPath) -> Result<Entry> {
        let path = path.as_path()?;
        helpers::lookup(self, &path)?.ok_or_else(|| {
            Error::new(ErrorKind::NotFound, "no such object").with_path(path.as_str())
        })
    }

    /// Copies the object at `from` here to `to` on `dst` (which may be this same backend),
    /// server-side where possible. See [`copy_path`](crate::copy_path).
    fn copy_to<D: Backend + ?Sized>(
        &self,
        from: impl AsPath,
        dst: &D,
        to: impl AsPath,
    ) -> Result<Entry> {
        helpers::copy_path(self, &*from.as_path()?, dst, &*to.as_path()?)
    }

    /// [`Backend::stat`] with a text path.
    ///
    /// ```
    /// use omnistorage::{BackendExt, MemoryBackend, Presign};
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let store = MemoryBackend::new();
    /// store.write_all("a/b.txt", b"hi")?;
    /// assert_eq!(store.stat_at("a/b.txt")?.size, 2);
    /// store.set_modified_at("a/b.txt", UNIX_EPOCH + Duration::from_secs(7))?;
    /// // What a backend cannot do answers Unsupported, whatever the path's form.
    /// let err = store.presign_at("a/b.txt", Presign::Get, Duration::from_secs(60)).unwrap_err();
    /// assert_eq!(err.kind(), omnistorage::ErrorKind::Unsupported);
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    fn stat_at(&self, path: impl AsPath) -> Result<Entry> {
        self.stat(&*path.as_path()?)
    }

    /// [`Backend::hash`] with a text path, not cancellable.
    fn hash_at(&self, path: impl AsPath, kind: HashKind) -> Result<Hash> {
        self.hash(&*path.as_path()?, kind, None)
    }

    /// [`Backend::set_modified`] with a text path.
    fn set_modified_at(&self, path: impl AsPath, modified: SystemTime) -> Result<Entry> {
        self.set_modified(&*path.as_path()?, modified)
    }

    /// [`Backend::create_dir`] with a text path.
    fn create_dir_at(&self, path: impl AsPath) -> Result<()> {
        self.create_dir(&*path.as_path()?)
    }

    /// [`Backend::remove_dir`] with a text path.
    fn remove_dir_at(&self, path: impl AsPath) -> Result<()> {
        self.remove_dir(&*path.as_path()?)
    }

    /// [`Backend::presign`] with a text path.
    fn presign_at(&self, path: impl AsPath, method: Presign, expires: Duration) -> Result<String> {
        self.presign(&*path.as_path()?, method, expires)
    }

    /// [`Backend::pending_uploads`] with a text prefix.
    fn pending_uploads_at(&self, prefix: impl AsPath) -> Result<PendingList> {
        self.pending_uploads(&*prefix.as_path()?)
    }
}

impl<B: Backend + ?Sized> BackendExt for B {}
