//! Staged writes: the file a writer fills beside its target, locked for the writer's life,
//! and the commit that renames (or, for `CreateNew`, hard-links) it over the target.

use std::fs::{File, TryLockError};
use std::io::{self, BufWriter, Write};
use std::time::SystemTime;

use super::at::Dir;
use super::confine::Target;
use super::{FileBackend, NAME, entry_from, err, os_err};
use crate::backends::tree::names::StagedName;
use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};
use crate::io::{WriteSink, Writer};
use crate::options::{WriteMode, WriteOptions};
use crate::path::Path;

const WRITE_BUFFER: usize = 128 * 1024;

/// A staged file, removed on drop unless committed. Its [`File`] is kept open (and so
/// locked) until after the name is removed or renamed, so that no reclaimer ever finds it
/// unlocked under its staged name while its writer lives.
pub(super) struct Staged {
    /// The directory it is in (and the target too).
    dir: Dir,
    /// Its name there; `None` once it is renamed, or no longer ours, or if it has none.
    name: Option<String>,
    file: Option<File>,
    /// Made without a name ([`Dir::create_anonymous`]): the commit links it.
    anonymous: bool,
}

impl Staged {
    pub(super) fn file(&mut self) -> Result<&mut File> {
        self.file
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::Closed, "writer is closed"))
    }

    /// Commits the staged file to `dest` (a name in its directory) and describes the result without a second lookup:
    /// from `size` and `modified` when a time was given (the file system keeps it to its
    /// precision, see the module docs), otherwise from the still open file. The file must
    /// hold every byte already.
    #[allow(clippy::too_many_arguments)] // one call per kind of write; a struct would only rename them
    pub(super) fn commit(
        mut self,
        op: &'static str,
        path: &Path,
        dest: &str,
        mode: WriteMode,
        size: u64,
        modified: Option<SystemTime>,
        sync: bool,
    ) -> Result<Entry> {
        let file = self.file()?;
        if let Some(modified) = modified {
            file.set_modified(modified)
                .map_err(|e| os_err(e, op, path))?;
        }
        if sync {
            file.sync_all().map_err(|e| os_err(e, op, path))?;
        }
        if self.anonymous {
            self.link(op, path, dest, mode)?;
            return self.describe(op, path, size, modified);
        }
        let Some(tmp) = self.name.clone() else {
            return Err(err(ErrorKind::Closed, "writer is closed", op, path));
        };
        match mode {
            WriteMode::CreateNew => match self.dir.hard_link(&tmp, dest) {
                Ok(()) => {} // the staged name is removed on drop
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    return Err(err(ErrorKind::AlreadyExists, "the object exists", op, path));
                }
                Err(_) => {
                    // No hard links here: check, then rename (not atomic).
                    if !matches!(self.dir.kind_of(dest), Ok(None)) {
                        return Err(err(ErrorKind::AlreadyExists, "the object exists", op, path));
                    }
                    self.dir
                        .rename(&tmp, dest)
                        .map_err(|e| os_err(e, op, path))?;
                    self.name = None;
                }
            },
            _ => {
                self.dir
                    .rename(&tmp, dest)
                    .map_err(|e| rename_err(e, op, path))?;
                self.name = None;
            }
        }
        self.describe(op, path, size, modified)
    }

    /// Names an anonymous staged file `dest`: one link where nothing is there; where
    /// something is (it appeared since the writer began), `CreateNew` fails and the other
    /// modes link it under a staged name and rename that over `dest`.
    fn link(&mut self, op: &'static str, path: &Path, dest: &str, mode: WriteMode) -> Result<()> {
        let Some(file) = self.file.as_ref() else {
            return Err(err(ErrorKind::Closed, "writer is closed", op, path));
        };
        match self.dir.link_anonymous(file, dest) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(os_err(e, op, path)),
            Err(_) if mode == WriteMode::CreateNew => {
                return Err(err(ErrorKind::AlreadyExists, "the object exists", op, path));
            }
            Err(_) => {}
        }
        for _ in 0..16 {
            let tmp = StagedName::make(dest);
            match self.dir.link_anonymous(file, &tmp) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(os_err(e, op, path)),
            }
            // Named now: removed on drop if the rename fails.
            self.name = Some(tmp.clone());
            self.dir
                .rename(&tmp, dest)
                .map_err(|e| rename_err(e, op, path))?;
            self.name = None;
            return Ok(());
        }
        Err(err(
            ErrorKind::AlreadyExists,
            "could not find a free name for a staging file",
            op,
            path,
        ))
    }

    /// The committed object's entry, without a second lookup.
    fn describe(
        &mut self,
        op: &'static str,
        path: &Path,
        size: u64,
        modified: Option<SystemTime>,
    ) -> Result<Entry> {
        // One fstat of the open file: the entry carries the version tag (inode and change
        // time after the rename) that the sync engine's hash cache records.
        let meta = self.file()?.metadata().map_err(|e| os_err(e, op, path))?;
        let entry = entry_from(path, &meta);
        Ok(match modified {
            Some(modified) => Entry { size, ..entry }.with_modified(Some(modified)),
            None => entry,
        })
    }
}

