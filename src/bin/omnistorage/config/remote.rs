//! Remote specs as the user types them, and rclone's remote types mapped to the URLs
//! `omnistorage::open` takes.
//!
//! A spec is a URL (`s3://bucket/dir`, `sftp://host/path`, `mem://`, `file:///abs`), a
//! configured remote (`name:path`, `name:` for its root) or else a local path (`/abs`,
//! `rel`, `./a:b`, and on Windows `C:\dir`). Remote types: `local`, `s3` (with rclone's
//! providers), `sftp`, and `alias` (resolved recursively; a loop is an error).
//! Self-contained (std, `omnistorage`'s public API and the sibling `obscure` module), so the
//! fuzz targets can include it.

use omnistorage::{Error, ErrorKind};

use super::obscure;

/// What a spec names, before any config is consulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spec<'a> {
    /// A local path, as typed.
    Local(&'a str),
    /// A URL with a scheme, as typed.
    Url(&'a str),
    /// `name:path`: a remote of the config and the path inside it.
    Remote {
        /// The remote's name.
        name: &'a str,
        /// The path inside it (may be empty).
        path: &'a str,
    },
}

/// Where the remotes come from: the config file merged with the environment.
pub trait Remotes {
    /// The options of the remote `name` (including `type`), or `None` if there is none.
    fn options(&self, name: &str) -> Option<Vec<(String, String)>>;
    /// The names of every remote, for messages.
    fn names(&self) -> Vec<String>;
}

/// A spec resolved to what `omnistorage::open` takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The URL (or local path) to give `omnistorage::open`; may hold secrets.
    pub url: String,
    /// The same with secrets replaced by `***`, for messages and logs.
    pub display: String,
    /// Options of the remote that omnistorage does not use (rclone tuning such as `acl`,
    /// `storage_class`, `shell_type`), for a verbose warning.
    pub ignored: Vec<String>,
}

/// The remote types [`resolve_with`] understands.
pub const TYPES: &[&str] = &["local", "s3", "sftp", "alias"];

/// Whether `name` can name a remote: letters, digits, `_ . + @`, and `-` or spaces inside
/// (as rclone allows).
pub fn is_remote_name(name: &str) -> bool {
    let edge = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '+' | '@');
    name.chars().all(|c| edge(c) || c == '-' || c == ' ')
        && name.starts_with(edge)
        && name.ends_with(edge)
}

/// Whether an option holds a secret (shown as `***`).
pub fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key == "pass"
        || key.ends_with("_pass")
        || key == "key_pem"
        || key == "sse_customer_key"
        || ["secret", "password", "passphrase", "token"]
            .iter()
            .any(|w| key.contains(w))
}

/// Splits a spec, the way this platform reads it (`C:` is a drive on Windows only).
pub fn parse_spec(spec: &str) -> Result<Spec<'_>, Error> {
    parse_spec_for(spec, cfg!(windows))
}

/// [`parse_spec`] for Windows (`windows`) or Unix rules.
pub fn parse_spec_for(spec: &str, windows: bool) -> Result<Spec<'_>, Error> {
    if spec.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "an empty remote or path",
        ));
    }
    if spec.starts_with(':') {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "{spec:?}: on-the-fly remotes (:type:path) are not supported; \
                 use a URL (s3://, sftp://) or a remote of the config"
            ),
        ));
    }
    if let Some(i) = spec.find("://") {
        let scheme = &spec[..i];
        if scheme.len() >= 2
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return Ok(Spec::Url(spec));
        }
    }
    let Some((head, path)) = spec.split_once(':') else {
        return Ok(Spec::Local(spec));
    };
    let drive = windows && head.len() == 1 && head.starts_with(|c: char| c.is_ascii_alphabetic());
    if drive || head.contains(['/', '\\']) || !is_remote_name(head) {
        return Ok(Spec::Local(spec));
    }
    Ok(Spec::Remote { name: head, path })
}

/// Resolves a spec against `remotes`.
pub fn resolve_with(spec: &str, remotes: &dyn Remotes, windows: bool) -> Result<Resolved, Error> {
    match parse_spec_for(spec, windows)? {
        Spec::Local(path) => Ok(local(path, Vec::new())),
        Spec::Url(url) => {
            let parsed = omnistorage::Url::parse(url)?;
            Ok(Resolved {
                url: url.to_owned(),
                display: parsed.to_string(),
                ignored: Vec::new(),
            })
        }
        Spec::Remote { name, path } => remote(name, path, remotes, windows, &mut Vec::new()),
    }
}

fn local(path: &str, ignored: Vec<String>) -> Resolved {
    let url = if path.is_empty() {
        ".".to_owned()
    } else if path.starts_with(['/', '.', '\\']) || path.get(1..2) == Some(":") {
        path.to_owned()
    } else {
        format!("./{path}")
    };
    Resolved {
        display: url.clone(),
        url,
        ignored,
    }
}

