//! The local file backend: a directory tree seen as a store of objects.
//!
//! One concern per file: `confine.rs` (the root, and reaching a path under it without leaving
//! it), `stage.rs` (staged writes and their commit), `read.rs` (readers), `copy.rs`
//! (server-side copy, move and `set_modified`, within one backend and between two),
//! `reclaim.rs` (staged files left by a crash), `backend.rs` (the [`Backend`] impl). What
//! SFTP will share (reserved names, staging names, the parent walk and the sorted listing
//! walk) is in `src/backends/tree/`.
//!
//! # Confinement
//!
//! A `FileBackend` never reaches outside its root:
//!
//! - [`Path`] cannot express `..`, an absolute path, or an empty segment, so no path text
//!   leaves the root;
//! - **symbolic links are not followed.** Every operation checks each directory it walks
//!   through with `lstat`; a path that names a symlink, or goes through one, fails with
//!   [`ErrorKind::PermissionDenied`] ("symlinks are not followed"), whether the link points
//!   inside the root or out of it, and `list` skips symlinks. This is rclone's default too
//!   (it skips links unless asked to follow them), and it makes the rule simple to check: no
//!   link can lead out, and no loop can form. The root itself may be (or lie under) a symlink:
//!   it is resolved once, when the backend is made. The same rules hold for the source of
//!   [`copy_from`](Backend::copy_from) and [`rename_from`](Backend::rename_from), under the
//!   *source's* root.
//! - On Unix, a reader (and a copy's source) checks that the file it opened is the one
//!   `lstat` saw (same device and inode), so a file swapped for a symlink between the check
//!   and the open is refused. Directories swapped for symlinks *while* an operation runs are
//!   not defended against: the tree is assumed not to be changed concurrently by a hostile
//!   local user.
//! - **On Linux with the `openat2` feature** (on in the CLI), the backend holds its root
//!   open and reaches a path beneath it in one `openat2` call with `RESOLVE_BENEATH |
//!   RESOLVE_NO_SYMLINKS`: the kernel itself refuses a symlink anywhere on the way and any
//!   way out of the root, as it opens, so nothing can be swapped in between. A read opens
//!   its file so; a write opens its directory so, then creates, locks, renames and links its
//!   staged file relative to that handle: a directory swapped for a symlink while the write
//!   runs is never written through (the write lands in the directory it opened). Nothing is
//!   kept beyond the root's handle: the next operation looks again. Same rules, same
//!   errors, fewer system calls; on kernels before 5.6 (or where `openat2` is forbidden) the
//!   portable route above is taken. The root is held from its first use: if it is moved,
//!   the backend follows it.
//!
//! # Atomic writes
//!
//! A writer stages its bytes in a temporary file in the target's own directory, named
//! `.omnistorage-tmp-PID-N-TIME.NAME`, and renames it over the target on [`Writer::finish`];
//! `abort`, drop and every error remove it. Names starting with `.omnistorage-tmp-` are
//! reserved: a [`Path`] with such a segment is [`ErrorKind::InvalidPath`] here, and `list`
//! never shows such files, so one left by a crash is never mistaken for an object.
//! [`WriteMode::CreateNew`](crate::WriteMode) commits with a hard link, which fails atomically
//! if the target exists (on file systems without hard links it falls back to check-then-rename,
//! which is not atomic).
//!
//! Where the target does not exist yet and directory handles are used (the `openat2`
//! feature, Linux), the staged file is made without a name (`O_TMPFILE`) and linked under
//! the target's name when complete (`linkat` through `/proc/self/fd`): the same atomicity,
//! one change of the directory instead of two, no lock, and nothing left behind by a crash.
//! File systems without `O_TMPFILE` take the named route.
//!
//! Files are not `fsync`ed unless [`FileBackend::with_sync`] asks for it (like `cp` and rclone).
//!
//! The parent directories a write needs are created when the writer is opened and stay, even
//! if the write is then aborted, and deleting an object leaves its directory: empty
//! directories are not objects, are never listed, and removing them while other writers may be
//! creating files in them would race. [`Backend::remove_dir`] removes one on request.
//!
//! # Staged files left by a crash
//!
//! A writer holds an exclusive lock (`flock` on Unix, `LockFileEx` on Windows) on its staged
//! file for its whole life, so any process can tell a live writer's file from one whose
//! writer died: the lock goes with the process. Such leftovers are reclaimed
//!
//! - **on request**: [`pending_uploads`](Backend::pending_uploads) lists the staged files
//!   under a prefix (live ones included) and [`abort_upload`](Backend::abort_upload) deletes
//!   one, unless a live writer holds it ([`ErrorKind::PreconditionFailed`]);
//! - **automatically**, when a writer (or a copy) stages into a directory that already
//!   existed and that this backend value has not looked at before: the directory is read
//!   once (the cost of listing it, once per directory per backend), and every staged file in
//!   it that can be locked is deleted, whatever its age: so the next run after a crash (a
//!   `kill -9` of a sync, say) clears what the killed one left in every directory it writes
//!   to. A file a live writer holds is never deleted. A writer creates its file and locks it
//!   in two steps; a reclaimer may lock and delete it in between, so the writer checks, once
//!   it holds the lock, that the name still leads to its file, and takes another name if not.
//!   On a file system without locks, a staged file is deleted only when the time in its name
//!   and its modification time are both older than the grace period
//!   ([`FileBackend::with_reclaim_after`], default one hour).
//!
//! # Listing
//!
//! `list` walks depth-first, reading one directory at a time (names only) and sorting it with
//! a directory's name compared as `name + "/"`, which yields full paths in ascending byte
//! order. Memory grows with the widest directory times the depth, never with the tree. Only
//! regular files are listed: directories, symlinks, sockets and other special files are not
//! objects. A name that is not valid UTF-8, or holds a control character, is one `Err` item.
//! [`ListOptions::start_after`](crate::ListOptions) skips whole subtrees that sort before it
//! without reading them, and a listing that is not recursive reads one directory, and gives
//! each directory under it with its modification time (one `lstat` each).
//!
//! # Space
//!
//! [`usage`](Backend::usage) answers with `statvfs` on the root (the file system's size,
//! what is used, what an unprivileged user may still write) on Linux with the `openat2`
//! feature, which brings the one crate it needs (rustix). Elsewhere, and in the default
//! build, it answers [`ErrorKind::Unsupported`], and [`Capabilities::usage`](crate::Capabilities)
//! says so.
//!
//! Modification times are kept with the file system's precision. The capabilities claim 1 ns,
//! which is true of ext4, XFS, btrfs and tmpfs; FAT keeps 2 s, HFS+ 1 s and NTFS 100 ns, so a
//! sync engine comparing times there should widen its window.

