//! One **blocking**, `std::io` interface to many storage systems.
//!
//! `omnistorage` is for programs that do not want an async runtime — command-line tools,
//! batch jobs, small static binaries — and would otherwise shell out to `rclone`. Every
//! backend is a [`Backend`]: you get a plain [`std::io::Read`] to read an object, a
//! [`Writer`] (a plain [`std::io::Write`]) to store one, lazy sorted listings, and the same
//! contracts everywhere.
//!
//! # A tour
//!
//! ```
//! use omnistorage::{Backend, BackendExt, FileBackend, ListOptions, MemoryBackend, Path, WriteOptions};
//! use std::io::{Read, Write};
//!
//! # let dir = std::env::temp_dir().join(format!("omnistorage-tour-{}", std::process::id()));
//! let local = FileBackend::new(&dir)?;
//!
//! // Write: nothing is visible until `finish` commits the whole object.
//! let mut w = local.writer(&Path::parse("logs/app.log")?, &WriteOptions::new())?;
//! for i in 0..3 {
//!     writeln!(w, "line {i}")?;
//! }
//! let entry = w.finish()?;
//! assert_eq!(entry.size, 21);
//!
//! // Read: a plain `std::io::Read`.
//! let mut text = String::new();
//! local.open_reader("logs/app.log")?.read_to_string(&mut text)?;
//! assert!(text.starts_with("line 0"));
//!
//! // List: recursive, lazy, in byte order of the full path.
//! local.write_all("logs/old/app.log.1", b"older")?;
//! let paths: Vec<String> = local
//!     .list(&Path::parse("logs")?, &ListOptions::new())?
//!     .map(|e| e.map(|e| e.path.to_string()))
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(paths, ["logs/app.log", "logs/old/app.log.1"]);
//!
//! // Copy between any two backends (server-side when both are the same store).
//! let mem = MemoryBackend::new();
//! local.copy_to("logs/app.log", &mem, "backup/app.log")?;
//! assert_eq!(mem.read_to_string("backup/app.log")?, text);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Or open a backend by URL with [`open`]: `open("/srv/data")`, `open("file:///srv/data")`,
//! `open("mem://")`, `open("chan://?persistent=true")` (feature `channel`).
//!
//! # The pieces
//!
//! - [`Path`]: a validated relative path; nothing invalid gets past [`Path::parse`].
//! - [`Backend`]: `reader`, `writer`, `exists`, `delete`, `list`, `capabilities`, `close`,
//!   and the optional operations (`stat`, directories, server-side `copy` and `rename`,
//!   `set_modified`, `hash`, batch delete, presigned URLs, pending uploads), all reachable
//!   through `Box<dyn Backend>`; [`Capabilities`] says which work. Each method lists its
//!   behaviour; the conformance suite (module `conformance`, feature `conformance`) tests it.
//! - [`Entry`]: what `list` and `stat` return, with [`Fields`] saying which optional fields
//!   are filled; [`struct@Hash`]: a typed content hash, computed by [`Hasher`].
//! - [`Cancel`]: a token that long operations observe.
//! - [`BackendExt`]: sugar for every backend (text paths, whole-object reads and writes).
//! - [`copy_path`] / [`move_path`]: between any two backends, server-side when possible;
//!   both are [`copy_object`] / [`move_object`], the one copy route (also the sync engine's
//!   and the CLI's), with [`CopyOptions`]: bandwidth ([`Throttle`]), progress, hashes on the
//!   way, metadata, cancel; a source that changes while it is read is never committed.
//! - [`Reader`] / [`Writer`]: the stream types; a `Writer` commits on [`Writer::finish`] and
//!   aborts on drop. [`Finish`] is that rule for every layer that stacks on a `Writer`.
//! - [`units`]: sizes, durations, rates and times of day in rclone's syntax (`5Mi`, `1h30m`),
//!   one parser each for URLs, options, filters and the command line.
//! - [`format`](mod@format): records over those streams: NDJSON ([`format::ndjson`], typed with `serde`),
//!   length-prefixed ([`format::lengthprefix`]), CSV (`format::csv`, feature `csv`).
//!
//! # Errors
//!
//! Every operation returns [`Result`] with one [`Error`] type. Match on
//! [`Error::kind`] ([`ErrorKind::NotFound`], [`ErrorKind::PermissionDenied`], …); ask
//! [`Error::is_temporary`] whether a retry may help, and [`Error::is_persistent`] whether the
//! backend already retried it (then retrying at once again only multiplies the attempts;
//! [`Error::retries`] says how many there were). An `Error` converts to and from
//! `std::io::Error` without loss, so errors that cross a `Read` or `Write` come back intact:
//!
//! ```
//! use omnistorage::{BackendExt, Error, ErrorKind, MemoryBackend};
//!
//! let store = MemoryBackend::new();
//! let err = store.read_to_vec("missing").unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::NotFound);
//! let io: std::io::Error = err.into();
//! assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
//! assert_eq!(Error::from(io).kind(), ErrorKind::NotFound);
//! ```
//!
//! # Crate features
//!
//! With no features (the default) the crate depends on **no other crate**.
//!
//! | feature | what it adds | crates it pulls in |
//! | --- | --- | --- |
//! | `conformance` | the shared test suite for backends, `omnistorage::conformance` | none |
//! | `channel` | `ChannelBackend`: in-process streams between threads (`chan://`) | `crossbeam-channel` |
//! | `md5` / `sha1` / `sha256` | those hashes in [`Hasher`], [`Backend::hash`], `HashingReader`, `HashingWriter` (CRC-32C needs no feature) | `md-5` / `sha1` / `sha2` (RustCrypto, pure Rust) |
//! | `serde` | typed NDJSON records: `ndjson::Writer::write_value`, `ndjson::Reader::values` | `serde`, `serde_json` |
//! | `csv` | CSV rows and typed rows, `format::csv` | `csv`, `serde` |
//! | `gzip` | gzip in `compress` (`compress::gzip`, `CompressBackend`) | `flate2`, `zlib-rs` (pure Rust) |
//! | `zstd` | zstd in `compress` (`compress::zstd`, `CompressBackend`, multithreaded writers) | `zstd` (libzstd, a C build) |
//! | `sync` | the sync engine, `omnistorage::sync`: sync, copy, move, check, verify, bisync, dedupe, with rclone's filters | `rayon`, `glob`, `md-5` |
//! | `s3` | `S3Backend`: AWS S3 and S3-compatible stores (`s3://`) | `rusty-s3`, `ureq` (rustls), `md-5`, `jiff` |
//! | `sftp` | `SftpBackend`: SFTP servers (`sftp://`), host keys checked against `known_hosts` | `ssh2` (libssh2 built from C), `openssl-sys` (the system's OpenSSL), `libz-sys`, `sha1` |
//! | `sftp-vendored` | `sftp` with OpenSSL built from source and linked statically (static binaries) | the same, and `openssl-src` |
//! | `openat2` | the file backend reaches paths beneath a held root handle with one `openat2(RESOLVE_BENEATH)` (Linux; elsewhere, and on older kernels, the portable route) | `rustix` |
//! | `cli` | the `omnistorage` command-line tool (rclone's commands and flags), with `sync`, `s3`, `sftp`, `openat2` | those, `sha1`, `sha2`, `signal-hook`, `idna_adapter` |

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backend;
pub mod backends;
mod cancel;
#[cfg(any(feature = "gzip", feature = "zstd"))]
pub mod compress;
mod copy;
mod entry;
mod error;
pub mod format;
mod hash;
mod helpers;
mod io;
pub mod listing;
mod location;
pub mod multi;
mod options;
mod path;
pub mod registry;
// Used by the backends that retry (S3 today); unused in builds without them.
#[cfg_attr(not(feature = "s3"), allow(dead_code))]
mod retry;
pub mod state_file;
#[cfg(feature = "sync")]
pub mod sync;
pub mod units;
mod url;
mod usage;
mod wrap;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use backend::{Backend, BackendExt, List, PendingList, PendingUpload, Presign};
#[cfg(feature = "channel")]
pub use backends::channel::{ChannelBackend, ChannelBuilder};
pub use backends::file::FileBackend;
pub use backends::memory::MemoryBackend;
pub use cancel::Cancel;
pub use copy::{Copied, CopyOptions, CopyRoute, Throttle, copy_object, move_object};
pub use entry::{Capabilities, Entry, Fields, StreamDelivery};
pub use error::{Error, ErrorKind, Result};
pub use hash::{Hash, HashKind, HashKinds, Hasher, HashingReader, HashingWriter};
pub use helpers::{
    copy_entry, copy_path, copy_stream, lookup, move_path, read_to_vec, remove_all,
    remove_empty_dirs, write_all,
};
pub use io::{Finish, Reader, WriteSink, Writer};
pub use location::Location;
pub use options::{ListOptions, ReadOptions, WriteMode, WriteOptions};
pub use path::{AsPath, Path};
pub use registry::{open, register};
pub use url::Url;
pub use usage::Usage;
pub use wrap::Wrap;

/// The README's examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
