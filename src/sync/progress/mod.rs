//! Progress of a run: shared counters ([`Stats`]), point-in-time [`Snapshot`]s of them, and a
//! [`Ticker`] that hands snapshots to a callback at a steady rate.
//!
//! Counting is cheap enough for every read: [`Transfer::add`] is three relaxed atomic
//! additions, with no lock; only starting and finishing a transfer take the lock of the
//! in-flight list. The speed is smoothed (an exponentially weighted moving average over time,
//! as rclone's), and the ETA is the remaining bytes over that speed.
//!
//! ```
//! use omnistorage::sync::progress::{Stats, Ticker};
//! use std::io::Read;
//! use std::time::Duration;
//!
//! let stats = Stats::new();
//! stats.add_planned(1, 11);
//! let ticker = Ticker::start(&stats, Duration::from_millis(500), |s| {
//!     println!("{s}"); // 11 of 11 bytes planned so far (100%), 1 of 1 transfers, ...
//! })?;
//! let transfer = stats.start("hello.txt", 11);
//! let mut body = String::new();
//! transfer.counted(&b"hello world"[..]).read_to_string(&mut body)?;
//! transfer.finish(true);
//! ticker.stop(); // one last call, with the final numbers
//!
//! let done = stats.snapshot();
//! assert_eq!((done.bytes, done.transfers), (11, 1));
//! assert!(done.transferring.is_empty());
//! # Ok::<(), omnistorage::Error>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::Cancel;
use crate::error::Result;

/// The time constant of the speed's moving average: a change of speed shows about two thirds
/// of its size after this long.
const SPEED_TIME_CONSTANT: Duration = Duration::from_secs(5);

/// The shortest period a [`Ticker`] runs at.
const MIN_PERIOD: Duration = Duration::from_millis(1);

/// The counters of a run, shared by all clones (an `Arc` inside). `Send + Sync`.
///
/// `bytes` counts the bytes of transfers finished or in flight; a transfer that fails (or is
/// dropped unfinished) takes its bytes back, so that retrying it does not count them twice.
/// Errors are counted by [`error`](Stats::error) only, once per failure.
#[derive(Clone, Default)]
pub struct Stats(Arc<Inner>);

struct Inner {
    started: Instant,
    bytes: AtomicU64,
    /// Every byte moved, failed transfers' too: what the speed measures.
    moved: AtomicU64,
    planned_bytes: AtomicU64,
    transfers: AtomicU64,
    planned_transfers: AtomicU64,
    checks: AtomicU64,
    deletes: AtomicU64,
    renames: AtomicU64,
    errors: AtomicU64,
    next_id: AtomicU64,
    /// In start order.
    in_flight: Mutex<BTreeMap<u64, Arc<Slot>>>,
    meter: Mutex<Meter>,
}

impl Default for Inner {
    fn default() -> Inner {
        Inner {
            started: Instant::now(),
            bytes: AtomicU64::new(0),
            moved: AtomicU64::new(0),
            planned_bytes: AtomicU64::new(0),
            transfers: AtomicU64::new(0),
            planned_transfers: AtomicU64::new(0),
            checks: AtomicU64::new(0),
            deletes: AtomicU64::new(0),
            renames: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            next_id: AtomicU64::new(0),
            in_flight: Mutex::new(BTreeMap::new()),
            meter: Mutex::new(Meter::default()),
        }
    }
}

/// One transfer in flight.
struct Slot {
    name: String,
    size: u64,
    bytes: AtomicU64,
}

