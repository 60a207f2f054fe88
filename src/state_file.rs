//! Local state files, written whole or not at all: the one way the hash cache, bisync's state,
//! the S3 upload journal and the command-line tool's config are kept on disk.
//!
//! - [`AtomicFile`] writes a new version beside the file, under a name no other writer
//!   uses, and [`commit`](AtomicFile::commit) syncs it, renames it over the file and syncs
//!   the directory: a reader sees the old version or the new one, never a part, and a crash
//!   at any moment leaves one of the two (and at most a temporary file, which the next
//!   writer's [`sweep`] of its directory removes once it is old). Dropped uncommitted, it
//!   removes its temporary file. New files are private to their owner (mode `0600` on
//!   Unix): state files name paths, and the config holds secrets.
//! - [`write_atomic`] does it in one call.
//!
//! Inside the crate, line-oriented formats share `escape`/`unescape` (one field per
//! tab-separated column, one record per line) and `seal`/`unseal` (each line carries
//! its own CRC-32C, so a damaged line is dropped alone, never misread).
//!
//! ```
//! use omnistorage::state_file::{AtomicFile, write_atomic};
//! use std::io::Write;
//!
//! # let dir = std::env::temp_dir().join(format!("omnistorage-state-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! let path = dir.join("state.txt");
//! write_atomic(&path, b"one\n")?;
//!
//! let mut next = AtomicFile::create(&path)?;
//! next.write_all(b"two\n")?;
//! assert_eq!(std::fs::read(&path)?, b"one\n"); // not yet
//! next.commit()?;
//! assert_eq!(std::fs::read(&path)?, b"two\n");
//!
//! let mut dropped = AtomicFile::create(&path)?;
//! dropped.write_all(b"three\n")?;
//! drop(dropped); // never committed: nothing changes, nothing is left
//! assert_eq!(std::fs::read(&path)?, b"two\n");
//! assert_eq!(std::fs::read_dir(&dir)?.count(), 1);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// The marker in the names of temporary files ([`sweep`] looks for it).
const TMP_MARK: &str = ".omnistorage-tmp-";

/// A new version of a file, written beside it and put in its place by
/// [`commit`](AtomicFile::commit); see the [module docs](self).
#[derive(Debug)]
pub struct AtomicFile {
    dest: PathBuf,
    /// The temporary file's name, until it is renamed (or removed on drop).
    tmp: Option<PathBuf>,
    file: File,
}

impl AtomicFile {
    /// Starts a new version of `dest` (its directory must exist). The temporary file is
    /// `.NAME.omnistorage-tmp-PID-N` beside it, created new (mode `0600` on Unix).
    pub fn create(dest: impl AsRef<Path>) -> io::Result<AtomicFile> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let dest = dest.as_ref().to_path_buf();
        let name = dest
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?
            .to_string_lossy()
            .into_owned();
        let dir = dest.parent().unwrap_or_else(|| Path::new("."));
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let tmp = dir.join(format!(".{name}{TMP_MARK}{}-{n}", std::process::id()));
            let mut opts = fs::OpenOptions::new();
            opts.write(true).read(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            match opts.open(&tmp) {
                Ok(file) => {
                    return Ok(AtomicFile {
                        dest,
                        tmp: Some(tmp),
                        file,
                    });
                }
                // A leftover of a process that had our id before: take another number.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The file being written (to lock it, say: a lock taken here stays with the file
    /// [`commit`](AtomicFile::commit) returns).
    pub fn file(&self) -> &File {
        &self.file
    }

    /// Syncs the new version, renames it over the file and syncs the directory. Returns
    /// the file, still open (a duplicate handle of the same open file: a lock taken on
    /// [`file`](AtomicFile::file) is still held).
    pub fn commit(mut self) -> io::Result<File> {
        let Some(tmp) = self.tmp.take() else {
            return Err(io::Error::other("already committed"));
        };
        let done = self
            .file
            .sync_all()
            .and_then(|()| self.file.try_clone())
            .and_then(|file| fs::rename(&tmp, &self.dest).map(|()| file));
        match done {
            Ok(file) => {
                sync_dir(&self.dest);
                Ok(file)
            }
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(e)
            }
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let _ = fs::remove_file(tmp);
        }
    }
}

/// Makes a rename in `file`'s directory durable (Unix; elsewhere the rename is all).
fn sync_dir(file: &Path) {
    #[cfg(unix)]
    if let Some(dir) = file.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = file;
}

/// Whether `name` is the file name of an [`AtomicFile`]'s temporary file (a crashed
/// writer's, when no writer has it open).
pub fn is_temporary(name: &str) -> bool {
    name.contains(TMP_MARK)
}

/// Writes `data` to `dest` whole or not at all (see the [module docs](self)).
pub fn write_atomic(dest: impl AsRef<Path>, data: &[u8]) -> io::Result<()> {
    let mut f = AtomicFile::create(dest)?;
    f.write_all(data)?;
    f.commit().map(drop)
}

/// Removes the temporary files of [`AtomicFile`]s in `dir` last modified more than
/// `older_than` ago (a crashed writer's; a live writer's file is younger). Returns how many.
pub fn sweep(dir: impl AsRef<Path>, older_than: Duration) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().contains(TMP_MARK) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > older_than);
        if old && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// `s` as one field of a tab-separated line: `\`, tab, LF and CR escaped with a backslash.
