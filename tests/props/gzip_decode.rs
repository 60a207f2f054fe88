//! `gzip_decode`: arbitrary bytes through `compress::gzip::Reader` give data or `Corrupt`,
//! never a panic, whatever the pieces they arrive in; the reader underneath keeps its errors.
//! See `decode.rs`.

use omnistorage::compress::Compression;

/// Checks the property on one input; panics if it fails.
pub fn check(data: &[u8]) {
    super::decode::check(Compression::Gzip, data);
}
