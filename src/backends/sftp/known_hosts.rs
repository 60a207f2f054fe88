//! OpenSSH known_hosts files (`man sshd`, "SSH_KNOWN_HOSTS FILE FORMAT"): parsing, checking a
//! server's host key against them, and the line that records a new host.
//!
//! A line is `[marker] hostnames keytype base64-key [comment]`, fields separated by spaces or
//! tabs; blank lines and lines starting with `#` are skipped.
//!
//! - marker: `@revoked` (the key is refused, whatever the host) or `@cert-authority` (the
//!   line is ignored: there is no certificate support here). Any other `@` word makes the
//!   line malformed.
//! - hostnames: a comma-separated pattern list (`*`, `?`, `!negation`; a host on a port other
//!   than 22 is written `[host]:port`, and patterns work inside the brackets too), or one
//!   hashed name `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`. Names compare ASCII
//!   case-insensitively.
//! - keytype must be the type written inside the key blob itself, else the line is malformed.
//!
//! Malformed lines are skipped and counted, never an error: one bad line must not hide the
//! others (OpenSSH does the same).

use sha1::{Digest, Sha1};

use super::pattern;
use crate::hash::{base64_decode, base64_encode};

/// What `hostnames` holds on one line.
#[derive(Debug, Clone)]
enum Names {
    /// A comma-separated pattern list, lower-cased.
    Patterns(String),
    /// `|1|salt|hash`, decoded.
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
}

impl Names {
    /// Whether this field names `name` (already lower-cased).
    fn matches(&self, name: &str) -> bool {
        match self {
            Names::Patterns(list) => pattern::matches_list(list.split(','), name),
            Names::Hashed { salt, hash } => hmac_sha1(salt, name.as_bytes()) == hash.as_slice(),
        }
    }
}

/// One usable line.
#[derive(Debug, Clone)]
struct Entry {
    /// 1-based line number.
    line: usize,
    /// Marked `@revoked`.
    revoked: bool,
    names: Names,
    key_type: String,
    blob: Vec<u8>,
}

/// A parsed known_hosts file.
#[derive(Debug, Clone, Default)]
pub(crate) struct KnownHosts {
    entries: Vec<Entry>,
    skipped: usize,
}

/// What a known_hosts file says about one server's host key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyStatus {
    /// A line for this host has exactly this key.
    Match,
    /// Lines for this host exist with this key type but another key: the key CHANGED.
    Changed {
        /// 1-based line number of the first such line (for the error message).
        line: usize,
    },
    /// This exact key is listed under `@revoked` (for any host): refuse.
    Revoked {
        /// 1-based line number of the first `@revoked` line with this key.
        line: usize,
    },
    /// No line for this host with this key type.
    Unknown {
        /// The key types that ARE known for this host (e.g. `["ssh-rsa"]`), each once, in
        /// file order, so the error can say so.
        other_types: Vec<String>,
    },
}

impl KnownHosts {
    /// Parses a known_hosts file. Never fails: malformed lines are skipped (counted in
    /// [`skipped`](Self::skipped)); `@cert-authority` lines are ignored without being counted.
    pub(crate) fn parse(text: &str) -> KnownHosts {
        let mut out = KnownHosts::default();
        for (index, line) in text.lines().enumerate() {
            match parse_line(line) {
                Line::Blank | Line::CertAuthority => {}
                Line::Malformed => out.skipped += 1,
                Line::Entry {
                    revoked,
                    names,
                    key_type,
                    blob,
                } => out.entries.push(Entry {
                    line: index + 1,
                    revoked,
                    names,
                    key_type,
                    blob,
                }),
            }
        }
        out
    }

    /// How many non-blank, non-comment lines were malformed and skipped.
    pub(crate) fn skipped(&self) -> usize {
        self.skipped
    }

