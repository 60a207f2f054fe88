//! rclone's `obscure` and `reveal`: how rclone.conf stores passwords (`pass`,
//! `key_file_pass`, ...). Not encryption: AES-256-CTR under a key published in rclone's
//! source, with a random 16-byte IV in front, then base64 (URL alphabet, no padding). It
//! only keeps a password from being read over a shoulder.
//!
//! AES is written here (encryption only, which is all CTR needs; checked against the
//! FIPS-197 vector) because the crate has no AES dependency and this is too small a use to
//! add one. Self-contained (std and `omnistorage`'s error type), so the fuzz targets can
//! include it.

use omnistorage::{Error, ErrorKind};

/// rclone's fixed key (`fs/config/obscure`).
const KEY: [u8; 32] = [
    0x9c, 0x93, 0x5b, 0x48, 0x73, 0x0a, 0x55, 0x4d, 0x6b, 0xfd, 0x7c, 0x63, 0xc8, 0x86, 0xa9, 0x2b,
    0xd3, 0x90, 0x19, 0x8e, 0xb8, 0x12, 0x8a, 0xfb, 0xf4, 0xde, 0x16, 0x2b, 0x8b, 0x95, 0xf6, 0x38,
];

/// Reveals an obscured value, as `rclone reveal` does.
pub fn reveal(obscured: &str) -> Result<String, Error> {
    let bad = |msg: &str| {
        Error::new(
            ErrorKind::InvalidConfig,
            format!("{msg} when revealing password - is it obscured (rclone obscure)?"),
        )
    };
    let bytes = base64_decode(obscured).ok_or_else(|| bad("base64 decode failed"))?;
    if bytes.len() < 16 {
        return Err(bad("input too short"));
    }
    let (iv, data) = bytes.split_at(16);
    let mut iv16 = [0u8; 16];
    iv16.copy_from_slice(iv);
    let mut out = data.to_vec();
    ctr(&mut out, iv16);
    String::from_utf8(out).map_err(|_| bad("not UTF-8"))
}

/// Obscures a value, as `rclone obscure` does, with a fresh IV.
pub fn obscure(plain: &str) -> String {
    obscure_with_iv(plain, fresh_iv())
}

/// Obscures with a given IV (for tests against rclone's vectors).
pub fn obscure_with_iv(plain: &str, iv: [u8; 16]) -> String {
    let mut out = iv.to_vec();
    let mut data = plain.as_bytes().to_vec();
    ctr(&mut data, iv);
    out.extend_from_slice(&data);
    base64_encode(&out)
}

/// 16 unpredictable-enough bytes from std's randomly keyed hasher and the clock. The IV
/// only has to differ between values; the key is public anyway.
fn fresh_iv() -> [u8; 16] {
    use std::hash::{BuildHasher, Hasher};
    let mut iv = [0u8; 16];
    for (i, chunk) in iv.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(i);
        if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            h.write_u128(t.as_nanos());
        }
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    iv
}

/// AES-CTR as Go's `cipher.NewCTR`: the whole 16-byte block is a big-endian counter.
fn ctr(data: &mut [u8], iv: [u8; 16]) {
    let round_keys = expand_key(&KEY);
    let mut counter = u128::from_be_bytes(iv);
    for chunk in data.chunks_mut(16) {
        let stream = encrypt_block(&round_keys, counter.to_be_bytes());
        for (b, s) in chunk.iter_mut().zip(stream) {
            *b ^= s;
        }
        counter = counter.wrapping_add(1);
    }
}

const SBOX: [u8; 256] = sbox();

/// The AES S-box: the multiplicative inverse in GF(2^8), then the affine map.
const fn sbox() -> [u8; 256] {
    let mut s = [0u8; 256];
    let mut p: u8 = 1;
    let mut q: u8 = 1;
    loop {
        // p ← p·3; q ← q/3, so q stays p's inverse.
        p = p ^ (p << 1) ^ if p & 0x80 != 0 { 0x1b } else { 0 };
        q ^= q << 1;
        q ^= q << 2;
        q ^= q << 4;
        if q & 0x80 != 0 {
            q ^= 0x09;
        }
        let x = q ^ q.rotate_left(1) ^ q.rotate_left(2) ^ q.rotate_left(3) ^ q.rotate_left(4);
        s[p as usize] = x ^ 0x63;
        if p == 1 {
            break;
        }
    }
    s[0] = 0x63;
    s
}

fn sub_word(w: [u8; 4]) -> [u8; 4] {
    w.map(|b| SBOX[usize::from(b)])
}

