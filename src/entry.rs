//! What listings and `stat` return ([`Entry`]), what a backend can do ([`Capabilities`]), and
//! the hash kinds ([`HashKind`]).

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use crate::path::Path;

/// A content hash algorithm that a backend may know for free.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum HashKind {
    /// MD5 (S3's ETag of a single-part upload).
    Md5,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
    /// CRC-32C (Castagnoli).
    Crc32c,
}

impl HashKind {
    /// Every kind, in a fixed order.
    pub const ALL: [HashKind; 4] = [
        HashKind::Md5,
        HashKind::Sha1,
        HashKind::Sha256,
        HashKind::Crc32c,
    ];

    /// The lower-case name (`md5`, `sha1`, `sha256`, `crc32c`).
    pub fn name(self) -> &'static str {
        match self {
            HashKind::Md5 => "md5",
            HashKind::Sha1 => "sha1",
            HashKind::Sha256 => "sha256",
            HashKind::Crc32c => "crc32c",
        }
    }

    fn bit(self) -> u8 {
        match self {
            HashKind::Md5 => 1,
            HashKind::Sha1 => 2,
            HashKind::Sha256 => 4,
            HashKind::Crc32c => 8,
        }
    }
}

impl fmt::Display for HashKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A small set of [`HashKind`]s.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct HashKinds(u8);

impl HashKinds {
    /// The empty set.
    pub const NONE: HashKinds = HashKinds(0);

    /// The set with `kind` added.
    pub fn with(self, kind: HashKind) -> HashKinds {
        HashKinds(self.0 | kind.bit())
    }

    /// Whether `kind` is in the set.
    pub fn contains(self, kind: HashKind) -> bool {
        self.0 & kind.bit() != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The kinds in both sets.
    pub fn intersection(self, other: HashKinds) -> HashKinds {
        HashKinds(self.0 & other.0)
    }

    /// The kinds in the set, in [`HashKind::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = HashKind> {
        HashKind::ALL.into_iter().filter(move |k| self.contains(*k))
    }
}

impl fmt::Debug for HashKinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// What a backend can do. Small and `Copy`; the conformance suite checks that it tells the
/// truth (what is `false` here answers [`ErrorKind::Unsupported`](crate::ErrorKind)).
///
/// Backends from other crates start from [`Capabilities::default`] (nothing) and set fields:
///
/// ```
/// use omnistorage::Capabilities;
/// use std::time::Duration;
///
/// let mut caps = Capabilities::default();
/// caps.read = true;
/// caps.write = true;
/// caps.list = true;
/// caps.modified_time = Some(Duration::from_secs(1));
/// assert!(caps.range_read == false);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// `reader` works.
    pub read: bool,
    /// Range reads (`ReadOptions::range`) are served without reading what comes before.
    pub range_read: bool,
    /// `writer` works.
    pub write: bool,
    /// [`WriteMode::CreateNew`](crate::WriteMode) is decided atomically: of two writers racing
    /// for a free path, exactly one commits (the check happens when the writer opens, on
    /// `finish`, or both). Without it, `CreateNew` is a check when the writer opens.
    pub create_new: bool,
    /// `list` works.
    pub list: bool,
    /// `delete` works.
    pub delete: bool,
    /// [`ExtendedBackend::stat`](crate::ExtendedBackend::stat) works.
    pub stat: bool,
    /// Directories are real: `create_dir` makes one and `remove_dir` removes one. Where this
    /// is `false` but the backend is extended, both answer `Ok` and do nothing (object stores).
    pub directories: bool,
    /// Server-side [`copy`](crate::ExtendedBackend::copy).
    pub server_side_copy: bool,
    /// Server-side [`rename`](crate::ExtendedBackend::rename).
    pub server_side_move: bool,
    /// The precision with which modification times are stored and listed, or `None` if the
    /// backend keeps none. A time given in `WriteOptions::modified` is kept to this precision.
    pub modified_time: Option<Duration>,
    /// Content type and user metadata given in `WriteOptions` are kept and returned by `stat`.
    pub metadata: bool,
    /// Hashes that listings and `stat` give for free.
    pub hashes: HashKinds,
    /// Whether objects are **live streams** rather than stored objects, and if so how their
    /// bytes reach readers. `None` (the default) for stores of objects.
    ///
    /// On a backend of streams (the [channel backend](crate::backends), for one):
    ///
    /// - a reader may open a path before or while it is written: it waits for the writer and
    ///   receives the bytes as they are written. So `reader` on a path nobody has written yet
    ///   waits instead of answering [`NotFound`](crate::ErrorKind::NotFound), and a stream
    ///   can be read before `finish`. It is still never seen *whole* early: a reader reaches
    ///   end-of-stream only after [`Writer::finish`](crate::Writer::finish), and gets an
    ///   error, not end-of-stream, if the writer aborts;
    /// - a path has one writer at a time: a second writer while one is open is refused with
    ///   [`AlreadyExists`](crate::ErrorKind::AlreadyExists) when it opens (so
    ///   [`CreateNew`](crate::WriteMode::CreateNew) is decided there, not on `finish`);
    /// - `exists`, `list` and `stat` show finished streams only.
    ///
    /// With [`StreamDelivery::Consume`], reading takes the bytes away: what was written is
    /// read back only if a reader receives it, once, and a writer with no reader may wait
    /// for room. The conformance suite skips the cases that read an object back then.
    pub streams: Option<StreamDelivery>,
}

