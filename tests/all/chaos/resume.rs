//! Uploads that survive a restart (issue 15, item 3): the S3 upload journal
//! ([`S3Builder::upload_journal`](omnistorage::backends::s3::S3Builder::upload_journal)) lets
//! a writer take up the parts a dead one stored, and a closed backend aborts the uploads no
//! one took up. Against Garage and s3s-fs, through the fault proxy, which counts the bytes
//! sent.
//!
//! A "kill" at library level is a writer leaked with `std::mem::forget` and its backend
//! dropped: its journal entry's lock goes with the backend, as a killed process's goes with
//! the process (the drop also reclaims dead uploads under the backend's root, as `close`
//! does: the tests root each killed backend where only its own upload is). The parts it stored are known to be stored because its backend's memory
//! budget holds one part: a writer can only fill part k+1 past its first MiB once part k's
//! upload has ended.
//!
//! The campaign ([`cli_resumes_a_killed_upload`]) kills the `omnistorage` binary for real.
//! It is sized by `OMNISTORAGE_CHAOS_RESUME_MIB` (the object's size, default 48; `scripts/chaos`
//! runs 512) and prints `CHAOS {"campaign":"resume", ...}` (see it with `--no-capture`).

use std::io::Write;
use std::path::Path as FsPath;

use omnistorage::backends::s3::S3Backend;
use omnistorage::conformance::TempDir;
use omnistorage::{Backend, BackendExt, Path, WriteOptions};

use crate::s3::{MIB, builder, cleanup, pattern, unique_prefix};
use crate::support::tcp_proxy::TcpProxy;
use crate::support::{S3Env, require_server};

const PART: usize = 5 * MIB;

/// The servers these tests run on.
const SERVERS: [&str; 2] = ["garage", "s3s"];

/// Whether the server's ListParts gives each part's ETag (Garage). s3s-fs gives none, so its
/// stored parts cannot be checked and are sent again: there resuming is correct, not cheaper.
fn lists_etags(env: &S3Env) -> bool {
    env.server == "garage"
}

fn upstream(env: &S3Env) -> std::net::SocketAddr {
    let hostport = env.endpoint.trim_start_matches("http://");
    hostport.parse().expect("endpoint is host:port")
}

/// A backend through `proxy` with a journal in `journal`: parts of 5 MiB, one at a time,
/// and a memory budget of one part (see the module docs).
fn journaled(env: &S3Env, proxy: &TcpProxy, prefix: &str, journal: &FsPath) -> S3Backend {
    builder(env)
        .endpoint(format!("http://{}", proxy.addr()))
        .prefix(prefix)
        .part_size(PART)
        .concurrency(1)
        .upload_memory(PART)
        .upload_journal(journal)
        .build()
        .expect("backend")
}

/// Writes the first `parts` whole parts of `data` with identity `id`, waits until they are
/// stored, then "kills" the writer: leaked, and its backend dropped.
fn killed_after(backend: S3Backend, key: &str, data: &[u8], parts: usize, id: &str) {
    let opts = WriteOptions::new()
        .size_hint(data.len() as u64)
        .resume_id(id);
    let mut w = backend.writer(&Path::parse(key).unwrap(), &opts).unwrap();
    w.write_all(&data[..parts * PART]).unwrap();
    // Past the next part's first MiB: this returns once every earlier part is stored.
    w.write_all(&data[parts * PART..parts * PART + MIB + 1])
        .unwrap();
    std::mem::forget(w);
    drop(backend);
}

/// Writes `data` whole with identity `id`; returns the bytes the proxy saw go up meanwhile.
fn write_counted(backend: &S3Backend, proxy: &TcpProxy, key: &str, data: &[u8], id: &str) -> u64 {
    let before = proxy.stats().bytes_up;
    let opts = WriteOptions::new()
        .size_hint(data.len() as u64)
        .resume_id(id);
    let mut w = backend.writer(&Path::parse(key).unwrap(), &opts).unwrap();
    w.write_all(data).unwrap();
    w.finish().unwrap();
    proxy.stats().bytes_up - before
}

/// The uploads pending under `prefix`, seen by a backend without a journal; `None` where the
/// server does not list them (s3s-fs has no ListMultipartUploads).
fn pending(env: &S3Env, prefix: &str) -> Option<usize> {
    let b = builder(env).prefix(prefix).build().unwrap();
    let mut n = 0;
    for item in b.pending_uploads(&Path::root()).unwrap() {
        match item {
            Ok(_) => n += 1,
            Err(e) if e.kind() == omnistorage::ErrorKind::Unsupported => return None,
            Err(e) => panic!("{}: {e}", env.server),
        }
    }
    Some(n)
}

