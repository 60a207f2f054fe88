//! `Path::parse` and the accessors of what it accepts. The property is in
//! `tests/props/path_parse.rs`, shared with `cargo test`.

#![no_main]

// This target uses one of the properties.
#[allow(dead_code)]
#[path = "../../tests/props/mod.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    props::path_parse::check(data);
});
