//! The S3 backend against real servers on loopback (s3s-fs, Garage, moto), started by
//! `scripts/servers/up`. Under CI a missing server fails these tests.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, UNIX_EPOCH};

use omnistorage::backends::s3::{S3Backend, S3Builder};
use omnistorage::conformance::Fixture;
use omnistorage::{Backend, BackendExt, ErrorKind, Path, Presign, WriteMode, WriteOptions};

use crate::support::tcp_proxy::TcpProxy;
use crate::support::{S3Env, require_server};

const MIB: usize = 1024 * 1024;

/// A prefix no other test uses.
fn unique_prefix(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{tag}-{}-{}-{nanos:x}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn builder(env: &S3Env) -> S3Builder {
    S3Backend::builder(env.bucket.clone())
        .endpoint(env.endpoint.clone())
        .region(env.region.clone())
        .path_style(true)
        .credentials(env.access_key.clone(), env.secret_key.clone())
        .part_size(5 * MIB)
        .retry_base(Duration::from_millis(20))
}

/// Deletes everything under `prefix` (with a fresh backend: the fixture's is closed by now).
fn cleanup(env: &S3Env, prefix: &str) {
    if let Ok(b) = builder(env).prefix(prefix).build() {
        let paths: Vec<Path> = b
            .list(&Path::root(), &omnistorage::ListOptions::new())
            .map(|l| l.filter_map(|e| e.ok()).map(|e| e.path).collect())
            .unwrap_or_default();
        for p in &paths {
            let _ = b.delete(p);
        }
    }
}

fn fixture(server: &str, read_mtime: bool) -> Fixture {
    let Some(env) = require_server(server) else {
        // Outside CI, without the server: an empty memory store makes every case pass
        // vacuously; the skip was announced loudly by require_server.
        return Fixture::new(omnistorage::MemoryBackend::new());
    };
    let prefix = unique_prefix("conf");
    // s3s-fs and moto honour `If-None-Match: *`; Garage 2.5 ignores it.
    let b = builder(&env)
        .prefix(&prefix)
        .read_mtime(read_mtime)
        .conditional_writes(server != "garage");
    let backend = b.build().expect("backend");
    let mut fixture = Fixture::new(backend).with_cleanup(move || cleanup(&env, &prefix));
    if server == "s3s" {
        fixture = fixture.skip(
            "exists_reports_objects_only",
            "s3s-fs stores keys as files and answers HEAD on a directory with 500; \
             the case runs on Garage and moto",
        );
    }
    fixture
}

mod s3s_conformance {
    omnistorage::conformance_tests!(|| super::fixture("s3s", true));
}

mod garage_conformance {
    omnistorage::conformance_tests!(|| super::fixture("garage", true));
}

mod moto_conformance {
    omnistorage::conformance_tests!(|| super::fixture("moto", true));
}

/// Runs `body` against every server that is up (and requires them all under CI).
fn each_server(body: impl Fn(&S3Env, S3Backend, &str)) {
    for server in ["s3s", "garage", "moto"] {
        let Some(env) = require_server(server) else {
            continue;
        };
        let prefix = unique_prefix("t");
        let backend = builder(&env).prefix(&prefix).build().expect("backend");
        body(&env, backend, &prefix);
        cleanup(&env, &prefix);
    }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 12) as u8)
        .collect()
}

#[test]
fn wrong_secret_is_unauthenticated() {
    each_server(|env, _, _| {
        if env.server == "moto" {
            return; // moto does not check signatures at all
        }
        let bad = builder(env)
            .credentials(env.access_key.clone(), "not-the-secret")
            .build()
            .unwrap();
        for (what, r) in [
            ("read", bad.read_to_vec("x").map(|_| ())),
            ("write", bad.write_all("x", b"y").map(|_| ())),
            ("list", bad.list_all("").map(|_| ())),
            ("exists", bad.contains("x").map(|_| ())),
        ] {
            let err = r.expect_err(what);
            assert_eq!(
                err.kind(),
                ErrorKind::Unauthenticated,
                "{}: {what}: {err}",
                env.server
            );
            assert!(!err.to_string().contains("not-the-secret"), "{err}");
            assert!(!format!("{err:?}").contains("not-the-secret"), "{err:?}");
        }
        assert!(!format!("{bad:?}").contains("not-the-secret"));
    });
}

