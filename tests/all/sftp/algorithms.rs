//! The ciphers and MACs a session offers: each default one works against OpenSSH, a list
//! is honoured, and a list of names libssh2 does not know is a configuration error.

use omnistorage::backends::sftp::{DEFAULT_CIPHERS, DEFAULT_MACS};
use omnistorage::{BackendExt, ErrorKind};

use super::{builder, root};
use crate::support::require_sftp;

#[test]
fn each_default_cipher_and_mac_alone_makes_a_working_session() {
    let Some(env) = require_sftp() else { return };
    let dir = root(&env, "alg");
    let base = |_: &crate::support::SftpEnv| builder(&env).root(dir.to_string_lossy());
    for cipher in DEFAULT_CIPHERS {
        let b = base(&env)
            .set("ciphers", cipher)
            .unwrap()
            .build()
            .unwrap_or_else(|e| panic!("{cipher}: {}", e.display_chain()));
        b.write_all("alg.txt", cipher.as_bytes()).unwrap();
        assert_eq!(b.read_to_vec("alg.txt").unwrap(), cipher.as_bytes());
    }
    for mac in DEFAULT_MACS {
        let b = base(&env)
            .set("ciphers", "aes128-ctr")
            .unwrap()
            .set("macs", mac)
            .unwrap()
            .build()
            .unwrap_or_else(|e| panic!("{mac}: {}", e.display_chain()));
        b.write_all("alg.txt", mac.as_bytes()).unwrap();
        assert_eq!(b.read_to_vec("alg.txt").unwrap(), mac.as_bytes());
    }
}

#[test]
fn a_cipher_list_is_honoured_and_insecure_ones_are_not_offered_by_default() {
    let Some(env) = require_sftp() else { return };
    let dir = root(&env, "alg");
    let base = |_: &crate::support::SftpEnv| builder(&env).root(dir.to_string_lossy());
    // OpenSSH (since 7.4) offers no CBC cipher by default: a session limited to one fails...
    let err = base(&env)
        .set("ciphers", "aes256-cbc")
        .unwrap()
        .build()
        .map(|_| ())
        .expect_err("aes256-cbc only");
    assert!(
        err.display_chain().to_string().contains("connect"),
        "{}",
        err.display_chain()
    );
    // ... and use_insecure_cipher only adds them after the defaults.
    let b = base(&env)
        .set("use_insecure_cipher", "true")
        .unwrap()
        .build()
        .unwrap();
    b.write_all("alg.txt", b"x").unwrap();
}

#[test]
fn names_libssh2_does_not_know_are_a_configuration_error() {
    let Some(env) = require_sftp() else { return };
    let base = |_: &crate::support::SftpEnv| builder(&env);
    for (key, value) in [("ciphers", "rot13-cbc"), ("macs", "crc32")] {
        let err = base(&env)
            .set(key, value)
            .unwrap()
            .build()
            .map(|_| ())
            .expect_err(key);
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidConfig,
            "{}",
            err.display_chain()
        );
        assert!(err.to_string().contains(value), "{err}");
    }
}