fn config_err(name: &str, msg: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidConfig, format!("remote {name:?}: {msg}"))
}

fn remote(
    name: &str,
    path: &str,
    remotes: &dyn Remotes,
    windows: bool,
    seen: &mut Vec<String>,
) -> Result<Resolved, Error> {
    if seen.iter().any(|s| s == name) {
        seen.push(name.to_owned());
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            format!("alias loop: {}", seen.join(" -> ")),
        ));
    }
    seen.push(name.to_owned());
    let Some(opts) = remotes.options(name) else {
        let mut names = remotes.names();
        names.sort();
        let known = if names.is_empty() {
            "none configured".to_owned()
        } else {
            format!("configured: {}", names.join(", "))
        };
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            format!("no remote named {name:?} ({known}); a local path with ':' needs ./ in front"),
        ));
    };
    let get = |key: &str| {
        opts.iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let kind = get("type").ok_or_else(|| config_err(name, "has no type"))?;
    match kind {
        "local" => {
            let ignored = unused(&opts, &["type"]);
            Ok(local(path, ignored))
        }
        "alias" => {
            let target = get("remote").ok_or_else(|| config_err(name, "an alias needs remote"))?;
            match parse_spec_for(target, windows)? {
                Spec::Local(root) => Ok(local(&join(root, path), Vec::new())),
                Spec::Url(url) => {
                    let (main, query) = match url.split_once('?') {
                        Some((m, q)) => (m, Some(q)),
                        None => (url, None),
                    };
                    let mut joined = join(main, &encode(path, true));
                    if let Some(q) = query {
                        joined = format!("{joined}?{q}");
                    }
                    resolve_with(&joined, remotes, windows)
                }
                Spec::Remote {
                    name: next,
                    path: root,
                } => remote(next, &join(root, path), remotes, windows, seen),
            }
        }
        "s3" => s3(name, path, &opts, &get),
        "sftp" => sftp(name, path, &opts, &get),
        other => Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "remote {name:?} has type {other:?}, which omnistorage does not support \
                 (supported: {})",
                TYPES.join(", ")
            ),
        )),
    }
}

/// `a/b` joined; either may be empty.
fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (_, true) => a.to_owned(),
        (true, false) => b.to_owned(),
        _ if a.ends_with('/') => format!("{a}{}", b.trim_start_matches('/')),
        _ => format!("{a}/{}", b.trim_start_matches('/')),
    }
}

/// The options that no mapping used, by name.
fn unused(opts: &[(String, String)], used: &[&str]) -> Vec<String> {
    opts.iter()
        .filter(|(k, v)| !v.is_empty() && !used.contains(&k.as_str()))
        .map(|(k, _)| k.clone())
        .collect()
}

/// Percent-encodes all but unreserved characters (and `/` when `slash`).
fn encode(s: &str, slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn truthy(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" | "" => Some(false),
        _ => None,
    }
}

/// Builds `base?k=v&...` twice: as is, and with secrets shown as `***`.
fn finish(base: String, query: &[(&str, String)], ignored: Vec<String>) -> Resolved {
    let (mut url, mut display) = (base.clone(), base);
    for (i, (k, v)) in query.iter().enumerate() {
        let sep = if i == 0 { '?' } else { '&' };
        url.push_str(&format!("{sep}{k}={}", encode(v, false)));
        let shown = if is_secret(k) {
            "***".to_owned()
        } else {
            encode(v, false)
        };
        display.push_str(&format!("{sep}{k}={shown}"));
    }
    Resolved {
        url,
        display,
        ignored,
    }
}

type Get<'a> = dyn Fn(&str) -> Option<&'a str> + 'a;

