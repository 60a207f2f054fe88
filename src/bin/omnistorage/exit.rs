//! rclone's exit codes, from errors and reports.

use omnistorage::sync::Report;
use omnistorage::{Error, ErrorKind};

/// 0: success.
pub const OK: u8 = 0;
/// 1: syntax or usage error, or an error not otherwise categorised.
pub const USAGE: u8 = 1;
/// 3: directory not found.
pub const DIR_NOT_FOUND: u8 = 3;
/// 4: file not found.
pub const FILE_NOT_FOUND: u8 = 4;
/// 5: temporary error (one that more retries might fix).
pub const TEMPORARY: u8 = 5;
/// 7: fatal error (one that more retries won't fix, like `--max-delete` reached).
pub const FATAL: u8 = 7;
/// 8: transfer limit exceeded (`--max-transfer`).
pub const TRANSFER_LIMIT: u8 = 8;
/// 9: no files transferred, with `--error-on-no-transfer`.
pub const NO_TRANSFER: u8 = 9;
/// 130: stopped by Ctrl-C (128 + SIGINT), as shells report it.
pub const INTERRUPTED: u8 = 130;

/// The exit code of an error that stopped a command. `object` says whether the command
/// was about one object (a missing one is 4) or a tree (3).
pub fn of_error(e: &Error, object: bool) -> u8 {
    match e.kind() {
        ErrorKind::NotFound if object => FILE_NOT_FOUND,
        ErrorKind::NotFound => DIR_NOT_FOUND,
        ErrorKind::NotADirectory => DIR_NOT_FOUND,
        ErrorKind::InvalidConfig | ErrorKind::InvalidInput | ErrorKind::InvalidPath => USAGE,
        ErrorKind::LimitExceeded if e.operation() == Some("max_transfer") => TRANSFER_LIMIT,
        ErrorKind::LimitExceeded => FATAL,
        ErrorKind::Cancelled => INTERRUPTED,
        // A store that stopped answering (the S3 backend's endpoint_down_after): temporary.
        ErrorKind::Unavailable => TEMPORARY,
        _ if e.is_temporary() => TEMPORARY,
        _ => USAGE,
    }
}

/// The exit code of a finished run.
pub fn of_report(r: &Report, error_on_no_transfer: bool) -> u8 {
    if let Some(e) = &r.stopped {
        return of_error(e, false);
    }
    if !r.failures.is_empty() {
        return if r.failures.iter().all(|f| f.error.is_temporary()) {
            TEMPORARY
        } else {
            USAGE
        };
    }
    if error_on_no_transfer && !r.changed_anything() {
        return NO_TRANSFER;
    }
    OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unavailable_store_is_a_temporary_error() {
        let e = Error::from_kind(ErrorKind::Unavailable);
        assert_eq!(of_error(&e, false), TEMPORARY);
        assert_eq!(of_error(&e, true), TEMPORARY);
        let mut r = Report::default();
        r.stopped = Some(e);
        assert_eq!(of_report(&r, false), TEMPORARY);
    }
}
