//! sync, copy, move, copyto, moveto, check, cryptcheck/verify, dedupe, bisync.

use std::io::Write;
use std::sync::{Arc, Mutex};

use omnistorage::sync::{self, BisyncOptions, CheckReport, Conflict, DedupeMode, Options, Report};
use omnistorage::{Cancel, Error, ErrorKind, Path};

use crate::args::{Args, Usage};
use crate::output::{Level, Output};
use crate::{Outcome, exit, flags, remote};
use omnistorage::sync::progress::Snapshot;

/// A command's own failure as an outcome (printed once, by main).
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Ok(Outcome::Failed(e, false)),
        }
    };
}

/// The last progress snapshot a run reported (for the summary at its end).
type Last = Arc<Mutex<Option<Snapshot>>>;

/// How the lines of one run name their object: the path the engine reports, or (copyto,
/// moveto) the source's name, with the destination's name after a copy when it differs
/// (rclone's `a.txt: Copied (new) to: b.txt`).
#[derive(Clone, Default)]
struct Naming {
    /// The source's name, for a run of one object.
    source: Option<String>,
    /// The destination's name, when it differs from the source's.
    to: Option<String>,
}

/// The options, with progress and per-object lines as the flags ask.
fn options(args: &Args, cancel: &Cancel, out: &Output) -> Result<(Options, Last), Error> {
    options_named(args, cancel, out, "copy", Naming::default())
}

/// [`options`] for `command` (a dry run's lines name what it skips: copy or move), naming
/// objects as `naming` says.
fn options_named(
    args: &Args,
    cancel: &Cancel,
    out: &Output,
    command: &str,
    naming: Naming,
) -> Result<(Options, Last), Error> {
    let mut o = flags::options(args, cancel)?;
    let last: Last = Arc::new(Mutex::new(None));
    let keep = last.clone();
    let show = out
        .progress_every()
        .map(|every| (every, out.progress_callback()));
    // Called at a steady rate and once at the end: the last call is the final count.
    let every = show
        .as_ref()
        .map_or(std::time::Duration::from_secs(3600), |(e, _)| *e);
    o = o.progress(every, move |s| {
        if let Ok(mut l) = keep.lock() {
            *l = Some(s.clone());
        }
        if let Some((_, draw)) = &show {
            draw(s);
        }
    });
    // A dry run's notices show without -v; the rest from -v (info) or -vv (debug) up.
    let dry_run = args.on("dry-run");
    if out.enabled(Level::Info) || (dry_run && out.enabled(Level::Notice)) {
        let log = out.clone();
        let moving = command.starts_with("move");
        o = o.on_action(move |a| {
            let object = naming.source.as_deref().unwrap_or(a.path().as_str());
            for (level, mut msg) in describe(a, dry_run, moving) {
                if let (Some(to), sync::Action::Copy { .. } | sync::Action::Moved { .. }) =
                    (&naming.to, a)
                    && level == Level::Info
                {
                    msg.push_str(&format!(" to: {to}"));
                }
                log.at(level, Some(object), &msg);
            }
        });
    }
    Ok((o, last))
}

