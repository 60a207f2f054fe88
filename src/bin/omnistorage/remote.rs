//! Opening what the user names: a tree (`sync SRC DST`) or one object (`cat FILE`).

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use omnistorage::{Backend, Error, ErrorKind, Path};

use crate::config::Config;
use crate::config::remote::{Spec, parse_spec};

/// An opened remote: the backend, and the path of the named thing inside it.
pub struct Opened {
    pub backend: Box<dyn Backend>,
    pub path: Path,
}

/// Opens `spec` as a tree: the backend is rooted there.
pub fn tree(spec: &str) -> Result<Opened, Error> {
    let url = resolve(spec)?;
    let backend = omnistorage::open(&url)?;
    Ok(Opened {
        backend,
        path: Path::root(),
    })
}

/// Opens `spec` as one object: the backend is rooted at its parent.
pub fn object(spec: &str) -> Result<Opened, Error> {
    let url = resolve(spec)?;
    let (parent, name) = split_last(&url)
        .ok_or_else(|| Error::new(ErrorKind::InvalidPath, format!("{spec:?} names no object")))?;
    let backend = omnistorage::open(&parent)?;
    Ok(Opened {
        backend,
        path: Path::parse(name)?,
    })
}

/// The `--config` file given, set once by `main`.
static CONFIG_PATH: OnceLock<Option<PathBuf>> = OnceLock::new();
/// The config, loaded the first time a named remote is used (a command on local paths and
/// URLs never reads it, so a broken config file does not stop those).
static CONFIG: OnceLock<Result<Config, Error>> = OnceLock::new();

/// Remembers `--config FILE` for the loads to come.
pub fn set_config_path(path: Option<PathBuf>) {
    let _ = CONFIG_PATH.set(path);
}

/// The config (from `--config`, `$OMNISTORAGE_CONFIG`, ours, or rclone's), loaded once.
pub fn config() -> Result<&'static Config, Error> {
    CONFIG
        .get_or_init(|| {
            let path = CONFIG_PATH.get().and_then(|p| p.as_deref());
            Config::load(path)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Whether S3 remotes opened from now on keep an upload journal.
static UPLOAD_JOURNAL: AtomicBool = AtomicBool::new(false);

/// Turns the upload journal of the S3 remotes opened from now on on or off (off until said):
/// the commands that upload through the sync engine turn it on, unless `--no-upload-journal`.
pub fn set_upload_journal(on: bool) {
    UPLOAD_JOURNAL.store(on, Ordering::Relaxed);
}

/// What `omnistorage::open` takes for `spec`: a URL or local path as typed, or a named
/// remote (`name:path`) resolved through the config and the environment.
fn resolve(spec: &str) -> Result<String, Error> {
    if spec.is_empty() {
        return Err(Error::new(ErrorKind::InvalidInput, "an empty remote"));
    }
    let url = match parse_spec(spec)? {
        Spec::Remote { .. } => crate::config::resolve(spec, config()?)?.url,
        Spec::Url(_) | Spec::Local(_) => spec.to_owned(),
    };
    Ok(with_upload_journal(url))
}

/// An `s3://` URL with `upload_journal=` the user's cache directory (`omnistorage/uploads`,
/// beside the hash cache), when the journal is on and the URL does not name one itself.
fn with_upload_journal(url: String) -> String {
    if !UPLOAD_JOURNAL.load(Ordering::Relaxed)
        || !url.starts_with("s3://")
        || url.contains("upload_journal=")
    {
        return url;
    }
    let Some(dir) = uploads_dir() else {
        return url;
    };
    let sep = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{sep}upload_journal={}",
        query_escape(&dir.to_string_lossy())
    )
}

/// [`omnistorage::sync::user_cache_dir`]`/uploads`, beside the hash cache.
fn uploads_dir() -> Option<PathBuf> {
    omnistorage::sync::user_cache_dir().map(|d| d.join("uploads"))
}

/// Percent-escapes all but unreserved characters and `/`, for a URL query value.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Splits a URL or local path into its parent and last segment (the query of a URL stays
/// with the parent).
fn split_last(url: &str) -> Option<(String, String)> {
    let (body, query) = match url.find("://") {
        Some(_) => match url.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (url, None),
        },
        None => (url, None),
    };
    let body = body.trim_end_matches('/');
    let start = url.find("://").map_or(0, |i| i + 3);
    let cut = body.rfind('/').filter(|&i| i >= start)?;
    let (parent, name) = (&body[..cut], &body[cut + 1..]);
    if name.is_empty() {
        return None;
    }
    // A URL's first segment after the scheme is its store (bucket, host): not a parent.
    let parent = if parent.len() < start {
        return None;
    } else {
        parent
    };
    let parent = if parent.is_empty() {
        "/".to_owned()
    } else {
        parent.to_owned()
    };
    Some((
        match query {
            Some(q) => format!("{parent}?{q}"),
            None => parent,
        },
        name.to_owned(),
    ))
}

/// A local path without a slash names an object in the current directory.
pub fn object_or_local(spec: &str) -> Result<Opened, Error> {
    if !spec.contains('/') && !spec.contains("://") {
        return object(&format!("./{spec}"));
    }
    object(spec)
}

#[cfg(test)]
mod tests {
    use super::{query_escape, split_last};

    #[test]
    fn journal_dirs_escape_for_the_query() {
        assert_eq!(query_escape("/home/a b/c&d%"), "/home/a%20b/c%26d%25");
    }

    #[test]
    fn splits_keep_the_query_with_the_parent() {
        assert_eq!(
            split_last("s3://b/dir/file.txt?endpoint=http://x:1"),
            Some(("s3://b/dir?endpoint=http://x:1".into(), "file.txt".into()))
        );
        assert_eq!(split_last("/tmp/a"), Some(("/tmp".into(), "a".into())));
        assert_eq!(split_last("/a"), Some(("/".into(), "a".into())));
        assert_eq!(split_last("rel/a/b"), Some(("rel/a".into(), "b".into())));
        assert_eq!(split_last("s3://bucket"), None);
        assert_eq!(
            split_last("s3://bucket/k"),
            Some(("s3://bucket".into(), "k".into()))
        );
    }
}
