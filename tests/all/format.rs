//! Tests of the format layer: NDJSON, length-prefixed and CSV records, through the file and
//! memory backends, and the properties the fuzz targets check.

use std::io::{self, Read, Write};

use omnistorage::conformance::TempDir;
use omnistorage::format::{
    DEFAULT_MAX_RECORD_SIZE, RecordReader, RecordWriter, lengthprefix, ndjson,
};
use omnistorage::{Backend, BackendExt, Error, ErrorKind, FileBackend, MemoryBackend};

use crate::props::lengthprefix as lengthprefix_prop;
use crate::props::ndjson_read as ndjson_read_prop;

/// Runs `test` on a fresh file backend and a fresh memory backend.
fn on_each_backend(test: impl Fn(&dyn Backend)) {
    let dir = TempDir::new().unwrap();
    let file = FileBackend::new(dir.path()).unwrap();
    test(&file);
    test(&MemoryBackend::new());
}

/// A reader that returns at most `step` bytes per read, then fails with `error` if given.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    step: usize,
    error: Option<Error>,
}

impl Trickle {
    fn new(data: impl Into<Vec<u8>>, step: usize) -> Trickle {
        Trickle {
            data: data.into(),
            pos: 0,
            step,
            error: None,
        }
    }

    fn then_fail(mut self, error: Error) -> Trickle {
        self.error = Some(error);
        self
    }
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len() - self.pos);
        if n == 0
            && let Some(e) = self.error.take()
        {
            return Err(e.into());
        }
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A writer that fails every write with `kind`.
#[derive(Debug)]
struct Failing(io::ErrorKind);

impl Write for Failing {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::new(self.0, "refused"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn ndjson_records(data: impl Into<Vec<u8>>, step: usize) -> Result<Vec<Vec<u8>>, Error> {
    ndjson::Reader::new(Trickle::new(data, step))
        .records()
        .collect()
}

#[test]
fn public_types_are_send_and_sync_where_their_streams_are() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}
    // Over a backend's streams (which are Send): Send.
    send::<ndjson::Reader<omnistorage::Reader>>();
    send::<ndjson::Writer<omnistorage::Writer>>();
    send::<lengthprefix::Reader<omnistorage::Reader>>();
    send::<lengthprefix::Writer<omnistorage::Writer>>();
    send::<omnistorage::format::Records<ndjson::Reader<omnistorage::Reader>>>();
    // Over Send + Sync streams: Send + Sync.
    send_sync::<ndjson::Reader<&[u8]>>();
    send_sync::<ndjson::Writer<Vec<u8>>>();
    send_sync::<lengthprefix::Reader<&[u8]>>();
    send_sync::<lengthprefix::Writer<Vec<u8>>>();
    #[cfg(feature = "serde")]
    send_sync::<ndjson::Values<&[u8], String>>();
    #[cfg(feature = "csv")]
    {
        use omnistorage::format::csv;
        send::<csv::Reader<omnistorage::Reader>>();
        send::<csv::Writer<omnistorage::Writer>>();
        send_sync::<csv::Reader<&[u8]>>();
        send_sync::<csv::Writer<Vec<u8>>>();
        send_sync::<csv::Row>();
        send_sync::<csv::Rows<&[u8]>>();
        send_sync::<csv::Values<&[u8], String>>();
    }
}

// ---------------------------------------------------------------------------------------
// NDJSON

#[test]
fn ndjson_round_trip_through_backends() {
    on_each_backend(|b| {
        let records: Vec<Vec<u8>> = (0..1000)
            .map(|i| format!("{{\"i\":{i},\"pad\":\"{}\"}}", "x".repeat(i % 300)).into_bytes())
            .collect();
        let mut w = ndjson::Writer::new(b.open_writer("r/records.ndjson").unwrap());
        for r in &records {
            w.write_record(r).unwrap();
        }
        let size: usize = records.iter().map(|r| r.len() + 1).sum();
        assert_eq!(w.finish().unwrap().size, size as u64, "{b:?}");
        assert_eq!(b.info("r/records.ndjson").unwrap().size, size as u64);

        // read_record, one buffer.
        let mut r = ndjson::Reader::new(b.open_reader("r/records.ndjson").unwrap());
        let mut record = Vec::new();
        for (i, expected) in records.iter().enumerate() {
            assert!(r.read_record(&mut record).unwrap());
            assert_eq!(&record, expected);
            assert_eq!(r.line(), i as u64 + 1);
        }
        assert!(!r.read_record(&mut record).unwrap());
        assert!(
            !r.read_record(&mut record).unwrap(),
            "the end stays the end"
        );

        // The iterator.
        let back: Vec<Vec<u8>> = ndjson::Reader::new(b.open_reader("r/records.ndjson").unwrap())
            .records()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(back, records);
    });
}

#[test]
fn ndjson_writer_commits_only_on_finish() {
    on_each_backend(|b| {
        let mut w = ndjson::Writer::new(b.open_writer("a.ndjson").unwrap());
        w.write_record(b"1").unwrap();
        w.flush().unwrap();
        assert!(!b.contains("a.ndjson").unwrap(), "flush does not commit");
        drop(w);
        assert!(!b.contains("a.ndjson").unwrap(), "drop discards");

        b.write_all("a.ndjson", b"old\n").unwrap();
        let mut w = ndjson::Writer::new(b.open_writer("a.ndjson").unwrap());
        w.write_record(b"new").unwrap();
        drop(w);
        assert_eq!(
            b.read_to_vec("a.ndjson").unwrap(),
            b"old\n",
            "the old object stays"
        );
    });
}