/// The log lines of one action, as rclone words them: what was done at INFO (in a dry run,
/// what was not done, at NOTICE), and why at DEBUG.
fn describe(a: &sync::Action, dry_run: bool, moving: bool) -> Vec<(Level, String)> {
    use sync::{Action, Reason, SkipReason};
    let skipped = |what: &str, size: Option<u64>| {
        let size = size.map(|n| format!(" (size {n})")).unwrap_or_default();
        (
            Level::Notice,
            format!("Skipped {what} as --dry-run is set{size}"),
        )
    };
    match a {
        Action::Copy { reason, size, .. } => {
            let why = match reason {
                Reason::New => "Need to transfer - File not found at Destination",
                Reason::Size => "Sizes differ",
                Reason::Time => "Modification times differ",
                Reason::Hash => "Hashes differ",
                Reason::Always => "Transferring unconditionally as --ignore-times is in use",
                _ => "Need to transfer",
            };
            let done = if dry_run {
                skipped(if moving { "move" } else { "copy" }, Some(*size))
            } else if *reason == Reason::New {
                (Level::Info, "Copied (new)".into())
            } else {
                (Level::Info, "Copied (replaced existing)".into())
            };
            vec![(Level::Debug, why.into()), done]
        }
        Action::SetModified { .. } if dry_run => {
            vec![skipped("update modification time", None)]
        }
        Action::SetModified { .. } => {
            vec![(
                Level::Info,
                "Updated modification time in destination".into(),
            )]
        }
        Action::Delete { size, .. } if dry_run => vec![skipped("delete", Some(*size))],
        Action::Delete { .. } => vec![(Level::Info, "Deleted".into())],
        // A dry run's move said "Skipped move" already.
        Action::DeleteSource { .. } if dry_run => Vec::new(),
        Action::DeleteSource { .. } => vec![(Level::Info, "Deleted".into())],
        Action::Skip { reason, .. } => {
            let why = match reason {
                SkipReason::Exists => "Destination exists, skipping",
                SkipReason::Newer => "Destination is newer than source, skipping",
                _ => "Skipping",
            };
            vec![(Level::Debug, why.into())]
        }
        Action::Moved { .. } => vec![(Level::Info, "Moved (server-side)".into())],
        Action::Unchanged { .. } => vec![(Level::Debug, "Unchanged skipping".into())],
        other => vec![(Level::Debug, format!("{other:?}"))],
    }
}

/// The end of a run: failures one line each, what was held back, and the summary (with -P
/// or -v, as rclone).
fn summary(out: &Output, r: &Report, last: &Last) {
    for f in &r.failures {
        out.error(
            Some(f.path.as_str()),
            &format!("{} failed: {}", f.op, f.error),
        );
    }
    if r.deletes_held > 0 {
        let msg = format!(
            "not deleting {} files as there were IO errors",
            r.deletes_held
        );
        out.error(None, &msg);
    }
    if let Some(e) = &r.stopped {
        out.error(None, &format!("stopped: {e}"));
    }
    if let Some(s) = last.lock().ok().and_then(|l| l.clone()) {
        out.finish(&s);
    }
}

/// sync, copy, move: one tree into another; a file as the source goes into the destination
/// directory under its own name, compared as a sync compares (as rclone does; a sync of
/// one file deletes nothing).
pub(super) fn tree_transfer(
    command: &str,
    args: &Args,
    cancel: &Cancel,
    out: &Output,
) -> Result<Outcome, Usage> {
    out.debug(
        None,
        &format!("{command}: {} -> {}", args.rest[0], args.rest[1]),
    );
    // These upload through the engine: S3 uploads a killed run left are resumed.
    let journal = !args.on("no-upload-journal");
    if let Some(src) = one_object(&args.rest[0]) {
        let (dst, backup) = tri!(destination(args, remote::tree_with, journal));
        let to = tri!(dst.path.join_str(src.path.file_name().unwrap_or_default()));
        return file_transfer(command, args, cancel, out, &src, (&dst, backup), &to);
    }
    let (mut opts, last) = tri!(options_named(args, cancel, out, command, Naming::default()));
    let src = tri!(remote::tree(&args.rest[0]));
    let (dst, backup) = tri!(destination(args, remote::tree_with, journal));
    if let Some(dir) = backup {
        opts = opts.backup_dir(dir);
    }
    opts = tri!(sided_bwlimit(args, opts, &src, &dst));
    let (a, b) = (src.backend.as_ref(), dst.backend.as_ref());
    let r = tri!(match command {
        "sync" => sync::sync(a, &src.path, b, &dst.path, &opts),
        "copy" => sync::copy(a, &src.path, b, &dst.path, &opts),
        _ => sync::move_(a, &src.path, b, &dst.path, &opts),
    });
    summary(out, &r, &last);
    Ok(Outcome::Code(exit::of_report(
        &r,
        args.on("error-on-no-transfer"),
    )))
}

