//! The checks every operation of a backend starts with, written once: the backend is not
//! closed, and a path that must name an object is not the root.
//!
//! A backend keeps one [`Guard`] (its name and its closed flag) and calls
//! [`check`](Guard::check) or [`object`](Guard::object) first thing in each operation;
//! [`close`](Guard::close) sets the flag for good.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, ErrorKind, Result};
use crate::path::Path;

/// A backend's closed flag and name, and the checks made with them.
#[derive(Debug)]
pub(crate) struct Guard {
    backend: &'static str,
    closed: AtomicBool,
}

impl Guard {
    /// An open guard for the backend called `backend` (`"mem"`, `"file"`, ...).
    pub(crate) const fn new(backend: &'static str) -> Guard {
        Guard {
            backend,
            closed: AtomicBool::new(false),
        }
    }

    /// Closes: every later check fails with [`ErrorKind::Closed`]. Idempotent.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Whether [`close`](Guard::close) was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// `Err(Closed)` for `op` once closed.
    pub(crate) fn check(&self, op: &'static str) -> Result<()> {
        if self.is_closed() {
            return Err(Error::closed(op).with_backend(self.backend));
        }
        Ok(())
    }

    /// [`check`](Guard::check), naming `path` in the error.
    pub(crate) fn check_at(&self, op: &'static str, path: &Path) -> Result<()> {
        if self.is_closed() {
            return Err(Error::closed(op).context(op, path.as_str(), self.backend));
        }
        Ok(())
    }

    /// [`check_at`](Guard::check_at), then `path` must name an object: the root is
    /// [`ErrorKind::InvalidPath`].
    pub(crate) fn object(&self, op: &'static str, path: &Path) -> Result<()> {
        self.check_at(op, path)?;
        if path.is_root() {
            return Err(self.error(
                ErrorKind::InvalidPath,
                "the root is not an object",
                op,
                path,
            ));
        }
        Ok(())
    }

    /// An error of `kind` for `op` on `path`, naming this backend.
    pub(crate) fn error(
        &self,
        kind: ErrorKind,
        message: &'static str,
        op: &'static str,
        path: &Path,
    ) -> Error {
        Error::new(kind, message).context(op, path.as_str(), self.backend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_and_root_are_refused() {
        let guard = Guard::new("test");
        let a = Path::parse("a").unwrap();
        guard.object("read", &a).unwrap();
        let root = guard.object("read", &Path::root()).unwrap_err();
        assert_eq!(root.kind(), ErrorKind::InvalidPath);
        guard.close();
        guard.close();
        assert_eq!(guard.check("list").unwrap_err().kind(), ErrorKind::Closed);
        let err = guard.object("read", &a).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Closed);
        assert_eq!(err.path(), Some("a"));
    }
}