#[test]
fn ndjson_writer_over_plain_writers() {
    let mut w = ndjson::Writer::new(Vec::new());
    w.write_record(b"a").unwrap();
    assert_eq!(w.get_ref().len(), 0, "buffered");
    w.flush().unwrap();
    assert_eq!(w.get_ref(), b"a\n");
    w.write_record(b"b").unwrap();
    assert_eq!(w.into_inner().unwrap(), b"a\nb\n");

    // Through &mut and Box, as trait objects.
    let mut w = ndjson::Writer::new(Vec::new());
    {
        let mut dynamic: Box<dyn RecordWriter + '_> = Box::new(&mut w);
        dynamic.write_record(b"c").unwrap();
    }
    assert_eq!(w.into_inner().unwrap(), b"c\n");
}

#[test]
fn ndjson_reads_crlf_and_mixed_line_ends() {
    for step in [1, 2, 3, usize::MAX] {
        let got = ndjson_records(&b"a\r\nb\nc\r\n\"d\\r\"\r\n"[..], step).unwrap();
        assert_eq!(got, [&b"a"[..], b"b", b"c", b"\"d\\r\""], "step {step}");
        // Only one \r is a line end; a \r inside a record stays.
        let got = ndjson_records(&b"a\r\r\nb\rc\n"[..], step).unwrap();
        assert_eq!(got, [&b"a\r"[..], b"b\rc"], "step {step}");
    }
}

#[test]
fn ndjson_reads_a_last_line_without_newline() {
    for step in [1, 4, usize::MAX] {
        assert_eq!(ndjson_records(&b"a\nb"[..], step).unwrap(), [b"a", b"b"]);
        assert_eq!(ndjson_records(&b"a\nb\r"[..], step).unwrap(), [b"a", b"b"]);
        assert_eq!(ndjson_records(&b"only"[..], step).unwrap(), [b"only"]);
        assert!(ndjson_records(&b""[..], step).unwrap().is_empty());
    }
}

#[test]
fn ndjson_skips_blank_lines_and_counts_them() {
    let data = b"\n\na\n\r\n\nb\n\r";
    for step in [1, 2, usize::MAX] {
        let mut r = ndjson::Reader::new(Trickle::new(&data[..], step));
        let mut record = Vec::new();
        assert!(r.read_record(&mut record).unwrap());
        assert_eq!((record.as_slice(), r.line()), (&b"a"[..], 3));
        assert!(r.read_record(&mut record).unwrap());
        assert_eq!((record.as_slice(), r.line()), (&b"b"[..], 6));
        assert!(!r.read_record(&mut record).unwrap());
    }
    // Only blank lines: no records.
    assert!(ndjson_records(&b"\n\r\n\n"[..], 1).unwrap().is_empty());
    // A line of spaces is not blank.
    assert_eq!(ndjson_records(&b"  \n"[..], 1).unwrap(), [b"  "]);
}

#[test]
fn ndjson_max_record_size_names_the_line() {
    for step in [1, 3, usize::MAX] {
        let read = |data: &[u8], max: usize| {
            ndjson::Reader::new(Trickle::new(data, step))
                .max_record_size(max)
                .records()
                .collect::<Vec<_>>()
        };
        // Exactly the maximum, with LF, CRLF, and at the end.
        let got = read(b"abcd\nabcd\r\nabcd", 4);
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|r| r.as_ref().unwrap() == b"abcd"));

        // One byte more, after blank lines: the error names line 4, then the reader ends.
        let got = read(b"ab\n\n\r\nabcde\nab\n", 4);
        assert_eq!(got.len(), 2, "step {step}: {got:?}");
        assert_eq!(got[0].as_ref().unwrap(), b"ab");
        let err = got[1].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt);
        assert_eq!(
            err.message(),
            Some("line 4: record longer than the maximum of 4 bytes")
        );

        // A last line without a newline, too long; and a \r that does not save it.
        for data in [&b"a\nabcde"[..], b"a\nabcd\r\r\n"] {
            let got = read(data, 4);
            let err = got[1].as_ref().unwrap_err();
            assert!(err.to_string().contains("line 2:"), "{err}");
        }
    }
}

#[test]
fn ndjson_default_max_record_size_is_16_mib() {
    assert_eq!(DEFAULT_MAX_RECORD_SIZE, 16 * 1024 * 1024);
    let mut data = vec![b'x'; DEFAULT_MAX_RECORD_SIZE];
    data.push(b'\n');
    data.extend_from_slice(&data.clone());
    data.insert(DEFAULT_MAX_RECORD_SIZE + 1, b'y'); // the second record is one byte too long

    let mut r = ndjson::Reader::new(&data[..]);
    let mut record = Vec::new();
    assert!(r.read_record(&mut record).unwrap());
    assert_eq!(record.len(), DEFAULT_MAX_RECORD_SIZE);
    let err = r.read_record(&mut record).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(err.to_string().contains("line 2:"), "{err}");
    assert!(
        record.capacity() <= DEFAULT_MAX_RECORD_SIZE + 1,
        "memory is bounded by the maximum"
    );
}

