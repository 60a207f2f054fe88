//! The sorted, lazy, depth-first walk behind a tree backend's `list` and `pending_uploads`.
//!
//! It reads one directory at a time and sorts its names with a directory's name compared as
//! `name + "/"`, so that full paths come out in ascending byte order (the listing order of
//! every backend). Memory grows with the widest directory times the depth, never with the
//! tree. Only regular files are objects: symlinks and special files are skipped, directories
//! are descended into (or, one level only, yielded as [`Entry::dir`]).

use std::collections::VecDeque;
use std::time::SystemTime;

use super::names::{StagedName, is_reserved};
use super::{Child, Kind, Tree};
use crate::backend::PendingUpload;
use crate::cancel::Cancel;
use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};
use crate::listing::after_start;
use crate::path::Path;

/// What a walk yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Select {
    /// Objects, and with `recursive == false` the directories of the first level.
    Objects { recursive: bool },
    /// Staged files (objects are skipped), at every depth or in the top directory only.
    Staged { recursive: bool },
}

/// Where a child's subtree lies relative to the start point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Span {
    /// Everything in it sorts at or before the start: skip it unread.
    Before,
    /// The start is inside this directory: descend, and keep comparing.
    Inside,
    /// Everything in it sorts after the start.
    After,
}

/// Where the subtree of `path` (a directory if `is_dir`) lies relative to `start`.
fn span(path: &str, is_dir: bool, start: &str) -> Span {
    if !is_dir {
        return match path.as_bytes() > start.as_bytes() {
            true => Span::After,
            false => Span::Before,
        };
    }
    // Everything in a directory starts with "path/".
    let inside =
        start.len() > path.len() && start.as_bytes()[path.len()] == b'/' && start.starts_with(path);
    if inside {
        return Span::Inside;
    }
    let key = path.bytes().chain(std::iter::once(b'/'));
    match key.cmp(start.bytes()) {
        std::cmp::Ordering::Greater => Span::After,
        _ => Span::Before,
    }
}

struct Frame<T: Tree> {
    /// The directory's path relative to the backend's root.
    dir: Path,
    loc: T::Loc,
    /// Sorted by key, reversed: the next child is popped from the end.
    children: Vec<(String, Child<T::Attrs>)>,
    /// The start point still matters here (false once a child sorted after it).
    bounded: bool,
}

/// What one step of the walk found.
enum Found<T: Tree> {
    Object(Entry),
    Dir(Entry),
    Staged {
        dir: Path,
        loc: T::Loc,
        child: Child<T::Attrs>,
    },
}

/// The walk. Build it with [`Walk::new`], then iterate it as a listing ([`Walk::objects`])
/// or as pending uploads ([`Walk::staged`]).
pub(crate) struct Walk<T: Tree> {
    tree: T,
    select: Select,
    /// The start point: only what sorts strictly after it.
    start: Option<Path>,
    cancel: Option<Cancel>,
    op: &'static str,
    /// The prefix itself, when it is an object.
    single: Option<Entry>,
    /// The prefix directory, until it is read.
    pending: Option<(Path, T::Loc)>,
    stack: Vec<Frame<T>>,
    /// Problems found on the way, yielded before what follows them.
    errors: VecDeque<Error>,
    done: bool,
}

/// What the walk starts from.
pub(crate) enum Start<T: Tree> {
    /// Nothing is there: an empty walk.
    Nothing,
    /// The prefix is an object.
    Object(Entry),
    /// The prefix is a directory.
    Dir(T::Loc),
}

impl<T: Tree> Walk<T> {
    /// A walk of `prefix` (found as `start`), yielding `select`, after `start_after`.
    pub(crate) fn new(
        tree: T,
        prefix: &Path,
        start: Start<T>,
        select: Select,
        start_after: Option<Path>,
        cancel: Option<Cancel>,
    ) -> Walk<T> {
        let op = match select {
            Select::Objects { .. } => "list",
            Select::Staged { .. } => "pending_uploads",
        };
        let mut walk = Walk {
            tree,
            select,
            start: start_after,
            cancel,
            op,
            single: None,
            pending: None,
            stack: Vec::new(),
            errors: VecDeque::new(),
            done: false,
        };
        match start {
            Start::Nothing => {}
            Start::Object(entry) => {
                if matches!(select, Select::Objects { .. })
                    && after_start(&entry.path, false, walk.start.as_ref())
                {
                    walk.single = Some(entry);
                }
            }
            Start::Dir(loc) => {
                let skip = !prefix.is_root()
                    && walk
                        .start
                        .as_ref()
                        .is_some_and(|s| span(prefix.as_str(), true, s.as_str()) == Span::Before);
                if !skip {
                    walk.pending = Some((prefix.clone(), loc));
                }
            }
        }
        walk
    }