#[cfg_attr(not(feature = "sync"), allow(dead_code))]
pub(crate) fn escape(s: &str) -> String {
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

/// The field [`escape`] made; `None` for an escape it does not make.
#[cfg_attr(not(feature = "sync"), allow(dead_code))]
pub(crate) fn unescape(s: &str) -> Option<String> {
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

/// `body` (one line's worth, without LF) as a sealed line: its CRC-32C in hex, a tab, the
/// body, LF.
#[cfg_attr(not(feature = "sync"), allow(dead_code))]
pub(crate) fn seal(body: &str) -> String {
    let crc = !crate::hash::crc32c::update(!0, body.as_bytes());
    format!("{crc:08x}\t{body}\n")
}

/// The body of a line [`seal`] made (without its LF), or `None` if it was damaged.
#[cfg_attr(not(feature = "sync"), allow(dead_code))]
pub(crate) fn unseal(line: &str) -> Option<&str> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let (crc, body) = line.split_once('\t')?;
    if crc.len() != 8 {
        return None;
    }
    let crc = u32::from_str_radix(crc, 16).ok()?;
    (crc == !crate::hash::crc32c::update(!0, body.as_bytes())).then_some(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::TempDir;

    #[test]
    fn fields_round_trip_whatever_they_hold() {
        for s in [
            "",
            "a",
            "tab\there",
            "new\nline\r",
            "back\\slash\\t",
            "ü/ß",
            "\\",
        ] {
            let e = escape(s);
            assert!(!e.contains(['\t', '\n', '\r']), "{e:?}");
            assert_eq!(unescape(&e).as_deref(), Some(s));
        }
        assert_eq!(unescape("bad\\x"), None);
        assert_eq!(unescape("trailing\\"), None);
    }

    #[test]
    fn a_sealed_line_opens_and_a_damaged_one_does_not() {
        let line = seal("a\tb\tc");
        assert!(line.ends_with('\n'));
        assert_eq!(unseal(&line), Some("a\tb\tc"));
        assert_eq!(unseal(line.trim_end()), Some("a\tb\tc"));
        assert_eq!(unseal(&line.replace('b', "x")), None);
        assert_eq!(unseal("garbage"), None);
        assert_eq!(unseal(""), None);
    }

    #[test]
    fn a_commit_replaces_the_file_and_leaves_nothing_else() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("s");
        write_atomic(&path, b"old").unwrap();
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"old");
        let kept = f.commit().unwrap();
        drop(kept);
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn new_state_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("s");
        write_atomic(&path, b"x").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }

    #[test]
    fn sweep_removes_only_old_temporary_files() {
        let dir = TempDir::new().unwrap();
        let old = SystemTime::now() - Duration::from_secs(3 * 24 * 3600);
        let touch = |name: &str, t: SystemTime| {
            let f = File::create(dir.path().join(name)).unwrap();
            f.set_modified(t).unwrap();
        };
        touch(".s.omnistorage-tmp-1-2", old);
        touch(".s.omnistorage-tmp-3-4", SystemTime::now());
        touch("s", old);
        assert_eq!(sweep(dir.path(), Duration::from_secs(24 * 3600)), 1);
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".s.omnistorage-tmp-3-4", "s"]);
    }
}
