//! Readers: the file opened on a pooled session after its path is checked, read in large
//! requests (libssh2 pipelines the reads of one request), and resumed on a fresh session
//! after a dropped connection if the file is unchanged.

use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path as FsPath;

use ssh2::{File, FileStat};

use super::errors::from_ssh;
use super::pool::Lease;
use super::tree::kind_of;
use super::{NAME, SftpBackend, err};
use crate::backends::tree::Kind;
use crate::cancel::Cancel;
use crate::error::{Error, ErrorKind, Result};
use crate::io::Reader;
use crate::options::ReadOptions;
use crate::path::Path;

/// The size of the requests made of libssh2: it keeps this many bytes of reads in flight.
const READ_BUFFER: usize = 1024 * 1024;
/// Resumes allowed without progress in between; the budget refills after `REFILL` bytes.
const RESUMES: u32 = 3;
const REFILL: u64 = 1024 * 1024;

/// What identifies the version of the file being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Version {
    size: u64,
    mtime: Option<u64>,
}

impl SftpBackend {
    /// The regular file at `path`, checked without following symlinks: its full path and
    /// attributes. Errors name what is there instead.
    pub(crate) fn regular_file(
        &self,
        conn: &super::pool::Conn,
        op: &'static str,
        path: &Path,
    ) -> Result<(String, FileStat)> {
        let root = self.inner.root.clone();
        self.regular_file_in(conn, &root, op, path)
    }

    /// [`regular_file`](SftpBackend::regular_file) under another root of this server.
    pub(crate) fn regular_file_in(
        &self,
        conn: &super::pool::Conn,
        root: &str,
        op: &'static str,
        path: &Path,
    ) -> Result<(String, FileStat)> {
        let Some(dir) = self.dir_of(conn, root, op, path, false)? else {
            return Err(err(ErrorKind::NotFound, "no such object", op, path));
        };
        let full = format!("{dir}/{}", path.file_name().unwrap_or_default());
        match self.lstat(conn, &full)? {
            None => Err(err(ErrorKind::NotFound, "no such object", op, path)),
            Some(s) => match kind_of(&s) {
                Kind::File => Ok((full, s)),
                Kind::Dir => Err(err(ErrorKind::IsADirectory, "is a directory", op, path)),
                Kind::Symlink => Err(err(
                    ErrorKind::PermissionDenied,
                    "symlinks are not followed",
                    op,
                    path,
                )),
                Kind::Other => Err(err(ErrorKind::NotFound, "not a regular file", op, path)),
            },
        }
    }

    /// The reader behind [`Backend::reader`](crate::Backend::reader).
    pub(crate) fn open_reader(&self, path: &Path, opts: &ReadOptions) -> Result<Reader> {
        const OP: &str = "read";
        self.object_path(OP, path)?;
        let (lease, full, stat, file) = self
            .inner
            .retry
            .run(opts.cancel.as_ref(), |_| {
                self.check_open(OP)?;
                let lease = self.inner.pool.get()?;
                let (full, stat) = self
                    .regular_file(&lease, OP, path)
                    .map_err(|e| lease.note(e))?;
                let file = lease
                    .sftp
                    .open(FsPath::new(&full))
                    .map_err(|e| lease.note(from_ssh(e)))?;
                Ok((lease, full, stat, file))
            })
            .map_err(|e| e.context(OP, path.as_str(), NAME))?;
        let version = Version {
            size: stat.size.unwrap_or(0),
            mtime: stat.mtime,
        };
        let (start, end) = opts.clamp(version.size);
        let mut reader = SftpReader {
            backend: self.clone(),
            path: path.clone(),
            full,
            version,
            pos: start,
            end,
            file: None,
            lease: Some(lease),
            resumes: RESUMES,
            since_resume: 0,
            cancel: opts.cancel.clone(),
        };
        reader
            .seek_to(file, start)
            .map_err(|e| e.context(OP, path.as_str(), NAME))?;
        Ok(Reader::new(reader).with_size(end - start))
    }
}

struct SftpReader {
    backend: SftpBackend,
    path: Path,
    full: String,
    version: Version,
    /// The next byte to read, and the end of the range.
    pos: u64,
    end: u64,
    file: Option<BufReader<File>>,
    /// Declared after `file`: the handle closes before the session goes back to the pool.
    lease: Option<Lease>,
    resumes: u32,
    since_resume: u64,
    /// The caller's token: a cancel ends the waits between reconnection attempts.
    cancel: Option<Cancel>,
}

