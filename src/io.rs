//! [`Reader`] and [`Writer`]: the concrete stream types every backend returns.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};

use crate::cancel::Cancel;
use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};

/// A stream of an object's bytes, as returned by [`Backend::reader`](crate::Backend::reader).
///
/// A plain [`Read`]; errors that cross it are this crate's [`Error`] inside an `io::Error`
/// (get it back with `Error::from(io_err)`).
pub struct Reader {
    inner: Box<dyn Read + Send>,
    /// Set instead of `inner` by [`Reader::from_file`].
    file: Option<io::Take<File>>,
    size: Option<u64>,
}

impl Reader {
    /// Wraps any `Read`.
    pub fn new(inner: impl Read + Send + 'static) -> Reader {
        Reader {
            inner: Box::new(inner),
            file: None,
            size: None,
        }
    }

    /// A reader of `len` bytes of a local file, from its current position. A
    /// [`Writer`] into a local file can then copy it kernel-side
    /// ([`Writer::copy_from_file`]), which is how a copy between two local files avoids
    /// passing the bytes through user space.
    ///
    /// ```
    /// use omnistorage::Reader;
    /// use std::io::Read;
    ///
    /// let path = std::env::temp_dir().join(format!("omnistorage-doc-fr-{}", std::process::id()));
    /// std::fs::write(&path, b"hello")?;
    /// let mut r = Reader::from_file(std::fs::File::open(&path)?, 4);
    /// assert_eq!(r.size(), Some(4));
    /// assert!(r.file_mut().is_some());
    /// let mut s = String::new();
    /// r.read_to_string(&mut s)?;
    /// assert_eq!(s, "hell");
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_file(file: File, len: u64) -> Reader {
        Reader {
            inner: Box::new(io::empty()),
            file: Some(file.take(len)),
            size: Some(len),
        }
    }

    /// The local file this reader reads, limited to what is left to read, if it was made by
    /// [`from_file`](Reader::from_file); `None` for every other reader.
    pub fn file_mut(&mut self) -> Option<&mut io::Take<File>> {
        self.file.as_mut()
    }

    /// Records how many bytes this reader will yield, if the backend knows.
    pub fn with_size(mut self, size: u64) -> Reader {
        self.size = Some(size);
        self
    }

    /// How many bytes this reader will yield, if known when it was opened.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// The wrapped reader.
    pub fn into_inner(self) -> Box<dyn Read + Send> {
        match self.file {
            Some(file) => Box::new(file),
            None => self.inner,
        }
    }

    fn source(&mut self) -> &mut dyn Read {
        match &mut self.file {
            Some(file) => file,
            None => &mut self.inner,
        }
    }
}

impl Read for Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.source().read(buf)
    }

    fn read_vectored(&mut self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
        self.source().read_vectored(bufs)
    }

    fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        if let Some(size) = self.size {
            buf.reserve(usize::try_from(size).unwrap_or(0));
        }
        self.source().read_to_end(buf)
    }
}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// The backend side of a [`Writer`]: where the bytes go, and how they are committed or
/// discarded.
///
/// Backends implement this and hand it out as `Writer::new(sink)`. Layers (compression, fan-out)
/// implement it over other `Writer`s.
pub trait WriteSink: Write + Send {
    /// Makes everything written visible as one object, atomically, and describes it.
    fn finish(self: Box<Self>) -> Result<Entry>;

    /// Discards everything written; the path keeps what it had before.
    fn abort(self: Box<Self>) -> Result<()>;

    /// Appends the rest of `src` (a local file, limited to what is left to read) without
    /// passing it through user space, if this sink writes to a local file: the kernel copies
    /// (`copy_file_range` on Linux, through `std::io::copy`). Returns the bytes copied, or
    /// `None` (the default) if this sink cannot, and the caller streams instead.
    fn copy_file(&mut self, src: &mut io::Take<File>) -> Option<io::Result<u64>> {
        let _ = src;
        None
    }
}

