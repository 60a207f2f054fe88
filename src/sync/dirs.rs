//! Removing the directories a move left empty (`delete_empty_src_dirs`).

use crate::{Backend, Path};

/// Removes every empty directory under `root` (not `root` itself), deepest first
/// ([`remove_empty_dirs`](crate::remove_empty_dirs)). This is tidying: a failure leaves the
/// directories as they are, and nothing is lost by that.
pub(crate) fn remove_empty(backend: &dyn Backend, root: &Path) {
    let _ = crate::remove_empty_dirs(backend, root, true);
}

/// After a sync: removes the destination's directories that the source does not have and
/// that are empty (rclone does: a sync leaves no directory the source lacks, even one that
/// was empty before). `candidates` are the destination's directories (relative) that the
/// destination walk found nothing below, deepest first; directories emptied by this run's
/// deletes are tried too (with their parents). A directory that is not empty is left.
pub(crate) fn remove_extra(
    src: &dyn Backend,
    src_root: &Path,
    dst: &dyn Backend,
    dst_root: &Path,
    candidates: Vec<Path>,
    emptied: Vec<Path>,
) {
    if !dst.capabilities().directories {
        return;
    }
    let mut dirs = candidates;
    for path in emptied {
        let mut up = path.parent();
        while let Some(d) = up.filter(|d| !d.is_root()) {
            up = d.parent();
            dirs.push(d);
        }
    }
    dirs.sort_by(|a, b| {
        b.depth()
            .cmp(&a.depth())
            .then_with(|| a.as_str().cmp(b.as_str()))
    });
    dirs.dedup();
    let src_dirs = src.capabilities().directories;
    for rel in dirs {
        // On a store without directories, a directory "exists" where objects are below
        // it, and the destination's would then not be empty.
        let in_source = src_dirs && src.stat(&src_root.join(&rel)).is_ok_and(|e| e.is_dir);
        if !in_source {
            // Not empty, or gone: left as it is (a tidying step; nothing is lost).
            let _ = dst.remove_dir(&dst_root.join(&rel));
        }
    }
}
