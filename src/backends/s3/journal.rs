//! The upload journal ([`S3Builder::upload_journal`](super::S3Builder::upload_journal)): one
//! small file per multipart upload that a writer with a
//! [`resume_id`](crate::WriteOptions::resume_id) started, so that the next process can take
//! it up (or abort it) after this one was killed.
//!
//! An entry names the endpoint, bucket, key, upload id, part size and the caller's identity
//! of the content. Its file is named by a hash of endpoint, bucket and key (one entry per
//! object) and is written whole: to a temporary file that is locked
//! ([`File::try_lock`]) before it is renamed into place, so that an entry is never seen half
//! written, nor unlocked while its writer lives. The lock says "a live writer owns this":
//! an entry that can be locked belongs to a dead one.
//!
//! An entry is written *before* CreateMultipartUpload, without an upload id ("creating",
//! with the time it was written), and again with the id once the upload exists: a process
//! killed between the two leaves a creating entry, and whoever finds it dead (the next writer
//! of the object, or a reclaim) aborts the key's uploads begun within [`CREATE_WINDOW`] of
//! that time, none of which can hold a part yet. (An upload of the same key that another
//! client began in that window is aborted too; its writer then fails with a clear error, and
//! nothing is lost.)
//!
//! Entries of dead writers older than [`MAX_AGE`] are deleted when a backend opens the
//! journal (`S3Builder::build`), whatever bucket they name: a journal shared by many
//! buckets keeps no entry for ever of one never opened again. Their uploads are not aborted
//! (that needs the bucket's credentials and endpoint settings, which the journal does not
//! keep): a bucket lifecycle rule (`AbortIncompleteMultipartUpload`) or
//! `omnistorage cleanup` removes them.
//!
//! The locks are held by the [`Journal`] (one per backend), on behalf of [`Claim`]s the
//! writers hold. A claim that is never dropped (a writer leaked with `std::mem::forget`)
//! keeps its lock until the backend is dropped, as a killed process's lock goes with it.

use std::collections::HashMap;
use std::fs::{self, File, TryLockError};
use std::io::{Read, Write};
use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The first line of every entry this version writes.
const MAGIC: &str = "omnistorage-upload 2";
/// The first line of the entries of the first version (no creating state, no time): still
/// read, so that their uploads are taken up or aborted.
const MAGIC_1: &str = "omnistorage-upload 1";
/// How long after a creating entry was written an upload of its key may have been begun by
/// its writer: CreateMultipartUpload with its retries, each within the request timeout.
pub(crate) const CREATE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Entries of dead writers older than this are deleted when a backend opens the journal.
pub(crate) const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
/// Entries are small; anything larger is not ours.
const MAX_ENTRY: u64 = 64 * 1024;
const SUFFIX: &str = ".upload";

/// What an entry records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) endpoint: String,
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) upload_id: String,
    pub(crate) part_size: usize,
    pub(crate) identity: String,
    /// The MD5 (hex) of the headers the upload was created with (content type, metadata,
    /// the stored modification time and MD5): an upload is only taken up with the same.
    pub(crate) headers: String,
    /// When the entry was first written, before CreateMultipartUpload (whole seconds since
    /// 1970; `None` in first-version entries).
    pub(crate) started: Option<u64>,
}

impl Record {
    fn encode(&self) -> String {
        format!(
            "{MAGIC}\nendpoint {}\nbucket {}\nkey {}\nupload_id {}\npart_size {}\nidentity {}\n\
             headers {}\nstarted {}\n",
            escape(&self.endpoint),
            escape(&self.bucket),
            escape(&self.key),
            escape(&self.upload_id),
            self.part_size,
            escape(&self.identity),
            escape(&self.headers),
            self.started.unwrap_or(0),
        )
    }

