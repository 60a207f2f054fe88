//! Compression layers: gzip (feature `gzip`, on flate2) and zstd (feature `zstd`, on
//! libzstd).
//!
//! Three ways in, from the lowest to the highest:
//!
//! - [`gzip`] and [`zstd`]: a writer that wraps a [`Writer`] and is itself a `Writer` (its
//!   `finish` ends the compressed stream, then commits the object), and a reader over any
//!   [`Read`];
//! - [`Compression`]: the algorithm as a value, chosen by file extension
//!   ([`Compression::from_path`]) or by configuration, with the same writers and readers;
//! - [`CompressBackend`]: a layer that is itself a [`Backend`](crate::Backend), compressing
//!   on write and decompressing on read, transparently.
//!
// A link to a module whose feature is off leads to the list of features.
#![cfg_attr(not(feature = "gzip"), doc = "\n[`gzip`]: crate#crate-features")]
#![cfg_attr(not(feature = "zstd"), doc = "\n[`zstd`]: crate#crate-features")]
//!
//! ```
//! use omnistorage::compress::{CompressBackend, Compression};
//! use omnistorage::{BackendExt, MemoryBackend};
//!
//! let raw = MemoryBackend::new();
//! let store = CompressBackend::new(raw.clone(), Compression::Zstd);
//! store.write_all("report.json", br#"{"ok":true}"#)?;
//! assert_eq!(store.read_to_vec("report.json")?, br#"{"ok":true}"#);
//! assert_eq!(store.info("report.json")?.size, 11); // the uncompressed size
//! assert_ne!(raw.read_to_vec("report.json")?, br#"{"ok":true}"#); // stored compressed
//! # Ok::<(), omnistorage::Error>(())
//! ```
//!
//! # Errors
//!
//! Readers never panic and never end a damaged stream quietly: malformed, corrupt or
//! truncated input is [`ErrorKind::Corrupt`] (`io::ErrorKind::InvalidData` while it travels
//! inside an `io::Error`), with a message that says which format and what went wrong. Errors of
//! the reader underneath (a backend's `NotFound`, `Io`, `TimedOut`, ...) pass through with
//! their kind unchanged. A level out of range is [`ErrorKind::InvalidInput`]; an algorithm
//! whose feature is off is [`ErrorKind::Unsupported`].

use std::fmt;
use std::io::Read;

use crate::error::{Error, ErrorKind, Result};
use crate::io::{Reader, Writer};
use crate::path::Path;

mod backend;
mod stream;

#[cfg(feature = "gzip")]
pub mod gzip;
#[cfg(feature = "zstd")]
pub mod zstd;

pub use backend::CompressBackend;

/// A compression algorithm, or none.
///
/// Every variant exists whichever features are on, so that names and extensions are always
/// understood; making a writer or reader for an algorithm whose feature is off is
/// [`ErrorKind::Unsupported`] ([`is_available`](Compression::is_available) says which).
///
/// ```
/// use omnistorage::compress::Compression;
/// use omnistorage::Path;
///
/// assert_eq!(Compression::from_extension("gz"), Some(Compression::Gzip));
/// assert_eq!(Compression::from_extension(".ZST"), Some(Compression::Zstd));
/// assert_eq!(Compression::from_extension("zstd"), Some(Compression::Zstd));
/// assert_eq!(Compression::from_extension("txt"), None);
/// assert_eq!(Compression::from_path(&Path::parse("logs/app.log.gz")?), Compression::Gzip);
/// assert_eq!(Compression::from_path(&Path::parse("logs/app.log")?), Compression::None);
/// assert_eq!(Compression::Zstd.extension(), Some("zst"));
/// # Ok::<(), omnistorage::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// No compression: bytes are stored as they are.
    #[default]
    None,
    /// gzip (`.gz`), default level 6.
    Gzip,
    /// Zstandard (`.zst`, `.zstd`), default level 3.
    Zstd,
}

impl Compression {
    /// The algorithm a file extension names, with or without its leading dot, in any case:
    /// `gz` is gzip, `zst` and `zstd` are zstd. `None` for any other extension.
    pub fn from_extension(ext: &str) -> Option<Compression> {
        let ext = ext.strip_prefix('.').unwrap_or(ext);
        if ext.eq_ignore_ascii_case("gz") {
            Some(Compression::Gzip)
        } else if ext.eq_ignore_ascii_case("zst") || ext.eq_ignore_ascii_case("zstd") {
            Some(Compression::Zstd)
        } else {
            None
        }
    }

    /// The algorithm the extension of `path`'s last segment names, or
    /// [`Compression::None`]. For a local file name, use
    /// `from_extension` on [`std::path::Path::extension`].
    pub fn from_path(path: &Path) -> Compression {
        path.extension()
            .and_then(Compression::from_extension)
            .unwrap_or(Compression::None)
    }

