//! [`BisyncOptions`] and [`Conflict`].

use std::path::PathBuf;

use crate::Cancel;
use crate::sync::filter::Filter;

/// How a path changed on both sides, to different contents, is resolved. Whatever the
/// strategy, the losing version is **kept under a conflict name** (`name.conflict1`, the
/// first free number) on both sides; nothing is dropped.
///
/// The default is [`KeepBoth`](Conflict::KeepBoth) (rclone's `--conflict-resolve none`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Conflict {
    /// The newer modification time wins; equal or unknown times keep both.
    Newer,
    /// The older modification time wins; equal or unknown times keep both.
    Older,
    /// The larger object wins; equal sizes keep both.
    Larger,
    /// The smaller object wins; equal sizes keep both.
    Smaller,
    /// Path1's version wins.
    Path1,
    /// Path2's version wins.
    Path2,
    /// No winner: both versions are renamed to conflict names, and both sides get both.
    #[default]
    KeepBoth,
    /// Leave both sides as they are; the conflict is reported (again on later runs while
    /// the sizes or hashes differ).
    Skip,
    /// Fail that path ([`ErrorKind::PreconditionFailed`](crate::ErrorKind::PreconditionFailed)):
    /// the run reports it and saves no listings, so the next run sees the conflict again.
    Error,
}

/// The options of a [`bisync`](super::bisync) run: a builder.
///
/// ```
/// use omnistorage::sync::bisync::{BisyncOptions, Conflict};
///
/// let opts = BisyncOptions::new()
///     .conflict(Conflict::Newer)
///     .max_delete_percent(25)
///     .state_dir("/tmp/bisync-state");
/// assert_eq!(opts.conflict_value(), Conflict::Newer);
/// ```
#[derive(Clone, Debug)]
pub struct BisyncOptions {
    pub(crate) resync: bool,
    pub(crate) conflict: Conflict,
    pub(crate) state_dir: Option<PathBuf>,
    pub(crate) state_name: Option<String>,
    pub(crate) max_delete_percent: u8,
    pub(crate) check_access: bool,
    pub(crate) access_file: String,
    pub(crate) filter: Option<Filter>,
    pub(crate) dry_run: bool,
    pub(crate) cancel: Option<Cancel>,
    pub(crate) checksum: bool,
}

impl Default for BisyncOptions {
    fn default() -> BisyncOptions {
        BisyncOptions {
            resync: false,
            conflict: Conflict::default(),
            state_dir: None,
            state_name: None,
            max_delete_percent: 50,
            check_access: false,
            access_file: "RCLONE_TEST".to_owned(),
            filter: None,
            dry_run: false,
            cancel: None,
            checksum: false,
        }
    }
}

impl BisyncOptions {
    /// The defaults: no resync, [`Conflict::KeepBoth`], state under the user's cache
    /// directory, `max_delete_percent` 50, no access check, no filter, no dry run, size and
    /// modification time compared.
    pub fn new() -> BisyncOptions {
        BisyncOptions::default()
    }

    /// Rebuild the state from scratch (default `false`; required on the first run and after
    /// a damaged state): copies path2 → path1 what path1 lacks, then path1 → path2; deletes
    /// nothing. Where both sides hold different versions, path1's wins and path2's is kept
    /// under a conflict name on both sides (rclone overwrites it).
    pub fn resync(mut self, yes: bool) -> BisyncOptions {
        self.resync = yes;
        self
    }

    /// How conflicts are resolved (default [`Conflict::KeepBoth`]).
    pub fn conflict(mut self, conflict: Conflict) -> BisyncOptions {
        self.conflict = conflict;
        self
    }

    /// The conflict strategy set.
    pub fn conflict_value(&self) -> Conflict {
        self.conflict
    }

    /// The directory holding the listings and the lock (default: `$XDG_CACHE_HOME` or
    /// `~/.cache` on Unix, `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows, then
    /// `omnistorage/bisync`). Created when missing.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> BisyncOptions {
        self.state_dir = Some(dir.into());
        self
    }

    /// The name of this pair's state in the state directory (default: derived from both
    /// backends' [`location`](crate::Backend::location)s and roots). Required when a
    /// backend has no location. Letters, digits, `-`, `_` and `.` only.
    pub fn state_name(mut self, name: impl Into<String>) -> BisyncOptions {
        self.state_name = Some(name.into());
        self
    }

    /// Abort, before changing anything, when more than this percentage of either side's
    /// last listing was deleted (default 50; 100 turns the guard off).
    pub fn max_delete_percent(mut self, percent: u8) -> BisyncOptions {
        self.max_delete_percent = percent;
        self
    }

    /// Require the access file ([`access_file`](BisyncOptions::access_file)) to exist, at
    /// the same paths, on both sides before a run changes anything (default `false`):
    /// a guard against an unmounted or wrong root.
    pub fn check_access(mut self, yes: bool) -> BisyncOptions {
        self.check_access = yes;
        self
    }

    /// The access file's name (default `RCLONE_TEST`, rclone's).
    pub fn access_file(mut self, name: impl Into<String>) -> BisyncOptions {
        self.access_file = name.into();
        self
    }

    /// Only objects the filter includes take part (default: all).
    pub fn filter(mut self, filter: Filter) -> BisyncOptions {
        self.filter = Some(filter);
        self
    }

    /// Report what a run would do, changing nothing (no listings saved either; default
    /// `false`).
    pub fn dry_run(mut self, yes: bool) -> BisyncOptions {
        self.dry_run = yes;
        self
    }

    /// A token that stops the run between steps and aborts a copy in flight. A cancelled
    /// run saves no listings; the next run finishes the work.
    pub fn cancel(mut self, cancel: &Cancel) -> BisyncOptions {
        self.cancel = Some(cancel.clone());
        self
    }

    /// Compare contents by MD5 (computed where a backend lists none) instead of
    /// modification times (default `false`: size and modification time, like rclone
    /// bisync; where those say "changed on both sides", hashes are still asked before
    /// calling it a conflict).
    pub fn checksum(mut self, yes: bool) -> BisyncOptions {
        self.checksum = yes;
        self
    }
}
