//! Properties shared by the fuzz targets (`fuzz/fuzz_targets/`) and the regression tests
//! (`tests/all/fuzz_regressions.rs`).
//!
//! Each property is a `pub fn check(data: &[u8])` that decodes what it needs from the raw
//! bytes itself (no `arbitrary` crate, so `cargo test` needs no extra dependency) and panics
//! when the property fails. Any byte string is a valid input.

pub mod backend_model;
pub mod lengthprefix;
pub mod ndjson_read;
pub mod path_parse;