/// Asserts that `n` uploads are pending under `prefix`, where the server can say.
#[track_caller]
fn assert_pending(env: &S3Env, prefix: &str, n: usize) {
    if let Some(found) = pending(env, prefix) {
        assert_eq!(found, n, "{}: pending uploads under {prefix}", env.server);
    }
}

fn journal_entries(dir: &FsPath) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.flatten().count())
}

/// Runs `body` on each server with a fresh prefix and journal, then cleans up.
fn each(body: impl Fn(&S3Env, &TcpProxy, &str, &FsPath)) {
    for server in SERVERS {
        let Some(env) = require_server(server) else {
            continue;
        };
        let prefix = unique_prefix("resume");
        let journal = TempDir::new().unwrap();
        let proxy = TcpProxy::start(upstream(&env)).unwrap();
        body(&env, &proxy, &prefix, journal.path());
        cleanup(&env, &prefix);
    }
}

#[test]
fn a_killed_upload_resumes_from_its_stored_parts() {
    each(|env, proxy, prefix, journal| {
        // Four parts, the last one short; two are stored when the writer dies.
        let data = pattern(3 * PART + PART / 2, 7);
        killed_after(
            journaled(env, proxy, prefix, journal),
            "big",
            &data,
            2,
            "v1",
        );
        let again = journaled(env, proxy, prefix, journal);
        let sent = write_counted(&again, proxy, "big", &data, "v1");
        let rest = (data.len() - 2 * PART) as u64;
        assert!(
            !lists_etags(env) || (sent >= rest && sent < rest + PART as u64 / 4),
            "{}: the second writer sent {sent} bytes; the two missing parts are {rest}",
            env.server
        );
        assert!(again.read_to_vec("big").unwrap() == data, "{}", env.server);
        assert_pending(env, prefix, 0);
        assert_eq!(journal_entries(journal), 0, "{}", env.server);
    });
}

#[test]
fn a_part_cut_mid_way_is_sent_again_in_place() {
    each(|env, proxy, prefix, _| {
        // No journal, no identity: the writer retries the part itself.
        let backend = builder(env)
            .endpoint(format!("http://{}", proxy.addr()))
            .prefix(prefix)
            .part_size(PART)
            .concurrency(1)
            .upload_memory(PART)
            .build()
            .unwrap();
        let data = pattern(4 * PART, 9);
        let before = proxy.stats();
        let mut w = backend.open_writer("obj").unwrap();
        // Parts 1 and 2 stored (see the module docs), then part 3 cut 2 MiB in.
        w.write_all(&data[..2 * PART + MIB + 1]).unwrap();
        proxy.cut_next_upload_after(2 * MIB as u64);
        w.write_all(&data[2 * PART + MIB + 1..]).unwrap();
        w.finish().unwrap();
        let after = proxy.stats();
        assert_eq!(after.cuts, before.cuts + 1, "{}: the cut fired", env.server);
        let sent = after.bytes_up - before.bytes_up;
        let object = data.len() as u64;
        assert!(
            sent >= object + 2 * MIB as u64 && sent < object + PART as u64,
            "{}: sent {sent} bytes for an object of {object}: about the cut part's 2 MiB more",
            env.server
        );
        assert!(
            backend.read_to_vec("obj").unwrap() == data,
            "{}",
            env.server
        );
        assert_pending(env, prefix, 0);
    });
}

