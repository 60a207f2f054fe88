//! Listing plumbing for backends: the sort key, and an adapter that serves every
//! [`ListOptions`] from a plain recursive, sorted listing.
//!
//! A backend that can do better (skip to a start point, list one level) does so natively; one
//! that cannot wraps its recursive listing in [`adapt`] and keeps the contract.

use std::cmp::Ordering;

use crate::backend::List;
use crate::cancel::Cancel;
use crate::entry::Entry;
use crate::error::Result;
use crate::options::ListOptions;
use crate::path::Path;

/// Compares two entries in listing order: by the bytes of the full path, a directory
/// sorting as its path followed by `/`.
pub fn cmp_entries(a: &Entry, b: &Entry) -> Ordering {
    cmp_keys(a.path.as_str(), a.is_dir, b.path.as_str(), b.is_dir)
}

/// Compares `(path, is_dir)` pairs in listing order.
pub fn cmp_keys(a: &str, a_dir: bool, b: &str, b_dir: bool) -> Ordering {
    let ka = a.bytes().chain(a_dir.then_some(b'/'));
    let kb = b.bytes().chain(b_dir.then_some(b'/'));
    ka.cmp(kb)
}

/// Whether an entry at `path` (a directory if `is_dir`) is listed under
/// [`ListOptions::start_after`]: it sorts strictly after `start_after` and is not
/// `start_after` itself.
pub fn after_start(path: &Path, is_dir: bool, start_after: Option<&Path>) -> bool {
    match start_after {
        None => true,
        Some(start) => {
            path != start && cmp_keys(path.as_str(), is_dir, start.as_str(), false).is_gt()
        }
    }
}

/// Serves `opts` from `recursive`, a recursive listing of `prefix` in listing order: skips
/// what sorts at or before `start_after`, folds everything below the first level into one
/// directory entry each when not recursive, and ends with one `Cancelled` error when the
/// token is cancelled.
///
/// ```
/// use omnistorage::listing;
/// use omnistorage::{BackendExt, ListOptions, MemoryBackend, Path};
///
/// let store = MemoryBackend::new();
/// store.write_all("a/x", b"1")?;
/// store.write_all("a/y/z", b"2")?;
/// let opts = ListOptions::new().recursive(false);
/// let top: Vec<_> = listing::adapt(store.list_at("")?, &Path::root(), &opts)
///     .map(|e| e.map(|e| (e.path.to_string(), e.is_dir)))
///     .collect::<Result<_, _>>()?;
/// assert_eq!(top, [("a".to_string(), true)]);
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub fn adapt(recursive: List, prefix: &Path, opts: &ListOptions) -> List {
    let mut out: List = recursive;
    if let Some(start) = opts.start_after.clone()
        && opts.recursive
    {
        out = Box::new(out.filter(move |item| match item {
            Ok(e) => after_start(&e.path, e.is_dir, Some(&start)),
            Err(_) => true,
        }));
    }
    if !opts.recursive {
        out = Box::new(OneLevel {
            inner: out,
            prefix: prefix.clone(),
            last_dir: None,
            start_after: opts.start_after.clone(),
        });
    }
    if let Some(cancel) = opts.cancel.clone() {
        out = cancellable(out, cancel);
    }
    out
}

/// Ends `list` with one [`Cancelled`](crate::ErrorKind::Cancelled) error once `cancel` is
/// cancelled (checked before each item).
pub fn cancellable(list: List, cancel: Cancel) -> List {
    let mut done = false;
    let mut list = list;
    Box::new(std::iter::from_fn(move || {
        if done {
            return None;
        }
        if let Err(e) = cancel.check() {
            done = true;
            return Some(Err(e.with_operation("list")));
        }
        list.next()
    }))
}

struct OneLevel {
    inner: List,
    prefix: Path,
    /// The directory entry yielded last: its descendants follow it in order and are skipped.
    last_dir: Option<Path>,
    start_after: Option<Path>,
}

impl Iterator for OneLevel {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        loop {
            let entry = match self.inner.next()? {
                Ok(entry) => entry,
                Err(e) => return Some(Err(e)),
            };
            if let Some(dir) = &self.last_dir
                && entry.path.starts_with(dir)
            {
                continue;
            }
            let Some(rel) = entry.path.strip_prefix(&self.prefix) else {
                continue;
            };
            let item = match rel.as_str().split_once('/') {
                None => entry,
                Some((first, _)) => {
                    let dir = match Path::parse(first) {
                        Ok(first) => self.prefix.join(&first),
                        Err(e) => return Some(Err(e)),
                    };
                    self.last_dir = Some(dir.clone());
                    Entry::dir(dir)
                }
            };
            if after_start(&item.path, item.is_dir, self.start_after.as_ref()) {
                return Some(Ok(item));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_sort_with_a_slash() {
        // "a/" sorts after "a.txt" ('/' is 0x2f, '.' is 0x2e) and before "a0".
        assert!(cmp_keys("a", true, "a.txt", false).is_gt());
        assert!(cmp_keys("a", true, "a0", false).is_lt());
        assert!(cmp_keys("a", false, "a", true).is_lt());
    }

    #[test]
    fn start_after_excludes_itself_and_before() {
        let p = |s: &str| Path::parse(s).unwrap();
        assert!(!after_start(&p("a"), false, Some(&p("a"))));
        assert!(!after_start(&p("a"), true, Some(&p("a"))));
        assert!(after_start(&p("a/b"), false, Some(&p("a"))));
        assert!(!after_start(&p("0"), false, Some(&p("a"))));
        assert!(after_start(&p("0"), false, None));
    }
}
