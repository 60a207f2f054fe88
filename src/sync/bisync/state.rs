//! The state of a pair of roots on disk: the listings of both sides after the last good run
//! (one file, written atomically, with a checksum trailer), the "pending" marker of a run
//! that started changing things, and the lock.
//!
//! The listing file:
//!
//! ```text
//! omnistorage-bisync 1
//! path1 <count>
//! <size> <modified ns or -> <hash kind:hex or -> <path, escaped>
//! ...
//! path2 <count>
//! ...
//! end <FNV-1a 64 of every byte before this line, hex>
//! ```
//!
//! Paths come last on their line, with `\` `\n` and `\r` escaped, so any path fits. A file
//! that does not parse, has a wrong count or a wrong checksum is
//! [`ErrorKind::Corrupt`]: never read as a shorter listing (which would look like deletions).

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path as FsPath, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{Entry, Error, ErrorKind, Hash, HashKind, Result};

const MAGIC: &str = "omnistorage-bisync 1";

/// What a listing keeps of one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rec {
    pub(crate) size: u64,
    /// Nanoseconds since the Unix epoch (negative before it).
    pub(crate) modified: Option<i128>,
    pub(crate) hash: Option<Hash>,
}

impl Rec {
    /// The record of a listed or written entry.
    pub(crate) fn of(entry: &Entry) -> Rec {
        let hash = entry
            .hash(HashKind::Md5)
            .or_else(|| entry.hashes.first().cloned());
        Rec {
            size: entry.size,
            modified: entry.modified.and_then(nanos),
            hash,
        }
    }
}

/// Nanoseconds since the epoch.
pub(crate) fn nanos(t: SystemTime) -> Option<i128> {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i128::try_from(d.as_nanos()).ok(),
        Err(e) => i128::try_from(e.duration().as_nanos()).ok().map(|n| -n),
    }
}

/// One side's listing: relative path → record, in path order.
pub(crate) type Listing = BTreeMap<String, Rec>;

/// Where the state of one pair of roots lives.
#[derive(Clone, Debug)]
pub(crate) struct Files {
    pub(crate) listings: PathBuf,
    pub(crate) pending: PathBuf,
    pub(crate) lock: PathBuf,
}

impl Files {
    pub(crate) fn new(dir: &FsPath, key: &str) -> Files {
        Files {
            listings: dir.join(format!("{key}.lst")),
            pending: dir.join(format!("{key}.pending")),
            lock: dir.join(format!("{key}.lck")),
        }
    }
}

/// FNV-1a, 64 bits: enough to catch a truncated or damaged file (not an adversary).
pub(crate) fn fnv64(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The state key of a pair: a hash of both sides' identities, as a file name.
pub(crate) fn key(side1: &str, side2: &str) -> String {
    let text = format!("{}\n{}", side1, side2);
    format!("pair-{:016x}", fnv64(text.as_bytes()))
}

/// The default state directory: [`user_cache_dir`](crate::sync::user_cache_dir)`/bisync`.
pub(crate) fn default_dir() -> Option<PathBuf> {
    crate::sync::user_cache_dir().map(|d| d.join("bisync"))
}

fn escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

fn unescape(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '\\' => out.push('\\'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            _ => return None,
        }
    }
    Some(out)
}

/// The text of a state file holding both listings.
pub(crate) fn encode(listings: &[Listing; 2]) -> String {
    let mut out = format!("{MAGIC}\n");
    for (i, listing) in listings.iter().enumerate() {
        out.push_str(&format!("path{} {}\n", i + 1, listing.len()));
        for (path, rec) in listing {
            let modified = rec.modified.map_or("-".to_owned(), |m| m.to_string());
            let hash = rec.hash.as_ref().map_or("-".to_owned(), |h| {
                format!("{}:{}", h.kind().name(), h.to_hex())
            });
            out.push_str(&format!(
                "{} {} {} {}\n",
                rec.size,
                modified,
                hash,
                escape(path)
            ));
        }
    }
    let sum = fnv64(out.as_bytes());
    out.push_str(&format!("end {sum:016x}\n"));
    out
}

fn corrupt(file: &FsPath, why: &str) -> Error {
    Error::new(
        ErrorKind::Corrupt,
        format!(
            "the bisync state {} is damaged ({why}): run again with resync",
            file.display()
        ),
    )
    .with_operation("bisync")
}

/// Parses a state file; any damage is [`ErrorKind::Corrupt`].
pub(crate) fn decode(text: &str, file: &FsPath) -> Result<[Listing; 2]> {
    let bad = |why: &str| corrupt(file, why);
    if !text.ends_with('\n') {
        return Err(bad("cut short"));
    }
    let body_end = text
        .trim_end_matches('\n')
        .rfind('\n')
        .map(|i| i + 1)
        .ok_or_else(|| bad("too short"))?;
    let (body, trailer) = text.split_at(body_end);
    let sum = trailer
        .trim_end_matches('\n')
        .strip_prefix("end ")
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .ok_or_else(|| bad("no trailer: the file was cut short"))?;
    if sum != fnv64(body.as_bytes()) {
        return Err(bad("checksum mismatch"));
    }
    let mut lines = body.lines();
    if lines.next() != Some(MAGIC) {
        return Err(bad("unknown format"));
    }
    let mut out: [Listing; 2] = [Listing::new(), Listing::new()];
    for (i, listing) in out.iter_mut().enumerate() {
        let header = lines.next().ok_or_else(|| bad("missing section"))?;
        let count: usize = header
            .strip_prefix(&format!("path{} ", i + 1))
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| bad("bad section header"))?;
        for _ in 0..count {
            let line = lines.next().ok_or_else(|| bad("missing lines"))?;
            let (path, rec) = parse_line(line).ok_or_else(|| bad("bad line"))?;
            listing.insert(path, rec);
        }
        if listing.len() != count {
            return Err(bad("repeated paths"));
        }
    }
    if lines.next().is_some() {
        return Err(bad("extra lines"));
    }
    Ok(out)
}

