//! What changed on each side since the last listings, and the steps that propagate it: pure
//! functions of the four listings (no I/O).

use std::collections::BTreeSet;
use std::time::Duration;

use super::report::Side;
use super::state::{Listing, Rec};

/// How one path changed on one side since its last listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// Not there before, not there now.
    Absent,
    /// There before and now, the same.
    Unchanged,
    /// Not there before.
    New,
    /// Size, modification time or hash differ.
    Changed,
    /// Size, time and hash as recorded, but the version tag moved: rewritten, perhaps with
    /// the same bytes (a tag also moves on a rename or a `chmod`); hashing tells.
    Retagged,
    /// There before, gone now.
    Deleted,
}

impl Change {
    fn changed(self) -> bool {
        matches!(
            self,
            Change::New | Change::Changed | Change::Retagged | Change::Deleted
        )
    }
}

/// Whether one side's path changed: size, then any hash both records have (with `checksum`,
/// equal hashes settle it), then the modification time (with `checksum` too where the
/// earlier record has no hash: a mode trusts only facts that were recorded), then the
/// version tags both records have ([`Change::Retagged`]).
pub(crate) fn change(prev: Option<&Rec>, cur: Option<&Rec>, checksum: bool) -> Change {
    let (p, c) = match (prev, cur) {
        (None, None) => return Change::Absent,
        (None, Some(_)) => return Change::New,
        (Some(_), None) => return Change::Deleted,
        (Some(p), Some(c)) => (p, c),
    };
    if p.size != c.size {
        return Change::Changed;
    }
    let hashes_equal = match common_hash(p, c) {
        Some(false) => return Change::Changed,
        Some(true) => true,
        None => false,
    };
    if checksum && hashes_equal {
        return Change::Unchanged;
    }
    if p.modified != c.modified {
        return Change::Changed;
    }
    match (&p.tag, &c.tag) {
        (Some(a), Some(b)) if a != b && !hashes_equal => Change::Retagged,
        _ => Change::Unchanged,
    }
}

/// Whether two records' hashes of one kind are equal; `None` when they have none in common.
pub(crate) fn common_hash(a: &Rec, b: &Rec) -> Option<bool> {
    match (&a.hash, &b.hash) {
        (Some(x), Some(y)) if x.kind() == y.kind() => Some(x == y),
        _ => None,
    }
}

/// Whether two versions (one on each side) hold the same content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Same {
    Yes,
    No,
    /// Equal sizes, and nothing cheap decides: hashing does.
    Unknown,
}

/// Compares two records: sizes, then a hash both have, then (unless `checksum`) the
/// modification times within `window`.
pub(crate) fn same(a: &Rec, b: &Rec, window: Duration, checksum: bool) -> Same {
    if a.size != b.size {
        return Same::No;
    }
    if let Some(equal) = common_hash(a, b) {
        return if equal { Same::Yes } else { Same::No };
    }
    if checksum {
        return Same::Unknown;
    }
    match (a.modified, b.modified) {
        (Some(x), Some(y)) => {
            let window = i128::try_from(window.as_nanos())
                .unwrap_or(i128::MAX)
                .max(1);
            if (x - y).abs() < window {
                Same::Yes
            } else {
                Same::Unknown
            }
        }
        _ => Same::Unknown,
    }
}

/// One step of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Copy the path from this side to the other.
    Copy { path: String, from: Side },
    /// Delete the path on this side.
    Delete { path: String, on: Side },
    /// Copy the path from this side to the other unless both hold the same bytes (hashed):
    /// the side's version tag moved while its size and time stayed.
    Refresh { path: String, from: Side },
    /// Both sides have the path, maybe different: the conflict code decides. `hash`: equal
    /// sizes and times do not settle it (a version tag moved), hashes do.
    Conflict { path: String, hash: bool },
}

/// The steps of a run, and what the listings say happened.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) steps: Vec<Step>,
    /// Paths with nothing to do.
    pub(crate) unchanged: u64,
    /// Paths changed on both sides to the same content.
    pub(crate) identical: u64,
    /// Paths deleted on each side since the last listings.
    pub(crate) deleted: [u64; 2],
}

fn union<'a>(maps: &[&'a Listing]) -> BTreeSet<&'a str> {
    maps.iter()
        .flat_map(|m| m.keys().map(String::as_str))
        .collect()
}

