//! Zstandard ([RFC 8878]) on the [zstd] crate (libzstd): a [`writer`] that wraps a
//! [`Writer`] and is one, optionally multithreaded, and a [`Reader`] over any
//! [`Read`] that decodes every frame of a concatenated file.
//!
//! ```
//! use omnistorage::compress::zstd;
//! use omnistorage::{BackendExt, MemoryBackend};
//! use std::io::{Read, Write};
//!
//! let store = MemoryBackend::new();
//! let opts = zstd::Options::new().level(3).workers(2);
//! let mut w = zstd::writer_with(store.open_writer("data.zst")?, &opts)?;
//! w.write_all(&b"0123456789".repeat(1000))?;
//! w.finish()?; // ends the zstd frame, then commits the object
//!
//! let mut out = Vec::new();
//! zstd::Reader::new(store.open_reader("data.zst")?)?.read_to_end(&mut out)?;
//! assert_eq!(out.len(), 10_000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The size trailer
//!
//! By default the writer ends the file with a 28-byte **skippable frame** (magic
//! `0x184D2A5B`, RFC 8878 §3.1.2) that holds the tag `OSSZ`, the uncompressed size and the
//! size of the frame before it, both 64-bit. Decoders skip it (`zstd -d` included), so the
//! file decodes as usual; [`CompressBackend`](super::CompressBackend) reads it (one range
//! read) to list objects with their uncompressed sizes. Turn it off with
//! [`Options::size_trailer`].
//!
//! Frames carry a checksum (XXH64 of the content), as the `zstd` command writes by default:
//! corruption that slips past the format's structure is still caught.
//!
//! Legacy formats (zstd before v0.8, 2016) are not decoded: the crate is built without
//! `legacy`, which keeps that old decoder code out of the binary.
//!
//! [RFC 8878]: https://www.rfc-editor.org/rfc/rfc8878
//! [zstd]: https://docs.rs/zstd

use std::fmt;
use std::io::{self, BufRead, BufReader, Read};

use zstd::stream::raw::{Decoder as RawDecoder, InBuffer, Operation, OutBuffer};

use super::stream::{
    EncoderSink, READ_BUFFER, SizeTrailer, Slot, Tap, corrupt, impl_encoder, le_u64,
};
use crate::error::{Error, ErrorKind, Result};
use crate::io::Writer;

/// The default compression level, as `zstd`'s: 3.
pub const DEFAULT_LEVEL: i32 = 3;

/// How the [writer](writer_with) compresses.
///
/// ```
/// use omnistorage::compress::zstd::Options;
///
/// let opts = Options::new().level(19).workers(4);
/// assert_eq!((opts.get_level(), opts.get_workers()), (19, 4));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    level: i32,
    workers: u32,
    size_trailer: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            level: DEFAULT_LEVEL,
            workers: 0,
            size_trailer: true,
        }
    }
}

impl Options {
    /// Level 3, single-threaded, with the size trailer.
    pub fn new() -> Options {
        Options::default()
    }

    /// The compression level: 1 (fastest) to 22 (smallest), negative levels for even faster
    /// and larger output, 0 for libzstd's default (3). Default [`DEFAULT_LEVEL`] (3). A
    /// level outside libzstd's range fails when the writer is made, with
    /// [`ErrorKind::InvalidInput`].
    pub fn level(mut self, level: i32) -> Options {
        self.level = level;
        self
    }

    /// Compresses on this many worker threads, in jobs of several MiB, like `zstd -T`;
    /// `0` (the default) compresses on the calling thread. Workers pay off on large streams
    /// (tens of MiB and more) and at higher levels; the output is a standard frame either
    /// way, and decoding is always single-threaded.
    pub fn workers(mut self, workers: u32) -> Options {
        self.workers = workers;
        self
    }

    /// Whether to end the file with the [size trailer](self#the-size-trailer). Default
    /// `true`.
    pub fn size_trailer(mut self, on: bool) -> Options {
        self.size_trailer = on;
        self
    }

    /// The compression level.
    pub fn get_level(&self) -> i32 {
        self.level
    }

    /// The number of worker threads (0: none).
    pub fn get_workers(&self) -> u32 {
        self.workers
    }
}

