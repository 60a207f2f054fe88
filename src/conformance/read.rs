//! Reading: missing objects, sizes, tiny reads, the root, and byte ranges.

use std::io::{self, Read};

use super::support::*;
use crate::{Backend, BackendExt, ErrorKind, Path, ReadOptions, WriteOptions};

/// Reading a missing object is `NotFound` (a reader of a stream waits for its writer).
pub fn missing_object_is_not_found(b: &dyn Backend) -> Outcome {
    need(caps(b).read, "Capabilities::read")?;
    need(
        !streams(b),
        "stored objects, not live streams (Capabilities::streams)",
    )?;
    expect_kind(
        b.open_reader("nope").map(|_| ()),
        ErrorKind::NotFound,
        "missing",
    );
    expect_kind(
        b.open_reader("no/such/dir/x").map(|_| ()),
        ErrorKind::NotFound,
        "missing dir",
    );
    Ok(())
}

/// Reading a missing object, as an `io::Error`, is `io::ErrorKind::NotFound` (a reader of a
/// stream waits for its writer).
pub fn missing_object_is_io_not_found(b: &dyn Backend) -> Outcome {
    need(caps(b).read, "Capabilities::read")?;
    need(
        !streams(b),
        "stored objects, not live streams (Capabilities::streams)",
    )?;
    let err = b.open_reader("nope").expect_err("missing object");
    let io: io::Error = err.into();
    assert_eq!(io.kind(), io::ErrorKind::NotFound);
    Ok(())
}

/// A reader that knows its size reports the true one.
pub fn reader_reports_its_size(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    put(b, "sized", &[7u8; 1000]);
    let r = b.open_reader("sized").expect("reader");
    if let Some(size) = r.size() {
        assert_eq!(size, 1000);
    }
    let r = b
        .reader(&p("sized"), &ReadOptions::new().range(10..20))
        .expect("range reader");
    if let Some(size) = r.size() {
        assert_eq!(size, 10);
    }
    Ok(())
}

/// Reading one byte at a time yields the whole object.
pub fn reader_works_with_tiny_reads(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    let data = pattern(5000, 3);
    put(b, "tiny-reads", &data);
    let mut r = b.open_reader("tiny-reads").expect("reader");
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match r.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => out.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read: {e}"),
        }
    }
    assert_eq!(out, data);
    Ok(())
}

/// The root cannot be written, deleted or read as an object.
pub fn root_is_not_an_object(b: &dyn Backend) -> Outcome {
    if caps(b).write {
        expect_kind(
            b.writer(&Path::root(), &WriteOptions::new()).map(|_| ()),
            ErrorKind::InvalidPath,
            "writer(root)",
        );
    }
    if caps(b).read {
        assert!(b.reader(&Path::root(), &ReadOptions::new()).is_err());
    }
    if caps(b).delete {
        expect_kind(
            b.delete(&Path::root()),
            ErrorKind::InvalidPath,
            "delete(root)",
        );
    }
    assert!(!b.exists(&Path::root()).expect("exists(root)"));
    Ok(())
}

fn range(b: &dyn Backend, r: impl std::ops::RangeBounds<u64>) -> Vec<u8> {
    b.read_range("r", r).expect("range read")
}

fn range_fixture(b: &dyn Backend) -> Result<Vec<u8>, Skipped> {
    need_rw(b)?;
    let data: Vec<u8> = (0..100u8).collect();
    put(b, "r", &data);
    Ok(data)
}

/// A range in the middle reads exactly those bytes.
pub fn range_read_middle(b: &dyn Backend) -> Outcome {
    let data = range_fixture(b)?;
    assert_eq!(range(b, 10..20), &data[10..20]);
    assert_eq!(range(b, 0..1), &data[..1]);
    assert_eq!(range(b, 99..100), &data[99..]);
    assert_eq!(range(b, 5..5), b"");
    Ok(())
}

/// `offset..` reads to the end.
pub fn range_read_open_ended(b: &dyn Backend) -> Outcome {
    let data = range_fixture(b)?;
    assert_eq!(range(b, 90..), &data[90..]);
    assert_eq!(range(b, 0..), data);
    Ok(())
}

/// A range that runs past the end is cut at the end.
pub fn range_read_past_end_is_cut(b: &dyn Backend) -> Outcome {
    let data = range_fixture(b)?;
    assert_eq!(range(b, 95..200), &data[95..]);
    assert_eq!(range(b, 0..u64::MAX), data);
    Ok(())
}

/// A range starting at or past the end reads nothing (not an error).
pub fn range_read_starting_past_end_is_empty(b: &dyn Backend) -> Outcome {
    range_fixture(b)?;
    assert_eq!(range(b, 100..), b"");
    assert_eq!(range(b, 150..160), b"");
    Ok(())
}
