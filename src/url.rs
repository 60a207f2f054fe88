//! [`Url`]: the URLs that name backends, parsed once for every backend and the
//! [registry](crate::registry).
//!
//! `scheme://[user[:password]@]host[:port][/path][?query][#fragment]`, or a plain local path
//! (scheme `file`). Components are percent-decoded. Nothing secret is ever printed: `Debug`,
//! `Display` and the errors of [`Url::parse`] show the password, and the values of query
//! parameters that hold secrets (`secret_access_key`, `session_token`, any key naming a
//! secret, password, token or signature), as `***`.

use std::fmt;

use crate::error::{Error, ErrorKind, Result};

/// A parsed URL, as handed to a [`Factory`](crate::registry::Factory).
///
/// `scheme://[user[:password]@]host[:port][/path][?query][#fragment]`, or a local path (scheme
/// `file`). Components are percent-decoded. `Debug` and `Display` never show the password or
/// a [secret query parameter](Url::is_secret_param).
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

/// Whether `s` is a scheme: a letter, then letters, digits, `+`, `-` or `.`.
pub(crate) fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn invalid(msg: impl Into<std::borrow::Cow<'static, str>>, raw: &str) -> Error {
    Error::new(ErrorKind::InvalidConfig, msg).with_path(redact(raw))
}

/// See [`Url::is_secret_param`].
fn is_secret_param(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key == "sig"
        || [
            "secret",
            "password",
            "passwd",
            "passphrase",
            "token",
            "signature",
        ]
        .iter()
        .any(|word| key.contains(word))
}

/// The URL text with the password and secret query values replaced, for messages.
fn redact(raw: &str) -> String {
    let (main, query) = match raw.split_once('?') {
        Some((main, query)) => (main, Some(query)),
        None => (raw, None),
    };
    let mut out = redact_userinfo(main);
    if let Some(query) = query {
        let (query, fragment) = match query.split_once('#') {
            Some((q, f)) => (q, Some(f)),
            None => (query, None),
        };
        out.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((k, _)) if is_secret_param(k) => {
                    out.push_str(k);
                    out.push_str("=***");
                }
                _ => out.push_str(pair),
            }
        }
        if let Some(fragment) = fragment {
            out.push('#');
            out.push_str(fragment);
        }
    }
    out
}

fn redact_userinfo(raw: &str) -> String {
    let Some(i) = raw.find("://") else {
        return raw.to_owned();
    };
    let after = &raw[i + 3..];
    let auth_end = after.find(['/', '#']).unwrap_or(after.len());
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
    /// use omnistorage::Url;
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

    /// Whether the query parameter `key` holds a secret, whose value is never printed: its
    /// name (case aside) contains `secret`, `password`, `passwd`, `token` or `signature`, or
    /// is `sig`.
    ///
    /// ```
    /// use omnistorage::Url;
    ///
    /// assert!(Url::is_secret_param("secret_access_key"));
    /// assert!(!Url::is_secret_param("region"));
    /// let url = Url::parse("s3://b/p?secret_access_key=hunter2&region=eu")?;
    /// assert_eq!(url.to_string(), "s3://b/p?secret_access_key=***&region=eu");
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn is_secret_param(key: &str) -> bool {
        is_secret_param(key)
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
    /// The URL with the password and secret query values shown as `***` (components are
    /// shown decoded; the fragment is left out).
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
            let v = if is_secret_param(k) {
                "***"
            } else {
                v.as_str()
            };
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
            .field("query", &RedactedQuery(&self.query))
            .field("fragment", &self.fragment)
            .finish()
    }
}

/// The query pairs, secret values shown as `***`.
struct RedactedQuery<'a>(&'a [(String, String)]);

impl fmt::Debug for RedactedQuery<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, v)| {
                let v = if is_secret_param(k) {
                    "***"
                } else {
                    v.as_str()
                };
                (k.as_str(), v)
            }))
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

    #[test]
    fn secret_query_values_never_printed() {
        let raw = "s3://b/p?access_key_id=AK&secret_access_key=s3cr3t&session_token=t0k&region=x";
        let url = Url::parse(raw).unwrap();
        assert_eq!(url.param("secret_access_key"), Some("s3cr3t"));
        for shown in [url.to_string(), format!("{url:?}")] {
            assert!(
                !shown.contains("s3cr3t") && !shown.contains("t0k"),
                "{shown}"
            );
            assert!(shown.contains("AK") && shown.contains("region"), "{shown}");
        }
        let err = Url::parse("s3://b:bad/p?secret_access_key=s3cr3t&x=1").unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("x=1"), "{shown}");
        assert!(is_secret_param("X-Amz-Signature"));
        assert!(is_secret_param("Password"));
        assert!(!is_secret_param("access_key_id"));
    }
}