mod at;
mod backend;
mod confine;
mod copy;
mod read;
mod reclaim;
mod space;
mod stage;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::backends::guard::Guard;
use crate::entry::{Entry, Fields};
use crate::error::{Error, ErrorKind, Result};
use crate::path::Path;

pub use crate::backends::tree::names::TEMP_PREFIX;

#[allow(unused_imports)] // named by the module docs
use crate::{Backend, Writer};

const NAME: &str = "file";

/// The default grace period before a staged file is reclaimed on a file system without locks.
const RECLAIM_AFTER: Duration = Duration::from_secs(3600);

/// A store of objects in a local directory. See the [module docs](self) for the rules.
///
/// Cloning is cheap and shares the backend (closing one closes all clones).
///
/// ```
/// use omnistorage::{BackendExt, FileBackend};
///
/// let dir = std::env::temp_dir().join(format!("omnistorage-doc-{}", std::process::id()));
/// let store = FileBackend::new(&dir)?; // created on first write
/// store.write_all("notes/today.txt", b"buy milk")?;
/// assert_eq!(store.read_to_vec("notes/today.txt")?, b"buy milk");
/// assert!(dir.join("notes/today.txt").is_file());
///
/// // Nothing can name a file outside the root.
/// assert!(store.read_to_vec("../etc/passwd").is_err());
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), omnistorage::Error>(())
/// ```
#[derive(Clone)]
pub struct FileBackend {
    inner: Arc<Inner>,
}

struct Inner {
    /// Absolute; resolved through symlinks as far as it exists.
    root: PathBuf,
    sync: bool,
    /// Staged files older than this, and not locked, are reclaimed; `None`: never
    /// automatically.
    reclaim_after: Option<Duration>,
    /// Closed flag, and the checks every operation starts with.
    guard: Guard,
    /// The root is known to exist (a directory removed from under the backend later makes
    /// writes fail with `NotFound`, not recreate it).
    root_seen: AtomicBool,
    /// Directories already looked at for leftovers (bounded; see `reclaim.rs`).
    swept: Mutex<std::collections::HashSet<PathBuf>>,
    /// The last other file backend a copy or move came from (see `copy.rs`): kept, so that
    /// a sync between two trees does not make (and open the root of) one per file.
    peer: Mutex<Option<FileBackend>>,
    /// The root held open, for lookups beneath it (see `at.rs`).
    #[cfg(all(feature = "openat2", target_os = "linux"))]
    handles: at::Handles,
}

impl std::fmt::Debug for FileBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileBackend")
            .field("root", &self.inner.root)
            .field("sync", &self.inner.sync)
            .field("reclaim_after", &self.inner.reclaim_after)
            .finish()
    }
}

