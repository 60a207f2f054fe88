//! Staged writes: the file a writer fills beside its target, and the commit that moves it
//! into place (atomically with `posix-rename@openssh.com`, or by moving the old object
//! aside; see the module docs, "Replacing an object").

use std::io::{self, BufWriter, Write};
use std::path::Path as FsPath;
use std::time::{SystemTime, UNIX_EPOCH};

use ssh2::{File, FileStat, OpenFlags, OpenType};

use super::errors::{FAILURE, NO_SUCH_FILE, from_ssh, is_dead, is_status};
use super::ext::{self, ExtError};
use super::pool::{Conn, Lease};
use super::tree::{entry_of, kind_of};
use super::{NAME, SftpBackend, err};
use crate::backends::tree::Kind;
use crate::backends::tree::names::{StagedName, TEMP_PREFIX};
use crate::entry::{Entry, Fields};
use crate::error::{Error, ErrorKind, Result};
use crate::io::{WriteSink, Writer};
use crate::options::{WriteMode, WriteOptions};
use crate::path::Path;

/// What a writer buffers before handing bytes to libssh2, which pipelines a large write
/// into many SFTP requests in flight.
const WRITE_BUFFER: usize = 1024 * 1024;

/// The prefix of an old object moved aside while a new one takes its place.
pub(crate) const ASIDE_PREFIX: &str = ".omnistorage-tmp-old-";

/// A fresh name to move the old `target` aside to.
fn aside_name(target: &str) -> String {
    let staged = StagedName::make(target);
    format!(
        "{ASIDE_PREFIX}{}",
        staged.strip_prefix(TEMP_PREFIX).unwrap_or(&staged)
    )
}

/// `modified` in whole seconds since 1970, as SFTP version 3 keeps it.
pub(crate) fn seconds(modified: SystemTime) -> Result<u64> {
    let secs = modified
        .duration_since(UNIX_EPOCH)
        .map_err(|_| {
            Error::new(
                ErrorKind::InvalidInput,
                "SFTP cannot store a modification time before 1970",
            )
        })?
        .as_secs();
    if secs > u64::from(u32::MAX) {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "SFTP cannot store a modification time after 2106",
        ));
    }
    Ok(secs)
}

fn times(secs: u64) -> FileStat {
    FileStat {
        size: None,
        uid: None,
        gid: None,
        perm: None,
        atime: Some(secs),
        mtime: Some(secs),
    }
}

impl SftpBackend {
    /// Sets the modification time of the file at `full`.
    pub(crate) fn set_times(&self, conn: &Conn, full: &str, secs: u64) -> Result<()> {
        conn.sftp
            .setstat(FsPath::new(full), times(secs))
            .map_err(from_ssh)
    }

    /// Moves the staged file `staged` to `target` (both full paths, in one directory or
    /// not) as `mode` says. `path` is for errors only.
    pub(crate) fn commit(
        &self,
        conn: &Conn,
        staged: &str,
        target: &str,
        mode: WriteMode,
    ) -> Result<()> {
        if mode == WriteMode::CreateNew {
            // SFTP v3's rename never replaces (OpenSSH links, then unlinks): atomic.
            return match conn
                .sftp
                .rename(FsPath::new(staged), FsPath::new(target), None)
            {
                Ok(()) => Ok(()),
                Err(e) if is_status(&e, FAILURE) && self.lstat(conn, target)?.is_some() => {
                    Err(Error::new(ErrorKind::AlreadyExists, "the object exists"))
                }
                Err(e) => Err(from_ssh(e)),
            };
        }
        if self.inner.posix_rename {
            let r = conn.with_ext(ext::POSIX_RENAME, |x| x.posix_rename(staged, target));
            match r {
                Some(Ok(())) => return Ok(()),
                Some(Err(ExtError::Status(_))) => return Err(self.rename_failure(conn, target)),
                Some(Err(e)) => return Err(from_ssh(e.into_ssh())),
                None => {} // not on this session: fall back
            }
        }
        self.replace_aside(conn, staged, target)
    }

    /// Why a rename onto `target` failed, as well as can be told.
    fn rename_failure(&self, conn: &Conn, target: &str) -> Error {
        match self.lstat(conn, target) {
            Ok(Some(s)) if kind_of(&s) == Kind::Dir => {
                Error::new(ErrorKind::IsADirectory, "a directory is at this path")
            }
            Ok(_) => Error::new(ErrorKind::Io, "the server could not rename the file"),
            Err(e) => e,
        }
    }