    /// Checks a server's host key.
    ///
    /// `host`: the name or IP the client connects to (as given, no brackets); `port`: its
    /// port (the lines looked for are those for [`host_entry_name`]`(host, port)`).
    /// `key_blob`: the server's raw public key blob (SSH wire format, as libssh2's
    /// `Session::host_key()` returns it). The key type is read from the blob (its first SSH
    /// string); a blob that cannot be read never matches (the answer is then `Unknown`).
    ///
    /// `@revoked` is looked at first: a revoked key is refused even if a line also accepts it.
    pub(crate) fn check(&self, host: &str, port: u16, key_blob: &[u8]) -> HostKeyStatus {
        let key_type = blob_key_type(key_blob);
        if key_type.is_some()
            && let Some(e) = self
                .entries
                .iter()
                .find(|e| e.revoked && e.blob == key_blob)
        {
            return HostKeyStatus::Revoked { line: e.line };
        }
        let name = host_entry_name(host, port).to_ascii_lowercase();
        let for_host = || {
            self.entries
                .iter()
                .filter(|e| !e.revoked)
                .filter(|e| e.names.matches(&name))
        };
        if let Some(key_type) = key_type {
            if for_host().any(|e| e.blob == key_blob) {
                return HostKeyStatus::Match;
            }
            if let Some(e) = for_host().find(|e| e.key_type == key_type) {
                return HostKeyStatus::Changed { line: e.line };
            }
        }
        let mut other_types: Vec<String> = Vec::new();
        for e in for_host() {
            if !other_types.contains(&e.key_type) {
                other_types.push(e.key_type.clone());
            }
        }
        HostKeyStatus::Unknown { other_types }
    }
}

/// `SHA256:<base64 without padding>` of a SHA-256 digest, exactly as `ssh-keygen -l` prints
/// it.
pub(crate) fn fingerprint(sha256_digest: &[u8]) -> String {
    format!(
        "SHA256:{}",
        base64_encode(sha256_digest).trim_end_matches('=')
    )
}

/// The name a host has in known_hosts: `host` for port 22, `[host]:port` otherwise.
pub(crate) fn host_entry_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_owned()
    } else {
        format!("[{host}]:{port}")
    }
}

/// A line to append to a known_hosts file for this host and key (plain, not hashed; the host
/// lower-cased): `name keytype base64`, without a line end.
///
/// `None` if the blob's key type cannot be read or cannot stand in the file (empty, or not
/// printable ASCII), or if `host` is not a name a known_hosts line can hold literally: empty,
/// with whitespace, control characters, `,`, `*` or `?` in it, or starting with `!`, `#`,
/// `@` or `|`.
pub(crate) fn line_for(host: &str, port: u16, key_blob: &[u8]) -> Option<String> {
    let key_type = blob_key_type(key_blob)?;
    let host_ok = !host.is_empty()
        && !host
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ',' | '*' | '?'))
        && !host.starts_with(['!', '#', '@', '|']);
    if !host_ok {
        return None;
    }
    let name = host_entry_name(&host.to_ascii_lowercase(), port);
    Some(format!("{name} {key_type} {}", base64_encode(key_blob)))
}

/// The key type a blob declares: its first SSH string (a big-endian `u32` length, then
/// that many bytes), if it is there and is a plausible type name (non-empty printable ASCII,
/// so that it can stand as a field of a known_hosts line).
pub(crate) fn blob_key_type(blob: &[u8]) -> Option<&str> {
    let len_bytes: [u8; 4] = blob.get(..4)?.try_into().ok()?;
    let len = usize::try_from(u32::from_be_bytes(len_bytes)).ok()?;
    let end = len.checked_add(4)?;
    let name = std::str::from_utf8(blob.get(4..end)?).ok()?;
    let plausible = !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic());
    plausible.then_some(name)
}

/// One line, classified.
enum Line {
    /// Blank or a comment.
    Blank,
    /// `@cert-authority`: ignored.
    CertAuthority,
    /// Skipped, counted.
    Malformed,
    Entry {
        revoked: bool,
        names: Names,
        key_type: String,
        blob: Vec<u8>,
    },
}

