//! Tests of the format layer: NDJSON, length-prefixed and CSV records, through the file and
//! memory backends, and the properties the fuzz targets check.

use std::io::{self, Read, Write};

use omnistorage::conformance::TempDir;
use omnistorage::format::{
    DEFAULT_MAX_RECORD_SIZE, RecordReader, RecordWriter, lengthprefix, ndjson,
};
use omnistorage::{Backend, BackendExt, Error, ErrorKind, FileBackend, MemoryBackend};

use crate::props::lengthprefix as lengthprefix_prop;
use crate::props::ndjson_read as ndjson_read_prop;

/// Runs `test` on a fresh file backend and a fresh memory backend.
fn on_each_backend(test: impl Fn(&dyn Backend)) {
    let dir = TempDir::new().unwrap();
    let file = FileBackend::new(dir.path()).unwrap();
    test(&file);
    test(&MemoryBackend::new());
}

/// A reader that returns at most `step` bytes per read, then fails with `error` if given.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    step: usize,
    error: Option<Error>,
}

impl Trickle {
    fn new(data: impl Into<Vec<u8>>, step: usize) -> Trickle {
        Trickle {
            data: data.into(),
            pos: 0,
            step,
            error: None,
        }
    }

    fn then_fail(mut self, error: Error) -> Trickle {
        self.error = Some(error);
        self
    }
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len() - self.pos);
        if n == 0
            && let Some(e) = self.error.take()
        {
            return Err(e.into());
        }
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A writer that fails every write with `kind`.
#[derive(Debug)]
struct Failing(io::ErrorKind);

impl Write for Failing {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::new(self.0, "refused"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn ndjson_records(data: impl Into<Vec<u8>>, step: usize) -> Result<Vec<Vec<u8>>, Error> {
    ndjson::Reader::new(Trickle::new(data, step))
        .records()
        .collect()
}

/// Records framed as the length-prefixed format frames them.
fn frame(records: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        out.extend_from_slice(&(r.len() as u32).to_be_bytes());
        out.extend_from_slice(r);
    }
    out
}

#[test]
fn public_types_are_send_and_sync_where_their_streams_are() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}
    // Over a backend's streams (which are Send): Send.
    send::<ndjson::Reader<omnistorage::Reader>>();
    send::<ndjson::Writer<omnistorage::Writer>>();
    send::<lengthprefix::Reader<omnistorage::Reader>>();
    send::<lengthprefix::Writer<omnistorage::Writer>>();
    send::<omnistorage::format::Records<ndjson::Reader<omnistorage::Reader>>>();
    // Over Send + Sync streams: Send + Sync.
    send_sync::<ndjson::Reader<&[u8]>>();
    send_sync::<ndjson::Writer<Vec<u8>>>();
    send_sync::<lengthprefix::Reader<&[u8]>>();
    send_sync::<lengthprefix::Writer<Vec<u8>>>();
    #[cfg(feature = "serde")]
    send_sync::<ndjson::Values<&[u8], String>>();
    #[cfg(feature = "csv")]
    {
        use omnistorage::format::csv;
        send::<csv::Reader<omnistorage::Reader>>();
        send::<csv::Writer<omnistorage::Writer>>();
        send_sync::<csv::Reader<&[u8]>>();
        send_sync::<csv::Writer<Vec<u8>>>();
        send_sync::<csv::Row>();
        send_sync::<csv::Rows<&[u8]>>();
        send_sync::<csv::Values<&[u8], String>>();
    }
}

#[cfg(feature = "csv")]
mod csv_rows;
mod lengthprefix_records;
mod ndjson_records;
#[cfg(feature = "serde")]
mod ndjson_typed;
mod over_finish_layers;
