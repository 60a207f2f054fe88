//! The commands, by rclone's names: one table (`table.rs`) from which dispatch, help, flag
//! validation and the shell completions are made.

mod about;
mod completion;
mod configcmd;
pub mod help;
mod list;
mod objects;
mod table;
#[cfg(test)]
mod tests;
mod transfer;
mod walk;

use omnistorage::{Cancel, Error};

pub use table::COMMANDS;

use crate::Outcome;
use crate::args::{Args, Spec, Usage};
use crate::output::Output;

/// One command: its names, its arguments, what it does, the flags it takes beyond the
/// global ones, and the function that runs it.
pub struct Command {
    /// The name it is called by (rclone's).
    pub name: &'static str,
    /// Other names for it.
    pub aliases: &'static [&'static str],
    /// Its arguments, as `help` shows them (`SRC DST`).
    pub usage: &'static str,
    /// How many arguments it takes, at least and at most.
    pub args: (usize, usize),
    /// One line for `help`.
    pub summary: &'static str,
    /// More for `help COMMAND` (empty: nothing more).
    pub details: &'static str,
    /// The flags it takes beyond the global ones (`args::GLOBAL`).
    pub flags: &'static [Spec],
    /// Runs it (the arguments counted already).
    pub run: fn(&Call<'_>) -> Result<Outcome, Usage>,
}

impl Command {
    /// Its name and aliases.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }

    /// Whether it takes the flag `long` (its own, or a global one).
    pub fn takes(&self, long: &str) -> bool {
        crate::args::is_global(long) || self.flags.iter().any(|f| f.long == long)
    }
}

/// What a command is run with.
pub struct Call<'a> {
    /// The command's name (its own, also when called by an alias).
    pub name: &'static str,
    pub args: &'a Args,
    pub cancel: &'a Cancel,
    pub out: &'a Output,
}

/// The command called `name` (or aliased so).
pub fn find(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.names().any(|n| n == name))
}

/// Checks that `command` takes every flag given: a flag of another command is an error
/// naming the flag and the command, as rclone's.
pub fn check_flags(command: &Command, args: &Args) -> Result<(), Usage> {
    for (long, _) in &args.flags {
        if command.takes(long) {
            continue;
        }
        let owners: Vec<&str> = COMMANDS
            .iter()
            .filter(|c| c.flags.iter().any(|f| f.long == *long))
            .map(|c| c.name)
            .collect();
        let short = crate::args::every_flag()
            .find(|f| f.long == *long)
            .and_then(|f| f.short)
            .map(|c| format!(" (-{c})"))
            .unwrap_or_default();
        return Err(Usage(format!(
            "unknown flag --{long}{short} for command {:?} (a flag of {}; 'omnistorage help {}' \
             lists its flags)",
            command.name,
            owners.join(", "),
            command.name
        )));
    }
    Ok(())
}

/// Checks the number of arguments.
fn arity(args: &Args, command: &Command) -> Result<(), Usage> {
    let n = args.rest.len();
    let (min, max) = command.args;
    if n < min || n > max {
        let name = command.name;
        let shape = command.usage;
        return Err(Usage(format!(
            "{name}: expected {shape}, got {n} argument(s)"
        )));
    }
    Ok(())
}

/// Runs `command` (its flags checked already, by `check_flags`).
pub fn dispatch(
    command: &Command,
    args: &Args,
    cancel: &Cancel,
    out: &Output,
) -> Result<Outcome, Usage> {
    arity(args, command)?;
    (command.run)(&Call {
        name: command.name,
        args,
        cancel,
        out,
    })
}

/// The end of a command on one object: a missing one is "file not found" (exit 4).
fn on_object(r: Result<u8, Error>) -> Result<Outcome, Usage> {
    Ok(match r {
        Ok(code) => Outcome::Code(code),
        Err(e) => Outcome::Failed(e, true),
    })
}

/// The end of a command that rclone ends with a plain failure (exit 1) when what it names
/// is missing (`deletefile`, `move`, `moveto`, `rmdirs`), where others say 3 or 4.
fn missing_fails(out: &Output, r: Result<Outcome, Usage>) -> Result<Outcome, Usage> {
    match r {
        Ok(Outcome::Failed(e, _)) if e.kind() == omnistorage::ErrorKind::NotFound => {
            out.error(None, &e.to_string());
            Ok(Outcome::Code(crate::exit::USAGE))
        }
        other => other,
    }
}

/// The end of a command on a tree: a missing one is "directory not found" (exit 3).
fn on_tree(r: Result<u8, Error>) -> Result<Outcome, Usage> {
    Ok(Outcome::from(r))
}
