//! The local file backend: a directory tree seen as a store of objects.
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
//!   it is resolved once, when the backend is made.
//! - On Unix, a reader checks that the file it opened is the one `lstat` saw (same device and
//!   inode), so a file swapped for a symlink between the check and the open is refused.
//!   Directories swapped for symlinks *while* an operation runs are not defended against: the
//!   tree is assumed not to be changed concurrently by a hostile local user.
//!
//! # Atomic writes
//!
//! A writer stages its bytes in a temporary file in the target's own directory, named
//! `.omnistorage-tmp-…`, and renames it over the target on [`Writer::finish`]; `abort`, drop
//! and every error remove it. Names starting with that prefix are reserved: a [`Path`] with such
//! a segment is [`ErrorKind::InvalidPath`] here, and `list` never shows such files, so one left
//! by a crash is ignored (it can be removed by hand; it is never mistaken for an object).
//! [`WriteMode::CreateNew`](crate::WriteMode) commits with a hard link, which fails atomically
//! if the target exists (on file systems without hard links it falls back to check-then-rename,
//! which is not atomic).
//!
//! Files are not `fsync`ed unless [`FileBackend::with_sync`] asks for it (like `cp` and rclone).
//!
//! The parent directories a write needs are created when the writer is opened and stay, even
//! if the write is then aborted, and deleting an object leaves its directory: empty
//! directories are not objects, are never listed, and removing them while other writers may be
//! creating files in them would race. [`Backend::remove_dir`] removes one on request.
//!
//! # Listing
//!
//! `list` walks depth-first, reading one directory at a time (names only) and sorting it with
//! a directory's name compared as `name + "/"`, which yields full paths in ascending byte
//! order. Memory grows with the widest directory times the depth, never with the tree. Only
//! regular files are listed: directories, symlinks, sockets and other special files are not
//! objects. A name that is not valid UTF-8, or holds a control character, is one `Err` item.
//!
//! Modification times are kept with the file system's precision. The capabilities claim 1 ns,
//! which is true of ext4, XFS, btrfs and tmpfs; FAT keeps 2 s, HFS+ 1 s and NTFS 100 ns, so a
//! sync engine comparing times there should widen its window.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::backend::{Backend, List};
use crate::entry::{Capabilities, Entry, Fields};
use crate::error::{Error, ErrorKind, Result};
use crate::hash::HashKinds;
use crate::io::{Reader, WriteSink, Writer};
use crate::location::Location;
use crate::options::{ListOptions, ReadOptions, WriteMode, WriteOptions};
use crate::path::Path;

const NAME: &str = "file";

/// The prefix of staged files. Path segments starting with it are reserved.
pub const TEMP_PREFIX: &str = ".omnistorage-tmp-";

const WRITE_BUFFER: usize = 128 * 1024;

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
    closed: AtomicBool,
    /// The root is known to exist (a directory removed from under the backend later makes
    /// writes fail with `NotFound`, not recreate it).
    root_seen: AtomicBool,
}

impl std::fmt::Debug for FileBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileBackend")
            .field("root", &self.inner.root)
            .field("sync", &self.inner.sync)
            .finish()
    }
}

