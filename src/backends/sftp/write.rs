//! Staged writes: the file a writer fills beside its target, and the commit that moves it
//! into place (atomically with `posix-rename@openssh.com`, or by moving the old object
//! aside; see the module docs, "Replacing an object").

use std::io::{self, BufWriter, Seek, SeekFrom, Write};
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

/// Resumes of a cut upload allowed without progress in between; the budget refills after
/// [`REFILL`] more bytes are acknowledged.
const RESUMES: u32 = 3;
const REFILL: u64 = 1024 * 1024;

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
            out: Some(BufWriter::with_capacity(
                WRITE_BUFFER,
                Acked { file, acked: 0 },
            )),
            staged: Some(staged),
            lease: Some(lease),
            target,
            path: path.clone(),
            opts: opts.clone(),
            modified,
            written: 0,
            resumes: RESUMES,
            resumed_at: 0,
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

/// An open staged file that counts the bytes the server acknowledged: libssh2 pipelines a
/// write into many requests, and a write returns how many of its first bytes were acknowledged
/// in order (`sftp_write` in libssh2), so `acked` bytes are on the server.
struct Acked {
    file: File,
    acked: u64,
}

impl Write for Acked {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.acked += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// The sink of an SFTP writer. Dropped without `finish`, it closes the handle and removes
/// the staged file.
///
/// A write cut by a broken connection is resumed: on a fresh session (retried with the
/// backend's policy), the staged file (whose name the writer knows) is checked to hold at
/// least the bytes the server acknowledged, reopened, and written on from there; what was
/// sent but not acknowledged is still in the writer's buffer and is sent again, at the same
/// offsets. The closing steps (times, close, rename) are resumed the same way.
struct SftpSink {
    /// The bytes written are those acknowledged (`Acked::acked`) and those buffered.
    out: Option<BufWriter<Acked>>,
    staged: Option<String>,
    lease: Option<Lease>,
    target: String,
    path: Path,
    opts: WriteOptions,
    /// `opts.modified` in seconds.
    modified: Option<u64>,
    written: u64,
    /// Resumes left before one without progress fails the writer, and the bytes acknowledged
    /// at the last one.
    resumes: u32,
    resumed_at: u64,
    backend: SftpBackend,
}

impl SftpSink {
    fn out(&mut self) -> io::Result<&mut BufWriter<Acked>> {
        self.out
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::Closed, "writer is closed").into())
    }

    /// After the failure `e` of a write or flush: whether it may be resumed (a temporary
    /// error, within the budget of resumes), and if so, the resume itself. `Err` is what the
    /// caller returns.
    fn recover(&mut self, e: io::Error) -> io::Result<()> {
        let e = self.failure(e);
        let ours = Error::from(e);
        if !ours.is_temporary() {
            return Err(ours.into());
        }
        let acked = self.out.as_ref().map_or(0, |o| o.get_ref().acked);
        if acked >= self.resumed_at + REFILL {
            self.resumes = RESUMES;
        }
        if self.resumes == 0 {
            return Err(ours.into());
        }
        self.resumes -= 1;
        self.resume()
            .map_err(|e| e.context("write", self.path.as_str(), NAME).into())
    }

    /// Takes the upload up on a fresh session at the offset the server acknowledged (see
    /// the type's docs).
    fn resume(&mut self) -> Result<()> {
        const OP: &str = "write";
        let (Some(out), Some(staged)) = (self.out.take(), self.staged.clone()) else {
            return Err(Error::new(ErrorKind::Closed, "writer is closed"));
        };
        let (acked, buffered) = out.into_parts();
        let Acked { file, acked } = acked;
        let buffered = buffered.map_err(|_| Error::new(ErrorKind::Other, "a write panicked"))?;
        // The handle and the session of the broken connection go first.
        drop(file);
        if let Some(l) = self.lease.take() {
            l.kill();
        }
        self.resumed_at = acked;
        let b = self.backend.clone();
        let p = FsPath::new(&staged);
        let (lease, file) = b.inner.retry.run(self.opts.cancel.as_ref(), |_| {
            b.check_open(OP)?;
            let lease = b.inner.pool.get()?;
            let opened = (|| {
                let size = match lease.sftp.lstat(p) {
                    Ok(stat) => stat.size.unwrap_or(0),
                    Err(e) if is_status(&e, NO_SUCH_FILE) => {
                        return Err(Error::new(
                            ErrorKind::NotFound,
                            "the staged file of this upload is gone: it cannot be resumed",
                        ));
                    }
                    Err(e) => return Err(from_ssh(e)),
                };
                if size < acked {
                    return Err(Error::new(
                        ErrorKind::Corrupt,
                        format!(
                            "the staged file holds {size} bytes, fewer than the {acked} the                              server acknowledged: the upload cannot be resumed"
                        ),
                    ));
                }
                let mut file = lease
                    .sftp
                    .open_mode(p, OpenFlags::WRITE, 0o644, OpenType::File)
                    .map_err(from_ssh)?;
                // libssh2 keeps the offset locally: no round trip.
                file.seek(SeekFrom::Start(acked)).map_err(Error::from)?;
                Ok(file)
            })();
            match opened {
                Ok(file) => Ok((lease, file)),
                Err(e) => Err(lease.note(e)),
            }
        })?;
        self.lease = Some(lease);
        // Room for what was buffered without a write: putting it back is a copy.
        let mut out =
            BufWriter::with_capacity(WRITE_BUFFER.max(buffered.len() + 1), Acked { file, acked });
        out.write_all(&buffered)?;
        self.out = Some(out);
        Ok(())
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
        let Some(staged) = self.staged.clone() else {
            return Err(err(ErrorKind::Closed, "writer is closed", OP, &self.path));
        };
        // Every byte to the server, acknowledged (resumed like any write).
        let mut file = loop {
            let Some(out) = self.out.take() else {
                return Err(err(ErrorKind::Closed, "writer is closed", OP, &self.path));
            };
            match out.into_inner() {
                Ok(acked) => break acked.file,
                Err(e) => {
                    let (e, out) = e.into_parts();
                    self.out = Some(out);
                    self.recover(e)?;
                }
            }
        };
        self.opts.check_size(self.written)?;
        let closed = (|| -> Result<Option<FileStat>> {
            if let Some(secs) = self.modified {
                file.setstat(times(secs)).map_err(from_ssh)?;
            }
            // Every write is acknowledged once the handle is closed.
            let stat = match self.modified {
                Some(_) => None,
                None => Some(file.stat().map_err(from_ssh)?),
            };
            file.close().map_err(from_ssh)?;
            Ok(stat)
        })();
        drop(file);
        let stat = match closed {
            Ok(stat) => stat,
            // Every byte was acknowledged: the rest can be done by name, on a fresh session.
            Err(e) if e.is_temporary() => self.close_fresh(&staged, e)?,
            Err(e) => return Err(e),
        };
        b.check_open(OP)?;
        self.commit_resumed(&staged)?;
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

    /// Runs `f` on a fresh session, retried with the backend's policy (within the budget
    /// of resumes); the session is kept as the writer's.
    fn on_fresh<T>(&mut self, cause: Error, mut f: impl FnMut(&Conn) -> Result<T>) -> Result<T> {
        if self.resumes == 0 {
            return Err(cause);
        }
        self.resumes -= 1;
        if let Some(l) = self.lease.take() {
            l.note(cause);
        }
        let b = self.backend.clone();
        let (lease, t) = b.inner.retry.run(self.opts.cancel.as_ref(), |_| {
            b.check_open("write")?;
            let lease = b.inner.pool.get()?;
            match f(&lease) {
                Ok(t) => Ok((lease, t)),
                Err(e) => Err(lease.note(e)),
            }
        })?;
        self.lease = Some(lease);
        Ok(t)
    }

    /// What closing the handle does, by name on a fresh session after the connection broke
    /// (`cause`): the staged file must hold exactly what was written; its times are set.
    fn close_fresh(&mut self, staged: &str, cause: Error) -> Result<Option<FileStat>> {
        let (written, modified) = (self.written, self.modified);
        self.on_fresh(cause, |conn| {
            let p = FsPath::new(staged);
            let stat = conn.sftp.lstat(p).map_err(from_ssh)?;
            if stat.size != Some(written) {
                return Err(Error::new(
                    ErrorKind::Corrupt,
                    format!(
                        "the staged file holds {:?} bytes after the upload, not {written}",
                        stat.size
                    ),
                ));
            }
            match modified {
                Some(secs) => {
                    conn.sftp.setstat(p, times(secs)).map_err(from_ssh)?;
                    Ok(None)
                }
                None => Ok(Some(stat)),
            }
        })
    }

    /// Moves the staged file into place; when the connection breaks, again on a fresh
    /// session, unless the staged file is gone and the target holds what was written (the
    /// rename happened, its answer lost: a staged name is this writer's alone). Only where a
    /// commit is one rename (`posix-rename`, or `CreateNew`); the move-aside commit is not
    /// repeated.
    fn commit_resumed(&mut self, staged: &str) -> Result<()> {
        let b = self.backend.clone();
        let (target, mode) = (self.target.clone(), self.opts.mode);
        let first = match self.lease.as_ref() {
            Some(lease) => b.commit(lease, staged, &target, mode),
            None => Err(Error::new(ErrorKind::Closed, "writer is closed")),
        };
        let cause = match first {
            Ok(()) => return Ok(()),
            Err(e)
                if e.is_temporary() && (b.inner.posix_rename || mode == WriteMode::CreateNew) =>
            {
                e
            }
            Err(e) => return Err(e),
        };
        let written = self.written;
        self.on_fresh(cause, |conn| {
            if b.lstat(conn, staged)?.is_some() {
                return b.commit(conn, staged, &target, mode);
            }
            match b.lstat(conn, &target)? {
                Some(s) if kind_of(&s) == Kind::File && s.size == Some(written) => Ok(()),
                _ => Err(Error::new(
                    ErrorKind::Io,
                    "the connection broke while the object was put in place, and it is not \
                     there",
                )),
            }
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
        loop {
            let r = self.out()?.write(buf);
            match r {
                Ok(n) => {
                    self.written += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
                // Resumed: the buffer is as it was, and `buf` is offered again.
                Err(e) => self.recover(e)?,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        loop {
            let r = self.out()?.flush();
            match r {
                Ok(()) => return Ok(()),
                Err(e) => self.recover(e)?,
            }
        }
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
