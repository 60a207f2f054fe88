//! The plan: one merge of two sorted streams into pairs, and what a run does about each.
//!
//! [`Merge`] is pure: it takes two iterators of [`Item`]s (each side's walk, in ascending
//! path order) and yields one [`Pair`] per path, holding at most one entry of each side at a
//! time — so planning a sync of millions of unchanged objects needs the memory of a few.

use std::cmp::Ordering;
use std::iter::Peekable;

use super::compare::{Reason, SkipReason};
use super::walk::Item;
use crate::{Entry, Error, Path};

/// A path present on one side or both.
#[derive(Debug)]
// Nearly every pair is `Objects`: boxing it would allocate once per listed path.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Pair {
    /// Both sides, or one. A destination object the filter excludes comes only from a
    /// `delete_excluded` walk, and then has no source partner (the source walk drops it).
    Objects {
        src: Option<Entry>,
        dst: Option<Entry>,
    },
    /// A listing problem on the source (`true`) or destination side.
    Failed(bool, Error),
}

/// Merges two sorted item streams by path.
pub(crate) struct Merge<S: Iterator<Item = Item>, D: Iterator<Item = Item>> {
    src: Peekable<S>,
    dst: Peekable<D>,
}

impl<S: Iterator<Item = Item>, D: Iterator<Item = Item>> Merge<S, D> {
    pub(crate) fn new(src: S, dst: D) -> Self {
        Merge {
            src: src.peekable(),
            dst: dst.peekable(),
        }
    }
}

fn key(item: Option<&Item>) -> Option<&str> {
    match item {
        Some(Item::Object { entry, .. }) => Some(entry.path.as_str()),
        _ => None,
    }
}

impl<S: Iterator<Item = Item>, D: Iterator<Item = Item>> Iterator for Merge<S, D> {
    type Item = Pair;

    fn next(&mut self) -> Option<Pair> {
        // Failures first, as they come.
        if let Some(Item::Failed(_)) = self.src.peek()
            && let Some(Item::Failed(e)) = self.src.next()
        {
            return Some(Pair::Failed(true, e));
        }
        if let Some(Item::Failed(_)) = self.dst.peek()
            && let Some(Item::Failed(e)) = self.dst.next()
        {
            return Some(Pair::Failed(false, e));
        }
        let order = match (key(self.src.peek()), key(self.dst.peek())) {
            (None, None) => return None,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(a), Some(b)) => a.as_bytes().cmp(b.as_bytes()),
        };
        fn take(it: &mut impl Iterator<Item = Item>) -> Option<(Entry, bool)> {
            match it.next() {
                Some(Item::Object { entry, excluded }) => Some((entry, excluded)),
                _ => None,
            }
        }
        let (src, dst) = match order {
            Ordering::Less => (take(&mut self.src), None),
            Ordering::Greater => (None, take(&mut self.dst)),
            Ordering::Equal => (take(&mut self.src), take(&mut self.dst)),
        };
        Some(Pair::Objects {
            src: src.map(|(e, _)| e),
            dst: dst.map(|(e, _)| e),
        })
    }
}

/// One thing a run does (or, in a dry run, would do), as reported to
/// [`Options::on_action`](super::Options::on_action) and returned by [`diff`](super::diff).
/// Paths are relative to the transfer roots.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Copy the source object to the destination.
    Copy {
        /// The object.
        path: Path,
        /// Its size.
        size: u64,
        /// Why.
        reason: Reason,
    },
    /// Set the destination's modification time to the source's: the data is equal.
    SetModified {
        /// The object.
        path: Path,
    },
    /// Delete the destination object: the source has none (or the filter excludes it, with
    /// `delete_excluded`).
    Delete {
        /// The object.
        path: Path,
        /// Its size.
        size: u64,
    },
    /// Delete the source object (a move), now that the destination holds it.
    DeleteSource {
        /// The object.
        path: Path,
    },
    /// Leave a destination object that differs or may differ.
    Skip {
        /// The object.
        path: Path,
        /// Why.
        reason: SkipReason,
    },
    /// The source object was moved to the destination by one server-side rename (a move
    /// within one store): reported instead of a `Copy` and a `DeleteSource`.
    Moved {
        /// The object.
        path: Path,
        /// Its size.
        size: u64,
    },
    /// Nothing to do: the destination holds the object as the comparison asks (rclone's
    /// "Unchanged skipping"). Reported to [`Options::on_action`](super::Options::on_action)
    /// only; [`diff`](super::diff) leaves it out.
    Unchanged {
        /// The object.
        path: Path,
    },
}

impl Action {
    /// The path the action is about.
    pub fn path(&self) -> &Path {
        match self {
            Action::Copy { path, .. }
            | Action::SetModified { path }
            | Action::Delete { path, .. }
            | Action::DeleteSource { path }
            | Action::Skip { path, .. }
            | Action::Moved { path, .. }
            | Action::Unchanged { path } => path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objs(paths: &[&str]) -> Vec<Item> {
        paths
            .iter()
            .map(|p| Item::Object {
                entry: Entry::file(Path::parse(*p).unwrap(), 1),
                excluded: false,
            })
            .collect()
    }

    fn summary(src: &[&str], dst: &[&str]) -> Vec<String> {
        Merge::new(objs(src).into_iter(), objs(dst).into_iter())
            .map(|p| match p {
                Pair::Objects { src, dst, .. } => match (src, dst) {
                    (Some(s), Some(_)) => format!("= {}", s.path),
                    (Some(s), None) => format!("+ {}", s.path),
                    (None, Some(d)) => format!("- {}", d.path),
                    (None, None) => "?".into(),
                },
                Pair::Failed(..) => "!".into(),
            })
            .collect()
    }

    #[test]
    fn merge_pairs_equal_paths_and_keeps_order() {
        assert_eq!(
            summary(&["a", "a.b", "a/b", "c"], &["a.b", "a/a", "a/b", "d"]),
            ["+ a", "= a.b", "- a/a", "= a/b", "+ c", "- d"]
        );
    }

    #[test]
    fn merge_of_empty_sides() {
        assert!(summary(&[], &[]).is_empty());
        assert_eq!(summary(&["x"], &[]), ["+ x"]);
        assert_eq!(summary(&[], &["x"]), ["- x"]);
    }

    #[test]
    fn failures_come_through_in_place() {
        let src = vec![
            Item::Failed(Error::from_kind(crate::ErrorKind::Io)),
            Item::Object {
                entry: Entry::file(Path::parse("a").unwrap(), 1),
                excluded: false,
            },
        ];
        let pairs: Vec<Pair> = Merge::new(src.into_iter(), Vec::new().into_iter()).collect();
        assert!(matches!(pairs[0], Pair::Failed(true, _)));
        assert!(matches!(pairs[1], Pair::Objects { .. }));
    }
}
