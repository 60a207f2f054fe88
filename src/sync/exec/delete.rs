//! Deletes at the destination: during the run, or in batches after it; `max_delete`; the
//! backup instead of a delete.

use super::*;

impl Engine<'_> {
    /// Whether one more delete is allowed (`max_delete`); stops the run when not.
    pub(super) fn may_delete(&self, n: u64) -> bool {
        let Some(max) = self.opts.max_delete else {
            return true;
        };
        let before = self.deleted.fetch_add(n, Ordering::AcqRel);
        if before.saturating_add(n) <= max {
            return true;
        }
        self.deleted.fetch_sub(n, Ordering::AcqRel);
        self.halt(
            Error::new(
                ErrorKind::LimitExceeded,
                format!(
                    "deleting {} more objects would pass the limit of {max} (max_delete)",
                    n
                ),
            )
            .with_operation("max_delete"),
        );
        false
    }

    pub(super) fn delete_one(&self, dst: &Entry) {
        if self.stopping() || !self.may_delete(1) {
            self.report().deletes_held += 1;
            return;
        }
        self.delete_batch(std::slice::from_ref(dst));
    }

    /// Deletes the destination's extras after a pass, unless the run had errors (rclone's
    /// rule) or the batch would pass `max_delete` (then none is deleted).
    pub(super) fn delete_extras(&self, extras: Vec<Entry>) {
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

    pub(super) fn delete_batch(&self, entries: &[Entry]) {
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
                // (Moves to the backup were retried already; a delete must never stand in.
                // Nor is a delete the backend already retried tried again.)
                Err(e) if e.is_temporary() && !e.is_persistent() && !self.opts.backup.is_on() => {
                    let to = self.sides.dst_path(&entry.path);
                    self.retried(|_| self.sides.dst.delete(&to))
                }
                other => other,
            };
            match result {
                Ok(()) => {
                    self.stats.deleted(1);
                    self.report().deleted += 1;
                    self.deleted_paths
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(entry.path.clone());
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
