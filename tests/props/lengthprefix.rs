//! Properties of the length-prefixed framing, shared by the fuzz target `lengthprefix` and
//! the tests:
//!
//! 1. arbitrary bytes, read as a stream, never panic, and agree with a naive model: whole
//!    frames come out as records; a frame cut short, or one longer than the maximum, is
//!    `Corrupt` naming the byte offset where it starts, and ends the reader;
//! 2. records written and read back are the same records (round trip), and the stream is
//!    exactly the frames the format documents.
//!
//! Input layout: byte 0 picks the size of each read (low 6 bits: 1..=64, or everything at once
//! if the byte is 0) and the reader's buffer (high 2 bits: 64 KiB, 1, 5 or 16 bytes; small
//! buffers take the path that reads long records straight into the caller's buffer), byte 1
//! the maximum record size (0..=62, or the default); the rest is the stream for (1), and,
//! split at every `0xFF` byte, the records for (2).

use omnistorage::ErrorKind;
use omnistorage::format::{RecordReader, RecordWriter, lengthprefix};

use super::trickle::{Trickle, read_shape};

#[derive(Debug, PartialEq, Eq)]
enum Event {
    Record(Vec<u8>),
    /// A broken frame, and the offset where it starts.
    Corrupt(u64),
}

/// The naive model of reading `stream`.
fn model(mut stream: &[u8], max: usize) -> Vec<Event> {
    let mut events = Vec::new();
    let mut offset = 0u64;
    while !stream.is_empty() {
        let Some((prefix, rest)) = stream.split_first_chunk::<4>() else {
            events.push(Event::Corrupt(offset));
            break;
        };
        let len = u32::from_be_bytes(*prefix) as usize;
        if len > max || rest.len() < len {
            events.push(Event::Corrupt(offset));
            break;
        }
        events.push(Event::Record(rest[..len].to_vec()));
        stream = &rest[len..];
        offset += 4 + len as u64;
    }
    events
}

/// Checks both properties on one input; panics if one does not hold.
pub fn check(data: &[u8]) {
    let (shape, max, rest) = match data {
        [a, b, rest @ ..] => {
            let (step, capacity, max) = read_shape(*a, *b);
            (Shape { step, capacity }, max, rest)
        }
        _ => {
            let shape = Shape {
                step: usize::MAX,
                capacity: None,
            };
            (shape, None, data)
        }
    };
    read_agrees_with_model(rest, shape, max);
    round_trip(rest, shape);
}

/// How the reader sees the stream: the size of each read, and its own buffer.
#[derive(Clone, Copy, Debug)]
struct Shape {
    step: usize,
    capacity: Option<usize>,
}

fn reader(stream: &[u8], shape: Shape, max: Option<usize>) -> lengthprefix::Reader<Trickle<'_>> {
    let source = Trickle {
        data: stream,
        step: shape.step,
    };
    let reader = match shape.capacity {
        Some(capacity) => lengthprefix::Reader::with_capacity(capacity, source),
        None => lengthprefix::Reader::new(source),
    };
    match max {
        Some(max) => reader.max_record_size(max),
        None => reader,
    }
}

fn read_agrees_with_model(stream: &[u8], shape: Shape, max: Option<usize>) {
    let expected = model(
        stream,
        max.unwrap_or(omnistorage::format::DEFAULT_MAX_RECORD_SIZE),
    );
    let mut r = reader(stream, shape, max);
    let mut got = Vec::new();
    let mut record = b"left over".to_vec();
    loop {
        let before = r.offset();
        match r.read_record(&mut record) {
            Ok(true) => {
                assert_eq!(r.offset(), before + 4 + record.len() as u64);
                got.push(Event::Record(record.clone()));
            }
            Ok(false) => {
                assert!(record.is_empty());
                assert_eq!(r.offset(), stream.len() as u64, "a clean end is the end");
                break;
            }
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
                let needle = format!("byte offset {before}:");
                assert!(e.to_string().contains(&needle), "{e} should name {needle}");
                got.push(Event::Corrupt(before));
                assert!(
                    !r.read_record(&mut record).unwrap_or(true),
                    "an error ends the reader"
                );
                assert!(record.is_empty());
                break;
            }
        }
    }
    assert_eq!(got, expected, "{shape:?}, max {max:?}, stream {stream:?}");
}

fn round_trip(data: &[u8], shape: Shape) {
    let records: Vec<&[u8]> = data.split(|&b| b == 0xFF).collect();
    let mut w = lengthprefix::Writer::new(Vec::new());
    for record in &records {
        if let Err(e) = w.write_record(record) {
            panic!("write_record failed: {e}");
        }
    }
    let stream = match w.into_inner() {
        Ok(stream) => stream,
        Err(e) => panic!("into_inner failed: {e}"),
    };
    let mut expected = Vec::new();
    for record in &records {
        expected.extend_from_slice(&(record.len() as u32).to_be_bytes());
        expected.extend_from_slice(record);
    }
    assert_eq!(stream, expected, "the documented framing");

    let mut r = reader(&stream, shape, None);
    let mut back = Vec::new();
    let mut record = Vec::new();
    loop {
        match r.read_record(&mut record) {
            Ok(true) => back.push(record.clone()),
            Ok(false) => break,
            Err(e) => panic!("reading back failed: {e}"),
        }
    }
    assert_eq!(back, records);
}
