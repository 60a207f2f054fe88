//! A second SFTP channel on a session, spoken here, for the OpenSSH extensions libssh2's
//! SFTP does not reach through the `ssh2` crate: `posix-rename@openssh.com` (an atomic
//! rename over an existing file), `copy-data` (a copy inside the server) and
//! `statvfs@openssh.com` (the file system's space).
//!
//! Only what those two need of SFTP version 3 (draft-ietf-secsh-filexfer-02): INIT and
//! VERSION, OPEN, CLOSE, EXTENDED, and the STATUS and HANDLE replies. One request at a time.

use std::io::{Read, Write};

use ssh2::{Channel, ErrorCode, Session};

const INIT: u8 = 1;
const VERSION: u8 = 2;
const OPEN: u8 = 3;
const CLOSE: u8 = 4;
const STATUS: u8 = 101;
const HANDLE: u8 = 102;
const EXTENDED: u8 = 200;
const EXTENDED_REPLY: u8 = 201;

/// Open flags (`SSH_FXF_*`).
pub(crate) const READ: u32 = 0x01;
pub(crate) const WRITE: u32 = 0x02;
pub(crate) const CREAT: u32 = 0x08;
pub(crate) const EXCL: u32 = 0x20;

/// The largest reply accepted (the server's answers here are a few bytes; a bigger length
/// means the stream is out of step).
const MAX_PACKET: usize = 256 * 1024;

pub(crate) const POSIX_RENAME: &str = "posix-rename@openssh.com";
pub(crate) const COPY_DATA: &str = "copy-data";
pub(crate) const STATVFS: &str = "statvfs@openssh.com";

/// What failed: the channel (the session is then suspect), or the server's answer.
#[derive(Debug)]
pub(crate) enum ExtError {
    /// The channel broke, or the server spoke out of turn.
    Channel,
    /// An SFTP status other than OK.
    Status(u32),
}

impl ExtError {
    /// As an `ssh2::Error`, for the one error table.
    pub(crate) fn into_ssh(self) -> ssh2::Error {
        match self {
            ExtError::Channel => {
                ssh2::Error::new(ErrorCode::Session(-26), "the extension channel broke")
            }
            ExtError::Status(code) => ssh2::Error::new(
                ErrorCode::SFTP(i32::try_from(code).unwrap_or(i32::MAX)),
                "the server refused the extension request",
            ),
        }
    }
}

impl From<std::io::Error> for ExtError {
    fn from(_: std::io::Error) -> ExtError {
        ExtError::Channel
    }
}

type R<T> = std::result::Result<T, ExtError>;

fn out_of_step(_what: &'static str) -> ExtError {
    ExtError::Channel
}

/// The extension channel of one session.
pub(crate) struct Ext {
    chan: Channel,
    next_id: u32,
    /// The extensions the server announced, by name.
    names: Vec<String>,
}

/// A request being built.
struct Packet(Vec<u8>);

impl Packet {
    fn new(kind: u8) -> Packet {
        Packet(vec![0, 0, 0, 0, kind])
    }
    fn u32(mut self, v: u32) -> Packet {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u64(mut self, v: u64) -> Packet {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn bytes(self, b: &[u8]) -> Packet {
        let mut p = self.u32(u32::try_from(b.len()).unwrap_or(u32::MAX));
        p.0.extend_from_slice(b);
        p
    }
    fn finish(mut self) -> Vec<u8> {
        let len = u32::try_from(self.0.len() - 4).unwrap_or(u32::MAX);
        self.0[..4].copy_from_slice(&len.to_be_bytes());
        self.0
    }
}

/// A reply being read.
struct Reply<'a>(&'a [u8]);

impl Reply<'_> {
    fn u32(&mut self) -> R<u32> {
        let (head, rest) = self
            .0
            .split_first_chunk::<4>()
            .ok_or_else(|| out_of_step("short SFTP reply"))?;
        self.0 = rest;
        Ok(u32::from_be_bytes(*head))
    }
    fn u64(&mut self) -> R<u64> {
        let (head, rest) = self
            .0
            .split_first_chunk::<8>()
            .ok_or_else(|| out_of_step("short SFTP reply"))?;
        self.0 = rest;
        Ok(u64::from_be_bytes(*head))
    }
    fn bytes(&mut self) -> R<Vec<u8>> {
        let len = self.u32()? as usize;
        if len > self.0.len() {
            return Err(out_of_step("short SFTP reply"));
        }
        let (s, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(s.to_vec())
    }
}

/// The extension names of a VERSION reply's body (after the packet type).
pub(crate) fn extension_names(body: &[u8]) -> R<Vec<String>> {
    let mut r = Reply(body);
    let _version = r.u32()?;
    let mut names = Vec::new();
    while !r.0.is_empty() {
        let name = r.bytes()?;
        let _data = r.bytes()?;
        names.push(String::from_utf8_lossy(&name).into_owned());
    }
    Ok(names)
}

/// What `statvfs@openssh.com` answers, in the units of `struct statvfs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StatVfs {
    /// The fragment size: the unit of the block counts.
    pub(crate) frsize: u64,
    pub(crate) blocks: u64,
    pub(crate) bfree: u64,
    pub(crate) bavail: u64,
}

/// A `statvfs@openssh.com` reply's body (after the request id): eleven `u64`s, of which the
/// sizes are the first five (`bsize`, `frsize`, `blocks`, `bfree`, `bavail`).
pub(crate) fn statvfs_of(body: &[u8]) -> R<StatVfs> {
    let mut r = Reply(body);
    let bsize = r.u64()?;
    let frsize = r.u64()?;
    Ok(StatVfs {
        // OpenSSH sends both; a server that leaves frsize at 0 counts in bsize.
        frsize: if frsize == 0 { bsize } else { frsize },
        blocks: r.u64()?,
        bfree: r.u64()?,
        bavail: r.u64()?,
    })
}

