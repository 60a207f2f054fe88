//! The [`Backend`] impl of [`SftpBackend`]: each operation checks its path, then runs on a
//! pooled session (retried on a fresh one where running twice is safe).

use std::path::Path as FsPath;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::errors::{FAILURE, NO_SUCH_FILE, from_ssh, is_status};
use super::ext;
use super::op::Op;
use super::tree::{Under, entry_of, kind_of};
use super::write::seconds;
use super::{NAME, SftpBackend, err, full_under};
use crate::backend::{Backend, List, PendingList, PendingUpload};
use crate::backends::tree::Kind;
use crate::backends::tree::names::{StagedName, check_reserved, is_reserved};
use crate::backends::tree::walk::{Select, Start, Walk};
use crate::cancel::Cancel;
use crate::entry::{Capabilities, Entry, Fields};
use crate::error::{Error, ErrorKind, Result};
use crate::hash::{Hash, HashKind, HashKinds};
use crate::io::{Reader, Writer};
use crate::location::Location;
use crate::options::{ListOptions, ReadOptions, WriteMode, WriteOptions};
use crate::path::Path;
use crate::usage::Usage;

impl SftpBackend {
    /// The root of the backend whose location is `loc`, if it is on this server: `None`
    /// for anything else (the caller streams then).
    fn source_root(&self, loc: &Location) -> Option<String> {
        let here = self.location_of();
        if !here.same_store(loc) {
            return None;
        }
        Some(match loc.root() {
            "" => String::new(),
            r => format!("/{r}"),
        })
    }

    fn location_of(&self) -> Location {
        Location::new(
            NAME,
            self.inner.pool.config().store(),
            self.inner.root.clone(),
        )
    }

    /// Copies `from` (under `src_root`) to `to` inside the server, with `copy-data`, into a
    /// staged file committed like a write; `None` if the server cannot.
    fn copy_inside(&self, src_root: &str, from: &Path, to: &Path) -> Option<Result<Entry>> {
        const OP: Op = Op::Copy;
        if !self.inner.copy_data {
            return None;
        }
        let checks = self
            .object_path(OP.name(), from)
            .and_then(|()| self.object_path(OP.name(), to));
        if let Err(e) = checks {
            return Some(Err(e));
        }
        Some(self.run(OP, to, |conn| {
            let (src, stat) = self.regular_file_in(conn, src_root, OP.name(), from)?;
            self.ensure_root(conn)?;
            let name = to.file_name().unwrap_or_default();
            let Some(dir) = self.dir_of(conn, &self.inner.root, OP.name(), to, true)? else {
                return Err(err(ErrorKind::NotFound, "no directory", OP.name(), to));
            };
            let target = format!("{dir}/{name}");
            if target == src {
                return Ok(entry_of(to, &stat));
            }
            self.sweep(conn, &dir);
            let staged = format!("{dir}/{}", StagedName::make(name));
            let done = conn
                .with_ext(ext::COPY_DATA, |x| x.copy_file(&src, &staged))
                .unwrap_or(Err(ext::ExtError::Status(8)))
                .map_err(|e| from_ssh(e.into_ssh()))
                .and_then(|()| match stat.mtime {
                    Some(secs) => self.set_times(conn, &staged, secs),
                    None => Ok(()),
                })
                .and_then(|()| self.commit(conn, &staged, &target, WriteMode::Overwrite));
            if let Err(e) = done {
                self.remove_staged(Some(conn), &staged);
                return Err(e);
            }
            Ok(entry_of(to, &stat))
        }))
    }

    /// Renames `from` (under `src_root`) to `to`, replacing what is there.
    fn rename_inside(&self, src_root: &str, from: &Path, to: &Path) -> Result<Entry> {
        const OP: Op = Op::Rename;
        self.object_path(OP.name(), from)?;
        self.object_path(OP.name(), to)?;
        self.run(OP, to, |conn| {
            let (src, stat) = self.regular_file_in(conn, src_root, OP.name(), from)?;
            self.ensure_root(conn)?;
            let Some(dir) = self.dir_of(conn, &self.inner.root, OP.name(), to, true)? else {
                return Err(err(ErrorKind::NotFound, "no directory", OP.name(), to));
            };
            let target = format!("{dir}/{}", to.file_name().unwrap_or_default());
            if target != src {
                self.commit(conn, &src, &target, WriteMode::Overwrite)?;
            }
            Ok(entry_of(to, &stat))
        })
    }

