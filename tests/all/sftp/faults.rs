//! Broken connections, through the fault proxy (`tests/all/support/tcp_proxy.rs`) between
//! the backend and sshd: reads resume, cut writes leave nothing visible and the old object
//! whole, and dead sessions are replaced.

use std::io::{Read, Write};
use std::path::{Path as FsPath, PathBuf};

use omnistorage::backends::sftp::SftpBackend;
use omnistorage::{Backend, BackendExt, ErrorKind, Path, ReadOptions};

use super::{base, root};
use crate::support::SftpEnv;
use crate::support::require_sftp;
use crate::support::tcp_proxy::TcpProxy;

const MIB: usize = 1024 * 1024;

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 12) as u8)
        .collect()
}

/// The proxy, a known_hosts that names the server's key under the proxy's port, and a
/// backend through it rooted at `dir`.
pub(crate) struct Through {
    pub(crate) proxy: TcpProxy,
    pub(crate) backend: SftpBackend,
    _kh: PathBuf,
}

pub(crate) fn through(env: &SftpEnv, dir: &FsPath, pool: usize) -> Through {
    let upstream = format!("{}:{}", env.host, env.port).parse().unwrap();
    let proxy = TcpProxy::start(upstream).unwrap();
    let key = std::fs::read_to_string(&env.host_key_pub).unwrap();
    let key: Vec<&str> = key.split_whitespace().take(2).collect();
    let kh = std::env::temp_dir().join(format!("{}-known_hosts", super::unique("proxy")));
    std::fs::write(
        &kh,
        format!("[127.0.0.1]:{} {}\n", proxy.addr().port(), key.join(" ")),
    )
    .unwrap();
    let backend = base(env)
        .host_key_check(Default::default())
        .known_hosts(&kh)
        .port(proxy.addr().port())
        .root(dir.to_string_lossy())
        .pool_size(pool)
        .retries(4)
        // Nothing but the test's own traffic on the proxy: the cuts are claimed by traffic.
        .shell_hashes(false)
        .build()
        .expect("backend through the proxy");
    Through {
        proxy,
        backend,
        _kh: kh,
    }
}

impl Drop for Through {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self._kh);
    }
}

/// The reserved (staged or aside) names in `dir`.
pub(crate) fn staged_in(dir: &FsPath) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|items| {
            items
                .filter_map(|i| i.ok())
                .map(|i| i.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".omnistorage-tmp-"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_read_cut_mid_way_resumes_on_a_fresh_session() {
    let Some(env) = require_sftp() else { return };
    let dir = root(&env, "cut-read");
    let t = through(&env, &dir, 2);
    let data = pattern(8 * MIB + 17, 3);
    t.backend.write_all("big", &data).unwrap();
    let before = t.proxy.stats().connections;
    let mut r = t.backend.open_reader("big").unwrap();
    let mut back = vec![0; MIB];
    r.read_exact(&mut back).unwrap();
    t.proxy.cut_next_download_after(100_000);
    r.read_to_end(&mut back).unwrap();
    assert!(back == data, "the resumed read gives every byte once");
    let stats = t.proxy.stats();
    assert_eq!(stats.cuts, 1, "the cut fired");
    assert!(stats.connections > before, "a fresh session was made");
    // A range read is resumed within its range.
    let mut r = t
        .backend
        .reader(
            &Path::parse("big").unwrap(),
            &ReadOptions::new().range(MIB as u64..5 * MIB as u64),
        )
        .unwrap();
    let mut part = vec![0; 1000];
    r.read_exact(&mut part).unwrap();
    t.proxy.cut_next_download_after(50_000);
    r.read_to_end(&mut part).unwrap();
    assert!(part[..] == data[MIB..5 * MIB], "the resumed range");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_read_cut_after_the_object_changed_fails() {
    let Some(env) = require_sftp() else { return };
    let dir = root(&env, "cut-changed");
    let t = through(&env, &dir, 2);
    let data = pattern(4 * MIB, 4);
    t.backend.write_all("obj", &data).unwrap();
    let mut r = t.backend.open_reader("obj").unwrap();
    let mut head = vec![0; MIB];
    r.read_exact(&mut head).unwrap();
    // Another writer replaces it (a different size), then the connection breaks.
    t.backend.write_all("obj", pattern(3 * MIB, 9)).unwrap();
    t.proxy.cut_next_download_after(0);
    let mut rest = Vec::new();
    let e = omnistorage::Error::from(r.read_to_end(&mut rest).unwrap_err());
    assert_eq!(
        e.kind(),
        ErrorKind::PreconditionFailed,
        "{}",
        e.display_chain()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_write_cut_mid_way_leaves_the_old_object_and_nothing_else() {
    let Some(env) = require_sftp() else { return };
    for posix_rename in [true, false] {
        let dir = root(&env, "cut-write");
        let t = through(&env, &dir, 2);
        let backend = if posix_rename {
            t.backend.clone()
        } else {
            base(&env)
                .known_hosts(&t._kh)
                .port(t.proxy.addr().port())
                .root(dir.to_string_lossy())
                .shell_hashes(false)
                .posix_rename(false)
                .build()
                .unwrap()
        };
        let old = pattern(100_000, 1);
        backend.write_all("obj", &old).unwrap();
        let mut w = backend.open_writer("obj").unwrap();
        let new = pattern(8 * MIB, 2);
        w.write_all(&new[..2 * MIB]).unwrap();
        t.proxy.cut_next_upload_after(300_000);
        let failed = w
            .write_all(&new[2 * MIB..])
            .map_err(omnistorage::Error::from)
            .and_then(|()| w.finish().map(|_| ()));
        let e = failed.expect_err("a cut upload fails");
        assert!(e.is_temporary(), "{}", e.display_chain());
        assert_eq!(
            std::fs::read(dir.join("obj")).unwrap(),
            old,
            "the old object survives"
        );
        assert_eq!(backend.read_to_vec("obj").unwrap(), old);
        assert!(
            staged_in(&dir).is_empty(),
            "staged files left: {:?}",
            staged_in(&dir)
        );
        // The backend goes on working on fresh sessions.
        backend.write_all("obj", &new).unwrap();
        assert!(std::fs::read(dir.join("obj")).unwrap() == new);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn sessions_dropped_while_idle_are_replaced() {
    let Some(env) = require_sftp() else { return };
    let dir = root(&env, "idle-drop");
    let t = through(&env, &dir, 2);
    t.backend.write_all("a/b", b"x").unwrap();
    for round in 0..3 {
        let closed = t.proxy.close_all_connections();
        assert!(closed >= 1, "round {round}: a session was open");
        // Idempotent operations retry on a fresh session.
        assert_eq!(t.backend.read_to_vec("a/b").unwrap(), b"x", "round {round}");
        assert!(t.backend.contains("a/b").unwrap());
        assert_eq!(t.backend.list_all("a").unwrap().len(), 1);
        t.backend.stat(&Path::parse("a/b").unwrap()).unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