    /// The walk as a listing of objects (and directories, one level only).
    pub(crate) fn objects(self) -> impl Iterator<Item = Result<Entry>> + Send + 'static {
        let mut walk = self;
        std::iter::from_fn(move || {
            loop {
                return match walk.step()? {
                    Ok(Found::Object(entry)) => Some(Ok(entry)),
                    Ok(Found::Dir(entry)) => Some(Ok(entry)),
                    Ok(Found::Staged { .. }) => continue,
                    Err(e) => Some(Err(e)),
                };
            }
        })
    }

    /// The walk as a listing of staged files.
    pub(crate) fn staged(self) -> impl Iterator<Item = Result<PendingUpload>> + Send + 'static {
        let mut walk = self;
        std::iter::from_fn(move || {
            loop {
                return match walk.step()? {
                    Ok(Found::Staged { dir, loc, child }) => {
                        Some(Ok(pending(&walk.tree, &dir, &loc, &child)))
                    }
                    Ok(_) => continue,
                    Err(e) => Some(Err(e)),
                };
            }
        })
    }

    fn stop(&mut self, e: Error) -> Option<Result<Found<T>>> {
        self.done = true;
        self.stack.clear();
        self.pending = None;
        self.single = None;
        self.errors.clear();
        Some(Err(e))
    }

    /// One step: the next thing found, an error, or `None` at the end.
    fn step(&mut self) -> Option<Result<Found<T>>> {
        if self.done {
            return None;
        }
        if let Err(e) = self.tree.check_open(self.op) {
            return self.stop(e);
        }
        if let Some(cancel) = &self.cancel
            && let Err(e) = cancel.check()
        {
            let e = e.with_operation(self.op);
            return self.stop(e);
        }
        if let Some(entry) = self.single.take() {
            return Some(Ok(Found::Object(entry)));
        }
        loop {
            if let Some(e) = self.errors.pop_front() {
                return Some(Err(e));
            }
            if let Some((dir, loc)) = self.pending.take() {
                let bounded = self.start.is_some();
                match self.open(dir, loc, bounded) {
                    Ok(frame) => self.stack.push(frame),
                    Err(e) if e.kind() == ErrorKind::Cancelled => return self.stop(e),
                    Err(e) => return Some(Err(e)),
                }
                continue;
            }
            let depth = self.stack.len();
            let frame = self.stack.last_mut()?;
            let Some((_, child)) = frame.children.pop() else {
                self.stack.pop();
                continue;
            };
            let path = match child_path(&frame.dir, &child.name) {
                Ok(p) => p,
                Err(e) => {
                    let e = e.context(self.op, frame.dir.as_str(), T::NAME);
                    return Some(Err(e));
                }
            };
            let is_dir = child.kind == Kind::Dir;
            if frame.bounded
                && let Some(start) = &self.start
            {
                match span(path.as_str(), is_dir, start.as_str()) {
                    Span::Before => continue,
                    Span::Inside => {}
                    Span::After => frame.bounded = false,
                }
            }
            let staged = is_reserved(&child.name);
            match (self.select, child.kind, staged) {
                (Select::Staged { recursive: false }, Kind::Dir, _) => continue,
                (_, Kind::Dir, _) => {
                    if self.select == (Select::Objects { recursive: false }) && depth == 1 {
                        if after_start(&path, true, self.start.as_ref()) {
                            let entry = self.tree.dir_entry(&frame.loc, &child, path);
                            return Some(Ok(Found::Dir(entry)));
                        }
                        continue;
                    }
                    let loc = self.tree.child(&frame.loc, &child.name);
                    let bounded = frame.bounded;
                    // Read the subdirectory now, with the bound this frame had.
                    match self.open(path, loc, bounded) {
                        Ok(sub) => self.stack.push(sub),
                        Err(e) if e.kind() == ErrorKind::Cancelled => return self.stop(e),
                        Err(e) => return Some(Err(e)),
                    }
                }
                (Select::Objects { .. }, Kind::File, false) => {
                    match self.tree.file_entry(&frame.loc, &child, &path) {
                        Ok(Some(entry)) => return Some(Ok(Found::Object(entry))),
                        Ok(None) => continue,
                        Err(e) => return Some(Err(e.context(self.op, path.as_str(), T::NAME))),
                    }
                }
                (Select::Staged { .. }, Kind::File, true) => {
                    return Some(Ok(Found::Staged {
                        dir: frame.dir.clone(),
                        loc: frame.loc.clone(),
                        child,
                    }));
                }
                // Symlinks, special files, and what this walk does not select.
                _ => continue,
            }
        }
    }

    /// Reads and sorts one directory (after looking at the cancellation token: a directory
    /// read is the slow step). Names that cannot be used become errors to yield.
    fn open(&mut self, dir: Path, loc: T::Loc, bounded: bool) -> Result<Frame<T>> {
        if let Some(cancel) = &self.cancel {
            cancel.check().map_err(|e| e.with_operation(self.op))?;
        }
        let items = self
            .tree
            .read_dir(&loc)
            .map_err(|e| e.context(self.op, dir.as_str(), T::NAME))?;
        let staged = matches!(self.select, Select::Staged { .. });
        let mut children = Vec::with_capacity(items.len());
        for item in items {
            let child = match item {
                Ok(child) => child,
                Err(e) => {
                    // The error names the entry by its name alone: make it a full path.
                    let path = match (e.path(), dir.is_root()) {
                        (Some(name), true) => name.to_owned(),
                        (Some(name), false) => format!("{dir}/{name}"),
                        (None, _) => dir.to_string(),
                    };
                    let e = e.with_path(path).context(self.op, "", T::NAME);
                    self.errors.push_back(e);
                    continue;
                }
            };
            let keep = match child.kind {
                Kind::Dir => !is_reserved(&child.name),
                Kind::File => is_reserved(&child.name) == staged,
                Kind::Symlink | Kind::Other => false,
            };
            if !keep {
                continue;
            }
            let key = match child.kind {
                Kind::Dir => format!("{}/", child.name),
                // A staged file sorts as the object it is for (its directory's own path, first,
                // when its name does not record one), so pending uploads come in path order.
                _ if staged => StagedName::parse(&child.name)
                    .and_then(|n| n.target)
                    .unwrap_or_default(),
                _ => child.name.clone(),
            };
            children.push((key, child));
        }
        // Reversed, so that the smallest key is popped first.
        children.sort_unstable_by(|a, b| b.0.as_bytes().cmp(a.0.as_bytes()));
        Ok(Frame {
            dir,
            loc,
            children,
            bounded,
        })
    }
}

