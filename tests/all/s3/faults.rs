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