/// Anything that commits like a [`Writer`]: a stream whose bytes become an object only on
/// [`finish`](Finish::finish), and are discarded by [`abort`](Finish::abort) or by dropping it.
///
/// This is the one rule that lets layers stack: [`Writer`] itself, the compression writers
/// (which are `Writer`s), [`MultiWriter`](crate::multi::MultiWriter),
/// [`Tee`](crate::multi::Tee) and [`HashingWriter`](crate::HashingWriter) are `Finish`; the
/// record writers of [`format`](crate::format) forward `finish` and `abort` to theirs. So
/// records → compression → fan-out → backends commit with one `finish` at the top, and an
/// `abort` or a drop at the top aborts every layer down to every backend.
///
/// ```
/// # #[cfg(feature = "gzip")] {
/// use omnistorage::compress::gzip;
/// use omnistorage::format::{ndjson, RecordWriter};
/// use omnistorage::multi::{FanOut, MultiWriter};
/// use omnistorage::{BackendExt, MemoryBackend};
///
/// let (a, b) = (MemoryBackend::new(), MemoryBackend::new());
/// let fan = MultiWriter::new(FanOut::All, vec![a.open_writer("x.gz")?, b.open_writer("x.gz")?])?;
/// let mut records = ndjson::Writer::new(gzip::writer(fan.into_writer(), 6)?);
/// records.write_record(br#"{"n":1}"#)?;
/// drop(records); // aborts the gzip layer, the fan-out, and both backend writers
/// assert!(!a.contains("x.gz")? && !b.contains("x.gz")?);
/// # }
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub trait Finish: Write {
    /// Flushes every layer, then commits, and describes the stored object. On any error
    /// nothing is committed (except where a layer documents otherwise, like a fan-out whose
    /// policy allows some sinks to fail).
    fn finish(self) -> Result<Entry>;

    /// Discards everything written, in every layer below.
    fn abort(self) -> Result<()>;
}

impl Finish for Writer {
    fn finish(self) -> Result<Entry> {
        Writer::finish(self)
    }

    fn abort(self) -> Result<()> {
        Writer::abort(self)
    }
}

/// A stream into a new object, as returned by [`Backend::writer`](crate::Backend::writer).
///
/// Nothing written is visible until [`finish`](Writer::finish) commits it, whole, in one step.
/// [`abort`](Writer::abort) discards it, and so does **dropping the writer without calling
/// `finish`**; either way the path keeps the object it had before, if any.
///
/// Once a `write` or `flush` has failed, the writer is *poisoned*: `finish` aborts and returns
/// that first error itself (its kind, whether it is temporary, its source) instead of
/// committing a partial object. A writer made with a [`Cancel`] token
/// ([`WriteOptions::cancel`](crate::WriteOptions::cancel)) fails its next `write` or `finish`
/// with [`ErrorKind::Cancelled`] once the token is cancelled.
///
/// ```
/// use omnistorage::{BackendExt, MemoryBackend};
/// use std::io::Write;
///
/// let store = MemoryBackend::new();
/// let mut w = store.open_writer("report.txt")?;
/// w.write_all(b"hello")?;
/// assert!(!store.contains("report.txt")?); // not visible yet
/// let entry = w.finish()?;
/// assert_eq!(entry.size, 5);
/// assert!(store.contains("report.txt")?);
///
/// let mut w = store.open_writer("draft.txt")?;
/// w.write_all(b"never mind")?;
/// drop(w); // aborts
/// assert!(!store.contains("draft.txt")?);
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub struct Writer {
    sink: Option<Box<dyn WriteSink>>,
    /// The first failure of a `write` or `flush`: `finish` returns it.
    poisoned: Option<Error>,
    cancel: Option<Cancel>,
}

impl Writer {
    /// Wraps a backend's sink.
    pub fn new(sink: impl WriteSink + 'static) -> Writer {
        Writer::from_box(Box::new(sink))
    }

    /// Wraps a boxed sink.
    pub fn from_box(sink: Box<dyn WriteSink>) -> Writer {
        Writer {
            sink: Some(sink),
            poisoned: None,
            cancel: None,
        }
    }

    /// Observes `cancel` (backends pass [`WriteOptions::cancel`](crate::WriteOptions)): once
    /// it is cancelled, the next `write`, `flush` or `finish` fails with
    /// [`ErrorKind::Cancelled`] and nothing is committed.
    pub fn with_cancel(mut self, cancel: Option<&Cancel>) -> Writer {
        self.cancel = cancel.cloned();
        self
    }

