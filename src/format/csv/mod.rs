//! CSV rows, on the [`csv`](https://docs.rs/csv) crate (feature `csv`).
//!
//! A [`Writer`] writes rows of fields ([`write_row`](Writer::write_row)) or typed rows
//! through serde ([`write_value`](Writer::write_value)); a [`Reader`] reads them back as
//! [`Row`]s ([`read_row`](Reader::read_row), [`rows`](Reader::rows)) or typed
//! ([`values`](Reader::values)). Fields are quoted when they need it, so commas, quotes and
//! newlines inside a field round-trip.
//!
//! ```
//! use omnistorage::format::csv;
//! use omnistorage::{BackendExt, MemoryBackend};
//!
//! let store = MemoryBackend::new();
//! let mut w = csv::Writer::new(store.open_writer("people.csv")?);
//! w.write_row(["name", "note"])?;
//! w.write_row(["Ada", "wrote \"the\" first program,\nin 1843"])?;
//! w.finish()?; // flushes and commits
//!
//! let mut r = csv::Reader::new(store.open_reader("people.csv")?);
//! assert_eq!(r.headers()?.map(|h| h.get(1)), Some(Some("note")));
//! let rows: Vec<csv::Row> = r.rows().collect::<Result<_, _>>()?;
//! assert_eq!(rows[0].get(1), Some("wrote \"the\" first program,\nin 1843"));
//! assert_eq!(rows[0].line(), Some(2));
//! # Ok::<(), omnistorage::Error>(())
//! ```
//!
//! # The format
//!
//! RFC 4180 as the `csv` crate reads and writes it, tuned with [`Options`]:
//!
//! - the first row is a header row unless [`Options::has_headers`] says otherwise: a
//!   `Reader` keeps it apart ([`Reader::headers`]) and typed rows are matched to it by field
//!   name; a `Writer` writes one from the field names of the first typed row;
//! - every row has as many fields as the first, unless [`Options::flexible`];
//! - lines end with `\n` when written, and with `\n`, `\r\n` or `\r` when read; **blank lines
//!   are skipped**;
//! - fields are text: a field that is not UTF-8 is [`ErrorKind::Corrupt`].
//!
//! # Errors
//!
//! Reading: a row with the wrong number of fields, a field that is not UTF-8, or a typed row
//! that does not deserialize is [`ErrorKind::Corrupt`] naming the line (1-based, where the
//! row starts) and, where known, the field (1-based); reading goes on with the next row.
//! Lines are counted the `csv` crate's way: every line end counts, those inside quoted
//! fields too, but a row that follows blank lines is said to start on the first of them. A row
//! longer than the maximum record size is `Corrupt` naming its line, and ends the reader, as
//! does any I/O error (which comes through unchanged).
//!
//! Writing: a row with the wrong number of fields is refused with
//! [`ErrorKind::InvalidInput`], and nothing of it is written. A typed row that cannot be
//! serialized is `InvalidInput` too, but the `csv` crate may have written part of it by then,
//! so the writer is then *poisoned*: later writes fail, and [`Writer::finish`] discards the
//! object instead of committing it.

use crate::error::{Error, ErrorKind};

mod reader;
mod writer;

pub use reader::{Reader, Rows, Values};
pub use writer::Writer;

/// The buffer size of the `csv` crate's reader and writer.
const BUFFER: usize = 64 * 1024;

/// The CSV dialect: delimiter, header row, fixed or flexible row width.
///
/// ```
/// use omnistorage::format::csv;
///
/// let opts = csv::Options::new().delimiter(b';').has_headers(false);
/// let mut w = csv::Writer::with_options(Vec::new(), &opts);
/// w.write_row(["a;b", "c"])?;
/// assert_eq!(w.into_inner()?, b"\"a;b\";c\n");
/// # Ok::<(), omnistorage::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    delimiter: u8,
    has_headers: bool,
    flexible: bool,
}

impl Options {
    /// The defaults: comma-separated, a header row, every row as wide as the first.
    pub fn new() -> Options {
        Options {
            delimiter: b',',
            has_headers: true,
            flexible: false,
        }
    }

