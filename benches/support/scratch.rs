//! What the hash and cancellation benchmarks share (`#[path]`): their settings from the
//! environment, a scratch directory removed at the end, and incompressible bytes.

#![allow(dead_code)]

use std::error::Error;
use std::path::PathBuf;

pub type BoxResult<T> = Result<T, Box<dyn Error>>;

pub const MIB: usize = 1024 * 1024;

/// The number in the environment variable `name`, or `default` when it is not set.
pub fn env_number(name: &str, default: usize) -> BoxResult<usize> {
    match std::env::var(name) {
        Ok(v) => Ok(v.parse().map_err(|e| format!("{name}={v:?}: {e}"))?),
        Err(_) => Ok(default),
    }
}

/// Deterministic pseudo-random bytes (xorshift64), fast enough not to matter.
pub fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A fresh directory under `OMNISTORAGE_BENCH_DIR` (default: the system temp directory),
/// never inside the repository, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> BoxResult<Scratch> {
        let base = std::env::var_os("OMNISTORAGE_BENCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let dir = base.join(format!("omnistorage-{name}-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
