//! Property of the CSV reader, shared by the fuzz target `csv_read` and the tests: whatever
//! the input, the options and however the input is split into reads, the reader yields the
//! same rows and the same errors (kind and line) as when it is given everything at once; a
//! row's line numbers never go down; and it never panics.
//!
//! Input layout: byte 0 picks the size of each read (as `read_shape`), byte 1 the options
//! (bit 0: headers, bit 1: flexible, bits 2–3: delimiter `,` `;` tab `|`) and the maximum
//! record size (bits 4–7: 16 × n bytes, 0: the default); the rest is the CSV text.

use omnistorage::format::csv::{Options, Reader, Row};

use super::trickle::{Trickle, read_shape};

#[derive(Debug, PartialEq, Eq)]
enum Event {
    Row(Vec<String>, Option<u64>),
    Error(omnistorage::ErrorKind),
}

fn read_all(reader: impl std::io::Read, options: &Options, max: Option<usize>) -> Vec<Event> {
    let mut r = Reader::with_options(reader, options);
    if let Some(max) = max {
        r = r.max_record_size(max);
    }
    let mut events = Vec::new();
    let mut row = Row::new();
    // Bounded: every call consumes input or ends the reader.
    for _ in 0..100_000 {
        match r.read_row(&mut row) {
            Ok(true) => events.push(Event::Row(
                row.iter().map(str::to_owned).collect(),
                row.line(),
            )),
            Ok(false) => break,
            Err(e) => events.push(Event::Error(e.kind())),
        }
    }
    events
}

/// Checks the property on one input; panics if it does not hold.
pub fn check(data: &[u8]) {
    let [a, b, text @ ..] = data else {
        return;
    };
    let (step, _, _) = read_shape(*a, 0);
    let delimiter = [b',', b';', b'\t', b'|'][usize::from((b >> 2) & 3)];
    let options = Options::new()
        .has_headers(b & 1 == 1)
        .flexible(b & 2 == 2)
        .delimiter(delimiter);
    let max = match b >> 4 {
        0 => None,
        n => Some(16 * usize::from(n)),
    };
    let whole = read_all(text, &options, max);
    let trickled = read_all(Trickle { data: text, step }, &options, max);
    assert_eq!(
        whole, trickled,
        "the split of the input changed what was read"
    );
    let mut last = 0;
    for e in &whole {
        if let Event::Row(_, Some(line)) = e {
            assert!(*line >= last, "line numbers went down: {last} then {line}");
            last = *line;
        }
    }
}
