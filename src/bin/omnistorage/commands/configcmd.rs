//! `omnistorage config` (the wizard, on a terminal) and `config list | show NAME | create
//! NAME TYPE key=value... | delete NAME | path`.

use omnistorage::{Error, ErrorKind};

use super::Call;
use crate::args::Usage;
use crate::config::{Config, Source};
use crate::{Outcome, exit, remote};

/// What `help config` says beyond the usage line.
pub const DETAILS: &str = "\
Named remotes live in ~/.config/omnistorage/config.toml (or --config FILE,
$OMNISTORAGE_CONFIG), else rclone's rclone.conf is read unchanged; use them as NAME:path.

With no arguments, on a terminal: the interactive wizard, as rclone's. It lists the remotes
and offers e) edit, n) new, d) delete, r) rename, c) copy, q) quit. A new remote is a name, a
type and that type's options (its builder's list), each with its help and
default (the advanced ones only after \"Edit advanced config?\"); each answer is checked as
it is typed. Secrets (secret_access_key, password, passphrase, ...) are not echoed and are
typed twice. Editing keeps a value on Enter. Each change is saved at once. Ctrl-C or Ctrl-D
stops the wizard (what it saved stays). Without a terminal it exits 1: script it with

  config create NAME TYPE key=value...   e.g. config create box sftp host=h user=me
  config delete NAME | list | show NAME (secrets as ***) | path";

pub fn run(call: &Call<'_>) -> Result<Outcome, Usage> {
    let args = call.args;
    let sub = args.rest.first().map(String::as_str).unwrap_or("");
    let rest = args.rest.get(1..).unwrap_or(&[]);
    let done = |r: Result<(), Error>| match r {
        Ok(()) => Outcome::Code(exit::OK),
        Err(e) => Outcome::Failed(e, false),
    };
    Ok(match (sub, rest) {
        ("", []) => {
            if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                return Err(Usage(
                    "config without arguments is the interactive wizard, which needs a \
                     terminal (standard input is not one); script it with config \
                     create|delete|list|show|path"
                        .into(),
                ));
            }
            done(editable().and_then(|c| wizard(c, call.cancel)))
        }
        ("path", []) => done(remote::config().map(|c| match c.path() {
            Source::Ours(p) | Source::Rclone(p) => println!("{}", p.display()),
            Source::None => println!("(no config file: no home directory)"),
        })),
        ("list", []) => done(remote::config().map(|c| {
            let mut names = c.names();
            names.sort_unstable();
            for name in names {
                println!("{name}:");
            }
        })),
        ("show", [name]) => done(remote::config().and_then(|c| {
            let pairs = c.show(name)?;
            println!("[{name}]");
            for (k, v) in pairs {
                println!("{k} = {v}");
            }
            Ok(())
        })),
        ("create", [name, kind, pairs @ ..]) => {
            let mut kv = Vec::new();
            for p in pairs {
                let Some((k, v)) = p.split_once('=') else {
                    return Err(Usage(format!("config create: {p:?} is not key=value")));
                };
                kv.push((k.to_owned(), v.to_owned()));
            }
            done(editable().and_then(|mut c| {
                c.create(name, kind, &kv)?;
                c.save()
            }))
        }
        ("delete", [name]) => done(editable().and_then(|mut c| {
            c.delete(name)?;
            c.save()
        })),
        _ => {
            return Err(Usage(
                "config: (nothing: the wizard) | list | show NAME | create NAME TYPE key=value... \
                 | delete NAME | path"
                    .into(),
            ));
        }
    })
}

/// The interactive wizard (Linux: it needs termios to read secrets without echo).
#[cfg(target_os = "linux")]
fn wizard(config: Config, cancel: &omnistorage::Cancel) -> Result<(), Error> {
    crate::config::wizard::run(config, cancel)
}

#[cfg(not(target_os = "linux"))]
fn wizard(_: Config, _: &omnistorage::Cancel) -> Result<(), Error> {
    Err(Error::new(
        ErrorKind::Unsupported,
        "the config wizard runs on Linux only; use config create NAME TYPE key=value...",
    ))
}

/// A config to change: loaded afresh (the shared one is read-only).
fn editable() -> Result<Config, Error> {
    let loaded = remote::config()?;
    match loaded.path() {
        Source::Ours(p) => Config::load(Some(p)),
        Source::Rclone(p) => Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "{} is rclone's config: omnistorage reads it and never rewrites it; give \
                 --config with a .toml file to keep remotes of its own",
                p.display()
            ),
        )),
        Source::None => Err(Error::new(
            ErrorKind::InvalidConfig,
            "no config file location (no home directory): give --config FILE",
        )),
    }
}
