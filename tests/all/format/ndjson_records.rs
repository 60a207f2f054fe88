//! NDJSON records: round trips, line ends, limits, errors passing through.

use super::*;

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
