//! Running a plan: the merge on the calling thread, comparisons that need I/O on the
//! checkers' rayon pool, copies on the transfers' pool, with a bound on the work in flight so
//! memory stays flat however large the trees.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Sender, sync_channel};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use rayon::{Scope, ThreadPool};

use super::cache::{Cursor, Known, Output, Record, Seen};
use super::compare::{Facts, Need, Reason, Rules, Verdict, decide};
use super::options::{Compare, DeleteMode, Options};
use super::plan::{Action, Merge, Pair};
use super::progress::Stats;
use super::report::{Failure, Op, Report};
use super::transfer::Sides;
use super::walk::{Batch, Walk};
use crate::retry::Retry;
use crate::{Entry, Error, ErrorKind, HashKind, Path, Result};

mod copy;
mod delete;
mod gate;
mod settle;

pub(crate) use gate::{Gate, pool};

/// What a run does with what it finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Copy, and delete the destination's extras.
    Sync,
    /// Copy only.
    Copy,
    /// Copy, then delete each source object the destination now holds.
    Move,
}

/// One run (all its attempts) of sync, copy or move.
pub(crate) struct Engine<'a> {
    pub(crate) sides: Sides<'a>,
    pub(crate) opts: &'a Options,
    pub(crate) mode: Mode,
    pub(crate) rules: Rules,
    pub(crate) stats: Stats,
    transfers: ThreadPool,
    checkers: ThreadPool,
    retry: Retry,
    report: Mutex<Report>,
    stop: AtomicBool,
    /// Stopped by an [`ErrorKind::Unavailable`] error: the copies already handed out do not
    /// start (each would fail the same way at once).
    unavailable: AtomicBool,
    errors: AtomicU64,
    reserved: AtomicU64,
    deleted: AtomicU64,
    /// The hash cache's file, when this run keeps one.
    cache_file: Option<PathBuf>,
    /// When the run started (before its first listing): see [`Engine::seen`].
    started: std::time::SystemTime,
    /// The destination's listings carry its times ([`Capabilities::listed`](crate::Capabilities::listed)): see
    /// [`Engine::seen_written`].
    dst_lists_times: bool,
    /// The old cache (read by the merge thread) and the new one (written as the run goes).
    cursor: Mutex<Option<Cursor>>,
    output: Mutex<Option<Output>>,
    /// The destination's directories with nothing below them, seen by the last walk.
    empty_dirs: Mutex<Vec<Path>>,
    /// What this attempt deleted at the destination (their directories may be empty now).
    deleted_paths: Mutex<Vec<Path>>,
    /// One pair given instead of two walks ([`Engine::one`]: `copy_file`, `move_file`).
    single: Option<(Entry, Option<Entry>)>,
}

