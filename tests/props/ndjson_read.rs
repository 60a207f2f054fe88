//! Property of the NDJSON reader, shared by the fuzz target `ndjson_read` and the tests:
//! it agrees with a naive model (split on `\n`, drop one trailing `\r`, skip blank lines),
//! whatever the input, however the input is split into reads, whatever the maximum record
//! size; and it never panics.
//!
//! Input layout: byte 0 picks the size of each read (low 6 bits: 1..=64, or everything at once
//! if the byte is 0) and the reader's buffer (high 2 bits: 64 KiB, 1, 5 or 16 bytes), byte 1
//! the maximum record size (0..=62, or the default); the rest is the NDJSON text.

use omnistorage::ErrorKind;
use omnistorage::format::{RecordReader, ndjson};

use super::trickle::{Trickle, read_shape};

/// What reading yields, in order: records with their line numbers, then possibly an error
/// on a line.
#[derive(Debug, PartialEq, Eq)]
enum Event {
    Record(Vec<u8>, u64),
    TooLong(u64),
}

/// The naive model.
fn model(text: &[u8], max: usize) -> Vec<Event> {
    let mut events = Vec::new();
    let mut pieces: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    if text.last() == Some(&b'\n') || text.is_empty() {
        pieces.pop(); // the empty piece after the last newline is not a line
    }
    for (i, piece) in pieces.into_iter().enumerate() {
        let line = i as u64 + 1;
        let record = piece.strip_suffix(b"\r").unwrap_or(piece);
        if record.is_empty() {
            continue;
        }
        if record.len() > max {
            events.push(Event::TooLong(line));
            return events;
        }
        events.push(Event::Record(record.to_vec(), line));
    }
    events
}

/// Checks the property on one input; panics if it does not hold.
pub fn check(data: &[u8]) {
    let (step, capacity, max, text) = match data {
        [a, b, rest @ ..] => {
            let (step, capacity, max) = read_shape(*a, *b);
            (step, capacity, max, rest)
        }
        _ => (usize::MAX, None, None, data),
    };
    let source = Trickle { data: text, step };
    let mut reader = match capacity {
        Some(capacity) => ndjson::Reader::with_capacity(capacity, source),
        None => ndjson::Reader::new(source),
    };
    if let Some(max) = max {
        reader = reader.max_record_size(max);
    }
    let expected = model(text, max.unwrap_or(usize::MAX));

    let mut got = Vec::new();
    let mut record = b"left over".to_vec();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => got.push(Event::Record(record.clone(), reader.line())),
            Ok(false) => {
                assert!(record.is_empty(), "the end leaves the record empty");
                break;
            }
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
                let message = e.message().unwrap_or_default();
                let line = message
                    .strip_prefix("line ")
                    .and_then(|m| m.split(':').next())
                    .and_then(|n| n.parse::<u64>().ok());
                let Some(line) = line else {
                    panic!("the error names no line: {e}");
                };
                got.push(Event::TooLong(line));
                // The error ends the reader.
                assert!(!reader.read_record(&mut record).unwrap_or(true));
                assert!(record.is_empty());
                break;
            }
        }
    }
    assert_eq!(
        got, expected,
        "step {step}, buffer {capacity:?}, max {max:?}, text {text:?}"
    );
}
