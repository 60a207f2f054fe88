//! `tree`'s drawing, as rclone's (which is the `tree` command's): the root as `/`, each
//! directory's entries sorted by name under it with `├── `, `└── ` and `│   `, then a blank
//! line and `N directories, M files`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use omnistorage::Entry;

/// One directory's entries: name → (is a directory, its own entries).
#[derive(Default)]
struct Node {
    children: BTreeMap<String, (bool, Node)>,
}

impl Node {
    /// Adds `segments` (the last one a directory if `is_dir`), making the directories on the
    /// way.
    fn add(&mut self, segments: &[&str], is_dir: bool) {
        let Some((first, rest)) = segments.split_first() else {
            return;
        };
        let child = self
            .children
            .entry((*first).to_owned())
            .or_insert_with(|| (!rest.is_empty() || is_dir, Node::default()));
        if !rest.is_empty() {
            child.0 = true;
        }
        child.1.add(rest, is_dir);
    }

    fn draw(&self, out: &mut impl Write, indent: &str, counts: &mut (u64, u64)) -> io::Result<()> {
        let last = self.children.len().saturating_sub(1);
        for (i, (name, (is_dir, node))) in self.children.iter().enumerate() {
            let (branch, more) = if i == last {
                ("└── ", "    ")
            } else {
                ("├── ", "│   ")
            };
            writeln!(out, "{indent}{branch}{name}")?;
            if *is_dir {
                counts.0 += 1;
                node.draw(out, &format!("{indent}{more}"), counts)?;
            } else {
                counts.1 += 1;
            }
        }
        Ok(())
    }
}

/// Draws `entries` (paths relative to the root, directories included).
pub fn write(out: &mut impl Write, entries: &[Entry]) -> io::Result<()> {
    let mut root = Node::default();
    for e in entries {
        let segments: Vec<&str> = e.path.segments().collect();
        root.add(&segments, e.is_dir);
    }
    writeln!(out, "/")?;
    let mut counts = (0, 0);
    root.draw(out, "", &mut counts)?;
    writeln!(out, "\n{} directories, {} files", counts.0, counts.1)
}
