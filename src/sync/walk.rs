//! One side's listing, filtered and relative to the transfer root, in sorted order.
//!
//! A backend lists in ascending byte order of full paths (the contract the conformance suite
//! checks); the walk keeps that order and **checks it**, so a misbehaving backend is an
//! error (and a sync with errors deletes nothing), never a wrong plan. When the filter can
//! prune directories and the backend has real ones, the walk goes directory by directory and
//! never descends into an excluded one; otherwise it reads the flat recursive listing and
//! applies directory rules to each object's parents.

use std::sync::Mutex;
use std::sync::mpsc::SyncSender;

use super::filter::Filter;
use crate::{Backend, Cancel, Entry, Error, ErrorKind, List, ListOptions, Path, Result};

/// One item of a side's stream.
pub(crate) enum Item {
    /// An object, its path relative to the transfer root; `excluded` when the filter
    /// excludes it (only yielded when the caller asked for excluded objects too).
    Object { entry: Entry, excluded: bool },
    /// A problem with one part of the listing.
    Failed(Error),
}

/// Items go to the merge in batches: one channel operation per batch, not per entry (at
/// tens of thousands of entries a second, per-entry hand-offs were most of a no-change
/// run's system time).
pub(crate) type Batch = Vec<Item>;

const BATCH: usize = 256;

/// What to walk and how.
pub(crate) struct Walk<'a> {
    pub(crate) backend: &'a dyn Backend,
    pub(crate) root: &'a Path,
    pub(crate) filter: Option<&'a Filter>,
    /// Yield excluded objects too, flagged (a destination with `delete_excluded`).
    pub(crate) with_excluded: bool,
    pub(crate) cancel: Option<&'a Cancel>,
    /// Where to note the directories with no object below them (relative, deepest first
    /// within each subtree): asking for them walks directory by directory on backends
    /// with real directories, which sees them at no extra cost.
    pub(crate) empty_dirs: Option<&'a Mutex<Vec<Path>>>,
}

impl Walk<'_> {
    /// Sends every item to `tx`, in order and in batches; stops early when the receiver
    /// hangs up.
    pub(crate) fn run(&self, tx: &SyncSender<Batch>) {
        let dirs = self.backend.capabilities().directories;
        let by_dir =
            dirs && (self.empty_dirs.is_some() || self.filter.is_some_and(Filter::prunes_dirs));
        let mut last: Option<Path> = None;
        let mut batch = Vec::with_capacity(BATCH);
        let mut send = |item: Item| -> bool {
            if let Item::Object { entry, .. } = &item {
                if let Some(prev) = &last
                    && prev.as_str() >= entry.path.as_str()
                {
                    let e = Error::new(
                        ErrorKind::Other,
                        format!(
                            "the backend listed {:?} after {:?}, out of order: \
                             the listing cannot be trusted",
                            entry.path.as_str(),
                            prev.as_str()
                        ),
                    )
                    .with_operation("list")
                    .with_path(entry.path.as_str());
                    batch.push(Item::Failed(e));
                    let _ = tx.send(std::mem::take(&mut batch));
                    return false;
                }
                last = Some(entry.path.clone());
            }
            batch.push(item);
            batch.len() < BATCH
                || tx
                    .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                    .is_ok()
        };
        if by_dir {
            self.by_directory(&mut send);
        } else {
            self.flat(&mut send);
        }
        // (The closure's borrow of `batch` ends with its last use above.)
        if !batch.is_empty() {
            let _ = tx.send(batch);
        }
    }

    fn opts(&self, recursive: bool) -> ListOptions {
        let mut opts = ListOptions::new().recursive(recursive);
        opts.cancel = self.cancel.cloned();
        opts
    }

    fn relative(&self, path: &Path) -> Option<Path> {
        path.strip_prefix(self.root)
    }

    /// The flat recursive listing, with the filter's directory rules applied to each
    /// object's parents (one decision per directory, reused while objects share it).
    fn flat(&self, send: &mut dyn FnMut(Item) -> bool) {
        let list = match self.backend.list(self.root, &self.opts(true)) {
            Ok(list) => list,
            Err(e) => {
                send(Item::Failed(e.with_operation("list")));
                return;
            }
        };
        let mut dir_cache: Option<(String, bool)> = None;
        for item in list {
            let entry = match item {
                Ok(entry) if entry.is_dir => continue,
                Ok(entry) => entry,
                Err(e) => {
                    let stop = e.kind() == ErrorKind::Cancelled;
                    if !send(Item::Failed(e)) || stop {
                        return;
                    }
                    continue;
                }
            };
            let Some(rel) = self.relative(&entry.path) else {
                continue; // `prefix` matches by segment, so this does not happen
            };
            if rel.is_root() {
                continue; // the root itself is an object: not a tree
            }
            let mut entry = entry;
            entry.path = rel;
            let excluded = match self.filter {
                None => false,
                Some(f) => {
                    let parent = entry.path.parent().unwrap_or_else(Path::root);
                    let dirs_ok = match &dir_cache {
                        Some((dir, ok)) if dir == parent.as_str() => *ok,
                        _ => {
                            let ok = parents_included(f, &parent);
                            dir_cache = Some((parent.into_string(), ok));
                            ok
                        }
                    };
                    !(dirs_ok && f.include_file(entry.path.as_str(), entry.size, entry.modified))
                }
            };
            if excluded && !self.with_excluded {
                continue;
            }
            if !send(Item::Object { entry, excluded }) {
                return;
            }
        }
    }

    /// Directory by directory (non-recursive listings, depth first, which keeps the full
    /// order), never descending into a directory the filter excludes, and noting the
    /// directories with no object below them.
    fn by_directory(&self, send: &mut dyn FnMut(Item) -> bool) {
        /// One directory being listed: its listing, its path, whether an object was seen
        /// below it.
        struct Frame {
            list: List,
            dir: Path,
            occupied: bool,
        }
        let first = match self.backend.list(self.root, &self.opts(false)) {
            Ok(list) => list,
            Err(e) => {
                send(Item::Failed(e.with_operation("list")));
                return;
            }
        };
        let mut stack = vec![Frame {
            list: first,
            dir: self.root.clone(),
            occupied: true, // the root itself is never removed
        }];
        while let Some(top) = stack.last_mut() {
            let Some(item) = top.list.next() else {
                if let Some(done) = stack.pop() {
                    self.left(
                        &done.dir,
                        done.occupied,
                        stack.last_mut().map(|f| &mut f.occupied),
                    );
                }
                continue;
            };
            let entry = match item {
                Ok(entry) => entry,
                Err(e) => {
                    top.occupied = true; // unknown: never taken for empty
                    let stop = e.kind() == ErrorKind::Cancelled;
                    if !send(Item::Failed(e)) || stop {
                        return;
                    }
                    continue;
                }
            };
            let Some(rel) = self.relative(&entry.path) else {
                continue;
            };
            if rel.is_root() {
                continue;
            }
            if entry.is_dir {
                let pruned = self.filter.is_some_and(|f| !f.include_dir(rel.as_str()));
                if pruned && !self.with_excluded {
                    top.occupied = true; // left alone, so never removed either
                    continue;
                }
                match self.backend.list(&entry.path, &self.opts(false)) {
                    Ok(list) => stack.push(Frame {
                        list,
                        dir: entry.path,
                        occupied: false,
                    }),
                    Err(e) => {
                        top.occupied = true;
                        if !send(Item::Failed(e.with_operation("list"))) {
                            return;
                        }
                    }
                }
                continue;
            }
            top.occupied = true;
            let mut entry = entry;
            entry.path = rel;
            let excluded = match self.filter {
                None => false,
                Some(f) => {
                    let parent = entry.path.parent().unwrap_or_else(Path::root);
                    !(parents_included(f, &parent)
                        && f.include_file(entry.path.as_str(), entry.size, entry.modified))
                }
            };
            if excluded && !self.with_excluded {
                continue;
            }
            if !send(Item::Object { entry, excluded }) {
                return;
            }
        }
    }

    /// A directory's listing is done: note it if nothing lay below it, and tell its
    /// parent whether it held anything.
    fn left(&self, dir: &Path, occupied: bool, parent: Option<&mut bool>) {
        if occupied {
            if let Some(p) = parent {
                *p = true;
            }
            return;
        }
        if let (Some(out), Some(rel)) = (self.empty_dirs, dir.strip_prefix(self.root)) {
            out.lock().unwrap_or_else(|p| p.into_inner()).push(rel);
        }
    }
}

