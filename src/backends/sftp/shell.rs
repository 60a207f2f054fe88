//! Hashes computed by the server: `md5sum` and `sha1sum` run over an exec channel, as
//! rclone's SFTP backend does. Detected once (by hashing `/dev/null` and checking the
//! answer), used only where they work; a path reaches the shell single-quoted, so nothing
//! in it is ever interpreted.

use std::io::Read;

use ssh2::Session;

use super::errors::from_ssh;
use crate::error::{Error, ErrorKind, Result};
use crate::hash::{Hash, HashKind, HashKinds};

/// The largest answer read from a command (a digest, a name, and a newline).
const MAX_OUTPUT: u64 = 64 * 1024;

/// The command that computes `kind`, if one does, and its digest of no bytes.
fn command(kind: HashKind) -> Option<(&'static str, &'static str)> {
    match kind {
        HashKind::Md5 => Some(("md5sum", "d41d8cd98f00b204e9800998ecf8427e")),
        HashKind::Sha1 => Some(("sha1sum", "da39a3ee5e6b4b0d3255bfef95601890afd80709")),
        _ => None,
    }
}

/// `s` as one single-quoted shell word: `'` becomes `'\''`. Every character but `'` is
/// literal between single quotes in POSIX shells.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Runs `cmd` on a new exec channel; its standard output and exit status.
fn run(sess: &Session, cmd: &str) -> Result<(String, i32)> {
    let mut chan = sess.channel_session().map_err(from_ssh)?;
    chan.exec(cmd).map_err(from_ssh)?;
    let mut out = String::new();
    let read = (&mut chan).take(MAX_OUTPUT).read_to_string(&mut out);
    // Drain stderr so the channel can close; what it says is not used.
    let mut sink = Vec::new();
    let _ = chan.stderr().take(MAX_OUTPUT).read_to_end(&mut sink);
    let _ = chan.wait_close();
    read.map_err(Error::from)?;
    let status = chan.exit_status().map_err(from_ssh)?;
    Ok((out, status))
}

/// The digest at the start of a `md5sum`-style line (which starts with `\` when the name
/// holds a backslash or a newline).
fn digest(kind: HashKind, line: &str) -> Option<Hash> {
    let line = line.strip_prefix('\\').unwrap_or(line);
    let hex = line.get(..kind.digest_len() * 2)?;
    Hash::from_hex(kind, hex).ok()
}

/// Which kinds the server can hash: the commands that print the right digest of
/// `/dev/null`, asked in one exec (a login shell can take a while to start).
pub(crate) fn detect(sess: &Session) -> HashKinds {
    let kinds = [HashKind::Md5, HashKind::Sha1];
    let cmd: Vec<String> = kinds
        .iter()
        .filter_map(|&k| command(k))
        .map(|(cmd, _)| format!("{cmd} /dev/null 2>/dev/null"))
        .collect();
    // `;` and a final `true`: one missing command must not hide the other's answer.
    let Ok((out, _)) = run(sess, &format!("{}; true", cmd.join("; "))) else {
        return HashKinds::NONE;
    };
    let mut found = HashKinds::NONE;
    for line in out.lines() {
        for kind in kinds {
            let Some((_, empty)) = command(kind) else {
                continue;
            };
            if digest(kind, line).is_some_and(|d| d.to_hex() == empty)
                && line
                    .get(kind.digest_len() * 2..)
                    .is_some_and(|rest| rest.starts_with(' '))
            {
                found = found.with(kind);
            }
        }
    }
    found
}

/// The `kind` hash of the file at `full`, computed by the server.
pub(crate) fn hash(sess: &Session, kind: HashKind, full: &str) -> Result<Hash> {
    let (cmd, _) = command(kind).ok_or_else(|| Error::unsupported("hash"))?;
    let (out, status) = run(sess, &format!("{cmd} -- {}", quote(full)))?;
    if status != 0 {
        return Err(Error::new(
            ErrorKind::Io,
            format!("{cmd} failed on the server (exit status {status})"),
        ));
    }
    digest(kind, &out).ok_or_else(|| {
        Error::new(
            ErrorKind::Corrupt,
            format!("{cmd} on the server printed no digest"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_leaves_nothing_to_the_shell() {
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$(rm -rf ~)`x`;\n*"), "'$(rm -rf ~)`x`;\n*'");
    }

    #[test]
    fn digests_are_read_from_both_line_forms() {
        let md5 = "d41d8cd98f00b204e9800998ecf8427e";
        let h = digest(HashKind::Md5, &format!("{md5}  /dev/null\n")).unwrap();
        assert_eq!(h.to_hex(), md5);
        let h = digest(HashKind::Md5, &format!("\\{md5}  a\\nb\n")).unwrap();
        assert_eq!(h.to_hex(), md5);
        assert!(digest(HashKind::Md5, "md5sum: not found").is_none());
    }
}
