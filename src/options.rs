//! Options for [`Backend::reader`](crate::Backend::reader),
//! [`Backend::writer`](crate::Backend::writer) and [`Backend::list`](crate::Backend::list).

use std::collections::BTreeMap;
use std::ops::{Bound, RangeBounds};
use std::time::SystemTime;

use crate::cancel::Cancel;
use crate::error::{Error, ErrorKind, Result};
use crate::path::Path;

/// How to read an object. The default reads all of it.
///
/// ```
/// use omnistorage::ReadOptions;
///
/// let opts = ReadOptions::new().range(100..200);
/// assert_eq!(opts.offset, 100);
/// assert_eq!(opts.length, Some(100));
/// let tail = ReadOptions::new().range(1000..);
/// assert_eq!(tail.length, None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadOptions {
    /// The first byte to read. Default 0.
    ///
    /// An offset at or past the end of the object reads nothing (it is not an error).
    pub offset: u64,
    /// How many bytes to read at most, or `None` for everything from `offset` on. A range
    /// that runs past the end of the object is cut at the end.
    pub length: Option<u64>,
    /// Stops the read ([`ErrorKind::Cancelled`]) when cancelled: checked by backends that
    /// retry or resume, and by the copy helpers between buffers.
    pub cancel: Option<Cancel>,
}

impl ReadOptions {
    /// Reads the whole object.
    pub fn new() -> ReadOptions {
        ReadOptions::default()
    }

    /// Reads only the bytes in `range` (`a..b`, `a..`, `..b`, `a..=b`). An empty or inverted
    /// range reads nothing.
    pub fn range(mut self, range: impl RangeBounds<u64>) -> ReadOptions {
        let start = match range.start_bound() {
            Bound::Included(&s) => s,
            Bound::Excluded(&s) => s.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&e) => Some(e.saturating_add(1)),
            Bound::Excluded(&e) => Some(e),
            Bound::Unbounded => None,
        };
        self.offset = start;
        self.length = end.map(|e| e.saturating_sub(start));
        self
    }

    /// Observes `cancel`.
    pub fn cancel(mut self, cancel: &Cancel) -> ReadOptions {
        self.cancel = Some(cancel.clone());
        self
    }

    /// Whether these options read the whole object.
    pub fn is_whole(&self) -> bool {
        self.offset == 0 && self.length.is_none()
    }

    /// The range within an object of `size` bytes: `(start, end)` with `start <= end <= size`.
    pub fn clamp(&self, size: u64) -> (u64, u64) {
        let start = self.offset.min(size);
        let end = match self.length {
            Some(len) => start.saturating_add(len).min(size),
            None => size,
        };
        (start, end)
    }
}

/// What to do when the path being written already holds an object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteMode {
    /// Replace it (atomically: readers see the old object or the new one). The default.
    #[default]
    Overwrite,
    /// Fail with [`ErrorKind::AlreadyExists`], checked when the writer is made and again,
    /// atomically where [`Capabilities::create_new`](crate::Capabilities) says so, on `finish`.
    CreateNew,
}

/// How to write an object.
///
/// ```
/// use omnistorage::{WriteMode, WriteOptions};
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let opts = WriteOptions::new()
///     .content_type("application/json")
///     .metadata("owner", "ops")
///     .modified(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
///     .mode(WriteMode::CreateNew);
/// assert_eq!(opts.metadata.get("owner").map(String::as_str), Some("ops"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteOptions {
    /// The content type to store (`None`: the backend's default, if any).
    pub content_type: Option<String>,
    /// User metadata to store.
    pub metadata: BTreeMap<String, String>,
    /// The modification time to store (`None`: the time of writing). The sync engine sets it
    /// to the source's, as rclone does.
    pub modified: Option<SystemTime>,
    /// What to do if the object exists. Default [`WriteMode::Overwrite`].
    pub mode: WriteMode,
    /// The size of the object, if known in advance. Backends may use it to plan (S3 part
    /// sizes); a writer that receives a different number of bytes fails on `finish`.
    pub size_hint: Option<u64>,
    /// Hashes of the content, known before it is written (a copy knows its source's).
    /// Backends that store hashes keep them where they could not compute them otherwise (S3:
    /// the MD5 of a multipart upload, as rclone's `md5chksum`) and check them: content that
    /// does not match is [`ErrorKind::Corrupt`] and nothing is stored. Others ignore them.
    pub hashes: Vec<crate::hash::Hash>,
    /// What the bytes are, in the caller's words, for writers that can resume an upload a
    /// killed process left behind (S3 with `S3Builder::upload_journal`): a writer given the
    /// same identity for the same object as a dead one takes up its stored parts. The sync
    /// engine uses the source's location, path, size and modification time. The identity
    /// only says which upload to try: the writer still checks each stored part's size and
    /// MD5 against the bytes it is given, and uploads again every part that differs.
    /// Backends that cannot resume ignore it. Default `None`.
    pub resume_id: Option<String>,
    /// Stops the write when cancelled: the next `write` (or `finish`) fails with
    /// [`ErrorKind::Cancelled`] and the writer is aborted, never committed. Backends that
    /// upload in parts or retry also check it there.
    pub cancel: Option<Cancel>,
}

impl WriteOptions {
    /// The defaults: overwrite, no metadata.
    pub fn new() -> WriteOptions {
        WriteOptions::default()
    }

    /// Sets the content type.
    pub fn content_type(mut self, content_type: impl Into<String>) -> WriteOptions {
        self.content_type = Some(content_type.into());
        self
    }

    /// Adds one user metadata pair.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> WriteOptions {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Sets the modification time to store.
    pub fn modified(mut self, modified: SystemTime) -> WriteOptions {
        self.modified = Some(modified);
        self
    }

