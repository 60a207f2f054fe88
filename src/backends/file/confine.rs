//! The root, and reaching a path under it without leaving it (see the module docs of
//! `src/backends/file/mod.rs`): the [`Tree`] primitives on the local file system, the parent
//! walk, and the lookups every operation starts with.

use std::fs;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use super::at::Dir;
use super::{FileBackend, NAME, entry_from, err, os_err, symlink_err};
use crate::backends::tree::{self, Child, Kind, Tree};
use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};
use crate::path::Path;

impl Tree for FileBackend {
    type Loc = PathBuf;
    type Attrs = ();
    const NAME: &'static str = NAME;

    fn check_open(&self, op: &'static str) -> Result<()> {
        FileBackend::check_open(self, op)
    }

    fn child(&self, dir: &PathBuf, name: &str) -> PathBuf {
        dir.join(name)
    }

    fn read_dir(&self, dir: &PathBuf) -> Result<Vec<Result<Child<()>>>> {
        let mut out = Vec::new();
        for item in fs::read_dir(dir).map_err(Error::from)? {
            let item = match item {
                Ok(item) => item,
                Err(e) => {
                    out.push(Err(Error::from(e)));
                    continue;
                }
            };
            let name = item.file_name();
            let Some(name) = name.to_str() else {
                out.push(Err(Error::new(
                    ErrorKind::InvalidPath,
                    "file name is not valid UTF-8",
                )
                .with_path(name.to_string_lossy().into_owned())));
                continue;
            };
            let kind = match item.file_type() {
                Ok(t) => kind_of(t),
                Err(e) => {
                    out.push(Err(Error::from(e)));
                    continue;
                }
            };
            out.push(Ok(Child {
                name: name.to_owned(),
                kind,
                attrs: (),
            }));
        }
        Ok(out)
    }

