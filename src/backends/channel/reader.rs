//! A reader of one stream.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{TryRecvError, select};

use super::ChannelBackend;
use super::send::lost_queue;
use super::stream::{Chunk, Phase, Stream, Wake, deadline, read_error, timed_out, timer, wait};
use crate::error::Result;

/// A reader of one stream, behind a [`Reader`].
pub(super) struct StreamReader {
    pub(super) backend: ChannelBackend,
    pub(super) stream: Arc<Stream>,
    /// Persistent: the index of the next message in the log.
    pub(super) next: usize,
    /// The message being read, and how much of it has been.
    pub(super) chunk: Chunk,
    pub(super) pos: usize,
    /// Bytes still to skip before the range, and still to deliver in it (`None`: to the end).
    pub(super) skip: u64,
    pub(super) left: Option<u64>,
    /// End-of-stream was returned; it stays.
    pub(super) done: bool,
}

impl Read for StreamReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_some(buf).map_err(io::Error::from)
    }
}

impl StreamReader {
    pub(super) fn read_some(&mut self, buf: &mut [u8]) -> Result<usize> {
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
    pub(super) fn next_chunk(&mut self, deadline: Option<Instant>) -> Result<Option<Chunk>> {
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
    pub(super) fn wait_for_end(&self, deadline: Option<Instant>) -> Result<()> {
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
