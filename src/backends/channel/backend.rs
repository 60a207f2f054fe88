//! The [`Backend`] operations of the channel backend.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use std::time::Duration;

use super::ChannelBackend;
use super::reader::StreamReader;
use super::stream::{Phase, Slot, Stream, err, lock};
use super::writer::StreamSink;
use crate::backend::{Backend, List};
use crate::backends::paged::{PagedList, PagedSource};
use crate::entry::{Capabilities, Entry, Fields, StreamDelivery};
use crate::error::{ErrorKind, Result};
use crate::hash::HashKinds;
use crate::io::{Reader, Writer};
use crate::location::Location;
use crate::options::{ListOptions, ReadOptions, WriteMode, WriteOptions};
use crate::path::Path;

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
                    map.insert(path.clone(), Slot::new(stream.clone()));
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
                    map.insert(path.clone(), Slot::new(stream.clone()));
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
        Ok(PagedList::list(self.clone(), &Path::root(), prefix, opts))
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
            server_hashes: HashKinds::NONE,
            listed: Fields::ALL,
            presign: false,
            pending_uploads: false,
            usage: false,
            close: true,
            // In this process, but a stream is not re-read for free: reading waits for the
            // writer, or takes the bytes away.
            local: false,
            streams: Some(if persistent {
                StreamDelivery::Replay
            } else {
                StreamDelivery::Consume
            }),
            version_tags: false,
        }
    }

    /// Ends every stream: every blocked reader and writer wakes with [`ErrorKind::Closed`],
    /// and so does every later operation. Closing twice is `Ok`.
    fn close(&self) -> Result<()> {
        self.shared.guard.close();
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

/// Listings show finished streams only.
impl PagedSource for ChannelBackend {
    type Value = Slot;

    fn with_map<R>(&self, f: impl FnOnce(&BTreeMap<Path, Slot>) -> R) -> R {
        f(&self.map())
    }

    fn entry(_path: &Path, slot: &Slot) -> Option<Entry> {
        slot.current.finished_entry()
    }

    fn check_open(&self) -> Result<()> {
        self.check_open("list", &Path::root())
    }
}
