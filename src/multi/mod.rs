//! Fan-out writers, concatenating readers, and a tee.
//!
//! - [`MultiWriter`] writes the same bytes to several [`Writer`](crate::Writer)s (on the same backend or on
//!   different ones) and commits them together, with a [`FanOut`] policy: every sink must
//!   succeed, at least one, or a quorum.
//! - [`ConcatReader`] reads several objects one after the other as one stream.
//! - [`Tee`] writes to a [`Writer`](crate::Writer) (or any [`Finish`](crate::Finish) layer) and to any second
//!   [`Write`](std::io::Write) (a hasher, stdout, a socket).
//!
//! Both writers are [`Finish`](crate::Finish): they commit with one `finish` and abort
//! everything below them when aborted or dropped.
//!
//! ```
//! use omnistorage::multi::{FanOut, MultiWriter};
//! use omnistorage::{BackendExt, FileBackend, MemoryBackend};
//! use std::io::Write;
//!
//! # let dir = std::env::temp_dir().join(format!("omnistorage-multi-doc-{}", std::process::id()));
//! let primary = FileBackend::new(&dir)?;
//! let replica = MemoryBackend::new();
//! let mut both = MultiWriter::new(
//!     FanOut::All,
//!     vec![primary.open_writer("db.dump")?, replica.open_writer("db.dump")?],
//! )?;
//! both.write_all(b"snapshot")?;
//! let entry = both.finish()?; // the first sink's entry
//! assert_eq!(entry.size, 8);
//! assert_eq!(replica.read_to_vec("db.dump")?, b"snapshot");
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), omnistorage::Error>(())
//! ```

use std::fmt;
use std::io::{self, Read};

use crate::backend::Backend;
use crate::io::Reader;
use crate::options::ReadOptions;
use crate::path::Path;

mod fanout;
mod tee;

pub use fanout::{FanOut, FanOutReport, MultiWriter};
pub use tee::Tee;

/// Reads several objects of one backend, in order, as one stream.
///
/// Each object is opened when the previous one is exhausted, so at most one is open at a time.
/// A missing object is an error when it is reached ([`ErrorKind::NotFound`](crate::ErrorKind::NotFound)), not skipped.
///
/// ```
/// use omnistorage::multi::ConcatReader;
/// use omnistorage::{BackendExt, MemoryBackend, Path};
/// use std::io::Read;
///
/// let store = MemoryBackend::new();
/// store.write_all("part-0", b"hello, ")?;
/// store.write_all("part-1", b"world")?;
/// let paths = vec![Path::parse("part-0")?, Path::parse("part-1")?];
/// let mut all = String::new();
/// ConcatReader::new(&store, paths).read_to_string(&mut all)?;
/// assert_eq!(all, "hello, world");
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub struct ConcatReader<'a, B: Backend + ?Sized> {
    backend: &'a B,
    paths: std::vec::IntoIter<Path>,
    current: Option<Reader>,
}

impl<'a, B: Backend + ?Sized> ConcatReader<'a, B> {
    /// Reads `paths` of `backend` one after the other.
    pub fn new(backend: &'a B, paths: impl IntoIterator<Item = Path>) -> ConcatReader<'a, B> {
        ConcatReader {
            backend,
            paths: paths.into_iter().collect::<Vec<_>>().into_iter(),
            current: None,
        }
    }
}

impl<B: Backend + ?Sized> Read for ConcatReader<'_, B> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(reader) = self.current.as_mut() {
                let n = reader.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                self.current = None;
            }
            let Some(path) = self.paths.next() else {
                return Ok(0);
            };
            self.current = Some(self.backend.reader(&path, &ReadOptions::default())?);
        }
    }
}

impl<B: Backend + ?Sized> fmt::Debug for ConcatReader<'_, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConcatReader")
            .field("remaining", &self.paths.len())
            .finish_non_exhaustive()
    }
}
