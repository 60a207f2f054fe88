//! The record writers commit through any `Finish` layer, not only an `omnistorage::Writer`:
//! `finish` commits every layer below, `abort` and a drop abort them all.

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
