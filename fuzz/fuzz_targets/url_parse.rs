//! `Url::parse`: never panics, deterministic, valid schemes, no secret printed. The property
//! is in `tests/props/url_parse.rs`, shared with `cargo test`.

#![no_main]

// This target uses one of the properties.
#[allow(dead_code)]
#[path = "../../tests/props/mod.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    props::url_parse::check(data);
});
