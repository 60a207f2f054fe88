//! sync, copy, move, copyto, moveto, check, cryptcheck/verify, dedupe, bisync.

use std::io::Write;
use std::sync::{Arc, Mutex};

use omnistorage::sync::progress::{Stats, Ticker};
use omnistorage::sync::{self, BisyncOptions, CheckReport, Conflict, DedupeMode, Options, Report};
use omnistorage::{Cancel, CopyOptions, Error, ErrorKind, Path, Throttle};

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

/// The options, with progress and per-object lines as the flags ask.
fn options(args: &Args, cancel: &Cancel, out: &Output) -> Result<(Options, Last), Error> {
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
    if out.enabled(Level::Info) {
        let log = out.clone();
        o = o.on_action(move |a| log.info(Some(a.path().as_str()), &describe(a)));
    }
    Ok((o, last))
}

fn describe(a: &sync::Action) -> String {
    match a {
        sync::Action::Copy { reason, .. } => match reason {
            sync::Reason::New => "Copied (new)".into(),
            other => format!("Copied (replaced existing: {other:?})"),
        },
        sync::Action::SetModified { .. } => "Updated modification time in destination".into(),
        sync::Action::Delete { .. } => "Deleted".into(),
        sync::Action::DeleteSource { .. } => "Moved (source deleted)".into(),
        sync::Action::Skip { reason, .. } => format!("Skipped ({reason:?})"),
        other => format!("{other:?}"),
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
    if r.dry_run {
        out.notice(None, "dry run: nothing was changed");
    }
    if let Some(s) = last.lock().ok().and_then(|l| l.clone()) {
        out.finish(&s);
    }
}

pub(super) fn tree_transfer(
    command: &str,
    args: &Args,
    cancel: &Cancel,
    out: &Output,
) -> Result<Outcome, Usage> {
    let (opts, last) = tri!(options(args, cancel, out));
    out.debug(
        None,
        &format!("{command}: {} -> {}", args.rest[0], args.rest[1]),
    );
    // These upload through the engine: S3 uploads a killed run left are resumed.
    let journal = !args.on("no-upload-journal");
    let src = tri!(remote::tree(&args.rest[0]));
    let dst = tri!(remote::tree_with(&args.rest[1], journal));
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

/// copyto / moveto: one object to exactly the named destination (a tree: like copy/move),
/// through the library's copy route ([`omnistorage::copy_object`]) with the run's cancel,
/// bandwidth limit and progress. The copy carries a resume identity and the S3 remotes keep
/// the upload journal (as for sync and copy), so an upload a killed `copyto` left is taken
/// up by the next one.
pub(super) fn one_transfer(
    command: &str,
    args: &Args,
    cancel: &Cancel,
    out: &Output,
) -> Result<Outcome, Usage> {
    // The run's options (bandwidth limit, cancel) for the copy route.
    let opts = tri!(flags::options(args, cancel));
    let src = tri!(remote::object_or_local(&args.rest[0]));
    let listed = match src.backend.stat(&src.path) {
        Ok(e) if !e.is_dir => e,
        _ => {
            let tree = if command == "copyto" { "copy" } else { "move" };
            return tree_transfer(tree, args, cancel, out);
        }
    };
    let journal = !args.on("no-upload-journal");
    let dst = tri!(remote::object_or_local_with(&args.rest[1], journal));
    if args.on("dry-run") {
        out.notice(Some(&args.rest[0]), &format!("skipped {command} (dry run)"));
        return Ok(Outcome::Code(exit::OK));
    }
    let stats = Stats::new();
    stats.add_planned(1, listed.size);
    let ticker = match out.progress_every() {
        Some(every) => Some(tri!(Ticker::start(&stats, every, out.progress_callback()))),
        None => None,
    };
    let transfer = stats.start(src.path.as_str(), listed.size);
    let count = |n: u64| transfer.add(n);
    let mut copy = CopyOptions::new().cancel(cancel).progress(&count);
    copy.throttle = opts.bwlimit_value().map(|b| b as &dyn Throttle);
    let (a, b) = (src.backend.as_ref(), dst.backend.as_ref());
    let done = if command == "copyto" {
        omnistorage::copy_object(a, &src.path, b, &dst.path, Some(&listed), &copy)
    } else {
        omnistorage::move_object(a, &src.path, b, &dst.path, Some(&listed), &copy)
    };
    transfer.finish(done.is_ok());
    if let Some(ticker) = ticker {
        ticker.stop();
        out.finish(&stats.snapshot());
    }
    match done {
        Ok(_) => Ok(Outcome::Code(exit::OK)),
        Err(e) => Ok(Outcome::Failed(e, true)),
    }
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

pub(super) fn dedupe(args: &Args, cancel: &Cancel, out: &Output) -> Result<Outcome, Usage> {
    let (mode, path) = match args.rest.as_slice() {
        [mode, path] => (Some(mode.as_str()), path),
        [path] => (args.value("dedupe-mode"), path),
        _ => return Err(Usage("dedupe: expected [MODE] PATH".into())),
    };
    let mode = match mode.unwrap_or("list") {
        "list" => DedupeMode::List,
        "first" => DedupeMode::KeepFirst,
        "newest" => DedupeMode::KeepNewest,
        "oldest" => DedupeMode::KeepOldest,
        "rename" => DedupeMode::Rename,
        other => {
            return Err(Usage(format!(
                "dedupe: unknown mode {other:?} (list, first, newest, oldest, rename)"
            )));
        }
    };
    let (opts, _) = tri!(options(args, cancel, out));
    let target = tri!(remote::tree(path));
    let r = tri!(sync::dedupe(
        target.backend.as_ref(),
        &target.path,
        mode,
        &opts
    ));
    for g in &r.groups {
        println!(
            "{} {} bytes, {} copies:",
            g.hash.to_hex(),
            g.size,
            g.paths.len()
        );
        for p in &g.paths {
            let mark = if g.kept.as_ref() == Some(p) {
                " (kept)"
            } else {
                ""
            };
            println!("  {p}{mark}");
        }
    }
    for (from, to) in &r.renamed {
        out.notice(Some(from.as_str()), &format!("renamed to {to}"));
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
