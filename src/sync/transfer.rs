//! One object from source to destination: server-side within one store, otherwise streamed
//! through the bandwidth limit and the progress counters into a [`Writer`](crate::Writer),
//! which commits whole or not at all.

use std::io::Read;

use super::bwlimit::BwLimit;
use super::progress::Stats;
use crate::{
    Backend, Cancel, Entry, Error, ErrorKind, Location, Path, ReadOptions, Result, WriteOptions,
};

/// The two sides of a run, and how to move bytes between them.
pub(crate) struct Sides<'a> {
    pub(crate) src: &'a dyn Backend,
    pub(crate) src_root: &'a Path,
    pub(crate) dst: &'a dyn Backend,
    pub(crate) dst_root: &'a Path,
    /// The source's location, when both sides are on one store that copies server-side.
    pub(crate) same_store: Option<Location>,
    /// Whether that store renames server-side too.
    pub(crate) server_move: bool,
}

impl Sides<'_> {
    pub(crate) fn src_path(&self, rel: &Path) -> Path {
        self.src_root.join(rel)
    }

    pub(crate) fn dst_path(&self, rel: &Path) -> Path {
        self.dst_root.join(rel)
    }
}

/// How a transfer went.
pub(crate) struct Done {
    /// The new destination entry.
    pub(crate) entry: Entry,
    /// The source is gone already (renamed server-side).
    pub(crate) moved: bool,
    /// The MD5 of the bytes that passed through (streamed copies with `hash` on).
    pub(crate) md5: Option<crate::Hash>,
}

/// What a streamed copy needs besides the sides.
pub(crate) struct Streaming<'a> {
    pub(crate) bwlimit: Option<&'a BwLimit>,
    pub(crate) stats: &'a Stats,
    pub(crate) cancel: Option<&'a Cancel>,
    pub(crate) metadata: bool,
    /// Hash the bytes on their way (for the hash cache).
    pub(crate) md5: bool,
}

/// Copies (or, with `rename`, moves) the source object `src` (its path relative to the
/// roots) to the same relative path at the destination.
pub(crate) fn transfer(
    sides: &Sides<'_>,
    src: &Entry,
    rename: bool,
    how: &Streaming<'_>,
) -> Result<Done> {
    let from = sides.src_path(&src.path);
    let to = sides.dst_path(&src.path);
    if let Some(loc) = &sides.same_store {
        let moved = rename && sides.server_move;
        let r = if moved {
            sides.dst.rename_from(loc, &from, &to)
        } else {
            sides.dst.copy_from(loc, &from, &to)
        };
        match r {
            Ok(entry) => {
                // The bytes moved inside the store; they count as transferred.
                let t = how.stats.start(src.path.as_str(), src.size);
                t.add(src.size);
                t.finish(true);
                return Ok(Done {
                    entry,
                    moved,
                    md5: None,
                });
            }
            Err(e) if e.kind() == ErrorKind::Unsupported => {}
            Err(e) => return Err(e),
        }
    }
    let mut full = src.clone();
    full.path = from.clone();
    let source = crate::helpers::complete_for(sides.src, &full, sides.dst)?;
    let mut read_opts = ReadOptions::new();
    read_opts.cancel = how.cancel.cloned();
    let mut reader = sides.src.reader(&from, &read_opts)?;
    let mut opts = WriteOptions::new().size_hint(source.size);
    opts.modified = source.modified;
    opts.content_type = source.content_type.clone();
    if how.metadata {
        opts.metadata = source.metadata.clone();
    }
    opts.hashes = source.hashes.clone();
    opts.resume_id = resume_identity(sides.src, &from, &source);
    opts.cancel = how.cancel.cloned();
    let progress = how.stats.start(src.path.as_str(), source.size);
    let mut writer = sides.dst.writer(&to, &opts)?;
    // Local file to local file without a limit or a hash to take: the kernel copies.
    let fast = match (how.bwlimit, how.md5) {
        (None, false) => writer.copy_from_file(&mut reader, how.cancel),
        _ => None,
    };
    let mut md5 = None;
    let copied = match fast {
        Some(copied) => copied.inspect(|&n| progress.add(n)),
        None => {
            let limited: Box<dyn Read + '_> = match how.bwlimit {
                Some(limit) => Box::new(limit.reader(&mut reader, how.cancel.cloned())),
                None => Box::new(&mut reader),
            };
            let counted = progress.counted(limited);
            if how.md5 {
                let kinds = crate::HashKinds::NONE.with(crate::HashKind::Md5);
                let mut hashing = crate::HashingReader::new(counted, kinds)?;
                let n = crate::copy_stream(&mut hashing, &mut writer, how.cancel);
                md5 = hashing.hashes().into_iter().next();
                n
            } else {
                let mut counted = counted;
                crate::copy_stream(&mut counted, &mut writer, how.cancel)
            }
        }
    };
    let result = copied.and_then(|n| {
        if n != source.size {
            // The source changed while it was read; never commit that.
            return Err(Error::new(
                ErrorKind::PreconditionFailed,
                format!(
                    "the source changed during the copy: listed {} bytes, read {n}",
                    source.size
                ),
            )
            .with_operation("copy")
            .with_path(from.as_str())
            .with_temporary(true));
        }
        writer.finish()
    });
    progress.finish(result.is_ok());
    Ok(Done {
        entry: result?,
        moved: false,
        md5,
    })
}

/// What the source object is, for a destination that can resume an upload a killed run left
/// ([`WriteOptions::resume_id`]): the source's store, key, size, modification time and ETag.
/// The destination still checks every stored part against the bytes. `None` for a source
/// without a location.
fn resume_identity(src: &dyn Backend, from: &Path, entry: &Entry) -> Option<String> {
    let loc = src.location()?;
    let mtime = entry
        .modified
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or_else(|| "-".to_owned(), |d| d.as_nanos().to_string());
    Some(format!(
        "{}://{}/{} size={} mtime={mtime} etag={}",
        loc.scheme(),
        loc.store(),
        loc.key(from),
        entry.size,
        entry.etag.as_deref().unwrap_or("-"),
    ))
}
