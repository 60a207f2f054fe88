//! The command line: rclone's shape (`omnistorage [flags] COMMAND [flags] ARGS...`, flags
//! anywhere, `--flag value` or `--flag=value`, `--` ends flags), parsed by hand — no
//! argument-parsing crate, for the binary's size and start-up time.

use std::fmt;

/// A usage error: printed as one line, exit code 1 (rclone's for syntax errors).
#[derive(Debug, PartialEq, Eq)]
pub struct Usage(pub String);

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a flag takes its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `--flag` alone (or `--flag=true|false`).
    Switch,
    /// `--flag VALUE` or `--flag=VALUE`.
    Value,
    /// `--flag VALUE`, repeatable (filters).
    Many,
    /// `-v` counts (`-vv`).
    Count,
}

/// One flag rclone users know: long name, short letter, kind, one line of help.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub long: &'static str,
    pub short: Option<char>,
    pub kind: Kind,
    pub help: &'static str,
}

pub const fn flag(long: &'static str, kind: Kind, help: &'static str) -> Spec {
    Spec {
        long,
        short: None,
        kind,
        help,
    }
}

pub const fn short(long: &'static str, c: char, kind: Kind, help: &'static str) -> Spec {
    Spec {
        long,
        short: Some(c),
        kind,
        help,
    }
}

/// The global flags, rclone's names: every command takes them (as rclone's global flags,
/// they are accepted where they mean nothing). A command's own flags are in its entry of
/// the command table (`commands::table`).
pub const GLOBAL: &[Spec] = &[
    short(
        "dry-run",
        'n',
        Kind::Switch,
        "do a trial run with no permanent changes",
    ),
    short(
        "checksum",
        'c',
        Kind::Switch,
        "compare by size and hash, not modification time",
    ),
    flag("size-only", Kind::Switch, "compare by size only"),
    flag(
        "ignore-times",
        Kind::Switch,
        "transfer every file, unconditionally",
    ),
    flag("ignore-size", Kind::Switch, "ignore size when comparing"),
    flag(
        "ignore-existing",
        Kind::Switch,
        "skip files that exist at the destination",
    ),
    short(
        "update",
        'u',
        Kind::Switch,
        "skip files that are newer at the destination",
    ),
    flag(
        "modify-window",
        Kind::Value,
        "max time difference to be considered equal (e.g. 2s)",
    ),
    flag(
        "transfers",
        Kind::Value,
        "number of file transfers to run in parallel (4)",
    ),
    flag(
        "checkers",
        Kind::Value,
        "number of checkers to run in parallel (8)",
    ),
    flag(
        "bwlimit",
        Kind::Value,
        "bandwidth limit in KiB/s, or with a suffix B|K|M|G|T|P",
    ),
    flag(
        "retries",
        Kind::Value,
        "retry operations this many times if they fail (3)",
    ),
    flag(
        "low-level-retries",
        Kind::Value,
        "number of low level retries to do (10)",
    ),
    flag(
        "max-delete",
        Kind::Value,
        "don't delete more than this many files",
    ),
    flag(
        "max-transfer",
        Kind::Value,
        "stop after transferring this much (size suffixes)",
    ),
    flag("max-errors", Kind::Value, "stop after this many errors"),
    flag(
        "backup-dir",
        Kind::Value,
        "make backups into this directory (same remote)",
    ),
    flag("suffix", Kind::Value, "suffix to add to changed files"),
    flag(
        "delete-before",
        Kind::Switch,
        "delete extraneous files before transferring",
    ),
    flag(
        "delete-during",
        Kind::Switch,
        "delete extraneous files during the transfer",
    ),
    flag(
        "delete-after",
        Kind::Switch,
        "delete extraneous files after transferring (default)",
    ),
    flag(
        "delete-excluded",
        Kind::Switch,
        "delete files on the destination excluded from sync",
    ),
    flag("metadata", Kind::Switch, "copy user metadata too"),
    flag("include", Kind::Many, "include files matching the pattern"),
    flag("exclude", Kind::Many, "exclude files matching the pattern"),
    flag(
        "filter",
        Kind::Many,
        "add a file-filtering rule (+ pattern / - pattern)",
    ),
    flag(
        "include-from",
        Kind::Many,
        "read include patterns from a file",
    ),
    flag(
        "exclude-from",
        Kind::Many,
        "read exclude patterns from a file",
    ),
    flag(
        "filter-from",
        Kind::Many,
        "read filtering rules from a file",
    ),
    flag(
        "files-from",
        Kind::Many,
        "read the list of source file names from a file",
    ),
    flag(
        "min-size",
        Kind::Value,
        "only transfer files bigger than this",
    ),
    flag(
        "max-size",
        Kind::Value,
        "only transfer files smaller than this",
    ),
    flag(
        "min-age",
        Kind::Value,
        "only transfer files older than this (e.g. 1d)",
    ),
    flag(
        "max-age",
        Kind::Value,
        "only transfer files younger than this",
    ),
    flag("ignore-case", Kind::Switch, "ignore case in filters"),
    short(
        "progress",
        'P',
        Kind::Switch,
        "show progress during the transfer",
    ),
    flag(
        "stats",
        Kind::Value,
        "interval between printing stats (e.g. 1m; 0 disables)",
    ),
    flag("use-json-log", Kind::Switch, "log as JSON lines"),
    flag("log-file", Kind::Value, "log to this file"),
    short("verbose", 'v', Kind::Count, "print more (-vv for debug)"),
    short("quiet", 'q', Kind::Switch, "print as little as possible"),
    flag(
        "error-on-no-transfer",
        Kind::Switch,
        "exit with 9 if no files were transferred",
    ),
    flag(
        "no-hash-cache",
        Kind::Switch,
        "do not read or write the hash cache",
    ),
    flag(
        "hash-cache-dir",
        Kind::Value,
        "where the hash cache is kept",
    ),
    flag(
        "no-upload-journal",
        Kind::Switch,
        "do not record S3 uploads to resume them after a kill",
    ),
    flag("config", Kind::Value, "the config file"),
    short("help", 'h', Kind::Switch, "show help"),
];

