//! A shared bandwidth limit: one token bucket for every transfer of a run.
//!
//! [`BwLimit`] is rclone's `--bwlimit`: a rate in bytes per second, shared by every clone of
//! the limit (so by every transfer that was given one), starting empty like rclone's. Unlike
//! the Go original, it is correct for **any** rate: a [`Limited`] reader never asks for more
//! than about 100 ms worth of bytes at once (at least one byte), and [`BwLimit::take`] of more
//! bytes than the bucket holds waits in proportion instead of needing a burst as large as the
//! request, so a limit far below one read buffer throttles instead of hanging.
//!
//! Takers are served in the order they asked: each one reserves its bytes under a short lock,
//! then waits outside it. A wait ends at once, with [`ErrorKind::Cancelled`], when the
//! [`Cancel`] token it was given is cancelled; the bytes it had reserved go back to the bucket.
//!
//! [`units::parse_rate`](crate::units::parse_rate) reads rclone's syntax for a single rate,
//! [`units::Timetable`](crate::units::Timetable) the whole of `--bwlimit`: separate upload
//! and download limits (`UP:DOWN`) and timetables (`08:00,512k 19:00,off`), which
//! [`BwLimit::scheduled`] follows (the rate in force is looked up at each take, in UTC).
//!
//! ```
//! use omnistorage::sync::bwlimit::BwLimit;
//! use omnistorage::units::parse_rate;
//! use std::io::Read;
//!
//! let rate = parse_rate("2M")?.expect("a limit"); // 2 MiB/s
//! let limit = BwLimit::new(rate)?;
//! let data = vec![7u8; 64 * 1024];
//! let mut copy = Vec::new();
//! // 64 KiB at 2 MiB/s: about 31 ms.
//! limit.reader(&data[..], None).read_to_end(&mut copy)?;
//! assert_eq!(copy, data);
//! # Ok::<(), omnistorage::Error>(())
//! ```

use std::fmt;
use std::io::{self, Read};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::Cancel;
use crate::error::{Error, ErrorKind, Result};
use crate::units::{Rates, Timetable};

/// The bucket holds at most this much time's worth of bytes, and a [`Limited`] reader asks for
/// at most this much at once.
const SLICE_PER_SECOND: u64 = 10; // 100 ms

/// Token amounts are kept in nanobytes, so that a nanosecond at any integer rate adds a whole
/// number of them and the arithmetic is exact.
const NANO: i128 = 1_000_000_000;

/// Where the bucket gets the time from and how it waits; a fake one in the tests.
trait Clock: Send + Sync {
    /// The time since some fixed origin.
    fn now(&self) -> Duration;
    /// Waits `duration`, or until `cancel` is cancelled (then `Err(Cancelled)`).
    fn sleep(&self, duration: Duration, cancel: Option<&Cancel>) -> Result<()>;
}

struct RealClock {
    origin: Instant,
}

impl Clock for RealClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&self, duration: Duration, cancel: Option<&Cancel>) -> Result<()> {
        match cancel {
            Some(cancel) => cancel.sleep(duration),
            None => {
                std::thread::sleep(duration);
                Ok(())
            }
        }
    }
}

/// The bucket's arithmetic, free of locks and clocks.
#[derive(Debug)]
struct Bucket {
    /// Bytes per second; never 0.
    rate: u64,
    /// The most the bucket holds, in nanobytes.
    capacity: i128,
    /// What it holds, in nanobytes; negative when takers have reserved more than has accrued.
    level: i128,
    /// When `level` was last brought up to date.
    updated: Duration,
}

impl Bucket {
    /// An empty bucket (as rclone's) at time `now`.
    fn new(rate: u64, now: Duration) -> Bucket {
        Bucket {
            rate,
            capacity: i128::from(slice(rate)).saturating_mul(NANO),
            level: 0,
            updated: now,
        }
    }

    /// Adds what accrued since the last update, up to the capacity.
    fn refill(&mut self, now: Duration) {
        if now <= self.updated {
            return;
        }
        let nanos = i128::try_from((now - self.updated).as_nanos()).unwrap_or(i128::MAX);
        let accrued = nanos.saturating_mul(i128::from(self.rate));
        self.level = self.level.saturating_add(accrued).min(self.capacity);
        self.updated = now;
    }

