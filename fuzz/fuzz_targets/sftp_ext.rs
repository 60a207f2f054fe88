//! The SFTP backend's extension-channel replies (VERSION, STATUS, HANDLE). The property is in
//! `tests/props/sftp_ext.rs`, shared with `cargo test`.

#![no_main]

// This target uses one of the properties.
#[allow(dead_code)]
#[path = "../../tests/props/mod.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    props::sftp_ext::check(data);
});
