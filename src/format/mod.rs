//! Record framing over byte streams: NDJSON, length-prefixed, and CSV (feature `csv`).
//!
//! A *record* is a run of bytes that a framing keeps apart from the next one. Each framing
//! has a reader over any [`Read`](std::io::Read) and a writer over any
//! [`Write`](std::io::Write), so they work on a [`Reader`](crate::Reader) and a
//! [`Writer`](crate::Writer) from any [`Backend`](crate::Backend), on files, on a `Vec<u8>`
//! or a `&[u8]`:
//!
//! | framing | module | records are | std only |
//! | --- | --- | --- | --- |
//! | one record a line | [`ndjson`] | bytes without a newline (JSON values, typed with `serde`) | yes |
//! | a length before each record | [`lengthprefix`] | any bytes | yes |
//! | comma-separated values | `csv` (feature `csv`) | rows of text fields | no (the `csv` crate) |
//!
//! The byte framings share two small traits: [`RecordWriter`] (`write_record`, `flush`) and
//! [`RecordReader`] (`read_record` into a reused buffer, and [`records`](RecordReader::records)
//! to iterate). Code written against them works with either framing:
//!
//! ```
//! use omnistorage::format::{lengthprefix, ndjson, RecordReader, RecordWriter};
//! use omnistorage::{BackendExt, MemoryBackend};
//!
//! fn copy_records(from: &mut impl RecordReader, to: &mut impl RecordWriter) -> omnistorage::Result<u64> {
//!     let mut record = Vec::new();
//!     let mut n = 0;
//!     while from.read_record(&mut record)? {
//!         to.write_record(&record)?;
//!         n += 1;
//!     }
//!     Ok(n)
//! }
//!
//! let store = MemoryBackend::new();
//! store.write_all("events.ndjson", "{\"id\":1}\n{\"id\":2}\n")?;
//!
//! let mut from = ndjson::Reader::new(store.open_reader("events.ndjson")?);
//! let mut to = lengthprefix::Writer::new(store.open_writer("events.bin")?);
//! assert_eq!(copy_records(&mut from, &mut to)?, 2);
//! to.finish()?; // commits events.bin
//!
//! let back: Vec<Vec<u8>> = lengthprefix::Reader::new(store.open_reader("events.bin")?)
//!     .records()
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(back, [b"{\"id\":1}".to_vec(), b"{\"id\":2}".to_vec()]);
//! # Ok::<(), omnistorage::Error>(())
//! ```
//!
//! # Writers: buffered, committed by `finish`
//!
//! Writers buffer what they are given and pass it on in large writes. Over an
//! [`omnistorage::Writer`](crate::Writer), `finish()` flushes the buffer and commits the
//! object, returning its [`Entry`](crate::Entry); over any other writer, `into_inner()`
//! flushes and hands it back. **Dropping a writer discards what it still buffers**, the same
//! way dropping an `omnistorage::Writer` discards the object: nothing half-written is ever
//! made visible by accident.
//!
//! # Errors
//!
//! All of them are this crate's [`Error`](crate::Error):
//!
//! - malformed, oversized or truncated input: [`ErrorKind::Corrupt`](crate::ErrorKind::Corrupt),
//!   with a message that says where: the line (NDJSON, CSV; 1-based, blank lines counted) or
//!   the byte offset (length-prefixed);
//! - a record the framing cannot hold (a newline in an NDJSON record, a value serde cannot
//!   serialize): [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), and nothing of
//!   it is written;
//! - errors of the underlying reader or writer come through **unchanged** (a `NotFound` from a
//!   backend stays `NotFound`).
//!
//! An error that concerns a single record (a JSON value that does not parse, a CSV row with
//! a bad field) is one `Err` item, and reading goes on with the next record. An error that
//! breaks the stream (an I/O error, a record over the maximum size, a truncated frame) ends
//! the reader: it was reported once, and later reads return `Ok(false)` (iterators: `None`).
//!
//! Every reader has a maximum record size ([`DEFAULT_MAX_RECORD_SIZE`], 16 MiB, unless set
//! otherwise), so that no input can make it allocate without bound.

use crate::error::Result;

#[cfg(feature = "csv")]
#[cfg_attr(docsrs, doc(cfg(feature = "csv")))]
pub mod csv;
pub mod lengthprefix;
pub mod ndjson;

