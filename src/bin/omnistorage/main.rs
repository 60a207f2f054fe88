//! `omnistorage`: rclone's verbs and flags over every backend of the crate.
//!
//! ```text
//! omnistorage [FLAGS] COMMAND [FLAGS] ARGS...
//! omnistorage sync ./photos s3://bucket/photos?endpoint=... -P
//! ```
//!
//! Remotes are local paths or URLs (`s3://`, `sftp://`, `mem://`, `file://`). Exit codes are
//! rclone's (see `exit.rs`). Errors are one line on stderr, never a backtrace.

mod args;
mod commands;
mod config;
mod exit;
mod flags;
mod output;
mod remote;
mod signals;

use std::process::ExitCode;

use args::{Args, Usage};

/// What a command ends with: an exit code, or an error to print (with the code it means).
pub enum Outcome {
    Code(u8),
    Failed(omnistorage::Error, bool),
}

impl From<omnistorage::Result<u8>> for Outcome {
    fn from(r: omnistorage::Result<u8>) -> Outcome {
        match r {
            Ok(code) => Outcome::Code(code),
            Err(e) => Outcome::Failed(e, false),
        }
    }
}

fn main() -> ExitCode {
    let args = match args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(Usage(msg)) => return ExitCode::from(usage_error(&msg)),
    };
    ExitCode::from(run(&args))
}

/// A usage error: one line, a pointer to the help, exit code 1.
fn usage_error(msg: &str) -> u8 {
    eprintln!("Error: {msg}");
    eprintln!("Run 'omnistorage help' for usage.");
    exit::USAGE
}

fn run(args: &Args) -> u8 {
    let Some(name) = args.command.as_deref() else {
        print!("{}", commands::help::usage());
        return exit::USAGE;
    };
    let command = commands::find(name);
    if args.on("help") {
        match command {
            Some(c) => print!("{}", commands::help::command(c)),
            None => print!("{}", commands::help::usage()),
        }
        return exit::OK;
    }
    let checked = match command {
        Some(c) => commands::check_flags(c, args).map(|()| c),
        None => Err(Usage(format!("unknown command {name:?}"))),
    };
    let command = match checked {
        Ok(c) => c,
        Err(Usage(msg)) => return usage_error(&msg),
    };
    let out = match output_from(args) {
        Ok(out) => out,
        Err(e) => {
            eprintln!("Error: {e}");
            return exit::USAGE;
        }
    };
    // rclone's first debug line, so that -vv says something on every command.
    let argv: Vec<String> = std::env::args().map(|a| format!("{a:?}")).collect();
    out.debug(
        Some("omnistorage"),
        &format!(
            "Version {:?} starting with parameters [{}]",
            env!("CARGO_PKG_VERSION"),
            argv.join(" ")
        ),
    );
    remote::set_config_path(args.value("config").map(std::path::PathBuf::from));
    let cancel = omnistorage::Cancel::new();
    let _signals = signals::install(&cancel);
    let outcome = match commands::dispatch(command, args, &cancel, &out) {
        Ok(outcome) => outcome,
        Err(Usage(msg)) => return usage_error(&msg),
    };
    match outcome {
        Outcome::Code(code) => code,
        // Output piped into `head` that stopped reading: not an error of ours.
        Outcome::Failed(e, _) if e.io_kind() == std::io::ErrorKind::BrokenPipe => exit::OK,
        Outcome::Failed(e, object) => {
            // One line: the error's own description carries its operation and path.
            out.error(None, &e.to_string());
            exit::of_error(&e, object)
        }
    }
}

/// The output the flags ask for (`-q`, `-v`, `--use-json-log`, `--log-file`, `-P`,
/// `--stats`).
fn output_from(args: &Args) -> Result<output::Output, omnistorage::Error> {
    let stats = Some(flags::duration(args, "stats")?.unwrap_or(std::time::Duration::from_secs(60)));
    let verbose = u8::try_from(args.count("verbose")).unwrap_or(u8::MAX);
    let cfg = output::OutputConfig {
        level: output::Level::from_flags(args.on("quiet"), verbose),
        json: args.on("use-json-log"),
        log_file: args.value("log-file").map(std::path::PathBuf::from),
        progress: args.on("progress"),
        stats,
        ..output::OutputConfig::default()
    };
    output::Output::new(cfg)
        .map_err(|e| omnistorage::Error::from(e).with_message("--log-file: cannot open it"))
}
