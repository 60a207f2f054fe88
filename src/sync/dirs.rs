//! Removing the directories a move left empty (`delete_empty_src_dirs`).

use crate::{Backend, ListOptions, Path};

/// Removes every empty directory under `root` (not `root` itself), deepest first. A
/// directory that is not empty, or is gone, is left as it is; only backends with real
/// directories have any.
pub(crate) fn remove_empty(backend: &dyn Backend, root: &Path) {
    if !backend.capabilities().directories {
        return;
    }
    // Every directory, parents before children (depth first, non-recursive listings).
    let mut dirs = Vec::new();
    let mut todo = vec![root.clone()];
    while let Some(dir) = todo.pop() {
        let Ok(list) = backend.list(&dir, &ListOptions::new().recursive(false)) else {
            continue;
        };
        for entry in list.flatten() {
            if entry.is_dir && entry.path != dir {
                todo.push(entry.path.clone());
                dirs.push(entry.path);
            }
        }
    }
    // Deeper first: a parent can only be empty once its children are gone.
    dirs.sort_by_key(|d| std::cmp::Reverse(d.depth()));
    for dir in dirs {
        // Not empty (it kept objects a filter or a failure left), or gone: leave it. This
        // is tidying; nothing is lost by leaving a directory.
        let _ = backend.remove_dir(&dir);
    }
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
