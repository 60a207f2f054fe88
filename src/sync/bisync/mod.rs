//! Two-way sync that never loses an edit: [`bisync`], rclone's `bisync` with a stronger
//! promise.
//!
//! Each run compares both sides with their listings from the last good run (kept in a state
//! directory), and propagates what changed:
//!
//! | path1 since last run | path2 since last run | result |
//! | --- | --- | --- |
//! | new or changed | unchanged | copied to path2 |
//! | deleted | unchanged | deleted on path2 |
//! | changed | deleted | the change survives: copied back to path2 |
//! | deleted | deleted | nothing |
//! | changed | changed, now identical | nothing (the older time is set to the newer) |
//! | changed | changed, different | a **conflict**, resolved by [`Conflict`] |
//! | a file | a directory of that name | the file is kept under a conflict name |
//!
//! (and the same the other way round). A conflict's losing version is **kept under a
//! conflict name** (`name.conflict1`, the first free number), on both sides; with
//! [`Conflict::KeepBoth`] (the default) both versions are. Nothing is ever dropped.
//!
//! # What counts as a change
//!
//! A path changed on a side when its size, modification time or hash differs from the last
//! listing, or (on backends whose [`Entry::etag`](crate::Entry::etag) is a version tag,
//! [`Capabilities::version_tags`](crate::Capabilities::version_tags)) its version tag moved.
//! With [`checksum`](BisyncOptions::checksum), equal recorded hashes settle it instead of
//! the time; a record without a hash (a listing saved by a run without `checksum`) is still
//! compared by size, time and tag, never less. Versions "changed on both sides" are called
//! identical only when a hash says so: equal sizes and times are not enough.
//!
//! The tag sees an edit that keeps the size and puts the old modification time back, which
//! size and time cannot (rclone loses such an edit to the other side's change or delete).
//! A tag also moves without an edit (the file backend's, on a rename or a `chmod`): such a
//! path is hashed on both sides and copied only if the bytes differ, and two moved tags with
//! equal bytes are no conflict. Copies, renames and time changes that bisync makes record
//! the tag they leave, so they are not seen as edits by the next run. What each backend can
//! see of an edit that keeps the size and the time:
//!
//! | backend | sees it by | blind spot |
//! | --- | --- | --- |
//! | file | version tag (device, inode, change time) | an in-place rewrite within the same tick of the file system's change-time clock as the file's last change, on kernels without fine-grained change times (Linux before 6.13) |
//! | S3 | ETag (a new one for new bytes) and listed MD5 | none |
//! | memory | version tag (new at every write) | none |
//! | SFTP | size and time only, times kept to 1 s | any such edit, and any same-size edit within the same second, unless `checksum` runs and the last listing holds hashes (a resync with `checksum`) |
//!
//! So on SFTP, run with `checksum` from the resync on to be safe; a resync without it
//! trusts equal sizes and times, as rclone does.
//!
//! # A file on one side, a directory on the other
//!
//! A file cannot be copied where the other side holds a directory of that name (nor the
//! other way round). Such a clash is resolved like a conflict that the directory wins: the
//! file is renamed to a conflict name (`name.conflict1`) on its side and copied across,
//! and the directory's objects are copied as usual, so both sides converge in one run and
//! nothing is dropped (rclone asks for a resync instead). An *empty* directory in a file's
//! way is removed. (An object store may hold both `x` and `x/y`; copied to a file system,
//! `x/y` then fails, every run, until one is renamed.)
//!
//! # Times converge
//!
//! When both versions hold the same bytes but their modification times differ (a time
//! changed on both sides, or a resync of equal files), the older time is set to the newer
//! ([`BisyncReport::times_set`]), where that side can set times: the last touch wins, as
//! [`Conflict::Newer`] would pick. rclone leaves such times apart ("files are equal,
//! skipping"), and a later change to one of them then looks like a conflict.
//!
//! ```
//! use omnistorage::sync::bisync::{bisync, BisyncOptions};
//! use omnistorage::{BackendExt, MemoryBackend, Path};
//!
//! let state = std::env::temp_dir().join(format!("bisync-doc-{}", std::process::id()));
//! let (laptop, server) = (MemoryBackend::new(), MemoryBackend::new());
//! laptop.write_all("notes/a.txt", b"from the laptop")?;
//! server.write_all("notes/b.txt", b"from the server")?;
//! let root = Path::root();
//! let opts = BisyncOptions::new().state_dir(&state);
//!
//! // The first run must be a resync: it merges both sides and records them.
//! let first = bisync(&laptop, &root, &server, &root, &opts.clone().resync(true))?;
//! first.result()?;
//! assert!(laptop.contains("notes/b.txt")? && server.contains("notes/a.txt")?);
//!
//! // Then edits on either side go across; deletions too.
//! server.write_all("notes/b.txt", b"edited on the server")?;
//! laptop.remove("notes/a.txt")?;
//! let report = bisync(&laptop, &root, &server, &root, &opts)?;
//! report.result()?;
//! assert_eq!((report.copied_to_path1, report.deleted_on_path2), (1, 1));
//! assert_eq!(laptop.read_to_vec("notes/b.txt")?, b"edited on the server");
//! assert!(!server.contains("notes/a.txt")?);
//! # std::fs::remove_dir_all(&state).ok();
//! # Ok::<(), omnistorage::Error>(())
//! ```
//!
//! # Safety guards
//!
//! Before changing anything, a run aborts when: there is no state (the first run needs
//! [`resync`](BisyncOptions::resync)), or the state file is damaged
//! ([`ErrorKind::Corrupt`]; never read as a shorter listing, which would look like
//! deletions); a side is empty that was not ([`ErrorKind::PreconditionFailed`]); with
//! [`check_access`](BisyncOptions::check_access), the access files are missing or differ
//! between the sides; more than [`max_delete_percent`](BisyncOptions::max_delete_percent)
//! of either side's last listing was deleted ([`ErrorKind::LimitExceeded`]). A lock file
//! keeps two runs on the same pair apart: the owner holds an exclusive `flock` on it while
//! it runs, and writes it whole under a temporary name before linking it into place, so a
//! lock is never seen empty. A lock nobody holds is taken over
//! ([`BisyncReport::lock_taken_over`]): its owner died, however (a `SIGKILL` included),
//! and so is an empty one an older version left. Where the file system has no `flock`, a
//! lock whose process id is gone is taken over, and an empty one once it is 10 s old. Just
//! before a step overwrites or
//! deletes an object, the object is checked to be still as listed: an edit made while the
//! run goes on is never overwritten (that path fails, the next run sees the edit).
//!
//! # Interruptions lose nothing
//!
//! A run may stop anywhere: a cancel, a crash, a failed step. Why the next run still loses
//! no change:
//!
//! 1. **The listings are saved only after a run without failures**, atomically (both in one
//!    file, written to a temporary name and renamed), and they are built from the listings
//!    taken at the start plus the steps done, never from a fresh listing at the end (which
//!    would absorb an edit made during the run as if it had always been there). A "pending"
//!    marker is written before the first change and removed after the save, so the next
//!    run knows ([`BisyncReport::recovered`]).
//! 2. **Every step leaves each object whole**: a copy commits through an atomic writer (the
//!    target holds the old version or the new one), a delete or rename is one call.
//! 3. So the next run compares against the same old listings, and every step the
//!    interrupted run completed shows up as a change it will see again: a propagated copy as
//!    "changed on both sides, identical" (nothing to do), a propagated delete as "deleted on
//!    both" (nothing), a conflict's renamed loser as a new object under its conflict name
//!    (copied across) plus the path deleted on that side while changed on the other (the
//!    change survives). Steps not done yet are planned again. None of these drops a version:
//!    the only deletions are of objects unchanged since the listing on their side, and the
//!    only overwrites are of such objects too, or of a conflict loser already renamed.
//!
//! A run killed mid-copy leaves a staged file (or, on S3, an unfinished multipart upload)
//! behind. The run after an interrupted one (it finds the pending marker) first reclaims
//! such leftovers under both roots ([`BisyncReport::leftovers_reclaimed`]), before anything
//! can fail; the marker stays until a run succeeds, so a failed run does not end the
//! reclaiming.
//!
//! The property test in `tests/all/sync/bisync/props.rs` checks this with random edits and
//! runs that fail at a random step, on memory and file backends, with the world changed
//! behind the state's back (edits that keep size and time, time-only changes on both sides,
//! files against directories, empty locks, staged leftovers).
//!
//! # Differences from rclone
//!
//! - A resync never overwrites a differing path2 version without keeping it (as
//!   `name.conflictN`); rclone's resync lets path1 win silently.
//! - Versions changed on both sides are hashed before they are called a conflict, or
//!   identical.
//! - Version tags see edits that keep the size and the time (see above).
//! - A file against a directory converges (see above); equal versions get equal times.
//! - State: one file per pair (both listings, with version tags, and a checksum), not
//!   rclone's two. Format 2 since issue 21; format 1 is still read (no tags: the first run
//!   after the upgrade compares as before, and records them).
//!
//! Steps run one at a time, in path order.
//!
//! [`ErrorKind::Corrupt`]: crate::ErrorKind::Corrupt
//! [`ErrorKind::PreconditionFailed`]: crate::ErrorKind::PreconditionFailed
//! [`ErrorKind::LimitExceeded`]: crate::ErrorKind::LimitExceeded

