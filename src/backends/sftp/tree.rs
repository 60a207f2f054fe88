//! Directories on the server: the [`Tree`] primitives the shared walk and parent walk use,
//! `lstat` of one path, and a cache of the directories already checked, so that a write
//! into a known directory costs no `lstat` per level.

use std::path::Path as FsPath;
use std::sync::PoisonError;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ssh2::{FileStat, FileType};

use super::errors::{FAILURE, NO_SUCH_FILE, from_ssh, is_status};
use super::op::Op;
use super::{NAME, SftpBackend};
use crate::backends::tree::{self, Child, Dirs, Kind, Tree};
use crate::entry::{Entry, Fields};
use crate::error::{Error, ErrorKind, Result};
use crate::path::Path;

/// How many directories the cache holds before it forgets them all.
pub(crate) const CACHE_MAX: usize = 4096;

pub(crate) fn kind_of(stat: &FileStat) -> Kind {
    if stat.perm.is_none() {
        return Kind::Other;
    }
    match stat.file_type() {
        FileType::RegularFile => Kind::File,
        FileType::Directory => Kind::Dir,
        FileType::Symlink => Kind::Symlink,
        _ => Kind::Other,
    }
}

pub(crate) fn mtime_of(stat: &FileStat) -> Option<SystemTime> {
    stat.mtime.map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

/// The entry of a regular file or directory from its attributes. SFTP stores no content
/// type, metadata or hashes: the entry is complete.
pub(crate) fn entry_of(path: &Path, stat: &FileStat) -> Entry {
    let entry = match kind_of(stat) {
        Kind::Dir => Entry::dir(path.clone()),
        _ => Entry::file(path.clone(), stat.size.unwrap_or(0)),
    };
    entry.with_modified(mtime_of(stat)).with_filled(Fields::ALL)
}

impl SftpBackend {
    /// `lstat` of a full path: `Ok(None)` if nothing is there.
    pub(crate) fn lstat(&self, conn: &super::pool::Conn, full: &str) -> Result<Option<FileStat>> {
        match conn.sftp.lstat(FsPath::new(full)) {
            Ok(stat) => Ok(Some(stat)),
            Err(e) if is_status(&e, NO_SUCH_FILE) => Ok(None),
            // OpenSSH answers ENOTDIR (a file on the way) with a bare FAILURE.
            Err(e) if is_status(&e, FAILURE) => Ok(None),
            Err(e) => Err(from_ssh(e)),
        }
    }

    /// The full path of `path`'s directory, checked from `root` down (no symlinks, no
    /// objects in the way) and created if `create`; `Ok(None)` if it does not exist.
    /// Directories checked before are taken from the cache.
    pub(crate) fn dir_of(
        &self,
        conn: &super::pool::Conn,
        root: &str,
        op: &'static str,
        path: &Path,
        create: bool,
    ) -> Result<Option<String>> {
        let parent = path.parent().unwrap_or_default();
        let full = super::full_under(root, &parent);
        if parent.is_root() || self.known_dir(&full) {
            return Ok(Some(full));
        }
        let on = OnConn {
            backend: self,
            conn,
        };
        let found = tree::parent_dir(&on, &root.to_owned(), op, path, create)?;
        if let Some((dir, _)) = &found {
            self.remember_dir(dir);
        }
        Ok(found.map(|(dir, _)| dir))
    }

    fn known_dir(&self, full: &str) -> bool {
        let dirs = self
            .inner
            .dirs
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        dirs.contains(full)
    }

    /// Records `full` and every directory above it (up to the root) as checked.
    pub(crate) fn remember_dir(&self, full: &str) {
        let mut dirs = self
            .inner
            .dirs
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if dirs.len() >= CACHE_MAX {
            dirs.clear();
        }
        let mut at = full;
        while at.len() > self.inner.root.len() {
            if !dirs.insert(at.to_owned()) {
                break;
            }
            match at.rfind('/') {
                Some(i) => at = &at[..i],
                None => break,
            }
        }
    }

    /// Forgets the directories at and under `full` (one was removed, or found missing).
    pub(crate) fn forget_dir(&self, full: &str) {
        let mut dirs = self
            .inner
            .dirs
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let below = format!("{full}/");
        dirs.retain(|d| d != full && !d.starts_with(&below));
    }

    /// Makes sure the root exists (once per backend): created with its missing parents.
    pub(crate) fn ensure_root(&self, conn: &super::pool::Conn) -> Result<()> {
        use std::sync::atomic::Ordering;
        if self.inner.root_seen.load(Ordering::Relaxed) {
            return Ok(());
        }
        let root = self.inner.root.clone();
        let mut missing = Vec::new();
        let mut at = root.as_str();
        while !at.is_empty() {
            match self.lstat(conn, at)? {
                Some(s) if kind_of(&s) == Kind::File => {
                    return Err(Error::new(ErrorKind::NotADirectory, "the root is a file")
                        .with_path(root.clone()));
                }
                Some(_) => break,
                None => missing.push(at.to_owned()),
            }
            at = at.rfind('/').map_or("", |i| &at[..i]);
        }
        for dir in missing.iter().rev() {
            match conn.sftp.mkdir(FsPath::new(dir), 0o755) {
                Ok(()) => {}
                Err(e) if self.lstat(conn, dir)?.is_some() => drop(e),
                Err(e) => return Err(from_ssh(e)),
            }
        }
        self.inner.root_seen.store(true, Ordering::Relaxed);
        Ok(())
    }
}

/// The backend's directories on one session, the caller's: for the parent walk, so that an
/// operation never holds two sessions.
struct OnConn<'a> {
    backend: &'a SftpBackend,
    conn: &'a super::pool::Conn,
}