    /// Replaces `target` without `posix-rename`: a plain rename if nothing is there; else
    /// the old object aside, the new one in, the old one deleted (or put back on failure).
    fn replace_aside(&self, conn: &Conn, staged: &str, target: &str) -> Result<()> {
        let sftp = &conn.sftp;
        match sftp.rename(FsPath::new(staged), FsPath::new(target), None) {
            Ok(()) => return Ok(()),
            Err(e) if !is_status(&e, FAILURE) => return Err(from_ssh(e)),
            Err(_) => {}
        }
        match self.lstat(conn, target)? {
            Some(s) if kind_of(&s) == Kind::File => {}
            _ => return Err(self.rename_failure(conn, target)),
        }
        let (dir, name) = target.rsplit_once('/').unwrap_or(("", target));
        let aside = format!("{dir}/{}", aside_name(name));
        sftp.rename(FsPath::new(target), FsPath::new(&aside), None)
            .map_err(from_ssh)?;
        // From here until the next rename, no object is at `target`.
        if let Err(e) = sftp.rename(FsPath::new(staged), FsPath::new(target), None) {
            let _ = sftp.rename(FsPath::new(&aside), FsPath::new(target), None);
            return Err(from_ssh(e));
        }
        let _ = sftp.unlink(FsPath::new(&aside));
        Ok(())
    }

    /// The writer behind [`Backend::writer`](crate::Backend::writer).
    pub(crate) fn open_writer(&self, path: &Path, opts: &WriteOptions) -> Result<Writer> {
        const OP: &str = "write";
        self.object_path(OP, path)?;
        let modified = opts
            .modified
            .map(seconds)
            .transpose()
            .map_err(|e| e.context(OP, path.as_str(), NAME))?;
        let name = path.file_name().unwrap_or_default();
        let (lease, dir, staged, file) = self
            .inner
            .retry
            .run(opts.cancel.as_ref(), |_| {
                self.check_open(OP)?;
                let lease = self.inner.pool.get()?;
                let opened = self.stage(&lease, path, opts.mode, name);
                match opened {
                    Ok((dir, staged, file)) => Ok((lease, dir, staged, file)),
                    Err(e) => Err(lease.note(e)),
                }
            })
            .map_err(|e| e.context(OP, path.as_str(), NAME))?;
        let target = format!("{dir}/{name}");
        Ok(Writer::new(SftpSink {
            out: Some(BufWriter::with_capacity(WRITE_BUFFER, file)),
            staged: Some(staged),
            lease: Some(lease),
            target,
            path: path.clone(),
            opts: opts.clone(),
            modified,
            written: 0,
            backend: self.clone(),
        })
        .with_cancel(opts.cancel.as_ref()))
    }

    /// Finds (or makes) the target's directory and creates a staged file in it: the
    /// directory, the staged file's full path, and its open handle.
    fn stage(
        &self,
        conn: &Conn,
        path: &Path,
        mode: WriteMode,
        name: &str,
    ) -> Result<(String, String, File)> {
        const OP: &str = "write";
        let mut again = true;
        loop {
            self.ensure_root(conn)?;
            let Some(dir) = self.dir_of(conn, &self.inner.root, OP, path, true)? else {
                return Err(err(ErrorKind::NotFound, "no directory", OP, path));
            };
            let target = format!("{dir}/{name}");
            match self.lstat(conn, &target)?.map(|s| kind_of(&s)) {
                Some(Kind::Dir) => {
                    return Err(err(
                        ErrorKind::IsADirectory,
                        "a directory is at this path",
                        OP,
                        path,
                    ));
                }
                Some(Kind::Symlink) => {
                    return Err(err(
                        ErrorKind::PermissionDenied,
                        "symlinks are not followed",
                        OP,
                        path,
                    ));
                }
                Some(_) if mode == WriteMode::CreateNew => {
                    return Err(err(ErrorKind::AlreadyExists, "the object exists", OP, path));
                }
                _ => {}
            }
            self.sweep(conn, &dir);
            let staged = format!("{dir}/{}", StagedName::make(name));
            let flags = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::EXCLUSIVE;
            match conn
                .sftp
                .open_mode(FsPath::new(&staged), flags, 0o644, OpenType::File)
            {
                Ok(file) => return Ok((dir, staged, file)),
                // The directory (or the root) went since it was checked: check again, once.
                Err(e) if again && is_status(&e, NO_SUCH_FILE) => {
                    again = false;
                    self.forget_dir(&dir);
                    self.inner
                        .root_seen
                        .store(false, std::sync::atomic::Ordering::Relaxed);
                }
                Err(e) => {
                    let e = from_ssh(e);
                    // The request may have created the file before its answer was lost.
                    if is_dead(&e) {
                        self.remove_staged(None, &staged);
                    }
                    return Err(e);
                }
            }
        }
    }