    /// Sets the write mode.
    pub fn mode(mut self, mode: WriteMode) -> WriteOptions {
        self.mode = mode;
        self
    }

    /// Observes `cancel`.
    pub fn cancel(mut self, cancel: &Cancel) -> WriteOptions {
        self.cancel = Some(cancel.clone());
        self
    }

    /// Adds a known hash of the content (see [`hashes`](WriteOptions::hashes)).
    pub fn hash(mut self, hash: crate::hash::Hash) -> WriteOptions {
        self.hashes.retain(|h| h.kind() != hash.kind());
        self.hashes.push(hash);
        self
    }

    /// Sets the identity of the content for resumable uploads (see
    /// [`resume_id`](WriteOptions::resume_id)).
    ///
    /// ```
    /// use omnistorage::WriteOptions;
    ///
    /// let opts = WriteOptions::new().resume_id("/data/big.iso 4294967296 1700000000");
    /// assert!(opts.resume_id.is_some());
    /// ```
    pub fn resume_id(mut self, id: impl Into<String>) -> WriteOptions {
        self.resume_id = Some(id.into());
        self
    }

    /// Sets the expected size.
    pub fn size_hint(mut self, size: u64) -> WriteOptions {
        self.size_hint = Some(size);
        self
    }

    /// Checks `written` against [`size_hint`](WriteOptions::size_hint); writers call this in
    /// `finish`.
    pub fn check_size(&self, written: u64) -> Result<()> {
        match self.size_hint {
            Some(expected) if expected != written => Err(Error::new(
                ErrorKind::InvalidInput,
                format!("size hint was {expected} bytes but {written} were written"),
            )),
            _ => Ok(()),
        }
    }
}

/// How to list.
///
/// The default lists recursively from the start.
///
/// ```
/// use omnistorage::{BackendExt, ListOptions, MemoryBackend, Path, Backend};
///
/// let store = MemoryBackend::new();
/// for p in ["a/1", "a/2", "a/sub/3", "b"] {
///     store.write_all(p, b"x")?;
/// }
/// // Resume after "a/2", as a listing that stopped there would.
/// let rest: Vec<String> = store
///     .list(&Path::root(), &ListOptions::new().start_after(Path::parse("a/2")?))?
///     .map(|e| e.map(|e| e.path.to_string()))
///     .collect::<Result<_, _>>()?;
/// assert_eq!(rest, ["a/sub/3", "b"]);
/// // One level, with the directories.
/// let top: Vec<(String, bool)> = store
///     .list(&Path::parse("a")?, &ListOptions::new().recursive(false))?
///     .map(|e| e.map(|e| (e.path.to_string(), e.is_dir)))
///     .collect::<Result<_, _>>()?;
/// assert_eq!(top, [("a/1".into(), false), ("a/2".into(), false), ("a/sub".into(), true)]);
/// # Ok::<(), omnistorage::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListOptions {
    /// Recursive (the default): every object under the prefix, and no directories. Not
    /// recursive: the objects and the directories directly under the prefix, a directory as
    /// an [`Entry::dir`](crate::Entry::dir) (on object stores: each common prefix up to the
    /// next `/`).
    pub recursive: bool,
    /// Only entries that sort strictly after this path, and not the path itself (in the
    /// listing's order, where a directory sorts as its name followed by `/`). For resuming a
    /// listing, and for splitting one into ranges.
    ///
    /// The path is compared as an object's: resuming a **one-level** listing after a
    /// *directory* entry `d` skips `d` but lists again the objects that sort between `d` and
    /// `d/` (`d-x`, `d.x`). Resume a one-level listing after its last object, or list
    /// recursively, where resuming is exact.
    pub start_after: Option<Path>,
    /// Stops the listing when cancelled: the next item is an `Err` of kind
    /// [`ErrorKind::Cancelled`], and the listing ends.
    pub cancel: Option<Cancel>,
}

impl Default for ListOptions {
    fn default() -> ListOptions {
        ListOptions {
            recursive: true,
            start_after: None,
            cancel: None,
        }
    }
}

impl ListOptions {
    /// Recursive, from the start.
    pub fn new() -> ListOptions {
        ListOptions::default()
    }

    /// Sets whether to list recursively.
    pub fn recursive(mut self, recursive: bool) -> ListOptions {
        self.recursive = recursive;
        self
    }

    /// Lists only what sorts strictly after `path`.
    pub fn start_after(mut self, path: Path) -> ListOptions {
        self.start_after = Some(path);
        self
    }

    /// Observes `cancel`.
    pub fn cancel(mut self, cancel: &Cancel) -> ListOptions {
        self.cancel = Some(cancel.clone());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_convert() {
        let r = ReadOptions::new().range(5..=9);
        assert_eq!((r.offset, r.length), (5, Some(5)));
        let r = ReadOptions::new().range(..3);
        assert_eq!((r.offset, r.length), (0, Some(3)));
        #[allow(clippy::reversed_empty_ranges)] // that is the case under test
        let r = ReadOptions::new().range(9..5);
        assert_eq!((r.offset, r.length), (9, Some(0)));
        assert!(ReadOptions::new().is_whole());
        assert!(!ReadOptions::new().range(0..1).is_whole());
    }

    #[test]
    fn clamp_cuts_at_the_end() {
        assert_eq!(ReadOptions::new().range(2..8).clamp(5), (2, 5));
        assert_eq!(ReadOptions::new().range(7..).clamp(5), (5, 5));
        assert_eq!(ReadOptions::new().clamp(5), (0, 5));
        assert_eq!(ReadOptions::new().range(u64::MAX - 1..).clamp(5), (5, 5));
    }
}
