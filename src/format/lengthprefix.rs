//! Length-prefixed records: any bytes, each record preceded by its length.
//!
//! # The framing
//!
//! A stream is a sequence of frames and nothing else; each frame is
//!
//! ```text
//! +--------------------------------+----------------------+
//! | length: u32, big-endian, 4 B   | the record: length B |
//! +--------------------------------+----------------------+
//! ```
//!
//! - No header, trailer, version or checksum: the empty stream holds no records, and two
//!   streams put end to end are one stream of both their records.
//! - A record may hold any bytes, newlines and zeros included, and may be empty (a length of
//!   0).
//! - A record is at most `u32::MAX` bytes; the [`Writer`] refuses a longer one with
//!   [`ErrorKind::InvalidInput`].
//! - The [`Reader`] refuses a length over its maximum record size
//!   ([`DEFAULT_MAX_RECORD_SIZE`], 16 MiB, or [`Reader::max_record_size`]) **before**
//!   allocating anything for it, and reports a stream that ends inside a frame (in the length
//!   or in the record) as [`ErrorKind::Corrupt`], naming the byte offset where that frame
//!   starts. Both end the reader.
//!
//! The framing does not detect corruption inside a record (no checksum): pair it with a
//! checksummed layer, or put one in the records, where that matters.
//!
//! ```
//! use omnistorage::format::{lengthprefix, RecordReader, RecordWriter};
//! use omnistorage::{BackendExt, MemoryBackend};
//!
//! let store = MemoryBackend::new();
//! let mut w = lengthprefix::Writer::new(store.open_writer("blobs.bin")?);
//! w.write_record(b"any\nbytes\0at all")?;
//! w.write_record(b"")?;
//! assert_eq!(w.finish()?.size, 4 + 16 + 4);
//!
//! let mut r = lengthprefix::Reader::new(store.open_reader("blobs.bin")?);
//! let mut record = Vec::new();
//! assert!(r.read_record(&mut record)?);
//! assert_eq!(record, b"any\nbytes\0at all");
//! assert!(r.read_record(&mut record)?);
//! assert!(record.is_empty());
//! assert!(!r.read_record(&mut record)?);
//! # Ok::<(), omnistorage::Error>(())
//! ```

use std::fmt;
use std::io::{self, Read, Write};

use crate::error::{Error, ErrorKind, Result};
use crate::format::out::{Out, framing_writer};
use crate::format::{DEFAULT_MAX_RECORD_SIZE, RecordReader, RecordWriter};

/// The size of the length before each record.
const PREFIX: usize = 4;

/// How much a [`Reader`] reads from its source at a time.
const READ_BUFFER: usize = 64 * 1024;

/// Writes length-prefixed records (see the [module docs](self) for the framing). Buffered.
///
/// End with [`finish`](Writer::finish) over an [`omnistorage::Writer`](crate::Writer) or any
/// other [`Finish`](crate::Finish) layer (it flushes, commits the object and returns its
/// [`Entry`](crate::Entry)), or [`into_inner`](Writer::into_inner) over any other writer.
/// Dropping a `Writer` discards what it buffers, and drops (so aborts) the layers below.
///
/// ```
/// use omnistorage::format::{lengthprefix, RecordWriter};
///
/// let mut w = lengthprefix::Writer::new(Vec::new());
/// w.write_record(b"hi")?;
/// assert_eq!(w.into_inner()?, b"\0\0\0\x02hi");
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub struct Writer<W> {
    out: Out<W>,
}

framing_writer!("lengthprefix::Writer");

impl<W: Write> RecordWriter for Writer<W> {
    /// Writes the record's length, then the record.
    ///
    /// A record over `u32::MAX` bytes is refused with [`ErrorKind::InvalidInput`], and nothing
    /// of it is written.
    fn write_record(&mut self, record: &[u8]) -> Result<()> {
        let Ok(len) = u32::try_from(record.len()) else {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "a length-prefixed record is at most {} bytes; this one is {}",
                    u32::MAX,
                    record.len()
                ),
            ));
        };
        self.out.push(&len.to_be_bytes())?;
        self.out.push(record)
    }

    fn flush(&mut self) -> Result<()> {
        self.out.flush()
    }
}

/// Reads length-prefixed records (see the [module docs](self) for the framing). Buffered.
///
/// A stream that ends inside a frame, or a length over the maximum record size, is
/// [`ErrorKind::Corrupt`] with the byte offset of the frame, and ends the reader.
///
/// ```
/// use omnistorage::format::{lengthprefix, RecordReader};
/// use omnistorage::ErrorKind;
///
/// // One whole frame, then one that claims 5 bytes but has 2.
/// let data = b"\0\0\0\x01a\0\0\0\x05bc";
/// let mut r = lengthprefix::Reader::new(&data[..]);
/// let mut record = Vec::new();
/// assert!(r.read_record(&mut record)?);
/// let err = r.read_record(&mut record).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Corrupt);
/// assert!(err.to_string().contains("byte offset 5"), "{err}");
/// assert!(!r.read_record(&mut record)?); // the reader has ended
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub struct Reader<R> {
    inner: R,
    buf: Box<[u8]>,
    /// The unread bytes are `buf[pos..end]`.
    pos: usize,
    end: usize,
    /// The stream offset of `buf[pos]`: how many bytes have been consumed.
    offset: u64,
    max: usize,
    /// Set after an error that ends the reader.
    done: bool,
}

