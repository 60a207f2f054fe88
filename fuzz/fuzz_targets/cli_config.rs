//! The CLI's config parser (`src/bin/omnistorage/config/`). The property is in
//! `tests/props/cli_config.rs`, shared with `cargo test`.

#![no_main]

// This target uses one of the properties.
#[allow(dead_code)]
#[path = "../../tests/props/mod.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    props::cli_config::check(data);
});
