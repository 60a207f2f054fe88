//! The state of a pair of roots on disk: the listings of both sides after the last good run
//! (one file, written atomically, with a checksum trailer), the "pending" marker of a run
//! that started changing things, and the lock.
//!
//! The listing file:
//!
//! ```text
//! omnistorage-bisync 2
//! path1 <count>
//! <size> <modified ns or -> <hash kind:hex or -> <version tag, hex of its bytes, or -> <path, escaped>
//! ...
//! path2 <count>
//! ...
//! end <FNV-1a 64 of every byte before this line, hex>
//! ```
//!
//! Paths come last on their line, with `\` `\n` and `\r` escaped, so any path fits. A file
//! that does not parse, has a wrong count or a wrong checksum is
//! [`ErrorKind::Corrupt`]: never read as a shorter listing (which would look like deletions).
//!
//! Version 1 (before version tags) is still read: its lines have no tag field, and its
//! records compare as they did (by size, time and hash); the next save writes version 2.
//!
//! The lock file holds the owner's process id, and the owner holds an exclusive lock
//! (`flock`) on it for its whole run; it is written under a temporary name and hard-linked
//! into place, so it is never seen empty. See [`Lock::take`].

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path as FsPath, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::state_file::{escape, unescape};
use crate::{Entry, Error, ErrorKind, Hash, HashKind, Result};

const MAGIC: &str = "omnistorage-bisync 2";
/// The format before version tags: read, never written.
const MAGIC_V1: &str = "omnistorage-bisync 1";

/// What a listing keeps of one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rec {
    pub(crate) size: u64,
    /// Nanoseconds since the Unix epoch (negative before it).
    pub(crate) modified: Option<i128>,
    pub(crate) hash: Option<Hash>,
    /// The entry's version tag ([`Entry::etag`]) where the backend's tags are version tags
    /// ([`Capabilities::version_tags`](crate::Capabilities::version_tags)).
    pub(crate) tag: Option<String>,
}

impl Rec {
    /// The record of a listed or written entry; `tags`: whether the backend's ETags are
    /// version tags (recorded then).
    pub(crate) fn of(entry: &Entry, tags: bool) -> Rec {
        let hash = entry
            .hash(HashKind::Md5)
            .or_else(|| entry.hashes.first().cloned());
        Rec {
            size: entry.size,
            modified: entry.modified.and_then(nanos),
            hash,
            tag: entry.etag.clone().filter(|_| tags),
        }
    }
}

