//! Whether a source object and its destination are equal: rclone's rules, as a pure function.
//!
//! [`decide`] looks at two entries and what is known beyond them ([`Facts`]); when it cannot
//! decide yet it says what it needs ([`Need`]: a `stat` of one side, or a hash of both), the
//! engine finds that out on its checker threads and asks again. No I/O here.

use std::time::{Duration, SystemTime};

use super::options::Compare;
use crate::{Capabilities, Entry, Fields, Hash, HashKind};

/// The comparison settings of one run, from the options and both sides' capabilities.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rules {
    pub(crate) compare: Compare,
    pub(crate) ignore_size: bool,
    pub(crate) ignore_existing: bool,
    pub(crate) update: bool,
    /// The modify window, or `None` when one side keeps no times (then equal sizes mean
    /// equal, as in rclone).
    pub(crate) window: Option<Duration>,
    /// What the source stores: a listed entry that lacks the time needs a `stat`.
    pub(crate) src_times: bool,
    pub(crate) dst_times: bool,
    /// The hash that decides when only times differ (one both sides give without reading
    /// far data), if any.
    pub(crate) time_hash: Option<HashKind>,
    /// The hash compared in [`Compare::Checksum`] mode (`None`: no hash at all, so size
    /// only, as rclone falls back).
    pub(crate) checksum: Option<HashKind>,
    /// The destination can change a stored time without rewriting the data.
    pub(crate) set_time: bool,
}

impl Rules {
    /// The rules for a run between backends with these capabilities (a
    /// [`local`](Capabilities::local) side is cheap to read and hash).
    pub(crate) fn new(
        compare: Compare,
        window: Option<Duration>,
        prefer: Option<HashKind>,
        src: &Capabilities,
        dst: &Capabilities,
    ) -> Rules {
        let window = match (src.modified_time, dst.modified_time) {
            (Some(a), Some(b)) => Some(a.max(b).max(window.unwrap_or(Duration::from_nanos(1)))),
            _ => None,
        };
        Rules {
            compare,
            ignore_size: false,
            ignore_existing: false,
            update: false,
            window,
            src_times: src.modified_time.is_some(),
            dst_times: dst.modified_time.is_some(),
            time_hash: pick_hash(prefer, src, dst, false),
            checksum: pick_hash(prefer, src, dst, true),
            set_time: dst.set_modified,
        }
    }
}

/// The kinds a side gives without reading the data here: stored, or computed where it is.
fn given(caps: &Capabilities) -> crate::HashKinds {
    caps.hashes.union(caps.server_hashes)
}

/// The hash to compare by. Preferred: one both sides give without reading (stored or
/// computed by the server); then one that one side gives and the other can compute cheaply
/// ([`local`](Capabilities::local));
/// with `any`, finally MD5 computed by reading (checksum mode: the user asked for hashes).
fn pick_hash(
    prefer: Option<HashKind>,
    src: &Capabilities,
    dst: &Capabilities,
    any: bool,
) -> Option<HashKind> {
    let (s, d) = (given(src), given(dst));
    let ok = |k: HashKind| {
        let side = |has: bool, cheap: bool| has || cheap || any;
        crate::Hasher::available().contains(k)
            && side(s.contains(k), src.local)
            && side(d.contains(k), dst.local)
    };
    if let Some(k) = prefer {
        return ok(k).then_some(k);
    }
    let both = s.intersection(d);
    if let Some(k) = both.iter().next() {
        return Some(k);
    }
    let one = s.union(d);
    if let Some(k) = one.iter().find(|&k| ok(k)) {
        return Some(k);
    }
    [
        HashKind::Md5,
        HashKind::Sha1,
        HashKind::Sha256,
        HashKind::Crc32c,
    ]
    .into_iter()
    .find(|&k| ok(k))
}

/// What is known beyond the two entries.
#[derive(Clone, Debug, Default)]
pub(crate) struct Facts {
    pub(crate) src_hash: Option<Hash>,
    pub(crate) dst_hash: Option<Hash>,
}

/// Something [`decide`] needs to know first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Need {
    /// The source's stored time (a listing did not carry it).
    SrcStat,
    /// The destination's stored time.
    DstStat,
    /// This hash of both sides.
    Hashes(HashKind),
}

