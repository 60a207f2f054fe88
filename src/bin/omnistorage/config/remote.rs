//! Remote specs as the user types them, resolved to what opens a backend: a local path, a
//! parsed URL, or a configured remote whose options go, key by key, to its backend's
//! builder (`S3Builder::set`, `SftpBuilder::set`): no URL text is made from a config.
//!
//! A spec is a URL (`s3://bucket/dir`, `sftp://host/path`, `mem://`, `file:///abs`), a
//! configured remote (`name:path`, `name:` for its root) or else a local path (`/abs`,
//! `rel`, `./a:b`, and on Windows `C:\dir`). Remote types ([`TYPES`]): `alias` (resolved
//! recursively; a loop is an error), `local`, `memory`, `s3` (with rclone's providers) and
//! `sftp`, each with the options its builder lists (`S3Builder::OPTIONS`, ...).
//! Self-contained (std, `omnistorage`'s public API and the sibling `obscure` module), so the
//! fuzz targets can include it.

use omnistorage::backends::OptionInfo;
use omnistorage::backends::s3::S3Builder;
use omnistorage::backends::sftp::{SftpBackend, SftpBuilder};
use omnistorage::{Error, ErrorKind, Url};

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

/// A spec resolved: what to open, and how to name it in messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// What to open.
    pub target: Target,
    /// What to call it in messages and logs: never a secret.
    pub display: String,
    /// Options of the remote that omnistorage does not use (rclone's options it does not
    /// implement, such as `acl`, `storage_class`, `shell_type`): accepted, as rclone users
    /// expect their config to work, and listed here.
    pub ignored: Vec<String>,
}

/// What a spec opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A local path, as `omnistorage::open` takes it.
    Local(String),
    /// A URL the user typed (or an alias named), parsed; its path may have been extended.
    Url(Url),
    /// A configured remote of a backend type, built by its builder's `set`.
    Remote(Configured),
}

/// The backend types a configured remote can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `type = s3`: the path's first segment is the bucket.
    S3,
    /// `type = sftp`: the path is absolute, or under the login directory.
    Sftp,
}

/// A configured remote: its type, the path inside it, and its options (rclone's names; the
/// obscured passwords revealed and renamed `password`, `passphrase`) in order.
#[derive(Clone, PartialEq, Eq)]
pub struct Configured {
    /// The backend type.
    pub kind: Kind,
    /// The path inside the remote (for s3, `bucket/prefix`).
    pub path: String,
    /// The options, `type` left out, as the builder's `set` takes them.
    pub options: Vec<(String, String)>,
}

impl std::fmt::Debug for Configured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let options: Vec<(&str, &str)> = self
            .options
            .iter()
            .map(|(k, v)| (k.as_str(), if is_secret(k) { "***" } else { v.as_str() }))
            .collect();
        f.debug_struct("Configured")
            .field("kind", &self.kind)
            .field("path", &self.path)
            .field("options", &options)
            .finish()
    }
}

impl Configured {
    /// The S3 builder: the bucket and prefix from the path, then `set` for each option. As
    /// in rclone, a remote without `env_auth` has it `false` (no keys: anonymous access).
    pub fn s3(&self) -> Result<S3Builder, Error> {
        let path = self.path.trim_start_matches('/');
        let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
        let mut b = S3Builder::new(bucket).prefix(prefix);
        if !self.options.iter().any(|(k, _)| k == "env_auth") {
            b = b.set("env_auth", "false")?;
        }
        for (k, v) in &self.options {
            b = b.set(k, v)?;
        }
        Ok(b)
    }

    /// The SFTP builder: the root from the path, then `set` for each option.
    pub fn sftp(&self) -> Result<SftpBuilder, Error> {
        let mut b = SftpBackend::builder("").root(self.path.clone());
        for (k, v) in &self.options {
            b = b.set(k, v)?;
        }
        Ok(b)
    }

    /// The options its builder accepted without using them.
    fn ignored(&self) -> Result<Vec<String>, Error> {
        Ok(match self.kind {
            Kind::S3 => self.s3()?.ignored().to_vec(),
            Kind::Sftp => self.sftp()?.ignored().to_vec(),
        })
    }
}

