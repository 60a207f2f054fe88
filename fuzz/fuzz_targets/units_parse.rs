//! `omnistorage::units`: sizes, rates, durations and times of day. The property is in
//! `tests/props/units_parse.rs`, shared with `cargo test`.

#![no_main]

// This target uses one of the properties.
#[allow(dead_code)]
#[path = "../../tests/props/mod.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    props::units_parse::check(data);
});
