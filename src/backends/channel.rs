//! The in-process channel backend: paths are streams that hand bytes from one thread to
//! others. See [`ChannelBackend`] for the semantics.
//!
//! Behind the `channel` feature, on `crossbeam-channel`.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, Sender, TryRecvError, TrySendError, bounded, select};

use crate::backend::{Backend, List};
use crate::entry::{Capabilities, Entry, Fields, StreamDelivery};
use crate::error::{Error, ErrorKind, Result};
use crate::hash::HashKinds;
use crate::io::{Reader, WriteSink, Writer};
use crate::location::Location;
use crate::options::{ListOptions, ReadOptions, WriteMode, WriteOptions};
use crate::path::{AsPath, Path};
use crate::registry::Url;

const NAME: &str = "chan";
const LIST_PAGE: usize = 256;
/// The default size of a stream's buffer, in messages.
pub const DEFAULT_CAPACITY: usize = 64;

/// Streams handed between threads in one process: a writer's `write` calls are messages that
/// readers of the same path receive, in order.
///
/// `Clone` shares the backend (and closing one closes all). Make one with
/// [`ChannelBackend::new`] (consumed streams, a buffer of [`DEFAULT_CAPACITY`] messages, no
/// timeout) or [`ChannelBackend::builder`]; open one by URL with `chan://` (see
/// [`registry`](crate::registry)).
///
/// ```
/// use omnistorage::{BackendExt, ChannelBackend};
/// use std::io::Write;
///
/// let chan = ChannelBackend::new();
/// // A reader may attach before the writer: it waits for it.
/// let consumer = {
///     let chan = chan.clone();
///     std::thread::spawn(move || chan.read_to_vec("jobs/1"))
/// };
/// let mut w = chan.open_writer("jobs/1")?;
/// w.write_all(b"hello ")?; // one message
/// w.write_all(b"world")?; // another
/// w.finish()?; // end-of-stream for the readers
/// assert_eq!(consumer.join().expect("consumer thread")?, b"hello world");
/// # Ok::<(), omnistorage::Error>(())
/// ```
///
/// # Streams
///
/// A path names one **stream** at a time. It comes into being when a reader or a writer
/// opens the path, and then:
///
/// - **A writer sends messages.** Each non-empty `write` call on the [`Writer`] is one
///   message, whole (an empty write sends nothing). A stream has **one writer at a time**:
///   opening a second writer while one is open is refused with [`ErrorKind::AlreadyExists`]
///   (marked temporary: it can succeed once the first ends), whatever the
///   [`WriteMode`]. [`WriteMode::CreateNew`] is decided when the writer opens: it is refused
///   with `AlreadyExists` if the path has a writer or a finished stream, atomically.
/// - **Readers receive the messages in the order they were sent.** A reader may open the
///   path before the writer does and waits for it; one that opens while the stream is being
///   written receives what no reader has received yet (persistent: everything, from the
///   first message). A `read` returns bytes of one message at a time (a small buffer takes a
///   message in several reads).
/// - **[`Writer::finish`] ends the stream**: once there is no message left for a reader, its
///   next read returns end-of-stream (`Ok(0)`). End-of-stream is only ever seen after
///   `finish`, so a reader that got it knows the stream is complete: it has all of it
///   (persistent, or the only reader) or its share of it (competing readers).
/// - **[`Writer::abort`], or dropping the writer, cancels the stream**: readers get an
///   [`ErrorKind::Io`] error ("the writer aborted the stream"), never end-of-stream, on their
///   next read that needs another message; the messages they have not received are
///   discarded. (Not [`ErrorKind::Cancelled`]: that maps to `io::ErrorKind::Interrupted`,
///   which `std`'s read loops retry forever.) If the writer had replaced a finished stream,
///   that stream is put back, so a failed overwrite keeps the old stream; otherwise the path
///   is free again.
/// - A writer that opens a path whose stream is finished **replaces** it with a new stream
///   (with `Overwrite`): readers that had opened the old stream go on reading it to its end,
///   new readers get the new one.
///
/// # Consumed (default) and persistent streams
///
/// - **Consumed** ([`StreamDelivery::Consume`]): a stream is a bounded queue of
///   [`capacity`](ChannelBuilder::capacity) messages (counted in messages, not bytes: a
///   message is as large as the `write` call that sent it). **The readers of one path compete
///   for the messages**: each message goes to exactly one reader, so the readers together
///   receive every message once. A writer that finds the queue full **waits** until a reader
///   makes room (backpressure). Once a reader has received a finished stream to its end, the
///   stream is consumed and the path is free: `exists` is false and the next reader waits
///   for the next writer. Consequently an object cannot be read back after `finish` unless a
///   reader receives it, and a writer with no reader waits once the queue is full; the
///   capabilities say so ([`Capabilities::streams`]), and the conformance suite skips its
///   read-back cases.
/// - **Persistent** ([`ChannelBuilder::persistent`], [`StreamDelivery::Replay`]): the
///   stream keeps every message (in memory, until it is deleted, replaced or the backend is
///   closed). **Every reader receives the whole stream, from its first message, exactly
///   once**, however late it opens: a late reader replays what was written so far, then
///   follows the writer. (The Go original replayed the history and then delivered the
///   buffered messages a second time; here each reader has its own position in one log, so
///   nothing can come twice.) Readers do not compete, and writers never wait: there is no
///   queue to fill. A finished stream reads back like a stored object, so persistent mode
///   runs the whole conformance suite.
///
/// # Waiting, timeouts, delete and close
///
/// A read waits for a message (or the stream's end); a write to a full consumed stream waits
/// for room; [`broadcast`](ChannelBackend::broadcast) waits for room in each stream. Each of
/// these waits ends without a panic, and a timed-out wait has neither taken nor sent a
/// message (a read can simply be tried again), when:
///
/// | what happened | the waiting reader gets | the waiting writer gets |
/// | --- | --- | --- |
/// | the [`timeout`](ChannelBuilder::timeout) passed (per call) | [`ErrorKind::TimedOut`] (temporary; read again) | [`ErrorKind::TimedOut`] (the writer is poisoned: `finish` aborts) |
/// | [`delete`](Backend::delete) of the path | [`ErrorKind::NotFound`] | [`ErrorKind::NotFound`] |
/// | [`close`](Backend::close) of the backend | [`ErrorKind::Closed`] | [`ErrorKind::Closed`] |
/// | the writer aborted | [`ErrorKind::Io`] | — |
///
/// - **`delete` ends the path's stream now**, finished or not: messages not yet received are
///   discarded, its readers that had not reached end-of-stream get `NotFound` (the stream is
///   gone before they had it whole; a reader already at end-of-stream keeps it), its writer's
///   next `write`, `flush` or `finish` gets `NotFound`. Readers waiting for a writer that never came
///   get `NotFound` too. Deleting a path with no stream is `Ok`. Streams that a later writer
///   already replaced are not the path's stream any more, and are not affected.
/// - **`close` ends every stream**: every blocked reader and writer wakes and gets `Closed`,
///   and so does every later operation on the backend, its readers and its writers.
///
/// # Listing
///
/// `exists`, `list` and [`stat`](Backend::stat) show **finished** streams only
/// (consumed streams until they are received to their end), with their size (the bytes
/// written to them, broadcasts included), modification time (from
/// [`WriteOptions::modified`], or when `finish` was called), content type and metadata. A
/// stream being written, or one that readers wait on, is not listed.
/// Paths match by segment, in byte order, as in every backend; there are no directories
/// (`stat` reports one where finished streams lie beneath, like the memory backend).
///
/// # Capabilities
///
/// Read, write, `CreateNew` (atomic, on open), list, delete, stat, modification times to the
/// nanosecond, content type and metadata. Range reads work in both modes, and a range ends
/// with end-of-stream only once the stream is finished (an error if it is not finished
/// whole); they are served without going through what comes before only when persistent (a
/// consumed range reader receives, and so takes from other readers, the messages it skips).
/// No server-side copy or rename, no directories (`create_dir` and `remove_dir` do nothing),
/// no hashes.
///
/// # Soundness
///
/// Every operation may race with `delete`, `close`, `finish` and `abort` on other threads:
/// none of them panics or waits forever because of it. No lock is held while waiting (waits
/// are crossbeam `select!`s over the stream's queue, a change signal, the close signal and a
/// deadline), lock scopes are short and nest one way only (the map of paths, then a stream),
/// and a poisoned lock is used anyway (no update leaves a half-changed state). Nothing is
/// `unwrap`ped that another thread could make fail.
#[derive(Clone)]
pub struct ChannelBackend {
    shared: Arc<Shared>,
}