/// `dir/name`, refusing a name that is not one valid segment (a hostile server's `a/b`).
fn child_path(dir: &Path, name: &str) -> Result<Path> {
    if name.contains('/') {
        return Err(Error::new(ErrorKind::InvalidPath, "a name holds a '/'"));
    }
    dir.join_str(name)
}

/// The pending upload a staged file stands for.
fn pending<T: Tree>(tree: &T, dir: &Path, loc: &T::Loc, child: &Child<T::Attrs>) -> PendingUpload {
    let parsed = StagedName::parse(&child.name);
    let started: Option<SystemTime> = parsed
        .as_ref()
        .and_then(|p| p.started)
        .or_else(|| tree.staged_time(loc, child));
    let path = parsed
        .and_then(|p| p.target)
        .and_then(|t| dir.join_str(&t).ok())
        .unwrap_or_else(|| dir.clone());
    let id = match dir.is_root() {
        true => child.name.clone(),
        false => format!("{dir}/{}", child.name),
    };
    PendingUpload::new(path, id, started)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::Arc;

    /// A tree in memory: what an SFTP backend or any other implements against a server.
    #[derive(Clone)]
    struct Fake(Arc<BTreeMap<String, Kind>>);

    impl Tree for Fake {
        type Loc = String;
        type Attrs = ();
        const NAME: &'static str = "fake";

        fn check_open(&self, _: &'static str) -> Result<()> {
            Ok(())
        }
        fn child(&self, dir: &String, name: &str) -> String {
            match dir.is_empty() {
                true => name.to_owned(),
                false => format!("{dir}/{name}"),
            }
        }
        fn read_dir(&self, dir: &String) -> Result<Vec<Result<Child<()>>>> {
            let children = self.0.iter().filter_map(|(path, kind)| {
                let name = match dir.is_empty() {
                    true => path.as_str(),
                    false => path.strip_prefix(dir.as_str())?.strip_prefix('/')?,
                };
                (!name.contains('/')).then(|| {
                    Ok(Child {
                        name: name.to_owned(),
                        kind: *kind,
                        attrs: (),
                    })
                })
            });
            Ok(children.collect())
        }
        fn lstat_kind(&self, at: &String) -> Result<Option<Kind>> {
            Ok(self.0.get(at).copied())
        }
        fn mkdir(&self, _: &String) -> Result<()> {
            Err(Error::unsupported("mkdir"))
        }
        fn file_entry(&self, _: &String, _: &Child<()>, path: &Path) -> Result<Option<Entry>> {
            Ok(Some(Entry::file(path.clone(), 0)))
        }
        fn staged_time(&self, _: &String, _: &Child<()>) -> Option<SystemTime> {
            None
        }
    }

    fn fake(files: &[&str]) -> Fake {
        let mut map = BTreeMap::new();
        for f in files {
            let mut dir = String::new();
            let segs: Vec<&str> = f.split('/').collect();
            for seg in &segs[..segs.len() - 1] {
                if !dir.is_empty() {
                    dir.push('/');
                }
                dir.push_str(seg);
                map.insert(dir.clone(), Kind::Dir);
            }
            map.insert((*f).to_owned(), Kind::File);
        }
        Fake(Arc::new(map))
    }

    fn keys(items: impl Iterator<Item = Result<Entry>>) -> Vec<(String, bool)> {
        items
            .map(|e| e.map(|e| (e.path.to_string(), e.is_dir)))
            .collect::<Result<_>>()
            .unwrap()
    }

    /// The walk agrees with `listing::adapt` over a full recursive listing, for every start
    /// point and both modes, on names that sort around `/`.
    #[test]
    fn native_options_agree_with_the_adapter() {
        let files = [
            "a", "a.txt", "a-b/c", "a0", "b/a", "b/c/d", "b/c/e", "b/c.d", "b/cd", "b0/x",
            "c/d/e/f",
        ];
        let tree = fake(&files);
        let p = |s: &str| Path::parse(s).unwrap();
        let walk = |prefix: &Path, recursive: bool, start: Option<Path>| {
            let loc = prefix.as_str().to_owned();
            let start_at = match tree.0.get(&loc) {
                _ if prefix.is_root() => Start::Dir(loc),
                Some(Kind::Dir) => Start::Dir(loc),
                Some(_) => Start::Object(Entry::file(prefix.clone(), 0)),
                None => Start::Nothing,
            };
            let select = Select::Objects { recursive };
            keys(Walk::new(tree.clone(), prefix, start_at, select, start, None).objects())
        };
        let mut sorted = files.map(str::to_owned);
        sorted.sort();
        let root: Vec<String> = walk(&Path::root(), true, None)
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(root, sorted, "the whole tree, in byte order");
        let mut starts: Vec<Option<Path>> = vec![None];
        for s in tree.0.keys() {
            starts.push(Some(p(s)));
            starts.push(Some(p(&format!("{s}0"))));
            starts.push(Some(p(&format!("{s}."))));
        }
        for prefix in ["", "b", "b/c", "a", "c/d", "zz"] {
            let prefix = p(prefix);
            let all = walk(&prefix, true, None);
            for recursive in [true, false] {
                for start in &starts {
                    let mut opts = crate::ListOptions::new().recursive(recursive);
                    opts.start_after = start.clone();
                    let full: crate::backend::List = Box::new(
                        all.clone()
                            .into_iter()
                            .map(|(s, _)| Path::parse(s).map(|p| Entry::file(p, 0))),
                    );
                    let want = keys(crate::listing::adapt(full, &prefix, &opts));
                    let got = walk(&prefix, recursive, start.clone());
                    assert_eq!(
                        got, want,
                        "prefix {prefix:?} recursive {recursive} start {start:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn spans_follow_the_listing_order() {
        assert_eq!(span("a", true, "a/b"), Span::Inside);
        assert_eq!(span("a", true, "a"), Span::After); // "a/" > "a"
        assert_eq!(span("a", true, "a.txt"), Span::After); // '/' > '.'
        assert_eq!(span("a", true, "a0"), Span::Before); // '/' < '0'
        assert_eq!(span("ab", true, "a/b"), Span::After);
        assert_eq!(span("a", true, "b"), Span::Before);
        assert_eq!(span("a/b", false, "a/b"), Span::Before);
        assert_eq!(span("a/c", false, "a/b"), Span::After);
    }
}
