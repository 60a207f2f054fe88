//! Writing: round trips, overwrites, `CreateNew`, and the atomic commit (nothing visible
//! before `finish`, nothing left by `abort` or a dropped writer).

use std::io::Write;

use super::support::*;
use crate::{Backend, BackendExt, Error, ErrorKind, WriteMode, WriteOptions};

/// An empty object reads back empty and lists with size 0.
pub fn roundtrip_empty(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    roundtrip(b, "empty", b"");
    if caps(b).list {
        let listed = b.list_all("empty").expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].size, 0);
    }
    Ok(())
}

/// A one-byte object reads back.
pub fn roundtrip_one_byte(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    roundtrip(b, "one", b"x");
    Ok(())
}

/// Several MiB written in many small, uneven pieces read back exactly.
pub fn roundtrip_multi_mib_in_small_pieces(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    let data = pattern(3 * 1024 * 1024 + 17, 7);
    let mut w = b.open_writer("big/object.bin").expect("writer");
    let mut rest = &data[..];
    let mut step = 1;
    while !rest.is_empty() {
        let n = step.min(rest.len());
        w.write_all(&rest[..n]).expect("write piece");
        rest = &rest[n..];
        step = step * 3 % 4099 + 1;
    }
    let entry = w.finish().expect("finish");
    assert_eq!(entry.size, data.len() as u64);
    let back = get(b, "big/object.bin");
    assert_eq!(back.len(), data.len());
    assert!(back == data, "content differs");
    Ok(())
}

/// Every byte value survives.
pub fn roundtrip_binary_all_byte_values(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    roundtrip(b, "bytes.bin", &data);
    Ok(())
}

/// Writing an existing path replaces its content.
pub fn overwrite_replaces_content(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    put(b, "k", b"first");
    roundtrip(b, "k", b"second version");
    Ok(())
}

/// Overwriting with shorter content leaves no tail of the old content.
pub fn overwrite_with_shorter_content(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    put(b, "k", b"a much longer first version");
    roundtrip(b, "k", b"short");
    Ok(())
}

/// `CreateNew` on a free path writes the object.
pub fn create_new_on_missing_path(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    let opts = WriteOptions::new().mode(WriteMode::CreateNew);
    let mut w = b.writer(&p("fresh"), &opts).expect("writer");
    w.write_all(b"new").expect("write");
    w.finish().expect("finish");
    assert_eq!(get(b, "fresh"), b"new");
    Ok(())
}

/// `CreateNew` on an existing path fails with `AlreadyExists` and keeps the old object.
pub fn create_new_on_existing_path_fails(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    put(b, "taken", b"old");
    let opts = WriteOptions::new().mode(WriteMode::CreateNew);
    let result = b.writer(&p("taken"), &opts).and_then(|mut w| {
        w.write_all(b"new").map_err(Error::from)?;
        w.finish()
    });
    expect_kind(result, ErrorKind::AlreadyExists, "CreateNew on existing");
    assert_eq!(get(b, "taken"), b"old");
    Ok(())
}

/// Two `CreateNew` writers racing for one path: the first to finish wins, the second gets
/// `AlreadyExists` (where `create_new` is atomic). On a backend of streams, which has one
/// writer per path at a time, the second is refused when it opens.
pub fn create_new_race_has_one_winner(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    need(caps(b).create_new, "Capabilities::create_new")?;
    let opts = WriteOptions::new().mode(WriteMode::CreateNew);
    let mut first = b.writer(&p("race"), &opts).expect("first writer");
    if streams(b) {
        expect_kind(
            b.writer(&p("race"), &opts).map(|_| ()),
            ErrorKind::AlreadyExists,
            "second writer of a stream being written",
        );
        first.write_all(b"first").expect("write");
        first.finish().expect("first finish");
        assert_eq!(get(b, "race"), b"first");
        return Ok(());
    }
    let mut second = b.writer(&p("race"), &opts).expect("second writer");
    first.write_all(b"first").expect("write");
    second.write_all(b"second").expect("write");
    first.finish().expect("first finish");
    expect_kind(
        second.finish(),
        ErrorKind::AlreadyExists,
        "second CreateNew",
    );
    assert_eq!(get(b, "race"), b"first");
    Ok(())
}

/// `abort` leaves no object and nothing listed.
pub fn abort_leaves_nothing(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    let mut w = b.open_writer("aborted/x").expect("writer");
    w.write_all(&pattern(100_000, 1)).expect("write");
    w.abort().expect("abort");
    assert!(!b.contains("aborted/x").expect("exists"));
    if caps(b).list {
        assert!(names(b, "").is_empty(), "{:?}", names(b, ""));
    }
    Ok(())
}

/// Dropping a writer without `finish` leaves no object and nothing listed.
pub fn drop_without_finish_leaves_nothing(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    {
        let mut w = b.open_writer("dropped/x").expect("writer");
        w.write_all(&pattern(100_000, 2)).expect("write");
        w.flush().expect("flush");
    }
    assert!(!b.contains("dropped/x").expect("exists"));
    if caps(b).list {
        assert!(names(b, "").is_empty(), "{:?}", names(b, ""));
    }
    Ok(())
}

/// An aborted overwrite keeps the old object.
pub fn abort_keeps_old_object(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    put(b, "keep", b"old content");
    let mut w = b.open_writer("keep").expect("writer");
    w.write_all(b"new content that must not appear")
        .expect("write");
    w.abort().expect("abort");
    assert_eq!(get(b, "keep"), b"old content");
    Ok(())
}

/// A dropped overwrite keeps the old object.
pub fn drop_keeps_old_object(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    put(b, "keep", b"old content");
    {
        let mut w = b.open_writer("keep").expect("writer");
        w.write_all(b"new").expect("write");
    }
    assert_eq!(get(b, "keep"), b"old content");
    Ok(())
}

/// While a writer is open (even flushed), readers see the old state; after `finish`, the new.
/// (A reader of a stream being written would wait for its end, so with streams only `exists`
/// and `list` are checked before `finish`.)
pub fn nothing_visible_before_finish(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    put(b, "old", b"v1");
    let mut fresh = b.open_writer("fresh").expect("writer");
    let mut over = b.open_writer("old").expect("writer");
    fresh.write_all(b"data").expect("write");
    over.write_all(b"v2").expect("write");
    fresh.flush().expect("flush");
    over.flush().expect("flush");
    assert!(!b.contains("fresh").expect("exists"));
    if streams(b) {
        if caps(b).list {
            assert!(
                !names(b, "").iter().any(|n| n == "fresh"),
                "unfinished stream listed"
            );
        }
    } else {
        expect_kind(
            b.read_to_vec("fresh"),
            ErrorKind::NotFound,
            "unfinished object",
        );
        assert_eq!(get(b, "old"), b"v1");
        if caps(b).list {
            assert_eq!(names(b, ""), ["old"]);
        }
    }
    fresh.finish().expect("finish");
    over.finish().expect("finish");
    assert_eq!(get(b, "fresh"), b"data");
    assert_eq!(get(b, "old"), b"v2");
    Ok(())
}

/// `finish` returns the committed entry: its path and size.
pub fn finish_returns_entry(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    let mut w = b.open_writer("f/entry").expect("writer");
    w.write_all(b"12345").expect("write");
    let entry = w.finish().expect("finish");
    assert_eq!(entry.path, p("f/entry"));
    assert_eq!(entry.size, 5);
    assert!(!entry.is_dir);
    Ok(())
}