    /// The usual file extension, without the dot: `gz`, `zst`; `None` for no compression.
    pub fn extension(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some("gz"),
            Compression::Zstd => Some("zst"),
        }
    }

    /// The name: `none`, `gzip`, `zstd`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// The default level (gzip 6, zstd 3, as their command-line tools); `None` for no
    /// compression.
    pub fn default_level(self) -> Option<i32> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some(6),
            Compression::Zstd => Some(3),
        }
    }

    /// Whether this build can compress and decompress it (its feature is on).
    pub fn is_available(self) -> bool {
        match self {
            Compression::None => true,
            Compression::Gzip => cfg!(feature = "gzip"),
            Compression::Zstd => cfg!(feature = "zstd"),
        }
    }

    /// A writer that compresses into `inner` at the default level (see
    /// [`gzip::writer`] and [`zstd::writer`] for what `finish` and `abort` do). For
    /// [`Compression::None`], `inner` itself.
    ///
    #[cfg_attr(
        not(feature = "gzip"),
        doc = "\n[`gzip::writer`]: crate#crate-features"
    )]
    #[cfg_attr(
        not(feature = "zstd"),
        doc = "\n[`zstd::writer`]: crate#crate-features"
    )]
    pub fn writer(self, inner: Writer) -> Result<Writer> {
        self.writer_with(inner, &Settings::default())
    }

    /// [`writer`](Compression::writer) at `level`: 0–9 for gzip, libzstd's range (1–22, and
    /// negative) for zstd; ignored for [`Compression::None`]. Out of range is
    /// [`ErrorKind::InvalidInput`].
    ///
    /// ```
    /// use omnistorage::compress::Compression;
    /// use omnistorage::{BackendExt, MemoryBackend};
    /// use std::io::{Read, Write};
    ///
    /// let store = MemoryBackend::new();
    /// let c = Compression::from_extension("gz").unwrap_or_default();
    /// let mut w = c.writer_with_level(store.open_writer("a.gz")?, 9)?;
    /// w.write_all(b"text")?;
    /// w.finish()?;
    /// let mut back = Vec::new();
    /// c.reader(store.open_reader("a.gz")?)?.read_to_end(&mut back)?;
    /// assert_eq!(back, b"text");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn writer_with_level(self, inner: Writer, level: i32) -> Result<Writer> {
        let mut settings = Settings::default();
        match self {
            Compression::Gzip => {
                settings.gzip_level = u32::try_from(level).map_err(|_| {
                    Error::new(
                        ErrorKind::InvalidInput,
                        format!("gzip level {level} is out of range: use 0 to 9"),
                    )
                })?;
            }
            Compression::Zstd => settings.zstd_level = level,
            Compression::None => {}
        }
        self.writer_with(inner, &settings)
    }

    pub(crate) fn writer_with(self, inner: Writer, settings: &Settings) -> Result<Writer> {
        match self {
            Compression::None => Ok(inner),
            #[cfg(feature = "gzip")]
            Compression::Gzip => gzip::writer_with(
                inner,
                &gzip::Options::new()
                    .level(settings.gzip_level)
                    .size_trailer(settings.size_trailer),
            ),
            #[cfg(feature = "zstd")]
            Compression::Zstd => zstd::writer_with(
                inner,
                &zstd::Options::new()
                    .level(settings.zstd_level)
                    .workers(settings.zstd_workers)
                    .size_trailer(settings.size_trailer),
            ),
            #[allow(unreachable_patterns)] // reachable when a feature is off
            other => {
                let _ = (inner, settings);
                Err(other.unavailable("compress"))
            }
        }
    }

    /// A reader that decompresses what `inner` yields (see [`gzip::Reader`] and
    /// [`zstd::Reader`] for the errors). For [`Compression::None`], `inner` as it is.
    ///
    #[cfg_attr(
        not(feature = "gzip"),
        doc = "\n[`gzip::Reader`]: crate#crate-features"
    )]
    #[cfg_attr(
        not(feature = "zstd"),
        doc = "\n[`zstd::Reader`]: crate#crate-features"
    )]
    pub fn reader(self, inner: impl Read + Send + 'static) -> Result<Reader> {
        match self {
            Compression::None => Ok(Reader::new(inner)),
            #[cfg(feature = "gzip")]
            Compression::Gzip => Ok(Reader::new(gzip::Reader::new(inner))),
            #[cfg(feature = "zstd")]
            Compression::Zstd => Ok(Reader::new(zstd::Reader::new(inner)?)),
            #[allow(unreachable_patterns)] // reachable when a feature is off
            other => {
                drop(inner);
                Err(other.unavailable("decompress"))
            }
        }
    }

    /// The length of the size trailer this crate's writers append, and its parser.
    pub(crate) fn trailer(self) -> Option<(usize, stream::ParseTrailer)> {
        match self {
            #[cfg(feature = "gzip")]
            Compression::Gzip => Some((gzip::TRAILER_LEN, gzip::parse_trailer)),
            #[cfg(feature = "zstd")]
            Compression::Zstd => Some((zstd::TRAILER_LEN, zstd::parse_trailer)),
            _ => None,
        }
    }

    fn unavailable(self, operation: &'static str) -> Error {
        Error::new(
            ErrorKind::Unsupported,
            format!(
                "{} support is not compiled in (enable the `{}` feature)",
                self.name(),
                self.name()
            ),
        )
        .with_operation(operation)
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the writers of a [`CompressBackend`] compress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Settings {
    pub(crate) gzip_level: u32,
    pub(crate) zstd_level: i32,
    pub(crate) zstd_workers: u32,
    pub(crate) size_trailer: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            gzip_level: 6,
            zstd_level: 3,
            zstd_workers: 0,
            size_trailer: true,
        }
    }
}