/// AES-256 key schedule: 15 round keys.
fn expand_key(key: &[u8; 32]) -> [[u8; 16]; 15] {
    let mut w = [[0u8; 4]; 60];
    for (i, word) in key.chunks(4).enumerate() {
        w[i].copy_from_slice(word);
    }
    let mut rcon: u8 = 1;
    for i in 8..60 {
        let mut t = w[i - 1];
        if i % 8 == 0 {
            t = sub_word([t[1], t[2], t[3], t[0]]);
            t[0] ^= rcon;
            rcon = xtime(rcon);
        } else if i % 8 == 4 {
            t = sub_word(t);
        }
        for j in 0..4 {
            w[i][j] = w[i - 8][j] ^ t[j];
        }
    }
    let mut keys = [[0u8; 16]; 15];
    for (r, k) in keys.iter_mut().enumerate() {
        for c in 0..4 {
            k[4 * c..4 * c + 4].copy_from_slice(&w[4 * r + c]);
        }
    }
    keys
}

fn xtime(b: u8) -> u8 {
    (b << 1) ^ if b & 0x80 != 0 { 0x1b } else { 0 }
}

/// One AES-256 block encryption; the state is column-major (`s[row + 4·col]`).
fn encrypt_block(keys: &[[u8; 16]; 15], block: [u8; 16]) -> [u8; 16] {
    let mut s = block;
    add(&mut s, &keys[0]);
    for (round, key) in keys.iter().enumerate().skip(1) {
        s = s.map(|b| SBOX[usize::from(b)]);
        let old = s;
        for r in 0..4 {
            for c in 0..4 {
                s[r + 4 * c] = old[r + 4 * ((c + r) % 4)];
            }
        }
        if round != 14 {
            for c in 0..4 {
                let a = [s[4 * c], s[4 * c + 1], s[4 * c + 2], s[4 * c + 3]];
                let all = a[0] ^ a[1] ^ a[2] ^ a[3];
                for r in 0..4 {
                    s[4 * c + r] = a[r] ^ all ^ xtime(a[r] ^ a[(r + 1) % 4]);
                }
            }
        }
        add(&mut s, key);
    }
    s
}

fn add(s: &mut [u8; 16], key: &[u8; 16]) {
    for (b, k) in s.iter_mut().zip(key) {
        *b ^= k;
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64, URL alphabet, no padding (Go's `base64.RawURLEncoding`).
fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = B64.iter().position(|&b| b == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // A lone trailing character (6 bits) cannot end a valid encoding.
    (bits < 6).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aes256_matches_fips_197() {
        let key: [u8; 32] = std::array::from_fn(|i| i as u8);
        let plain: [u8; 16] = std::array::from_fn(|i| (i as u8) * 0x11);
        let got = encrypt_block(&expand_key(&key), plain);
        let want = [
            0x8e, 0xa2, 0xb7, 0xca, 0x51, 0x67, 0x45, 0xbf, 0xea, 0xfc, 0x49, 0x90, 0x4b, 0x49,
            0x60, 0x89,
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn obscure_matches_rclone_vectors() {
        for (plain, want, iv) in [
            ("", "YWFhYWFhYWFhYWFhYWFhYQ", *b"aaaaaaaaaaaaaaaa"),
            (
                "potato",
                "YWFhYWFhYWFhYWFhYWFhYXMaGgIlEQ",
                *b"aaaaaaaaaaaaaaaa",
            ),
            (
                "potato",
                "YmJiYmJiYmJiYmJiYmJiYp3gcEWbAw",
                *b"bbbbbbbbbbbbbbbb",
            ),
        ] {
            assert_eq!(obscure_with_iv(plain, iv), want);
            assert_eq!(reveal(want).unwrap(), plain);
        }
    }

    #[test]
    fn reveal_errors_like_rclone() {
        for bad in ["YmJiYmJiYmJiYmJiYmJiYp*gcEWbAw", "aGVsbG8", ""] {
            let e = reveal(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{bad}");
            assert!(e.to_string().contains("is it obscured"), "{e}");
        }
    }

    #[test]
    fn obscure_round_trips_with_fresh_ivs() {
        let long = "a long password, longer than one AES block of sixteen bytes ✓";
        let (a, b) = (obscure(long), obscure(long));
        assert_ne!(a, b, "fresh IVs");
        assert_eq!(reveal(&a).unwrap(), long);
        assert_eq!(reveal(&b).unwrap(), long);
    }
}