/// A failed rename onto the target: a directory there is `IsADirectory`.
fn rename_err(e: io::Error, op: &'static str, path: &Path) -> Error {
    match e.kind() {
        io::ErrorKind::IsADirectory | io::ErrorKind::DirectoryNotEmpty => err(
            ErrorKind::IsADirectory,
            "a directory is at this path",
            op,
            path,
        ),
        _ => os_err(e, op, path),
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(name) = self.name.take() {
            let _ = self.dir.remove(&name);
        }
        // Only now is the file closed and its lock released.
        self.file = None;
    }
}

/// Whether the staged file still has its name: a reclaimer that got to it between its
/// creation and its lock deletes it by that name (and nothing else removes or renames a
/// staged file while its writer lives), which leaves the file with no link at all. On Unix
/// one `fstat` of the held file tells (its link count); elsewhere, that the name exists.
fn still_named(staged: &Staged) -> bool {
    let (Some(name), Some(file)) = (&staged.name, &staged.file) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = name;
        file.metadata().is_ok_and(|held| held.nlink() > 0)
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        matches!(staged.dir.kind_of(name), Ok(Some(_)))
    }
}

impl FileBackend {
    /// Creates a new staged file for `path` in `dir`: one without a name where the target
    /// is `absent` and the directory allows it ([`Dir::create_anonymous`]), else a named
    /// one, locked.
    pub(super) fn stage(
        &self,
        op: &'static str,
        path: &Path,
        mut dir: Dir,
        absent: bool,
    ) -> Result<Staged> {
        if absent && let Some(file) = dir.create_anonymous() {
            return Ok(Staged {
                dir,
                name: None,
                file: Some(file),
                anonymous: true,
            });
        }
        let target = path.file_name().unwrap_or_default();
        for _ in 0..16 {
            let tmp = StagedName::make(target);
            let file = match dir.create_new(&tmp) {
                Ok(file) => file,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(os_err(e, op, path)),
            };
            let staged = Staged {
                dir,
                name: Some(tmp),
                file: Some(file),
                anonymous: false,
            };
            match staged.file.as_ref().map(File::try_lock) {
                // A reclaimer got to it between its creation and this lock (it holds it now,
                // and deletes it): take another name.
                Some(Err(TryLockError::WouldBlock)) => {}
                // Locked; but a reclaimer may have locked, deleted and released it in that
                // moment: then the file has no name any more, and is nobody's. Checked now,
                // while the lock keeps any reclaimer out.
                Some(Ok(())) if !still_named(&staged) => {}
                // File systems without locks: go on unlocked; reclaim then relies on age.
                Some(Ok(()) | Err(TryLockError::Error(_))) | None => return Ok(staged),
            }
            // Not ours to remove any more (the reclaimer has it, or has removed it).
            let mut staged = staged;
            staged.name = None;
            dir = std::mem::replace(&mut staged.dir, Dir::by_path(Default::default()));
        }
        Err(err(
            ErrorKind::AlreadyExists,
            "could not find a free name for a staging file",
            op,
            path,
        ))
    }