    /// Sets the field delimiter. Default: `b','`.
    pub fn delimiter(mut self, delimiter: u8) -> Options {
        self.delimiter = delimiter;
        self
    }

    /// Whether the first row is a header row. Default: `true`.
    ///
    /// Reading, it is not returned as a row but by [`Reader::headers`], and typed rows are
    /// matched to it by name. Writing, the first typed row of a struct writes it from the
    /// field names.
    pub fn has_headers(mut self, yes: bool) -> Options {
        self.has_headers = yes;
        self
    }

    /// Whether rows may have different numbers of fields. Default: `false`: a row whose width
    /// differs from the first row's is an error.
    pub fn flexible(mut self, yes: bool) -> Options {
        self.flexible = yes;
        self
    }
}

impl Default for Options {
    fn default() -> Options {
        Options::new()
    }
}

/// One CSV row: its fields, as text, and the line it was read from.
///
/// ```
/// use omnistorage::format::csv::Row;
///
/// let row: Row = ["a", "b"].into_iter().collect();
/// assert_eq!(row.len(), 2);
/// assert_eq!(row.get(1), Some("b"));
/// assert_eq!(row.iter().collect::<Vec<_>>(), ["a", "b"]);
/// assert_eq!(row.line(), None); // not read from anywhere
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row(::csv::StringRecord);

impl Row {
    /// An empty row, to read into with [`Reader::read_row`].
    pub fn new() -> Row {
        Row::default()
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the row has no fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The field at `index` (0-based), if there is one.
    pub fn get(&self, index: usize) -> Option<&str> {
        self.0.get(index)
    }

    /// The fields, in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &str> + '_ {
        self.0.iter()
    }

    /// The line the row starts on (1-based), if it was read by a [`Reader`].
    pub fn line(&self) -> Option<u64> {
        self.0.position().map(|p| p.line())
    }
}

impl<S: AsRef<str>> FromIterator<S> for Row {
    fn from_iter<I: IntoIterator<Item = S>>(fields: I) -> Row {
        Row(fields.into_iter().collect())
    }
}

pub(super) fn too_long(line: u64, max: usize) -> Error {
    Error::new(
        ErrorKind::Corrupt,
        format!("line {line}: row longer than the maximum of {max} bytes"),
    )
}

#[derive(Clone, Copy)]
pub(super) enum Side {
    Read,
    Write,
}

/// Maps a `csv` crate error to ours: I/O errors unchanged, data errors with the line.
pub(super) fn error(e: ::csv::Error, side: Side) -> Error {
    use ::csv::ErrorKind as K;
    let line = |pos: &Option<::csv::Position>| pos.as_ref().map(|p| p.line());
    let at = |line: Option<u64>, field: Option<u64>| match (line, field) {
        (Some(l), Some(f)) => format!("line {l}, field {}: ", f + 1),
        (Some(l), None) => format!("line {l}: "),
        (None, Some(f)) => format!("field {}: ", f + 1),
        (None, None) => String::new(),
    };
    match e.into_kind() {
        K::Io(e) => Error::from(e),
        K::Utf8 { pos, err } => Error::new(
            ErrorKind::Corrupt,
            format!(
                "{}invalid UTF-8 after {} valid bytes",
                at(line(&pos), Some(err.field() as u64)),
                err.valid_up_to()
            ),
        ),
        K::UnequalLengths {
            pos,
            expected_len,
            len,
        } => match side {
            Side::Read => Error::new(
                ErrorKind::Corrupt,
                format!(
                    "{}a row of {len} fields; the rows before had {expected_len}",
                    at(line(&pos), None)
                ),
            ),
            Side::Write => Error::new(
                ErrorKind::InvalidInput,
                format!("a row of {len} fields; the first row had {expected_len}"),
            ),
        },
        K::Deserialize { pos, err } => Error::new(
            ErrorKind::Corrupt,
            format!("{}{}", at(line(&pos), err.field()), err.kind()),
        ),
        K::Serialize(message) => Error::new(
            ErrorKind::InvalidInput,
            format!("cannot write the value as a CSV row: {message}"),
        ),
        other => Error::new(ErrorKind::Other, format!("csv: {other:?}")),
    }
}
