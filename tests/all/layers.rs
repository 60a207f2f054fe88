//! A commit that passes through layers: records → compression → fan-out → backends commit
//! with one `finish` at the top, and a failure at any level (a refused record, a failing
//! write below the compressor, a failing commit, a drop at the top) leaves no object anywhere.
//!
//! Three stacks: NDJSON → gzip → S3 (Garage and s3s-fs, when their variables are set),
//! CSV → zstd → file, length-prefixed → fan-out(file, memory).

use std::io::{self, Write};

use omnistorage::conformance::TempDir;
use omnistorage::format::{RecordWriter, lengthprefix};
use omnistorage::multi::{FanOut, MultiWriter};
use omnistorage::{
    Backend, BackendExt, Entry, Error, ErrorKind, FileBackend, ListOptions, MemoryBackend, Path,
    Result, WriteSink, Writer,
};

/// Where a failure is injected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// None: the stack commits everywhere with one `finish`.
    None,
    /// A record the framing refuses (or the record source fails); the caller's `?` drops the
    /// stack.
    Record,
    /// A write below the compressor (or below the fan-out) fails.
    InnerWrite,
    /// A sink's commit fails.
    Commit,
    /// The top writer is dropped without `finish`.
    Drop,
}

const FAULTS: [Fault; 5] = [
    Fault::None,
    Fault::Record,
    Fault::InnerWrite,
    Fault::Commit,
    Fault::Drop,
];

/// A layer over a real backend writer that fails on cue: its writes after `fail_after`
/// bytes (a temporary `Io` error, as a dropped connection gives), or its commit (it aborts the
/// backend writer, then fails).
struct Faulty {
    inner: Writer,
    fail_after: Option<u64>,
    fail_commit: bool,
    written: u64,
}

fn faulty(inner: Writer, fault: Fault, fail_after: u64) -> Writer {
    Writer::new(Faulty {
        inner,
        fail_after: (fault == Fault::InnerWrite).then_some(fail_after),
        fail_commit: fault == Fault::Commit,
        written: 0,
    })
}

fn injected_write_error() -> Error {
    Error::new(ErrorKind::Io, "injected: connection reset").with_temporary(true)
}

impl Write for Faulty {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(limit) = self.fail_after
            && self.written + buf.len() as u64 > limit
        {
            return Err(injected_write_error().into());
        }
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl WriteSink for Faulty {
    fn finish(self: Box<Self>) -> Result<Entry> {
        if self.fail_commit {
            self.inner.abort()?;
            return Err(Error::new(
                ErrorKind::PreconditionFailed,
                "injected: commit refused",
            ));
        }
        self.inner.finish()
    }

    fn abort(self: Box<Self>) -> Result<()> {
        self.inner.abort()
    }
}

/// What an export returns after it dropped its top writer, as a caller's early return would.
fn dropped() -> Error {
    Error::new(ErrorKind::Cancelled, "dropped at the top")
}

/// The error a fault must surface as, at the top of the stack: the very error of the level
/// that failed, kind and temporariness kept through every layer.
fn check_error(fault: Fault, err: &Error) {
    match fault {
        Fault::Record => assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}"),
        Fault::InnerWrite => {
            assert_eq!(err.kind(), ErrorKind::Io, "{err:?}");
            assert!(err.is_temporary(), "temporariness lost: {err:?}");
            assert!(
                err.display_chain().to_string().contains("connection reset"),
                "{}",
                err.display_chain()
            );
        }
        Fault::Commit => {}
        Fault::None | Fault::Drop => unreachable!(),
    }
}

/// Every object under the backend's root (recursively).
fn objects(b: &dyn Backend) -> Vec<String> {
    b.list(&Path::root(), &ListOptions::new())
        .expect("list")
        .map(|e| e.expect("list item").path.as_str().to_owned())
        .collect()
}

/// Every file under `dir` on disk, staged files included.
fn files_on_disk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Nothing anywhere: no object listed, and no pending upload where the backend tracks them.
fn assert_nothing(b: &dyn Backend, what: &str) {
    assert_eq!(objects(b), Vec::<String>::new(), "{what}: objects left");
    if b.capabilities().pending_uploads {
        let mut pending = Vec::new();
        for item in b.pending_uploads(&Path::root()).expect("pending uploads") {
            match item {
                Ok(upload) => pending.push(upload),
                // s3s-fs has no ListMultipartUploads (501): the check runs on Garage.
                Err(e) if e.kind() == omnistorage::ErrorKind::Unsupported => return,
                Err(e) => panic!("{what}: pending uploads: {e}"),
            }
        }
        assert!(
            pending.is_empty(),
            "{what}: pending uploads left: {pending:?}"
        );
    }
}

