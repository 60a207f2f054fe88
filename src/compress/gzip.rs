//! gzip ([RFC 1952]) on [flate2]: a [`writer`] that wraps a [`Writer`] and
//! is one, and a [`Reader`] over any [`Read`] that decodes concatenated (multi-member) files.
//!
//! ```
//! use omnistorage::compress::gzip;
//! use omnistorage::{BackendExt, MemoryBackend};
//! use std::io::{Read, Write};
//!
//! let store = MemoryBackend::new();
//! let mut w = gzip::writer(store.open_writer("log.gz")?, gzip::DEFAULT_LEVEL)?;
//! w.write_all(b"hello, hello, hello")?;
//! w.finish()?; // ends the gzip stream, then commits the object
//!
//! let mut text = String::new();
//! gzip::Reader::new(store.open_reader("log.gz")?).read_to_string(&mut text)?;
//! assert_eq!(text, "hello, hello, hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The size trailer
//!
//! By default the writer ends the file with a second, **empty gzip member** whose header
//! carries an extra field (`OS`, RFC 1952 §2.3.1.1) with the uncompressed size and the size of
//! the first member, both 64-bit. gzip's own `ISIZE` holds the size modulo 2³² only, and the
//! last member's only, so it cannot say, by itself, whether it describes the whole file; the
//! trailer can, for any size. [`CompressBackend`](super::CompressBackend) reads it (one
//! 42-byte range read) to list objects with their uncompressed sizes. Every multi-member
//! decoder (`gzip -d`, `zcat`, this [`Reader`], Python, Go, Java) decodes such a file to the
//! same bytes; a decoder that stops after the first member still gets all of them. Turn it off
//! with [`Options::size_trailer`] for a plain single-member file.
//!
//! # Backend
//!
//! flate2 runs on `zlib-rs` (pure Rust), chosen over the default `miniz_oxide` by
//! measurement; see `Cargo.toml` for the numbers.
//!
//! [RFC 1952]: https://www.rfc-editor.org/rfc/rfc1952
//! [flate2]: https://docs.rs/flate2

use std::fmt;
use std::io::{self, BufReader, Read};

use flate2::bufread::MultiGzDecoder;
use flate2::write::GzEncoder;

use super::stream::{
    EncoderSink, READ_BUFFER, SizeTrailer, Slot, Tap, corrupt, impl_encoder, le_u64,
};
use crate::error::{Error, ErrorKind, Result};
use crate::io::Writer;

/// The default compression level, as `gzip`'s: 6.
pub const DEFAULT_LEVEL: u32 = 6;

/// The highest level (the smallest output, the slowest). The lowest is 0 (stored, no
/// compression).
pub const MAX_LEVEL: u32 = 9;

/// How the [writer](writer_with) compresses.
///
/// ```
/// use omnistorage::compress::gzip::Options;
///
/// let opts = Options::new().level(9).size_trailer(false);
/// assert_eq!(opts.get_level(), 9);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    level: u32,
    size_trailer: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            level: DEFAULT_LEVEL,
            size_trailer: true,
        }
    }
}

impl Options {
    /// Level 6, with the size trailer.
    pub fn new() -> Options {
        Options::default()
    }

    /// The compression level, 0 (none) to 9 (smallest). Default [`DEFAULT_LEVEL`] (6).
    /// Another number fails when the writer is made, with [`ErrorKind::InvalidInput`].
    pub fn level(mut self, level: u32) -> Options {
        self.level = level;
        self
    }

    /// Whether to end the file with the [size trailer](self#the-size-trailer). Default
    /// `true`.
    pub fn size_trailer(mut self, on: bool) -> Options {
        self.size_trailer = on;
        self
    }

    /// The compression level.
    pub fn get_level(&self) -> u32 {
        self.level
    }
}

/// Compresses everything written into `inner` at `level` (0–9; [`DEFAULT_LEVEL`] is 6), with
/// the [size trailer](self#the-size-trailer).
///
/// The returned writer's [`finish`](Writer::finish) ends the gzip stream and then finishes
/// `inner`, returning `inner`'s entry (the stored, compressed object). Its `abort`, and
/// dropping it, abort `inner`: a half-written stream is never committed.
///
/// A level above 9 is [`ErrorKind::InvalidInput`].
pub fn writer(inner: Writer, level: u32) -> Result<Writer> {
    writer_with(inner, &Options::new().level(level))
}

/// [`writer`] with all the [`Options`].
pub fn writer_with(inner: Writer, opts: &Options) -> Result<Writer> {
    check_level(opts.level)?;
    let encoder = GzEncoder::new(Slot::new(inner), flate2::Compression::new(opts.level));
    Ok(EncoderSink::writer(encoder, opts.size_trailer))
}

pub(crate) fn check_level(level: u32) -> Result<()> {
    if level > MAX_LEVEL {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("gzip level {level} is out of range: use 0 to {MAX_LEVEL}"),
        ));
    }
    Ok(())
}

