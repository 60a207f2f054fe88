//! Conflicts: which version wins under a strategy, and the name a losing version is kept
//! under. Pure.

use super::options::Conflict;
use super::report::Side;
use super::state::Rec;

/// What a strategy makes of two different versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Win(Side),
    KeepBoth,
    Skip,
    Fail,
}

/// The outcome of `strategy` for path1's version `a` and path2's version `b`. The
/// comparisons fall back to keeping both when they cannot tell (rclone's rule).
pub(crate) fn decide(strategy: Conflict, a: &Rec, b: &Rec) -> Outcome {
    let by = |x: Option<i128>, y: Option<i128>, larger_wins: bool| match (x, y) {
        (Some(x), Some(y)) if x != y => {
            if (x > y) == larger_wins {
                Outcome::Win(Side::Path1)
            } else {
                Outcome::Win(Side::Path2)
            }
        }
        _ => Outcome::KeepBoth,
    };
    let size = |r: &Rec| Some(i128::from(r.size));
    match strategy {
        Conflict::Newer => by(a.modified, b.modified, true),
        Conflict::Older => by(a.modified, b.modified, false),
        Conflict::Larger => by(size(a), size(b), true),
        Conflict::Smaller => by(size(a), size(b), false),
        Conflict::Path1 => Outcome::Win(Side::Path1),
        Conflict::Path2 => Outcome::Win(Side::Path2),
        Conflict::KeepBoth => Outcome::KeepBoth,
        Conflict::Skip => Outcome::Skip,
        Conflict::Error => Outcome::Fail,
    }
}

/// `path.conflictN` for the first `N` from 1 that `taken` says is free.
pub(crate) fn conflict_name(path: &str, taken: impl Fn(&str) -> bool) -> String {
    (1u64..)
        .map(|n| format!("{path}.conflict{n}"))
        .find(|name| !taken(name))
        .unwrap_or_else(|| format!("{path}.conflict"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(size: u64, t: i128) -> Rec {
        Rec {
            size,
            modified: Some(t),
            hash: None,
            tag: None,
        }
    }

    #[test]
    fn strategies_pick_as_named_and_fall_back_to_keep_both() {
        let (a, b) = (rec(1, 10), rec(2, 5));
        assert_eq!(decide(Conflict::Newer, &a, &b), Outcome::Win(Side::Path1));
        assert_eq!(decide(Conflict::Older, &a, &b), Outcome::Win(Side::Path2));
        assert_eq!(decide(Conflict::Larger, &a, &b), Outcome::Win(Side::Path2));
        assert_eq!(decide(Conflict::Smaller, &a, &b), Outcome::Win(Side::Path1));
        assert_eq!(decide(Conflict::Path2, &a, &b), Outcome::Win(Side::Path2));
        let (c, d) = (rec(1, 10), rec(1, 10));
        assert_eq!(decide(Conflict::Newer, &c, &d), Outcome::KeepBoth);
        assert_eq!(decide(Conflict::Larger, &c, &d), Outcome::KeepBoth);
        assert_eq!(decide(Conflict::Skip, &a, &b), Outcome::Skip);
        assert_eq!(decide(Conflict::Error, &a, &b), Outcome::Fail);
    }

    #[test]
    fn conflict_names_take_the_first_free_number() {
        let taken = ["a.txt.conflict1", "a.txt.conflict2"];
        assert_eq!(
            conflict_name("a.txt", |n| taken.contains(&n)),
            "a.txt.conflict3"
        );
        assert_eq!(conflict_name("b", |_| false), "b.conflict1");
    }
}