/// The destination (the second argument) opened by `open`, or, with `--backup-dir`, where
/// it and the backup directory both lie (rclone: the backup directory is on the same
/// remote), with the backup directory's path there.
fn destination(
    args: &Args,
    open: fn(&str, bool) -> Result<remote::Opened, Error>,
    journal: bool,
) -> Result<(remote::Opened, Option<Path>), Error> {
    match args.value("backup-dir") {
        Some(dir) => {
            let (dst, dir) = remote::tree_with_backup(&args.rest[1], dir, journal)?;
            Ok((dst, Some(dir)))
        }
        None => Ok((open(&args.rest[1], journal)?, None)),
    }
}

/// `opts` with the `--bwlimit` for these two sides (`UP:DOWN` needs them:
/// [`flags::bwlimit`]).
fn sided_bwlimit(
    args: &Args,
    opts: Options,
    src: &remote::Opened,
    dst: &remote::Opened,
) -> Result<Options, Error> {
    let local = |o: &remote::Opened| o.backend.capabilities().local;
    Ok(match flags::bwlimit(args, local(src), local(dst))? {
        Some(limit) => opts.bwlimit(limit),
        None => opts,
    })
}

/// `spec` opened at its parent, if it names one object (not a directory, not nothing).
fn one_object(spec: &str) -> Option<remote::Opened> {
    let src = remote::object_or_local(spec).ok()?;
    match src.backend.stat(&src.path) {
        Ok(e) if !e.is_dir => Some(src),
        _ => None,
    }
}

/// copyto / moveto: one object to exactly the named destination (a tree: like copy/move).
pub(super) fn one_transfer(
    command: &str,
    args: &Args,
    cancel: &Cancel,
    out: &Output,
) -> Result<Outcome, Usage> {
    let Some(src) = one_object(&args.rest[0]) else {
        let tree = if command == "copyto" { "copy" } else { "move" };
        return tree_transfer(tree, args, cancel, out);
    };
    let journal = !args.on("no-upload-journal");
    let (dst, backup) = tri!(destination(args, remote::object_or_local_with, journal));
    if backup.is_some() {
        // Rooted where the backup directory lies too: the path names the object.
        let to = dst.path.clone();
        return file_transfer(command, args, cancel, out, &src, (&dst, backup), &to);
    }
    file_transfer(command, args, cancel, out, &src, (&dst, None), &dst.path)
}

/// One object `src` to `to` on `dst`'s backend, through the sync engine's one-object route
/// ([`sync::copy_file`], [`sync::move_file`]): compared as sync compares (an unchanged
/// destination is left alone; a move then deletes the source), with the run's dry run,
/// backups, bandwidth limit, cancel, progress and log lines. The copy carries a resume
/// identity and the S3 remotes keep the upload journal (as for sync and copy), so an
/// upload a killed `copyto` left is taken up by the next one.
fn file_transfer(
    command: &str,
    args: &Args,
    cancel: &Cancel,
    out: &Output,
    src: &remote::Opened,
    (dst, backup): (&remote::Opened, Option<Path>),
    to: &Path,
) -> Result<Outcome, Usage> {
    let name = |p: &Path| p.file_name().unwrap_or_default().to_owned();
    let source = name(&src.path);
    let target = name(to);
    let naming = Naming {
        to: (target != source).then_some(target),
        source: Some(source),
    };
    let (mut opts, last) = tri!(options_named(args, cancel, out, command, naming));
    if let Some(dir) = backup {
        opts = opts.backup_dir(dir);
    }
    opts = tri!(sided_bwlimit(args, opts, src, dst));
    let (a, b) = (src.backend.as_ref(), dst.backend.as_ref());
    let done = if command.starts_with("move") {
        sync::move_file(a, &src.path, b, to, &opts)
    } else {
        sync::copy_file(a, &src.path, b, to, &opts)
    };
    let r = match done {
        Ok(r) => r,
        Err(e) => return Ok(Outcome::Failed(e, true)),
    };
    summary(out, &r, &last);
    Ok(Outcome::Code(exit::of_report(
        &r,
        args.on("error-on-no-transfer"),
    )))
}

