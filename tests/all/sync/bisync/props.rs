//! The promise of bisync as a property: random edits on both sides, runs in between (some
//! of them crashing or cancelled at a random step), and after a final clean run both sides
//! are identical (contents and modification times) and every version that was current on a
//! side when a run started (and that the user did not overwrite or delete later) is there,
//! at its path or under a conflict name.
//!
//! Half the seeds run on memory backends, half on file backends, and the world is also
//! changed behind the state's back (issue 21): same-size edits that put the old modification
//! time back, time-only changes on both sides, an empty lock file (a kill between creating
//! and writing it); on file backends, a file on one side where the other has a directory of
//! that name and a staged file (a kill mid-copy) left by an interrupted run.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use omnistorage::conformance::TempDir;
use omnistorage::sync::bisync::{BisyncOptions, Conflict, bisync};
use omnistorage::{
    Backend, BackendExt, Cancel, Capabilities, Entry, Error, ErrorKind, FileBackend, Location,
    MemoryBackend, Path, Result, WriteOptions, Writer,
};

use super::super::{put, t, tree};

/// How many more changing calls may succeed before the "crash"; shared by both sides.
#[derive(Debug)]
pub(crate) struct Control {
    budget: AtomicI64,
    /// When set, running out of budget cancels this token instead of failing calls.
    cancel: Mutex<Option<Cancel>>,
}

impl Control {
    fn new() -> Control {
        Control {
            budget: AtomicI64::new(i64::MAX),
            cancel: Mutex::new(None),
        }
    }

    fn arm(&self, steps: i64, cancel: Option<Cancel>) {
        *self.cancel.lock().expect("lock") = cancel;
        self.budget.store(steps, Ordering::SeqCst);
    }

    fn disarm(&self) {
        self.arm(i64::MAX, None);
    }

    fn step(&self) -> Result<()> {
        if self.budget.fetch_sub(1, Ordering::SeqCst) > 0 {
            return Ok(());
        }
        match &*self.cancel.lock().expect("lock") {
            Some(cancel) => {
                cancel.cancel();
                Ok(())
            }
            None => Err(Error::new(ErrorKind::Io, "crashed by the test")),
        }
    }
}

/// A backend (memory, or file) whose changing calls (writers, deletes, renames, copies)
/// fail, or cancel the run, once the shared budget is spent.
#[derive(Debug)]
pub(crate) struct Crashy {
    inner: Box<dyn Backend>,
    located: bool,
    ctl: Arc<Control>,
    /// Hide the inner backend's version tags (a backend whose ETags say nothing).
    untagged: bool,
}

impl Crashy {
    /// One without a shared control; `located`: whether it reports a location.
    pub(crate) fn new(located: bool) -> Crashy {
        Crashy::with(Arc::new(Control::new()), located)
    }

    fn with(ctl: Arc<Control>, located: bool) -> Crashy {
        Crashy::over(Box::new(MemoryBackend::new()), ctl, located)
    }

    fn over(inner: Box<dyn Backend>, ctl: Arc<Control>, located: bool) -> Crashy {
        Crashy {
            inner,
            located,
            ctl,
            untagged: false,
        }
    }

    /// A located memory backend that announces no version tags.
    pub(crate) fn untagged() -> Crashy {
        Crashy {
            untagged: true,
            ..Crashy::new(true)
        }
    }
}