/// rclone's s3 options → `s3://bucket/prefix?...`; the path's first segment is the bucket.
fn s3<'a>(
    name: &str,
    path: &str,
    opts: &[(String, String)],
    get: &Get<'a>,
) -> Result<Resolved, Error> {
    let path = path.trim_start_matches('/');
    let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
    if bucket.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("remote {name:?} is s3: name the bucket, as {name}:bucket/path"),
        ));
    }
    let mut q: Vec<(&str, String)> = Vec::new();
    let mut used = vec!["type", "env_auth"];
    let provider = get("provider").map(str::to_ascii_lowercase);
    if let Some(p) = &provider {
        used.push("provider");
        let ours = match p.as_str() {
            "aws" | "minio" | "wasabi" | "digitalocean" | "gcs" | "ceph" => p.as_str(),
            _ => "other",
        };
        q.push(("provider", ours.to_owned()));
        if p == "cloudflare" && get("region").is_none() {
            q.push(("region", "auto".to_owned()));
        }
    }
    if let Some(e) = get("endpoint") {
        used.push("endpoint");
        // Several endpoints of one store (ours: failover), separated by commas.
        let all: Vec<String> = e
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| {
                if e.contains("://") {
                    e.to_owned()
                } else {
                    format!("https://{e}")
                }
            })
            .collect();
        q.push(("endpoint", all.join(",")));
    }
    for (theirs, ours) in [
        ("region", "region"),
        ("access_key_id", "access_key_id"),
        ("secret_access_key", "secret_access_key"),
        ("session_token", "session_token"),
        ("profile", "profile"),
        ("upload_concurrency", "concurrency"),
        ("endpoint_down_after", "endpoint_down_after"),
    ] {
        if let Some(v) = get(theirs) {
            used.push(theirs);
            q.push((ours, v.to_owned()));
        }
    }
    if let Some(v) = get("chunk_size") {
        // rclone's sizes: a bare number is KiB.
        used.push("chunk_size");
        let bytes = omnistorage::units::parse_size(v, omnistorage::units::BareUnit::KiB)
            .map_err(|e| config_err(name, format!("chunk_size: {}", e.message().unwrap_or(""))))?;
        q.push(("part_size", format!("{bytes}B")));
    }
    if let Some(v) = get("force_path_style") {
        used.push("force_path_style");
        let b = truthy(v).ok_or_else(|| {
            config_err(
                name,
                format!("force_path_style = {v:?} is not true or false"),
            )
        })?;
        q.push(("path_style", b.to_string()));
    }
    let env_auth = match get("env_auth") {
        Some(v) => truthy(v)
            .ok_or_else(|| config_err(name, format!("env_auth = {v:?} is not true or false")))?,
        None => false,
    };
    // rclone: no keys and env_auth off means anonymous access.
    if get("access_key_id").is_none() && get("secret_access_key").is_none() && !env_auth {
        q.push(("anonymous", "true".to_owned()));
    }
    let base = format!("s3://{}/{}", encode(bucket, false), encode(prefix, true));
    Ok(finish(base, &q, unused(opts, &used)))
}

/// rclone's sftp options → `sftp://user@host:port/path?...`. Obscured passwords (`pass`,
/// `key_file_pass`) are revealed; a relative path is under the login directory.
fn sftp<'a>(
    name: &str,
    path: &str,
    opts: &[(String, String)],
    get: &Get<'a>,
) -> Result<Resolved, Error> {
    let host = get("host").ok_or_else(|| config_err(name, "an sftp remote needs host"))?;
    if get("key_pem").is_some() {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "remote {name:?}: key_pem (an inline key) is not supported; put the key in a file and set key_file"
            ),
        ));
    }
    let mut used = vec!["type", "host", "user", "port"];
    let mut authority = String::new();
    if let Some(user) = get("user") {
        authority.push_str(&encode(user, false));
        authority.push('@');
    }
    if host.contains(':') {
        // An IPv6 address, bracketed or not.
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if !bare
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(config_err(
                name,
                format!("host = {host:?} is not a host name or address"),
            ));
        }
        authority.push_str(&format!("[{bare}]"));
    } else {
        authority.push_str(&encode(host, false));
    }
    if let Some(port) = get("port") {
        let port: u16 = port
            .parse()
            .map_err(|_| config_err(name, format!("port = {port:?} is not a port number")))?;
        authority.push_str(&format!(":{port}"));
    }
    let path = if path.starts_with('/') {
        encode(path, true)
    } else if path.is_empty() {
        String::new()
    } else {
        format!("/~/{}", encode(path, true))
    };
    let mut q: Vec<(&str, String)> = Vec::new();
    let reveal = |key: &str, v: &str| {
        obscure::reveal(v).map_err(|e| {
            config_err(
                name,
                format!("{key}: {}", e.message().unwrap_or("not obscured")),
            )
        })
    };
    if let Some(v) = get("pass") {
        used.push("pass");
        q.push(("password", reveal("pass", v)?));
    }
    if let Some(v) = get("key_file") {
        used.push("key_file");
        q.push(("key", v.to_owned()));
    }
    if let Some(v) = get("key_file_pass") {
        used.push("key_file_pass");
        q.push(("passphrase", reveal("key_file_pass", v)?));
    }
    if let Some(v) = get("known_hosts_file") {
        used.push("known_hosts_file");
        q.push(("known_hosts", v.to_owned()));
    }
    if let Some(v) = get("key_use_agent") {
        used.push("key_use_agent");
        if truthy(v) == Some(true) {
            q.push(("agent", "true".to_owned()));
        }
    }
    if let Some(v) = get("disable_hashcheck") {
        used.push("disable_hashcheck");
        if truthy(v) == Some(true) {
            q.push(("hashes", "false".to_owned()));
        }
    }
    let base = format!("sftp://{authority}{path}");
    Ok(finish(base, &q, unused(opts, &used)))
}
