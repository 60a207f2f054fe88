//! Opening backends by URL: [`open`], and [`register`] for backends from other crates.
//!
//! | URL | backend |
//! | --- | --- |
//! | `/abs/dir`, `./rel/dir`, `rel/dir` | [`FileBackend`] rooted there |
//! | `file:///abs/dir` (or `file://localhost/abs/dir`) | [`FileBackend`] |
//! | `mem://` | a new, empty [`MemoryBackend`] |
//! | `mem://NAME` | the process-wide [`MemoryBackend`] called `NAME` (made on first use) |
//! | `chan://` | a new `ChannelBackend` (feature `channel`) |
//! | `chan://NAME` | the process-wide channel backend called `NAME` (made on first use, or anew once closed) |
//!
//! A `chan://` URL takes its settings from the query: `capacity=N` (messages),
//! `timeout=500ms` (or `5s`, `2m`, a bare number of seconds) and `persistent=true`; an
//! unknown parameter is an error. Settings given for a named channel that is already open
//! must match its own.
//!
//! A scheme is one letter followed by letters, digits, `+`, `-` or `.`, then `://`; anything
//! else is a local path. Percent-escapes in the URL's path, user, password and query are
//! decoded. An unknown scheme or a malformed URL is [`ErrorKind::InvalidConfig`].
//!
//! ```
//! use omnistorage::BackendExt;
//!
//! let a = omnistorage::open("mem://doc-example")?;
//! a.write_all("k", b"v")?;
//! let b = omnistorage::open("mem://doc-example")?; // the same named store
//! assert_eq!(b.read_to_vec("k")?, b"v");
//!
//! let err = omnistorage::open("nosuch://x").unwrap_err();
//! assert_eq!(err.kind(), omnistorage::ErrorKind::InvalidConfig);
//! # Ok::<(), omnistorage::Error>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};

use crate::backend::Backend;
use crate::backends::file::FileBackend;
use crate::backends::memory::MemoryBackend;
use crate::error::{Error, ErrorKind, Result};

/// Makes a backend from a parsed URL.
pub type Factory = Arc<dyn Fn(&Url) -> Result<Box<dyn Backend>> + Send + Sync + 'static>;

fn registry() -> &'static RwLock<BTreeMap<String, Factory>> {
    static REGISTRY: std::sync::OnceLock<RwLock<BTreeMap<String, Factory>>> =
        std::sync::OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut map: BTreeMap<String, Factory> = BTreeMap::new();
        map.insert("file".into(), Arc::new(open_file));
        map.insert("mem".into(), Arc::new(open_mem));
        #[cfg(feature = "channel")]
        map.insert("chan".into(), Arc::new(crate::backends::channel::open_url));
        RwLock::new(map)
    })
}

/// Registers `factory` for URLs with `scheme` (lower-case), replacing any earlier one.
///
/// ```
/// use omnistorage::{register, open, MemoryBackend, Backend};
///
/// register("scratch", |_url| Ok(Box::new(MemoryBackend::new()) as Box<dyn Backend>))?;
/// let store = open("scratch://anything")?;
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub fn register<F>(scheme: &str, factory: F) -> Result<()>
where
    F: Fn(&Url) -> Result<Box<dyn Backend>> + Send + Sync + 'static,
{
    if !is_scheme(scheme) || scheme.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            format!("invalid scheme {scheme:?}: use lower-case letters, digits, '+', '-', '.'"),
        ));
    }
    registry()
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(scheme.to_owned(), Arc::new(factory));
    Ok(())
}

/// The schemes [`open`] knows, in order.
pub fn schemes() -> Vec<String> {
    registry()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .keys()
        .cloned()
        .collect()
}

/// Opens the backend a URL names. See the [module docs](self) for the forms.
pub fn open(url: &str) -> Result<Box<dyn Backend>> {
    let parsed = Url::parse(url)?;
    let factory = registry()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&parsed.scheme)
        .cloned();
    match factory {
        Some(factory) => factory(&parsed),
        None => Err(Error::new(
            ErrorKind::InvalidConfig,
            format!(
                "unknown scheme {:?} (known: {}); is its feature enabled?",
                parsed.scheme,
                schemes().join(", ")
            ),
        )
        .with_path(parsed.to_string())),
    }
}

