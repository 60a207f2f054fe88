//! Putting messages into streams (a writer's `write`, `broadcast`), and ending them (an
//! aborted writer, a consumed stream).

use std::collections::BTreeMap;
use std::sync::{Arc, MutexGuard};
use std::time::Instant;

use crossbeam_channel::{Sender, TrySendError, select};

use super::stream::{Chunk, Origin, Phase, Slot, Stream, err, timed_out, timer};
use super::{ChannelBackend, NAME};
use crate::error::{Error, ErrorKind, Result};
use crate::path::Path;

impl ChannelBackend {
    /// Puts one message into `stream`: appended to the log when persistent, otherwise sent
    /// into the queue, waiting for room. `Ok(false)`: a broadcast found the stream ended.
    pub(super) fn send(
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

    pub(super) fn send_queued(
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
    pub(super) fn abort_stream(&self, stream: &Arc<Stream>) {
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
    pub(super) fn consumed(&self, stream: &Arc<Stream>) {
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

pub(super) fn drop_and_drain(map: MutexGuard<'_, BTreeMap<Path, Slot>>, stream: &Stream) {
    drop(map);
    stream.drain();
}

pub(super) fn lost_queue(op: &'static str, path: &Path) -> Error {
    // Cannot happen: the stream holds both ends of its queue. Answered, not unwrapped.
    err(ErrorKind::Io, "the stream's queue is gone", op, path)
}
