//! The model (a `BTreeMap` of objects), the subjects, the log, and what an operation must
//! answer.

use super::*;

/// One backend under test.
pub(super) struct Subject {
    pub(super) name: &'static str,
    pub(super) backend: Box<dyn Backend>,
    /// Real directories (the file backend): they stay when emptied, and reading, deleting or
    /// describing one answers differently.
    pub(super) has_dirs: bool,
}

/// An object as the model knows it.
#[derive(Clone, Debug)]
pub(super) struct Obj {
    pub(super) data: Vec<u8>,
    /// The modification time given at write time; `None` if it was the time of writing,
    /// which the model cannot predict.
    pub(super) modified: Option<SystemTime>,
}

#[derive(Default)]
pub(super) struct Model {
    pub(super) objects: BTreeMap<String, Obj>,
    /// The directories the file backend has made (`""` is its root), which nothing here
    /// removes.
    pub(super) dirs: BTreeSet<String>,
}

impl Model {
    pub(super) fn get(&self, p: &Path) -> Option<&Obj> {
        self.objects.get(p.as_str())
    }

    /// Records that the file backend made the root and every parent of `p`.
    pub(super) fn made_parents(&mut self, p: &Path) {
        let mut dir = p.parent();
        while let Some(d) = dir {
            dir = d.parent();
            self.dirs.insert(d.into_string());
        }
    }

    /// Whether an object lies strictly under `dir`.
    pub(super) fn has_children(&self, dir: &Path) -> bool {
        self.objects
            .keys()
            .any(|k| k.len() > dir.as_str().len() && under(k, dir.as_str()))
    }

    /// What listing `prefix` with `opts` must yield, in order: paths with their objects, or
    /// `None` for a directory. Written out from the documented rules, not with the crate's
    /// listing helpers: one level folds what lies deeper into one directory each; a directory
    /// sorts as its path and `/`; a start point keeps what sorts strictly after it.
    pub(super) fn listing(&self, prefix: &Path, opts: &ListOptions) -> Vec<(String, Option<&Obj>)> {
        let mut out: BTreeMap<String, (String, Option<&Obj>)> = BTreeMap::new();
        for (k, obj) in self
            .objects
            .iter()
            .filter(|(k, _)| under(k, prefix.as_str()))
        {
            let rest = match prefix.as_str() {
                "" => k.as_str(),
                p => k[p.len()..].trim_start_matches('/'),
            };
            match rest.split_once('/') {
                Some((first, _)) if !opts.recursive => {
                    let dir = match prefix.as_str() {
                        "" => first.to_string(),
                        p => format!("{p}/{first}"),
                    };
                    out.insert(format!("{dir}/"), (dir, None));
                }
                _ => {
                    out.insert(k.clone(), (k.clone(), Some(obj)));
                }
            }
        }
        out.into_iter()
            .filter(|(sort_key, (path, _))| match &opts.start_after {
                None => true,
                Some(start) => path != start.as_str() && sort_key.as_str() > start.as_str(),
            })
            .map(|(_, v)| v)
            .collect()
    }
}

