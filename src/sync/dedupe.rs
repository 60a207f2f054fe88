//! `dedupe`: find objects with identical content under one root, and keep one of each.

use std::collections::HashMap;
use std::sync::Mutex;

use rayon::prelude::*;

use super::Options;
use super::exec::pool;
use super::report::{Failure, Op};
use super::walk::{Item, Walk};
use crate::retry::Retry;
use crate::{Backend, Entry, Error, ErrorKind, Hash, HashKind, Path, Result};

/// What [`dedupe`] does with each group of identical objects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DedupeMode {
    /// Report the groups; change nothing.
    #[default]
    List,
    /// Keep the first path of each group (in path order); delete the others.
    KeepFirst,
    /// Keep the most recently modified (the first path among equals); delete the others.
    KeepNewest,
    /// Keep the least recently modified (the first path among equals); delete the others.
    KeepOldest,
    /// Delete nothing: keep the first path, and rename each other copy to
    /// `stem-dupN.ext` (the first free `N` from 1), so the duplicates stand out for review.
    Rename,
}

/// One set of objects with identical content.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Duplicates {
    /// Their common size.
    pub size: u64,
    /// Their common hash.
    pub hash: Hash,
    /// Every path, in path order (relative to the root).
    pub paths: Vec<Path>,
    /// The one kept as it is (`None` with [`DedupeMode::List`]).
    pub kept: Option<Path>,
}

/// What [`dedupe`] found and did.
#[derive(Debug, Default)]
#[must_use]
#[non_exhaustive]
pub struct DedupeReport {
    /// The groups of identical objects, in path order of their first member.
    pub groups: Vec<Duplicates>,
    /// Objects deleted (or, in a dry run, that would be).
    pub deleted: u64,
    /// Objects renamed (or, in a dry run, that would be): `(from, to)`.
    pub renamed: Vec<(Path, Path)>,
    /// What failed, per object.
    pub failures: Vec<Failure>,
    /// The hash compared.
    pub hash: Option<HashKind>,
}

/// Finds the objects under `root` whose content is identical — equal size, then equal hash
/// (a stored one where the backend keeps one, otherwise computed by reading, only for sizes
/// that occur more than once) — and applies `mode` to each group. [`Options::filter`]
/// selects the objects, [`Options::dry_run`] reports without changing anything,
/// [`Options::checkers`] hash in parallel.
///
/// Memory: the listing is grouped by size, so it holds every listed entry at once (dedupe
/// needs all of them to find pairs).
///
/// ```
/// use omnistorage::sync::{self, DedupeMode, Options};
/// use omnistorage::{BackendExt, MemoryBackend, Path};
///
/// let b = MemoryBackend::new();
/// b.write_all("a/photo.jpg", b"same bytes")?;
/// b.write_all("b/copy.jpg", b"same bytes")?;
/// b.write_all("c/other.jpg", b"different!")?;
/// let r = sync::dedupe(&b, &Path::root(), DedupeMode::KeepFirst, &Options::new())?;
/// assert_eq!(r.groups.len(), 1);
/// assert_eq!(r.deleted, 1);
/// assert!(b.contains("a/photo.jpg")? && !b.contains("b/copy.jpg")?);
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub fn dedupe(
    backend: &dyn Backend,
    root: &Path,
    mode: DedupeMode,
    opts: &Options,
) -> Result<DedupeReport> {
    super::walk::check_source_root(backend, root)?;
    let caps = backend.capabilities();
    let kind = opts
        .hash
        .or_else(|| caps.hashes.union(caps.server_hashes).iter().next())
        .unwrap_or(HashKind::Md5);
    let mut report = DedupeReport {
        hash: Some(kind),
        ..DedupeReport::default()
    };
    // Group by size: only sizes seen twice can hold duplicates.
    let mut by_size: HashMap<u64, Vec<Entry>> = HashMap::new();
    let (tx, rx) = std::sync::mpsc::sync_channel(8);
    let filter = opts.filter.as_ref().filter(|f| !f.is_empty());
    let cancel = opts.cancel.as_ref();
    std::thread::scope(|s| {
        s.spawn(move || {
            Walk {
                backend,
                root,
                filter,
                with_excluded: false,
                cancel,
                empty_dirs: None,
            }
            .run(&tx);
        });
        for item in rx.into_iter().flatten() {
            match item {
                Item::Object { entry, .. } => by_size.entry(entry.size).or_default().push(entry),
                Item::Failed(error) => report.failures.push(Failure {
                    path: Path::root(),
                    op: Op::ListSource,
                    error,
                }),
            }
        }
    });
    let candidates: Vec<Entry> = by_size
        .into_values()
        .filter(|v| v.len() > 1)
        .flatten()
        .collect();
    // Hash the candidates on the checkers.
    let retry = Retry::new(opts.low_level_retries, opts.retry_base);
    let failures = Mutex::new(Vec::new());
    let hashed: Vec<(Entry, Hash)> = pool(opts.checkers, "checker")?.install(|| {
        candidates
            .into_par_iter()
            .filter_map(|e| {
                let full = root.join(&e.path);
                let got = match e.hash(kind) {
                    Some(h) => Ok(h),
                    None => retry.run(cancel, |_| backend.hash(&full, kind, cancel)),
                };
                match got {
                    Ok(h) => Some((e, h)),
                    Err(error) => {
                        let f = Failure {
                            path: e.path,
                            op: Op::Hash,
                            error,
                        };
                        failures.lock().unwrap_or_else(|p| p.into_inner()).push(f);
                        None
                    }
                }
            })
            .collect()
    });
    report
        .failures
        .extend(failures.into_inner().unwrap_or_else(|p| p.into_inner()));
    let mut groups: HashMap<(u64, Hash), Vec<Entry>> = HashMap::new();
    for (e, h) in hashed {
        groups.entry((e.size, h)).or_default().push(e);
    }
    let mut groups: Vec<((u64, Hash), Vec<Entry>)> =
        groups.into_iter().filter(|(_, v)| v.len() > 1).collect();
    for (_, v) in &mut groups {
        v.sort_by(|a, b| a.path.as_str().cmp(b.path.as_str()));
    }
    groups.sort_by(|a, b| a.1[0].path.as_str().cmp(b.1[0].path.as_str()));
    for ((size, hash), members) in groups {
        let keep = match mode {
            DedupeMode::List => None,
            DedupeMode::KeepFirst | DedupeMode::Rename => Some(0),
            DedupeMode::KeepNewest => newest(&members, true),
            DedupeMode::KeepOldest => newest(&members, false),
        };
        if let Some(k) = keep {
            for (_, e) in members.iter().enumerate().filter(|(i, _)| *i != k) {
                apply(backend, root, mode, e, opts, &mut report);
            }
        }
        report.groups.push(Duplicates {
            size,
            hash,
            paths: members.iter().map(|e| e.path.clone()).collect(),
            kept: keep.and_then(|k| members.get(k)).map(|e| e.path.clone()),
        });
    }
    Ok(report)
}