    /// Where a listing of `prefix` starts.
    fn start(&self, prefix: &Path) -> Result<Start<Under>> {
        const OP: Op = Op::List;
        self.run(OP, prefix, |conn| {
            if prefix.is_root() {
                let root = full_under(&self.inner.root, prefix);
                return Ok(match self.lstat(conn, &root)? {
                    Some(s) if kind_of(&s) == Kind::Dir => Start::Dir(root),
                    _ => Start::Nothing,
                });
            }
            let dir = match self.dir_of(conn, &self.inner.root, OP.name(), prefix, false) {
                Ok(Some(dir)) => dir,
                Ok(None) => return Ok(Start::Nothing),
                // A symlink or an object on the way: nothing to list.
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::PermissionDenied | ErrorKind::NotADirectory
                    ) =>
                {
                    return Ok(Start::Nothing);
                }
                Err(e) => return Err(e),
            };
            let full = format!("{dir}/{}", prefix.file_name().unwrap_or_default());
            Ok(match self.lstat(conn, &full)? {
                Some(s) if kind_of(&s) == Kind::File => Start::Object(entry_of(prefix, &s)),
                Some(s) if kind_of(&s) == Kind::Dir => Start::Dir(full),
                _ => Start::Nothing,
            })
        })
    }
}

impl Backend for SftpBackend {
    fn reader(&self, path: &Path, opts: &ReadOptions) -> Result<Reader> {
        self.open_reader(path, opts)
    }

    fn writer(&self, path: &Path, opts: &WriteOptions) -> Result<Writer> {
        self.open_writer(path, opts)
    }

    fn exists(&self, path: &Path) -> Result<bool> {
        const OP: Op = Op::Exists;
        self.check_open(OP.name())?;
        if path.is_root() {
            return Ok(false);
        }
        check_reserved(OP.name(), path, NAME)?;
        self.run(OP, path, |conn| {
            let Some(dir) = self.dir_of(conn, &self.inner.root, OP.name(), path, false)? else {
                return Ok(false);
            };
            let full = format!("{dir}/{}", path.file_name().unwrap_or_default());
            Ok(self
                .lstat(conn, &full)?
                .is_some_and(|s| kind_of(&s) == Kind::File))
        })
    }

    fn delete(&self, path: &Path) -> Result<()> {
        const OP: Op = Op::Delete;
        self.object_path(OP.name(), path)?;
        self.run(OP, path, |conn| {
            let Some(dir) = self.dir_of(conn, &self.inner.root, OP.name(), path, false)? else {
                return Ok(());
            };
            let full = format!("{dir}/{}", path.file_name().unwrap_or_default());
            match self.lstat(conn, &full)?.map(|s| kind_of(&s)) {
                None => Ok(()),
                Some(Kind::Dir) => Err(err(
                    ErrorKind::IsADirectory,
                    "is a directory; use remove_dir",
                    OP.name(),
                    path,
                )),
                Some(Kind::Symlink) => Err(err(
                    ErrorKind::PermissionDenied,
                    "symlinks are not followed",
                    OP.name(),
                    path,
                )),
                Some(_) => match conn.sftp.unlink(FsPath::new(&full)) {
                    Ok(()) => Ok(()),
                    Err(e) if is_status(&e, NO_SUCH_FILE) => Ok(()),
                    Err(e) => Err(from_ssh(e)),
                },
            }
        })
    }