#[test]
fn missing_bucket_is_not_found_naming_it() {
    each_server(|env, _, _| {
        let b = S3Backend::builder("no-such-bucket-omni")
            .endpoint(env.endpoint.clone())
            .region(env.region.clone())
            .path_style(true)
            .credentials(env.access_key.clone(), env.secret_key.clone())
            .build()
            .unwrap();
        let err = b.list_all("").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{}: {err}", env.server);
        assert!(
            err.to_string().contains("no-such-bucket-omni"),
            "{}: {err}",
            env.server
        );
        let err = b.read_to_vec("x").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{}: {err}", env.server);
        if env.server != "s3s" {
            // s3s-fs creates a missing bucket on PUT; real stores refuse.
            let err = b.write_all("x", b"y").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound, "{}: {err}", env.server);
        }
    });
}

#[test]
fn multipart_boundaries_round_trip() {
    each_server(|env, b, _prefix| {
        for (name, len) in [
            ("zero", 0),
            ("one", 1),
            ("one-part", 5 * MIB),
            ("one-part-plus-one", 5 * MIB + 1),
            ("three-parts", 15 * MIB - 7),
        ] {
            let data = pattern(len, len as u8);
            let mut w = b.open_writer(name).unwrap();
            for chunk in data.chunks(777_777) {
                w.write_all(chunk).unwrap();
            }
            let entry = w.finish().unwrap();
            assert_eq!(entry.size, len as u64, "{}: {name}", env.server);
            let back = b.read_to_vec(name).unwrap();
            assert!(back == data, "{}: {name}: content differs", env.server);
            let stat = b.info(name).unwrap();
            assert_eq!(stat.size, len as u64, "{}: {name}", env.server);
        }
    });
}

#[test]
fn abort_and_drop_leave_no_object_and_no_pending_upload() {
    for server in ["garage", "moto"] {
        // s3s-fs has no ListMultipartUploads (501).
        let Some(env) = require_server(server) else {
            continue;
        };
        let prefix = unique_prefix("abort");
        let b = builder(&env).prefix(&prefix).build().unwrap();
        let data = pattern(12 * MIB, 3);
        let mut w = b.open_writer("aborted").unwrap();
        w.write_all(&data).unwrap();
        assert_eq!(
            b.pending_uploads(&Path::root()).unwrap().count(),
            1,
            "{server}: the multipart upload started"
        );
        w.abort().unwrap();
        {
            let mut w = b.open_writer("dropped").unwrap();
            w.write_all(&data).unwrap();
        }
        assert!(!b.contains("aborted").unwrap(), "{server}");
        assert!(!b.contains("dropped").unwrap(), "{server}");
        let pending: Vec<_> = b.pending_uploads(&Path::root()).unwrap().collect();
        assert!(pending.is_empty(), "{server}: {pending:?}");
        assert!(b.list_all("").unwrap().is_empty(), "{server}");
        cleanup(&env, &prefix);
    }
}

#[test]
fn metadata_and_mtime_use_rclones_format() {
    each_server(|env, b, _prefix| {
        let when = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
        let opts = WriteOptions::new()
            .modified(when)
            .content_type("application/json")
            .metadata("Owner", "ops");
        let mut w = b.writer(&Path::parse("m.json").unwrap(), &opts).unwrap();
        w.write_all(b"{}").unwrap();
        w.finish().unwrap();
        let e = b.info("m.json").unwrap();
        assert_eq!(e.modified, Some(when), "{}", env.server);
        assert_eq!(
            e.content_type.as_deref(),
            Some("application/json"),
            "{}",
            env.server
        );
        assert_eq!(
            e.metadata.get("owner").map(String::as_str),
            Some("ops"),
            "{}",
            env.server
        );
        assert!(
            !e.metadata.contains_key("mtime"),
            "mtime is the modification time, not user metadata"
        );
    });
}

#[test]
fn create_new_is_refused_on_an_existing_object() {
    each_server(|env, b, _prefix| {
        b.write_all("taken", b"old").unwrap();
        let opts = WriteOptions::new().mode(WriteMode::CreateNew);
        let err = b.writer(&Path::parse("taken").unwrap(), &opts).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::AlreadyExists,
            "{}: {err}",
            env.server
        );
        assert_eq!(b.read_to_vec("taken").unwrap(), b"old");
    });
}

