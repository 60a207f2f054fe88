//! Plumbing shared by the gzip and zstd layers: the one committing sink both writers are
//! ([`EncoderSink`]), the writer slot that lets an encoder be abandoned without committing,
//! the reader tap that tells the inner reader's errors from the decoder's, and the size
//! trailers.

use std::io::{self, Read, Write};

use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};
use crate::io::{WriteSink, Writer};

/// The buffer between an inner reader and a decoder.
pub(crate) const READ_BUFFER: usize = 64 * 1024;

/// An `Error` of kind [`ErrorKind::Corrupt`] about compressed input, as an `io::Error`.
pub(crate) fn corrupt(format: &'static str, what: impl std::fmt::Display) -> io::Error {
    Error::new(
        ErrorKind::Corrupt,
        format!("corrupt {format} stream: {what}"),
    )
    .with_operation("decompress")
    .into()
}

/// The inner [`Writer`] of an encoder, taken out again on `finish` and `abort`.
///
/// Encoders own what they write to, and some (flate2's) write their trailer when dropped. The
/// slot lets `abort` take the inner writer away first: whatever the encoder writes afterwards
/// fails, and the inner writer is aborted, never committed. It also counts the compressed
/// bytes, which the size trailer records.
pub(crate) struct Slot {
    inner: Option<Writer>,
    written: u64,
}

impl Slot {
    pub(crate) fn new(inner: Writer) -> Slot {
        Slot {
            inner: Some(inner),
            written: 0,
        }
    }

    /// Takes the inner writer out; the slot refuses writes afterwards.
    pub(crate) fn take(&mut self) -> Option<Writer> {
        self.inner.take()
    }

    /// The compressed bytes written so far.
    pub(crate) fn written(&self) -> u64 {
        self.written
    }
}

impl Write for Slot {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let inner = self
            .inner
            .as_mut()
            .ok_or_else(|| io::Error::from(Error::new(ErrorKind::Closed, "writer aborted")))?;
        let n = inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.inner.as_mut() {
            Some(inner) => inner.flush(),
            None => Ok(()),
        }
    }
}

/// A streaming encoder that writes into a [`Slot`]: what the gzip and zstd writers differ in.
pub(crate) trait Encoder: Write + Send + 'static {
    /// Ends the compressed stream (writes what is pending and the format's own trailer) and
    /// gives the slot back.
    fn end(self) -> io::Result<Slot>;

    /// The slot written into.
    fn slot(&mut self) -> &mut Slot;

    /// The [`SizeTrailer`] in this format's encoding.
    fn size_trailer(t: SizeTrailer) -> Vec<u8>;
}

/// Implements [`Encoder`] for an encoder type of flate2 or zstd (they spell `end` and `slot`
/// the same way, as inherent methods), with the format's size trailer function.
macro_rules! impl_encoder {
    ($encoder:ty, $trailer:path) => {
        impl $crate::compress::stream::Encoder for $encoder {
            fn end(self) -> std::io::Result<$crate::compress::stream::Slot> {
                self.finish()
            }

            fn slot(&mut self) -> &mut $crate::compress::stream::Slot {
                self.get_mut()
            }

            fn size_trailer(t: $crate::compress::stream::SizeTrailer) -> Vec<u8> {
                $trailer(t).to_vec()
            }
        }
    };
}
pub(crate) use impl_encoder;

/// The committing side of a compression writer, written once for every [`Encoder`]: counts
/// the uncompressed bytes; `finish` ends the stream, appends the size trailer if asked, and
/// finishes the inner [`Writer`]; `abort` aborts it.
pub(crate) struct EncoderSink<E> {
    encoder: E,
    size_trailer: bool,
    uncompressed: u64,
}

impl<E: Encoder> EncoderSink<E> {
    /// A [`Writer`] that compresses with `encoder`.
    pub(crate) fn writer(encoder: E, size_trailer: bool) -> Writer {
        Writer::new(EncoderSink {
            encoder,
            size_trailer,
            uncompressed: 0,
        })
    }
}

impl<E: Encoder> Write for EncoderSink<E> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.encoder.write(buf)?;
        self.uncompressed += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.encoder.flush()
    }
}

impl<E: Encoder> WriteSink for EncoderSink<E> {
    fn finish(self: Box<Self>) -> Result<Entry> {
        let EncoderSink {
            encoder,
            size_trailer,
            uncompressed,
        } = *self;
        // On an error the slot, and with it the inner writer, is dropped: that aborts it.
        let mut slot = encoder.end()?;
        let compressed = slot.written();
        let Some(mut inner) = slot.take() else {
            return Err(Error::new(ErrorKind::Closed, "writer already finished"));
        };
        if size_trailer {
            inner.write_all(&E::size_trailer(SizeTrailer {
                uncompressed,
                compressed,
            }))?;
        }
        inner.finish()
    }

    fn abort(mut self: Box<Self>) -> Result<()> {
        // Whatever the encoder writes afterwards (flate2's writes its trailer when dropped)
        // goes into the empty slot, which refuses it.
        match self.encoder.slot().take() {
            Some(inner) => inner.abort(),
            None => Ok(()),
        }
    }
}

/// Wraps the reader under a decoder and keeps its errors aside, so that the decoder's own
/// errors (corrupt input) can be told from the inner reader's (which pass through unchanged).
pub(crate) struct Tap<R> {
    inner: R,
    failed: Option<io::Error>,
    seen: u64,
}

impl<R: Read> Tap<R> {
    pub(crate) fn new(inner: R) -> Tap<R> {
        Tap {
            inner,
            failed: None,
            seen: 0,
        }
    }

    /// The inner reader's last error, if the decoder stopped because of it.
    pub(crate) fn take_error(&mut self) -> Option<io::Error> {
        self.failed.take()
    }

    /// Compressed bytes read so far.
    pub(crate) fn seen(&self) -> u64 {
        self.seen
    }
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.seen += n as u64;
                Ok(n)
            }
            Err(e) => {
                // The decoder gets a stand-in of the same kind (it may retry `Interrupted`);
                // the caller gets the original back from `take_error`.
                let kind = e.kind();
                self.failed = Some(e);
                Err(io::Error::new(kind, "inner reader failed"))
            }
        }
    }
}

/// Sizes recorded at the end of a compressed object by this crate's writers: the uncompressed
/// size, and the compressed size of what precedes the trailer (so that a trailer is only
/// believed when it describes the whole object, not the last part of a concatenation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SizeTrailer {
    pub(crate) uncompressed: u64,
    pub(crate) compressed: u64,
}

/// Reads a size trailer from the last bytes of an object.
pub(crate) type ParseTrailer = fn(&[u8]) -> Option<SizeTrailer>;

impl SizeTrailer {
    /// The uncompressed size, if `tail` (the last bytes of an object of `stored` bytes) is a
    /// trailer that describes all of it.
    pub(crate) fn size_of(
        parse: fn(&[u8]) -> Option<SizeTrailer>,
        tail: &[u8],
        stored: u64,
    ) -> Option<u64> {
        let t = parse(tail)?;
        (t.compressed.checked_add(tail.len() as u64) == Some(stored)).then_some(t.uncompressed)
    }
}

pub(crate) fn le_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?))
}