    fn list(&self, prefix: &Path, opts: &ListOptions) -> Result<List> {
        self.check_open("list")?;
        if prefix.segments().any(is_reserved) {
            return Ok(Box::new(std::iter::empty()));
        }
        let start = self.start(prefix)?;
        let walk = Walk::new(
            Under {
                backend: self.clone(),
            },
            prefix,
            start,
            Select::Objects {
                recursive: opts.recursive,
            },
            opts.start_after.clone(),
            opts.cancel.clone(),
        );
        Ok(Box::new(walk.objects()))
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
            server_side_copy: self.inner.copy_data,
            server_side_move: true,
            modified_time: Some(Duration::from_secs(1)),
            set_modified: true,
            metadata: false,
            hashes: HashKinds::NONE,
            server_hashes: self.server_hashes(),
            listed: Fields::ALL,
            presign: false,
            pending_uploads: true,
            usage: self.inner.statvfs,
            close: true,
            local: false,
            streams: None,
            version_tags: false,
        }
    }

    fn close(&self) -> Result<()> {
        self.inner.guard.close();
        self.inner.pool.clear();
        Ok(())
    }

    fn location(&self) -> Option<Location> {
        Some(self.location_of())
    }

    fn stat(&self, path: &Path) -> Result<Entry> {
        const OP: Op = Op::Stat;
        self.check_open(OP.name())?;
        check_reserved(OP.name(), path, NAME)?;
        self.run(OP, path, |conn| {
            let full = match path.is_root() {
                true => full_under(&self.inner.root, path),
                false => match self.dir_of(conn, &self.inner.root, OP.name(), path, false)? {
                    Some(dir) => format!("{dir}/{}", path.file_name().unwrap_or_default()),
                    None => {
                        return Err(err(ErrorKind::NotFound, "no such object", OP.name(), path));
                    }
                },
            };
            match self.lstat(conn, &full)? {
                None => Err(err(ErrorKind::NotFound, "no such object", OP.name(), path)),
                Some(s) => match kind_of(&s) {
                    Kind::File | Kind::Dir => Ok(entry_of(path, &s)),
                    Kind::Symlink => Err(err(
                        ErrorKind::PermissionDenied,
                        "symlinks are not followed",
                        OP.name(),
                        path,
                    )),
                    Kind::Other => Err(err(
                        ErrorKind::NotFound,
                        "not a regular file",
                        OP.name(),
                        path,
                    )),
                },
            }
        })
    }

    fn create_dir(&self, path: &Path) -> Result<()> {
        const OP: Op = Op::CreateDir;
        self.check_open(OP.name())?;
        check_reserved(OP.name(), path, NAME)?;
        self.run(OP, path, |conn| {
            self.ensure_root(conn)?;
            if path.is_root() {
                return Ok(());
            }
            let Some(dir) = self.dir_of(conn, &self.inner.root, OP.name(), path, true)? else {
                return Err(err(
                    ErrorKind::NotFound,
                    "parent directory missing",
                    OP.name(),
                    path,
                ));
            };
            let full = format!("{dir}/{}", path.file_name().unwrap_or_default());
            match conn.sftp.mkdir(FsPath::new(&full), 0o755) {
                Ok(()) => Ok(()),
                Err(e) => match self.lstat(conn, &full)?.map(|s| kind_of(&s)) {
                    Some(Kind::Dir) => Ok(()),
                    Some(Kind::Symlink) => Err(err(
                        ErrorKind::PermissionDenied,
                        "symlinks are not followed",
                        OP.name(),
                        path,
                    )),
                    Some(_) => Err(err(
                        ErrorKind::AlreadyExists,
                        "an object exists at this path",
                        OP.name(),
                        path,
                    )),
                    None => Err(from_ssh(e)),
                },
            }
        })
    }

    fn remove_dir(&self, path: &Path) -> Result<()> {
        const OP: Op = Op::RemoveDir;
        self.object_path(OP.name(), path)?;
        self.run(OP, path, |conn| {
            let Some(dir) = self.dir_of(conn, &self.inner.root, OP.name(), path, false)? else {
                return Ok(());
            };
            let full = format!("{dir}/{}", path.file_name().unwrap_or_default());
            match self.lstat(conn, &full)?.map(|s| kind_of(&s)) {
                None => Ok(()),
                Some(Kind::Dir) => {
                    self.forget_dir(&full);
                    match conn.sftp.rmdir(FsPath::new(&full)) {
                        Ok(()) => Ok(()),
                        Err(e) if is_status(&e, NO_SUCH_FILE) => Ok(()),
                        Err(e) if is_status(&e, FAILURE) && self.lstat(conn, &full)?.is_some() => {
                            Err(err(
                                ErrorKind::DirectoryNotEmpty,
                                "the directory is not empty",
                                OP.name(),
                                path,
                            ))
                        }
                        Err(e) => Err(from_ssh(e)),
                    }
                }
                Some(_) => Err(err(
                    ErrorKind::NotADirectory,
                    "is an object, not a directory",
                    OP.name(),
                    path,
                )),
            }
        })
    }

    /// Copies inside the server with the `copy-data` extension; a server without it answers
    /// [`ErrorKind::Unsupported`] (and [`Capabilities::server_side_copy`] is `false`), so
    /// that callers stream the object instead, as [`copy_path`](crate::copy_path) and the
    /// sync engine do.
    fn copy(&self, from: &Path, to: &Path) -> Result<Entry> {
        let root = self.inner.root.clone();
        self.copy_inside(&root, from, to)
            .unwrap_or_else(|| Err(Error::unsupported("copy").with_backend(NAME)))
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<Entry> {
        let root = self.inner.root.clone();
        self.rename_inside(&root, from, to)
    }

    fn copy_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        match self.source_root(src) {
            Some(root) => self
                .copy_inside(&root, from, to)
                .unwrap_or_else(|| Err(Error::unsupported("copy_from").with_backend(NAME))),
            None => Err(Error::unsupported("copy_from").with_backend(NAME)),
        }
    }

    fn rename_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        match self.source_root(src) {
            Some(root) => self.rename_inside(&root, from, to),
            None => Err(Error::unsupported("rename_from").with_backend(NAME)),
        }
    }

    fn set_modified(&self, path: &Path, modified: SystemTime) -> Result<Entry> {
        const OP: Op = Op::SetModified;
        self.object_path(OP.name(), path)?;
        let secs = seconds(modified).map_err(|e| e.context(OP.name(), path.as_str(), NAME))?;
        self.run(OP, path, |conn| {
            let (full, stat) = self.regular_file(conn, OP.name(), path)?;
            self.set_times(conn, &full, secs)?;
            Ok(Entry::file(path.clone(), stat.size.unwrap_or(0))
                .with_modified(Some(UNIX_EPOCH + Duration::from_secs(secs)))
                .with_filled(Fields::ALL))
        })
    }

    fn hash(&self, path: &Path, kind: HashKind, cancel: Option<&Cancel>) -> Result<Hash> {
        const OP: Op = Op::Hash;
        if !self.server_hashes().contains(kind) {
            return crate::helpers::hash_object(self, path, kind, cancel);
        }
        self.object_path(OP.name(), path)?;
        crate::cancel::check(cancel)?;
        self.run(OP, path, |conn| {
            let (full, _) = self.regular_file(conn, OP.name(), path)?;
            super::shell::hash(&conn.sess, kind, &full)
        })
    }

    fn pending_uploads(&self, prefix: &Path) -> Result<PendingList> {
        self.pending(prefix)
    }

    fn abort_upload(&self, upload: &PendingUpload) -> Result<()> {
        self.abort_staged(upload)
    }

    fn usage(&self) -> Result<Usage> {
        const OP: Op = Op::Usage;
        if !self.inner.statvfs {
            return Err(Error::unsupported(OP.name()).context(OP.name(), "", NAME));
        }
        self.run(OP, &Path::root(), |conn| {
            // A root not made yet (the first write makes it) is on its nearest ancestor's
            // file system.
            let mut at = self.inner.root.as_str();
            let s = loop {
                let r = conn
                    .with_ext(ext::STATVFS, |x| {
                        x.statvfs(if at.is_empty() { "/" } else { at })
                    })
                    .unwrap_or(Err(ext::ExtError::Status(8)));
                match (r, at.rsplit_once('/')) {
                    (Err(ext::ExtError::Status(2)), Some((up, _))) => at = up,
                    (r, _) => break r.map_err(|e| from_ssh(e.into_ssh()))?,
                }
            };
            // Free as rclone's SFTP backend counts it: every free block.
            Ok(Usage::of_file_system(s.frsize, s.blocks, s.bfree, s.bfree))
        })
    }
}
