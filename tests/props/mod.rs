//! Properties shared by the fuzz targets (`fuzz/fuzz_targets/`) and the regression tests
//! (`tests/all/fuzz_regressions.rs`).
//!
//! Each property is a `pub fn check(data: &[u8])` that decodes what it needs from the raw
//! bytes itself (no `arbitrary` crate, so `cargo test` needs no extra dependency) and panics
//! when the property fails. Any byte string is a valid input.

#[cfg(all(feature = "gzip", feature = "zstd"))]
pub mod compress_roundtrip;
#[cfg(all(feature = "gzip", feature = "zstd"))]
mod decode;
#[cfg(all(feature = "gzip", feature = "zstd"))]
pub mod gzip_decode;
#[cfg(all(feature = "gzip", feature = "zstd"))]
pub mod zstd_decode;
