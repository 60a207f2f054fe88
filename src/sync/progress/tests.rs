//! Unit tests of `sync::progress`.

use super::*;
use std::sync::mpsc;

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[test]
fn counters_add_up() {
    let stats = Stats::new();
    stats.add_planned(2, 100);
    stats.add_planned(1, 50);
    stats.checked(3);
    stats.deleted(2);
    stats.renamed(1);
    stats.error();
    let s = stats.snapshot();
    assert_eq!(
        (
            s.planned_transfers,
            s.planned_bytes,
            s.checks,
            s.deletes,
            s.renames,
            s.errors
        ),
        (3, 150, 3, 2, 1, 1)
    );
    assert_eq!((s.bytes, s.transfers), (0, 0));
    assert!(s.transferring.is_empty());
}

#[test]
fn transfers_in_flight_are_listed_in_start_order() {
    let stats = Stats::new();
    let a = stats.start("a", 10);
    let b = stats.start("b", 20);
    b.add(5);
    a.add(3);
    a.add(4);
    let s = stats.snapshot();
    let names: Vec<_> = s.transferring.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!((s.transferring[0].size, s.transferring[0].bytes), (10, 7));
    assert_eq!((s.transferring[1].size, s.transferring[1].bytes), (20, 5));
    assert_eq!(s.bytes, 12);
    a.finish(true);
    let s = stats.snapshot();
    assert_eq!((s.transfers, s.bytes, s.transferring.len()), (1, 12, 1));
}

#[test]
fn a_failed_or_dropped_transfer_takes_its_bytes_back() {
    let stats = Stats::new();
    let ok = stats.start("ok", 4);
    ok.add(4);
    ok.finish(true);
    let failed = stats.start("failed", 10);
    failed.add(6);
    failed.finish(false);
    {
        let dropped = stats.start("dropped", 10);
        dropped.add(2);
    }
    let s = stats.snapshot();
    assert_eq!((s.bytes, s.transfers, s.errors), (4, 1, 0));
    assert!(s.transferring.is_empty());
    // The speed still saw every byte moved.
    assert_eq!(lock(&stats.0.meter).moved, 12);
}

#[test]
fn a_counted_reader_counts_every_byte() {
    let stats = Stats::new();
    let t = stats.start("x", 5000);
    let data = vec![9u8; 5000];
    let mut reader = t.counted(&data[..]);
    let mut small = [0u8; 7];
    assert_eq!(reader.read(&mut small).unwrap(), 7);
    io::copy(&mut reader, &mut io::sink()).unwrap();
    assert_eq!(t.bytes(), 5000);
    assert_eq!(stats.snapshot().bytes, 5000);
}

#[test]
fn a_constant_rate_reads_exactly_whatever_the_sampling() {
    let tau = SPEED_TIME_CONSTANT;
    let mut average = 0.0;
    let mut at = 0.0;
    // 1,000 B/s, sampled at irregular intervals.
    for interval in [0.001, 0.5, 3.0, 0.25, 10.0, 0.01] {
        average = ewma(average, secs(interval), (interval * 1000.0) as u64, tau);
        at += interval;
        let speed = corrected(average, secs(at), tau);
        assert!((speed - 1000.0).abs() < 1e-6, "{speed} after {at} s");
    }
}

#[test]
fn early_on_the_speed_is_the_plain_average_later_the_recent_rate() {
    let mut meter = Meter::default();
    // A burst of 1,000 bytes in the first millisecond, then nothing.
    let first = meter.sample(secs(0.001), 1000);
    assert!((first - 1e6).abs() < 1.0, "{first}");
    // Half a second later: close to the plain average, 1000 B / 0.5 s (tau is 5 s).
    let early = meter.sample(secs(0.5), 1000);
    assert!((early - 2000.0).abs() < 2000.0 * 0.06, "{early}");
    // A steady 100 B/s for a minute: the burst is forgotten.
    let mut moved = 1000;
    let mut speed = 0.0;
    for second in 1..=60 {
        moved += 100;
        speed = meter.sample(secs(0.5 + f64::from(second)), moved);
    }
    assert!((speed - 100.0).abs() < 1.0, "{speed}");
    // Idle: the speed decays toward 0.
    let idle = meter.sample(secs(120.0), moved);
    assert!(idle < 1.0, "{idle}");
    // A sample from the past changes nothing.
    assert_eq!(meter.sample(secs(1.0), moved + 5000), idle);
}