/// Whether `key` is `prefix` or lies under it, by segment (written out here rather than
/// with `Path::starts_with`).
pub(super) fn under(key: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || key
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A writer left open across operations, one per subject.
pub(super) struct Pending {
    pub(super) path: Path,
    pub(super) mode: WriteMode,
    pub(super) obj: Obj,
    /// Bytes written at open; the rest are written at finish.
    pub(super) split: usize,
    pub(super) writers: Vec<Writer>,
}

/// What has run so far, for failure messages.
#[derive(Default)]
pub(super) struct Log {
    pub(super) steps: usize,
    pub(super) history: String,
}

impl Log {
    pub(super) fn op(&mut self, what: std::fmt::Arguments<'_>) {
        let _ = writeln!(self.history, "  {:>2}: {what}", self.steps);
    }

    #[track_caller]
    pub(super) fn fail(&self, msg: String) -> ! {
        panic!("{msg}\noperations so far:\n{}", self.history)
    }
}

pub(super) struct Run {
    pub(super) subjects: [Subject; 2],
    pub(super) model: Model,
    pub(super) pending: Vec<Pending>,
    pub(super) log: Log,
}

/// What the model says an operation must answer.
#[derive(Clone, Copy, Debug)]
pub(super) enum Want {
    Ok,
    Err(&'static [ErrorKind]),
}

pub(super) const NOT_FOUND: Want = Want::Err(&[ErrorKind::NotFound]);
pub(super) const ALREADY_EXISTS: Want = Want::Err(&[ErrorKind::AlreadyExists]);
/// Reading the root: the backends answer `InvalidPath` (the root is not an object); the
/// `reader` docs name `IsADirectory` or `NotFound`. Any of the three is accepted.
pub(super) const ROOT_READ: Want = Want::Err(&[
    ErrorKind::InvalidPath,
    ErrorKind::IsADirectory,
    ErrorKind::NotFound,
]);

/// Checks `got` against `want`: the value if both say `Ok`, `None` for a predicted error.
#[track_caller]
pub(super) fn outcome<T>(
    log: &Log,
    who: &str,
    what: &str,
    got: Result<T>,
    want: Want,
) -> Option<T> {
    match (got, want) {
        (Ok(v), Want::Ok) => Some(v),
        (Err(e), Want::Err(kinds)) if kinds.contains(&e.kind()) => None,
        (Ok(_), Want::Err(kinds)) => log.fail(format!(
            "{who}: {what} succeeded; the model expected an error of kind {kinds:?}"
        )),
        (Err(e), want) => log.fail(format!(
            "{who}: {what} failed with {:?} ({e}); the model expected {want:?}",
            e.kind()
        )),
    }
}

pub(super) fn parse(s: &str) -> Path {
    Path::parse(s).expect("the model holds valid paths")
}

impl Subject {
    /// Checks an entry describing the object at `path` against the model.
    #[track_caller]
    pub(super) fn check_entry(&self, log: &Log, what: &str, entry: &Entry, path: &str, obj: &Obj) {
        let who = self.name;
        if entry.path.as_str() != path || entry.is_dir || entry.size != obj.data.len() as u64 {
            log.fail(format!(
                "{who}: {what} gave {entry:?}; the model has {path:?} with {} bytes",
                obj.data.len()
            ));
        }
        if let (Some(t), Some(precision)) =
            (obj.modified, self.backend.capabilities().modified_time)
        {
            let want = at_precision(t, precision);
            if entry.modified != Some(want) {
                log.fail(format!(
                    "{who}: {what} gave modified {:?}; the model has {want:?}",
                    entry.modified
                ));
            }
        }
    }

    /// What reading `p` must answer.
    pub(super) fn want_read(&self, model: &Model, p: &Path) -> Want {
        if p.is_root() {
            ROOT_READ
        } else if model.get(p).is_some() {
            Want::Ok
        } else if self.has_dirs && model.dirs.contains(p.as_str()) {
            Want::Err(&[ErrorKind::IsADirectory])
        } else {
            NOT_FOUND
        }
    }

    /// Reads `p` whole and compares it with the model.
    pub(super) fn check_content(&self, log: &Log, model: &Model, p: &Path) {
        let what = format!("read {p:?}");
        let got = self.backend.read_to_vec(p);
        if let Some(data) = outcome(log, self.name, &what, got, self.want_read(model, p)) {
            let obj = model.get(p).expect("want_read said it exists");
            if data != obj.data {
                log.fail(format!(
                    "{}: {what} gave {data:?}; the model has {:?}",
                    self.name, obj.data
                ));
            }
        }
    }

    /// Writes `data` in two pieces, cut at `split`.
    pub(super) fn write_in_two(&self, log: &Log, w: &mut Writer, data: &[u8], split: usize) {
        let (a, b) = data.split_at(split.min(data.len()));
        for piece in [a, b] {
            if let Err(e) = w.write_all(piece) {
                log.fail(format!("{}: write to a writer failed: {e}", self.name));
            }
        }
    }
}