impl<R: Read> Reader<R> {
    /// A reader of `inner`, with the default maximum record size.
    pub fn new(inner: R) -> Reader<R> {
        Reader::with_capacity(READ_BUFFER, inner)
    }

    /// A reader of `inner` that reads `capacity` bytes at a time (at least 1). [`new`] reads
    /// 64 KiB at a time.
    ///
    /// Records longer than the buffer are fine: they are gathered across reads, up to the
    /// maximum record size.
    ///
    /// [`new`]: Reader::new
    pub fn with_capacity(capacity: usize, inner: R) -> Reader<R> {
        Reader {
            inner,
            buf: vec![0; capacity.max(1)].into_boxed_slice(),
            pos: 0,
            end: 0,
            offset: 0,
            max: DEFAULT_MAX_RECORD_SIZE,
            done: false,
        }
    }

    /// Sets the maximum record size in bytes, not counting the length prefix. Default:
    /// [`DEFAULT_MAX_RECORD_SIZE`] (16 MiB).
    ///
    /// A frame whose length is larger is [`ErrorKind::Corrupt`] and ends the reader; nothing
    /// is allocated for it.
    pub fn max_record_size(mut self, bytes: usize) -> Reader<R> {
        self.max = bytes;
        self
    }

    /// How many bytes of the stream have been consumed: the offset just past the last record
    /// read.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The underlying reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The underlying reader. Bytes this reader has read from it but not yet returned as
    /// records are lost.
    pub fn into_inner(self) -> R {
        self.inner
    }

    fn read_frame(&mut self, record: &mut Vec<u8>) -> Result<bool> {
        let start = self.offset;
        let got = self.take(record, PREFIX)?;
        let prefix = match <[u8; PREFIX]>::try_from(record.as_slice()) {
            Ok(prefix) => prefix,
            Err(_) if got == 0 => return Ok(false),
            Err(_) => {
                return Err(Error::new(
                    ErrorKind::Corrupt,
                    format!(
                        "truncated frame at byte offset {start}: the stream ends after {got} of \
                         the {PREFIX} bytes of its length"
                    ),
                ));
            }
        };
        record.clear();
        let len = u32::from_be_bytes(prefix);
        let len = match usize::try_from(len) {
            Ok(len) if len <= self.max => len,
            _ => {
                return Err(Error::new(
                    ErrorKind::Corrupt,
                    format!(
                        "frame at byte offset {start}: a record of {len} bytes is over the \
                         maximum of {} bytes",
                        self.max
                    ),
                ));
            }
        };
        let got = self.take(record, len)?;
        if got < len {
            return Err(Error::new(
                ErrorKind::Corrupt,
                format!(
                    "truncated frame at byte offset {start}: its record is {len} bytes, the \
                     stream ends after {got}"
                ),
            ));
        }
        Ok(true)
    }

    /// Appends up to `n` bytes of the stream to `out`; fewer only at the end of the stream.
    ///
    /// Memory grows with the bytes that actually arrive, not with `n`: a length prefix that
    /// promises more than the stream holds costs no more than the stream.
    fn take(&mut self, out: &mut Vec<u8>, n: usize) -> Result<usize> {
        let mut got = 0;
        while got < n {
            if self.pos < self.end {
                let k = (n - got).min(self.end - self.pos);
                out.extend_from_slice(&self.buf[self.pos..self.pos + k]);
                self.pos += k;
                self.offset += k as u64;
                got += k;
                continue;
            }
            let want = n - got;
            if want >= self.buf.len() {
                // Large: read straight into `out`, growing it by at most as much as has
                // arrived so far (and at least by one buffer).
                let room = want.min(got.max(self.buf.len()));
                let len = out.len();
                out.resize(len + room, 0);
                let k = match read_some(&mut self.inner, &mut out[len..]) {
                    Ok(k) => k,
                    Err(e) => {
                        out.truncate(len);
                        return Err(e);
                    }
                };
                out.truncate(len + k);
                if k == 0 {
                    break;
                }
                self.offset += k as u64;
                got += k;
            } else {
                let k = read_some(&mut self.inner, &mut self.buf)?;
                if k == 0 {
                    break;
                }
                self.pos = 0;
                self.end = k;
            }
        }
        Ok(got)
    }
}

impl<R: Read> RecordReader for Reader<R> {
    /// Reads the next record. `Ok(false)` when the stream ends cleanly, between two frames.
    fn read_record(&mut self, record: &mut Vec<u8>) -> Result<bool> {
        record.clear();
        if self.done {
            return Ok(false);
        }
        match self.read_frame(record) {
            Ok(more) => Ok(more),
            Err(e) => {
                self.done = true;
                record.clear();
                Err(e)
            }
        }
    }
}

impl<R: fmt::Debug> fmt::Debug for Reader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("lengthprefix::Reader")
            .field("inner", &self.inner)
            .field("offset", &self.offset)
            .field("max_record_size", &self.max)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// One `read`, retried on `Interrupted`; never says it read more than `buf` holds.
fn read_some(inner: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    loop {
        match inner.read(buf) {
            Ok(n) => return Ok(n.min(buf.len())),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::from(e)),
        }
    }
}
