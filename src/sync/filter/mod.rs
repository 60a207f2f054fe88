//! rclone's filter rules (placeholder until the filter module lands).
use std::time::SystemTime;

/// A filter.
#[derive(Clone, Debug, Default)]
pub struct Filter {}

impl Filter {
    /// Whether an object takes part.
    pub fn include_file(&self, _path: &str, _size: u64, _modified: Option<SystemTime>) -> bool {
        true
    }
    /// Whether a directory may be descended into.
    pub fn include_dir(&self, _path: &str) -> bool {
        true
    }
    /// No rules.
    pub fn is_empty(&self) -> bool {
        true
    }
    /// Rules prune directories.
    pub fn prunes_dirs(&self) -> bool {
        false
    }
}