#[test]
fn a_writer_dropped_after_a_failure_leaves_its_upload_to_the_next_attempt() {
    each(|env, proxy, prefix, journal| {
        // One backend, as in a sync run: the first attempt's writer fails (its source did)
        // after two parts are stored; the engine's next attempt writes the same content.
        let backend = journaled(env, proxy, prefix, journal);
        let data = pattern(3 * PART + PART / 2, 10);
        let opts = WriteOptions::new()
            .size_hint(data.len() as u64)
            .resume_id("v1");
        let mut w = backend.writer(&Path::parse("big").unwrap(), &opts).unwrap();
        w.write_all(&data[..2 * PART + MIB + 1]).unwrap();
        drop(w);
        assert_pending(env, prefix, 1);
        assert_eq!(
            journal_entries(journal),
            1,
            "{}: the entry stays",
            env.server
        );
        let sent = write_counted(&backend, proxy, "big", &data, "v1");
        let rest = (data.len() - 2 * PART) as u64;
        assert!(
            !lists_etags(env) || (sent >= rest && sent < rest + PART as u64 / 4),
            "{}: the next attempt sent {sent} bytes; the two missing parts are {rest}",
            env.server
        );
        assert!(
            backend.read_to_vec("big").unwrap() == data,
            "{}",
            env.server
        );
        assert_pending(env, prefix, 0);
        assert_eq!(journal_entries(journal), 0, "{}", env.server);
        // A cancelled writer aborts its upload: nothing stays.
        let cancel = omnistorage::Cancel::new();
        let mut w = backend
            .writer(
                &Path::parse("other").unwrap(),
                &opts.clone().cancel(&cancel),
            )
            .unwrap();
        w.write_all(&data[..PART + MIB + 1]).unwrap();
        cancel.cancel();
        drop(w);
        assert_pending(env, prefix, 0);
        assert_eq!(journal_entries(journal), 0, "{}", env.server);
        // An aborted writer's upload that no one takes up is aborted by `close`.
        let mut w = backend
            .writer(&Path::parse("other").unwrap(), &opts)
            .unwrap();
        w.write_all(&data[..PART + MIB + 1]).unwrap();
        w.abort().unwrap();
        assert_pending(env, prefix, 1);
        backend.close().unwrap();
        assert_pending(env, prefix, 0);
        assert_eq!(journal_entries(journal), 0, "{}", env.server);
    });
}

#[test]
fn another_identity_starts_over_and_aborts_the_old_upload() {
    each(|env, proxy, prefix, journal| {
        let old = pattern(3 * PART, 1);
        killed_after(journaled(env, proxy, prefix, journal), "obj", &old, 2, "v1");
        let new = pattern(3 * PART, 2);
        let again = journaled(env, proxy, prefix, journal);
        let sent = write_counted(&again, proxy, "obj", &new, "v2");
        assert!(sent >= new.len() as u64, "{}: sent {sent}", env.server);
        assert!(again.read_to_vec("obj").unwrap() == new, "{}", env.server);
        assert_pending(env, prefix, 0);
    });
}

#[test]
fn other_metadata_starts_over() {
    each(|env, proxy, prefix, journal| {
        let data = pattern(2 * PART + MIB + 1, 6);
        let first = journaled(env, proxy, prefix, journal);
        let opts = WriteOptions::new()
            .size_hint(data.len() as u64)
            .resume_id("v1")
            .metadata("owner", "old");
        let mut w = first.writer(&Path::parse("obj").unwrap(), &opts).unwrap();
        w.write_all(&data[..PART + MIB + 1]).unwrap();
        std::mem::forget(w);
        drop(first);
        // Same content, other metadata: the old upload carries the old metadata.
        let again = journaled(env, proxy, prefix, journal);
        let before = proxy.stats().bytes_up;
        let opts = opts.metadata("owner", "new");
        let mut w = again.writer(&Path::parse("obj").unwrap(), &opts).unwrap();
        w.write_all(&data).unwrap();
        w.finish().unwrap();
        let sent = proxy.stats().bytes_up - before;
        assert!(sent >= data.len() as u64, "{}: sent {sent}", env.server);
        let entry = again.stat(&Path::parse("obj").unwrap()).unwrap();
        assert_eq!(
            entry.metadata.get("owner").map(String::as_str),
            Some("new"),
            "{}",
            env.server
        );
        assert_pending(env, prefix, 0);
    });
}

#[test]
fn a_stored_part_that_differs_is_sent_again() {
    each(|env, proxy, prefix, journal| {
        let old = pattern(3 * PART, 3);
        killed_after(
            journaled(env, proxy, prefix, journal),
            "obj",
            &old,
            2,
            "same",
        );
        // The caller says "same content" but part 1 changed: only part 2 is reused.
        let mut new = old.clone();
        new[PART / 2] ^= 0xff;
        let again = journaled(env, proxy, prefix, journal);
        let sent = write_counted(&again, proxy, "obj", &new, "same");
        let expected = 2 * PART as u64;
        assert!(
            !lists_etags(env) || (sent >= expected && sent < expected + PART as u64 / 4),
            "{}: sent {sent}, expected parts 1 and 3 ({expected})",
            env.server
        );
        assert!(again.read_to_vec("obj").unwrap() == new, "{}", env.server);
        assert_pending(env, prefix, 0);
    });
}

