//! The writer's side of a stream.

use std::io::{self, Write};
use std::sync::Arc;
use std::time::SystemTime;

use super::stream::{Chunk, Meta, Origin, Phase, Stream, deadline, err};
use super::{ChannelBackend, NAME};
use crate::entry::Entry;
use crate::error::{ErrorKind, Result};
use crate::io::WriteSink;
use crate::options::WriteOptions;

/// The writer's side of a stream, behind a [`Writer`].
pub(super) struct StreamSink {
    pub(super) backend: ChannelBackend,
    pub(super) stream: Arc<Stream>,
    pub(super) opts: WriteOptions,
    pub(super) written: u64,
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