/// Why an object is copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// Nothing is at the destination.
    New,
    /// The sizes differ.
    Size,
    /// The times differ and nothing shows the data is equal.
    Time,
    /// The hashes differ.
    Hash,
    /// Every object is copied ([`Compare::Always`]).
    Always,
}

/// Why an object is left alone though it is not known equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SkipReason {
    /// It exists at the destination (`ignore_existing`).
    Exists,
    /// The destination is newer (`update`).
    Newer,
}

/// The verdict on one pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Equal: nothing to do.
    Equal,
    /// Copy the source over the destination.
    Copy(Reason),
    /// The data is equal, the time is not: set the destination's time.
    SetTime,
    /// Leave it.
    Skip(SkipReason),
    /// Find this out and ask again.
    Need(Need),
}

fn diff(a: SystemTime, b: SystemTime) -> Duration {
    a.duration_since(b)
        .or_else(|_| b.duration_since(a))
        .unwrap_or(Duration::ZERO)
}

/// rclone's equality, in rclone's order (see ../shared/RCLONE-NOTES.md, "Equality").
pub(crate) fn decide(rules: &Rules, src: &Entry, dst: Option<&Entry>, facts: &Facts) -> Verdict {
    let Some(dst) = dst else {
        return Verdict::Copy(Reason::New);
    };
    if rules.ignore_existing {
        return Verdict::Skip(SkipReason::Exists);
    }
    if rules.compare == Compare::Always {
        return Verdict::Copy(Reason::Always);
    }
    let known = |e: &Entry, stored: bool| !stored || e.filled.contains(Fields::MODIFIED);
    if rules.update && rules.window.is_some() {
        // `--update`: a newer destination is skipped, whatever else differs.
        if !known(src, rules.src_times) {
            return Verdict::Need(Need::SrcStat);
        }
        if !known(dst, rules.dst_times) {
            return Verdict::Need(Need::DstStat);
        }
        if let (Some(s), Some(d), Some(w)) = (src.modified, dst.modified, rules.window)
            && d > s
            && diff(s, d) >= w
        {
            return Verdict::Skip(SkipReason::Newer);
        }
    }
    if !rules.ignore_size && src.size != dst.size {
        return Verdict::Copy(Reason::Size);
    }
    match rules.compare {
        Compare::SizeOnly | Compare::Always => return Verdict::Equal,
        Compare::Checksum => {
            let Some(kind) = rules.checksum else {
                return Verdict::Equal; // no hash at all: size only, as rclone
            };
            return match hashes(src, dst, facts, kind) {
                None => Verdict::Need(Need::Hashes(kind)),
                Some((a, b)) if a == b => Verdict::Equal,
                Some(_) => Verdict::Copy(Reason::Hash),
            };
        }
        Compare::SizeAndTime => {}
    }
    let Some(window) = rules.window else {
        return Verdict::Equal; // a side keeps no times: equal sizes mean equal
    };
    if !known(src, rules.src_times) {
        return Verdict::Need(Need::SrcStat);
    }
    if !known(dst, rules.dst_times) {
        return Verdict::Need(Need::DstStat);
    }
    let (Some(s), Some(d)) = (src.modified, dst.modified) else {
        return Verdict::Equal; // an object without a time: sizes decide, as rclone
    };
    if diff(s, d) < window {
        return Verdict::Equal;
    }
    // Only the time differs: a hash that says the data is equal saves the copy.
    let Some(kind) = rules.time_hash else {
        return Verdict::Copy(Reason::Time);
    };
    match hashes(src, dst, facts, kind) {
        None => Verdict::Need(Need::Hashes(kind)),
        Some((a, b)) if a == b && rules.set_time => Verdict::SetTime,
        Some((a, b)) if a == b => Verdict::Copy(Reason::Time),
        Some(_) => Verdict::Copy(Reason::Hash),
    }
}

