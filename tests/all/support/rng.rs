//! A small seeded generator for tests (xorshift64*, no dependency), so that every random
//! test names its seed and replays from it.

/// xorshift64*: fast, seeded, good enough to pick sizes, offsets and edits.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (any value, zero included).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo).saturating_add(1))
    }

    /// `true` with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(len);
        out
    }
}

#[test]
fn the_same_seed_gives_the_same_numbers_and_others_differ() {
    let (mut a, mut b, mut c) = (Rng::new(7), Rng::new(7), Rng::new(8));
    let (xa, xb, xc): (Vec<u64>, Vec<u64>, Vec<u64>) = (
        (0..8).map(|_| a.next_u64()).collect(),
        (0..8).map(|_| b.next_u64()).collect(),
        (0..8).map(|_| c.next_u64()).collect(),
    );
    assert_eq!(xa, xb);
    assert_ne!(xa, xc);
    assert!((0..1000).all(|_| a.between(3, 5) >= 3 && a.between(3, 5) <= 5));
    assert_eq!(Rng::new(0).bytes(13).len(), 13);
}
