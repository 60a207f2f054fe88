//! Broken connections, through the fault proxy (`tests/all/support/tcp_proxy.rs`) between
//! the backend and sshd: reads and writes resume on a fresh session (also after a new
//! session's key exchange is cut), a write that cannot resume leaves nothing visible and the
//! old object whole, and dead sessions are replaced.

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
    // Big enough that the reader cannot hold the rest in its read-ahead when the cut comes.
    let data = pattern(16 * MIB, 4);
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

/// A backend through `t`'s proxy, with or without `posix-rename` (the commit that moves the
/// old object aside is not repeated after a cut, the single rename is).
fn with_rename(env: &SftpEnv, t: &Through, dir: &FsPath, posix_rename: bool) -> SftpBackend {
    if posix_rename {
        return t.backend.clone();
    }
    base(env)
        .known_hosts(&t._kh)
        .port(t.proxy.addr().port())
        .root(dir.to_string_lossy())
        .shell_hashes(false)
        .retries(4)
        .posix_rename(false)
        .build()
        .unwrap()
}

#[test]
fn a_write_cut_mid_way_resumes_where_the_server_got_to() {
    let Some(env) = require_sftp() else { return };
    for (posix_rename, cut_request) in [(true, true), (true, false), (false, true)] {
        let dir = root(&env, "cut-write");
        let t = through(&env, &dir, 2);
        let backend = with_rename(&env, &t, &dir, posix_rename);
        let old = pattern(100_000, 1);
        backend.write_all("obj", &old).unwrap();
        let mut w = backend.open_writer("obj").unwrap();
        let new = pattern(8 * MIB, 2);
        w.write_all(&new[..6 * MIB]).unwrap();
        let before = t.proxy.stats();
        // Cut the data on its way, or the server's acknowledgements of it (then the staged
        // file holds more than was acknowledged, and the rest is sent again over it).
        match cut_request {
            true => t.proxy.cut_next_upload_after(300_000),
            false => t.proxy.cut_next_download_after(200),
        }
        w.write_all(&new[6 * MIB..]).unwrap();
        w.finish().unwrap();
        let after = t.proxy.stats();
        let case = format!("posix_rename {posix_rename}, cut in the request {cut_request}");
        assert_eq!(after.cuts, before.cuts + 1, "{case}: the cut fired");
        assert!(
            std::fs::read(dir.join("obj")).unwrap() == new,
            "{case}: the object is whole"
        );
        assert!(staged_in(&dir).is_empty(), "{case}: {:?}", staged_in(&dir));
        // From where it was, not from the start: the last 2 MiB, what was in flight and
        // buffered (1 MiB each at most), and the protocol's bytes.
        let sent = (after.bytes_up - before.bytes_up) as usize;
        assert!(
            sent < 5 * MIB,
            "{case}: {sent} bytes sent after the first 6 MiB"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_cut_write_that_cannot_resume_leaves_the_old_object_and_nothing_else() {
    let Some(env) = require_sftp() else { return };
    let dir = root(&env, "cut-write-down");
    let t = through(&env, &dir, 2);
    let old = pattern(100_000, 1);
    t.backend.write_all("obj", &old).unwrap();
    let mut w = t.backend.open_writer("obj").unwrap();
    let new = pattern(8 * MIB, 2);
    w.write_all(&new[..2 * MIB]).unwrap();
    // The connections break, and no new one gets through while the writer retries.
    t.proxy.refuse_next_connections(1000);
    t.proxy.close_all_connections();
    let e = omnistorage::Error::from(
        w.write_all(&new[2 * MIB..])
            .expect_err("an upload that cannot reconnect fails"),
    );
    assert!(e.is_temporary(), "{}", e.display_chain());
    assert!(t.proxy.stats().refused > 1, "the resume was retried");
    // The server is back: the writer, dropped, removes its staged file.
    t.proxy.clear_faults();
    drop(w);
    assert_eq!(
        std::fs::read(dir.join("obj")).unwrap(),
        old,
        "the old object survives"
    );
    assert!(staged_in(&dir).is_empty(), "{:?}", staged_in(&dir));
    // The backend goes on working on fresh sessions.
    t.backend.write_all("obj", &new).unwrap();
    assert!(std::fs::read(dir.join("obj")).unwrap() == new);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_read_resumes_after_a_new_session_is_cut_in_its_key_exchange() {
    let Some(env) = require_sftp() else { return };
    let dir = root(&env, "cut-kex");
    let t = through(&env, &dir, 2);
    let data = pattern(4 * MIB + 5, 6);
    t.backend.write_all("big", &data).unwrap();
    let mut r = t.backend.open_reader("big").unwrap();
    let mut back = vec![0; MIB];
    r.read_exact(&mut back).unwrap();
    // The server's banner is a few dozen bytes, its key exchange offer a kilobyte: the first
    // new connection breaks within the key exchange.
    t.proxy.cut_new_connections_after(1, 600);
    t.proxy.close_all_connections();
    let cuts = t.proxy.stats().cuts;
    r.read_to_end(&mut back).unwrap();
    assert!(back == data, "the resumed read gives every byte once");
    assert_eq!(t.proxy.stats().cuts, cuts + 1, "a new session was cut");
    let _ = std::fs::remove_dir_all(&dir);
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
