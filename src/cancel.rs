//! [`Cancel`]: a token that asks long operations to stop.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};

/// A cancellation token: cheap to clone, shared between the caller and the operations it
/// started. After [`cancel`](Cancel::cancel), every operation that was given the token
/// (through [`ReadOptions`](crate::ReadOptions), [`WriteOptions`](crate::WriteOptions),
/// [`ListOptions`](crate::ListOptions) or a helper's argument) returns
/// [`ErrorKind::Cancelled`] at its next check: between the buffers of a copy, between the
/// pages of a listing, between the parts of an upload, and at once from a retry's sleep.
/// A writer that is cancelled is aborted, never committed.
///
/// ```
/// use omnistorage::{BackendExt, Cancel, ErrorKind, MemoryBackend, WriteOptions, Path, Backend};
/// use std::io::Write;
///
/// let store = MemoryBackend::new();
/// let cancel = Cancel::new();
/// let mut w = store.writer(&Path::parse("big")?, &WriteOptions::new().cancel(&cancel))?;
/// w.write_all(b"first part")?;
/// cancel.cancel();
/// let err = w.write_all(b"more").unwrap_err();
/// assert_eq!(omnistorage::Error::from(err).kind(), ErrorKind::Cancelled);
/// assert_eq!(w.finish().unwrap_err().kind(), ErrorKind::Cancelled);
/// assert!(!store.contains("big")?); // nothing was committed
/// # Ok::<(), omnistorage::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Cancel(Arc<Shared>);

#[derive(Default)]
struct Shared {
    /// Read without the lock on every check.
    flag: AtomicBool,
    /// Held by `cancel` while it notifies, and by a sleeper while it checks the flag, so that
    /// no wake-up is lost.
    lock: Mutex<()>,
    woken: Condvar,
}

impl Cancel {
    /// A token not cancelled yet.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Cancels: every holder sees it, and sleepers wake at once. Idempotent.
    pub fn cancel(&self) {
        self.0.flag.store(true, Ordering::SeqCst);
        let _guard = self.0.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.0.woken.notify_all();
    }

    /// Whether [`cancel`](Cancel::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.flag.load(Ordering::SeqCst)
    }

    /// `Err(Cancelled)` if cancelled, else `Ok`: the check long loops make.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(cancelled())
        } else {
            Ok(())
        }
    }

    /// Sleeps for `duration`, or until cancelled, whichever comes first; `Err(Cancelled)` if
    /// cancelled. Retries sleep through this so that a cancel ends them at once.
    pub fn sleep(&self, duration: Duration) -> Result<()> {
        let deadline = Instant::now() + duration;
        let mut guard = self.0.lock.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if self.is_cancelled() {
                return Err(cancelled());
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(());
            }
            guard = self
                .0
                .woken
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// The error of a cancelled operation.
pub(crate) fn cancelled() -> Error {
    Error::new(ErrorKind::Cancelled, "cancelled")
}

/// Checks an optional token.
pub(crate) fn check(cancel: Option<&Cancel>) -> Result<()> {
    cancel.map_or(Ok(()), Cancel::check)
}

impl fmt::Debug for Cancel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Cancel").field(&self.is_cancelled()).finish()
    }
}

/// Tokens compare equal when they are the same token (clones of one another).
impl PartialEq for Cancel {
    fn eq(&self, other: &Cancel) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Cancel {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn sleep_ends_early_on_cancel() {
        let cancel = Cancel::new();
        let other = cancel.clone();
        let start = Instant::now();
        let t = thread::spawn(move || other.sleep(Duration::from_secs(30)));
        // The sleeper is woken by the cancel whether it started waiting before or after.
        cancel.cancel();
        let r = t.join().expect("sleeper panicked");
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Cancelled);
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn sleep_runs_its_time_when_not_cancelled() {
        let start = Instant::now();
        Cancel::new().sleep(Duration::from_millis(20)).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(20));
    }

    #[test]
    fn clones_share_and_compare_equal() {
        let a = Cancel::new();
        let b = a.clone();
        assert_eq!(a, b);
        assert_ne!(a, Cancel::new());
        b.cancel();
        assert!(a.check().is_err());
        assert!(check(None).is_ok());
    }
}
