//! The in-process channel backend: paths are streams that hand bytes from one thread to
//! others. See [`ChannelBackend`] for the semantics.
//!
//! Behind the `channel` feature, on `crossbeam-channel`.

mod backend;
mod reader;
mod send;
mod stream;
mod url;
mod writer;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, bounded};

use self::stream::{Chunk, Never, Origin, Slot, Stream, deadline, lock};
use super::guard::Guard;
use crate::error::Result;
use crate::path::{AsPath, Path};

pub(crate) use self::url::open_url;

// What the documentation below links to.
#[cfg(doc)]
use crate::{Backend, Capabilities, ErrorKind, StreamDelivery, WriteMode, WriteOptions, Writer};

const NAME: &str = "chan";
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

    /// Every option [`set`](Self::set) takes, for tools that list them and for checks.
    ///
    /// ```
    /// use omnistorage::ChannelBackend;
    /// use omnistorage::ChannelBuilder;
    ///
    /// for option in ChannelBuilder::OPTIONS.iter().filter(|o| !o.default.is_empty()) {
    ///     assert!(ChannelBackend::builder().set(option.name, option.default).is_ok());
    /// }
    /// ```
    pub const OPTIONS: &'static [crate::backends::OptionInfo] = &[
        crate::backends::OptionInfo::new(
            "capacity",
            "How many messages a consumed stream holds before its writer waits (0: each waits \
             for a reader).",
        )
        .default_value("64"),
        crate::backends::OptionInfo::new(
            "timeout",
            "How long one read, write or broadcast may wait (500ms, 5s, 2m).",
        ),
        crate::backends::OptionInfo::new(
            "persistent",
            "Keep every message, so that every reader receives the whole stream: true or false.",
        )
        .default_value("false"),
    ];

    /// Sets one option by its name, as `chan://` URL parameters do: `capacity` (a number
    /// of messages), `timeout` (a duration, [`units`](crate::units): `500ms`, `5s`, `2m`,
    /// `1h`) and `persistent` (`true`/`false`). Any other key, and a value that does not
    /// parse, is [`ErrorKind::InvalidConfig`] naming the key.
    ///
    /// ```
    /// use omnistorage::ChannelBackend;
    ///
    /// let chan = ChannelBackend::builder()
    ///     .set("capacity", "16")?
    ///     .set("timeout", "5s")?
    ///     .set("persistent", "true")?
    ///     .build();
    /// # drop(chan);
    /// assert!(ChannelBackend::builder().set("colour", "blue").is_err());
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn set(self, key: &str, value: &str) -> crate::Result<ChannelBuilder> {
        let v = crate::backends::setting::Setting {
            backend: "channel",
            key,
            value,
            secret: false,
        };
        Ok(match key {
            "capacity" => self
                .capacity(usize::try_from(v.count()?).map_err(|_| v.invalid("too many messages"))?),
            "timeout" => self.timeout(v.duration()?),
            "persistent" => self.persistent(v.flag()?),
            _ => return Err(v.unknown_in(Self::OPTIONS, &[])),
        })
    }

    /// Makes the backend.
    pub fn build(self) -> ChannelBackend {
        ChannelBackend::with_config(self.config)
    }
}

struct Shared {
    config: Config,
    streams: Mutex<BTreeMap<Path, Slot>>,
    guard: Guard,
    /// Never sent on; dropped by `close`, which wakes everything that waits on `close_rx`.
    close_tx: Mutex<Option<Sender<Never>>>,
    close_rx: Receiver<Never>,
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
                guard: Guard::new(NAME),
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
        self.shared.guard.is_closed()
    }

    fn check_open(&self, op: &'static str, path: &Path) -> Result<()> {
        self.shared.guard.check_at(op, path)
    }

    fn stream_path(&self, op: &'static str, path: &Path) -> Result<()> {
        self.shared.guard.object(op, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<ChannelBackend>();
        check::<ChannelBuilder>();
    }

    #[test]
    fn set_takes_every_listed_option() {
        crate::backends::option_info::check_list(ChannelBuilder::OPTIONS, |k, v| {
            ChannelBackend::builder().set(k, v).is_ok()
        });
    }
}
