//! The hash cache: what a run established about each pair, kept for the next run.
//!
//! One file per pair of roots (source and destination locations), under the user's cache
//! directory. A record names the source object at `path` in the state it was listed in
//! ([`Seen`]: size, time as listed, version tag — the file backend's device, inode and change
//! time, S3's ETag), the destination object in the state it was listed in (or written in),
//! the source's MD5 when known, and **which facts this run established** about the pair
//! ([`Known`]):
//!
//! - `content`: the two hold the same bytes, because this run compared their hashes or copied
//!   the bytes itself. Size and time agreeing is never a proof of this.
//! - `times`: the destination's stored modification time was within the modify window of
//!   the source's, because this run saw both stored times, set the destination's time, or
//!   copied the object with its time.
//!
//! Each comparison mode trusts only the fact it requires: `--checksum` settles a pair from
//! the cache only on `content`, the default size-and-time comparison only on `times`;
//! `--size-only` and `--ignore-times` never need the cache. So a `--size-only` run can
//! never leave a record that a later `--checksum` run takes for a proof, and a run that
//! compared hashes but never saw the destination's time cannot spare a later default run
//! the time check.
//!
//! A record is used only while **both** objects are in the states it names, as the next
//! run's listings show them: any change of the source (size, time, inode, change time,
//! ETag) or of the destination that its listing shows (a rewrite changes its tag; its listed
//! time, where listings carry one) is a miss, and the run compares as rclone does. A record found still valid
//! keeps the facts an earlier run established, and adds this run's. With the source state
//! alone, the cached MD5 spares hashing the source.
//!
//! The file is sorted by path, like listings, so it is read with a cursor beside the source
//! listing and written in order as the run goes (a small reorder buffer holds records that
//! wait for paths still in flight): memory does not grow with the tree. Each line carries
//! its own CRC-32C: a damaged line is a miss, never a wrong answer; a missing, unreadable
//! or out-of-order file, or one of another format version, means comparing again.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::state_file::{AtomicFile, escape, seal, unescape, unseal};
use crate::{Entry, Hash, HashKind, Location, Path};

/// Version 2: records carry the facts they establish (version 1 records claimed equality
/// whatever the comparison, and are not read).
const HEADER: &str = "omnistorage hash cache 2\n";

/// An object's state as a listing (or a write) showed it: what must be the same for a
/// record about it to hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Seen {
    pub(crate) size: u64,
    /// Nanoseconds since the epoch (negative before it), as listed; `None`: no time.
    pub(crate) mtime: Option<i128>,
    /// The store's version tag; without one, nothing can be recognised.
    pub(crate) tag: Option<String>,
}

impl Seen {
    /// The state of `e` as this run sees it.
    pub(crate) fn of(e: &Entry) -> Seen {
        Seen {
            size: e.size,
            mtime: nanos(e.modified),
            tag: e.etag.clone(),
        }
    }

    /// Whether `e` is in this state (a state without a tag matches nothing: size and time
    /// alone can miss a rewrite within the time's precision).
    fn is(&self, e: &Entry) -> bool {
        self.tag.is_some() && *self == Seen::of(e)
    }
}

/// The facts a run established about a pair (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Known {
    /// Same bytes: hashes compared, or the bytes copied by the run.
    pub(crate) content: bool,
    /// The destination's stored time within the window of the source's.
    pub(crate) times: bool,
}

impl Known {
    /// What either knows.
    pub(crate) fn or(self, other: Known) -> Known {
        Known {
            content: self.content || other.content,
            times: self.times || other.times,
        }
    }

    fn encode(self) -> &'static str {
        match (self.content, self.times) {
            (true, true) => "ct",
            (true, false) => "c",
            (false, true) => "t",
            (false, false) => "-",
        }
    }

    fn decode(s: &str) -> Option<Known> {
        let (content, times) = match s {
            "ct" => (true, true),
            "c" => (true, false),
            "t" => (false, true),
            "-" => (false, false),
            _ => return None,
        };
        Some(Known { content, times })
    }
}

/// What one run knew about one pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) path: String,
    /// The source, as listed.
    pub(crate) src: Seen,
    /// The source's MD5, if known.
    pub(crate) md5: Option<Hash>,
    /// The destination, as listed (or as the copy left it).
    pub(crate) dst: Seen,
    pub(crate) known: Known,
}

