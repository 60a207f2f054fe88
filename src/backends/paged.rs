//! One lazy listing over an ordered map of paths, for the backends that keep their objects in
//! a `BTreeMap<Path, _>` behind a lock (memory, channel).
//!
//! [`PagedList`] reads the map a page at a time (one lock per page), serves every
//! [`ListOptions`] natively — a start point is where the range begins, and a one-level listing
//! yields one directory entry per subtree and jumps over the rest of it with one range
//! lookup — and ends with one `Closed` error if the backend closes meanwhile. Keys that share
//! the prefix's bytes but not its segments (`a/b-x` for `a/b`) are skipped.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::backend::List;
use crate::entry::Entry;
use crate::error::Result;
use crate::listing;
use crate::options::ListOptions;
use crate::path::Path;

/// How many keys one lock reads at most.
const PAGE: usize = 256;

/// The map a [`PagedList`] walks, and what it shows of each value.
pub(crate) trait PagedSource: Send + 'static {
    /// What the map holds at a path.
    type Value;

    /// Runs `f` on the map, under the lock.
    fn with_map<R>(&self, f: impl FnOnce(&BTreeMap<Path, Self::Value>) -> R) -> R;

    /// The entry for `value` at `path`, or `None` if it is not listed (a stream not finished).
    fn entry(path: &Path, value: &Self::Value) -> Option<Entry>;

    /// `Err(Closed)` once the backend is closed.
    fn check_open(&self) -> Result<()>;
}

/// A lazy, paged listing of a [`PagedSource`]; see the [module docs](self).
pub(crate) struct PagedList<S: PagedSource> {
    source: S,
    /// Taken off the front of every listed path (a backend rooted inside the map).
    root: Path,
    /// `root` and the listing's prefix.
    prefix: Path,
    recursive: bool,
    start_after: Option<Path>,
    /// Where the next page starts.
    next: Bound<String>,
    page: std::vec::IntoIter<Entry>,
    /// The map holds nothing more for this listing.
    done: bool,
    /// The `Closed` error was yielded.
    closed: bool,
}

impl<S: PagedSource> PagedList<S> {
    /// The listing of `prefix` with `opts`, with cancellation, of the keys under `root`
    /// (listed relative to it; `root` itself is not listed).
    pub(crate) fn list(source: S, root: &Path, prefix: &Path, opts: &ListOptions) -> List {
        let prefix = root.join(prefix);
        let start_after = opts.start_after.as_ref().map(|s| root.join(s));
        // Start at the prefix, or right after `start_after` if that is further on.
        let next = match &start_after {
            Some(after) if *after >= prefix => Bound::Excluded(after.as_str().to_owned()),
            _ => Bound::Included(prefix.as_str().to_owned()),
        };
        let list: List = Box::new(PagedList {
            source,
            root: root.clone(),
            prefix,
            recursive: opts.recursive,
            start_after,
            next,
            page: Vec::new().into_iter(),
            done: false,
            closed: false,
        });
        match &opts.cancel {
            Some(cancel) => listing::cancellable(list, cancel.clone()),
            None => list,
        }
    }

    /// Reads the next page of entries from the map (at most [`PAGE`] keys, under one lock).
    fn fill(&mut self) -> Vec<Entry> {
        let Self {
            source,
            root,
            prefix,
            recursive,
            start_after,
            next,
            done,
            ..
        } = self;
        source.with_map(|map| {
            let mut page = Vec::new();
            let mut scanned = 0;
            loop {
                let mut jumped = false;
                for (path, value) in map.range::<str, _>((bound_str(next), Bound::Unbounded)) {
                    if scanned == PAGE {
                        return page;
                    }
                    let key = path.as_str();
                    if !key.starts_with(prefix.as_str()) {
                        break;
                    }
                    scanned += 1;
                    *next = Bound::Excluded(key.to_owned());
                    if !path.starts_with(prefix) {
                        continue;
                    }
                    let Some(mut entry) = S::entry(path, value) else {
                        continue;
                    };
                    let dir = if *recursive {
                        None
                    } else {
                        subdir(prefix, path)
                    };
                    match dir {
                        None => {
                            // The root is not an object of a backend rooted there.
                            if let Some(rel) = path.strip_prefix(root).filter(|r| !r.is_root()) {
                                entry.path = rel;
                                page.push(entry);
                            }
                        }
                        Some(dir) => {
                            if listing::after_start(&dir, true, start_after.as_ref())
                                && let Some(rel) = dir.strip_prefix(root)
                            {
                                page.push(Entry::dir(rel));
                            }
                            // Everything under `dir/` sorts before `dir0` ('0' follows '/').
                            *next = Bound::Included(format!("{dir}0"));
                            jumped = true;
                            break;
                        }
                    }
                }
                if !jumped {
                    *done = true;
                    return page;
                }
            }
        })
    }
}