/// Maps an OS error to ours, with context.
fn os_err(e: io::Error, op: &'static str, path: &Path) -> Error {
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
        let root = resolve_root(root.as_ref())?;
        Ok(FileBackend {
            inner: Arc::new(Inner {
                root,
                sync: false,
                closed: AtomicBool::new(false),
                root_seen: AtomicBool::new(false),
            }),
        })
    }

    /// Whether `finish` calls `fsync` on the file before renaming it into place (default
    /// `false`). With `true`, a committed object survives a power failure.
    pub fn with_sync(self, sync: bool) -> FileBackend {
        FileBackend {
            inner: Arc::new(Inner {
                root: self.inner.root.clone(),
                sync,
                closed: AtomicBool::new(self.inner.closed.load(Ordering::Acquire)),
                root_seen: AtomicBool::new(false),
            }),
        }
    }

    /// The root directory (absolute, symlinks in it resolved).
    pub fn root(&self) -> &std::path::Path {
        &self.inner.root
    }

    fn check_open(&self, op: &'static str) -> Result<()> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::closed(op).with_backend(NAME));
        }
        Ok(())
    }

    /// Checks that `path` names an object (not the root) and no segment is reserved.
    fn object_path(&self, op: &'static str, path: &Path) -> Result<()> {
        self.check_open(op)?;
        if path.is_root() {
            return Err(err(
                ErrorKind::InvalidPath,
                "the root is not an object",
                op,
                path,
            ));
        }
        check_reserved(op, path)
    }

    /// Walks the parent directories of `path` from the root, refusing symlinks and objects in
    /// the way, creating missing ones if `create`. Returns the parent's file-system path, or
    /// `None` if a parent is missing and `create` is false.
    fn parent_dir(&self, op: &'static str, path: &Path, create: bool) -> Result<Option<PathBuf>> {
        let mut dir = self.inner.root.clone();
        let parent = path.parent().unwrap_or_default();
        // Once the root is known to exist, writes skip checking it again.
        if create && !self.inner.root_seen.load(Ordering::Relaxed) {
            match fs::symlink_metadata(&dir) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return Err(err(
                        ErrorKind::NotADirectory,
                        "the root is not a directory",
                        op,
                        path,
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    fs::create_dir_all(&dir).map_err(|e| os_err(e, op, path))?;
                }
                Err(e) => return Err(os_err(e, op, path)),
            }
            self.inner.root_seen.store(true, Ordering::Relaxed);
        }
        for seg in parent.segments() {
            dir.push(seg);
            match fs::symlink_metadata(&dir) {
                Ok(m) if m.is_dir() => {}
                Ok(m) if m.file_type().is_symlink() => return Err(symlink_err(op, path)),
                // Nothing can exist below an object: for a lookup, that is "not found".
                Ok(_) if !create => return Ok(None),
                Ok(_) => {
                    return Err(err(
                        ErrorKind::NotADirectory,
                        "an object is in the way of a directory",
                        op,
                        path,
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    if !create {
                        return Ok(None);
                    }
                    match fs::create_dir(&dir) {
                        Ok(()) => {}
                        // Made by a concurrent writer: check what it is.
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                            let m = fs::symlink_metadata(&dir).map_err(|e| os_err(e, op, path))?;
                            if !m.is_dir() {
                                return Err(err(
                                    ErrorKind::NotADirectory,
                                    "an object is in the way of a directory",
                                    op,
                                    path,
                                ));
                            }
                        }
                        Err(e) => return Err(os_err(e, op, path)),
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotADirectory && !create => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::NotADirectory => {
                    return Err(err(
                        ErrorKind::NotADirectory,
                        "an object is in the way of a directory",
                        op,
                        path,
                    ));
                }
                Err(e) => return Err(os_err(e, op, path)),
            }
        }
        Ok(Some(dir))
    }

    /// The file-system path of `path` and its `lstat`, after checking the parents; `None` if
    /// it does not exist.
    fn locate(&self, op: &'static str, path: &Path) -> Result<Option<(PathBuf, fs::Metadata)>> {
        let Some(mut full) = self.parent_dir(op, path, false)? else {
            return Ok(None);
        };
        if let Some(name) = path.file_name() {
            full.push(name);
        }
        match fs::symlink_metadata(&full) {
            Ok(m) if m.file_type().is_symlink() => Err(symlink_err(op, path)),
            Ok(m) => Ok(Some((full, m))),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(os_err(e, op, path)),
        }
    }

    /// Like [`locate`](Self::locate), but the object must exist and be a regular file.
    fn locate_file(&self, op: &'static str, path: &Path) -> Result<(PathBuf, fs::Metadata)> {
        match self.locate(op, path)? {
            None => Err(err(ErrorKind::NotFound, "no such object", op, path)),
            Some((_, m)) if m.is_dir() => Err(err(
                ErrorKind::IsADirectory,
                "is a directory, not an object",
                op,
                path,
            )),
            Some((_, m)) if !m.is_file() => {
                Err(err(ErrorKind::InvalidInput, "not a regular file", op, path))
            }
            Some(found) => Ok(found),
        }
    }

    /// Creates a new staging file beside `dest`.
    fn stage(
        &self,
        op: &'static str,
        path: &Path,
        dir: &std::path::Path,
    ) -> Result<(PathBuf, File)> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        for _ in 0..16 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let tmp = dir.join(format!("{TEMP_PREFIX}{}-{n}-{nanos:08x}", pid()));
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
            {
                Ok(file) => return Ok((tmp, file)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(os_err(e, op, path)),
            }
        }
        Err(err(
            ErrorKind::AlreadyExists,
            "could not find a free name for a staging file",
            op,
            path,
        ))
    }

    fn entry_from(&self, path: &Path, m: &fs::Metadata) -> Entry {
        // A file stores no content type, metadata or hashes: the entry is complete.
        let entry = if m.is_dir() {
            Entry::dir(path.clone())
        } else {
            Entry::file(path.clone(), m.len())
        };
        entry
            .with_modified(m.modified().ok())
            .with_filled(Fields::ALL)
    }
}

/// The process id, read once (it is part of every staging file's name).
fn pid() -> u32 {
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *PID.get_or_init(std::process::id)
}

/// Makes `root` absolute and resolves symlinks in the part of it that exists.
fn resolve_root(root: &std::path::Path) -> Result<PathBuf> {
    let bad = |msg: &'static str| {
        Error::new(ErrorKind::InvalidConfig, msg)
            .with_backend(NAME)
            .with_path(root.display().to_string())
    };
    if root.as_os_str().is_empty() {
        return Err(bad("the root directory is empty"));
    }
    let abs = if root.is_absolute() {
        root.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| bad("cannot read the current directory").with_source(e))?
            .join(root)
    };
    // Find the longest prefix that exists, canonicalize it, and append the rest.
    let mut existing = abs.clone();
    let mut rest = Vec::new();
    loop {
        match fs::canonicalize(&existing) {
            Ok(canon) => {
                let mut out = canon;
                for part in rest.iter().rev() {
                    out.push(part);
                }
                if rest.is_empty() && !out.is_dir() {
                    return Err(Error::new(
                        ErrorKind::NotADirectory,
                        "the root is not a directory",
                    )
                    .with_backend(NAME)
                    .with_path(root.display().to_string()));
                }
                return Ok(out);
            }
            Err(_) => {
                let Some(name) = existing.file_name().map(|n| n.to_os_string()) else {
                    return Err(bad("cannot resolve the root directory"));
                };
                if name == ".." {
                    return Err(bad("a missing root may not contain '..'"));
                }
                rest.push(name);
                if !existing.pop() {
                    return Err(bad("cannot resolve the root directory"));
                }
            }
        }
    }
}

