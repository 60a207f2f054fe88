//! Progress (placeholder).
use std::io::Read;
use std::time::Duration;

/// Counters.
#[derive(Clone, Debug, Default)]
pub struct Stats {}
/// A snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {}
/// One transfer.
#[derive(Debug)]
pub struct Transfer {}
/// A ticker.
pub struct Ticker {}

impl Stats {
    /// New.
    pub fn new() -> Stats { Stats {} }
    /// Planned.
    pub fn add_planned(&self, _files: u64, _bytes: u64) {}
    /// Start.
    pub fn start(&self, _name: &str, _size: u64) -> Transfer { Transfer {} }
    /// Checked.
    pub fn checked(&self, _n: u64) {}
    /// Deleted.
    pub fn deleted(&self, _n: u64) {}
    /// Renamed.
    pub fn renamed(&self, _n: u64) {}
    /// Error.
    pub fn error(&self) {}
    /// Snapshot.
    pub fn snapshot(&self) -> Snapshot { Snapshot {} }
}
impl Transfer {
    /// Add.
    pub fn add(&self, _n: u64) {}
    /// Finish.
    pub fn finish(self, _ok: bool) {}
    /// Counted reader.
    pub fn counted<R: Read>(&self, r: R) -> R { r }
}
impl Ticker {
    /// Start.
    pub fn start(_stats: Stats, _every: Duration, _cb: impl FnMut(&Snapshot) + Send + 'static) -> Ticker { Ticker {} }
    /// Stop.
    pub fn stop(self) {}
}