/// Compresses everything written into `inner` at `level` ([`DEFAULT_LEVEL`] is 3),
/// single-threaded, with the [size trailer](self#the-size-trailer).
///
/// The returned writer's [`finish`](Writer::finish) ends the zstd frame and then finishes
/// `inner`, returning `inner`'s entry (the stored, compressed object). Its `abort`, and
/// dropping it, abort `inner`: a half-written stream is never committed.
pub fn writer(inner: Writer, level: i32) -> Result<Writer> {
    writer_with(inner, &Options::new().level(level))
}

/// [`writer`] with all the [`Options`] (workers among them).
pub fn writer_with(inner: Writer, opts: &Options) -> Result<Writer> {
    check_level(opts.level)?;
    let setup = |e: io::Error| {
        Error::new(ErrorKind::InvalidInput, "zstd encoder setup failed").with_source(e)
    };
    let mut encoder =
        zstd::stream::write::Encoder::new(Slot::new(inner), opts.level).map_err(setup)?;
    encoder.include_checksum(true).map_err(setup)?;
    if opts.workers > 0 {
        encoder.multithread(opts.workers).map_err(setup)?;
    }
    Ok(EncoderSink::writer(encoder, opts.size_trailer))
}

pub(crate) fn check_level(level: i32) -> Result<()> {
    let range = zstd::compression_level_range();
    if !range.contains(&level) {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "zstd level {level} is out of range: use {} to {}",
                range.start(),
                range.end()
            ),
        ));
    }
    Ok(())
}

