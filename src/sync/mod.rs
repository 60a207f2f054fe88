//! The sync engine: make one tree match another, between any two backends.
//!
//! Feature `sync`. [rclone](https://rclone.org) is the behaviour reference: the operations,
//! the comparison rules, the filter syntax and the defaults are rclone's, so a person who
//! knows `rclone sync` knows these.
//!
//! | function | what it does |
//! | --- | --- |
//! | [`sync()`] | make the destination match the source, deleting its extras |
//! | [`copy`] | copy what is new or changed; never delete |
//! | [`move_`] | copy, then delete each source object the destination now holds |
//! | [`check`] | compare sizes and hashes both sides give cheaply; change nothing |
//! | [`verify`] | compare by hashing the data on both sides (rclone's `cryptcheck` idea) |
//! | [`diff`] | the plan, as data: what `sync` would do |
//! | [`bisync()`] | two-way: changes on either side reach the other; conflicts keep both |
//! | [`dedupe`] | find objects with identical content under one root; keep one of each |
//!
//! Each takes a backend and a path on each side (the transfer roots; entries are compared by
//! their paths below them) and an [`Options`], and returns a [`Report`].
//!
//! ```
//! use omnistorage::sync::{self, Options};
//! use omnistorage::{BackendExt, MemoryBackend, Path};
//!
//! let src = MemoryBackend::new();
//! let dst = MemoryBackend::new();
//! src.write_all("photos/a.jpg", b"aaa")?;
//! src.write_all("photos/b.jpg", b"bbb")?;
//! dst.write_all("backup/old.jpg", b"old")?;
//!
//! let (from, to) = (Path::parse("photos")?, Path::parse("backup")?);
//! let report = sync::sync(&src, &from, &dst, &to, &Options::new())?;
//! report.result()?; // failures, if any, are in the report
//! assert_eq!((report.copied, report.deleted), (2, 1));
//! assert_eq!(dst.read_to_vec("backup/b.jpg")?, b"bbb");
//!
//! // Nothing changed: the next run copies nothing.
//! let again = sync::sync(&src, &from, &dst, &to, &Options::new())?;
//! assert_eq!((again.copied, again.unchanged), (0, 2));
//! # Ok::<(), omnistorage::Error>(())
//! ```
//!
//! # How a run goes
//!
//! - **Planning is one merge** of two sorted listings ([`Backend::list`] returns paths in
//!   ascending order; the engine checks it does), each read on its own thread. At most a few
//!   thousand entries are in memory at once, however many are unchanged; a sync keeps only
//!   the destination's extras, to delete them at the end.
//! - **Comparison** is rclone's: sizes, then modification times within a window (the coarser
//!   of both backends' precision, or [`Options::modify_window`]); when only the time
//!   differs, a hash both sides give without reading remote data (stored by the backend,
//!   computed by the server, or read locally) decides between **setting the time** and
//!   copying. [`Compare`] selects checksum, size-only or always-copy modes.
//! - **Copies** keep the source's modification time and content type (and user metadata
//!   with [`Options::metadata`]); within one store they are server-side. Every copy goes
//!   through a [`Writer`](crate::Writer): the destination holds the old object or the new
//!   one, never a part.
//! - **Errors** are collected per object in the report with the path, the operation and the
//!   error. A sync that had errors **deletes nothing** (rclone's rule); the report counts the
//!   deletions it held back. Temporary errors are retried per operation
//!   ([`Options::low_level_retries`]) and the whole run is repeated while failures remain
//!   ([`Options::retries`]). Retries are counted once: an error the backend already retried
//!   (its own retries, S3's and SFTP's) is [persistent](crate::Error::is_persistent), and
//!   the low-level retries leave it alone; the whole-run retry still runs again. A request
//!   that keeps failing is so sent (backend retries + 1) × (whole-run attempts) times.
//! - A **source root that does not exist** is an error ([`ErrorKind::NotFound`]), never an
//!   empty source: a mistyped path must not empty the destination. Overlapping roots on one
//!   store are refused.
//! - **Dry runs** ([`Options::dry_run`]) do every comparison and report exactly what a real
//!   run would do, changing nothing.
//!
//!
//! # The hash cache
//!
//! rclone reads an S3 object's modification time with one HEAD per object, so a sync that
//! changes nothing costs a request per object; with `--checksum` from a local tree it reads
//! and hashes every file. Here a run from a local tree keeps, per pair of roots, what it
//! **established** about each pair: the source's state as listed (size, modification time
//! in nanoseconds, device, inode and change time — [`Entry::etag`](crate::Entry::etag) of
//! the file backend), its MD5 when the bytes passed through or were hashed, the
//! destination's state as listed (its version tag: S3's ETag with its `LastModified`, the
//! file backend's tag), and which facts the run proved:
//!
//! - **content**: the two hold the same bytes — the run compared their hashes, or copied the
//!   bytes itself. Equal sizes and times are never taken for this.
//! - **times**: the destination's stored time was the source's (within the modify window) —
//!   the run saw both, set it, or copied the object with its time.
//!
//! The next run, seeing both objects in the states a record names, lets the record settle
//! the pair **without a request or a read** only when it holds the fact that run's
//! comparison needs: `--checksum` needs *content*, the default comparison *times*;
//! `--size-only` and `--ignore-times` need nothing the listings lack. So a `--size-only`
//! run never vouches for content to a later `--checksum` run, and a `--checksum` run that
//! never saw the destination's time never spares a later default run from setting it.
//! Anything changed on either side misses, and the pair is compared as rclone would.
//!
//! - On by default, under `$XDG_CACHE_HOME/omnistorage/hashes` (else `~/.cache/...`);
//!   [`Options::hash_cache_dir`] moves it, [`Options::hash_cache`] turns it off.
//! - A missing, stale, damaged or foreign file means comparing (and hashing) again, never a
//!   wrong answer: each line carries its own CRC-32C.
//! - The file is sorted like the listings and read and written as the run goes, so it
//!   costs no memory per object.
//! - It needs destination tags in listings: on stores whose listings carry none (s3s-fs
//!   lists no ETags) each pair still costs its HEAD, as in rclone.
//! - A change made on the destination behind the cache's back is seen where its listing
//!   shows it: a rewrite of other bytes changes the tag (S3's ETag, the file backend's
//!   change time, memory's version). **The limit:** where listings carry no time (S3 unless
//!   `read_mtime`), a change of the *stored time alone* by another tool (a metadata-only
//!   copy, or a re-upload of the same bytes, which keep the ETag) is not seen by a default
//!   run until the source changes or the cache is turned off; `--checksum` is unaffected
//!   (the content is what the ETag names). rclone reads every time with a HEAD per object
//!   instead. A listed time that is a server's (whole seconds) close to the run's start is
//!   not recorded (git's "racy" rule), so a change in that same second cannot be missed.
//! - `tests/all/sync/promises.rs` is the property: random edits and tampering on both
//!   sides between random runs of every mode, into the file backend, memory and S3,
//!   asserting after each run what that mode promises.
//!
//! [`ErrorKind::NotFound`]: crate::ErrorKind::NotFound
//! [`Backend::list`]: crate::Backend::list