#[test]
fn large_copy_goes_part_by_part() {
    for server in ["garage", "moto", "s3s"] {
        let Some(env) = require_server(server) else {
            continue;
        };
        let prefix = unique_prefix("copy");
        let b = builder(&env)
            .prefix(&prefix)
            .copy_cutoff(5 * MIB as u64)
            .build()
            .unwrap();
        let data = pattern(11 * MIB + 5, 9);
        let when = UNIX_EPOCH + Duration::from_secs(1_650_000_000);
        let mut w = b
            .writer(
                &Path::parse("src").unwrap(),
                &WriteOptions::new().modified(when),
            )
            .unwrap();
        w.write_all(&data).unwrap();
        w.finish().unwrap();
        b.copy_to("src", &b, "dst/copy").unwrap();
        assert!(
            b.read_to_vec("dst/copy").unwrap() == data,
            "{server}: copied content"
        );
        assert_eq!(
            b.info("dst/copy").unwrap().modified,
            Some(when),
            "{server}: copy keeps mtime"
        );
        cleanup(&env, &prefix);
    }
}

#[test]
fn delete_many_spans_requests() {
    let Some(env) = require_server("garage") else {
        return;
    };
    let prefix = unique_prefix("many");
    let b = builder(&env).prefix(&prefix).build().unwrap();
    let paths: Vec<Path> = (0..1100)
        .map(|i| Path::parse(format!("d/{i:04}")).unwrap())
        .collect();
    std::thread::scope(|s| {
        for chunk in paths.chunks(275) {
            let b = &b;
            s.spawn(move || {
                for p in chunk {
                    b.write_all(p, b"x").unwrap();
                }
            });
        }
    });
    assert_eq!(b.list_all("d").unwrap().len(), 1100);
    let mut targets = paths.clone();
    targets.push(Path::parse("d/never-existed").unwrap());
    targets.push(Path::root());
    let results = b.delete_many(&targets);
    assert_eq!(results.len(), targets.len());
    let (root, rest) = results.split_last().unwrap();
    assert_eq!(root.as_ref().unwrap_err().kind(), ErrorKind::InvalidPath);
    assert!(rest.iter().all(Result::is_ok), "{rest:?}");
    assert!(b.list_all("d").unwrap().is_empty());
}

#[test]
fn presigned_urls_work_with_a_plain_http_client() {
    each_server(|env, b, _prefix| {
        let put = b
            .presign(
                &Path::parse("pre/signed").unwrap(),
                Presign::Put,
                Duration::from_secs(300),
            )
            .unwrap();
        let body = std::env::temp_dir().join(format!("omni-presign-{}", std::process::id()));
        std::fs::write(&body, b"uploaded with curl").unwrap();
        let status = std::process::Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-T"])
            .arg(&body)
            .arg(&put)
            .output()
            .expect("curl");
        assert_eq!(
            String::from_utf8_lossy(&status.stdout),
            "200",
            "{}: presigned PUT",
            env.server
        );
        assert_eq!(b.read_to_vec("pre/signed").unwrap(), b"uploaded with curl");
        let get = b
            .presign(
                &Path::parse("pre/signed").unwrap(),
                Presign::Get,
                Duration::from_secs(300),
            )
            .unwrap();
        let out = std::process::Command::new("curl")
            .args(["-s", "-f"])
            .arg(&get)
            .output()
            .expect("curl");
        assert_eq!(
            out.stdout, b"uploaded with curl",
            "{}: presigned GET",
            env.server
        );
        let err = b
            .presign(
                &Path::parse("x").unwrap(),
                Presign::Get,
                Duration::from_secs(8 * 24 * 3600),
            )
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        std::fs::remove_file(body).ok();
    });
}

#[test]
fn unreachable_endpoint_fails_fast_naming_it() {
    // A port nothing listens on: refused at once, retried a few times, then a clear error.
    let b = S3Backend::builder("omnistorage-test")
        .endpoint("http://127.0.0.1:9")
        .path_style(true)
        .credentials("k", "s")
        .connect_timeout(Duration::from_secs(2))
        .retries(2)
        .retry_base(Duration::from_millis(10))
        .build()
        .unwrap();
    let start = Instant::now();
    let err = b.read_to_vec("x").unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert!(err.to_string().contains("127.0.0.1:9"), "{err}");
    assert!(err.is_temporary(), "{err}");
}

