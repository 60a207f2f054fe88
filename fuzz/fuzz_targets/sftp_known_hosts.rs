//! The SFTP backend's known_hosts parser. The property is in
//! `tests/props/sftp_known_hosts.rs`, shared with `cargo test`.

#![no_main]

// This target uses one of the properties.
#[allow(dead_code)]
#[path = "../../tests/props/mod.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    props::sftp_known_hosts::check(data);
});