/// Locks, ignoring poison: every value behind these locks is valid after any panic.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Stats {
    /// New counters, all zero; the elapsed time starts now.
    pub fn new() -> Stats {
        Stats::default()
    }

    /// Adds `files` transfers of `bytes` in all to what is planned (it grows as planning
    /// goes on, while transfers run: a snapshot's `planned_*` numbers are what was planned
    /// so far, not a final total).
    pub fn add_planned(&self, files: u64, bytes: u64) {
        self.0.planned_transfers.fetch_add(files, Relaxed);
        self.0.planned_bytes.fetch_add(bytes, Relaxed);
    }

    /// Starts a transfer of `name` (`size` bytes): it is in the in-flight list until it is
    /// finished or dropped.
    pub fn start(&self, name: &str, size: u64) -> Transfer {
        let id = self.0.next_id.fetch_add(1, Relaxed);
        let slot = Arc::new(Slot {
            name: name.to_owned(),
            size,
            bytes: AtomicU64::new(0),
        });
        lock(&self.0.in_flight).insert(id, slot.clone());
        Transfer {
            stats: self.0.clone(),
            id,
            slot,
            done: false,
        }
    }

    /// Counts `n` objects compared.
    pub fn checked(&self, n: u64) {
        self.0.checks.fetch_add(n, Relaxed);
    }

    /// Counts `n` objects deleted.
    pub fn deleted(&self, n: u64) {
        self.0.deletes.fetch_add(n, Relaxed);
    }

    /// Counts `n` objects renamed (moved server-side).
    pub fn renamed(&self, n: u64) {
        self.0.renames.fetch_add(n, Relaxed);
    }

    /// Counts one error.
    pub fn error(&self) {
        self.0.errors.fetch_add(1, Relaxed);
    }

    /// The numbers now. Each call is also a sample of the speed.
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot_at(self.0.started.elapsed())
    }

    /// The numbers with `elapsed` as the time since the start (the tests choose it).
    fn snapshot_at(&self, elapsed: Duration) -> Snapshot {
        let inner = &*self.0;
        let transferring = lock(&inner.in_flight)
            .values()
            .map(|slot| InFlight {
                name: slot.name.clone(),
                size: slot.size,
                bytes: slot.bytes.load(Relaxed),
            })
            .collect();
        let bytes = inner.bytes.load(Relaxed);
        let planned_bytes = inner.planned_bytes.load(Relaxed);
        let speed = lock(&inner.meter).sample(elapsed, inner.moved.load(Relaxed));
        Snapshot {
            bytes,
            planned_bytes,
            transfers: inner.transfers.load(Relaxed),
            planned_transfers: inner.planned_transfers.load(Relaxed),
            checks: inner.checks.load(Relaxed),
            deletes: inner.deletes.load(Relaxed),
            renames: inner.renames.load(Relaxed),
            errors: inner.errors.load(Relaxed),
            elapsed,
            speed,
            eta: eta(bytes, planned_bytes, speed),
            transferring,
        }
    }
}

impl fmt::Debug for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.0;
        f.debug_struct("Stats")
            .field("bytes", &inner.bytes.load(Relaxed))
            .field("planned_bytes", &inner.planned_bytes.load(Relaxed))
            .field("transfers", &inner.transfers.load(Relaxed))
            .field("planned_transfers", &inner.planned_transfers.load(Relaxed))
            .field("errors", &inner.errors.load(Relaxed))
            .finish_non_exhaustive()
    }
}

/// One transfer in flight, made by [`Stats::start`]. Count its bytes with
/// [`add`](Transfer::add) or by reading through [`counted`](Transfer::counted); end it with
/// [`finish`](Transfer::finish). Dropping it unfinished is `finish(false)`.
#[must_use = "a transfer leaves the in-flight list when finished or dropped"]
pub struct Transfer {
    stats: Arc<Inner>,
    id: u64,
    slot: Arc<Slot>,
    done: bool,
}

impl Transfer {
    /// Counts `n` more bytes of this transfer.
    pub fn add(&self, n: u64) {
        self.slot.bytes.fetch_add(n, Relaxed);
        self.stats.bytes.fetch_add(n, Relaxed);
        self.stats.moved.fetch_add(n, Relaxed);
    }

    /// The bytes counted so far.
    pub fn bytes(&self) -> u64 {
        self.slot.bytes.load(Relaxed)
    }

    /// A reader that counts every byte read through it.
    pub fn counted<R: Read>(&self, inner: R) -> Counted<'_, R> {
        Counted {
            inner,
            transfer: self,
        }
    }

    /// Ends the transfer: it leaves the in-flight list, and counts as a transfer done if `ok`;
    /// if not, its bytes are taken back from the total (the caller counts the error).
    pub fn finish(mut self, ok: bool) {
        self.end(ok);
    }

    fn end(&mut self, ok: bool) {
        if self.done {
            return;
        }
        self.done = true;
        lock(&self.stats.in_flight).remove(&self.id);
        if ok {
            self.stats.transfers.fetch_add(1, Relaxed);
        } else {
            let mine = self.slot.bytes.load(Relaxed);
            // Never below zero, even if counts were raced.
            let _ = self
                .stats
                .bytes
                .fetch_update(Relaxed, Relaxed, |b| Some(b.saturating_sub(mine)));
        }
    }
}