/// Maps an OS error to ours, with context.
fn os_err(e: std::io::Error, op: &'static str, path: &Path) -> Error {
    Error::from(e).context(op, path.as_str(), NAME)
}

fn err(kind: ErrorKind, msg: &'static str, op: &'static str, path: &Path) -> Error {
    Error::new(kind, msg).context(op, path.as_str(), NAME)
}

fn symlink_err(op: &'static str, path: &Path) -> Error {
    err(
        ErrorKind::PermissionDenied,
        "symlinks are not followed",
        op,
        path,
    )
}

impl FileBackend {
    /// A backend rooted at `root`. The directory need not exist yet: it is created by the
    /// first write, and until then reads find nothing.
    ///
    /// Fails with [`ErrorKind::NotADirectory`] if `root` is a file, and
    /// [`ErrorKind::InvalidConfig`] if it cannot be made absolute.
    pub fn new(root: impl AsRef<std::path::Path>) -> Result<FileBackend> {
        let root = confine::resolve_root(root.as_ref())?;
        Ok(FileBackend::from_parts(
            root,
            false,
            Some(RECLAIM_AFTER),
            false,
        ))
    }

    fn from_parts(
        root: PathBuf,
        sync: bool,
        reclaim_after: Option<Duration>,
        closed: bool,
    ) -> FileBackend {
        FileBackend {
            inner: Arc::new(Inner {
                root,
                sync,
                reclaim_after,
                guard: {
                    let guard = Guard::new(NAME);
                    if closed {
                        guard.close();
                    }
                    guard
                },
                root_seen: AtomicBool::new(false),
                swept: Mutex::new(std::collections::HashSet::new()),
                peer: Mutex::new(None),
                #[cfg(all(feature = "openat2", target_os = "linux"))]
                handles: at::Handles::new(),
            }),
        }
    }

    /// Whether `finish` calls `fsync` on the file before renaming it into place (default
    /// `false`). With `true`, a committed object survives a power failure.
    pub fn with_sync(self, sync: bool) -> FileBackend {
        let i = &self.inner;
        FileBackend::from_parts(i.root.clone(), sync, i.reclaim_after, i.guard.is_closed())
    }

    /// Automatic reclaim of staged files left by a crash: `None` turns it off; `Some(age)` is
    /// the grace period on file systems without locks (default one hour), where a staged file
    /// is deleted only when it is older than that. Where locks work, a staged file no live
    /// writer holds is deleted whatever its age. [`abort_upload`](Backend::abort_upload)
    /// does not wait for it. See the [module docs](self#staged-files-left-by-a-crash).
    ///
    /// ```
    /// use omnistorage::FileBackend;
    /// use std::time::Duration;
    ///
    /// let dir = std::env::temp_dir().join("omnistorage-doc-reclaim");
    /// let store = FileBackend::new(&dir)?.with_reclaim_after(Some(Duration::from_secs(60)));
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn with_reclaim_after(self, after: Option<Duration>) -> FileBackend {
        let i = &self.inner;
        FileBackend::from_parts(i.root.clone(), i.sync, after, i.guard.is_closed())
    }

    /// The root directory (absolute, symlinks in it resolved).
    pub fn root(&self) -> &std::path::Path {
        &self.inner.root
    }

    fn check_open(&self, op: &'static str) -> Result<()> {
        self.inner.guard.check(op)
    }

    /// Checks that `path` names an object (not the root) and no segment is reserved.
    fn object_path(&self, op: &'static str, path: &Path) -> Result<()> {
        self.inner.guard.object(op, path)?;
        crate::backends::tree::names::check_reserved(op, path, NAME)
    }
}

/// The entry of a file or directory from its metadata. A file stores no content type,
/// metadata or hashes: the entry is complete.
fn entry_from(path: &Path, m: &std::fs::Metadata) -> Entry {
    let entry = if m.is_dir() {
        Entry::dir(path.clone())
    } else {
        Entry::file(path.clone(), m.len()).with_etag(version_tag(m))
    };
    entry
        .with_modified(m.modified().ok())
        .with_filled(Fields::ALL)
}

/// The file's version tag ([`Entry::etag`]): device, inode and change time, which every
/// write to the file (and every change of its metadata) moves on. Equal tags mean the file
/// was not changed in between: what the sync engine's hash cache keys on, beside size and
/// modification time. `None` where the OS has no inodes.
fn version_tag(m: &std::fs::Metadata) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(format!(
            "{:x}.{:x}.{:x}.{:x}",
            m.dev(),
            m.ino(),
            m.ctime(),
            m.ctime_nsec()
        ))
    }
    #[cfg(not(unix))]
    {
        let _ = m;
        None
    }
}
