//! A random sequence of operations run on a `MemoryBackend` and on a `FileBackend` (in a fresh
//! temporary directory), each compared with a `BTreeMap` model after every operation.
//!
//! # Input
//!
//! A sequence of operations, each an opcode byte followed by its argument bytes; an argument
//! past the end of the input reads as 0. At most [`MAX_OPS`] operations run, so every run is
//! cheap. The opcodes are listed in [`step`].
//!
//! # Paths
//!
//! The file backend cannot hold an object `a` and an object `a/b` at once, so paths come from
//! a fixed structure in which directory names and object names are disjoint: `file`,
//! `dir/file` or `dir/dir/file`. The names are chosen so that byte order matters:
//! `d-x/…` < `d.x/…` < `d/…`, `A` < `a` < `a b` < `a%20` < `a-b` < `a.b`, and the
//! multi-byte `é` and `日` sort last.
//!
//! # What counts as a failure
//!
//! Every error from either backend, except those the model predicts (`NotFound` for what is
//! missing, `AlreadyExists` for `CreateNew` onto an object, and what reading, deleting or
//! describing a directory or the root answers), and every difference from the model: the
//! listing (paths, order, sizes, modification times given at write time), contents, ranges,
//! `exists`, `stat`, the entries returned by `finish`, `copy_path` and `move_path`, and at the
//! end the files and directories on disk (no staged file may be left behind).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use omnistorage::conformance::TempDir;
use omnistorage::{
    Backend, BackendExt, Entry, Error, ErrorKind, FileBackend, ListOptions, MemoryBackend, Path,
    ReadOptions, Result, WriteMode, WriteOptions, Writer, copy_path, move_path,
};

/// Directory names. Never used as object names.
const DIRS: [&str; 4] = ["d", "d.x", "d-x", "é"];
/// Object names. Never used as directory names.
const FILES: [&str; 7] = ["a", "a b", "a.b", "a-b", "A", "a%20", "日"];
/// The most operations one input runs.
const MAX_OPS: usize = 64;
/// The most writers left open at once.
const MAX_PENDING: usize = 3;

/// Checks the property on one input; panics if it fails.
pub fn check(data: &[u8]) {
    let dir = TempDir::new().expect("a temporary directory");
    // A root that does not exist yet: the first write creates it.
    let file = FileBackend::new(dir.path().join("store")).expect("a file backend");
    let subjects = [
        Subject {
            name: "memory",
            backend: Box::new(MemoryBackend::new()),
            has_dirs: false,
        },
        Subject {
            name: "file",
            backend: Box::new(file.clone()),
            has_dirs: true,
        },
    ];
    let mut run = Run {
        subjects,
        model: Model::default(),
        pending: Vec::new(),
        log: Log::default(),
    };
    let mut input = Input { data, pos: 0 };
    while run.log.steps < MAX_OPS {
        let Some(op) = input.next() else { break };
        run.log.steps += 1;
        step(&mut run, op, &mut input);
        run.check_listings();
    }
    run.finish(&file);
}

/// One backend under test.
struct Subject {
    name: &'static str,
    backend: Box<dyn Backend>,
    /// Real directories (the file backend): they stay when emptied, and reading, deleting or
    /// describing one answers differently.
    has_dirs: bool,
}

/// An object as the model knows it.
#[derive(Clone, Debug)]
struct Obj {
    data: Vec<u8>,
    /// The modification time given at write time; `None` if it was the time of writing,
    /// which the model cannot predict.
    modified: Option<SystemTime>,
}

#[derive(Default)]
struct Model {
    objects: BTreeMap<String, Obj>,
    /// The directories the file backend has made (`""` is its root), which nothing here
    /// removes.
    dirs: BTreeSet<String>,
}

impl Model {
    fn get(&self, p: &Path) -> Option<&Obj> {
        self.objects.get(p.as_str())
    }

    /// Records that the file backend made the root and every parent of `p`.
    fn made_parents(&mut self, p: &Path) {
        let mut dir = p.parent();
        while let Some(d) = dir {
            dir = d.parent();
            self.dirs.insert(d.into_string());
        }
    }

