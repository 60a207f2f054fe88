//! Which ciphers and MACs a session offers, in which order.
//!
//! Measured with `scripts/bench-sftp` (a 256 MiB upload, client CPU, side by side with
//! rclone; figures in the CHANGELOG): libssh2's AES-GCM costs the most CPU per byte (about
//! 1.3 s against 0.9 s for AES-CTR and ChaCha20-Poly1305), so AES-CTR comes first and GCM
//! last, which is also OpenSSH's own order after ChaCha20. MACs: the encrypt-then-MAC ones
//! first. What rclone calls insecure (CBC and 3DES ciphers) is offered only when asked for.

/// The ciphers offered by default, most preferred first.
pub const DEFAULT_CIPHERS: &[&str] = &[
    "aes128-ctr",
    "aes192-ctr",
    "aes256-ctr",
    "chacha20-poly1305@openssh.com",
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
];

/// Offered after [`DEFAULT_CIPHERS`] with `use_insecure_cipher` (rclone's list).
const INSECURE_CIPHERS: &[&str] = &["aes128-cbc", "aes192-cbc", "aes256-cbc", "3des-cbc"];

/// The MACs offered by default (with the ciphers that need one: not GCM or ChaCha20).
/// SHA-1 is left out (libssh2 as built here has no SHA-1 MACs, and OpenSSH prefers SHA-2).
pub const DEFAULT_MACS: &[&str] = &[
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha2-256",
    "hmac-sha2-512",
];

/// A list for `libssh2_session_method_pref`: the names given (split on commas and blanks,
/// as rclone's space-separated options), else `defaults` and then `extra`.
pub(crate) fn offer(given: Option<&[String]>, defaults: &[&str], extra: &[&str]) -> String {
    match given {
        Some(names) => names
            .iter()
            .flat_map(|n| n.split([',', ' ', '\t']))
            .filter(|n| !n.is_empty())
            .collect::<Vec<_>>()
            .join(","),
        None => defaults
            .iter()
            .chain(extra)
            .copied()
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// The ciphers to offer: those given, else the defaults (and the insecure ones if asked).
pub(crate) fn ciphers(given: Option<&[String]>, insecure: bool) -> String {
    let extra: &[&str] = if insecure { INSECURE_CIPHERS } else { &[] };
    offer(given, DEFAULT_CIPHERS, extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_put_aes_ctr_first_and_leave_cbc_out() {
        let list = ciphers(None, false);
        assert!(list.starts_with("aes128-ctr,"));
        assert!(!list.contains("cbc"));
        assert!(ciphers(None, true).ends_with("aes256-cbc,3des-cbc"));
        assert!(offer(None, DEFAULT_MACS, &[]).starts_with("hmac-sha2-256-etm@openssh.com,"));
    }

    #[test]
    fn a_given_list_is_taken_as_it_is_in_either_separator() {
        let given = ["aes256-ctr aes128-ctr".to_owned(), "3des-cbc".to_owned()];
        assert_eq!(
            ciphers(Some(&given), true),
            "aes256-ctr,aes128-ctr,3des-cbc"
        );
    }
}
