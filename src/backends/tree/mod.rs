//! What a backend that stores objects as files in a directory tree shares with every other
//! such backend: the local [file backend](crate::backends::file) now, SFTP next.
//!
//! A tree backend implements [`Tree`], a handful of primitive operations on its directories
//! (read one directory, `lstat` one name, make one directory), and gets from this module:
//!
//! - the **confinement rules** ([`names`]): which path segments are reserved (the staging
//!   prefix [`TEMP_PREFIX`](names::TEMP_PREFIX)), and [`parent_dir`], the walk from the root
//!   to an object's directory that refuses symlinks and objects in the way and creates what
//!   is missing;
//! - the **staging names** ([`names::StagedName`]): how a writer names the file it stages its
//!   bytes in beside the target, and how a reclaimer parses such a name back (which process,
//!   when, for which object);
//! - the **sorted walk** ([`walk::Walk`]): a lazy depth-first listing that reads one
//!   directory at a time and sorts it with a directory's name compared as `name + "/"`, so
//!   that full paths come in ascending byte order; it serves
//!   [`ListOptions`](crate::ListOptions) natively (a start point skips whole subtrees without
//!   reading them; one level yields directories as [`Entry::dir`](crate::Entry::dir)), stops
//!   on cancellation between directory reads, and can walk the staged files instead of the
//!   objects (for [`pending_uploads`](crate::Backend::pending_uploads)).
//!
//! What stays with each backend: opening, writing and renaming files (the commit), locks
//! (the file backend holds one on each staged file for the writer's life; SFTP has none and
//! relies on age alone), and how an entry is described.

pub(crate) mod names;
pub(crate) mod walk;

use std::time::SystemTime;

use crate::error::{Error, ErrorKind, Result};
use crate::path::Path;

/// What one name in a directory is, seen without following symlinks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A regular file: an object (or a staged file).
    File,
    /// A directory.
    Dir,
    /// A symbolic link: never followed, never listed.
    Symlink,
    /// A socket, device, FIFO, ...: not an object.
    Other,
}

/// One name read from a directory, with whatever the read told about it.
pub(crate) struct Child<A> {
    /// The name, valid UTF-8 (names that are not are reported as errors by
    /// [`Tree::read_dir`]).
    pub(crate) name: String,
    pub(crate) kind: Kind,
    /// What the backend's directory read returned beyond the name and kind (SFTP returns
    /// sizes and times with the names; a local `readdir` returns nothing more).
    #[allow(dead_code)] // the file backend's are `()`; SFTP's will be read
    pub(crate) attrs: A,
}

/// The primitive operations of a tree backend, on its own names for directories.
///
/// Implementations return this crate's [`Error`] with the kind of the underlying failure
/// ([`ErrorKind::NotFound`], [`ErrorKind::NotADirectory`], ...); the shared code adds the
/// operation, path and backend name.
pub(crate) trait Tree: Clone + Send + 'static {
    /// How the backend names a directory or file (a local `PathBuf`, an SFTP path).
    type Loc: Clone + Send + 'static;
    /// What [`read_dir`](Tree::read_dir) returns with each name.
    type Attrs: Send + 'static;

    /// The backend's name in errors (`file`, `sftp`).
    const NAME: &'static str;

    /// `Err(Closed)` once the backend is closed; a walk checks it before each step.
    fn check_open(&self, op: &'static str) -> Result<()>;

    /// The child `name` of `dir`.
    fn child(&self, dir: &Self::Loc, name: &str) -> Self::Loc;

    /// The names in `dir`, unsorted, without following symlinks. An `Err` for the whole
    /// read; an `Err` item for one name that cannot be used (not UTF-8), whose path, if set,
    /// is that name alone (lossily decoded): the walk makes it a full path.
    fn read_dir(&self, dir: &Self::Loc) -> Result<Vec<Result<Child<Self::Attrs>>>>;

    /// What `at` is, without following a symlink; `Ok(None)` if nothing is there.
    fn lstat_kind(&self, at: &Self::Loc) -> Result<Option<Kind>>;

    /// Creates the directory `at` (its parent exists). [`ErrorKind::AlreadyExists`] if
    /// something is there.
    fn mkdir(&self, at: &Self::Loc) -> Result<()>;

    /// The entry of the regular file `child` of `dir`, at `path`, for a listing; `Ok(None)`
    /// if it is gone or is no longer a regular file.
    fn file_entry(
        &self,
        dir: &Self::Loc,
        child: &Child<Self::Attrs>,
        path: &Path,
    ) -> Result<Option<crate::entry::Entry>>;

    /// The entry of the directory `child` of `dir`, at `path`, for a one-level listing:
    /// with its modification time where the backend has it cheaply (SFTP read it with the
    /// name; the file backend asks with one `lstat`). The default knows nothing more.
    fn dir_entry(
        &self,
        dir: &Self::Loc,
        child: &Child<Self::Attrs>,
        path: Path,
    ) -> crate::entry::Entry {
        let _ = (dir, child);
        crate::entry::Entry::dir(path)
    }

    /// The modification time of a staged file `child` of `dir` (for
    /// [`PendingUpload::started`](crate::PendingUpload) when its name does not say).
    fn staged_time(&self, dir: &Self::Loc, child: &Child<Self::Attrs>) -> Option<SystemTime>;
}

