//! `check` and `verify`: compare two trees without changing either.

use std::sync::Mutex;
use std::sync::mpsc::sync_channel;

use super::Options;
use super::compare::Rules;
use super::exec::{Gate, pool};
use super::plan::{Merge, Pair};
use super::report::{CheckReport, Failure, Op};
use super::transfer::Sides;
use super::walk::{Batch, Walk};
use crate::retry::Retry;
use crate::{Entry, Error, ErrorKind, HashKind, Path, Result};

/// Compares every pair: sizes, then `hash` (read where a side stores none) when given.
pub(crate) fn run(
    sides: &Sides<'_>,
    opts: &Options,
    rules: &Rules,
    verify: bool,
) -> Result<CheckReport> {
    // `check` compares by a hash both sides give cheaply (or sizes alone, as rclone does);
    // `verify` reads both sides where it must.
    let hash = if verify {
        rules.checksum
    } else {
        rules.time_hash
    };
    let out = Mutex::new(CheckReport {
        hash,
        ..CheckReport::default()
    });
    let checkers = pool(opts.checkers, "checker")?;
    let retry = Retry::new(opts.low_level_retries, opts.retry_base);
    let filter = opts.filter.as_ref().filter(|f| !f.is_empty());
    let cancel = opts.cancel.as_ref();
    let gate = Gate::new(4 * opts.checkers + 64);
    let push = |f: &dyn Fn(&mut CheckReport)| {
        let mut r = out.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut r);
    };
    std::thread::scope(|threads| {
        let (stx, srx) = sync_channel::<Batch>(8);
        let (dtx, drx) = sync_channel::<Batch>(8);
        for (tx, backend, root) in [
            (stx, sides.src, sides.src_root),
            (dtx, sides.dst, sides.dst_root),
        ] {
            threads.spawn(move || {
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
        }
        checkers.in_place_scope(|cs| {
            for pair in Merge::new(srx.into_iter().flatten(), drx.into_iter().flatten()) {
                if cancel.is_some_and(|c| c.is_cancelled()) {
                    break;
                }
                match pair {
                    Pair::Failed(is_src, error) => {
                        let op = if is_src {
                            Op::ListSource
                        } else {
                            Op::ListDestination
                        };
                        push(&|r| {
                            r.errors.push(Failure {
                                path: Path::root(),
                                op,
                                error: error.clone(),
                            })
                        });
                    }
                    Pair::Objects {
                        src: Some(s),
                        dst: None,
                    } => {
                        push(&|r| r.missing_on_dst.push(s.path.clone()));
                    }
                    Pair::Objects {
                        src: None,
                        dst: Some(d),
                    } => {
                        if !opts.one_way {
                            push(&|r| r.missing_on_src.push(d.path.clone()));
                        }
                    }
                    Pair::Objects {
                        src: Some(s),
                        dst: Some(d),
                    } => {
                        if s.size != d.size || hash.is_none() {
                            let same = s.size == d.size;
                            push(&|r| {
                                if same { &mut r.matched } else { &mut r.differ }
                                    .push(s.path.clone())
                            });
                            continue;
                        }
                        let slot = gate.acquire();
                        let (retry, push) = (&retry, &push);
                        cs.spawn(move |_| {
                            let _slot = slot;
                            let Some(kind) = hash else { return };
                            match hashes(sides, retry, kind, &s, &d, cancel) {
                                Ok(true) => push(&|r| r.matched.push(s.path.clone())),
                                Ok(false) => push(&|r| r.differ.push(s.path.clone())),
                                Err(error) => push(&|r| {
                                    r.errors.push(Failure {
                                        path: s.path.clone(),
                                        op: Op::Hash,
                                        error: error.clone(),
                                    })
                                }),
                            }
                        });
                    }
                    Pair::Objects {
                        src: None,
                        dst: None,
                    } => {}
                }
            }
        });
    });
    let mut report = out.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(c) = cancel
        && c.is_cancelled()
    {
        report.stopped = Some(Error::from_kind(ErrorKind::Cancelled).with_operation("check"));
    }
    report.sort();
    Ok(report)
}

/// Whether both sides' `kind` hashes are equal (stored ones where the entries carry them).
fn hashes(
    sides: &Sides<'_>,
    retry: &Retry,
    kind: HashKind,
    s: &Entry,
    d: &Entry,
    cancel: Option<&crate::Cancel>,
) -> Result<bool> {
    let a = || match s.hash(kind) {
        Some(h) => Ok(h),
        None => retry.run(cancel, |_| {
            sides.src.hash(&sides.src_path(&s.path), kind, cancel)
        }),
    };
    let b = || match d.hash(kind) {
        Some(h) => Ok(h),
        None => retry.run(cancel, |_| {
            sides.dst.hash(&sides.dst_path(&d.path), kind, cancel)
        }),
    };
    // Both sides at once when both are read and big enough to pay for it.
    let (a, b) = if s.hash(kind).is_none() && d.hash(kind).is_none() && s.size >= 1 << 20 {
        rayon::join(a, b)
    } else {
        (a(), b())
    };
    Ok(a? == b?)
}
