//! Opening what the user names: a tree (`sync SRC DST`) or one object (`cat FILE`).
//!
//! A configured remote builds its backend by calling its builder's `set` for each option
//! (`config::remote::Configured`); a URL is parsed once and opened as parsed; nothing is
//! turned back into URL text.

use std::path::PathBuf;
use std::sync::OnceLock;

use omnistorage::backends::s3::S3Builder;
use omnistorage::{Backend, Error, ErrorKind, Path, Url};

use crate::config::Config;
use crate::config::remote::{Kind, Spec, Target, parse_spec, resolve_with};

/// An opened remote: the backend, and the path of the named thing inside it.
pub struct Opened {
    pub backend: Box<dyn Backend>,
    pub path: Path,
}

/// Opens `spec` as a tree: the backend is rooted there.
pub fn tree(spec: &str) -> Result<Opened, Error> {
    tree_with(spec, false)
}

/// [`tree`] for the commands that upload through the sync engine (`sync`, `copy`, `move`):
/// with `journal`, an S3 backend keeps its upload journal in the user's cache directory
/// (`omnistorage/uploads`, beside the hash cache), so that uploads a killed run left are
/// resumed; a URL that names its own `upload_journal` keeps it.
pub fn tree_with(spec: &str, journal: bool) -> Result<Opened, Error> {
    let backend = open(&resolve(spec)?, journal)?;
    Ok(Opened {
        backend,
        path: Path::root(),
    })
}

/// [`tree_with`] for a destination with a `--backup-dir` (rclone: a path on the same remote):
/// the backend is rooted where both lie, the destination is the returned `path` in it, and
/// the backup directory the second `Path`. A backup directory elsewhere (another remote,
/// another bucket) is an error; overlap with the destination itself is the sync engine's to
/// refuse.
pub fn tree_with_backup(spec: &str, backup: &str, journal: bool) -> Result<(Opened, Path), Error> {
    let (dst, bak) = (resolve(spec)?, resolve(backup)?);
    let elsewhere = || {
        Error::new(
            ErrorKind::InvalidInput,
            format!("--backup-dir {backup:?} is not on the same remote as {spec:?}"),
        )
    };
    // Each side's path as segments, and the target with another path.
    let (base, a, b) = match (&dst, &bak) {
        (Target::Local(d), Target::Local(k)) => {
            let abs = |p: &str| {
                std::path::absolute(p)
                    .map(|p| p.to_string_lossy().into_owned())
                    .map_err(Error::from)
            };
            let (d, k) = (abs(d)?, abs(k)?);
            (Target::Local("/".into()), d, k)
        }
        (Target::Url(d), Target::Url(k)) => {
            let (mut dd, mut kk): (Url, Url) = (d.clone(), k.clone());
            dd.path = String::new();
            kk.path = String::new();
            if dd != kk {
                return Err(elsewhere());
            }
            (Target::Url(dd), d.path.clone(), k.path.clone())
        }
        (Target::Remote(d), Target::Remote(k)) => {
            let (mut dd, mut kk) = (d.clone(), k.clone());
            dd.path = String::new();
            kk.path = String::new();
            if dd != kk {
                return Err(elsewhere());
            }
            (Target::Remote(dd), d.path.clone(), k.path.clone())
        }
        _ => return Err(elsewhere()),
    };
    let segments = |p: &str| -> Vec<String> {
        p.split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .map(str::to_owned)
            .collect()
    };
    let (a, b) = (segments(&a), segments(&b));
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    // A bucket of a configured S3 remote is the first segment: both must share it.
    if let Target::Remote(c) = &base
        && c.kind == Kind::S3
        && common == 0
    {
        return Err(elsewhere());
    }
    let lead = if matches!(base, Target::Local(_)) {
        "/"
    } else {
        ""
    };
    let root = format!("{lead}{}", a[..common].join("/"));
    let base = match base {
        Target::Local(_) => Target::Local(root),
        Target::Url(mut u) => {
            u.path = format!("/{root}");
            Target::Url(u)
        }
        Target::Remote(mut c) => {
            c.path = root;
            Target::Remote(c)
        }
    };
    let rel = |s: &[String]| Path::parse(s.join("/"));
    let opened = Opened {
        backend: open(&base, journal)?,
        path: rel(&a[common..])?,
    };
    Ok((opened, rel(&b[common..])?))
}

