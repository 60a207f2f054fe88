//! [`Options`]: everything a run can be told, with rclone's defaults.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::bwlimit::BwLimit;
use super::filter::Filter;
use super::plan::Action;
use super::progress::Snapshot;
use crate::{Cancel, HashKind, Path};

/// How source and destination objects are compared (rclone's `--size-only`, `--checksum`,
/// ...). The default compares size and modification time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compare {
    /// Size, then modification time within the modify window; when only the time differs,
    /// a hash both sides can give cheaply decides between setting the time and copying.
    #[default]
    SizeAndTime,
    /// Size, then a hash both sides share (computed by reading where a side has none).
    /// Modification times are not looked at.
    Checksum,
    /// Size only (`--size-only`).
    SizeOnly,
    /// Every source object is copied, whatever the destination holds (`--ignore-times`).
    Always,
}

/// When a sync deletes what the destination has and the source does not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeleteMode {
    /// After every transfer succeeded (rclone's default `--delete-after`). Nothing is deleted
    /// if any error happened.
    #[default]
    After,
    /// As the extras are found, beside the transfers (`--delete-during`).
    During,
    /// Before any transfer, in a first pass over both listings (`--delete-before`).
    Before,
}

/// A progress callback: receives a [`Snapshot`] at a steady rate while a run goes on, and
/// once at its end.
pub type ProgressFn = Arc<dyn Fn(&Snapshot) + Send + Sync>;

/// An action callback: called once for each thing a run did (in a dry run: would do), from
/// the thread that did it.
pub type ActionFn = Arc<dyn Fn(&Action) + Send + Sync>;

/// The options of a run: a builder with rclone's defaults.
///
/// ```
/// use omnistorage::sync::{Compare, Options};
///
/// let opts = Options::new()
///     .compare(Compare::Checksum)
///     .transfers(8)
///     .dry_run(true);
/// assert_eq!(opts.transfers_value(), 8);
/// ```
#[derive(Clone)]
pub struct Options {
    pub(crate) compare: Compare,
    pub(crate) ignore_size: bool,
    pub(crate) ignore_existing: bool,
    pub(crate) update: bool,
    pub(crate) modify_window: Option<Duration>,
    pub(crate) hash: Option<HashKind>,
    pub(crate) metadata: bool,
    pub(crate) dry_run: bool,
    pub(crate) transfers: usize,
    pub(crate) checkers: usize,
    pub(crate) delete_mode: DeleteMode,
    pub(crate) delete_excluded: bool,
    pub(crate) delete_empty_src_dirs: bool,
    pub(crate) max_delete: Option<u64>,
    pub(crate) max_transfer: Option<u64>,
    pub(crate) max_errors: Option<u64>,
    pub(crate) retries: u32,
    pub(crate) low_level_retries: u32,
    pub(crate) retry_base: Duration,
    pub(crate) filter: Option<Filter>,
    pub(crate) bwlimit: Option<BwLimit>,
    pub(crate) cancel: Option<Cancel>,
    pub(crate) progress: Option<(Duration, ProgressFn)>,
    pub(crate) on_action: Option<ActionFn>,
    pub(crate) one_way: bool,
    pub(crate) hash_cache: bool,
    pub(crate) hash_cache_dir: Option<std::path::PathBuf>,
    pub(crate) backup: super::backup::Backup,
}

impl Default for Options {
    fn default() -> Options {
        Options::new()
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("compare", &self.compare)
            .field("dry_run", &self.dry_run)
            .field("transfers", &self.transfers)
            .field("checkers", &self.checkers)
            .field("delete_mode", &self.delete_mode)
            .field("filter", &self.filter)
            .field("bwlimit", &self.bwlimit)
            .finish_non_exhaustive()
    }
}

