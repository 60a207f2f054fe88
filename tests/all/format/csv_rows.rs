//! CSV rows and typed rows.

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