impl Target {
    /// Splits off the last segment of the path, for a spec that names one object: the
    /// target of its parent and the object's name. `None` when the path has no segment to
    /// give (a bucket, a host, a root).
    pub fn split_last(&self) -> Option<(Target, String)> {
        fn split(path: &str) -> Option<(String, String)> {
            let trimmed = path.trim_end_matches('/');
            let (parent, name) = match trimmed.rfind('/') {
                Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
                None => ("", trimmed),
            };
            if name.is_empty() {
                return None;
            }
            let parent = if parent.is_empty() && trimmed.starts_with('/') {
                "/"
            } else {
                parent
            };
            Some((parent.to_owned(), name.to_owned()))
        }
        match self {
            Target::Local(path) => {
                let (parent, name) = split(path)?;
                let parent = if parent.is_empty() {
                    ".".to_owned()
                } else {
                    parent
                };
                Some((Target::Local(parent), name))
            }
            Target::Url(url) => {
                let (parent, name) = split(&url.path)?;
                let mut url = url.clone();
                url.path = parent;
                Some((Target::Url(url), name))
            }
            Target::Remote(c) => {
                let (parent, name) = split(&c.path)?;
                if c.kind == Kind::S3 && parent.trim_matches('/').is_empty() {
                    return None; // the bucket itself
                }
                let mut c = c.clone();
                c.path = parent;
                Some((Target::Remote(c), name))
            }
        }
    }
}

/// A type of remote: its name in the config (`type = s3`), what it is, and the options it
/// takes (the builder's list: the `config` wizard asks for them in order).
#[derive(Clone, Copy, Debug)]
pub struct RemoteType {
    /// Its name, as `type =` gives it (rclone's).
    pub name: &'static str,
    /// What it is, in a few words.
    pub help: &'static str,
    /// Its options (for `local` and `memory`: none of their own).
    pub options: &'static [OptionInfo],
}

/// The options of an `alias` remote.
const ALIAS_OPTIONS: &[OptionInfo] = &[OptionInfo::new(
    "remote",
    "The remote or path it stands for: myremote:path/to/dir, /local/dir, s3://bucket/dir.",
)
.required()];

/// The remote types [`resolve_with`] understands, by name.
pub const TYPES: &[RemoteType] = &[
    RemoteType {
        name: "alias",
        help: "Alias for an existing remote",
        options: ALIAS_OPTIONS,
    },
    RemoteType {
        name: "local",
        help: "Local Disk",
        options: &[],
    },
    RemoteType {
        name: "memory",
        help: "In memory object storage (one store for every memory remote, kept while the \
               command runs)",
        options: &[],
    },
    RemoteType {
        name: "s3",
        help: "Amazon S3 Compliant Storage Providers (AWS, Cloudflare R2, MinIO, Garage, Ceph, \
               Wasabi, ...)",
        options: S3Builder::OPTIONS,
    },
    RemoteType {
        name: "sftp",
        help: "SSH/SFTP",
        options: SftpBuilder::OPTIONS,
    },
];

/// The remote type called `name`.
pub fn remote_type(name: &str) -> Option<&'static RemoteType> {
    TYPES.iter().find(|t| t.name == name)
}

/// The names of [`TYPES`], for messages: `alias, local, ...`.
pub fn type_names() -> String {
    TYPES.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
}

/// Secrets a remote keeps obscured under rclone's name, as rclone does: (type, the option
/// its builder takes, rclone's key). `config create` and the wizard store them so; resolving
/// reveals them and gives them to the builder under its name.
pub const OBSCURED: &[(&str, &str, &str)] = &[
    ("sftp", "password", "pass"),
    ("sftp", "passphrase", "key_file_pass"),
];

/// Checks one option of a remote of type `kind` as its builder reads it (a known key, a
/// value that parses), without connecting anywhere.
pub fn check_option(kind: &str, key: &str, value: &str) -> Result<(), Error> {
    let kind = match kind {
        "s3" => Kind::S3,
        "sftp" => Kind::Sftp,
        "alias" if key == "remote" => return parse_spec(value).map(drop),
        _ => return Ok(()),
    };
    let probe = Configured {
        kind,
        path: "bucket".to_owned(),
        options: vec![(key.to_owned(), value.to_owned())],
    };
    probe.ignored().map(drop)
}

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
        Spec::Url(url) => Ok(url_target(Url::parse(url)?)),
        Spec::Remote { name, path } => remote(name, path, remotes, windows, &mut Vec::new()),
    }
}