/// The steps of a normal run, from the last listings (`prev`) and the current ones (`cur`).
pub(crate) fn plan(
    prev: &[Listing; 2],
    cur: &[Listing; 2],
    window: Duration,
    checksum: bool,
) -> Plan {
    let mut plan = Plan::default();
    for path in union(&[&prev[0], &prev[1], &cur[0], &cur[1]]) {
        let (p1, p2) = (prev[0].get(path), prev[1].get(path));
        let (c1, c2) = (cur[0].get(path), cur[1].get(path));
        let ch = [change(p1, c1, checksum), change(p2, c2, checksum)];
        for (i, c) in ch.iter().enumerate() {
            if *c == Change::Deleted {
                plan.deleted[i] += 1;
            }
        }
        let owned = path.to_owned();
        match (ch[0].changed(), ch[1].changed(), c1, c2) {
            (_, _, None, None) => {} // deleted on both, or gone from both listings
            // Only one side has it: whichever changed, the object survives (a change
            // beats a delete), unless it is the other side's deletion to propagate.
            (true, false, None, Some(_)) => plan.steps.push(Step::Delete {
                path: owned,
                on: Side::Path2,
            }),
            (false, true, Some(_), None) => plan.steps.push(Step::Delete {
                path: owned,
                on: Side::Path1,
            }),
            (_, _, Some(_), None) => plan.steps.push(Step::Copy {
                path: owned,
                from: Side::Path1,
            }),
            (_, _, None, Some(_)) => plan.steps.push(Step::Copy {
                path: owned,
                from: Side::Path2,
            }),
            (ch1, ch2, Some(a), Some(b)) => {
                // A moved version tag means equal sizes and times prove nothing.
                let retagged = ch.contains(&Change::Retagged);
                let mut same = same(a, b, window, checksum);
                if retagged && same == Same::Yes && common_hash(a, b).is_none() {
                    same = Same::Unknown;
                }
                let copy = |from: Side, c: Change| match (c, same) {
                    (Change::Retagged, Same::Unknown) => Step::Refresh {
                        path: owned.clone(),
                        from,
                    },
                    _ => Step::Copy {
                        path: owned.clone(),
                        from,
                    },
                };
                match (ch1, ch2, same) {
                    // Changed on both sides to the same size and time: the same bytes only
                    // if a hash says so (a run interrupted after a copy, then an edit that
                    // kept size and time, looks just like this).
                    (_, _, Same::Yes) if ch1 && ch2 && common_hash(a, b).is_none() => {
                        plan.steps.push(Step::Conflict {
                            path: owned,
                            hash: true,
                        })
                    }
                    (_, _, Same::Yes) if ch1 && ch2 => plan.identical += 1,
                    (_, _, Same::Yes) => plan.unchanged += 1,
                    (true, false, _) => plan.steps.push(copy(Side::Path1, ch[0])),
                    (false, true, _) => plan.steps.push(copy(Side::Path2, ch[1])),
                    // Neither changed but the versions differ (a skipped conflict): report
                    // it again; when nothing cheap tells, trust the listings.
                    (false, false, Same::No) => plan.steps.push(Step::Conflict {
                        path: owned,
                        hash: false,
                    }),
                    (false, false, Same::Unknown) => plan.unchanged += 1,
                    (true, true, _) => plan.steps.push(Step::Conflict {
                        path: owned,
                        hash: retagged,
                    }),
                }
            }
        }
    }
    plan
}

