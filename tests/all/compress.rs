//! Tests of the compress layer: the gzip and zstd writers and readers, `Compression`, and
//! `CompressBackend` (the conformance suite over it, sizes, modes, errors, and agreement with
//! the `gzip` and `zstd` command-line tools).
#![cfg(all(feature = "gzip", feature = "zstd"))]

use std::io::{self, Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use omnistorage::compress::{CompressBackend, Compression, gzip, zstd};
use omnistorage::conformance::{Fixture, TempDir};
use omnistorage::{
    Backend, BackendExt, Entry, Error, ErrorKind, FileBackend, MemoryBackend, Path, ReadOptions,
    Reader, WriteOptions,
};

#[path = "../../benches/support/datagen.rs"]
mod datagen;

fn p(s: &str) -> Path {
    Path::parse(s).expect("path")
}

fn file_backend() -> (FileBackend, TempDir) {
    let dir = TempDir::new().expect("temp dir");
    let backend = FileBackend::new(dir.path()).expect("file backend");
    (backend, dir)
}

// ---------------------------------------------------------------------------------------------
// The conformance suite over the layer: one algorithm for every object, on memory and files.

mod conformance_gzip_memory {
    use super::*;
    omnistorage::conformance_tests!(|| Fixture::new(CompressBackend::new(
        MemoryBackend::new(),
        Compression::Gzip
    )));
}

mod conformance_zstd_memory {
    use super::*;
    omnistorage::conformance_tests!(|| Fixture::new(CompressBackend::new(
        MemoryBackend::new(),
        Compression::Zstd
    )));
}

mod conformance_gzip_file {
    use super::*;
    omnistorage::conformance_tests!(|| {
        let (backend, dir) = file_backend();
        Fixture::new(CompressBackend::new(backend, Compression::Gzip)).with_guard(dir)
    });
}

mod conformance_zstd_file {
    use super::*;
    omnistorage::conformance_tests!(|| {
        let (backend, dir) = file_backend();
        Fixture::new(CompressBackend::new(backend, Compression::Zstd).zstd_workers(2))
            .with_guard(dir)
    });
}

/// Extension mode over memory: the suite's paths have no compression extension, so this
/// checks that everything else passes through untouched.
mod conformance_by_extension_memory {
    use super::*;
    omnistorage::conformance_tests!(|| Fixture::new(CompressBackend::by_extension(
        MemoryBackend::new()
    )));
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn compress(c: Compression, level: i32, data: &[u8]) -> Vec<u8> {
    let store = MemoryBackend::new();
    let mut w = c
        .writer_with_level(store.open_writer("x").expect("writer"), level)
        .expect("compressing writer");
    w.write_all(data).expect("write");
    w.finish().expect("finish");
    store.read_to_vec("x").expect("read")
}

fn decompress(c: Compression, data: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    c.reader(io::Cursor::new(data.to_vec()))?
        .read_to_end(&mut out)
        .map_err(Error::from)?;
    Ok(out)
}

fn plain_gzip(data: &[u8]) -> Vec<u8> {
    let store = MemoryBackend::new();
    let opts = gzip::Options::new().size_trailer(false);
    let mut w = gzip::writer_with(store.open_writer("x").expect("writer"), &opts).expect("gzip");
    w.write_all(data).expect("write");
    w.finish().expect("finish");
    store.read_to_vec("x").expect("read")
}

fn plain_zstd(data: &[u8]) -> Vec<u8> {
    let store = MemoryBackend::new();
    let opts = zstd::Options::new().size_trailer(false);
    let mut w = zstd::writer_with(store.open_writer("x").expect("writer"), &opts).expect("zstd");
    w.write_all(data).expect("write");
    w.finish().expect("finish");
    store.read_to_vec("x").expect("read")
}

/// Whether a command-line tool is here. Under `CI=true` a missing tool is a failure, never a
/// silent skip (CI installs `gzip` and `zstd`).
fn have(tool: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("`{tool}` is not installed (CI must install it: apt-get install -y {tool})");
        }
        eprintln!("skipping: `{tool}` is not installed");
    }
    found
}