fn url_target(url: Url) -> Resolved {
    Resolved {
        display: url.to_string(),
        target: Target::Url(url),
        ignored: Vec::new(),
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
        target: Target::Local(url),
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
            let mut ignored = Vec::new();
            for (k, v) in &opts {
                if k == "type" || v.is_empty() {
                    continue;
                }
                if !LOCAL_IGNORED.contains(&k.as_str()) {
                    let e = omnistorage::backends::unknown_key("local", k, LOCAL_IGNORED);
                    let msg = format!("remote {name:?}: {}", e.message().unwrap_or(""));
                    return Err(e.with_message(msg));
                }
                ignored.push(k.clone());
            }
            Ok(local(path, ignored))
        }
        "alias" => {
            let target = get("remote").ok_or_else(|| config_err(name, "an alias needs remote"))?;
            match parse_spec_for(target, windows)? {
                Spec::Local(root) => Ok(local(&join(root, path), Vec::new())),
                Spec::Url(url) => {
                    let mut url = Url::parse(url)?;
                    if !path.is_empty() {
                        url.path = format!(
                            "{}/{}",
                            url.path.trim_end_matches('/'),
                            path.trim_start_matches('/')
                        );
                    }
                    Ok(url_target(url))
                }
                Spec::Remote {
                    name: next,
                    path: root,
                } => remote(next, &join(root, path), remotes, windows, seen),
            }
        }
        "memory" => {
            let mut url = Url::parse(&format!("mem://{MEMORY_STORE}"))?;
            url.path = format!("/{}", path.trim_start_matches('/'));
            Ok(url_target(url))
        }
        "s3" => s3(name, path, &opts),
        "sftp" => sftp(name, path, &opts),
        other => Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "remote {name:?} has type {other:?}, which omnistorage does not support \
                 (supported: {})",
                type_names()
            ),
        )),
    }
}

/// The process-wide memory store every `memory` remote opens (`mem://NAME`): one for all, as
/// rclone's memory remotes share theirs.
const MEMORY_STORE: &str = "memory-remotes";

/// `a/b` joined; either may be empty.
fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (_, true) => a.to_owned(),
        (true, false) => b.to_owned(),
        _ if a.ends_with('/') => format!("{a}{}", b.trim_start_matches('/')),
        _ => format!("{a}/{}", b.trim_start_matches('/')),
    }
}

/// rclone's options of the local backend, none of which omnistorage implements: accepted
/// and listed as ignored (the file backend has no options of its own).
const LOCAL_IGNORED: &[&str] = &[
    "case_insensitive",
    "case_sensitive",
    "copy_links",
    "description",
    "encoding",
    "hashes",
    "links",
    "no_check_updated",
    "no_clone",
    "no_preallocate",
    "no_set_modtime",
    "no_sparse",
    "nounc",
    "one_file_system",
    "skip_links",
    "skip_specials",
    "time_type",
    "translate_symlinks",
    "unicode_normalization",
    "zero_size_links",
];

/// The remote's options for its builder: `type` left out, empty values left out (rclone
/// writes unset options as `key =`).
fn options(opts: &[(String, String)]) -> Vec<(String, String)> {
    opts.iter()
        .filter(|(k, v)| k != "type" && !v.is_empty())
        .cloned()
        .collect()
}

/// A configured remote, checked by building its builder once (an unknown option or a bad
/// value is an error now, naming the remote).
fn configured(
    name: &str,
    kind: Kind,
    path: String,
    options: Vec<(String, String)>,
) -> Result<Resolved, Error> {
    let c = Configured {
        kind,
        path: path.clone(),
        options,
    };
    let ignored = c.ignored().map_err(|e| {
        let msg = format!("remote {name:?}: {}", e.message().unwrap_or(""));
        e.with_message(msg)
    })?;
    Ok(Resolved {
        display: format!("{name}:{path}"),
        target: Target::Remote(c),
        ignored,
    })
}

/// An s3 remote: the path's first segment is the bucket.
fn s3(name: &str, path: &str, opts: &[(String, String)]) -> Result<Resolved, Error> {
    let path = path.trim_start_matches('/');
    let bucket = path.split('/').next().unwrap_or("");
    if bucket.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("remote {name:?} is s3: name the bucket, as {name}:bucket/path"),
        ));
    }
    configured(name, Kind::S3, path.to_owned(), options(opts))
}

/// An sftp remote. Obscured passwords (`pass`, `key_file_pass`) are revealed, as rclone
/// does, and given as `password` and `passphrase`; a relative path is under the login
/// directory; an IPv6 host may come in brackets.
fn sftp(name: &str, path: &str, opts: &[(String, String)]) -> Result<Resolved, Error> {
    let mut options = Vec::new();
    let mut host = false;
    for (k, v) in self::options(opts) {
        let obscured = OBSCURED
            .iter()
            .find(|(kind, _, rclone)| *kind == "sftp" && *rclone == k);
        let (k, v) = if let Some((_, ours, _)) = obscured {
            let plain = obscure::reveal(&v).map_err(|e| {
                config_err(
                    name,
                    format!("{k}: {}", e.message().unwrap_or("not obscured")),
                )
            })?;
            ((*ours).to_owned(), plain)
        } else if k == "host" {
            host = true;
            let bare = v
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(&v)
                .to_owned();
            (k, bare)
        } else {
            (k, v)
        };
        options.push((k, v));
    }
    if !host {
        return Err(config_err(name, "an sftp remote needs host"));
    }
    configured(name, Kind::Sftp, path.to_owned(), options)
}
