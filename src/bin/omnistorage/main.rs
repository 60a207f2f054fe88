//! `omnistorage`: rclone's verbs and flags over every backend of the crate.
//!
//! Work in progress (issue 14).

use std::process::ExitCode;

// The commands use it as they land (issue 14).
#[allow(dead_code)]
mod config;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("version") | Some("--version") => {
            println!("omnistorage {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: omnistorage version");
            ExitCode::from(1)
        }
    }
}