mod apply;
mod conflicts;
mod deltas;
mod leftovers;
mod options;
mod report;
mod state;

use std::collections::BTreeSet;
use std::fs;
use std::time::Duration;

pub use options::{BisyncOptions, Conflict};
pub use report::{BisyncFailure, BisyncOp, BisyncReport, ConflictRecord, Resolution, Side};

use super::walk::{self, Item, Walk};
use crate::{Backend, Error, ErrorKind, HashKind, Path, Result};
use state::{Files, Listing, Rec};

/// Synchronizes two trees both ways: `root1` on `path1` and `root2` on `path2`. See the
/// [module docs](self) for what a run does.
///
/// `Err` when the run cannot start or a guard stops it (nothing was changed then); failures
/// of single steps are in the [`BisyncReport`].
pub fn bisync(
    path1: &dyn Backend,
    root1: &Path,
    path2: &dyn Backend,
    root2: &Path,
    opts: &BisyncOptions,
) -> Result<BisyncReport> {
    let dir = match &opts.state_dir {
        Some(dir) => dir.clone(),
        None => state::default_dir().ok_or_else(|| {
            config("no cache directory (no HOME or XDG_CACHE_HOME): set a state_dir")
        })?,
    };
    let key = state_key(path1, root1, path2, root2, opts)?;
    fs::create_dir_all(&dir).map_err(|e| Error::from(e).with_path(dir.display().to_string()))?;
    let files = Files::new(&dir, &key);
    let (_lock, took_over) = state::Lock::take(&files.lock)?;
    // Written when a run starts changing things, removed when one succeeds: its time is
    // when the first of the runs since the last good one began.
    let interrupted = fs::metadata(&files.pending)
        .ok()
        .map(|m| m.modified().unwrap_or(std::time::UNIX_EPOCH));

    let mut report = BisyncReport {
        lock_taken_over: took_over,
        recovered: interrupted.is_some(),
        resynced: opts.resync,
        dry_run: opts.dry_run,
        ..BisyncReport::default()
    };
    let prev = if opts.resync {
        None
    } else {
        Some(state::load(&files)?.ok_or_else(|| {
            precondition("no bisync state for these roots: the first run needs resync")
        })?)
    };
    let backends = [path1, path2];
    let roots = [root1, root2];
    if let Some(since) = interrupted
        && !opts.dry_run
    {
        for i in 0..2 {
            report.leftovers_reclaimed +=
                leftovers::reclaim(backends[i], roots[i], since, opts.cancel.as_ref());
        }
    }
    let mut cur = [Listing::new(), Listing::new()];
    for i in 0..2 {
        cur[i] = list_side(backends[i], roots[i], opts, i)?;
    }
    let window = [path1, path2]
        .iter()
        .filter_map(|b| b.capabilities().modified_time)
        .max()
        .unwrap_or(Duration::from_nanos(1));

    let plan = match &prev {
        None => deltas::resync_plan(&cur, window, opts.checksum),
        Some(prev) => {
            guard_empty(prev, &cur)?;
            if opts.check_access {
                guard_access(&cur, &opts.access_file)?;
            }
            let plan = deltas::plan(prev, &cur, window, opts.checksum);
            guard_deletes(prev, &plan.deleted, opts.max_delete_percent)?;
            plan
        }
    };
    report.unchanged = plan.unchanged;
    report.identical = plan.identical;

    if !opts.dry_run && interrupted.is_none() {
        // It sets `recovered` and dates the leftovers to reclaim (see `leftovers.rs`): no
        // need to sync it to disk. An existing one is kept: its time is the first
        // interrupted run's.
        fs::write(&files.pending, format!("{}\n", std::process::id()))
            .map_err(|e| Error::from(e).with_path(files.pending.display().to_string()))?;
    }
    let same_store = matches!(
        (path1.location(), path2.location()),
        (Some(a), Some(b)) if a.same_store(&b)
    );
    let mut apply = apply::Apply {
        backends,
        roots,
        cur,
        window,
        checksum: opts.checksum,
        strategy: if opts.resync {
            Conflict::Path1
        } else {
            opts.conflict
        },
        dry_run: opts.dry_run,
        cancel: opts.cancel.as_ref(),
        same_store,
        tags: [path1, path2].map(|b| b.capabilities().version_tags),
        report,
    };
    apply.run(plan.steps);
    let mut report = apply.report;
    if !opts.dry_run && report.is_ok() {
        state::save(&files, &apply.cur)?;
        report.listings_saved = true;
        let _ = fs::remove_file(&files.pending);
    }
    Ok(report)
}

