//! Throughput of the record framings.
//!
//!     cargo bench --bench format --all-features
//!     OMNISTORAGE_BENCH_MB=64 OMNISTORAGE_BENCH_REPS=5 cargo bench --bench format --all-features
//!
//! Generates about 256 MiB of realistic NDJSON in memory (deterministic: strings with escapes
//! and unicode, numbers, nested objects, arrays), and a copy of it in a temporary directory
//! (removed at the end; never in the repository). Each measurement runs `REPS` times (default
//! 3) and the median is reported.
//!
//! - NDJSON framing: `read_record` into one buffer, from memory and through a `FileBackend`
//!   reader on the page cache; against `BufRead::read_until` from std.
//! - Typed NDJSON: `Reader::values::<Record>()` against plain serde_json over the same
//!   records (`BufReader::read_until` + `serde_json::from_slice` per line); the ratio of times.
//! - Writing: `write_record` and `write_value`, to memory and through a `FileBackend` writer.
//! - Length-prefixed framing, read and write, for comparison.

use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

use omnistorage::conformance::TempDir;
use omnistorage::format::{RecordReader, RecordWriter, lengthprefix, ndjson};
use omnistorage::{BackendExt, FileBackend};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Record {
    id: u64,
    timestamp: String,
    kind: String,
    user: User,
    tags: Vec<String>,
    metrics: Metrics,
    items: Vec<Item>,
    note: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct User {
    name: String,
    email: String,
    age: u32,
    verified: bool,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Metrics {
    latency_ms: f64,
    bytes: u64,
    score: f64,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Item {
    sku: String,
    qty: u32,
    price: f64,
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const NAMES: &[&str] = &[
    "Ada Lovelace",
    "Grace Hopper",
    "Edsger Dijkstra",
    "Barbara Liskov",
    "Donald Knuth",
    "Frances Allen",
    "Ken Thompson",
    "Margaret Hamilton",
    "Søren Kierkegaard",
    "Zoë Ødegård",
];
const KINDS: &[&str] = &[
    "page_view",
    "click",
    "purchase",
    "login",
    "logout",
    "search",
];
const TAGS: &[&str] = &[
    "mobile",
    "desktop",
    "beta",
    "eu-west",
    "us-east",
    "returning",
    "new",
    "promo",
];
const NOTES: &[&str] = &[
    "customer said \"great service\"",
    "path: C:\\Users\\data\\file.txt",
    "multi\nline\tnote",
    "emoji 😀 and accents é à ü",
    "plain note without anything special",
];

fn record(rng: &mut Rng, id: u64) -> Record {
    let name = rng.pick(NAMES);
    Record {
        id,
        timestamp: format!(
            "2024-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            1 + rng.below(12),
            1 + rng.below(28),
            rng.below(24),
            rng.below(60),
            rng.below(60),
            rng.below(1000)
        ),
        kind: rng.pick(KINDS).to_owned(),
        user: User {
            name: name.to_owned(),
            email: format!(
                "{}{}@example.com",
                name.split(' ').next().unwrap_or("x").to_lowercase(),
                rng.below(10_000)
            ),
            age: 18 + rng.below(60) as u32,
            verified: rng.below(2) == 0,
        },
        tags: (0..rng.below(5))
            .map(|_| rng.pick(TAGS).to_owned())
            .collect(),
        metrics: Metrics {
            latency_ms: rng.below(1_000_000) as f64 / 1000.0,
            bytes: rng.below(10_000_000),
            score: rng.below(1 << 20) as f64 / (1 << 20) as f64,
        },
        items: (0..rng.below(4))
            .map(|i| Item {
                sku: format!("SKU-{:06}-{i}", rng.below(1_000_000)),
                qty: 1 + rng.below(9) as u32,
                price: rng.below(100_000) as f64 / 100.0,
            })
            .collect(),
        note: (rng.below(3) == 0).then(|| rng.pick(NOTES).to_owned()),
    }
}

/// How long something took: wall-clock time, and the time this thread spent on a CPU.
///
/// On a machine shared with other work, wall time includes the time the thread waited for a
/// CPU; the on-CPU time (Linux: `/proc/thread-self/schedstat`) does not, so comparisons and
/// throughput are also given from it.
#[derive(Clone, Copy)]
struct Time {
    wall: Duration,
    cpu: Option<Duration>,
}

impl Time {
    fn wall_s(self) -> f64 {
        self.wall.as_secs_f64()
    }
    fn cpu_s(self) -> Option<f64> {
        self.cpu.map(|c| c.as_secs_f64())
    }
}

/// Nanoseconds this thread has spent on a CPU, where Linux says.
fn cpu_now() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn time(f: &mut impl FnMut()) -> Time {
    let (c0, t0) = (cpu_now(), Instant::now());
    f();
    let wall = t0.elapsed();
    let cpu = match (c0, cpu_now()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    Time { wall, cpu }
}

fn median(times: &[Time]) -> Time {
    let mut wall: Vec<Duration> = times.iter().map(|t| t.wall).collect();
    wall.sort();
    let mut cpu: Vec<Duration> = times.iter().filter_map(|t| t.cpu).collect();
    cpu.sort();
    Time {
        wall: wall[wall.len() / 2],
        cpu: (cpu.len() == times.len()).then(|| cpu[cpu.len() / 2]),
    }
}

fn measure(reps: usize, mut f: impl FnMut()) -> Time {
    let times: Vec<Time> = (0..reps).map(|_| time(&mut f)).collect();
    median(&times)
}

/// Measures `a` and `b` in turns (a, b, a, b, ...), so that both see the same machine: on a
/// shared machine, load comes and goes. Returns both medians.
fn measure_pair(reps: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> (Time, Time) {
    let mut ta = Vec::new();
    let mut tb = Vec::new();
    for _ in 0..reps {
        ta.push(time(&mut a));
        tb.push(time(&mut b));
    }
    (median(&ta), median(&tb))
}

fn header(title: &str) {
    println!();
    println!(
        "| {title:<58} | {:>9} | {:>8} | {:>9} | {:>8} |",
        "wall ms", "cpu ms", "wall GB/s", "cpu GB/s"
    );
    println!(
        "| {:-<58} | {:->9} | {:->8} | {:->9} | {:->8} |",
        "", "", "", "", ""
    );
}

fn row(what: &str, bytes: usize, t: Time) {
    let gb = |s: f64| bytes as f64 / s / 1e9;
    let cpu_ms = t
        .cpu_s()
        .map_or("-".into(), |c| format!("{:.1}", c * 1000.0));
    let cpu_gb = t.cpu_s().map_or("-".into(), |c| format!("{:.2}", gb(c)));
    println!(
        "| {what:<58} | {:>9.1} | {cpu_ms:>8} | {:>9.2} | {cpu_gb:>8} |",
        t.wall_s() * 1000.0,
        gb(t.wall_s()),
    );
}

fn ratio(what: &str, a: Time, b: Time) {
    let cpu = match (a.cpu_s(), b.cpu_s()) {
        (Some(x), Some(y)) => format!("{:.3}x", x / y),
        _ => "-".into(),
    };
    println!("{what:<52} wall {:.3}x, cpu {cpu}", a.wall_s() / b.wall_s());
}

fn main() {
    let mb: usize = std::env::var("OMNISTORAGE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let reps: usize = std::env::var("OMNISTORAGE_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);

    // The data: records, and their NDJSON.
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut records = Vec::new();
    let mut data = Vec::with_capacity(mb << 20);
    while data.len() < mb << 20 {
        let r = record(&mut rng, records.len() as u64);
        serde_json::to_writer(&mut data, &r).expect("serialize");
        data.push(b'\n');
        records.push(r);
    }
    let n = records.len();
    println!(
        "data: {n} records, {:.1} MiB of NDJSON ({} bytes a record on average); median of {reps} runs",
        data.len() as f64 / (1 << 20) as f64,
        data.len() / n
    );

    let dir = TempDir::new().expect("temp dir");
    let store = FileBackend::new(dir.path()).expect("file backend");
    store.write_all("bench.ndjson", &data).expect("write");
    // Warm the page cache.
    black_box(store.read_to_vec("bench.ndjson").expect("read").len());

    header("NDJSON framing, read");

    let (framing_mem, std_mem) = measure_pair(
        reps,
        || {
            let mut r = ndjson::Reader::new(&data[..]);
            let mut record = Vec::new();
            let mut count = 0usize;
            while r.read_record(&mut record).expect("read") {
                count += 1;
            }
            assert_eq!(count, n);
        },
        || {
            let mut r = BufReader::with_capacity(64 * 1024, &data[..]);
            let mut line = Vec::new();
            let mut count = 0usize;
            loop {
                line.clear();
                if r.read_until(b'\n', &mut line).expect("read") == 0 {
                    break;
                }
                count += 1;
            }
            assert_eq!(count, n);
        },
    );
    row(
        "ndjson::Reader::read_record, from memory",
        data.len(),
        framing_mem,
    );
    row(
        "std BufReader::read_until (for comparison), memory",
        data.len(),
        std_mem,
    );

    let framing_file = measure(reps, || {
        let mut r = ndjson::Reader::new(store.open_reader("bench.ndjson").expect("open"));
        let mut record = Vec::new();
        let mut count = 0usize;
        while r.read_record(&mut record).expect("read") {
            count += 1;
        }
        assert_eq!(count, n);
    });
    row(
        "ndjson::Reader::read_record, FileBackend (page cache)",
        data.len(),
        framing_file,
    );

    let iter_mem = measure(reps, || {
        let mut count = 0usize;
        for record in ndjson::Reader::new(&data[..]).records() {
            black_box(record.expect("read"));
            count += 1;
        }
        assert_eq!(count, n);
    });
    row(
        "ndjson::Reader::records() (a Vec per record), memory",
        data.len(),
        iter_mem,
    );

    header("Typed NDJSON, read");

    let (typed, plain) = measure_pair(
        reps,
        || {
            let mut count = 0usize;
            for v in ndjson::Reader::new(&data[..]).values::<Record>() {
                black_box(v.expect("parse"));
                count += 1;
            }
            assert_eq!(count, n);
        },
        || {
            let mut r = BufReader::with_capacity(64 * 1024, &data[..]);
            let mut line = Vec::new();
            let mut count = 0usize;
            loop {
                line.clear();
                if r.read_until(b'\n', &mut line).expect("read") == 0 {
                    break;
                }
                black_box(serde_json::from_slice::<Record>(&line).expect("parse"));
                count += 1;
            }
            assert_eq!(count, n);
        },
    );
    row(
        "ndjson::Reader::values::<Record>(), memory",
        data.len(),
        typed,
    );
    row(
        "plain serde_json: read_until + from_slice, memory",
        data.len(),
        plain,
    );

    let plain_lines = measure(reps, || {
        let mut count = 0usize;
        for line in BufReader::with_capacity(64 * 1024, &data[..]).lines() {
            black_box(serde_json::from_str::<Record>(&line.expect("read")).expect("parse"));
            count += 1;
        }
        assert_eq!(count, n);
    });
    row(
        "plain serde_json: lines() + from_str, memory",
        data.len(),
        plain_lines,
    );

    let typed_file = measure(reps, || {
        let mut count = 0usize;
        for v in
            ndjson::Reader::new(store.open_reader("bench.ndjson").expect("open")).values::<Record>()
        {
            black_box(v.expect("parse"));
            count += 1;
        }
        assert_eq!(count, n);
    });
    row(
        "ndjson::Reader::values::<Record>(), FileBackend",
        data.len(),
        typed_file,
    );

    header("Writing");

    let lines: Vec<&[u8]> = data[..data.len() - 1].split(|&b| b == b'\n').collect();
    assert_eq!(lines.len(), n);
    // Writing "to memory" goes into buffers allocated and touched once, so that page faults
    // on fresh memory are not what is measured.
    let fresh = || {
        let mut v = vec![1u8; data.len() + data.len() / 8];
        v.clear();
        v
    };
    let (mut sink_a, mut sink_b) = (fresh(), fresh());
    let write_framing = measure(reps, || {
        sink_a.clear();
        let mut w = ndjson::Writer::new(&mut sink_a);
        for line in &lines {
            w.write_record(line).expect("write");
        }
        w.into_inner().expect("flush");
        assert_eq!(sink_a.len(), data.len());
    });
    row(
        "ndjson::Writer::write_record, to memory",
        data.len(),
        write_framing,
    );

    let write_framing_file = measure(reps, || {
        let mut w = ndjson::Writer::new(store.open_writer("out.ndjson").expect("open"));
        for line in &lines {
            w.write_record(line).expect("write");
        }
        assert_eq!(w.finish().expect("finish").size, data.len() as u64);
    });
    row(
        "ndjson::Writer::write_record, FileBackend (incl. finish)",
        data.len(),
        write_framing_file,
    );

    let (write_typed, write_plain) = measure_pair(
        reps,
        || {
            sink_a.clear();
            let mut w = ndjson::Writer::new(&mut sink_a);
            for r in &records {
                w.write_value(r).expect("write");
            }
            w.into_inner().expect("flush");
            assert_eq!(sink_a.len(), data.len());
        },
        || {
            sink_b.clear();
            let mut w = std::io::BufWriter::with_capacity(64 * 1024, &mut sink_b);
            for r in &records {
                serde_json::to_writer(&mut w, r).expect("write");
                w.write_all(b"\n").expect("write");
            }
            w.flush().expect("flush");
            drop(w);
            assert_eq!(sink_b.len(), data.len());
        },
    );
    row(
        "ndjson::Writer::write_value, to memory",
        data.len(),
        write_typed,
    );
    row(
        "plain serde_json: to_writer + \\n into a BufWriter",
        data.len(),
        write_plain,
    );

    header("Length-prefixed");
    let mut w = lengthprefix::Writer::new(Vec::new());
    for line in &lines {
        w.write_record(line).expect("write");
    }
    let framed = w.into_inner().expect("flush");
    let lp_write = measure(reps, || {
        sink_a.clear();
        let mut w = lengthprefix::Writer::new(&mut sink_a);
        for line in &lines {
            w.write_record(line).expect("write");
        }
        w.into_inner().expect("flush");
        assert_eq!(sink_a.len(), framed.len());
    });
    row(
        "lengthprefix::Writer::write_record, to memory",
        framed.len(),
        lp_write,
    );
    let lp_read = measure(reps, || {
        let mut r = lengthprefix::Reader::new(&framed[..]);
        let mut record = Vec::new();
        let mut count = 0usize;
        while r.read_record(&mut record).expect("read") {
            count += 1;
        }
        assert_eq!(count, n);
    });
    row(
        "lengthprefix::Reader::read_record, from memory",
        framed.len(),
        lp_read,
    );

    println!();
    let gb = |t: Time| {
        let cpu = t.cpu_s().map_or("-".into(), |c| {
            format!("{:.2}", data.len() as f64 / c / 1e9)
        });
        format!(
            "{:.2} GB/s wall, {cpu} GB/s cpu",
            data.len() as f64 / t.wall_s() / 1e9
        )
    };
    println!(
        "NDJSON framing from memory:      {} (goal: >= 1)",
        gb(framing_mem)
    );
    println!(
        "NDJSON framing via FileBackend:  {} (goal: >= 1)",
        gb(framing_file)
    );
    ratio(
        "typed / plain serde_json (read_until + from_slice):",
        typed,
        plain,
    );
    ratio(
        "typed / plain serde_json (lines + from_str):",
        typed,
        plain_lines,
    );
    ratio(
        "write_value / plain serde_json (to_writer):",
        write_typed,
        write_plain,
    );
    ratio("read_record / std read_until:", framing_mem, std_mem);
}