fn open_file(url: &Url) -> Result<Box<dyn Backend>> {
    if !(url.host.is_empty() || url.host == "localhost") {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            "a file URL names a local path: file:///abs/path",
        )
        .with_path(url.to_string()));
    }
    if url.path.is_empty() {
        return Err(
            Error::new(ErrorKind::InvalidConfig, "a file URL needs a path")
                .with_path(url.to_string()),
        );
    }
    Ok(Box::new(FileBackend::new(&url.path)?))
}

fn open_mem(url: &Url) -> Result<Box<dyn Backend>> {
    if url.host.is_empty() {
        return Ok(Box::new(MemoryBackend::new()));
    }
    static NAMED: Mutex<BTreeMap<String, MemoryBackend>> = Mutex::new(BTreeMap::new());
    let mut named = NAMED.lock().unwrap_or_else(|e| e.into_inner());
    let store = named.entry(url.host.clone()).or_default().clone();
    Ok(Box::new(store))
}

/// A parsed URL, as handed to a [`Factory`].
///
/// `scheme://[user[:password]@]host[:port][/path][?query][#fragment]`, or a local path (scheme
/// `file`). Components are percent-decoded. `Debug` and `Display` never show the password.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Url {
    /// The scheme, lower-cased (`file` for a plain local path).
    pub scheme: String,
    /// The user name, if given.
    pub user: Option<String>,
    /// The password, if given. Not shown by `Debug` or `Display`.
    pub password: Option<String>,
    /// The host (for `s3://bucket/...`, the bucket), decoded; IPv6 without brackets.
    pub host: String,
    /// The port, if given.
    pub port: Option<u16>,
    /// The path, decoded, with its leading `/` (empty if none).
    pub path: String,
    /// The query's `key=value` pairs, decoded, in order.
    pub query: Vec<(String, String)>,
    /// The fragment, if any.
    pub fragment: Option<String>,
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn invalid(msg: impl Into<std::borrow::Cow<'static, str>>, raw: &str) -> Error {
    Error::new(ErrorKind::InvalidConfig, msg).with_path(redact(raw))
}

/// The URL text with any password replaced, for messages.
fn redact(raw: &str) -> String {
    let Some(i) = raw.find("://") else {
        return raw.to_owned();
    };
    let after = &raw[i + 3..];
    let auth_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let auth = &after[..auth_end];
    match auth.rfind('@') {
        Some(at) => match auth[..at].find(':') {
            Some(colon) => format!("{}://{}:***{}", &raw[..i], &auth[..colon], &after[at..]),
            None => raw.to_owned(),
        },
        None => raw.to_owned(),
    }
}

/// Decodes `%XX` escapes; the result must be UTF-8.
fn percent_decode(s: &str, raw: &str) -> Result<String> {
    if !s.contains('%') {
        return Ok(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| invalid("malformed percent-escape in URL", raw))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| invalid("percent-escapes in URL are not UTF-8", raw))
}

