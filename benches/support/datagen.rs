//! Deterministic, realistic test data: a mix of log lines, JSON records and prose, the kind of
//! bytes that people compress. No randomness from outside: the same seed and length give the
//! same bytes on every machine. Shared by the compression benchmarks and tests (`#[path]`).

#![allow(dead_code)]

use std::io::{self, Write};

/// splitmix64: small, fast, good enough to pick words.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// An index skewed toward the front of a list of `n`, as word frequencies are.
    pub fn skewed(&mut self, n: usize) -> usize {
        let a = self.below(n as u64);
        let b = self.below(n as u64);
        a.min(b) as usize
    }

    pub fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.skewed(list.len())]
    }
}

const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "he",
    "this",
    "are",
    "or",
    "his",
    "from",
    "at",
    "which",
    "but",
    "have",
    "an",
    "had",
    "they",
    "you",
    "were",
    "their",
    "one",
    "all",
    "we",
    "can",
    "her",
    "has",
    "there",
    "been",
    "if",
    "more",
    "when",
    "will",
    "would",
    "who",
    "so",
    "no",
    "storage",
    "object",
    "bucket",
    "request",
    "server",
    "client",
    "network",
    "latency",
    "through",
    "between",
    "because",
    "however",
    "system",
    "water",
    "river",
    "mountain",
    "village",
    "morning",
    "evening",
    "question",
    "answer",
    "history",
    "language",
    "government",
    "market",
    "children",
    "important",
    "different",
    "following",
    "without",
    "another",
    "number",
    "people",
    "should",
    "around",
    "against",
    "nothing",
    "something",
    "everything",
    "always",
    "never",
    "perhaps",
    "certainly",
    "quickly",
    "slowly",
    "remember",
    "believe",
    "understand",
    "compression",
    "algorithm",
    "transfer",
    "checksum",
    "replica",
    "partition",
    "cluster",
];

const LEVELS: &[&str] = &["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR", "TRACE"];
const MODULES: &[&str] = &[
    "http::server",
    "db::pool",
    "sync::engine",
    "auth",
    "cache",
    "s3::client",
    "scheduler",
    "api::v2::orders",
    "worker",
    "metrics",
];
const MESSAGES: &[&str] = &[
    "request completed",
    "connection established",
    "retrying after timeout",
    "cache miss",
    "user logged in",
    "object uploaded",
    "slow query detected",
    "job finished",
    "rate limit exceeded",
    "health check ok",
];
const METHODS: &[&str] = &["GET", "GET", "GET", "PUT", "POST", "DELETE", "HEAD"];
const PATHS: &[&str] = &[
    "/api/v2/orders",
    "/api/v2/users",
    "/static/app.js",
    "/healthz",
    "/api/v2/objects",
    "/login",
];
const NAMES: &[&str] = &[
    "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory",
    "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter",
];
const CITIES: &[&str] = &[
    "Lisbon", "Osaka", "Nairobi", "Lima", "Oslo", "Austin", "Pune", "Hanoi", "Quito", "Tartu",
];
const TAGS: &[&str] = &[
    "new",
    "sale",
    "priority",
    "gift",
    "backorder",
    "fragile",
    "digital",
    "bulk",
];
const STATUSES: &[&str] = &[
    "pending",
    "paid",
    "shipped",
    "delivered",
    "cancelled",
    "refunded",
];

fn log_line(r: &mut Rng, t: &mut u64, out: &mut Vec<u8>) {
    *t += r.below(2_000);
    let secs = 1_700_000_000 + *t / 1000;
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    let day = 1 + (secs / 86_400) % 28;
    let level = r.pick(LEVELS);
    let module = r.pick(MODULES);
    let msg = r.pick(MESSAGES);
    let _ = write!(
        out,
        "2024-03-{day:02}T{h:02}:{m:02}:{s:02}.{:03}Z {level:5} [{module}] {msg} ",
        *t % 1000
    );
    match r.below(3) {
        0 => {
            let _ = writeln!(
                out,
                "method={} path={} status={} duration_ms={} bytes={} request_id={:016x}",
                r.pick(METHODS),
                r.pick(PATHS),
                [200, 200, 200, 201, 204, 304, 404, 500][r.below(8) as usize],
                r.below(900) + 1,
                r.below(1 << 20),
                r.next()
            );
        }
        1 => {
            let _ = writeln!(
                out,
                "user={} session={:08x} attempt={}",
                r.pick(NAMES).to_lowercase(),
                r.next() as u32,
                r.below(5)
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "pool_size={} in_use={} wait_us={}",
                r.below(64),
                r.below(64),
                r.below(100_000)
            );
        }
    }
}