#[test]
fn ndjson_refuses_a_record_with_a_newline() {
    on_each_backend(|b| {
        let mut w = ndjson::Writer::new(b.open_writer("n.ndjson").unwrap());
        w.write_record(b"good").unwrap();
        for bad in [
            &b"two\nlines"[..],
            b"\n",
            b"trailing\n",
            b"ends with cr\r",
            b"",
        ] {
            let err = w.write_record(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}: {err}");
        }
        // The refusals wrote nothing and did not break the writer.
        w.write_record(b"also good").unwrap();
        w.finish().unwrap();
        assert_eq!(b.read_to_vec("n.ndjson").unwrap(), b"good\nalso good\n");
    });
    let err = ndjson::Writer::new(Vec::new())
        .write_record(b"a\nb")
        .unwrap_err();
    assert!(err.to_string().contains("newline"), "{err}");
}

#[test]
fn ndjson_reader_error_passes_through() {
    let failing = Trickle::new(&b"a\nb\npartial"[..], 3)
        .then_fail(Error::new(ErrorKind::TimedOut, "the server went quiet").with_path("remote/x"));
    let mut r = ndjson::Reader::new(failing);
    let mut record = Vec::new();
    assert!(r.read_record(&mut record).unwrap());
    assert!(r.read_record(&mut record).unwrap());
    let err = r.read_record(&mut record).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert!(err.is_temporary());
    assert_eq!(err.path(), Some("remote/x"));
    assert_eq!(err.message(), Some("the server went quiet"));
    assert!(
        !r.read_record(&mut record).unwrap(),
        "the error ends the reader"
    );

    // A plain io::Error keeps its kind.
    struct Denied;
    impl Read for Denied {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::PermissionDenied, "no"))
        }
    }
    let err = ndjson::Reader::new(Denied)
        .read_record(&mut record)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert_eq!(err.io_kind(), io::ErrorKind::PermissionDenied);

    // From a backend: a missing object is NotFound when opened.
    let err = MemoryBackend::new()
        .open_reader("missing.ndjson")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[test]
fn ndjson_writer_error_passes_through() {
    let mut w = ndjson::Writer::new(Failing(io::ErrorKind::StorageFull));
    w.write_record(b"buffered").unwrap();
    let err = w.flush().unwrap_err();
    assert_eq!(err.io_kind(), io::ErrorKind::StorageFull);

    let mut w = ndjson::Writer::new(Failing(io::ErrorKind::PermissionDenied));
    w.write_record(b"x").unwrap();
    let err = w.into_inner().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);

    // A large record goes straight through, and so does its error.
    let mut w = ndjson::Writer::new(Failing(io::ErrorKind::BrokenPipe));
    let err = w.write_record(&vec![b'x'; 100_000]).unwrap_err();
    assert_eq!(err.io_kind(), io::ErrorKind::BrokenPipe);
}

#[test]
fn ndjson_records_straddling_the_read_buffer() {
    // Records around the reader's 64 KiB buffer, read whole and in odd-sized pieces.
    let mut data = Vec::new();
    let mut expected = Vec::new();
    for (i, len) in [1, 65_535, 65_536, 65_537, 10, 131_072, 3, 200_000]
        .into_iter()
        .enumerate()
    {
        let record = vec![b'a' + i as u8; len];
        data.extend_from_slice(&record);
        data.extend_from_slice(if i % 2 == 0 { b"\n" } else { b"\r\n" });
        expected.push(record);
    }
    for step in [usize::MAX, 65_536, 65_535, 7_777] {
        assert_eq!(
            ndjson_records(data.clone(), step).unwrap(),
            expected,
            "{step}"
        );
    }
}

#[test]
fn readers_with_tiny_buffers() {
    // A buffer of 0 is taken as 1 byte; records far longer than the buffer are fine.
    for capacity in [0, 1, 3] {
        let mut r = ndjson::Reader::with_capacity(capacity, &b"first\r\n\nsecond"[..]);
        let mut record = Vec::new();
        assert!(r.read_record(&mut record).unwrap());
        assert_eq!(record, b"first");
        assert!(r.read_record(&mut record).unwrap());
        assert_eq!((record.as_slice(), r.line()), (&b"second"[..], 3));
        assert!(!r.read_record(&mut record).unwrap());

        let stream = frame(&[b"a longer record", b""]);
        let back: Vec<Vec<u8>> = lengthprefix::Reader::with_capacity(capacity, &stream[..])
            .records()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(back, [b"a longer record".to_vec(), Vec::new()]);
    }
}

