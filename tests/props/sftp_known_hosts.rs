//! The SFTP backend's known_hosts parser (`src/backends/sftp/known_hosts.rs`): no input makes
//! it panic, and a line it writes for a host and key is read back as that host's key.
//!
//! The input is read as UTF-8 with `String::from_utf8_lossy` and parsed whole. Its first two
//! bytes are also a port; cut at NUL bytes, its first piece is a host name (used raw, and
//! sanitized to `[a-z0-9.-]` for the round trip), its second a key type and its third the rest
//! of a key blob.

use omnistorage::backends::sftp::fuzzing::{self, HostKeyStatus};

/// Checks the property on one input; panics if it fails.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = fuzzing::known_hosts_skipped(&text);

    let port = match data {
        [a, b, ..] => u16::from_be_bytes([*a, *b]),
        _ => 22,
    };
    let mut pieces = data.split(|&b| b == 0);
    let raw_host = String::from_utf8_lossy(pieces.next().unwrap_or_default());
    let key_type = pieces.next().unwrap_or_default();
    let key_rest = pieces.next().unwrap_or_default();

    // Anything, raw: never panics.
    let _ = fuzzing::known_hosts_check(&text, &raw_host, port, data);
    let _ = fuzzing::known_hosts_check(&text, &raw_host, port, key_rest);
    let fp = fuzzing::fingerprint(key_rest);
    assert!(fp.starts_with("SHA256:") && !fp.ends_with('='), "{fp}");

    // A well-formed blob: a printable key type as its first SSH string, then anything.
    let mut key_type: String = key_type
        .iter()
        .filter(|b| b.is_ascii_graphic())
        .map(|&b| char::from(b))
        .collect();
    if key_type.is_empty() {
        key_type = "ssh-ed25519".to_owned();
    }
    let len = u32::try_from(key_type.len()).expect("short key type");
    let mut blob = len.to_be_bytes().to_vec();
    blob.extend_from_slice(key_type.as_bytes());
    blob.extend_from_slice(key_rest);

    let mut host: String = raw_host
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| matches!(c, 'a'..='z' | '0'..='9' | '.' | '-'))
        .collect();
    if host.is_empty() {
        host = "h".to_owned();
    }

    let line = fuzzing::known_hosts_line(&host, port, &blob)
        .unwrap_or_else(|| panic!("no line for {host:?} {port} {key_type:?}"));
    assert_eq!(fuzzing::known_hosts_skipped(&line), 0, "{line}");
    assert_eq!(
        fuzzing::known_hosts_check(&line, &host, port, &blob),
        HostKeyStatus::Match,
        "{line}"
    );
    assert_eq!(
        fuzzing::known_hosts_check(&line, &host.to_ascii_uppercase(), port, &blob),
        HostKeyStatus::Match,
        "{line}, upper case"
    );
    let none = HostKeyStatus::Unknown {
        other_types: vec![],
    };
    assert_eq!(
        fuzzing::known_hosts_check(&line, &format!("{host}-other"), port, &blob),
        none,
        "{line}, another host"
    );
    assert_eq!(
        fuzzing::known_hosts_check(&line, &host, port.wrapping_add(1), &blob),
        none,
        "{line}, another port"
    );
    // Another key of the same type for this host: changed, at line 1.
    let mut other_blob = blob.clone();
    other_blob.push(0);
    assert_eq!(
        fuzzing::known_hosts_check(&line, &host, port, &other_blob),
        HostKeyStatus::Changed { line: 1 },
        "{line}, another key"
    );

    // After whatever the input holds, the line still vouches for the key, unless the input
    // revokes it.
    let combined = format!("{text}\n{line}\n");
    let status = fuzzing::known_hosts_check(&combined, &host, port, &blob);
    assert!(
        matches!(status, HostKeyStatus::Match | HostKeyStatus::Revoked { .. }),
        "{status:?} for {line} after {text:?}"
    );
}
