//! Round trips through Backend writers and readers, and writers that commit only on finish.

use super::*;

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
