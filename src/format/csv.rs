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

use std::fmt;
use std::io::{self, Read, Write};

use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};
use crate::format::DEFAULT_MAX_RECORD_SIZE;
use crate::io::Finish;

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

/// Writes CSV rows. Buffered.
///
/// End with [`finish`](Writer::finish) over an [`omnistorage::Writer`](crate::Writer) or any
/// other [`Finish`] layer (it flushes, commits the object and returns its [`Entry`]), or
/// [`into_inner`](Writer::into_inner) over any other writer. Dropping a `Writer` drops (so
/// aborts) the layers below.
///
/// ```
/// use omnistorage::format::csv;
/// use omnistorage::ErrorKind;
///
/// let mut w = csv::Writer::new(Vec::new());
/// w.write_row(["id", "name"])?;
/// w.write_row(["1", "Ada, Countess of Lovelace"])?;
/// let err = w.write_row(["2"]).unwrap_err(); // one field short: nothing written
/// assert_eq!(err.kind(), ErrorKind::InvalidInput);
/// assert_eq!(w.into_inner()?, b"id,name\n1,\"Ada, Countess of Lovelace\"\n");
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub struct Writer<W: Write> {
    csv: ::csv::Writer<W>,
    /// The row being written, gathered first so that its width is checked before any of it
    /// is written.
    record: ::csv::ByteRecord,
    /// The width of the first row, unless the options say rows are flexible.
    width: Option<usize>,
    flexible: bool,
    /// Set when a row was written only in part: the output is broken.
    poisoned: Option<ErrorKind>,
}

impl<W: Write> Writer<W> {
    /// A writer into `inner` with the default [`Options`].
    pub fn new(inner: W) -> Writer<W> {
        Writer::with_options(inner, &Options::new())
    }

    /// A writer into `inner` with these options.
    pub fn with_options(inner: W, options: &Options) -> Writer<W> {
        let csv = ::csv::WriterBuilder::new()
            .delimiter(options.delimiter)
            .has_headers(options.has_headers)
            .flexible(options.flexible)
            .buffer_capacity(BUFFER)
            .from_writer(inner);
        Writer {
            csv,
            record: ::csv::ByteRecord::new(),
            width: None,
            flexible: options.flexible,
            poisoned: None,
        }
    }

    /// Writes one row of fields, quoting those that need it.
    ///
    /// A row whose width differs from the first row's (unless [`Options::flexible`]) is
    /// refused with [`ErrorKind::InvalidInput`], and nothing of it is written. An empty row
    /// is written as one empty field (`""`).
    pub fn write_row<I, T>(&mut self, fields: I) -> Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.check()?;
        self.record.clear();
        for field in fields {
            self.record.push_field(field.as_ref());
        }
        let width = self.record.len();
        if !self.flexible {
            match self.width {
                Some(expected) if expected != width => {
                    return Err(Error::new(
                        ErrorKind::InvalidInput,
                        format!("a row of {width} fields; the first row had {expected}"),
                    ));
                }
                _ => {}
            }
        }
        let r = self.csv.write_byte_record(&self.record);
        self.track(r)?;
        self.width.get_or_insert(width);
        Ok(())
    }

    /// Writes one typed row through serde: a struct (its fields, in order), a tuple, a
    /// sequence, or a single value.
    ///
    /// With a header row ([`Options::has_headers`], the default), the first struct written
    /// also writes the header row from its field names.
    ///
    /// A value that cannot be written as one row (a nested sequence inside a struct, a row of
    /// the wrong width) is [`ErrorKind::InvalidInput`]. Part of the row may have been written
    /// by then, so the writer is poisoned: later writes fail and [`finish`](Writer::finish)
    /// discards the object.
    ///
    /// ```
    /// use omnistorage::format::csv;
    ///
    /// #[derive(serde::Serialize)]
    /// struct City<'a> { name: &'a str, population: u32 }
    ///
    /// let mut w = csv::Writer::new(Vec::new());
    /// w.write_value(&City { name: "Oslo", population: 709_037 })?;
    /// w.write_value(&City { name: "Bergen", population: 291_940 })?;
    /// assert_eq!(w.into_inner()?, b"name,population\nOslo,709037\nBergen,291940\n");
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn write_value<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.check()?;
        let r = self.csv.serialize(value);
        self.track(r)?;
        // The crate checks the width of typed rows itself (it counted this one); a raw row
        // written later is checked against the crate's count by the crate, as a last resort.
        Ok(())
    }

    /// Writes what is buffered to the underlying writer, and flushes it. This does not commit
    /// an [`omnistorage::Writer`](crate::Writer).
    pub fn flush(&mut self) -> Result<()> {
        self.check()?;
        let r = self.csv.flush().map_err(::csv::Error::from);
        self.track(r)
    }

    /// Flushes what is buffered and returns the underlying writer. Fails if the writer is
    /// poisoned.
    ///
    /// Over an [`omnistorage::Writer`](crate::Writer) or another [`Finish`] layer, use
    /// [`finish`](Writer::finish), which also commits.
    pub fn into_inner(mut self) -> Result<W> {
        self.flush()?;
        self.csv
            .into_inner()
            .map_err(|e| Error::from(e.into_error()))
    }

    /// The underlying writer. Bytes still buffered have not reached it.
    pub fn get_ref(&self) -> &W {
        self.csv.get_ref()
    }

    fn check(&self) -> Result<()> {
        match self.poisoned {
            None => Ok(()),
            Some(kind) => Err(Error::new(
                kind,
                "an earlier row was written only in part; the CSV output is incomplete",
            )),
        }
    }

    fn track<T>(&mut self, r: std::result::Result<T, ::csv::Error>) -> Result<T> {
        r.map_err(|e| {
            let e = error(e, Side::Write);
            self.poisoned = Some(e.kind());
            e
        })
    }
}