#[test]
fn ndjson_read_property_on_chosen_inputs() {
    // byte 0: read size, byte 1: max record size (63+ is the default), then the text.
    let cases: &[&[u8]] = &[
        b"",
        b"\0",
        b"\0\xff",
        b"\0\xffa\nb",
        b"\x01\xff\r\n\r\n\r",
        b"\x01\x02ab\r\nabc\r\n",
        b"\x02\x02ab\r\r\nab\n",
        b"\x03\x00\n\n\nx",
        b"\x00\x05\n\r\nhello\r\nhello!\n",
        b"\x05\xffno newline at all \r",
        b"\x3f\x01a\nb\nc\r\nd\rx\n",
    ];
    for case in cases {
        ndjson_read_prop::check(case);
    }
    // Some pseudo-random ones.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..2000 {
        let mut case = Vec::new();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = (x % 200) as usize;
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            case.push(b"ab\r\n\n{}"[(x % 7) as usize]);
        }
        if case.len() >= 2 {
            case[0] = (x >> 8) as u8;
            case[1] = (x >> 16) as u8 % 70;
        }
        ndjson_read_prop::check(&case);
    }
}

#[cfg(feature = "serde")]
mod ndjson_typed {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Event {
        id: u64,
        kind: String,
        tags: Vec<String>,
        at: Position,
        note: Option<String>,
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Position {
        lat: f64,
        lon: f64,
    }

    fn events(n: u64) -> Vec<Event> {
        (0..n)
            .map(|id| Event {
                id,
                kind: ["click", "view", "line\nbreak \"quoted\""][id as usize % 3].to_owned(),
                tags: (0..id % 4).map(|t| format!("t{t}")).collect(),
                at: Position {
                    lat: id as f64 / 7.0,
                    lon: -(id as f64) * 1.5,
                },
                note: (id % 2 == 0).then(|| "é, ü, 😀".to_owned()),
            })
            .collect()
    }

    #[test]
    fn ndjson_typed_round_trip_through_backends() {
        on_each_backend(|b| {
            let events = events(500);
            let mut w = ndjson::Writer::new(b.open_writer("typed.ndjson").unwrap());
            for e in &events {
                w.write_value(e).unwrap();
            }
            w.finish().unwrap();

            let text = b.read_to_string("typed.ndjson").unwrap();
            assert_eq!(text.lines().count(), 500, "one value a line");

            let back: Vec<Event> = ndjson::Reader::new(b.open_reader("typed.ndjson").unwrap())
                .values()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(back, events);

            // And one at a time, with a small buffer of reads.
            let mut r = ndjson::Reader::new(Trickle::new(text, 5));
            for e in &events {
                assert_eq!(r.read_value::<Event>().unwrap().as_ref(), Some(e));
            }
            assert!(r.read_value::<Event>().unwrap().is_none());
        });
    }

    #[test]
    fn ndjson_parse_error_names_the_line_and_reading_goes_on() {
        let data = "{\"lat\":1,\"lon\":2}\n\n{\"lat\":1}\r\n{\"lat\":1,\"lon\":true}\nnot json\n{\"lat\":3,\"lon\":4}";
        for step in [1, 9, usize::MAX] {
            let got: Vec<Result<Position, Error>> = ndjson::Reader::new(Trickle::new(data, step))
                .values()
                .collect();
            assert_eq!(got.len(), 5);
            assert_eq!(got[0].as_ref().unwrap(), &Position { lat: 1.0, lon: 2.0 });
            let messages: Vec<_> = got[1..4]
                .iter()
                .map(|r| {
                    let e = r.as_ref().unwrap_err();
                    assert_eq!(e.kind(), ErrorKind::Corrupt);
                    e.message().unwrap().to_owned()
                })
                .collect();
            assert_eq!(
                messages,
                [
                    "line 3, column 9: missing field `lon`",
                    "line 4, column 19: invalid type: boolean `true`, expected f64",
                    "line 5, column 2: expected ident",
                ]
            );
            assert_eq!(got[4].as_ref().unwrap(), &Position { lat: 3.0, lon: 4.0 });
        }
    }

    #[test]
    fn ndjson_invalid_utf8_names_line_and_column() {
        let data = b"\"ok\"\n\"caf\xe9\"\n\"\xc3\xa9\"\n";
        let got: Vec<Result<String, Error>> = ndjson::Reader::new(&data[..]).values().collect();
        assert_eq!(got[0].as_ref().unwrap(), "ok");
        let err = got[1].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt);
        assert_eq!(err.message(), Some("line 2, column 5: invalid UTF-8"));
        assert_eq!(got[2].as_ref().unwrap(), "é");
    }

    #[test]
    fn ndjson_unserializable_value_is_refused_whole() {
        use std::collections::BTreeMap;
        let mut w = ndjson::Writer::new(Vec::new());
        w.write_value(&1).unwrap();
        let bad: BTreeMap<(u8, u8), u8> = BTreeMap::from([((1, 2), 3)]);
        let err = w.write_value(&bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        w.write_value(&[2, 3]).unwrap();
        assert_eq!(w.into_inner().unwrap(), b"1\n[2,3]\n");
    }
}

// ---------------------------------------------------------------------------------------
// Length-prefixed

fn frame(records: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        out.extend_from_slice(&(r.len() as u32).to_be_bytes());
        out.extend_from_slice(r);
    }
    out
}