fn nanos(t: Option<SystemTime>) -> Option<i128> {
    t.map(|t| match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    })
}

impl Record {
    /// A record of the pair at `path`: the source and destination in the states seen, the
    /// source's MD5 (if known; a hash of another kind is not kept) and what was established.
    pub(crate) fn new(
        path: &Path,
        src: Seen,
        md5: Option<Hash>,
        dst: Seen,
        known: Known,
    ) -> Record {
        Record {
            path: path.as_str().to_owned(),
            src,
            md5: md5.filter(|h| h.kind() == HashKind::Md5),
            dst,
            known,
        }
    }

    /// Whether `src` (from this run's listing) is in the state this record describes: same
    /// size, time and version tag.
    pub(crate) fn matches(&self, src: &Entry) -> bool {
        self.src.is(src)
    }

    /// Whether `dst` (from this run's listing) is the object the record saw: the same
    /// size, tag and listed time.
    pub(crate) fn same_destination(&self, dst: &Entry) -> bool {
        self.dst.is(dst)
    }

    /// Whether `dst` holds the content the record saw: the same size and tag, whatever its
    /// listed time (a version tag changes with the content; a metadata-only change, which
    /// may keep S3's ETag, leaves the content as it was).
    pub(crate) fn same_content(&self, dst: &Entry) -> bool {
        self.dst.tag.is_some() && self.dst.size == dst.size && self.dst.tag == dst.etag
    }

    fn encode(&self) -> String {
        let opt = |s: &Option<String>| s.as_deref().map(escape).unwrap_or_default();
        let time = |t: Option<i128>| t.map(|n| n.to_string()).unwrap_or_default();
        let body = format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            escape(&self.path),
            self.src.size,
            time(self.src.mtime),
            opt(&self.src.tag),
            self.md5.map(|h| h.to_hex()).unwrap_or_default(),
            self.dst.size,
            time(self.dst.mtime),
            opt(&self.dst.tag),
            self.known.encode(),
        );
        seal(&body)
    }

    fn decode(line: &str) -> Option<Record> {
        let body = unseal(line)?;
        let f: Vec<&str> = body.split('\t').collect();
        let [
            path,
            size,
            mtime,
            src_tag,
            md5,
            dst_size,
            dst_mtime,
            dst_tag,
            known,
        ] = f.as_slice()
        else {
            return None;
        };
        let opt = |s: &str| {
            if s.is_empty() {
                Some(None)
            } else {
                unescape(s).map(Some)
            }
        };
        let time = |s: &str| -> Option<Option<i128>> {
            if s.is_empty() {
                Some(None)
            } else {
                Some(Some(s.parse().ok()?))
            }
        };
        Some(Record {
            path: unescape(path)?,
            src: Seen {
                size: size.parse().ok()?,
                mtime: time(mtime)?,
                tag: opt(src_tag)?,
            },
            md5: if md5.is_empty() {
                None
            } else {
                Some(Hash::from_hex(HashKind::Md5, md5).ok()?)
            },
            dst: Seen {
                size: dst_size.parse().ok()?,
                mtime: time(dst_mtime)?,
                tag: opt(dst_tag)?,
            },
            known: Known::decode(known)?,
        })
    }
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
    /// The new version of the cache file; `None` after a failed write (the run keeps no
    /// cache then).
    out: Option<BufWriter<AtomicFile>>,
    /// Pending paths (`None`) and records waiting for them (`Some`), by path.
    buffer: BTreeMap<String, Option<Record>>,
}