fn parse_line(line: &str) -> Option<(String, Rec)> {
    let mut parts = line.splitn(4, ' ');
    let size = parts.next()?.parse().ok()?;
    let modified = match parts.next()? {
        "-" => None,
        m => Some(m.parse().ok()?),
    };
    let hash = match parts.next()? {
        "-" => None,
        h => {
            let (kind, hex) = h.split_once(':')?;
            Some(Hash::from_hex(HashKind::from_name(kind)?, hex).ok()?)
        }
    };
    let path = unescape(parts.next()?)?;
    Some((
        path,
        Rec {
            size,
            modified,
            hash,
        },
    ))
}

/// Reads the listings: `Ok(None)` when there are none yet (a first run).
pub(crate) fn load(files: &Files) -> Result<Option<[Listing; 2]>> {
    match fs::read(&files.listings) {
        Ok(bytes) => {
            let text =
                String::from_utf8(bytes).map_err(|_| corrupt(&files.listings, "not UTF-8"))?;
            decode(&text, &files.listings).map(Some)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::from(e).with_path(files.listings.display().to_string())),
    }
}

/// Writes `data` to `file` atomically: a temporary file beside it, synced, renamed over.
pub(crate) fn write_atomic(file: &FsPath, data: &[u8]) -> Result<()> {
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    let written = (|| -> io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        fs::rename(&tmp, file)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(Error::from(e).with_path(file.display().to_string()));
    }
    Ok(())
}

/// Saves both listings.
pub(crate) fn save(files: &Files, listings: &[Listing; 2]) -> Result<()> {
    write_atomic(&files.listings, encode(listings).as_bytes())
}

/// The lock of a pair of roots, released (its file removed) on drop.
#[derive(Debug)]
pub(crate) struct Lock {
    file: PathBuf,
}

impl Lock {
    /// Takes the lock. A lock whose process is gone is taken over (`Ok((lock, true))`); one
    /// held by a live process (or one whose owner cannot be told) is
    /// [`ErrorKind::AlreadyExists`].
    pub(crate) fn take(file: &FsPath) -> Result<(Lock, bool)> {
        let mut took_over = false;
        for _ in 0..2 {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(file)
            {
                Ok(mut f) => {
                    f.write_all(format!("{}\n", std::process::id()).as_bytes())
                        .map_err(Error::from)?;
                    return Ok((
                        Lock {
                            file: file.to_path_buf(),
                        },
                        took_over,
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let owner = fs::read_to_string(file)
                        .ok()
                        .and_then(|t| t.trim().parse::<u32>().ok());
                    match owner {
                        Some(pid) if pid != std::process::id() && process_gone(pid) => {
                            fs::remove_file(file).map_err(Error::from)?;
                            took_over = true;
                        }
                        _ => {
                            return Err(Error::new(
                                ErrorKind::AlreadyExists,
                                format!(
                                    "another bisync of these roots is running (lock {}, \
                                     process {}); if it is not, remove the lock file",
                                    file.display(),
                                    owner.map_or("unknown".to_owned(), |p| p.to_string())
                                ),
                            )
                            .with_operation("bisync"));
                        }
                    }
                }
                Err(e) => return Err(Error::from(e).with_path(file.display().to_string())),
            }
        }
        Err(Error::new(
            ErrorKind::AlreadyExists,
            "the bisync lock was taken meanwhile",
        )
        .with_operation("bisync"))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.file);
    }
}

/// Whether process `pid` is known to be gone (Linux: no `/proc/<pid>`; other Unixes:
/// `kill -0` fails). Where it cannot be told, `false`: the lock is respected.
fn process_gone(pid: u32) -> bool {
    if FsPath::new("/proc/self").exists() {
        return !FsPath::new(&format!("/proc/{pid}")).exists();
    }
    if cfg!(unix) {
        return std::process::Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| !s.success());
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> [Listing; 2] {
        let mut a = Listing::new();
        a.insert(
            "dir/with space\nand newline\\".to_owned(),
            Rec {
                size: 3,
                modified: Some(-5),
                hash: Hash::from_hex(HashKind::Md5, "900150983cd24fb0d6963f7d28e17f72").ok(),
            },
        );
        a.insert(
            "b".to_owned(),
            Rec {
                size: 0,
                modified: None,
                hash: None,
            },
        );
        [a, Listing::new()]
    }

    #[test]
    fn listings_round_trip() {
        let l = sample();
        let text = encode(&l);
        assert_eq!(decode(&text, FsPath::new("x")).ok(), Some(l));
    }

    #[test]
    fn truncated_or_damaged_state_is_corrupt() {
        let text = encode(&sample());
        for cut in 0..text.len() {
            let r = decode(&text[..cut], FsPath::new("x"));
            assert_eq!(
                r.map_err(|e| e.kind()).err(),
                Some(ErrorKind::Corrupt),
                "cut {cut}"
            );
        }
        let damaged = text.replacen('3', "4", 1);
        let r = decode(&damaged, FsPath::new("x"));
        assert_eq!(r.map_err(|e| e.kind()).err(), Some(ErrorKind::Corrupt));
    }
}
