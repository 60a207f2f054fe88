//! Fan-out writers, concatenating readers, and a tee.
//!
//! - [`MultiWriter`] writes the same bytes to several [`Writer`]s (on the same backend or on
//!   different ones) and commits them together, with a [`FanOut`] policy: every sink must
//!   succeed, at least one, or a quorum.
//! - [`ConcatReader`] reads several objects one after the other as one stream.
//! - [`Tee`] writes to a [`Writer`] and to any second [`Write`] (a hasher, stdout, a socket).
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
//! let report = both.finish()?;
//! assert_eq!(report.committed.len(), 2);
//! assert_eq!(replica.read_to_vec("db.dump")?, b"snapshot");
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), omnistorage::Error>(())
//! ```

use std::fmt;
use std::io::{self, Read, Write};

use crate::backend::Backend;
use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};
use crate::io::{Reader, WriteSink, Writer};
use crate::options::ReadOptions;
use crate::path::Path;

/// When a [`MultiWriter`] succeeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FanOut {
    /// Every sink must succeed. The first failure aborts every sink that has not committed
    /// yet and fails the whole write.
    All,
    /// Succeeds while at least one sink does; failed sinks are aborted and reported.
    BestEffort,
    /// Succeeds while at least `n` sinks do (`1 <= n <= sinks`).
    Quorum(usize),
}

impl FanOut {
    /// How many sinks must commit for the write to succeed.
    fn needed(self, sinks: usize) -> usize {
        match self {
            FanOut::All => sinks,
            FanOut::BestEffort => 1,
            FanOut::Quorum(n) => n,
        }
    }
}

/// What a [`MultiWriter`] did: which sinks committed and which failed, by their index in the
/// list given to [`MultiWriter::new`].
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct FanOutReport {
    /// The sinks that committed, with their entries.
    pub committed: Vec<(usize, Entry)>,
    /// The sinks that failed (and were aborted), with the reason.
    pub failed: Vec<(usize, Error)>,
}

/// A writer that sends every byte to several [`Writer`]s and commits them together.
///
/// # Behaviour
///
/// - `write` hands the bytes to every live sink. A sink whose `write` or `flush` fails is
///   aborted at once (its path keeps what it had) and recorded in the report.
/// - When too few live sinks remain for the [`FanOut`] policy, the write fails: every other
///   sink is aborted too, and the error names the sinks that failed.
/// - [`finish`](MultiWriter::finish) first flushes every sink (a failure there is handled as
///   above, before anything is committed), then commits them one by one. A commit is final:
///   if a later sink fails to commit, the earlier ones stay committed, the rest are aborted,
///   and the error (for [`FanOut::All`]) or the report says exactly which committed, so the
///   caller can remove them. No backend offers a commit that spans two stores.
/// - Dropping an unfinished `MultiWriter` aborts every sink.
///
/// A `MultiWriter` is also a [`WriteSink`], so [`into_writer`](MultiWriter::into_writer)
/// makes it a plain [`Writer`] (whose `finish` returns the first committed entry).
pub struct MultiWriter {
    mode: FanOut,
    sinks: Vec<Option<Writer>>,
    failed: Vec<(usize, Error)>,
}

impl fmt::Debug for MultiWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiWriter")
            .field("mode", &self.mode)
            .field("live", &self.live())
            .field("failed", &self.failed)
            .finish()
    }
}

fn fan_out_error(message: String, failed: &[(usize, Error)]) -> Error {
    let mut err = Error::new(ErrorKind::Io, message).with_operation("fan-out write");
    // The first failure is the cause; the others are named in the message.
    if let Some((_, first)) = failed.first() {
        err = err
            .with_temporary(failed.iter().all(|(_, e)| e.is_temporary()))
            .with_source(Error::new(first.kind(), first.to_string()));
    }
    err
}

