//! [`Wrap`]: the one way to write a backend that wraps another and changes a few operations.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::backend::{Backend, List, PendingList, PendingUpload, Presign};
use crate::cancel::Cancel;
use crate::entry::{Capabilities, Entry};
use crate::error::Result;
use crate::hash::{Hash, HashKind};
use crate::io::{Reader, Writer};
use crate::location::Location;
use crate::options::{ListOptions, ReadOptions, WriteOptions};
use crate::path::Path;
use crate::usage::Usage;

/// A backend that wraps another: every method it does not override goes to
/// [`inner`](Wrap::inner) unchanged, and every `Wrap` is a [`Backend`].
///
/// Write a wrapper (a retry, a rate limit, metrics, a test double that fails on cue) by
/// naming the inner backend and overriding only what the wrapper changes; every other
/// operation, the optional ones and [`capabilities`](Backend::capabilities) included, is
/// forwarded, and so will be the methods added to [`Backend`] later. It is the shape of
/// Apache OpenDAL's `LayeredAccessor`.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// use omnistorage::{Backend, BackendExt, MemoryBackend, Path, ReadOptions, Reader, Result};
///
/// /// Counts the readers opened; everything else is the inner backend's.
/// #[derive(Debug)]
/// struct CountReads<B> {
///     inner: B,
///     reads: AtomicU64,
/// }
///
/// impl<B: Backend> omnistorage::Wrap for CountReads<B> {
///     type Inner = B;
///
///     fn inner(&self) -> &B {
///         &self.inner
///     }
///
///     fn reader(&self, path: &Path, opts: &ReadOptions) -> Result<Reader> {
///         self.reads.fetch_add(1, Ordering::Relaxed);
///         self.inner().reader(path, opts)
///     }
/// }
///
/// let store = CountReads { inner: MemoryBackend::new(), reads: AtomicU64::new(0) };
/// store.write_all("a.txt", b"hello")?; // forwarded
/// assert_eq!(store.read_to_vec("a.txt")?, b"hello");
/// assert!(store.capabilities().stat); // forwarded too
/// assert_eq!(store.reads.load(Ordering::Relaxed), 1);
/// # Ok::<(), omnistorage::Error>(())
/// ```
///
/// What to keep in mind:
///
/// - **Forwarded means forwarded.** A method that is not overridden goes to the inner
///   backend as it is, and does not pass through the wrapper's overrides: the inner
///   backend's [`hash`](Backend::hash) reads with its own readers, not the wrapper's. A
///   wrapper that changes the bytes (compression, encryption) or the paths must override
///   every method that sees them: `hash`, `presign`, `copy_from`, `rename_from`,
///   `set_modified` and the entries it returns, and say in
///   [`capabilities`](Wrap::capabilities) what it no longer offers.
/// - **Method names.** `Wrap` and [`Backend`] have the same method names, so a method call
///   on a type that is both (any wrapper, and `Box`, `Arc` and `&` of any backend) is
///   ambiguous (error E0034) where `Wrap` is in scope: inside an `impl Wrap` block, or where
///   it is imported. In overrides, reach the inner backend through
///   [`self.inner()`](Wrap::inner), as above: it is only a `Backend`, whatever holds it
///   (`Arc<B>`, `Box<dyn Backend>`). Implement `Wrap` by its path
///   (`impl omnistorage::Wrap for …`) and import only `Backend` (or
///   [`BackendExt`](crate::BackendExt)) where the backend is used.
/// - `&T`, `Box<T>` and `Arc<T>` of any backend are wrappers with nothing overridden: that is
///   how they are backends.
///
/// One place, the implementation of `Backend` for every `Wrap`, lists every method and is
/// checked by `#[deny(clippy::missing_trait_methods)]`: a method added to `Backend` fails
/// the build there until it is added here, with its forwarding default.
pub trait Wrap: Send + Sync + fmt::Debug {
    /// The backend underneath.
    type Inner: Backend + ?Sized;

    /// The backend underneath, which gets every call this wrapper does not override.
    fn inner(&self) -> &Self::Inner;

    /// [`Backend::reader`]; forwarded by default.
    fn reader(&self, path: &Path, opts: &ReadOptions) -> Result<Reader> {
        self.inner().reader(path, opts)
    }

    /// [`Backend::writer`]; forwarded by default.
    fn writer(&self, path: &Path, opts: &WriteOptions) -> Result<Writer> {
        self.inner().writer(path, opts)
    }

    /// [`Backend::exists`]; forwarded by default.
    fn exists(&self, path: &Path) -> Result<bool> {
        self.inner().exists(path)
    }

    /// [`Backend::delete`]; forwarded by default.
    fn delete(&self, path: &Path) -> Result<()> {
        self.inner().delete(path)
    }

    /// [`Backend::list`]; forwarded by default.
    fn list(&self, prefix: &Path, opts: &ListOptions) -> Result<List> {
        self.inner().list(prefix, opts)
    }

    /// [`Backend::capabilities`]; forwarded by default. A wrapper that takes an operation
    /// away (or makes one cost more) says so here.
    fn capabilities(&self) -> Capabilities {
        self.inner().capabilities()
    }

    /// [`Backend::close`]; forwarded by default.
    fn close(&self) -> Result<()> {
        self.inner().close()
    }

    /// [`Backend::location`]; forwarded by default. A wrapper that changes the bytes or the
    /// paths returns a location of its own (or `None`), so that a server-side copy between it
    /// and its inner backend is never chosen.
    fn location(&self) -> Option<Location> {
        self.inner().location()
    }

    /// [`Backend::stat`]; forwarded by default.
    fn stat(&self, path: &Path) -> Result<Entry> {
        self.inner().stat(path)
    }