/// Builds a [`ChannelBackend`]; every setting has a default.
///
/// ```
/// use omnistorage::ChannelBackend;
/// use std::time::Duration;
///
/// let chan = ChannelBackend::builder()
///     .capacity(16)
///     .timeout(Duration::from_secs(5))
///     .persistent(true)
///     .build();
/// # drop(chan);
/// ```
#[derive(Clone, Debug)]
pub struct ChannelBuilder {
    config: Config,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Config {
    capacity: usize,
    timeout: Option<Duration>,
    persistent: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            capacity: DEFAULT_CAPACITY,
            timeout: None,
            persistent: false,
        }
    }
}

impl ChannelBuilder {
    /// How many messages a consumed stream holds before its writer waits for a reader.
    /// Default [`DEFAULT_CAPACITY`] (64). `0` makes every message wait for a reader to take
    /// it (a rendezvous). Persistent streams keep everything and ignore this.
    pub fn capacity(mut self, messages: usize) -> ChannelBuilder {
        self.config.capacity = messages;
        self
    }

    /// How long one `read`, `write` or [`broadcast`](ChannelBackend::broadcast) may wait
    /// before it fails with [`ErrorKind::TimedOut`]. Default: no timeout (wait until there is
    /// something to do, or the stream is deleted, or the backend is closed).
    pub fn timeout(mut self, timeout: Duration) -> ChannelBuilder {
        self.config.timeout = Some(timeout);
        self
    }

    /// Whether streams keep every message, so that every reader, however late, receives the
    /// whole stream once. Default `false`: messages are consumed by the reader that receives
    /// them.
    pub fn persistent(mut self, persistent: bool) -> ChannelBuilder {
        self.config.persistent = persistent;
        self
    }

    /// Makes the backend.
    pub fn build(self) -> ChannelBackend {
        ChannelBackend::with_config(self.config)
    }
}

struct Shared {
    config: Config,
    streams: Mutex<BTreeMap<Path, Slot>>,
    closed: AtomicBool,
    /// Never sent on; dropped by `close`, which wakes everything that waits on `close_rx`.
    close_tx: Mutex<Option<Sender<Never>>>,
    close_rx: Receiver<Never>,
}

/// What is at a path: the stream readers get, and the finished stream a writer replaced
/// (put back if that writer aborts).
struct Slot {
    current: Arc<Stream>,
    previous: Option<Arc<Stream>>,
}

/// A message: the bytes of one `write` call.
type Chunk = Arc<[u8]>;

/// A type with no values, for channels that only ever disconnect.
enum Never {}

struct Stream {
    path: Path,
    /// The bounded queue of a consumed stream; `None` when persistent (the log is in `state`).
    queue: Option<(Sender<Chunk>, Receiver<Chunk>)>,
    state: Mutex<State>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Readers wait; no writer yet.
    Waiting,
    Writing,
    Finished,
    Aborted,
    Deleted,
}

impl Phase {
    fn is_open(self) -> bool {
        matches!(self, Phase::Waiting | Phase::Writing)
    }
}