#[test]
fn an_upload_gone_from_the_server_starts_over() {
    each(|env, proxy, prefix, journal| {
        if pending(env, prefix).is_none() {
            return; // no ListMultipartUploads to find the upload with
        }
        let data = pattern(2 * PART + 10, 4);
        killed_after(
            journaled(env, proxy, prefix, journal),
            "obj",
            &data,
            1,
            "v1",
        );
        let plain = builder(env).prefix(prefix).build().unwrap();
        for upload in plain.pending_uploads(&Path::root()).unwrap() {
            plain.abort_upload(&upload.unwrap()).unwrap();
        }
        let again = journaled(env, proxy, prefix, journal);
        let sent = write_counted(&again, proxy, "obj", &data, "v1");
        assert!(sent >= data.len() as u64, "{}: sent {sent}", env.server);
        assert!(again.read_to_vec("obj").unwrap() == data, "{}", env.server);
    });
}

#[test]
fn a_writer_killed_before_it_recorded_its_upload_id_leaves_nothing() {
    each(|env, proxy, prefix, journal| {
        if pending(env, prefix).is_none() {
            return; // no ListMultipartUploads to find the upload with
        }
        // What a kill between the journal's creating entry and CreateMultipartUpload's
        // answer leaves: the entry without an upload id (as the writer writes it, named
        // anything: a reclaim reads every entry), and an upload no entry names.
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let key = format!("{prefix}/obj");
        let entry = format!(
            "omnistorage-upload 2\nendpoint http://{}\nbucket {}\nkey {key}\nupload_id \n\
             part_size {PART}\nidentity v1\nheaders -\nstarted {started}\n",
            proxy.addr(),
            env.bucket,
        );
        std::fs::create_dir_all(journal).unwrap();
        std::fs::write(journal.join("0123456789abcdef.upload"), entry).unwrap();
        let untracked = builder(env).prefix(prefix).part_size(PART).build().unwrap();
        let mut w = untracked.open_writer("obj").unwrap();
        w.write_all(&pattern(PART + MIB + 1, 11)).unwrap();
        std::mem::forget(w);
        assert_pending(env, prefix, 1);
        // An upload of another key in the same seconds is not the dead writer's.
        let mut other = untracked.open_writer("other").unwrap();
        other.write_all(&pattern(PART + MIB + 1, 12)).unwrap();
        assert_pending(env, prefix, 2);
        // The next backend on this root reclaims: the upload the entry could not name goes.
        journaled(env, proxy, prefix, journal).close().unwrap();
        assert_pending(env, prefix, 1);
        assert_eq!(journal_entries(journal), 0, "{}", env.server);
        other.abort().unwrap();
        assert_pending(env, prefix, 0);
    });
}

#[test]
fn close_aborts_the_uploads_no_one_took_up() {
    each(|env, proxy, prefix, journal| {
        let data = pattern(2 * PART + MIB + 1, 5);
        // Each "killed" backend is rooted where its upload is: dropping it (which reclaims
        // what is dead under its root, see `close`) leaves the other's upload be.
        let (a, b) = (format!("{prefix}/a"), format!("{prefix}/b"));
        killed_after(journaled(env, proxy, &a, journal), "x", &data, 1, "v1");
        killed_after(journaled(env, proxy, &b, journal), "y", &data, 1, "v1");
        assert_pending(env, prefix, 2);
        // A backend rooted elsewhere leaves them alone.
        let other = journaled(env, proxy, &b, journal);
        let elsewhere = journaled(env, proxy, &format!("{prefix}-other"), journal);
        elsewhere.close().unwrap();
        assert_pending(env, prefix, 2);
        other.close().unwrap();
        assert_pending(env, prefix, 1);
        // Dropping a backend without closing it reclaims too.
        drop(journaled(env, proxy, prefix, journal));
        assert_pending(env, prefix, 0);
        assert_eq!(journal_entries(journal), 0, "{}", env.server);
    });
}

