//! [`Location`]: where a backend's root is, structured so that "the same store" is decided
//! on parts, not on equal strings.

use std::fmt;

use crate::path::Path;

/// Where a backend's objects live: the kind of store (`scheme`), which store of that kind
/// (`store`: an S3 endpoint and bucket, an SFTP user, host and port, a machine's file system),
/// and the backend's `root` within it (an S3 key prefix, a directory), as `/`-separated text
/// without a leading or trailing `/`.
///
/// Two backends on the **same store** ([`same_store`](Location::same_store)) can copy and
/// move between each other server-side, even when their roots differ (two prefixes of one
/// bucket): [`Backend::copy_from`](crate::Backend::copy_from) takes the source's location.
/// Two backends with **equal** locations reach the same objects under the same paths.
///
/// ```
/// use omnistorage::{Location, Path};
///
/// let a = Location::new("s3", "http://127.0.0.1:3900/photos", "2025");
/// let b = Location::new("s3", "http://127.0.0.1:3900/photos", "2026/raw");
/// assert!(a.same_store(&b));
/// assert_ne!(a, b);
/// assert_eq!(b.key(&Path::parse("x.jpg")?), "2026/raw/x.jpg");
/// // Shown for people, and not as a URL: `open` takes URLs, and a location is not one.
/// assert_eq!(b.to_string(), "s3 store \"http://127.0.0.1:3900/photos\", root \"2026/raw\"");
/// # Ok::<(), omnistorage::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    scheme: String,
    store: String,
    root: String,
}

impl Location {
    /// A location; `root` is trimmed of leading and trailing `/`.
    pub fn new(
        scheme: impl Into<String>,
        store: impl Into<String>,
        root: impl Into<String>,
    ) -> Location {
        let root: String = root.into();
        Location {
            scheme: scheme.into(),
            store: store.into(),
            root: root.trim_matches('/').to_owned(),
        }
    }

    /// The kind of store: `file`, `mem`, `s3`, `sftp`, ...
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Which store of that kind.
    pub fn store(&self) -> &str {
        &self.store
    }

    /// The root within the store (`""` for the whole store).
    pub fn root(&self) -> &str {
        &self.root
    }

    /// Whether `other` is on the same store (its root may differ).
    pub fn same_store(&self, other: &Location) -> bool {
        self.scheme == other.scheme && self.store == other.store
    }

    /// The store-wide name of `path` under this root: `root/path`, or `path` at the top.
    pub fn key(&self, path: &Path) -> String {
        match (self.root.is_empty(), path.is_root()) {
            (true, _) => path.as_str().to_owned(),
            (false, true) => self.root.clone(),
            (false, false) => format!("{}/{}", self.root, path),
        }
    }

    /// Whether one root contains the other on the same store (so a sync between them would
    /// read what it writes).
    pub fn overlaps(&self, other: &Location) -> bool {
        fn within(inner: &str, outer: &str) -> bool {
            outer.is_empty()
                || inner == outer
                || (inner.len() > outer.len()
                    && inner.starts_with(outer)
                    && inner.as_bytes()[outer.len()] == b'/')
        }
        self.same_store(other)
            && (within(&self.root, &other.root) || within(&other.root, &self.root))
    }
}

impl fmt::Display for Location {
    /// `scheme store "store", root "root"` (`, root ...` left out for the whole store): for
    /// messages, and clearly not a URL (a location has no credentials or options, so there is
    /// no URL to give back that [`open`](crate::open) would take in every case).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} store {:?}", self.scheme, self.store)?;
        if !self.root.is_empty() {
            write!(f, ", root {:?}", self.root)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_for_people_and_not_a_url() {
        let l = Location::new("s3", "http://127.0.0.1:3900/photos", "2026/raw");
        let shown = l.to_string();
        assert_eq!(
            shown,
            "s3 store \"http://127.0.0.1:3900/photos\", root \"2026/raw\""
        );
        assert!(!shown.starts_with("s3://"), "{shown}");
        let mem = crate::Backend::location(&crate::MemoryBackend::new())
            .unwrap()
            .to_string();
        assert!(mem.starts_with("mem store \"@"), "{mem}");
    }

    #[test]
    fn overlap_is_by_segment() {
        let l = |root: &str| Location::new("s3", "e/b", root);
        assert!(l("a").overlaps(&l("a/b")));
        assert!(l("a/b").overlaps(&l("a")));
        assert!(l("").overlaps(&l("x")));
        assert!(!l("a").overlaps(&l("ab")));
        assert!(!l("a").overlaps(&Location::new("s3", "e/other", "a")));
    }

    #[test]
    fn keys_join_root_and_path() {
        let top = Location::new("file", "local", "");
        assert_eq!(top.key(&Path::parse("a/b").unwrap()), "a/b");
        let sub = Location::new("file", "local", "/srv/x/");
        assert_eq!(sub.root(), "srv/x");
        assert_eq!(sub.key(&Path::root()), "srv/x");
    }
}