/// Both sides' hash of `kind`, from the facts or the entries.
fn hashes(src: &Entry, dst: &Entry, facts: &Facts, kind: HashKind) -> Option<(Hash, Hash)> {
    let pick = |fact: &Option<Hash>, e: &Entry| {
        (*fact)
            .filter(|h| h.kind() == kind)
            .or_else(|| e.hash(kind))
    };
    Some((pick(&facts.src_hash, src)?, pick(&facts.dst_hash, dst)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HashKinds, Path};

    fn at(secs: u64, nanos: u32) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::new(secs, nanos)
    }

    fn entry(size: u64, t: Option<SystemTime>) -> Entry {
        Entry::file(Path::parse("a").unwrap(), size).with_modified(t)
    }

    fn caps(precision: Option<Duration>, hashes: HashKinds) -> Capabilities {
        Capabilities {
            modified_time: precision,
            hashes,
            set_modified: true,
            ..Capabilities::default()
        }
    }

    fn rules(compare: Compare, a: Option<Duration>, b: Option<Duration>) -> Rules {
        let h = HashKinds::NONE.with(HashKind::Md5);
        Rules::new(compare, None, None, &caps(a, h), &caps(b, h))
    }

    const NS: Option<Duration> = Some(Duration::from_nanos(1));
    const SEC: Option<Duration> = Some(Duration::from_secs(1));

    fn md5(byte: u8) -> Hash {
        Hash::new(HashKind::Md5, &[byte; 16]).unwrap()
    }

    /// One named test per case: rules, source, destination, facts → verdict.
    macro_rules! cases {
        ($($name:ident: $rules:expr, $src:expr, $dst:expr, $facts:expr => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                let dst: Option<Entry> = $dst;
                assert_eq!(decide(&$rules, &$src, dst.as_ref(), &$facts), $want);
            }
        )*};
    }

    fn none() -> Facts {
        Facts::default()
    }

    fn with_hashes(a: u8, b: u8) -> Facts {
        Facts {
            src_hash: Some(md5(a)),
            dst_hash: Some(md5(b)),
        }
    }

    fn skip_existing() -> Rules {
        let mut r = rules(Compare::SizeAndTime, NS, NS);
        r.ignore_existing = true;
        r
    }

    fn update() -> Rules {
        let mut r = rules(Compare::SizeAndTime, NS, NS);
        r.update = true;
        r
    }

    fn no_set_time() -> Rules {
        let mut r = rules(Compare::SizeAndTime, NS, NS);
        r.set_time = false;
        r
    }

    fn ignoring_size() -> Rules {
        let mut r = rules(Compare::SizeOnly, NS, NS);
        r.ignore_size = true;
        r
    }

    cases! {
        missing_destination_is_new:
            rules(Compare::SizeAndTime, NS, NS), entry(1, Some(at(5, 0))), None, none()
            => Verdict::Copy(Reason::New);
        sizes_differ:
            rules(Compare::SizeAndTime, NS, NS), entry(1, Some(at(5, 0))), Some(entry(2, Some(at(5, 0)))), none()
            => Verdict::Copy(Reason::Size);
        same_size_and_time_is_equal:
            rules(Compare::SizeAndTime, NS, NS), entry(1, Some(at(5, 7))), Some(entry(1, Some(at(5, 7)))), none()
            => Verdict::Equal;
        one_nanosecond_apart_differs_between_exact_stores:
            rules(Compare::SizeAndTime, NS, NS), entry(1, Some(at(5, 7))), Some(entry(1, Some(at(5, 8)))), none()
            => Verdict::Need(Need::Hashes(HashKind::Md5));
        sftp_second_precision_is_the_window:
            rules(Compare::SizeAndTime, NS, SEC), entry(1, Some(at(5, 900_000_000))), Some(entry(1, Some(at(5, 0)))), none()
            => Verdict::Equal;
        a_whole_second_apart_differs_with_sftp:
            rules(Compare::SizeAndTime, NS, SEC), entry(1, Some(at(6, 0))), Some(entry(1, Some(at(5, 0)))), none()
            => Verdict::Need(Need::Hashes(HashKind::Md5));
        equal_hashes_set_the_time:
            rules(Compare::SizeAndTime, NS, NS), entry(1, Some(at(6, 0))), Some(entry(1, Some(at(5, 0)))), with_hashes(1, 1)
            => Verdict::SetTime;
        equal_hashes_copy_when_time_cannot_be_set:
            no_set_time(), entry(1, Some(at(6, 0))), Some(entry(1, Some(at(5, 0)))), with_hashes(1, 1)
            => Verdict::Copy(Reason::Time);
        different_hashes_copy:
            rules(Compare::SizeAndTime, NS, NS), entry(1, Some(at(6, 0))), Some(entry(1, Some(at(5, 0)))), with_hashes(1, 2)
            => Verdict::Copy(Reason::Hash);
        no_times_on_one_side_means_size_decides:
            rules(Compare::SizeAndTime, NS, None), entry(1, Some(at(6, 0))), Some(entry(1, None)), none()
            => Verdict::Equal;
        unlisted_source_time_needs_a_stat:
            rules(Compare::SizeAndTime, NS, NS), Entry::file(Path::parse("a").unwrap(), 1), Some(entry(1, Some(at(5, 0)))), none()
            => Verdict::Need(Need::SrcStat);
        unlisted_destination_time_needs_a_stat:
            rules(Compare::SizeAndTime, NS, NS), entry(1, Some(at(5, 0))), Some(Entry::file(Path::parse("a").unwrap(), 1)), none()
            => Verdict::Need(Need::DstStat);
        size_only_ignores_times:
            rules(Compare::SizeOnly, NS, NS), entry(1, Some(at(6, 0))), Some(entry(1, Some(at(5, 0)))), none()
            => Verdict::Equal;
        ignore_size_with_size_only_is_always_equal:
            ignoring_size(), entry(1, None), Some(entry(9, None)), none()
            => Verdict::Equal;
        checksum_needs_hashes:
            rules(Compare::Checksum, NS, NS), entry(1, Some(at(6, 0))), Some(entry(1, Some(at(6, 0)))), none()
            => Verdict::Need(Need::Hashes(HashKind::Md5));
        checksum_equal_ignores_times:
            rules(Compare::Checksum, NS, NS), entry(1, Some(at(6, 0))), Some(entry(1, Some(at(1, 0)))), with_hashes(3, 3)
            => Verdict::Equal;
        checksum_differs:
            rules(Compare::Checksum, NS, NS), entry(1, None), Some(entry(1, None)), with_hashes(3, 4)
            => Verdict::Copy(Reason::Hash);
        checksum_still_compares_sizes_first:
            rules(Compare::Checksum, NS, NS), entry(1, None), Some(entry(2, None)), none()
            => Verdict::Copy(Reason::Size);
        always_copies:
            rules(Compare::Always, NS, NS), entry(1, Some(at(5, 0))), Some(entry(1, Some(at(5, 0)))), none()
            => Verdict::Copy(Reason::Always);
        ignore_existing_skips_even_different:
            skip_existing(), entry(1, None), Some(entry(2, None)), none()
            => Verdict::Skip(SkipReason::Exists);
        ignore_existing_still_copies_new:
            skip_existing(), entry(1, None), None, none()
            => Verdict::Copy(Reason::New);
        update_skips_newer_destination:
            update(), entry(1, Some(at(5, 0))), Some(entry(2, Some(at(9, 0)))), none()
            => Verdict::Skip(SkipReason::Newer);
        update_copies_older_destination:
            update(), entry(1, Some(at(9, 0))), Some(entry(2, Some(at(5, 0)))), none()
            => Verdict::Copy(Reason::Size);
    }

    #[test]
    fn window_is_the_coarser_precision_and_at_least_the_option() {
        let h = HashKinds::NONE;
        let r = Rules::new(
            Compare::SizeAndTime,
            Some(Duration::from_secs(2)),
            None,
            &caps(NS, h),
            &caps(SEC, h),
        );
        assert_eq!(r.window, Some(Duration::from_secs(2)));
        let r = Rules::new(
            Compare::SizeAndTime,
            None,
            None,
            &caps(NS, h),
            &caps(SEC, h),
        );
        assert_eq!(r.window, SEC);
    }

    #[test]
    fn time_hash_needs_both_sides_cheap_or_stored() {
        let none = HashKinds::NONE;
        let md5 = HashKinds::NONE.with(HashKind::Md5);
        // A local tree (cheap) against S3 (stores MD5): MD5.
        let local = Capabilities {
            local: true,
            ..caps(NS, none)
        };
        let r = Rules::new(Compare::SizeAndTime, None, None, &local, &caps(NS, md5));
        assert_eq!(r.time_hash, Some(HashKind::Md5));
        // Two remote stores without hashes: no hash for times, but checksum reads both.
        let r = Rules::new(
            Compare::SizeAndTime,
            None,
            None,
            &caps(NS, none),
            &caps(NS, none),
        );
        assert_eq!(r.time_hash, None);
        assert_eq!(r.checksum, Some(HashKind::Md5));
    }
}