fn config(msg: &'static str) -> Error {
    Error::new(ErrorKind::InvalidConfig, msg).with_operation("bisync")
}

fn precondition(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::PreconditionFailed, msg.into()).with_operation("bisync")
}

/// The state's file name: the explicit name, or a hash of both sides' locations.
fn state_key(
    path1: &dyn Backend,
    root1: &Path,
    path2: &dyn Backend,
    root2: &Path,
    opts: &BisyncOptions,
) -> Result<String> {
    if let Some(name) = &opts.state_name {
        let ok = !name.is_empty()
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok {
            return Err(config(
                "a bisync state name takes letters, digits, '-', '_' and '.' only",
            ));
        }
        return Ok(name.clone());
    }
    // `scheme://store/root`: the text state keys were made of from the start (it was
    // `Location`'s `Display` then), kept so that existing states are found again.
    let id = |b: &dyn Backend, root: &Path| {
        b.location().map(|l| {
            let key = l.key(root);
            let slash = if key.is_empty() { "" } else { "/" };
            format!("{}://{}{slash}{key}", l.scheme(), l.store())
        })
    };
    match (id(path1, root1), id(path2, root2)) {
        (Some(a), Some(b)) => Ok(state::key(&a, &b)),
        _ => Err(config(
            "a backend has no location to key the bisync state by: set a state_name",
        )),
    }
}

