//! Every libssh2 and SFTP error mapped to this crate's [`ErrorKind`], in one table.
//!
//! Each code gets a kind, whether trying again may help (`temporary`), and whether the
//! session it came from is gone (`dead`: the pool replaces it). The table is tested below,
//! and the mapping is the only place that reads an `ssh2::Error`'s code.

use ssh2::ErrorCode;

use super::NAME;
use crate::error::{Error, ErrorKind};

/// What an error means to the backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Class {
    pub(crate) kind: ErrorKind,
    /// Trying again (on a fresh session, if `dead`) may succeed.
    pub(crate) temporary: bool,
    /// The session is unusable: drop it from the pool.
    pub(crate) dead: bool,
}

const fn class(kind: ErrorKind, temporary: bool, dead: bool) -> Class {
    Class {
        kind,
        temporary,
        dead,
    }
}

/// The connection broke: temporary, and the session is gone.
const LOST: Class = class(ErrorKind::Io, true, true);
/// The session is in a state nothing can fix (a protocol or crypto failure): gone, and
/// trying again on a fresh one may help.
const BROKEN: Class = class(ErrorKind::Io, true, true);

/// libssh2's session errors (`LIBSSH2_ERROR_*`).
fn session(code: i32) -> Class {
    match code {
        // The socket: the peer went away, or the network did.
        -1 | -7 | -13 | -43 | -45 => LOST,
        // Banner, key exchange and transport crypto: the session never was, or is no more.
        -2 | -3 | -4 | -5 | -8 | -12 | -14 | -44 | -52 => BROKEN,
        // The session's timeout (`SftpBuilder::timeout`) passed while waiting.
        -9 | -30 => class(ErrorKind::TimedOut, true, true),
        // Authentication.
        -18 | -19 | -48 => class(ErrorKind::Unauthenticated, false, false),
        -15 => class(ErrorKind::Unauthenticated, false, false), // password expired
        -17 | -33 | -51 => class(ErrorKind::Unsupported, false, false),
        // A key file that cannot be read or parsed (or a wrong passphrase for it).
        -16 => class(ErrorKind::InvalidConfig, false, false),
        -10 | -11 | -46 => class(ErrorKind::PermissionDenied, false, false), // host key
        -42 | -36 => class(ErrorKind::Unauthenticated, false, false),        // agent
        // Channels closed under us: the session may live, but this channel is done.
        -26..=-20 | -27 | -47 => class(ErrorKind::Io, true, true),
        -31 => BROKEN, // SFTP protocol error: the subsystem's stream is out of step
        -32 => class(ErrorKind::PermissionDenied, false, false),
        -37 => class(ErrorKind::TimedOut, true, true), // EAGAIN in a blocking session
        -6 | -38 | -55 => class(ErrorKind::Other, false, false),
        -34 | -35 | -39 | -41 => class(ErrorKind::InvalidInput, false, false),
        _ => class(ErrorKind::Other, false, true),
    }
}

/// SFTP status codes (`SSH_FX_*`; OpenSSH speaks version 3, which has 0 to 8).
fn sftp(code: i32) -> Class {
    match code {
        2 | 10 => class(ErrorKind::NotFound, false, false),
        3 | 12 => class(ErrorKind::PermissionDenied, false, false),
        // SSH_FX_FAILURE: v3's catch-all (a rename onto an existing file, a full disk, a
        // directory that is not empty, ...). The caller knows more and refines it.
        4 => class(ErrorKind::Io, false, false),
        5 => class(ErrorKind::InvalidInput, false, false),
        6 | 7 => LOST,
        8 => class(ErrorKind::Unsupported, false, false),
        9 => class(ErrorKind::Io, true, false), // a handle the server forgot
        11 => class(ErrorKind::AlreadyExists, false, false),
        13..=15 => class(ErrorKind::Io, false, false),
        16 => class(ErrorKind::Unauthenticated, false, false),
        17 => class(ErrorKind::Io, true, false),
        18 => class(ErrorKind::DirectoryNotEmpty, false, false),
        19 => class(ErrorKind::NotADirectory, false, false),
        20 => class(ErrorKind::InvalidPath, false, false),
        21 => class(ErrorKind::PermissionDenied, false, false),
        1 => class(ErrorKind::Corrupt, false, false), // EOF where data was due
        _ => class(ErrorKind::Other, false, false),
    }
}

