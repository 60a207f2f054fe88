//! The hash cache: what a run learned about each source object, kept for the next run.
//!
//! One file per pair of roots (source and destination locations), under the user's cache
//! directory. A record says: the source object at `path`, in the state (size, modification
//! time in nanoseconds, version tag — the file backend's device, inode and change time) it
//! had, has this MD5 (when known), and the destination held exactly that content under the
//! destination's version tag `dst_tag` (S3's ETag, the file backend's tag) when the record
//! was made — because the run copied it there, or compared the two and found them equal.
//!
//! So the next run, seeing the same source state and the same destination tag in the two
//! listings, knows the pair is equal **without a request or a read**: no HEAD for the time,
//! no hashing. Any change of the source (size, time, inode, change time) or of the
//! destination (a rewrite changes its tag) misses, and the run compares as rclone does.
//! With a source state alone, the cached MD5 spares hashing the source.
//!
//! The file is sorted by path, like listings, so it is read with a cursor beside the source
//! listing and written in order as the run goes (a small reorder buffer holds records that
//! wait for paths still in flight): memory does not grow with the tree. Each line carries
//! its own CRC-32C: a damaged line is a miss, never a wrong answer; a missing, unreadable
//! or out-of-order file means hashing again.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::hash::crc32c;
use crate::{Entry, Hash, HashKind, Location, Path};

const HEADER: &str = "omnistorage hash cache 1\n";

/// What one run knew about one pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) path: String,
    pub(crate) size: u64,
    /// Nanoseconds since the epoch (negative before it); `None`: no time.
    pub(crate) mtime: Option<i128>,
    pub(crate) src_tag: Option<String>,
    pub(crate) md5: Option<Hash>,
    pub(crate) dst_tag: Option<String>,
}

fn nanos(t: Option<SystemTime>) -> Option<i128> {
    t.map(|t| match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    })
}

impl Record {
    /// A record of `src` (its path relative to the root) with what is known of it.
    pub(crate) fn of(src: &Entry, md5: Option<Hash>, dst_tag: Option<String>) -> Record {
        Record {
            path: src.path.as_str().to_owned(),
            size: src.size,
            mtime: nanos(src.modified),
            src_tag: src.etag.clone(),
            md5: md5.or_else(|| src.hash(HashKind::Md5)),
            dst_tag,
        }
    }

    /// Whether `src` (from this run's listing) is in the state this record describes: same
    /// size, time and version tag (without a tag, nothing matches: size and time alone can
    /// miss a rewrite within the time's precision).
    pub(crate) fn matches(&self, src: &Entry) -> bool {
        self.size == src.size
            && self.mtime.is_some()
            && self.mtime == nanos(src.modified)
            && src.etag.is_some()
            && self.src_tag == src.etag
    }

    /// Whether `dst` (from this run's listing) is the object the record saw.
    pub(crate) fn same_destination(&self, dst: &Entry) -> bool {
        dst.size == self.size && dst.etag.is_some() && dst.etag == self.dst_tag
    }

    fn encode(&self) -> String {
        let opt = |s: &Option<String>| s.as_deref().map(escape).unwrap_or_default();
        let body = format!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            escape(&self.path),
            self.size,
            self.mtime.map(|n| n.to_string()).unwrap_or_default(),
            opt(&self.src_tag),
            self.md5.map(|h| h.to_hex()).unwrap_or_default(),
            opt(&self.dst_tag),
        );
        let crc = !crc32c::update(!0, body.as_bytes());
        format!("{crc:08x}\t{body}\n")
    }

    fn decode(line: &str) -> Option<Record> {
        let (crc, body) = line.split_once('\t')?;
        let crc = u32::from_str_radix(crc, 16).ok()?;
        if crc != !crc32c::update(!0, body.as_bytes()) {
            return None;
        }
        let f: Vec<&str> = body.split('\t').collect();
        let [path, size, mtime, src_tag, md5, dst_tag] = f.as_slice() else {
            return None;
        };
        let opt = |s: &str| {
            if s.is_empty() {
                Some(None)
            } else {
                unescape(s).map(Some)
            }
        };
        Some(Record {
            path: unescape(path)?,
            size: size.parse().ok()?,
            mtime: if mtime.is_empty() {
                None
            } else {
                Some(mtime.parse().ok()?)
            },
            src_tag: opt(src_tag)?,
            md5: if md5.is_empty() {
                None
            } else {
                Some(Hash::from_hex(HashKind::Md5, md5).ok()?)
            },
            dst_tag: opt(dst_tag)?,
        })
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            '\\' => '\\',
            't' => '\t',
            'n' => '\n',
            'r' => '\r',
            _ => return None,
        });
    }
    Some(out)
}