/// Runs `tool args` with `input` on stdin, returns stdout; panics if it fails.
fn run(tool: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("wait");
    feeder.join().expect("feeder").expect("write to stdin");
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn levels(c: Compression) -> &'static [i32] {
    match c {
        Compression::Gzip => &[0, 1, 6, 9],
        _ => &[-5, 1, 3, 12, 19],
    }
}

// ---------------------------------------------------------------------------------------------
// Round trips through Backend writers and readers

fn roundtrip_on(store: &dyn Backend, c: Compression) {
    let data = datagen::sample(1, 700_000);
    for &level in levels(c) {
        let path = format!("rt/{}-{level}", c.name());
        let mut w = c
            .writer_with_level(store.open_writer(path.as_str()).expect("writer"), level)
            .expect("compressing writer");
        for chunk in data.chunks(10_007) {
            w.write_all(chunk).expect("write");
        }
        let stored = w.finish().expect("finish");
        // The plain writer's `finish` describes the stored (compressed) object.
        assert_eq!(stored, store.info(path.as_str()).expect("info"));
        if level > 0 {
            assert!(
                stored.size < data.len() as u64 / 3,
                "{path}: {}",
                stored.size
            );
        }
        let mut back = Vec::new();
        c.reader(store.open_reader(path.as_str()).expect("reader"))
            .expect("decompressing reader")
            .read_to_end(&mut back)
            .expect("read");
        assert!(back == data, "{path}: content differs");
    }
}

#[test]
fn gzip_roundtrip_levels_memory() {
    roundtrip_on(&MemoryBackend::new(), Compression::Gzip);
}

#[test]
fn gzip_roundtrip_levels_file() {
    let (store, _dir) = file_backend();
    roundtrip_on(&store, Compression::Gzip);
}

#[test]
fn zstd_roundtrip_levels_memory() {
    roundtrip_on(&MemoryBackend::new(), Compression::Zstd);
}

#[test]
fn zstd_roundtrip_levels_file() {
    let (store, _dir) = file_backend();
    roundtrip_on(&store, Compression::Zstd);
}

#[test]
fn zstd_with_workers_roundtrips() {
    let (store, _dir) = file_backend();
    let data = datagen::sample(2, 12 << 20);
    for workers in [1, 2, 4] {
        let opts = zstd::Options::new().workers(workers);
        let mut w = zstd::writer_with(store.open_writer("mt.zst").expect("writer"), &opts)
            .expect("zstd writer");
        w.write_all(&data).expect("write");
        w.finish().expect("finish");
        let mut back = Vec::new();
        zstd::Reader::new(store.open_reader("mt.zst").expect("reader"))
            .expect("reader")
            .read_to_end(&mut back)
            .expect("read");
        assert!(back == data, "workers={workers}: content differs");
    }
}

#[test]
fn empty_and_tiny_inputs_roundtrip() {
    for c in [Compression::Gzip, Compression::Zstd] {
        for data in [&b""[..], b"x", b"\0\0\0"] {
            let packed = compress(c, c.default_level().unwrap_or(0), data);
            assert_eq!(decompress(c, &packed).expect("decompress"), data, "{c}");
        }
    }
}

#[test]
fn compression_none_passes_through() {
    let store = MemoryBackend::new();
    let mut w = Compression::None
        .writer(store.open_writer("plain").expect("writer"))
        .expect("writer");
    w.write_all(b"as is").expect("write");
    w.finish().expect("finish");
    assert_eq!(store.read_to_vec("plain").expect("read"), b"as is");
    assert_eq!(
        decompress(Compression::None, b"as is").expect("read"),
        b"as is"
    );
}

#[test]
fn levels_out_of_range_are_invalid_input() {
    let store = MemoryBackend::new();
    for (c, level) in [
        (Compression::Gzip, 10),
        (Compression::Gzip, -1),
        (Compression::Zstd, 23),
    ] {
        let err = c
            .writer_with_level(store.open_writer("x").expect("writer"), level)
            .expect_err("out of range");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{c} {level}");
    }
    let layered = CompressBackend::new(MemoryBackend::new(), Compression::Gzip).gzip_level(12);
    let err = layered.open_writer("x").expect_err("out of range");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("gzip level 12"), "{err}");
    assert!(layered.inner().is_empty(), "nothing written");
}

