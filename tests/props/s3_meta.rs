//! The S3 backend's header formats (`src/backends/s3/meta.rs`): rclone's `mtime`, HTTP dates
//! and RFC 3339 times never panic, and `mtime` round trips to the nanosecond.
//!
//! The input is read as UTF-8 with `String::from_utf8_lossy` for the parsers; its first 12
//! bytes also make a time (seconds and nanoseconds) for the round trip.

use std::time::{Duration, UNIX_EPOCH};

use omnistorage::backends::s3::fuzzing;

/// Checks the property on one input; panics if it fails.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = fuzzing::parse_http_date(&text);
    let _ = fuzzing::parse_rfc3339_seconds(&text);
    if let Some(t) = fuzzing::parse_mtime(&text) {
        // What parses, formats to a text that parses to the same time.
        let again = fuzzing::format_mtime(t).expect("a parsed time is after the epoch");
        assert_eq!(
            fuzzing::parse_mtime(&again),
            Some(t),
            "{text:?} -> {again:?}"
        );
    }

    let mut bytes = [0u8; 12];
    for (b, d) in bytes.iter_mut().zip(data) {
        *b = *d;
    }
    let secs = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) % 100_000_000_000;
    let nanos = u32::from_le_bytes(bytes[8..].try_into().expect("4 bytes")) % 1_000_000_000;
    let t = UNIX_EPOCH + Duration::new(secs, nanos);
    let text = fuzzing::format_mtime(t).expect("after the epoch");
    assert_eq!(fuzzing::parse_mtime(&text), Some(t), "{text}");
}