#[test]
fn lengthprefix_round_trip_through_backends() {
    on_each_backend(|b| {
        let big = (0..300_000u32)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<u8>>();
        let records: Vec<&[u8]> = vec![
            b"",
            b"\n\r\n\0\xff",
            &big,
            b"x",
            &big[..65_536],
            &big[..65_535],
            b"",
        ];
        let mut w = lengthprefix::Writer::new(b.open_writer("lp/data.bin").unwrap());
        for r in &records {
            w.write_record(r).unwrap();
        }
        let entry = w.finish().unwrap();
        assert_eq!(b.read_to_vec("lp/data.bin").unwrap(), frame(&records));
        assert_eq!(entry.size, frame(&records).len() as u64);

        let mut r = lengthprefix::Reader::new(b.open_reader("lp/data.bin").unwrap());
        let mut record = Vec::new();
        for expected in &records {
            assert!(r.read_record(&mut record).unwrap());
            assert_eq!(&record, expected);
        }
        assert!(!r.read_record(&mut record).unwrap());
        assert_eq!(r.offset(), entry.size);

        let back: Vec<Vec<u8>> = lengthprefix::Reader::new(b.open_reader("lp/data.bin").unwrap())
            .records()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(back, records);
    });
}

#[test]
fn lengthprefix_writer_commits_only_on_finish() {
    on_each_backend(|b| {
        let mut w = lengthprefix::Writer::new(b.open_writer("x.bin").unwrap());
        w.write_record(b"data").unwrap();
        w.flush().unwrap();
        assert!(!b.contains("x.bin").unwrap());
        drop(w);
        assert!(!b.contains("x.bin").unwrap());
    });
}

#[test]
fn lengthprefix_truncated_stream_at_every_offset_is_corrupt_with_the_offset() {
    let records: [&[u8]; 4] = [b"first", b"", b"\0\0\0\x05", b"last record"];
    let stream = frame(&records);
    // Where each frame starts, and the stream's end.
    let mut starts = vec![0usize];
    for r in &records {
        starts.push(starts.last().unwrap() + 4 + r.len());
    }
    for cut in 0..=stream.len() {
        for step in [1, 2, usize::MAX] {
            let mut r = lengthprefix::Reader::new(Trickle::new(&stream[..cut], step));
            let mut record = Vec::new();
            let mut n = 0;
            let result = loop {
                match r.read_record(&mut record) {
                    Ok(true) => {
                        assert_eq!(record, records[n], "cut {cut}");
                        n += 1;
                    }
                    Ok(false) => break Ok(()),
                    Err(e) => break Err(e),
                }
            };
            match starts.iter().position(|&s| s == cut) {
                Some(whole) => {
                    assert!(result.is_ok(), "cut {cut} is between frames: {result:?}");
                    assert_eq!(n, whole);
                }
                None => {
                    let err = result.unwrap_err();
                    assert_eq!(err.kind(), ErrorKind::Corrupt);
                    let frame_start = starts[n];
                    assert!(frame_start < cut);
                    assert!(
                        err.to_string()
                            .contains(&format!("truncated frame at byte offset {frame_start}:")),
                        "cut {cut}: {err}"
                    );
                    assert!(!r.read_record(&mut record).unwrap(), "the error ends it");
                }
            }
        }
    }
    // Inside a large record too (the path that reads straight into the record).
    let big = vec![7u8; 200_000];
    let stream = frame(&[b"a", &big]);
    for cut in [10, 65_540, 100_000, stream.len() - 1] {
        let err = lengthprefix::Reader::new(&stream[..cut])
            .records()
            .find_map(Result::err)
            .unwrap();
        assert_eq!(
            err.message(),
            Some(&*format!(
                "truncated frame at byte offset 5: its record is 200000 bytes, the stream ends \
                 after {}",
                cut - 9
            ))
        );
    }
}

#[test]
fn lengthprefix_max_record_size() {
    let stream = frame(&[b"1234", b"12345"]);
    let mut r = lengthprefix::Reader::new(&stream[..]).max_record_size(4);
    let mut record = Vec::new();
    assert!(r.read_record(&mut record).unwrap());
    let err = r.read_record(&mut record).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert_eq!(
        err.message(),
        Some("frame at byte offset 8: a record of 5 bytes is over the maximum of 4 bytes")
    );

    // A length of 4 GiB - 1 on a few bytes of stream: refused by the default maximum before
    // anything is allocated for it...
    let mut hostile = u32::MAX.to_be_bytes().to_vec();
    hostile.extend_from_slice(b"tiny");
    let err = lengthprefix::Reader::new(&hostile[..])
        .read_record(&mut record)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("4294967295 bytes is over the maximum of 16777216")
    );
    // ...and with no maximum at all, memory follows the bytes that arrive: this does not
    // allocate 4 GiB, it finds the stream short.
    let err = lengthprefix::Reader::new(&hostile[..])
        .max_record_size(usize::MAX)
        .read_record(&mut record)
        .unwrap_err();
    assert!(err.to_string().contains("the stream ends after 4"), "{err}");
    assert!(record.capacity() < 1 << 20);
}

