//! Content hashes: the kinds ([`HashKind`], [`HashKinds`]), the value type ([`Hash`]), the
//! [`Hasher`] that computes them, and the [`HashingReader`] and [`HashingWriter`] that compute
//! them on the way through.
//!
//! A [`Hash`] is a kind and its digest bytes, compared by value, printed as lower-case hex,
//! and parsed from hex or base64 (S3 sends MD5s as hex in ETags and as base64 in
//! `Content-MD5`).
//!
//! ```
//! use omnistorage::{Hash, HashKind};
//!
//! let h = Hash::from_hex(HashKind::Md5, "900150983CD24FB0D6963F7D28E17F72")?;
//! assert_eq!(h.to_string(), "900150983cd24fb0d6963f7d28e17f72");
//! assert_eq!(h.to_base64(), "kAFQmDzST7DWlj99KOF/cg==");
//! assert_eq!(Hash::from_base64(HashKind::Md5, "kAFQmDzST7DWlj99KOF/cg==")?, h);
//! assert!(Hash::from_hex(HashKind::Sha1, "9001").is_err()); // wrong length for SHA-1
//! # Ok::<(), omnistorage::Error>(())
//! ```

use std::fmt;

use crate::error::{Error, ErrorKind, Result};

pub(crate) mod crc32c;
mod encoding;
mod hasher;
mod stream;

pub(crate) use encoding::{base64_decode, base64_encode, hex_decode, hex_encode};
pub use hasher::Hasher;
pub use stream::{HashingReader, HashingWriter};

/// A content hash algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum HashKind {
    /// MD5 (S3's ETag of a single-part upload).
    Md5,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
    /// CRC-32C (Castagnoli), as 4 big-endian bytes.
    Crc32c,
}

impl HashKind {
    /// Every kind, in a fixed order.
    pub const ALL: [HashKind; 4] = [
        HashKind::Md5,
        HashKind::Sha1,
        HashKind::Sha256,
        HashKind::Crc32c,
    ];

    /// The lower-case name (`md5`, `sha1`, `sha256`, `crc32c`).
    pub fn name(self) -> &'static str {
        match self {
            HashKind::Md5 => "md5",
            HashKind::Sha1 => "sha1",
            HashKind::Sha256 => "sha256",
            HashKind::Crc32c => "crc32c",
        }
    }

    /// The kind with this name (as [`name`](HashKind::name) gives it; case-insensitive, and
    /// `sha-1`, `sha-256` accepted), or `None`.
    pub fn from_name(name: &str) -> Option<HashKind> {
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "md5" => Some(HashKind::Md5),
            "sha1" | "sha-1" => Some(HashKind::Sha1),
            "sha256" | "sha-256" => Some(HashKind::Sha256),
            "crc32c" => Some(HashKind::Crc32c),
            _ => None,
        }
    }

    /// The length of a digest of this kind, in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            HashKind::Md5 => 16,
            HashKind::Sha1 => 20,
            HashKind::Sha256 => 32,
            HashKind::Crc32c => 4,
        }
    }

    fn bit(self) -> u8 {
        kind_bit(self)
    }
}

impl fmt::Display for HashKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A small set of [`HashKind`]s.
///
/// ```
/// use omnistorage::{HashKind, HashKinds};
///
/// let set = HashKinds::NONE.with(HashKind::Md5).with(HashKind::Sha256);
/// assert!(set.contains(HashKind::Md5));
/// assert_eq!(set.iter().collect::<Vec<_>>(), [HashKind::Md5, HashKind::Sha256]);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct HashKinds(u8);

impl HashKinds {
    /// The empty set.
    pub const NONE: HashKinds = HashKinds(0);

    /// The set with `kind` added.
    pub const fn with(self, kind: HashKind) -> HashKinds {
        HashKinds(self.0 | kind_bit(kind))
    }

    /// Whether `kind` is in the set.
    pub fn contains(self, kind: HashKind) -> bool {
        self.0 & kind.bit() != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The kinds in both sets.
    pub fn intersection(self, other: HashKinds) -> HashKinds {
        HashKinds(self.0 & other.0)
    }

    /// The kinds in either set.
    pub fn union(self, other: HashKinds) -> HashKinds {
        HashKinds(self.0 | other.0)
    }

    /// The kinds in the set, in [`HashKind::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = HashKind> {
        HashKind::ALL.into_iter().filter(move |k| self.contains(*k))
    }
}

