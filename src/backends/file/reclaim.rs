//! Staged files left by a crash: listed by `pending_uploads`, deleted by `abort_upload` and,
//! automatically, by a writer staging into a directory (see the module docs of
//! `src/backends/file/mod.rs`, "Staged files left by a crash").
//!
//! The rule that keeps it safe: a live writer holds an exclusive lock on its staged file
//! until the file's name is gone (renamed over the target, or removed), so a staged file that
//! can be locked has no live writer. Deleting is by name while holding the lock; a writer
//! that committed in the meantime has already renamed it, and the delete finds nothing.

use std::fs::{self, File, TryLockError};
use std::io;
use std::path::{Path as FsPath, PathBuf};
use std::time::{Duration, SystemTime};

use super::{FileBackend, NAME, err, os_err};
use crate::backend::{PendingList, PendingUpload};
use crate::backends::tree::names::{Liveness, StagedName, check_reserved, is_reserved};
use crate::backends::tree::walk::{Select, Start, Walk};
use crate::error::{ErrorKind, Result};
use crate::path::Path;

/// How many directories a backend remembers having swept; past it, it forgets them all
/// (and may read one again: a bound on memory, not on correctness).
const SWEPT_MAX: usize = 4096;

/// What happened to one staged file.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Deleted,
    /// A live writer holds it.
    Live,
    /// Younger than the grace period.
    Young,
    Gone,
}

/// Deletes the staged file `full` unless a live writer holds it. A file that can be locked
/// has no live writer, whatever its age (a writer locks its file right after creating it,
/// and checks then that its name still leads to it: see `stage.rs`). Where the file system
/// has no locks, the name decides when it was made on this machine (its writer runs or
/// not), and otherwise `grace`: the file is deleted only when the time in its name and its
/// modification time are both older than it (`None`: no locks is an error).
fn reclaim_one(full: &FsPath, grace: Option<Duration>) -> io::Result<Outcome> {
    let meta = match fs::symlink_metadata(full) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Outcome::Gone),
        Err(e) => return Err(e),
    };
    if !meta.is_file() {
        return Ok(Outcome::Gone);
    }
    let file = match File::open(full) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Outcome::Gone),
        Err(e) => return Err(e),
    };
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(Outcome::Live),
        // No locks on this file system: the name tells whether its writer (on this machine)
        // still runs; otherwise the age is all there is to go by.
        Err(TryLockError::Error(e)) => match (owner_liveness(full), grace) {
            (Liveness::Dead, _) => {}
            (Liveness::Alive, _) => return Ok(Outcome::Live),
            (Liveness::Unknown, None) => return Err(e),
            (Liveness::Unknown, Some(grace)) if !older_than(full, &meta, grace) => {
                return Ok(Outcome::Young);
            }
            (Liveness::Unknown, Some(_)) => {}
        },
    }
    // Deleted while locked; the lock goes when `file` closes, after.
    match fs::remove_file(full) {
        Ok(()) => Ok(Outcome::Deleted),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Outcome::Gone),
        Err(e) => Err(e),
    }
}

/// Whether the process that staged `full` runs (see [`StagedName::liveness`]).
fn owner_liveness(full: &FsPath) -> Liveness {
    full.file_name()
        .and_then(|n| n.to_str())
        .and_then(StagedName::parse)
        .map_or(Liveness::Unknown, |n| n.liveness())
}

/// Whether the time in the staged name `full` and its modification time are both older
/// than `grace` (a time that cannot be read counts as old).
fn older_than(full: &FsPath, meta: &fs::Metadata, grace: Duration) -> bool {
    let now = SystemTime::now();
    let old = |t: Option<SystemTime>| {
        t.is_none_or(|t| now.duration_since(t).is_ok_and(|age| age >= grace))
    };
    let named = full
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(StagedName::parse)
        .and_then(|n| n.started);
    old(named) && old(meta.modified().ok())
}