/// The user's cache directory for hash caches: [`user_cache_dir`]`/hashes`.
pub(crate) fn default_dir() -> Option<PathBuf> {
    user_cache_dir().map(|d| d.join("hashes"))
}

/// omnistorage's directory in the user's cache: `$XDG_CACHE_HOME/omnistorage`, else
/// `~/.cache/omnistorage` (`~/Library/Caches/omnistorage` on macOS,
/// `%LOCALAPPDATA%\omnistorage` on Windows); `None` when the environment names no home.
/// The hash caches (`hashes/`), bisync's state (`bisync/`) and the command-line tool's S3
/// upload journal (`uploads/`) live there.
///
/// ```
/// if let Some(dir) = omnistorage::sync::user_cache_dir() {
///     assert!(dir.ends_with("omnistorage"));
/// }
/// ```
pub fn user_cache_dir() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = if cfg!(windows) {
        env("LOCALAPPDATA")
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|h| h.join("Library").join("Caches"))
    } else {
        env("XDG_CACHE_HOME").or_else(|| env("HOME").map(|h| h.join(".cache")))
    };
    base.map(|b| b.join("omnistorage"))
}

/// The cache file of a pair of roots: a 64-bit FNV-1a of both locations, in hex.
pub(crate) fn file_for(dir: &std::path::Path, src: &Location, dst: &Location) -> PathBuf {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in src
        .to_string()
        .bytes()
        .chain([0])
        .chain(dst.to_string().bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    dir.join(format!("{h:016x}.cache"))
}

/// Reads a cache file in order, a lookup at a time (paths asked in ascending order).
pub(crate) struct Cursor {
    lines: Option<io::Lines<BufReader<File>>>,
    next: Option<Record>,
}

impl Cursor {
    /// The cursor over `file`; an absent or unreadable file, or another format, reads as
    /// empty.
    pub(crate) fn open(file: &std::path::Path) -> Cursor {
        let mut lines = File::open(file).ok().map(|f| BufReader::new(f).lines());
        let header_ok = lines
            .as_mut()
            .and_then(|l| l.next())
            .and_then(|l| l.ok())
            .is_some_and(|l| l == HEADER.trim_end());
        Cursor {
            lines: if header_ok { lines } else { None },
            next: None,
        }
    }

    fn advance(&mut self) -> Option<Record> {
        let lines = self.lines.as_mut()?;
        for line in lines.by_ref() {
            let Ok(line) = line else {
                break; // an unreadable file: the rest is a miss
            };
            if let Some(r) = Record::decode(&line) {
                return Some(r);
            } // a damaged line: that path is a miss
        }
        self.lines = None;
        None
    }

    /// The record of `path`, if the file has one. Paths must come in ascending order; a
    /// file out of order stops being read.
    pub(crate) fn lookup(&mut self, path: &str) -> Option<Record> {
        loop {
            if self.next.is_none() {
                self.next = self.advance();
            }
            let next = self.next.as_ref()?;
            match next.path.as_str().cmp(path) {
                std::cmp::Ordering::Less => {
                    let prev = self.next.take()?;
                    let following = self.advance();
                    if following.as_ref().is_some_and(|f| f.path <= prev.path) {
                        self.lines = None; // out of order: trust nothing more
                        return None;
                    }
                    self.next = following;
                }
                std::cmp::Ordering::Equal => return self.next.take(),
                std::cmp::Ordering::Greater => return None,
            }
        }
    }
}

/// Writes the new cache file in path order while the run goes, through a reorder buffer:
/// a path handed to a worker is *pending* until the worker reports; records behind it wait.
pub(crate) struct Output {
    tmp: PathBuf,
    file: PathBuf,
    out: Option<BufWriter<File>>,
    /// Pending paths (`None`) and records waiting for them (`Some`), by path.
    buffer: BTreeMap<String, Option<Record>>,
}

static TMP: AtomicU64 = AtomicU64::new(0);

impl Output {
    /// A new cache file for `file` (written beside it, renamed into place by `finish`);
    /// `None` if the directory cannot be written (then the run keeps no cache).
    pub(crate) fn create(file: PathBuf) -> Option<Output> {
        let dir = file.parent()?;
        std::fs::create_dir_all(dir).ok()?;
        prune(dir);
        let n = TMP.fetch_add(1, Ordering::Relaxed);
        let tmp = file.with_extension(format!("tmp.{}.{n}", std::process::id()));
        let mut out = BufWriter::new(File::create(&tmp).ok()?);
        out.write_all(HEADER.as_bytes()).ok()?;
        Some(Output {
            tmp,
            file,
            out: Some(out),
            buffer: BTreeMap::new(),
        })
    }

    /// `path` went to a worker: records after it wait until it reports.
    pub(crate) fn pending(&mut self, path: &Path) {
        self.buffer.insert(path.as_str().to_owned(), None);
    }

    /// A record (for a pending path, or one decided on the spot).
    pub(crate) fn put(&mut self, record: Record) {
        self.buffer.insert(record.path.clone(), Some(record));
        self.flush();
    }

    /// A pending path ends without a record (it failed, or nothing was learned).
    pub(crate) fn drop_pending(&mut self, path: &Path) {
        if let Some(None) = self.buffer.get(path.as_str()) {
            self.buffer.remove(path.as_str());
        }
        self.flush();
    }

    fn flush(&mut self) {
        while let Some(entry) = self.buffer.first_entry() {
            if entry.get().is_none() {
                return;
            }
            if let Some(record) = entry.remove() {
                self.write(&record);
            }
        }
    }

    fn write(&mut self, record: &Record) {
        let ok = self
            .out
            .as_mut()
            .is_some_and(|o| o.write_all(record.encode().as_bytes()).is_ok());
        if !ok {
            self.out = None; // a failed write: this run keeps no cache
        }
    }

    /// Writes what is left and puts the file in place of the old one.
    pub(crate) fn finish(mut self) {
        let rest: Vec<Record> = std::mem::take(&mut self.buffer)
            .into_values()
            .flatten()
            .collect();
        for r in &rest {
            self.write(r);
        }
        let done = self
            .out
            .take()
            .is_some_and(|mut o| o.flush().is_ok() && o.into_inner().is_ok());
        if !(done && std::fs::rename(&self.tmp, &self.file).is_ok()) {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Removes the caches of pairs not synced for 60 days, and temporary files a crashed run
/// left more than a day ago: a cache directory does not grow without bound.
fn prune(dir: &std::path::Path) {
    const DAY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let max_age = if name.ends_with(".cache") {
            60 * DAY
        } else if name.contains(".tmp.") {
            DAY
        } else {
            continue; // not ours
        };
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > max_age);
        if old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if self.out.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::TempDir;

    fn rec(path: &str, size: u64) -> Record {
        Record {
            path: path.into(),
            size,
            mtime: Some(1_700_000_000_123_456_789),
            src_tag: Some("fe00.1a.2b.3c".into()),
            md5: Hash::from_hex(HashKind::Md5, "0123456789abcdef0123456789abcdef").ok(),
            dst_tag: Some("\"etag\"-2".into()),
        }
    }

    #[test]
    fn records_round_trip_with_awkward_paths() {
        for path in ["a", "a b", "tab\there", "new\nline", "back\\slash", "ü/ß"] {
            let r = rec(path, 7);
            let line = r.encode();
            assert_eq!(
                Record::decode(line.trim_end_matches('\n')),
                Some(r),
                "{path:?}"
            );
        }
        let bare = Record {
            mtime: None,
            src_tag: None,
            md5: None,
            dst_tag: None,
            ..rec("x", 1)
        };
        assert_eq!(
            Record::decode(bare.encode().trim_end_matches('\n')),
            Some(bare)
        );
    }

    #[test]
    fn a_damaged_line_is_a_miss() {
        let line = rec("a", 7).encode();
        let damaged = line.replace("\t7\t", "\t8\t");
        assert_eq!(Record::decode(damaged.trim_end()), None);
        assert_eq!(Record::decode("garbage"), None);
    }

    #[test]
    fn output_then_cursor_reads_records_in_order_whatever_order_they_came() {
        let dir = TempDir::new().unwrap();
        let file = dir.path().join("x.cache");
        let mut out = Output::create(file.clone()).unwrap();
        out.pending(&Path::parse("b").unwrap());
        out.put(rec("c", 3)); // waits for b
        out.put(rec("a", 1));
        out.put(rec("b", 2));
        out.pending(&Path::parse("d").unwrap());
        out.put(rec("e", 5));
        out.drop_pending(&Path::parse("d").unwrap());
        out.finish();
        let mut c = Cursor::open(&file);
        assert_eq!(c.lookup("a").map(|r| r.size), Some(1));
        assert_eq!(c.lookup("b").map(|r| r.size), Some(2));
        assert_eq!(c.lookup("bb"), None);
        assert_eq!(c.lookup("c").map(|r| r.size), Some(3));
        assert_eq!(c.lookup("d"), None);
        assert_eq!(c.lookup("e").map(|r| r.size), Some(5));
        assert_eq!(c.lookup("f"), None);
    }

    #[test]
    fn an_out_of_order_file_stops_being_trusted() {
        let dir = TempDir::new().unwrap();
        let file = dir.path().join("x.cache");
        let body = format!(
            "{HEADER}{}{}{}",
            rec("b", 1).encode(),
            rec("a", 2).encode(),
            rec("c", 3).encode()
        );
        std::fs::write(&file, body).unwrap();
        let mut c = Cursor::open(&file);
        assert_eq!(c.lookup("c"), None);
    }

    #[test]
    fn another_format_or_no_file_reads_as_empty() {
        let dir = TempDir::new().unwrap();
        let file = dir.path().join("x.cache");
        assert_eq!(Cursor::open(&file).lookup("a"), None);
        std::fs::write(&file, format!("other 2\n{}", rec("a", 1).encode())).unwrap();
        assert_eq!(Cursor::open(&file).lookup("a"), None);
    }

    #[test]
    fn old_caches_and_leftovers_are_pruned_and_others_kept() {
        let dir = TempDir::new().unwrap();
        let old = SystemTime::now() - std::time::Duration::from_secs(61 * 24 * 3600);
        let touch = |name: &str, t: SystemTime| {
            let f = File::create(dir.path().join(name)).unwrap();
            f.set_modified(t).unwrap();
        };
        touch("old.cache", old);
        touch("new.cache", SystemTime::now());
        touch("x.tmp.1.2", old);
        touch("unrelated.txt", old);
        prune(dir.path());
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["new.cache", "unrelated.txt"]);
    }

    #[test]
    fn a_record_matches_only_the_same_state() {
        let e = Entry::file(Path::parse("a").unwrap(), 7)
            .with_modified(Some(
                UNIX_EPOCH + std::time::Duration::new(1_700_000_000, 123_456_789),
            ))
            .with_etag(Some("fe00.1a.2b.3c".into()));
        let r = rec("a", 7);
        assert!(r.matches(&e));
        assert!(!r.matches(&e.clone().with_etag(Some("fe00.1a.2b.3d".into()))));
        let mut later = e.clone();
        later.modified = later
            .modified
            .map(|t| t + std::time::Duration::from_nanos(1));
        assert!(!r.matches(&later));
        let mut bigger = e;
        bigger.size = 8;
        assert!(!r.matches(&bigger));
    }
}
