//! sync, copy, move, copyto, moveto, check, cryptcheck/verify, dedupe, bisync.

use std::io::Write;

use omnistorage::sync::{self, BisyncOptions, CheckReport, Conflict, DedupeMode, Options, Report};
use omnistorage::{Cancel, Error, ErrorKind, Path};

use super::arity;
use crate::args::{Args, Usage};
use crate::{Outcome, exit, flags, remote};

/// A command's own failure as an outcome (printed once, by main).
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Ok(Outcome::Failed(e, false)),
        }
    };
}

pub fn run(command: &str, args: &Args, cancel: &Cancel) -> Result<Outcome, Usage> {
    match command {
        "sync" | "copy" | "move" => tree_transfer(command, args, cancel),
        "copyto" | "moveto" => one_transfer(command, args, cancel),
        "check" | "cryptcheck" | "verify" => check(command, args, cancel),
        "dedupe" => dedupe(args, cancel),
        "bisync" => bisync(args, cancel),
        _ => Err(Usage(format!("unknown command {command:?}"))),
    }
}

/// The options, with progress reporting as the flags ask.
fn options(args: &Args, cancel: &Cancel) -> Result<Options, Error> {
    let mut o = flags::options(args, cancel)?;
    let quiet = args.on("quiet");
    let every = match args.value("stats") {
        Some(v) => Some(omnistorage::sync::filter::parse_duration(v)?),
        None if args.on("progress") => Some(std::time::Duration::from_millis(500)),
        None => None,
    };
    if let Some(every) = every.filter(|d| !d.is_zero() && !quiet) {
        let live = args.on("progress") && std::io::IsTerminal::is_terminal(&std::io::stderr());
        o = o.progress(every, move |s| {
            let line = crate::commands::transfer::stats_line(s);
            let mut err = std::io::stderr().lock();
            let _ = if live {
                write!(err, "\r\x1b[2K{line}")
            } else {
                writeln!(err, "{line}")
            };
        });
    }
    if args.count("verbose") > 0 && !quiet {
        o = o.on_action(|a| eprintln!("INFO  : {}", describe(a)));
    }
    Ok(o)
}

/// One line of stats, rclone's shape.
pub fn stats_line(s: &omnistorage::sync::progress::Snapshot) -> String {
    let pct = (s.bytes * 100).checked_div(s.total_bytes).unwrap_or(0);
    let eta = s
        .eta
        .map(|d| format!("{}s", d.as_secs()))
        .unwrap_or_else(|| "-".into());
    format!(
        "Transferred: {} / {} bytes, {pct}%, {:.0} B/s, ETA {eta}; files {} / {}, checks {}, deletes {}, errors {}",
        s.bytes,
        s.total_bytes,
        s.speed,
        s.transfers,
        s.total_transfers,
        s.checks,
        s.deletes,
        s.errors
    )
}

fn describe(a: &sync::Action) -> String {
    match a {
        sync::Action::Copy { path, reason, .. } => format!("{path}: Copied ({reason:?})"),
        sync::Action::SetModified { path } => format!("{path}: Updated modification time"),
        sync::Action::Delete { path, .. } => format!("{path}: Deleted"),
        sync::Action::DeleteSource { path } => format!("{path}: Moved (source deleted)"),
        sync::Action::Skip { path, reason } => format!("{path}: Skipped ({reason:?})"),
        other => format!("{other:?}"),
    }
}

/// The summary at the end (stderr, not with -q), and failures, one line each.
fn summary(args: &Args, r: &Report) {
    if args.on("quiet") {
        return;
    }
    if args.on("progress") && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        eprintln!();
    }
    for f in &r.failures {
        eprintln!("ERROR : {f}");
    }
    if r.deletes_held > 0 {
        eprintln!(
            "ERROR : not deleting {} files as there were errors",
            r.deletes_held
        );
    }
    if let Some(e) = &r.stopped {
        eprintln!("ERROR : stopped: {e}");
    }
    eprintln!(
        "Transferred: {} files, {} bytes{}; checks {}, times set {}, deleted {}, moved {}, skipped {}; errors {}; elapsed {:.1?}",
        r.copied,
        r.copied_bytes,
        if r.dry_run { " (dry run)" } else { "" },
        r.unchanged,
        r.set_modified,
        r.deleted,
        r.source_deleted,
        r.skipped,
        r.failures.len(),
        r.elapsed
    );
}