    /// Reserves `n` bytes at `now`; returns how long the taker must wait before they pass.
    fn reserve(&mut self, n: u64, now: Duration) -> Duration {
        self.refill(now);
        self.level = self
            .level
            .saturating_sub(i128::from(n).saturating_mul(NANO));
        if self.level >= 0 {
            return Duration::ZERO;
        }
        // Round up: the wait ends when the debt is paid, never a nanosecond before.
        let debt = self.level.unsigned_abs();
        let rate = u128::from(self.rate);
        let nanos = debt.div_ceil(rate);
        let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
        // Below 10^9: fits.
        let subsec = u32::try_from(nanos % 1_000_000_000).unwrap_or(0);
        Duration::new(secs, subsec)
    }

    /// Gives back `n` bytes that were reserved but will not pass (their taker was cancelled).
    fn refund(&mut self, n: u64, now: Duration) {
        self.refill(now);
        let back = i128::from(n).saturating_mul(NANO);
        self.level = self.level.saturating_add(back).min(self.capacity);
    }
}

/// Which rates of a [`Timetable`] a limit follows (rclone's `UP:DOWN`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The upload rates: bytes sent to a store that is not local.
    Up,
    /// The download rates: bytes received from a store that is not local.
    Down,
}

impl Direction {
    fn of(self, rates: &Rates) -> Option<u64> {
        match self {
            Direction::Up => rates.up,
            Direction::Down => rates.down,
        }
    }
}

/// About 100 ms worth of bytes at `rate`, and at least one.
fn slice(rate: u64) -> u64 {
    (rate / SLICE_PER_SECOND).max(1)
}

/// A bandwidth limit in bytes per second, shared by all its clones (cheap: an `Arc`).
///
/// See the [module documentation](self) for how it behaves.
///
/// ```
/// use omnistorage::sync::bwlimit::BwLimit;
/// use omnistorage::{Cancel, ErrorKind};
///
/// let limit = BwLimit::new(1024)?; // 1 KiB/s
/// assert_eq!(limit.rate(), 1024);
/// let cancel = Cancel::new();
/// cancel.cancel();
/// // A cancelled taker returns at once instead of waiting a minute.
/// let err = limit.take(60 * 1024, Some(&cancel)).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Cancelled);
/// # Ok::<(), omnistorage::Error>(())
/// ```
#[derive(Clone)]
pub struct BwLimit(Arc<Shared>);

struct Shared {
    rate: u64,
    /// The timetable this limit follows, and which of its rates.
    schedule: Option<(Timetable, Direction)>,
    bucket: Mutex<Bucket>,
    clock: Arc<dyn Clock>,
}

impl BwLimit {
    /// A limit of `bytes_per_second`, starting empty. `0` is [`ErrorKind::InvalidInput`]
    /// (no limit at all is no `BwLimit`; [`parse_rate`](crate::units::parse_rate) answers `None`
    /// for it).
    pub fn new(bytes_per_second: u64) -> Result<BwLimit> {
        let clock = RealClock {
            origin: Instant::now(),
        };
        BwLimit::with_clock(bytes_per_second, Arc::new(clock))
    }

