//! `compress_roundtrip`: bytes written through a `CompressBackend` read back the same, whole
//! and by range; listings and `stat` give their uncompressed size; what is stored decodes on
//! its own; and the stored object cut short reads as `Corrupt` (or whole, when only the size
//! trailer was cut), never as a clean shorter object.
//!
//! Input: byte 0 picks the mode (gzip, zstd, by extension with a `.gz`, `.zst` or plain
//! name), byte 1 the level, byte 2 the size of the pieces written, bytes 3–4 a range to read,
//! byte 5 where to cut the stored object; the rest is the payload.

use std::io::{Read, Write};

use omnistorage::compress::{CompressBackend, Compression};
use omnistorage::{Backend, BackendExt, ErrorKind, MemoryBackend, Path};

/// Checks the property on one input; panics if it fails.
pub fn check(data: &[u8]) {
    let mut head = [0u8; 6];
    let n = data.len().min(head.len());
    head[..n].copy_from_slice(&data[..n]);
    let payload = &data[n..];
    let [mode, level, piece, from, len, cut] = head;

    let raw = MemoryBackend::new();
    let (store, name) = match mode % 5 {
        0 => (
            CompressBackend::new(raw.clone(), Compression::Gzip),
            "object",
        ),
        1 => (
            CompressBackend::new(raw.clone(), Compression::Zstd),
            "object",
        ),
        2 => (CompressBackend::by_extension(raw.clone()), "dir/object.gz"),
        3 => (
            CompressBackend::by_extension(raw.clone()),
            "dir/object.ZSTD",
        ),
        _ => (CompressBackend::by_extension(raw.clone()), "dir/object.txt"),
    };
    // Levels kept low: high zstd levels allocate large tables, which only slows the fuzzer.
    let store = store
        .gzip_level(u32::from(level % 10))
        .zstd_level(i32::from(level % 13) - 3);
    let path = Path::parse(name).expect("path");
    let compression = store.compression_for(&path);

    // Write in pieces.
    let mut w = store.open_writer(name).expect("writer");
    for chunk in payload.chunks(1 + usize::from(piece)) {
        w.write_all(chunk).expect("write");
    }
    let entry = w.finish().expect("finish");
    let size = payload.len() as u64;
    assert_eq!(entry.size, size, "finish reports the uncompressed size");

    // Read back, whole and by range.
    assert_eq!(store.read_to_vec(name).expect("read"), payload);
    let start = usize::from(from).min(payload.len());
    let end = (start + usize::from(len)).min(payload.len());
    let range = store
        .read_range(name, start as u64..start as u64 + u64::from(len))
        .expect("range read");
    assert_eq!(range, &payload[start..end], "range {start}..+{len}");

    // Listings and stat give the uncompressed size.
    let listed = store.list_all("").expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].size, size, "listed size");
    assert_eq!(store.stat(&path).expect("stat").size, size, "stat size");

    // What is stored decodes on its own.
    let stored = raw.read_to_vec(name).expect("raw read");
    let mut decoded = Vec::new();
    compression
        .reader(std::io::Cursor::new(stored.clone()))
        .expect("reader")
        .read_to_end(&mut decoded)
        .expect("stored bytes decode");
    assert_eq!(decoded, payload);
    if compression == Compression::None {
        return;
    }

    // Cut short: Corrupt, or whole if only the trailer was cut; never a shorter clean read.
    let at = usize::from(cut) * stored.len() / 256;
    raw.write_all(name, &stored[..at]).expect("cut");
    match store.read_to_vec(name) {
        Ok(back) => assert_eq!(
            back,
            payload,
            "cut at {at}/{}: a clean short read",
            stored.len()
        ),
        Err(e) => assert_eq!(e.kind(), ErrorKind::Corrupt, "cut at {at}: {e}"),
    }
    match store.list_all("") {
        Ok(listed) => assert_eq!(listed[0].size, size, "cut at {at}: listed size"),
        Err(e) => assert_eq!(e.kind(), ErrorKind::Corrupt, "cut at {at}: list: {e}"),
    }
}
