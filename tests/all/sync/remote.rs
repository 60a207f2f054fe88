//! The engine against real servers: S3 (every test server) and SFTP, both directions.

use omnistorage::conformance::TempDir;
use omnistorage::sync::{self, Options};
use omnistorage::{Backend, FileBackend, Path};

use super::{p, put, t, tree};

/// A local tree with a few objects in a few directories.
fn local() -> (TempDir, FileBackend) {
    let dir = TempDir::new().expect("tmp");
    let b = FileBackend::new(dir.path()).expect("file");
    for i in 0..12u64 {
        let data = format!("object {i} ").repeat(i as usize + 1);
        put(&b, &format!("d{}/f{i}.txt", i % 3), data.as_bytes(), t(i));
    }
    (dir, b)
}

/// local → remote, nothing to do the second time, remote → another local tree, and a
/// sync that deletes at the remote.
fn round_trip(remote: &dyn Backend, root: &Path) {
    let (_a, src) = local();
    let r = sync::sync(&src, &Path::root(), remote, root, &Options::new()).expect("up");
    assert!(r.is_ok(), "{:?}", r.failures);
    assert_eq!(r.copied, 12);
    let again = sync::sync(&src, &Path::root(), remote, root, &Options::new()).expect("again");
    assert!(again.is_ok(), "{:?}", again.failures);
    assert_eq!(
        (again.copied, again.set_modified, again.unchanged),
        (0, 0, 12)
    );

    let back_dir = TempDir::new().expect("tmp");
    let back = FileBackend::new(back_dir.path()).expect("file");
    let down = sync::sync(remote, root, &back, &Path::root(), &Options::new()).expect("down");
    assert!(down.is_ok(), "{:?}", down.failures);
    assert_eq!(tree(&back, ""), tree(&src, ""));
    assert_eq!(
        omnistorage::BackendExt::info(&back, "d1/f4.txt")
            .expect("stat")
            .modified,
        Some(t(4)),
        "times survive the round trip"
    );
    let down_again = sync::sync(remote, root, &back, &Path::root(), &Options::new()).expect("down");
    assert_eq!((down_again.copied, down_again.unchanged), (0, 12));

    omnistorage::BackendExt::remove(&src, "d0/f3.txt").expect("delete");
    let r = sync::sync(&src, &Path::root(), remote, root, &Options::new()).expect("delete");
    assert_eq!(r.deleted, 1);
    let c = sync::check(&src, &Path::root(), remote, root, &Options::new()).expect("check");
    assert!(c.is_ok(), "{c:?}");
    assert_eq!(c.matched.len(), 11);
}

#[cfg(feature = "s3")]
#[test]
fn s3_round_trip_on_every_server() {
    crate::s3::each_server(|_env, backend, _prefix| {
        round_trip(&backend, &p("tree"));
        // Within the bucket: server-side copies, keeping times.
        let r = sync::sync(&backend, &p("tree"), &backend, &p("copy"), &Options::new())
            .expect("server-side");
        assert!(r.is_ok(), "{:?}", r.failures);
        assert_eq!(r.copied, 11);
        let c = sync::check(&backend, &p("tree"), &backend, &p("copy"), &Options::new())
            .expect("check");
        assert!(c.is_ok(), "{c:?}");
        let again =
            sync::sync(&backend, &p("tree"), &backend, &p("copy"), &Options::new()).expect("again");
        assert_eq!(again.copied, 0);
    });
}

#[cfg(feature = "s3")]
#[test]
fn s3_missing_prefix_is_not_found() {
    crate::s3::each_server(|_env, backend, _prefix| {
        let (_d, dst) = local();
        let err = sync::sync(
            &backend,
            &p("nothing-here"),
            &dst,
            &Path::root(),
            &Options::new(),
        )
        .expect_err("missing");
        assert_eq!(err.kind(), omnistorage::ErrorKind::NotFound);
        assert_eq!(tree(&dst, "").len(), 12, "nothing deleted");
    });
}

#[cfg(feature = "sftp")]
#[test]
fn sftp_round_trip() {
    let Some(env) = crate::support::require_sftp() else {
        return;
    };
    let root = crate::sftp::root(&env, "sync");
    let backend = crate::sftp::builder(&env)
        .root(root.to_string_lossy())
        .build()
        .expect("sftp");
    round_trip(&backend, &p("tree"));
    let moved =
        sync::move_(&backend, &p("tree"), &backend, &p("moved"), &Options::new()).expect("move");
    assert!(moved.is_ok(), "{:?}", moved.failures);
    assert_eq!(moved.source_deleted, 11);
}
