//! `open(url)` and `register`.

use omnistorage::conformance::TempDir;
use omnistorage::{Backend, BackendExt, ErrorKind, MemoryBackend, open, register};

#[test]
fn file_url_and_plain_path_open_the_same_tree() {
    let dir = TempDir::new().unwrap();
    let by_path = open(dir.path().to_str().unwrap()).unwrap();
    by_path.write_all("a/b.txt", b"hi").unwrap();
    let url = format!("file://{}", dir.path().display());
    let by_url = open(&url).unwrap();
    assert_eq!(by_url.read_to_vec("a/b.txt").unwrap(), b"hi");
    assert_eq!(by_path.location(), by_url.location());
}

#[test]
fn percent_escapes_in_file_urls_are_decoded() {
    let dir = TempDir::new().unwrap();
    std::fs::create_dir(dir.path().join("with space")).unwrap();
    std::fs::write(dir.path().join("with space/x"), b"1").unwrap();
    let url = format!("file://{}/with%20space", dir.path().display());
    assert_eq!(open(&url).unwrap().read_to_vec("x").unwrap(), b"1");
}

#[test]
fn mem_urls() {
    let a = open("mem://").unwrap();
    a.write_all("k", b"v").unwrap();
    assert!(
        !open("mem://").unwrap().contains("k").unwrap(),
        "mem:// is always new"
    );
    let named = open("mem://registry-test").unwrap();
    named.write_all("k", b"v").unwrap();
    assert!(open("mem://registry-test").unwrap().contains("k").unwrap());
    assert!(!open("mem://other-name").unwrap().contains("k").unwrap());
}

#[test]
fn unknown_scheme_is_invalid_config() {
    let err = open("gopher://example/x").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.to_string().contains("gopher"), "{err}");
    assert!(
        err.to_string().contains("file"),
        "names the known schemes: {err}"
    );
}

#[test]
fn malformed_urls_are_invalid_config() {
    for url in [
        "",
        "file://remotehost/x",
        "file://",
        "mem://x:notaport",
        "s3://b/%g0",
    ] {
        let err = open(url).expect_err(url);
        assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{url}: {err}");
    }
}

#[test]
fn file_url_naming_a_file_is_not_a_directory() {
    let dir = TempDir::new().unwrap();
    let file = dir.path().join("plain");
    std::fs::write(&file, b"x").unwrap();
    let err = open(file.to_str().unwrap()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotADirectory);
}

#[test]
fn registered_factories_are_used() {
    register("regtest", |url| {
        assert_eq!(url.host, "bucket");
        assert_eq!(url.param("opt"), Some("1"));
        Ok(Box::new(MemoryBackend::new()) as Box<dyn Backend>)
    })
    .unwrap();
    let store = open("regtest://bucket/p?opt=1").unwrap();
    store.write_all("x", b"y").unwrap();
    assert!(omnistorage::registry::schemes().contains(&"regtest".to_string()));
}

#[test]
fn invalid_schemes_cannot_be_registered() {
    for scheme in ["", "1abc", "UPPER", "a b", "a/b"] {
        let err = register(scheme, |_| {
            Ok(Box::new(MemoryBackend::new()) as Box<dyn Backend>)
        })
        .expect_err(scheme);
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    }
}

#[test]
fn errors_never_show_secrets() {
    for url in [
        "nosuch://u:hunter2@b/p?secret_access_key=hunter2",
        "s3://b:bad/p?session_token=hunter2",
    ] {
        let err = open(url).expect_err(url);
        let shown = format!("{err} {err:?} {}", err.display_chain());
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}

#[test]
fn mem_urls_with_a_path_see_the_store_from_there() {
    let whole = open("mem://registry-scoped").unwrap();
    let photos = open("mem://registry-scoped/photos/2025").unwrap();
    photos.write_all("a.jpg", b"jpeg").unwrap();
    assert_eq!(whole.read_to_vec("photos/2025/a.jpg").unwrap(), b"jpeg");
    let (a, b) = (whole.location().unwrap(), photos.location().unwrap());
    assert!(a.same_store(&b) && a != b);
    let err = open("mem://registry-scoped/a/../b").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
}
