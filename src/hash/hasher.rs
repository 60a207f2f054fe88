//! [`Hasher`]: computes several kinds of hash in one pass over the bytes.

use std::fmt;

use super::{Hash, HashKind, HashKinds};
use crate::error::{Error, ErrorKind, Result};

/// Hashes a stream of bytes in several kinds at once.
///
/// MD5, SHA-1 and SHA-256 are pure-Rust implementations behind the features `md5`, `sha1`
/// and `sha256`; CRC-32C is always available. Asking for a kind whose feature is off is
/// [`ErrorKind::Unsupported`]; [`Hasher::available`] says which kinds this build has.
///
/// ```
/// use omnistorage::{HashKind, HashKinds, Hasher};
///
/// let mut h = Hasher::new(HashKinds::NONE.with(HashKind::Crc32c))?;
/// h.update(b"123456789");
/// let [crc] = h.finish()[..] else { unreachable!() };
/// assert_eq!(crc.to_hex(), "e3069283"); // the CRC-32C check value
/// # Ok::<(), omnistorage::Error>(())
/// ```
#[derive(Clone)]
pub struct Hasher {
    #[cfg(feature = "md5")]
    md5: Option<md5::Md5>,
    #[cfg(feature = "sha1")]
    sha1: Option<sha1::Sha1>,
    #[cfg(feature = "sha256")]
    sha256: Option<sha2::Sha256>,
    crc32c: Option<u32>,
    kinds: HashKinds,
}

impl Hasher {
    /// The kinds this build can compute.
    pub fn available() -> HashKinds {
        let mut kinds = HashKinds::NONE.with(HashKind::Crc32c);
        if cfg!(feature = "md5") {
            kinds = kinds.with(HashKind::Md5);
        }
        if cfg!(feature = "sha1") {
            kinds = kinds.with(HashKind::Sha1);
        }
        if cfg!(feature = "sha256") {
            kinds = kinds.with(HashKind::Sha256);
        }
        kinds
    }

    /// A hasher for `kinds`; a kind this build cannot compute is [`ErrorKind::Unsupported`].
    pub fn new(kinds: HashKinds) -> Result<Hasher> {
        if let Some(missing) = kinds.iter().find(|k| !Hasher::available().contains(*k)) {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "computing {missing} hashes needs the crate feature `{}`",
                    missing.name()
                ),
            ));
        }
        Ok(Hasher {
            #[cfg(feature = "md5")]
            md5: kinds
                .contains(HashKind::Md5)
                .then(<md5::Md5 as md5::Digest>::new),
            #[cfg(feature = "sha1")]
            sha1: kinds
                .contains(HashKind::Sha1)
                .then(<sha1::Sha1 as sha1::Digest>::new),
            #[cfg(feature = "sha256")]
            sha256: kinds
                .contains(HashKind::Sha256)
                .then(<sha2::Sha256 as sha2::Digest>::new),
            crc32c: kinds.contains(HashKind::Crc32c).then_some(!0),
            kinds,
        })
    }

    /// The kinds this hasher computes.
    pub fn kinds(&self) -> HashKinds {
        self.kinds
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        #[cfg(feature = "md5")]
        if let Some(h) = &mut self.md5 {
            md5::Digest::update(h, data);
        }
        #[cfg(feature = "sha1")]
        if let Some(h) = &mut self.sha1 {
            sha1::Digest::update(h, data);
        }
        #[cfg(feature = "sha256")]
        if let Some(h) = &mut self.sha256 {
            sha2::Digest::update(h, data);
        }
        if let Some(crc) = &mut self.crc32c {
            *crc = super::crc32c::update(*crc, data);
        }
    }

    /// The hashes of everything fed, in [`HashKind::ALL`] order.
    pub fn finish(self) -> Vec<Hash> {
        let mut out = Vec::new();
        #[cfg(feature = "md5")]
        if let Some(h) = self.md5 {
            out.push(digest(HashKind::Md5, &md5::Digest::finalize(h)));
        }
        #[cfg(feature = "sha1")]
        if let Some(h) = self.sha1 {
            out.push(digest(HashKind::Sha1, &sha1::Digest::finalize(h)));
        }
        #[cfg(feature = "sha256")]
        if let Some(h) = self.sha256 {
            out.push(digest(HashKind::Sha256, &sha2::Digest::finalize(h)));
        }
        if let Some(crc) = self.crc32c {
            out.push(digest(HashKind::Crc32c, &(!crc).to_be_bytes()));
        }
        out
    }
}

/// A digest of the right length for its kind, by construction.
fn digest(kind: HashKind, bytes: &[u8]) -> Hash {
    let mut buf = [0u8; super::MAX_LEN];
    buf[..bytes.len()].copy_from_slice(bytes);
    Hash { kind, bytes: buf }
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hasher")
            .field("kinds", &self.kinds)
            .finish()
    }
}
