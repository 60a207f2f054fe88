//! gzip compression on flate2.
