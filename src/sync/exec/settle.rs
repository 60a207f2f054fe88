//! Comparisons that need more than the two listings (the hash cache, a `stat`, hashes), and
//! what is done about pairs that need no copy.

use super::*;

impl Engine<'_> {
    /// Consults the hash cache for `src`: attaches the MD5 it knows, and answers `true` when
    /// the record proves the pair equal (same source state, same destination tag) — then
    /// the pair is settled here, without a request.
    pub(super) fn cached(&self, src: &mut Entry, dst: Option<&Entry>) -> bool {
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
    pub(super) fn resolve(
        &self,
        src: Entry,
        dst: Option<Entry>,
        decided: &Sender<(Reason, Entry)>,
    ) {
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
    pub(super) fn settle(
        &self,
        verdict: Verdict,
        src: Entry,
        dst: Option<Entry>,
        md5: Option<crate::Hash>,
    ) {
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
}