fn parse_line(line: &str) -> Line {
    let line = line.trim_start_matches([' ', '\t']);
    if line.is_empty() || line.starts_with('#') {
        return Line::Blank;
    }
    let mut fields = line.split([' ', '\t']).filter(|f| !f.is_empty());
    let Some(mut first) = fields.next() else {
        return Line::Blank;
    };
    let mut revoked = false;
    if first.starts_with('@') {
        match first {
            "@revoked" => revoked = true,
            "@cert-authority" => return Line::CertAuthority,
            _ => return Line::Malformed,
        }
        first = match fields.next() {
            Some(f) => f,
            None => return Line::Malformed,
        };
    }
    let (Some(key_type), Some(key)) = (fields.next(), fields.next()) else {
        return Line::Malformed;
    };
    let Some(names) = parse_names(first) else {
        return Line::Malformed;
    };
    let Some(blob) = base64_decode(key) else {
        return Line::Malformed;
    };
    if blob_key_type(&blob) != Some(key_type) {
        return Line::Malformed;
    }
    Line::Entry {
        revoked,
        names,
        key_type: key_type.to_owned(),
        blob,
    }
}

/// The hostnames field: `|1|salt|hash` (a 20-byte salt and a 20-byte HMAC-SHA1, as OpenSSH
/// writes and requires) or a pattern list.
fn parse_names(field: &str) -> Option<Names> {
    if let Some(hashed) = field.strip_prefix("|1|") {
        let (salt, hash) = hashed.split_once('|')?;
        let salt = base64_decode(salt)?;
        let hash = base64_decode(hash)?;
        return (salt.len() == 20 && hash.len() == 20).then_some(Names::Hashed { salt, hash });
    }
    if field.starts_with('|') {
        // Another hash format: not one we can read.
        return None;
    }
    Some(Names::Patterns(field.to_ascii_lowercase()))
}