/// What the parent walk ([`parent_dir`]) needs: a subset of [`Tree`] that every `Tree` has,
/// and that a borrowed view can implement too (SFTP walks on the session its caller holds).
pub(crate) trait Dirs {
    /// How the backend names a directory or file.
    type Loc: Clone;
    /// The backend's name in errors.
    const NAME: &'static str;
    /// The child `name` of `dir`.
    fn child(&self, dir: &Self::Loc, name: &str) -> Self::Loc;
    /// What `at` is, without following a symlink; `Ok(None)` if nothing is there.
    fn lstat_kind(&self, at: &Self::Loc) -> Result<Option<Kind>>;
    /// Creates the directory `at`; [`ErrorKind::AlreadyExists`] if something is there.
    fn mkdir(&self, at: &Self::Loc) -> Result<()>;
}

impl<T: Tree> Dirs for T {
    type Loc = T::Loc;
    const NAME: &'static str = <T as Tree>::NAME;
    fn child(&self, dir: &T::Loc, name: &str) -> T::Loc {
        Tree::child(self, dir, name)
    }
    fn lstat_kind(&self, at: &T::Loc) -> Result<Option<Kind>> {
        Tree::lstat_kind(self, at)
    }
    fn mkdir(&self, at: &T::Loc) -> Result<()> {
        Tree::mkdir(self, at)
    }
}

/// An error with the context the shared code adds.
pub(crate) fn err<T: Dirs>(
    kind: ErrorKind,
    msg: &'static str,
    op: &'static str,
    path: &Path,
) -> Error {
    Error::new(kind, msg).context(op, path.as_str(), T::NAME)
}

/// The error for a path that names or goes through a symlink.
pub(crate) fn symlink_err<T: Dirs>(op: &'static str, path: &Path) -> Error {
    err::<T>(
        ErrorKind::PermissionDenied,
        "symlinks are not followed",
        op,
        path,
    )
}

fn in_the_way<T: Dirs>(op: &'static str, path: &Path) -> Error {
    err::<T>(
        ErrorKind::NotADirectory,
        "an object is in the way of a directory",
        op,
        path,
    )
}

/// The directory of `path` (its parent, under `root`), reached by checking each directory on
/// the way from `root` with `lstat`: a symlink is refused ([`ErrorKind::PermissionDenied`]),
/// an object in the way is [`ErrorKind::NotADirectory`], and a missing directory is created
/// when `create` (otherwise the answer is `Ok(None)`: nothing can be there). `root` itself is
/// taken as an existing directory.
///
/// Returns the directory and whether this call created it (then it is empty but for what
/// concurrent writers put there: the caller may skip looking for what is in it).
pub(crate) fn parent_dir<T: Dirs>(
    tree: &T,
    root: &T::Loc,
    op: &'static str,
    path: &Path,
    create: bool,
) -> Result<Option<(T::Loc, bool)>> {
    let mut dir = root.clone();
    let mut created = false;
    let parent = path.parent().unwrap_or_default();
    for seg in parent.segments() {
        dir = tree.child(&dir, seg);
        // Below a directory this call made, nothing exists yet: make the next one directly.
        let kind = if created {
            None
        } else {
            match tree.lstat_kind(&dir) {
                Ok(kind) => kind,
                Err(e) if e.kind() == ErrorKind::NotADirectory && !create => return Ok(None),
                Err(e) if e.kind() == ErrorKind::NotADirectory => {
                    return Err(in_the_way::<T>(op, path));
                }
                Err(e) => return Err(e.context(op, path.as_str(), T::NAME)),
            }
        };
        match kind {
            Some(Kind::Dir) => {}
            Some(Kind::Symlink) => return Err(symlink_err::<T>(op, path)),
            // Nothing can exist below an object: for a lookup, that is "not found".
            Some(_) if !create => return Ok(None),
            Some(_) => return Err(in_the_way::<T>(op, path)),
            None if !create => return Ok(None),
            None => match tree.mkdir(&dir) {
                Ok(()) => created = true,
                // Made by a concurrent writer (or this call's guess was wrong): check it.
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    created = false;
                    match tree.lstat_kind(&dir) {
                        Ok(Some(Kind::Dir)) => {}
                        Ok(Some(Kind::Symlink)) => return Err(symlink_err::<T>(op, path)),
                        Ok(_) => return Err(in_the_way::<T>(op, path)),
                        Err(e) => return Err(e.context(op, path.as_str(), T::NAME)),
                    }
                }
                Err(e) if e.kind() == ErrorKind::NotADirectory => {
                    return Err(in_the_way::<T>(op, path));
                }
                Err(e) => return Err(e.context(op, path.as_str(), T::NAME)),
            },
        }
    }
    Ok(Some((dir, created)))
}