fn tree_transfer(command: &str, args: &Args, cancel: &Cancel) -> Result<Outcome, Usage> {
    arity(args, command, 2, 2, "SRC DST")?;
    let opts = tri!(options(args, cancel));
    let src = tri!(remote::tree(&args.rest[0]));
    let dst = tri!(remote::tree(&args.rest[1]));
    let (a, b) = (src.backend.as_ref(), dst.backend.as_ref());
    let r = tri!(match command {
        "sync" => sync::sync(a, &src.path, b, &dst.path, &opts),
        "copy" => sync::copy(a, &src.path, b, &dst.path, &opts),
        _ => sync::move_(a, &src.path, b, &dst.path, &opts),
    });
    summary(args, &r);
    Ok(Outcome::Code(exit::of_report(
        &r,
        args.on("error-on-no-transfer"),
    )))
}

/// copyto / moveto: one object to exactly the named destination (a tree: like copy/move).
fn one_transfer(command: &str, args: &Args, cancel: &Cancel) -> Result<Outcome, Usage> {
    arity(args, command, 2, 2, "SRC DST")?;
    let src = tri!(remote::object_or_local(&args.rest[0]));
    let is_object = matches!(src.backend.stat(&src.path), Ok(e) if !e.is_dir);
    if !is_object {
        let tree = if command == "copyto" { "copy" } else { "move" };
        return tree_transfer(tree, args, cancel);
    }
    let dst = tri!(remote::object_or_local(&args.rest[1]));
    if args.on("dry-run") {
        eprintln!("NOTICE: {}: skipped {command} (dry run)", args.rest[0]);
        return Ok(Outcome::Code(exit::OK));
    }
    let (a, b) = (src.backend.as_ref(), dst.backend.as_ref());
    let done = if command == "copyto" {
        omnistorage::copy_path(a, &src.path, b, &dst.path)
    } else {
        omnistorage::move_path(a, &src.path, b, &dst.path)
    };
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

fn check(command: &str, args: &Args, cancel: &Cancel) -> Result<Outcome, Usage> {
    arity(args, command, 2, 2, "SRC DST")?;
    let opts = tri!(options(args, cancel));
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
    if !args.on("quiet") {
        for p in &r.differ {
            eprintln!("ERROR : {p}: sizes or hashes differ");
        }
        for p in &r.missing_on_dst {
            eprintln!("ERROR : {p}: file not in {}", args.rest[1]);
        }
        for p in &r.missing_on_src {
            eprintln!("ERROR : {p}: file not in {}", args.rest[0]);
        }
        for f in &r.errors {
            eprintln!("ERROR : {f}");
        }
        let differences =
            r.differ.len() + r.missing_on_dst.len() + r.missing_on_src.len() + r.errors.len();
        eprintln!(
            "NOTICE: {differences} differences found; {} matching files (hash: {})",
            r.matched.len(),
            r.hash
                .map_or("none, sizes only".to_string(), |h| h.to_string())
        );
    }
    if let Some(e) = &r.stopped {
        return Ok(Outcome::Failed(e.clone(), false));
    }
    Ok(Outcome::Code(if r.is_ok() {
        exit::OK
    } else {
        exit::USAGE
    }))
}

fn dedupe(args: &Args, cancel: &Cancel) -> Result<Outcome, Usage> {
    arity(args, "dedupe", 1, 2, "[MODE] PATH")?;
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
    let opts = tri!(options(args, cancel));
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
        eprintln!("NOTICE: {from}: renamed to {to}");
    }
    for f in &r.failures {
        eprintln!("ERROR : {f}");
    }
    Ok(Outcome::Code(if r.failures.is_empty() {
        exit::OK
    } else {
        exit::USAGE
    }))
}

fn bisync(args: &Args, cancel: &Cancel) -> Result<Outcome, Usage> {
    arity(args, "bisync", 2, 2, "PATH1 PATH2")?;
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
    if !args.on("quiet") {
        for c in &r.conflicts {
            eprintln!("NOTICE: {c:?}");
        }
        eprintln!("NOTICE: bisync done: {r:?}");
    }
    match r.result() {
        Ok(()) => Ok(Outcome::Code(exit::OK)),
        Err(e) if e.kind() == ErrorKind::Cancelled => Ok(Outcome::Code(exit::INTERRUPTED)),
        Err(e) => Ok(Outcome::Failed(e, false)),
    }
}
