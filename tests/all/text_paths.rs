//! One convention for paths: every operation a caller names a path for takes text (or a
//! `Path`) through `BackendExt`, and answers as `Backend`'s `&Path` form does.

use std::time::{Duration, UNIX_EPOCH};

use omnistorage::conformance::TempDir;
use omnistorage::{Backend, BackendExt, ErrorKind, FileBackend, HashKind, Path, Presign};

#[test]
fn the_text_forms_answer_as_the_path_forms() {
    let dir = TempDir::new().expect("temp dir");
    let store = FileBackend::new(dir.path()).expect("backend");
    store.write_all("d/a.txt", b"hello").expect("write");
    let path = Path::parse("d/a.txt").expect("path");

    assert_eq!(
        store.stat_at("d/a.txt").expect("stat_at"),
        store.stat(&path).expect("stat")
    );
    assert_eq!(store.stat_at(&path).expect("stat_at a Path").size, 5);
    assert_eq!(
        store.hash_at("d/a.txt", HashKind::Crc32c).expect("hash_at"),
        store.hash(&path, HashKind::Crc32c, None).expect("hash")
    );
    let when = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let entry = store
        .set_modified_at("d/a.txt", when)
        .expect("set_modified_at");
    assert_eq!(entry.modified, Some(when));
    store.create_dir_at("e/f").expect("create_dir_at");
    assert!(store.stat_at("e/f").expect("stat dir").is_dir);
    store.remove_dir_at("e/f").expect("remove_dir_at");
    assert_eq!(
        store.stat_at("e/f").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let pending = store.pending_uploads_at("d").expect("pending_uploads_at");
    assert_eq!(pending.count(), 0);
    assert_eq!(
        store
            .presign_at("d/a.txt", Presign::Get, Duration::from_secs(60))
            .unwrap_err()
            .kind(),
        ErrorKind::Unsupported
    );
}

#[test]
fn bad_text_is_an_invalid_path_before_the_backend_is_asked() {
    let dir = TempDir::new().expect("temp dir");
    let store = FileBackend::new(dir.path()).expect("backend");
    for bad in ["../x", "/abs", "a//b"] {
        assert_eq!(
            store.stat_at(bad).unwrap_err().kind(),
            ErrorKind::InvalidPath,
            "{bad}"
        );
        assert_eq!(
            store.pending_uploads_at(bad).map(drop).unwrap_err().kind(),
            ErrorKind::InvalidPath,
            "{bad}"
        );
    }
}
