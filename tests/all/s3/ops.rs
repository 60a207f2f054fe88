//! The optional operations (through `dyn Backend` where it matters), hashes, native listing
//! options and cancellation.

use std::io::Write;
use std::time::{Duration, UNIX_EPOCH};

use omnistorage::{
    Backend, BackendExt, Cancel, ErrorKind, Fields, HashKind, ListOptions, Location, Path,
    WriteOptions,
};

use super::{MIB, builder, cleanup, each_server, pattern, unique_prefix};
use crate::support::require_server;

fn p(s: &str) -> Path {
    Path::parse(s).unwrap()
}

fn md5_base64(data: &[u8]) -> String {
    let mut h = omnistorage::Hasher::new(omnistorage::HashKinds::NONE.with(HashKind::Md5)).unwrap();
    h.update(data);
    h.finish()[0].to_base64()
}

#[test]
fn copy_and_rename_between_two_prefixes_of_one_bucket() {
    each_server(|env, _, prefix| {
        let src = builder(env)
            .prefix(format!("{prefix}/src"))
            .build()
            .unwrap();
        let dst = builder(env)
            .prefix(format!("{prefix}/dst"))
            .build()
            .unwrap();
        let when = UNIX_EPOCH + Duration::from_secs(1_600_000_000);
        let opts = WriteOptions::new()
            .modified(when)
            .content_type("text/plain")
            .metadata("owner", "ops");
        let mut w = src.writer(&p("a/x"), &opts).unwrap();
        w.write_all(b"payload").unwrap();
        w.finish().unwrap();
        let from = src.location().unwrap();
        assert!(from.same_store(&dst.location().unwrap()));
        assert!(dst.capabilities().server_side_copy);

        let dynamic: Box<dyn Backend> = Box::new(dst.clone());
        let e = dynamic.copy_from(&from, &p("a/x"), &p("copied")).unwrap();
        assert_eq!(e.size, 7, "{}", env.server);
        assert_eq!(dst.read_to_vec("copied").unwrap(), b"payload");
        let got = dst.info("copied").unwrap();
        assert_eq!(got.modified, Some(when), "{}", env.server);
        assert_eq!(got.content_type.as_deref(), Some("text/plain"));
        assert_eq!(got.metadata.get("owner").map(String::as_str), Some("ops"));

        dynamic.rename_from(&from, &p("a/x"), &p("moved")).unwrap();
        assert!(
            !src.contains("a/x").unwrap(),
            "{}: the source is gone",
            env.server
        );
        assert_eq!(dst.read_to_vec("moved").unwrap(), b"payload");

        let err = dst
            .copy_from(&from, &p("missing"), &p("never"))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{}", env.server);
        assert!(!dst.contains("never").unwrap());
        let elsewhere = Location::new("s3", "http://elsewhere:1/bucket", "x");
        let err = dst.copy_from(&elsewhere, &p("a"), &p("b")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
    });
}

#[test]
fn set_modified_keeps_content_and_metadata() {
    each_server(|env, b, _| {
        assert!(b.capabilities().set_modified);
        let opts = WriteOptions::new()
            .modified(UNIX_EPOCH + Duration::from_secs(1_000_000_000))
            .content_type("application/json")
            .metadata("owner", "ops");
        let mut w = b.writer(&p("t.json"), &opts).unwrap();
        w.write_all(b"{}").unwrap();
        w.finish().unwrap();
        let later = UNIX_EPOCH + Duration::new(1_700_000_000, 5);
        let e = b.set_modified(&p("t.json"), later).unwrap();
        assert_eq!(e.modified, Some(later), "{}", env.server);
        let got = b.info("t.json").unwrap();
        assert_eq!(got.modified, Some(later), "{}", env.server);
        assert_eq!(
            got.content_type.as_deref(),
            Some("application/json"),
            "{}",
            env.server
        );
        assert_eq!(got.metadata.get("owner").map(String::as_str), Some("ops"));
        assert_eq!(b.read_to_vec("t.json").unwrap(), b"{}");
        let err = b.set_modified(&p("missing"), later).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{}", env.server);
    });
}

#[test]
fn hashes_are_trusted_md5s_only() {
    each_server(|env, b, _| {
        // Single part: the ETag is the MD5, in listings and stat alike.
        let e = b.write_all("small", b"abc").unwrap();
        let md5 = e.hash(HashKind::Md5).expect("a PUT knows its MD5");
        assert_eq!(md5.to_hex(), "900150983cd24fb0d6963f7d28e17f72");
        let listed = b.list_all("small").unwrap();
        if listed[0].etag.is_some() {
            // (s3s-fs lists no ETags.)
            assert_eq!(listed[0].hash(HashKind::Md5), Some(md5), "{}", env.server);
            assert!(listed[0].filled.contains(Fields::HASHES));
        }
        assert_eq!(b.hash(&p("small"), HashKind::Md5, None).unwrap(), md5);

        // Multipart without a given MD5: the ETag is kept raw, no hash is claimed.
        let data = pattern(6 * MIB, 1);
        b.write_all("multi", &data).unwrap();
        let st = b.info("multi").unwrap();
        assert!(
            st.etag.as_deref().is_some_and(|e| e.contains('-')),
            "{st:?}"
        );
        assert!(st.hashes.is_empty(), "{}: {st:?}", env.server);
        assert!(st.filled.contains(Fields::ALL));
        // hash() then reads the object.
        let streamed = b.hash(&p("multi"), HashKind::Md5, None).unwrap();
        assert_eq!(streamed.to_base64(), md5_base64(&data));

        // Multipart with the MD5 given as md5chksum: stored, and stat answers it.
        let opts = WriteOptions::new().metadata("md5chksum", md5_base64(&data));
        let mut w = b.writer(&p("multi-md5"), &opts).unwrap();
        w.write_all(&data).unwrap();
        let e = w.finish().unwrap();
        assert_eq!(e.hash(HashKind::Md5), Some(streamed));
        let st = b.info("multi-md5").unwrap();
        assert_eq!(st.hash(HashKind::Md5), Some(streamed), "{}", env.server);
        assert!(!st.metadata.contains_key("md5chksum"));

        // Given as a known hash (what `copy_entry` passes from a source that knows its MD5):
        // the same.
        let opts = WriteOptions::new().hash(streamed);
        let mut w = b.writer(&p("multi-known"), &opts).unwrap();
        w.write_all(&data).unwrap();
        w.finish().unwrap();
        let st = b.info("multi-known").unwrap();
        assert_eq!(st.hash(HashKind::Md5), Some(streamed), "{}", env.server);
        // And a copy from it to another multipart object keeps it, through copy_entry.
        omnistorage::copy_entry(&b, &st, &b, &p("multi-copied"), None).unwrap();
        let copied = b.info("multi-copied").unwrap();
        assert_eq!(copied.hash(HashKind::Md5), Some(streamed), "{}", env.server);

        // A wrong one: nothing is stored.
        let opts = WriteOptions::new().metadata("md5chksum", md5_base64(b"other"));
        let mut w = b.writer(&p("multi-bad"), &opts).unwrap();
        w.write_all(&data).unwrap();
        assert_eq!(w.finish().unwrap_err().kind(), ErrorKind::Corrupt);
        assert!(!b.contains("multi-bad").unwrap());
    });
}

#[test]
fn listings_start_after_and_list_one_level_natively() {
    each_server(|env, _, prefix| {
        let b = builder(env)
            .prefix(prefix)
            .read_mtime(true)
            .build()
            .unwrap();
        assert_eq!(b.capabilities().listed, Fields::MODIFIED | Fields::HASHES);
        for k in ["a/1", "a/2", "a/sub/3", "a.txt", "b"] {
            b.write_all(k, b"x").unwrap();
        }
        let names = |prefix: &str, opts: ListOptions| -> Vec<(String, bool)> {
            b.list(&p(prefix), &opts)
                .unwrap()
                .map(|e| {
                    let e = e.unwrap();
                    if !e.is_dir {
                        assert!(e.filled.contains(Fields::MODIFIED), "{e:?}");
                    }
                    (e.path.to_string(), e.is_dir)
                })
                .collect()
        };
        let s = |v: &[(&str, bool)]| -> Vec<(String, bool)> {
            v.iter().map(|(a, d)| (a.to_string(), *d)).collect()
        };
        let one = ListOptions::new().recursive(false);
        assert_eq!(
            names("", one.clone()),
            s(&[("a.txt", false), ("a", true), ("b", false)]),
            "{}",
            env.server
        );
        assert_eq!(
            names("a", one.clone()),
            s(&[("a/1", false), ("a/2", false), ("a/sub", true)])
        );
        assert_eq!(
            names("", ListOptions::new().start_after(p("a/2"))),
            s(&[("a/sub/3", false), ("b", false)])
        );
        // "a.txt" sorts after "a"; the directory "a" (as "a/") is "a" itself.
        assert_eq!(
            names("", one.clone().start_after(p("a"))),
            s(&[("a.txt", false), ("b", false)]),
            "{}",
            env.server
        );
        assert_eq!(
            names("", one.clone().start_after(p("a.txt"))),
            s(&[("a", true), ("b", false)]),
            "{}",
            env.server
        );
        assert_eq!(
            names("a", one.start_after(p("a/1"))),
            s(&[("a/2", false), ("a/sub", true)])
        );
    });
}

#[test]
fn a_cancelled_listing_ends_with_cancelled() {
    each_server(|_, b, _| {
        b.write_all("x", b"1").unwrap();
        let cancel = Cancel::new();
        let mut list = b
            .list(&Path::root(), &ListOptions::new().cancel(&cancel))
            .unwrap();
        cancel.cancel();
        assert_eq!(
            list.next().unwrap().unwrap_err().kind(),
            ErrorKind::Cancelled
        );
        assert!(list.next().is_none());
    });
}

#[test]
fn pending_uploads_and_cancelled_writers_through_dyn_backend() {
    for server in ["garage", "moto"] {
        // s3s-fs has no ListMultipartUploads (501).
        let Some(env) = require_server(server) else {
            continue;
        };
        let prefix = unique_prefix("pending");
        let b: Box<dyn Backend> = Box::new(builder(&env).prefix(&prefix).build().unwrap());
        assert!(b.capabilities().pending_uploads);
        let data = pattern(6 * MIB, 2);

        // A writer whose upload is aborted from outside cannot complete.
        let mut w = b.writer(&p("d/left"), &WriteOptions::new()).unwrap();
        w.write_all(&data).unwrap();
        let pending: Vec<_> = b
            .pending_uploads(&p("d"))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(pending.len(), 1, "{server}: {pending:?}");
        assert_eq!(pending[0].path, p("d/left"));
        assert!(b.pending_uploads(&p("other")).unwrap().next().is_none());
        b.abort_upload(&pending[0]).unwrap();
        b.abort_upload(&pending[0]).unwrap(); // idempotent
        assert!(w.finish().is_err(), "{server}");
        assert!(!b.exists(&p("d/left")).unwrap());

        // A cancelled writer aborts its multipart upload.
        let cancel = Cancel::new();
        let opts = WriteOptions::new().cancel(&cancel);
        let mut w = b.writer(&p("d/cancelled"), &opts).unwrap();
        w.write_all(&data).unwrap();
        cancel.cancel();
        assert!(w.write_all(b"more").is_err());
        assert_eq!(w.finish().unwrap_err().kind(), ErrorKind::Cancelled);
        assert!(!b.exists(&p("d/cancelled")).unwrap(), "{server}");
        assert!(
            b.pending_uploads(&Path::root()).unwrap().next().is_none(),
            "{server}: nothing pending"
        );
        cleanup(&env, &prefix);
    }
}

#[test]
fn an_ip_endpoint_without_provider_or_path_style_works() {
    let Some(env) = require_server("s3s") else {
        return;
    };
    let prefix = unique_prefix("ip");
    let url = format!(
        "s3://{}/{prefix}?endpoint={}&access_key_id={}&secret_access_key={}",
        env.bucket, env.endpoint, env.access_key, env.secret_key
    );
    let b = omnistorage::open(&url).unwrap();
    b.write_all("via-ip", b"1").unwrap();
    assert_eq!(b.read_to_vec("via-ip").unwrap(), b"1");
    cleanup(&env, &prefix);
}

#[test]
fn deleting_from_a_missing_bucket_is_not_found() {
    for server in ["garage", "moto"] {
        let Some(env) = require_server(server) else {
            continue;
        };
        let b = builder(&env).build().unwrap();
        let missing = omnistorage::backends::s3::S3Backend::builder("no-such-bucket-omni")
            .endpoint(env.endpoint.clone())
            .region(env.region.clone())
            .credentials(env.access_key.clone(), env.secret_key.clone())
            .build()
            .unwrap();
        let err = missing.remove("x").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{server}: {err}");
        // A missing key in a bucket that exists is fine.
        b.remove(format!("{}/never", unique_prefix("del"))).unwrap();
    }
}
