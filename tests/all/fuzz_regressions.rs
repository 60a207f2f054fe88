//! Replays the fuzz targets' regression inputs (`fuzz/regressions/<target>/`) through the same
//! properties the fuzzer runs (`tests/props/`), so plain `cargo test` keeps every input that
//! once failed, and the hand-made seeds, passing.

use std::path::PathBuf;

use crate::props;

/// Runs `check` on every file in `fuzz/regressions/<target>/`.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|item| item.expect("directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    inputs.sort();
    assert!(
        !inputs.is_empty(),
        "no regression inputs in {}",
        dir.display()
    );
    for path in inputs {
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        eprintln!("{target}: {}", path.display());
        check(&data);
    }
}

#[test]
fn path_parse() {
    replay("path_parse", props::path_parse::check);
}

#[test]
fn backend_model() {
    replay("backend_model", props::backend_model::check);
}

#[test]
fn ndjson_read() {
    replay("ndjson_read", props::ndjson_read::check);
}

#[test]
fn lengthprefix() {
    replay("lengthprefix", props::lengthprefix::check);
}

#[cfg(all(feature = "gzip", feature = "zstd"))]
#[test]
fn gzip_decode() {
    replay("gzip_decode", props::gzip_decode::check);
}

#[cfg(all(feature = "gzip", feature = "zstd"))]
#[test]
fn zstd_decode() {
    replay("zstd_decode", props::zstd_decode::check);
}

#[cfg(all(feature = "gzip", feature = "zstd"))]
#[test]
fn compress_roundtrip() {
    replay("compress_roundtrip", props::compress_roundtrip::check);
}

#[cfg(feature = "s3")]
#[test]
fn s3_xml() {
    replay("s3_xml", props::s3_xml::check);
}

#[cfg(feature = "s3")]
#[test]
fn s3_list() {
    replay("s3_list", props::s3_list::check);
}

#[cfg(feature = "s3")]
#[test]
fn s3_meta() {
    replay("s3_meta", props::s3_meta::check);
}

#[cfg(feature = "sftp")]
#[test]
fn sftp_known_hosts() {
    replay("sftp_known_hosts", props::sftp_known_hosts::check);
}

#[cfg(feature = "sftp")]
#[test]
fn sftp_ssh_config() {
    replay("sftp_ssh_config", props::sftp_ssh_config::check);
}

#[cfg(feature = "sync")]
#[test]
fn sync_filter() {
    replay("sync_filter", props::sync_filter::check);
}

#[cfg(feature = "cli")]
#[test]
fn cli_config() {
    replay("cli_config", props::cli_config::check);
}

#[cfg(feature = "cli")]
#[test]
fn cli_remote() {
    replay("cli_remote", props::cli_remote::check);
}

#[cfg(feature = "csv")]
#[test]
fn csv_read() {
    replay("csv_read", props::csv_read::check);
}

#[test]
fn url_parse() {
    replay("url_parse", props::url_parse::check);
}

#[cfg(feature = "sftp")]
#[test]
fn sftp_ext() {
    replay("sftp_ext", props::sftp_ext::check);
}

#[test]
fn units_parse() {
    replay("units_parse", props::units_parse::check);
}
