//! Hashes: every kind against the published vectors (RFC 1321 for MD5, FIPS 180 for SHA-1
//! and SHA-256, RFC 3720 for CRC-32C), `Hasher` fed in pieces against one go, and the hashing
//! reader and writer, alone and stacked under other layers.

use std::io::{Read, Write};

use omnistorage::format::{RecordWriter, ndjson};
use omnistorage::{
    BackendExt, Fields, Hash, HashKind, HashKinds, Hasher, HashingReader, HashingWriter,
    MemoryBackend,
};

/// `(kind, input, hex digest)`.
fn vectors() -> Vec<(HashKind, Vec<u8>, &'static str)> {
    let abc56 = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".to_vec();
    let million_a = vec![b'a'; 1_000_000];
    let t = |kind, input: &[u8], hex| (kind, input.to_vec(), hex);
    vec![
        // RFC 1321, appendix A.5.
        t(HashKind::Md5, b"", "d41d8cd98f00b204e9800998ecf8427e"),
        t(HashKind::Md5, b"a", "0cc175b9c0f1b6a831c399e269772661"),
        t(HashKind::Md5, b"abc", "900150983cd24fb0d6963f7d28e17f72"),
        t(
            HashKind::Md5,
            b"message digest",
            "f96b697d7cb7938d525a2f31aaf161d0",
        ),
        t(
            HashKind::Md5,
            b"abcdefghijklmnopqrstuvwxyz",
            "c3fcd3d76192e4007dfb496cca67e13b",
        ),
        t(
            HashKind::Md5,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "d174ab98d277d9f5a5611c2c9f419d9f",
        ),
        t(
            HashKind::Md5,
            "1234567890".repeat(8).as_bytes(),
            "57edf4a22be3c955ac49da2e2107b67a",
        ),
        // FIPS 180 examples (SHA-1: FIPS 180-1 appendices A, B, C).
        t(
            HashKind::Sha1,
            b"",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        ),
        t(
            HashKind::Sha1,
            b"abc",
            "a9993e364706816aba3e25717850c26c9cd0d89d",
        ),
        t(
            HashKind::Sha1,
            &abc56,
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
        ),
        t(
            HashKind::Sha1,
            &million_a,
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
        ),
        // SHA-256: FIPS 180-2 appendix B.
        t(
            HashKind::Sha256,
            b"",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        t(
            HashKind::Sha256,
            b"abc",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        t(
            HashKind::Sha256,
            &abc56,
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        ),
        t(
            HashKind::Sha256,
            &million_a,
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
        ),
        // CRC-32C: the check value, and RFC 3720 appendix B.4 (as a big-endian number).
        t(HashKind::Crc32c, b"", "00000000"),
        t(HashKind::Crc32c, b"123456789", "e3069283"),
        t(HashKind::Crc32c, &[0u8; 32], "8a9136aa"),
        t(HashKind::Crc32c, &[0xffu8; 32], "62a8ab43"),
        t(HashKind::Crc32c, &(0u8..32).collect::<Vec<_>>(), "46dd794e"),
        t(
            HashKind::Crc32c,
            &(0u8..32).rev().collect::<Vec<_>>(),
            "113fdb5c",
        ),
    ]
}

fn one(kind: HashKind) -> HashKinds {
    HashKinds::NONE.with(kind)
}

fn hash_once(kinds: HashKinds, data: &[u8]) -> Vec<Hash> {
    let mut h = Hasher::new(kinds).expect("available");
    h.update(data);
    h.finish()
}

/// Pseudo-random bytes, so that no block looks like another.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn every_kind_matches_its_published_vectors() {
    let available = Hasher::available();
    let mut checked = HashKinds::NONE;
    for (kind, input, hex) in vectors() {
        if !available.contains(kind) {
            continue;
        }
        let got = hash_once(one(kind), &input);
        assert_eq!(
            got,
            [Hash::from_hex(kind, hex).unwrap()],
            "{kind} of {} bytes",
            input.len()
        );
        checked = checked.with(kind);
    }
    assert_eq!(
        checked, available,
        "a vector for every kind this build computes"
    );
}

#[cfg(all(feature = "md5", feature = "sha1", feature = "sha256"))]
#[test]
fn every_kind_is_available_with_its_features() {
    assert_eq!(Hasher::available(), HashKind::ALL.into_iter().collect());
}

#[test]
fn pieces_agree_with_one_go_for_every_kind_at_once() {
    let kinds = Hasher::available();
    let data = noise(300_000);
    let whole = hash_once(kinds, &data);
    assert_eq!(whole.len(), kinds.iter().count());
    // Piece sizes around the block sizes (64 bytes for all three digests) and the CRC's
    // 8-byte steps, and some large ones.
    for sizes in [
        vec![1],
        vec![3, 5, 7],
        vec![63, 64, 65],
        vec![8, 9, 4096],
        vec![100_000, 1],
        vec![0, 127, 129, 65_536],
    ] {
        let mut h = Hasher::new(kinds).unwrap();
        let mut rest = &data[..];
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes[i % sizes.len()].min(rest.len());
            let (piece, tail) = rest.split_at(n);
            h.update(piece);
            rest = tail;
            i += 1;
        }
        assert_eq!(h.finish(), whole, "pieces of {sizes:?}");
    }
    // And each kind alone gives what it gives among the others.
    for hash in &whole {
        assert_eq!(hash_once(one(hash.kind()), &data), [*hash]);
    }
}

