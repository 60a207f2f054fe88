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

/// The methods every byte-framing writer (`ndjson::Writer`, `lengthprefix::Writer`: a struct
/// with one field `out: Out<W>`) has, written once: `new`, `into_inner`, `get_ref`, `finish`
/// and `abort` over any [`Finish`] layer, and `Debug` under the given name.
macro_rules! framing_writer {
    ($name:literal) => {
        impl<W: std::io::Write> Writer<W> {
            /// A writer into `inner`.
            pub fn new(inner: W) -> Writer<W> {
                Writer {
                    out: $crate::format::out::Out::new(inner),
                }
            }

            /// Flushes what is buffered and returns the underlying writer.
            ///
            /// Over an [`omnistorage::Writer`](crate::Writer) or another
            /// [`Finish`](crate::Finish) layer, use [`finish`](Writer::finish), which also
            /// commits.
            pub fn into_inner(self) -> $crate::error::Result<W> {
                self.out.into_inner()
            }

            /// The underlying writer. Bytes still buffered have not reached it.
            pub fn get_ref(&self) -> &W {
                self.out.get_ref()
            }
        }

        impl<W: $crate::io::Finish> Writer<W> {
            /// Flushes what is buffered, then finishes the writer below (an
            /// [`omnistorage::Writer`](crate::Writer), or any [`Finish`](crate::Finish) layer:
            /// compression, a fan-out, a hashing writer), which commits the object whole.
            /// Returns the stored [`Entry`](crate::Entry).
            ///
            /// If a write failed earlier, or the flush fails, nothing is committed: every
            /// layer below is aborted and this returns the error.
            pub fn finish(self) -> $crate::error::Result<$crate::entry::Entry> {
                self.out.finish()
            }

            /// Discards what is buffered and aborts every layer below: nothing is committed.
            /// Dropping the writer does the same.
            pub fn abort(self) -> $crate::error::Result<()> {
                self.out.discard().abort()
            }
        }

        impl<W: std::fmt::Debug> std::fmt::Debug for Writer<W> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct($name)
                    .field("inner", self.out.get_ref())
                    .field("buffered", &self.out.buffered())
                    .finish()
            }
        }
    };
}
pub(crate) use framing_writer;