impl<W: Finish> Writer<W> {
    /// Flushes what is buffered, then finishes the writer below (an
    /// [`omnistorage::Writer`](crate::Writer), or any [`Finish`] layer: compression, a
    /// fan-out, a hashing writer), which commits the object whole. Returns the stored
    /// [`Entry`].
    ///
    /// If a row failed part-way, or a write or the flush failed, nothing is committed: every
    /// layer below is aborted and this returns the error.
    pub fn finish(mut self) -> Result<Entry> {
        // On an error, `self` is dropped, and with it every layer below: they abort. (The
        // csv crate gives the writer below back only after a successful flush.)
        self.flush()?;
        match self.csv.into_inner() {
            Ok(inner) => inner.finish(),
            Err(e) => Err(Error::from(e.into_error())),
        }
    }

    /// Aborts every layer below: nothing is committed. Dropping the writer does the same
    /// (the rows it still buffers may be passed down first, but the layers below then abort).
    pub fn abort(self) -> Result<()> {
        match self.csv.into_inner() {
            Ok(inner) => inner.abort(),
            // The flush failed: the csv writer is dropped with the layers below, which abort.
            Err(_) => Ok(()),
        }
    }
}

impl<W: Write + fmt::Debug> fmt::Debug for Writer<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("csv::Writer")
            .field("inner", self.csv.get_ref())
            .field("poisoned", &self.poisoned.is_some())
            .finish_non_exhaustive()
    }
}

/// Reads CSV rows. Buffered.
///
/// ```
/// use omnistorage::format::csv;
/// use omnistorage::ErrorKind;
///
/// let data = "id,name\n1,Ada\n2\n3,Grace\n";
/// let mut r = csv::Reader::new(data.as_bytes());
/// let mut row = csv::Row::new();
/// assert!(r.read_row(&mut row)?);
/// assert_eq!(row.get(1), Some("Ada"));
/// let err = r.read_row(&mut row).unwrap_err(); // too few fields: one bad row
/// assert_eq!(err.kind(), ErrorKind::Corrupt);
/// assert_eq!(err.message(), Some("line 3: a row of 1 fields; the rows before had 2"));
/// assert!(r.read_row(&mut row)?); // reading goes on
/// assert_eq!((row.get(1), row.line()), (Some("Grace"), Some(4)));
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub struct Reader<R> {
    csv: ::csv::Reader<Limited<R>>,
    has_headers: bool,
    headers: Option<Row>,
    headers_read: bool,
    /// For [`Reader::values`]: the row being parsed.
    scratch: ::csv::StringRecord,
    /// Set after an error that ends the reader.
    done: bool,
}

