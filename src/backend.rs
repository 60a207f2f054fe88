//! The traits: [`Backend`] (every store), [`ExtendedBackend`] (metadata, directories,
//! server-side copy and move), and [`BackendExt`] (sugar for all of them).

use std::fmt;
use std::sync::Arc;

use crate::entry::{Capabilities, Entry};
use crate::error::{Error, ErrorKind, Result};
use crate::helpers;
use crate::io::{Reader, Writer};
use crate::options::{ReadOptions, WriteOptions};
use crate::path::{AsPath, Path};

/// A listing: one `Result` per entry, so that one bad entry does not end the walk.
///
/// Listings are lazy (they fetch as they go) and own what they need (`'static`), so they can
/// outlive the borrow of the backend and move to another thread.
pub type List = Box<dyn Iterator<Item = Result<Entry>> + Send + 'static>;

/// A storage system, seen through blocking `std::io` streams.
///
/// Every method documents its **behaviour**; that list is also the plan of the
/// conformance suite (module `conformance`, feature `conformance`) that every backend runs. In short:
///
/// - paths are [`Path`]s, relative to the backend's root; the root itself is not an object;
/// - objects become visible whole or not at all ([`Writer::finish`]);
/// - `list` is recursive, matches its prefix by segment, and yields objects in ascending byte
///   order of their full path;
/// - what [`capabilities`](Backend::capabilities) says is missing answers
///   [`ErrorKind::Unsupported`];
/// - after [`close`](Backend::close), operations answer [`ErrorKind::Closed`].
///
/// Implement this for a new store; use [`BackendExt`] (implemented for every backend) for the
/// conveniences.
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

    /// Lists the objects under `prefix`, recursively.
    ///
    /// Behaviour:
    /// - `prefix` matches by segment: `a/b` lists `a/b` itself and `a/b/...`, never `a/bc`;
    /// - the root lists everything; a missing prefix lists nothing (not an error);
    /// - objects only (no directory entries), in **ascending byte order of their full path**;
    /// - lazy: it does not gather the whole tree before yielding the first entry;
    /// - a problem with one entry is one `Err` item; the walk goes on where it can.
    fn list(&self, prefix: &Path) -> Result<List>;

    /// What this backend can do.
    fn capabilities(&self) -> Capabilities;

    /// Releases what the backend holds. Afterwards every operation answers
    /// [`ErrorKind::Closed`]. Closing twice is `Ok`.
    fn close(&self) -> Result<()> {
        Ok(())
    }

    /// This backend as an [`ExtendedBackend`], if it is one.
    fn as_extended(&self) -> Option<&dyn ExtendedBackend> {
        None
    }

    /// A text that names the storage this backend's root addresses, such as
    /// `file:///srv/data` or `s3://endpoint/bucket/prefix`, or `None` if unknown.
    ///
    /// Two backends with the same location reach the same objects under the same paths. The
    /// helpers use it to choose server-side operations and to refuse to move an object onto
    /// itself; the sync engine, to refuse overlapping source and destination.
    fn location(&self) -> Option<String> {
        None
    }
}

/// A [`Backend`] that also knows metadata, directories, and server-side copy and move.
///
/// Reach it through [`Backend::as_extended`]. [`Capabilities`] says which of these work; the
/// others answer [`ErrorKind::Unsupported`].
pub trait ExtendedBackend: Backend {
    /// Describes the object (or directory) at `path`.
    ///
    /// Behaviour: missing → [`ErrorKind::NotFound`]; the entry agrees with what `list`
    /// yields for the same object (size, modification time); a directory gives an entry with
    /// `is_dir` set.
    fn stat(&self, path: &Path) -> Result<Entry>;

    /// Creates a directory and its parents (`mkdir -p`).
    ///
    /// Behaviour: `Ok` if it exists already; an object in the way is
    /// [`ErrorKind::AlreadyExists`] or [`ErrorKind::NotADirectory`]; on stores without
    /// directories ([`Capabilities::directories`] is false), `Ok` and nothing happens.
    fn create_dir(&self, path: &Path) -> Result<()>;

