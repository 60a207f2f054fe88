//! What listings and `stat` return ([`Entry`], with the [`Fields`] it carries), and what a
//! backend can do ([`Capabilities`]).

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use crate::hash::{Hash, HashKind, HashKinds};
use crate::path::Path;

/// Which of an [`Entry`]'s optional fields the backend filled in.
///
/// An entry from a listing may leave out what costs an extra request (S3 lists no content
/// type, no user metadata and, unless asked, no stored modification time); the same entry
/// from [`stat`](crate::Backend::stat) carries everything the backend stores. A field that is
/// *not* filled is **unknown**, not empty: a copy that needs it asks the source once
/// ([`copy_entry`](crate::copy_entry) does).
///
/// ```
/// use omnistorage::{Entry, Fields, Path};
///
/// let e = Entry::file(Path::parse("a")?, 1);
/// assert!(!e.filled.contains(Fields::MODIFIED));
/// let e = e.with_modified(None); // "the backend keeps no time": known, and empty
/// assert!(e.filled.contains(Fields::MODIFIED));
/// assert!(Fields::ALL.contains(Fields::MODIFIED | Fields::METADATA));
/// # Ok::<(), omnistorage::Error>(())
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Fields(u8);

impl Fields {
    /// Nothing beyond path, size and `is_dir` (which every entry has).
    pub const NONE: Fields = Fields(0);
    /// [`Entry::modified`]: the object's stored modification time.
    pub const MODIFIED: Fields = Fields(1);
    /// [`Entry::content_type`].
    pub const CONTENT_TYPE: Fields = Fields(2);
    /// [`Entry::metadata`].
    pub const METADATA: Fields = Fields(4);
    /// [`Entry::hashes`]: every hash the backend stores for the object.
    pub const HASHES: Fields = Fields(8);
    /// All of them.
    pub const ALL: Fields = Fields(15);

    /// Whether every field of `other` is in `self`.
    pub const fn contains(self, other: Fields) -> bool {
        self.0 & other.0 == other.0
    }

    /// The fields in both.
    pub const fn intersection(self, other: Fields) -> Fields {
        Fields(self.0 & other.0)
    }

    /// The fields of `self` that are not in `other`.
    pub const fn difference(self, other: Fields) -> Fields {
        Fields(self.0 & !other.0)
    }