impl Options {
    /// rclone's defaults: size and time, 4 transfers, 8 checkers, delete after, 3 retries of
    /// the whole run, 10 low-level retries, no limits, no filter.
    pub fn new() -> Options {
        Options {
            compare: Compare::SizeAndTime,
            ignore_size: false,
            ignore_existing: false,
            update: false,
            modify_window: None,
            hash: None,
            metadata: false,
            dry_run: false,
            transfers: 4,
            checkers: 8,
            delete_mode: DeleteMode::After,
            delete_excluded: false,
            delete_empty_src_dirs: false,
            max_delete: None,
            max_transfer: None,
            max_errors: None,
            retries: 3,
            low_level_retries: 10,
            retry_base: Duration::from_millis(100),
            filter: None,
            bwlimit: None,
            cancel: None,
            progress: None,
            on_action: None,
            one_way: false,
            hash_cache: true,
            hash_cache_dir: None,
            backup: super::backup::Backup::default(),
        }
    }

    /// How objects are compared (default [`Compare::SizeAndTime`]).
    pub fn compare(mut self, compare: Compare) -> Options {
        self.compare = compare;
        self
    }

    /// Do not treat a size difference as a difference (`--ignore-size`; default off).
    pub fn ignore_size(mut self, on: bool) -> Options {
        self.ignore_size = on;
        self
    }

    /// Never touch an object that exists at the destination (`--ignore-existing`; default
    /// off).
    pub fn ignore_existing(mut self, on: bool) -> Options {
        self.ignore_existing = on;
        self
    }

    /// Skip objects whose destination is newer than the source (`--update`; default off).
    pub fn update(mut self, on: bool) -> Options {
        self.update = on;
        self
    }

    /// The least difference of modification times that counts as a difference. The window
    /// used is the largest of this and the time precisions of both backends (default: those
    /// precisions alone, so 1 ns between two local trees and 1 s when one side is SFTP).
    pub fn modify_window(mut self, window: Duration) -> Options {
        self.modify_window = Some(window);
        self
    }

    /// The hash to compare by (default: the best one both sides can give).
    pub fn hash(mut self, kind: HashKind) -> Options {
        self.hash = Some(kind);
        self
    }

    /// Copy user metadata too (`--metadata`; default off). Content type and modification
    /// time are always kept.
    pub fn metadata(mut self, on: bool) -> Options {
        self.metadata = on;
        self
    }

    /// Plan and report, but change nothing (default off). The report says exactly what a
    /// real run would do.
    pub fn dry_run(mut self, on: bool) -> Options {
        self.dry_run = on;
        self
    }

    /// Parallel transfers (default 4; at least 1).
    pub fn transfers(mut self, n: usize) -> Options {
        self.transfers = n.max(1);
        self
    }

    /// The number of parallel transfers set.
    pub fn transfers_value(&self) -> usize {
        self.transfers
    }

    /// Parallel comparisons: stats, hashes (default 8; at least 1).
    pub fn checkers(mut self, n: usize) -> Options {
        self.checkers = n.max(1);
        self
    }

    /// When a sync deletes extras at the destination (default [`DeleteMode::After`]).
    pub fn delete_mode(mut self, mode: DeleteMode) -> Options {
        self.delete_mode = mode;
        self
    }

    /// Delete destination objects that the filter excludes, too (`--delete-excluded`;
    /// default off: excluded objects at the destination are left alone).
    pub fn delete_excluded(mut self, on: bool) -> Options {
        self.delete_excluded = on;
        self
    }

    /// After a move, remove the source directories it left empty
    /// (`--delete-empty-src-dirs`; default off).
    pub fn delete_empty_src_dirs(mut self, on: bool) -> Options {
        self.delete_empty_src_dirs = on;
        self
    }

    /// Stop with [`ErrorKind::LimitExceeded`](crate::ErrorKind::LimitExceeded) before
    /// deleting more than `n` objects (`--max-delete`; default no limit).
    pub fn max_delete(mut self, n: u64) -> Options {
        self.max_delete = Some(n);
        self
    }

    /// Stop with [`ErrorKind::LimitExceeded`](crate::ErrorKind::LimitExceeded) before
    /// transferring more than `bytes` (`--max-transfer`; default no limit). A transfer that
    /// would cross the limit is not started.
    pub fn max_transfer(mut self, bytes: u64) -> Options {
        self.max_transfer = Some(bytes);
        self
    }