fn bound_str(bound: &Bound<String>) -> Bound<&str> {
    match bound {
        Bound::Included(s) => Bound::Included(s.as_str()),
        Bound::Excluded(s) => Bound::Excluded(s.as_str()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// The directory directly under `prefix` that holds `path`, if `path` lies deeper than one
/// level below `prefix`.
fn subdir(prefix: &Path, path: &Path) -> Option<Path> {
    let rel = if prefix.is_root() {
        path.as_str()
    } else {
        path.as_str().get(prefix.as_str().len() + 1..)?
    };
    let (first, _) = rel.split_once('/')?;
    let end = path.as_str().len() - rel.len() + first.len();
    Path::parse(&path.as_str()[..end]).ok()
}

impl<S: PagedSource> Iterator for PagedList<S> {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        loop {
            if let Err(e) = self.source.check_open() {
                // One `Closed` item, then the end.
                let first = !self.closed;
                self.closed = true;
                return first.then_some(Err(e));
            }
            if let Some(entry) = self.page.next() {
                return Some(Ok(entry));
            }
            if self.done {
                return None;
            }
            self.page = self.fill().into_iter();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Backend;

    fn p(s: &str) -> Path {
        Path::parse(s).unwrap()
    }

    #[test]
    fn subdirs_are_one_level_down() {
        assert_eq!(subdir(&Path::root(), &p("a/b/c")), Some(p("a")));
        assert_eq!(subdir(&Path::root(), &p("a")), None);
        assert_eq!(subdir(&p("a"), &p("a/b/c")), Some(p("a/b")));
        assert_eq!(subdir(&p("a"), &p("a/b")), None);
        assert_eq!(subdir(&p("a"), &p("a")), None);
    }

    /// The native listing agrees with `listing::adapt` over the recursive one, for every
    /// prefix and start point in a tree larger than a page, with byte neighbours of `/`.
    #[test]
    fn native_listing_agrees_with_the_adapter() {
        use crate::{BackendExt, MemoryBackend};
        let store = MemoryBackend::new();
        let mut paths = Vec::new();
        for d in 0..40 {
            for f in 0..9 {
                paths.push(format!("d{d:02}/f{f}"));
                paths.push(format!("d{d:02}/s/f{f}"));
            }
            paths.push(format!("d{d:02}-x"));
            paths.push(format!("d{d:02}.x"));
            paths.push(format!("d{d:02}"));
        }
        for path in &paths {
            store.write_all(path.as_str(), b"x").unwrap();
        }
        let collect = |list: List| -> Vec<(String, bool)> {
            list.map(|e| e.map(|e| (e.path.to_string(), e.is_dir)))
                .collect::<Result<_>>()
                .unwrap()
        };
        let starts = [
            None,
            Some("d07"),
            Some("d07/f3"),
            Some("d07/s"),
            Some("d07-x"),
            Some("zz"),
        ];
        for prefix in ["", "d07", "d07/s", "d07/f3", "nope"] {
            let prefix = if prefix.is_empty() {
                Path::root()
            } else {
                p(prefix)
            };
            for start in starts {
                for recursive in [true, false] {
                    let mut opts = ListOptions::new().recursive(recursive);
                    opts.start_after = start.map(p);
                    let native = collect(store.list(&prefix, &opts).unwrap());
                    let all = store.list(&prefix, &ListOptions::new()).unwrap();
                    let adapted = collect(listing::adapt(all, &prefix, &opts));
                    assert_eq!(native, adapted, "{prefix:?} {opts:?}");
                }
            }
        }
        let top = collect(
            store
                .list(&Path::root(), &ListOptions::new().recursive(false))
                .unwrap(),
        );
        assert_eq!(top.len(), 40 * 4);
    }
}