mod out;

/// The maximum record size readers accept unless told otherwise: 16 MiB.
pub const DEFAULT_MAX_RECORD_SIZE: usize = 16 << 20;

/// Writes records, one at a time, in some framing.
///
/// Implemented by [`ndjson::Writer`] and [`lengthprefix::Writer`] (and by `&mut` and `Box` of
/// any `RecordWriter`). The writers buffer; call [`flush`](RecordWriter::flush) to pass the
/// buffered records on, and the writer's own `finish()` or `into_inner()` to end.
///
/// ```
/// use omnistorage::format::{ndjson, RecordWriter};
///
/// let mut w = ndjson::Writer::new(Vec::new());
/// w.write_record(b"[1,2]")?;
/// w.write_record(b"\"three\"")?;
/// assert_eq!(w.into_inner()?, b"[1,2]\n\"three\"\n");
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub trait RecordWriter {
    /// Writes one record.
    ///
    /// A record the framing cannot hold is refused with
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) and nothing of it is
    /// written; errors of the underlying writer come through unchanged.
    fn write_record(&mut self, record: &[u8]) -> Result<()>;

    /// Passes every buffered record on to the underlying writer, and flushes it.
    ///
    /// This does not commit an [`omnistorage::Writer`](crate::Writer); the framing writer's
    /// `finish()` does.
    fn flush(&mut self) -> Result<()>;
}

/// Reads records, one at a time, from some framing.
///
/// Implemented by [`ndjson::Reader`] and [`lengthprefix::Reader`] (and by `&mut` and `Box`
/// of any `RecordReader`).
///
/// ```
/// use omnistorage::format::{ndjson, RecordReader};
///
/// let mut r = ndjson::Reader::new(&b"first\nsecond\n"[..]);
/// let mut record = Vec::new(); // reused: no allocation per record
/// let mut seen = Vec::new();
/// while r.read_record(&mut record)? {
///     seen.push(String::from_utf8_lossy(&record).into_owned());
/// }
/// assert_eq!(seen, ["first", "second"]);
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub trait RecordReader {
    /// Reads the next record into `record`, replacing what it held.
    ///
    /// Returns `Ok(true)` if a record was read, `Ok(false)` at the end of the stream (with
    /// `record` empty). After an error that breaks the stream (see the
    /// [module docs](crate::format#errors)), later calls return `Ok(false)`.
    fn read_record(&mut self, record: &mut Vec<u8>) -> Result<bool>;

    /// An iterator over the records, each an owned `Vec<u8>`.
    ///
    /// Sugar over [`read_record`](RecordReader::read_record): it ends at the end of the
    /// stream, or after yielding an error that ends the reader. Use `read_record` with one
    /// buffer where allocation per record matters.
    ///
    /// ```
    /// use omnistorage::format::{lengthprefix, RecordReader};
    ///
    /// let data = b"\0\0\0\x02hi\0\0\0\0";
    /// let records: Vec<Vec<u8>> = lengthprefix::Reader::new(&data[..])
    ///     .records()
    ///     .collect::<Result<_, _>>()?;
    /// assert_eq!(records, [b"hi".to_vec(), Vec::new()]);
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    fn records(self) -> Records<Self>
    where
        Self: Sized,
    {
        Records {
            reader: self,
            capacity: 0,
        }
    }
}

impl<T: RecordWriter + ?Sized> RecordWriter for &mut T {
    fn write_record(&mut self, record: &[u8]) -> Result<()> {
        (**self).write_record(record)
    }
    fn flush(&mut self) -> Result<()> {
        (**self).flush()
    }
}

impl<T: RecordWriter + ?Sized> RecordWriter for Box<T> {
    fn write_record(&mut self, record: &[u8]) -> Result<()> {
        (**self).write_record(record)
    }
    fn flush(&mut self) -> Result<()> {
        (**self).flush()
    }
}

impl<T: RecordReader + ?Sized> RecordReader for &mut T {
    fn read_record(&mut self, record: &mut Vec<u8>) -> Result<bool> {
        (**self).read_record(record)
    }
}

impl<T: RecordReader + ?Sized> RecordReader for Box<T> {
    fn read_record(&mut self, record: &mut Vec<u8>) -> Result<bool> {
        (**self).read_record(record)
    }
}

