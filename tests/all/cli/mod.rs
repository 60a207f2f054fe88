//! The `omnistorage` binary, end to end: it is run as a user runs it, and its output, exit
//! codes and the resulting trees are checked.

mod aws_env;
mod basics;
mod config;
mod listing;
mod logging;
mod parity;
#[cfg(any(feature = "s3", feature = "sftp"))]
mod remote;
#[cfg(unix)]
mod signals;
mod table;
#[cfg(unix)]
mod transfers;
#[cfg(target_os = "linux")]
mod wizard;

use std::path::Path as FsPath;
use std::process::{Command, Output, Stdio};

/// The binary with `args`, its home, cache and config under `home` (none of the user's).
pub(crate) fn command<S: AsRef<std::ffi::OsStr>>(args: &[S], home: &FsPath) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_omnistorage"));
    cmd.args(args)
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env_remove("OMNISTORAGE_CONFIG")
        .env_remove("RCLONE_CONFIG");
    cmd
}

/// Runs the binary with `args` (and `stdin`), without any config or cache of the user's.
pub(crate) fn run(args: &[&str], stdin: Option<&[u8]>, home: &FsPath) -> Output {
    let mut cmd = command(args, home);
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the binary runs");
    if let Some(data) = stdin
        && let Some(mut input) = child.stdin.take()
    {
        std::io::Write::write_all(&mut input, data).expect("stdin");
    }
    child.wait_with_output().expect("the binary ends")
}

pub(crate) fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