struct State {
    phase: Phase,
    /// Bytes put into the stream so far.
    size: u64,
    /// Every message, when persistent.
    log: Vec<Chunk>,
    /// Consumed streams: sends admitted but not yet completed or given up. A reader sees the
    /// end only when the stream is finished and this is zero, so that a message admitted
    /// before `finish` is never left behind an end-of-stream.
    sending: usize,
    /// Set by `finish`.
    meta: Option<Meta>,
    signal: Signal,
}

struct Meta {
    modified: SystemTime,
    content_type: Option<String>,
    metadata: BTreeMap<String, String>,
}

/// Wakes everyone waiting for a change of a stream: waiters hold a receiver whose sender is
/// dropped (and replaced) on `notify`.
struct Signal {
    /// Never sent on: only held, to be dropped.
    _tx: Sender<Never>,
    rx: Receiver<Never>,
    watched: bool,
}

impl Signal {
    fn new() -> Signal {
        let (tx, rx) = bounded(0);
        Signal {
            _tx: tx,
            rx,
            watched: false,
        }
    }

    /// A receiver that disconnects at the next `notify`. Take it under the stream's lock,
    /// after looking at the state, so that no change can slip in between.
    fn watch(&mut self) -> Receiver<Never> {
        self.watched = true;
        self.rx.clone()
    }

    fn notify(&mut self) {
        if self.watched {
            // Dropping the old sender disconnects every receiver handed out by `watch`.
            *self = Signal::new();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update under these locks is complete before anything that could panic, so a
    // poisoned lock still guards a consistent state.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn err(kind: ErrorKind, msg: &'static str, op: &'static str, path: &Path) -> Error {
    Error::new(kind, msg).context(op, path.as_str(), NAME)
}

fn timed_out(op: &'static str, path: &Path) -> Error {
    err(
        ErrorKind::TimedOut,
        "waited longer than the timeout",
        op,
        path,
    )
}

/// The error a reader gets from a stream that ended badly, if it did.
fn read_error(phase: Phase, path: &Path) -> Option<Error> {
    match phase {
        Phase::Aborted => Some(err(
            ErrorKind::Io,
            "the writer aborted the stream; what was received of it is incomplete",
            "read",
            path,
        )),
        Phase::Deleted => Some(err(
            ErrorKind::NotFound,
            "the stream was deleted before its end",
            "read",
            path,
        )),
        Phase::Waiting | Phase::Writing | Phase::Finished => None,
    }
}

fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| Instant::now().checked_add(t))
}

fn timer(deadline: Option<Instant>) -> Receiver<Instant> {
    match deadline {
        Some(at) => crossbeam_channel::at(at),
        None => crossbeam_channel::never(),
    }
}

enum Wake {
    Changed,
    Closed,
    TimedOut,
}

/// Waits for a change signal, the close signal or the deadline.
fn wait(changed: &Receiver<Never>, close: &Receiver<Never>, deadline: Option<Instant>) -> Wake {
    let timer = timer(deadline);
    select! {
        recv(changed) -> _ => Wake::Changed,
        recv(close) -> _ => Wake::Closed,
        recv(timer) -> _ => Wake::TimedOut,
    }
}

