//! cat, rcat, delete, deletefile, purge, mkdir, rmdir, rmdirs, touch, the hash sums, link,
//! cleanup, about.

use std::io::{Read, Write};
use std::time::{Duration, SystemTime};

use omnistorage::{
    Backend, Cancel, Error, ErrorKind, HashKind, ListOptions, Path, Presign, ReadOptions,
    WriteOptions,
};

use crate::args::{Args, Usage};
use crate::{Outcome, exit, flags, remote};

/// `hashsum HASH PATH`: the hash is named by its first argument.
pub(super) fn hashsum(args: &Args, cancel: &Cancel) -> Result<Outcome, Usage> {
    let Some(kind) = HashKind::from_name(&args.rest[0].to_ascii_lowercase()) else {
        return Err(Usage(format!(
            "hashsum: unknown hash {:?} (md5, sha1, sha256, crc32c)",
            args.rest[0]
        )));
    };
    super::on_tree(sums(args, kind, &args.rest[1], cancel))
}

pub(super) fn mkdir(args: &Args) -> Result<u8, Error> {
    let t = remote::tree(&args.rest[0])?;
    t.backend.create_dir(&t.path).map(|_| exit::OK)
}

pub(super) fn rmdir(args: &Args) -> Result<u8, Error> {
    let t = remote::tree(&args.rest[0])?;
    t.backend.remove_dir(&t.path).map(|_| exit::OK)
}

/// A tree command on a path that is missing is "directory not found" (exit 3).
pub fn require_dir(backend: &dyn Backend, root: &Path) -> Result<(), Error> {
    let caps = backend.capabilities();
    if !caps.directories {
        return Ok(()); // a prefix: an empty one lists nothing
    }
    match backend.stat(root) {
        Ok(e) if e.is_dir => Ok(()),
        Ok(_) => {
            Err(Error::new(ErrorKind::NotADirectory, "not a directory").with_path(root.as_str()))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            Err(Error::new(ErrorKind::NotFound, "directory not found").with_source(e))
        }
        Err(e) if matches!(e.kind(), ErrorKind::Unsupported | ErrorKind::InvalidPath) => Ok(()),
        Err(e) => Err(e),
    }
}

fn number(args: &Args, flag: &str) -> Result<Option<i64>, Error> {
    args.value(flag)
        .map(|v| {
            v.parse::<i64>().map_err(|_| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!("invalid value {v:?} for --{flag}"),
                )
            })
        })
        .transpose()
}

/// `cat FILE`, or `cat DIR`: every file under it (filters and `--max-depth` apply), one
/// after the other in listing order, as rclone's.
pub(super) fn cat(args: &Args, cancel: &Cancel) -> Result<u8, Error> {
    let spec = &args.rest[0];
    let first = remote::object_or_local(spec)
        .and_then(|o| cat_one(o.backend.as_ref(), &o.path, args, cancel));
    match first {
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::IsADirectory | ErrorKind::NotFound | ErrorKind::InvalidPath
            ) =>
        {
            let depth = super::walk::depth(args, true)?;
            match super::walk::walk(spec, depth, args, cancel) {
                Ok(w) if w.directory => {
                    for e in w.entries.iter().filter(|e| !e.is_dir) {
                        cat_one(w.backend.as_ref(), &w.full(e), args, cancel)?;
                    }
                    Ok(exit::OK)
                }
                _ => Err(e),
            }
        }
        r => r,
    }
}

/// `cat` of one object, with the flags' range.
fn cat_one(b: &dyn Backend, path: &Path, args: &Args, cancel: &Cancel) -> Result<u8, Error> {
    let (offset, count) = (number(args, "offset")?, number(args, "count")?);
    let (head, tail) = (number(args, "head")?, number(args, "tail")?);
    let mut opts = ReadOptions::new().cancel(cancel);
    let negative = offset.is_some_and(|o| o < 0);
    if tail.is_some() || negative {
        let size = b.stat(path)?.size;
        let back = tail.or(offset.map(|o| -o)).unwrap_or(0).unsigned_abs();
        opts.offset = size.saturating_sub(back);
    } else if let Some(off) = offset {
        opts.offset = off.unsigned_abs();
    }
    opts.length = head.or(count).filter(|&n| n >= 0).map(i64::unsigned_abs);
    let mut reader = b.reader(path, &opts)?;
    let mut out = std::io::stdout().lock();
    omnistorage::copy_stream(&mut reader, &mut out, Some(cancel))?;
    out.flush().map_err(Error::from)?;
    Ok(exit::OK)
}

pub(super) fn rcat(args: &Args, cancel: &Cancel) -> Result<u8, Error> {
    let o = remote::object_or_local(&args.rest[0])?;
    let opts = WriteOptions::new()
        .modified(SystemTime::now())
        .cancel(cancel);
    let mut writer = o.backend.writer(&o.path, &opts)?;
    let input = std::io::stdin().lock();
    // --bwlimit holds for this transfer too, through the same throttle as the copy route.
    let limit = flags::bwlimit(args, true, o.backend.capabilities().local)?;
    let mut input: Box<dyn Read> = match &limit {
        Some(limit) => omnistorage::Throttle::limit(limit, Box::new(input), Some(cancel)),
        None => Box::new(input),
    };
    omnistorage::copy_stream(&mut input, &mut writer, Some(cancel))?;
    writer.finish()?;
    Ok(exit::OK)
}

pub(super) fn deletefile(args: &Args) -> Result<u8, Error> {
    let o = remote::object_or_local(&args.rest[0])?;
    // `delete` of a missing object is Ok in the contract; rclone's deletefile says 4.
    o.backend.stat(&o.path)?;
    if !args.on("dry-run") {
        o.backend.delete(&o.path)?;
    }
    Ok(exit::OK)
}

