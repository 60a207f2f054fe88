//! What the listing commands (and `cat` of a directory) walk: the entries under a named
//! path, to a depth, with the filter applied; or the one object the path names.
//!
//! One route for every listing command, as rclone's: where the backend has directories
//! ([`Capabilities::directories`](omnistorage::Capabilities)), one-level listings, directory
//! by directory, so that empty directories are seen and each directory comes with its own
//! entry (and time); elsewhere one recursive listing, with each object's directories put in
//! before it. Either way entries come in full-path order, a directory before what is in it.

use omnistorage::sync::filter::Filter;
use omnistorage::{
    Backend, BackendExt, Cancel, Entry, Error, ErrorKind, Fields, ListOptions, Path,
};

use crate::args::Args;
use crate::{flags, remote};

/// How deep a walk goes: `None` is all the way; `Some(1)` the named directory's own entries.
pub type Depth = Option<usize>;

/// The depth the flags ask for, as rclone's `ConfigMaxDepth`: `--max-depth N` (0 or less is
/// all the way; `--level` is `tree`'s name for it), else all the way for a recursive listing
/// and one level for the others.
pub fn depth(args: &Args, recursive: bool) -> Result<Depth, Error> {
    for flag in ["max-depth", "level"] {
        if let Some(given) = crate::flags::depth(args, flag)? {
            return Ok(given);
        }
    }
    Ok(if recursive { None } else { Some(1) })
}

/// What a walk found.
pub struct Walked {
    /// The backend the entries are on.
    pub backend: Box<dyn Backend>,
    /// Where the entries' paths start: an entry is at `base.join(path)` on the backend.
    pub base: Path,
    /// The entries, paths relative to `base`, in full-path order.
    pub entries: Vec<Entry>,
    /// The path named a directory (or, on a store without directories, a prefix with
    /// objects under it); otherwise it named one object (the one entry, by its file name).
    pub directory: bool,
}

impl Walked {
    /// Where `entry` is on the backend.
    pub fn full(&self, entry: &Entry) -> Path {
        self.base.join(&entry.path)
    }

    /// Fills in the modification time of each object whose listing left it out (S3 lists
    /// none): one `stat` each, as rclone reads each object's time for `lsl`. An object that
    /// cannot be asked keeps no time.
    pub fn with_times(mut self, cancel: &Cancel) -> Result<Walked, Error> {
        if !self.backend.capabilities().stat {
            return Ok(self);
        }
        for i in 0..self.entries.len() {
            let e = &self.entries[i];
            if e.is_dir || e.filled.contains(Fields::MODIFIED) {
                continue;
            }
            cancel.check()?;
            if let Ok(full) = self.backend.stat(&self.full(e)) {
                self.entries[i].modified = full.modified;
            }
        }
        Ok(self)
    }
}

/// Walks what `spec` names, to `depth`, with the flags' filter: a directory (or prefix), or
/// one object, which is then the only entry, as rclone lists a file given as the path.
pub fn walk(spec: &str, depth: Depth, args: &Args, cancel: &Cancel) -> Result<Walked, Error> {
    let filter = flags::filter(args)?;
    // A file as the root: the file backend refuses to open on it, the others say so when
    // asked.
    let target = remote::tree(spec).and_then(|t| {
        crate::commands::objects::require_dir(t.backend.as_ref(), &t.path).map(|()| t)
    });
    let target = match target {
        Ok(t) => t,
        Err(e) if e.kind() == ErrorKind::NotADirectory => return one(spec, filter.as_ref()),
        Err(e) => return Err(e),
    };
    let b = target.backend.as_ref();
    let mut entries = Vec::new();
    let directories = b.capabilities().directories;
    if directories {
        by_directory(
            b,
            &target.path,
            &target.path,
            1,
            depth,
            &filter,
            cancel,
            &mut entries,
        )?;
    } else {
        recursive(b, &target.path, depth, &filter, cancel, &mut entries)?;
        if entries.is_empty() {
            // A store without directories: the path may name an object.
            if let Ok(w) = one(spec, filter.as_ref()) {
                return Ok(w);
            }
        }
    }
    Ok(Walked {
        backend: target.backend,
        base: target.path,
        directory: directories || !entries.is_empty(),
        entries,
    })
}