#[test]
fn lengthprefix_reader_and_writer_errors_pass_through() {
    let failing = Trickle::new(frame(&[b"ok", b"cut"]), 3)
        .then_fail(Error::new(ErrorKind::NotFound, "deleted under us"));
    let mut r = lengthprefix::Reader::new(failing);
    let mut record = Vec::new();
    assert!(r.read_record(&mut record).unwrap());
    assert!(r.read_record(&mut record).unwrap());
    let err = r.read_record(&mut record).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "not turned into Corrupt: {err}"
    );
    assert!(!r.read_record(&mut record).unwrap());

    let mut w = lengthprefix::Writer::new(Failing(io::ErrorKind::StorageFull));
    w.write_record(b"x").unwrap();
    assert_eq!(w.flush().unwrap_err().io_kind(), io::ErrorKind::StorageFull);
}

#[test]
fn lengthprefix_property_on_chosen_inputs() {
    let cases: &[&[u8]] = &[
        b"",
        b"\0",
        b"\0\xff",
        b"\0\xff\0\0\0\x01a",
        b"\x01\xff\0\0\0\x01a\0\0\0",
        b"\x02\x00\0\0\0\x00\0\0\0\x01x",
        b"\x03\x03\xff\xff\xff\xffabc",
        b"\0\xff\xff\xff\xff\xff",
        b"\x10\x10a\xffb\xff\xff",
    ];
    for case in cases {
        lengthprefix_prop::check(case);
    }
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..2000 {
        let mut case = Vec::new();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = (x % 64) as usize;
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            case.push([0, 0, 0, 1, 2, 3, 0xff, b'a'][(x % 8) as usize]);
        }
        lengthprefix_prop::check(&case);
    }
}

// ---------------------------------------------------------------------------------------
// CSV

#[cfg(feature = "csv")]
mod csv_rows {
    use super::*;
    use omnistorage::format::csv;

    fn texts(row: &csv::Row) -> Vec<&str> {
        row.iter().collect()
    }

    const TRICKY: [&str; 9] = [
        "plain",
        "comma, inside",
        "\"quoted\" words",
        "new\nline",
        "crlf\r\nline",
        "",
        "  spaces kept  ",
        "unicode: é 😀",
        "trailing quote\"",
    ];

    #[test]
    fn csv_rows_round_trip_through_backends_with_quoting() {
        on_each_backend(|b| {
            let mut w = csv::Writer::new(b.open_writer("t/rows.csv").unwrap());
            w.write_row(["a", "b", "c"]).unwrap();
            for chunk in TRICKY.chunks(3) {
                w.write_row(chunk).unwrap();
            }
            w.write_row(TRICKY[..3].iter().map(|s| s.as_bytes()))
                .unwrap();
            w.finish().unwrap();

            let mut r = csv::Reader::new(b.open_reader("t/rows.csv").unwrap());
            assert_eq!(texts(r.headers().unwrap().unwrap()), ["a", "b", "c"]);
            let rows: Vec<csv::Row> = r.rows().collect::<Result<_, _>>().unwrap();
            assert_eq!(rows.len(), 4);
            for (row, chunk) in rows.iter().zip(TRICKY.chunks(3)) {
                assert_eq!(texts(row), chunk);
            }
            assert_eq!(texts(&rows[3]), &TRICKY[..3]);
            // Lines count the newlines inside quoted fields: the row with "new\nline" starts
            // on line 3 and spans two lines (the \r\n one is on the next row).
            let lines: Vec<_> = rows.iter().map(|r| r.line().unwrap()).collect();
            assert_eq!(lines, [2, 3, 6, 7]);
        });
    }

