//! The integration tests, in one binary (build time matters on small machines).

mod conformance;
mod file;
mod registry;