    /// Reads an entry; `None` for anything that is not one, whole.
    pub(crate) fn decode(text: &str) -> Option<Record> {
        // Every line ends with a newline: a file cut short is no entry.
        let mut lines = text.strip_suffix('\n')?.split('\n');
        let version = match lines.next()? {
            MAGIC => 2,
            MAGIC_1 => 1,
            _ => return None,
        };
        let mut field = |name: &str| -> Option<String> {
            let line = lines.next()?;
            unescape(line.strip_prefix(name)?.strip_prefix(' ')?)
        };
        let mut record = Record {
            endpoint: field("endpoint")?,
            bucket: field("bucket")?,
            key: field("key")?,
            upload_id: field("upload_id")?,
            part_size: field("part_size")?.parse().ok()?,
            identity: field("identity")?,
            headers: field("headers")?,
            started: None,
        };
        if version == 2 {
            record.started = Some(field("started")?.parse().ok()?);
        }
        // Only this version writes creating entries, and always with their time.
        let whole = match version {
            1 => !record.upload_id.is_empty(),
            _ => !record.upload_id.is_empty() || record.started.is_some_and(|t| t > 0),
        };
        (lines.next().is_none() && whole).then_some(record)
    }

    /// An entry written before its upload was created: no upload id yet.
    pub(crate) fn creating(&self) -> bool {
        self.upload_id.is_empty()
    }

    /// For a creating entry, the times within which its writer may have begun an upload.
    pub(crate) fn create_window(&self) -> Option<(SystemTime, SystemTime)> {
        let started = UNIX_EPOCH + Duration::from_secs(self.started?);
        Some((started, started + CREATE_WINDOW))
    }

    /// Now, in whole seconds since 1970, for [`started`](Record::started).
    pub(crate) fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_secs())
    }

    fn same_object(&self, endpoint: &str, bucket: &str, key: &str) -> bool {
        self.endpoint == endpoint && self.bucket == bucket && self.key == key
    }
}

/// The digest of an upload's headers recorded in its entry.
pub(crate) fn headers_digest(headers: &[(String, String)]) -> String {
    let mut sorted: Vec<String> = headers
        .iter()
        .map(|(k, v)| format!("{}:{v}\n", k.to_ascii_lowercase()))
        .collect();
    sorted.sort();
    crate::hash::hex_encode(&super::client::md5_of(sorted.concat().as_bytes()))
}

/// `%`, CR and LF as `%25`, `%0D`, `%0A`: one field a line.
fn escape(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\n', "%0A")
        .replace('\r', "%0D")
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('%') {
        out.push_str(rest.get(..i)?);
        let code = rest.get(i + 1..i + 3)?;
        out.push(match code {
            "25" => '%',
            "0A" => '\n',
            "0D" => '\r',
            _ => return None,
        });
        rest = rest.get(i + 3..)?;
    }
    out.push_str(rest);
    Some(out)
}

/// The entry file of one object: a 64-bit FNV-1a of endpoint, bucket and key.
fn file_name(endpoint: &str, bucket: &str, key: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in endpoint
        .bytes()
        .chain([0])
        .chain(bucket.bytes())
        .chain([0])
        .chain(key.bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}{SUFFIX}")
}

/// The journal of one backend: its directory, and the entries its writers hold locked.
#[derive(Debug)]
pub(crate) struct Journal {
    dir: PathBuf,
    held: Mutex<HashMap<u64, File>>,
    next: AtomicU64,
}

/// What a writer finds for its object.
pub(crate) enum Found {
    /// Another live writer holds the entry: this writer goes without the journal.
    Busy,
    /// No entry: the claim records the upload once it starts.
    Fresh(Claim),
    /// The entry of a dead writer, now held by the claim.
    Dead(Claim, Record),
}

impl Journal {
    /// The journal in `dir`; deletes the entries of dead writers older than [`MAX_AGE`]
    /// (see the module docs).
    pub(crate) fn new(dir: PathBuf) -> Journal {
        let journal = Journal {
            dir,
            held: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
        };
        journal.prune(MAX_AGE);
        journal
    }

    /// The files of the journal's entries, and of half-written ones (an entry whose writer
    /// died before it was renamed into place: a [`crate::state_file`] temporary file, or
    /// `.tmp` from before). None if the directory cannot be read.
    fn entry_files(&self) -> Vec<PathBuf> {
        let Ok(dir) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        dir.flatten()
            .filter(|item| {
                let name = item.file_name();
                let name = name.to_string_lossy();
                name.ends_with(SUFFIX)
                    || name.ends_with(".tmp")
                    || crate::state_file::is_temporary(&name)
            })
            .map(|item| item.path())
            .collect()
    }

