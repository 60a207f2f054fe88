//! Staged files left by a crash: listed by `pending_uploads`, deleted by `abort_upload`
//! and, by age, by a writer staging into their directory; and old objects left aside by a
//! replace that was cut short, put back if nothing took their place. See the module docs,
//! "Staged files left by a crash".

use std::path::Path as FsPath;
use std::sync::PoisonError;
use std::time::{Duration, SystemTime};

use ssh2::FileStat;

use super::op::Op;
use super::pool::Conn;
use super::tree::{CACHE_MAX, Under, mtime_of};
use super::write::ASIDE_PREFIX;
use super::{NAME, SftpBackend};
use crate::backend::{PendingList, PendingUpload};
use crate::backends::tree::names::{
    Liveness, StagedName, TEMP_PREFIX, check_reserved, is_reserved,
};
use crate::backends::tree::walk::{Select, Start, Walk};
use crate::backends::tree::{Kind, Tree};
use crate::error::Result;
use crate::path::Path;

/// Whether the reserved file `name` (staged, or an old object left aside) with attributes
/// `stat` may be reclaimed: its writer is known to be dead (a name made on this machine, in
/// this boot, by a process that no longer runs), or, when that cannot be told, both the time
/// in its name and its modification time are older than `grace`. A live writer's file never.
fn reclaimable(name: &str, stat: &FileStat, grace: Duration) -> bool {
    let parsed = StagedName::parse(name).or_else(|| {
        let rest = name.strip_prefix(ASIDE_PREFIX)?;
        StagedName::parse(&format!("{TEMP_PREFIX}{rest}"))
    });
    match parsed.as_ref().map(StagedName::liveness) {
        Some(Liveness::Dead) => return true,
        Some(Liveness::Alive) => return false,
        Some(Liveness::Unknown) | None => {}
    }
    let now = SystemTime::now();
    let old = |t: Option<SystemTime>| {
        t.is_none_or(|t| now.duration_since(t).is_ok_and(|age| age >= grace))
    };
    old(parsed.and_then(|n| n.started)) && old(mtime_of(stat))
}

impl SftpBackend {
    /// Deletes (or, for an old object left aside, puts back) the reserved file `name` in
    /// the directory `dir`. Best effort.
    fn reclaim_one(&self, conn: &Conn, dir: &str, name: &str) {
        let full = format!("{dir}/{name}");
        if let Some(rest) = name.strip_prefix(ASIDE_PREFIX) {
            let target = StagedName::parse(&format!("{TEMP_PREFIX}{rest}")).and_then(|n| n.target);
            if let Some(target) = target {
                let target = format!("{dir}/{target}");
                if matches!(self.lstat(conn, &target), Ok(None))
                    && conn
                        .sftp
                        .rename(FsPath::new(&full), FsPath::new(&target), None)
                        .is_ok()
                {
                    return;
                }
            }
        }
        let _ = conn.sftp.unlink(FsPath::new(&full));
    }

    /// Looks once per backend at a directory a writer stages into, and reclaims what dead
    /// writers left there (see [`reclaimable`]).
    pub(crate) fn sweep(&self, conn: &Conn, dir: &str) {
        let Some(grace) = self.inner.pool.config().reclaim_after else {
            return;
        };
        {
            let mut swept = self
                .inner
                .swept
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if !swept.insert(dir.to_owned()) {
                return;
            }
            if swept.len() >= CACHE_MAX {
                swept.clear();
            }
        }
        let Ok(items) = conn.sftp.readdir(FsPath::new(dir)) else {
            return;
        };
        for (full, stat) in items {
            let Some(name) = full.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if is_reserved(name) && stat.is_file() && reclaimable(name, &stat, grace) {
                self.reclaim_one(conn, dir, name);
            }
        }
    }

    /// [`Backend::pending_uploads`](crate::Backend::pending_uploads): the staged files under
    /// `prefix`, in the order of the paths they are for.
    pub(crate) fn pending(&self, prefix: &Path) -> Result<PendingList> {
        const OP: Op = Op::PendingUploads;
        self.check_open(OP.name())?;
        if prefix.segments().any(is_reserved) {
            return Ok(Box::new(std::iter::empty()));
        }
        let tree = Under {
            backend: self.clone(),
        };
        let full = self.full(prefix);
        let kind = tree
            .lstat_kind(&full)
            .map_err(|e| e.context(OP.name(), prefix.as_str(), NAME))?;
        let (start, dir_path, only) = match kind {
            Some(Kind::Dir) => (Start::Dir(full), prefix.clone(), None),
            // An object, or nothing: its directory may hold staged files for it.
            _ if !prefix.is_root() => {
                let dir_path = prefix.parent().unwrap_or_default();
                let dir = self.run(OP, prefix, |conn| {
                    self.dir_of(conn, &self.inner.root, OP.name(), prefix, false)
                });
                match dir {
                    Ok(Some(dir)) => (Start::Dir(dir), dir_path, Some(prefix.clone())),
                    _ => return Ok(Box::new(std::iter::empty())),
                }
            }
            _ => return Ok(Box::new(std::iter::empty())),
        };
        let recursive = only.is_none();
        let walk = Walk::new(
            tree,
            &dir_path,
            start,
            Select::Staged { recursive },
            None,
            None,
        );
        Ok(Box::new(walk.staged().filter(move |item| {
            match (item, &only) {
                (Ok(upload), Some(path)) => &upload.path == path,
                _ => true,
            }
        })))
    }

    /// [`Backend::abort_upload`](crate::Backend::abort_upload): deletes one staged file (or
    /// puts an old object left aside back). SFTP has no locks: a live writer's file is
    /// deleted too, and its `finish` then fails.
    pub(crate) fn abort_staged(&self, upload: &PendingUpload) -> Result<()> {
        const OP: Op = Op::AbortUpload;
        self.check_open(OP.name())?;
        let Ok(id) = Path::parse(upload.id.as_str()) else {
            return Ok(());
        };
        let name = id.file_name().unwrap_or_default().to_owned();
        let dir = id.parent().unwrap_or_default();
        if !is_reserved(&name) || check_reserved(OP.name(), &dir, NAME).is_err() {
            return Ok(());
        }
        self.run(OP, &id, |conn| {
            let Some(dir) = self.dir_of(conn, &self.inner.root, OP.name(), &id, false)? else {
                return Ok(());
            };
            match self.lstat(conn, &format!("{dir}/{name}"))? {
                Some(s) if s.is_file() => self.reclaim_one(conn, &dir, &name),
                _ => {}
            }
            Ok(())
        })
    }
}