fn json_record(r: &mut Rng, id: &mut u64, out: &mut Vec<u8>) {
    *id += 1 + r.below(3);
    let _ = write!(
        out,
        "{{\"id\":{id},\"customer\":{{\"name\":\"{} {}\",\"city\":\"{}\",\"vip\":{}}},\"status\":\"{}\",\"items\":[",
        r.pick(NAMES),
        r.pick(NAMES),
        r.pick(CITIES),
        r.below(10) == 0,
        r.pick(STATUSES)
    );
    let items = 1 + r.below(4);
    for i in 0..items {
        if i > 0 {
            out.push(b',');
        }
        let _ = write!(
            out,
            "{{\"sku\":\"SKU-{:05}\",\"qty\":{},\"price\":{}.{:02}}}",
            r.below(20_000),
            1 + r.below(9),
            r.below(500),
            r.below(100)
        );
    }
    out.extend_from_slice(b"],\"tags\":[");
    for i in 0..r.below(3) {
        if i > 0 {
            out.push(b',');
        }
        let _ = write!(out, "\"{}\"", r.pick(TAGS));
    }
    let _ = writeln!(
        out,
        "],\"score\":{:.4},\"note\":\"{} {} {}\"}}",
        (r.next() % 1_000_000) as f64 / 1_000_000.0,
        r.pick(WORDS),
        r.pick(WORDS),
        r.pick(WORDS)
    );
}

fn prose(r: &mut Rng, out: &mut Vec<u8>) {
    let sentences = 2 + r.below(5);
    for _ in 0..sentences {
        let words = 6 + r.below(14);
        for w in 0..words {
            let word = r.pick(WORDS);
            if w == 0 {
                let mut chars = word.chars();
                if let Some(first) = chars.next() {
                    out.extend(first.to_uppercase().to_string().bytes());
                    out.extend_from_slice(chars.as_str().as_bytes());
                }
            } else {
                out.push(b' ');
                out.extend_from_slice(word.as_bytes());
                if r.below(12) == 0 {
                    out.push(b',');
                }
            }
        }
        out.extend_from_slice(b". ");
    }
    out.extend_from_slice(b"\n\n");
}

/// Writes `len` bytes of mixed data made from `seed` into `w`.
pub fn generate(w: &mut impl Write, seed: u64, len: u64) -> io::Result<()> {
    let mut r = Rng::new(seed);
    let (mut t, mut id) = (0u64, 10_000u64);
    let mut buf = Vec::with_capacity(1 << 20);
    let mut left = len;
    while left > 0 {
        buf.clear();
        while buf.len() < (1 << 20) - 4096 {
            // Sections of one kind, as real files come: a run of logs, of records, of text.
            let kind = r.below(10);
            let run = 5 + r.below(40);
            for _ in 0..run {
                match kind {
                    0..=4 => log_line(&mut r, &mut t, &mut buf),
                    5..=8 => json_record(&mut r, &mut id, &mut buf),
                    _ => prose(&mut r, &mut buf),
                }
            }
        }
        let n = (buf.len() as u64).min(left) as usize;
        w.write_all(&buf[..n])?;
        left -= n as u64;
    }
    Ok(())
}

/// `len` bytes of mixed data made from `seed`, in memory.
pub fn sample(seed: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    // Writing into a Vec cannot fail.
    let _ = generate(&mut out, seed, len as u64);
    out
}
