//! The output buffer the byte framings share.

use std::io::Write;

use crate::entry::Entry;
use crate::error::{Error, Result};
use crate::io::Finish;

/// How much a framing writer buffers before it writes to the underlying writer.
pub(crate) const CAPACITY: usize = 64 * 1024;

/// A buffer in front of a writer, flushed in large writes.
///
/// Unlike `std::io::BufWriter`, it does **not** flush on drop: a framing writer that is
/// dropped without `finish`/`into_inner` discards its buffer, as an `omnistorage::Writer`
/// discards its object.
pub(crate) struct Out<W> {
    inner: W,
    buf: Vec<u8>,
}

impl<W: Write> Out<W> {
    pub(crate) fn new(inner: W) -> Out<W> {
        Out {
            inner,
            buf: Vec::with_capacity(CAPACITY),
        }
    }

    /// The buffer, to append to directly (for serializers); call [`Out::settle`] afterwards.
    #[cfg(feature = "serde")]
    pub(crate) fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Appends `data`, writing large pieces straight through.
    pub(crate) fn push(&mut self, data: &[u8]) -> Result<()> {
        if data.len() >= CAPACITY {
            self.write_buf()?;
            return self.inner.write_all(data).map_err(Error::from);
        }
        self.buf.extend_from_slice(data);
        self.settle()
    }

    /// Appends one byte.
    pub(crate) fn push_byte(&mut self, byte: u8) -> Result<()> {
        self.buf.push(byte);
        self.settle()
    }

    /// Writes the buffer out once it has grown to [`CAPACITY`].
    pub(crate) fn settle(&mut self) -> Result<()> {
        if self.buf.len() >= CAPACITY {
            self.write_buf()?;
        }
        Ok(())
    }

    /// Writes out what is buffered. On an error the buffer is dropped all the same: the
    /// output is incomplete by then, and writing it again later would put records out of
    /// order.
    fn write_buf(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let r = self.inner.write_all(&self.buf);
        self.buf.clear();
        r.map_err(Error::from)
    }

    pub(crate) fn flush(&mut self) -> Result<()> {
        self.write_buf()?;
        self.inner.flush().map_err(Error::from)
    }

    pub(crate) fn into_inner(mut self) -> Result<W> {
        self.flush()?;
        Ok(self.inner)
    }

    /// Flushes, then finishes the layer below. If the flush fails, the layer below is
    /// aborted instead and the flush's error returned: nothing is committed.
    pub(crate) fn finish(mut self) -> Result<Entry>
    where
        W: Finish,
    {
        match self.flush() {
            Ok(()) => self.inner.finish(),
            Err(e) => {
                let _ = self.inner.abort();
                Err(e)
            }
        }
    }
}

impl<W> Out<W> {
    pub(crate) fn get_ref(&self) -> &W {
        &self.inner
    }

    pub(crate) fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The writer below, without writing what is buffered (which is dropped).
    pub(crate) fn discard(self) -> W {
        self.inner
    }
}