    /// Deletes the entries (and half-written ones) of dead writers last written more than
    /// `age` ago; returns how many. Their uploads are left (see the module docs).
    fn prune(&self, age: Duration) -> usize {
        let Some(before) = SystemTime::now().checked_sub(age) else {
            return 0;
        };
        let mut pruned = 0;
        for path in self.entry_files() {
            let old = |p: &FsPath| {
                fs::symlink_metadata(p)
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t < before)
            };
            if !old(&path) {
                continue;
            }
            // Locked: its writer lives (an old entry of a long upload), so it stays.
            let Some((file, _)) = open_dead(&path) else {
                continue;
            };
            if same_file(&path, &file) && old(&path) {
                let _ = fs::remove_file(&path);
                pruned += 1;
            }
        }
        pruned
    }

    fn held(&self) -> MutexGuard<'_, HashMap<u64, File>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Looks for the entry of `key`, and takes it if its writer is dead. Never fails: a
    /// journal that cannot be read is a journal without entries.
    pub(crate) fn find(self: &Arc<Journal>, endpoint: &str, bucket: &str, key: &str) -> Found {
        let path = self.dir.join(file_name(endpoint, bucket, key));
        let token = self.next.fetch_add(1, Ordering::Relaxed);
        let claim = Claim {
            journal: Arc::downgrade(self),
            token,
            path: path.clone(),
        };
        let Some((file, text)) = open_dead(&path) else {
            return if path.exists() {
                Found::Busy
            } else {
                Found::Fresh(claim)
            };
        };
        match Record::decode(&text) {
            Some(record) if record.same_object(endpoint, bucket, key) => {
                self.held().insert(token, file);
                Found::Dead(claim, record)
            }
            // Another object with the same hash: leave it be.
            Some(_) => Found::Busy,
            // Damaged, and no one's: it can never be used.
            None => {
                remove_if_same(&path, &file);
                Found::Fresh(claim)
            }
        }
    }

    /// Aborts (with `abort(record)`: its upload, or for a creating entry the key's uploads
    /// begun in its window) the upload of every dead writer's entry for `endpoint` and
    /// `bucket` whose key starts with `key_prefix`, and removes the entry once the upload is
    /// gone. Entries that live writers hold are left alone, and so are entries whose abort
    /// failed (the next reclaim tries again). Returns how many were reclaimed.
    pub(crate) fn reclaim(
        &self,
        endpoint: &str,
        bucket: &str,
        key_prefix: &str,
        abort: impl Fn(&Record) -> crate::Result<()>,
    ) -> usize {
        let mut reclaimed = 0;
        for path in self.entry_files() {
            let Some((file, text)) = open_dead(&path) else {
                continue;
            };
            let Some(record) = Record::decode(&text) else {
                // Damaged or half written, and no one's: nothing to abort.
                remove_if_same(&path, &file);
                continue;
            };
            if record.endpoint != endpoint
                || record.bucket != bucket
                || !record.key.starts_with(key_prefix)
            {
                continue;
            }
            if abort(&record).is_ok() {
                remove_if_same(&path, &file);
                reclaimed += 1;
            }
        }
        reclaimed
    }
}

/// Opens and locks `path` and reads it, if it exists and no one holds it.
fn open_dead(path: &FsPath) -> Option<(File, String)> {
    let file = File::options().read(true).write(true).open(path).ok()?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock | TryLockError::Error(_)) => return None,
    }
    // The entry may have been replaced (renamed over) while it was being opened: what is
    // locked must still be what the name points to.
    if !same_file(path, &file) {
        return None;
    }
    let mut text = String::new();
    (&file).take(MAX_ENTRY).read_to_string(&mut text).ok()?;
    Some((file, text))
}