/// Opens `spec` as one object: the backend is rooted at its parent. With `journal` (the
/// commands that upload one object through the copy route: `copyto`, `moveto`), an S3
/// backend keeps its upload journal, as [`tree_with`].
pub fn object_with(spec: &str, journal: bool) -> Result<Opened, Error> {
    let target = resolve(spec)?;
    let (parent, name) = target
        .split_last()
        .ok_or_else(|| Error::new(ErrorKind::InvalidPath, format!("{spec:?} names no object")))?;
    Ok(Opened {
        backend: open(&parent, journal)?,
        path: Path::parse(&name)?,
    })
}

/// Opens a target: a local path or a URL through the registry, a configured remote through
/// its builder.
fn open(target: &Target, journal: bool) -> Result<Box<dyn Backend>, Error> {
    let journal = journal.then(uploads_dir).flatten();
    match target {
        Target::Local(path) => omnistorage::open(path),
        Target::Url(url) if url.scheme == "s3" && journal.is_some() => {
            let b = S3Builder::from_url(url)?;
            Ok(Box::new(
                with_journal(b, journal, url.param("upload_journal").is_some()).build()?,
            ))
        }
        Target::Url(url) => omnistorage::registry::open_url(url),
        Target::Remote(c) => match c.kind {
            Kind::S3 => {
                let named = c.options.iter().any(|(k, _)| k == "upload_journal");
                Ok(Box::new(with_journal(c.s3()?, journal, named).build()?))
            }
            Kind::Sftp => Ok(Box::new(c.sftp()?.build()?)),
        },
    }
}

/// `b` with the upload journal in `dir`, unless its options `named` one already.
fn with_journal(b: S3Builder, dir: Option<PathBuf>, named: bool) -> S3Builder {
    match dir {
        Some(dir) if !named => b.upload_journal(dir),
        _ => b,
    }
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

/// What `spec` names: a URL or local path as typed, or a named remote (`name:path`)
/// resolved through the config and the environment.
fn resolve(spec: &str) -> Result<Target, Error> {
    if spec.is_empty() {
        return Err(Error::new(ErrorKind::InvalidInput, "an empty remote"));
    }
    let windows = cfg!(windows);
    let resolved = match parse_spec(spec)? {
        Spec::Remote { .. } => crate::config::resolve(spec, config()?)?,
        Spec::Url(_) | Spec::Local(_) => resolve_with(spec, &NoRemotes, windows)?,
    };
    Ok(resolved.target)
}

/// The remotes of a spec that names none: a URL or a local path never reads the config
/// (so a broken config file does not stop commands on them).
struct NoRemotes;

impl crate::config::remote::Remotes for NoRemotes {
    fn options(&self, _: &str) -> Option<Vec<(String, String)>> {
        None
    }

    fn names(&self) -> Vec<String> {
        Vec::new()
    }
}

/// [`omnistorage::sync::user_cache_dir`]`/uploads`, beside the hash cache.
fn uploads_dir() -> Option<PathBuf> {
    omnistorage::sync::user_cache_dir().map(|d| d.join("uploads"))
}

/// A local path without a slash names an object in the current directory.
pub fn object_or_local(spec: &str) -> Result<Opened, Error> {
    object_or_local_with(spec, false)
}

/// [`object_or_local`], with the upload journal as [`object_with`] keeps it.
pub fn object_or_local_with(spec: &str, journal: bool) -> Result<Opened, Error> {
    if !spec.contains('/') && !spec.contains("://") {
        return object_with(&format!("./{spec}"), journal);
    }
    object_with(spec, journal)
}