impl Stream {
    fn new(path: Path, phase: Phase, config: &Config) -> Arc<Stream> {
        Arc::new(Stream {
            path,
            queue: (!config.persistent).then(|| bounded(config.capacity)),
            state: Mutex::new(State {
                phase,
                size: 0,
                log: Vec::new(),
                sending: 0,
                meta: None,
                signal: Signal::new(),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The entry of a finished stream.
    fn finished_entry(&self) -> Option<Entry> {
        let state = self.lock();
        if state.phase != Phase::Finished {
            return None;
        }
        state.meta.as_ref().map(|meta| {
            Entry::file(self.path.clone(), state.size)
                .with_modified(Some(meta.modified))
                .with_content_type(meta.content_type.clone())
                .with_metadata(meta.metadata.clone())
                .with_hashes_filled()
        })
    }

    /// Discards what is queued (outside any lock: receiving never blocks here).
    fn drain(&self) {
        if let Some((_, rx)) = &self.queue {
            while rx.try_recv().is_ok() {}
        }
    }
}

/// Who sends a message: the stream's writer, or [`ChannelBackend::broadcast`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    Writer,
    Broadcast,
}

impl Origin {
    fn op(self) -> &'static str {
        match self {
            Origin::Writer => "write",
            Origin::Broadcast => "broadcast",
        }
    }
}

impl Default for ChannelBackend {
    fn default() -> ChannelBackend {
        ChannelBackend::new()
    }
}

impl fmt::Debug for ChannelBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.shared.config;
        f.debug_struct("ChannelBackend")
            .field("persistent", &config.persistent)
            .field("capacity", &config.capacity)
            .field("timeout", &config.timeout)
            .field("streams", &self.map().len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl ChannelBackend {
    /// A backend of consumed streams, each with a buffer of [`DEFAULT_CAPACITY`] messages, and
    /// no timeout.
    pub fn new() -> ChannelBackend {
        ChannelBackend::with_config(Config::default())
    }

    /// A builder, to choose the capacity, a timeout, or persistent streams.
    pub fn builder() -> ChannelBuilder {
        ChannelBuilder {
            config: Config::default(),
        }
    }

    fn with_config(config: Config) -> ChannelBackend {
        let (close_tx, close_rx) = bounded(0);
        ChannelBackend {
            shared: Arc::new(Shared {
                config,
                streams: Mutex::new(BTreeMap::new()),
                closed: AtomicBool::new(false),
                close_tx: Mutex::new(Some(close_tx)),
                close_rx,
            }),
        }
    }

    /// Sends `data` as one message to every **open** stream under `prefix` (one that a writer
    /// is writing or that readers wait on; not a finished one), and returns how many received
    /// it.
    ///
    /// - `prefix` matches by segment, as in [`list`](Backend::list): `a/b` reaches `a/b` and
    ///   `a/b/c`, never `a/bc`; the root reaches every stream.
    /// - The message goes between two messages of a stream's writer, never inside one, and
    ///   counts in the stream's size. Readers cannot tell it from the writer's messages.
    /// - The streams are those open when the call starts, served in path order. A full
    ///   consumed stream is waited on (backpressure), up to the
    ///   [`timeout`](ChannelBuilder::timeout) for the whole call; a stream that is aborted
    ///   or deleted meanwhile is skipped.
    /// - Errors: [`ErrorKind::TimedOut`] or [`ErrorKind::Closed`] end the call; streams before
    ///   the one that failed have received the message. An empty `data` sends nothing and
    ///   returns 0 (a stream has no empty messages).
    ///
    /// ```
    /// use omnistorage::{BackendExt, ChannelBackend};
    /// use std::io::Write;
    ///
    /// let chan = ChannelBackend::builder().persistent(true).build();
    /// let mut a = chan.open_writer("jobs/a")?;
    /// let mut b = chan.open_writer("jobs/b")?;
    /// let mut other = chan.open_writer("jobsx")?;
    /// assert_eq!(chan.broadcast("jobs", b"stop;")?, 2);
    /// a.write_all(b"a done")?;
    /// for w in [a, b, other] {
    ///     w.finish()?;
    /// }
    /// assert_eq!(chan.read_to_vec("jobs/a")?, b"stop;a done");
    /// assert_eq!(chan.read_to_vec("jobs/b")?, b"stop;");
    /// assert_eq!(chan.read_to_vec("jobsx")?, b"");
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn broadcast(&self, prefix: impl AsPath, data: impl AsRef<[u8]>) -> Result<usize> {
        const OP: &str = "broadcast";
        let prefix = prefix.as_path()?;
        let data = data.as_ref();
        self.check_open(OP, &prefix)?;
        if data.is_empty() {
            return Ok(0);
        }
        let targets: Vec<Arc<Stream>> = {
            let map = self.map();
            self.check_open(OP, &prefix)?;
            map.range::<Path, _>((Bound::Included(&*prefix), Bound::Unbounded))
                .take_while(|(path, _)| path.as_str().starts_with(prefix.as_str()))
                .filter(|(path, slot)| {
                    path.starts_with(&prefix) && slot.current.lock().phase.is_open()
                })
                .map(|(_, slot)| slot.current.clone())
                .collect()
        };
        let chunk: Chunk = Arc::from(data);
        let deadline = deadline(self.shared.config.timeout);
        let mut sent = 0;
        for stream in targets {
            if self.send(&stream, &chunk, Origin::Broadcast, deadline)? {
                sent += 1;
            }
        }
        Ok(sent)
    }

    fn map(&self) -> MutexGuard<'_, BTreeMap<Path, Slot>> {
        lock(&self.shared.streams)
    }

    fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    fn check_open(&self, op: &'static str, path: &Path) -> Result<()> {
        if self.is_closed() {
            return Err(Error::closed(op).context(op, path.as_str(), NAME));
        }
        Ok(())
    }

    fn stream_path(&self, op: &'static str, path: &Path) -> Result<()> {
        self.check_open(op, path)?;
        if path.is_root() {
            return Err(err(
                ErrorKind::InvalidPath,
                "the root is not a stream",
                op,
                path,
            ));
        }
        Ok(())
    }

    /// Puts one message into `stream`: appended to the log when persistent, otherwise sent
    /// into the queue, waiting for room. `Ok(false)`: a broadcast found the stream ended.
    fn send(
        &self,
        stream: &Stream,
        chunk: &Chunk,
        who: Origin,
        deadline: Option<Instant>,
    ) -> Result<bool> {
        let op = who.op();
        self.check_open(op, &stream.path)?;
        let mut state = stream.lock();
        match (state.phase, who) {
            (Phase::Writing, _) | (Phase::Waiting, Origin::Broadcast) => {}
            (_, Origin::Broadcast) => return Ok(false),
            (Phase::Deleted, Origin::Writer) => {
                return Err(err(
                    ErrorKind::NotFound,
                    "the stream was deleted",
                    op,
                    &stream.path,
                ));
            }
            (_, Origin::Writer) => {
                return Err(err(
                    ErrorKind::Closed,
                    "the stream has ended",
                    op,
                    &stream.path,
                ));
            }
        }
        let Some((tx, _)) = &stream.queue else {
            state.log.push(chunk.clone());
            state.size += chunk.len() as u64;
            state.signal.notify();
            return Ok(true);
        };
        state.sending += 1;
        drop(state);
        let mut result = self.send_queued(stream, tx, chunk, who, deadline);
        let mut state = stream.lock();
        state.sending -= 1;
        if let Ok(true) = result {
            // `delete` and `close` discard what is queued, which makes room: a send that
            // waited may have gone through just as they woke it. Nobody will receive it;
            // answer as for any other send into an ended stream.
            if self.is_closed() {
                result = Err(Error::closed(op).context(op, stream.path.as_str(), NAME));
            } else if state.phase == Phase::Deleted || state.phase == Phase::Aborted {
                result = match who {
                    Origin::Writer => Err(err(
                        ErrorKind::NotFound,
                        "the stream was deleted",
                        op,
                        &stream.path,
                    )),
                    Origin::Broadcast => Ok(false),
                };
            } else {
                state.size += chunk.len() as u64;
            }
        }
        if state.sending == 0 && !state.phase.is_open() {
            // A reader may be waiting for the last admitted send before it sees the end.
            state.signal.notify();
        }
        result
    }

    fn send_queued(
        &self,
        stream: &Stream,
        tx: &Sender<Chunk>,
        chunk: &Chunk,
        who: Origin,
        deadline: Option<Instant>,
    ) -> Result<bool> {
        let op = who.op();
        loop {
            self.check_open(op, &stream.path)?;
            let changed = {
                let mut state = stream.lock();
                match state.phase {
                    Phase::Deleted if who == Origin::Writer => {
                        return Err(err(
                            ErrorKind::NotFound,
                            "the stream was deleted",
                            op,
                            &stream.path,
                        ));
                    }
                    Phase::Aborted | Phase::Deleted => return Ok(false),
                    Phase::Waiting | Phase::Writing | Phase::Finished => {}
                }
                state.signal.watch()
            };
            match tx.try_send(chunk.clone()) {
                Ok(()) => return Ok(true),
                Err(TrySendError::Full(_)) => {}
                Err(TrySendError::Disconnected(_)) => return Err(lost_queue(op, &stream.path)),
            }
            let timer = timer(deadline);
            select! {
                send(tx, chunk.clone()) -> sent => {
                    return match sent {
                        Ok(()) => Ok(true),
                        Err(_) => Err(lost_queue(op, &stream.path)),
                    };
                }
                recv(changed) -> _ => {}
                recv(self.shared.close_rx) -> _ => {}
                recv(timer) -> _ => return Err(timed_out(op, &stream.path)),
            }
        }
    }

    /// Ends `stream` as its writer aborted: readers get an error; a finished stream it
    /// replaced is put back, otherwise the path is free.
    fn abort_stream(&self, stream: &Arc<Stream>) {
        {
            let mut map = self.map();
            {
                let mut state = stream.lock();
                if state.phase != Phase::Writing {
                    return;
                }
                state.phase = Phase::Aborted;
                state.log = Vec::new();
                state.signal.notify();
            }
            let restore = match map.get_mut(&stream.path) {
                Some(slot) if Arc::ptr_eq(&slot.current, stream) => slot.previous.take(),
                _ => return drop_and_drain(map, stream),
            };
            match restore {
                Some(previous) => {
                    if let Some(slot) = map.get_mut(&stream.path) {
                        slot.current = previous;
                    }
                }
                None => {
                    map.remove(&stream.path);
                }
            }
        }
        stream.drain();
    }

    /// A reader reached the end of a consumed stream: the path is free for the next stream.
    fn consumed(&self, stream: &Arc<Stream>) {
        let mut map = self.map();
        let Some(slot) = map.get_mut(&stream.path) else {
            return;
        };
        if Arc::ptr_eq(&slot.current, stream) {
            map.remove(&stream.path);
        } else if slot
            .previous
            .as_ref()
            .is_some_and(|p| Arc::ptr_eq(p, stream))
        {
            slot.previous = None;
        }
    }
}

fn drop_and_drain(map: MutexGuard<'_, BTreeMap<Path, Slot>>, stream: &Stream) {
    drop(map);
    stream.drain();
}

fn lost_queue(op: &'static str, path: &Path) -> Error {
    // Cannot happen: the stream holds both ends of its queue. Answered, not unwrapped.
    err(ErrorKind::Io, "the stream's queue is gone", op, path)
}

impl Backend for ChannelBackend {
    /// Opens a reader of the stream at `path`, waiting for a writer if there is none yet.
    /// See the [type's docs](ChannelBackend) for what it receives.
    fn reader(&self, path: &Path, opts: &ReadOptions) -> Result<Reader> {
        const OP: &str = "read";
        self.stream_path(OP, path)?;
        let stream = {
            let mut map = self.map();
            // Checked again under the lock, so that no stream is added after `close`.
            self.check_open(OP, path)?;
            match map.get(path) {
                Some(slot) => slot.current.clone(),
                None => {
                    let stream = Stream::new(path.clone(), Phase::Waiting, &self.shared.config);
                    map.insert(
                        path.clone(),
                        Slot {
                            current: stream.clone(),
                            previous: None,
                        },
                    );
                    stream
                }
            }
        };
        // A finished persistent stream knows its size; a consumed one is shared with others.
        let size = match &stream.queue {
            None => {
                let state = stream.lock();
                (state.phase == Phase::Finished).then(|| {
                    let (start, end) = opts.clamp(state.size);
                    end - start
                })
            }
            Some(_) => None,
        };
        let reader = Reader::new(StreamReader {
            backend: self.clone(),
            stream,
            next: 0,
            chunk: Arc::new([]),
            pos: 0,
            skip: opts.offset,
            left: opts.length,
            done: false,
        });
        Ok(match size {
            Some(size) => reader.with_size(size),
            None => reader,
        })
    }

    /// Opens the writer of the stream at `path`. See the [type's docs](ChannelBackend): one
    /// writer per stream, `CreateNew` decided here, messages sent on each `write`.
    fn writer(&self, path: &Path, opts: &WriteOptions) -> Result<Writer> {
        const OP: &str = "write";
        self.stream_path(OP, path)?;
        let config = &self.shared.config;
        let stream = {
            let mut map = self.map();
            self.check_open(OP, path)?;
            match map.get_mut(path) {
                None => {
                    let stream = Stream::new(path.clone(), Phase::Writing, config);
                    map.insert(
                        path.clone(),
                        Slot {
                            current: stream.clone(),
                            previous: None,
                        },
                    );
                    stream
                }
                Some(slot) => {
                    let mut state = slot.current.lock();
                    match state.phase {
                        // Readers were waiting: this is the writer they wait for.
                        Phase::Waiting => {
                            state.phase = Phase::Writing;
                            drop(state);
                            slot.current.clone()
                        }
                        Phase::Writing => {
                            return Err(err(
                                ErrorKind::AlreadyExists,
                                "the stream has a writer already (one at a time)",
                                OP,
                                path,
                            )
                            .with_temporary(true));
                        }
                        Phase::Finished if opts.mode == WriteMode::CreateNew => {
                            return Err(err(
                                ErrorKind::AlreadyExists,
                                "a finished stream is at this path",
                                OP,
                                path,
                            ));
                        }
                        phase => {
                            drop(state);
                            let stream = Stream::new(path.clone(), Phase::Writing, config);
                            let old = std::mem::replace(&mut slot.current, stream.clone());
                            // Kept to be put back if this writer aborts.
                            if phase == Phase::Finished {
                                slot.previous = Some(old);
                            }
                            stream
                        }
                    }
                }
            }
        };
        Ok(Writer::new(StreamSink {
            backend: self.clone(),
            stream,
            opts: opts.clone(),
            written: 0,
        })
        .with_cancel(opts.cancel.as_ref()))
    }

    fn exists(&self, path: &Path) -> Result<bool> {
        self.check_open("exists", path)?;
        let map = self.map();
        Ok(map
            .get(path)
            .is_some_and(|slot| slot.current.lock().phase == Phase::Finished))
    }

    /// Ends the stream at `path` now (see the [type's docs](ChannelBackend)); `Ok` if there
    /// is none.
    fn delete(&self, path: &Path) -> Result<()> {
        const OP: &str = "delete";
        self.stream_path(OP, path)?;
        let slot = {
            let mut map = self.map();
            self.check_open(OP, path)?;
            let slot = map.remove(path);
            if let Some(slot) = &slot {
                let mut state = slot.current.lock();
                if state.phase != Phase::Aborted {
                    state.phase = Phase::Deleted;
                    state.log = Vec::new();
                    state.signal.notify();
                }
            }
            slot
        };
        if let Some(slot) = slot {
            slot.current.drain();
        }
        Ok(())
    }

    fn list(&self, prefix: &Path, opts: &ListOptions) -> Result<List> {
        self.check_open("list", prefix)?;
        let next = match &opts.start_after {
            Some(after) if after > prefix => Bound::Excluded(after.clone()),
            _ => Bound::Included(prefix.clone()),
        };
        let recursive = Box::new(StreamList {
            backend: self.clone(),
            prefix: prefix.clone(),
            next,
            page: Vec::new().into_iter(),
            done: false,
        });
        Ok(crate::listing::adapt(recursive, prefix, opts))
    }

    fn capabilities(&self) -> Capabilities {
        let persistent = self.shared.config.persistent;
        Capabilities {
            read: true,
            range_read: persistent,
            write: true,
            create_new: true,
            list: true,
            delete: true,
            stat: true,
            directories: false,
            server_side_copy: false,
            server_side_move: false,
            modified_time: Some(Duration::from_nanos(1)),
            set_modified: false,
            metadata: true,
            hashes: HashKinds::NONE,
            listed: Fields::ALL,
            presign: false,
            pending_uploads: false,
            streams: Some(if persistent {
                StreamDelivery::Replay
            } else {
                StreamDelivery::Consume
            }),
        }
    }

    /// Ends every stream: every blocked reader and writer wakes with [`ErrorKind::Closed`],
    /// and so does every later operation. Closing twice is `Ok`.
    fn close(&self) -> Result<()> {
        self.shared.closed.store(true, Ordering::Release);
        drop(lock(&self.shared.close_tx).take());
        let streams = std::mem::take(&mut *self.map());
        for slot in streams.into_values() {
            for stream in std::iter::once(slot.current).chain(slot.previous) {
                {
                    let mut state = stream.lock();
                    state.log = Vec::new();
                    state.signal.notify();
                }
                stream.drain();
            }
        }
        Ok(())
    }

    fn location(&self) -> Option<Location> {
        Some(Location::new(
            "chan",
            format!("@{:p}", Arc::as_ptr(&self.shared)),
            "",
        ))
    }

    /// Describes the finished stream at `path`; a directory where finished streams lie
    /// beneath; otherwise [`ErrorKind::NotFound`].
    fn stat(&self, path: &Path) -> Result<Entry> {
        const OP: &str = "stat";
        self.check_open(OP, path)?;
        let map = self.map();
        if path.is_root() {
            return Ok(Entry::dir(path.clone()));
        }
        if let Some(entry) = map.get(path).and_then(|slot| slot.current.finished_entry()) {
            return Ok(entry);
        }
        let beneath = map
            .range::<Path, _>((Bound::Excluded(path), Bound::Unbounded))
            .take_while(|(k, _)| k.as_str().starts_with(path.as_str()))
            .any(|(k, slot)| k.starts_with(path) && slot.current.lock().phase == Phase::Finished);
        if beneath {
            return Ok(Entry::dir(path.clone()));
        }
        Err(err(ErrorKind::NotFound, "no finished stream", OP, path))
    }

    fn create_dir(&self, path: &Path) -> Result<()> {
        self.check_open("create_dir", path)
    }

    fn remove_dir(&self, path: &Path) -> Result<()> {
        self.check_open("remove_dir", path)
    }
}

/// The writer's side of a stream, behind a [`Writer`].
struct StreamSink {
    backend: ChannelBackend,
    stream: Arc<Stream>,
    opts: WriteOptions,
    written: u64,
}

impl Write for StreamSink {
    /// Sends `buf` as one message, waiting for room in a full consumed stream.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let chunk: Chunk = Arc::from(buf);
        let deadline = deadline(self.backend.shared.config.timeout);
        self.backend
            .send(&self.stream, &chunk, Origin::Writer, deadline)?;
        self.written += buf.len() as u64;
        Ok(buf.len())
    }

    /// Nothing is buffered; fails if the stream can take no more messages.
    fn flush(&mut self) -> io::Result<()> {
        const OP: &str = "write";
        self.backend.check_open(OP, &self.stream.path)?;
        if self.stream.lock().phase == Phase::Deleted {
            return Err(err(
                ErrorKind::NotFound,
                "the stream was deleted",
                OP,
                &self.stream.path,
            )
            .into());
        }
        Ok(())
    }
}

impl WriteSink for StreamSink {
    /// Ends the stream: readers reach end-of-stream once they have every message.
    fn finish(self: Box<Self>) -> Result<Entry> {
        const OP: &str = "write";
        let StreamSink {
            backend,
            stream,
            opts,
            written,
        } = *self;
        if let Err(e) = backend.check_open(OP, &stream.path) {
            backend.abort_stream(&stream);
            return Err(e);
        }
        if let Err(e) = opts.check_size(written) {
            backend.abort_stream(&stream);
            return Err(e.context(OP, stream.path.as_str(), NAME));
        }
        let mut map = backend.map();
        backend.check_open(OP, &stream.path)?;
        let entry = {
            let mut state = stream.lock();
            match state.phase {
                Phase::Writing => {}
                Phase::Deleted => {
                    return Err(err(
                        ErrorKind::NotFound,
                        "the stream was deleted before it was finished",
                        OP,
                        &stream.path,
                    ));
                }
                Phase::Waiting | Phase::Finished | Phase::Aborted => {
                    return Err(err(
                        ErrorKind::Closed,
                        "the stream has ended",
                        OP,
                        &stream.path,
                    ));
                }
            }
            let meta = Meta {
                modified: opts.modified.unwrap_or_else(SystemTime::now),
                content_type: opts.content_type,
                metadata: opts.metadata,
            };
            let entry = Entry::file(stream.path.clone(), state.size)
                .with_modified(Some(meta.modified))
                .with_content_type(meta.content_type.clone())
                .with_metadata(meta.metadata.clone());
            state.phase = Phase::Finished;
            state.meta = Some(meta);
            state.signal.notify();
            entry
        };
        // This stream is the path's stream for good: forget the one it replaced.
        if let Some(slot) = map.get_mut(&stream.path)
            && Arc::ptr_eq(&slot.current, &stream)
        {
            slot.previous = None;
        }
        Ok(entry)
    }

    /// Cancels the stream: readers get an error; a finished stream it replaced comes back.
    fn abort(self: Box<Self>) -> Result<()> {
        self.backend.abort_stream(&self.stream);
        Ok(())
    }
}

/// A reader of one stream, behind a [`Reader`].
struct StreamReader {
    backend: ChannelBackend,
    stream: Arc<Stream>,
    /// Persistent: the index of the next message in the log.
    next: usize,
    /// The message being read, and how much of it has been.
    chunk: Chunk,
    pos: usize,
    /// Bytes still to skip before the range, and still to deliver in it (`None`: to the end).
    skip: u64,
    left: Option<u64>,
    /// End-of-stream was returned; it stays.
    done: bool,
}

impl Read for StreamReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_some(buf).map_err(io::Error::from)
    }
}

