//! Unit tests of `sync::bwlimit`.

use super::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A clock that only moves when someone sleeps on it.
#[derive(Default)]
struct FakeClock {
    now: Mutex<Duration>,
    /// Whether `sleep` answers `Cancelled` (as a cancel during the wait would).
    cancel_sleeps: AtomicBool,
}

impl FakeClock {
    fn time(&self) -> Duration {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
    fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = now.saturating_add(by);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Duration {
        self.time()
    }
    fn sleep(&self, duration: Duration, cancel: Option<&Cancel>) -> Result<()> {
        crate::cancel::check(cancel)?;
        if self.cancel_sleeps.load(Ordering::SeqCst) {
            return Err(crate::cancel::cancelled());
        }
        self.advance(duration);
        Ok(())
    }
}

fn fake(rate: u64) -> (BwLimit, Arc<FakeClock>) {
    let clock = Arc::new(FakeClock::default());
    let limit = BwLimit::with_clock(rate, clock.clone()).expect("valid rate");
    (limit, clock)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn zero_rate_is_invalid_input() {
    assert_eq!(BwLimit::new(0).unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(BwLimit::new(5).map(|l| l.rate()).ok(), Some(5));
}

#[test]
fn starts_empty_and_a_large_take_waits_in_proportion() {
    let (limit, clock) = fake(1000);
    limit.take(100, None).unwrap();
    assert_eq!(clock.time(), ms(100));
    // Fifty times the bucket's capacity (100 bytes): five seconds, no burst needed.
    limit.take(5000, None).unwrap();
    assert_eq!(clock.time(), ms(5100));
    limit.take(0, None).unwrap();
    assert_eq!(clock.time(), ms(5100));
}

#[test]
fn an_idle_bucket_banks_at_most_100_ms() {
    let (limit, clock) = fake(1000);
    clock.advance(Duration::from_secs(10));
    limit.take(100, None).unwrap(); // the 100 ms banked
    assert_eq!(clock.time(), Duration::from_secs(10));
    limit.take(100, None).unwrap();
    assert_eq!(clock.time(), ms(10_100));
}

#[test]
fn waits_round_up_to_the_nanosecond() {
    let mut bucket = Bucket::new(3, Duration::ZERO);
    assert_eq!(
        bucket.reserve(1, Duration::ZERO),
        Duration::from_nanos(333_333_334)
    );
    // Exactly paid at the next byte's time: 2/3 s from the start.
    assert_eq!(
        bucket.reserve(1, Duration::ZERO),
        Duration::from_nanos(666_666_667)
    );
}

#[test]
fn takers_are_served_in_the_order_they_asked() {
    let mut bucket = Bucket::new(1000, Duration::ZERO);
    let waits: Vec<_> = (0..3)
        .map(|_| bucket.reserve(100, Duration::ZERO))
        .collect();
    assert_eq!(waits, [ms(100), ms(200), ms(300)]);
    // Later, the queue has drained by what accrued.
    assert_eq!(bucket.reserve(100, ms(250)), ms(150));
}

#[test]
fn a_refund_shortens_the_queue_and_never_overfills() {
    let mut bucket = Bucket::new(1000, Duration::ZERO);
    assert_eq!(bucket.reserve(100, Duration::ZERO), ms(100));
    assert_eq!(bucket.reserve(100, Duration::ZERO), ms(200));
    bucket.refund(100, Duration::ZERO);
    assert_eq!(bucket.reserve(100, Duration::ZERO), ms(200));
    // A refund on a full bucket keeps it at its capacity (100 bytes).
    bucket.refund(1_000_000, Duration::from_secs(10));
    assert_eq!(bucket.reserve(100, Duration::from_secs(10)), Duration::ZERO);
    assert_eq!(bucket.reserve(1, Duration::from_secs(10)), ms(1));
}

#[test]
fn extreme_values_do_not_overflow() {
    let mut slow = Bucket::new(1, Duration::ZERO);
    let wait = slow.reserve(u64::MAX, Duration::ZERO);
    assert_eq!(wait, Duration::from_secs(u64::MAX));
    // Duration::MAX pays that debt and leaves 999,999,999 ns of accrual (not a full byte).
    assert_eq!(
        slow.reserve(u64::MAX, Duration::MAX),
        Duration::new(u64::MAX - 1, 1)
    );
    let mut fast = Bucket::new(u64::MAX, Duration::ZERO);
    assert_eq!(
        fast.reserve(u64::MAX, Duration::ZERO),
        Duration::from_secs(1)
    );
    assert_eq!(fast.reserve(1, Duration::MAX), Duration::ZERO);
}

#[test]
fn a_cancelled_take_returns_cancelled_and_gives_its_bytes_back() {
    let (limit, clock) = fake(1000);
    let cancel = Cancel::new();
    cancel.cancel();
    let err = limit.take(100, Some(&cancel)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    // Cancelled during the wait: the reservation is refunded.
    clock.cancel_sleeps.store(true, Ordering::SeqCst);
    let err = limit.take(100, Some(&Cancel::new())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    clock.cancel_sleeps.store(false, Ordering::SeqCst);
    limit.take(100, None).unwrap();
    assert_eq!(clock.time(), ms(100));
}

/// Counts the reads and the bytes each returned.
struct Spy<R> {
    inner: R,
    largest: Arc<AtomicUsize>,
}

impl<R: Read> Read for Spy<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.largest.fetch_max(n, Ordering::SeqCst);
        Ok(n)
    }
}

#[test]
fn a_rate_below_one_buffer_still_makes_progress() {
    // 10 B/s under a 64 KiB buffer: the Go original hung here.
    let (limit, clock) = fake(10);
    let data: Vec<u8> = (0..100).collect();
    let largest = Arc::new(AtomicUsize::new(0));
    let spy = Spy {
        inner: &data[..],
        largest: largest.clone(),
    };
    let mut reader = limit.reader(spy, None);
    let mut buf = vec![0u8; 64 * 1024];
    let mut copy = Vec::new();
    loop {
        let n = reader.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        copy.extend_from_slice(&buf[..n]);
    }
    assert_eq!(copy, data);
    assert_eq!(largest.load(Ordering::SeqCst), 1);
    assert_eq!(clock.time(), Duration::from_secs(10));
}

#[test]
fn limited_reads_are_at_most_100_ms_worth() {
    let (limit, clock) = fake(10_000);
    let data = vec![1u8; 5000];
    let mut reader = limit.reader(&data[..], None);
    let mut buf = vec![0u8; 4096];
    assert_eq!(reader.read(&mut buf).unwrap(), 1000);
    assert_eq!(clock.time(), ms(100));
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert_eq!(rest.len(), 4000);
    assert_eq!(clock.time(), ms(500));
    assert!(reader.into_inner().is_empty());
}

#[test]
fn a_cancelled_read_is_cancelled_after_the_trip_through_io() {
    let (limit, _clock) = fake(10);
    let cancel = Cancel::new();
    let mut reader = limit.reader(&b"abc"[..], Some(cancel.clone()));
    cancel.cancel();
    let err = reader.read(&mut [0u8; 8]).unwrap_err();
    assert_eq!(Error::from(err).kind(), ErrorKind::Cancelled);
}

#[test]
fn cancel_wakes_a_real_waiter() {
    let limit = BwLimit::new(1).unwrap();
    let cancel = Cancel::new();
    let (l, c) = (limit.clone(), cancel.clone());
    // Would wait over ten minutes.
    let waiter = std::thread::spawn(move || l.take(1000, Some(&c)));
    cancel.cancel();
    let err = waiter.join().expect("no panic").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
}

#[test]
fn a_real_throttled_copy_takes_at_least_n_over_r() {
    // Four threads share 200 KB/s; 80 KB in all. Starting empty, it cannot end before
    // (N - burst) / R = (80,000 - 20,000) / 200,000 s = 300 ms.
    let rate = 200_000u64;
    let limit = BwLimit::new(rate).unwrap();
    let start = Instant::now();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let limit = limit.clone();
            std::thread::spawn(move || {
                let data = vec![0u8; 20_000];
                io::copy(&mut limit.reader(&data[..], None), &mut io::sink())
            })
        })
        .collect();
    let mut total = 0;
    for t in threads {
        total += t.join().expect("no panic").unwrap();
    }
    assert_eq!(total, 80_000);
    assert!(start.elapsed() >= ms(300), "{:?}", start.elapsed());
}

#[test]
fn is_send_and_sync() {
    fn check<T: Send + Sync + Clone>() {}
    check::<BwLimit>();
    fn send<T: Send>() {}
    send::<Limited<std::fs::File>>();
}