/// A STATUS reply's body (after the request id): OK is `Ok(())`.
pub(crate) fn status_of(body: &[u8]) -> R<()> {
    match Reply(body).u32()? {
        0 => Ok(()),
        code => Err(ExtError::Status(code)),
    }
}

/// A HANDLE reply's body (after the request id): the handle.
pub(crate) fn handle_of(body: &[u8]) -> R<Vec<u8>> {
    Reply(body).bytes()
}

impl Ext {
    /// Opens the channel and says hello; the server's VERSION lists its extensions.
    pub(crate) fn open(sess: &Session) -> R<Ext> {
        let mut chan = sess.channel_session().map_err(|_| ExtError::Channel)?;
        chan.subsystem("sftp").map_err(|_| ExtError::Channel)?;
        let mut ext = Ext {
            chan,
            next_id: 1,
            names: Vec::new(),
        };
        ext.send(Packet::new(INIT).u32(3).finish())?;
        let (kind, body) = ext.recv()?;
        if kind != VERSION {
            return Err(out_of_step("no SFTP VERSION reply"));
        }
        ext.names = extension_names(&body)?;
        Ok(ext)
    }

    /// Whether the server announced extension `name`.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    fn send(&mut self, packet: Vec<u8>) -> R<()> {
        self.chan.write_all(&packet)?;
        self.chan.flush()?;
        Ok(())
    }

    fn recv(&mut self) -> R<(u8, Vec<u8>)> {
        let mut head = [0u8; 4];
        self.chan.read_exact(&mut head)?;
        let len = u32::from_be_bytes(head) as usize;
        if len == 0 || len > MAX_PACKET {
            return Err(out_of_step("bad SFTP packet length"));
        }
        let mut body = vec![0u8; len];
        self.chan.read_exact(&mut body)?;
        let kind = body[0];
        body.remove(0);
        Ok((kind, body))
    }

    fn id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    /// Sends `packet` (built with request id `id`) and reads its reply, checking the id.
    fn call(&mut self, id: u32, packet: Packet) -> R<(u8, Vec<u8>)> {
        self.send(packet.finish())?;
        let (kind, body) = self.recv()?;
        let mut r = Reply(&body);
        if r.u32()? != id {
            return Err(out_of_step("SFTP reply to another request"));
        }
        Ok((kind, r.0.to_vec()))
    }

    /// Expects a STATUS reply; OK is `Ok(())`.
    fn status(reply: (u8, Vec<u8>)) -> R<()> {
        let (kind, body) = reply;
        if kind != STATUS {
            return Err(out_of_step("expected an SFTP STATUS reply"));
        }
        status_of(&body)
    }

    /// Renames `from` to `to`, replacing `to` atomically if it exists (POSIX `rename`).
    pub(crate) fn posix_rename(&mut self, from: &str, to: &str) -> R<()> {
        let id = self.id();
        let p = Packet::new(EXTENDED)
            .u32(id)
            .bytes(POSIX_RENAME.as_bytes())
            .bytes(from.as_bytes())
            .bytes(to.as_bytes());
        Ext::status(self.call(id, p)?)
    }

    /// The space of the file system `path` is on.
    pub(crate) fn statvfs(&mut self, path: &str) -> R<StatVfs> {
        let id = self.id();
        let p = Packet::new(EXTENDED)
            .u32(id)
            .bytes(STATVFS.as_bytes())
            .bytes(path.as_bytes());
        let (kind, body) = self.call(id, p)?;
        match kind {
            EXTENDED_REPLY => statvfs_of(&body),
            _ => Ext::status((kind, body)).and(Err(out_of_step("no statvfs reply"))),
        }
    }

    fn open_handle(&mut self, path: &str, flags: u32) -> R<Vec<u8>> {
        let id = self.id();
        let p = Packet::new(OPEN)
            .u32(id)
            .bytes(path.as_bytes())
            .u32(flags)
            .u32(0); // no attributes
        let (kind, body) = self.call(id, p)?;
        match kind {
            HANDLE => handle_of(&body),
            _ => Ext::status((kind, body)).and(Err(out_of_step("no SFTP handle"))),
        }
    }

    fn close_handle(&mut self, handle: &[u8]) -> R<()> {
        let id = self.id();
        let p = Packet::new(CLOSE).u32(id).bytes(handle);
        Ext::status(self.call(id, p)?)
    }

    /// Copies the whole file `from` into a new file `to` (which must not exist) inside the
    /// server. On failure `to` may exist, partly written: the caller removes it.
    pub(crate) fn copy_file(&mut self, from: &str, to: &str) -> R<()> {
        let src = self.open_handle(from, READ)?;
        let dst = match self.open_handle(to, WRITE | CREAT | EXCL) {
            Ok(h) => h,
            Err(e) => {
                let _ = self.close_handle(&src);
                return Err(e);
            }
        };
        let id = self.id();
        let p = Packet::new(EXTENDED)
            .u32(id)
            .bytes(COPY_DATA.as_bytes())
            .bytes(&src)
            .u64(0)
            .u64(0) // to the end of the file
            .bytes(&dst)
            .u64(0);
        let copied = self.call(id, p).and_then(Ext::status);
        let closed_dst = self.close_handle(&dst);
        let closed_src = self.close_handle(&src);
        copied.and(closed_dst).and(closed_src)
    }
}