    #[test]
    fn csv_writer_commits_only_on_finish() {
        on_each_backend(|b| {
            let mut w = csv::Writer::new(b.open_writer("c.csv").unwrap());
            w.write_row(["x"]).unwrap();
            w.flush().unwrap();
            assert!(!b.contains("c.csv").unwrap());
            drop(w);
            assert!(!b.contains("c.csv").unwrap());
        });
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Sale {
        id: u32,
        item: String,
        price: f64,
        paid: bool,
        note: Option<String>,
    }

    fn sales() -> Vec<Sale> {
        (0..200)
            .map(|id| Sale {
                id,
                item: TRICKY[id as usize % TRICKY.len()].to_owned(),
                price: f64::from(id) * 0.25,
                paid: id % 3 == 0,
                note: (id % 2 == 1).then(|| format!("note {id}")),
            })
            .collect()
    }

    #[test]
    fn csv_typed_rows_round_trip_through_backends() {
        on_each_backend(|b| {
            let mut w = csv::Writer::new(b.open_writer("sales.csv").unwrap());
            for s in sales() {
                w.write_value(&s).unwrap();
            }
            w.finish().unwrap();
            let text = b.read_to_string("sales.csv").unwrap();
            assert!(
                text.starts_with("id,item,price,paid,note\n0,plain,0.0,true,\n"),
                "{text}"
            );

            let back: Vec<Sale> = csv::Reader::new(b.open_reader("sales.csv").unwrap())
                .values()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(back, sales());

            // Matched by name: columns in another order read the same.
            let reordered = "note,paid,price,item,id\n,true,1.5,pen,7\n";
            let mut r = csv::Reader::new(reordered.as_bytes());
            assert_eq!(
                r.read_value::<Sale>().unwrap(),
                Some(Sale {
                    id: 7,
                    item: "pen".into(),
                    price: 1.5,
                    paid: true,
                    note: None
                })
            );
            assert_eq!(r.read_value::<Sale>().unwrap(), None);
        });
    }

    #[test]
    fn csv_typed_row_error_names_line_and_field() {
        let data = "id,item,price,paid,note\n1,a,1.0,true,\n2,b,cheap,true,\n\n3,c,1.0,maybe,x\n4,d,2.0,false,\n";
        let got: Vec<Result<Sale, Error>> = csv::Reader::new(data.as_bytes()).values().collect();
        assert_eq!(got.len(), 4);
        let e1 = got[1].as_ref().unwrap_err();
        assert_eq!(e1.kind(), ErrorKind::Corrupt);
        assert_eq!(e1.message(), Some("line 3, field 3: invalid float literal"));
        let e2 = got[2].as_ref().unwrap_err();
        // The blank line before the row counts as its start (the csv crate's reckoning).
        assert!(
            e2.message().unwrap().starts_with("line 4, field 4: "),
            "{e2}"
        );
        assert_eq!(got[3].as_ref().unwrap().id, 4, "reading went on");
    }

    #[test]
    fn csv_unequal_rows() {
        let data = "a,b\n1,2\n3\n4,5,6\n7,8\n";
        let got: Vec<Result<csv::Row, Error>> = csv::Reader::new(data.as_bytes()).rows().collect();
        assert_eq!(got.len(), 4);
        assert_eq!(
            got[1].as_ref().unwrap_err().message(),
            Some("line 3: a row of 1 fields; the rows before had 2")
        );
        assert_eq!(got[2].as_ref().unwrap_err().kind(), ErrorKind::Corrupt);
        assert_eq!(texts(got[3].as_ref().unwrap()), ["7", "8"]);

        let flexible = csv::Options::new().flexible(true);
        let rows: Vec<csv::Row> = csv::Reader::with_options(data.as_bytes(), &flexible)
            .rows()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows.iter().map(csv::Row::len).collect::<Vec<_>>(),
            [2, 1, 3, 2]
        );

        // Writing: refused whole, and the writer goes on.
        let mut w = csv::Writer::new(Vec::new());
        w.write_row(["a", "b"]).unwrap();
        let err = w.write_row(["only"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(
            err.message(),
            Some("a row of 1 fields; the first row had 2")
        );
        w.write_row(["c", "d"]).unwrap();
        assert_eq!(w.into_inner().unwrap(), b"a,b\nc,d\n");
    }

    #[test]
    fn csv_options_delimiter_and_no_headers() {
        let opts = csv::Options::new().delimiter(b'\t').has_headers(false);
        let mut w = csv::Writer::with_options(Vec::new(), &opts);
        w.write_row(["a\tb", "c"]).unwrap();
        w.write_value(&(1, "two")).unwrap();
        let data = w.into_inner().unwrap();
        assert_eq!(data, b"\"a\tb\"\tc\n1\ttwo\n");
        let mut r = csv::Reader::with_options(&data[..], &opts);
        assert!(r.headers().unwrap().is_none());
        let mut row = csv::Row::new();
        assert!(r.read_row(&mut row).unwrap());
        assert_eq!(texts(&row), ["a\tb", "c"]);
        assert_eq!(
            r.read_value::<(u8, String)>().unwrap(),
            Some((1, "two".into()))
        );
    }

    #[test]
    fn csv_invalid_utf8_names_the_line() {
        let data = b"h\nok\nbad \xff\nfine\n";
        let got: Vec<_> = csv::Reader::new(&data[..]).rows().collect();
        let err = got[1].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt);
        assert_eq!(
            err.message(),
            Some("line 3, field 1: invalid UTF-8 after 4 valid bytes")
        );
        assert_eq!(texts(got[2].as_ref().unwrap()), ["fine"]);
    }

    #[test]
    fn csv_max_record_size() {
        // Exactly: a row of 6 bytes stored ("12345\n") passes a maximum of 6, not of 5.
        let data = "h\n12345\n";
        assert!(
            csv::Reader::new(data.as_bytes())
                .max_record_size(6)
                .rows()
                .all(|r| r.is_ok())
        );
        let got: Vec<_> = csv::Reader::new(data.as_bytes())
            .max_record_size(5)
            .rows()
            .collect();
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].as_ref().unwrap_err().message(),
            Some("line 2: row longer than the maximum of 5 bytes")
        );