    /// Whether no field is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl std::ops::BitOr for Fields {
    type Output = Fields;
    fn bitor(self, rhs: Fields) -> Fields {
        Fields(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for Fields {
    fn bitor_assign(&mut self, rhs: Fields) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Fields::MODIFIED, "MODIFIED"),
            (Fields::CONTENT_TYPE, "CONTENT_TYPE"),
            (Fields::METADATA, "METADATA"),
            (Fields::HASHES, "HASHES"),
        ];
        let mut set = f.debug_set();
        for (field, name) in names {
            if self.contains(field) {
                set.entry(&format_args!("{name}"));
            }
        }
        set.finish()
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
    /// [`Backend::stat`](crate::Backend::stat) works.
    pub stat: bool,
    /// Directories are real: `create_dir` makes one and `remove_dir` removes one. Where this
    /// is `false` but `stat` works, both answer `Ok` and do nothing (object stores).
    pub directories: bool,
    /// Server-side [`copy`](crate::Backend::copy), and
    /// [`copy_from`](crate::Backend::copy_from) a backend on the same store.
    pub server_side_copy: bool,
    /// Server-side [`rename`](crate::Backend::rename), and
    /// [`rename_from`](crate::Backend::rename_from) a backend on the same store.
    pub server_side_move: bool,
    /// The precision with which modification times are **stored**, or `None` if the backend
    /// keeps none. A time given in `WriteOptions::modified` is kept to this precision, and
    /// `stat` returns it. Whether `list` returns it too is [`listed`](Capabilities::listed).
    pub modified_time: Option<Duration>,
    /// [`set_modified`](crate::Backend::set_modified) changes a stored time without rewriting
    /// the data.
    pub set_modified: bool,
    /// Content type and user metadata given in `WriteOptions` are kept and returned by `stat`.
    pub metadata: bool,
    /// Hashes the backend stores: `stat` returns them, and [`hash`](crate::Backend::hash)
    /// answers them without reading the object. Other kinds are computed by streaming.
    pub hashes: HashKinds,
    /// Hashes the backend has **computed where the data is**, without storing them: [`hash`]
    /// answers them without the object crossing the network (SFTP runs `md5sum` on the
    /// server), but `stat` and `list` do not return them, and each answer reads the whole
    /// object on the far side. A sync engine may compare by these where nothing is stored.
    ///
    /// [`hash`]: crate::Backend::hash
    pub server_hashes: HashKinds,
    /// The optional fields that `list` fills in ([`Entry::filled`]); `stat` fills every field
    /// the backend stores.
    pub listed: Fields,
    /// [`Entry::etag`] is a **version tag**: a rewrite that changes an object's content
    /// always changes its tag, whatever its size and modification time. So a tag equal to one
    /// recorded earlier means the content was not changed in between; a different tag does
    /// not prove a change (the file backend's tag, device, inode and change time, also moves
    /// on a rename, a `chmod` or a rewrite with the same bytes). S3's ETag is one, and the
    /// memory backend's (new at every write and time change). A listing may leave the tag
    /// out (s3s-fs lists none): nothing is compared then. Bisync uses it to see an edit that
    /// kept the size and restored the modification time; the sync engine keeps its hash
    /// cache for sources that have such tags and store no hashes.
    pub version_tags: bool,
    /// [`presign`](crate::Backend::presign) makes URLs that others can use without
    /// credentials.
    pub presign: bool,
    /// [`pending_uploads`](crate::Backend::pending_uploads) and
    /// [`abort_upload`](crate::Backend::abort_upload) work: writes that were begun and never
    /// finished (S3 multipart uploads, the file backend's staged files left by a crash).
    pub pending_uploads: bool,
    /// [`usage`](crate::Backend::usage) reports the store's space (the file backend on Linux
    /// with feature `openat2`; SFTP on servers with `statvfs@openssh.com`).
    pub usage: bool,
    /// [`close`](crate::Backend::close) ends the backend: every later operation answers
    /// [`Closed`](crate::ErrorKind::Closed), and a writer still open fails its
    /// [`finish`](crate::Writer::finish) with it instead of committing. `false` for a backend
    /// that keeps `Backend::close`'s default, which does nothing: it has nothing to release
    /// and keeps working after `close`. The conformance suite holds a backend to the rule
    /// when this is `true`, and skips it otherwise.
    pub close: bool,
    /// The data is **on this machine** and reads back at no cost but the reading (a local file
    /// system, memory; not a live stream): no network. The sync engine then hashes by reading where the other side has a hash to
    /// compare with, and treats a "server-side" copy inside the store as this machine's own
    /// work: with a bandwidth limit it streams instead, so that the limit holds.
    pub local: bool,
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

/// An object (or a directory) as a backend describes it.
///
/// Backends build one with [`Entry::file`] or [`Entry::dir`] and the `with_*` methods, which
/// also record in [`filled`](Entry::filled) which optional fields are known.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// Where it is, relative to the backend's root.
    pub path: Path,
    /// Its size in bytes (0 for a directory).
    pub size: u64,
    /// When it was last modified, if the backend knows ([`Fields::MODIFIED`]).
    pub modified: Option<SystemTime>,
    /// Whether this is a directory rather than an object. Recursive listings yield objects
    /// only; non-recursive ones yield directories too.
    pub is_dir: bool,
    /// Its content type, if stored ([`Fields::CONTENT_TYPE`]).
    pub content_type: Option<String>,
    /// User metadata, if stored (keys as the backend keeps them; S3 lower-cases them)
    /// ([`Fields::METADATA`]).
    pub metadata: BTreeMap<String, String>,
    /// Hashes of the content that can be **trusted for comparison**: each one is the digest
    /// of the object's bytes in its kind ([`Fields::HASHES`]). An S3 multipart ETag is not
    /// an MD5 and is never here; it is in [`etag`](Entry::etag).
    pub hashes: Vec<Hash>,
    /// The store's opaque version tag (S3's ETag, quotes removed), if any: equal tags mean
    /// equal content on that store, but it is not a hash of the content in general.
    pub etag: Option<String>,
    /// Which optional fields the backend filled in; the others are unknown.
    pub filled: Fields,
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
            etag: None,
            filled: Fields::NONE,
        }
    }

    /// A directory at `path`.
    pub fn dir(path: Path) -> Entry {
        Entry {
            is_dir: true,
            ..Entry::file(path, 0)
        }
    }

    /// Sets the modification time (and marks it filled: `None` then means "none stored").
    pub fn with_modified(mut self, modified: Option<SystemTime>) -> Entry {
        self.modified = modified;
        self.filled |= Fields::MODIFIED;
        self
    }

    /// Sets the content type (and marks it filled).
    pub fn with_content_type(mut self, content_type: Option<String>) -> Entry {
        self.content_type = content_type;
        self.filled |= Fields::CONTENT_TYPE;
        self
    }

    /// Sets the user metadata (and marks it filled).
    pub fn with_metadata(mut self, metadata: BTreeMap<String, String>) -> Entry {
        self.metadata = metadata;
        self.filled |= Fields::METADATA;
        self
    }

    /// Adds a known hash, replacing one of the same kind (and marks hashes filled).
    pub fn with_hash(mut self, hash: Hash) -> Entry {
        self.hashes.retain(|h| h.kind() != hash.kind());
        self.hashes.push(hash);
        self.filled |= Fields::HASHES;
        self
    }

    /// Marks hashes filled: the backend stores none but those given (perhaps none).
    pub fn with_hashes_filled(mut self) -> Entry {
        self.filled |= Fields::HASHES;
        self
    }

    /// Marks `fields` filled: what they hold now is all the backend stores (for a backend
    /// that stores no content type, say, an empty one is the whole truth).
    pub fn with_filled(mut self, fields: Fields) -> Entry {
        self.filled |= fields;
        self
    }

    /// Sets the ETag.
    pub fn with_etag(mut self, etag: Option<String>) -> Entry {
        self.etag = etag;
        self
    }

    /// The hash of `kind`, if known.
    pub fn hash(&self, kind: HashKind) -> Option<Hash> {
        self.hashes.iter().find(|h| h.kind() == kind).copied()
    }

    /// The kinds of [`hashes`](Entry::hashes).
    pub fn hash_kinds(&self) -> HashKinds {
        self.hashes.iter().map(|h| h.kind()).collect()
    }
}