/// One side's listing, filtered, relative to its root; with `checksum`, hashed.
fn list_side(
    backend: &dyn Backend,
    root: &Path,
    opts: &BisyncOptions,
    i: usize,
) -> Result<Listing> {
    match walk::check_source_root(backend, root) {
        Ok(()) => {}
        // A resync may fill a side that does not exist yet.
        Err(e) if opts.resync && e.kind() == ErrorKind::NotFound => return Ok(Listing::new()),
        Err(e) => {
            return Err(e.with_message(format!(
                "path{} root {:?} not found",
                i + 1,
                root.as_str()
            )));
        }
    }
    let tags = backend.capabilities().version_tags;
    let walk = Walk {
        backend,
        root,
        filter: opts.filter.as_ref(),
        with_excluded: false,
        cancel: opts.cancel.as_ref(),
        empty_dirs: None,
    };
    let (tx, rx) = std::sync::mpsc::sync_channel(8);
    let mut listing = Listing::new();
    let mut failed = None;
    std::thread::scope(|s| {
        s.spawn(move || walk.run(&tx));
        for item in rx.into_iter().flatten() {
            match item {
                Item::Object { entry, .. } => {
                    listing.insert(entry.path.as_str().to_owned(), Rec::of(&entry, tags));
                }
                Item::Failed(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
    });
    // A partial listing would look like deletions: any failure stops the run.
    if let Some(e) = failed {
        return Err(e);
    }
    if opts.checksum {
        for (path, rec) in listing.iter_mut() {
            if rec.hash.as_ref().is_none_or(|h| h.kind() != HashKind::Md5) {
                let full = root.join_str(path)?;
                rec.hash = Some(backend.hash(&full, HashKind::Md5, opts.cancel.as_ref())?);
            }
        }
    }
    Ok(listing)
}

/// A side that held objects and now holds none is refused (an unmounted disk, a wrong root).
fn guard_empty(prev: &[Listing; 2], cur: &[Listing; 2]) -> Result<()> {
    for i in 0..2 {
        if cur[i].is_empty() && !prev[i].is_empty() {
            return Err(precondition(format!(
                "path{} is empty but held {} objects at the last run: \
                 refusing to propagate that (run with resync if it is meant)",
                i + 1,
                prev[i].len()
            )));
        }
    }
    Ok(())
}

/// The access files must exist, at the same paths, on both sides.
fn guard_access(cur: &[Listing; 2], name: &str) -> Result<()> {
    let found = |l: &Listing| -> BTreeSet<String> {
        l.keys()
            .filter(|p| p.rsplit('/').next() == Some(name))
            .cloned()
            .collect()
    };
    let (a, b) = (found(&cur[0]), found(&cur[1]));
    if a.is_empty() || a != b {
        return Err(precondition(format!(
            "check_access: the access files {name:?} are missing or differ between the sides \
             (path1: {a:?}, path2: {b:?}): is a root unmounted or wrong?"
        )));
    }
    Ok(())
}

/// More than `percent` of a side's last listing deleted aborts the run.
fn guard_deletes(prev: &[Listing; 2], deleted: &[u64; 2], percent: u8) -> Result<()> {
    for i in 0..2 {
        let total = prev[i].len() as u64;
        if percent < 100 && total > 0 && deleted[i] * 100 > u64::from(percent) * total {
            return Err(Error::new(
                ErrorKind::LimitExceeded,
                format!(
                    "{} of {} objects deleted on path{}: more than max_delete_percent ({}%); \
                     nothing was changed",
                    deleted[i],
                    total,
                    i + 1,
                    percent
                ),
            )
            .with_operation("bisync"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The state key is made of `scheme://store/root` for each side, as it always was, so
    /// that a state written before is found again whatever `Location`'s `Display` says.
    #[test]
    fn the_state_key_keeps_its_text() {
        let store = crate::MemoryBackend::new();
        let a = store.scoped("a").unwrap();
        let loc = store.location().unwrap();
        let key = state_key(
            &a,
            &Path::parse("x").unwrap(),
            &store,
            &Path::root(),
            &BisyncOptions::default(),
        )
        .unwrap();
        let side1 = format!("mem://{}/a/x", loc.store());
        let side2 = format!("mem://{}", loc.store());
        assert_eq!(key, state::key(&side1, &side2));
    }
}
