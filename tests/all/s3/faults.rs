//! Broken connections, through a proxy that cuts them on cue.

use std::io::Read;

use omnistorage::BackendExt;
use omnistorage::backends::s3::S3Backend;

use super::{MIB, builder, each_server, pattern};
use crate::support::S3Env;
use crate::support::tcp_proxy::TcpProxy;

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

/// The budget of resumes refills after progress: with one resume allowed in a row, a long
/// download survives four breaks that are each at least 2 MiB apart.
#[test]
fn long_downloads_survive_well_spaced_breaks() {
    each_server(|env, b, prefix| {
        let data = pattern(24 * MIB + 3, 8);
        b.write_all("long", &data).unwrap();
        let proxy = TcpProxy::start(upstream(env)).unwrap();
        let through = builder(env)
            .endpoint(format!("http://{}", proxy.addr()))
            .prefix(prefix)
            .retries(1)
            .build()
            .unwrap();
        let mut reader = through.open_reader("long").unwrap();
        let mut back = Vec::with_capacity(data.len());
        let mut buf = vec![0; 64 * 1024];
        let mut armed = 0;
        loop {
            // Arm the next cut once the last one fired. Whichever response it lands on, at
            // least 2 MiB pass before it fires: the breaks are well spaced.
            if armed < 4 && proxy.stats().cuts == armed {
                proxy.cut_next_download_after(2 * MIB as u64);
                armed += 1;
            }
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            back.extend_from_slice(&buf[..n]);
        }
        assert!(back == data, "{}: resumed content", env.server);
        assert!(
            proxy.stats().cuts >= 3,
            "{}: {:?}",
            env.server,
            proxy.stats()
        );
    });
}

/// With `read_mtime`, a listed entry whose HEAD fails is an `Err` item (not an entry without
/// a time), and the listing goes on. Against a canned server: the listing names `a` and `b`,
/// the HEAD of `a` answers 500, that of `b` a stored time.
#[test]
fn a_failed_head_in_a_listing_is_an_err_item() {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming().take(8) {
            let Ok(conn) = conn else { return };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut out = conn;
            loop {
                let mut first = String::new();
                if reader.read_line(&mut first).unwrap_or(0) == 0 {
                    break;
                }
                // Skip the headers (these requests have no body).
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 2 {
                    line.clear();
                }
                let response = if first.starts_with("GET") {
                    let body = "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                        <IsTruncated>false</IsTruncated>\
                        <Contents><Key>a</Key><Size>1</Size></Contents>\
                        <Contents><Key>b</Key><Size>2</Size></Contents></ListBucketResult>";
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    )
                } else if first.starts_with("HEAD /bucket/a") {
                    "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".to_owned()
                } else {
                    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nx-amz-meta-mtime: 1000000000.5\r\n\r\n"
                        .to_owned()
                };
                if out.write_all(response.as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
    let b = omnistorage::backends::s3::S3Backend::builder("bucket")
        .endpoint(format!("http://{addr}"))
        .credentials("key", "secret")
        .read_mtime(true)
        .retries(0)
        .request_timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    let items: Vec<_> = omnistorage::Backend::list(
        &b,
        &omnistorage::Path::root(),
        &omnistorage::ListOptions::new(),
    )
    .unwrap()
    .collect();
    assert_eq!(items.len(), 2, "{items:?}");
    let err = items[0].as_ref().expect_err("the HEAD of a failed");
    assert_eq!(err.kind(), omnistorage::ErrorKind::Io, "{err}");
    assert_eq!(err.path(), Some("a"), "{err}");
    assert!(err.is_temporary(), "{err}");
    let b_entry = items[1].as_ref().expect("b is listed");
    assert_eq!(
        b_entry.modified,
        Some(std::time::UNIX_EPOCH + std::time::Duration::new(1_000_000_000, 500_000_000)),
    );
}

/// Retries are counted once, end to end: in a sync to an S3 store whose PUTs of one object
/// always fail (503 SlowDown, answered by the HTTP fault proxy in front of s3s-fs), the PUT
/// is sent (S3 retries + 1) × (runs) times, not times the engine's low-level retries too; the
/// report's error says it was retried, and how many times.
#[cfg(feature = "sync")]
#[test]
fn a_persistent_failure_is_tried_backend_retries_times_runs() {
    use super::{cleanup, unique_prefix};
    use crate::support::http_fault::HttpFault;
    use omnistorage::sync::{self, Options};
    use omnistorage::{MemoryBackend, Path};
    use std::time::Duration;

    let Some(env) = crate::support::require_server("s3s") else {
        return;
    };
    let prefix = unique_prefix("retried-once");
    let proxy = HttpFault::start(upstream(&env)).unwrap();
    let dst = builder(&env)
        .endpoint(format!("http://{}", proxy.addr()))
        .prefix(&prefix)
        .retries(3)
        .retry_base(Duration::from_millis(1))
        .build()
        .unwrap();
    let src = MemoryBackend::new();
    src.write_all("ok.txt", b"passes").unwrap();
    src.write_all("fails.txt", b"never stored").unwrap();
    proxy.fail("PUT", &format!("/{prefix}/fails.txt"), 503, "SlowDown");
    let opts = Options::new()
        .retries(2)
        .low_level_retries(10)
        .retry_delay(Duration::from_millis(1));
    let r = sync::sync(&src, &Path::root(), &dst, &Path::root(), &opts).expect("run");
    assert_eq!(r.attempts, 3, "the whole run, three times");
    assert_eq!(
        proxy.faulted(),
        4 * 3,
        "(1 + 3 S3 retries) × 3 runs, not × 11 low-level tries"
    );
    assert_eq!(r.failures.len(), 1, "{:?}", r.failures);
    let err = &r.failures[0].error;
    assert!(err.is_temporary() && err.is_persistent(), "{err:?}");
    assert_eq!(err.retries(), 3, "{err}");
    assert!(err.to_string().contains("(retried 3 times)"), "{err}");
    assert!(dst.contains("ok.txt").unwrap());
    assert!(!dst.contains("fails.txt").unwrap());
    cleanup(&env, &prefix);
}
