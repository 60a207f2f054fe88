//! Arbitrary bytes through `compress::zstd::Reader`: data or `Corrupt`, never a panic. The property is in
//! `tests/props/zstd_decode.rs`, shared with `cargo test`.

#![no_main]

// This target uses one of the properties.
#[allow(dead_code)]
#[path = "../../tests/props/mod.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    props::zstd_decode::check(data);
});