/// The iterator of [`RecordReader::records`]: one `Result<Vec<u8>>` per record.
#[derive(Debug)]
pub struct Records<R> {
    reader: R,
    /// The size of the last record, to allocate the next one in one go.
    capacity: usize,
}

impl<R> Records<R> {
    /// The reader, positioned after the last record yielded.
    pub fn into_inner(self) -> R {
        self.reader
    }
}

impl<R: RecordReader> Iterator for Records<R> {
    type Item = Result<Vec<u8>>;

    fn next(&mut self) -> Option<Result<Vec<u8>>> {
        let mut record = Vec::with_capacity(self.capacity);
        match self.reader.read_record(&mut record) {
            Ok(true) => {
                self.capacity = record.len();
                Some(Ok(record))
            }
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// The index of the first `needle` in `haystack`.
///
/// As fast as the standard library allows without `unsafe`, SIMD intrinsics or a crate: it
/// tests 8 bytes at a time as one `u64` (the "has a zero byte" bit trick on `word ^ needle`),
/// four words per step, and finds the byte in the word from the lowest set bit. On lines of a
/// few hundred bytes it is about 3× faster than `iter().position`, and faster than std's own
/// `memchr` (reached through `BufRead::skip_until`) or a block-wise `fold` the compiler
/// vectorizes; measured on this project's machines, see `benches/format.rs`.
#[inline]
pub(crate) fn find_byte(needle: u8, haystack: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO * u64::from(needle);
    // Nonzero iff the word holds `needle`; its lowest set bit is in the first such byte
    // (bits above it may be false positives, so only the lowest one is used).
    let matches = |word: [u8; 8]| {
        let v = u64::from_le_bytes(word) ^ pattern;
        v.wrapping_sub(LO) & !v & HI
    };
    let first = |m: u64| (m.trailing_zeros() / 8) as usize;
    let mut offset = 0;
    let mut rest = haystack;
    while let Some((block, tail)) = rest.split_first_chunk::<32>() {
        let word = |i: usize| {
            [
                block[i],
                block[i + 1],
                block[i + 2],
                block[i + 3],
                block[i + 4],
                block[i + 5],
                block[i + 6],
                block[i + 7],
            ]
        };
        let m = [
            matches(word(0)),
            matches(word(8)),
            matches(word(16)),
            matches(word(24)),
        ];
        if m[0] | m[1] | m[2] | m[3] != 0 {
            for (k, m) in m.into_iter().enumerate() {
                if m != 0 {
                    return Some(offset + k * 8 + first(m));
                }
            }
        }
        offset += 32;
        rest = tail;
    }
    while let Some((word, tail)) = rest.split_first_chunk::<8>() {
        let m = matches(*word);
        if m != 0 {
            return Some(offset + first(m));
        }
        offset += 8;
        rest = tail;
    }
    rest.iter().position(|&b| b == needle).map(|i| offset + i)
}

#[cfg(test)]
mod tests {
    use super::find_byte;

    #[test]
    fn find_byte_agrees_with_position() {
        // Every position of one or two needles, at every alignment, among bytes that are
        // one bit away from the needle (the bit trick's hard cases), and 0x80/0xff.
        for needle in [b'\n', 0, 0x80, 0xff] {
            for fill in [
                needle ^ 1,
                needle ^ 0x80,
                needle.wrapping_add(1),
                0x80,
                0xff,
                0,
            ] {
                if fill == needle {
                    continue;
                }
                let mut hay = vec![fill; 100];
                assert_eq!(find_byte(needle, &hay), None);
                for at in 0..hay.len() {
                    hay[at] = needle;
                    for also in [at + 1, at + 9, at + 40] {
                        if also < hay.len() {
                            hay[also] = needle;
                        }
                        for start in 0..=at.min(9) {
                            let h = &hay[start..];
                            assert_eq!(
                                find_byte(needle, h),
                                h.iter().position(|&b| b == needle),
                                "needle {needle} fill {fill} at {at} also {also} start {start}"
                            );
                        }
                        if also < hay.len() {
                            hay[also] = fill;
                        }
                    }
                    hay[at] = fill;
                }
            }
        }
        assert_eq!(find_byte(b'\n', b""), None);
    }
}