#[test]
fn available_algorithms() {
    assert!(Compression::Gzip.is_available());
    assert!(Compression::Zstd.is_available());
    assert!(Compression::None.is_available());
    assert_eq!(Compression::Gzip.to_string(), "gzip");
    assert_eq!(Compression::from_extension(".gz"), Some(Compression::Gzip));
    assert_eq!(Compression::from_extension("GZ"), Some(Compression::Gzip));
    assert_eq!(
        Compression::from_extension(".zstd"),
        Some(Compression::Zstd)
    );
    assert_eq!(Compression::from_extension("tgz"), None);
    assert_eq!(Compression::from_extension(""), None);
    assert_eq!(Compression::from_path(&p("a.tar.zst")), Compression::Zstd);
    assert_eq!(Compression::from_path(&p(".gz")), Compression::None);
    assert_eq!(Compression::from_path(&p("dir.gz/file")), Compression::None);
    assert_eq!(Compression::None.extension(), None);
    assert_eq!(Compression::Gzip.extension(), Some("gz"));
}

// ---------------------------------------------------------------------------------------------
// Writers commit only on finish

#[test]
fn dropped_or_aborted_compressing_writer_commits_nothing() {
    for c in [Compression::Gzip, Compression::Zstd] {
        let store = MemoryBackend::new();
        store.write_all("keep", b"old").expect("write");
        let mut w = c
            .writer(store.open_writer("keep").expect("writer"))
            .expect("w");
        w.write_all(&datagen::sample(3, 300_000)).expect("write");
        w.flush().expect("flush");
        drop(w);
        let mut w = c
            .writer(store.open_writer("new").expect("writer"))
            .expect("w");
        w.write_all(b"some").expect("write");
        w.abort().expect("abort");
        assert_eq!(store.read_to_vec("keep").expect("read"), b"old", "{c}");
        assert!(!store.contains("new").expect("exists"), "{c}");
    }
}

#[test]
fn size_hint_is_of_the_uncompressed_bytes() {
    let store = CompressBackend::new(MemoryBackend::new(), Compression::Gzip);
    let data = datagen::sample(4, 50_000);
    let opts = WriteOptions::new().size_hint(data.len() as u64);
    let mut w = store.writer(&p("ok"), &opts).expect("writer");
    w.write_all(&data).expect("write");
    assert_eq!(w.finish().expect("finish").size, data.len() as u64);

    let opts = WriteOptions::new().size_hint(7);
    let mut w = store.writer(&p("wrong"), &opts).expect("writer");
    w.write_all(&data).expect("write");
    assert_eq!(
        w.finish().expect_err("wrong hint").kind(),
        ErrorKind::InvalidInput
    );
    assert!(!store.contains("wrong").expect("exists"));
}

// ---------------------------------------------------------------------------------------------
// Multi-member gzip, concatenated zstd, and the command-line tools

#[test]
fn gzip_reads_concatenated_members() {
    let a = datagen::sample(5, 100_000);
    let b = datagen::sample(6, 50_000);
    let mut both = compress(Compression::Gzip, 6, &a); // with its trailer member
    both.extend_from_slice(&plain_gzip(&b));
    both.extend_from_slice(&plain_gzip(b""));
    let mut expected = a.clone();
    expected.extend_from_slice(&b);
    assert!(decompress(Compression::Gzip, &both).expect("multi-member") == expected);

    if have("gzip") {
        let mut mixed = run("gzip", &["-6", "-c"], &a);
        mixed.extend_from_slice(&compress(Compression::Gzip, 1, &b));
        mixed.extend_from_slice(&run("gzip", &["-9", "-c"], b"tail"));
        let mut expected = a;
        expected.extend_from_slice(&b);
        expected.extend_from_slice(b"tail");
        assert!(decompress(Compression::Gzip, &mixed).expect("mixed members") == expected);
        // And gzip agrees on what that file holds.
        assert!(run("gzip", &["-d", "-c"], &mixed) == expected);
    }
}

#[test]
fn zstd_reads_concatenated_frames() {
    let a = datagen::sample(7, 80_000);
    let b = datagen::sample(8, 20_000);
    let mut both = compress(Compression::Zstd, 3, &a);
    both.extend_from_slice(&compress(Compression::Zstd, 19, &b));
    let mut expected = a;
    expected.extend_from_slice(&b);
    assert!(decompress(Compression::Zstd, &both).expect("two frames") == expected);
}

