//! The [`Backend`] impl of [`FileBackend`]: each operation checks its path, then calls the
//! part of the backend that does it.

use std::fs;
use std::io;
use std::time::{Duration, SystemTime};

use super::{FileBackend, entry_from, err, os_err, symlink_err};
use crate::backend::{Backend, List, PendingList, PendingUpload};
use crate::backends::tree::names::{check_reserved, is_reserved};
use crate::backends::tree::walk::{Select, Start, Walk};
use crate::entry::{Capabilities, Entry, Fields};
use crate::error::{ErrorKind, Result};
use crate::hash::HashKinds;
use crate::io::{Reader, Writer};
use crate::location::Location;
use crate::options::{ListOptions, ReadOptions, WriteOptions};
use crate::path::Path;
use crate::usage::Usage;

use super::NAME;

impl FileBackend {
    /// Where a walk of the whole tree starts: the root directory, or nothing if it does not
    /// exist yet (or is not a directory).
    pub(super) fn root_start(&self, op: &'static str) -> Result<Start<FileBackend>> {
        match fs::symlink_metadata(&self.inner.root) {
            Ok(m) if m.is_dir() => Ok(Start::Dir(self.inner.root.clone())),
            Ok(_) => Ok(Start::Nothing),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Start::Nothing),
            Err(e) => Err(os_err(e, op, &Path::root())),
        }
    }

    /// The listing of `prefix` with `opts`, served natively by the sorted walk.
    fn walk(&self, prefix: &Path, opts: &ListOptions) -> Result<List> {
        const OP: &str = "list";
        self.check_open(OP)?;
        if prefix.segments().any(is_reserved) {
            return Ok(Box::new(std::iter::empty()));
        }
        let start = if prefix.is_root() {
            self.root_start(OP)?
        } else {
            match self.locate(OP, prefix) {
                Ok(Some((_, m))) if m.is_file() => Start::Object(entry_from(prefix, &m)),
                Ok(Some((full, m))) if m.is_dir() => Start::Dir(full),
                Ok(_) => Start::Nothing,
                // A symlink on the way: nothing to list, as `list` skips symlinks.
                Err(e) if e.kind() == ErrorKind::PermissionDenied => Start::Nothing,
                Err(e) if e.kind() == ErrorKind::NotADirectory => Start::Nothing,
                Err(e) => return Err(e),
            }
        };
        let walk = Walk::new(
            self.clone(),
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
}

impl Backend for FileBackend {
    fn reader(&self, path: &Path, opts: &ReadOptions) -> Result<Reader> {
        self.open_reader(path, opts)
    }

    fn writer(&self, path: &Path, opts: &WriteOptions) -> Result<Writer> {
        self.open_writer(path, opts)
    }

    fn exists(&self, path: &Path) -> Result<bool> {
        const OP: &str = "exists";
        self.check_open(OP)?;
        if path.is_root() {
            return Ok(false);
        }
        check_reserved(OP, path, NAME)?;
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
        self.walk(prefix, opts)
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
            set_modified: true,
            metadata: false,
            hashes: HashKinds::NONE,
            server_hashes: HashKinds::NONE,
            listed: Fields::ALL,
            presign: false,
            pending_uploads: true,
            usage: cfg!(all(feature = "openat2", target_os = "linux")),
            close: true,
            local: true,
            streams: None,
            version_tags: true,
        }
    }

    fn close(&self) -> Result<()> {
        self.inner.guard.close();
        Ok(())
    }

    fn location(&self) -> Option<Location> {
        self.location_of()
    }

    fn stat(&self, path: &Path) -> Result<Entry> {
        const OP: &str = "stat";
        self.check_open(OP)?;
        check_reserved(OP, path, NAME)?;
        if path.is_root() {
            return match fs::metadata(&self.inner.root) {
                Ok(m) => Ok(entry_from(path, &m)),
                Err(e) => Err(os_err(e, OP, path)),
            };
        }
        match self.locate(OP, path)? {
            None => Err(err(ErrorKind::NotFound, "no such object", OP, path)),
            Some((_, m)) => Ok(entry_from(path, &m)),
        }
    }

    fn create_dir(&self, path: &Path) -> Result<()> {
        const OP: &str = "create_dir";
        self.check_open(OP)?;
        check_reserved(OP, path, NAME)?;
        let Some((mut dir, _)) = self.parent(OP, path, true)? else {
            return Err(err(
                ErrorKind::NotFound,
                "parent directory missing",
                OP,
                path,
            ));
        };
        let Some(name) = path.file_name() else {
            return Ok(()); // the root, created by `parent`
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
        self.copy_into(self, from, to)
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<Entry> {
        self.rename_into(self, from, to)
    }

    fn copy_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        let src = self.source(src, "copy_from")?;
        self.copy_into(&src, from, to)
    }

    fn rename_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        let src = self.source(src, "rename_from")?;
        self.rename_into(&src, from, to)
    }

    fn set_modified(&self, path: &Path, modified: SystemTime) -> Result<Entry> {
        self.set_time(path, modified)
    }

    fn pending_uploads(&self, prefix: &Path) -> Result<PendingList> {
        self.pending(prefix)
    }

    fn abort_upload(&self, upload: &PendingUpload) -> Result<()> {
        self.abort_staged(upload)
    }

    fn usage(&self) -> Result<Usage> {
        self.space()
    }
}