impl Drop for Transfer {
    fn drop(&mut self) {
        self.end(false);
    }
}

impl fmt::Debug for Transfer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transfer")
            .field("name", &self.slot.name)
            .field("size", &self.slot.size)
            .field("bytes", &self.bytes())
            .finish()
    }
}

/// A reader that counts its bytes into a [`Transfer`]; made by [`Transfer::counted`].
#[derive(Debug)]
pub struct Counted<'a, R> {
    inner: R,
    transfer: &'a Transfer,
}

impl<R> Counted<'_, R> {
    /// Unwraps the reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.transfer.add(u64::try_from(n).unwrap_or(u64::MAX));
        Ok(n)
    }
}

/// The numbers of a run at one moment; made by [`Stats::snapshot`].
///
/// The `planned_*` numbers are what was **planned so far**: the sync engine plans while it
/// transfers, so they grow until planning ends, and a percentage of them can go down.
///
/// Its `Display` is one line for a log:
///
/// ```
/// use omnistorage::sync::progress::Stats;
///
/// let stats = Stats::new();
/// stats.add_planned(2, 300);
/// stats.start("a", 100).finish(true);
/// let line = stats.snapshot().to_string();
/// assert!(
///     line.starts_with("0 of 300 bytes planned so far (0%), 1 of 2 transfers, 0 checks, "),
///     "{line}"
/// );
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Snapshot {
    /// Bytes of the transfers done or in flight.
    pub bytes: u64,
    /// Bytes planned **so far** (planning goes on while transfers run).
    pub planned_bytes: u64,
    /// Transfers done.
    pub transfers: u64,
    /// Transfers planned **so far** (planning goes on while transfers run).
    pub planned_transfers: u64,
    /// Objects compared.
    pub checks: u64,
    /// Objects deleted.
    pub deletes: u64,
    /// Objects renamed.
    pub renames: u64,
    /// Errors.
    pub errors: u64,
    /// Time since the [`Stats`] were made.
    pub elapsed: Duration,
    /// Bytes per second, smoothed (see the [module documentation](self)).
    pub speed: f64,
    /// The time left at this speed; `None` when nothing is planned, when more was done than
    /// planned, or when the speed is 0.
    pub eta: Option<Duration>,
    /// The transfers in flight, in the order they started.
    pub transferring: Vec<InFlight>,
}

impl std::fmt::Display for Snapshot {
    /// `B of P bytes planned so far (N%), T of U transfers, C checks, D deletes, R renames,
    /// E errors, S B/s, ETA Xs, Ys elapsed` (`ETA -` when there is none; `-` for the
    /// percentage of nothing planned).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} bytes planned so far (",
            self.bytes, self.planned_bytes
        )?;
        match (self.bytes as f64 * 100.0 / self.planned_bytes as f64).floor() {
            _ if self.planned_bytes == 0 => f.write_str("-")?,
            percent => write!(f, "{percent}%")?,
        }
        write!(
            f,
            "), {} of {} transfers, {} checks, {} deletes, {} renames, {} errors, {:.0} B/s, ETA ",
            self.transfers,
            self.planned_transfers,
            self.checks,
            self.deletes,
            self.renames,
            self.errors,
            self.speed.max(0.0)
        )?;
        match self.eta {
            Some(eta) => write!(f, "{}s", eta.as_secs())?,
            None => f.write_str("-")?,
        }
        write!(f, ", {:.1}s elapsed", self.elapsed.as_secs_f64())
    }
}

/// A transfer in flight, in a [`Snapshot`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct InFlight {
    /// The name it was started with.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its bytes so far.
    pub bytes: u64,
}

/// The speed's moving average, fed with (time, bytes moved) samples.
#[derive(Debug, Default)]
struct Meter {
    /// The time of the last sample.
    at: Duration,
    /// The bytes moved at the last sample.
    moved: u64,
    /// The average, not yet corrected for its start from zero.
    average: f64,
    /// The last answer.
    speed: f64,
}

impl Meter {
    /// Adds the sample (`at`, `moved`) and answers the speed. A sample no later than the last
    /// one changes nothing.
    fn sample(&mut self, at: Duration, moved: u64) -> f64 {
        if at <= self.at {
            return self.speed;
        }
        let bytes = moved.saturating_sub(self.moved);
        self.average = ewma(self.average, at - self.at, bytes, SPEED_TIME_CONSTANT);
        self.speed = corrected(self.average, at, SPEED_TIME_CONSTANT);
        self.at = at;
        self.moved = self.moved.max(moved);
        self.speed
    }
}