impl FileBackend {
    /// Looks once per backend at a directory a writer stages into (`fresh`: this writer just
    /// made it, so there is nothing there) and reclaims the leftovers in it. Best effort:
    /// failures are ignored, the write goes on.
    pub(super) fn sweep(&self, dir: &FsPath, fresh: bool) {
        let Some(grace) = self.inner.reclaim_after else {
            return;
        };
        {
            let mut swept = self
                .inner
                .swept
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if swept.contains(dir) {
                return;
            }
            if swept.len() >= SWEPT_MAX {
                swept.clear();
            }
            swept.insert(dir.to_path_buf());
        }
        if fresh {
            return;
        }
        let Ok(items) = fs::read_dir(dir) else {
            return;
        };
        for item in items.flatten() {
            let name = item.file_name();
            let Some(name) = name.to_str() else {
                continue;
            };
            if StagedName::parse(name).is_some() && item.file_type().is_ok_and(|t| t.is_file()) {
                let _ = reclaim_one(&item.path(), Some(grace));
            }
        }
    }

    /// [`Backend::pending_uploads`](crate::Backend::pending_uploads): the staged files under
    /// `prefix`, live ones included, in the order of the paths they are for.
    pub(super) fn pending(&self, prefix: &Path) -> Result<PendingList> {
        const OP: &str = "pending_uploads";
        self.check_open(OP)?;
        if prefix.segments().any(is_reserved) {
            return Ok(Box::new(std::iter::empty()));
        }
        let start = if prefix.is_root() {
            self.root_start(OP)?
        } else {
            match self.locate(OP, prefix)? {
                Some((full, m)) if m.is_dir() => Start::Dir(full),
                // An object, or nothing: its directory may hold staged files for it.
                _ => return self.pending_for(prefix),
            }
        };
        let select = Select::Staged { recursive: true };
        let walk = Walk::new(self.clone(), prefix, start, select, None, None);
        Ok(Box::new(walk.staged()))
    }

    /// The staged files for the object `path` (which is not a directory).
    fn pending_for(&self, path: &Path) -> Result<PendingList> {
        const OP: &str = "pending_uploads";
        let dir_path = path.parent().unwrap_or_default();
        let Some((dir, _)) = self.parent(OP, path, false)? else {
            return Ok(Box::new(std::iter::empty()));
        };
        let walk = Walk::new(
            self.clone(),
            &dir_path,
            Start::Dir(dir),
            Select::Staged { recursive: false },
            None,
            None,
        );
        let path = path.clone();
        Ok(Box::new(walk.staged().filter(move |item| match item {
            Ok(upload) => upload.path == path,
            Err(_) => true,
        })))
    }

    /// [`Backend::abort_upload`](crate::Backend::abort_upload): deletes one staged file,
    /// unless a live writer holds it.
    pub(super) fn abort_staged(&self, upload: &PendingUpload) -> Result<()> {
        const OP: &str = "abort_upload";
        self.check_open(OP)?;
        // An id that names no staged file names no upload there could be: it is gone (and
        // nothing else is ever deleted through it).
        let Ok(id) = Path::parse(upload.id.as_str()) else {
            return Ok(());
        };
        let name = id.file_name().unwrap_or_default();
        let dir = id.parent().unwrap_or_default();
        if StagedName::parse(name).is_none() || check_reserved(OP, &dir, NAME).is_err() {
            return Ok(());
        }
        let Some((dir, _)) = self.parent(OP, &id, false)? else {
            return Ok(());
        };
        let full: PathBuf = dir.join(name);
        match reclaim_one(&full, None) {
            Ok(Outcome::Live) => Err(err(
                ErrorKind::PreconditionFailed,
                "a live writer is still writing it",
                OP,
                &id,
            )),
            Ok(_) => Ok(()),
            Err(e) => Err(os_err(e, OP, &id)),
        }
    }
}
