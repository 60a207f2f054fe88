//! Round trips through `CompressBackend`: content, ranges, sizes, truncation. The property is in
//! `tests/props/compress_roundtrip.rs`, shared with `cargo test`.

#![no_main]

// This target uses one of the properties.
#[allow(dead_code)]
#[path = "../../tests/props/mod.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    props::compress_roundtrip::check(data);
});
