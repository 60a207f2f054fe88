//! Where the config file lives, and reading and writing it.
//!
//! Order: `--config FILE`, else `$OMNISTORAGE_CONFIG`, else
//! `$XDG_CONFIG_HOME/omnistorage/config.toml` (default `~/.config/omnistorage/config.toml`)
//! if it exists, else rclone's file if it exists (`$RCLONE_CONFIG`, then
//! `$XDG_CONFIG_HOME/rclone/rclone.conf`, `~/.config/rclone/rclone.conf`, `~/.rclone.conf`),
//! else ours (not yet written). A file named `*.conf` is read as rclone's INI, anything else
//! as our TOML.

use std::path::{Path, PathBuf};

use omnistorage::{Error, ErrorKind};

use super::{Source, ini, toml};

/// A remote as stored: its name and its options, in file order.
pub type Remote = (String, Vec<(String, String)>);

/// The environment, as read once (tests pass their own).
#[derive(Clone, Debug, Default)]
pub struct Env {
    /// `NAME=value` pairs (only those that are UTF-8).
    pub vars: Vec<(String, String)>,
}

impl Env {
    /// This process's environment.
    pub fn current() -> Env {
        Env {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// A variable's value, if set and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn home(&self) -> Option<PathBuf> {
        self.get("HOME")
            .or_else(|| self.get("USERPROFILE"))
            .map(PathBuf::from)
    }

    fn config_home(&self) -> Option<PathBuf> {
        self.get("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| self.home().map(|h| h.join(".config")))
    }
}

/// The source a path names: rclone's INI for `*.conf`, else ours.
fn by_extension(path: PathBuf) -> Source {
    if path.extension().is_some_and(|e| e == "conf") {
        Source::Rclone(path)
    } else {
        Source::Ours(path)
    }
}

/// Finds the config file (see the module docs).
pub fn locate(explicit: Option<&Path>, env: &Env) -> Source {
    if let Some(path) = explicit {
        return by_extension(path.to_owned());
    }
    if let Some(path) = env.get("OMNISTORAGE_CONFIG") {
        return by_extension(PathBuf::from(path));
    }
    let ours = env
        .config_home()
        .map(|d| d.join("omnistorage").join("config.toml"));
    if let Some(ours) = ours.as_ref().filter(|p| p.is_file()) {
        return Source::Ours(ours.clone());
    }
    let rclone = [
        env.get("RCLONE_CONFIG").map(PathBuf::from),
        env.config_home()
            .map(|d| d.join("rclone").join("rclone.conf")),
        env.home().map(|h| h.join(".rclone.conf")),
    ];
    if let Some(found) = rclone.into_iter().flatten().find(|p| p.is_file()) {
        return Source::Rclone(found);
    }
    match ours {
        Some(path) => Source::Ours(path),
        None => Source::None,
    }
}

/// Reads the remotes of `source`: `(name, pairs)` in file order. A file that does not
/// exist holds no remotes.
pub fn read(source: &Source) -> Result<Vec<Remote>, Error> {
    let (path, rclone) = match source {
        Source::Ours(p) => (p, false),
        Source::Rclone(p) => (p, true),
        Source::None => return Ok(Vec::new()),
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(
                Error::new(ErrorKind::from_io(e.kind()), "cannot read the config file")
                    .with_path(path.display().to_string())
                    .with_source(e),
            );
        }
    };
    let with_path = |e: Error| e.with_path(path.display().to_string());
    if rclone {
        Ok(ini::parse(&text)
            .map_err(with_path)?
            .into_iter()
            .map(|s| (s.name, s.entries))
            .collect())
    } else {
        Ok(toml::parse(&text)
            .map_err(with_path)?
            .into_iter()
            .map(|t| (t.name, t.entries))
            .collect())
    }
}

/// Writes our TOML file atomically (a temporary file in the same directory, synced, then
/// renamed over), readable by its owner only. rclone's file is never written.
pub fn write(source: &Source, tables: &[toml::Table]) -> Result<(), Error> {
    let path = match source {
        Source::Ours(p) => p,
        Source::Rclone(p) => {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "this is rclone's config file, which omnistorage reads but never rewrites; \
                 change it with `rclone config`, or use a config of our own \
                 (--config FILE.toml, or remove it from the way)",
            )
            .with_path(p.display().to_string()));
        }
        Source::None => {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "no place for a config file (no home directory): give --config FILE",
            ));
        }
    };
    let io_err = |what: &'static str, p: &Path, e: std::io::Error| {
        Error::new(ErrorKind::from_io(e.kind()), what)
            .with_path(p.display().to_string())
            .with_source(e)
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(&dir)
        .map_err(|e| io_err("cannot create the config directory", &dir, e))?;
    let text = format!(
        "# omnistorage remotes, written by `omnistorage config` (comments are not kept)\n\n{}",
        toml::write(tables)
    );
    // Whole or not at all, private to its owner (it holds secrets).
    omnistorage::state_file::write_atomic(path, text.as_bytes())
        .map_err(|e| io_err("cannot write the config file", path, e))
}