pub(super) fn touch(args: &Args) -> Result<u8, Error> {
    let o = remote::object_or_local(&args.rest[0])?;
    let now = SystemTime::now();
    match o.backend.stat(&o.path) {
        Ok(_) => {
            o.backend.set_modified(&o.path, now)?;
        }
        // rclone: nothing to do, and no error.
        Err(e) if e.kind() == ErrorKind::NotFound && args.on("no-create") => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let w = o
                .backend
                .writer(&o.path, &WriteOptions::new().modified(now))?;
            w.finish()?;
        }
        Err(e) => return Err(e),
    }
    Ok(exit::OK)
}

pub(super) fn link(args: &Args) -> Result<u8, Error> {
    let o = remote::object_or_local(&args.rest[0])?;
    let expire = crate::flags::duration(args, "expire")?.unwrap_or(Duration::from_secs(3600));
    println!("{}", o.backend.presign(&o.path, Presign::Get, expire)?);
    Ok(exit::OK)
}

pub(super) fn sums(args: &Args, kind: HashKind, spec: &str, cancel: &Cancel) -> Result<u8, Error> {
    let t = remote::tree(spec)?;
    require_dir(t.backend.as_ref(), &t.path)?;
    let filter = flags::filter(args)?;
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    for item in t.backend.list(&t.path, &ListOptions::new())? {
        let e = item?;
        let Some(rel) = e.path.strip_prefix(&t.path) else {
            continue;
        };
        if filter
            .as_ref()
            .is_some_and(|f| !f.include_file(rel.as_str(), e.size, e.modified))
        {
            continue;
        }
        match t.backend.hash(&e.path, kind, Some(cancel)) {
            Ok(h) => writeln!(out, "{}  {rel}", h.to_hex()).map_err(Error::from)?,
            Err(err) => {
                eprintln!("ERROR : {rel}: {err}");
                failed = true;
            }
        }
    }
    Ok(if failed { exit::USAGE } else { exit::OK })
}

/// The objects under a tree that the filter includes.
fn objects(args: &Args, t: &remote::Opened) -> Result<Vec<Path>, Error> {
    let filter = flags::filter(args)?;
    let mut out = Vec::new();
    for item in t.backend.list(&t.path, &ListOptions::new())? {
        let e = item?;
        let Some(rel) = e.path.strip_prefix(&t.path) else {
            continue;
        };
        if filter
            .as_ref()
            .is_some_and(|f| !f.include_file(rel.as_str(), e.size, e.modified))
        {
            continue;
        }
        out.push(e.path);
    }
    Ok(out)
}

fn delete_all(args: &Args, t: &remote::Opened, paths: &[Path]) -> Result<bool, Error> {
    if args.on("dry-run") {
        for p in paths {
            eprintln!("NOTICE: {p}: skipped delete (dry run)");
        }
        return Ok(true);
    }
    let mut ok = true;
    for chunk in paths.chunks(1000) {
        for (p, r) in chunk.iter().zip(t.backend.delete_many(chunk)) {
            if let Err(e) = r {
                eprintln!("ERROR : {p}: {e}");
                ok = false;
            }
        }
    }
    Ok(ok)
}

pub(super) fn delete(args: &Args) -> Result<u8, Error> {
    let t = remote::tree(&args.rest[0])?;
    require_dir(t.backend.as_ref(), &t.path)?;
    let paths = objects(args, &t)?;
    Ok(if delete_all(args, &t, &paths)? {
        exit::OK
    } else {
        exit::USAGE
    })
}

/// `spec` as a directory to remove: opened at its parent, so that it can go too (a
/// backend's own root, a bucket, is opened as itself and stays).
fn removable(spec: &str) -> Result<remote::Opened, Error> {
    let t = remote::object_with(spec, false).or_else(|_| remote::tree(spec))?;
    require_dir(t.backend.as_ref(), &t.path)?;
    Ok(t)
}

/// purge: everything under PATH, and PATH itself (rclone), through the library's prefix
/// delete ([`omnistorage::remove_all`]: S3 deletes in batches).
pub(super) fn purge(args: &Args) -> Result<u8, Error> {
    let t = removable(&args.rest[0])?;
    if args.on("dry-run") {
        let mut paths = Vec::new();
        for item in t.backend.list(&t.path, &ListOptions::new())? {
            paths.push(item?.path);
        }
        delete_all(args, &t, &paths)?;
        return Ok(exit::OK);
    }
    omnistorage::remove_all(t.backend.as_ref(), &t.path)?;
    Ok(exit::OK)
}

/// rmdirs: the empty directories under PATH, and PATH too when it ends up empty, unless
/// `--leave-root` (rclone).
pub(super) fn rmdirs(args: &Args) -> Result<u8, Error> {
    let t = removable(&args.rest[0])?;
    if !args.on("dry-run") {
        omnistorage::remove_empty_dirs(t.backend.as_ref(), &t.path, args.on("leave-root"))?;
    }
    Ok(exit::OK)
}

pub(super) fn cleanup(args: &Args) -> Result<u8, Error> {
    let t = remote::tree(&args.rest[0])?;
    let mut n = 0;
    for item in t.backend.pending_uploads(&t.path)? {
        let upload = item?;
        if !args.on("dry-run") {
            t.backend.abort_upload(&upload)?;
        }
        n += 1;
    }
    if !args.on("quiet") {
        if args.on("dry-run") {
            eprintln!("NOTICE: {n} pending uploads would be aborted (dry run)");
        } else {
            eprintln!("NOTICE: {n} pending uploads aborted");
        }
    }
    Ok(exit::OK)
}
