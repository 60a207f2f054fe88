//! `help`, `help COMMAND`, `help flags` and `COMMAND --help`: made from the command table and
//! the parser's flags, so they list what exists.

use super::{COMMANDS, Call, Command};
use crate::Outcome;
use crate::args::{GLOBAL, Kind, Spec, Usage};

const HEAD: &str = "\
omnistorage: rclone's verbs over every storage backend, in one small binary.

Usage: omnistorage [flags] <command> [flags] <args>

Remotes: a local path, or a URL: s3://bucket/prefix?endpoint=..., sftp://user@host/path,
mem://, file:///abs; or NAME:path for a named remote (omnistorage help config).

Commands:
";

const TAIL: &str = "
Flags: rclone's names. 'omnistorage help COMMAND' shows a command's own flags,
'omnistorage help flags' every flag.

Exit codes: 0 ok, 1 usage or error, 3 directory not found, 4 file not found, 5 temporary
error, 7 fatal (e.g. --max-delete), 8 --max-transfer reached, 9 nothing transferred
(--error-on-no-transfer), 130 interrupted.
";

/// The width of the left column (names and arguments).
const LEFT: usize = 20;

/// `omnistorage help`: every command of the table, one line each.
pub fn usage() -> String {
    let mut out = String::from(HEAD);
    for c in COMMANDS {
        let mut left = c.name.to_owned();
        for a in c.aliases {
            left.push('/');
            left.push_str(a);
        }
        if !c.usage.is_empty() {
            left.push(' ');
            left.push_str(c.usage);
        }
        if left.len() < LEFT {
            out.push_str(&format!("  {left:<LEFT$}{}\n", c.summary));
        } else {
            out.push_str(&format!("  {left}\n  {:LEFT$}{}\n", "", c.summary));
        }
    }
    out.push_str(TAIL);
    out
}

/// One line per flag: `  -c, --checksum        what it does`.
fn flag_lines(specs: &[Spec]) -> String {
    let mut out = String::new();
    for f in specs {
        let short = f.short.map(|c| format!("-{c}, ")).unwrap_or_default();
        let value = match f.kind {
            Kind::Value | Kind::Many => " VALUE",
            Kind::Switch | Kind::Count => "",
        };
        let name = format!("{short}--{}{value}", f.long);
        out.push_str(&format!("  {name:<28} {}\n", f.help));
    }
    out
}

/// `omnistorage help COMMAND` (and `COMMAND --help`).
pub fn command(c: &Command) -> String {
    let mut out = format!("Usage: omnistorage {} [flags] {}\n\n", c.name, c.usage);
    out.push_str(c.summary);
    out.push('\n');
    if !c.aliases.is_empty() {
        out.push_str(&format!("\nAliases: {}\n", c.aliases.join(", ")));
    }
    if !c.details.is_empty() {
        out.push('\n');
        out.push_str(c.details);
        out.push('\n');
    }
    if !c.flags.is_empty() {
        out.push_str("\nFlags:\n");
        out.push_str(&flag_lines(c.flags));
    }
    out.push_str("\nGlobal flags: 'omnistorage help flags' lists them.\n");
    out
}

/// `omnistorage help flags`: the global flags, then each command's own.
pub fn flags() -> String {
    let mut out = String::from("Global flags (every command takes them):\n");
    out.push_str(&flag_lines(GLOBAL));
    for c in COMMANDS.iter().filter(|c| !c.flags.is_empty()) {
        out.push_str(&format!("\nFlags of {}:\n", c.name));
        out.push_str(&flag_lines(c.flags));
    }
    out
}

/// `omnistorage help [COMMAND|flags]`.
pub fn run(c: &Call<'_>) -> Result<Outcome, Usage> {
    let text = match c.args.rest.as_slice() {
        [] => usage(),
        [topic] if topic == "flags" => flags(),
        [name] => match super::find(name) {
            Some(command) => self::command(command),
            None => return Err(Usage(format!("help: unknown command {name:?}"))),
        },
        _ => return Err(Usage("help: expected [COMMAND|flags]".into())),
    };
    print!("{text}");
    Ok(Outcome::Code(crate::exit::OK))
}