    /// Stop starting new work after this many errors (default: no limit).
    pub fn max_errors(mut self, n: u64) -> Options {
        self.max_errors = Some(n.max(1));
        self
    }

    /// Run the whole sync again while errors remain, up to `n` more times (`--retries`;
    /// default 3). Each run lists both sides again and retries every failed object, its
    /// persistent errors included: a failing request is sent at most (backend retries + 1)
    /// × (`n` + 1) times in all.
    pub fn retries(mut self, n: u32) -> Options {
        self.retries = n;
        self
    }

    /// Retry one failed operation whose error is temporary up to `n` times, with
    /// exponential backoff and jitter (`--low-level-retries`; default 10). An error the
    /// backend already retried ([persistent](crate::Error::is_persistent)) is not retried
    /// here again: the backend's retries and these are not multiplied. For backends that do
    /// not retry (memory, file), these are the only retries of an operation.
    pub fn low_level_retries(mut self, n: u32) -> Options {
        self.low_level_retries = n;
        self
    }

    /// The first backoff delay of low-level retries (default 100 ms; doubles each time, up
    /// to 5 s).
    pub fn retry_delay(mut self, base: Duration) -> Options {
        self.retry_base = base;
        self
    }

    /// Which paths take part (default: all).
    pub fn filter(mut self, filter: Filter) -> Options {
        self.filter = Some(filter);
        self
    }

    /// One bandwidth limit shared by all transfers (default: none).
    pub fn bwlimit(mut self, limit: BwLimit) -> Options {
        self.bwlimit = Some(limit);
        self
    }

    /// The bandwidth limit set, if any (to pass on to a single copy,
    /// [`CopyOptions::throttle`](crate::CopyOptions::throttle)).
    pub fn bwlimit_value(&self) -> Option<&BwLimit> {
        self.bwlimit.as_ref()
    }

    /// A token that stops the run: no new work starts, and transfers in flight are aborted
    /// (nothing partial is committed).
    pub fn cancel(mut self, cancel: &Cancel) -> Options {
        self.cancel = Some(cancel.clone());
        self
    }

    /// Call `callback` with a progress snapshot every `every`, and once at the end.
    pub fn progress(
        mut self,
        every: Duration,
        callback: impl Fn(&Snapshot) + Send + Sync + 'static,
    ) -> Options {
        self.progress = Some((every, Arc::new(callback)));
        self
    }

    /// Call `callback` for each thing the run does (copy, set time, delete, ...), as it is
    /// done; in a dry run, for each thing it would do. Called from worker threads.
    pub fn on_action(mut self, callback: impl Fn(&Action) + Send + Sync + 'static) -> Options {
        self.on_action = Some(Arc::new(callback));
        self
    }

    /// Keep what a run learns about each source object for the next run (default on): see
    /// [the module docs](super#the-hash-cache). Off: every run compares from scratch.
    pub fn hash_cache(mut self, on: bool) -> Options {
        self.hash_cache = on;
        self
    }

    /// Where hash caches are kept (default: `$XDG_CACHE_HOME/omnistorage/hashes`, else
    /// `~/.cache/omnistorage/hashes`; `%LOCALAPPDATA%` on Windows).
    pub fn hash_cache_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Options {
        self.hash_cache_dir = Some(dir.into());
        self
    }

    /// Keep what the run would overwrite or delete at the destination under `dir`, a
    /// directory on the destination backend that does not overlap the destination root, at
    /// the same relative path (`--backup-dir`; default none). Overwritten objects are copied
    /// there first (server-side where the store can), so the object itself is still
    /// replaced atomically; deleted ones are moved there.
    pub fn backup_dir(mut self, dir: Path) -> Options {
        self.backup.dir = Some(dir);
        self
    }

    /// Append `suffix` to the names of kept objects (`--suffix`). Without a backup
    /// directory, they are kept beside the originals under the suffixed name.
    pub fn suffix(mut self, suffix: impl Into<String>) -> Options {
        self.backup.suffix = Some(suffix.into());
        self
    }

    /// `check` only: ignore objects that are only at the destination (`--one-way`).
    pub fn one_way(mut self, on: bool) -> Options {
        self.one_way = on;
        self
    }
}