    /// Commits: flushes, then makes the object visible whole and returns its [`Entry`].
    ///
    /// If an earlier `write` or `flush` failed, nothing is committed: the writer aborts and
    /// this returns that first error. If the writer's [`Cancel`] token is cancelled, it aborts
    /// and returns [`ErrorKind::Cancelled`].
    pub fn finish(mut self) -> Result<Entry> {
        let Some(sink) = self.sink.take() else {
            return Err(Error::new(ErrorKind::Closed, "writer already finished"));
        };
        let refused = match self.poisoned.take() {
            Some(first) => Some(first),
            None => crate::cancel::check(self.cancel.as_ref())
                .err()
                .map(|e| e.with_operation("finish")),
        };
        if let Some(err) = refused {
            let _ = sink.abort();
            return Err(err);
        }
        sink.finish()
    }

    /// Discards everything written. The path keeps what it had before.
    pub fn abort(mut self) -> Result<()> {
        match self.sink.take() {
            Some(sink) => sink.abort(),
            None => Ok(()),
        }
    }

    /// Copies the rest of `reader` in kernel-side when both ends are local files (a
    /// [`Reader::from_file`] and a sink that implements [`WriteSink::copy_file`]), checking
    /// `cancel` every 64 MiB; `None` if not possible (then stream, with
    /// [`copy_stream`](crate::copy_stream)). A failure poisons the writer as a failed `write`
    /// does.
    ///
    /// ```
    /// use omnistorage::{Backend, BackendExt, FileBackend, Path, ReadOptions};
    ///
    /// let dir = std::env::temp_dir().join(format!("omnistorage-doc-cff-{}", std::process::id()));
    /// let store = FileBackend::new(&dir)?;
    /// store.write_all("a", b"data")?;
    /// let mut r = store.reader(&Path::parse("a")?, &ReadOptions::new())?;
    /// let mut w = store.open_writer("b")?;
    /// let copied = w.copy_from_file(&mut r, None).expect("both are local files")?;
    /// assert_eq!(copied, 4);
    /// w.finish()?;
    /// assert_eq!(store.read_to_vec("b")?, b"data");
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn copy_from_file(
        &mut self,
        reader: &mut Reader,
        cancel: Option<&Cancel>,
    ) -> Option<Result<u64>> {
        const CHUNK: u64 = 64 * 1024 * 1024;
        let src = reader.file_mut()?;
        let sink = self.sink.as_mut()?;
        if self.poisoned.is_some() {
            return None;
        }
        let mut total = 0u64;
        loop {
            let cancelled = crate::cancel::check(self.cancel.as_ref())
                .and_then(|()| crate::cancel::check(cancel));
            if let Err(e) = cancelled {
                let e = e.with_operation("write");
                self.poisoned.get_or_insert_with(|| e.clone());
                return Some(Err(e));
            }
            let left = src.limit();
            if left == 0 {
                return Some(Ok(total));
            }
            src.set_limit(left.min(CHUNK));
            let r = sink.copy_file(src);
            let copied = match r {
                // Not possible after all: nothing was copied, stream instead.
                None if total == 0 => {
                    src.set_limit(left);
                    return None;
                }
                None => Err(io::Error::other("the sink stopped copying files")),
                Some(r) => r,
            };
            match copied {
                Ok(n) => {
                    src.set_limit(left - n);
                    total += n;
                    if n == 0 {
                        return Some(Ok(total));
                    }
                }
                Err(e) => {
                    let err = Error::from(e);
                    self.poisoned.get_or_insert_with(|| err.clone());
                    return Some(Err(err));
                }
            }
        }
    }