impl Output {
    /// A new cache file for `file` (written beside it, put in its place by `finish`);
    /// `None` if the directory cannot be written (then the run keeps no cache).
    pub(crate) fn create(file: PathBuf) -> Option<Output> {
        let dir = file.parent()?;
        std::fs::create_dir_all(dir).ok()?;
        prune(dir);
        let mut out = BufWriter::new(AtomicFile::create(&file).ok()?);
        out.write_all(HEADER.as_bytes()).ok()?;
        Some(Output {
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

    /// Writes what is left and puts the file in place of the old one (a failure keeps the
    /// old one).
    pub(crate) fn finish(mut self) {
        let rest: Vec<Record> = std::mem::take(&mut self.buffer)
            .into_values()
            .flatten()
            .collect();
        for r in &rest {
            self.write(r);
        }
        if let Some(Ok(file)) = self.out.take().map(|o| o.into_inner()) {
            let _ = file.commit();
        }
    }
}

/// Removes the caches of pairs not synced for 60 days, and temporary files a crashed run
/// left more than a day ago: a cache directory does not grow without bound.
fn prune(dir: &std::path::Path) {
    const DAY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
    crate::state_file::sweep(dir, DAY);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().ends_with(".cache") {
            continue; // not ours
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > 60 * DAY);
        if old {
            let _ = std::fs::remove_file(entry.path());
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
            src: Seen {
                size,
                mtime: Some(1_700_000_000_123_456_789),
                tag: Some("fe00.1a.2b.3c".into()),
            },
            md5: Hash::from_hex(HashKind::Md5, "0123456789abcdef0123456789abcdef").ok(),
            dst: Seen {
                size,
                mtime: Some(-5),
                tag: Some("\"etag\"-2".into()),
            },
            known: Known {
                content: true,
                times: false,
            },
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
            src: Seen {
                size: 1,
                mtime: None,
                tag: None,
            },
            md5: None,
            dst: Seen {
                size: 0,
                mtime: None,
                tag: None,
            },
            known: Known::default(),
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
        let damaged = line.replacen("\t7\t", "\t8\t", 1);
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
        assert_eq!(c.lookup("a").map(|r| r.src.size), Some(1));
        assert_eq!(c.lookup("b").map(|r| r.src.size), Some(2));
        assert_eq!(c.lookup("bb"), None);
        assert_eq!(c.lookup("c").map(|r| r.src.size), Some(3));
        assert_eq!(c.lookup("d"), None);
        assert_eq!(c.lookup("e").map(|r| r.src.size), Some(5));
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
        touch(".x.cache.omnistorage-tmp-1-2", old);
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

    #[test]
    fn a_destination_is_the_same_only_with_the_same_tag_and_listed_time() {
        let r = rec("a", 7);
        let dst = Entry::file(Path::parse("a").unwrap(), 7)
            .with_modified(Some(UNIX_EPOCH - std::time::Duration::from_nanos(5)))
            .with_etag(Some("\"etag\"-2".into()));
        assert!(r.same_destination(&dst));
        // S3 keeps the ETag when only the stored time is rewritten; the listed time moves.
        let touched = dst.clone().with_modified(Some(UNIX_EPOCH));
        assert!(!r.same_destination(&touched));
        assert!(!r.same_destination(&dst.clone().with_etag(None)));
        assert!(!r.same_destination(&dst.clone().with_etag(Some("other".into()))));
        // The content is the same whatever the listed time; not with another tag or size.
        assert!(r.same_content(&touched));
        assert!(!r.same_content(&dst.clone().with_etag(Some("other".into()))));
        let mut bigger = dst;
        bigger.size += 1;
        assert!(!r.same_content(&bigger));
    }

    #[test]
    fn a_version_1_cache_is_not_read() {
        // Version 1 records claimed equality whatever the comparison that made them.
        let dir = TempDir::new().unwrap();
        let file = dir.path().join("x.cache");
        let v1 = "omnistorage hash cache 1\n";
        std::fs::write(&file, format!("{v1}{}", rec("a", 1).encode())).unwrap();
        assert_eq!(Cursor::open(&file).lookup("a"), None);
    }

    #[test]
    fn known_facts_round_trip_and_combine() {
        for content in [false, true] {
            for times in [false, true] {
                let k = Known { content, times };
                assert_eq!(Known::decode(k.encode()), Some(k));
                let none = Known::default();
                assert_eq!(k.or(none), k);
            }
        }
        let c = Known {
            content: true,
            times: false,
        };
        let t = Known {
            content: false,
            times: true,
        };
        assert_eq!(
            c.or(t),
            Known {
                content: true,
                times: true
            }
        );
        assert_eq!(Known::decode("x"), None);
    }
}