mod backup;
pub mod bisync;
pub mod bwlimit;
mod cache;
mod check;
mod compare;
mod dedupe;
mod dirs;
mod exec;
pub mod filter;
mod one;
mod options;
mod plan;
pub mod progress;
mod report;
mod transfer;
mod walk;

use std::sync::{Arc, Mutex};

pub use bisync::{BisyncOptions, BisyncReport, Conflict, bisync};
pub use cache::user_cache_dir;
pub use compare::{Reason, SkipReason};
pub use dedupe::{DedupeMode, DedupeReport, Duplicates, dedupe};
pub use one::{copy_file, move_file};
pub use options::{ActionFn, Compare, DeleteMode, Options, ProgressFn};
pub use plan::Action;
pub use report::{CheckReport, Failure, Op, Report};

use crate::{Backend, Error, ErrorKind, Location, Path, Result};
use exec::{Engine, Mode};
use transfer::Sides;

/// Makes the tree at `dst_root` on `dst` match the tree at `src_root` on `src`: copies what
/// is new or changed, deletes what the source does not have (after the copies, and only if
/// nothing failed, unless [`Options::delete_mode`] says otherwise). The source is never
/// changed.
///
/// `Err` only when the run cannot start (a missing source root, overlapping roots); failures
/// of single objects are in the [`Report`].
pub fn sync(
    src: &dyn Backend,
    src_root: &Path,
    dst: &dyn Backend,
    dst_root: &Path,
    opts: &Options,
) -> Result<Report> {
    run(src, src_root, dst, dst_root, opts, Mode::Sync)
}