/// One step of an exponentially weighted moving average over time that starts from 0: `bytes`
/// moved during `interval` pull `average` toward their rate by `1 - e^(-interval/tau)`.
fn ewma(average: f64, interval: Duration, bytes: u64, tau: Duration) -> f64 {
    let secs = interval.as_secs_f64();
    if secs <= 0.0 {
        return average;
    }
    let rate = bytes as f64 / secs;
    let weight = 1.0 - (-secs / tau.as_secs_f64()).exp();
    average + weight * (rate - average)
}

/// The average with its start from 0 removed: divided by the weight all samples together have
/// after `elapsed`. Early on this is the plain average since the start; later, the moving one.
fn corrected(average: f64, elapsed: Duration, tau: Duration) -> f64 {
    let weight = 1.0 - (-elapsed.as_secs_f64() / tau.as_secs_f64()).exp();
    if weight > 0.0 { average / weight } else { 0.0 }
}

/// The time left to move `total - bytes` at `speed` (rclone's rule).
fn eta(bytes: u64, total: u64, speed: f64) -> Option<Duration> {
    if total == 0 || bytes > total || speed.is_nan() || speed <= 0.0 {
        return None;
    }
    Duration::try_from_secs_f64((total - bytes) as f64 / speed).ok()
}

/// Calls a callback with a [`Snapshot`] at a steady rate, on its own thread, and once more
/// when stopped. Made by [`Ticker::start`]; [`stop`](Ticker::stop) or dropping it stops and
/// joins the thread.
#[derive(Debug)]
pub struct Ticker {
    stop: Cancel,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    /// Calls `callback` every `every` (at least 1 ms), scheduled from the start time so that
    /// the calls do not drift; a call that runs late is made at once, and the ticks it overran
    /// are skipped. After [`stop`](Ticker::stop), one last call with the final numbers.
    ///
    /// An error only if the thread cannot be started.
    pub fn start<F>(stats: &Stats, every: Duration, mut callback: F) -> Result<Ticker>
    where
        F: FnMut(&Snapshot) + Send + 'static,
    {
        let every = every.max(MIN_PERIOD);
        let stop = Cancel::new();
        let (stats, token) = (stats.clone(), stop.clone());
        let thread = thread::Builder::new()
            .name("omnistorage-progress".to_owned())
            .spawn(move || {
                let start = Instant::now();
                let mut tick = 0;
                loop {
                    let now = start.elapsed();
                    let due;
                    (tick, due) = next_tick(every, now, tick);
                    if token.sleep(due.saturating_sub(now)).is_err() {
                        break;
                    }
                    callback(&stats.snapshot());
                }
                callback(&stats.snapshot());
            })?;
        Ok(Ticker {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops: the callback is called one last time, and has returned when this returns. A
    /// panic of the callback is resumed here.
    pub fn stop(mut self) {
        if let Err(panic) = self.halt() {
            std::panic::resume_unwind(panic);
        }
    }

    fn halt(&mut self) -> thread::Result<()> {
        self.stop.cancel();
        match self.thread.take() {
            Some(thread) => thread.join(),
            None => Ok(()),
        }
    }
}

impl Drop for Ticker {
    /// Stops as [`stop`](Ticker::stop) does, but ignores a panic of the callback.
    fn drop(&mut self) {
        let _ = self.halt();
    }
}

/// The tick after `last` and its time since the start, given the time `now`: tick `k` is due
/// at `k × every`; if the next one is already past, the latest one past is due at once (the
/// ones before it are skipped).
fn next_tick(every: Duration, now: Duration, last: u64) -> (u64, Duration) {
    let passed = u64::try_from(now.as_nanos() / every.as_nanos().max(1)).unwrap_or(u64::MAX);
    let tick = last.saturating_add(1).max(passed);
    (tick, times(every, tick))
}

/// `every × k`, saturating at `Duration::MAX`.
fn times(every: Duration, k: u64) -> Duration {
    let nanos = every.as_nanos().saturating_mul(u128::from(k));
    match u64::try_from(nanos / 1_000_000_000) {
        // Below 10^9: fits.
        Ok(secs) => Duration::new(secs, u32::try_from(nanos % 1_000_000_000).unwrap_or(0)),
        Err(_) => Duration::MAX,
    }
}

#[cfg(test)]
mod tests;