/// Writes one path a line to a report file (`-` is stdout).
fn report_file(name: &str, lines: &[String]) -> Result<(), Error> {
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    if name == "-" {
        let mut out = std::io::stdout().lock();
        return out.write_all(text.as_bytes()).map_err(Error::from);
    }
    std::fs::write(name, text).map_err(|e| Error::from(e).with_path(name))
}

pub(super) fn check(
    command: &str,
    args: &Args,
    cancel: &Cancel,
    out: &Output,
) -> Result<Outcome, Usage> {
    let (opts, _) = tri!(options(args, cancel, out));
    let src = tri!(remote::tree(&args.rest[0]));
    let dst = tri!(remote::tree(&args.rest[1]));
    let (a, b) = (src.backend.as_ref(), dst.backend.as_ref());
    let download = command != "check" || args.on("download");
    let r: CheckReport = tri!(if download {
        sync::verify(a, &src.path, b, &dst.path, &opts)
    } else {
        sync::check(a, &src.path, b, &dst.path, &opts)
    });
    let paths = |v: &[Path]| v.iter().map(|p| p.to_string()).collect::<Vec<_>>();
    let files = [
        (
            "combined",
            r.combined()
                .iter()
                .map(|(c, p)| format!("{c} {p}"))
                .collect(),
        ),
        ("missing-on-src", paths(&r.missing_on_src)),
        ("missing-on-dst", paths(&r.missing_on_dst)),
        ("match", paths(&r.matched)),
        ("differ", paths(&r.differ)),
        (
            "error",
            r.errors.iter().map(|f| f.path.to_string()).collect(),
        ),
    ];
    for (flag, lines) in files {
        if let Some(name) = args.value(flag) {
            tri!(report_file(name, &lines));
        }
    }
    for p in &r.differ {
        out.error(Some(p.as_str()), "sizes or hashes differ");
    }
    for p in &r.missing_on_dst {
        out.error(Some(p.as_str()), &format!("file not in {}", args.rest[1]));
    }
    for p in &r.missing_on_src {
        out.error(Some(p.as_str()), &format!("file not in {}", args.rest[0]));
    }
    for f in &r.errors {
        out.error(Some(f.path.as_str()), &f.error.to_string());
    }
    let differences =
        r.differ.len() + r.missing_on_dst.len() + r.missing_on_src.len() + r.errors.len();
    let hash = r
        .hash
        .map_or("none, sizes only".to_string(), |h| h.to_string());
    let msg = format!(
        "{differences} differences found; {} matching files (hash: {hash})",
        r.matched.len()
    );
    out.notice(None, &msg);
    if let Some(e) = &r.stopped {
        return Ok(Outcome::Failed(e.clone(), false));
    }
    Ok(Outcome::Code(if r.is_ok() {
        exit::OK
    } else {
        exit::USAGE
    }))
}

