//! zstd compression.
