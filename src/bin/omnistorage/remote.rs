//! Opening what the user names: a tree (`sync SRC DST`) or one object (`cat FILE`).

use omnistorage::{Backend, Error, ErrorKind, Path};

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

/// What `omnistorage::open` takes for `spec`. (Named remotes from the config file: next.)
fn resolve(spec: &str) -> Result<String, Error> {
    if spec.is_empty() {
        return Err(Error::new(ErrorKind::InvalidInput, "an empty remote"));
    }
    Ok(spec.to_owned())
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
    use super::split_last;

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
