//! One retry policy for every backend: exponential backoff with jitter, sleeping through
//! [`Cancel::sleep`] so that a cancel ends a wait at once.
//!
//! An operation is tried again only when its error says so ([`Error::is_temporary`]) and
//! the caller says it is safe to repeat (the S3 client: by the request's operation).
//!
//! Retries are counted once. When the loop gives up on a temporary error after retrying, it
//! marks the error with the number of retries ([`Error::with_retries`]): the error is then
//! [persistent](Error::is_persistent), says so in its `Display`, and no retry loop above it
//! (another `Retry`, the sync engine's low-level retries) tries it again. So a backend that
//! retries 4 times under a sync run with 10 low-level retries makes 5 attempts, not 55.
//!
//! [`Error::is_temporary`]: crate::Error::is_temporary
//! [`Error::with_retries`]: crate::Error::with_retries
//! [persistent]: crate::Error::is_persistent

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cancel::{self, Cancel};
use crate::error::Result;

/// How often and how patiently to try again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Retry {
    /// Retries after the first attempt (so `retries + 1` attempts in all).
    pub(crate) retries: u32,
    /// The first delay; each later one doubles, up to `cap`.
    pub(crate) base: Duration,
    /// The longest delay.
    pub(crate) cap: Duration,
}

impl Retry {
    /// `retries` retries, from `base`, capped at 5 s.
    pub(crate) fn new(retries: u32, base: Duration) -> Retry {
        Retry {
            retries,
            base,
            cap: Duration::from_secs(5),
        }
    }

    /// The delay before retry number `attempt` (0-based): exponential from `base`, capped at
    /// `cap`, with jitter (a random point between half and all of it, so that clients that
    /// failed together do not come back together).
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let full = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.cap);
        let half = full / 2;
        let span = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX).max(1);
        half + Duration::from_nanos(random_u64() % span)
    }

    /// Sleeps before retry number `attempt`; `Err(Cancelled)` at once if `cancel` is (or
    /// becomes) cancelled.
    pub(crate) fn sleep(&self, attempt: u32, cancel: Option<&Cancel>) -> Result<()> {
        let delay = self.delay(attempt);
        match cancel {
            Some(c) => c.sleep(delay),
            None => {
                std::thread::sleep(delay);
                Ok(())
            }
        }
    }

    /// Runs `op` (given the attempt number, 0 first) until it succeeds, fails with an error
    /// that is not temporary (or already [persistent](crate::Error::is_persistent)), or has
    /// used up the retries; sleeps between attempts. Checks `cancel` before each attempt.
    #[cfg_attr(not(any(feature = "sftp", feature = "sync")), allow(dead_code))]
    pub(crate) fn run<T>(
        &self,
        cancel: Option<&Cancel>,
        op: impl FnMut(u32) -> Result<T>,
    ) -> Result<T> {
        self.run_with(cancel, op, |e, attempt| {
            (e.is_temporary() && attempt < self.retries).then(|| self.delay(attempt))
        })
    }

    /// Like [`run`](Self::run), but `again` decides, from the error and the attempt number,
    /// whether to try again and after how long (`None`: return the error).
    ///
    /// An error that is already persistent (retried by a loop below) is returned as it is,
    /// without asking `again`. A temporary error given up on after `n > 0` retries is
    /// returned marked with them ([`Error::with_retries`](crate::Error::with_retries)).
    pub(crate) fn run_with<T>(
        &self,
        cancel: Option<&Cancel>,
        mut op: impl FnMut(u32) -> Result<T>,
        mut again: impl FnMut(&crate::error::Error, u32) -> Option<Duration>,
    ) -> Result<T> {
        let mut attempt = 0;
        loop {
            cancel::check(cancel)?;
            match op(attempt) {
                Err(e) if e.is_persistent() => return Err(e),
                Err(e) => match again(&e, attempt) {
                    Some(delay) => {
                        match cancel {
                            Some(c) => c.sleep(delay)?,
                            None => std::thread::sleep(delay),
                        }
                        attempt += 1;
                    }
                    None if attempt > 0 && e.is_temporary() => {
                        let retries = attempt.max(e.retries());
                        return Err(e.with_retries(retries));
                    }
                    None => return Err(e),
                },
                ok => return ok,
            }
        }
    }
}

