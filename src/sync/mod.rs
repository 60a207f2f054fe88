//! The sync engine: make one tree match another, between any two backends.
//!
//! Feature `sync`. rclone is the behaviour reference.

pub mod bwlimit;
pub mod filter;
pub mod progress;