impl Url {
    /// Parses a URL or a local path.
    ///
    /// ```
    /// use omnistorage::registry::Url;
    ///
    /// let url = Url::parse("sftp://me:pa%24s@[::1]:2222/data/in?timeout=5s")?;
    /// assert_eq!(url.scheme, "sftp");
    /// assert_eq!(url.user.as_deref(), Some("me"));
    /// assert_eq!(url.password.as_deref(), Some("pa$s"));
    /// assert_eq!(url.host, "::1");
    /// assert_eq!(url.port, Some(2222));
    /// assert_eq!(url.path, "/data/in");
    /// assert_eq!(url.param("timeout"), Some("5s"));
    /// assert!(!format!("{url:?}").contains("pa$s"));
    ///
    /// let local = Url::parse("./some dir")?;
    /// assert_eq!((local.scheme.as_str(), local.path.as_str()), ("file", "./some dir"));
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn parse(raw: &str) -> Result<Url> {
        if raw.is_empty() {
            return Err(invalid("empty URL", raw));
        }
        if raw.chars().any(|c| c.is_control()) {
            return Err(invalid("URL contains a control character", raw));
        }
        let scheme_end = raw.find("://").filter(|&i| i >= 2 && is_scheme(&raw[..i]));
        let Some(scheme_end) = scheme_end else {
            if let Some(colon) = raw.find(':') {
                let head = &raw[..colon];
                if head.len() >= 2 && is_scheme(head) && !raw.contains('/') {
                    return Err(invalid(
                        "expected scheme://...; remote:path names are not supported here",
                        raw,
                    ));
                }
            }
            return Ok(Url::local(raw.to_owned()));
        };
        let scheme = raw[..scheme_end].to_ascii_lowercase();
        let mut rest = &raw[scheme_end + 3..];

        let mut fragment = None;
        if let Some(i) = rest.find('#') {
            fragment = Some(percent_decode(&rest[i + 1..], raw)?);
            rest = &rest[..i];
        }
        let mut query = Vec::new();
        if let Some(i) = rest.find('?') {
            for pair in rest[i + 1..].split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                let k = percent_decode(&k.replace('+', " "), raw)?;
                let v = percent_decode(&v.replace('+', " "), raw)?;
                query.push((k, v));
            }
            rest = &rest[..i];
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(info) => match info.split_once(':') {
                Some((u, p)) => (Some(percent_decode(u, raw)?), Some(percent_decode(p, raw)?)),
                None => (Some(percent_decode(info, raw)?), None),
            },
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let Some(end) = v6.find(']') else {
                return Err(invalid("unclosed '[' in URL host", raw));
            };
            let after = &v6[end + 1..];
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| invalid("junk after ']'", raw))?,
                ),
            };
            (v6[..end].to_owned(), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (percent_decode(h, raw)?, Some(p)),
                None => (percent_decode(hostport, raw)?, None),
            }
        };
        let port = match port {
            None | Some("") => None,
            Some(p) => Some(
                p.parse::<u16>()
                    .map_err(|_| invalid(format!("invalid port {p:?}"), raw))?,
            ),
        };
        Ok(Url {
            scheme,
            user,
            password,
            host,
            port,
            path: percent_decode(path, raw)?,
            query,
            fragment,
        })
    }

    fn local(path: String) -> Url {
        Url {
            scheme: "file".into(),
            user: None,
            password: None,
            host: String::new(),
            port: None,
            path,
            query: Vec::new(),
            fragment: None,
        }
    }

    /// The value of the last query parameter called `key`.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for Url {
    /// The URL with the password shown as `***` (components are shown decoded).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        if let Some(user) = &self.user {
            f.write_str(user)?;
            if self.password.is_some() {
                f.write_str(":***")?;
            }
            f.write_str("@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            f.write_str(&self.host)?;
        }
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        f.write_str(&self.path)?;
        for (i, (k, v)) in self.query.iter().enumerate() {
            write!(f, "{}{k}={v}", if i == 0 { '?' } else { '&' })?;
        }
        Ok(())
    }
}

impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Url")
            .field("scheme", &self.scheme)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("host", &self.host)
            .field("port", &self.port)
            .field("path", &self.path)
            .field("query", &self.query)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_are_file_urls() {
        for raw in ["/abs/dir", "rel/dir", "./x", "C:/win", "dir with: colon/x"] {
            let url = Url::parse(raw).unwrap();
            assert_eq!(url.scheme, "file", "{raw}");
            assert_eq!(url.path, raw);
        }
    }

    #[test]
    fn file_urls() {
        let url = Url::parse("file:///srv/my%20data").unwrap();
        assert_eq!((url.host.as_str(), url.path.as_str()), ("", "/srv/my data"));
        let url = Url::parse("FILE://localhost/x").unwrap();
        assert_eq!(url.scheme, "file");
        assert_eq!(url.host, "localhost");
    }

    #[test]
    fn malformed_urls_are_invalid_config() {
        for raw in [
            "",
            "s3://bucket:99999/x",
            "s3://bucket:port/x",
            "s3://b/%zz",
            "s3://b/%ff%fe",
            "sftp://[::1/x",
            "s3://b/a\nb",
            "remote:path",
        ] {
            let err = Url::parse(raw).expect_err(raw);
            assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{raw}");
        }
    }

    #[test]
    fn password_never_printed() {
        let url = Url::parse("sftp://u:hunter2@h/p").unwrap();
        assert!(!url.to_string().contains("hunter2"));
        assert!(!format!("{url:?}").contains("hunter2"));
        let err = Url::parse("sftp://u:hunter2@h:bad/p").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(!format!("{err:?}").contains("hunter2"));
    }

    #[test]
    fn query_pairs_decode() {
        let url = Url::parse("s3://b/p?region=eu-west-1&x=a%26b&flag&sp=a+b").unwrap();
        assert_eq!(url.param("region"), Some("eu-west-1"));
        assert_eq!(url.param("x"), Some("a&b"));
        assert_eq!(url.param("flag"), Some(""));
        assert_eq!(url.param("sp"), Some("a b"));
        assert_eq!(url.param("missing"), None);
    }
}