impl SftpReader {
    fn seek_to(&mut self, mut file: File, pos: u64) -> Result<()> {
        if pos > 0 {
            // libssh2 keeps the offset locally: no round trip.
            file.seek(SeekFrom::Start(pos)).map_err(Error::from)?;
        }
        let cap = usize::try_from(self.end - pos)
            .unwrap_or(READ_BUFFER)
            .clamp(1, READ_BUFFER);
        self.file = Some(BufReader::with_capacity(cap, file));
        Ok(())
    }

    /// The error of a failed read, classified by the session's last libssh2 error (the
    /// `io::Error` that `ssh2` returns has lost the code).
    fn failure(&self, e: io::Error) -> Error {
        match self
            .lease
            .as_ref()
            .and_then(|l| ssh2::Error::last_session_error(&l.sess))
        {
            Some(ssh) if e.kind() != io::ErrorKind::TimedOut => from_ssh(ssh),
            // No code to go by: assume the connection, which a resume checks.
            _ => Error::from(e).with_temporary(true),
        }
    }

    /// Reopens the file on a fresh session at `pos`, if it is the same version. Making the
    /// session is retried with the backend's policy, as opening a reader is: a connection cut
    /// during the new session's key exchange is tried again, a changed file is not.
    fn resume(&mut self) -> Result<()> {
        self.file = None;
        self.lease = None;
        let retry = self.backend.inner.retry;
        let cancel = self.cancel.clone();
        retry.run(cancel.as_ref(), |_| self.reopen())
    }

    /// One attempt of [`resume`](Self::resume).
    fn reopen(&mut self) -> Result<()> {
        const OP: &str = "read";
        let b = self.backend.clone();
        b.check_open(OP)?;
        let lease = b.inner.pool.get()?;
        let (full, stat) = b.regular_file(&lease, OP, &self.path).map_err(|e| {
            let e = lease.note(e);
            match e.kind() {
                ErrorKind::NotFound => e.with_message("the object was deleted while being read"),
                _ => e,
            }
        })?;
        let now = Version {
            size: stat.size.unwrap_or(0),
            mtime: stat.mtime,
        };
        if now != self.version || full != self.full {
            return Err(Error::new(
                ErrorKind::PreconditionFailed,
                "the object changed while it was being read",
            ));
        }
        let file = lease
            .sftp
            .open(FsPath::new(&full))
            .map_err(|e| lease.note(from_ssh(e)))?;
        self.lease = Some(lease);
        self.seek_to(file, self.pos)
    }
}

impl Read for SftpReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        const OP: &str = "read";
        loop {
            if self.pos >= self.end || buf.is_empty() {
                return Ok(0);
            }
            let want = usize::try_from(self.end - self.pos)
                .unwrap_or(usize::MAX)
                .min(buf.len());
            let got = match self.file.as_mut() {
                Some(f) => f.read(&mut buf[..want]),
                None => Err(io::Error::other("the reader failed earlier")),
            };
            let e = match got {
                // Short of the size the file had: a cut that looked like an end, or a file
                // truncated under us. A resume tells which.
                Ok(0) => Error::new(
                    ErrorKind::Corrupt,
                    "the object ended before its size: it was cut while being read",
                )
                .with_temporary(true),
                Ok(n) => {
                    self.pos += n as u64;
                    self.since_resume += n as u64;
                    if self.since_resume >= REFILL {
                        self.resumes = RESUMES;
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let e = self.failure(e);
                    if let Some(l) = &self.lease {
                        l.note(e.clone());
                    }
                    e
                }
            };
            if !e.is_temporary() || self.resumes == 0 {
                // Given up on after resumes in a row: persistent, not to be retried above.
                let resumed = (RESUMES - self.resumes).max(e.retries());
                let e = match resumed {
                    n if n > 0 && e.is_temporary() => e.with_retries(n),
                    _ => e,
                };
                return Err(e.context(OP, self.path.as_str(), NAME).into());
            }
            self.resumes -= 1;
            self.since_resume = 0;
            if let Err(e) = self.resume() {
                return Err(e.context(OP, self.path.as_str(), NAME).into());
            }
        }
    }
}
