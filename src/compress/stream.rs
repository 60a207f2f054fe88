//! Plumbing shared by the gzip and zstd layers: the writer slot that lets an encoder be
//! abandoned without committing, the reader tap that tells the inner reader's errors from the
//! decoder's, and the size trailers.

use std::io::{self, Read, Write};

use crate::error::{Error, ErrorKind};
use crate::io::Writer;

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

/// Turns a decoder's result into ours: the inner reader's errors come back as they were,
/// everything else the decoder says is [`ErrorKind::Corrupt`], and so is a stream that holds
/// no compressed byte at all.
pub(crate) fn decoded<R: Read>(
    format: &'static str,
    result: io::Result<usize>,
    tap: &mut Tap<R>,
    want: usize,
) -> io::Result<usize> {
    match result {
        Ok(0) if want > 0 && tap.seen() == 0 => Err(corrupt(format, "the input is empty")),
        Ok(n) => Ok(n),
        Err(e) => match tap.take_error() {
            Some(inner) => Err(inner),
            None if e.kind() == io::ErrorKind::UnexpectedEof => Err(corrupt(
                format,
                "truncated: the input ends inside the stream",
            )),
            None => Err(corrupt(format, e)),
        },
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