#[test]
fn hashing_writer_adds_the_hashes_of_what_it_stored_to_the_entry() {
    let store = MemoryBackend::new();
    let kinds = Hasher::available();
    let data = noise(200_000);
    let mut w = HashingWriter::new(store.open_writer("blob").unwrap(), kinds).unwrap();
    for piece in data.chunks(7000) {
        w.write_all(piece).unwrap();
    }
    assert!(
        !store.contains("blob").unwrap(),
        "nothing visible before finish"
    );
    let entry = w.finish().unwrap();
    assert_eq!(entry.size, data.len() as u64);
    assert!(entry.filled.contains(Fields::HASHES));
    let expected = hash_once(kinds, &store.read_to_vec("blob").unwrap());
    for hash in expected {
        assert_eq!(entry.hash(hash.kind()), Some(hash), "{}", hash.kind());
    }
}

#[test]
fn hashing_writer_stacks_under_records_and_over_compression() {
    let store = MemoryBackend::new();
    let kinds = Hasher::available();

    // Records → hashing → backend: the hashes are those of the framed, stored bytes.
    let hashing = HashingWriter::new(store.open_writer("a.ndjson").unwrap(), kinds).unwrap();
    let mut records = ndjson::Writer::new(hashing);
    for i in 0..1000 {
        records
            .write_record(format!("{{\"i\":{i}}}").as_bytes())
            .unwrap();
    }
    let entry = records.finish().unwrap();
    let stored = store.read_to_vec("a.ndjson").unwrap();
    assert_eq!(entry.hashes, hash_once(kinds, &stored));

    // Dropping the records writer aborts the hashing layer and the backend writer.
    let hashing = HashingWriter::new(store.open_writer("b.ndjson").unwrap(), kinds).unwrap();
    let mut records = ndjson::Writer::new(hashing);
    records.write_record(b"1").unwrap();
    records.flush().unwrap();
    drop(records);
    assert!(!store.contains("b.ndjson").unwrap());
}

#[cfg(feature = "gzip")]
#[test]
fn hashing_writer_under_compression_hashes_the_compressed_object() {
    use omnistorage::compress::gzip;
    let store = MemoryBackend::new();
    let kinds = Hasher::available();
    let hashing = HashingWriter::new(store.open_writer("c.gz").unwrap(), kinds).unwrap();
    let mut w = gzip::writer(hashing.into_writer(), 6).unwrap();
    w.write_all(&b"squeeze me ".repeat(10_000)).unwrap();
    let entry = w.finish().unwrap();
    let stored = store.read_to_vec("c.gz").unwrap();
    assert_eq!(entry.size, stored.len() as u64);
    assert_eq!(entry.hashes, hash_once(kinds, &stored));
}

#[test]
fn hashing_writer_abort_leaves_nothing() {
    let store = MemoryBackend::new();
    store.write_all("d", b"old").unwrap();
    let mut w = HashingWriter::new(store.open_writer("d").unwrap(), Hasher::available()).unwrap();
    w.write_all(b"new").unwrap();
    w.abort().unwrap();
    assert_eq!(store.read_to_vec("d").unwrap(), b"old");
}

#[test]
fn hashing_reader_hashes_what_it_yields() {
    let store = MemoryBackend::new();
    let data = noise(100_000);
    store.write_all("e", &data).unwrap();
    let kinds = Hasher::available();
    let mut r = HashingReader::new(store.open_reader("e").unwrap(), kinds).unwrap();
    let mut half = vec![0u8; 50_000];
    r.read_exact(&mut half).unwrap();
    assert_eq!(r.hashes(), hash_once(kinds, &data[..50_000]), "so far");
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).unwrap();
    let (_, hashes) = r.into_parts();
    assert_eq!(hashes, hash_once(kinds, &data));
}
