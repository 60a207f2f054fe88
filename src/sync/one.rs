//! One object to a named destination, compared as a sync compares (rclone's `copyto` and
//! `moveto`): the same engine as [`copy`](super::copy) runs the one pair, so the comparison
//! modes, the dry run, backups, retries, the bandwidth limit, progress and
//! [`on_action`](super::Options::on_action) all behave as in a tree transfer.

use super::exec::{Engine, Mode};
use super::{Report, located, sides_and_rules};
use crate::{Backend, Error, ErrorKind, Path, Result};

/// Copies the object at `src_path` to `dst_path` (any name), unless the destination already
/// holds it as the options compare (size and time by default, [`Compare`](super::Compare)
/// for the others): an unchanged destination is left alone, a destination whose data is
/// equal but time differs gets the source's time. rclone's `copyto`.
///
/// Behaviour:
/// - the actions reported to [`on_action`](super::Options::on_action) carry the
///   destination's name (the last segment of `dst_path`);
/// - a missing source: `ErrorKind::NotFound`; a directory as the source or the destination:
///   `ErrorKind::IsADirectory`; the source itself as the destination:
///   `ErrorKind::InvalidInput`;
/// - failures of the copy itself are in the [`Report`] (as for a tree), after the
///   options' retries.
///
/// ```
/// use omnistorage::sync::{self, Options};
/// use omnistorage::{BackendExt, MemoryBackend, Path};
///
/// let (src, dst) = (MemoryBackend::new(), MemoryBackend::new());
/// src.write_all("a.txt", b"data")?;
/// let (from, to) = (Path::parse("a.txt")?, Path::parse("dir/b.txt")?);
/// let first = sync::copy_file(&src, &from, &dst, &to, &Options::new())?;
/// assert_eq!(first.copied, 1);
/// // The second run finds the destination unchanged and copies nothing.
/// let second = sync::copy_file(&src, &from, &dst, &to, &Options::new())?;
/// assert_eq!((second.copied, second.unchanged), (0, 1));
/// assert_eq!(dst.read_to_vec("dir/b.txt")?, b"data");
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub fn copy_file(
    src: &dyn Backend,
    src_path: &Path,
    dst: &dyn Backend,
    dst_path: &Path,
    opts: &super::Options,
) -> Result<Report> {
    run(src, src_path, dst, dst_path, opts, Mode::Copy)
}

/// [`copy_file`], then the source is deleted (or the object renamed server-side, within one
/// store): also when the destination already held it unchanged (as rclone's `moveto`). In a
/// dry run nothing is deleted.
///
/// ```
/// use omnistorage::sync::{self, Options};
/// use omnistorage::{BackendExt, MemoryBackend, Path};
///
/// let (src, dst) = (MemoryBackend::new(), MemoryBackend::new());
/// src.write_all("a.txt", b"data")?;
/// let (from, to) = (Path::parse("a.txt")?, Path::parse("b.txt")?);
/// let report = sync::move_file(&src, &from, &dst, &to, &Options::new())?;
/// report.result()?;
/// assert!(!src.contains("a.txt")?);
/// assert_eq!(dst.read_to_vec("b.txt")?, b"data");
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub fn move_file(
    src: &dyn Backend,
    src_path: &Path,
    dst: &dyn Backend,
    dst_path: &Path,
    opts: &super::Options,
) -> Result<Report> {
    run(src, src_path, dst, dst_path, opts, Mode::Move)
}

fn run(
    src: &dyn Backend,
    src_path: &Path,
    dst: &dyn Backend,
    dst_path: &Path,
    opts: &super::Options,
    mode: Mode,
) -> Result<Report> {
    let op = if mode == Mode::Move {
        "move_file"
    } else {
        "copy_file"
    };
    let (Some(dst_dir), Some(name)) = (dst_path.parent(), dst_path.file_name()) else {
        return Err(
            Error::new(ErrorKind::InvalidPath, "the destination names no object")
                .with_operation(op),
        );
    };
    let name = Path::parse(name)?;
    if let (Some(s), Some(d)) = (src.location(), dst.location())
        && located(&s, src_path) == located(&d, dst_path)
    {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "the source and the destination are the same object",
        )
        .with_operation(op)
        .with_path(src_path.as_str()));
    }
    opts.backup.check(dst_path)?;
    let is_dir = |at: &Path| {
        Error::new(ErrorKind::IsADirectory, "a directory, not an object")
            .with_operation(op)
            .with_path(at.as_str())
    };
    let mut entry = src.stat(src_path)?;
    if entry.is_dir {
        return Err(is_dir(src_path));
    }
    entry.path = name.clone();
    let existing = match dst.stat(dst_path) {
        Ok(e) if e.is_dir => return Err(is_dir(dst_path)),
        Ok(mut e) => {
            e.path = name;
            Some(e)
        }
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let (mut sides, rules) = sides_and_rules(src, src_path, dst, &dst_dir, opts);
    sides.src_one = true;
    Ok(Engine::new(sides, opts, mode, rules, None)?
        .one(entry, existing)
        .run())
}
