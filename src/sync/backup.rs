//! `backup_dir` and `suffix`: what a run would overwrite or delete at the destination is
//! kept instead (rclone's `--backup-dir`, `--suffix`).

use crate::{Backend, Error, ErrorKind, Path, Result};

/// Where replaced and deleted destination objects go.
#[derive(Clone, Debug, Default)]
pub(crate) struct Backup {
    /// A directory on the destination backend (not overlapping the destination root).
    pub(crate) dir: Option<Path>,
    /// Appended to the kept object's name.
    pub(crate) suffix: Option<String>,
}

impl Backup {
    pub(crate) fn is_on(&self) -> bool {
        self.dir.is_some() || self.suffix.is_some()
    }

    /// Checks the settings against the destination root.
    pub(crate) fn check(&self, dst_root: &Path) -> Result<()> {
        if let Some(dir) = &self.dir
            && (dir.starts_with(dst_root) || dst_root.starts_with(dir))
        {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "the backup directory {:?} overlaps the destination {:?}",
                    dir.as_str(),
                    dst_root.as_str()
                ),
            ));
        }
        if self.dir.is_none() && self.suffix.as_deref() == Some("") {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "an empty suffix without a backup directory would overwrite in place",
            ));
        }
        Ok(())
    }

    /// Where the destination object at `rel` (under `dst_root`) is kept.
    fn target(&self, dst_root: &Path, rel: &Path) -> Result<Path> {
        let base = match &self.dir {
            Some(dir) => dir.join(rel),
            None => dst_root.join(rel),
        };
        match self.suffix.as_deref() {
            None | Some("") => Ok(base),
            Some(suffix) => Path::parse(format!("{base}{suffix}")),
        }
    }

    /// Before the destination object at `rel` is overwritten: a copy of it is kept (a
    /// server-side copy where the store has one), so the object itself is replaced
    /// atomically, never missing.
    pub(crate) fn keep_copy(&self, dst: &dyn Backend, dst_root: &Path, rel: &Path) -> Result<()> {
        let to = self.target(dst_root, rel)?;
        crate::copy_path(dst, &dst_root.join(rel), dst, &to).map(|_| ())
    }

    /// Instead of deleting the destination object at `rel`: it is moved to the backup.
    pub(crate) fn move_away(&self, dst: &dyn Backend, dst_root: &Path, rel: &Path) -> Result<()> {
        let to = self.target(dst_root, rel)?;
        crate::move_path(dst, &dst_root.join(rel), dst, &to).map(|_| ())
    }
}
