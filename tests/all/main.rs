//! The integration tests, in one binary (build time matters on small machines).

#[path = "../props/mod.rs"]
mod props;

mod channel;
#[cfg(any(feature = "s3", feature = "sftp", feature = "cli"))]
mod chaos;
#[cfg(feature = "cli")]
mod cli;
mod compress;
mod conformance;
mod copy_route;
mod docs;
mod file;
mod format;
mod fuzz_regressions;
mod hash;
mod helpers;
mod layers;
mod minimal_backend;
mod multi;
mod registry;
#[cfg(feature = "s3")]
mod s3;
#[cfg(feature = "sftp")]
mod sftp;
mod support;
#[cfg(feature = "sync")]
mod sync;
mod text_paths;
mod unknown_keys;
mod wrap;
