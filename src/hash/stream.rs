//! [`HashingReader`] and [`HashingWriter`]: hashes computed on the way through.

use std::fmt;
use std::io::{self, Read, Write};

use super::{Hash, HashKinds, Hasher};
use crate::entry::Entry;
use crate::error::Result;
use crate::io::{Finish, WriteSink, Writer};

/// A [`Read`] that hashes every byte it yields, in several kinds at once.
///
/// ```
/// use omnistorage::{BackendExt, HashKind, HashKinds, HashingReader, MemoryBackend};
/// use std::io::Read;
///
/// let store = MemoryBackend::new();
/// store.write_all("a.txt", b"abc")?;
/// let kinds = HashKinds::NONE.with(HashKind::Crc32c);
/// let mut r = HashingReader::new(store.open_reader("a.txt")?, kinds)?;
/// let mut text = String::new();
/// r.read_to_string(&mut text)?;
/// assert_eq!(r.hashes()[0].to_hex(), "364b3fb7"); // CRC-32C of "abc"
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
}

impl<R: Read> HashingReader<R> {
    /// Hashes what `inner` yields in `kinds`; a kind this build cannot compute is
    /// [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) (see
    /// [`Hasher::available`]).
    pub fn new(inner: R, kinds: HashKinds) -> Result<HashingReader<R>> {
        Ok(HashingReader {
            inner,
            hasher: Hasher::new(kinds)?,
        })
    }

    /// The hashes of everything read so far, in [`HashKind::ALL`](crate::HashKind::ALL)
    /// order. Reading on afterwards goes on hashing.
    pub fn hashes(&self) -> Vec<Hash> {
        self.hasher.clone().finish()
    }

    /// The reader, and the hashes of everything read from it.
    pub fn into_parts(self) -> (R, Vec<Hash>) {
        (self.inner, self.hasher.finish())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

impl<R> fmt::Debug for HashingReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashingReader")
            .field("kinds", &self.hasher.kinds())
            .finish_non_exhaustive()
    }
}

/// A [`Finish`] layer that hashes every byte written through it; its
/// [`finish`](HashingWriter::finish) commits the layer below and returns that layer's
/// [`Entry`] with the computed hashes added ([`Entry::with_hash`]).
///
/// The hashes are of the bytes written **to this layer**. Put it directly on a backend's
/// [`Writer`] for the entry's hashes to describe the stored object; above a compression
/// layer they would be the hashes of the uncompressed bytes, which is not what the entry
/// (the compressed object) holds. To put it under a layer that takes a [`Writer`], use
/// [`into_writer`](HashingWriter::into_writer).
///
/// Aborting it, or dropping it unfinished, aborts the layer below.
///
/// ```
/// use omnistorage::{BackendExt, HashKind, HashKinds, HashingWriter, MemoryBackend};
/// use std::io::Write;
///
/// let store = MemoryBackend::new();
/// let kinds = HashKinds::NONE.with(HashKind::Crc32c);
/// let mut w = HashingWriter::new(store.open_writer("a.txt")?, kinds)?;
/// w.write_all(b"abc")?;
/// let entry = w.finish()?;
/// assert_eq!(entry.hash(HashKind::Crc32c).map(|h| h.to_hex()).as_deref(), Some("364b3fb7"));
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub struct HashingWriter<W> {
    inner: W,
    hasher: Hasher,
}

impl<W: Finish> HashingWriter<W> {
    /// Hashes what is written into `inner` in `kinds`; a kind this build cannot compute is
    /// [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported), and then `inner` is
    /// aborted.
    pub fn new(inner: W, kinds: HashKinds) -> Result<HashingWriter<W>> {
        match Hasher::new(kinds) {
            Ok(hasher) => Ok(HashingWriter { inner, hasher }),
            Err(e) => {
                let _ = inner.abort();
                Err(e)
            }
        }
    }

    /// Commits the layer below and returns its entry with the hashes of everything written
    /// added. On an error nothing is committed (as the layer below documents).
    pub fn finish(self) -> Result<Entry> {
        let entry = self.inner.finish()?;
        Ok(self
            .hasher
            .finish()
            .into_iter()
            .fold(entry, Entry::with_hash))
    }

    /// Aborts the layer below.
    pub fn abort(self) -> Result<()> {
        self.inner.abort()
    }

    /// The hashes of everything written so far.
    pub fn hashes(&self) -> Vec<Hash> {
        self.hasher.clone().finish()
    }

    /// This layer as a plain [`Writer`], for the layers that take one (compression,
    /// [`MultiWriter`](crate::multi::MultiWriter)).
    pub fn into_writer(self) -> Writer
    where
        W: Send + 'static,
    {
        Writer::new(self)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Finish> Finish for HashingWriter<W> {
    fn finish(self) -> Result<Entry> {
        HashingWriter::finish(self)
    }

    fn abort(self) -> Result<()> {
        HashingWriter::abort(self)
    }
}

impl<W: Finish + Send> WriteSink for HashingWriter<W> {
    fn finish(self: Box<Self>) -> Result<Entry> {
        HashingWriter::finish(*self)
    }

    fn abort(self: Box<Self>) -> Result<()> {
        HashingWriter::abort(*self)
    }
}

impl<W> fmt::Debug for HashingWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashingWriter")
            .field("kinds", &self.hasher.kinds())
            .finish_non_exhaustive()
    }
}