#[test]
fn files_from_the_gzip_tool_read_back() {
    if !have("gzip") {
        return;
    }
    let data = datagen::sample(9, 400_000);
    for level in ["-1", "-6", "-9"] {
        let packed = run("gzip", &[level, "-c"], &data);
        assert!(decompress(Compression::Gzip, &packed).expect("gzip tool output") == data);
    }
    // With a file name and time in the header, as `gzip file` writes.
    let dir = TempDir::new().expect("dir");
    let file = dir.path().join("named.txt");
    std::fs::write(&file, &data).expect("write");
    let status = Command::new("gzip").arg(&file).status().expect("gzip");
    assert!(status.success());
    let store = CompressBackend::by_extension(FileBackend::new(dir.path()).expect("backend"));
    assert!(store.read_to_vec("named.txt.gz").expect("read") == data);
    // No size trailer: the listing counts by decompressing.
    assert_eq!(
        store.info("named.txt.gz").expect("info").size,
        data.len() as u64
    );
}

#[test]
fn files_from_the_zstd_tool_read_back() {
    if !have("zstd") {
        return;
    }
    let data = datagen::sample(10, 400_000);
    for args in [
        &["-1", "-c"][..],
        &["-3", "-c"],
        &["-19", "-c"],
        &["-3", "-T2", "-c"],
    ] {
        let packed = run("zstd", args, &data);
        assert!(decompress(Compression::Zstd, &packed).expect("zstd tool output") == data);
    }
    let packed = run("zstd", &["-3", "-c", "--no-check"], &data);
    assert!(decompress(Compression::Zstd, &packed).expect("no checksum") == data);
}

#[test]
fn our_files_decompress_with_the_tools() {
    let data = datagen::sample(11, 600_000);
    if have("gzip") {
        for level in [1, 6, 9] {
            let packed = compress(Compression::Gzip, level, &data);
            assert!(
                run("gzip", &["-d", "-c"], &packed) == data,
                "gzip level {level}"
            );
            run("gzip", &["-t"], &packed);
        }
        assert!(run("gzip", &["-d", "-c"], &plain_gzip(&data)) == data);
    }
    if have("zstd") {
        for level in [1, 3, 19] {
            let packed = compress(Compression::Zstd, level, &data);
            // The size trailer is a skippable frame: `zstd -d` skips it.
            assert!(
                run("zstd", &["-d", "-c"], &packed) == data,
                "zstd level {level}"
            );
            run("zstd", &["-t"], &packed);
        }
        let store = MemoryBackend::new();
        let opts = zstd::Options::new().workers(2);
        let mut w = zstd::writer_with(store.open_writer("mt").expect("w"), &opts).expect("w");
        w.write_all(&data).expect("write");
        w.finish().expect("finish");
        let packed = store.read_to_vec("mt").expect("read");
        assert!(run("zstd", &["-d", "-c"], &packed) == data, "multithreaded");
        assert!(run("zstd", &["-d", "-c"], &plain_zstd(&data)) == data);
    }
}

// ---------------------------------------------------------------------------------------------
// Corrupt and truncated input

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

// ---------------------------------------------------------------------------------------------
// Errors of the reader underneath pass through unchanged

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

// ---------------------------------------------------------------------------------------------
// CompressBackend: sizes, modes, copies

#[test]
fn listings_report_uncompressed_sizes() {
    for c in [Compression::Gzip, Compression::Zstd] {
        let (raw, _dir) = file_backend();
        let store = CompressBackend::new(raw.clone(), c);
        let big = datagen::sample(21, 1 << 20);
        let entry = store.write_all("d/big", &big).expect("write");
        assert_eq!(entry.size, big.len() as u64);
        store.write_all("d/empty", b"").expect("write");
        let listed: Vec<(String, u64)> = store
            .list_all("d")
            .expect("list")
            .into_iter()
            .map(|e| (e.path.to_string(), e.size))
            .collect();
        assert_eq!(listed, [("d/big".into(), 1 << 20), ("d/empty".into(), 0)]);
        assert_eq!(store.stat(&p("d/big")).expect("stat").size, 1 << 20);
        assert!(raw.info("d/big").expect("raw").size < (1 << 20) / 3);
    }
}