fn check_reserved(op: &'static str, path: &Path) -> Result<()> {
    if path.segments().any(|s| s.starts_with(TEMP_PREFIX)) {
        return Err(err(
            ErrorKind::InvalidPath,
            "names starting with .omnistorage-tmp- are reserved for staged writes",
            op,
            path,
        ));
    }
    Ok(())
}

#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &fs::Metadata, _: &fs::Metadata) -> bool {
    true
}

impl FileBackend {
    /// The recursive listing of `prefix`, in listing order.
    fn list_recursive(&self, prefix: &Path) -> Result<List> {
        const OP: &str = "list";
        self.check_open(OP)?;
        if prefix.segments().any(|s| s.starts_with(TEMP_PREFIX)) {
            return Ok(Box::new(std::iter::empty()));
        }
        let start = if prefix.is_root() {
            match fs::symlink_metadata(&self.inner.root) {
                Ok(m) if m.is_dir() => Some((self.inner.root.clone(), m)),
                Ok(_) => None,
                Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                Err(e) => return Err(os_err(e, OP, prefix)),
            }
        } else {
            match self.locate(OP, prefix) {
                Ok(found) => found,
                // A symlink on the way: nothing to list, as `list` skips symlinks.
                Err(e) if e.kind() == ErrorKind::PermissionDenied => None,
                Err(e) if e.kind() == ErrorKind::NotADirectory => None,
                Err(e) => return Err(e),
            }
        };
        let walk = match start {
            None => Walk::empty(self.clone()),
            Some((_, m)) if m.is_file() => {
                let entry = self.entry_from(prefix, &m);
                Walk::single(self.clone(), entry)
            }
            Some((full, m)) if m.is_dir() => Walk::dir(self.clone(), prefix.clone(), full),
            Some(_) => Walk::empty(self.clone()),
        };
        Ok(Box::new(walk))
    }
}

