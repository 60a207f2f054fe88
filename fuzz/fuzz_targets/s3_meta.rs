//! The S3 backend's header formats: rclone's `mtime`, HTTP dates, RFC 3339. The property is in
//! `tests/props/s3_meta.rs`, shared with `cargo test`.

#![no_main]

// This target uses one of the properties.
#[allow(dead_code)]
#[path = "../../tests/props/mod.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    props::s3_meta::check(data);
});