impl StreamReader {
    fn read_some(&mut self, buf: &mut [u8]) -> Result<usize> {
        self.backend.check_open("read", &self.stream.path)?;
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let deadline = deadline(self.backend.shared.config.timeout);
        loop {
            let rest = self.chunk.get(self.pos..).unwrap_or_default();
            if !rest.is_empty() {
                if self.skip > 0 {
                    let n = usize::try_from(self.skip).map_or(rest.len(), |s| s.min(rest.len()));
                    self.pos += n;
                    self.skip -= n as u64;
                    continue;
                }
                let mut n = rest.len().min(buf.len());
                if let Some(left) = self.left {
                    n = n.min(usize::try_from(left).unwrap_or(usize::MAX));
                }
                if n > 0 {
                    buf[..n].copy_from_slice(&rest[..n]);
                    self.pos += n;
                    if let Some(left) = &mut self.left {
                        *left -= n as u64;
                    }
                    return Ok(n);
                }
            }
            if self.left == Some(0) {
                // The range is read; it ends cleanly only if the stream does.
                self.wait_for_end(deadline)?;
                self.done = true;
                return Ok(0);
            }
            match self.next_chunk(deadline)? {
                Some(chunk) => {
                    self.chunk = chunk;
                    self.pos = 0;
                }
                None => {
                    self.done = true;
                    if self.stream.queue.is_some() {
                        self.backend.consumed(&self.stream);
                    }
                    return Ok(0);
                }
            }
        }
    }

