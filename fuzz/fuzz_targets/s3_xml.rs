//! The S3 backend's XML parsers and the bodies it writes. The property is in
//! `tests/props/s3_xml.rs`, shared with `cargo test`.

#![no_main]

// This target uses one of the properties.
#[allow(dead_code)]
#[path = "../../tests/props/mod.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    props::s3_xml::check(data);
});