// --- NDJSON → gzip → S3 -------------------------------------------------------------------

#[cfg(all(feature = "gzip", feature = "s3"))]
mod ndjson_gzip_s3 {
    use super::*;
    use crate::support::{S3Env, require_server};
    use omnistorage::backends::s3::S3Backend;
    use omnistorage::compress::gzip;
    use omnistorage::format::ndjson;
    use std::io::Read;
    use std::time::Duration;

    const MIB: u64 = 1024 * 1024;

    fn backend(env: &S3Env, prefix: &str) -> S3Backend {
        S3Backend::builder(env.bucket.clone())
            .endpoint(env.endpoint.clone())
            .region(env.region.clone())
            .path_style(true)
            .credentials(env.access_key.clone(), env.secret_key.clone())
            .part_size(5 * MIB as usize)
            .retry_base(Duration::from_millis(20))
            .prefix(prefix)
            .build()
            .expect("backend")
    }

    fn cleanup(b: &S3Backend) {
        for p in objects(b) {
            let _ = b.delete(&Path::parse(&p).expect("listed path"));
        }
    }

    /// Records of about 1 KiB (12 MiB of them make a multipart upload of three parts, at
    /// gzip level 0).
    fn record(i: u64) -> Vec<u8> {
        format!(r#"{{"n":{i},"pad":"{}"}}"#, "x".repeat(1000)).into_bytes()
    }

    const RECORDS: u64 = 12 * 1024;

    /// The export a caller writes: records in, one `finish`, `?` on every error.
    fn export(b: &S3Backend, fault: Fault) -> Result<Entry> {
        let s3 = b.open_writer("events.ndjson.gz")?;
        // Level 0 (stored): the test is about commits, not ratios, and the upload must be
        // multipart.
        let gz = gzip::writer(faulty(s3, fault, 7 * MIB), 0)?;
        let mut records = ndjson::Writer::new(gz);
        for i in 0..RECORDS {
            if fault == Fault::Record && i == RECORDS - 10 {
                records.write_record(b"{\"broken\":\n1}")?;
            }
            records.write_record(&record(i))?;
        }
        if fault == Fault::Drop {
            drop(records);
            return Err(dropped());
        }
        records.finish()
    }

    fn run(server: &str) {
        let Some(env) = require_server(server) else {
            return;
        };
        for fault in FAULTS {
            let prefix = format!("layers-{}-{fault:?}-{}", std::process::id(), server);
            let b = backend(&env, &prefix);
            let result = export(&b, fault);
            match fault {
                Fault::None => {
                    let entry = result.expect("the happy path commits");
                    assert!(entry.size > 10 * MIB, "multipart: {}", entry.size);
                    let mut text = String::new();
                    gzip::Reader::new(b.open_reader("events.ndjson.gz").expect("reader"))
                        .read_to_string(&mut text)
                        .expect("gunzip");
                    assert_eq!(text.lines().count() as u64, RECORDS);
                    assert_eq!(objects(&b), ["events.ndjson.gz"]);
                    cleanup(&b);
                }
                _ => {
                    let err = result.expect_err("a fault fails the export");
                    if fault != Fault::Drop {
                        check_error(fault, &err);
                    }
                    assert_nothing(&b, &format!("{server} {fault:?}"));
                    cleanup(&b);
                }
            }
        }
    }

    #[test]
    fn layers_ndjson_gzip_s3_garage() {
        run("garage");
    }

    #[test]
    fn layers_ndjson_gzip_s3_s3s() {
        run("s3s");
    }
}

// --- CSV → zstd → file --------------------------------------------------------------------

#[cfg(all(feature = "csv", feature = "zstd"))]
mod csv_zstd_file {
    use super::*;
    use omnistorage::compress::zstd;
    use omnistorage::format::csv;
    use std::io::Read;

    const ROWS: usize = 50_000;

    fn export(file: &FileBackend, dir: &TempDir, fault: Fault) -> Result<Entry> {
        let inner = file.open_writer("out/cities.csv.zst")?;
        if fault == Fault::Commit {
            // A real commit failure: the directory goes away under the open writer, so the
            // final rename fails.
            std::fs::remove_dir_all(dir.path().join("out")).expect("remove");
        }
        // The failure below the compressor, when asked; the commit failure is the real one.
        let below = if fault == Fault::InnerWrite {
            fault
        } else {
            Fault::None
        };
        let z = zstd::writer(faulty(inner, below, 1000), 3)?;
        let mut rows = csv::Writer::new(z);
        rows.write_row(["id", "name", "population"])?;
        for i in 0..ROWS {
            if fault == Fault::Record && i == ROWS / 2 {
                rows.write_row(["one field short", "!"])?;
            }
            let (id, pop) = (i.to_string(), (i * 7919 % 1_000_003).to_string());
            rows.write_row([id.as_str(), "Ville", pop.as_str()])?;
        }
        if fault == Fault::Drop {
            drop(rows);
            return Err(dropped());
        }
        rows.finish()
    }

