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
/// was empty before). Deepest first, so a parent emptied by its children goes too. A
/// directory the filter excludes is left alone.
pub(crate) fn remove_extra(
    src: &dyn Backend,
    src_root: &Path,
    dst: &dyn Backend,
    dst_root: &Path,
    filter: Option<&super::filter::Filter>,
) {
    if !dst.capabilities().directories {
        return;
    }
    let src_dirs = src.capabilities().directories;
    let mut dirs = Vec::new();
    // Directories with an object somewhere below: never empty, never asked about.
    let mut occupied = std::collections::HashSet::new();
    let mut todo = vec![dst_root.clone()];
    while let Some(dir) = todo.pop() {
        let Ok(list) = dst.list(&dir, &ListOptions::new().recursive(false)) else {
            occupied.insert(dir); // unknown: leave it
            continue;
        };
        for entry in list.flatten() {
            if entry.is_dir && entry.path != dir {
                todo.push(entry.path.clone());
                dirs.push(entry.path);
            } else if !entry.is_dir {
                let mut up = entry.path.parent();
                while let Some(d) = up {
                    if !occupied.insert(d.clone()) {
                        break; // its parents are in already
                    }
                    up = d.parent();
                }
            }
        }
    }
    dirs.retain(|d| !occupied.contains(d));
    dirs.sort_by_key(|d| std::cmp::Reverse(d.depth()));
    for dir in dirs {
        let Some(rel) = dir.strip_prefix(dst_root) else {
            continue;
        };
        if filter.is_some_and(|f| !f.include_dir(rel.as_str())) {
            continue;
        }
        // On a store without directories, a directory "exists" where objects are below it,
        // and the destination's would then not be empty.
        let in_source = src_dirs && src.stat(&src_root.join(&rel)).is_ok_and(|e| e.is_dir);
        if !in_source {
            let _ = dst.remove_dir(&dir);
        }
    }
}