/// The class of an `ssh2` error code.
pub(crate) fn classify(code: ErrorCode) -> Class {
    match code {
        ErrorCode::Session(c) => session(c),
        ErrorCode::SFTP(c) => sftp(c),
    }
}

/// Whether an `ssh2` error is SFTP status `status`.
pub(crate) fn is_status(e: &ssh2::Error, status: i32) -> bool {
    e.code() == ErrorCode::SFTP(status)
}

/// SFTP status codes the backend tests for.
pub(crate) const NO_SUCH_FILE: i32 = 2;
pub(crate) const FAILURE: i32 = 4;

/// Our error for an `ssh2` one: its kind from the table, libssh2's message as the source.
pub(crate) fn from_ssh(e: ssh2::Error) -> Error {
    let c = classify(e.code());
    let msg = match (c.kind, c.dead) {
        (ErrorKind::TimedOut, _) => "the server did not answer in time",
        (_, true) => "the SSH connection was lost",
        (ErrorKind::NotFound, _) => "no such file",
        (ErrorKind::PermissionDenied, _) => "permission denied by the server",
        (ErrorKind::Unauthenticated, _) => "authentication failed",
        _ => "the server refused the operation",
    };
    Error::new(c.kind, msg)
        .with_temporary(c.temporary)
        .with_backend(NAME)
        .with_source(SshError(e))
}

/// An `ssh2::Error` kept as a source: its code and libssh2's message, which never hold a
/// secret (libssh2 does not echo passwords or passphrases).
#[derive(Debug)]
pub(crate) struct SshError(pub(crate) ssh2::Error);

impl std::fmt::Display for SshError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.code() {
            ErrorCode::Session(c) => write!(f, "libssh2 error {c}: {}", self.0.message()),
            ErrorCode::SFTP(c) => write!(f, "SFTP status {c}: {}", self.0.message()),
        }
    }
}

impl std::error::Error for SshError {}

/// Whether an error of ours came from a session that is gone.
pub(crate) fn is_dead(e: &Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(ssh) = s.downcast_ref::<SshError>() {
            return classify(ssh.0.code()).dead;
        }
        source = s.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table() {
        use ErrorKind::*;
        let s = ErrorCode::Session;
        let f = ErrorCode::SFTP;
        // (code, kind, temporary, dead)
        let table = [
            (s(-43), Io, true, true),                // SOCKET_RECV: the peer closed
            (s(-7), Io, true, true),                 // SOCKET_SEND
            (s(-13), Io, true, true),                // SOCKET_DISCONNECT
            (s(-9), TimedOut, true, true),           // TIMEOUT
            (s(-30), TimedOut, true, true),          // SOCKET_TIMEOUT
            (s(-8), Io, true, true),                 // KEY_EXCHANGE_FAILURE
            (s(-18), Unauthenticated, false, false), // AUTHENTICATION_FAILED
            (s(-19), Unauthenticated, false, false), // PUBLICKEY_UNVERIFIED
            (s(-48), Unauthenticated, false, false), // KEYFILE_AUTH_FAILED
            (s(-16), InvalidConfig, false, false),   // FILE: key unreadable
            (s(-26), Io, true, true),                // CHANNEL_CLOSED
            (s(-31), Io, true, true),                // SFTP_PROTOCOL
            (f(2), NotFound, false, false),
            (f(3), PermissionDenied, false, false),
            (f(4), Io, false, false),
            (f(6), Io, true, true),
            (f(7), Io, true, true),
            (f(8), Unsupported, false, false),
            (f(11), AlreadyExists, false, false),
            (f(18), DirectoryNotEmpty, false, false),
            (f(19), NotADirectory, false, false),
        ];
        for (code, kind, temporary, dead) in table {
            let c = classify(code);
            assert_eq!(
                (c.kind, c.temporary, c.dead),
                (kind, temporary, dead),
                "{code:?}"
            );
        }
    }

    #[test]
    fn errors_keep_the_code_and_say_whether_the_session_died() {
        let e = from_ssh(ssh2::Error::new(ErrorCode::Session(-43), "recv failed"));
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(e.is_temporary());
        assert!(is_dead(&e));
        assert!(e.display_chain().to_string().contains("libssh2 error -43"));
        let e = from_ssh(ssh2::Error::new(ErrorCode::SFTP(2), "no such file"));
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(!e.is_temporary() && !is_dead(&e));
    }
}