    /// The writer behind [`Backend::writer`](crate::Backend::writer).
    pub(super) fn open_writer(&self, path: &Path, opts: &WriteOptions) -> Result<Writer> {
        const OP: &str = "write";
        self.object_path(OP, path)?;
        let target = self.target(OP, path)?;
        if target.exists && opts.mode == WriteMode::CreateNew {
            return Err(err(ErrorKind::AlreadyExists, "the object exists", OP, path));
        }
        let Target {
            dir,
            name,
            fresh_dir,
            exists,
            ..
        } = target;
        self.sweep(dir.path(), fresh_dir);
        let mut staged = self.stage(OP, path, dir, !exists)?;
        let file = staged.file.take();
        Ok(Writer::new(FileSink {
            staged: Some(staged),
            out: file.map(|f| BufWriter::with_capacity(WRITE_BUFFER, f)),
            dest: name,
            path: path.clone(),
            opts: opts.clone(),
            written: 0,
            backend: self.clone(),
        })
        .with_cancel(opts.cancel.as_ref()))
    }
}

/// The sink of a file writer. `staged` is declared before `out` so that, when the sink is
/// dropped, the staged name is removed before the file is closed (and its lock released).
struct FileSink {
    staged: Option<Staged>,
    out: Option<BufWriter<File>>,
    /// The target's name in the staged file's directory.
    dest: String,
    path: Path,
    opts: WriteOptions,
    written: u64,
    backend: FileBackend,
}

impl FileSink {
    fn out(&mut self) -> io::Result<&mut BufWriter<File>> {
        self.out
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::Closed, "writer is closed").into())
    }

    fn commit(mut self) -> Result<Entry> {
        const OP: &str = "write";
        let path = self.path.clone();
        let (Some(mut staged), Some(buffered)) = (self.staged.take(), self.out.take()) else {
            return Err(err(ErrorKind::Closed, "writer is closed", OP, &path));
        };
        let file = match buffered.into_inner() {
            Ok(file) => file,
            Err(e) => {
                let (e, buffered) = e.into_parts();
                // Removed before the file is closed.
                drop(staged);
                drop(buffered.into_parts());
                return Err(os_err(e, OP, &path));
            }
        };
        staged.file = Some(file);
        self.opts
            .check_size(self.written)
            .map_err(|e| e.context(OP, path.as_str(), NAME))?;
        self.backend.check_open(OP)?;
        staged.commit(
            OP,
            &path,
            &self.dest,
            self.opts.mode,
            self.written,
            self.opts.modified,
            self.backend.inner.sync,
        )
    }
}

impl Write for FileSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out()?.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let n = self.out()?.write_vectored(bufs)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out()?.flush()
    }
}

impl WriteSink for FileSink {
    fn finish(self: Box<Self>) -> Result<Entry> {
        self.commit()
    }

    fn abort(mut self: Box<Self>) -> Result<()> {
        // Remove the staged name, then close the file without flushing what is buffered.
        drop(self.staged.take());
        if let Some(buffered) = self.out.take() {
            drop(buffered.into_parts());
        }
        Ok(())
    }

    fn copy_file(&mut self, src: &mut io::Take<File>) -> Option<io::Result<u64>> {
        let out = match self.out() {
            Ok(out) => out,
            Err(e) => return Some(Err(e)),
        };
        // What is buffered goes first; then the kernel copies (`copy_file_range` on Linux).
        if let Err(e) = out.flush() {
            return Some(Err(e));
        }
        let r = super::at::copy_file(src.get_ref(), out.get_ref(), src.limit());
        if let Ok(n) = r {
            src.set_limit(src.limit() - n);
            self.written += n;
        }
        Some(r)
    }
}