    fn sink(&mut self) -> io::Result<&mut Box<dyn WriteSink>> {
        if let Err(e) = crate::cancel::check(self.cancel.as_ref()) {
            let e = e.with_operation("write");
            self.poisoned.get_or_insert_with(|| e.clone());
            return Err(e.into());
        }
        self.sink
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::Closed, "writer already finished").into())
    }

    /// Keeps the first failure (as this crate's `Error`, whole) for `finish`; the caller gets
    /// the same error.
    fn track<T>(&mut self, r: io::Result<T>) -> io::Result<T> {
        match r {
            Err(e) if e.kind() != io::ErrorKind::Interrupted && self.poisoned.is_none() => {
                let err = Error::from(e);
                self.poisoned = Some(err.clone());
                Err(err.into())
            }
            r => r,
        }
    }
}

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.sink()?.write(buf);
        self.track(r)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let r = self.sink()?.write_vectored(bufs);
        self.track(r)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let r = self.sink()?.write_all(buf);
        self.track(r)
    }

    /// Flushes buffers toward the backend. This does **not** make the object visible; only
    /// [`finish`](Writer::finish) does.
    fn flush(&mut self) -> io::Result<()> {
        let r = self.sink()?.flush();
        self.track(r)
    }
}

impl Drop for Writer {
    /// Aborts an unfinished writer.
    fn drop(&mut self) {
        if let Some(sink) = self.sink.take() {
            let _ = sink.abort();
        }
    }
}

impl fmt::Debug for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("open", &self.sink.is_some())
            .field("poisoned", &self.poisoned.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Default)]
    struct Log(Arc<Mutex<Vec<&'static str>>>);

    struct Sink {
        log: Arc<Mutex<Vec<&'static str>>>,
        fail_writes: bool,
    }

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.fail_writes {
                return Err(io::Error::other("disk full"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl WriteSink for Sink {
        fn finish(self: Box<Self>) -> Result<Entry> {
            self.log.lock().unwrap().push("finish");
            Ok(Entry::file(crate::Path::root(), 0))
        }
        fn abort(self: Box<Self>) -> Result<()> {
            self.log.lock().unwrap().push("abort");
            Ok(())
        }
    }

    fn writer(log: &Log, fail_writes: bool) -> Writer {
        Writer::new(Sink {
            log: log.0.clone(),
            fail_writes,
        })
    }

    fn events(log: &Log) -> Vec<&'static str> {
        log.0.lock().unwrap().clone()
    }

    #[test]
    fn drop_aborts() {
        let log = Log::default();
        drop(writer(&log, false));
        assert_eq!(events(&log), ["abort"]);
    }

    #[test]
    fn finish_commits_once() {
        let log = Log::default();
        writer(&log, false).finish().unwrap();
        assert_eq!(events(&log), ["finish"]);
    }

    #[test]
    fn failed_write_poisons_finish_with_the_first_error_itself() {
        let log = Log::default();
        let mut w = writer(&log, true);
        assert!(w.write_all(b"abc").is_err());
        let err = w.finish().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        let source = std::error::Error::source(&err).map(|s| s.to_string());
        assert_eq!(source.as_deref(), Some("disk full"));
        assert_eq!(events(&log), ["abort"]);
    }

    struct Flaky;

    impl Write for Flaky {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(Error::new(ErrorKind::Io, "connection reset")
                .with_temporary(true)
                .into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl WriteSink for Flaky {
        fn finish(self: Box<Self>) -> Result<Entry> {
            Ok(Entry::file(crate::Path::root(), 0))
        }
        fn abort(self: Box<Self>) -> Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_temporary_failure_stays_temporary_at_finish() {
        let mut w = Writer::new(Flaky);
        let first = Error::from(w.write_all(b"x").unwrap_err());
        assert!(first.is_temporary());
        let err = w.finish().unwrap_err();
        assert!(err.is_temporary(), "{err:?}");
        assert_eq!(err.message(), Some("connection reset"));
    }

    #[test]
    fn cancel_poisons_and_aborts() {
        let log = Log::default();
        let cancel = Cancel::new();
        let mut w = writer(&log, false).with_cancel(Some(&cancel));
        w.write_all(b"a").unwrap();
        cancel.cancel();
        let err = Error::from(w.write_all(b"b").unwrap_err());
        assert_eq!(err.kind(), ErrorKind::Cancelled);
        assert_eq!(w.finish().unwrap_err().kind(), ErrorKind::Cancelled);
        assert_eq!(events(&log), ["abort"]);
    }

    #[test]
    fn public_types_are_send() {
        fn send<T: Send>() {}
        send::<Reader>();
        send::<Writer>();
    }
}