/// A cheap, non-cryptographic random number (xorshift seeded from the clock and a counter).
fn random_u64() -> u64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut x = STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed) ^ nanos;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x | 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, ErrorKind};
    use std::time::Instant;

    #[test]
    fn delays_grow_and_are_capped() {
        let r = Retry {
            retries: 20,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(2),
        };
        for attempt in 0..20 {
            let d = r.delay(attempt);
            let full = r.base.saturating_mul(1 << attempt.min(16)).min(r.cap);
            assert!(d >= full / 2 && d <= full, "{attempt}: {d:?}");
        }
    }

    #[test]
    fn retries_temporary_errors_only() {
        let r = Retry::new(3, Duration::from_millis(1));
        let mut calls = 0;
        let out: Result<()> = r.run(None, |_| {
            calls += 1;
            Err(Error::new(ErrorKind::Io, "flaky").with_temporary(true))
        });
        let err = out.unwrap_err();
        assert_eq!(calls, 4);
        assert!(err.is_persistent(), "given up on after its retries");
        assert_eq!(err.retries(), 3);
        assert!(err.to_string().ends_with("(retried 3 times)"), "{err}");
        let mut calls = 0;
        let out: Result<()> = r.run(None, |_| {
            calls += 1;
            Err(Error::new(ErrorKind::NotFound, "gone"))
        });
        assert_eq!(out.unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(calls, 1);
        let mut calls = 0;
        let out = r.run(None, |attempt| {
            calls += 1;
            if attempt < 2 {
                Err(Error::new(ErrorKind::Io, "flaky").with_temporary(true))
            } else {
                Ok(attempt)
            }
        });
        assert_eq!(out.unwrap(), 2);
        assert_eq!(calls, 3);
    }

    #[test]
    fn retries_are_counted_once() {
        // A loop above another does not retry what the one below gave up on.
        let (outer, inner) = (
            Retry::new(10, Duration::from_millis(1)),
            Retry::new(2, Duration::from_millis(1)),
        );
        let mut calls = 0;
        let err = outer
            .run(None, |_| {
                inner.run(None, |_| -> Result<()> {
                    calls += 1;
                    Err(Error::new(ErrorKind::Io, "503").with_temporary(true))
                })
            })
            .unwrap_err();
        assert_eq!(calls, 3, "the inner loop's 1 + 2 tries, once");
        assert_eq!(err.retries(), 2);
        // A temporary error that was not retried (no retries configured) is not persistent,
        // and one that ends in a permanent error is not either.
        let once = Retry::new(0, Duration::from_millis(1));
        let err = once
            .run(None, |_| -> Result<()> {
                Err(Error::new(ErrorKind::Io, "503").with_temporary(true))
            })
            .unwrap_err();
        assert!(err.is_temporary() && !err.is_persistent());
        let err = inner
            .run(None, |attempt| -> Result<()> {
                Err(match attempt {
                    0 => Error::new(ErrorKind::Io, "503").with_temporary(true),
                    _ => Error::new(ErrorKind::NotFound, "gone"),
                })
            })
            .unwrap_err();
        assert_eq!(
            (err.kind(), err.is_persistent()),
            (ErrorKind::NotFound, false)
        );
    }

    #[test]
    fn a_cancel_ends_the_sleep() {
        let r = Retry::new(5, Duration::from_secs(60));
        let cancel = Cancel::new();
        let other = cancel.clone();
        let start = Instant::now();
        let t = std::thread::spawn(move || {
            r.run(Some(&other), |_| -> Result<()> {
                Err(Error::new(ErrorKind::Io, "flaky").with_temporary(true))
            })
        });
        cancel.cancel();
        let err = t.join().expect("no panic").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Cancelled);
        assert!(start.elapsed() < Duration::from_secs(30));
    }
}
