//! [`Path`]: a validated, relative, `/`-separated object path.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, ErrorKind, Result};

/// A validated object path: relative, `/`-separated, kept byte for byte.
///
/// Invariants, checked by the one fallible constructor ([`Path::parse`], also reached through
/// `TryFrom<&str>`, `TryFrom<String>` and `FromStr`):
///
/// - it is relative: no leading `/`;
/// - it has no empty segment (no `a//b`, no trailing `/`) and no `.` or `..` segment;
/// - it has no control character (`U+0000`–`U+001F`, `U+007F`–`U+009F`);
/// - everything else (spaces, `%`, `#`, `?`, `\`, unicode) is kept exactly as given; nothing is
///   re-encoded or normalized.
///
/// The empty string is the **root** ([`Path::root`]): zero segments. Paths order by the bytes
/// of their text, which is the order in which every backend lists.
///
/// ```
/// use omnistorage::Path;
///
/// let p = Path::parse("photos/2024/summer trip #1.jpg")?;
/// assert_eq!(p.file_name(), Some("summer trip #1.jpg"));
/// assert_eq!(p.extension(), Some("jpg"));
/// assert_eq!(p.parent().map(|d| d.to_string()), Some("photos/2024".to_string()));
/// assert!(p.starts_with(&Path::parse("photos")?));
/// assert!(!p.starts_with(&Path::parse("photo")?)); // by segment, not by byte
///
/// assert!(Path::parse("../etc/passwd").is_err());
/// assert!(Path::parse("/abs").is_err());
/// assert!(Path::parse("a//b").is_err());
/// # Ok::<(), omnistorage::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Path(String);

impl Path {
    /// The root: the empty path, with no segments.
    pub const fn root() -> Path {
        Path(String::new())
    }

    /// Validates `s` and makes it a `Path`. Fails with [`ErrorKind::InvalidPath`], naming the
    /// problem.
    pub fn parse(s: impl Into<String>) -> Result<Path> {
        let s = s.into();
        validate(&s).map_err(|why| {
            Error::new(ErrorKind::InvalidPath, why).with_path(escape_for_message(&s))
        })?;
        Ok(Path(s))
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path as text, by value.
    pub fn into_string(self) -> String {
        self.0
    }

    /// Whether this is the root (the empty path).
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The segments, in order; none for the root.
    ///
    /// ```
    /// # use omnistorage::Path;
    /// let p = Path::parse("a/b/c")?;
    /// assert_eq!(p.segments().collect::<Vec<_>>(), ["a", "b", "c"]);
    /// assert_eq!(Path::root().segments().count(), 0);
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn segments(&self) -> impl DoubleEndedIterator<Item = &str> + '_ {
        // `split` on "" yields one empty item; the root has no segments.
        let s = if self.0.is_empty() {
            None
        } else {
            Some(self.0.as_str())
        };
        s.into_iter().flat_map(|s| s.split('/'))
    }

    /// `self` followed by `other`. Both are valid, so the result is too.
    ///
    /// ```
    /// # use omnistorage::Path;
    /// let dir = Path::parse("a/b")?;
    /// assert_eq!(dir.join(&Path::parse("c/d")?).as_str(), "a/b/c/d");
    /// assert_eq!(Path::root().join(&dir), dir);
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn join(&self, other: &Path) -> Path {
        match (self.is_root(), other.is_root()) {
            (_, true) => self.clone(),
            (true, false) => other.clone(),
            (false, false) => Path(format!("{}/{}", self.0, other.0)),
        }
    }

    /// `self` followed by one more piece of text, validated (it may hold several segments).
    pub fn join_str(&self, more: &str) -> Result<Path> {
        Ok(self.join(&Path::parse(more)?))
    }

    /// The path without its last segment; `None` for the root. The parent of a one-segment
    /// path is the root.
    pub fn parent(&self) -> Option<Path> {
        if self.is_root() {
            return None;
        }
        Some(match self.0.rfind('/') {
            Some(i) => Path(self.0[..i].to_owned()),
            None => Path::root(),
        })
    }

