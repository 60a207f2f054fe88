//! The sync engine's filter rules against a reference matcher. The property is in
//! `tests/props/sync_filter.rs`, shared with `cargo test`.

#![no_main]

// This target uses one of the properties.
#[allow(dead_code)]
#[path = "../../tests/props/mod.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    props::sync_filter::check(data);
});