/// Copies what is new or changed from the tree at `src_root` to the tree at `dst_root`;
/// deletes nothing.
///
/// ```
/// use omnistorage::sync::{self, Options};
/// use omnistorage::{BackendExt, MemoryBackend, Path};
///
/// let (src, dst) = (MemoryBackend::new(), MemoryBackend::new());
/// src.write_all("a", b"1")?;
/// dst.write_all("keep", b"2")?;
/// let report = sync::copy(&src, &Path::root(), &dst, &Path::root(), &Options::new())?;
/// assert_eq!((report.copied, report.deleted), (1, 0));
/// assert!(dst.contains("keep")?);
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub fn copy(
    src: &dyn Backend,
    src_root: &Path,
    dst: &dyn Backend,
    dst_root: &Path,
    opts: &Options,
) -> Result<Report> {
    run(src, src_root, dst, dst_root, opts, Mode::Copy)
}

/// Moves the tree: copies what is new or changed, then deletes each source object that the
/// destination now holds — one whose copy succeeded (and has the source's size), or that was
/// found equal already. A source whose transfer failed or was skipped is never deleted.
/// Within one store that renames server-side, objects are renamed.
///
/// ```
/// use omnistorage::sync::{self, Options};
/// use omnistorage::{BackendExt, MemoryBackend, Path};
///
/// let (src, dst) = (MemoryBackend::new(), MemoryBackend::new());
/// src.write_all("in/a", b"1")?;
/// let report = sync::move_(&src, &Path::parse("in")?, &dst, &Path::root(), &Options::new())?;
/// assert_eq!(report.source_deleted, 1);
/// assert!(!src.contains("in/a")? && dst.contains("a")?);
/// # Ok::<(), omnistorage::Error>(())
/// ```
#[doc(alias = "move")]
pub fn move_(
    src: &dyn Backend,
    src_root: &Path,
    dst: &dyn Backend,
    dst_root: &Path,
    opts: &Options,
) -> Result<Report> {
    run(src, src_root, dst, dst_root, opts, Mode::Move)
}

/// Compares the two trees without changing either: sizes, then a hash both sides give
/// without reading remote data (as rclone's `check`; with none in common, sizes alone).
/// [`Options::one_way`] ignores objects only at the destination.
///
/// ```
/// use omnistorage::sync::{self, Options};
/// use omnistorage::{BackendExt, MemoryBackend, Path};
///
/// let (a, b) = (MemoryBackend::new(), MemoryBackend::new());
/// a.write_all("same", b"1")?;
/// b.write_all("same", b"1")?;
/// a.write_all("only-a", b"x")?;
/// let report = sync::check(&a, &Path::root(), &b, &Path::root(), &Options::new())?;
/// assert_eq!(report.matched.len(), 1);
/// assert_eq!(report.missing_on_dst[0].as_str(), "only-a");
/// assert!(!report.is_ok());
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub fn check(
    src: &dyn Backend,
    src_root: &Path,
    dst: &dyn Backend,
    dst_root: &Path,
    opts: &Options,
) -> Result<CheckReport> {
    let (sides, rules) = prepare(src, src_root, dst, dst_root, opts, false)?;
    check::run(&sides, opts, &rules, false)
}

/// Compares the two trees by hashing the data of every pair of equal size on both sides
/// (reading it where a backend stores no hash): for backends without stored hashes, or to
/// prove a copy, like rclone's `cryptcheck`.
pub fn verify(
    src: &dyn Backend,
    src_root: &Path,
    dst: &dyn Backend,
    dst_root: &Path,
    opts: &Options,
) -> Result<CheckReport> {
    let (sides, rules) = prepare(src, src_root, dst, dst_root, opts, false)?;
    check::run(&sides, opts, &rules, true)
}

/// The plan of a [`sync()`] (or, with `mode_copy`, of a [`copy`]) as data: every action a
/// real run would take, in path order. It is a dry run: comparisons that need a `stat` or a
/// hash do them, nothing is changed.
///
/// ```
/// use omnistorage::sync::{self, Action, Options};
/// use omnistorage::{BackendExt, MemoryBackend, Path};
///
/// let (src, dst) = (MemoryBackend::new(), MemoryBackend::new());
/// src.write_all("new", b"1")?;
/// dst.write_all("extra", b"2")?;
/// let plan = sync::diff(&src, &Path::root(), &dst, &Path::root(), &Options::new(), false)?;
/// assert!(matches!(&plan[0], Action::Delete { path, .. } if path.as_str() == "extra"));
/// assert!(matches!(&plan[1], Action::Copy { path, .. } if path.as_str() == "new"));
/// assert!(!dst.contains("new")?);
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub fn diff(
    src: &dyn Backend,
    src_root: &Path,
    dst: &dyn Backend,
    dst_root: &Path,
    opts: &Options,
    mode_copy: bool,
) -> Result<Vec<Action>> {
    let actions = Arc::new(Mutex::new(Vec::new()));
    let sink = actions.clone();
    let opts = opts.clone().dry_run(true).retries(0).on_action(move |a| {
        if !matches!(a, Action::Unchanged { .. }) {
            sink.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(a.clone())
        }
    });
    let mode = if mode_copy { Mode::Copy } else { Mode::Sync };
    let report = run(src, src_root, dst, dst_root, &opts, mode)?;
    report.result()?;
    let mut actions = std::mem::take(&mut *actions.lock().unwrap_or_else(|p| p.into_inner()));
    actions.sort_by(|a, b| a.path().as_str().cmp(b.path().as_str()));
    Ok(actions)
}