/// The one object `spec` names, if the filter takes it.
fn one(spec: &str, filter: Option<&Filter>) -> Result<Walked, Error> {
    let o = remote::object_with(spec, false)?;
    let mut entry = o.backend.info(&o.path)?;
    if entry.is_dir {
        return Err(Error::new(ErrorKind::NotFound, "directory not found").with_path(spec));
    }
    entry.path = o.path.clone();
    let taken =
        filter.is_none_or(|f| f.include_file(entry.path.as_str(), entry.size, entry.modified));
    Ok(Walked {
        backend: o.backend,
        base: Path::root(),
        entries: if taken { vec![entry] } else { Vec::new() },
        directory: false,
    })
}

/// `path` relative to `root` (entries outside it are not the walk's).
fn relative(root: &Path, path: &Path) -> Option<Path> {
    path.strip_prefix(root).filter(|p| !p.is_root())
}

/// One directory's entries at `level` (1: the root's own), then, for each directory among
/// them that the filter lets in and `depth` allows, its own, right after its entry.
#[allow(clippy::too_many_arguments)]
fn by_directory(
    b: &dyn Backend,
    root: &Path,
    dir: &Path,
    level: usize,
    depth: Depth,
    filter: &Option<Filter>,
    cancel: &Cancel,
    out: &mut Vec<Entry>,
) -> Result<(), Error> {
    let mut opts = ListOptions::new().recursive(false);
    opts.cancel = Some(cancel.clone());
    for item in b.list(dir, &opts)? {
        let mut e = item?;
        let Some(rel) = relative(root, &e.path) else {
            continue;
        };
        let full = std::mem::replace(&mut e.path, rel);
        if e.is_dir {
            if filter
                .as_ref()
                .is_some_and(|f| !f.include_dir(e.path.as_str()))
            {
                continue;
            }
            out.push(e);
            if depth.is_none_or(|d| level < d) {
                by_directory(b, root, &full, level + 1, depth, filter, cancel, out)?;
            }
        } else if filter
            .as_ref()
            .is_none_or(|f| f.include_file(e.path.as_str(), e.size, e.modified))
        {
            out.push(e);
        }
    }
    Ok(())
}

/// One recursive listing (objects only), each object's directories put in before it; objects
/// deeper than `depth` are left out, and so are their directories below it.
fn recursive(
    b: &dyn Backend,
    root: &Path,
    depth: Depth,
    filter: &Option<Filter>,
    cancel: &Cancel,
    out: &mut Vec<Entry>,
) -> Result<(), Error> {
    let mut opts = ListOptions::new();
    opts.cancel = Some(cancel.clone());
    let mut seen = std::collections::HashSet::new();
    for item in b.list(root, &opts)? {
        let mut e = item?;
        let Some(rel) = relative(root, &e.path) else {
            continue;
        };
        e.path = rel;
        let mut dirs: Vec<Path> = Vec::new();
        let mut up = e.path.parent().filter(|p| !p.is_root());
        while let Some(d) = up {
            up = d.parent().filter(|p| !p.is_root());
            dirs.push(d);
        }
        dirs.reverse(); // outermost first
        if let Some(f) = filter
            && dirs.iter().any(|d| !f.include_dir(d.as_str()))
        {
            continue;
        }
        for d in dirs {
            if depth.is_some_and(|max| d.depth() > max) {
                break;
            }
            if seen.insert(d.as_str().to_owned()) {
                out.push(Entry::dir(d));
            }
        }
        if depth.is_some_and(|max| e.path.depth() > max)
            || filter
                .as_ref()
                .is_some_and(|f| !f.include_file(e.path.as_str(), e.size, e.modified))
        {
            continue;
        }
        out.push(e);
    }
    Ok(())
}
