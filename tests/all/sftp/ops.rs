//! What SFTP adds to the shared contract: hashes computed on the server, symlinks refused,
//! staged files and old objects left by a crash, and many threads through one backend.

use std::io::{Read, Write};
use std::path::Path as FsPath;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use omnistorage::{Backend, BackendExt, ErrorKind, HashKind, Path};

use super::{builder, root};
use crate::support::require_sftp;

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(29).wrapping_add(seed) ^ (i >> 10) as u8)
        .collect()
}

/// The digest coreutils prints for a local file (the server's files are local here).
fn coreutils(cmd: &str, file: &FsPath) -> String {
    let out = Command::new(cmd).arg(file).output().expect(cmd);
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn hashes_are_computed_by_the_server_and_paths_stay_quoted() {
    let Some(env) = require_sftp() else { return };
    let dir = root(&env, "hashes");
    let b = builder(&env).root(dir.to_string_lossy()).build().unwrap();
    let caps = b.capabilities();
    assert!(caps.server_hashes.contains(HashKind::Md5), "{caps:?}");
    assert!(caps.server_hashes.contains(HashKind::Sha1), "{caps:?}");
    assert!(caps.hashes.is_empty(), "nothing is stored");
    // A name a shell would act on, were it not quoted.
    let name = "it's $(touch pwned) `touch pwned2`; *.txt";
    let data = pattern(300_001, 7);
    b.write_all(name, &data).unwrap();
    let file = dir.join(name);
    for (kind, cmd) in [(HashKind::Md5, "md5sum"), (HashKind::Sha1, "sha1sum")] {
        let got = b.hash(&Path::parse(name).unwrap(), kind, None).unwrap();
        assert_eq!(got.to_hex(), coreutils(cmd, &file), "{kind}");
    }
    assert!(!dir.join("pwned").exists() && !dir.join("pwned2").exists());
    let home = std::env::var("HOME").unwrap_or_default();
    assert!(!FsPath::new(&home).join("pwned").exists());
    let e = b
        .hash(&Path::parse("ghost").unwrap(), HashKind::Md5, None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    // Turned off, nothing is claimed, and hashes are computed by reading.
    let off = builder(&env)
        .root(dir.to_string_lossy())
        .shell_hashes(false)
        .build()
        .unwrap();
    assert!(off.capabilities().server_hashes.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn symlinks_on_the_server_are_not_followed() {
    let Some(env) = require_sftp() else { return };
    let dir = root(&env, "links");
    let b = builder(&env).root(dir.to_string_lossy()).build().unwrap();
    b.write_all("real/file", b"inside").unwrap();
    let outside = root(&env, "links-outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret"), b"outside").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("out")).unwrap();
    std::os::unix::fs::symlink(dir.join("real/file"), dir.join("alias")).unwrap();
    let listed: Vec<String> = b
        .list_all("")
        .unwrap()
        .into_iter()
        .map(|e| e.path.to_string())
        .collect();
    assert_eq!(listed, vec!["real/file"]);
    for path in ["out/secret", "alias"] {
        let e = b.read_to_vec(path).unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::PermissionDenied,
            "{path}: {}",
            e.display_chain()
        );
    }
    let e = b.write_all("out/new", b"x").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert!(
        !outside.join("new").exists(),
        "nothing written through the link"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&outside);
}

/// A staged name as a writer of pid 1 made it `age` ago, for `target`.
fn old_staged_name(prefix: &str, age: Duration, target: &str) -> String {
    let t = SystemTime::now() - age;
    let nanos = t.duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
    format!("{prefix}1-0-{nanos:016x}.{target}")
}

fn set_age(file: &FsPath, age: Duration) {
    let f = std::fs::File::options().write(true).open(file).unwrap();
    f.set_modified(SystemTime::now() - age).unwrap();
}

#[test]
fn leftovers_of_a_crash_are_reclaimed() {
    let Some(env) = require_sftp() else { return };
    let dir = root(&env, "leftovers");
    let b = builder(&env).root(dir.to_string_lossy()).build().unwrap();
    b.write_all("d/keep", b"k").unwrap();
    let two_hours = Duration::from_secs(7200);
    let d = dir.join("d");
    // A staged file of a writer that died two hours ago, one of a live writer (young), and
    // an old object moved aside by a replace that died before putting the new one in.
    let dead = old_staged_name(".omnistorage-tmp-", two_hours, "x");
    std::fs::write(d.join(&dead), b"partial").unwrap();
    set_age(&d.join(&dead), two_hours);
    let young = old_staged_name(".omnistorage-tmp-", Duration::from_secs(5), "y");
    std::fs::write(d.join(&young), b"in progress").unwrap();
    let aside = old_staged_name(".omnistorage-tmp-old-", two_hours, "precious");
    std::fs::write(d.join(&aside), b"old data").unwrap();
    set_age(&d.join(&aside), two_hours);
    // pending_uploads sees the staged files (never as objects).
    let pending = b.pending_uploads(&Path::parse("d").unwrap()).unwrap();
    let pending: Vec<_> = pending.map(|p| p.unwrap()).collect();
    let paths: Vec<String> = pending.iter().map(|p| p.path.to_string()).collect();
    assert!(
        paths.contains(&"d/x".to_owned()) && paths.contains(&"d/y".to_owned()),
        "{paths:?}"
    );
    assert_eq!(b.list_all("d").unwrap().len(), 1);
    // A new backend's first write into the directory sweeps it.
    let fresh = builder(&env).root(dir.to_string_lossy()).build().unwrap();
    fresh.write_all("d/new", b"n").unwrap();
    assert!(!d.join(&dead).exists(), "the dead writer's file is gone");
    assert!(d.join(&young).exists(), "a young one is left alone");
    assert_eq!(
        std::fs::read(d.join("precious")).unwrap(),
        b"old data",
        "put back"
    );
    // abort_upload removes one at once, whatever its age.
    let y = pending.iter().find(|p| p.path == "d/y").unwrap();
    b.abort_upload(y).unwrap();
    assert!(!d.join(&young).exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_dropped_or_aborted_writer_leaves_nothing() {
    let Some(env) = require_sftp() else { return };
    let dir = root(&env, "drop");
    let b = builder(&env).root(dir.to_string_lossy()).build().unwrap();
    b.write_all("d/old", b"old").unwrap();
    let mut w = b.open_writer("d/old").unwrap();
    w.write_all(&pattern(3 << 20, 1)).unwrap();
    drop(w);
    let mut w = b.open_writer("d/new").unwrap();
    w.write_all(b"never").unwrap();
    w.abort().unwrap();
    let names: Vec<String> = std::fs::read_dir(dir.join("d"))
        .unwrap()
        .map(|i| i.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["old"]);
    assert_eq!(b.read_to_vec("d/old").unwrap(), b"old");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sixteen_threads_through_one_backend() {
    let Some(env) = require_sftp() else { return };
    let dir = root(&env, "threads");
    let b = builder(&env)
        .root(dir.to_string_lossy())
        .pool_size(4)
        .build()
        .unwrap();
    std::thread::scope(|s| {
        for t in 0..16u8 {
            let b = &b;
            s.spawn(move || {
                for i in 0..12usize {
                    let path = format!("t{t}/o{i}");
                    let data = pattern(1 + i * 37_013 + usize::from(t) * 101, t);
                    b.write_all(&path, &data).unwrap();
                    // Read it back while others write.
                    assert!(b.read_to_vec(&path).unwrap() == data, "{path}");
                }
            });
        }
    });
    let listed = b.list_all("").unwrap();
    assert_eq!(listed.len(), 16 * 12);
    for e in &listed {
        let local = std::fs::metadata(dir.join(e.path.as_str())).unwrap();
        assert_eq!(e.size, local.len(), "{}", e.path);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn more_open_streams_than_sessions_share_them() {
    let Some(env) = require_sftp() else { return };
    let dir = root(&env, "share");
    let b = builder(&env)
        .root(dir.to_string_lossy())
        .pool_size(2)
        .build()
        .unwrap();
    let data = pattern(2 << 20, 3);
    for i in 0..5 {
        b.write_all(format!("o{i}"), &data).unwrap();
    }
    // Five readers and two writers open at once on two sessions, read in turns.
    let mut readers: Vec<_> = (0..5)
        .map(|i| b.open_reader(format!("o{i}")).unwrap())
        .collect();
    let mut writers: Vec<_> = (0..2)
        .map(|i| b.open_writer(format!("w{i}")).unwrap())
        .collect();
    let mut got = vec![Vec::new(); 5];
    let mut buf = vec![0; 64 * 1024];
    loop {
        let mut any = false;
        for (r, out) in readers.iter_mut().zip(got.iter_mut()) {
            let n = r.read(&mut buf).unwrap();
            out.extend_from_slice(&buf[..n]);
            any |= n > 0;
        }
        for w in &mut writers {
            w.write_all(&buf[..1000]).unwrap();
        }
        if !any {
            break;
        }
    }
    for g in &got {
        assert!(*g == data);
    }
    for w in writers {
        w.finish().unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_closed_backend_refuses_everything() {
    let Some(env) = require_sftp() else { return };
    let dir = root(&env, "closed");
    let b = builder(&env).root(dir.to_string_lossy()).build().unwrap();
    b.write_all("x", b"1").unwrap();
    b.close().unwrap();
    assert_eq!(b.read_to_vec("x").unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(
        b.write_all("y", b"2").unwrap_err().kind(),
        ErrorKind::Closed
    );
    assert_eq!(b.list_all("").unwrap_err().kind(), ErrorKind::Closed);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn times_are_whole_seconds_and_out_of_range_times_are_refused() {
    let Some(env) = require_sftp() else { return };
    let dir = root(&env, "times");
    let b = builder(&env).root(dir.to_string_lossy()).build().unwrap();
    let when = UNIX_EPOCH + Duration::from_millis(1_700_000_000_750);
    let opts = omnistorage::WriteOptions::new().modified(when);
    let e = omnistorage::write_all(&b, &Path::parse("t").unwrap(), &opts, b"t").unwrap();
    let whole = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    assert_eq!(e.modified, Some(whole));
    assert_eq!(
        std::fs::metadata(dir.join("t"))
            .unwrap()
            .modified()
            .unwrap(),
        whole
    );
    assert_eq!(b.capabilities().modified_time, Some(Duration::from_secs(1)));
    let before_1970 = UNIX_EPOCH - Duration::from_secs(10);
    let e = b
        .set_modified(&Path::parse("t").unwrap(), before_1970)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn max_sessions_bounds_what_is_open_at_once() {
    let Some(env) = require_sftp() else { return };
    let dir = root(&env, "max");
    let b = builder(&env)
        .root(dir.to_string_lossy())
        .pool_size(1)
        .max_sessions(Some(2))
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    b.write_all("a", b"a").unwrap();
    let r1 = b.open_reader("a").unwrap();
    let r2 = b.open_reader("a").unwrap();
    let e = b.open_reader("a").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut, "{}", e.display_chain());
    drop(r1);
    let mut r3 = b.open_reader("a").expect("a returned session is reused");
    let mut got = Vec::new();
    r3.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"a");
    drop(r2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn directories_removed_behind_the_backends_back_are_made_again() {
    let Some(env) = require_sftp() else { return };
    let dir = root(&env, "gone");
    let b = builder(&env).root(dir.to_string_lossy()).build().unwrap();
    b.write_all("a/b/c", b"1").unwrap();
    // Someone else removes the directories the backend has seen (and the root itself).
    std::fs::remove_dir_all(&dir).unwrap();
    b.write_all("a/b/c", b"2")
        .expect("the directories are made again");
    assert_eq!(std::fs::read(dir.join("a/b/c")).unwrap(), b"2");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The backend can be shared between threads (checked when this compiles).
#[allow(dead_code)]
fn the_backend_is_send_and_sync() {
    fn shared<T: Send + Sync + 'static>() {}
    shared::<omnistorage::backends::sftp::SftpBackend>();
}

/// OpenSSH (9.0 and later) has `copy-data`: server-side copy is announced, and `copy` copies
/// inside the server, keeping the time. (The rclone server, without it, answers
/// `Unsupported`: see `rclone`.)
#[test]
fn openssh_announces_copy_data_and_copies_inside_the_server() {
    let Some(env) = require_sftp() else { return };
    let dir = root(&env, "copy-data");
    let b = builder(&env).root(dir.to_string_lossy()).build().unwrap();
    assert!(b.capabilities().server_side_copy, "{:?}", b.capabilities());
    let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let mut w = b
        .writer(
            &Path::parse("a").unwrap(),
            &omnistorage::WriteOptions::new().modified(t),
        )
        .unwrap();
    w.write_all(b"inside").unwrap();
    w.finish().unwrap();
    let e = b
        .copy(&Path::parse("a").unwrap(), &Path::parse("d/b").unwrap())
        .unwrap();
    assert_eq!(e.modified, Some(t));
    assert_eq!(std::fs::read(dir.join("d/b")).unwrap(), b"inside");
    let _ = std::fs::remove_dir_all(&dir);
}
