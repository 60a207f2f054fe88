//! `rclone sync` in a page: makes DST match SRC between any two backends, with the sync
//! engine (`omnistorage::sync`). The `omnistorage` command-line tool will grow out of this.
//!
//! ```text
//! cargo run --release --features sync --example sync -- [FLAGS] SRC DST
//!
//! # a local tree into a backup directory; the second run finds nothing to do
//! cargo run --release --features sync --example sync -- src /tmp/omnistorage-backup
//! # into a bucket (credentials from the URL, the environment or ~/.aws)
//! cargo run --release --features sync,s3 --example sync -- --checksum ./photos \
//!     's3://my-bucket/photos?endpoint=http://127.0.0.1:3900&provider=garage'
//! ```
//!
//! FLAGS: `--copy` / `--move` / `--check` (instead of sync), `--checksum`, `--size-only`,
//! `--dry-run`, `--transfers N`, `--checkers N`, `-v` (print each action). SRC and DST are
//! anything `omnistorage::open` takes with the features built in: local paths, `file://`,
//! `mem://`, `s3://`, `sftp://`. Prints a summary; exits 1 if anything failed, 2 on bad
//! usage, 3 if the source directory does not exist (rclone's codes).

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use omnistorage::sync::{self, Action, Compare, Options};
use omnistorage::{ErrorKind, Path};

fn usage() -> ExitCode {
    eprintln!(
        "usage: sync [--copy|--move|--check] [--checksum|--size-only] [--dry-run] \
         [--transfers N] [--checkers N] [-v] SRC DST"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut opts = Options::new();
    let mut verb = "sync";
    let mut positional = Vec::new();
    let verbose = Arc::new(AtomicBool::new(false));
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = || {
            args.next()
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|&n| n > 0)
        };
        opts = match arg.as_str() {
            "--copy" | "--move" | "--check" => {
                verb = if arg == "--copy" {
                    "copy"
                } else if arg == "--move" {
                    "move"
                } else {
                    "check"
                };
                opts
            }
            "--checksum" | "-c" => opts.compare(Compare::Checksum),
            "--size-only" => opts.compare(Compare::SizeOnly),
            "--dry-run" | "-n" => opts.dry_run(true),
            "-v" => {
                verbose.store(true, Ordering::Relaxed);
                opts
            }
            "--transfers" => match number() {
                Some(n) => opts.transfers(n),
                None => return usage(),
            },
            "--checkers" => match number() {
                Some(n) => opts.checkers(n),
                None => return usage(),
            },
            flag if flag.starts_with('-') && flag.len() > 1 => return usage(),
            _ => {
                positional.push(arg);
                opts
            }
        };
    }
    let [src, dst] = positional.as_slice() else {
        return usage();
    };
    let printing = verbose.clone();
    opts = opts.on_action(move |a| {
        if printing.load(Ordering::Relaxed) {
            match a {
                Action::Copy { path, reason, .. } => eprintln!("copied ({reason:?}): {path}"),
                Action::SetModified { path } => eprintln!("time set: {path}"),
                Action::Delete { path, .. } => eprintln!("deleted: {path}"),
                Action::DeleteSource { path } => eprintln!("moved: {path}"),
                Action::Skip { path, reason } => eprintln!("skipped ({reason:?}): {path}"),
                other => eprintln!("{other:?}"),
            }
        }
    });
    match run(verb, src, dst, &opts) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(match e.kind() {
                ErrorKind::NotFound => 3,
                ErrorKind::InvalidConfig | ErrorKind::InvalidInput | ErrorKind::InvalidPath => 2,
                _ => 1,
            })
        }
    }
}

fn run(verb: &str, src: &str, dst: &str, opts: &Options) -> omnistorage::Result<bool> {
    let (a, b) = (omnistorage::open(src)?, omnistorage::open(dst)?);
    let root = Path::root();
    if verb == "check" {
        let r = sync::check(a.as_ref(), &root, b.as_ref(), &root, opts)?;
        println!(
            "check: {} matching, {} differing, {} missing at the destination, {} missing at \
             the source, {} errors (hash: {:?})",
            r.matched.len(),
            r.differ.len(),
            r.missing_on_dst.len(),
            r.missing_on_src.len(),
            r.errors.len(),
            r.hash
        );
        return Ok(r.is_ok());
    }
    let r = match verb {
        "copy" => sync::copy(a.as_ref(), &root, b.as_ref(), &root, opts)?,
        "move" => sync::move_(a.as_ref(), &root, b.as_ref(), &root, opts)?,
        _ => sync::sync(a.as_ref(), &root, b.as_ref(), &root, opts)?,
    };
    println!(
        "{verb}{}: {} copied ({} bytes), {} times set, {} deleted, {} moved, {} unchanged, {} \
         skipped, {} failed in {:.2?}",
        if r.dry_run { " (dry run)" } else { "" },
        r.copied,
        r.copied_bytes,
        r.set_modified,
        r.deleted,
        r.source_deleted,
        r.unchanged,
        r.skipped,
        r.failures.len(),
        r.elapsed
    );
    for f in &r.failures {
        eprintln!("failed: {f}");
    }
    if r.deletes_held > 0 {
        eprintln!("{} deletions held back because of errors", r.deletes_held);
    }
    if let Some(e) = &r.stopped {
        eprintln!("stopped: {e}");
    }
    Ok(r.is_ok())
}
