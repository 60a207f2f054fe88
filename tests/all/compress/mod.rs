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

#[path = "../../../benches/support/datagen.rs"]
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

mod backend;
mod corrupt;
mod roundtrip;
mod tools;