impl<R: Read> Reader<R> {
    /// A reader of `inner` with the default [`Options`].
    pub fn new(inner: R) -> Reader<R> {
        Reader::with_options(inner, &Options::new())
    }

    /// A reader of `inner` with these options.
    pub fn with_options(inner: R, options: &Options) -> Reader<R> {
        let csv = ::csv::ReaderBuilder::new()
            .delimiter(options.delimiter)
            .has_headers(options.has_headers)
            .flexible(options.flexible)
            .buffer_capacity(BUFFER)
            .from_reader(Limited {
                inner,
                read: 0,
                limit: u64::MAX,
                line: 1,
                max: DEFAULT_MAX_RECORD_SIZE,
            });
        Reader {
            csv,
            has_headers: options.has_headers,
            headers: None,
            headers_read: false,
            scratch: ::csv::StringRecord::new(),
            done: false,
        }
    }

    /// Sets the maximum size of a row in bytes as stored (quotes, delimiters and line end
    /// included). Default: [`DEFAULT_MAX_RECORD_SIZE`] (16 MiB).
    ///
    /// A longer row is [`ErrorKind::Corrupt`], naming its line, and ends the reader; the
    /// reader never holds more than this and one buffer (64 KiB) of one row in memory.
    pub fn max_record_size(mut self, bytes: usize) -> Reader<R> {
        self.csv.get_mut().max = bytes;
        self
    }

    /// The header row, if the [`Options`] say there is one (the default); it is read now if
    /// it has not been yet. `None` without a header row.
    pub fn headers(&mut self) -> Result<Option<&Row>> {
        self.read_headers()?;
        Ok(self.headers.as_ref())
    }

    /// Reads the next row into `row`, replacing what it held. `Ok(false)` at the end.
    ///
    /// A bad row is one error (see the [module docs](self#errors)) and reading goes on after
    /// it; after an error that ends the reader, this returns `Ok(false)`.
    pub fn read_row(&mut self, row: &mut Row) -> Result<bool> {
        self.read_headers()?;
        self.read_into(&mut row.0)
    }

    /// An iterator over the rows (the header row excluded).
    pub fn rows(self) -> Rows<R> {
        Rows { reader: self }
    }

    /// Reads the next row as a `T` through serde. `Ok(None)` at the end.
    ///
    /// With a header row, struct fields are matched to it by name; without, by position. A
    /// row that does not deserialize is [`ErrorKind::Corrupt`] naming its line and field, and
    /// reading goes on after it.
    pub fn read_value<T: serde::de::DeserializeOwned>(&mut self) -> Result<Option<T>> {
        self.read_headers()?;
        let mut record = std::mem::take(&mut self.scratch);
        let value = match self.read_into(&mut record) {
            Ok(false) => Ok(None),
            Ok(true) => {
                let headers = self.headers.as_ref().map(|h| &h.0);
                record
                    .deserialize(headers)
                    .map(Some)
                    .map_err(|e| error(e, Side::Read))
            }
            Err(e) => Err(e),
        };
        self.scratch = record;
        value
    }

    /// An iterator of typed rows, as [`read_value`](Reader::read_value).
    ///
    /// ```
    /// use omnistorage::format::csv;
    ///
    /// #[derive(serde::Deserialize, Debug, PartialEq)]
    /// struct City { name: String, population: u32 }
    ///
    /// let data = "population,name\n709037,Oslo\nmany,Bergen\n";
    /// let mut cities = csv::Reader::new(data.as_bytes()).values::<City>();
    /// assert_eq!(cities.next().transpose()?, Some(City { name: "Oslo".into(), population: 709_037 }));
    /// let err = cities.next().transpose().unwrap_err();
    /// assert_eq!(err.message(), Some("line 3, field 1: invalid digit found in string"));
    /// assert!(cities.next().is_none());
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn values<T: serde::de::DeserializeOwned>(self) -> Values<R, T> {
        Values {
            reader: self,
            _marker: std::marker::PhantomData,
        }
    }

    /// The underlying reader. Bytes this reader has read from it but not yet returned as
    /// rows are lost.
    pub fn into_inner(self) -> R {
        self.csv.into_inner().inner
    }

