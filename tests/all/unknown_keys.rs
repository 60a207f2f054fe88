//! A misspelt option is an error that names the nearest known one, wherever options are
//! given: URL query parameters of every scheme, and every backend's `set`.

use omnistorage::{ErrorKind, open};

/// Opens `url`, which must fail as an unknown option, and returns the message.
fn refused(url: &str) -> String {
    let err = open(url).map(drop).expect_err(url);
    assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{url}: {err}");
    let text = err.to_string();
    assert!(text.contains("unknown option"), "{url}: {text}");
    text
}

#[cfg(feature = "s3")]
#[test]
fn s3_url_typos_name_the_key_meant() {
    for (typo, meant) in [
        ("regoin", "region"),
        ("part_sise", "part_size"),
        ("acess_key_id", "access_key_id"),
    ] {
        let text = refused(&format!("s3://bucket/p?{typo}=x"));
        assert!(
            text.contains(&format!("did you mean {meant:?}?")),
            "{typo}: {text}"
        );
    }
    let far = refused("s3://bucket/p?colour=blue");
    assert!(!far.contains("did you mean"), "{far}");
}

#[cfg(feature = "sftp")]
#[test]
fn sftp_url_typos_name_the_key_meant() {
    let text = refused("sftp://user@127.0.0.1:1/p?known_host=/x");
    assert!(text.contains("did you mean \"known_hosts\"?"), "{text}");
}

#[cfg(feature = "channel")]
#[test]
fn channel_url_typos_name_the_key_meant() {
    let text = refused("chan://?capacty=4");
    assert!(text.contains("did you mean \"capacity\"?"), "{text}");
}

#[test]
fn file_and_mem_urls_take_no_options() {
    let dir = omnistorage::conformance::TempDir::new().expect("temp dir");
    let text = refused(&format!("file://{}?fsync=1", dir.path().display()));
    assert!(text.contains("takes no options"), "{text}");
    let text = refused("mem://?x=1");
    assert!(text.contains("takes no options"), "{text}");
}
