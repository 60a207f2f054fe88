//! [`Reader`]: CSV rows in, as [`Row`]s or typed through serde.

use std::fmt;
use std::io::{self, Read};

use super::{BUFFER, Options, Row, Side, error, too_long};
use crate::error::{Error, Result};
use crate::format::DEFAULT_MAX_RECORD_SIZE;

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
    /// A longer row is [`ErrorKind::Corrupt`](crate::ErrorKind::Corrupt), naming its line, and ends the reader; the
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
    /// A bad row is one error (see the [module docs](super#errors)) and reading goes on after
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
    /// row that does not deserialize is [`ErrorKind::Corrupt`](crate::ErrorKind::Corrupt) naming its line and field, and
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
