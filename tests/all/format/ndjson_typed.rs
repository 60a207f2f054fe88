//! Typed NDJSON records, through serde.

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
