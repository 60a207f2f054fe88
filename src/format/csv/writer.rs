//! [`Writer`]: CSV rows out, committed through any [`Finish`] layer.

use std::fmt;
use std::io::Write;

use super::{BUFFER, Options, Side, error};
use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};
use crate::io::Finish;

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
