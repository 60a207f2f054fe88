//! Server-side operations: copy and move within one backend and between two file backends
//! (they share one store, the local file system: [`Location`] scheme `file`, store `""`), and
//! `set_modified`. Each returns the new entry from what it already has in hand, without a
//! second lookup.

use std::fs;
use std::io;
use std::path::PathBuf;
use std::time::SystemTime;

use super::{FileBackend, NAME, RECLAIM_AFTER, entry_from, os_err};
use crate::entry::Entry;
use crate::error::{Error, Result};
use crate::location::Location;
use crate::options::WriteMode;
use crate::path::Path;

impl FileBackend {
    /// The file backend whose location is `loc`, if it is on this machine's file system: this
    /// one, or one rooted at `loc`'s root (with the same rules: its paths are resolved under
    /// *its* root, symlinks refused).
    pub(super) fn peer(&self, loc: &Location) -> Option<FileBackend> {
        if self.location_of().as_ref() == Some(loc) {
            return Some(self.clone());
        }
        if loc.scheme() != NAME || !loc.store().is_empty() {
            return None;
        }
        // A root that was not valid UTF-8 is not named exactly by its location.
        if loc.root().contains(char::REPLACEMENT_CHARACTER) {
            return None;
        }
        #[cfg(unix)]
        let root = PathBuf::from("/").join(loc.root());
        #[cfg(not(unix))]
        let root = PathBuf::from(loc.root());
        // The last peer is kept: a sync copies file after file from one tree.
        let mut last = self
            .inner
            .peer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(peer) = &*last
            && peer.inner.root == root
        {
            return Some(peer.clone());
        }
        let peer = FileBackend::from_parts(root, self.inner.sync, Some(RECLAIM_AFTER), false);
        *last = Some(peer.clone());
        Some(peer)
    }

    /// This backend's location: every file backend of this process reaches the same local
    /// file system, so they share one store.
    pub(super) fn location_of(&self) -> Option<Location> {
        Some(Location::new(
            NAME,
            "",
            self.inner.root.to_string_lossy().into_owned(),
        ))
    }

    fn same_root(&self, other: &FileBackend) -> bool {
        std::sync::Arc::ptr_eq(&self.inner, &other.inner) || self.inner.root == other.inner.root
    }

    /// Copies `from` under `src` to `to` here: the source opened (and checked) once, the
    /// bytes copied by the kernel into a staged file, committed as a write is.
    pub(super) fn copy_into(&self, src: &FileBackend, from: &Path, to: &Path) -> Result<Entry> {
        const OP: &str = "copy";
        src.object_path(OP, from)?;
        self.object_path(OP, to)?;
        let (file, meta) = src.open_file(OP, from)?;
        if from == to && self.same_root(src) {
            return Ok(entry_from(to, &meta));
        }
        let target = self.target(OP, to)?;
        self.sweep(target.dir.path(), target.fresh_dir);
        let mut staged = self.stage(OP, to, target.dir, !target.exists)?;
        // File to file: `copy_file_range` (or a reflink) where the kernel has it. Limited to
        // the size seen at open, which also spares the call that would find the end.
        let size = super::at::copy_file(&file, staged.file()?, meta.len())
            .map_err(|e| os_err(e, OP, to))?;
        drop(file);
        staged.commit(
            OP,
            to,
            &target.name,
            WriteMode::Overwrite,
            size,
            meta.modified().ok(),
            self.inner.sync,
        )
    }

    /// Moves `from` under `src` to `to` here with one `rename` (a copy and a delete when the
    /// two are on different file systems).
    pub(super) fn rename_into(&self, src: &FileBackend, from: &Path, to: &Path) -> Result<Entry> {
        const OP: &str = "rename";
        src.object_path(OP, from)?;
        self.object_path(OP, to)?;
        let (full, meta) = src.locate_file(OP, from)?;
        if from == to && self.same_root(src) {
            return Ok(entry_from(to, &meta));
        }
        let dest = self.target(OP, to)?.dest();
        match fs::rename(&full, &dest) {
            // The same file, under its new name: size and time are unchanged; the rename
            // moved its change time (part of the version tag), so it is read again.
            Ok(()) => Ok(entry_from(to, &fs::symlink_metadata(&dest).unwrap_or(meta))),
            Err(e) if e.kind() == io::ErrorKind::CrossesDevices => {
                let entry = self.copy_into(src, from, to)?;
                fs::remove_file(&full).map_err(|e| os_err(e, OP, from))?;
                Ok(entry)
            }
            Err(e) => Err(os_err(e, OP, to)),
        }
    }

    /// Sets the modification time of the object at `path`, and describes it after.
    pub(super) fn set_time(&self, path: &Path, modified: SystemTime) -> Result<Entry> {
        const OP: &str = "set_modified";
        self.object_path(OP, path)?;
        // Read-only is enough for the owner to set times (`futimens`).
        let (file, _) = self.open_file(OP, path)?;
        file.set_modified(modified)
            .map_err(|e| os_err(e, OP, path))?;
        let meta = file.metadata().map_err(|e| os_err(e, OP, path))?;
        Ok(entry_from(path, &meta))
    }

    /// The source backend of a `copy_from`/`rename_from`, or `Unsupported` (stream then).
    pub(super) fn source(&self, loc: &Location, op: &'static str) -> Result<FileBackend> {
        self.peer(loc)
            .ok_or_else(|| Error::unsupported(op).with_backend(NAME))
    }
}