/// The steps of a resync: what one side lacks is copied from the other; where both have
/// the path, a conflict (resolved for path1, path2's version kept) unless equal.
pub(crate) fn resync_plan(cur: &[Listing; 2], window: Duration, checksum: bool) -> Plan {
    let mut plan = Plan::default();
    for path in union(&[&cur[0], &cur[1]]) {
        let owned = path.to_owned();
        match (cur[0].get(path), cur[1].get(path)) {
            (Some(_), None) => plan.steps.push(Step::Copy {
                path: owned,
                from: Side::Path1,
            }),
            (None, Some(_)) => plan.steps.push(Step::Copy {
                path: owned,
                from: Side::Path2,
            }),
            (Some(a), Some(b)) if same(a, b, window, checksum) == Same::Yes => plan.unchanged += 1,
            (Some(_), Some(_)) => plan.steps.push(Step::Conflict {
                path: owned,
                hash: false,
            }),
            (None, None) => {}
        }
    }
    plan
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

    fn listing(items: &[(&str, u64, i128)]) -> Listing {
        items
            .iter()
            .map(|(p, s, t)| ((*p).to_owned(), rec(*s, *t)))
            .collect()
    }

    fn steps(prev: [Listing; 2], cur: [Listing; 2]) -> Vec<Step> {
        plan(&prev, &cur, Duration::from_nanos(1), false).steps
    }

    #[test]
    fn one_sided_changes_propagate() {
        let base = listing(&[("a", 1, 1), ("b", 1, 1)]);
        let mut c1 = listing(&[("a", 2, 2), ("n", 1, 1)]); // a changed, b deleted, n new
        c1.remove("b");
        let s = steps([base.clone(), base.clone()], [c1, base]);
        assert_eq!(
            s,
            vec![
                Step::Copy {
                    path: "a".into(),
                    from: Side::Path1
                },
                Step::Delete {
                    path: "b".into(),
                    on: Side::Path2
                },
                Step::Copy {
                    path: "n".into(),
                    from: Side::Path1
                },
            ]
        );
    }

    #[test]
    fn change_beats_delete_and_both_deleted_is_nothing() {
        let base = listing(&[("a", 1, 1), ("b", 1, 1)]);
        let c1 = listing(&[("a", 2, 2)]); // b deleted on 1
        let c2 = listing(&[("b", 3, 3)]); // a deleted on 2, b changed on 2
        let s = steps([base.clone(), base], [c1, c2]);
        assert_eq!(
            s,
            vec![
                Step::Copy {
                    path: "a".into(),
                    from: Side::Path1
                },
                Step::Copy {
                    path: "b".into(),
                    from: Side::Path2
                },
            ]
        );
        let base = listing(&[("a", 1, 1)]);
        assert!(steps([base.clone(), base], [Listing::new(), Listing::new()]).is_empty());
    }

    #[test]
    fn changed_on_both_is_a_conflict_unless_identical() {
        let base = listing(&[("a", 1, 1), ("b", 1, 1), ("h", 1, 1)]);
        let mut c1 = listing(&[("a", 2, 5), ("b", 2, 7), ("h", 2, 9)]);
        let mut c2 = listing(&[("a", 2, 5), ("b", 2, 8), ("h", 2, 9)]);
        let md5 =
            crate::Hash::from_hex(crate::HashKind::Md5, "900150983cd24fb0d6963f7d28e17f72").ok();
        for c in [&mut c1, &mut c2] {
            c.get_mut("h").expect("h").hash = md5;
        }
        let p = plan(
            &[base.clone(), base],
            &[c1, c2],
            Duration::from_nanos(1),
            false,
        );
        // Equal hashes settle it; equal sizes and times alone are hashed first.
        assert_eq!(p.identical, 1);
        assert_eq!(
            p.steps,
            vec![
                Step::Conflict {
                    path: "a".into(),
                    hash: true
                },
                Step::Conflict {
                    path: "b".into(),
                    hash: false
                }
            ]
        );
    }

    #[test]
    fn a_moved_version_tag_is_a_change_that_hashing_confirms() {
        let tagged = |t: &str| Rec {
            tag: Some(t.to_owned()),
            ..rec(1, 1)
        };
        let (old, new) = (tagged("i1.c1"), tagged("i2.c2"));
        assert_eq!(change(Some(&old), Some(&new), false), Change::Retagged);
        assert_eq!(change(Some(&old), Some(&old), false), Change::Unchanged);
        assert_eq!(
            change(Some(&rec(1, 1)), Some(&new), false),
            Change::Unchanged
        );
        let base: Listing = [("a".to_owned(), old.clone())].into();
        let moved: Listing = [("a".to_owned(), new)].into();
        // One side: copied only if the bytes differ; a delete on the other loses to it.
        let p = plan(
            &[base.clone(), base.clone()],
            &[moved.clone(), base.clone()],
            Duration::from_nanos(1),
            false,
        );
        assert_eq!(
            p.steps,
            vec![Step::Refresh {
                path: "a".into(),
                from: Side::Path1
            }]
        );
        let p = plan(
            &[base.clone(), base],
            &[moved, Listing::new()],
            Duration::from_nanos(1),
            false,
        );
        assert_eq!(
            p.steps,
            vec![Step::Copy {
                path: "a".into(),
                from: Side::Path1
            }]
        );
    }

    #[test]
    fn deletions_are_counted_per_side() {
        let base = listing(&[("a", 1, 1), ("b", 1, 1), ("c", 1, 1)]);
        let p = plan(
            &[base.clone(), base.clone()],
            &[listing(&[("c", 1, 1)]), base],
            Duration::from_nanos(1),
            false,
        );
        assert_eq!(p.deleted, [2, 0]);
    }

    #[test]
    fn resync_copies_what_is_missing_and_flags_differences() {
        let c1 = listing(&[("a", 1, 1), ("same", 1, 1), ("diff", 1, 1)]);
        let c2 = listing(&[("b", 1, 1), ("same", 1, 1), ("diff", 2, 1)]);
        let p = resync_plan(&[c1, c2], Duration::from_nanos(1), false);
        assert_eq!(p.unchanged, 1);
        assert_eq!(
            p.steps,
            vec![
                Step::Copy {
                    path: "a".into(),
                    from: Side::Path1
                },
                Step::Copy {
                    path: "b".into(),
                    from: Side::Path2
                },
                Step::Conflict {
                    path: "diff".into(),
                    hash: false
                },
            ]
        );
    }
}