/// How a backend whose objects are live streams hands their bytes to readers; see
/// [`Capabilities::streams`].
///
/// ```
/// use omnistorage::{Capabilities, StreamDelivery};
///
/// let mut caps = Capabilities::default();
/// assert_eq!(caps.streams, None); // a store of objects
/// caps.streams = Some(StreamDelivery::Replay);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamDelivery {
    /// Every reader receives the whole stream from its first byte, however late it opens: a
    /// finished stream reads back, as often as asked, like a stored object.
    Replay,
    /// Each part of a stream goes to one reader, once: the readers of a path share (compete
    /// for) its bytes, and what a reader has received is gone for the others.
    Consume,
}

/// An object (or, from `stat`, a directory) as a backend describes it.
///
/// Backends build one with [`Entry::file`] or [`Entry::dir`] and the `with_*` methods.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// Where it is, relative to the backend's root.
    pub path: Path,
    /// Its size in bytes (0 for a directory).
    pub size: u64,
    /// When it was last modified, if the backend knows.
    pub modified: Option<SystemTime>,
    /// Whether this is a directory rather than an object. Listings yield objects only.
    pub is_dir: bool,
    /// Its content type, if stored.
    pub content_type: Option<String>,
    /// User metadata, if stored (keys as the backend keeps them; S3 lower-cases them).
    pub metadata: BTreeMap<String, String>,
    /// Hashes known without reading the content, as lower-case hex.
    pub hashes: Vec<(HashKind, String)>,
}

impl Entry {
    /// An object of `size` bytes at `path`, with nothing else known.
    pub fn file(path: Path, size: u64) -> Entry {
        Entry {
            path,
            size,
            modified: None,
            is_dir: false,
            content_type: None,
            metadata: BTreeMap::new(),
            hashes: Vec::new(),
        }
    }

    /// A directory at `path`.
    pub fn dir(path: Path) -> Entry {
        Entry {
            is_dir: true,
            ..Entry::file(path, 0)
        }
    }

    /// Sets the modification time.
    pub fn with_modified(mut self, modified: Option<SystemTime>) -> Entry {
        self.modified = modified;
        self
    }

    /// Sets the content type.
    pub fn with_content_type(mut self, content_type: Option<String>) -> Entry {
        self.content_type = content_type;
        self
    }

    /// Sets the user metadata.
    pub fn with_metadata(mut self, metadata: BTreeMap<String, String>) -> Entry {
        self.metadata = metadata;
        self
    }

    /// Adds a known hash (lower-case hex).
    pub fn with_hash(mut self, kind: HashKind, hex: impl Into<String>) -> Entry {
        self.hashes.retain(|(k, _)| *k != kind);
        self.hashes.push((kind, hex.into()));
        self
    }

    /// The hash of `kind`, if known.
    pub fn hash(&self, kind: HashKind) -> Option<&str> {
        self.hashes
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, h)| h.as_str())
    }
}