impl MultiWriter {
    /// Fans out to `writers` with the given policy.
    ///
    /// Fails with [`ErrorKind::InvalidInput`] (aborting the writers) if there are no writers
    /// or a quorum is 0 or larger than the number of writers.
    pub fn new(mode: FanOut, writers: Vec<Writer>) -> Result<MultiWriter> {
        let n = writers.len();
        let valid = n > 0 && (1..=n).contains(&mode.needed(n));
        if !valid {
            for w in writers {
                let _ = w.abort();
            }
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("fan-out {mode:?} is impossible with {n} sink(s)"),
            ));
        }
        Ok(MultiWriter {
            mode,
            sinks: writers.into_iter().map(Some).collect(),
            failed: Vec::new(),
        })
    }

    /// The number of sinks still taking bytes.
    pub fn live(&self) -> usize {
        self.sinks.iter().filter(|s| s.is_some()).count()
    }

    /// The sinks that have failed so far, by index.
    pub fn failures(&self) -> &[(usize, Error)] {
        &self.failed
    }

    fn needed(&self) -> usize {
        self.mode.needed(self.sinks.len())
    }

    /// Aborts sink `i` after `err`.
    fn fail(&mut self, i: usize, err: Error) {
        if let Some(w) = self.sinks.get_mut(i).and_then(Option::take) {
            let _ = w.abort();
        }
        self.failed.push((i, err));
    }

    /// After failures: an error if too few sinks are left (and then everything is aborted).
    fn check_quorum(&mut self) -> Result<()> {
        if self.live() >= self.needed() {
            return Ok(());
        }
        for w in self.sinks.iter_mut().filter_map(Option::take) {
            let _ = w.abort();
        }
        let names: Vec<String> = self
            .failed
            .iter()
            .map(|(i, e)| format!("sink {i}: {e}"))
            .collect();
        Err(fan_out_error(
            format!(
                "{} of {} sinks failed, {:?} needs {}; all aborted ({})",
                self.failed.len(),
                self.sinks.len(),
                self.mode,
                self.needed(),
                names.join("; ")
            ),
            &self.failed,
        ))
    }

    fn each(&mut self, mut op: impl FnMut(&mut Writer) -> io::Result<()>) -> Result<()> {
        let mut errors = Vec::new();
        for (i, slot) in self.sinks.iter_mut().enumerate() {
            if let Some(w) = slot {
                if let Err(e) = op(w) {
                    errors.push((i, Error::from(e)));
                }
            }
        }
        for (i, e) in errors {
            self.fail(i, e);
        }
        self.check_quorum()
    }

    /// Flushes every sink, then commits them in order. See the type's docs for what happens
    /// on failure.
    pub fn finish(mut self) -> Result<FanOutReport> {
        self.each(|w| w.flush())?;
        let needed = self.needed();
        let mut report = FanOutReport::default();
        let live: Vec<(usize, Writer)> = std::mem::take(&mut self.sinks)
            .into_iter()
            .enumerate()
            .filter_map(|(i, slot)| slot.map(|w| (i, w)))
            .collect();
        let mut untried = live.len();
        let mut live = live.into_iter();
        for (i, w) in live.by_ref() {
            untried -= 1;
            match w.finish() {
                Ok(entry) => report.committed.push((i, entry)),
                Err(e) => {
                    self.failed.push((i, e));
                    if report.committed.len() + untried < needed {
                        break; // the policy can no longer be met: abort the rest
                    }
                }
            }
        }
        for (i, w) in live {
            let _ = w.abort();
            self.failed.push((
                i,
                Error::new(
                    ErrorKind::Cancelled,
                    "aborted: the fan-out had already failed",
                ),
            ));
        }
        report.failed = std::mem::take(&mut self.failed);
        if report.committed.len() >= needed {
            return Ok(report);
        }
        let committed: Vec<String> = report
            .committed
            .iter()
            .map(|(i, e)| format!("{i} ({})", e.path))
            .collect();
        Err(fan_out_error(
            format!(
                "{:?} needs {needed} commits, {} succeeded{}",
                self.mode,
                report.committed.len(),
                if committed.is_empty() {
                    String::new()
                } else {
                    format!(" and stay committed: sinks {}", committed.join(", "))
                }
            ),
            &report.failed,
        ))
    }

    /// Aborts every sink.
    pub fn abort(mut self) -> Result<()> {
        for w in self.sinks.iter_mut().filter_map(Option::take) {
            let _ = w.abort();
        }
        Ok(())
    }

    /// This fan-out as a plain [`Writer`]; its `finish` returns the first committed entry.
    pub fn into_writer(self) -> Writer {
        Writer::new(self)
    }
}

