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