    /// The last segment; `None` for the root.
    pub fn file_name(&self) -> Option<&str> {
        self.segments().next_back()
    }

    /// The text after the last `.` of the last segment, if that `.` is not its first
    /// character (`.bashrc` has no extension, `a.tar.gz` has `gz`).
    pub fn extension(&self) -> Option<&str> {
        let name = self.file_name()?;
        match name.rfind('.') {
            Some(0) | None => None,
            Some(i) => Some(&name[i + 1..]),
        }
    }

    /// Whether `prefix`'s segments are the first segments of `self`. Every path starts with
    /// the root and with itself; `a/bc` does not start with `a/b`.
    pub fn starts_with(&self, prefix: &Path) -> bool {
        if prefix.is_root() {
            return true;
        }
        match self.0.strip_prefix(prefix.as_str()) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }

    /// `self` with the segments of `prefix` taken off the front, if it starts with them.
    ///
    /// ```
    /// # use omnistorage::Path;
    /// let p = Path::parse("a/b/c")?;
    /// assert_eq!(p.strip_prefix(&Path::parse("a")?).map(|p| p.to_string()), Some("b/c".into()));
    /// assert_eq!(p.strip_prefix(&p), Some(Path::root()));
    /// assert_eq!(p.strip_prefix(&Path::parse("a/b/cd")?), None);
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn strip_prefix(&self, prefix: &Path) -> Option<Path> {
        if prefix.is_root() {
            return Some(self.clone());
        }
        let rest = self.0.strip_prefix(prefix.as_str())?;
        if rest.is_empty() {
            Some(Path::root())
        } else {
            rest.strip_prefix('/').map(|r| Path(r.to_owned()))
        }
    }

    /// The number of segments.
    pub fn depth(&self) -> usize {
        self.segments().count()
    }
}

/// Checks the invariants; returns what is wrong.
fn validate(s: &str) -> std::result::Result<(), &'static str> {
    if s.is_empty() {
        return Ok(());
    }
    if s.starts_with('/') {
        return Err("must be relative (no leading '/')");
    }
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(if c == '\0' {
            "contains a NUL byte"
        } else {
            "contains a control character"
        });
    }
    for seg in s.split('/') {
        match seg {
            "" => return Err("has an empty segment ('//' or a trailing '/')"),
            "." => return Err("has a '.' segment"),
            ".." => return Err("has a '..' segment"),
            _ => {}
        }
    }
    Ok(())
}