#[test]
fn open_by_url() {
    let Some(env) = require_server("s3s") else {
        return;
    };
    let prefix = unique_prefix("url");
    let url = format!(
        "s3://{}/{prefix}?endpoint={}&region={}&path_style=true&access_key_id={}&secret_access_key={}",
        env.bucket, env.endpoint, env.region, env.access_key, env.secret_key
    );
    let b = omnistorage::open(&url).unwrap();
    b.write_all("via-url", b"1").unwrap();
    assert_eq!(b.read_to_vec("via-url").unwrap(), b"1");
    assert!(!format!("{b:?}").contains(&env.secret_key));
    let err = omnistorage::open(&format!(
        "s3://{}/?endpoint={}&part_size=1K&access_key_id=a&secret_access_key=b",
        env.bucket, env.endpoint
    ))
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{err}");
    cleanup(&env, &prefix);
}

// ---------------------------------------------------------------------------------------------
// Broken connections, through a proxy that cuts them on cue.

fn proxied(env: &S3Env, proxy: &TcpProxy, prefix: &str) -> S3Backend {
    builder(env)
        .endpoint(format!("http://{}", proxy.addr()))
        .prefix(prefix)
        .build()
        .unwrap()
}

fn upstream(env: &S3Env) -> std::net::SocketAddr {
    let hostport = env.endpoint.trim_start_matches("http://");
    hostport.parse().expect("endpoint is host:port")
}

#[test]
fn reads_resume_after_the_connection_breaks() {
    each_server(|env, b, prefix| {
        let data = pattern(3 * MIB + 11, 5);
        b.write_all("big", &data).unwrap();
        let proxy = TcpProxy::start(upstream(env)).unwrap();
        let through = proxied(env, &proxy, prefix);
        proxy.cut_next_download_after(MIB as u64);
        let mut back = Vec::new();
        through
            .open_reader("big")
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert!(back == data, "{}: resumed content", env.server);
        assert!(
            proxy.stats().connections >= 2,
            "{}: it reconnected",
            env.server
        );
    });
}

#[test]
fn writes_retry_after_the_connection_breaks() {
    each_server(|env, b, prefix| {
        let proxy = TcpProxy::start(upstream(env)).unwrap();
        let through = proxied(env, &proxy, prefix);
        // A single PUT cut half-way is sent again.
        let small = pattern(2 * MIB, 1);
        proxy.cut_next_upload_after(MIB as u64);
        through.write_all("small", &small).unwrap();
        assert!(b.read_to_vec("small").unwrap() == small, "{}", env.server);
        // A part of a multipart upload cut half-way is sent again.
        let big = pattern(11 * MIB, 2);
        proxy.cut_next_upload_after(7 * MIB as u64);
        through.write_all("big", &big).unwrap();
        assert!(b.read_to_vec("big").unwrap() == big, "{}", env.server);
    });
}

#[test]
fn a_connection_that_keeps_breaking_fails_cleanly() {
    each_server(|env, b, prefix| {
        let proxy = TcpProxy::start(upstream(env)).unwrap();
        let through = builder(env)
            .endpoint(format!("http://{}", proxy.addr()))
            .prefix(prefix)
            .retries(2)
            .build()
            .unwrap();
        b.write_all("kept", b"old content").unwrap();
        proxy.refuse_next_connections(1000);
        let err = through.write_all("kept", pattern(MIB, 4)).unwrap_err();
        assert!(err.is_temporary(), "{}: {err}", env.server);
        let err = through.write_all("new", pattern(MIB, 4)).unwrap_err();
        assert!(err.is_temporary(), "{}: {err}", env.server);
        assert_eq!(
            b.read_to_vec("kept").unwrap(),
            b"old content",
            "{}",
            env.server
        );
        assert!(!b.contains("new").unwrap(), "{}", env.server);
    });
}

