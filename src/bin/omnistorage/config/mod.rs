//! The CLI's remotes: the config file (ours in TOML, or rclone's `rclone.conf` read
//! unchanged), the environment's overrides, and remote specs resolved to what opens a
//! backend (a configured remote's options go to its builder's `set`, key by key).
//!
//! A remote's options come from the file, then `RCLONE_CONFIG_<NAME>_<KEY>`, then
//! `OMNISTORAGE_CONFIG_<NAME>_<KEY>` (name and key upper-case, `-` as `_`), so a remote can
//! be defined by the environment alone (`..._TYPE`).

pub mod ini;
pub mod obscure;
pub mod remote;
pub mod store;
pub mod toml;
#[cfg(target_os = "linux")]
mod tty;
#[cfg(target_os = "linux")]
pub mod wizard;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use omnistorage::{Error, ErrorKind};

pub use remote::Resolved;
use store::Env;

/// Where the config was read from, and where `save` writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Our TOML file (it may not exist yet).
    Ours(PathBuf),
    /// rclone's INI file: read, never written.
    Rclone(PathBuf),
    /// No file and nowhere to put one (no home directory).
    None,
}

/// The remotes: name → type and options, in file order.
#[derive(Clone, Debug)]
pub struct Config {
    source: Source,
    remotes: Vec<(String, Vec<(String, String)>)>,
    env: Env,
}

/// The prefixes of the environment's overrides, weakest first.
const ENV_PREFIXES: [&str; 2] = ["RCLONE_CONFIG_", "OMNISTORAGE_CONFIG_"];

/// The environment's spelling of a name: upper-case, `-` as `_`.
fn env_name(name: &str) -> String {
    name.to_uppercase().replace('-', "_")
}

impl Config {
    /// Loads the config: `--config FILE` (`explicit`), else `$OMNISTORAGE_CONFIG`, else
    /// `~/.config/omnistorage/config.toml` (`$XDG_CONFIG_HOME` honoured), else rclone's
    /// (`$RCLONE_CONFIG`, `~/.config/rclone/rclone.conf`) read unchanged. A `.conf` file is
    /// read as rclone's INI. A file that does not exist yet holds no remotes.
    pub fn load(explicit: Option<&Path>) -> Result<Config, Error> {
        Config::load_with(explicit, Env::current())
    }

    /// [`load`](Config::load) with a given environment.
    pub fn load_with(explicit: Option<&Path>, env: Env) -> Result<Config, Error> {
        let source = store::locate(explicit, &env);
        let remotes = store::read(&source)?;
        Ok(Config {
            source,
            remotes,
            env,
        })
    }

    /// Where the config was read from, and where [`save`](Config::save) writes.
    pub fn path(&self) -> &Source {
        &self.source
    }