impl_encoder!(GzEncoder<Slot>, trailer);

/// The length of the size trailer: one empty gzip member with a 20-byte extra field.
pub(crate) const TRAILER_LEN: usize = 42;

const TRAILER_HEAD: [u8; 16] = [
    0x1f, 0x8b, // magic
    8,    // deflate
    4,    // FLG.FEXTRA
    0, 0, 0, 0,   // MTIME: none
    0,   // XFL
    255, // OS: unknown
    20, 0, // XLEN
    b'O', b'S', // subfield id
    16, 0, // subfield length
];

/// An empty final deflate block, then CRC-32 and ISIZE of no data.
const TRAILER_TAIL: [u8; 10] = [3, 0, 0, 0, 0, 0, 0, 0, 0, 0];

fn trailer(t: SizeTrailer) -> [u8; TRAILER_LEN] {
    let mut out = [0u8; TRAILER_LEN];
    out[..16].copy_from_slice(&TRAILER_HEAD);
    out[16..24].copy_from_slice(&t.uncompressed.to_le_bytes());
    out[24..32].copy_from_slice(&t.compressed.to_le_bytes());
    out[32..].copy_from_slice(&TRAILER_TAIL);
    out
}

/// Reads a size trailer written by [`writer`].
pub(crate) fn parse_trailer(tail: &[u8]) -> Option<SizeTrailer> {
    if tail.len() != TRAILER_LEN || tail[..16] != TRAILER_HEAD || tail[32..] != TRAILER_TAIL {
        return None;
    }
    Some(SizeTrailer {
        uncompressed: le_u64(&tail[16..24])?,
        compressed: le_u64(&tail[24..32])?,
    })
}

/// Decompresses gzip from any [`Read`], all members of a concatenated file in turn.
///
/// Errors:
/// - the inner reader's errors come through **unchanged** (a backend's `NotFound` or `Io`
///   stays what it was);
/// - malformed input, a CRC or length mismatch, bytes after the last member that are not
///   another member, an empty input, and an input that **ends early** are all
///   [`ErrorKind::Corrupt`] (inside the `io::Error`; get it back with
///   [`Error::from`]), never a short read that looks like the end.
///
/// A truncation that falls exactly between two members cannot be told from a file with fewer
/// members: the format has no end marker. Files from [`writer`] are one member (plus the
/// trailer member, whose loss leaves the data whole).
///
/// ```
/// use omnistorage::compress::gzip::Reader;
/// use omnistorage::{Error, ErrorKind};
/// use std::io::Read;
///
/// let mut out = Vec::new();
/// let err = Reader::new(&b"\x1f\x8b\x08\x00 not really gzip"[..])
///     .read_to_end(&mut out)
///     .unwrap_err();
/// assert_eq!(Error::from(err).kind(), ErrorKind::Corrupt);
/// ```
pub struct Reader<R: Read> {
    decoder: MultiGzDecoder<BufReader<Tap<R>>>,
}

impl<R: Read> Reader<R> {
    /// Decodes what `inner` yields.
    pub fn new(inner: R) -> Reader<R> {
        Reader {
            decoder: MultiGzDecoder::new(BufReader::with_capacity(READ_BUFFER, Tap::new(inner))),
        }
    }
}

impl<R: Read> Read for Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let result = self.decoder.read(buf);
        decoded("gzip", result, self.decoder.get_mut().get_mut(), buf.len())
    }
}

/// Turns a decoder's result into ours: the inner reader's errors come back as they were,
/// everything else the decoder says is [`ErrorKind::Corrupt`], and so is a stream that holds
/// no compressed byte at all.
fn decoded<R: Read>(
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

impl<R: Read> fmt::Debug for Reader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("gzip::Reader").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailer_roundtrips() {
        let t = SizeTrailer {
            uncompressed: 5 << 32 | 7,
            compressed: 1234,
        };
        let bytes = trailer(t);
        assert_eq!(parse_trailer(&bytes), Some(t));
        assert_eq!(
            SizeTrailer::size_of(parse_trailer, &bytes, 1234 + 42),
            Some(t.uncompressed)
        );
        assert_eq!(SizeTrailer::size_of(parse_trailer, &bytes, 1234 + 43), None);
        let mut bad = bytes;
        bad[3] = 0;
        assert_eq!(parse_trailer(&bad), None);
    }

    #[test]
    fn trailer_is_an_empty_member() {
        let mut out = Vec::new();
        let member = trailer(SizeTrailer {
            uncompressed: 1,
            compressed: 2,
        });
        Reader::new(&member[..]).read_to_end(&mut out).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn level_out_of_range_is_invalid_input() {
        let store = crate::MemoryBackend::new();
        let w = crate::BackendExt::open_writer(&store, "x").unwrap();
        let err = writer(w, 10).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
}
