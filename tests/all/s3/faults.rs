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
