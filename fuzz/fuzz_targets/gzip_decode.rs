//! Arbitrary bytes through `compress::gzip::Reader`: data or `Corrupt`, never a panic. The property is in
//! `tests/props/gzip_decode.rs`, shared with `cargo test`.

#![no_main]

// This target uses one of the properties.
#[allow(dead_code)]
#[path = "../../tests/props/mod.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    props::gzip_decode::check(data);
});
