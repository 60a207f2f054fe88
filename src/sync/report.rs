//! What a run did: [`Report`] (sync, copy, move) and [`CheckReport`] (check, verify).

use std::fmt;
use std::time::Duration;

use crate::{Error, HashKind, Path};

/// The operation that failed, in a [`Failure`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Op {
    /// Listing the source.
    ListSource,
    /// Listing the destination.
    ListDestination,
    /// Reading an object's stored details (`stat`).
    Stat,
    /// Hashing an object.
    Hash,
    /// Copying an object.
    Copy,
    /// Setting a destination's modification time.
    SetModified,
    /// Deleting a destination object.
    Delete,
    /// Deleting a source object after it was moved.
    DeleteSource,
    /// Keeping a destination object in the backup before replacing or deleting it.
    Backup,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::ListSource => "list source",
            Op::ListDestination => "list destination",
            Op::Stat => "stat",
            Op::Hash => "hash",
            Op::Copy => "copy",
            Op::SetModified => "set modification time",
            Op::Delete => "delete",
            Op::DeleteSource => "delete source",
            Op::Backup => "back up",
        })
    }
}

/// One failure of a run: which path, doing what, and the error (with its kind and whether a
/// retry may help).
#[derive(Debug)]
pub struct Failure {
    /// The path, relative to the transfer root (the root itself for a listing failure
    /// without a path).
    pub path: Path,
    /// What was being done.
    pub op: Op,
    /// What went wrong.
    pub error: Error,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}: {}", self.op, self.path.as_str(), self.error)
    }
}

/// What a sync, copy or move did (or, in a dry run, would do).
///
/// Counts add up over the run's attempts ([`Options::retries`](super::Options::retries));
/// [`failures`](Report::failures) are those of the last attempt, which are the ones left.
/// Check [`is_ok`](Report::is_ok) or [`result`](Report::result): a run with failures still
/// returns a report.
#[derive(Debug, Default)]
#[must_use = "a run with failures returns Ok(report): check report.is_ok()"]
#[non_exhaustive]
pub struct Report {
    /// Objects copied (new or changed).
    pub copied: u64,
    /// Bytes copied.
    pub copied_bytes: u64,
    /// Destination objects whose time was set instead of copying them again.
    pub set_modified: u64,
    /// Destination objects deleted.
    pub deleted: u64,
    /// Source objects deleted after a move.
    pub source_deleted: u64,
    /// Objects found equal: nothing done.
    pub unchanged: u64,
    /// Objects left alone by `ignore_existing` or `update`.
    pub skipped: u64,
    /// Destination objects kept in the backup (`backup_dir`, `suffix`) before they were
    /// replaced or deleted.
    pub backed_up: u64,
    /// Deletions not done (in the last attempt) because the run had errors (rclone's rule:
    /// a sync with errors deletes nothing at the destination) or would pass `max_delete`.
    pub deletes_held: u64,
    /// Failures left after the last attempt.
    pub failures: Vec<Failure>,
    /// An error that stopped the run early: a limit reached (its
    /// [`operation`](crate::Error::operation) names it: `max_transfer`, `max_delete`,
    /// `max_errors`)
    /// ([`ErrorKind::LimitExceeded`](crate::ErrorKind::LimitExceeded)) or a cancel.
    pub stopped: Option<Error>,
    /// Whether nothing was changed (a dry run).
    pub dry_run: bool,
    /// Attempts made (1 unless failures made the run start again).
    pub attempts: u32,
    /// How long the run took.
    pub elapsed: Duration,
}

impl Report {
    /// No failures and not stopped.
    pub fn is_ok(&self) -> bool {
        self.failures.is_empty() && self.stopped.is_none()
    }

    /// `Ok(())` when [`is_ok`](Report::is_ok); otherwise the error that stopped the run, or
    /// the first failure's error with the count of the others in its message.
    pub fn result(&self) -> crate::Result<()> {
        if let Some(e) = &self.stopped {
            return Err(e.clone());
        }
        match self.failures.first() {
            None => Ok(()),
            Some(first) if self.failures.len() == 1 => Err(first.error.clone()),
            Some(first) => Err(first.error.clone().with_message(format!(
                "{} (and {} more failures)",
                first.error.message().unwrap_or(first.error.kind().as_str()),
                self.failures.len() - 1
            ))),
        }
    }

    /// Whether any failure or the stop is temporary (worth running again).
    pub fn is_temporary(&self) -> bool {
        self.failures.iter().any(|f| f.error.is_temporary())
    }

    /// Whether the run transferred anything (copies, time changes, deletes).
    pub fn changed_anything(&self) -> bool {
        self.copied + self.set_modified + self.deleted + self.source_deleted > 0
    }
}

/// What [`check`](super::check) or [`verify`](super::verify) found. Paths are relative to
/// the roots, in ascending order.
#[derive(Debug, Default)]
#[must_use]
#[non_exhaustive]
pub struct CheckReport {
    /// Equal on both sides.
    pub matched: Vec<Path>,
    /// On both sides, different.
    pub differ: Vec<Path>,
    /// Only at the source.
    pub missing_on_dst: Vec<Path>,
    /// Only at the destination (empty with `one_way`).
    pub missing_on_src: Vec<Path>,
    /// Paths that could not be compared, and why.
    pub errors: Vec<Failure>,
    /// The hash compared, or `None` when sizes alone decided (no hash both sides have).
    pub hash: Option<HashKind>,
    /// Stopped early by a cancel.
    pub stopped: Option<Error>,
}

impl CheckReport {
    /// Nothing differs, nothing is missing, nothing failed.
    pub fn is_ok(&self) -> bool {
        self.differ.is_empty()
            && self.missing_on_dst.is_empty()
            && self.missing_on_src.is_empty()
            && self.errors.is_empty()
            && self.stopped.is_none()
    }

    /// rclone's `--combined` listing: one line per path in path order, `= path` equal,
    /// `+ path` only at the source, `- path` only at the destination, `* path` different,
    /// `! path` error.
    pub fn combined(&self) -> Vec<(char, &Path)> {
        let mut lines: Vec<(char, &Path)> = self
            .matched
            .iter()
            .map(|p| ('=', p))
            .chain(self.missing_on_dst.iter().map(|p| ('+', p)))
            .chain(self.missing_on_src.iter().map(|p| ('-', p)))
            .chain(self.differ.iter().map(|p| ('*', p)))
            .chain(self.errors.iter().map(|f| ('!', &f.path)))
            .collect();
        lines.sort_by(|a, b| a.1.as_str().cmp(b.1.as_str()));
        lines
    }

    pub(crate) fn sort(&mut self) {
        for v in [
            &mut self.matched,
            &mut self.differ,
            &mut self.missing_on_dst,
            &mut self.missing_on_src,
        ] {
            v.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        }
        self.errors
            .sort_by(|a, b| a.path.as_str().cmp(b.path.as_str()));
    }
}