#[test]
fn sizes_without_a_trailer_are_counted() {
    let raw = MemoryBackend::new();
    let store = CompressBackend::by_extension(raw.clone());
    let a = datagen::sample(22, 70_000);
    let b = datagen::sample(23, 30_000);
    // Written by another tool (no trailer).
    raw.write_all("plain.gz", plain_gzip(&a)).expect("write");
    raw.write_all("plain.zst", plain_zstd(&a)).expect("write");
    // Two of ours, concatenated: the last trailer describes only the last part.
    for (name, c) in [
        ("cat.gz", Compression::Gzip),
        ("cat.zst", Compression::Zstd),
    ] {
        let mut both = compress(c, 3, &a);
        both.extend_from_slice(&compress(c, 3, &b));
        raw.write_all(name, both).expect("write");
    }
    let sizes: Vec<(String, u64)> = store
        .list_all("")
        .expect("list")
        .into_iter()
        .map(|e| (e.path.to_string(), e.size))
        .collect();
    let both = (a.len() + b.len()) as u64;
    assert_eq!(
        sizes,
        [
            ("cat.gz".into(), both),
            ("cat.zst".into(), both),
            ("plain.gz".into(), a.len() as u64),
            ("plain.zst".into(), a.len() as u64),
        ]
    );
}

#[test]
fn by_extension_compresses_only_named_objects() {
    let raw = MemoryBackend::new();
    let store = CompressBackend::by_extension(raw.clone()).zstd_level(19);
    let data = datagen::sample(24, 100_000);
    for name in ["a.gz", "b.zst", "c.zstd", "d.txt", "e"] {
        store.write_all(name, &data).expect("write");
        assert!(store.read_to_vec(name).expect("read") == data, "{name}");
    }
    let raw_bytes = |n: &str| raw.read_to_vec(n).expect("raw");
    assert_eq!(&raw_bytes("a.gz")[..2], [0x1f, 0x8b]);
    assert_eq!(&raw_bytes("b.zst")[..4], [0x28, 0xb5, 0x2f, 0xfd]);
    assert_eq!(&raw_bytes("c.zstd")[..4], [0x28, 0xb5, 0x2f, 0xfd]);
    assert!(raw_bytes("d.txt") == data);
    assert!(raw_bytes("e") == data);
    for e in store.list_all("").expect("list") {
        assert_eq!(e.size, data.len() as u64, "{}", e.path);
    }
    // Range reads work on both kinds.
    assert_eq!(
        store.read_range("a.gz", 10..20).expect("range"),
        &data[10..20]
    );
    assert_eq!(
        store.read_range("d.txt", 10..20).expect("range"),
        &data[10..20]
    );
    assert!(!store.capabilities().range_read);
}

#[test]
fn copy_and_rename_across_compressions_stream() {
    let raw = MemoryBackend::new();
    let store = CompressBackend::by_extension(raw.clone());
    let data = datagen::sample(25, 80_000);
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_650_000_000);
    let mut w = store
        .writer(
            &p("src.gz"),
            &WriteOptions::new().modified(when).metadata("k", "v"),
        )
        .expect("writer");
    w.write_all(&data).expect("write");
    w.finish().expect("finish");

    // Same compression: forwarded, the stored bytes are identical.
    store.copy(&p("src.gz"), &p("same.gz")).expect("copy");
    assert_eq!(
        raw.read_to_vec("same.gz").expect("raw"),
        raw.read_to_vec("src.gz").expect("raw")
    );
    // Different: recompressed, the content is the same.
    store.copy(&p("src.gz"), &p("other.zst")).expect("copy");
    store.copy(&p("src.gz"), &p("plain.txt")).expect("copy");
    assert!(store.read_to_vec("other.zst").expect("read") == data);
    assert_eq!(
        &raw.read_to_vec("other.zst").expect("raw")[..4],
        [0x28, 0xb5, 0x2f, 0xfd]
    );
    assert!(raw.read_to_vec("plain.txt").expect("raw") == data);
    let copied = store.stat(&p("other.zst")).expect("stat");
    assert_eq!(copied.modified, Some(when));
    assert_eq!(copied.metadata.get("k").map(String::as_str), Some("v"));
    assert_eq!(copied.size, data.len() as u64);

    store
        .rename(&p("plain.txt"), &p("moved.zst"))
        .expect("rename");
    assert!(!store.contains("plain.txt").expect("exists"));
    assert!(store.read_to_vec("moved.zst").expect("read") == data);
    assert_eq!(
        &raw.read_to_vec("moved.zst").expect("raw")[..4],
        [0x28, 0xb5, 0x2f, 0xfd]
    );

    let err = store
        .copy(&p("ghost.gz"), &p("x.zst"))
        .expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(!raw.contains("x.zst").expect("exists"));
}

