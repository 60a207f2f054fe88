//! [`MultiWriter`]: the same bytes to several [`Writer`]s, committed together.

use std::fmt;
use std::io::{self, Write};

use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};
use crate::io::{Finish, WriteSink, Writer};

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

/// What a [`MultiWriter`] did, sink by sink (by their index in the list given to
/// [`MultiWriter::new`]), as [`MultiWriter::finish_with_report`] returns it.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct FanOutReport {
    /// The sinks that committed, with their entries.
    pub committed: Vec<(usize, Entry)>,
    /// The sinks that failed (and were aborted), each with its own error, unchanged.
    pub failed: Vec<(usize, Error)>,
    /// The sinks aborted without failing themselves, because the fan-out as a whole had
    /// failed before their turn to commit.
    pub aborted: Vec<usize>,
    /// The sinks that had committed and were undone by their
    /// [`with_undo`](MultiWriter::with_undo) hook because the fan-out failed after them.
    pub undone: Vec<usize>,
}

/// How to take back sink `i`'s commit.
type Undo = Box<dyn FnOnce(&Entry) -> Result<()> + Send>;

/// A writer that sends every byte to several [`Writer`]s and commits them together.
///
/// # Behaviour
///
/// - `write` hands the bytes to every live sink. A sink whose `write` or `flush` fails is
///   aborted at once (its path keeps what it had) and recorded in the report.
/// - When too few live sinks remain for the [`FanOut`] policy, the write fails: every other
///   sink is aborted too. The error has the kind of the **first failure, which is its
///   [`source()`](std::error::Error::source)** (the sink's own error, whole); it is
///   temporary only if every failure was, and its message names the sinks that failed.
/// - [`finish`](MultiWriter::finish) first flushes every sink (a failure there is handled as
///   above, before anything is committed), then commits them one by one. A commit is final:
///   if a later sink fails to commit, the earlier ones stay committed unless they have an
///   [undo hook](MultiWriter::with_undo), the rest are aborted, and the error (for
///   [`FanOut::All`]) or the report says exactly which stay committed. No backend offers a
///   commit that spans two stores.
/// - Dropping an unfinished `MultiWriter` aborts every sink.
///
/// A `MultiWriter` is [`Finish`]: `finish` returns the entry of the first sink that
/// committed, so it stacks under the record writers of [`format`](crate::format) like any
/// other layer; [`finish_with_report`](MultiWriter::finish_with_report) says what every sink
/// did. [`into_writer`](MultiWriter::into_writer) makes it a plain [`Writer`], for the
/// layers that take one (compression).
///
/// ```
/// use omnistorage::multi::{FanOut, MultiWriter};
/// use omnistorage::{BackendExt, MemoryBackend};
/// use std::io::Write;
///
/// let (a, b) = (MemoryBackend::new(), MemoryBackend::new());
/// let mut both = MultiWriter::new(FanOut::All, vec![a.open_writer("x")?, b.open_writer("x")?])?;
/// both.write_all(b"twice")?;
/// let report = both.finish_with_report()?;
/// assert_eq!(report.committed.len(), 2);
/// assert_eq!(b.read_to_vec("x")?, b"twice");
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub struct MultiWriter {
    mode: FanOut,
    sinks: Vec<Option<Writer>>,
    undo: Vec<Option<Undo>>,
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

/// The error of a fan-out that failed: the first failure's kind, with that failure itself as
/// the source; temporary only if every failure was.
fn fan_out_error(operation: &'static str, message: String, failed: &[(usize, Error)]) -> Error {
    match failed.first() {
        Some((_, first)) => Error::new(first.kind(), message)
            .with_operation(operation)
            .with_temporary(failed.iter().all(|(_, e)| e.is_temporary()))
            .with_source(first.clone()),
        None => Error::new(ErrorKind::Io, message).with_operation(operation),
    }
}

/// `sink 0: <error>; sink 2: <error>` for a message; the first failure's text is left to the
/// error's source.
fn name_failures(failed: &[(usize, Error)]) -> String {
    failed
        .iter()
        .enumerate()
        .map(|(n, (i, e))| {
            if n == 0 {
                format!("sink {i}")
            } else {
                format!("sink {i}: {}", e.display_chain())
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
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
            undo: (0..n).map(|_| None).collect(),
            failed: Vec::new(),
        })
    }

    /// Gives sink `sink` (its index in the list given to [`new`](MultiWriter::new)) a way to
    /// take back its commit, used when the fan-out fails **after** that sink committed.
    /// Typically a delete of the entry's path on the sink's backend, which is right for a
    /// new object; for an overwrite it removes the object rather than restoring the one
    /// before. An undo that fails leaves the sink committed, and the error says so.
    ///
    /// An index out of range is ignored.
    ///
    /// ```
    /// use omnistorage::multi::{FanOut, MultiWriter};
    /// use omnistorage::{Backend, BackendExt, MemoryBackend};
    ///
    /// let store = MemoryBackend::new();
    /// let undo_store = store.clone();
    /// let fan = MultiWriter::new(FanOut::All, vec![store.open_writer("copy")?])?
    ///     .with_undo(0, move |entry| undo_store.delete(&entry.path));
    /// # drop(fan);
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn with_undo(
        mut self,
        sink: usize,
        undo: impl FnOnce(&Entry) -> Result<()> + Send + 'static,
    ) -> MultiWriter {
        if let Some(slot) = self.undo.get_mut(sink) {
            *slot = Some(Box::new(undo));
        }
        self
    }

    /// The number of sinks still taking bytes.
    pub fn live(&self) -> usize {
        self.sinks.iter().filter(|s| s.is_some()).count()
    }

    /// The sinks that have failed so far, by index, each with its own error.
    pub fn failures(&self) -> &[(usize, Error)] {
        &self.failed
    }

    fn needed(&self) -> usize {
        self.mode.needed(self.sinks.len())
    }

    fn abort_all(&mut self) {
        for w in self.sinks.iter_mut().filter_map(Option::take) {
            let _ = w.abort();
        }
    }

    /// After failures: an error if too few sinks are left (and then everything is aborted).
    fn check_quorum(&mut self) -> Result<()> {
        if self.live() >= self.needed() {
            return Ok(());
        }
        self.abort_all();
        Err(fan_out_error(
            "fan-out write",
            format!(
                "{} of {} sinks failed, {:?} needs {}; all aborted ({})",
                self.failed.len(),
                self.sinks.len(),
                self.mode,
                self.needed(),
                name_failures(&self.failed)
            ),
            &self.failed,
        ))
    }

    /// Runs `op` on every live sink; a sink that fails is aborted and recorded.
    fn each(&mut self, mut op: impl FnMut(&mut Writer) -> io::Result<()>) -> Result<()> {
        for (i, slot) in self.sinks.iter_mut().enumerate() {
            if let Some(w) = slot
                && let Err(e) = op(w)
            {
                if let Some(w) = slot.take() {
                    let _ = w.abort();
                }
                self.failed.push((i, Error::from(e)));
            }
        }
        self.check_quorum()
    }

    /// Flushes every sink, then commits them in order, and returns the entry of the first
    /// sink that committed. See the type's docs for what happens on failure;
    /// [`finish_with_report`](MultiWriter::finish_with_report) says what each sink did.
    pub fn finish(self) -> Result<Entry> {
        let report = self.finish_with_report()?;
        report
            .committed
            .into_iter()
            .next()
            .map(|(_, entry)| entry)
            .ok_or_else(|| Error::new(ErrorKind::Io, "no sink committed"))
    }

    /// [`finish`](MultiWriter::finish), returning what every sink did: which committed (with
    /// their entries), which failed (with their errors) and which were aborted or undone
    /// because of others. Under [`FanOut::BestEffort`] and [`FanOut::Quorum`] this is how
    /// a caller learns about the sinks that failed while the whole still succeeded.
    pub fn finish_with_report(mut self) -> Result<FanOutReport> {
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
            report.aborted.push(i);
        }
        report.failed = std::mem::take(&mut self.failed);
        if report.committed.len() >= needed {
            return Ok(report);
        }
        self.undo_commits(&mut report);
        let stay: Vec<String> = report
            .committed
            .iter()
            .map(|(i, e)| format!("{i} ({})", e.path))
            .collect();
        let stay = if stay.is_empty() {
            String::new()
        } else {
            format!("; these stay committed: sinks {}", stay.join(", "))
        };
        Err(fan_out_error(
            "fan-out finish",
            format!(
                "{:?} needs {needed} commits, {} failed ({}){}",
                self.mode,
                report.failed.len(),
                name_failures(&report.failed),
                stay
            ),
            &report.failed,
        ))
    }

    /// After a failed finish: undoes the commits that have an undo hook. Those whose undo
    /// fails stay in `committed`; their undo error joins `failed`.
    fn undo_commits(&mut self, report: &mut FanOutReport) {
        let mut stay = Vec::new();
        for (i, entry) in std::mem::take(&mut report.committed) {
            match self.undo.get_mut(i).and_then(Option::take) {
                Some(undo) => match undo(&entry) {
                    Ok(()) => report.undone.push(i),
                    Err(e) => {
                        report.failed.push((i, e.with_operation("fan-out undo")));
                        stay.push((i, entry));
                    }
                },
                None => stay.push((i, entry)),
            }
        }
        report.committed = stay;
    }

    /// Aborts every sink.
    pub fn abort(mut self) -> Result<()> {
        self.abort_all();
        Ok(())
    }

    /// This fan-out as a plain [`Writer`] (for the layers that take one, like compression);
    /// its `finish` is [`MultiWriter::finish`].
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

impl Finish for MultiWriter {
    fn finish(self) -> Result<Entry> {
        MultiWriter::finish(self)
    }

    fn abort(self) -> Result<()> {
        MultiWriter::abort(self)
    }
}

impl WriteSink for MultiWriter {
    fn finish(self: Box<Self>) -> Result<Entry> {
        MultiWriter::finish(*self)
    }

    fn abort(self: Box<Self>) -> Result<()> {
        MultiWriter::abort(*self)
    }
}

impl Drop for MultiWriter {
    fn drop(&mut self) {
        self.abort_all();
    }
}