fn run(
    src: &dyn Backend,
    src_root: &Path,
    dst: &dyn Backend,
    dst_root: &Path,
    opts: &Options,
    mode: Mode,
) -> Result<Report> {
    let (sides, rules) = prepare(src, src_root, dst, dst_root, opts, mode != Mode::Copy)?;
    let cache_file = cache_file(src, src_root, dst, dst_root, opts, mode);
    Ok(Engine::new(sides, opts, mode, rules, cache_file)?.run())
}

/// `root` under `loc`: the location of a transfer root.
fn located(loc: &Location, root: &Path) -> Location {
    Location::new(loc.scheme(), loc.store(), loc.key(root))
}

/// The hash cache file of this pair of roots, if the run keeps one: on (the default), not
/// a move (its sources go away), a source that stores no hashes (a bucket's listing has its
/// MD5s already) and whose listing carries the version tags the records are keyed on
/// ([`Capabilities::version_tags`](crate::Capabilities::version_tags)), and both sides with a
/// location to name the pair by.
fn cache_file(
    src: &dyn Backend,
    src_root: &Path,
    dst: &dyn Backend,
    dst_root: &Path,
    opts: &Options,
    mode: Mode,
) -> Option<std::path::PathBuf> {
    let caps = src.capabilities();
    if !opts.hash_cache || mode == Mode::Move || !caps.hashes.is_empty() || !caps.version_tags {
        return None;
    }
    let (s, d) = (src.location()?, dst.location()?);
    let dir = opts.hash_cache_dir.clone().or_else(cache::default_dir)?;
    Some(cache::file_for(
        &dir,
        &located(&s, src_root),
        &located(&d, dst_root),
    ))
}

/// Checks the roots and works out the comparison rules.
fn prepare<'a>(
    src: &'a dyn Backend,
    src_root: &'a Path,
    dst: &'a dyn Backend,
    dst_root: &'a Path,
    opts: &Options,
    changes_source_or_deletes: bool,
) -> Result<(Sides<'a>, compare::Rules)> {
    walk::check_source_root(src, src_root)?;
    opts.backup.check(dst_root)?;
    let (src_loc, dst_loc) = (src.location(), dst.location());
    let at = located;
    if let (Some(s), Some(d)) = (&src_loc, &dst_loc)
        && at(s, src_root).overlaps(&at(d, dst_root))
        && (changes_source_or_deletes || s.key(src_root) != d.key(dst_root))
    {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "the source ({}) and destination ({}) overlap: one contains the other",
                at(s, src_root),
                at(d, dst_root)
            ),
        ));
    }
    Ok(sides_and_rules(src, src_root, dst, dst_root, opts))
}

/// The sides of a run (with a server-side route where both are on one store) and its
/// comparison rules, from the options.
fn sides_and_rules<'a>(
    src: &'a dyn Backend,
    src_root: &'a Path,
    dst: &'a dyn Backend,
    dst_root: &'a Path,
    opts: &Options,
) -> (Sides<'a>, compare::Rules) {
    let (src_loc, dst_loc) = (src.location(), dst.location());
    let (src_caps, dst_caps) = (src.capabilities(), dst.capabilities());
    // A "server-side" copy inside a local store is this machine's own work: with a bandwidth
    // limit it streams, so the limit holds.
    let local_limited = opts.bwlimit.is_some() && src_caps.local;
    let same_store = match (&src_loc, &dst_loc) {
        (Some(s), Some(d)) if s.same_store(d) && dst_caps.server_side_copy && !local_limited => {
            Some(s.clone())
        }
        _ => None,
    };
    let mut rules = compare::Rules::new(
        opts.compare,
        opts.modify_window,
        opts.hash,
        &src_caps,
        &dst_caps,
    );
    rules.ignore_size = opts.ignore_size;
    rules.ignore_existing = opts.ignore_existing;
    rules.update = opts.update;
    (
        Sides {
            src,
            src_root,
            dst,
            dst_root,
            same_store,
            src_one: false,
        },
        rules,
    )
}
