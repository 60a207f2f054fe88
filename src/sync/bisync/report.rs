//! [`BisyncReport`]: what a bisync run did.

use std::fmt;

use crate::{Error, Path};

/// One side of the pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The first backend and root given to [`bisync`](super::bisync).
    Path1,
    /// The second.
    Path2,
}

impl Side {
    pub(crate) fn index(self) -> usize {
        match self {
            Side::Path1 => 0,
            Side::Path2 => 1,
        }
    }

    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Path1 => Side::Path2,
            Side::Path2 => Side::Path1,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Path1 => "path1",
            Side::Path2 => "path2",
        })
    }
}

/// What a bisync step was doing when it failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BisyncOp {
    /// Copying an object to the side named in the failure.
    Copy,
    /// Deleting an object on that side.
    Delete,
    /// Renaming the losing version of a conflict to its conflict name.
    Rename,
    /// Hashing to tell whether two versions are equal.
    Hash,
    /// Checking, just before changing it, that the object is still as listed.
    Check,
    /// Resolving a conflict (with [`Conflict::Error`](super::Conflict::Error)).
    Conflict,
    /// Setting the modification time of the older of two equal versions to the newer's.
    SetTime,
}

impl fmt::Display for BisyncOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BisyncOp::Copy => "copy",
            BisyncOp::Delete => "delete",
            BisyncOp::Rename => "rename",
            BisyncOp::Hash => "hash",
            BisyncOp::Check => "check",
            BisyncOp::Conflict => "conflict",
            BisyncOp::SetTime => "set time",
        })
    }
}

/// One failed step.
#[derive(Debug)]
#[non_exhaustive]
pub struct BisyncFailure {
    /// The path, relative to the roots.
    pub path: Path,
    /// The side being changed.
    pub side: Side,
    /// What was being done.
    pub op: BisyncOp,
    /// What went wrong.
    pub error: Error,
}

impl fmt::Display for BisyncFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on {} {:?}: {}",
            self.op,
            self.side,
            self.path.as_str(),
            self.error
        )
    }
}

/// How a conflict ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resolution {
    /// This side's version won and is now at the path on both sides; the other's is kept
    /// under the conflict name.
    Won(Side),
    /// Both versions were renamed to conflict names, on both sides.
    KeptBoth,
    /// Left as it was ([`Conflict::Skip`](super::Conflict::Skip)).
    Skipped,
    /// Failed ([`Conflict::Error`](super::Conflict::Error), or a step failed).
    Failed,
}

/// One path changed on both sides to different contents.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ConflictRecord {
    /// The path, relative to the roots.
    pub path: Path,
    /// How it ended.
    pub resolution: Resolution,
    /// Where losing versions were kept: whose version, under which name (on both sides).
    pub kept_as: Vec<(Side, Path)>,
}

/// What a bisync run did (in a dry run: would do).
#[derive(Debug, Default)]
#[must_use = "a run with failures returns Ok(report): check report.is_ok()"]
#[non_exhaustive]
pub struct BisyncReport {
    /// Objects copied to path1 (new or changed on path2, or conflict versions).
    pub copied_to_path1: u64,
    /// Objects copied to path2.
    pub copied_to_path2: u64,
    /// Objects deleted on path1 (deleted on path2 and unchanged on path1).
    pub deleted_on_path1: u64,
    /// Objects deleted on path2.
    pub deleted_on_path2: u64,
    /// Objects renamed to a conflict name.
    pub renamed: u64,
    /// Paths changed on both sides that turned out identical: nothing to do.
    pub identical: u64,
    /// Paths with no change to propagate.
    pub unchanged: u64,
    /// Equal versions whose modification times differed: the older was set to the newer.
    pub times_set: u64,
    /// Leftovers of an interrupted run reclaimed at the start of this one (staged files,
    /// unfinished multipart uploads), on both sides.
    pub leftovers_reclaimed: u64,
    /// Conflicts and how they ended.
    pub conflicts: Vec<ConflictRecord>,
    /// Failed steps. A run with any saves no listings: the next run redoes the work.
    pub failures: Vec<BisyncFailure>,
    /// The error that stopped the run early (a cancel).
    pub stopped: Option<Error>,
    /// Whether this was a resync.
    pub resynced: bool,
    /// Whether the previous run had been interrupted after it started changing things
    /// (this run picked up from the last good listings).
    pub recovered: bool,
    /// Whether a stale lock (its process gone) was taken over.
    pub lock_taken_over: bool,
    /// Whether the listings were saved (a clean, real run).
    pub listings_saved: bool,
    /// Whether nothing was changed (a dry run).
    pub dry_run: bool,
}

impl BisyncReport {
    /// No failures and not stopped.
    pub fn is_ok(&self) -> bool {
        self.failures.is_empty() && self.stopped.is_none()
    }

    /// `Ok(())` when [`is_ok`](BisyncReport::is_ok); otherwise the stop, or the first
    /// failure's error.
    pub fn result(&self) -> crate::Result<()> {
        if let Some(e) = &self.stopped {
            return Err(e.clone());
        }
        match self.failures.first() {
            None => Ok(()),
            Some(f) => Err(f
                .error
                .clone()
                .with_message(format!("{f} ({} failures in all)", self.failures.len()))),
        }
    }

    pub(crate) fn copied_to(&mut self, side: Side) {
        match side {
            Side::Path1 => self.copied_to_path1 += 1,
            Side::Path2 => self.copied_to_path2 += 1,
        }
    }

    pub(crate) fn deleted_on(&mut self, side: Side) {
        match side {
            Side::Path1 => self.deleted_on_path1 += 1,
            Side::Path2 => self.deleted_on_path2 += 1,
        }
    }
}