impl Backend for FileBackend {
    fn reader(&self, path: &Path, opts: &ReadOptions) -> Result<Reader> {
        const OP: &str = "read";
        self.object_path(OP, path)?;
        let (full, meta) = self.locate_file(OP, path)?;
        let mut file = File::open(&full).map_err(|e| os_err(e, OP, path))?;
        let opened = file.metadata().map_err(|e| os_err(e, OP, path))?;
        if !same_file(&meta, &opened) {
            return Err(symlink_err(OP, path));
        }
        let (start, end) = opts.clamp(opened.len());
        if start > 0 {
            file.seek(SeekFrom::Start(start))
                .map_err(|e| os_err(e, OP, path))?;
        }
        let len = end - start;
        let reader = if opts.length.is_some() {
            Reader::new(file.take(len))
        } else {
            Reader::new(file)
        };
        Ok(reader.with_size(len))
    }

    fn writer(&self, path: &Path, opts: &WriteOptions) -> Result<Writer> {
        const OP: &str = "write";
        self.object_path(OP, path)?;
        let Some(dir) = self.parent_dir(OP, path, true)? else {
            return Err(err(
                ErrorKind::NotFound,
                "parent directory missing",
                OP,
                path,
            ));
        };
        let Some(name) = path.file_name() else {
            return Err(err(
                ErrorKind::InvalidPath,
                "the root is not an object",
                OP,
                path,
            ));
        };
        let dest = dir.join(name);
        match fs::symlink_metadata(&dest) {
            Ok(m) if m.file_type().is_symlink() => return Err(symlink_err(OP, path)),
            Ok(m) if m.is_dir() => {
                return Err(err(
                    ErrorKind::IsADirectory,
                    "a directory is at this path",
                    OP,
                    path,
                ));
            }
            Ok(_) if opts.mode == WriteMode::CreateNew => {
                return Err(err(ErrorKind::AlreadyExists, "the object exists", OP, path));
            }
            _ => {}
        }
        let (tmp, file) = self.stage(OP, path, &dir)?;
        Ok(Writer::new(FileSink {
            file: Some(BufWriter::with_capacity(WRITE_BUFFER, file)),
            staged: Staged(Some(tmp)),
            dest,
            path: path.clone(),
            opts: opts.clone(),
            written: 0,
            backend: self.clone(),
        })
        .with_cancel(opts.cancel.as_ref()))
    }

    fn exists(&self, path: &Path) -> Result<bool> {
        const OP: &str = "exists";
        self.check_open(OP)?;
        if path.is_root() {
            return Ok(false);
        }
        check_reserved(OP, path)?;
        Ok(matches!(self.locate(OP, path)?, Some((_, m)) if m.is_file()))
    }