/// A rejected path, made safe to print (control characters escaped).
fn escape_for_message(s: &str) -> String {
    s.chars()
        .flat_map(|c| -> Box<dyn Iterator<Item = char>> {
            if c.is_control() {
                Box::new(c.escape_default())
            } else {
                Box::new(std::iter::once(c))
            }
        })
        .collect()
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl FromStr for Path {
    type Err = Error;
    fn from_str(s: &str) -> Result<Path> {
        Path::parse(s)
    }
}

impl TryFrom<&str> for Path {
    type Error = Error;
    fn try_from(s: &str) -> Result<Path> {
        Path::parse(s)
    }
}

impl TryFrom<String> for Path {
    type Error = Error;
    fn try_from(s: String) -> Result<Path> {
        Path::parse(s)
    }
}

impl AsRef<str> for Path {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Path {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<Path> for String {
    fn from(p: Path) -> String {
        p.0
    }
}

impl PartialEq<str> for Path {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Path {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Something that names a path: a [`Path`] (checked already) or text (checked now).
///
/// The sugar in [`BackendExt`](crate::BackendExt) takes `impl AsPath`, so both
/// `backend.read_to_vec("a/b")` and `backend.read_to_vec(&path)` work.
pub trait AsPath {
    /// The validated path.
    fn as_path(&self) -> Result<std::borrow::Cow<'_, Path>>;
}

impl AsPath for Path {
    fn as_path(&self) -> Result<std::borrow::Cow<'_, Path>> {
        Ok(std::borrow::Cow::Borrowed(self))
    }
}

impl AsPath for str {
    fn as_path(&self) -> Result<std::borrow::Cow<'_, Path>> {
        Path::parse(self).map(std::borrow::Cow::Owned)
    }
}

impl AsPath for String {
    fn as_path(&self) -> Result<std::borrow::Cow<'_, Path>> {
        self.as_str().as_path()
    }
}

impl<T: AsPath + ?Sized> AsPath for &T {
    fn as_path(&self) -> Result<std::borrow::Cow<'_, Path>> {
        (**self).as_path()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! rejects {
        ($($name:ident: $input:expr,)*) => {$(
            #[test]
            fn $name() {
                let err = Path::parse($input).expect_err($input);
                assert_eq!(err.kind(), ErrorKind::InvalidPath, "{err}");
            }
        )*};
    }

    rejects! {
        rejects_leading_slash: "/etc/passwd",
        rejects_lone_slash: "/",
        rejects_dotdot: "../x",
        rejects_inner_dotdot: "a/../b",
        rejects_trailing_dotdot: "a/..",
        rejects_dot: "a/./b",
        rejects_lone_dot: ".",
        rejects_double_slash: "a//b",
        rejects_trailing_slash: "a/",
        rejects_nul: "a\0b",
        rejects_newline: "a\nb",
        rejects_tab: "a\tb",
        rejects_del: "a\u{7f}",
        rejects_c1_control: "a\u{85}",
    }

    macro_rules! accepts {
        ($($name:ident: $input:expr,)*) => {$(
            #[test]
            fn $name() {
                let p = Path::parse($input).expect($input);
                assert_eq!(p.as_str(), $input);
                assert_eq!(p.to_string(), $input);
            }
        )*};
    }

    accepts! {
        accepts_root: "",
        accepts_simple: "a/b/c.txt",
        accepts_spaces: " a b /  c ",
        accepts_percent: "100%/%2F%20",
        accepts_hash_and_query: "a#b/c?d=e&f",
        accepts_unicode: "日本/ünïcödé/🦀",
        accepts_dots_in_names: "...a/..b/.c/d..",
        accepts_backslash: "a\\b",
        accepts_dotfiles: ".git/config",
    }

    #[test]
    fn error_message_escapes_control_characters() {
        let err = Path::parse("a\nb").unwrap_err();
        assert_eq!(err.path(), Some("a\\nb"));
    }

    #[test]
    fn starts_with_is_by_segment() {
        let p = |s: &str| Path::parse(s).unwrap();
        assert!(p("a/b/c").starts_with(&p("a/b")));
        assert!(p("a/b").starts_with(&p("a/b")));
        assert!(!p("a/bc").starts_with(&p("a/b")));
        assert!(!p("a").starts_with(&p("a/b")));
        assert!(p("a").starts_with(&Path::root()));
        assert!(Path::root().starts_with(&Path::root()));
        assert!(!Path::root().starts_with(&p("a")));
    }

    #[test]
    fn parent_file_name_extension() {
        let p = |s: &str| Path::parse(s).unwrap();
        assert_eq!(p("a").parent(), Some(Path::root()));
        assert_eq!(Path::root().parent(), None);
        assert_eq!(Path::root().file_name(), None);
        assert_eq!(p("a/b.tar.gz").extension(), Some("gz"));
        assert_eq!(p("a/.bashrc").extension(), None);
        assert_eq!(p("a/noext").extension(), None);
        assert_eq!(p("a/trailing.").extension(), Some(""));
    }

    #[test]
    fn order_is_byte_order() {
        let mut v: Vec<Path> = ["b", "a/b", "a.b", "a", "é", "Z"]
            .iter()
            .map(|s| Path::parse(*s).unwrap())
            .collect();
        v.sort();
        let got: Vec<&str> = v.iter().map(Path::as_str).collect();
        assert_eq!(got, ["Z", "a", "a.b", "a/b", "b", "é"]);
    }
}
