//! The commands, by rclone's names.

mod completion;
mod configcmd;
pub mod help;
mod list;
mod objects;
mod transfer;

use omnistorage::Cancel;

use crate::Outcome;
use crate::args::{Args, Usage};
use crate::output::Output;

/// Checks the number of arguments.
pub fn arity(args: &Args, command: &str, min: usize, max: usize, shape: &str) -> Result<(), Usage> {
    let n = args.rest.len();
    if n < min || n > max {
        return Err(Usage(format!(
            "{command}: expected {shape}, got {n} argument(s)"
        )));
    }
    Ok(())
}

/// Runs `command`.
pub fn dispatch(
    command: &str,
    args: &Args,
    cancel: &Cancel,
    out: &Output,
) -> Result<Outcome, Usage> {
    Ok(match command {
        "version" => {
            println!("omnistorage v{}", env!("CARGO_PKG_VERSION"));
            println!("- features: sync, s3, sftp (the file and memory backends are built in)");
            Outcome::Code(crate::exit::OK)
        }
        "help" => {
            match args.rest.first().map(String::as_str) {
                Some("flags") => print!("{}", help::flags()),
                _ => print!("{}", help::USAGE),
            }
            Outcome::Code(crate::exit::OK)
        }
        "sync" | "copy" | "move" | "check" | "cryptcheck" | "verify" | "copyto" | "moveto"
        | "dedupe" | "bisync" => transfer::run(command, args, cancel, out)?,
        "ls" | "lsl" | "lsd" | "lsf" | "lsjson" | "size" | "tree" => {
            list::run(command, args, cancel)?
        }
        "cat" | "rcat" | "delete" | "deletefile" | "purge" | "mkdir" | "rmdir" | "rmdirs"
        | "touch" | "md5sum" | "sha1sum" | "sha256sum" | "hashsum" | "link" | "cleanup"
        | "about" => objects::run(command, args, cancel)?,
        "config" => configcmd::run(args)?,
        "completion" => match args.rest.first().and_then(|s| completion::script(s)) {
            Some(script) => {
                print!("{script}");
                Outcome::Code(crate::exit::OK)
            }
            None => return Err(Usage("completion: give one of bash, zsh, fish".into())),
        },
        other => return Err(Usage(format!("unknown command {other:?}"))),
    })
}