    /// The next message, `None` at the end of a finished stream.
    fn next_chunk(&mut self, deadline: Option<Instant>) -> Result<Option<Chunk>> {
        let stream = self.stream.clone();
        let path = &stream.path;
        loop {
            self.backend.check_open("read", path)?;
            let changed = {
                let mut state = stream.lock();
                if let Some(e) = read_error(state.phase, path) {
                    return Err(e);
                }
                match &stream.queue {
                    None => {
                        while let Some(chunk) = state.log.get(self.next) {
                            self.next += 1;
                            let len = chunk.len() as u64;
                            if self.skip >= len {
                                // Skipped without copying: persistent range reads are cheap.
                                self.skip -= len;
                                continue;
                            }
                            return Ok(Some(chunk.clone()));
                        }
                        if state.phase == Phase::Finished {
                            return Ok(None);
                        }
                        state.signal.watch()
                    }
                    Some((_, rx)) => {
                        // Look at the state first: a message sent before `finish` is in the
                        // queue by the time the state says finished and nothing is sending.
                        let ended = state.phase == Phase::Finished && state.sending == 0;
                        let changed = state.signal.watch();
                        drop(state);
                        match rx.try_recv() {
                            Ok(chunk) => return Ok(Some(chunk)),
                            Err(TryRecvError::Empty) => {}
                            Err(TryRecvError::Disconnected) => {
                                return Err(lost_queue("read", path));
                            }
                        }
                        if ended {
                            return Ok(None);
                        }
                        let timer = timer(deadline);
                        select! {
                            recv(rx) -> chunk => {
                                return chunk.map(Some).map_err(|_| lost_queue("read", path));
                            }
                            recv(changed) -> _ => {}
                            recv(self.backend.shared.close_rx) -> _ => {}
                            recv(timer) -> _ => return Err(timed_out("read", path)),
                        }
                        continue;
                    }
                }
            };
            if let Wake::TimedOut = wait(&changed, &self.backend.shared.close_rx, deadline) {
                return Err(timed_out("read", path));
            }
        }
    }