/// dedupe, as rclone: by name unless `--by-hash`. Duplicate names exist only on stores
/// whose listings can repeat a name (rclone's Google Drive); every backend here lists each
/// path once (the listing contract), so by name there is nothing to find, and the run says
/// so (rclone's notice) and changes nothing. `--by-hash` finds the objects with identical
/// content ([`sync::dedupe`]) and applies the mode.
pub(super) fn dedupe(args: &Args, cancel: &Cancel, out: &Output) -> Result<Outcome, Usage> {
    let (mode, path) = match args.rest.as_slice() {
        [mode, path] => (Some(mode.as_str()), path),
        [path] => (args.value("dedupe-mode"), path),
        _ => return Err(Usage("dedupe: expected [MODE] PATH".into())),
    };
    // By hash every copy of a group has the same size: largest and smallest keep the first,
    // as rclone keeps the first among equals; skip changes nothing (the copies are
    // identical, which rclone's skip leaves to the other modes).
    let mode = match mode.unwrap_or("list") {
        "list" | "skip" => DedupeMode::List,
        "first" | "largest" | "smallest" => DedupeMode::KeepFirst,
        "newest" => DedupeMode::KeepNewest,
        "oldest" => DedupeMode::KeepOldest,
        "rename" => DedupeMode::Rename,
        "interactive" => {
            return Err(Usage(
                "dedupe: the interactive mode is not supported: choose --dedupe-mode \
                 (skip, first, newest, oldest, largest, smallest, rename, list)"
                    .into(),
            ));
        }
        other => {
            return Err(Usage(format!(
                "dedupe: unknown mode {other:?} (skip, first, newest, oldest, largest, \
                 smallest, rename, list)"
            )));
        }
    };
    let target = tri!(remote::tree(path));
    if !args.on("by-hash") {
        let msg = "Can't have duplicate names here. Perhaps you wanted --by-hash ? \
                   Continuing anyway.";
        out.notice(Some(path), msg);
        return Ok(Outcome::Code(exit::OK));
    }
    let (opts, _) = tri!(options(args, cancel, out));
    let r = tri!(sync::dedupe(
        target.backend.as_ref(),
        &target.path,
        mode,
        &opts
    ));
    let kind = r.hash.map_or("hash".to_string(), |h| h.to_string());
    for g in &r.groups {
        let hex = g.hash.to_hex();
        let found = format!("Found {} files with duplicate {kind} hashes", g.paths.len());
        out.notice(Some(&hex), &found);
        if mode == DedupeMode::List {
            println!("{hex} {} bytes, {} copies:", g.size, g.paths.len());
            for p in &g.paths {
                println!("  {p}");
            }
        } else if matches!(
            mode,
            DedupeMode::KeepFirst | DedupeMode::KeepNewest | DedupeMode::KeepOldest
        ) {
            let n = g.paths.len().saturating_sub(1);
            out.notice(Some(&hex), &format!("Deleted {n} extra copies"));
        }
    }
    for (from, to) in &r.renamed {
        out.notice(Some(from.as_str()), &format!("Renamed to {to:?}"));
    }
    for f in &r.failures {
        out.error(
            Some(f.path.as_str()),
            &format!("{} failed: {}", f.op, f.error),
        );
    }
    Ok(Outcome::Code(if r.failures.is_empty() {
        exit::OK
    } else {
        exit::USAGE
    }))
}

pub(super) fn bisync(args: &Args, cancel: &Cancel, out: &Output) -> Result<Outcome, Usage> {
    let conflict = match args.value("conflict-resolve").unwrap_or("none") {
        "none" => Conflict::KeepBoth,
        "newer" => Conflict::Newer,
        "older" => Conflict::Older,
        "larger" => Conflict::Larger,
        "smaller" => Conflict::Smaller,
        "path1" => Conflict::Path1,
        "path2" => Conflict::Path2,
        other => return Err(Usage(format!("--conflict-resolve: unknown {other:?}"))),
    };
    let mut o = BisyncOptions::new()
        .resync(args.on("resync"))
        .conflict(conflict)
        .check_access(args.on("check-access"))
        .dry_run(args.on("dry-run"))
        .checksum(args.on("checksum"))
        .cancel(cancel);
    if let Some(dir) = args.value("workdir") {
        o = o.state_dir(dir);
    }
    if let Some(f) = tri!(flags::filter(args)) {
        o = o.filter(f);
    }
    let p1 = tri!(remote::tree(&args.rest[0]));
    let p2 = tri!(remote::tree(&args.rest[1]));
    let r = tri!(sync::bisync(
        p1.backend.as_ref(),
        &p1.path,
        p2.backend.as_ref(),
        &p2.path,
        &o
    ));
    for c in &r.conflicts {
        let msg = format!("conflict: {:?}, kept as {:?}", c.resolution, c.kept_as);
        out.notice(Some(c.path.as_str()), &msg);
    }
    out.info(None, &format!("bisync done: {r:?}"));
    match r.result() {
        Ok(()) => Ok(Outcome::Code(exit::OK)),
        Err(e) if e.kind() == ErrorKind::Cancelled => Ok(Outcome::Code(exit::INTERRUPTED)),
        Err(e) => Ok(Outcome::Failed(e, false)),
    }
}
