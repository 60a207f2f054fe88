//! Carrying out a plan: copies, deletes, and conflicts with their losing versions renamed
//! and copied across. Every step updates the working listings, which become the saved
//! listings when the run ends without a failure.

use std::time::Duration;

use super::conflicts::{Outcome, conflict_name, decide};
use super::deltas::{Change, Same, Step, change, same};
use super::options::Conflict;
use super::report::{BisyncFailure, BisyncOp, BisyncReport, ConflictRecord, Resolution, Side};
use super::state::{Listing, Rec, time_of};
use crate::{
    Backend, Cancel, Error, ErrorKind, HashKind, Path, Result, copy_entry, copy_path, lookup,
    move_path,
};

/// A step's failure, before it is filed in the report.
type StepError = (BisyncOp, Side, String, Error);

/// The state of a run while it applies its plan.
pub(crate) struct Apply<'a> {
    pub(crate) backends: [&'a dyn Backend; 2],
    pub(crate) roots: [&'a Path; 2],
    /// The current listings, updated by every step: the next saved listings.
    pub(crate) cur: [Listing; 2],
    pub(crate) window: Duration,
    pub(crate) checksum: bool,
    pub(crate) strategy: Conflict,
    pub(crate) dry_run: bool,
    pub(crate) cancel: Option<&'a Cancel>,
    /// Both sides on one store: copies go server-side where the store can.
    pub(crate) same_store: bool,
    /// Whether each side's ETags are version tags (recorded then).
    pub(crate) tags: [bool; 2],
    pub(crate) report: BisyncReport,
}

impl Apply<'_> {
    /// Runs the steps in order, until the end or a cancel.
    pub(crate) fn run(&mut self, steps: Vec<Step>) {
        for step in steps {
            if let Some(cancel) = self.cancel
                && let Err(e) = cancel.check()
            {
                self.report.stopped = Some(e);
                return;
            }
            let result = match &step {
                Step::Copy { path, from } => self.copy_or_clash(path, *from),
                Step::Refresh { path, from } => self.refresh(path, *from),
                Step::Delete { path, on } => self.delete(path, *on),
                Step::Conflict { path, hash } => self.conflict(path, *hash),
            };
            if let Err((op, side, path, error)) = result {
                let cancelled = error.kind() == ErrorKind::Cancelled;
                if cancelled {
                    self.report.stopped = Some(error.clone());
                }
                self.report.failures.push(BisyncFailure {
                    path: Path::parse(path).unwrap_or_else(|_| Path::root()),
                    side,
                    op,
                    error,
                });
                if cancelled {
                    return;
                }
            }
        }
    }

    fn full(&self, side: Side, path: &str) -> Result<Path> {
        self.roots[side.index()].join_str(path)
    }

    /// Fails unless the object at `path` on `side` is still what the run listed (or still
    /// absent): nothing edited while the run goes on is overwritten or deleted.
    fn still_as_listed(&self, side: Side, path: &str) -> Result<()> {
        let i = side.index();
        let now = lookup(self.backends[i], &self.full(side, path)?)?;
        let listed = self.cur[i].get(path);
        let unchanged = match (listed, now.as_ref()) {
            (None, None) => true,
            (Some(l), Some(n)) => {
                change(Some(l), Some(&Rec::of(n, self.tags[i])), self.checksum) == Change::Unchanged
            }
            _ => false,
        };
        if unchanged {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::PreconditionFailed,
                "changed during the run: left alone; the next run sees the change",
            )
            .with_path(path))
        }
    }

    /// Copies `path` from `from` to the other side, if that side still holds what was
    /// listed; returns the new record.
    fn copy(&mut self, path: &str, from: Side) -> std::result::Result<(), StepError> {
        let to = from.other();
        let fail = |op, e: Error| (op, to, path.to_owned(), e);
        if !self.dry_run {
            self.still_as_listed(to, path)
                .map_err(|e| fail(BisyncOp::Check, e))?;
        }
        let rec = if self.dry_run {
            self.cur[from.index()].get(path).cloned()
        } else {
            let (src, dst) = (self.backends[from.index()], self.backends[to.index()]);
            let from_path = self.full(from, path).map_err(|e| fail(BisyncOp::Copy, e))?;
            let to_path = self.full(to, path).map_err(|e| fail(BisyncOp::Copy, e))?;
            let entry = if self.same_store {
                copy_path(src, &from_path, dst, &to_path)
            } else {
                lookup(src, &from_path)
                    .and_then(|found| {
                        found.ok_or_else(|| {
                            Error::new(ErrorKind::NotFound, "gone from the source side")
                        })
                    })
                    .and_then(|entry| copy_entry(src, &entry, dst, &to_path, self.cancel))
            }
            .map_err(|e| fail(BisyncOp::Copy, e.with_path(path)))?;
            let mut rec = Rec::of(&entry, self.tags[to.index()]);
            // The bytes copied are the source's as listed (same size and time): so is the
            // hash, which the next run compares with (with `checksum`, or where listed).
            if let Some(listed) = self.cur[from.index()].get(path)
                && rec.hash.is_none()
                && (listed.size, listed.modified) == (rec.size, rec.modified)
            {
                rec.hash = listed.hash;
            }
            Some(rec)
        };
        if let Some(rec) = rec {
            self.cur[to.index()].insert(path.to_owned(), rec);
        }
        self.report.copied_to(to);
        Ok(())
    }

    fn delete(&mut self, path: &str, on: Side) -> std::result::Result<(), StepError> {
        let fail = |op, e: Error| (op, on, path.to_owned(), e);
        if !self.dry_run {
            self.still_as_listed(on, path)
                .map_err(|e| fail(BisyncOp::Check, e))?;
            let full = self.full(on, path).map_err(|e| fail(BisyncOp::Delete, e))?;
            match self.backends[on.index()].delete(&full) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(fail(BisyncOp::Delete, e.with_path(path))),
            }
        }
        self.cur[on.index()].remove(path);
        self.report.deleted_on(on);
        Ok(())
    }

    /// Renames `path` to `to` on `side` (the losing version of a conflict).
    fn rename(&mut self, side: Side, path: &str, to: &str) -> std::result::Result<(), StepError> {
        let i = side.index();
        let fail = |e: Error| (BisyncOp::Rename, side, path.to_owned(), e);
        let rec = if self.dry_run {
            self.cur[i].get(path).cloned()
        } else {
            let b = self.backends[i];
            let from = self.full(side, path).map_err(fail)?;
            let dest = self.full(side, to).map_err(fail)?;
            let mut rec = Rec::of(&move_path(b, &from, b, &dest).map_err(fail)?, self.tags[i]);
            if rec.hash.is_none() {
                rec.hash = self.cur[i].get(path).and_then(|r| r.hash);
            }
            Some(rec)
        };
        self.cur[i].remove(path);
        if let Some(rec) = rec {
            self.cur[i].insert(to.to_owned(), rec);
        }
        self.report.renamed += 1;
        Ok(())
    }

    /// Whether both versions hold the same bytes, by MD5 (read where not stored).
    fn hashes_equal(&self, path: &str) -> std::result::Result<bool, StepError> {
        let mut hashes = Vec::with_capacity(2);
        for side in [Side::Path1, Side::Path2] {
            let fail = |e: Error| (BisyncOp::Hash, side, path.to_owned(), e);
            let full = self.full(side, path).map_err(fail)?;
            let h = self.backends[side.index()]
                .hash(&full, HashKind::Md5, self.cancel)
                .map_err(fail)?;
            hashes.push(h);
        }
        Ok(hashes.first() == hashes.get(1))
    }

    /// A path whose version tag moved on `from` while its size and time stayed: copied
    /// across only if the bytes differ.
    fn refresh(&mut self, path: &str, from: Side) -> std::result::Result<(), StepError> {
        if self.hashes_equal(path)? {
            self.report.unchanged += 1;
            return Ok(());
        }
        self.copy(path, from)
    }

    /// Copies `path` from `from`; where the other side holds a directory of that name (a
    /// file on one side, a directory on the other), the file is kept under a conflict name
    /// on both sides and the directory keeps the name (its objects are copied as usual).
    /// An empty directory in the way is removed instead.
    fn copy_or_clash(&mut self, path: &str, from: Side) -> std::result::Result<(), StepError> {
        let err = match self.copy(path, from) {
            Err((op, side, p, e))
                if op == BisyncOp::Copy && e.kind() == ErrorKind::IsADirectory =>
            {
                (op, side, p, e)
            }
            other => return other,
        };
        let to = from.other();
        let under = format!("{path}/");
        let listed_dir = self.cur[to.index()]
            .range(under.clone()..)
            .next()
            .is_some_and(|(p, _)| p.starts_with(&under));
        if !listed_dir {
            let full = self
                .full(to, path)
                .map_err(|e| (BisyncOp::Copy, to, path.to_owned(), e))?;
            match self.backends[to.index()].remove_dir(&full) {
                Ok(()) => return self.copy(path, from),
                Err(e) if e.kind() == ErrorKind::DirectoryNotEmpty => {}
                Err(_) => return Err(err),
            }
        }
        let name = self.free_name(path);
        self.report.conflicts.push(ConflictRecord {
            path: parse(path),
            resolution: Resolution::Won(to),
            kept_as: vec![(from, parse(&name))],
        });
        self.keep(from, path, &name)
    }

    /// After two versions were found equal: the older time is set to the newer (the last
    /// touch wins, as [`Conflict::Newer`] would pick), so the times converge too. Where the
    /// older side cannot set times, left as it is.
    fn align_times(&mut self, path: &str, a: &Rec, b: &Rec) -> std::result::Result<(), StepError> {
        let (Some(ta), Some(tb)) = (a.modified, b.modified) else {
            return Ok(());
        };
        let window = i128::try_from(self.window.as_nanos())
            .unwrap_or(i128::MAX)
            .max(1);
        if (ta - tb).abs() < window {
            return Ok(());
        }
        let (older, newer) = if ta < tb {
            (Side::Path1, tb)
        } else {
            (Side::Path2, ta)
        };
        let i = older.index();
        if self.dry_run || !self.backends[i].capabilities().set_modified {
            return Ok(());
        }
        let fail = |op, e: Error| (op, older, path.to_owned(), e);
        let Some(when) = time_of(newer) else {
            return Ok(());
        };
        self.still_as_listed(older, path)
            .map_err(|e| fail(BisyncOp::Check, e))?;
        let full = self
            .full(older, path)
            .map_err(|e| fail(BisyncOp::SetTime, e))?;
        let entry = self.backends[i]
            .set_modified(&full, when)
            .map_err(|e| fail(BisyncOp::SetTime, e.with_path(path)))?;
        let mut rec = Rec::of(&entry, self.tags[i]);
        if rec.hash.is_none() {
            rec.hash = self.cur[i].get(path).and_then(|r| r.hash);
        }
        self.cur[i].insert(path.to_owned(), rec);
        self.report.times_set += 1;
        Ok(())
    }

    /// A path both sides hold: identical, or a conflict for the strategy. `hash`: equal
    /// sizes and times do not tell (a version tag moved): the hashes do.
    fn conflict(&mut self, path: &str, hash: bool) -> std::result::Result<(), StepError> {
        let (a, b) = match (self.cur[0].get(path), self.cur[1].get(path)) {
            (Some(a), Some(b)) => (a.clone(), b.clone()),
            (Some(_), None) => return self.copy(path, Side::Path1),
            (None, Some(_)) => return self.copy(path, Side::Path2),
            (None, None) => return Ok(()),
        };
        let equal = match same(&a, &b, self.window, self.checksum) {
            Same::Yes if !hash => true,
            Same::No => false,
            Same::Yes | Same::Unknown => self.hashes_equal(path)?,
        };
        if equal {
            self.report.identical += 1;
            return self.align_times(path, &a, &b);
        }
        let mut record = ConflictRecord {
            path: Path::parse(path).unwrap_or_else(|_| Path::root()),
            resolution: Resolution::Failed,
            kept_as: Vec::new(),
        };
        let result = match decide(self.strategy, &a, &b) {
            Outcome::Skip => {
                record.resolution = Resolution::Skipped;
                Ok(())
            }
            Outcome::Fail => Err((
                BisyncOp::Conflict,
                Side::Path1,
                path.to_owned(),
                Error::new(
                    ErrorKind::PreconditionFailed,
                    "changed on both sides (the conflict strategy is Error)",
                )
                .with_path(path),
            )),
            Outcome::Win(winner) => {
                let loser = winner.other();
                let name = self.free_name(path);
                record.kept_as.push((loser, parse(&name)));
                self.keep(loser, path, &name)
                    .and_then(|()| self.copy(path, winner))
                    .map(|()| record.resolution = Resolution::Won(winner))
            }
            Outcome::KeepBoth => {
                let n1 = self.free_name(path);
                let n2 = conflict_name(path, |n| n == n1 || self.taken(n));
                record.kept_as.push((Side::Path1, parse(&n1)));
                record.kept_as.push((Side::Path2, parse(&n2)));
                self.keep(Side::Path1, path, &n1)
                    .and_then(|()| self.keep(Side::Path2, path, &n2))
                    .map(|()| record.resolution = Resolution::KeptBoth)
            }
        };
        self.report.conflicts.push(record);
        result
    }

    /// Keeps `side`'s version of `path` as `name` on both sides: renamed there, then copied
    /// across. After the rename the version is safe whatever happens next: a later run
    /// sees `name` as new on that side and copies it.
    fn keep(&mut self, side: Side, path: &str, name: &str) -> std::result::Result<(), StepError> {
        self.rename(side, path, name)?;
        self.copy(name, side)
    }

    fn taken(&self, name: &str) -> bool {
        self.cur[0].contains_key(name) || self.cur[1].contains_key(name)
    }

    fn free_name(&self, path: &str) -> String {
        conflict_name(path, |n| self.taken(n))
    }
}

fn parse(name: &str) -> Path {
    Path::parse(name).unwrap_or_else(|_| Path::root())
}
