//! Corrupt and truncated input, and errors of the reader underneath, which pass through unchanged.

use super::*;

fn assert_corrupt(c: Compression, input: &[u8], what: &str) {
    match decompress(c, input) {
        Ok(out) => panic!("{c} {what}: expected Corrupt, got {} bytes", out.len()),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Corrupt, "{c} {what}: {e}");
            let text = e.to_string();
            assert!(
                text.contains(c.name()),
                "{c} {what}: message names the format: {text}"
            );
        }
    }
}

/// Cutting a compressed file at any byte never yields a clean, short read: either the whole
/// data (the cut fell in the size trailer) or `Corrupt`.
fn truncation_at_every_offset(c: Compression, packed: &[u8], data: &[u8]) {
    for cut in 0..packed.len() {
        match decompress(c, &packed[..cut]) {
            Ok(out) => assert!(
                out == data,
                "{c}: cut at {cut}/{}: a clean read of {} of {} bytes",
                packed.len(),
                out.len(),
                data.len()
            ),
            Err(e) => assert_eq!(e.kind(), ErrorKind::Corrupt, "{c}: cut at {cut}: {e}"),
        }
    }
}

#[test]
fn gzip_truncated_anywhere_is_corrupt() {
    let data = datagen::sample(12, 3000);
    let packed = compress(Compression::Gzip, 6, &data);
    truncation_at_every_offset(Compression::Gzip, &packed, &data);
    let plain = plain_gzip(&data);
    truncation_at_every_offset(Compression::Gzip, &plain, &data);
    // Without the trailer there is nothing after the data: every cut is Corrupt.
    for cut in 0..plain.len() {
        assert_corrupt(Compression::Gzip, &plain[..cut], &format!("cut at {cut}"));
    }
}

#[test]
fn zstd_truncated_anywhere_is_corrupt() {
    let data = datagen::sample(13, 3000);
    let packed = compress(Compression::Zstd, 3, &data);
    truncation_at_every_offset(Compression::Zstd, &packed, &data);
    let plain = plain_zstd(&data);
    for cut in 0..plain.len() {
        assert_corrupt(Compression::Zstd, &plain[..cut], &format!("cut at {cut}"));
    }
}

#[test]
fn truncated_stored_objects_are_corrupt_through_the_backend() {
    for c in [Compression::Gzip, Compression::Zstd] {
        let raw = MemoryBackend::new();
        let store = CompressBackend::new(raw.clone(), c);
        let data = datagen::sample(14, 200_000);
        store.write_all("obj", &data).expect("write");
        let packed = raw.read_to_vec("obj").expect("raw");
        raw.write_all("obj", &packed[..packed.len() / 2])
            .expect("cut");
        let err = store.read_to_vec("obj").expect_err("truncated");
        assert_eq!(err.kind(), ErrorKind::Corrupt, "{c}: {err}");
        assert_eq!(err.path(), Some("obj"), "{c}: the error names the object");
        // The listing cannot size it either: one Err item, not a made-up size.
        let listed: Vec<_> = store
            .list(&Path::root(), &omnistorage::ListOptions::new())
            .expect("list")
            .collect();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            listed[0].as_ref().expect_err("corrupt").kind(),
            ErrorKind::Corrupt
        );
    }
}

/// Every single-byte change either leaves the data intact (header fields, the trailer) or is
/// caught; it never decodes to different bytes.
fn flips(c: Compression, packed: &[u8], data: &[u8]) {
    for i in 0..packed.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut bad = packed.to_vec();
            bad[i] ^= mask;
            match decompress(c, &bad) {
                Ok(out) => assert!(
                    out == data,
                    "{c}: byte {i} ^ {mask:#x} decoded to other data"
                ),
                Err(e) => assert_eq!(e.kind(), ErrorKind::Corrupt, "{c}: byte {i}: {e}"),
            }
        }
    }
}

#[test]
fn gzip_flipped_bytes_are_caught() {
    let data = datagen::sample(15, 2000);
    flips(
        Compression::Gzip,
        &compress(Compression::Gzip, 6, &data),
        &data,
    );
}

#[test]
fn zstd_flipped_bytes_are_caught() {
    let data = datagen::sample(16, 2000);
    flips(
        Compression::Zstd,
        &compress(Compression::Zstd, 3, &data),
        &data,
    );
}

#[test]
fn garbage_and_empty_input_are_corrupt() {
    for c in [Compression::Gzip, Compression::Zstd] {
        assert_corrupt(c, b"", "empty");
        assert_corrupt(c, b"hello world, this is not compressed", "text");
        assert_corrupt(c, &[0u8; 100], "zeros");
        assert_corrupt(c, &datagen::sample(17, 5000), "plain data");
    }
    // Valid data followed by garbage.
    for c in [Compression::Gzip, Compression::Zstd] {
        let mut packed = compress(c, 1, b"payload");
        packed.extend_from_slice(b"trailing garbage");
        assert_corrupt(c, &packed, "trailing garbage");
    }
    // A valid gzip header around a broken deflate stream.
    let mut packed = plain_gzip(&datagen::sample(18, 1000));
    let mid = packed.len() / 2;
    packed[mid..mid + 8].copy_from_slice(&[0xff; 8]);
    assert_corrupt(Compression::Gzip, &packed, "broken deflate");
}

