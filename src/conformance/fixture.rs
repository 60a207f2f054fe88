//! What a case runs against: [`Fixture`] (the backend, an optional sibling on the same store,
//! skips, cleanup) and [`TempDir`].

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::Backend;

/// Opens another backend on the same store as the fixture's, under a different root.
type Sibling = Box<dyn Fn() -> Box<dyn Backend> + Send + Sync>;

/// A backend made for one case, and what to do when the case is over.
///
/// ```
/// use omnistorage::conformance::{Fixture, TempDir};
/// use omnistorage::{Backend, FileBackend};
///
/// // Two directories of one file system: a second root on the same store, for the cases of
/// // `copy_from` and `rename_from`.
/// let dir = TempDir::new()?;
/// let (main, other) = (dir.path().join("main"), dir.path().join("other"));
/// let fixture = Fixture::new(FileBackend::new(&main)?)
///     .with_sibling(move || Box::new(FileBackend::new(&other).expect("backend")))
///     .with_guard(dir);
/// let sibling = fixture.sibling().expect("a sibling");
/// assert!(sibling.location().unwrap().same_store(&fixture.backend().location().unwrap()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Fixture {
    backend: Box<dyn Backend>,
    sibling: Option<Sibling>,
    cleanup: Option<Box<dyn FnOnce() + Send>>,
    skips: Vec<(&'static str, &'static str)>,
}

impl Fixture {
    /// A fixture around `backend`.
    pub fn new(backend: impl Backend + 'static) -> Fixture {
        Fixture::boxed(Box::new(backend))
    }

    /// A fixture around a boxed backend.
    pub fn boxed(backend: Box<dyn Backend>) -> Fixture {
        Fixture {
            backend,
            sibling: None,
            cleanup: None,
            skips: Vec::new(),
        }
    }

    /// Skips `case` for this fixture, for the stated `reason` (printed when it is skipped).
    ///
    /// For a test server that deviates from the real service in a way the backend cannot
    /// paper over (a filesystem-backed S3 emulator that answers HEAD on a directory with a
    /// 500, say). State the reason, and run the case against a faithful server too.
    ///
    /// Panics if `case` is not the name of a case, so that a typo cannot skip nothing.
    pub fn skip(mut self, case: &'static str, reason: &'static str) -> Fixture {
        assert!(
            super::CASES.iter().any(|(name, _)| *name == case),
            "no conformance case is called {case:?}"
        );
        self.skips.push((case, reason));
        self
    }

    /// Why `case` is skipped for this fixture, if it is.
    pub fn skip_reason(&self, case: &str) -> Option<&'static str> {
        self.skips.iter().find(|(c, _)| *c == case).map(|(_, r)| *r)
    }

    /// Gives the cases a way to open a **sibling**: another backend on the [same
    /// store](crate::Location::same_store) as the fixture's, under a different, initially
    /// empty root (another directory of the file system, another prefix of the bucket).
    /// The cases of [`copy_from`](crate::Backend::copy_from) and
    /// [`rename_from`](crate::Backend::rename_from) need one; without it they skip.
    ///
    /// `open` may be called more than once in a case; every call reaches the same root.
    pub fn with_sibling(
        mut self,
        open: impl Fn() -> Box<dyn Backend> + Send + Sync + 'static,
    ) -> Fixture {
        self.sibling = Some(Box::new(open));
        self
    }

    /// A sibling backend, if the fixture can open one ([`with_sibling`](Fixture::with_sibling)).
    pub fn sibling(&self) -> Option<Box<dyn Backend>> {
        self.sibling.as_ref().map(|open| open())
    }

    /// Runs `cleanup` when the fixture is dropped (after the backend is closed).
    pub fn with_cleanup(mut self, cleanup: impl FnOnce() + Send + 'static) -> Fixture {
        self.cleanup = Some(Box::new(cleanup));
        self
    }

    /// Keeps `guard` alive as long as the fixture (a [`TempDir`], a server handle, ...).
    pub fn with_guard<G: Send + 'static>(self, guard: G) -> Fixture {
        self.with_cleanup(move || drop(guard))
    }

    /// The backend under test.
    pub fn backend(&self) -> &dyn Backend {
        &*self.backend
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.backend.close();
        if let Some(cleanup) = self.cleanup.take() {
            cleanup();
        }
    }
}

/// A fresh directory under the system's temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates a new, empty directory.
    pub fn new() -> io::Result<TempDir> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!(
                "omnistorage-test-{}-{n}-{nanos:x}",
                std::process::id()
            ));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(TempDir { path }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Its path.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
