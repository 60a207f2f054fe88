//! The CLI's remote specs (`src/bin/omnistorage/config/remote.rs`, included here by path
//! since it belongs to the binary): no spec and no remote options make the parser or the
//! resolver panic; a spec splits into a remote only at a valid name, and otherwise stays as
//! typed; the path inside an s3 or sftp remote reaches its builder as typed, with the
//! options (obscured passwords revealed); a remote that resolves also builds; secrets never
//! reach `display`, `Debug` or the builder's `Debug`; alias loops are errors.
//!
//! Input: byte 0 bit 0 picks Windows rules; byte 1 picks a configured remote to put in
//! front of the spec (or none); the bytes up to the next 0 are the spec (lossy UTF-8), the
//! rest are `key=value` lines, the options of the remote `fz`.

#[allow(dead_code)]
#[path = "../../src/bin/omnistorage/config/remote.rs"]
mod remote;

// `remote.rs` finds its sibling `obscure` here (one copy of the file, in `cli_config`).
use super::cli_config::obscure;
use remote::{Remotes, Spec};

const SECRET: &str = "SECRETVALUE";

struct Fixed {
    remotes: Vec<(String, Vec<(String, String)>)>,
}

impl Remotes for Fixed {
    fn options(&self, name: &str) -> Option<Vec<(String, String)>> {
        self.remotes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, o)| o.clone())
    }

    fn names(&self) -> Vec<String> {
        self.remotes.iter().map(|(n, _)| n.clone()).collect()
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn fixed(fz: Vec<(String, String)>) -> Fixed {
    let pass = obscure::obscure_with_iv(&format!("{SECRET}2"), [7; 16]);
    Fixed {
        remotes: vec![
            ("loc".into(), pairs(&[("type", "local")])),
            (
                "s3r".into(),
                pairs(&[
                    ("type", "s3"),
                    ("provider", "Minio"),
                    ("endpoint", "localhost:9000"),
                    ("access_key_id", "AKID"),
                    ("secret_access_key", "SECRETVALUE1"),
                ]),
            ),
            (
                "box".into(),
                pairs(&[
                    ("type", "sftp"),
                    ("host", "example.com"),
                    ("user", "me"),
                    ("port", "2222"),
                    ("pass", &pass),
                ]),
            ),
            (
                "al".into(),
                pairs(&[("type", "alias"), ("remote", "s3r:bkt/base")]),
            ),
            (
                "al2".into(),
                pairs(&[("type", "alias"), ("remote", "al:more")]),
            ),
            (
                "loop1".into(),
                pairs(&[("type", "alias"), ("remote", "loop2:x")]),
            ),
            (
                "loop2".into(),
                pairs(&[("type", "alias"), ("remote", "loop1:y")]),
            ),
            (
                "up".into(),
                pairs(&[("type", "alias"), ("remote", "/tmp/root")]),
            ),
            ("fz".into(), fz),
        ],
    }
}

const FRONTS: [&str; 9] = [
    "loc", "s3r", "box", "al", "al2", "loop1", "up", "fz", "s3r:bkt",
];

/// Checks the property on one input; panics if it fails.
pub fn check(data: &[u8]) {
    let [flags, front, rest @ ..] = data else {
        return;
    };
    let windows = flags & 1 == 1;
    let (spec, opts) = match rest.iter().position(|&b| b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let mut spec = String::from_utf8_lossy(spec).into_owned();
    if let Some(f) = FRONTS.get(usize::from(*front)) {
        spec = if f.contains(':') {
            format!("{f}/{spec}")
        } else {
            format!("{f}:{spec}")
        };
    }
    let fz: Vec<(String, String)> = String::from_utf8_lossy(opts)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let remotes = fixed(fz);

    match remote::parse_spec_for(&spec, windows) {
        Ok(Spec::Remote { name, path }) => {
            assert!(remote::is_remote_name(name), "{name:?}");
            assert_eq!(format!("{name}:{path}"), spec);
        }
        Ok(Spec::Local(p)) => assert_eq!(p, spec),
        Ok(Spec::Url(u)) => {
            assert_eq!(u, spec);
            assert!(u.contains("://"));
        }
        Err(_) => assert!(spec.is_empty() || spec.starts_with(':'), "{spec:?}"),
    }

    let result = remote::resolve_with(&spec, &remotes, windows);
    let name = match remote::parse_spec_for(&spec, windows) {
        Ok(Spec::Remote { name, path }) => Some((name, path)),
        _ => None,
    };
    match (&result, name) {
        (Ok(r), _) => {
            // Only secrets of the config count: a spec may hold anything the user typed.
            if name.is_some_and(|(n, _)| n != "fz") && !spec.contains(SECRET) {
                assert!(!r.display.contains(SECRET), "{:?}", r.display);
            }
            if let remote::Target::Remote(c) = &r.target {
                // The builder gets the options as they are, and shows no secret.
                let shown = match c.kind {
                    remote::Kind::S3 => c.s3().map(|b| format!("{b:?}")),
                    remote::Kind::Sftp => c.sftp().map(|b| format!("{b:?}")),
                }
                .unwrap_or_else(|e| panic!("resolved, then refused: {e}"));
                if name.is_some_and(|(n, _)| n != "fz") && !spec.contains(SECRET) {
                    assert!(!shown.contains(SECRET), "{shown}");
                    assert!(!format!("{r:?}").contains(SECRET), "{r:?}");
                }
                let has = |k: &str, v: &str| c.options.iter().any(|(a, b)| a == k && b == v);
                if let Some(("s3r", path)) = name {
                    assert_eq!(c.path, path.trim_start_matches('/'));
                    assert!(has("secret_access_key", "SECRETVALUE1"), "{c:?}");
                }
                if let Some(("box", path)) = name {
                    assert_eq!(c.path, path);
                    assert!(has("password", "SECRETVALUE2"), "{c:?}");
                    assert!(!c.options.iter().any(|(k, _)| k == "pass"), "{c:?}");
                }
            }
        }
        (Err(e), Some(("loop1", _))) => assert!(e.to_string().contains("loop"), "{e}"),
        (Err(_), _) => {}
    }
}