    fn delete(&self, path: &Path) -> Result<()> {
        const OP: &str = "delete";
        self.object_path(OP, path)?;
        match self.locate(OP, path)? {
            None => Ok(()),
            Some((_, m)) if m.is_dir() => Err(err(
                ErrorKind::IsADirectory,
                "is a directory; use remove_dir",
                OP,
                path,
            )),
            Some((full, _)) => match fs::remove_file(&full) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(os_err(e, OP, path)),
            },
        }
    }

    fn list(&self, prefix: &Path, opts: &ListOptions) -> Result<List> {
        Ok(crate::listing::adapt(
            self.list_recursive(prefix)?,
            prefix,
            opts,
        ))
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
            directories: true,
            server_side_copy: true,
            server_side_move: true,
            modified_time: Some(Duration::from_nanos(1)),
            set_modified: false,
            metadata: false,
            hashes: HashKinds::NONE,
            listed: Fields::ALL,
            presign: false,
            pending_uploads: false,
            streams: None,
        }
    }

    fn close(&self) -> Result<()> {
        self.inner.closed.store(true, Ordering::Release);
        Ok(())
    }

    fn location(&self) -> Option<Location> {
        // Every file backend of this process reaches the same local file system.
        Some(Location::new(
            "file",
            "",
            self.inner.root.to_string_lossy().into_owned(),
        ))
    }

    fn stat(&self, path: &Path) -> Result<Entry> {
        const OP: &str = "stat";
        self.check_open(OP)?;
        check_reserved(OP, path)?;
        if path.is_root() {
            return match fs::metadata(&self.inner.root) {
                Ok(m) => Ok(self.entry_from(path, &m)),
                Err(e) => Err(os_err(e, OP, path)),
            };
        }
        match self.locate(OP, path)? {
            None => Err(err(ErrorKind::NotFound, "no such object", OP, path)),
            Some((_, m)) => Ok(self.entry_from(path, &m)),
        }
    }

    fn create_dir(&self, path: &Path) -> Result<()> {
        const OP: &str = "create_dir";
        self.check_open(OP)?;
        check_reserved(OP, path)?;
        let Some(mut dir) = self.parent_dir(OP, path, true)? else {
            return Err(err(
                ErrorKind::NotFound,
                "parent directory missing",
                OP,
                path,
            ));
        };
        let Some(name) = path.file_name() else {
            return Ok(()); // the root, created by parent_dir
        };
        dir.push(name);
        match fs::create_dir(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                match fs::symlink_metadata(&dir) {
                    Ok(m) if m.is_dir() => Ok(()),
                    Ok(m) if m.file_type().is_symlink() => Err(symlink_err(OP, path)),
                    _ => Err(err(
                        ErrorKind::AlreadyExists,
                        "an object exists at this path",
                        OP,
                        path,
                    )),
                }
            }
            Err(e) => Err(os_err(e, OP, path)),
        }
    }

    fn remove_dir(&self, path: &Path) -> Result<()> {
        const OP: &str = "remove_dir";
        self.object_path(OP, path)?;
        match self.locate(OP, path)? {
            None => Ok(()),
            Some((full, m)) if m.is_dir() => match fs::remove_dir(&full) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(os_err(e, OP, path)),
            },
            Some(_) => Err(err(
                ErrorKind::NotADirectory,
                "is an object, not a directory",
                OP,
                path,
            )),
        }
    }

    fn copy(&self, from: &Path, to: &Path) -> Result<Entry> {
        self.copy_within(from, to)?;
        self.stat(to)
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<Entry> {
        self.rename_within(from, to)?;
        self.stat(to)
    }
}

impl FileBackend {
    fn copy_within(&self, from: &Path, to: &Path) -> Result<()> {
        const OP: &str = "copy";
        self.object_path(OP, from)?;
        self.object_path(OP, to)?;
        let (src, meta) = self.locate_file(OP, from)?;
        if from == to {
            return Ok(());
        }
        let Some(dir) = self.parent_dir(OP, to, true)? else {
            return Err(err(ErrorKind::NotFound, "parent directory missing", OP, to));
        };
        let Some(name) = to.file_name() else {
            return Err(err(
                ErrorKind::InvalidPath,
                "the root is not an object",
                OP,
                to,
            ));
        };
        let dest = dir.join(name);
        if let Ok(m) = fs::symlink_metadata(&dest) {
            if m.file_type().is_symlink() {
                return Err(symlink_err(OP, to));
            }
            if m.is_dir() {
                return Err(err(
                    ErrorKind::IsADirectory,
                    "a directory is at this path",
                    OP,
                    to,
                ));
            }
        }
        let (tmp, file) = self.stage(OP, to, &dir)?;
        let mut staged = Staged(Some(tmp));
        drop(file);
        let tmp = staged.path();
        // fs::copy uses copy_file_range / reflinks where the file system has them.
        fs::copy(&src, tmp).map_err(|e| os_err(e, OP, from))?;
        let out = fs::OpenOptions::new()
            .write(true)
            .open(tmp)
            .map_err(|e| os_err(e, OP, to))?;
        if let Ok(modified) = meta.modified() {
            out.set_modified(modified).map_err(|e| os_err(e, OP, to))?;
        }
        if self.inner.sync {
            out.sync_all().map_err(|e| os_err(e, OP, to))?;
        }
        drop(out);
        fs::rename(tmp, &dest).map_err(|e| os_err(e, OP, to))?;
        staged.disarm();
        Ok(())
    }