        // An unclosed quote over a long stream: stopped near the maximum, not at the end.
        struct Endless(u64);
        impl Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                buf.fill(b'x');
                if self.0 == 0 {
                    buf[0] = b'"';
                }
                self.0 += buf.len() as u64;
                assert!(self.0 < 1 << 30, "read far past the maximum");
                Ok(buf.len())
            }
        }
        let mut r = csv::Reader::with_options(Endless(0), &csv::Options::new().has_headers(false))
            .max_record_size(1 << 20);
        let err = r.read_row(&mut csv::Row::new()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt);
        assert_eq!(
            err.message(),
            Some("line 1: row longer than the maximum of 1048576 bytes")
        );
        assert!(
            !r.read_row(&mut csv::Row::new()).unwrap(),
            "it ends the reader"
        );
    }

    #[test]
    fn csv_unserializable_row_poisons_the_writer() {
        #[derive(serde::Serialize)]
        struct Nested {
            id: u32,
            list: Vec<u32>,
        }
        on_each_backend(|b| {
            let mut w = csv::Writer::new(b.open_writer("bad.csv").unwrap());
            let err = w
                .write_value(&Nested {
                    id: 1,
                    list: vec![1, 2],
                })
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
            assert!(w.write_row(["x"]).is_err(), "poisoned");
            assert!(w.finish().is_err());
            assert!(!b.contains("bad.csv").unwrap(), "nothing committed");
        });
    }

    #[test]
    fn csv_reader_and_writer_errors_pass_through() {
        let failing = Trickle::new(&b"h\n1\n2"[..], 2)
            .then_fail(Error::new(ErrorKind::PermissionDenied, "revoked"));
        let got: Vec<_> = csv::Reader::new(failing).rows().collect();
        assert_eq!(got.len(), 2);
        assert_eq!(texts(got[0].as_ref().unwrap()), ["1"]);
        let err = got[1].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        assert_eq!(err.message(), Some("revoked"));

        let mut w = csv::Writer::new(Failing(io::ErrorKind::StorageFull));
        w.write_row(["x"]).unwrap();
        assert_eq!(w.flush().unwrap_err().io_kind(), io::ErrorKind::StorageFull);
    }
}

/// The record writers commit through any `Finish` layer, not only an `omnistorage::Writer`:
/// `finish` commits every layer below, `abort` and a drop abort them all.
mod over_finish_layers {
    use super::*;
    use omnistorage::multi::{FanOut, MultiWriter};
    use omnistorage::{HashKind, HashKinds, HashingWriter};

    fn fan(mem: &MemoryBackend, name: &str) -> MultiWriter {
        let writers = vec![
            mem.open_writer(format!("{name}.a")).unwrap(),
            mem.open_writer(format!("{name}.b")).unwrap(),
        ];
        MultiWriter::new(FanOut::All, writers).unwrap()
    }

    #[test]
    fn record_writers_finish_abort_and_drop_through_a_fan_out() {
        let mem = MemoryBackend::new();

        let mut w = ndjson::Writer::new(fan(&mem, "n"));
        w.write_record(b"1").unwrap();
        let entry = w.finish().unwrap();
        assert_eq!(entry.path.as_str(), "n.a");
        assert_eq!(mem.read_to_vec("n.b").unwrap(), b"1\n");

        let mut w = lengthprefix::Writer::new(fan(&mem, "l"));
        w.write_record(b"1").unwrap();
        w.flush().unwrap(); // the bytes reached both sinks, still uncommitted
        w.abort().unwrap();
        assert!(!mem.contains("l.a").unwrap() && !mem.contains("l.b").unwrap());

        let mut w = ndjson::Writer::new(fan(&mem, "d"));
        w.write_record(b"1").unwrap();
        w.flush().unwrap();
        drop(w);
        assert!(!mem.contains("d.a").unwrap() && !mem.contains("d.b").unwrap());
    }

    #[test]
    fn record_writers_finish_through_a_hashing_layer() {
        let mem = MemoryBackend::new();
        let kinds = HashKinds::NONE.with(HashKind::Crc32c);
        let hashing = HashingWriter::new(mem.open_writer("h").unwrap(), kinds).unwrap();
        let mut w = lengthprefix::Writer::new(hashing);
        w.write_record(b"abc").unwrap();
        let entry = w.finish().unwrap();
        let stored = mem.read_to_vec("h").unwrap();
        let mut h = omnistorage::Hasher::new(kinds).unwrap();
        h.update(&stored);
        assert_eq!(entry.hashes, h.finish());
    }

    #[cfg(feature = "csv")]
    #[test]
    fn csv_writer_finish_abort_and_drop_through_a_fan_out() {
        use omnistorage::format::csv;
        let mem = MemoryBackend::new();

        let mut w = csv::Writer::new(fan(&mem, "c"));
        w.write_row(["a", "b"]).unwrap();
        w.finish().unwrap();
        assert_eq!(mem.read_to_vec("c.b").unwrap(), b"a,b\n");

        let mut w = csv::Writer::new(fan(&mem, "x"));
        w.write_row(["a", "b"]).unwrap();
        w.flush().unwrap();
        w.abort().unwrap();
        assert!(!mem.contains("x.a").unwrap() && !mem.contains("x.b").unwrap());

        let mut w = csv::Writer::new(fan(&mem, "y"));
        w.write_row(["a", "b"]).unwrap();
        drop(w);
        assert!(!mem.contains("y.a").unwrap() && !mem.contains("y.b").unwrap());

        // A poisoned writer (a typed row that failed part-way) aborts every layer below.
        #[derive(serde::Serialize)]
        struct Nested {
            id: u32,
            list: Vec<u32>,
        }
        let mut w = csv::Writer::new(fan(&mem, "p"));
        let nested = Nested {
            id: 1,
            list: vec![1, 2],
        };
        assert!(w.write_value(&nested).is_err());
        assert!(w.finish().is_err());
        assert!(!mem.contains("p.a").unwrap() && !mem.contains("p.b").unwrap());
    }
}