    fn with_clock(rate: u64, clock: Arc<dyn Clock>) -> Result<BwLimit> {
        if rate == 0 {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "a bandwidth limit must be at least 1 byte per second",
            ));
        }
        let bucket = Bucket::new(rate, clock.now());
        Ok(BwLimit(Arc::new(Shared {
            rate,
            schedule: None,
            bucket: Mutex::new(bucket),
            clock,
        })))
    }

    /// A limit that follows `timetable`'s `direction` rates: at each take, the rate in force
    /// then (in UTC) applies, and none while the entry in force says `off`. `None` if the
    /// timetable never limits that direction.
    ///
    /// ```
    /// use omnistorage::sync::bwlimit::{BwLimit, Direction};
    /// use omnistorage::units::Timetable;
    ///
    /// let t = Timetable::parse("10M:off")?;
    /// assert_eq!(BwLimit::scheduled(&t, Direction::Up).map(|l| l.rate()), Some(10 << 20));
    /// assert!(BwLimit::scheduled(&t, Direction::Down).is_none());
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn scheduled(timetable: &Timetable, direction: Direction) -> Option<BwLimit> {
        let rates = timetable.entries().iter().map(|(_, r)| direction.of(r));
        let first = rates.clone().flatten().next()?;
        let now = direction
            .of(&timetable.at_time(std::time::SystemTime::now()))
            .unwrap_or(first);
        if timetable.is_constant() {
            return BwLimit::new(now).ok();
        }
        let clock: Arc<dyn Clock> = Arc::new(RealClock {
            origin: Instant::now(),
        });
        let bucket = Bucket::new(now, clock.now());
        Some(BwLimit(Arc::new(Shared {
            rate: now,
            schedule: Some((timetable.clone(), direction)),
            bucket: Mutex::new(bucket),
            clock,
        })))
    }

    /// The rate, in bytes per second (of a timetable: the one in force at the last take).
    pub fn rate(&self) -> u64 {
        self.0.lock().rate
    }

    /// Blocks until `n` more bytes may pass. Any `n` is fine: more than the bucket holds waits
    /// in proportion (`n / rate` seconds from empty). Takers are served in the order they
    /// called.
    ///
    /// If `cancel` is (or becomes) cancelled, returns `Err` of kind
    /// [`ErrorKind::Cancelled`] at once, and the `n` bytes go back to the bucket.
    pub fn take(&self, n: u64, cancel: Option<&Cancel>) -> Result<()> {
        crate::cancel::check(cancel)?;
        if n == 0 {
            return Ok(());
        }
        let shared = &*self.0;
        let wait = {
            let mut bucket = shared.lock();
            let now = shared.clock.now();
            if let Some((timetable, direction)) = &shared.schedule {
                match direction.of(&timetable.at_time(std::time::SystemTime::now())) {
                    None => return Ok(()),
                    Some(rate) if rate != bucket.rate => *bucket = Bucket::new(rate, now),
                    Some(_) => {}
                }
            }
            bucket.reserve(n, now)
        };
        if wait.is_zero() {
            return Ok(());
        }
        let waited = shared.clock.sleep(wait, cancel);
        if waited.is_err() {
            shared.lock().refund(n, shared.clock.now());
        }
        waited
    }

    /// A reader whose bytes pass through this limit. Each read asks `inner` for at most about
    /// 100 ms worth of bytes (at least one), then waits for them. A cancelled wait is an
    /// `io::Error` that converts back ([`Error::from`]) to an [`Error`] of kind
    /// [`ErrorKind::Cancelled`].
    pub fn reader<R: Read>(&self, inner: R, cancel: Option<Cancel>) -> Limited<R> {
        let chunk = usize::try_from(slice(self.0.rate)).unwrap_or(usize::MAX);
        Limited {
            inner,
            limit: self.clone(),
            cancel,
            chunk,
        }
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Bucket> {
        // The bucket's state is valid after any panic (every update is one assignment).
        self.bucket.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for BwLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BwLimit")
            .field("rate", &self.0.rate)
            .finish()
    }
}

/// The limit of [`copy_object`](crate::copy_object)'s bytes: they pass through
/// [`BwLimit::reader`].
impl crate::Throttle for BwLimit {
    fn limit<'r>(&self, inner: Box<dyn Read + 'r>, cancel: Option<&Cancel>) -> Box<dyn Read + 'r> {
        Box::new(self.reader(inner, cancel.cloned()))
    }
}

/// A reader throttled by a [`BwLimit`]; made by [`BwLimit::reader`].
#[derive(Debug)]
pub struct Limited<R> {
    inner: R,
    limit: BwLimit,
    cancel: Option<Cancel>,
    /// The most one read asks for.
    chunk: usize,
}

impl<R> Limited<R> {
    /// The wrapped reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Unwraps the reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        crate::cancel::check(self.cancel.as_ref())?;
        let len = buf.len().min(self.chunk);
        let n = self.inner.read(&mut buf[..len])?;
        let bytes = u64::try_from(n).unwrap_or(u64::MAX);
        self.limit.take(bytes, self.cancel.as_ref())?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
