//! Length-prefixed records: arbitrary input never panics and agrees with a naive frame model
//! (truncation and oversize are `Corrupt` with the frame's offset), and records round-trip.
//! The property is in `tests/props/lengthprefix.rs`, shared with `cargo test`.

#![no_main]

// This target uses one of the properties.
#[allow(dead_code)]
#[path = "../../tests/props/mod.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    props::lengthprefix::check(data);
});
