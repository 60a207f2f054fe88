//! [`Tee`]: a committing writer and a second `Write`, fed the same bytes.

use std::fmt;
use std::io::{self, Write};

use crate::entry::Entry;
use crate::error::{Error, Result};
use crate::io::{Finish, Writer};

/// Writes to a committing writer (a [`Writer`], or any [`Finish`] layer) and to a second
/// [`Write`] (a hasher, stdout, a socket) at once.
///
/// If either side fails, the object is not committed: [`finish`](Tee::finish) aborts the
/// committing side and returns the **first error itself** (its kind, whether it is
/// temporary, its source). Dropping an unfinished `Tee` aborts the committing side.
///
/// A `Tee` is [`Finish`], so it stacks like any layer; `finish` returns the entry and drops
/// the second writer, [`finish_with_other`](Tee::finish_with_other) hands it back.
///
/// ```
/// use omnistorage::multi::Tee;
/// use omnistorage::{BackendExt, MemoryBackend};
/// use std::io::Write;
///
/// let store = MemoryBackend::new();
/// let mut tee = Tee::new(store.open_writer("copy.txt")?, Vec::new());
/// tee.write_all(b"both places")?;
/// let (entry, seen) = tee.finish_with_other()?;
/// assert_eq!(entry.size, 11);
/// assert_eq!(seen, b"both places");
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub struct Tee<W: Write, F: Finish = Writer> {
    writer: F,
    other: W,
    /// The first failure of either side: `finish` returns it.
    poisoned: Option<Error>,
}

impl<W: Write, F: Finish> Tee<W, F> {
    /// Writes to `writer` (which commits) and `other`.
    pub fn new(writer: F, other: W) -> Tee<W, F> {
        Tee {
            writer,
            other,
            poisoned: None,
        }
    }

    /// Flushes `other`, then commits the writer; returns the entry. The second writer is
    /// dropped; [`finish_with_other`](Tee::finish_with_other) returns it.
    pub fn finish(self) -> Result<Entry> {
        self.finish_with_other().map(|(entry, _)| entry)
    }

    /// Flushes `other`, then commits the writer; returns the entry and `other`.
    pub fn finish_with_other(mut self) -> Result<(Entry, W)> {
        if let Some(first) = self.poisoned.take() {
            let _ = self.writer.abort();
            return Err(first);
        }
        if let Err(e) = self.other.flush() {
            let _ = self.writer.abort();
            return Err(Error::from(e).with_operation("tee finish"));
        }
        let entry = self.writer.finish()?;
        Ok((entry, self.other))
    }

    /// Aborts the committing writer. The second writer is dropped;
    /// [`abort_with_other`](Tee::abort_with_other) returns it.
    pub fn abort(self) -> Result<()> {
        self.writer.abort()
    }

    /// Aborts the committing writer and returns `other`.
    pub fn abort_with_other(self) -> Result<W> {
        self.writer.abort()?;
        Ok(self.other)
    }

    fn track<T>(&mut self, r: io::Result<T>) -> io::Result<T> {
        match r {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => {
                let err = Error::from(e);
                self.poisoned.get_or_insert_with(|| err.clone());
                Err(err.into())
            }
            r => r,
        }
    }
}

impl<W: Write, F: Finish> Write for Tee<W, F> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(first) = &self.poisoned {
            return Err(first.clone().into());
        }
        let r = self
            .writer
            .write_all(buf)
            .and_then(|()| self.other.write_all(buf));
        self.track(r).map(|()| buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let r = self.writer.flush().and_then(|()| self.other.flush());
        self.track(r)
    }
}

impl<W: Write, F: Finish> Finish for Tee<W, F> {
    fn finish(self) -> Result<Entry> {
        Tee::finish(self)
    }

    fn abort(self) -> Result<()> {
        Tee::abort(self)
    }
}

impl<W: Write, F: Finish + fmt::Debug> fmt::Debug for Tee<W, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tee")
            .field("writer", &self.writer)
            .field("poisoned", &self.poisoned.is_some())
            .finish_non_exhaustive()
    }
}