/// The parsed command line.
#[derive(Debug, Default)]
pub struct Args {
    /// The command (first positional).
    pub command: Option<String>,
    /// The other positionals.
    pub rest: Vec<String>,
    /// Flags by long name, in the order given (values as given; switches as "true").
    pub flags: Vec<(&'static str, String)>,
}

impl Args {
    /// The last value of a flag.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable flag, in order.
    pub fn values(&self, name: &str) -> Vec<&str> {
        self.flags
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether a switch is on.
    pub fn on(&self, name: &str) -> bool {
        self.value(name).is_some_and(|v| v != "false")
    }

    /// How often a counted flag was given.
    pub fn count(&self, name: &str) -> usize {
        self.flags.iter().filter(|(n, _)| *n == name).count()
    }
}

/// Every flag the parser knows: the global ones, then each command's own.
pub fn every_flag() -> impl Iterator<Item = &'static Spec> {
    GLOBAL
        .iter()
        .chain(crate::commands::COMMANDS.iter().flat_map(|c| c.flags))
}

/// The flags a flag is looked up in: the command's own first (two commands may give one name
/// different kinds: `lsf --hash MD5`, `lsjson --hash`), then every flag.
fn specs(command: Option<&str>) -> impl Iterator<Item = &'static Spec> {
    let own = command
        .and_then(crate::commands::find)
        .map_or(&[][..], |c| c.flags);
    own.iter().chain(every_flag())
}

pub(crate) fn spec_long(name: &str, command: Option<&str>) -> Option<&'static Spec> {
    specs(command).find(|s| s.long == name)
}

fn spec_short(c: char, command: Option<&str>) -> Option<&'static Spec> {
    specs(command).find(|s| s.short == Some(c))
}

/// Whether `name` is a global flag.
pub fn is_global(name: &str) -> bool {
    GLOBAL.iter().any(|s| s.long == name)
}

