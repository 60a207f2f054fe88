//! Properties shared by the fuzz targets (`fuzz/fuzz_targets/`) and the regression tests
//! (`tests/all/fuzz_regressions.rs`).
//!
//! Each property is a `pub fn check(data: &[u8])` that decodes what it needs from the raw
//! bytes itself (no `arbitrary` crate, so `cargo test` needs no extra dependency) and panics
//! when the property fails. Any byte string is a valid input.
//!
//! The compression properties need the `gzip` and `zstd` features, the `s3_*` ones the `s3`
//! feature, the `sftp_*` ones the `sftp` feature, the `cli_*` ones (the binary's config parsers,
//! included by path) the `cli` feature: of the crate under
//! `cargo test`, of the fuzz crate (which forwards them, on by default) under `cargo fuzz`.

pub mod backend_model;
#[cfg(feature = "cli")]
pub mod cli_config;
#[cfg(feature = "cli")]
pub mod cli_remote;
#[cfg(all(feature = "gzip", feature = "zstd"))]
pub mod compress_roundtrip;
#[cfg(feature = "csv")]
pub mod csv_read;
#[cfg(all(feature = "gzip", feature = "zstd"))]
mod decode;
#[cfg(all(feature = "gzip", feature = "zstd"))]
pub mod gzip_decode;
pub mod lengthprefix;
pub mod ndjson_read;
pub mod path_parse;
#[cfg(feature = "s3")]
pub mod s3_list;
#[cfg(feature = "s3")]
pub mod s3_meta;
#[cfg(feature = "s3")]
pub mod s3_xml;
#[cfg(feature = "sftp")]
pub mod sftp_ext;
#[cfg(feature = "sftp")]
pub mod sftp_known_hosts;
#[cfg(feature = "sftp")]
pub mod sftp_ssh_config;
#[cfg(feature = "sync")]
pub mod sync_filter;
mod trickle;
pub mod units_parse;
pub mod url_parse;
#[cfg(all(feature = "gzip", feature = "zstd"))]
pub mod zstd_decode;
