//! One object from source to destination, through [`copy_object`](crate::copy_object) (the
//! one copy route): server-side within one store, otherwise streamed through the bandwidth
//! limit and the progress counters into a [`Writer`](crate::Writer), which commits whole or
//! not at all.

use super::bwlimit::BwLimit;
use super::progress::Stats;
use crate::{
    Backend, Cancel, CopyOptions, Entry, HashKind, HashKinds, Location, Path, Result, Throttle,
    copy_object,
};

/// The two sides of a run, and how to move bytes between them.
pub(crate) struct Sides<'a> {
    pub(crate) src: &'a dyn Backend,
    pub(crate) src_root: &'a Path,
    pub(crate) dst: &'a dyn Backend,
    pub(crate) dst_root: &'a Path,
    /// The source's location, when both sides are on one store that copies server-side.
    pub(crate) same_store: Option<Location>,
    /// The source root is one object, the source of every pair (`copy_file`, `move_file`):
    /// the pair's path names the destination only.
    pub(crate) src_one: bool,
}

impl Sides<'_> {
    pub(crate) fn src_path(&self, rel: &Path) -> Path {
        if self.src_one {
            return self.src_root.clone();
        }
        self.src_root.join(rel)
    }

    pub(crate) fn dst_path(&self, rel: &Path) -> Path {
        self.dst_root.join(rel)
    }
}

/// How a transfer went.
pub(crate) struct Done {
    /// The new destination entry.
    pub(crate) entry: Entry,
    /// The source is gone already (renamed server-side).
    pub(crate) moved: bool,
    /// The MD5 of the bytes that passed through (streamed copies with `md5` on).
    pub(crate) md5: Option<crate::Hash>,
}

/// What a streamed copy needs besides the sides.
pub(crate) struct Streaming<'a> {
    pub(crate) bwlimit: Option<&'a BwLimit>,
    pub(crate) stats: &'a Stats,
    pub(crate) cancel: Option<&'a Cancel>,
    pub(crate) metadata: bool,
    /// Hash the bytes on their way (for the hash cache).
    pub(crate) md5: bool,
}

/// Copies (or, with `rename`, moves) the source object `src` (its path relative to the
/// roots) to the same relative path at the destination.
pub(crate) fn transfer(
    sides: &Sides<'_>,
    src: &Entry,
    rename: bool,
    how: &Streaming<'_>,
) -> Result<Done> {
    let from = sides.src_path(&src.path);
    let to = sides.dst_path(&src.path);
    let progress = how.stats.start(src.path.as_str(), src.size);
    let count = |n: u64| progress.add(n);
    let mut opts = CopyOptions::new()
        .server_side(sides.same_store.is_some())
        .rename(rename)
        .metadata(how.metadata)
        .progress(&count);
    if how.md5 {
        opts = opts.hashes(HashKinds::NONE.with(HashKind::Md5));
    }
    opts.throttle = how.bwlimit.map(|b| b as &dyn Throttle);
    opts.cancel = how.cancel;
    let result = copy_object(sides.src, &from, sides.dst, &to, Some(src), &opts);
    progress.finish(result.is_ok());
    let done = result?;
    Ok(Done {
        md5: done.hash(HashKind::Md5),
        moved: done.moved(),
        entry: done.entry,
    })
}
