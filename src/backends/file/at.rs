//! Directories reached once and then used by handle: [`Dir`], the directory a write lands
//! in, and the opening of a file under the root in one step.
//!
//! On Linux with the `openat2` feature, the backend holds its root open, and reaches a path
//! under it with one `openat2(root, path, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`: the kernel
//! refuses a symlink anywhere on the way and any way out of the root, atomically, where the
//! portable walk checks each directory with `lstat` and then uses the path (a check, then a
//! use). A write then creates, renames and links its files relative to the directory's
//! handle (`openat`, `renameat`, `linkat`), so that all of it happens in the one directory
//! that was checked, and no step walks the full path again. Nothing is cached beyond the
//! root: each operation opens the directories it uses and closes them when it ends, so a
//! directory that is renamed, removed or replaced between two operations is seen as it is
//! now by the next one.
//!
//! Everywhere else (other systems, the default build, a kernel without `openat2` or one
//! that forbids it), the same calls take the portable route: paths, checked by the walk in
//! `confine.rs`.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path as FsPath, PathBuf};

use crate::backends::tree::Kind;

#[cfg(all(feature = "openat2", target_os = "linux"))]
pub(super) use handles::Handles;

/// The directory a write lands in: its path and, where handles are used, its handle.
pub(super) struct Dir {
    path: PathBuf,
    #[cfg(all(feature = "openat2", target_os = "linux"))]
    fd: Option<rustix::fd::OwnedFd>,
}

impl Dir {
    /// A directory reached by its path (the portable route).
    pub(super) fn by_path(path: PathBuf) -> Dir {
        Dir {
            path,
            #[cfg(all(feature = "openat2", target_os = "linux"))]
            fd: None,
        }
    }

    /// Its path (for messages, and for what still goes by path: the sweep for leftovers).
    pub(super) fn path(&self) -> &FsPath {
        &self.path
    }

