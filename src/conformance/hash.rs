//! `hash`: stored hashes agree with computed ones, computed ones with [`Hasher`].

use super::support::*;
use crate::{Backend, ErrorKind, Hash, HashKind, HashKinds, Hasher};

fn computed(data: &[u8], kind: HashKind) -> Hash {
    let mut hasher = Hasher::new(HashKinds::NONE.with(kind)).expect("hasher");
    hasher.update(data);
    hasher.finish().into_iter().next().expect("one hash")
}

/// Every kind this build can compute: `hash` answers what [`Hasher`] computes over the
/// object's bytes (read from the store, or stored by it); a kind neither stored nor
/// computable is `Unsupported`.
pub fn hash_equals_hasher_over_the_bytes(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    let data = pattern(100_003, 11);
    put(b, "hashed/x", &data);
    for kind in HashKind::ALL {
        let got = b.hash(&p("hashed/x"), kind, None);
        if Hasher::available().contains(kind) {
            let got = got.unwrap_or_else(|e| panic!("hash {kind}: {}", e.display_chain()));
            assert_eq!(got, computed(&data, kind), "{kind}");
        } else if !caps(b).hashes.union(caps(b).server_hashes).contains(kind) {
            unsupported(got, &format!("{kind} hash without its feature"));
        }
    }
    let empty = b"";
    put(b, "hashed/empty", empty);
    let crc = b
        .hash(&p("hashed/empty"), HashKind::Crc32c, None)
        .expect("hash of an empty object");
    assert_eq!(crc, computed(empty, HashKind::Crc32c));
    Ok(())
}

/// A hash the backend stores (`Capabilities::hashes`) is the one `stat` reports and the one
/// computed over the bytes.
pub fn stored_hash_equals_computed(b: &dyn Backend) -> Outcome {
    let stored = caps(b).hashes;
    need(!stored.is_empty(), "Capabilities::hashes")?;
    need_rw(b)?;
    let data = pattern(70_001, 5);
    put(b, "stored-hash", &data);
    for kind in stored.iter() {
        let answered = b.hash(&p("stored-hash"), kind, None).expect("hash");
        if caps(b).stat {
            let stat = b.stat(&p("stored-hash")).expect("stat");
            assert_eq!(stat.hash(kind), Some(answered), "stat's {kind}");
        }
        if Hasher::available().contains(kind) {
            assert_eq!(answered, computed(&data, kind), "stored {kind}");
        }
    }
    Ok(())
}

/// The hash of a missing object is `NotFound`.
pub fn hash_missing_is_not_found(b: &dyn Backend) -> Outcome {
    need(caps(b).read, "Capabilities::read")?;
    need(
        !streams(b),
        "stored objects, not live streams (Capabilities::streams)",
    )?;
    let kinds = Hasher::available().union(caps(b).hashes);
    for kind in kinds.union(caps(b).server_hashes).iter() {
        expect_kind(
            b.hash(&p("ghost"), kind, None),
            ErrorKind::NotFound,
            &format!("{kind} hash of a missing object"),
        );
    }
    Ok(())
}