    /// Waits until the stream is finished (`Ok`) or ends otherwise (the error).
    fn wait_for_end(&self, deadline: Option<Instant>) -> Result<()> {
        let path = &self.stream.path;
        loop {
            self.backend.check_open("read", path)?;
            let changed = {
                let mut state = self.stream.lock();
                if let Some(e) = read_error(state.phase, path) {
                    return Err(e);
                }
                if state.phase == Phase::Finished {
                    return Ok(());
                }
                state.signal.watch()
            };
            if let Wake::TimedOut = wait(&changed, &self.backend.shared.close_rx, deadline) {
                return Err(timed_out("read", path));
            }
        }
    }
}

impl Drop for StreamReader {
    /// A stream that only this reader waited on, with nothing in it, goes, so that readers
    /// that give up on a path leave nothing behind.
    fn drop(&mut self) {
        let mut map = self.backend.map();
        let Some(slot) = map.get(&self.stream.path) else {
            return;
        };
        // Clones of a stream are made under the map's lock: the map's and this one are all.
        if !Arc::ptr_eq(&slot.current, &self.stream) || Arc::strong_count(&self.stream) > 2 {
            return;
        }
        let unused = {
            let state = self.stream.lock();
            state.phase == Phase::Waiting && state.size == 0
        };
        if unused {
            map.remove(&self.stream.path);
        }
    }
}

