//! Multi-member gzip, concatenated zstd, and the `gzip` and `zstd` command-line tools.

use super::*;

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
