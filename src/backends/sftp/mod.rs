//! The SFTP backend (feature `sftp`): a directory tree on an SSH server, through libssh2.
//!
//! (Being written: issue 12.)

mod known_hosts;
mod pattern;
mod ssh_config;

/// The parsers, for the fuzz targets (`fuzz/fuzz_targets/sftp_*.rs`) and their regression
/// tests. Not a stable API.
#[doc(hidden)]
pub mod fuzzing {}