    fn rename_within(&self, from: &Path, to: &Path) -> Result<()> {
        const OP: &str = "rename";
        self.object_path(OP, from)?;
        self.object_path(OP, to)?;
        let (src, _) = self.locate_file(OP, from)?;
        if from == to {
            return Ok(());
        }
        let Some(dir) = self.parent_dir(OP, to, true)? else {
            return Err(err(ErrorKind::NotFound, "parent directory missing", OP, to));
        };
        let Some(name) = to.file_name() else {
            return Err(err(
                ErrorKind::InvalidPath,
                "the root is not an object",
                OP,
                to,
            ));
        };
        let dest = dir.join(name);
        if let Ok(m) = fs::symlink_metadata(&dest) {
            if m.file_type().is_symlink() {
                return Err(symlink_err(OP, to));
            }
            if m.is_dir() {
                return Err(err(
                    ErrorKind::IsADirectory,
                    "a directory is at this path",
                    OP,
                    to,
                ));
            }
        }
        match fs::rename(&src, &dest) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::CrossesDevices => {
                // The root spans file systems: copy, then remove the source.
                self.copy_within(from, to)?;
                fs::remove_file(&src).map_err(|e| os_err(e, OP, from))
            }
            Err(e) => Err(os_err(e, OP, to)),
        }
    }
}

/// A staged file that is removed on drop unless disarmed.
struct Staged(Option<PathBuf>);

impl Staged {
    fn path(&self) -> &std::path::Path {
        self.0.as_deref().unwrap_or(std::path::Path::new(""))
    }
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_file(p);
        }
    }
}

struct FileSink {
    file: Option<BufWriter<File>>,
    staged: Staged,
    dest: PathBuf,
    path: Path,
    opts: WriteOptions,
    written: u64,
    backend: FileBackend,
}

impl FileSink {
    fn file(&mut self) -> io::Result<&mut BufWriter<File>> {
        self.file
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::Closed, "writer is closed").into())
    }

    fn commit(mut self) -> Result<Entry> {
        const OP: &str = "write";
        let path = self.path.clone();
        let Some(buffered) = self.file.take() else {
            return Err(err(ErrorKind::Closed, "writer is closed", OP, &path));
        };
        let file = buffered
            .into_inner()
            .map_err(|e| os_err(e.into_error(), OP, &path))?;
        self.opts
            .check_size(self.written)
            .map_err(|e| e.context(OP, path.as_str(), NAME))?;
        self.backend.check_open(OP)?;
        if let Some(modified) = self.opts.modified {
            file.set_modified(modified)
                .map_err(|e| os_err(e, OP, &path))?;
        }
        if self.backend.inner.sync {
            file.sync_all().map_err(|e| os_err(e, OP, &path))?;
        }
        drop(file);
        let tmp = self.staged.path().to_path_buf();
        match self.opts.mode {
            WriteMode::CreateNew => match fs::hard_link(&tmp, &self.dest) {
                Ok(()) => {} // `staged` removes the temporary name on drop
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    return Err(err(
                        ErrorKind::AlreadyExists,
                        "the object exists",
                        OP,
                        &path,
                    ));
                }
                Err(_) => {
                    // No hard links here: check, then rename (not atomic).
                    if fs::symlink_metadata(&self.dest).is_ok() {
                        return Err(err(
                            ErrorKind::AlreadyExists,
                            "the object exists",
                            OP,
                            &path,
                        ));
                    }
                    fs::rename(&tmp, &self.dest).map_err(|e| os_err(e, OP, &path))?;
                    self.staged.disarm();
                }
            },
            _ => {
                fs::rename(&tmp, &self.dest).map_err(|e| os_err(e, OP, &path))?;
                self.staged.disarm();
            }
        }
        let meta = fs::symlink_metadata(&self.dest).map_err(|e| os_err(e, OP, &path))?;
        Ok(self.backend.entry_from(&path, &meta))
    }
}

impl Write for FileSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file()?.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file()?.flush()
    }
}

impl WriteSink for FileSink {
    fn finish(self: Box<Self>) -> Result<Entry> {
        self.commit()
    }

    fn abort(mut self: Box<Self>) -> Result<()> {
        // Drop the file without flushing, then `staged` removes it.
        if let Some(buffered) = self.file.take() {
            let (file, _) = buffered.into_parts();
            drop(file);
        }
        Ok(())
    }
}