impl Dirs for OnConn<'_> {
    type Loc = String;
    const NAME: &'static str = NAME;

    fn child(&self, dir: &String, name: &str) -> String {
        child(dir, name)
    }

    fn lstat_kind(&self, at: &String) -> Result<Option<Kind>> {
        Ok(self.backend.lstat(self.conn, at)?.map(|s| kind_of(&s)))
    }

    fn mkdir(&self, at: &String) -> Result<()> {
        mkdir(self.backend, self.conn, at)
    }
}

fn child(dir: &str, name: &str) -> String {
    match dir {
        "" | "/" => format!("/{name}"),
        d => format!("{d}/{name}"),
    }
}

fn mkdir(b: &SftpBackend, conn: &super::pool::Conn, at: &str) -> Result<()> {
    match conn.sftp.mkdir(FsPath::new(at), 0o755) {
        Ok(()) => Ok(()),
        // v3 says FAILURE for "exists" (and a retry of a mkdir that worked finds it).
        Err(e) if is_status(&e, FAILURE) => match b.lstat(conn, at)? {
            Some(_) => Err(Error::new(ErrorKind::AlreadyExists, "exists")),
            None => Err(from_ssh(e)),
        },
        Err(e) => Err(from_ssh(e)),
    }
}

/// The backend seen as a [`Tree`] (a wrapper, so that the walk's clones are cheap).
#[derive(Clone)]
pub(crate) struct Under {
    pub(crate) backend: SftpBackend,
}

impl Tree for Under {
    type Loc = String;
    type Attrs = FileStat;

    const NAME: &'static str = NAME;

    fn check_open(&self, op: &'static str) -> Result<()> {
        self.backend.check_open(op)
    }

    fn child(&self, dir: &String, name: &str) -> String {
        child(dir, name)
    }

    fn read_dir(&self, dir: &String) -> Result<Vec<Result<Child<FileStat>>>> {
        let b = &self.backend;
        let items = b.attempt(Op::List, |conn| {
            conn.sftp.readdir(FsPath::new(dir)).map_err(|e| {
                if is_status(&e, FAILURE) {
                    Error::new(ErrorKind::NotADirectory, "not a directory")
                } else {
                    from_ssh(e)
                }
            })
        })?;
        Ok(items
            .into_iter()
            .map(|(full, stat)| {
                let name = full.file_name().and_then(|n| n.to_str());
                match name {
                    Some(name) => Ok(Child {
                        name: name.to_owned(),
                        kind: kind_of(&stat),
                        attrs: stat,
                    }),
                    None => Err(
                        Error::new(ErrorKind::InvalidPath, "a name that is not UTF-8")
                            .with_path(full.to_string_lossy().into_owned()),
                    ),
                }
            })
            .collect())
    }

    fn lstat_kind(&self, at: &String) -> Result<Option<Kind>> {
        let b = &self.backend;
        let stat = b.attempt(Op::Lstat, |conn| b.lstat(conn, at))?;
        Ok(stat.map(|s| kind_of(&s)))
    }

    fn mkdir(&self, at: &String) -> Result<()> {
        let b = &self.backend;
        b.attempt(Op::CreateDir, |conn| mkdir(b, conn, at))
    }

    fn file_entry(
        &self,
        _: &String,
        child: &Child<FileStat>,
        path: &Path,
    ) -> Result<Option<Entry>> {
        Ok(Some(entry_of(path, &child.attrs)))
    }

    fn dir_entry(&self, _: &String, child: &Child<FileStat>, path: Path) -> Entry {
        entry_of(&path, &child.attrs)
    }

    fn staged_time(&self, _: &String, child: &Child<FileStat>) -> Option<SystemTime> {
        mtime_of(&child.attrs)
    }
}