    /// Removes a staged file, on `conn` if it still works, else on a fresh session (retried
    /// like any idempotent operation); best effort (what is left is reclaimed later).
    pub(crate) fn remove_staged(&self, conn: Option<&Conn>, staged: &str) {
        let p = FsPath::new(staged);
        if let Some(c) = conn.filter(|c| !c.is_dead())
            && c.sftp.unlink(p).is_ok()
        {
            return;
        }
        // A fresh session, with the backend's retries: the connection that just broke may
        // not be the only one to meet trouble.
        let _ = self.inner.retry.run(None, |_| {
            let c = self.inner.pool.get()?;
            match c.sftp.unlink(p) {
                Ok(()) => Ok(()),
                Err(e) if is_status(&e, NO_SUCH_FILE) => Ok(()),
                Err(e) => Err(c.note(from_ssh(e))),
            }
        });
    }
}

/// The sink of an SFTP writer. Dropped without `finish`, it closes the handle and removes
/// the staged file.
struct SftpSink {
    out: Option<BufWriter<File>>,
    staged: Option<String>,
    lease: Option<Lease>,
    target: String,
    path: Path,
    opts: WriteOptions,
    /// `opts.modified` in seconds.
    modified: Option<u64>,
    written: u64,
    backend: SftpBackend,
}

impl SftpSink {
    fn out(&mut self) -> io::Result<&mut BufWriter<File>> {
        self.out
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::Closed, "writer is closed").into())
    }

    /// The error of a failed write, classified by the session's last libssh2 error.
    fn failure(&self, e: io::Error) -> io::Error {
        let ours = match self
            .lease
            .as_ref()
            .and_then(|l| ssh2::Error::last_session_error(&l.sess))
        {
            Some(ssh) if e.kind() != io::ErrorKind::TimedOut => from_ssh(ssh),
            // No code to go by (libssh2's own message, "channel read" and the like): the
            // connection; the session is not trusted again.
            _ => {
                if let Some(l) = &self.lease {
                    l.kill();
                }
                Error::from(e).with_temporary(true)
            }
        };
        if let Some(l) = &self.lease {
            l.note(ours.clone());
        }
        ours.context("write", self.path.as_str(), NAME).into()
    }

    fn commit(&mut self) -> Result<Entry> {
        const OP: &str = "write";
        let b = self.backend.clone();
        let (Some(out), Some(staged), Some(lease)) =
            (self.out.take(), self.staged.clone(), self.lease.as_ref())
        else {
            return Err(err(ErrorKind::Closed, "writer is closed", OP, &self.path));
        };
        let mut file = match out.into_inner() {
            Ok(file) => file,
            Err(e) => {
                let (e, out) = e.into_parts();
                drop(out);
                return Err(self.failure(e).into());
            }
        };
        self.opts.check_size(self.written)?;
        if let Some(secs) = self.modified {
            file.setstat(times(secs)).map_err(from_ssh)?;
        }
        // Every write is acknowledged once the handle is closed.
        let stat = match self.modified {
            Some(_) => None,
            None => Some(file.stat().map_err(from_ssh)?),
        };
        file.close().map_err(from_ssh)?;
        drop(file);
        b.check_open(OP)?;
        b.commit(lease, &staged, &self.target, self.opts.mode)?;
        self.staged = None;
        let entry = match (self.modified, stat) {
            (Some(secs), _) => Entry::file(self.path.clone(), self.written)
                .with_modified(Some(UNIX_EPOCH + std::time::Duration::from_secs(secs)))
                .with_filled(Fields::ALL),
            (None, Some(stat)) => entry_of(&self.path, &stat),
            (None, None) => Entry::file(self.path.clone(), self.written),
        };
        Ok(Entry {
            size: self.written,
            ..entry
        })
    }

    fn discard(&mut self) {
        // Close the handle first (without flushing what is buffered), then remove the name.
        if let Some(out) = self.out.take() {
            let (file, _) = out.into_parts();
            drop(file);
        }
        if let Some(staged) = self.staged.take() {
            self.backend.remove_staged(self.lease.as_deref(), &staged);
        }
    }
}

impl Drop for SftpSink {
    fn drop(&mut self) {
        self.discard();
    }
}

impl Write for SftpSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.out()?.write(buf);
        match r {
            Ok(n) => {
                self.written += n as u64;
                Ok(n)
            }
            Err(e) => Err(self.failure(e)),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        let r = self.out()?.flush();
        r.map_err(|e| self.failure(e))
    }
}

impl WriteSink for SftpSink {
    fn finish(mut self: Box<Self>) -> Result<Entry> {
        let r = self.commit();
        r.map_err(|e| {
            let e = match &self.lease {
                Some(l) => l.note(e),
                None => e,
            };
            e.context("write", self.path.as_str(), NAME)
        })
    }

    fn abort(mut self: Box<Self>) -> Result<()> {
        self.discard();
        Ok(())
    }
}