/// Every changing call takes a step of the budget first; the rest is forwarded.
impl omnistorage::Wrap for Crashy {
    type Inner = dyn Backend;
    fn inner(&self) -> &(dyn Backend + 'static) {
        &*self.inner
    }
    fn writer(&self, path: &Path, opts: &WriteOptions) -> Result<Writer> {
        self.ctl.step()?;
        self.inner().writer(path, opts)
    }
    fn delete(&self, path: &Path) -> Result<()> {
        self.ctl.step()?;
        self.inner().delete(path)
    }
    fn delete_many(&self, paths: &[Path]) -> Vec<Result<()>> {
        // One step per object, as one `delete` each.
        paths.iter().map(|p| Backend::delete(self, p)).collect()
    }
    fn capabilities(&self) -> Capabilities {
        let mut caps = self.inner().capabilities();
        caps.version_tags &= !self.untagged;
        caps
    }
    fn location(&self) -> Option<Location> {
        self.located.then(|| self.inner().location()).flatten()
    }
    fn copy(&self, from: &Path, to: &Path) -> Result<Entry> {
        self.ctl.step()?;
        self.inner().copy(from, to)
    }
    fn rename(&self, from: &Path, to: &Path) -> Result<Entry> {
        self.ctl.step()?;
        self.inner().rename(from, to)
    }
    fn copy_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        self.ctl.step()?;
        self.inner().copy_from(src, from, to)
    }
    fn rename_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        self.ctl.step()?;
        self.inner().rename_from(src, from, to)
    }
    fn set_modified(&self, path: &Path, modified: SystemTime) -> Result<Entry> {
        self.ctl.step()?;
        self.inner().set_modified(path, modified)
    }
    fn remove_dir(&self, path: &Path) -> Result<()> {
        self.ctl.step()?;
        self.inner().remove_dir(path)
    }
    // `abort_upload` is not a step of the plan (it runs before the listing): never crashed.
}

/// xorshift64*: a small seeded generator (no dependency).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

// "d/e" and "e" clash with "d/e/z" and "e/w" on a file system: a file on one side, a
// directory on the other.
const POOL: [&str; 9] = ["x", "y", "z", "d/x", "d/y", "d/e/z", "e/w", "d/e", "e"];
const STRATEGIES: [Conflict; 7] = [
    Conflict::Newer,
    Conflict::Older,
    Conflict::Larger,
    Conflict::Smaller,
    Conflict::Path1,
    Conflict::Path2,
    Conflict::KeepBoth,
];
const ANCHOR: &str = "keep"; // never edited: no side is ever empty

struct Model {
    /// Every version current on a side when a run started → the path it was at.
    required: BTreeMap<Vec<u8>, String>,
    /// Versions the user overwrote or deleted: allowed to be gone.
    superseded: HashSet<Vec<u8>>,
    next: u64,
    clock: u64,
    edits: u64,
}

impl Model {
    /// A fresh version: unique, and of a size set by `pad` (a same-size edit keeps it).
    fn version(&mut self, pad: &str) -> Vec<u8> {
        self.next += 1;
        format!("v{:05}{pad}", self.next).into_bytes()
    }

    fn edit(&mut self, rng: &mut Rng, side: &dyn Backend) {
        let existing: Vec<String> = tree(side, "").into_keys().filter(|p| p != ANCHOR).collect();
        let pick = |rng: &mut Rng| existing.get(rng.below(existing.len() as u64) as usize);
        let (path, delete) = match rng.below(4) {
            0 | 1 => (
                POOL[rng.below(POOL.len() as u64) as usize].to_owned(),
                false,
            ),
            2 => match pick(rng) {
                Some(p) => (p.clone(), false),
                None => return,
            },
            _ => match pick(rng) {
                Some(p) => (p.clone(), true),
                None => return,
            },
        };
        let old = side.read_to_vec(path.as_str()).ok();
        self.clock += 1;
        if delete {
            side.remove(path.as_str()).expect("delete");
        } else {
            let pad = "#".repeat(rng.below(4) as usize);
            let content = self.version(&pad);
            // Where this side has a directory of that name (or a file where a directory is
            // needed), a file cannot be written: no edit then.
            if !try_put(side, &path, &content, t(self.clock)) {
                return;
            }
        }
        self.edits += 1;
        if let Some(old) = old {
            self.superseded.insert(old);
        }
    }

