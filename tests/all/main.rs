//! The integration tests, in one binary (build time matters on small machines).

mod channel;
mod compress;
mod conformance;
mod file;
mod format;
mod multi;
mod registry;
#[cfg(feature = "s3")]
mod s3;
mod support;
