//! Comparisons that need more than the two listings (the hash cache, a `stat`, hashes), and
//! what is done about pairs that need no copy.

use super::*;

impl Engine<'_> {
    /// Consults the hash cache for `src`: attaches the MD5 it knows, and says whether the
    /// record settles the pair here, without a request (both sides in the states it names,
    /// and the fact this comparison mode requires established: see [`super::super::cache`]),
    /// or what it knows that this run may keep.
    pub(super) fn cached(&self, src: &mut Entry, dst: Option<&Entry>) -> Cached {
        let record = {
            let mut cursor = self.cursor.lock().unwrap_or_else(|p| p.into_inner());
            let Some(cursor) = cursor.as_mut() else {
                return Cached::Unknown;
            };
            match cursor.lookup(src.path.as_str()) {
                Some(r) if r.matches(src) => r,
                _ => return Cached::Unknown,
            }
        };
        if let Some(md5) = record.md5
            && src.hash(HashKind::Md5).is_none()
        {
            src.hashes.push(md5);
        }
        let Some(dst) = dst else {
            return Cached::Unknown;
        };
        if !record.same_destination(dst) {
            // `--checksum` needs only the content, which a metadata-only change (S3 keeps
            // the ETag, the listed time moves) leaves as it was.
            let content = record.known.content && record.same_content(dst);
            if !(content && self.rules.compare == Compare::Checksum)
                || self.rules.ignore_existing
                || self.mode == Mode::Move
            {
                return Cached::Unknown;
            }
            return self.settled_by(record, true);
        }
        let proves = match self.rules.compare {
            Compare::Checksum => record.known.content,
            Compare::SizeAndTime => record.known.times,
            Compare::SizeOnly | Compare::Always => false,
        };
        self.settled_by(record, proves)
    }

    /// The pair settled by `record` if it `proves` what this run checks (and nothing else
    /// forbids it); otherwise the facts it holds, kept with what this run adds.
    fn settled_by(&self, record: Record, proves: bool) -> Cached {
        if !proves || self.rules.ignore_existing || self.mode == Mode::Move {
            return Cached::Prior(record.known);
        }
        self.stats.checked(1);
        self.report().unchanged += 1;
        if let Some(out) = self.output().as_mut() {
            out.put(record);
        }
        Cached::Settled
    }

    /// Whether this run has seen both stored times, within the modify window.
    pub(super) fn times_equal(&self, src: &Entry, dst: &Entry) -> bool {
        let stored = |e: &Entry| e.filled.contains(crate::Fields::MODIFIED);
        match (self.rules.window, src.modified, dst.modified) {
            (Some(window), Some(a), Some(b)) if stored(src) && stored(dst) => {
                a.duration_since(b)
                    .or_else(|_| b.duration_since(a))
                    .unwrap_or_default()
                    < window
            }
            _ => false,
        }
    }

    /// On a checker: finds out what [`decide`] needs, then settles, or sends a copy back to
    /// the merge thread for the transfers.
    pub(super) fn resolve(
        &self,
        src: Entry,
        dst: Option<Entry>,
        listed: Listed,
        decided: &Sender<Decided>,
    ) {
        let (mut src, mut dst) = (src, dst);
        let mut facts = Facts::default();
        let cancel = self.opts.cancel.as_ref();
        for _ in 0..4 {
            let need = match decide(&self.rules, &src, dst.as_ref(), &facts) {
                Verdict::Need(need) => need,
                Verdict::Copy(reason) => {
                    // The merge thread is alive while any checker is (it waits for all).
                    let _ = decided.send((reason, src, listed.src));
                    return;
                }
                verdict => return self.settle(verdict, src, dst, &facts, listed),
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

    /// Equal, skipped, or only the time to set. `facts`: what the comparison found out
    /// (hashes compared); `listed`: the pair as listed, and what the cache knew of it.
    pub(super) fn settle(
        &self,
        verdict: Verdict,
        src: Entry,
        dst: Option<Entry>,
        facts: &Facts,
        listed: Listed,
    ) {
        let hashed_equal = facts.src_hash.is_some() && facts.src_hash == facts.dst_hash;
        let md5 = facts.src_hash.or_else(|| src.hash(HashKind::Md5));
        match verdict {
            Verdict::Equal => {
                self.stats.checked(1);
                self.report().unchanged += 1;
                self.event(Action::Unchanged {
                    path: src.path.clone(),
                });
                if self.mode == Mode::Move {
                    self.delete_source(&src.path);
                } else {
                    let known = Known {
                        content: hashed_equal,
                        times: dst.as_ref().is_some_and(|d| self.times_equal(&src, d)),
                    };
                    self.remember(
                        &src.path,
                        listed.src,
                        md5,
                        listed.dst,
                        known.or(listed.prior),
                    );
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
                let mut now = listed.dst;
                if !self.opts.dry_run {
                    let to = self.sides.dst_path(&src.path);
                    match self.retried(|_| self.sides.dst.set_modified(&to, time)) {
                        Ok(entry) => now = Some(self.seen_written(&entry)),
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
                    // The data is as it was (equal, by the hashes that led here); the time
                    // is now the source's.
                    let known = Known {
                        content: hashed_equal || listed.prior.content,
                        times: true,
                    };
                    self.remember(&src.path, listed.src, md5, now, known);
                }
                self.event(Action::SetModified { path: src.path });
            }
            Verdict::Copy(_) | Verdict::Need(_) => self.forget(&src.path),
        }
    }
}