impl_encoder!(zstd::stream::write::Encoder<'static, Slot>, trailer);

/// The length of the size trailer: a skippable frame with a 20-byte payload.
pub(crate) const TRAILER_LEN: usize = 28;

const TRAILER_HEAD: [u8; 12] = [
    0x5B, 0x2A, 0x4D, 0x18, // skippable frame magic 0x184D2A5B
    20, 0, 0, 0, // frame size
    b'O', b'S', b'S', b'Z', // tag
];

fn trailer(t: SizeTrailer) -> [u8; TRAILER_LEN] {
    let mut out = [0u8; TRAILER_LEN];
    out[..12].copy_from_slice(&TRAILER_HEAD);
    out[12..20].copy_from_slice(&t.uncompressed.to_le_bytes());
    out[20..].copy_from_slice(&t.compressed.to_le_bytes());
    out
}

/// Reads a size trailer written by [`writer`].
pub(crate) fn parse_trailer(tail: &[u8]) -> Option<SizeTrailer> {
    if tail.len() != TRAILER_LEN || tail[..12] != TRAILER_HEAD {
        return None;
    }
    Some(SizeTrailer {
        uncompressed: le_u64(&tail[12..20])?,
        compressed: le_u64(&tail[20..28])?,
    })
}

/// Decompresses zstd from any [`Read`]: every frame of a concatenated file in turn, skipping
/// skippable frames.
///
/// Errors:
/// - the inner reader's errors come through **unchanged**;
/// - malformed input, a checksum mismatch, a frame that holds a different number of bytes
///   than its header says, bytes that are not a frame, an empty input, and an input that
///   **ends early** are all [`ErrorKind::Corrupt`] (inside the `io::Error`), never a short
///   read that looks like the end.
///
/// A truncation that falls exactly between two frames cannot be told from a file with fewer
/// frames. Files from [`writer`] are one frame (plus the trailer, whose loss leaves the data
/// whole).
///
/// The decoding loop is this crate's own, over libzstd's streaming decoder, because that
/// decoder alone does not check a frame's declared content size when the frame ends with an
/// empty block (found by the `zstd_decode` fuzz target: a frame that declares 9 bytes and holds
/// none decoded as a clean, empty stream when it arrived in small pieces).
///
/// ```
/// use omnistorage::compress::zstd::Reader;
/// use omnistorage::{Error, ErrorKind};
/// use std::io::Read;
///
/// let mut out = Vec::new();
/// let err = Reader::new(&b"\x28\xb5\x2f\xfd not really zstd"[..])?
///     .read_to_end(&mut out)
///     .unwrap_err();
/// assert_eq!(Error::from(err).kind(), ErrorKind::Corrupt);
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub struct Reader<R: Read> {
    input: BufReader<Tap<R>>,
    decoder: RawDecoder<'static>,
    /// Inside a frame: its first bytes (for its header) and the bytes it produced so far.
    frame: Option<Frame>,
    done: bool,
}

struct Frame {
    header: Vec<u8>,
    produced: u64,
}

/// The longest frame header (RFC 8878 §3.1.1.1).
const FRAME_HEADER_MAX: usize = 18;

impl<R: Read> Reader<R> {
    /// Decodes what `inner` yields. Fails only if libzstd cannot allocate a decoder.
    pub fn new(inner: R) -> Result<Reader<R>> {
        let decoder = RawDecoder::new().map_err(|e| {
            Error::new(ErrorKind::Other, "zstd decoder setup failed").with_source(e)
        })?;
        Ok(Reader {
            input: BufReader::with_capacity(READ_BUFFER, Tap::new(inner)),
            decoder,
            frame: None,
            done: false,
        })
    }

    /// The error of the reader underneath, as it was.
    fn inner_error(&mut self, stand_in: io::Error) -> io::Error {
        self.input.get_mut().take_error().unwrap_or(stand_in)
    }

    /// At the end of a frame: its size must be what its header says, if it says.
    fn end_frame(&mut self) -> io::Result<()> {
        let Some(frame) = self.frame.take() else {
            return Ok(());
        };
        match zstd::zstd_safe::get_frame_content_size(&frame.header) {
            Ok(Some(declared)) if declared != frame.produced => Err(corrupt(
                "zstd",
                format_args!(
                    "a frame declares {declared} bytes but holds {}",
                    frame.produced
                ),
            )),
            _ => Ok(()),
        }
    }
}

impl<R: Read> Read for Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.done {
                return Ok(0);
            }
            let input = match self.input.fill_buf() {
                Ok(input) => input,
                Err(e) => return Err(self.inner_error(e)),
            };
            let eof = input.is_empty();
            if self.frame.is_none() && !eof {
                // A new frame starts here: drop what is left of the last one's state.
                self.decoder.reinit().map_err(|e| corrupt("zstd", e))?;
            }
            let mut src = InBuffer::around(input);
            let mut dst = OutBuffer::around(&mut *buf);
            let hint = self
                .decoder
                .run(&mut src, &mut dst)
                .map_err(|e| corrupt("zstd", e))?;
            let (used, written) = (src.pos(), dst.pos());
            if used > 0 {
                let frame = self.frame.get_or_insert_with(|| Frame {
                    header: Vec::with_capacity(FRAME_HEADER_MAX),
                    produced: 0,
                });
                let room = FRAME_HEADER_MAX - frame.header.len();
                frame.header.extend_from_slice(&input[..used.min(room)]);
            }
            self.input.consume(used);
            if let Some(frame) = &mut self.frame {
                frame.produced += written as u64;
            }
            if hint == 0 {
                self.end_frame()?;
            }
            if written > 0 {
                return Ok(written);
            }
            if eof {
                if self.frame.is_some() {
                    return Err(corrupt("zstd", "truncated: the input ends inside a frame"));
                }
                if self.input.get_ref().seen() == 0 {
                    return Err(corrupt("zstd", "the input is empty"));
                }
                self.done = true;
                return Ok(0);
            }
            if used == 0 {
                // Input there, room for output, and no progress: never loop on it.
                return Err(corrupt("zstd", "the decoder made no progress"));
            }
        }
    }
}

impl<R: Read> fmt::Debug for Reader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("zstd::Reader").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailer_roundtrips() {
        let t = SizeTrailer {
            uncompressed: u64::MAX - 3,
            compressed: 99,
        };
        let bytes = trailer(t);
        assert_eq!(parse_trailer(&bytes), Some(t));
        assert_eq!(
            SizeTrailer::size_of(parse_trailer, &bytes, 99 + 28),
            Some(t.uncompressed)
        );
        assert_eq!(SizeTrailer::size_of(parse_trailer, &bytes, 98 + 28), None);
    }

    #[test]
    fn trailer_alone_is_skipped() {
        let mut out = Vec::new();
        let frame = trailer(SizeTrailer {
            uncompressed: 1,
            compressed: 2,
        });
        Reader::new(&frame[..])
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn level_out_of_range_is_invalid_input() {
        let store = crate::MemoryBackend::new();
        let w = crate::BackendExt::open_writer(&store, "x").unwrap();
        let err = writer(w, 23).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
}