    /// The remotes' names: the file's in order, then those only the environment defines
    /// (upper-case, as the environment spells them; any case resolves).
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.remotes.iter().map(|(n, _)| n.as_str()).collect();
        for (k, _) in &self.env.vars {
            let Some(name) = ENV_PREFIXES
                .iter()
                .find_map(|p| k.strip_prefix(p)?.strip_suffix("_TYPE"))
            else {
                continue;
            };
            if name.is_empty()
                || names.iter().any(|n| env_name(n) == name)
                || !name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                continue;
            }
            names.push(name);
        }
        names
    }

    /// The options of a remote, the environment's overrides applied; `None` if neither the
    /// file nor the environment defines it.
    pub fn options(&self, name: &str) -> Option<Vec<(String, String)>> {
        let file = self.remotes.iter().find(|(n, _)| n == name).or_else(|| {
            let upper = env_name(name);
            self.remotes.iter().find(|(n, _)| env_name(n) == upper)
        });
        let mut opts = file.map(|(_, o)| o.clone()).unwrap_or_default();
        let upper = env_name(name);
        for prefix in ENV_PREFIXES {
            let full = format!("{prefix}{upper}_");
            for (k, v) in &self.env.vars {
                let Some(key) = k.strip_prefix(&full).filter(|k| !k.is_empty()) else {
                    continue;
                };
                let key = key.to_lowercase();
                match opts.iter_mut().find(|(have, _)| *have == key) {
                    Some(slot) => slot.1 = v.clone(),
                    None => opts.push((key, v.clone())),
                }
            }
        }
        let typed = opts.iter().any(|(k, v)| k == "type" && !v.is_empty());
        (file.is_some() || typed).then_some(opts)
    }

    /// `config show NAME`: the options (type first), secrets shown as `***`.
    pub fn show(&self, name: &str) -> Result<Vec<(String, String)>, Error> {
        let mut opts = self.options(name).ok_or_else(|| self.unknown(name))?;
        opts.sort_by_key(|(k, _)| k != "type");
        Ok(opts
            .into_iter()
            .map(|(k, v)| {
                let v = if remote::is_secret(&k) && !v.is_empty() {
                    "***".to_owned()
                } else {
                    v
                };
                (k, v)
            })
            .collect())
    }

    /// `config create NAME TYPE key=value...`. Secrets that rclone keeps obscured
    /// ([`remote::OBSCURED`]: sftp's `pass` and `key_file_pass`, given so or as the
    /// builder's `password` and `passphrase`) are stored obscured under rclone's name, as
    /// `rclone config create` does.
    pub fn create(
        &mut self,
        name: &str,
        kind: &str,
        pairs: &[(String, String)],
    ) -> Result<(), Error> {
        self.check_new_name(name)?;
        if remote::remote_type(kind).is_none() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "unknown remote type {kind:?} (supported: {})",
                    remote::type_names()
                ),
            ));
        }
        let opts = stored(kind, pairs)?;
        self.remotes.push((name.to_owned(), opts));
        // The options are checked now, as a use of the remote checks them (a misspelt key
        // names the one meant); an alias is checked when used (its target may come later).
        if kind != "alias"
            && let Err(e) = resolve(&format!("{name}:bucket"), self)
        {
            self.remotes.pop();
            return Err(e);
        }
        Ok(())
    }

    /// The options of a remote as the file has them (type first; no environment
    /// overrides; obscured secrets as stored), or `None` if the file has no such remote.
    pub fn stored_options(&self, name: &str) -> Option<&[(String, String)]> {
        self.remotes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, o)| o.as_slice())
    }

    /// Replaces the options of the remote `name` (its type kept), checked and stored as
    /// [`create`](Config::create) does; its place in the file is kept.
    pub fn update(&mut self, name: &str, pairs: &[(String, String)]) -> Result<(), Error> {
        let slot = self.stored_mut(name)?;
        let kind = slot
            .1
            .iter()
            .find(|(k, _)| k == "type")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        slot.1 = stored(&kind, pairs)?;
        Ok(())
    }

    /// `config rename OLD NEW`: the remote keeps its place in the file.
    pub fn rename(&mut self, old: &str, new: &str) -> Result<(), Error> {
        self.check_new_name(new)?;
        new.clone_into(&mut self.stored_mut(old)?.0);
        Ok(())
    }

    /// The file's remote `name`, to change.
    fn stored_mut(&mut self, name: &str) -> Result<&mut store::Remote, Error> {
        let unknown = self.unknown(name);
        self.remotes
            .iter_mut()
            .find(|(n, _)| n == name)
            .ok_or(unknown)
    }

    /// `config copy FROM TO`: a new remote `TO` with the options of `FROM`, at the end.
    pub fn copy(&mut self, from: &str, to: &str) -> Result<(), Error> {
        self.check_new_name(to)?;
        let opts = self
            .stored_options(from)
            .ok_or_else(|| self.unknown(from))?
            .to_vec();
        self.remotes.push((to.to_owned(), opts));
        Ok(())
    }

    /// The names of the file's remotes, in file order (not those only the environment
    /// defines).
    pub fn stored_names(&self) -> Vec<&str> {
        self.remotes.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// A name for a new remote: valid, and not taken in the file.
    pub fn check_new_name(&self, name: &str) -> Result<(), Error> {
        if !remote::is_remote_name(name) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "{name:?} cannot name a remote: use letters, digits, '_', '.', '+', '@', \
                     and '-' or spaces inside"
                ),
            ));
        }
        if self.remotes.iter().any(|(n, _)| n == name) {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("remote {name:?} exists already; delete it first"),
            ));
        }
        Ok(())
    }

    /// `config delete NAME`.
    pub fn delete(&mut self, name: &str) -> Result<(), Error> {
        let before = self.remotes.len();
        self.remotes.retain(|(n, _)| n != name);
        if self.remotes.len() == before {
            return Err(self.unknown(name));
        }
        Ok(())
    }

    /// Writes our TOML file (atomically, mode 0600). rclone's file is never rewritten: that
    /// is an [`ErrorKind::Unsupported`] error that says so.
    pub fn save(&self) -> Result<(), Error> {
        let tables: Vec<toml::Table> = self
            .remotes
            .iter()
            .map(|(name, entries)| toml::Table {
                name: name.clone(),
                entries: entries.clone(),
            })
            .collect();
        store::write(&self.source, &tables)
    }

    fn unknown(&self, name: &str) -> Error {
        let env_only = self.options(name).is_some();
        let msg = if env_only {
            format!("remote {name:?} is defined by environment variables, not in the config file")
        } else {
            format!("no remote named {name:?}")
        };
        Error::new(ErrorKind::NotFound, msg)
    }
}

/// A remote's options as the file keeps them: `type` first, then `pairs` checked (option
/// names only, each once, not `type`), rclone's obscured secrets ([`remote::OBSCURED`])
/// obscured and under rclone's name.
fn stored(kind: &str, pairs: &[(String, String)]) -> Result<Vec<(String, String)>, Error> {
    let mut opts = vec![("type".to_owned(), kind.to_owned())];
    for (k, v) in pairs {
        let valid = !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid || k == "type" {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("{k:?} is not an option name (letters, digits, '_', '-'; not type)"),
            ));
        }
        let obscured = remote::OBSCURED
            .iter()
            .find(|(t, ours, rclone)| *t == kind && (ours == k || rclone == k));
        let (k, v) = match obscured {
            Some((_, _, rclone)) => ((*rclone).to_owned(), obscure::obscure(v)),
            None => (k.clone(), v.clone()),
        };
        if opts.iter().any(|(have, _)| *have == k) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("option {k:?} given twice"),
            ));
        }
        opts.push((k, v));
    }
    Ok(opts)
}

impl remote::Remotes for Config {
    fn options(&self, name: &str) -> Option<Vec<(String, String)>> {
        Config::options(self, name)
    }

    fn names(&self) -> Vec<String> {
        Config::names(self).into_iter().map(str::to_owned).collect()
    }
}

/// Resolves a remote spec as the user typed it (a local path, a URL, or `name:path`) to
/// what opens its backend.
pub fn resolve(spec: &str, config: &Config) -> Result<Resolved, Error> {
    remote::resolve_with(spec, config, cfg!(windows))
}