impl Write for MultiWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.each(|w| w.write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.each(|w| w.flush())?;
        Ok(())
    }
}

impl WriteSink for MultiWriter {
    fn finish(self: Box<Self>) -> Result<Entry> {
        let report = (*self).finish()?;
        report
            .committed
            .into_iter()
            .next()
            .map(|(_, entry)| entry)
            .ok_or_else(|| Error::new(ErrorKind::Io, "no sink committed"))
    }

    fn abort(self: Box<Self>) -> Result<()> {
        (*self).abort()
    }
}

impl Drop for MultiWriter {
    fn drop(&mut self) {
        for w in self.sinks.iter_mut().filter_map(Option::take) {
            let _ = w.abort();
        }
    }
}

/// Reads several objects of one backend, in order, as one stream.
///
/// Each object is opened when the previous one is exhausted, so at most one is open at a time.
/// A missing object is an error when it is reached ([`ErrorKind::NotFound`]), not skipped.
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

/// Writes to a [`Writer`] and to a second [`Write`] at once.
///
/// If either side fails, the object is not committed: [`finish`](Tee::finish) aborts the
/// `Writer` and returns the error. Dropping an unfinished `Tee` aborts the `Writer`.
///
/// ```
/// use omnistorage::multi::Tee;
/// use omnistorage::{BackendExt, MemoryBackend};
/// use std::io::Write;
///
/// let store = MemoryBackend::new();
/// let mut tee = Tee::new(store.open_writer("copy.txt")?, Vec::new());
/// tee.write_all(b"both places")?;
/// let (entry, seen) = tee.finish()?;
/// assert_eq!(entry.size, 11);
/// assert_eq!(seen, b"both places");
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub struct Tee<W: Write> {
    writer: Writer,
    other: W,
    poisoned: bool,
}

impl<W: Write> Tee<W> {
    /// Writes to `writer` and `other`.
    pub fn new(writer: Writer, other: W) -> Tee<W> {
        Tee {
            writer,
            other,
            poisoned: false,
        }
    }

    /// Flushes `other`, then commits the `Writer`; returns the entry and `other`.
    pub fn finish(mut self) -> Result<(Entry, W)> {
        if self.poisoned {
            let _ = self.writer.abort();
            return Err(Error::new(
                ErrorKind::Io,
                "an earlier write failed; the object was not committed",
            )
            .with_operation("tee finish"));
        }
        if let Err(e) = self.other.flush() {
            let _ = self.writer.abort();
            return Err(Error::from(e));
        }
        let entry = self.writer.finish()?;
        Ok((entry, self.other))
    }

    /// Aborts the `Writer` and returns `other`.
    pub fn abort(self) -> Result<W> {
        self.writer.abort()?;
        Ok(self.other)
    }
}

impl<W: Write> Write for Tee<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self
            .writer
            .write_all(buf)
            .and_then(|()| self.other.write_all(buf));
        if r.is_err() {
            self.poisoned = true;
        }
        r.map(|()| buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let r = self.writer.flush().and_then(|()| self.other.flush());
        if r.is_err() {
            self.poisoned = true;
        }
        r
    }
}

impl<W: Write> fmt::Debug for Tee<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tee")
            .field("writer", &self.writer)
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}
