//! Running a plan: the merge on the calling thread, comparisons that need I/O on the
//! checkers' rayon pool, copies on the transfers' pool, with a bound on the work in flight so
//! memory stays flat however large the trees.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Sender, sync_channel};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use rayon::{Scope, ThreadPool};

use super::cache::{Cursor, Output, Record};
use super::compare::{Facts, Need, Reason, Rules, Verdict, decide};
use super::options::{Compare, DeleteMode, Options};
use super::plan::{Action, Merge, Pair};
use super::progress::Stats;
use super::report::{Failure, Op, Report};
use super::transfer::{Sides, Streaming, transfer};
use super::walk::{Item, Walk};
use crate::retry::Retry;
use crate::{Entry, Error, ErrorKind, HashKind, Path, Result};

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

/// A bound on the jobs in flight: the merge waits for a slot before it hands out work.
pub(crate) struct Gate {
    count: Mutex<usize>,
    freed: Condvar,
    max: usize,
}

/// One job's place at the [`Gate`]; freed on drop.
pub(crate) struct Slot<'g>(&'g Gate);

impl Gate {
    pub(crate) fn new(max: usize) -> Gate {
        Gate {
            count: Mutex::new(0),
            freed: Condvar::new(),
            max: max.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, usize> {
        self.count.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn acquire(&self) -> Slot<'_> {
        let mut n = self.lock();
        while *n >= self.max {
            n = self.freed.wait(n).unwrap_or_else(|p| p.into_inner());
        }
        *n += 1;
        Slot(self)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut n = self.0.lock();
        *n = n.saturating_sub(1);
        self.0.freed.notify_all();
    }
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
    errors: AtomicU64,
    reserved: AtomicU64,
    deleted: AtomicU64,
    /// The hash cache's file, when this run keeps one.
    cache_file: Option<PathBuf>,
    /// The old cache (read by the merge thread) and the new one (written as the run goes).
    cursor: Mutex<Option<Cursor>>,
    output: Mutex<Option<Output>>,
}

pub(crate) fn pool(n: usize, name: &'static str) -> Result<ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(move |i| format!("omnistorage-{name}-{i}"))
        .build()
        .map_err(|e| {
            Error::new(ErrorKind::Other, format!("cannot start the {name} threads")).with_source(e)
        })
}

impl<'a> Engine<'a> {
    pub(crate) fn new(
        sides: Sides<'a>,
        opts: &'a Options,
        mode: Mode,
        rules: Rules,
        cache_file: Option<PathBuf>,
    ) -> Result<Engine<'a>> {
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
            errors: AtomicU64::new(0),
            reserved: AtomicU64::new(0),
            deleted: AtomicU64::new(0),
            cache_file,
            cursor: Mutex::new(None),
            output: Mutex::new(None),
        })
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
        self.stats.error();
        let n = self.errors.fetch_add(1, Ordering::AcqRel) + 1;
        self.report().failures.push(Failure { path, op, error });
        if let Some(max) = self.opts.max_errors
            && n >= max
        {
            self.halt(Error::new(
                ErrorKind::LimitExceeded,
                format!("stopped after {n} errors (max_errors)"),
            ));
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

    /// Records what this run learned about a pair (the destination's tag is what makes the
    /// record useful: without one, nothing).
    fn remember(&self, src: &Entry, md5: Option<crate::Hash>, dst_tag: Option<String>) {
        if let Some(out) = self.output().as_mut() {
            match dst_tag {
                Some(tag) => out.put(Record::of(src, md5, Some(tag))),
                None => out.drop_pending(&src.path),
            }
        }
    }

    fn forget(&self, path: &Path) {
        if let Some(out) = self.output().as_mut() {
            out.drop_pending(path);
        }
    }

    fn retried<T>(&self, op: impl FnMut(u32) -> Result<T>) -> Result<T> {
        self.retry.run(self.opts.cancel.as_ref(), op)
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
        if deleting && clean && !self.opts.dry_run {
            super::dirs::remove_extra(
                self.sides.src,
                self.sides.src_root,
                self.sides.dst,
                self.sides.dst_root,
                self.opts.filter.as_ref().filter(|f| !f.is_empty()),
            );
        }
        if self.mode == Mode::Move && self.opts.delete_empty_src_dirs && !self.opts.dry_run {
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
        std::thread::scope(|threads| {
            let (stx, srx) = sync_channel::<Item>(1024);
            let (dtx, drx) = sync_channel::<Item>(1024);
            let sides = &self.sides;
            threads.spawn(move || {
                Walk {
                    backend: sides.src,
                    root: sides.src_root,
                    filter,
                    with_excluded: false,
                    cancel,
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
                }
                .run(&dtx);
            });
            let merge = Merge::new(srx.into_iter(), drx.into_iter());
            // Copies decided on a checker come back here to be handed to the transfers.
            let (decided, copies) = std::sync::mpsc::channel::<(Reason, Entry)>();
            let gates = Gates {
                checks: &checks,
                copies: &copy_gate,
                decided,
            };
            self.transfers.in_place_scope(|ts| {
                self.checkers.in_place_scope(|cs| {
                    for pair in merge {
                        if self.stopping() {
                            break;
                        }
                        self.plan(pass, pair, ts, cs, &gates, &mut extras);
                        while let Ok((reason, src)) = copies.try_recv() {
                            self.spawn_copy(reason, src, ts, &copy_gate);
                        }
                    }
                    // `merge` (and the receivers) dropped: walkers still sending stop.
                    drop(gates);
                    // Until the last checker is done (each holds a sender).
                    for (reason, src) in copies.iter() {
                        self.spawn_copy(reason, src, ts, &copy_gate);
                    }
                });
            });
        });
        if pass == Pass::Main {
            self.cursor.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(out) = self.output().take() {
                out.finish();
            }
        }
        extras
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
                if self.cached(&mut src, dst.as_ref()) {
                    return;
                }
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
                            self.resolve(src, dst, &decided);
                        });
                    }
                    Verdict::Copy(reason) => self.spawn_copy(reason, src, ts, gates.copies),
                    Verdict::Equal | Verdict::Skip(_) if self.mode != Mode::Move => {
                        self.settle(verdict, src, dst, None);
                    }
                    other => {
                        let slot = gates.checks.acquire();
                        cs.spawn(move |_| {
                            let _slot = slot;
                            self.settle(other, src, dst, None);
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

    /// Consults the hash cache for `src`: attaches the MD5 it knows, and answers `true` when
    /// the record proves the pair equal (same source state, same destination tag) — then
    /// the pair is settled here, without a request.
    fn cached(&self, src: &mut Entry, dst: Option<&Entry>) -> bool {
        let record = {
            let mut cursor = self.cursor.lock().unwrap_or_else(|p| p.into_inner());
            let Some(cursor) = cursor.as_mut() else {
                return false;
            };
            match cursor.lookup(src.path.as_str()) {
                Some(r) if r.matches(src) => r,
                _ => return false,
            }
        };
        if let Some(md5) = record.md5
            && src.hash(HashKind::Md5).is_none()
        {
            src.hashes.push(md5);
        }
        let decisive = matches!(self.rules.compare, Compare::SizeAndTime | Compare::Checksum)
            && !self.rules.ignore_existing
            && self.mode != Mode::Move;
        if !(decisive && dst.is_some_and(|d| record.same_destination(d))) {
            return false;
        }
        self.stats.checked(1);
        self.report().unchanged += 1;
        if let Some(out) = self.output().as_mut() {
            out.put(record);
        }
        true
    }

    /// On a checker: finds out what [`decide`] needs, then settles, or sends a copy back to
    /// the merge thread for the transfers.
    fn resolve(&self, src: Entry, dst: Option<Entry>, decided: &Sender<(Reason, Entry)>) {
        let (mut src, mut dst) = (src, dst);
        let mut facts = Facts::default();
        let cancel = self.opts.cancel.as_ref();
        for _ in 0..4 {
            let need = match decide(&self.rules, &src, dst.as_ref(), &facts) {
                Verdict::Need(need) => need,
                Verdict::Copy(reason) => {
                    // The merge thread is alive while any checker is (it waits for all).
                    let _ = decided.send((reason, src));
                    return;
                }
                verdict => return self.settle(verdict, src, dst, facts.src_hash),
            };
            let found = match need {
                Need::SrcStat => self
                    .retried(|_| self.sides.src.stat(&self.sides.src_path(&src.path)))
                    .map(|e| {
                        src = Entry {
                            path: src.path.clone(),
                            ..e
                        }
                    })
                    .map_err(|e| (Op::Stat, e)),
                Need::DstStat => match &dst {
                    Some(d) => {
                        let rel = d.path.clone();
                        self.retried(|_| self.sides.dst.stat(&self.sides.dst_path(&rel)))
                            .map(|e| dst = Some(Entry { path: rel, ..e }))
                            .map_err(|e| (Op::Stat, e))
                    }
                    None => Ok(()),
                },
                Need::Hashes(kind) => {
                    let rel = dst.as_ref().map_or_else(Path::root, |d| d.path.clone());
                    let known_src = src.hash(kind);
                    let known_dst = dst.as_ref().and_then(|d| d.hash(kind));
                    let hash_src = || match known_src {
                        Some(h) => Ok(h),
                        None => self.retried(|_| {
                            let path = self.sides.src_path(&src.path);
                            self.sides.src.hash(&path, kind, cancel)
                        }),
                    };
                    let hash_dst = || match known_dst {
                        Some(h) => Ok(h),
                        None => self.retried(|_| {
                            let path = self.sides.dst_path(&rel);
                            self.sides.dst.hash(&path, kind, cancel)
                        }),
                    };
                    // Both sides at once when both are read and big enough to pay for it.
                    let both = known_src.is_none() && known_dst.is_none() && src.size >= 1 << 20;
                    let (s, d) = if both {
                        rayon::join(hash_src, hash_dst)
                    } else {
                        (hash_src(), hash_dst())
                    };
                    s.and_then(|s| d.map(|d| (s, d)))
                        .map(|(s, d)| {
                            facts.src_hash = Some(s);
                            facts.dst_hash = Some(d);
                        })
                        .map_err(|e| (Op::Hash, e))
                }
            };
            if let Err((op, e)) = found {
                self.forget(&src.path);
                return self.fail(src.path, op, e);
            }
        }
        let e = Error::new(ErrorKind::Other, "the comparison did not settle");
        self.forget(&src.path);
        self.fail(src.path, Op::Stat, e);
    }

    /// Equal, skipped, or only the time to set. `md5`: the source's, if a comparison hashed
    /// it (for the hash cache).
    fn settle(&self, verdict: Verdict, src: Entry, dst: Option<Entry>, md5: Option<crate::Hash>) {
        let dst_tag = dst.and_then(|d| d.etag);
        match verdict {
            Verdict::Equal => {
                self.stats.checked(1);
                self.report().unchanged += 1;
                if self.mode == Mode::Move {
                    self.delete_source(&src.path);
                } else {
                    self.remember(&src, md5, dst_tag);
                }
            }
            Verdict::Skip(reason) => {
                self.stats.checked(1);
                self.report().skipped += 1;
                self.forget(&src.path);
                self.event(Action::Skip {
                    path: src.path,
                    reason,
                });
            }
            Verdict::SetTime => {
                let Some(time) = src.modified else {
                    return self.forget(&src.path);
                };
                let mut tag = dst_tag;
                if !self.opts.dry_run {
                    let to = self.sides.dst_path(&src.path);
                    match self.retried(|_| self.sides.dst.set_modified(&to, time)) {
                        Ok(entry) => tag = entry.etag,
                        Err(e) => {
                            self.forget(&src.path);
                            return self.fail(src.path, Op::SetModified, e);
                        }
                    }
                }
                self.stats.checked(1);
                self.report().set_modified += 1;
                if self.mode == Mode::Move {
                    self.delete_source(&src.path);
                } else {
                    self.remember(&src, md5, tag);
                }
                self.event(Action::SetModified { path: src.path });
            }
            Verdict::Copy(_) | Verdict::Need(_) => self.forget(&src.path),
        }
    }

    fn spawn_copy<'s>(&'s self, reason: Reason, src: Entry, ts: &Scope<'s>, gate: &'s Gate) {
        // `max_transfer`: a copy that would cross the limit is not started.
        if let Some(max) = self.opts.max_transfer {
            let before = self.reserved.fetch_add(src.size, Ordering::AcqRel);
            if before.saturating_add(src.size) > max {
                self.reserved.fetch_sub(src.size, Ordering::AcqRel);
                return self.halt(
                    Error::new(
                        ErrorKind::LimitExceeded,
                        format!("the transfer limit of {max} bytes was reached (max_transfer)"),
                    )
                    .with_path(src.path.as_str()),
                );
            }
        }
        self.stats.add_planned(1, src.size);
        let slot = gate.acquire();
        ts.spawn(move |_| {
            let _slot = slot;
            self.copy_one(reason, src);
        });
    }

    fn copy_one(&self, reason: Reason, src: Entry) {
        // A copy handed out before a limit stopped the run still runs (it was within the
        // limits); a cancel stops it.
        if self.cancelled() {
            return;
        }
        let action = Action::Copy {
            path: src.path.clone(),
            size: src.size,
            reason,
        };
        if self.opts.dry_run {
            let mut r = self.report();
            r.copied += 1;
            r.copied_bytes += src.size;
            if self.mode == Mode::Move {
                r.source_deleted += 1;
            }
            drop(r);
            self.event(action);
            if self.mode == Mode::Move {
                self.event(Action::DeleteSource { path: src.path });
            }
            return;
        }
        let how = Streaming {
            bwlimit: self.opts.bwlimit.as_ref(),
            stats: &self.stats,
            cancel: self.opts.cancel.as_ref(),
            metadata: self.opts.metadata,
            md5: self.cache_file.is_some() && src.hash(HashKind::Md5).is_none(),
        };
        let rename = self.mode == Mode::Move;
        if reason != Reason::New && self.opts.backup.is_on() {
            let (dst, root) = (self.sides.dst, self.sides.dst_root);
            match self.retried(|_| self.opts.backup.keep_copy(dst, root, &src.path)) {
                Ok(()) => self.report().backed_up += 1,
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => {
                    self.forget(&src.path);
                    return self.fail(src.path, Op::Backup, e);
                }
            }
        }
        match self.retried(|_| transfer(&self.sides, &src, rename, &how)) {
            Ok(done) => {
                if self.mode != Mode::Move {
                    self.remember(&src, done.md5, done.entry.etag.clone());
                }
                {
                    let mut r = self.report();
                    r.copied += 1;
                    r.copied_bytes += src.size;
                    if done.moved {
                        r.source_deleted += 1;
                    }
                }
                self.event(action);
                if self.mode == Mode::Move && !done.moved {
                    if done.entry.size == src.size {
                        self.delete_source(&src.path);
                    } else {
                        let e = Error::new(
                            ErrorKind::Corrupt,
                            "the copy's size differs from the source's: the source is kept",
                        );
                        self.fail(src.path, Op::Copy, e);
                    }
                } else if done.moved {
                    self.event(Action::DeleteSource { path: src.path });
                }
            }
            Err(e) => {
                self.forget(&src.path);
                self.fail(src.path, Op::Copy, e);
            }
        }
    }

    /// A move's second half: the destination holds the object, so the source goes.
    fn delete_source(&self, rel: &Path) {
        if self.opts.dry_run {
            self.report().source_deleted += 1;
            return self.event(Action::DeleteSource { path: rel.clone() });
        }
        let from = self.sides.src_path(rel);
        match self.retried(|_| self.sides.src.delete(&from)) {
            Ok(()) => {
                self.report().source_deleted += 1;
                self.event(Action::DeleteSource { path: rel.clone() });
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => self.fail(rel.clone(), Op::DeleteSource, e),
        }
    }

    /// Whether one more delete is allowed (`max_delete`); stops the run when not.
    fn may_delete(&self, n: u64) -> bool {
        let Some(max) = self.opts.max_delete else {
            return true;
        };
        let before = self.deleted.fetch_add(n, Ordering::AcqRel);
        if before.saturating_add(n) <= max {
            return true;
        }
        self.deleted.fetch_sub(n, Ordering::AcqRel);
        self.halt(Error::new(
            ErrorKind::LimitExceeded,
            format!(
                "deleting {} more objects would pass the limit of {max} (max_delete)",
                n
            ),
        ));
        false
    }

    fn delete_one(&self, dst: &Entry) {
        if self.stopping() || !self.may_delete(1) {
            self.report().deletes_held += 1;
            return;
        }
        self.delete_batch(std::slice::from_ref(dst));
    }

    /// Deletes the destination's extras after a pass, unless the run had errors (rclone's
    /// rule) or the batch would pass `max_delete` (then none is deleted).
    fn delete_extras(&self, extras: Vec<Entry>) {
        if extras.is_empty() {
            return;
        }
        let n = extras.len() as u64;
        if self.errors.load(Ordering::Acquire) > 0 || self.stopping() || !self.may_delete(n) {
            self.report().deletes_held += n;
            return;
        }
        // Batches, so that stores with a batch delete (S3: 1,000 keys a request) use it.
        let checkers = &self.checkers;
        checkers.in_place_scope(|cs| {
            for chunk in extras.chunks(1000) {
                cs.spawn(move |_| self.delete_batch(chunk));
            }
        });
    }

    fn delete_batch(&self, entries: &[Entry]) {
        if self.opts.dry_run {
            self.report().deleted += entries.len() as u64;
            for e in entries {
                self.event(Action::Delete {
                    path: e.path.clone(),
                    size: e.size,
                });
            }
            return;
        }
        let results: Vec<Result<()>> = if self.opts.backup.is_on() {
            // Moved to the backup instead, one by one.
            let (dst, root) = (self.sides.dst, self.sides.dst_root);
            entries
                .iter()
                .map(|e| {
                    let moved = self.retried(|_| self.opts.backup.move_away(dst, root, &e.path));
                    if moved.is_ok() {
                        self.report().backed_up += 1;
                    }
                    moved
                })
                .collect()
        } else {
            let paths: Vec<Path> = entries
                .iter()
                .map(|e| self.sides.dst_path(&e.path))
                .collect();
            self.sides.dst.delete_many(&paths)
        };
        for (entry, result) in entries.iter().zip(results) {
            let result = match result {
                // (Moves to the backup were retried already; a delete must never stand in.)
                Err(e) if e.is_temporary() && !self.opts.backup.is_on() => {
                    let to = self.sides.dst_path(&entry.path);
                    self.retried(|_| self.sides.dst.delete(&to))
                }
                other => other,
            };
            match result {
                Ok(()) => {
                    self.stats.deleted(1);
                    self.report().deleted += 1;
                    self.event(Action::Delete {
                        path: entry.path.clone(),
                        size: entry.size,
                    });
                }
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => self.fail(entry.path.clone(), Op::Delete, e),
            }
        }
    }
}

/// The bounds on work in flight, and the way back from the checkers.
struct Gates<'s> {
    checks: &'s Gate,
    copies: &'s Gate,
    decided: Sender<(Reason, Entry)>,
}

/// Which pass of an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pass {
    /// Only find the destination's extras (delete before).
    CollectDeletes,
    /// Compare and transfer (and delete during, or collect for after).
    Main,
}
