//! Record framing over byte streams: NDJSON, length-prefixed, and CSV (feature `csv`).

pub mod lengthprefix;
pub mod ndjson;

#[cfg(feature = "csv")]
pub mod csv;
