//! The SFTP backend against a second, independent server: `rclone serve sftp`
//! (`scripts/servers/rclone-sftp`; Go's SSH and SFTP libraries under rclone's VFS). It has no
//! `copy-data`: the backend says so, `copy` answers `Unsupported`, and the helpers and the
//! sync engine stream instead.
//!
//! Its allowances, stated where they apply: its RENAME replaces an existing file, so a
//! `CreateNew` commit is not atomic there (the conformance race case is skipped); its
//! `md5sum` is no shell, so hashes are computed by reading.

use std::path::PathBuf;

use omnistorage::backends::sftp::{SftpBackend, SftpBuilder};
use omnistorage::conformance::Fixture;
use omnistorage::{Backend, BackendExt, ErrorKind, HashKind, Path, copy_path};

use super::unique;
use crate::support::rclone_sftp::{RcloneSftpEnv, require_rclone_sftp};

/// A builder for the rclone server: key auth, its known_hosts, nothing from the user's setup.
fn builder(env: &RcloneSftpEnv) -> SftpBuilder {
    SftpBackend::builder(env.host.clone())
        .port(env.port)
        .user(env.user.clone())
        .key_file(&env.key)
        .known_hosts(&env.known_hosts)
        .read_ssh_config(false)
        .agent(false)
}

/// A root of its own: its path as the client sees it, and on this machine.
fn root(env: &RcloneSftpEnv, tag: &str) -> (String, PathBuf) {
    let name = unique(tag);
    let client = format!("{}/{name}", env.root.trim_end_matches('/'));
    (client, env.data.join(name))
}

fn p(s: &str) -> Path {
    Path::parse(s).expect("valid path")
}

fn fixture() -> Fixture {
    let Some(env) = require_rclone_sftp() else {
        return Fixture::new(omnistorage::MemoryBackend::new());
    };
    let (dir, local) = root(&env, "conf");
    let (sibling, sibling_local) = root(&env, "conf-sibling");
    let backend = builder(&env).root(dir).build().expect("backend");
    let env2 = env.clone();
    Fixture::new(backend)
        // This server's allowances, each a difference of the server, not of the backend:
        .skip(
            "create_new_race_has_one_winner",
            "rclone serve sftp's RENAME replaces an existing file (SFTP v3 says it fails), so \
             CreateNew is decided when the writer opens, not atomically on commit",
        )
        .with_sibling(move || Box::new(builder(&env2).root(&sibling).build().expect("sibling")))
        .with_cleanup(move || {
            let _ = std::fs::remove_dir_all(&local);
            let _ = std::fs::remove_dir_all(&sibling_local);
        })
}

mod conformance {
    omnistorage::conformance_tests!(super::fixture);
}

#[test]
fn without_copy_data_copy_is_unsupported_and_helpers_stream() {
    let Some(env) = require_rclone_sftp() else {
        return;
    };
    let (dir, local) = root(&env, "copy");
    let b = builder(&env).root(dir).build().expect("backend");
    let caps = b.capabilities();
    assert!(!caps.server_side_copy, "no copy-data, no copy: {caps:?}");
    assert!(caps.server_side_move, "rename is plain SFTP");
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    let mut w = b
        .writer(&p("a"), &omnistorage::WriteOptions::new().modified(t))
        .expect("writer");
    std::io::Write::write_all(&mut w, b"streamed").expect("write");
    w.finish().expect("finish");
    let e = b.copy(&p("a"), &p("b")).expect_err("no copy-data");
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    assert!(!b.contains("b").expect("exists"), "nothing copied");
    // The helper streams, keeping the time.
    let copied = copy_path(&b, &p("a"), &b, &p("c/b")).expect("copy_path");
    assert_eq!(copied.modified, Some(t));
    assert_eq!(b.read_to_vec("c/b").expect("read"), b"streamed");
    assert_eq!(
        std::fs::read(local.join("c/b")).expect("on disk"),
        b"streamed"
    );
    let _ = std::fs::remove_dir_all(&local);
}

#[test]
fn password_logins_work_and_hashes_stream() {
    let Some(env) = require_rclone_sftp() else {
        return;
    };
    let (dir, local) = root(&env, "password");
    let b = SftpBackend::builder(env.host.clone())
        .port(env.port)
        .user(env.user.clone())
        .password(env.password.clone())
        .known_hosts(&env.known_hosts)
        .read_ssh_config(false)
        .agent(false)
        .root(dir)
        .build()
        .expect("backend");
    b.write_all("x", b"hello").expect("write");
    // Its `md5sum` is not a shell command (no `;`, no quoting): none is detected, and
    // hashes are computed by reading.
    let caps = b.capabilities();
    assert!(caps.server_hashes.is_empty(), "{caps:?}");
    assert_eq!(
        b.hash(&p("x"), HashKind::Md5, None).expect("md5").to_hex(),
        "5d41402abc4b2a76b9719d911017c592"
    );
    let _ = std::fs::remove_dir_all(&local);
}

/// A sync between two roots on one server that cannot copy inside itself: every copy
/// streams through this process, and a second run changes nothing.
#[cfg(feature = "sync")]
#[test]
fn sync_within_a_server_without_copy_data_streams() {
    use omnistorage::sync::{self, Compare, Options};

    let Some(env) = require_rclone_sftp() else {
        return;
    };
    let (a, a_local) = root(&env, "sync-src");
    let (b, b_local) = root(&env, "sync-dst");
    let src = builder(&env).root(a).build().expect("src");
    let dst = builder(&env).root(b).build().expect("dst");
    let same = src.location().zip(dst.location());
    assert!(
        same.is_some_and(|(s, d)| s.same_store(&d)),
        "one store: a server-side copy would be chosen if it were announced"
    );
    for i in 0..6 {
        crate::sync::put(
            &src,
            &format!("d{}/f{i}", i % 2),
            format!("object {i}").repeat(100).as_bytes(),
            crate::sync::t(i),
        );
    }
    let r = sync::sync(&src, &Path::root(), &dst, &Path::root(), &Options::new()).expect("sync");
    assert!(r.is_ok(), "{:?}", r.failures);
    assert_eq!(r.copied, 6);
    assert_eq!(crate::sync::tree(&dst, ""), crate::sync::tree(&src, ""));
    for e in dst.list_all("").expect("list") {
        let s = src.info(e.path.as_str()).expect("source");
        assert_eq!(e.modified, s.modified, "{}: the time kept", e.path);
    }
    let again = sync::sync(
        &src,
        &Path::root(),
        &dst,
        &Path::root(),
        &Options::new().compare(Compare::Checksum),
    )
    .expect("sync -c");
    assert!(again.is_ok(), "{:?}", again.failures);
    assert_eq!((again.copied, again.unchanged), (0, 6));
    let _ = std::fs::remove_dir_all(&a_local);
    let _ = std::fs::remove_dir_all(&b_local);
}