    /// [`Backend::create_dir`]; forwarded by default.
    fn create_dir(&self, path: &Path) -> Result<()> {
        self.inner().create_dir(path)
    }

    /// [`Backend::remove_dir`]; forwarded by default.
    fn remove_dir(&self, path: &Path) -> Result<()> {
        self.inner().remove_dir(path)
    }

    /// [`Backend::copy`]; forwarded by default.
    fn copy(&self, from: &Path, to: &Path) -> Result<Entry> {
        self.inner().copy(from, to)
    }

    /// [`Backend::rename`]; forwarded by default.
    fn rename(&self, from: &Path, to: &Path) -> Result<Entry> {
        self.inner().rename(from, to)
    }

    /// [`Backend::copy_from`]; forwarded by default.
    fn copy_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        self.inner().copy_from(src, from, to)
    }

    /// [`Backend::rename_from`]; forwarded by default.
    fn rename_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        self.inner().rename_from(src, from, to)
    }

    /// [`Backend::set_modified`]; forwarded by default.
    fn set_modified(&self, path: &Path, modified: SystemTime) -> Result<Entry> {
        self.inner().set_modified(path, modified)
    }

    /// [`Backend::hash`]; forwarded by default (the inner backend's stored hash, or its
    /// bytes hashed: not this wrapper's).
    fn hash(&self, path: &Path, kind: HashKind, cancel: Option<&Cancel>) -> Result<Hash> {
        self.inner().hash(path, kind, cancel)
    }

    /// [`Backend::delete_many`]; forwarded by default (not through this wrapper's `delete`).
    fn delete_many(&self, paths: &[Path]) -> Vec<Result<()>> {
        self.inner().delete_many(paths)
    }

    /// [`Backend::presign`]; forwarded by default.
    fn presign(&self, path: &Path, method: Presign, expires: Duration) -> Result<String> {
        self.inner().presign(path, method, expires)
    }

    /// [`Backend::pending_uploads`]; forwarded by default.
    fn pending_uploads(&self, prefix: &Path) -> Result<PendingList> {
        self.inner().pending_uploads(prefix)
    }

    /// [`Backend::abort_upload`]; forwarded by default.
    fn abort_upload(&self, upload: &PendingUpload) -> Result<()> {
        self.inner().abort_upload(upload)
    }

    /// [`Backend::usage`]; forwarded by default.
    fn usage(&self) -> Result<Usage> {
        self.inner().usage()
    }
}

/// The one place that lists every method of [`Backend`].
#[deny(clippy::missing_trait_methods)]
impl<W: Wrap> Backend for W {
    fn reader(&self, path: &Path, opts: &ReadOptions) -> Result<Reader> {
        Wrap::reader(self, path, opts)
    }
    fn writer(&self, path: &Path, opts: &WriteOptions) -> Result<Writer> {
        Wrap::writer(self, path, opts)
    }
    fn exists(&self, path: &Path) -> Result<bool> {
        Wrap::exists(self, path)
    }
    fn delete(&self, path: &Path) -> Result<()> {
        Wrap::delete(self, path)
    }
    fn list(&self, prefix: &Path, opts: &ListOptions) -> Result<List> {
        Wrap::list(self, prefix, opts)
    }
    fn capabilities(&self) -> Capabilities {
        Wrap::capabilities(self)
    }
    fn close(&self) -> Result<()> {
        Wrap::close(self)
    }
    fn location(&self) -> Option<Location> {
        Wrap::location(self)
    }
    fn stat(&self, path: &Path) -> Result<Entry> {
        Wrap::stat(self, path)
    }
    fn create_dir(&self, path: &Path) -> Result<()> {
        Wrap::create_dir(self, path)
    }
    fn remove_dir(&self, path: &Path) -> Result<()> {
        Wrap::remove_dir(self, path)
    }
    fn copy(&self, from: &Path, to: &Path) -> Result<Entry> {
        Wrap::copy(self, from, to)
    }
    fn rename(&self, from: &Path, to: &Path) -> Result<Entry> {
        Wrap::rename(self, from, to)
    }
    fn copy_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        Wrap::copy_from(self, src, from, to)
    }
    fn rename_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        Wrap::rename_from(self, src, from, to)
    }
    fn set_modified(&self, path: &Path, modified: SystemTime) -> Result<Entry> {
        Wrap::set_modified(self, path, modified)
    }
    fn hash(&self, path: &Path, kind: HashKind, cancel: Option<&Cancel>) -> Result<Hash> {
        Wrap::hash(self, path, kind, cancel)
    }
    fn delete_many(&self, paths: &[Path]) -> Vec<Result<()>> {
        Wrap::delete_many(self, paths)
    }
    fn presign(&self, path: &Path, method: Presign, expires: Duration) -> Result<String> {
        Wrap::presign(self, path, method, expires)
    }
    fn pending_uploads(&self, prefix: &Path) -> Result<PendingList> {
        Wrap::pending_uploads(self, prefix)
    }
    fn abort_upload(&self, upload: &PendingUpload) -> Result<()> {
        Wrap::abort_upload(self, upload)
    }
    fn usage(&self) -> Result<Usage> {
        Wrap::usage(self)
    }
}

/// A borrowed backend is a backend.
impl<T: Backend + ?Sized> Wrap for &T {
    type Inner = T;
    fn inner(&self) -> &T {
        self
    }
}

/// A boxed backend (what [`open`](crate::open) returns) is a backend.
impl<T: Backend + ?Sized> Wrap for Box<T> {
    type Inner = T;
    fn inner(&self) -> &T {
        self
    }
}

/// A shared backend is a backend.
impl<T: Backend + ?Sized> Wrap for Arc<T> {
    type Inner = T;
    fn inner(&self) -> &T {
        self
    }
}
