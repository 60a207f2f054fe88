//! From flags to the sync engine's `Options` and `Filter`.

use std::time::Duration;

use omnistorage::sync::bwlimit::{BwLimit, Direction};
use omnistorage::sync::filter::Filter;
use omnistorage::sync::{Compare, DeleteMode, Options};
use omnistorage::units::{BareUnit, Timetable, parse_duration, parse_size};
use omnistorage::{Cancel, Error, ErrorKind};

use crate::args::Args;

fn bad(flag: &str, value: &str, e: &Error) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!(
            "invalid value {value:?} for --{flag}: {}",
            e.message().unwrap_or(e.kind().as_str())
        ),
    )
}

fn number<T: std::str::FromStr>(args: &Args, flag: &str) -> Result<Option<T>, Error> {
    match args.value(flag) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("invalid value {v:?} for --{flag}: not a number"),
            )
        }),
    }
}

/// A size flag: a bare number is KiB, as in rclone (`--min-size 100` is 100 KiB).
fn size(args: &Args, flag: &str) -> Result<Option<u64>, Error> {
    args.value(flag)
        .map(|v| parse_size(v, BareUnit::KiB).map_err(|e| bad(flag, v, &e)))
        .transpose()
}

/// A duration flag (`--max-age 1h30m`, `--stats 30s`; a bare number is seconds).
pub fn duration(args: &Args, flag: &str) -> Result<Option<Duration>, Error> {
    args.value(flag)
        .map(|v| parse_duration(v).map_err(|e| bad(flag, v, &e)))
        .transpose()
}

/// Reads a rules file named by a flag (`-` is stdin).
fn read_file(flag: &str, name: &str) -> Result<String, Error> {
    let text = if name == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map(|_| s)
    } else {
        std::fs::read_to_string(name)
    };
    text.map_err(|e| Error::from(e).with_message(format!("--{flag} {name}: cannot read it")))
}

/// A depth flag as rclone reads `--max-depth N`: `None` if not given, `Some(None)` for all
/// the way (0 or less), else the number of levels.
pub fn depth(args: &Args, flag: &str) -> Result<Option<Option<usize>>, Error> {
    let Some(v) = args.value(flag) else {
        return Ok(None);
    };
    let n: i64 = v.trim().parse().map_err(|_| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("invalid value {v:?} for --{flag}: not a number"),
        )
    })?;
    Ok(Some(usize::try_from(n).ok().filter(|&n| n > 0)))
}

/// The filter the flags describe, or `None` without filter flags.
pub fn filter(args: &Args) -> Result<Option<Filter>, Error> {
    let mut b = Filter::builder();
    let mut any = false;
    for p in args.values("include") {
        b = b.include(p);
        any = true;
    }
    for p in args.values("exclude") {
        b = b.exclude(p);
        any = true;
    }
    for r in args.values("filter") {
        b = b.filter(r);
        any = true;
    }
    for (flag, f) in [
        ("include-from", 0),
        ("exclude-from", 1),
        ("filter-from", 2),
        ("files-from", 3),
    ] {
        for name in args.values(flag) {
            let text = read_file(flag, name)?;
            b = match f {
                0 => b.include_from(&text, name),
                1 => b.exclude_from(&text, name),
                2 => b.filter_from(&text, name),
                _ => b.files_from(&text, name),
            };
            any = true;
        }
    }
    if let Some(n) = size(args, "min-size")? {
        b = b.min_size(n);
        any = true;
    }
    if let Some(n) = size(args, "max-size")? {
        b = b.max_size(n);
        any = true;
    }
    if let Some(d) = duration(args, "min-age")? {
        b = b.min_age(d);
        any = true;
    }
    if let Some(d) = duration(args, "max-age")? {
        b = b.max_age(d);
        any = true;
    }
    if args.on("ignore-case") {
        b = b.ignore_case(true);
    }
    // Listings also walk only so deep (`walk::depth`); the filter says the same of objects.
    if let Some(Some(n)) = depth(args, "max-depth")? {
        b = b.max_depth(n);
        any = true;
    }
    if !any {
        return Ok(None);
    }
    b.build().map(Some)
}

/// `--bwlimit` read whole: one rate, `UP:DOWN`, or a timetable of either.
fn timetable(args: &Args) -> Result<Option<Timetable>, Error> {
    args.value("bwlimit")
        .map(|v| Timetable::parse(v).map_err(|e| bad("bwlimit", v, &e)))
        .transpose()
}