/// The depth-first walk behind `list`.
struct Walk {
    backend: FileBackend,
    /// A single entry to yield (the prefix named a file).
    single: Option<Entry>,
    stack: Vec<Frame>,
    /// A directory to open on the next call.
    pending: Option<(Path, PathBuf)>,
    /// Problems found on the way, yielded before what follows them.
    errors: std::collections::VecDeque<Error>,
}

struct Frame {
    dir: Path,
    fs_dir: PathBuf,
    children: std::vec::IntoIter<Child>,
}

struct Child {
    /// The sort key: the name, plus `/` for a directory.
    key: String,
    is_dir: bool,
}

impl Walk {
    fn empty(backend: FileBackend) -> Walk {
        Walk {
            backend,
            single: None,
            stack: Vec::new(),
            pending: None,
            errors: std::collections::VecDeque::new(),
        }
    }

    fn single(backend: FileBackend, entry: Entry) -> Walk {
        Walk {
            single: Some(entry),
            ..Walk::empty(backend)
        }
    }

    fn dir(backend: FileBackend, dir: Path, fs_dir: PathBuf) -> Walk {
        Walk {
            pending: Some((dir, fs_dir)),
            ..Walk::empty(backend)
        }
    }

    /// Reads and sorts one directory. Bad names become errors to yield.
    fn open(dir: &Path, fs_dir: &std::path::Path) -> Result<(Frame, Vec<Error>)> {
        let mut children = Vec::new();
        let mut errors = Vec::new();
        let read = fs::read_dir(fs_dir).map_err(|e| os_err(e, "list", dir))?;
        for item in read {
            let item = match item {
                Ok(item) => item,
                Err(e) => {
                    errors.push(os_err(e, "list", dir));
                    continue;
                }
            };
            let name = item.file_name();
            let Some(name) = name.to_str() else {
                errors.push(
                    Error::new(ErrorKind::InvalidPath, "file name is not valid UTF-8").context(
                        "list",
                        &format!("{}/{}", dir, name.to_string_lossy()),
                        NAME,
                    ),
                );
                continue;
            };
            if name.starts_with(TEMP_PREFIX) {
                continue;
            }
            let file_type = match item.file_type() {
                Ok(t) => t,
                Err(e) => {
                    errors.push(os_err(e, "list", dir));
                    continue;
                }
            };
            if file_type.is_dir() {
                children.push(Child {
                    key: format!("{name}/"),
                    is_dir: true,
                });
            } else if file_type.is_file() {
                children.push(Child {
                    key: name.to_owned(),
                    is_dir: false,
                });
            }
            // Symlinks and special files are not objects.
        }
        children.sort_unstable_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
        Ok((
            Frame {
                dir: dir.clone(),
                fs_dir: fs_dir.to_path_buf(),
                children: children.into_iter(),
            },
            errors,
        ))
    }
}

impl Iterator for Walk {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        if let Err(e) = self.backend.check_open("list") {
            self.stack.clear();
            self.pending = None;
            self.single = None;
            self.errors.clear();
            return Some(Err(e));
        }
        if let Some(entry) = self.single.take() {
            return Some(Ok(entry));
        }
        loop {
            if let Some(e) = self.errors.pop_front() {
                return Some(Err(e));
            }
            if let Some((dir, fs_dir)) = self.pending.take() {
                match Walk::open(&dir, &fs_dir) {
                    Ok((frame, errors)) => {
                        self.stack.push(frame);
                        self.errors.extend(errors);
                    }
                    Err(e) => return Some(Err(e)),
                }
                continue;
            }
            let frame = self.stack.last_mut()?;
            let Some(child) = frame.children.next() else {
                self.stack.pop();
                continue;
            };
            let name = child.key.strip_suffix('/').unwrap_or(&child.key);
            let rel = match frame.dir.join_str(name) {
                Ok(p) => p,
                Err(e) => {
                    self.errors
                        .push_back(e.context("list", frame.dir.as_str(), NAME));
                    continue;
                }
            };
            let full = frame.fs_dir.join(name);
            if child.is_dir {
                self.pending = Some((rel, full));
                continue;
            }
            return match fs::symlink_metadata(&full) {
                Ok(m) if m.is_file() => Some(Ok(self.backend.entry_from(&rel, &m))),
                Ok(_) => continue,
                // Removed since the directory was read.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => Some(Err(os_err(e, "list", &rel))),
            };
        }
    }
}