#[cfg(unix)]
fn same_file(path: &FsPath, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(path: &FsPath, _file: &File) -> bool {
    path.exists()
}

/// Removes `path` if it is still `file` (which the caller holds locked).
fn remove_if_same(path: &FsPath, file: &File) {
    if same_file(path, file) {
        let _ = fs::remove_file(path);
    }
}

/// A writer's hold on the entry of its object. Dropping it lets the entry go (unlocked, left
/// for the next writer or a reclaim); [`Claim::remove`] deletes it.
#[derive(Debug)]
pub(crate) struct Claim {
    journal: Weak<Journal>,
    token: u64,
    path: PathBuf,
}

impl Claim {
    /// Writes `record` as the entry, whole, and holds it; whether it did. Best effort: on
    /// failure the upload goes on without an entry (it cannot be resumed).
    pub(crate) fn record(&self, record: &Record) -> bool {
        let Some(journal) = self.journal.upgrade() else {
            return false;
        };
        // Written beside the entry, locked before its first byte (so a reclaimer never takes
        // a live writer's half-written entry), then put in place whole; the lock stays with
        // the file `commit` returns.
        let written = (|| -> std::io::Result<File> {
            fs::create_dir_all(&journal.dir)?;
            let mut next = crate::state_file::AtomicFile::create(&self.path)?;
            next.file().try_lock().map_err(std::io::Error::from)?;
            next.write_all(record.encode().as_bytes())?;
            next.commit()
        })();
        match written {
            Ok(file) => {
                // The old entry (if held) goes with its lock: it was replaced.
                journal.held().insert(self.token, file);
                true
            }
            Err(_) => false,
        }
    }

    /// Deletes the entry (if this claim holds one) and lets it go.
    pub(crate) fn remove(self) {
        if let Some(journal) = self.journal.upgrade()
            && let Some(file) = journal.held().remove(&self.token)
        {
            remove_if_same(&self.path, &file);
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(journal) = self.journal.upgrade() {
            journal.held().remove(&self.token);
        }
    }
}

impl super::Inner {
    /// Aborts the uploads of dead writers under the backend's root in its upload journal:
    /// on `close`, and when the last handle is dropped without it.
    pub(super) fn reclaim(&self) {
        if let Some(journal) = &self.journal {
            let (client, cfg) = (&self.client, &self.client.cfg);
            journal.reclaim(&cfg.endpoint, &cfg.bucket, &self.root_key(), |record| {
                super::multipart::abort_recorded(client, record)
            });
        }
    }
}

impl Drop for super::Inner {
    /// A backend dropped without `close` reclaims as `close` does: a program (the
    /// `omnistorage` tool among them) that just lets its backends go leaves nothing behind.
    fn drop(&mut self) {
        if !self.closed.load(Ordering::Acquire) {
            self.reclaim();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> Record {
        Record {
            endpoint: "http://127.0.0.1:3900".into(),
            bucket: "b".into(),
            key: "dir/k%\nx".into(),
            upload_id: id.into(),
            part_size: 5 << 20,
            identity: "src\n42 %0A".into(),
            headers: "0123".into(),
            started: Some(1_700_000_000),
        }
    }

    #[test]
    fn records_round_trip_and_refuse_damage() {
        let r = record("u1");
        let text = r.encode();
        assert_eq!(Record::decode(&text), Some(r.clone()));
        let cut = text.get(..text.len() - 5).unwrap_or_default();
        assert_eq!(Record::decode(cut), None);
        assert_eq!(Record::decode(&text.replace("%0A", "%0Z")), None);
        assert_eq!(Record::decode(&format!("{text}extra\n")), None);
        assert_eq!(Record::decode(""), None);
        // A creating entry: no upload id, but its time.
        let creating = record("");
        assert!(creating.creating());
        assert_eq!(Record::decode(&creating.encode()), Some(creating.clone()));
        let (from, to) = creating.create_window().unwrap();
        assert_eq!(from, UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        assert_eq!(to, from + CREATE_WINDOW);
        let timeless = Record {
            started: Some(0),
            ..creating
        };
        assert_eq!(Record::decode(&timeless.encode()), None);
        // First-version entries are still read (not creating, no time).
        let v1 = "omnistorage-upload 1\nendpoint e\nbucket b\nkey k\nupload_id u\n\
                  part_size 5242880\nidentity i\nheaders h\n";
        let old = Record::decode(v1).unwrap();
        assert_eq!((old.upload_id.as_str(), old.started), ("u", None));
        assert_eq!(
            Record::decode(&v1.replace("upload_id u", "upload_id ")),
            None
        );
    }

    #[test]
    fn old_dead_entries_are_pruned_when_a_journal_opens() {
        let dir = temp_dir("prune");
        let journal = Arc::new(Journal::new(dir.clone()));
        let entry = |key: &str| {
            let r = Record {
                key: key.into(),
                ..record("u")
            };
            let Found::Fresh(claim) = journal.find(&r.endpoint, &r.bucket, &r.key) else {
                panic!("no entry yet");
            };
            assert!(claim.record(&r));
            (claim, dir.join(file_name(&r.endpoint, &r.bucket, &r.key)))
        };
        let age = |path: &FsPath, days: u64| {
            let file = File::options().write(true).open(path).unwrap();
            let t = SystemTime::now() - Duration::from_secs(days * 24 * 3600);
            file.set_modified(t).unwrap();
        };
        let (old_dead, old_dead_path) = entry("old-dead");
        let (old_live, old_live_path) = entry("old-live");
        let (young_dead, young_dead_path) = entry("young-dead");
        drop((old_dead, young_dead)); // their writers died
        age(&old_dead_path, 8);
        age(&old_live_path, 8);
        age(&young_dead_path, 6);
        // Another backend (process) opens the journal.
        let other = Journal::new(dir.clone());
        assert!(!old_dead_path.exists(), "a week-old dead entry goes");
        assert!(
            old_live_path.exists(),
            "a live writer's entry stays, however old"
        );
        assert!(
            young_dead_path.exists(),
            "a younger one stays, for a reclaim"
        );
        assert_eq!(
            other.prune(Duration::from_secs(3600)),
            1,
            "the young dead one"
        );
        drop((old_live, journal));
        let _ = fs::remove_dir_all(&dir);
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("omni-journal-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn live_entries_are_busy_dead_ones_are_found_and_reclaimed() {
        let dir = temp_dir("life");
        let r = record("u1");
        let journal = Arc::new(Journal::new(dir.clone()));
        let Found::Fresh(claim) = journal.find(&r.endpoint, &r.bucket, &r.key) else {
            panic!("no entry yet");
        };
        claim.record(&r);
        // Held by the claim: another journal (another process) sees it busy.
        let other = Arc::new(Journal::new(dir.clone()));
        assert!(matches!(
            other.find(&r.endpoint, &r.bucket, &r.key),
            Found::Busy
        ));
        assert_eq!(other.reclaim(&r.endpoint, &r.bucket, "", |_| Ok(())), 0);
        // Leaked, then the first journal goes (its process died): the entry is dead.
        std::mem::forget(claim);
        drop(journal);
        let Found::Dead(claim, found) = other.find(&r.endpoint, &r.bucket, &r.key) else {
            panic!("the dead writer's entry");
        };
        assert_eq!(found, r);
        drop(claim);
        // Reclaim: only this bucket's entries under the prefix, and only when aborted.
        assert_eq!(other.reclaim(&r.endpoint, "other", "", |_| Ok(())), 0);
        assert_eq!(other.reclaim(&r.endpoint, &r.bucket, "zzz", |_| Ok(())), 0);
        let failed = other.reclaim(&r.endpoint, &r.bucket, "dir/", |_| {
            Err(crate::Error::new(crate::ErrorKind::Io, "down"))
        });
        assert_eq!(failed, 0);
        let aborted = Mutex::new(Vec::new());
        let n = other.reclaim(&r.endpoint, &r.bucket, "dir/", |rec| {
            aborted
                .lock()
                .unwrap()
                .push((rec.key.clone(), rec.upload_id.clone()));
            Ok(())
        });
        assert_eq!(n, 1);
        assert_eq!(*aborted.lock().unwrap(), [(r.key.clone(), "u1".to_owned())]);
        assert!(matches!(
            other.find(&r.endpoint, &r.bucket, &r.key),
            Found::Fresh(_)
        ));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn removed_claims_leave_nothing() {
        let dir = temp_dir("remove");
        let r = record("u2");
        let journal = Arc::new(Journal::new(dir.clone()));
        let Found::Fresh(claim) = journal.find(&r.endpoint, &r.bucket, &r.key) else {
            panic!("no entry yet");
        };
        claim.record(&r);
        claim.record(&record("u3"));
        claim.remove();
        let left: Vec<_> = fs::read_dir(&dir).unwrap().flatten().collect();
        assert!(left.is_empty(), "{left:?}");
        let _ = fs::remove_dir_all(&dir);
    }
}
