//! The replies the SFTP backend's own small client reads on its extension channel
//! (`src/backends/sftp/ext.rs`: VERSION, STATUS, HANDLE and `statvfs@openssh.com` bodies
//! from the server): no input
//! makes them panic, and bodies written the way SFTP v3 frames them read back what was
//! framed.
//!
//! The whole input goes to every parser; then it is cut at NUL bytes into names (the first
//! piece also serves as a handle, and its first four bytes as a status code).

use omnistorage::backends::sftp::fuzzing::{ext_replies, ext_statvfs};

fn string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

/// Checks the property on one input; panics if it does not hold.
pub fn check(data: &[u8]) {
    let _ = ext_replies(data);
    let _ = ext_statvfs(data);
    let pieces: Vec<&[u8]> = data.split(|&b| b == 0).collect();
    // VERSION 3 with each piece as an extension name (and empty data).
    let mut version = 3u32.to_be_bytes().to_vec();
    for p in &pieces {
        string(&mut version, p);
        string(&mut version, b"1");
    }
    let names: Vec<String> = pieces
        .iter()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    assert_eq!(ext_replies(&version).0, Some(names), "VERSION round trip");
    // A STATUS with the code from the first four bytes, then a message and a language tag.
    let first = pieces.first().copied().unwrap_or_default();
    let code = first
        .get(..4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let mut status = code.to_be_bytes().to_vec();
    string(&mut status, b"message");
    string(&mut status, b"en");
    assert_eq!(ext_replies(&status).1, Some(code), "STATUS round trip");
    // A HANDLE.
    let mut handle = Vec::new();
    string(&mut handle, first);
    assert_eq!(
        ext_replies(&handle).2,
        Some(first.to_vec()),
        "HANDLE round trip"
    );
    // A statvfs reply: eleven numbers from the input's bytes (zeros past its end).
    let n = |i: usize| {
        let mut b = [0u8; 8];
        for (j, byte) in b.iter_mut().enumerate() {
            *byte = data.get(i * 8 + j).copied().unwrap_or(0);
        }
        u64::from_be_bytes(b)
    };
    let reply: Vec<u8> = (0..11).flat_map(|i| n(i).to_be_bytes()).collect();
    let unit = if n(1) == 0 { n(0) } else { n(1) };
    assert_eq!(
        ext_statvfs(&reply),
        Some([unit, n(2), n(3), n(4)]),
        "statvfs round trip"
    );
}
