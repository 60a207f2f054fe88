//! The CSV reader: the same rows and errors however the input is split into reads, whatever
//! the options. The property is in `tests/props/csv_read.rs`, shared with `cargo test`.

#![no_main]

// This target uses one of the properties.
#[allow(dead_code)]
#[path = "../../tests/props/mod.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    props::csv_read::check(data);
});
