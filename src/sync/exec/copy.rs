//! Copies (on the transfers' pool) and a move's deletes at the source.

use rayon::Scope;

use super::*;
use crate::sync::transfer::{Streaming, transfer};

impl Engine<'_> {
    pub(super) fn spawn_copy<'s>(
        &'s self,
        reason: Reason,
        src: Entry,
        seen: Seen,
        ts: &Scope<'s>,
        gate: &'s Gate,
    ) {
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
                    .with_operation("max_transfer")
                    .with_path(src.path.as_str()),
                );
            }
        }
        self.stats.add_planned(1, src.size);
        let slot = gate.acquire();
        ts.spawn(move |_| {
            let _slot = slot;
            self.copy_one(reason, src, seen);
        });
    }

    /// Copies `src`; `seen`: the source as listed (what the hash cache's record names).
    pub(super) fn copy_one(&self, reason: Reason, src: Entry, seen: Seen) {
        // A copy handed out before a limit stopped the run still runs (it was within the
        // limits); a cancel stops it, and so does a store found unavailable.
        if self.cancelled() || self.unavailable.load(Ordering::Acquire) {
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
                    // This run put the bytes there, with the source's time where the
                    // destination keeps one.
                    let known = Known {
                        content: true,
                        times: self.times_equal(&src, &done.entry),
                    };
                    let md5 = done.md5.or_else(|| src.hash(HashKind::Md5));
                    let dst = Some(self.seen_written(&done.entry));
                    self.remember(&src.path, seen, md5, dst, known);
                }
                {
                    let mut r = self.report();
                    r.copied += 1;
                    r.copied_bytes += src.size;
                    if done.moved {
                        r.source_deleted += 1;
                    }
                }
                if done.moved {
                    // One server-side rename: the source is gone already.
                    self.event(Action::Moved {
                        path: src.path.clone(),
                        size: src.size,
                    });
                } else {
                    self.event(action);
                }
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
                }
            }
            Err(e) => {
                self.forget(&src.path);
                self.fail(src.path, Op::Copy, e);
            }
        }
    }

    /// A move's second half: the destination holds the object, so the source goes.
    pub(super) fn delete_source(&self, rel: &Path) {
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
}
