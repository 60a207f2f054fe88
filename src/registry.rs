//! Opening backends by URL: [`open`], and [`register`] for backends from other crates.
//!
//! | URL | backend |
//! | --- | --- |
//! | `/abs/dir`, `./rel/dir`, `rel/dir` | [`FileBackend`] rooted there |
//! | `file:///abs/dir` (or `file://localhost/abs/dir`) | [`FileBackend`] |
//! | `mem://` | a new, empty [`MemoryBackend`] |
//! | `mem://NAME` | the process-wide [`MemoryBackend`] called `NAME` (made on first use) |
//! | `mem://NAME/dir` | the same store, seen from `dir` ([`MemoryBackend::scoped`]) |
//! | `chan://` | a new `ChannelBackend` (feature `channel`) |
//! | `chan://NAME` | the process-wide channel backend called `NAME` (made on first use, or anew once closed) |
//! | `s3://bucket/prefix?endpoint=...` | `S3Backend` (feature `s3`; see `backends::s3` for the parameters) |
//! | `sftp://user@host:port/abs/path?key=...` | `SftpBackend` (feature `sftp`; see `SftpBackend::from_url`) |
//!
//! A `chan://` URL takes its settings from the query: `capacity=N` (messages),
//! `timeout=500ms` (or `5s`, `2m`, a bare number of seconds) and `persistent=true`; an
//! unknown parameter is an error. Settings given for a named channel that is already open
//! must match its own.
//!
//! A scheme is one letter followed by letters, digits, `+`, `-` or `.`, then `://`; anything
//! else is a local path. URLs are parsed by [`Url`] (percent-escapes decoded, secrets never
//! printed); this module only maps schemes to factories. An unknown scheme or a malformed URL
//! is [`ErrorKind::InvalidConfig`].
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
use std::sync::{Arc, Mutex, RwLock};

use crate::backend::Backend;
use crate::backends::file::FileBackend;
use crate::backends::memory::MemoryBackend;
use crate::error::{Error, ErrorKind, Result};
use crate::url::{Url, is_scheme};

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
        #[cfg(feature = "s3")]
        map.insert(
            "s3".into(),
            Arc::new(|url: &Url| {
                crate::backends::s3::S3Backend::from_url(url)
                    .map(|b| Box::new(b) as Box<dyn Backend>)
            }),
        );
        #[cfg(feature = "sftp")]
        map.insert(
            "sftp".into(),
            Arc::new(|url: &Url| {
                crate::backends::sftp::SftpBackend::from_url(url)
                    .map(|b| Box::new(b) as Box<dyn Backend>)
            }),
        );
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
    open_url(&Url::parse(url)?)
}

/// Opens the backend a parsed URL names: [`open`] without the parsing, for a URL that was
/// built or changed as a [`Url`] (its path, its query pairs) rather than as text.
///
/// ```
/// use omnistorage::{BackendExt, Url};
///
/// let mut url = Url::parse("mem://open-url-doc")?;
/// url.path = "/photos".into();
/// omnistorage::registry::open_url(&url)?.write_all("a.jpg", b"...")?;
/// assert!(omnistorage::open("mem://open-url-doc/photos")?.contains("a.jpg")?);
/// # Ok::<(), omnistorage::Error>(())
/// ```
pub fn open_url(parsed: &Url) -> Result<Box<dyn Backend>> {
    let factory = registry()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&parsed.scheme)
        .cloned();
    match factory {
        Some(factory) => factory(parsed),
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
    no_options("file", url)?;
    Ok(Box::new(FileBackend::new(&url.path)?))
}

/// A backend that takes no options: any query parameter is an unknown option.
fn no_options(backend: &'static str, url: &Url) -> Result<()> {
    match url.query.first() {
        Some((key, _)) => {
            Err(crate::backends::unknown_key(backend, key, &[]).with_path(url.to_string()))
        }
        None => Ok(()),
    }
}

fn open_mem(url: &Url) -> Result<Box<dyn Backend>> {
    no_options("mem", url)?;
    let store = if url.host.is_empty() {
        MemoryBackend::new()
    } else {
        static NAMED: Mutex<BTreeMap<String, MemoryBackend>> = Mutex::new(BTreeMap::new());
        let mut named = NAMED.lock().unwrap_or_else(|e| e.into_inner());
        named.entry(url.host.clone()).or_default().clone()
    };
    let dir = url.path.trim_matches('/');
    if dir.is_empty() {
        return Ok(Box::new(store));
    }
    let scoped = store.scoped(dir).map_err(|e| {
        Error::new(
            ErrorKind::InvalidConfig,
            "a mem URL's path must be a valid path",
        )
        .with_path(url.to_string())
        .with_source(e)
    })?;
    Ok(Box::new(scoped))
}
