//! A stream and what is at a path: its state, the signal that wakes its waiters, and the
//! waiting helpers.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, Sender, bounded, select};

use super::{Config, NAME};
use crate::entry::Entry;
use crate::error::{Error, ErrorKind};
use crate::path::Path;

/// What is at a path: the stream readers get, and the finished stream a writer replaced
/// (put back if that writer aborts).
pub(crate) struct Slot {
    pub(super) current: Arc<Stream>,
    pub(super) previous: Option<Arc<Stream>>,
}

impl Slot {
    /// A path's first stream.
    pub(super) fn new(current: Arc<Stream>) -> Slot {
        Slot {
            current,
            previous: None,
        }
    }
}

/// A message: the bytes of one `write` call.
pub(super) type Chunk = Arc<[u8]>;

/// A type with no values, for channels that only ever disconnect.
pub(super) enum Never {}

pub(super) struct Stream {
    pub(super) path: Path,
    /// The bounded queue of a consumed stream; `None` when persistent (the log is in `state`).
    pub(super) queue: Option<(Sender<Chunk>, Receiver<Chunk>)>,
    pub(super) state: Mutex<State>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Readers wait; no writer yet.
    Waiting,
    Writing,
    Finished,
    Aborted,
    Deleted,
}

impl Phase {
    pub(super) fn is_open(self) -> bool {
        matches!(self, Phase::Waiting | Phase::Writing)
    }
}

pub(super) struct State {
    pub(super) phase: Phase,
    /// Bytes put into the stream so far.
    pub(super) size: u64,
    /// Every message, when persistent.
    pub(super) log: Vec<Chunk>,
    /// Consumed streams: sends admitted but not yet completed or given up. A reader sees the
    /// end only when the stream is finished and this is zero, so that a message admitted
    /// before `finish` is never left behind an end-of-stream.
    pub(super) sending: usize,
    /// Set by `finish`.
    pub(super) meta: Option<Meta>,
    pub(super) signal: Signal,
}

pub(super) struct Meta {
    pub(super) modified: SystemTime,
    pub(super) content_type: Option<String>,
    pub(super) metadata: BTreeMap<String, String>,
}

/// Wakes everyone waiting for a change of a stream: waiters hold a receiver whose sender is
/// dropped (and replaced) on `notify`.
pub(super) struct Signal {
    /// Never sent on: only held, to be dropped.
    pub(super) _tx: Sender<Never>,
    pub(super) rx: Receiver<Never>,
    pub(super) watched: bool,
}

impl Signal {
    pub(super) fn new() -> Signal {
        let (tx, rx) = bounded(0);
        Signal {
            _tx: tx,
            rx,
            watched: false,
        }
    }

    /// A receiver that disconnects at the next `notify`. Take it under the stream's lock,
    /// after looking at the state, so that no change can slip in between.
    pub(super) fn watch(&mut self) -> Receiver<Never> {
        self.watched = true;
        self.rx.clone()
    }

    pub(super) fn notify(&mut self) {
        if self.watched {
            // Dropping the old sender disconnects every receiver handed out by `watch`.
            *self = Signal::new();
        }
    }
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update under these locks is complete before anything that could panic, so a
    // poisoned lock still guards a consistent state.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

pub(super) fn err(kind: ErrorKind, msg: &'static str, op: &'static str, path: &Path) -> Error {
    Error::new(kind, msg).context(op, path.as_str(), NAME)
}

pub(super) fn timed_out(op: &'static str, path: &Path) -> Error {
    err(
        ErrorKind::TimedOut,
        "waited longer than the timeout",
        op,
        path,
    )
}

/// The error a reader gets from a stream that ended badly, if it did.
pub(super) fn read_error(phase: Phase, path: &Path) -> Option<Error> {
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

pub(super) fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| Instant::now().checked_add(t))
}

pub(super) fn timer(deadline: Option<Instant>) -> Receiver<Instant> {
    match deadline {
        Some(at) => crossbeam_channel::at(at),
        None => crossbeam_channel::never(),
    }
}

pub(super) enum Wake {
    Changed,
    Closed,
    TimedOut,
}

/// Waits for a change signal, the close signal or the deadline.
pub(super) fn wait(
    changed: &Receiver<Never>,
    close: &Receiver<Never>,
    deadline: Option<Instant>,
) -> Wake {
    let timer = timer(deadline);
    select! {
        recv(changed) -> _ => Wake::Changed,
        recv(close) -> _ => Wake::Closed,
        recv(timer) -> _ => Wake::TimedOut,
    }
}

impl Stream {
    pub(super) fn new(path: Path, phase: Phase, config: &Config) -> Arc<Stream> {
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

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The entry of a finished stream.
    pub(super) fn finished_entry(&self) -> Option<Entry> {
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
    pub(super) fn drain(&self) {
        if let Some((_, rx)) = &self.queue {
            while rx.try_recv().is_ok() {}
        }
    }
}

/// Who sends a message: the stream's writer, or [`ChannelBackend::broadcast`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    Writer,
    Broadcast,
}

impl Origin {
    pub(super) fn op(self) -> &'static str {
        match self {
            Origin::Writer => "write",
            Origin::Broadcast => "broadcast",
        }
    }
}