    /// Removes an empty directory.
    ///
    /// Behaviour: a missing directory is `Ok`; a non-empty one is
    /// [`ErrorKind::DirectoryNotEmpty`]; an object is [`ErrorKind::NotADirectory`]; on stores
    /// without directories, `Ok` and nothing happens.
    fn remove_dir(&self, path: &Path) -> Result<()>;

    /// Copies the object at `from` to `to` inside the store, without streaming it through the
    /// client. Keeps the modification time.
    ///
    /// Behaviour: replaces an object at `to`, atomically; a missing `from` is
    /// [`ErrorKind::NotFound`] and creates nothing; `from == to` is a no-op (after checking
    /// that it exists).
    fn copy(&self, from: &Path, to: &Path) -> Result<()>;

    /// Moves the object at `from` to `to` inside the store.
    ///
    /// Behaviour: replaces an object at `to`; afterwards `from` is gone; a missing `from` is
    /// [`ErrorKind::NotFound`] and changes nothing; `from == to` is a no-op (after checking
    /// that it exists).
    fn rename(&self, from: &Path, to: &Path) -> Result<()>;
}

macro_rules! forward_backend {
    ($($ty:ty),*) => {$(
        #[deny(clippy::missing_trait_methods)]
        impl<T: Backend + ?Sized> Backend for $ty {
            fn reader(&self, path: &Path, opts: &ReadOptions) -> Result<Reader> {
                (**self).reader(path, opts)
            }
            fn writer(&self, path: &Path, opts: &WriteOptions) -> Result<Writer> {
                (**self).writer(path, opts)
            }
            fn exists(&self, path: &Path) -> Result<bool> {
                (**self).exists(path)
            }
            fn delete(&self, path: &Path) -> Result<()> {
                (**self).delete(path)
            }
            fn list(&self, prefix: &Path) -> Result<List> {
                (**self).list(prefix)
            }
            fn capabilities(&self) -> Capabilities {
                (**self).capabilities()
            }
            fn close(&self) -> Result<()> {
                (**self).close()
            }
            fn as_extended(&self) -> Option<&dyn ExtendedBackend> {
                (**self).as_extended()
            }
            fn location(&self) -> Option<String> {
                (**self).location()
            }
        }

        #[deny(clippy::missing_trait_methods)]
        impl<T: ExtendedBackend + ?Sized> ExtendedBackend for $ty {
            fn stat(&self, path: &Path) -> Result<Entry> {
                (**self).stat(path)
            }
            fn create_dir(&self, path: &Path) -> Result<()> {
                (**self).create_dir(path)
            }
            fn remove_dir(&self, path: &Path) -> Result<()> {
                (**self).remove_dir(path)
            }
            fn copy(&self, from: &Path, to: &Path) -> Result<()> {
                (**self).copy(from, to)
            }
            fn rename(&self, from: &Path, to: &Path) -> Result<()> {
                (**self).rename(from, to)
            }
        }
    )*};
}

forward_backend!(&T, Box<T>, Arc<T>);

/// Conveniences for every [`Backend`] (`dyn Backend` included): text paths, default options,
/// whole-object reads and writes.
///
/// Paths are anything [`AsPath`]: a [`Path`] or text, validated on the way in.
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

    /// [`Backend::list`] with a text prefix.
    fn list_at(&self, prefix: impl AsPath) -> Result<List> {
        self.list(&*prefix.as_path()?)
    }

    /// Gathers a whole listing into a `Vec`, failing on the first bad entry. Use
    /// [`Backend::list`] to stream instead.
    fn list_all(&self, prefix: impl AsPath) -> Result<Vec<Entry>> {
        self.list(&*prefix.as_path()?)?.collect()
    }

    /// Describes the object at `path`: [`ExtendedBackend::stat`] where the backend has it,
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
}

impl<B: Backend + ?Sized> BackendExt for B {}