/// A frame that declares 9 bytes of content and ends with an empty last block (its checksum is
/// that of no bytes). libzstd's streaming decoder alone accepts it as an empty stream when it
/// arrives in small pieces; found by the `zstd_decode` fuzz target.
#[test]
fn zstd_frame_shorter_than_its_header_says_is_corrupt() {
    let frame = [
        0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x09, 0x01, 0x00, 0x00, 0x99, 0xe9, 0xd8, 0x51,
    ];
    assert_corrupt(Compression::Zstd, &frame, "whole");
    for piece in 1..4 {
        let mut out = Vec::new();
        let err = Compression::Zstd
            .reader(OneByOne {
                data: frame.to_vec(),
                pos: 0,
                piece,
            })
            .expect("reader")
            .read_to_end(&mut out)
            .expect_err("in pieces");
        assert_eq!(
            Error::from(err).kind(),
            ErrorKind::Corrupt,
            "pieces of {piece}"
        );
    }
}

/// Yields its data `piece` bytes at a time.
struct OneByOne {
    data: Vec<u8>,
    pos: usize,
    piece: usize,
}

impl Read for OneByOne {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.piece.min(buf.len()).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn tiny_pieces_decode_the_same() {
    let data = datagen::sample(27, 20_000);
    for c in [Compression::Gzip, Compression::Zstd] {
        let mut packed = compress(c, 3, &data);
        packed.extend_from_slice(&compress(c, 1, b"and more"));
        for piece in [1, 2, 7] {
            let mut out = Vec::new();
            c.reader(OneByOne {
                data: packed.clone(),
                pos: 0,
                piece,
            })
            .expect("reader")
            .read_to_end(&mut out)
            .expect("read");
            assert_eq!(out.len(), data.len() + 8, "{c} pieces of {piece}");
            assert!(out.starts_with(&data) && out.ends_with(b"and more"));
        }
    }
}

/// Yields `good` bytes, then fails with `err`.
struct FailAfter {
    data: io::Cursor<Vec<u8>>,
    err: Option<io::Error>,
}

impl Read for FailAfter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.data.read(buf)?;
        if n > 0 {
            return Ok(n);
        }
        Err(self
            .err
            .take()
            .unwrap_or_else(|| io::Error::other("failed again")))
    }
}

#[test]
fn inner_reader_errors_pass_through() {
    let data = datagen::sample(19, 300_000);
    for c in [Compression::Gzip, Compression::Zstd] {
        let packed = compress(c, 3, &data);
        for cut in [0, 10, packed.len() / 2] {
            let cases: Vec<(io::Error, ErrorKind, io::ErrorKind)> = vec![
                (
                    Error::new(ErrorKind::TimedOut, "the server went away")
                        .with_backend("s3")
                        .into(),
                    ErrorKind::TimedOut,
                    io::ErrorKind::TimedOut,
                ),
                (
                    Error::new(ErrorKind::NotFound, "deleted meanwhile").into(),
                    ErrorKind::NotFound,
                    io::ErrorKind::NotFound,
                ),
                (
                    io::Error::new(io::ErrorKind::ConnectionReset, "reset"),
                    ErrorKind::Io,
                    io::ErrorKind::ConnectionReset,
                ),
                (
                    // Even an inner "invalid data" stays the inner error, not ours.
                    io::Error::new(io::ErrorKind::UnexpectedEof, "inner eof"),
                    ErrorKind::Io,
                    io::ErrorKind::UnexpectedEof,
                ),
            ];
            for (err, kind, io_kind) in cases {
                let message = err.to_string();
                let inner = FailAfter {
                    data: io::Cursor::new(packed[..cut].to_vec()),
                    err: Some(err),
                };
                let mut out = Vec::new();
                let got = c
                    .reader(inner)
                    .expect("reader")
                    .read_to_end(&mut out)
                    .expect_err("inner error");
                assert_eq!(got.kind(), io_kind, "{c} cut {cut}: {got}");
                let got = Error::from(got);
                assert_eq!(got.kind(), kind, "{c} cut {cut}: {got}");
                let chain = got.display_chain().to_string();
                assert!(chain.contains(&message), "{chain} vs {message}");
            }
        }
    }
}

/// A backend whose readers fail after a number of bytes, with a given kind.
#[derive(Debug)]
struct Flaky {
    inner: MemoryBackend,
    after: u64,
    kind: ErrorKind,
}

impl omnistorage::Wrap for Flaky {
    type Inner = MemoryBackend;
    fn inner(&self) -> &MemoryBackend {
        &self.inner
    }
    fn reader(&self, path: &Path, opts: &ReadOptions) -> omnistorage::Result<Reader> {
        let inner = self.inner.reader(path, opts)?;
        let kind = self.kind;
        let path = path.to_string();
        Ok(Reader::new(FailAfter {
            data: io::Cursor::new({
                let mut v = Vec::new();
                inner.take(self.after).read_to_end(&mut v)?;
                v
            }),
            err: Some(
                Error::new(kind, "connection dropped")
                    .with_path(path)
                    .with_backend("flaky")
                    .into(),
            ),
        }))
    }
}

#[test]
fn backend_errors_during_read_pass_through_with_their_kind() {
    for c in [Compression::Gzip, Compression::Zstd] {
        for kind in [
            ErrorKind::TimedOut,
            ErrorKind::Io,
            ErrorKind::PermissionDenied,
        ] {
            let raw = MemoryBackend::new();
            CompressBackend::new(raw.clone(), c)
                .write_all("obj", datagen::sample(20, 400_000))
                .expect("write");
            let flaky = Flaky {
                inner: raw,
                after: 5000,
                kind,
            };
            let store = CompressBackend::new(flaky, c);
            let err = store.read_to_vec("obj").expect_err("flaky read");
            assert_eq!(err.kind(), kind, "{c}: {err}");
            assert_eq!(err.backend(), Some("flaky"), "{c}: {err}");
            assert_eq!(err.message(), Some("connection dropped"));
        }
    }
    let store = CompressBackend::new(MemoryBackend::new(), Compression::Gzip);
    let err = store.read_to_vec("missing").expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}