    fn lstat_kind(&self, at: &PathBuf) -> Result<Option<Kind>> {
        match fs::symlink_metadata(at) {
            Ok(m) => Ok(Some(kind_of(m.file_type()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::from(e)),
        }
    }

    fn mkdir(&self, at: &PathBuf) -> Result<()> {
        fs::create_dir(at).map_err(Error::from)
    }

    fn file_entry(&self, dir: &PathBuf, child: &Child<()>, path: &Path) -> Result<Option<Entry>> {
        match fs::symlink_metadata(dir.join(&child.name)) {
            Ok(m) if m.is_file() => Ok(Some(entry_from(path, &m))),
            Ok(_) => Ok(None),
            // Removed since the directory was read.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::from(e)),
        }
    }

    fn dir_entry(&self, dir: &PathBuf, child: &Child<()>, path: Path) -> Entry {
        match fs::symlink_metadata(dir.join(&child.name)) {
            Ok(m) if m.is_dir() => entry_from(&path, &m),
            // Gone or replaced since the directory was read: a directory with no time.
            _ => Entry::dir(path),
        }
    }

    fn staged_time(&self, dir: &PathBuf, child: &Child<()>) -> Option<SystemTime> {
        fs::symlink_metadata(dir.join(&child.name))
            .and_then(|m| m.modified())
            .ok()
    }
}

pub(super) fn kind_of(t: fs::FileType) -> Kind {
    if t.is_symlink() {
        Kind::Symlink
    } else if t.is_dir() {
        Kind::Dir
    } else if t.is_file() {
        Kind::File
    } else {
        Kind::Other
    }
}

/// Where a write lands: its directory, the target's name in it, and what is there now.
pub(super) struct Target {
    pub(super) dir: Dir,
    pub(super) name: String,
    /// The directory was created by this lookup (so nothing else is in it).
    pub(super) fresh_dir: bool,
    /// An object is at the target now.
    pub(super) exists: bool,
}

impl Target {
    /// The target's full path.
    pub(super) fn dest(&self) -> PathBuf {
        self.dir.path().join(&self.name)
    }
}

impl FileBackend {
    /// The parent directory of `path`, checked from the root (see [`tree::parent_dir`]);
    /// with `create`, the root and missing directories are created.
    pub(super) fn parent(
        &self,
        op: &'static str,
        path: &Path,
        create: bool,
    ) -> Result<Option<(PathBuf, bool)>> {
        let root = &self.inner.root;
        // Once the root is known to exist, writes skip checking it again.
        if create && !self.inner.root_seen.load(Ordering::Relaxed) {
            match fs::symlink_metadata(root) {
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
                    fs::create_dir_all(root).map_err(|e| os_err(e, op, path))?;
                }
                Err(e) => return Err(os_err(e, op, path)),
            }
            self.inner.root_seen.store(true, Ordering::Relaxed);
        }
        tree::parent_dir(self, root, op, path, create)
    }

    /// Like [`parent`](Self::parent), but the directory comes as a [`Dir`]: held by its
    /// handle where handles are used (one `openat2` beneath the root instead of a walk; see
    /// `at.rs`), by its path otherwise.
    pub(super) fn parent_dir(
        &self,
        op: &'static str,
        path: &Path,
        create: bool,
    ) -> Result<Option<(Dir, bool)>> {
        #[cfg(all(feature = "openat2", target_os = "linux"))]
        {
            use super::at::Found;
            let rel = path.parent().unwrap_or_default();
            // The root is made (or checked) the portable way, once.
            let ready = !create || self.inner.root_seen.load(Ordering::Relaxed);
            if ready
                && let Some(found) = self
                    .inner
                    .handles
                    .dir(&self.inner.root, rel.as_str(), create)
            {
                return match found.map_err(|e| os_err(e, op, path))? {
                    Found::Yes(found) => Ok(Some(found)),
                    Found::Symlink => Err(symlink_err(op, path)),
                    Found::Missing | Found::NotDir | Found::Special if !create => Ok(None),
                    Found::Missing => Err(err(
                        ErrorKind::NotFound,
                        "parent directory missing",
                        op,
                        path,
                    )),
                    Found::NotDir | Found::Special => Err(err(
                        ErrorKind::NotADirectory,
                        "an object is in the way of a directory",
                        op,
                        path,
                    )),
                };
            }
        }
        Ok(self
            .parent(op, path, create)?
            .map(|(dir, fresh)| (Dir::by_path(dir), fresh)))
    }

    /// Resolves the target of a write (its parents made), refusing a symlink or a directory
    /// at the target.
    pub(super) fn target(&self, op: &'static str, path: &Path) -> Result<Target> {
        let Some((dir, fresh_dir)) = self.parent_dir(op, path, true)? else {
            return Err(err(
                ErrorKind::NotFound,
                "parent directory missing",
                op,
                path,
            ));
        };
        let Some(name) = path.file_name() else {
            return Err(err(
                ErrorKind::InvalidPath,
                "the root is not an object",
                op,
                path,
            ));
        };
        let mut exists = false;
        // In a directory this call created there is nothing to look at.
        if !fresh_dir {
            match dir.kind_of(name) {
                Ok(Some(Kind::Symlink)) => return Err(symlink_err(op, path)),
                Ok(Some(Kind::Dir)) => {
                    return Err(err(
                        ErrorKind::IsADirectory,
                        "a directory is at this path",
                        op,
                        path,
                    ));
                }
                Ok(Some(_)) => exists = true,
                Ok(None) | Err(_) => {}
            }
        }
        Ok(Target {
            dir,
            name: name.to_owned(),
            fresh_dir,
            exists,
        })
    }

    /// The file-system path of `path` and its `lstat`, after checking the parents; `None` if
    /// it does not exist.
    pub(super) fn locate(
        &self,
        op: &'static str,
        path: &Path,
    ) -> Result<Option<(PathBuf, fs::Metadata)>> {
        let Some((mut full, _)) = self.parent(op, path, false)? else {
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
    pub(super) fn locate_file(
        &self,
        op: &'static str,
        path: &Path,
    ) -> Result<(PathBuf, fs::Metadata)> {
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

    /// Opens the regular file at `path` for reading, refusing a symlink anywhere on the way
    /// and a file swapped between the check and the open. Returns it with its metadata.
    pub(super) fn open_file(
        &self,
        op: &'static str,
        path: &Path,
    ) -> Result<(fs::File, fs::Metadata)> {
        #[cfg(all(feature = "openat2", target_os = "linux"))]
        if let Some(found) = self
            .inner
            .handles
            .open_file(&self.inner.root, path.as_str())
        {
            use super::at::Found;
            // One `openat2` beneath the root: no symlink on the way or at the end, checked
            // by the kernel as it opens, so nothing can be swapped in between.
            let file = match found.map_err(|e| os_err(e, op, path))? {
                Found::Yes(file) => file,
                Found::Symlink => return Err(symlink_err(op, path)),
                Found::Missing | Found::NotDir => {
                    return Err(err(ErrorKind::NotFound, "no such object", op, path));
                }
                Found::Special => {
                    return Err(err(ErrorKind::InvalidInput, "not a regular file", op, path));
                }
            };
            let opened = file.metadata().map_err(|e| os_err(e, op, path))?;
            return match opened.file_type() {
                t if t.is_file() => Ok((file, opened)),
                t if t.is_dir() => Err(err(
                    ErrorKind::IsADirectory,
                    "is a directory, not an object",
                    op,
                    path,
                )),
                _ => Err(err(ErrorKind::InvalidInput, "not a regular file", op, path)),
            };
        }
        let (full, seen) = self.locate_file(op, path)?;
        let file = fs::File::open(&full).map_err(|e| os_err(e, op, path))?;
        let opened = file.metadata().map_err(|e| os_err(e, op, path))?;
        if !same_file(&seen, &opened) {
            return Err(symlink_err(op, path));
        }
        Ok((file, opened))
    }
}

/// Makes `root` absolute and resolves symlinks in the part of it that exists.
pub(super) fn resolve_root(root: &std::path::Path) -> Result<PathBuf> {
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

#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &fs::Metadata, _: &fs::Metadata) -> bool {
    true
}