/// The limit of `--bwlimit` for a transfer between a source and a destination that are
/// local or not: the same rate both ways limits every transfer (as rclone); with
/// `UP:DOWN`, the upload rates hold when the destination is not local, else the download
/// rates when the source is not local, and nothing between two local stores (rclone
/// limits its network transports with those).
pub fn bwlimit(args: &Args, src_local: bool, dst_local: bool) -> Result<Option<BwLimit>, Error> {
    let Some(t) = timetable(args)? else {
        return Ok(None);
    };
    if t.entries().iter().all(|(_, r)| r.up == r.down) {
        return Ok(BwLimit::scheduled(&t, Direction::Up));
    }
    Ok(match (src_local, dst_local) {
        (_, false) => BwLimit::scheduled(&t, Direction::Up).or_else(|| {
            (!src_local)
                .then(|| BwLimit::scheduled(&t, Direction::Down))
                .flatten()
        }),
        (false, true) => BwLimit::scheduled(&t, Direction::Down),
        (true, true) => None,
    })
}

/// The sync engine's options the flags describe.
pub fn options(args: &Args, cancel: &Cancel) -> Result<Options, Error> {
    let mut o = Options::new().cancel(cancel);
    let modes = [
        ("checksum", Compare::Checksum),
        ("size-only", Compare::SizeOnly),
        ("ignore-times", Compare::Always),
    ];
    for (flag, mode) in modes {
        if args.on(flag) {
            o = o.compare(mode);
        }
    }
    o = o
        .dry_run(args.on("dry-run"))
        .ignore_size(args.on("ignore-size"))
        .ignore_existing(args.on("ignore-existing"))
        .update(args.on("update"))
        .metadata(args.on("metadata"))
        .delete_excluded(args.on("delete-excluded"))
        .delete_empty_src_dirs(args.on("delete-empty-src-dirs"))
        .one_way(args.on("one-way"));
    if let Some(w) = duration(args, "modify-window")? {
        o = o.modify_window(w);
    }
    if let Some(n) = number::<usize>(args, "transfers")? {
        o = o.transfers(n);
    }
    if let Some(n) = number::<usize>(args, "checkers")? {
        o = o.checkers(n);
    }
    if let Some(n) = number::<u32>(args, "retries")? {
        // rclone's --retries counts attempts (3 = try up to 3 times).
        o = o.retries(n.saturating_sub(1));
    }
    if let Some(n) = number::<u32>(args, "low-level-retries")? {
        o = o.low_level_retries(n);
    }
    if let Some(n) = number::<u64>(args, "max-delete")? {
        o = o.max_delete(n);
    }
    if let Some(n) = size(args, "max-transfer")? {
        o = o.max_transfer(n);
    }
    if let Some(n) = number::<u64>(args, "max-errors")? {
        o = o.max_errors(n);
    }
    // The same limit both ways holds for every transfer; `UP:DOWN` needs the sides
    // (`bwlimit`, called where they are known).
    if let Some(t) = timetable(args)?
        && t.entries().iter().all(|(_, r)| r.up == r.down)
        && let Some(limit) = BwLimit::scheduled(&t, Direction::Up)
    {
        o = o.bwlimit(limit);
    }
    let deletes = [
        ("delete-before", DeleteMode::Before),
        ("delete-during", DeleteMode::During),
        ("delete-after", DeleteMode::After),
    ];
    let chosen: Vec<_> = deletes.iter().filter(|(f, _)| args.on(f)).collect();
    if chosen.len() > 1 {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "only one of --delete-before, --delete-during and --delete-after",
        ));
    }
    if let Some((_, mode)) = chosen.first() {
        o = o.delete_mode(*mode);
    }
    // --backup-dir names a path on the destination's remote: `transfer` opens the
    // destination where both lie (`remote::tree_with_backup`) and sets it.
    if let Some(s) = args.value("suffix") {
        o = o.suffix(s);
    }
    if args.on("no-hash-cache") {
        o = o.hash_cache(false);
    }
    if let Some(dir) = args.value("hash-cache-dir") {
        o = o.hash_cache_dir(dir);
    }
    if let Some(f) = filter(args)? {
        o = o.filter(f);
    }
    Ok(o)
}
