//! `CompressBackend`: sizes, modes, copies, capabilities, and use from many threads.

use super::*;

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