#[test]
fn copies_between_the_layer_and_its_inner_backend_decompress() {
    let raw = MemoryBackend::new();
    let store = CompressBackend::new(raw.clone(), Compression::Gzip);
    assert_ne!(store.location(), raw.location());
    store.write_all("x", b"plain text").expect("write");
    // Through the helpers: streamed, so the target holds plain bytes.
    store.copy_to("x", &raw, "copied").expect("copy_to");
    assert_eq!(raw.read_to_vec("copied").expect("read"), b"plain text");
    raw.copy_to("copied", &store, "back").expect("copy back");
    assert_eq!(store.read_to_vec("back").expect("read"), b"plain text");
    assert_eq!(&raw.read_to_vec("back").expect("raw")[..2], [0x1f, 0x8b]);
}

#[test]
fn capabilities_follow_the_inner_backend() {
    let store = CompressBackend::new(MemoryBackend::new(), Compression::Zstd);
    let c = store.capabilities();
    let inner = MemoryBackend::new().capabilities();
    assert!(!c.range_read);
    assert!(c.hashes.is_empty());
    assert_eq!(c.server_side_copy, inner.server_side_copy);
    assert_eq!(c.modified_time, inner.modified_time);
    assert_eq!(c.metadata, inner.metadata);
    let plain = CompressBackend::new(MemoryBackend::new(), Compression::None);
    assert_eq!(plain.capabilities(), inner);
}

/// Entries the layer builds agree between `finish`, `list` and `stat`.
#[test]
fn finish_list_and_stat_agree() {
    let (raw, _dir) = file_backend();
    for c in [Compression::Gzip, Compression::Zstd] {
        let store = CompressBackend::new(raw.clone(), c);
        let data = datagen::sample(26, 123_457);
        let finished: Entry = store.write_all("agree", &data).expect("write");
        let listed = store.list_all("agree").expect("list").remove(0);
        let stat = store.stat(&p("agree")).expect("stat");
        assert_eq!(finished.size, listed.size);
        assert_eq!(listed, stat);
    }
}

// ---------------------------------------------------------------------------------------------
// Concurrency: readers and writers of the layer are Send, and work from many threads.

#[test]
fn layer_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<CompressBackend<MemoryBackend>>();
    check::<CompressBackend<Arc<dyn Backend>>>();
    fn send<T: Send>() {}
    send::<gzip::Reader<std::fs::File>>();
    send::<zstd::Reader<std::fs::File>>();
}

#[test]
fn many_threads_share_one_layer() {
    let store = Arc::new(CompressBackend::by_extension(MemoryBackend::new()));
    let total = Arc::new(AtomicU64::new(0));
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let store = Arc::clone(&store);
            let total = Arc::clone(&total);
            s.spawn(move || {
                for i in 0..10u64 {
                    let ext = ["gz", "zst", "txt"][(i % 3) as usize];
                    let path = format!("t{t}/o{i}.{ext}");
                    let data = datagen::sample(t * 100 + i, 5_000 + i as usize);
                    store.write_all(path.as_str(), &data).expect("write");
                    assert!(store.read_to_vec(path.as_str()).expect("read") == data);
                    total.fetch_add(data.len() as u64, Ordering::Relaxed);
                }
            });
        }
    });
    let listed: u64 = store
        .list_all("")
        .expect("list")
        .iter()
        .map(|e| e.size)
        .sum();
    assert_eq!(listed, total.load(Ordering::Relaxed));
}