#[test]
fn eta_follows_rclone() {
    assert_eq!(eta(0, 1000, 100.0), Some(secs(10.0)));
    assert_eq!(eta(1000, 1000, 100.0), Some(Duration::ZERO));
    assert_eq!(eta(0, 0, 100.0), None); // nothing planned
    assert_eq!(eta(1001, 1000, 100.0), None);
    assert_eq!(eta(0, 1000, 0.0), None);
    assert_eq!(eta(0, 1000, f64::NAN), None);
    assert_eq!(eta(0, u64::MAX, f64::MIN_POSITIVE), None); // too long for a Duration
}

#[test]
fn snapshots_carry_speed_and_eta() {
    let stats = Stats::new();
    stats.add_planned(1, 3000);
    let t = stats.start("x", 3000);
    t.add(1000);
    let s = stats.snapshot_at(secs(1.0));
    assert_eq!(s.elapsed, secs(1.0));
    assert!((s.speed - 1000.0).abs() < 1e-6, "{}", s.speed);
    let eta = s.eta.expect("an eta");
    assert!((eta.as_secs_f64() - 2.0).abs() < 1e-6, "{eta:?}");
}

#[test]
fn ticks_are_scheduled_from_the_start() {
    let every = Duration::from_millis(100);
    assert_eq!(next_tick(every, Duration::ZERO, 0), (1, every));
    // On time (a little after the tick): the next one, no drift.
    assert_eq!(next_tick(every, secs(0.103), 1), (2, secs(0.2)));
    // Late by 2.5 periods: the latest tick past is due at once, the ones before skipped.
    assert_eq!(next_tick(every, secs(0.45), 1), (4, secs(0.4)));
    assert_eq!(next_tick(every, secs(0.45), 4), (5, secs(0.5)));
    assert_eq!(next_tick(Duration::MAX, Duration::MAX, 7).1, Duration::MAX);
}

#[test]
fn a_stopped_ticker_reports_the_final_numbers() {
    let stats = Stats::new();
    let (tx, rx) = mpsc::channel();
    // An hour between ticks: the only call is the final one.
    let ticker = Ticker::start(&stats, Duration::from_secs(3600), move |s| {
        tx.send(s.clone()).ok();
    })
    .unwrap();
    stats.add_planned(1, 5);
    let t = stats.start("x", 5);
    t.add(5);
    t.finish(true);
    ticker.stop();
    let calls: Vec<Snapshot> = rx.try_iter().collect();
    assert_eq!(calls.len(), 1);
    assert_eq!((calls[0].bytes, calls[0].transfers), (5, 1));
}

#[test]
fn a_running_ticker_keeps_calling() {
    let stats = Stats::new();
    let (tx, rx) = mpsc::channel();
    let ticker = Ticker::start(&stats, Duration::ZERO, move |s| {
        tx.send(s.elapsed).ok();
    })
    .unwrap();
    // Three ticks arrive (the period is clamped to 1 ms, not a busy loop).
    let ticks: Vec<_> = (0..3)
        .map(|_| rx.recv_timeout(Duration::from_secs(60)).expect("a tick"))
        .collect();
    assert!(ticks.windows(2).all(|w| w[0] <= w[1]), "{ticks:?}");
    stats.error();
    drop(ticker); // stops and joins
    let last = rx.try_iter().last().expect("the final call");
    assert!(last >= ticks[2]);
}

#[test]
fn is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Stats>();
    check::<Transfer>();
    check::<Ticker>();
    check::<Snapshot>();
}

#[test]
fn a_snapshot_reads_as_one_line_that_says_planned_so_far() {
    let stats = Stats::new();
    stats.add_planned(4, 1000);
    let t = stats.start("a", 250);
    t.add(250);
    t.finish(true);
    let line = stats.snapshot().to_string();
    assert!(
        line.starts_with(
            "250 of 1000 bytes planned so far (25%), 1 of 4 transfers, 0 checks, 0 deletes, \
             0 renames, 0 errors, "
        ),
        "{line}"
    );
    assert!(line.ends_with("s elapsed"), "{line}");
    let empty = Stats::new().snapshot().to_string();
    assert!(
        empty.starts_with("0 of 0 bytes planned so far (-), 0 of 0 transfers"),
        "{empty}"
    );
    assert!(empty.contains(" B/s, ETA -, "), "{empty}");
}
