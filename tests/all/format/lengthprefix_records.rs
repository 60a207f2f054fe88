//! Length-prefixed records.

use super::*;

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