    fn read_headers(&mut self) -> Result<()> {
        if self.headers_read || !self.has_headers {
            return Ok(());
        }
        if self.done {
            return Ok(());
        }
        self.arm();
        self.headers_read = true;
        match self.csv.headers() {
            Ok(headers) => {
                self.headers = Some(Row(headers.clone()));
                Ok(())
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    fn read_into(&mut self, record: &mut ::csv::StringRecord) -> Result<bool> {
        if self.done {
            record.clear();
            return Ok(false);
        }
        let start = self.arm();
        match self.csv.read_record(record) {
            Ok(false) => Ok(false),
            Ok(true) => {
                let size = self.csv.position().byte().saturating_sub(start);
                let max = self.csv.get_ref().max;
                if size > max as u64 {
                    self.done = true;
                    return Err(too_long(record.position().map_or(0, |p| p.line()), max));
                }
                Ok(true)
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Sets the read limit for the row that starts here; returns its byte offset.
    fn arm(&mut self) -> u64 {
        let pos = self.csv.position();
        let (start, line) = (pos.byte(), pos.line());
        let limited = self.csv.get_mut();
        limited.line = line;
        limited.limit = start
            .saturating_add(limited.max as u64)
            .saturating_add(BUFFER as u64);
        start
    }

    fn fail(&mut self, e: ::csv::Error) -> Error {
        if e.is_io_error() {
            self.done = true;
        }
        error(e, Side::Read)
    }
}

impl<R: Read + fmt::Debug> fmt::Debug for Reader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("csv::Reader")
            .field("inner", &self.csv.get_ref().inner)
            .field("line", &self.csv.position().line())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// The iterator of [`Reader::rows`]: one `Result<Row>` per row.
pub struct Rows<R> {
    reader: Reader<R>,
}

impl<R: Read + fmt::Debug> fmt::Debug for Rows<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("csv::Rows")
            .field("reader", &self.reader)
            .finish()
    }
}

impl<R> Rows<R> {
    /// The reader, positioned after the last row yielded.
    pub fn into_inner(self) -> Reader<R> {
        self.reader
    }
}

impl<R: Read> Iterator for Rows<R> {
    type Item = Result<Row>;

    fn next(&mut self) -> Option<Result<Row>> {
        let mut row = Row::new();
        match self.reader.read_row(&mut row) {
            Ok(true) => Some(Ok(row)),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// The iterator of [`Reader::values`]: one `Result<T>` per row.
pub struct Values<R, T> {
    reader: Reader<R>,
    _marker: std::marker::PhantomData<fn() -> T>,
}

impl<R, T> Values<R, T> {
    /// The reader, positioned after the last row yielded.
    pub fn into_inner(self) -> Reader<R> {
        self.reader
    }
}

impl<R: Read, T: serde::de::DeserializeOwned> Iterator for Values<R, T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        self.reader.read_value().transpose()
    }
}

impl<R: Read + fmt::Debug, T> fmt::Debug for Values<R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("csv::Values")
            .field("reader", &self.reader)
            .finish()
    }
}

/// The reader under the `csv` crate's: refuses to read more than `limit` bytes in all, so
/// that one endless row (an unclosed quote) cannot fill memory. [`Reader::arm`] moves the
/// limit before each row.
struct Limited<R> {
    inner: R,
    /// Bytes read so far.
    read: u64,
    limit: u64,
    /// The line the current row starts on, for the error.
    line: u64,
    max: usize,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let room = self.limit.saturating_sub(self.read);
        if room == 0 {
            return Err(too_long(self.line, self.max).into());
        }
        let len = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..len])?.min(len);
        self.read += n as u64;
        Ok(n)
    }
}

fn too_long(line: u64, max: usize) -> Error {
    Error::new(
        ErrorKind::Corrupt,
        format!("line {line}: row longer than the maximum of {max} bytes"),
    )
}

#[derive(Clone, Copy)]
enum Side {
    Read,
    Write,
}

/// Maps a `csv` crate error to ours: I/O errors unchanged, data errors with the line.
fn error(e: ::csv::Error, side: Side) -> Error {
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