    #[test]
    fn layers_csv_zstd_file() {
        for fault in FAULTS {
            let dir = TempDir::new().expect("tempdir");
            let file = FileBackend::new(dir.path()).expect("file backend");
            let result = export(&file, &dir, fault);
            if fault == Fault::None {
                result.expect("the happy path commits");
                let mut text = String::new();
                zstd::Reader::new(file.open_reader("out/cities.csv.zst").expect("reader"))
                    .expect("decoder")
                    .read_to_string(&mut text)
                    .expect("unzstd");
                assert_eq!(text.lines().count(), ROWS + 1);
                assert_eq!(objects(&file), ["out/cities.csv.zst"]);
                continue;
            }
            let err = result.expect_err("a fault fails the export");
            if fault != Fault::Drop {
                check_error(fault, &err);
            }
            assert_nothing(&file, &format!("{fault:?}"));
            assert_eq!(files_on_disk(dir.path()), Vec::<std::path::PathBuf>::new());
        }
    }
}

// --- length-prefixed → fan-out(file, memory) ----------------------------------------------

fn lp_record(i: u32) -> Result<Vec<u8>> {
    Ok(format!("record {i} ").repeat(40).into_bytes())
}

fn lp_export(file: &FileBackend, mem: &MemoryBackend, fault: Fault) -> Result<Entry> {
    const RECORDS: u32 = 5000;
    let to_file = file.open_writer("copies/data.lp")?;
    let to_mem = mem.open_writer("data.lp")?;
    let undo_file = file.clone();
    let fan = MultiWriter::new(
        FanOut::All,
        vec![
            faulty(
                to_file,
                if fault == Fault::InnerWrite {
                    fault
                } else {
                    Fault::None
                },
                100_000,
            ),
            // The memory sink commits last: its failure comes after the file committed, and
            // the file's undo hook takes that commit back.
            faulty(
                to_mem,
                if fault == Fault::Commit {
                    fault
                } else {
                    Fault::None
                },
                0,
            ),
        ],
    )?
    .with_undo(0, move |entry| undo_file.delete(&entry.path));
    let mut records = lengthprefix::Writer::new(fan);
    let source = (0..RECORDS).map(|i| {
        if fault == Fault::Record && i == RECORDS / 2 {
            Err(Error::new(
                ErrorKind::InvalidInput,
                "injected: a record that cannot be made",
            ))
        } else {
            lp_record(i)
        }
    });
    for record in source {
        records.write_record(&record?)?;
    }
    if fault == Fault::Drop {
        drop(records);
        return Err(dropped());
    }
    records.finish()
}

#[test]
fn layers_lengthprefix_fan_out_file_memory() {
    for fault in FAULTS {
        let dir = TempDir::new().expect("tempdir");
        let file = FileBackend::new(dir.path()).expect("file backend");
        let mem = MemoryBackend::new();
        let result = lp_export(&file, &mem, fault);
        if fault == Fault::None {
            let entry = result.expect("the happy path commits");
            assert_eq!(
                entry.path.as_str(),
                "copies/data.lp",
                "the first sink's entry"
            );
            let on_file = file.read_to_vec("copies/data.lp").expect("file copy");
            assert_eq!(mem.read_to_vec("data.lp").expect("memory copy"), on_file);
            let first = on_file.get(4..).and_then(|r| r.get(..r.len().min(9)));
            assert_eq!(first, Some(&b"record 0 "[..]));
            continue;
        }
        let err = result.expect_err("a fault fails the export");
        match fault {
            Fault::Commit => {
                assert_eq!(err.kind(), ErrorKind::PreconditionFailed, "{err:?}");
                assert!(!err.to_string().contains("stay committed"), "{err}");
            }
            Fault::Drop => {}
            _ => check_error(fault, &err),
        }
        assert_nothing(&file, &format!("file {fault:?}"));
        assert_nothing(&mem, &format!("memory {fault:?}"));
        assert_eq!(files_on_disk(dir.path()), Vec::<std::path::PathBuf>::new());
    }
}