    /// Whether an object lies strictly under `dir`.
    fn has_children(&self, dir: &Path) -> bool {
        self.objects
            .keys()
            .any(|k| k.len() > dir.as_str().len() && under(k, dir.as_str()))
    }

    /// What listing `prefix` with `opts` must yield, in order: paths with their objects, or
    /// `None` for a directory. Written out from the documented rules, not with the crate's
    /// listing helpers: one level folds what lies deeper into one directory each; a directory
    /// sorts as its path and `/`; a start point keeps what sorts strictly after it.
    fn listing(&self, prefix: &Path, opts: &ListOptions) -> Vec<(String, Option<&Obj>)> {
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
fn under(key: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || key
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A writer left open across operations, one per subject.
struct Pending {
    path: Path,
    mode: WriteMode,
    obj: Obj,
    /// Bytes written at open; the rest are written at finish.
    split: usize,
    writers: Vec<Writer>,
}

/// What has run so far, for failure messages.
#[derive(Default)]
struct Log {
    steps: usize,
    history: String,
}

impl Log {
    fn op(&mut self, what: std::fmt::Arguments<'_>) {
        let _ = writeln!(self.history, "  {:>2}: {what}", self.steps);
    }

    #[track_caller]
    fn fail(&self, msg: String) -> ! {
        panic!("{msg}\noperations so far:\n{}", self.history)
    }
}

struct Run {
    subjects: [Subject; 2],
    model: Model,
    pending: Vec<Pending>,
    log: Log,
}

/// What the model says an operation must answer.
#[derive(Clone, Copy, Debug)]
enum Want {
    Ok,
    Err(&'static [ErrorKind]),
}

const NOT_FOUND: Want = Want::Err(&[ErrorKind::NotFound]);
const ALREADY_EXISTS: Want = Want::Err(&[ErrorKind::AlreadyExists]);
/// Reading the root: the backends answer `InvalidPath` (the root is not an object); the
/// `reader` docs name `IsADirectory` or `NotFound`. Any of the three is accepted.
const ROOT_READ: Want = Want::Err(&[
    ErrorKind::InvalidPath,
    ErrorKind::IsADirectory,
    ErrorKind::NotFound,
]);

/// Checks `got` against `want`: the value if both say `Ok`, `None` for a predicted error.
#[track_caller]
fn outcome<T>(log: &Log, who: &str, what: &str, got: Result<T>, want: Want) -> Option<T> {
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

fn parse(s: &str) -> Path {
    Path::parse(s).expect("the model holds valid paths")
}

/// Reads the input an operation at a time.
struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Input<'_> {
    fn next(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    /// An argument byte; 0 past the end.
    fn arg(&mut self) -> u8 {
        self.next().unwrap_or(0)
    }

    /// An object path: `file`, `dir/file` or `dir/dir/file`, 147 in all: bytes 0 to 6 are
    /// the 7 at depth 1, 7 to 34 the 28 at depth 2, 35 to 146 the 112 at depth 3, and from
    /// 147 on the count starts again.
    fn file_path(&mut self) -> Path {
        let mut i = usize::from(self.arg()) % 147;
        let mut segs = Vec::with_capacity(3);
        if i >= 35 {
            i -= 35;
            segs.push(DIRS[i / 28]);
            i %= 28;
        } else if i >= 7 {
            i -= 7;
        } else {
            return parse(FILES[i]);
        }
        segs.push(DIRS[i / 7]);
        segs.push(FILES[i % 7]);
        parse(&segs.join("/"))
    }

    /// A directory path: `dir` or `dir/dir`.
    fn dir_path(&mut self) -> Path {
        let b = usize::from(self.arg());
        let mut segs = vec![DIRS[(b / 2) % 4]];
        if b % 2 == 1 {
            segs.push(DIRS[(b / 8) % 4]);
        }
        parse(&segs.join("/"))
    }

    /// Any path: an object, a directory, the root, or a byte prefix of one of those that
    /// ends inside a segment (`d.`, `a `, `d/a%2`), which names nothing.
    fn any_path(&mut self) -> Path {
        match self.arg() % 8 {
            0 => Path::root(),
            1 | 2 => self.dir_path(),
            3 => {
                let p = if self.arg().is_multiple_of(2) {
                    self.dir_path()
                } else {
                    self.file_path()
                };
                cut_last_char(&p)
            }
            _ => self.file_path(),
        }
    }

    /// A few bytes of content: 0 to 7 bytes that depend on the argument.
    fn data(&mut self) -> Vec<u8> {
        let b = self.arg();
        let len = usize::from(b & 7);
        (0..len)
            .map(|i| (b >> 3).wrapping_mul(37).wrapping_add(i as u8))
            .collect()
    }

    /// A modification time to give at write time, or `None` (the time of writing).
    fn modified(&mut self) -> Option<SystemTime> {
        match self.arg() {
            0 => None,
            b => Some(
                UNIX_EPOCH
                    + Duration::new(
                        1_600_000_000 + u64::from(b) * 86_413,
                        u32::from(b) * 3_900_001 % 1_000_000_000,
                    ),
            ),
        }
    }
}

/// `p` without the last character of its last segment (`p` itself if that is one character).
fn cut_last_char(p: &Path) -> Path {
    let s = p.as_str();
    match s.char_indices().next_back() {
        Some((i, _)) if i > 0 && !s[..i].ends_with('/') => parse(&s[..i]),
        _ => p.clone(),
    }
}

/// A time at a backend's precision (truncated, as file systems store it).
fn at_precision(t: SystemTime, precision: Duration) -> SystemTime {
    let since = t.duration_since(UNIX_EPOCH).expect("times after 1970");
    let step = precision.as_nanos().max(1);
    let nanos = since.as_nanos() / step * step;
    UNIX_EPOCH
        + Duration::new(
            (nanos / 1_000_000_000) as u64,
            (nanos % 1_000_000_000) as u32,
        )
}

impl Subject {
    /// Checks an entry describing the object at `path` against the model.
    #[track_caller]
    fn check_entry(&self, log: &Log, what: &str, entry: &Entry, path: &str, obj: &Obj) {
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
    fn want_read(&self, model: &Model, p: &Path) -> Want {
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
    fn check_content(&self, log: &Log, model: &Model, p: &Path) {
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
    fn write_in_two(&self, log: &Log, w: &mut Writer, data: &[u8], split: usize) {
        let (a, b) = data.split_at(split.min(data.len()));
        for piece in [a, b] {
            if let Err(e) = w.write_all(piece) {
                log.fail(format!("{}: write to a writer failed: {e}", self.name));
            }
        }
    }
}

/// Runs one operation on both subjects and the model. The opcodes:
///
/// | op % 20 | operation | arguments |
/// | --- | --- | --- |
/// | 0 | write, `Overwrite` | path, data, modified |
/// | 1 | write, `CreateNew` | path, data, modified |
/// | 2 | write, then `abort` | path, data, flags (bit 0: `CreateNew`) |
/// | 3 | write, then drop | path, data, flags |
/// | 4 | open a writer, write part, leave it open | path, data, modified, flags |
/// | 5 | write the rest to an open writer and `finish` | which |
/// | 6 | `abort` (even) or drop (odd) an open writer | which |
/// | 7 | `delete` | any path |
/// | 8 | read whole | any path |
/// | 9 | read a range | any path, offset, length, form |
/// | 10 | `exists` | any path |
/// | 11 | `list` | any path, flags (bits 0-1: how many to take, 0: all; bit 2: one level; bit 3: a start point follows), [start: any path] |
/// | 12 | server-side `copy` (`as_extended`) | from, to |
/// | 13 | server-side `rename` (`as_extended`) | from, to |
/// | 14 | `copy_path` within one backend | from, to |
/// | 15 | `move_path` within one backend | from, to |
/// | 16 | `copy_path` memory → file and file → memory | from, to |
/// | 17 | `move_path` memory → file and file → memory | from, to |
/// | 18 | `stat` (`as_extended`) | any path |
/// | 19 | `info` (`BackendExt`) | any path |
fn step(run: &mut Run, op: u8, input: &mut Input<'_>) {
    match op % 20 {
        0 | 1 => {
            let mode = if op.is_multiple_of(20) {
                WriteMode::Overwrite
            } else {
                WriteMode::CreateNew
            };
            let (p, data, modified) = (input.file_path(), input.data(), input.modified());
            write(run, p, mode, data, modified);
        }
        2 | 3 => {
            let (p, data) = (input.file_path(), input.data());
            let mode = write_mode(input.arg());
            write_and_discard(run, p, mode, data, op % 20 == 2);
        }
        4 => {
            let (p, data, modified) = (input.file_path(), input.data(), input.modified());
            let flags = input.arg();
            open_pending(
                run,
                p,
                write_mode(flags),
                data,
                modified,
                usize::from(flags >> 1),
            );
        }
        5 => {
            let which = input.arg();
            finish_pending(run, which);
        }
        6 => {
            let which = input.arg();
            discard_pending(run, which);
        }
        7 => {
            let p = input.any_path();
            delete(run, p);
        }
        8 => {
            let p = input.any_path();
            run.log.op(format_args!("read {p:?}"));
            for s in &run.subjects {
                s.check_content(&run.log, &run.model, &p);
            }
        }
        9 => {
            let p = input.any_path();
            let (offset, length, form) = (input.arg(), input.arg(), input.arg());
            read_range(run, p, offset, length, form);
        }
        10 => {
            let p = input.any_path();
            run.log.op(format_args!("exists {p:?}"));
            let want = run.model.get(&p).is_some();
            for s in &run.subjects {
                let got = outcome(&run.log, s.name, "exists", s.backend.exists(&p), Want::Ok);
                if got != Some(want) {
                    run.log
                        .fail(format!("{}: exists({p:?}) = {got:?}, want {want}", s.name));
                }
            }
        }
        11 => {
            let p = input.any_path();
            let flags = input.arg();
            let take = usize::from(flags % 4);
            let mut opts = ListOptions::new().recursive(flags & 4 == 0);
            if flags & 8 != 0 {
                opts = opts.start_after(input.any_path());
            }
            run.log.op(format_args!("list {p:?} take {take} {opts:?}"));
            for s in &run.subjects {
                check_listing(&run.log, &run.model, s, &p, take, &opts);
            }
        }
        12..=17 => {
            let (from, to) = (input.file_path(), input.file_path());
            transfer(run, op % 20, from, to);
        }
        18 => {
            let p = input.any_path();
            stat(run, p);
        }
        _ => {
            let p = input.any_path();
            info(run, p);
        }
    }
}

fn write_mode(flags: u8) -> WriteMode {
    if flags & 1 == 1 {
        WriteMode::CreateNew
    } else {
        WriteMode::Overwrite
    }
}

fn write_options(mode: WriteMode, modified: Option<SystemTime>) -> WriteOptions {
    let mut opts = WriteOptions::new().mode(mode);
    opts.modified = modified;
    opts
}

/// Opens a writer on every subject. `None` for a subject that refused with `AlreadyExists`,
/// which the contract allows when `conflict` (a `CreateNew` onto an object).
fn open_writers(run: &Run, p: &Path, opts: &WriteOptions, conflict: bool) -> Vec<Option<Writer>> {
    run.subjects
        .iter()
        .map(|s| {
            let want = if conflict { ALREADY_EXISTS } else { Want::Ok };
            match s.backend.writer(p, opts) {
                Err(e) if conflict && e.kind() == ErrorKind::AlreadyExists => None,
                got => outcome(&run.log, s.name, "writer", got.map(Some), want).flatten(),
            }
        })
        .collect()
}

fn write(run: &mut Run, p: Path, mode: WriteMode, data: Vec<u8>, modified: Option<SystemTime>) {
    run.log
        .op(format_args!("write {p:?} {data:?} {mode:?} {modified:?}"));
    let conflict = mode == WriteMode::CreateNew && run.model.get(&p).is_some();
    let obj = Obj { data, modified };
    let writers = open_writers(run, &p, &write_options(mode, modified), conflict);
    for (s, w) in run.subjects.iter().zip(writers) {
        let Some(mut w) = w else { continue };
        s.write_in_two(&run.log, &mut w, &obj.data, obj.data.len() / 2);
        let want = if conflict { ALREADY_EXISTS } else { Want::Ok };
        if let Some(entry) = outcome(&run.log, s.name, "finish", w.finish(), want) {
            s.check_entry(&run.log, "finish", &entry, p.as_str(), &obj);
        }
    }
    // `writer` makes the parent directories before it looks at the target.
    run.model.made_parents(&p);
    if !conflict {
        run.model.objects.insert(p.to_string(), obj);
    }
    for s in &run.subjects {
        s.check_content(&run.log, &run.model, &p);
    }
}

fn write_and_discard(run: &mut Run, p: Path, mode: WriteMode, data: Vec<u8>, abort: bool) {
    let how = if abort { "abort" } else { "drop" };
    run.log
        .op(format_args!("write {p:?} {data:?} {mode:?} then {how}"));
    let conflict = mode == WriteMode::CreateNew && run.model.get(&p).is_some();
    let writers = open_writers(run, &p, &write_options(mode, None), conflict);
    for (s, w) in run.subjects.iter().zip(writers) {
        let Some(mut w) = w else { continue };
        s.write_in_two(&run.log, &mut w, &data, 1);
        if abort {
            outcome(&run.log, s.name, "abort", w.abort(), Want::Ok);
        } else {
            drop(w);
        }
    }
    run.model.made_parents(&p);
    for s in &run.subjects {
        s.check_content(&run.log, &run.model, &p);
    }
}

fn open_pending(
    run: &mut Run,
    p: Path,
    mode: WriteMode,
    data: Vec<u8>,
    modified: Option<SystemTime>,
    split: usize,
) {
    run.log.op(format_args!(
        "open writer {p:?} {data:?} {mode:?} {modified:?}, write {split} bytes"
    ));
    if run.pending.len() == MAX_PENDING {
        return;
    }
    let conflict = mode == WriteMode::CreateNew && run.model.get(&p).is_some();
    let writers = open_writers(run, &p, &write_options(mode, modified), conflict);
    run.model.made_parents(&p);
    if conflict {
        // Refused now, or (as the contract allows) on `finish`: drop them either way.
        return;
    }
    let mut writers: Vec<Writer> = writers.into_iter().flatten().collect();
    for (s, w) in run.subjects.iter().zip(&mut writers) {
        s.write_in_two(&run.log, w, &data[..split.min(data.len())], 0);
    }
    run.pending.push(Pending {
        path: p,
        mode,
        obj: Obj { data, modified },
        split,
        writers,
    });
}

fn finish_pending(run: &mut Run, which: u8) {
    if run.pending.is_empty() {
        run.log.op(format_args!("finish a writer: none open"));
        return;
    }
    let pending = run.pending.remove(usize::from(which) % run.pending.len());
    let Pending {
        path: p,
        mode,
        obj,
        split,
        writers,
    } = pending;
    run.log.op(format_args!("finish writer {p:?} {mode:?}"));
    let conflict = mode == WriteMode::CreateNew && run.model.get(&p).is_some();
    let rest = &obj.data[split.min(obj.data.len())..];
    for (s, mut w) in run.subjects.iter().zip(writers) {
        s.write_in_two(&run.log, &mut w, rest, rest.len());
        let want = if conflict { ALREADY_EXISTS } else { Want::Ok };
        if let Some(entry) = outcome(&run.log, s.name, "finish", w.finish(), want) {
            s.check_entry(&run.log, "finish", &entry, p.as_str(), &obj);
        }
    }
    if !conflict {
        run.model.objects.insert(p.to_string(), obj);
    }
    for s in &run.subjects {
        s.check_content(&run.log, &run.model, &p);
    }
}

fn discard_pending(run: &mut Run, which: u8) {
    if run.pending.is_empty() {
        run.log.op(format_args!("discard a writer: none open"));
        return;
    }
    let pending = run.pending.remove(usize::from(which) % run.pending.len());
    let abort = which.is_multiple_of(2);
    run.log.op(format_args!(
        "{} writer {:?}",
        if abort { "abort" } else { "drop" },
        pending.path
    ));
    for (s, w) in run.subjects.iter().zip(pending.writers) {
        if abort {
            outcome(&run.log, s.name, "abort", w.abort(), Want::Ok);
        } else {
            drop(w);
        }
    }
    for s in &run.subjects {
        s.check_content(&run.log, &run.model, &pending.path);
    }
}

fn delete(run: &mut Run, p: Path) {
    run.log.op(format_args!("delete {p:?}"));
    for s in &run.subjects {
        let want = if p.is_root() {
            Want::Err(&[ErrorKind::InvalidPath])
        } else {
            Want::Ok
        };
        match s.backend.delete(&p) {
            // "A directory is not deleted": the file backend says so with an error.
            Err(e)
                if s.has_dirs
                    && run.model.dirs.contains(p.as_str())
                    && e.kind() == ErrorKind::IsADirectory => {}
            got => {
                outcome(&run.log, s.name, "delete", got, want);
            }
        }
    }
    run.model.objects.remove(p.as_str());
    for s in &run.subjects {
        s.check_content(&run.log, &run.model, &p);
    }
}

/// Offsets and lengths around the interesting points of an object of `len` bytes.
fn pick(b: u8, len: u64) -> u64 {
    match b % 8 {
        0 => 0,
        1 => 1,
        2 => len.saturating_sub(1),
        3 => len,
        4 => len + 1,
        5 => u64::MAX,
        6 => u64::MAX - 1,
        _ => u64::from(b >> 3),
    }
}

fn read_range(run: &mut Run, p: Path, offset: u8, length: u8, form: u8) {
    let len = run.model.get(&p).map_or(0, |o| o.data.len() as u64);
    let a = pick(offset, len);
    let b = pick(length >> 1, len);
    // The expected bytes, computed here rather than with `ReadOptions::clamp`.
    let (opts, start, end) = match form % 4 {
        0 => {
            let mut opts = ReadOptions::new();
            opts.offset = a;
            opts.length = (length % 2 == 1).then_some(b);
            let end = opts.length.map_or(len, |l| a.saturating_add(l).min(len));
            (opts, a.min(len), end)
        }
        1 => (ReadOptions::new().range(a..b), a.min(len), b.min(len)),
        2 => (
            ReadOptions::new().range(a..=b),
            a.min(len),
            b.saturating_add(1).min(len),
        ),
        _ => (ReadOptions::new().range(a..), a.min(len), len),
    };
    let end = end.max(start);
    let bytewise = form & 4 != 0;
    run.log.op(format_args!(
        "read {p:?} offset {} length {:?}{}",
        opts.offset,
        opts.length,
        if bytewise { " a byte at a time" } else { "" }
    ));
    for s in &run.subjects {
        let what = format!("read {p:?} with {opts:?}");
        let got = s.backend.reader(&p, &opts);
        let Some(mut reader) = outcome(&run.log, s.name, &what, got, s.want_read(&run.model, &p))
        else {
            continue;
        };
        let want = &run.model.get(&p).expect("read ok").data[start as usize..end as usize];
        if let Some(size) = reader.size()
            && size != want.len() as u64
        {
            run.log.fail(format!(
                "{}: {what}: the reader's size is {size}; want {}",
                s.name,
                want.len()
            ));
        }
        let mut data = Vec::new();
        let read = if bytewise {
            let mut byte = [0u8];
            loop {
                match reader.read(&mut byte) {
                    Ok(0) => break Ok(0),
                    Ok(_) => data.push(byte[0]),
                    Err(e) => break Err(e),
                }
            }
        } else {
            reader.read_to_end(&mut data)
        };
        outcome(&run.log, s.name, &what, read.map_err(Error::from), Want::Ok);
        if data != want {
            run.log.fail(format!(
                "{}: {what} gave {data:?}; want {want:?} (bytes {start}..{end})",
                s.name
            ));
        }
    }
}

/// Lists `prefix` with `opts` (the first `take` entries, or all if 0) and compares with the
/// model. A file backend may also list the empty directories it made (the model's `dirs`)
/// in a one-level listing; those are set aside before comparing.
fn check_listing(
    log: &Log,
    model: &Model,
    s: &Subject,
    prefix: &Path,
    take: usize,
    opts: &ListOptions,
) {
    let what = format!("list {prefix:?} {opts:?}");
    let list = outcome(log, s.name, &what, s.backend.list(prefix, opts), Want::Ok)
        .expect("Want::Ok gives a value");
    let mut want = model.listing(prefix, opts);
    let got: Vec<Entry> = list
        .filter(|e| {
            let empty_dir = |e: &Entry| {
                s.has_dirs
                    && e.is_dir
                    && model.dirs.contains(e.path.as_str())
                    && !model.has_children(&e.path)
            };
            !e.as_ref().is_ok_and(empty_dir)
        })
        .take(if take == 0 { usize::MAX } else { take })
        .collect::<Result<_>>()
        .unwrap_or_else(|e| log.fail(format!("{}: {what}: an entry failed: {e}", s.name)));
    if take != 0 {
        want.truncate(take);
    }
    let key = |path: &str, dir: bool| format!("{path}{}", if dir { "/" } else { "" });
    let got_keys: Vec<String> = got.iter().map(|e| key(e.path.as_str(), e.is_dir)).collect();
    let want_keys: Vec<String> = want.iter().map(|(k, o)| key(k, o.is_none())).collect();
    if got_keys != want_keys {
        log.fail(format!(
            "{}: {what} gave {got_keys:?}; the model has {want_keys:?}",
            s.name
        ));
    }
    for (entry, (k, obj)) in got.iter().zip(&want) {
        if let Some(obj) = obj {
            s.check_entry(log, &what, entry, k, obj);
        }
    }
}

/// copy, rename, copy_path and move_path.
fn transfer(run: &mut Run, op: u8, from: Path, to: Path) {
    let name = match op {
        12 => "copy",
        13 => "rename",
        14 => "copy_path",
        15 => "move_path",
        16 => "copy_path across",
        _ => "move_path across",
    };
    run.log.op(format_args!("{name} {from:?} -> {to:?}"));
    let source = run.model.get(&from).cloned();
    let want = if source.is_some() {
        Want::Ok
    } else {
        NOT_FOUND
    };
    let moves = op == 13 || op == 15 || op == 17;
    let log = &run.log;
    let [mem, file] = &run.subjects;
    let check = |s: &Subject, got: Result<Entry>| {
        if let Some(entry) = outcome(log, s.name, name, got, want) {
            s.check_entry(
                log,
                name,
                &entry,
                to.as_str(),
                source.as_ref().expect("found"),
            );
        }
    };
    match op {
        12 | 13 => {
            for s in &run.subjects {
                let ext = &s.backend;
                let got = if op == 12 {
                    ext.copy(&from, &to)
                } else {
                    ext.rename(&from, &to)
                };
                outcome(log, s.name, name, got, want);
            }
        }
        14 => {
            for s in &run.subjects {
                check(s, copy_path(&*s.backend, &from, &*s.backend, &to));
            }
        }
        15 => {
            for s in &run.subjects {
                check(s, move_path(&*s.backend, &from, &*s.backend, &to));
            }
        }
        // Both ways, so that both backends end as the model says.
        16 => {
            check(file, copy_path(&*mem.backend, &from, &*file.backend, &to));
            check(mem, copy_path(&*file.backend, &from, &*mem.backend, &to));
        }
        _ if from == to => {
            // Across two stores, moving `x` to `x` is a real move: the two calls would undo
            // each other's source. Move within each store instead (a no-op).
            for s in &run.subjects {
                check(s, move_path(&*s.backend, &from, &*s.backend, &to));
            }
        }
        _ => {
            // Memory's `from` goes to the file's `to`, then the file's `from` (still there,
            // as from != to) to memory's `to`.
            check(file, move_path(&*mem.backend, &from, &*file.backend, &to));
            check(mem, move_path(&*file.backend, &from, &*mem.backend, &to));
        }
    }
    if let Some(obj) = source {
        // Made by the file backend unless from == to, when they are there already.
        run.model.made_parents(&to);
        if moves {
            run.model.objects.remove(from.as_str());
        }
        run.model.objects.insert(to.to_string(), obj);
    }
    for s in &run.subjects {
        s.check_content(&run.log, &run.model, &from);
        s.check_content(&run.log, &run.model, &to);
    }
}

fn stat(run: &mut Run, p: Path) {
    run.log.op(format_args!("stat {p:?}"));
    for s in &run.subjects {
        let ext = &s.backend;
        let got = ext.stat(&p);
        if let Some(obj) = run.model.get(&p) {
            let entry = outcome(&run.log, s.name, "stat", got, Want::Ok).expect("Ok");
            s.check_entry(&run.log, "stat", &entry, p.as_str(), obj);
            continue;
        }
        // Not an object: a directory or nothing.
        let is_dir = if s.has_dirs {
            run.model.dirs.contains(p.as_str())
        } else {
            p.is_root() || run.model.has_children(&p)
        };
        let want = if is_dir { Want::Ok } else { NOT_FOUND };
        if let Some(entry) = outcome(&run.log, s.name, "stat", got, want)
            && (!entry.is_dir || entry.path != p || entry.size != 0)
        {
            run.log.fail(format!(
                "{}: stat {p:?} gave {entry:?}; want a directory",
                s.name
            ));
        }
    }
}

fn info(run: &mut Run, p: Path) {
    run.log.op(format_args!("info {p:?}"));
    let obj = run.model.get(&p);
    let want = if obj.is_some() { Want::Ok } else { NOT_FOUND };
    for s in &run.subjects {
        if let Some(entry) = outcome(&run.log, s.name, "info", s.backend.info(&p), want) {
            s.check_entry(&run.log, "info", &entry, p.as_str(), obj.expect("found"));
        }
    }
}

impl Run {
    fn check_listings(&self) {
        for s in &self.subjects {
            check_listing(
                &self.log,
                &self.model,
                s,
                &Path::root(),
                0,
                &ListOptions::new(),
            );
        }
    }

    /// Drops the open writers, then compares everything: listings, contents, `stat` against
    /// `list`, and the files and directories on disk.
    fn finish(mut self, file: &FileBackend) {
        self.log
            .op(format_args!("drop every open writer and check all"));
        self.pending.clear();
        self.check_listings();
        for s in &self.subjects {
            let listed = s
                .backend
                .list_all(Path::root())
                .unwrap_or_else(|e| self.log.fail(format!("{}: list: {e}", s.name)));
            let ext = &s.backend;
            for entry in listed {
                s.check_content(&self.log, &self.model, &entry.path);
                let stat = outcome(&self.log, s.name, "stat", ext.stat(&entry.path), Want::Ok)
                    .expect("Ok");
                if stat != entry {
                    self.log.fail(format!(
                        "{}: stat gave {stat:?} but list gave {entry:?}",
                        s.name
                    ));
                }
            }
        }

        let (mut files, mut dirs) = (BTreeSet::new(), BTreeSet::new());
        let root = file.root();
        if root.exists() {
            dirs.insert(String::new());
            walk(root, "", &mut files, &mut dirs);
        }
        let want_files: BTreeSet<String> = self.model.objects.keys().cloned().collect();
        if files != want_files || dirs != self.model.dirs {
            self.log.fail(format!(
                "on disk: files {files:?}, directories {dirs:?}; the model has files \
                 {want_files:?}, directories {:?}",
                self.model.dirs
            ));
        }
    }
}

/// Gathers the files and directories under `dir` (`rel` is its path from the root).
fn walk(
    dir: &std::path::Path,
    rel: &str,
    files: &mut BTreeSet<String>,
    dirs: &mut BTreeSet<String>,
) {
    for item in std::fs::read_dir(dir).expect("read_dir") {
        let item = item.expect("read_dir entry");
        let name = item.file_name().into_string().expect("UTF-8 names");
        let rel = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if item.file_type().expect("file type").is_dir() {
            walk(&item.path(), &rel, files, dirs);
            dirs.insert(rel);
        } else {
            files.insert(rel);
        }
    }
}
