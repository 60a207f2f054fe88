//! Compression layers: gzip (feature `gzip`) and zstd (feature `zstd`).

#[cfg(feature = "gzip")]
pub mod gzip;
#[cfg(feature = "zstd")]
pub mod zstd;