const fn kind_bit(kind: HashKind) -> u8 {
    match kind {
        HashKind::Md5 => 1,
        HashKind::Sha1 => 2,
        HashKind::Sha256 => 4,
        HashKind::Crc32c => 8,
    }
}

impl FromIterator<HashKind> for HashKinds {
    fn from_iter<I: IntoIterator<Item = HashKind>>(iter: I) -> HashKinds {
        iter.into_iter().fold(HashKinds::NONE, HashKinds::with)
    }
}

impl fmt::Debug for HashKinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// The longest digest of any [`HashKind`].
const MAX_LEN: usize = 32;

/// A content hash: its kind and its digest, compared by value (two hashes are equal when both
/// kind and bytes are). `Display` prints lower-case hex.
///
/// Built from digest bytes ([`Hash::new`]), hex ([`Hash::from_hex`]) or base64
/// ([`Hash::from_base64`]); each checks the length against the kind.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hash {
    kind: HashKind,
    bytes: [u8; MAX_LEN],
}

impl Hash {
    /// The hash of `kind` with these digest bytes; a length other than
    /// [`HashKind::digest_len`] is [`ErrorKind::InvalidInput`].
    pub fn new(kind: HashKind, digest: &[u8]) -> Result<Hash> {
        if digest.len() != kind.digest_len() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "a {kind} digest is {} bytes, not {}",
                    kind.digest_len(),
                    digest.len()
                ),
            ));
        }
        let mut bytes = [0u8; MAX_LEN];
        bytes[..digest.len()].copy_from_slice(digest);
        Ok(Hash { kind, bytes })
    }

    /// Parses hex (either case). Anything but `2 × len` hex digits is
    /// [`ErrorKind::InvalidInput`].
    pub fn from_hex(kind: HashKind, hex: &str) -> Result<Hash> {
        Hash::decoded(kind, hex_decode(hex), "hex", hex)
    }

    /// Parses standard base64 with padding (as in `Content-MD5`).
    pub fn from_base64(kind: HashKind, text: &str) -> Result<Hash> {
        Hash::decoded(kind, base64_decode(text), "base64", text)
    }

    /// The hash whose digest `text`, in `encoding`, decoded to (`None`: it did not decode).
    fn decoded(
        kind: HashKind,
        digest: Option<Vec<u8>>,
        encoding: &str,
        text: &str,
    ) -> Result<Hash> {
        match digest {
            Some(bytes) => Hash::new(kind, &bytes),
            None => Err(Error::new(
                ErrorKind::InvalidInput,
                format!("not a {encoding} {kind} digest: {text:?}"),
            )),
        }
    }

    /// The kind.
    pub fn kind(&self) -> HashKind {
        self.kind
    }

    /// The digest bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.kind.digest_len()]
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex_encode(self.as_bytes())
    }

    /// Standard base64 with padding.
    pub fn to_base64(&self) -> String {
        base64_encode(self.as_bytes())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_checked() {
        for kind in HashKind::ALL {
            assert!(Hash::new(kind, &vec![0; kind.digest_len()]).is_ok());
            assert!(Hash::new(kind, &vec![0; kind.digest_len() + 1]).is_err());
            assert!(Hash::new(kind, &[]).is_err());
        }
    }

    #[test]
    fn equal_by_kind_and_value() {
        let a = Hash::new(HashKind::Crc32c, &[1, 2, 3, 4]).unwrap();
        let b = Hash::from_hex(HashKind::Crc32c, "01020304").unwrap();
        assert_eq!(a, b);
        assert_ne!(a, Hash::from_hex(HashKind::Crc32c, "01020305").unwrap());
        assert_eq!(format!("{a:?}"), "crc32c:01020304");
    }

    #[test]
    fn names_round_trip() {
        for kind in HashKind::ALL {
            assert_eq!(HashKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(HashKind::from_name("SHA-256"), Some(HashKind::Sha256));
        assert_eq!(HashKind::from_name("whirlpool"), None);
    }
}
