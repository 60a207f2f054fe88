//! Newline-delimited JSON records.