/// HMAC-SHA1 (RFC 2104, 64-byte block).
fn hmac_sha1(key: &[u8], message: &[u8]) -> Vec<u8> {
    const BLOCK: usize = 64;
    let mut block_key = [0u8; BLOCK];
    if key.len() > BLOCK {
        let digest = Sha1::digest(key);
        for (slot, b) in block_key.iter_mut().zip(digest.iter()) {
            *slot = *b;
        }
    } else {
        for (slot, b) in block_key.iter_mut().zip(key) {
            *slot = *b;
        }
    }
    let ipad: Vec<u8> = block_key.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = block_key.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha1::new()
        .chain_update(&ipad)
        .chain_update(message)
        .finalize();
    Sha1::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize()
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::hex_decode;

    // Made once on a development machine with
    //   ssh-keygen -q -t ed25519 -N '' -C fixture -f k1   (and k2, and `-t ecdsa -b 256` k3)
    // and copied from k1.pub, k2.pub, k3.pub.
    const K1: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIG7DQYkqmnJE2d00m8mdwJYZ8V5QsOxkA4+S5g1cls/7";
    const K2: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIPIXb4+oWyrIDmdDVvA/+RHkOfqd62U481DiAMe+00pX";
    const K3: &str = "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHX3f+7EGWJyVeDOg5Vln1Tzgdzksh9iVIb7pi6CwH1Hq0/Z9h29KR1pGQvAvYwEmTsWO1kHZo48+0s3g2o4EI0=";

    fn blob(b64: &str) -> Vec<u8> {
        base64_decode(b64).unwrap_or_default()
    }

    fn hex(text: &str) -> Vec<u8> {
        hex_decode(text).unwrap_or_default()
    }

    #[test]
    fn hmac_sha1_matches_rfc2202_vectors() {
        let aa80 = [0xaau8; 80];
        let key4: Vec<u8> = (1..=25).collect();
        let cases: [(&[u8], &[u8], &str); 7] = [
            (
                &[0x0b; 20],
                b"Hi There",
                "b617318655057264e28bc0b6fb378c8ef146be00",
            ),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
            ),
            (
                &[0xaa; 20],
                &[0xdd; 50],
                "125d7342b9ac11cd91a39af48aa17b4f63f175d3",
            ),
            (
                &key4,
                &[0xcd; 50],
                "4c9007f4026250c6bc8414f9bf50c86c2d7235da",
            ),
            (
                &[0x0c; 20],
                b"Test With Truncation",
                "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04",
            ),
            (
                &aa80,
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "aa4ae5e15272d00e95705637ce8a3b55ed402112",
            ),
            (
                &aa80,
                b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
                "e8e99d0f45237d786d6bbaa7965c7808bbff1a91",
            ),
        ];
        for (key, data, want) in cases {
            assert_eq!(hmac_sha1(key, data), hex(want), "{want}");
        }
    }

    #[test]
    fn fingerprint_equals_ssh_keygen_l() {
        // `ssh-keygen -l -f k1.pub` printed
        //   256 SHA256:HpwuAU51BF8yAmr2DyUHP4DHCy/hFam621Q8Gz6yFBg fixture (ED25519)
        // and `cut -d' ' -f2 k1.pub | base64 -d | sha256sum` the digest below (libssh2's
        // `host_key_hash(Sha256)` gives the same digest of the blob).
        let digest = hex("1e9c2e014e75045f32026af60f25073f80c70b2fe115a9badb543c1b3eb21418");
        assert_eq!(
            fingerprint(&digest),
            "SHA256:HpwuAU51BF8yAmr2DyUHP4DHCy/hFam621Q8Gz6yFBg"
        );
        // k3 (ECDSA): SHA256:vDYOQTl97XL5U2/MtVYacCW5keXPCBPS4sEjavrubUI
        let digest = hex("bc360e41397ded72f9536fccb5561a7025b991e5cf0813d2e2c1236afaee6d42");
        assert_eq!(
            fingerprint(&digest),
            "SHA256:vDYOQTl97XL5U2/MtVYacCW5keXPCBPS4sEjavrubUI"
        );
    }

    #[test]
    fn host_entry_name_brackets_only_other_ports() {
        assert_eq!(host_entry_name("example.org", 22), "example.org");
        assert_eq!(host_entry_name("example.org", 2222), "[example.org]:2222");
        assert_eq!(host_entry_name("::1", 2222), "[::1]:2222");
    }

    #[test]
    fn plain_line_matches_its_host_only() {
        let kh = KnownHosts::parse(&format!("example.org ssh-ed25519 {K1} a comment\n"));
        assert_eq!(kh.skipped(), 0);
        assert_eq!(kh.check("example.org", 22, &blob(K1)), HostKeyStatus::Match);
        assert_eq!(kh.check("EXAMPLE.org", 22, &blob(K1)), HostKeyStatus::Match);
        assert_eq!(
            kh.check("other.org", 22, &blob(K1)),
            HostKeyStatus::Unknown {
                other_types: vec![]
            }
        );
    }

    #[test]
    fn names_and_tabs_are_case_insensitive_and_split() {
        let kh = KnownHosts::parse(&format!(
            "  Alpha.ORG,beta.org,192.0.2.7\tssh-ed25519\t{K1}\n"
        ));
        for host in ["alpha.org", "beta.org", "192.0.2.7", "ALPHA.org"] {
            assert_eq!(
                kh.check(host, 22, &blob(K1)),
                HostKeyStatus::Match,
                "{host}"
            );
        }
        assert_ne!(kh.check("gamma.org", 22, &blob(K1)), HostKeyStatus::Match);
    }

    #[test]
    fn wildcards_match() {
        let kh = KnownHosts::parse(&format!("*.example.org,host?.net ssh-ed25519 {K1}\n"));
        assert_eq!(
            kh.check("a.example.org", 22, &blob(K1)),
            HostKeyStatus::Match
        );
        assert_eq!(kh.check("host7.net", 22, &blob(K1)), HostKeyStatus::Match);
        assert_ne!(kh.check("host77.net", 22, &blob(K1)), HostKeyStatus::Match);
        assert_ne!(kh.check("example.org", 22, &blob(K1)), HostKeyStatus::Match);
    }

    #[test]
    fn negation_excludes_a_host() {
        let kh = KnownHosts::parse(&format!(
            "*.example.org,!secret.example.org ssh-ed25519 {K1}\n"
        ));
        assert_eq!(
            kh.check("a.example.org", 22, &blob(K1)),
            HostKeyStatus::Match
        );
        assert_eq!(
            kh.check("secret.example.org", 22, &blob(K1)),
            HostKeyStatus::Unknown {
                other_types: vec![]
            }
        );
    }

    #[test]
    fn non_standard_port_uses_brackets_and_22_the_bare_name() {
        let kh = KnownHosts::parse(&format!(
            "[example.org]:2222 ssh-ed25519 {K1}\nexample.org ssh-ed25519 {K2}\n\
             [*.example.net]:2200 ssh-ed25519 {K1}\n[example.com]:22 ssh-ed25519 {K1}\n"
        ));
        assert_eq!(
            kh.check("example.org", 2222, &blob(K1)),
            HostKeyStatus::Match
        );
        assert_eq!(kh.check("example.org", 22, &blob(K2)), HostKeyStatus::Match);
        // The port-22 line does not vouch for port 2222, nor the 2222 line for 22.
        assert_eq!(
            kh.check("example.org", 2222, &blob(K2)),
            HostKeyStatus::Changed { line: 1 }
        );
        assert_eq!(
            kh.check("example.org", 22, &blob(K1)),
            HostKeyStatus::Changed { line: 2 }
        );
        // Patterns inside the brackets.
        assert_eq!(
            kh.check("a.example.net", 2200, &blob(K1)),
            HostKeyStatus::Match
        );
        assert_ne!(
            kh.check("a.example.net", 22, &blob(K1)),
            HostKeyStatus::Match
        );
        // Port 22 is looked up under the bare name, never `[host]:22`.
        assert_ne!(kh.check("example.com", 22, &blob(K1)), HostKeyStatus::Match);
    }

    #[test]
    fn hashed_entries_made_by_ssh_keygen_match() {
        // Made with OpenSSH 9.2p1: a file holding the two plain lines
        //   example.org ssh-ed25519 <K1>
        //   [example.org]:2222 ssh-ed25519 <K2>
        // hashed by `ssh-keygen -H -f FILE` (and `ssh-keygen -F example.org -f FILE` and
        // `-F '[example.org]:2222'` found lines 1 and 2).
        let text = format!(
            "|1|him/oP2sLY+PJDF6CyqYobvnrpA=|KuMXVwIXpzF+/0UPrownGjFXQR4= ssh-ed25519 {K1}\n\
             |1|0QPSLatjVEUy1h80tWsUYcDiBAg=|UYkYAWPHcCu+lxX4EBRiopHKXi4= ssh-ed25519 {K2}\n"
        );
        let kh = KnownHosts::parse(&text);
        assert_eq!(kh.skipped(), 0);
        assert_eq!(kh.check("example.org", 22, &blob(K1)), HostKeyStatus::Match);
        assert_eq!(kh.check("Example.Org", 22, &blob(K1)), HostKeyStatus::Match);
        assert_eq!(
            kh.check("example.org", 2222, &blob(K2)),
            HostKeyStatus::Match
        );
        assert_eq!(
            kh.check("example.org", 22, &blob(K2)),
            HostKeyStatus::Changed { line: 1 }
        );
        assert_eq!(
            kh.check("example.net", 22, &blob(K1)),
            HostKeyStatus::Unknown {
                other_types: vec![]
            }
        );
    }

    #[test]
    fn other_key_of_same_type_is_changed_at_first_line() {
        let kh = KnownHosts::parse(&format!(
            "# comment\n\nother.org ssh-ed25519 {K2}\nexample.org ssh-ed25519 {K2}\n\
             example.org ssh-ed25519 {K2}\n"
        ));
        assert_eq!(
            kh.check("example.org", 22, &blob(K1)),
            HostKeyStatus::Changed { line: 4 }
        );
    }

    #[test]
    fn any_line_with_the_key_matches_even_after_a_changed_one() {
        let kh = KnownHosts::parse(&format!(
            "example.org ssh-ed25519 {K2}\nexample.org ssh-ed25519 {K1}\n"
        ));
        assert_eq!(kh.check("example.org", 22, &blob(K1)), HostKeyStatus::Match);
    }

    #[test]
    fn revoked_key_is_refused_for_any_host_even_if_listed() {
        let kh = KnownHosts::parse(&format!(
            "example.org ssh-ed25519 {K1}\n@revoked * ssh-ed25519 {K1}\n\
             @revoked\tnowhere.invalid ssh-ed25519 {K2}\n"
        ));
        assert_eq!(kh.skipped(), 0);
        assert_eq!(
            kh.check("example.org", 22, &blob(K1)),
            HostKeyStatus::Revoked { line: 2 }
        );
        assert_eq!(
            kh.check("elsewhere.org", 2222, &blob(K2)),
            HostKeyStatus::Revoked { line: 3 }
        );
    }

    #[test]
    fn revoked_lines_do_not_make_a_host_known() {
        let kh = KnownHosts::parse(&format!("@revoked example.org ssh-ed25519 {K2}\n"));
        assert_eq!(
            kh.check("example.org", 22, &blob(K1)),
            HostKeyStatus::Unknown {
                other_types: vec![]
            }
        );
    }

    #[test]
    fn unknown_type_lists_the_types_that_are_known() {
        let kh = KnownHosts::parse(&format!(
            "example.org ecdsa-sha2-nistp256 {K3}\nexample.org ecdsa-sha2-nistp256 {K3}\n"
        ));
        assert_eq!(
            kh.check("example.org", 22, &blob(K1)),
            HostKeyStatus::Unknown {
                other_types: vec!["ecdsa-sha2-nistp256".to_owned()]
            }
        );
        let kh = KnownHosts::parse(&format!(
            "example.org ecdsa-sha2-nistp256 {K3}\nexample.org ssh-ed25519 {K1}\n"
        ));
        assert_eq!(
            kh.check(
                "example.org",
                22,
                &[0, 0, 0, 7, b's', b's', b'h', b'-', b'r', b's', b'a']
            ),
            HostKeyStatus::Unknown {
                other_types: vec!["ecdsa-sha2-nistp256".to_owned(), "ssh-ed25519".to_owned()]
            }
        );
    }

    #[test]
    fn unreadable_blob_never_matches() {
        let kh = KnownHosts::parse(&format!("example.org ssh-ed25519 {K1}\n"));
        for bad in [
            &[][..],
            &[0, 0, 0],
            &[0, 0, 0, 9, b'x'],
            &[255, 255, 255, 255],
        ] {
            assert_eq!(
                kh.check("example.org", 22, bad),
                HostKeyStatus::Unknown {
                    other_types: vec!["ssh-ed25519".to_owned()]
                }
            );
        }
    }

    #[test]
    fn malformed_lines_are_skipped_and_counted() {
        let text = format!(
            "example.org\n\
             example.org ssh-ed25519\n\
             example.org ssh-ed25519 not-base64!\n\
             example.org ssh-rsa {K1}\n\
             @bogus example.org ssh-ed25519 {K1}\n\
             @revoked\n\
             |1|short|KuMXVwIXpzF+/0UPrownGjFXQR4= ssh-ed25519 {K1}\n\
             |2|him/oP2sLY+PJDF6CyqYobvnrpA=|KuMXVwIXpzF+/0UPrownGjFXQR4= ssh-ed25519 {K1}\n\
             @cert-authority *.example.org ssh-ed25519 {K1}\n\
             \t# a comment\n\
             \n\
             good.org ssh-ed25519 {K1}\n"
        );
        let kh = KnownHosts::parse(&text);
        assert_eq!(kh.skipped(), 8);
        // The good line still works, and the skipped ones (wrong keytype) do not count.
        assert_eq!(kh.check("good.org", 22, &blob(K1)), HostKeyStatus::Match);
        assert_eq!(
            kh.check("example.org", 22, &blob(K1)),
            HostKeyStatus::Unknown {
                other_types: vec![]
            }
        );
    }

    #[test]
    fn line_for_round_trips_and_refuses_what_it_cannot_write() {
        let line = line_for("Example.org", 2222, &blob(K1)).unwrap_or_default();
        assert_eq!(line, format!("[example.org]:2222 ssh-ed25519 {K1}"));
        let kh = KnownHosts::parse(&line);
        assert_eq!(
            kh.check("example.org", 2222, &blob(K1)),
            HostKeyStatus::Match
        );
        assert_eq!(
            line_for("example.org", 22, &blob(K1)).unwrap_or_default(),
            format!("example.org ssh-ed25519 {K1}")
        );
        for host in ["", "a b", "a,b", "*", "!a", "#a", "@a", "|1|x"] {
            assert_eq!(line_for(host, 22, &blob(K1)), None, "{host:?}");
        }
        assert_eq!(line_for("example.org", 22, &[0, 0, 0, 1]), None);
        assert_eq!(line_for("example.org", 22, &[0, 0, 0, 1, b' ']), None);
    }
}