/// Whether every directory from the top down to `dir` may be descended into.
fn parents_included(filter: &Filter, dir: &Path) -> bool {
    let s = dir.as_str();
    if s.is_empty() {
        return true;
    }
    s.match_indices('/')
        .map(|(i, _)| &s[..i])
        .chain(std::iter::once(s))
        .all(|d| filter.include_dir(d))
}

/// Whether `root` on `backend` can be a source: an existing directory, or a prefix with
/// objects under it. A missing root is [`ErrorKind::NotFound`] ("directory not found", as
/// rclone says), never an empty source — a sync from a mistyped path must not empty the
/// destination. An object at `root` is [`ErrorKind::NotADirectory`].
pub(crate) fn check_source_root(backend: &dyn Backend, root: &Path) -> Result<()> {
    let dirs = backend.capabilities().directories;
    if root.is_root() {
        // A backend's own root: on a tree of directories it must exist (a file backend on a
        // mistyped directory opens fine and lists nothing); a bucket's root always does.
        return match dirs.then(|| backend.stat(root)) {
            Some(Err(e)) if e.kind() == ErrorKind::NotFound => Err(Error::new(
                ErrorKind::NotFound,
                "source directory not found",
            )
            .with_operation("sync")
            .with_source(e)),
            Some(Err(e))
                if !matches!(e.kind(), ErrorKind::Unsupported | ErrorKind::InvalidPath) =>
            {
                Err(e)
            }
            _ => Ok(()),
        };
    }
    // On stores of objects only, a root is a prefix: objects under it make it exist (and
    // some servers answer a HEAD of a "directory" key with an error).
    let stat = if dirs {
        backend.stat(root)
    } else {
        Err(Error::from_kind(ErrorKind::NotFound))
    };
    match stat {
        Ok(entry) if entry.is_dir => return Ok(()),
        Ok(_) => {
            return Err(Error::new(
                ErrorKind::NotADirectory,
                "the source is an object, not a directory",
            )
            .with_operation("sync")
            .with_path(root.as_str()));
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) if e.kind() == ErrorKind::Unsupported => {}
        Err(e) => return Err(e),
    }
    // Object stores have no directories: a prefix with objects is one.
    let mut list = backend.list(root, &ListOptions::new())?;
    match list.next() {
        // The prefix names an object: a tree only if objects lie below it too.
        Some(Ok(first)) if first.path == *root => match list.next() {
            Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(e),
            None => Err(Error::new(
                ErrorKind::NotADirectory,
                "the source is an object, not a directory",
            )
            .with_operation("sync")
            .with_path(root.as_str())),
        },
        Some(Ok(_)) => Ok(()),
        Some(Err(e)) => Err(e),
        None => Err(
            Error::new(ErrorKind::NotFound, "source directory not found")
                .with_operation("sync")
                .with_path(root.as_str()),
        ),
    }
}