impl<'a> Engine<'a> {
    pub(crate) fn new(
        sides: Sides<'a>,
        opts: &'a Options,
        mode: Mode,
        rules: Rules,
        cache_file: Option<PathBuf>,
    ) -> Result<Engine<'a>> {
        let dst_lists_times = sides
            .dst
            .capabilities()
            .listed
            .contains(crate::Fields::MODIFIED);
        Ok(Engine {
            sides,
            opts,
            mode,
            rules,
            stats: Stats::new(),
            transfers: pool(opts.transfers, "transfer")?,
            checkers: pool(opts.checkers, "checker")?,
            retry: Retry::new(opts.low_level_retries, opts.retry_base),
            report: Mutex::new(Report::default()),
            stop: AtomicBool::new(false),
            unavailable: AtomicBool::new(false),
            errors: AtomicU64::new(0),
            reserved: AtomicU64::new(0),
            deleted: AtomicU64::new(0),
            cache_file,
            started: std::time::SystemTime::now(),
            dst_lists_times,
            cursor: Mutex::new(None),
            output: Mutex::new(None),
            empty_dirs: Mutex::new(Vec::new()),
            deleted_paths: Mutex::new(Vec::new()),
            single: None,
        })
    }

    /// This engine runs the one pair `src` (and `dst`, if the destination has the object)
    /// instead of walking both trees: each entry's path is the destination's name relative
    /// to the destination root; the source is the source root itself
    /// ([`Sides::src_one`]). No hash cache is kept.
    pub(crate) fn one(mut self, src: Entry, dst: Option<Entry>) -> Engine<'a> {
        self.single = Some((src, dst));
        self.cache_file = None;
        self
    }

    fn report(&self) -> MutexGuard<'_, Report> {
        self.report.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn cancelled(&self) -> bool {
        self.opts.cancel.as_ref().is_some_and(|c| c.is_cancelled())
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire) || self.cancelled()
    }

    /// Stops the run with `error` (the first such error wins).
    fn halt(&self, error: Error) {
        self.stop.store(true, Ordering::Release);
        let mut r = self.report();
        if r.stopped.is_none() {
            r.stopped = Some(error);
        }
    }

    fn fail(&self, path: Path, op: Op, error: Error) {
        if error.kind() == ErrorKind::Cancelled && self.cancelled() {
            return; // reported once, as the reason the run stopped
        }
        if error.kind() == ErrorKind::Unavailable {
            // A store that stopped answering (past its bound): the run stops, with this
            // error once, instead of recording it for every file still to go.
            self.unavailable.store(true, Ordering::Release);
            return self.halt(error);
        }
        self.stats.error();
        let n = self.errors.fetch_add(1, Ordering::AcqRel) + 1;
        self.report().failures.push(Failure { path, op, error });
        if let Some(max) = self.opts.max_errors
            && n >= max
        {
            self.halt(
                Error::new(
                    ErrorKind::LimitExceeded,
                    format!("stopped after {n} errors (max_errors)"),
                )
                .with_operation("max_errors"),
            );
        }
    }

    fn event(&self, action: Action) {
        if let Some(f) = &self.opts.on_action {
            f(&action);
        }
    }

    fn output(&self) -> MutexGuard<'_, Option<Output>> {
        self.output.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records what this run established about the pair at `path`: the source and the
    /// destination in the states seen, and the facts (the destination's version tag is what
    /// makes the record useful: without one, nothing is kept).
    fn remember(
        &self,
        path: &Path,
        src: Seen,
        md5: Option<crate::Hash>,
        dst: Option<Seen>,
        known: Known,
    ) {
        if let Some(out) = self.output().as_mut() {
            match dst.filter(|d| d.tag.is_some() && src.tag.is_some()) {
                Some(dst) => out.put(Record::new(path, src, md5, dst, known)),
                None => out.drop_pending(path),
            }
        }
    }

    /// The state of `e` as a record may name it. A listed time that is the store's own (S3's
    /// `LastModified`, whole seconds), not a stored one, cannot show a change made within
    /// the same second: a state whose listed time is that close to the run's start is
    /// left unnamed (no tag), so no record about it is kept, as git does with its "racy"
    /// index entries. Two seconds of margin allow for a server clock a little ahead.
    pub(super) fn seen(&self, e: &Entry) -> Seen {
        let mut seen = Seen::of(e);
        let server_time = !e.filled.contains(crate::Fields::MODIFIED);
        if server_time
            && e.modified
                .is_some_and(|m| m + std::time::Duration::from_secs(2) > self.started)
        {
            seen.tag = None;
        }
        seen
    }

    /// The state of a destination object as a write or `set_modified` returned it, as the
    /// next listing will show it: without a time where listings carry none (S3 by default),
    /// so that the next run recognises the object from its listing alone.
    pub(super) fn seen_written(&self, e: &Entry) -> Seen {
        let mut seen = self.seen(e);
        if !self.dst_lists_times {
            seen.mtime = None;
        }
        seen
    }

    fn forget(&self, path: &Path) {
        if let Some(out) = self.output().as_mut() {
            out.drop_pending(path);
        }
    }

    /// `op`, retried on temporary errors (the low-level retries), except those the backend
    /// already retried ([persistent](Error::is_persistent): trying again here would multiply
    /// its retries by ours) and [`ErrorKind::Unavailable`] (the backend already waited out
    /// its bound, and the run stops with it).
    fn retried<T>(&self, op: impl FnMut(u32) -> Result<T>) -> Result<T> {
        let retry = self.retry;
        retry.run_with(self.opts.cancel.as_ref(), op, |e, attempt| {
            (e.is_temporary() && e.kind() != ErrorKind::Unavailable && attempt < retry.retries)
                .then(|| retry.delay(attempt))
        })
    }

    /// Runs every attempt and returns the report.
    pub(crate) fn run(self) -> Report {
        let started = Instant::now();
        // A ticker that cannot start (no thread) costs the run its progress calls, not the run.
        let ticker = self.opts.progress.as_ref().and_then(|(every, f)| {
            let f = f.clone();
            super::progress::Ticker::start(&self.stats, *every, move |s| f(s)).ok()
        });
        let mut attempts = 0;
        loop {
            attempts += 1;
            self.errors.store(0, Ordering::Release);
            {
                // What is left is the last attempt's business.
                let mut r = self.report();
                r.failures.clear();
                r.deletes_held = 0;
            }
            self.attempt();
            let r = self.report();
            let again = !r.failures.is_empty() && r.stopped.is_none() && !self.cancelled();
            drop(r);
            if !again || attempts > self.opts.retries {
                break;
            }
        }
        if let Some(t) = ticker {
            t.stop();
        }
        let mut report = self.report.into_inner().unwrap_or_else(|p| p.into_inner());
        if report.stopped.is_none()
            && let Some(c) = &self.opts.cancel
            && c.is_cancelled()
        {
            report.stopped = Some(Error::from_kind(ErrorKind::Cancelled).with_operation("sync"));
        }
        report.attempts = attempts;
        report.dry_run = self.opts.dry_run;
        report.elapsed = started.elapsed();
        report
    }

    /// One attempt: deletes before (if asked), the main pass, deletes after.
    fn attempt(&self) {
        let deleting = self.mode == Mode::Sync;
        let mode = self.opts.delete_mode;
        if deleting && mode == DeleteMode::Before {
            let extras = self.pass(Pass::CollectDeletes);
            self.delete_extras(extras);
            if self.stopping() {
                return;
            }
        }
        let extras = self.pass(Pass::Main);
        if deleting && mode == DeleteMode::After {
            self.delete_extras(extras);
        }
        let clean = self.errors.load(Ordering::Acquire) == 0 && !self.stopping();
        let empty = std::mem::take(&mut *self.empty_dirs.lock().unwrap_or_else(|p| p.into_inner()));
        let emptied =
            std::mem::take(&mut *self.deleted_paths.lock().unwrap_or_else(|p| p.into_inner()));
        if deleting && clean && !self.opts.dry_run {
            super::dirs::remove_extra(
                self.sides.src,
                self.sides.src_root,
                self.sides.dst,
                self.sides.dst_root,
                empty,
                emptied,
            );
        }
        if self.mode == Mode::Move
            && self.opts.delete_empty_src_dirs
            && !self.opts.dry_run
            && self.single.is_none()
        {
            super::dirs::remove_empty(self.sides.src, self.sides.src_root);
        }
    }

    /// One merge of both listings; returns the destination extras to delete afterwards
    /// (empty unless deletes are collected).
    fn pass(&self, pass: Pass) -> Vec<Entry> {
        let mut extras = Vec::new();
        let caching = pass == Pass::Main && !self.opts.dry_run;
        if let Some(file) = self.cache_file.as_ref().filter(|_| pass == Pass::Main) {
            *self.cursor.lock().unwrap_or_else(|p| p.into_inner()) = Some(Cursor::open(file));
            *self.output() = if caching {
                Output::create(file.clone())
            } else {
                None
            };
        }
        let filter = self.opts.filter.as_ref().filter(|f| !f.is_empty());
        let cancel = self.opts.cancel.as_ref();
        let with_excluded = self.mode == Mode::Sync && self.opts.delete_excluded;
        let checks = Gate::new(4 * self.opts.checkers + 64);
        let copy_gate = Gate::new(2 * self.opts.transfers + 8);
        if let Some((src, dst)) = &self.single {
            let pair = Pair::Objects {
                src: Some(src.clone()),
                dst: dst.clone(),
            };
            self.drive(
                pass,
                std::iter::once(pair),
                &checks,
                &copy_gate,
                &mut extras,
            );
        } else {
            std::thread::scope(|threads| {
                let (stx, srx) = sync_channel::<Batch>(8);
                let (dtx, drx) = sync_channel::<Batch>(8);
                let sides = &self.sides;
                // A real sync notes the destination's directories with nothing below them, to
                // remove those the source lacks afterwards (as rclone does).
                let empty_dirs =
                    (self.mode == Mode::Sync && pass == Pass::Main && !self.opts.dry_run)
                        .then_some(&self.empty_dirs);
                threads.spawn(move || {
                    Walk {
                        backend: sides.src,
                        root: sides.src_root,
                        filter,
                        with_excluded: false,
                        cancel,
                        empty_dirs: None,
                    }
                    .run(&stx);
                });
                threads.spawn(move || {
                    Walk {
                        backend: sides.dst,
                        root: sides.dst_root,
                        filter,
                        with_excluded,
                        cancel,
                        empty_dirs,
                    }
                    .run(&dtx);
                });
                let merge = Merge::new(srx.into_iter().flatten(), drx.into_iter().flatten());
                self.drive(pass, merge, &checks, &copy_gate, &mut extras);
            });
        }
        if pass == Pass::Main {
            self.cursor.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(out) = self.output().take() {
                out.finish();
            }
        }
        extras
    }

    /// Plans each pair of `pairs` (on this thread), with the checks on the checkers and the
    /// copies on the transfers, and waits for all of them.
    fn drive<'s>(
        &'s self,
        pass: Pass,
        pairs: impl Iterator<Item = Pair>,
        checks: &'s Gate,
        copy_gate: &'s Gate,
        extras: &mut Vec<Entry>,
    ) {
        // Copies decided on a checker come back here to be handed to the transfers.
        let (decided, copies) = std::sync::mpsc::channel::<Decided>();
        let gates = Gates {
            checks,
            copies: copy_gate,
            decided,
        };
        self.transfers.in_place_scope(|ts| {
            self.checkers.in_place_scope(|cs| {
                for pair in pairs {
                    if self.stopping() {
                        break;
                    }
                    self.plan(pass, pair, ts, cs, &gates, extras);
                    while let Ok((reason, src, seen)) = copies.try_recv() {
                        self.spawn_copy(reason, src, seen, ts, copy_gate);
                    }
                }
                // `pairs` (and the receivers) dropped: walkers still sending stop.
                drop(gates);
                // Until the last checker is done (each holds a sender).
                for (reason, src, seen) in copies.iter() {
                    self.spawn_copy(reason, src, seen, ts, copy_gate);
                }
            });
        });
    }

    fn plan<'s>(
        &'s self,
        pass: Pass,
        pair: Pair,
        ts: &Scope<'s>,
        cs: &Scope<'s>,
        gates: &Gates<'s>,
        extras: &mut Vec<Entry>,
    ) {
        match pair {
            Pair::Failed(is_src, e) => {
                let op = if is_src {
                    Op::ListSource
                } else {
                    Op::ListDestination
                };
                let root = if is_src {
                    self.sides.src_root
                } else {
                    self.sides.dst_root
                };
                let path = e
                    .path()
                    .and_then(|p| Path::parse(p).ok())
                    .and_then(|p| p.strip_prefix(root))
                    .unwrap_or_else(Path::root);
                self.fail(path, op, e);
            }
            Pair::Objects {
                src: None,
                dst: Some(dst),
            } => {
                if self.mode != Mode::Sync {
                    return;
                }
                let mode = self.opts.delete_mode;
                let collect = match pass {
                    Pass::CollectDeletes => true,
                    Pass::Main => mode == DeleteMode::After,
                };
                if collect {
                    extras.push(dst);
                } else if pass == Pass::Main && mode == DeleteMode::During {
                    // Deleting during the run: only while nothing has failed.
                    if self.errors.load(Ordering::Acquire) > 0 {
                        self.report().deletes_held += 1;
                        return;
                    }
                    let slot = gates.checks.acquire();
                    cs.spawn(move |_| {
                        let _slot = slot;
                        self.delete_one(&dst);
                    });
                }
            }
            Pair::Objects {
                src: Some(src),
                dst,
            } => {
                if pass != Pass::Main {
                    return;
                }
                let mut src = src;
                let prior = match self.cached(&mut src, dst.as_ref()) {
                    Cached::Settled => return self.event(Action::Unchanged { path: src.path }),
                    Cached::Prior(known) => known,
                    Cached::Unknown => Known::default(),
                };
                // The pair as listed: what a record of it will name.
                let listed = Listed {
                    src: self.seen(&src),
                    dst: dst.as_ref().map(|d| self.seen(d)),
                    prior,
                };
                let verdict = decide(&self.rules, &src, dst.as_ref(), &Facts::default());
                if matches!(
                    verdict,
                    Verdict::Need(_) | Verdict::Copy(_) | Verdict::SetTime
                ) && let Some(out) = self.output().as_mut()
                {
                    out.pending(&src.path);
                }
                match verdict {
                    Verdict::Need(_) => {
                        let slot = gates.checks.acquire();
                        let decided = gates.decided.clone();
                        cs.spawn(move |_| {
                            let _slot = slot;
                            self.resolve(src, dst, listed, &decided);
                        });
                    }
                    Verdict::Copy(reason) => {
                        self.spawn_copy(reason, src, listed.src, ts, gates.copies)
                    }
                    Verdict::Equal | Verdict::Skip(_) if self.mode != Mode::Move => {
                        self.settle(verdict, src, dst, &Facts::default(), listed);
                    }
                    other => {
                        let slot = gates.checks.acquire();
                        cs.spawn(move |_| {
                            let _slot = slot;
                            self.settle(other, src, dst, &Facts::default(), listed);
                        });
                    }
                }
            }
            Pair::Objects {
                src: None,
                dst: None,
            } => {}
        }
    }
}

/// The bounds on work in flight, and the way back from the checkers.
struct Gates<'s> {
    checks: &'s Gate,
    copies: &'s Gate,
    decided: Sender<Decided>,
}

/// A copy decided on a checker: why, the source (as the comparison left it), and the source
/// as listed.
type Decided = (Reason, Entry, Seen);

/// What the hash cache says of a pair.
pub(super) enum Cached {
    /// Its record settles the pair: nothing to do.
    Settled,
    /// Both sides are as its record names them, but the record lacks the fact this mode
    /// requires: these facts still hold, and are kept with what this run adds.
    Prior(Known),
    /// No record of the pair in these states.
    Unknown,
}

/// A pair as the listings showed it (what a record of it names), and what the cache knew.
pub(super) struct Listed {
    pub(super) src: Seen,
    pub(super) dst: Option<Seen>,
    pub(super) prior: Known,
}

/// Which pass of an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pass {
    /// Only find the destination's extras (delete before).
    CollectDeletes,
    /// Compare and transfer (and delete during, or collect for after).
    Main,
}