    /// Tampering behind the state's back: an edit that keeps the size and puts the old time
    /// back (on file sides, `dirs`, in place through the file system), or a time-only change
    /// on both sides.
    fn tamper(
        &mut self,
        rng: &mut Rng,
        sides: [&dyn Backend; 2],
        dirs: Option<[&std::path::Path; 2]>,
    ) {
        let i = rng.below(2) as usize;
        let existing: Vec<(String, Vec<u8>)> = tree(sides[i], "")
            .into_iter()
            .filter(|(p, _)| p != ANCHOR)
            .collect();
        let Some((path, old)) = existing
            .get(rng.below(existing.len() as u64) as usize)
            .cloned()
        else {
            return;
        };
        self.edits += 1;
        if rng.below(2) == 0 {
            // Same size, same time, other bytes: only the version tag sees it.
            let pad = String::from_utf8_lossy(old.get(6..).unwrap_or_default()).into_owned();
            let content = self.version(&pad);
            assert_eq!(content.len(), old.len());
            match dirs {
                Some(dirs) => {
                    let file = dirs[i].join(&path);
                    let before = std::fs::metadata(&file).expect("stat");
                    std::fs::write(&file, &content).expect("write");
                    std::fs::File::options()
                        .write(true)
                        .open(&file)
                        .and_then(|f| f.set_modified(before.modified()?))
                        .expect("restore the time");
                }
                None => {
                    let p = Path::parse(&path).expect("path");
                    let before = sides[i].stat(&p).expect("stat").modified.expect("time");
                    put(sides[i], &path, &content, before);
                }
            }
            self.superseded.insert(old);
        } else {
            // The time alone, on both sides where both have it.
            let p = Path::parse(&path).expect("path");
            for (k, side) in sides.iter().enumerate() {
                self.clock += 1;
                if side.contains(path.as_str()).unwrap_or(false) {
                    side.set_modified(&p, t(self.clock + k as u64))
                        .expect("touch");
                }
            }
        }
    }

    fn snapshot(&mut self, sides: [&dyn Backend; 2]) {
        for side in sides {
            for (path, content) in tree(side, "") {
                if path != ANCHOR {
                    self.required.entry(content).or_insert(path);
                }
            }
        }
    }
}

/// Writes `data` at `path`; `false` if the path cannot hold a file on that side.
fn try_put(side: &dyn Backend, path: &str, data: &[u8], time: SystemTime) -> bool {
    let written = side
        .writer(
            &Path::parse(path).expect("path"),
            &WriteOptions::new().modified(time),
        )
        .and_then(|mut w| {
            std::io::Write::write_all(&mut w, data)?;
            w.finish()
        });
    match written {
        Ok(_) => true,
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::IsADirectory | ErrorKind::NotADirectory | ErrorKind::AlreadyExists
            ) =>
        {
            false
        }
        Err(e) => panic!("write {path}: {e}"),
    }
}

/// Staged files (`.omnistorage-tmp-*`) anywhere under `dir`.
fn staged_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(staged_files(&path));
        } else if entry
            .file_name()
            .to_string_lossy()
            .starts_with(".omnistorage-tmp-")
        {
            found.push(path);
        }
    }
    found
}

/// What one seed's run did.
#[derive(Default)]
struct Counts {
    edits: u64,
    runs: u64,
    crashed: u64,
    cancelled: u64,
    /// Versions found only under a conflict name at the end (kept, not lost).
    kept_as_conflicts: u64,
}