/// The index of the newest (or oldest) member; the first among equals.
fn newest(members: &[Entry], newest: bool) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, e) in members.iter().enumerate() {
        let better = match best.and_then(|b| members.get(b)) {
            None => true,
            Some(b) => match (e.modified, b.modified) {
                (Some(x), Some(y)) if newest => x > y,
                (Some(x), Some(y)) => x < y,
                (Some(_), None) => true,
                _ => false,
            },
        };
        if better {
            best = Some(i);
        }
    }
    best
}

/// Deletes (or renames) one duplicate.
fn apply(
    backend: &dyn Backend,
    root: &Path,
    mode: DedupeMode,
    e: &Entry,
    opts: &Options,
    report: &mut DedupeReport,
) {
    let full = root.join(&e.path);
    let fail = |report: &mut DedupeReport, op, error| {
        report.failures.push(Failure {
            path: e.path.clone(),
            op,
            error,
        })
    };
    if mode != DedupeMode::Rename {
        if !opts.dry_run
            && let Err(err) = backend.delete(&full)
        {
            return fail(report, Op::Delete, err);
        }
        report.deleted += 1;
        return;
    }
    let Some(to) = free_name(backend, &e.path, root) else {
        let err = Error::new(ErrorKind::AlreadyExists, "no free name for the duplicate");
        return fail(report, Op::Copy, err);
    };
    if !opts.dry_run
        && let Err(err) = crate::move_path(backend, &full, backend, &root.join(&to))
    {
        return fail(report, Op::Copy, err);
    }
    report.renamed.push((e.path.clone(), to));
}

/// `stem-dupN.ext` for the first `N` from 1 that names nothing yet.
fn free_name(backend: &dyn Backend, path: &Path, root: &Path) -> Option<Path> {
    let name = path.file_name()?;
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    let parent = path.parent().unwrap_or_else(Path::root);
    (1..1000).find_map(|n| {
        let candidate = parent.join_str(&format!("{stem}-dup{n}{ext}")).ok()?;
        match backend.exists(&root.join(&candidate)) {
            Ok(false) => Some(candidate),
            _ => None,
        }
    })
}