    /// Creates the file `name` in it for writing; fails if anything is at that name (a
    /// symlink there is not followed).
    pub(super) fn create_new(&self, name: &str) -> io::Result<File> {
        #[cfg(all(feature = "openat2", target_os = "linux"))]
        if let Some(fd) = &self.fd {
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC;
            return Ok(
                rustix::fs::openat(fd, name, flags, Mode::from_bits_truncate(0o666))?.into(),
            );
        }
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.path.join(name))
    }

    /// Creates a file in it that has no name yet (`O_TMPFILE`), for [`link_anonymous`]
    /// to name once it is complete: nothing half-written is ever visible, nothing is left
    /// behind by a crash, and a new object costs one change of the directory instead of two
    /// (create, then rename). `None` where that is not available: without directory handles,
    /// on file systems without `O_TMPFILE`, or without `/proc/self/fd` (how an unprivileged
    /// process names such a file).
    ///
    /// [`link_anonymous`]: Dir::link_anonymous
    pub(super) fn create_anonymous(&self) -> Option<File> {
        #[cfg(all(feature = "openat2", target_os = "linux"))]
        if let Some(fd) = &self.fd {
            use rustix::fs::{Mode, OFlags};
            static PROC_FD: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
            if !*PROC_FD.get_or_init(|| FsPath::new("/proc/self/fd").is_dir()) {
                return None;
            }
            let flags = OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC;
            return rustix::fs::openat(fd, ".", flags, Mode::from_bits_truncate(0o666))
                .ok()
                .map(File::from);
        }
        None
    }

    /// Gives `file`, made by [`create_anonymous`](Dir::create_anonymous), the name `name`
    /// in this directory; fails with `AlreadyExists` if something is there.
    pub(super) fn link_anonymous(&self, file: &File, name: &str) -> io::Result<()> {
        #[cfg(all(feature = "openat2", target_os = "linux"))]
        if let Some(fd) = &self.fd {
            use rustix::fs::AtFlags;
            use std::os::fd::AsRawFd;
            let proc_path = format!("/proc/self/fd/{}", file.as_raw_fd());
            return Ok(rustix::fs::linkat(
                rustix::fs::CWD,
                proc_path.as_str(),
                fd,
                name,
                AtFlags::SYMLINK_FOLLOW,
            )?);
        }
        let _ = (file, name);
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }

    /// What `name` is, without following a symlink; `None` if nothing is there.
    pub(super) fn kind_of(&self, name: &str) -> io::Result<Option<Kind>> {
        #[cfg(all(feature = "openat2", target_os = "linux"))]
        if let Some(fd) = &self.fd {
            use rustix::fs::{AtFlags, FileType};
            return match rustix::fs::statat(fd, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => Ok(Some(match FileType::from_raw_mode(st.st_mode) {
                    FileType::Symlink => Kind::Symlink,
                    FileType::Directory => Kind::Dir,
                    FileType::RegularFile => Kind::File,
                    _ => Kind::Other,
                })),
                Err(rustix::io::Errno::NOENT) => Ok(None),
                Err(e) => Err(e.into()),
            };
        }
        match fs::symlink_metadata(self.path.join(name)) {
            Ok(m) => Ok(Some(super::confine::kind_of(m.file_type()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Renames `from` to `to`, both in this directory, replacing what is at `to`.
    pub(super) fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        #[cfg(all(feature = "openat2", target_os = "linux"))]
        if let Some(fd) = &self.fd {
            return Ok(rustix::fs::renameat(fd, from, fd, to)?);
        }
        fs::rename(self.path.join(from), self.path.join(to))
    }

    /// Links `to` to the file `from`, both in this directory; fails if `to` exists.
    pub(super) fn hard_link(&self, from: &str, to: &str) -> io::Result<()> {
        #[cfg(all(feature = "openat2", target_os = "linux"))]
        if let Some(fd) = &self.fd {
            use rustix::fs::AtFlags;
            return Ok(rustix::fs::linkat(fd, from, fd, to, AtFlags::empty())?);
        }
        fs::hard_link(self.path.join(from), self.path.join(to))
    }

    /// Removes the file `name`.
    pub(super) fn remove(&self, name: &str) -> io::Result<()> {
        #[cfg(all(feature = "openat2", target_os = "linux"))]
        if let Some(fd) = &self.fd {
            use rustix::fs::AtFlags;
            return Ok(rustix::fs::unlinkat(fd, name, AtFlags::empty())?);
        }
        fs::remove_file(self.path.join(name))
    }
}

/// Copies `len` bytes from `src` to `dst` (both regular files, at their current offsets) in
/// the kernel: `copy_file_range` on Linux (through `std::io::copy`, or called directly where
/// handles are used, which spares the two `fstat` that `std::io::copy` makes to choose).
/// Returns how many bytes were copied (fewer at the source's end).
pub(super) fn copy_file(src: &File, dst: &File, len: u64) -> io::Result<u64> {
    #[cfg(all(feature = "openat2", target_os = "linux"))]
    {
        let mut done = 0u64;
        while done < len {
            let chunk = usize::try_from(len - done)
                .unwrap_or(usize::MAX)
                .min(1 << 30);
            match rustix::fs::copy_file_range(src, None, dst, None, chunk) {
                Ok(0) => return Ok(done),
                Ok(n) => done += n as u64,
                Err(rustix::io::Errno::INTR) => {}
                // Not between these two (other file systems, old kernels, special files):
                // the rest by `std::io::copy`, which picks what works.
                Err(_) => break,
            }
        }
        if done == len {
            return Ok(done);
        }
        let mut rest = src.take(len - done);
        let mut out = dst;
        return Ok(done + io::copy(&mut rest, &mut out)?);
    }
    #[allow(unreachable_code)]
    {
        let mut rest = src.take(len);
        let mut out = dst;
        io::copy(&mut rest, &mut out)
    }
}

#[cfg(all(feature = "openat2", target_os = "linux"))]
mod handles {
    //! The root held open, and `openat2` beneath it.

    use std::fs::File;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex, PoisonError};

    use rustix::fd::OwnedFd;
    use rustix::fs::{Mode, OFlags, ResolveFlags};
    use rustix::io::Errno;

    use super::Dir;

    /// Whether this kernel lets us call `openat2` (Linux 5.6 and later, without a seccomp
    /// filter that forbids it); once found not to, the portable route is taken for good.
    static UNSUPPORTED: AtomicBool = AtomicBool::new(false);

    /// The kernel's rule for every lookup under the root: no symlink anywhere (not even a
    /// "magic" /proc one), and nothing outside the root (`..` cannot climb above it, an
    /// absolute path is refused).
    const BENEATH: ResolveFlags = ResolveFlags::BENEATH
        .union(ResolveFlags::NO_SYMLINKS)
        .union(ResolveFlags::NO_MAGICLINKS);

    /// What a lookup under the root found.
    pub(crate) enum Found<T> {
        Yes(T),
        /// Nothing there (`ENOENT`).
        Missing,
        /// An object in the way of a directory (`ENOTDIR`).
        NotDir,
        /// A symlink on the way or at the end (`ELOOP`, `EXDEV`).
        Symlink,
        /// Something that cannot be opened: a socket (`ENXIO`).
        Special,
    }

    impl<T> Found<T> {
        pub(crate) fn map<U>(self, f: impl FnOnce(T) -> U) -> Found<U> {
            match self {
                Found::Yes(t) => Found::Yes(f(t)),
                Found::Missing => Found::Missing,
                Found::NotDir => Found::NotDir,
                Found::Symlink => Found::Symlink,
                Found::Special => Found::Special,
            }
        }
    }

    /// The backend's handles: its root, opened on first use (once it exists) and kept.
    pub(crate) struct Handles {
        root: Mutex<Option<Arc<OwnedFd>>>,
    }

    impl Handles {
        pub(crate) fn new() -> Handles {
            Handles {
                root: Mutex::new(None),
            }
        }

        /// The root's handle; `None` where handles are not used (the kernel has no
        /// `openat2`) or the root cannot be opened (it does not exist yet: the caller goes
        /// the portable way, which creates it or finds nothing).
        fn root(&self, root: &std::path::Path) -> Option<Arc<OwnedFd>> {
            if UNSUPPORTED.load(Ordering::Relaxed) {
                return None;
            }
            let mut held = self.root.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(fd) = &*held {
                return Some(fd.clone());
            }
            let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
            let fd = Arc::new(rustix::fs::open(root, flags, Mode::empty()).ok()?);
            // Probe openat2 once, on the root itself.
            match rustix::fs::openat2(&*fd, ".", flags, Mode::empty(), BENEATH) {
                Ok(_) => {}
                Err(Errno::NOSYS | Errno::PERM | Errno::INVAL) => {
                    UNSUPPORTED.store(true, Ordering::Relaxed);
                    return None;
                }
                Err(_) => return None,
            }
            *held = Some(fd.clone());
            Some(fd)
        }

        /// `openat2(at, path, flags, BENEATH)`, retried while the kernel reports a
        /// concurrent rename (`EAGAIN`), with its errors sorted.
        fn open_beneath(
            at: &OwnedFd,
            path: &str,
            flags: OFlags,
        ) -> std::io::Result<Found<OwnedFd>> {
            // No `O_NOFOLLOW`: with `O_PATH` it would open a symlink at the end itself;
            // without it, `RESOLVE_NO_SYMLINKS` refuses one there too (`ELOOP`).
            let flags = flags | OFlags::CLOEXEC;
            let mut tries = 0;
            loop {
                return match rustix::fs::openat2(at, path, flags, Mode::empty(), BENEATH) {
                    Ok(fd) => Ok(Found::Yes(fd)),
                    Err(Errno::AGAIN) if tries < 8 => {
                        tries += 1;
                        continue;
                    }
                    Err(Errno::NOENT) => Ok(Found::Missing),
                    Err(Errno::NOTDIR) => Ok(Found::NotDir),
                    Err(Errno::LOOP | Errno::XDEV) => Ok(Found::Symlink),
                    // A socket (opening one fails so): not a regular file.
                    Err(Errno::NXIO) => Ok(Found::Special),
                    Err(e) => Err(e.into()),
                };
            }
        }

        /// Opens the file at `rel` (a checked object path, relative to the root) for
        /// reading. `None`: handles are not used here, go the portable way.
        pub(crate) fn open_file(
            &self,
            root: &std::path::Path,
            rel: &str,
        ) -> Option<std::io::Result<Found<File>>> {
            let at = self.root(root)?;
            // Non-blocking, so that opening a FIFO does not wait for a writer (its type is
            // checked right after, and it is refused); no effect on a regular file.
            let flags = OFlags::RDONLY | OFlags::NONBLOCK;
            Some(Self::open_beneath(&at, rel, flags).map(|found| found.map(File::from)))
        }

        /// The directory `rel` under the root (`""` is the root), with `create` made
        /// where missing (each level made with `mkdirat` in its parent, then opened
        /// beneath it). Returns it and whether this call made it. `None`: handles are not
        /// used here, go the portable way.
        pub(crate) fn dir(
            &self,
            root: &std::path::Path,
            rel: &str,
            create: bool,
        ) -> Option<std::io::Result<Found<(Dir, bool)>>> {
            let at = self.root(root)?;
            let flags = OFlags::PATH | OFlags::DIRECTORY;
            let path = |rel: &str| {
                if rel.is_empty() {
                    root.to_path_buf()
                } else {
                    root.join(rel)
                }
            };
            let whole = if rel.is_empty() { "." } else { rel };
            let dir = |fd| Dir {
                path: path(rel),
                fd: Some(fd),
            };
            match Self::open_beneath(&at, whole, flags) {
                Ok(Found::Missing) if create => {}
                Ok(found) => return Some(Ok(found.map(|fd| (dir(fd), false)))),
                Err(e) => return Some(Err(e)),
            }
            Some(Self::make(&at, rel).map(|found| found.map(|(fd, made)| (dir(fd), made))))
        }

        /// Walks `rel` from `root` one level at a time, making each missing directory;
        /// the last one's handle, and whether it was made here.
        fn make(root: &OwnedFd, rel: &str) -> std::io::Result<Found<(OwnedFd, bool)>> {
            let flags = OFlags::PATH | OFlags::DIRECTORY;
            let mut at: Option<OwnedFd> = None;
            let mut made = false;
            for seg in rel.split('/') {
                let parent = at.as_ref().unwrap_or(root);
                made = match rustix::fs::mkdirat(parent, seg, Mode::from_bits_truncate(0o777)) {
                    Ok(()) => true,
                    Err(Errno::EXIST) => false,
                    Err(Errno::NOTDIR) => return Ok(Found::NotDir),
                    Err(Errno::NOENT) => return Ok(Found::Missing),
                    Err(e) => return Err(e.into()),
                };
                match Self::open_beneath(parent, seg, flags)? {
                    Found::Yes(fd) => at = Some(fd),
                    Found::Missing => return Ok(Found::Missing),
                    Found::NotDir => return Ok(Found::NotDir),
                    Found::Symlink => return Ok(Found::Symlink),
                    Found::Special => return Ok(Found::NotDir),
                }
            }
            Ok(match at {
                Some(fd) => Found::Yes((fd, made)),
                None => Found::Missing,
            })
        }
    }
}

#[cfg(all(feature = "openat2", target_os = "linux"))]
pub(super) use handles::Found;
