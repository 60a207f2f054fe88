//! The NDJSON reader against a naive split model, whatever the input, the size of each read
//! and the maximum record size. The property is in `tests/props/ndjson_read.rs`, shared with
//! `cargo test`.

#![no_main]

// This target uses one of the properties.
#[allow(dead_code)]
#[path = "../../tests/props/mod.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    props::ndjson_read::check(data);
});
