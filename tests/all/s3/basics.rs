//! Reading, writing, metadata, errors, presigned URLs and `s3://` URLs.

use std::io::Write;
use std::time::{Duration, Instant, UNIX_EPOCH};

use omnistorage::backends::s3::S3Backend;
use omnistorage::{Backend, BackendExt, ErrorKind, Path, Presign, WriteMode, WriteOptions};

use super::{MIB, builder, cleanup, each_server, pattern, settled, unique_prefix};
use crate::support::require_server;

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
            ("read", settled(|| bad.read_to_vec("x").map(|_| ()))),
            ("write", settled(|| bad.write_all("x", b"y").map(|_| ()))),
            ("list", settled(|| bad.list_all("").map(|_| ()))),
            ("exists", settled(|| bad.contains("x").map(|_| ()))),
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
        let err = settled(|| b.list_all("")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{}: {err}", env.server);
        assert!(
            err.to_string().contains("no-such-bucket-omni"),
            "{}: {err}",
            env.server
        );
        let err = settled(|| b.read_to_vec("x")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{}: {err}", env.server);
        if env.server != "s3s" {
            // s3s-fs creates a missing bucket on PUT; real stores refuse.
            let err = settled(|| b.write_all("x", b"y")).unwrap_err();
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
    // The transport's own error is kept as the source, and not repeated in the message.
    let source = std::error::Error::source(&err).expect("a source");
    assert!(!err.to_string().contains(&source.to_string()), "{err}");
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
