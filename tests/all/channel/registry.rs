//! The registry: `chan://` URLs.

use super::*;

#[test]
fn chan_urls_open_channel_backends() {
    let fresh = open("chan://").expect("chan://");
    assert_eq!(fresh.capabilities().streams, Some(StreamDelivery::Consume));
    let replay = open("chan://?persistent=true&capacity=8&timeout=2s").expect("with settings");
    assert_eq!(replay.capabilities().streams, Some(StreamDelivery::Replay));
    assert_ne!(
        fresh.location(),
        open("chan://").expect("chan://").location()
    );

    let a = open("chan://registry-test?persistent=true").expect("named");
    a.write_all("k", b"v").expect("write");
    let b = open("chan://registry-test").expect("the same named backend");
    assert_eq!(b.read_to_vec("k").expect("read"), b"v");
    assert_eq!(a.location(), b.location());
    let err = open("chan://registry-test?persistent=false").expect_err("other settings");
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);

    // A closed named backend is replaced by a new one.
    a.close().expect("close");
    let c = open("chan://registry-test").expect("reopened");
    assert!(!c.contains("k").expect("exists"));
}

#[test]
fn bad_chan_urls_are_invalid_config() {
    for url in [
        "chan://?capacity=lots",
        "chan://?timeout=5x",
        "chan://?persistent=maybe",
        "chan://?colour=blue",
        "chan://name/a/path",
        "chan://user@name",
        "chan://name:99",
    ] {
        let err = open(url).expect_err(url);
        assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{url}: {err}");
    }
}