/// Runs the binary with `args` and kills it (SIGKILL) once `proxy` has seen `kill_at` bytes
/// go up.
#[cfg(all(feature = "cli", unix))]
fn killed_run(args: &[&str], home: &FsPath, proxy: &TcpProxy, kill_at: u64) {
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let mut child = crate::cli::command(args, home)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    let start = proxy.stats().bytes_up;
    let deadline = Instant::now() + Duration::from_secs(600);
    while proxy.stats().bytes_up - start < kill_at {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        assert!(Instant::now() < deadline, "the upload did not progress");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

/// Item 2's S3 half: a run killed in the middle of an upload leaves it pending; the next
/// run, which has nothing of it to resume (the source is gone), aborts it when it ends.
/// The binary's URL for `prefix` on `env` through `proxy`, in 5 MiB parts sent one at a time.
#[cfg(all(feature = "cli", unix))]
fn cli_url(env: &S3Env, proxy: &TcpProxy, prefix: &str) -> String {
    format!(
        "s3://{}/{prefix}?endpoint=http://{}&region={}&access_key_id={}&secret_access_key={}\
         &part_size=5M&concurrency=1",
        env.bucket,
        proxy.addr(),
        env.region,
        env.access_key,
        env.secret_key
    )
}

#[cfg(all(feature = "cli", unix))]
#[test]
fn cli_next_run_reclaims_a_killed_runs_upload() {
    let Some(env) = require_server("garage") else {
        return;
    };
    let home = TempDir::new().unwrap();
    let src = TempDir::new().unwrap();
    std::fs::write(src.path().join("f.bin"), pattern(4 * PART, 8)).unwrap();
    let prefix = unique_prefix("reclaim");
    let proxy = TcpProxy::start(upstream(&env)).unwrap();
    let url = cli_url(&env, &proxy, &prefix);
    let s = src.path().to_string_lossy().into_owned();
    killed_run(&["sync", &s, &url], home.path(), &proxy, 2 * PART as u64);
    assert_pending(&env, &prefix, 1);
    std::fs::remove_file(src.path().join("f.bin")).unwrap();
    let o = crate::cli::run(&["sync", &s, &url], None, home.path());
    assert_eq!(crate::cli::code(&o), 0, "{}", crate::cli::stderr(&o));
    assert_pending(&env, &prefix, 0);
    assert_eq!(
        journal_entries(&home.path().join("cache/omnistorage/uploads")),
        0
    );
    cleanup(&env, &prefix);
}

/// The campaign: the binary copies one large file to Garage through the proxy, is killed
/// with SIGKILL once the proxy has seen half the object and one part more (so that about
/// half is stored in whole parts), and a second run completes it. Sized by
/// `OMNISTORAGE_CHAOS_RESUME_MIB` (default 48).
#[cfg(all(feature = "cli", unix))]
#[test]
fn cli_resumes_a_killed_upload() {
    let Some(env) = require_server("garage") else {
        return;
    };
    let mib: usize = std::env::var("OMNISTORAGE_CHAOS_RESUME_MIB")
        .map(|v| {
            v.trim()
                .parse()
                .expect("OMNISTORAGE_CHAOS_RESUME_MIB is a number")
        })
        .unwrap_or(48);
    let size = mib * MIB;
    let home = TempDir::new().unwrap();
    let src = TempDir::new().unwrap();
    let data = pattern(size, 9);
    std::fs::write(src.path().join("big.bin"), &data).unwrap();
    let prefix = unique_prefix("chaos-resume");
    let proxy = TcpProxy::start(upstream(&env)).unwrap();
    let url = cli_url(&env, &proxy, &prefix);
    let s = src.path().to_string_lossy().into_owned();
    killed_run(
        &["copy", &s, &url],
        home.path(),
        &proxy,
        (size / 2 + PART) as u64,
    );
    let first = proxy.stats().bytes_up;
    let plain = builder(&env).prefix(&prefix).build().unwrap();
    assert_pending(&env, &prefix, 1);
    let uploads = home.path().join("cache/omnistorage/uploads");
    assert_eq!(
        journal_entries(&uploads),
        1,
        "the killed run's journal entry"
    );
    assert!(!plain.contains("big.bin").unwrap(), "no partial object");

    let second = crate::cli::run(&["copy", &s, &url], None, home.path());
    assert_eq!(
        crate::cli::code(&second),
        0,
        "{}",
        crate::cli::stderr(&second)
    );
    let second_up = proxy.stats().bytes_up - first;
    let identical = plain.read_to_vec("big.bin").unwrap() == data;
    let pending_after = pending(&env, &prefix).expect("Garage lists uploads");
    println!(
        "CHAOS {{\"campaign\":\"resume\",\"server\":\"garage\",\"object_bytes\":{size},\
         \"part_bytes\":{PART},\"first_run_bytes_up\":{first},\
         \"second_run_bytes_up\":{second_up},\"second_run_share\":{:.3},\
         \"identical\":{identical},\"pending_uploads_after\":{pending_after}}}",
        second_up as f64 / size as f64
    );
    assert!(identical, "the object matches its source");
    assert_eq!(
        journal_entries(&uploads),
        0,
        "the entry is gone with the upload"
    );
    assert_eq!(pending_after, 0, "no pending upload is left");
    assert!(
        (second_up as f64) < 0.6 * size as f64,
        "the second run sent {second_up} of {size} bytes"
    );
    cleanup(&env, &prefix);
}

/// `copyto` goes through the same copy route as `copy` (issue 21, items 4 and 13): its upload
/// carries a resume identity and the journal is kept, so a killed `copyto` to S3 is taken up
/// by the next `copyto` of the same file, which on Garage sends about what the first did not
/// store (s3s-fs lists no part ETags: there the parts are sent again, and the journal entry
/// is still found and closed).
#[cfg(all(feature = "cli", unix))]
#[test]
fn cli_copyto_resumes_a_killed_upload() {
    for server in SERVERS {
        let Some(env) = require_server(server) else {
            continue;
        };
        let size = 6 * PART;
        let home = TempDir::new().unwrap();
        let src = TempDir::new().unwrap();
        let data = pattern(size, 11);
        let file = src.path().join("one.bin");
        std::fs::write(&file, &data).unwrap();
        let prefix = unique_prefix("copyto-resume");
        let proxy = TcpProxy::start(upstream(&env)).unwrap();
        let url = cli_url(&env, &proxy, &prefix);
        // The object's own URL: its key before the query.
        let (base, query) = url.split_once('?').expect("a query");
        let dst = format!("{base}/renamed.bin?{query}");
        let f = file.to_string_lossy().into_owned();
        killed_run(
            &["copyto", &f, &dst],
            home.path(),
            &proxy,
            (size / 2 + PART) as u64,
        );
        let first = proxy.stats().bytes_up;
        assert_pending(&env, &prefix, 1);
        let uploads = home.path().join("cache/omnistorage/uploads");
        assert_eq!(
            journal_entries(&uploads),
            1,
            "{server}: the killed copyto's entry"
        );
        let plain = builder(&env).prefix(&prefix).build().unwrap();
        assert!(!plain.contains("renamed.bin").unwrap(), "no partial object");

        let second = crate::cli::run(&["copyto", &f, &dst], None, home.path());
        assert_eq!(
            crate::cli::code(&second),
            0,
            "{server}: {}",
            crate::cli::stderr(&second)
        );
        let second_up = proxy.stats().bytes_up - first;
        assert!(
            plain.read_to_vec("renamed.bin").unwrap() == data,
            "{server}"
        );
        assert_eq!(journal_entries(&uploads), 0, "{server}: the entry is gone");
        assert_pending(&env, &prefix, 0);
        if lists_etags(&env) {
            assert!(
                (second_up as f64) < 0.6 * size as f64,
                "the second copyto sent {second_up} of {size} bytes"
            );
        }
        cleanup(&env, &prefix);
    }
}

/// `--no-upload-journal`: the binary keeps no journal (and a multipart upload still works).
#[cfg(feature = "cli")]
#[test]
fn cli_without_the_journal_keeps_none() {
    let Some(env) = require_server("garage") else {
        return;
    };
    let home = TempDir::new().unwrap();
    let src = TempDir::new().unwrap();
    let data = pattern(PART + MIB, 3);
    std::fs::write(src.path().join("f.bin"), &data).unwrap();
    let prefix = unique_prefix("no-journal");
    let url = format!(
        "s3://{}/{prefix}?endpoint={}&region={}&access_key_id={}&secret_access_key={}\
         &part_size=5M",
        env.bucket, env.endpoint, env.region, env.access_key, env.secret_key
    );
    let s = src.path().to_string_lossy().into_owned();
    let uploads = home.path().join("cache/omnistorage/uploads");
    let o = crate::cli::run(
        &["copy", &s, &url, "--no-upload-journal"],
        None,
        home.path(),
    );
    assert_eq!(crate::cli::code(&o), 0, "{}", crate::cli::stderr(&o));
    assert!(!uploads.exists(), "no journal directory");
    let b = builder(&env).prefix(&prefix).build().unwrap();
    assert!(b.read_to_vec("f.bin").unwrap() == data);
    // Without the flag, the journal is kept (and left empty once the upload completed).
    b.delete(&Path::parse("f.bin").unwrap()).unwrap();
    let o = crate::cli::run(&["copy", &s, &url], None, home.path());
    assert_eq!(crate::cli::code(&o), 0, "{}", crate::cli::stderr(&o));
    assert!(uploads.is_dir(), "the journal directory");
    assert_eq!(journal_entries(&uploads), 0);
    cleanup(&env, &prefix);
}