/// Parses `argv` (without the program name).
pub fn parse(argv: impl IntoIterator<Item = String>) -> Result<Args, Usage> {
    let mut args = Args::default();
    let mut it = argv.into_iter();
    let mut only_positionals = false;
    while let Some(arg) = it.next() {
        if only_positionals || arg == "-" || !arg.starts_with('-') {
            if args.command.is_none() {
                args.command = Some(arg);
            } else {
                args.rest.push(arg);
            }
            continue;
        }
        if arg == "--" {
            only_positionals = true;
            continue;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (long, None),
            };
            let spec = spec_long(name, args.command.as_deref())
                .ok_or_else(|| Usage(format!("unknown flag: --{name}")))?;
            take(&mut args, spec, inline, &mut it, &format!("--{name}"))?;
            continue;
        }
        // Short flags, possibly grouped (`-vv`, `-nP`), the last one may take a value.
        let shorts: Vec<char> = arg.chars().skip(1).collect();
        for (i, c) in shorts.iter().enumerate() {
            let spec = spec_short(*c, args.command.as_deref())
                .ok_or_else(|| Usage(format!("unknown shorthand flag: -{c}")))?;
            let last = i + 1 == shorts.len();
            if spec.kind == Kind::Value || spec.kind == Kind::Many {
                if !last {
                    let rest: String = shorts[i + 1..].iter().collect();
                    take(&mut args, spec, Some(rest), &mut it, &format!("-{c}"))?;
                    break;
                }
                take(&mut args, spec, None, &mut it, &format!("-{c}"))?;
            } else {
                take(&mut args, spec, None, &mut it, &format!("-{c}"))?;
            }
        }
    }
    Ok(args)
}

fn take(
    args: &mut Args,
    spec: &'static Spec,
    inline: Option<String>,
    it: &mut impl Iterator<Item = String>,
    shown: &str,
) -> Result<(), Usage> {
    let value = match (spec.kind, inline) {
        (Kind::Switch | Kind::Count, Some(v)) => match v.as_str() {
            "true" | "false" => v,
            _ => return Err(Usage(format!("invalid boolean {v:?} for {shown}"))),
        },
        (Kind::Switch | Kind::Count, None) => "true".to_owned(),
        (Kind::Value | Kind::Many, Some(v)) => v,
        (Kind::Value | Kind::Many, None) => it
            .next()
            .ok_or_else(|| Usage(format!("flag needs an argument: {shown}")))?,
    };
    args.flags.push((spec.long, value));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Result<Args, Usage> {
        parse(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn flags_go_anywhere_in_both_forms() {
        let a = p("--transfers 8 sync src -n dst --bwlimit=1M").unwrap();
        assert_eq!(a.command.as_deref(), Some("sync"));
        assert_eq!(a.rest, ["src", "dst"]);
        assert_eq!(a.value("transfers"), Some("8"));
        assert_eq!(a.value("bwlimit"), Some("1M"));
        assert!(a.on("dry-run"));
    }

    #[test]
    fn grouped_shorts_and_counts() {
        let a = p("-vvP ls x").unwrap();
        assert_eq!(a.count("verbose"), 2);
        assert!(a.on("progress"));
    }

    #[test]
    fn repeatable_flags_keep_their_order() {
        let a = p("sync a b --exclude *.tmp --include x --exclude y").unwrap();
        assert_eq!(a.values("exclude"), ["*.tmp", "y"]);
    }

    #[test]
    fn unknown_and_incomplete_flags_are_usage_errors() {
        assert_eq!(
            p("sync --nope a b").unwrap_err(),
            Usage("unknown flag: --nope".into())
        );
        assert_eq!(
            p("-Z ls").unwrap_err(),
            Usage("unknown shorthand flag: -Z".into())
        );
        assert_eq!(
            p("sync a b --transfers").unwrap_err(),
            Usage("flag needs an argument: --transfers".into())
        );
        assert!(p("--dry-run=maybe sync").is_err());
    }

    #[test]
    fn double_dash_ends_flags() {
        let a = p("cat -- -weird-name").unwrap();
        assert_eq!(a.rest, ["-weird-name"]);
    }

    #[test]
    fn switch_false_turns_it_off() {
        assert!(!p("--dry-run=false sync").unwrap().on("dry-run"));
    }
}