/// Buckets written by rclone read right here, and the other way round: both keep the
/// modification time in `x-amz-meta-mtime`, in seconds with nine decimals.
#[test]
fn mtimes_interoperate_with_rclone() {
    // Not on s3s-fs: rclone HEADs the prefix it is given, and s3s-fs takes ~45 s to answer a
    // HEAD on a "directory" (with a 500).
    let Some(env) = require_server("garage") else {
        return;
    };
    if std::process::Command::new("rclone")
        .arg("version")
        .output()
        .is_err()
    {
        assert!(!crate::support::under_ci(), "rclone is required under CI");
        eprintln!("!!! SKIPPED: rclone is not installed");
        return;
    }
    let prefix = unique_prefix("rclone");
    let b = builder(&env).prefix(&prefix).build().unwrap();
    let ours = UNIX_EPOCH + Duration::new(1_577_934_245, 123_456_789); // 2020-01-02 03:04:05.123456789 UTC
    let mut w = b
        .writer(
            &Path::parse("ours.txt").unwrap(),
            &WriteOptions::new().modified(ours),
        )
        .unwrap();
    w.write_all(b"written by omnistorage").unwrap();
    w.finish().unwrap();

    let rclone = |args: &[&str]| {
        let out = std::process::Command::new("rclone")
            .args(args)
            .env_remove("AWS_CA_BUNDLE")
            .env("RCLONE_CONFIG_T_TYPE", "s3")
            .env("RCLONE_CONFIG_T_PROVIDER", "Other")
            .env("RCLONE_CONFIG_T_ENDPOINT", &env.endpoint)
            .env("RCLONE_CONFIG_T_ACCESS_KEY_ID", &env.access_key)
            .env("RCLONE_CONFIG_T_SECRET_ACCESS_KEY", &env.secret_key)
            .env("RCLONE_CONFIG_T_REGION", &env.region)
            .env("RCLONE_CONFIG_T_FORCE_PATH_STYLE", "true")
            .output()
            .expect("rclone");
        assert!(
            out.status.success(),
            "rclone {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let remote = format!("t:{}/{prefix}", env.bucket);
    let listed = rclone(&["lsl", "-q", &format!("{remote}/ours.txt")]);
    assert!(
        listed.contains("2020-01-02 03:04:05.123456789"),
        "rclone sees our mtime: {listed}"
    );

    let dir = omnistorage::conformance::TempDir::new().unwrap();
    std::fs::write(dir.path().join("theirs.txt"), b"written by rclone").unwrap();
    let theirs = UNIX_EPOCH + Duration::new(1_557_126_489, 987_654_321);
    std::fs::File::options()
        .write(true)
        .open(dir.path().join("theirs.txt"))
        .unwrap()
        .set_modified(theirs)
        .unwrap();
    rclone(&["copy", "-q", dir.path().to_str().unwrap(), &remote]);
    assert_eq!(
        b.info("theirs.txt").unwrap().modified,
        Some(theirs),
        "we see rclone's mtime"
    );
    assert_eq!(b.read_to_vec("theirs.txt").unwrap(), b"written by rclone");
    cleanup(&env, &prefix);
}

/// rclone's `--use-server-modtime`: list and stat both report the upload time, to the second,
/// and agree; the stored time stays there for a backend that reads it.
#[test]
fn server_modtime_reports_last_modified_in_list_and_stat() {
    each_server(|env, _, prefix| {
        let b = builder(env)
            .prefix(prefix)
            .server_modtime(true)
            .build()
            .unwrap();
        assert_eq!(
            b.capabilities().modified_time,
            None,
            "upload times are not the given ones"
        );
        let stored = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let mut w = b
            .writer(
                &Path::parse("x").unwrap(),
                &WriteOptions::new().modified(stored),
            )
            .unwrap();
        w.write_all(b"x").unwrap();
        w.finish().unwrap();
        let listed = b.list_all("").unwrap();
        let m = listed[0].modified.expect("listings carry LastModified");
        assert!(
            m > UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            "{}: the upload time, not the stored one",
            env.server
        );
        assert_eq!(
            m.duration_since(UNIX_EPOCH).unwrap().subsec_nanos(),
            0,
            "to the second"
        );
        assert_eq!(
            b.info("x").unwrap().modified,
            Some(m),
            "{}: stat agrees with list",
            env.server
        );
        let reader = builder(env).prefix(prefix).build().unwrap();
        assert_eq!(
            reader.info("x").unwrap().modified,
            Some(stored),
            "{}: the stored time is kept",
            env.server
        );
        b.remove("x").unwrap();
        omnistorage::conformance::stat_agrees_with_list(&b);
    });
}