/// A lazy listing of finished streams: one page of the map per lock.
struct StreamList {
    backend: ChannelBackend,
    prefix: Path,
    next: Bound<Path>,
    page: std::vec::IntoIter<Entry>,
    done: bool,
}

impl Iterator for StreamList {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        loop {
            if let Err(e) = self.backend.check_open("list", &self.prefix) {
                if self.done {
                    return None;
                }
                self.done = true;
                return Some(Err(e));
            }
            if let Some(entry) = self.page.next() {
                return Some(Ok(entry));
            }
            if self.done {
                return None;
            }
            let map = self.backend.map();
            let mut page = Vec::new();
            let mut last = None;
            let mut scanned = 0;
            for (path, slot) in map.range((self.next.clone(), Bound::Unbounded)) {
                // `a/b-x` sorts between `a/b` and `a/b/`: skip such keys, stop past them all.
                if !path.as_str().starts_with(self.prefix.as_str()) {
                    self.done = true;
                    break;
                }
                last = Some(path);
                scanned += 1;
                if path.starts_with(&self.prefix)
                    && let Some(entry) = slot.current.finished_entry()
                {
                    page.push(entry);
                }
                if scanned == LIST_PAGE {
                    break;
                }
            }
            match last {
                Some(path) if scanned == LIST_PAGE => self.next = Bound::Excluded(path.clone()),
                _ => self.done = true,
            }
            drop(map);
            self.page = page.into_iter();
        }
    }
}

/// Opens `chan://[NAME][?capacity=N&timeout=DURATION&persistent=BOOL]` for the
/// [registry](crate::registry).
pub(crate) fn open_url(url: &Url) -> Result<Box<dyn Backend>> {
    let invalid =
        |msg: String| Error::new(ErrorKind::InvalidConfig, msg).with_path(url.to_string());
    if !(url.path.is_empty() || url.path == "/")
        || url.user.is_some()
        || url.password.is_some()
        || url.port.is_some()
    {
        return Err(invalid(
            "a chan URL names a channel backend, nothing in it: chan://[NAME][?capacity=N&timeout=5s&persistent=true]".into(),
        ));
    }
    let (mut capacity, mut timeout, mut persistent) = (None, None, None);
    for (key, value) in &url.query {
        match key.as_str() {
            "capacity" => {
                capacity = Some(value.parse::<usize>().map_err(|_| {
                    invalid(format!("capacity={value:?}: expected a number of messages"))
                })?);
            }
            "timeout" => {
                timeout = Some(parse_duration(value).ok_or_else(|| {
                    invalid(format!(
                        "timeout={value:?}: expected a duration such as 500ms, 5s or 2m"
                    ))
                })?);
            }
            "persistent" => {
                persistent = Some(match value.as_str() {
                    "" | "true" | "1" | "yes" => true,
                    "false" | "0" | "no" => false,
                    _ => {
                        return Err(invalid(format!(
                            "persistent={value:?}: expected true or false"
                        )));
                    }
                });
            }
            other => {
                return Err(invalid(format!(
                    "unknown parameter {other:?} (known: capacity, timeout, persistent)"
                )));
            }
        }
    }
    let mut config = Config::default();
    if let Some(capacity) = capacity {
        config.capacity = capacity;
    }
    if timeout.is_some() {
        config.timeout = timeout;
    }
    if let Some(persistent) = persistent {
        config.persistent = persistent;
    }
    if url.host.is_empty() {
        return Ok(Box::new(ChannelBackend::with_config(config)));
    }
    static NAMED: Mutex<BTreeMap<String, ChannelBackend>> = Mutex::new(BTreeMap::new());
    let mut named = lock(&NAMED);
    if let Some(existing) = named.get(&url.host).filter(|b| !b.is_closed()) {
        let have = existing.shared.config;
        let clash = capacity.is_some_and(|c| c != have.capacity)
            || timeout.is_some_and(|t| Some(t) != have.timeout)
            || persistent.is_some_and(|p| p != have.persistent);
        if clash {
            return Err(invalid(format!(
                "the channel backend {:?} is open with other settings ({have:?})",
                url.host
            )));
        }
        return Ok(Box::new(existing.clone()));
    }
    let backend = ChannelBackend::with_config(config);
    named.insert(url.host.clone(), backend.clone());
    Ok(Box::new(backend))
}

/// `500ms`, `5s`, `2m`, or a bare number of seconds.
fn parse_duration(text: &str) -> Option<Duration> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => n.checked_mul(60).map(Duration::from_secs),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        for bad in ["", "s", "5h", "-1s", "1.5s", "99999999999999999999s"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert_eq!(parse_duration(&format!("{}m", u64::MAX)), None);
    }

    #[test]
    fn public_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<ChannelBackend>();
        check::<ChannelBuilder>();
    }
}