fn run_seed(seed: u64, rounds: u32) -> Counts {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let ctl = Arc::new(Control::new());
    // Odd seeds on file backends, where the world is also tampered with.
    let on_files = seed % 2 == 1;
    let dirs = [TempDir::new().expect("tmp"), TempDir::new().expect("tmp")];
    let side = |i: usize| -> Crashy {
        let inner: Box<dyn Backend> = if on_files {
            Box::new(FileBackend::new(dirs[i].path()).expect("file backend"))
        } else {
            Box::new(MemoryBackend::new())
        };
        Crashy::over(inner, ctl.clone(), true)
    };
    let (a, b) = (side(0), side(1));
    let state = TempDir::new().expect("tmp");
    let strategy = STRATEGIES[(seed % STRATEGIES.len() as u64) as usize];
    let opts = BisyncOptions::new()
        .state_dir(state.path())
        .conflict(strategy)
        .max_delete_percent(100);
    let root = Path::root();
    put(&a, ANCHOR, b"anchor", t(0));
    let mut model = Model {
        required: BTreeMap::new(),
        superseded: HashSet::new(),
        next: 0,
        clock: 1,
        edits: 0,
    };
    for _ in 0..3 {
        let side: &dyn Backend = if rng.below(2) == 0 { &a } else { &b };
        model.edit(&mut rng, side);
    }
    model.snapshot([&a, &b]);
    let mut counts = Counts::default();
    let first = bisync(&a, &root, &b, &root, &opts.clone().resync(true)).expect("resync");
    first.result().expect("resync ok");
    let lock = std::fs::read_dir(state.path())
        .expect("state dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "lst"))
        .expect("a listing file")
        .with_extension("lck");
    let mut interrupted = false;

    for round in 0..rounds {
        for _ in 0..=rng.below(5) {
            let side: &dyn Backend = if rng.below(2) == 0 { &a } else { &b };
            model.edit(&mut rng, side);
        }
        let fs_dirs = on_files.then(|| [dirs[0].path(), dirs[1].path()]);
        for _ in 0..rng.below(3) {
            model.tamper(&mut rng, [&a, &b], fs_dirs);
        }
        if on_files && interrupted && rng.below(3) == 0 {
            // A kill mid-copy: a staged file nobody holds.
            let nanos = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .expect("now")
                .as_nanos();
            let name = format!(".omnistorage-tmp-4000000000-{round}-{nanos:016x}.x");
            let i = rng.below(2) as usize;
            std::fs::write(dirs[i].path().join(name), b"half").expect("stage");
        }
        if rng.below(8) == 0 {
            // A kill between creating the lock file and writing it.
            std::fs::write(&lock, b"").expect("empty lock");
        }
        model.snapshot([&a, &b]);
        let mode = rng.below(3);
        let cancel = Cancel::new();
        let mut this = opts.clone();
        if mode > 0 {
            let k = rng.below(8) as i64;
            ctl.arm(k, (mode == 2).then(|| cancel.clone()));
            this = this.cancel(&cancel);
        }
        let report = bisync(&a, &root, &b, &root, &this)
            .unwrap_or_else(|e| panic!("seed {seed} round {round}: {e}"));
        ctl.disarm();
        interrupted = !report.listings_saved;
        counts.runs += 1;
        match mode {
            1 => counts.crashed += 1,
            2 => counts.cancelled += 1,
            _ => {}
        }
        if mode == 0 {
            report
                .result()
                .unwrap_or_else(|e| panic!("seed {seed} round {round} (clean): {e}"));
        }
    }
    let last = bisync(&a, &root, &b, &root, &opts).expect("final run");
    last.result().expect("final run clean");
    let again = bisync(&a, &root, &b, &root, &opts).expect("settled run");
    assert_eq!(
        again.copied_to_path1
            + again.copied_to_path2
            + again.deleted_on_path1
            + again.deleted_on_path2
            + again.times_set,
        0,
        "seed {seed}: a clean run after a clean run does nothing"
    );
    let (ta, tb) = (tree(&a, ""), tree(&b, ""));
    assert_eq!(ta, tb, "seed {seed} ({strategy:?}): both sides identical");
    for path in ta.keys() {
        let p = Path::parse(path).expect("path");
        assert_eq!(
            a.stat(&p).expect("stat").modified,
            b.stat(&p).expect("stat").modified,
            "seed {seed} ({strategy:?}): the times of {path} converge"
        );
    }
    if on_files {
        for dir in &dirs {
            assert_eq!(
                staged_files(dir.path()),
                Vec::<std::path::PathBuf>::new(),
                "seed {seed}"
            );
        }
    }
    for (content, path) in &model.required {
        if model.superseded.contains(content) {
            continue;
        }
        let conflict = format!("{path}.conflict");
        let at_path = ta.get(path) == Some(content);
        let found = at_path
            || ta
                .iter()
                .any(|(q, c)| c == content && q.starts_with(&conflict));
        counts.kept_as_conflicts += u64::from(found && !at_path);
        assert!(
            found,
            "seed {seed} ({strategy:?}): version {:?} of {path} was lost; now {ta:?}",
            String::from_utf8_lossy(content)
        );
    }
    counts.edits = model.edits;
    counts
}

/// Issue 15's campaign 6 too: `OMNISTORAGE_CHAOS_BISYNC_RUNS` bisync runs in all (default
/// 1,000: 50 seeds of 20 rounds; `scripts/chaos` runs 10,000), a third of them crashed and a
/// third cancelled at a random step; `OMNISTORAGE_CHAOS_SEED` moves the seeds.
#[test]
fn random_edits_with_interrupted_runs_never_lose_a_version() {
    let runs = crate::support::env_size("OMNISTORAGE_CHAOS_BISYNC_RUNS", 1000);
    let base: u64 = std::env::var("OMNISTORAGE_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let started = std::time::Instant::now();
    let mut total = Counts::default();
    for seed in base..base + runs.div_ceil(20) {
        let c = run_seed(seed, 20);
        total.edits += c.edits;
        total.runs += c.runs;
        total.crashed += c.crashed;
        total.cancelled += c.cancelled;
        total.kept_as_conflicts += c.kept_as_conflicts;
    }
    println!(
        "CHAOS {{\"campaign\":\"bisync\",\"seed\":{base},\"runs\":{},\"edits\":{},\"crashed\":{},\"cancelled\":{},\"kept_as_conflicts\":{},\"lost\":0,\"secs\":{}}}",
        total.runs,
        total.edits,
        total.crashed,
        total.cancelled,
        total.kept_as_conflicts,
        started.elapsed().as_secs()
    );
    assert!(total.edits >= runs * 2, "{} edits", total.edits);
}

#[test]
fn a_crashed_run_is_recovered_by_the_next_one() {
    let ctl = Arc::new(Control::new());
    let (a, b) = (
        Crashy::with(ctl.clone(), true),
        Crashy::with(ctl.clone(), true),
    );
    let state = TempDir::new().expect("tmp");
    let opts = BisyncOptions::new().state_dir(state.path());
    let root = Path::root();
    put(&a, "keep", b"k", t(0));
    bisync(&a, &root, &b, &root, &opts.clone().resync(true))
        .expect("resync")
        .result()
        .expect("ok");
    for (i, name) in ["n1", "n2", "n3"].iter().enumerate() {
        put(&a, name, b"new", t(i as u64 + 1));
    }
    ctl.arm(1, None); // the second copy fails, and everything after it
    let crashed = bisync(&a, &root, &b, &root, &opts).expect("run");
    ctl.disarm();
    assert!(!crashed.failures.is_empty() && !crashed.listings_saved);
    assert!(b.contains("n1").expect("contains") && !b.contains("n2").expect("contains"));
    let next = bisync(&a, &root, &b, &root, &opts).expect("run");
    next.result().expect("ok");
    assert!(next.recovered && next.listings_saved);
    assert_eq!(
        (next.identical, next.copied_to_path2),
        (1, 2),
        "n1 was already across"
    );
    assert_eq!(tree(&a, ""), tree(&b, ""));
    let after = bisync(&a, &root, &b, &root, &opts).expect("run");
    assert!(!after.recovered);
}