/// The time `nanos` (since the epoch) stands for.
pub(crate) fn time_of(nanos: i128) -> Option<SystemTime> {
    let magnitude = std::time::Duration::from_nanos(u64::try_from(nanos.unsigned_abs()).ok()?);
    if nanos >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
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
            let tag = rec
                .tag
                .as_ref()
                .map_or("-".to_owned(), |t| hex(t.as_bytes()));
            out.push_str(&format!(
                "{} {} {} {} {}\n",
                rec.size,
                modified,
                hash,
                tag,
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
    let tagged = match lines.next() {
        Some(MAGIC) => true,
        Some(MAGIC_V1) => false,
        _ => return Err(bad("unknown format")),
    };
    let mut out: [Listing; 2] = [Listing::new(), Listing::new()];
    for (i, listing) in out.iter_mut().enumerate() {
        let header = lines.next().ok_or_else(|| bad("missing section"))?;
        let count: usize = header
            .strip_prefix(&format!("path{} ", i + 1))
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| bad("bad section header"))?;
        for _ in 0..count {
            let line = lines.next().ok_or_else(|| bad("missing lines"))?;
            let (path, rec) = parse_line(line, tagged).ok_or_else(|| bad("bad line"))?;
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<String> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let bytes = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

/// One listed object; `tagged`: the line has a version tag field (format 2).
fn parse_line(line: &str, tagged: bool) -> Option<(String, Rec)> {
    let mut parts = line.splitn(if tagged { 5 } else { 4 }, ' ');
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
    let tag = match tagged {
        false => None,
        true => match parts.next()? {
            "-" => None,
            t => Some(unhex(t)?),
        },
    };
    let path = unescape(parts.next()?)?;
    Some((
        path,
        Rec {
            size,
            modified,
            hash,
            tag,
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

/// Writes `data` to `file` whole or not at all ([`crate::state_file::write_atomic`]).
pub(crate) fn write_atomic(file: &FsPath, data: &[u8]) -> Result<()> {
    crate::state_file::write_atomic(file, data)
        .map_err(|e| Error::from(e).with_path(file.display().to_string()))
}

/// Saves both listings.
pub(crate) fn save(files: &Files, listings: &[Listing; 2]) -> Result<()> {
    write_atomic(&files.listings, encode(listings).as_bytes())
}

/// How old an empty or unreadable lock must be before it is taken over where the file system
/// has no `flock` (elsewhere the lock itself tells whether its owner runs).
const EMPTY_LOCK_GRACE: Duration = Duration::from_secs(10);

/// The lock of a pair of roots, released (its file removed) on drop.
#[derive(Debug)]
pub(crate) struct Lock {
    file: PathBuf,
    /// The lock file, open, with our `flock` on it while the run lasts.
    _held: fs::File,
}

/// What an existing lock file says about its owner.
enum Owner {
    /// Runs (or cannot be told not to): the lock is respected.
    Alive(Option<u32>),
    /// Gone: the lock may be taken over. The file is held (locked) meanwhile, so no other
    /// taker removes a lock made after this one was inspected.
    Gone(Option<fs::File>),
    /// The file vanished while it was being inspected: try again.
    Vanished,
}

impl Lock {
    /// Takes the lock. A lock whose owner is gone is taken over (`Ok((lock, true))`): one no
    /// process holds a `flock` on (the owner died, however it died: a `SIGKILL` included,
    /// and an empty lock file left by an older version); where the file system has no
    /// `flock`, one whose process id is gone, or that is empty and older than a few seconds.
    /// One held by a live owner is [`ErrorKind::AlreadyExists`].
    ///
    /// The file is written under a temporary name, `flock`ed, then hard-linked into place (a
    /// link never replaces a file): so the lock file is never seen empty or unlocked while
    /// its owner runs. Where hard links fail, it is created in place with `create_new`.
    pub(crate) fn take(file: &FsPath) -> Result<(Lock, bool)> {
        let io_err = |e: io::Error| Error::from(e).with_path(file.display().to_string());
        let mut took_over = false;
        for _ in 0..4 {
            match Self::create(file).map_err(io_err)? {
                Some(held) => {
                    return Ok((
                        Lock {
                            file: file.to_path_buf(),
                            _held: held,
                        },
                        took_over,
                    ));
                }
                None => match inspect(file).map_err(io_err)? {
                    Owner::Vanished => {}
                    Owner::Gone(held) => {
                        // Removed while we hold its flock: another taker that opened it
                        // sees it locked, or (once we let go) no longer at this name.
                        match fs::remove_file(file) {
                            Ok(()) => {}
                            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                            Err(e) => return Err(io_err(e)),
                        }
                        drop(held);
                        took_over = true;
                    }
                    Owner::Alive(pid) => {
                        return Err(Error::new(
                            ErrorKind::AlreadyExists,
                            format!(
                                "another bisync of these roots is running (lock {}, \
                                 process {}); if it is not, remove the lock file",
                                file.display(),
                                pid.map_or("unknown".to_owned(), |p| p.to_string())
                            ),
                        )
                        .with_operation("bisync"));
                    }
                },
            }
        }
        Err(Error::new(
            ErrorKind::AlreadyExists,
            "the bisync lock was taken meanwhile",
        )
        .with_operation("bisync"))
    }

    /// Creates the lock file, whole and locked; `None` if one exists.
    fn create(file: &FsPath) -> io::Result<Option<fs::File>> {
        let tmp = file.with_extension(format!("lck.{}.tmp", std::process::id()));
        let linked = (|| -> io::Result<Option<fs::File>> {
            let f = Self::write_own(fs::File::create(&tmp)?)?;
            match fs::hard_link(&tmp, file) {
                Ok(()) => Ok(Some(f)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(None),
                Err(_) => Self::create_in_place(file),
            }
        })();
        let _ = fs::remove_file(&tmp);
        linked
    }

    /// Locks `f` and writes this process's id in it.
    fn write_own(mut f: fs::File) -> io::Result<fs::File> {
        // Fails only where the file system has no flock: the process id is all there is
        // then (see `inspect`).
        let _ = f.try_lock();
        f.write_all(format!("{}\n", std::process::id()).as_bytes())?;
        f.sync_all()?;
        Ok(f)
    }

    /// Without hard links: `create_new`, then the lock and the id (a moment unlocked and
    /// empty).
    fn create_in_place(file: &FsPath) -> io::Result<Option<fs::File>> {
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(file)
        {
            Ok(f) => Self::write_own(f).map(Some),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Whether the owner of the existing lock `file` runs.
fn inspect(file: &FsPath) -> io::Result<Owner> {
    let f = match fs::File::open(file) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Owner::Vanished),
        Err(e) => return Err(e),
    };
    let pid = fs::read_to_string(file)
        .ok()
        .and_then(|t| t.trim().parse::<u32>().ok());
    match f.try_lock() {
        Ok(()) => {
            // Nobody holds it. Still the file at that name? (A taker that removed it and
            // made its own may have let go of it just now.)
            if !same_file(&f, file)? {
                return Ok(Owner::Vanished);
            }
            if pid == Some(std::process::id()) {
                return Ok(Owner::Alive(pid));
            }
            Ok(Owner::Gone(Some(f)))
        }
        Err(fs::TryLockError::WouldBlock) => Ok(Owner::Alive(pid)),
        // No flock here: the process id, or the age of an empty lock, decides.
        Err(fs::TryLockError::Error(_)) => match pid {
            Some(p) if p != std::process::id() && process_gone(p) => Ok(Owner::Gone(None)),
            Some(_) => Ok(Owner::Alive(pid)),
            None => {
                let age = f
                    .metadata()?
                    .modified()
                    .ok()
                    .and_then(|t| SystemTime::now().duration_since(t).ok());
                if age.is_some_and(|a| a >= EMPTY_LOCK_GRACE) {
                    Ok(Owner::Gone(None))
                } else {
                    Ok(Owner::Alive(None))
                }
            }
        },
    }
}

/// Whether the open file `f` is the one at `name` now.
fn same_file(f: &fs::File, name: &FsPath) -> io::Result<bool> {
    let now = match fs::metadata(name) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let held = f.metadata()?;
        Ok(held.dev() == now.dev() && held.ino() == now.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = (f, now);
        Ok(true)
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // The name goes first, while the flock is still held.
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
                tag: Some("803.1a2b.6578 with space".to_owned()),
            },
        );
        a.insert(
            "b".to_owned(),
            Rec {
                size: 0,
                modified: None,
                hash: None,
                tag: None,
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
    fn a_version_1_state_is_read_without_tags() {
        let mut body = format!("{MAGIC_V1}\npath1 2\n");
        body.push_str("3 -5 md5:900150983cd24fb0d6963f7d28e17f72 a b\n0 - - c\npath2 0\n");
        let text = format!("{body}end {:016x}\n", fnv64(body.as_bytes()));
        let [one, two] = decode(&text, FsPath::new("x")).expect("version 1");
        assert!(two.is_empty());
        assert_eq!(one.len(), 2);
        assert_eq!(one["a b"].size, 3);
        assert_eq!(one["a b"].modified, Some(-5));
        assert!(one["a b"].hash.is_some() && one["a b"].tag.is_none());
        assert_eq!(one["c"].tag, None);
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
