//! The file backend against `cp` and `cat` on the same data, side by side, in one run.
//!
//! ```text
//! cargo bench --bench file_backend                    # everything
//! cargo bench --bench file_backend -- copy            # only the cases whose name has "copy"
//! cargo bench --bench file_backend -- --syscalls      # strace -c -f of one run of each side
//! ```
//!
//! The data set is generated once into a fresh scratch directory (never inside the repository)
//! and removed at the end: one large object (256 MiB of pseudo-random bytes) and 10,000 small
//! objects of 1 B–8 KiB (uniform, deterministic sizes) spread over 100 directories (80 one
//! level deep, 20 two levels deep). Every repetition runs omnistorage and its peer back to back
//! for each case, alternating which goes first, on a warm page cache. Between measurements,
//! untimed, the destination is taken away (a large object is deleted; a tree of small ones is
//! moved to `trash/` and deleted at the end, see `Scratch::clear_dsts` for why) and `sync` runs,
//! so that no write-back of one measurement lands in the next. The first repetition is a
//! warm-up that is not counted; it also checks that every copy is byte-identical to its
//! source.
//!
//! | case | omnistorage | peer | goal |
//! | --- | --- | --- | --- |
//! | large copy | `copy_path` between two `FileBackend`s (different roots, one store: `copy_from`) | `cp` | ≤ 1.0× |
//! | small copy | `list` + `copy_path` per object, one thread | `cp -r` | ≤ 1.5× |
//! | large stream copy | `copy_entry` (a `Reader` into a `Writer`; kernel-side between files) | `cp` | information |
//! | small stream copy | `list` + `copy_entry` per object, one thread | `cp -r` | information |
//! | large read | `reader` into `io::sink()` | `cat > /dev/null` | information |
//! | small read | `list` + `reader` per object into `io::sink()` | `find -exec cat {} +` | information |
//! | large write | a `Writer` fed 1 MiB `write_all`s from memory | `cp` of the same data | information |
//! | small write | `write_all` per object from memory | `cp -r` of the same data | information |
//!
//! Environment:
//!
//! - `OMNISTORAGE_BENCH_DIR`: where to make the scratch directory (default: the system temp
//!   directory);
//! - `OMNISTORAGE_BENCH_BIG_MIB`: size of the large object in MiB (default 256);
//! - `OMNISTORAGE_BENCH_SMALL_COUNT`: number of small objects (default 10000);
//! - `OMNISTORAGE_BENCH_REPS`: counted repetitions (default 7);
//! - `OMNISTORAGE_BENCH_KEEP=1`: keep the scratch directory.
//!
//! CPU time comes from `/proc/self/stat`: `utime`/`stime` for our side, `cutime`/`cstime` (the
//! reaped children) for the peer, in clock ticks of 10 ms. Linux only.
//!
//! `--syscalls` needs `strace`: it runs each case once per side (ours as this binary with the
//! internal `--op CASE SRC DST`) under `strace -c -f` and prints the calls per object, process
//! start-up included (a few dozen calls for ours, about 160 for `cp`).
//!
//! The small-object copy is one thread: the parallel sync engine does not exist yet.

use std::error::Error;
use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path as FsPath, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use omnistorage::{Backend, BackendExt, FileBackend, Path, WriteOptions, copy_entry, copy_path};

type BoxResult<T> = Result<T, Box<dyn Error>>;

/// The streaming buffer our read cases use (the same size as `copy_path`'s).
const READ_BUFFER: usize = 256 * 1024;
/// The chunk size of the large write.
const WRITE_CHUNK: usize = 1024 * 1024;
/// Small objects are 1 B to this size, inclusive.
const SMALL_MAX: u64 = 8 * 1024;
/// `USER_HZ`, the unit of the CPU times in `/proc/*/stat`; 100 on every Linux target.
const TICK_MS: f64 = 10.0;

fn main() {
    if let Err(e) = run() {
        eprintln!("file_backend bench failed: {e}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration

struct Config {
    big_bytes: usize,
    small_count: usize,
    reps: usize,
    keep: bool,
    base: PathBuf,
}

fn env_number(name: &str, default: usize) -> BoxResult<usize> {
    match std::env::var(name) {
        Ok(v) => Ok(v.trim().parse().map_err(|e| format!("{name}={v:?}: {e}"))?),
        Err(_) => Ok(default),
    }
}

impl Config {
    fn from_env() -> BoxResult<Config> {
        let big_mib = env_number("OMNISTORAGE_BENCH_BIG_MIB", 256)?;
        let small_count = env_number("OMNISTORAGE_BENCH_SMALL_COUNT", 10_000)?;
        let reps = env_number("OMNISTORAGE_BENCH_REPS", 7)?.max(1);
        let keep = std::env::var("OMNISTORAGE_BENCH_KEEP").is_ok_and(|v| v != "0" && !v.is_empty());
        let base = std::env::var_os("OMNISTORAGE_BENCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        if big_mib == 0 || small_count == 0 {
            return Err("the large object and the small set must not be empty".into());
        }
        Ok(Config {
            big_bytes: big_mib * 1024 * 1024,
            small_count,
            reps,
            keep,
            base,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The data set: deterministic, generated in memory, written once with std::fs.

/// SplitMix64: small, fast, and good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn fill(&mut self, buf: &mut [u8]) {
        let mut chunks = buf.chunks_exact_mut(8);
        for c in &mut chunks {
            c.copy_from_slice(&self.next().to_le_bytes());
        }
        let rest = chunks.into_remainder();
        let last = self.next().to_le_bytes();
        rest.copy_from_slice(&last[..rest.len()]);
    }
}

/// The large object: pseudo-random bytes (like media or compressed archives).
fn big_content(size: usize) -> Vec<u8> {
    let mut data = vec![0u8; size];
    Rng(0x6f6d_6e69_5f62_6967).fill(&mut data);
    data
}

/// The 100 directories of the small set: 80 one level deep, 20 two levels deep.
fn small_dirs() -> Vec<String> {
    let mut dirs: Vec<String> = (0..80).map(|i| format!("d{i:02}")).collect();
    dirs.extend((0..20).map(|j| format!("d{:02}/s{j:02}", j * 4)));
    dirs
}

/// The small objects: (path under the backend root, content). Paths start with `small/`.
fn small_content(count: usize) -> Vec<(String, Vec<u8>)> {
    let dirs = small_dirs();
    let mut rng = Rng(0x6f6d_6e69_5f73_6d6c);
    (0..count)
        .map(|i| {
            let dir = &dirs[rng.below(dirs.len() as u64) as usize];
            let size = 1 + rng.below(SMALL_MAX) as usize;
            let mut data = vec![0u8; size];
            rng.fill(&mut data);
            (format!("small/{dir}/f{i:05}.bin"), data)
        })
        .collect()
}

struct Data {
    big: Vec<u8>,
    small: Vec<(String, Vec<u8>)>,
    small_bytes: u64,
}

impl Data {
    fn generate(cfg: &Config) -> Data {
        let big = big_content(cfg.big_bytes);
        let small = small_content(cfg.small_count);
        let small_bytes = small.iter().map(|(_, d)| d.len() as u64).sum();
        Data {
            big,
            small,
            small_bytes,
        }
    }

    fn write_to(&self, src: &FsPath) -> io::Result<()> {
        fs::write(src.join("big"), &self.big)?;
        for (path, data) in &self.small {
            let full = src.join(path);
            fs::create_dir_all(full.parent().expect("has a parent"))?;
            fs::write(full, data)?;
        }
        Ok(())
    }
}

/// The scratch directory; removed on drop unless kept.
struct Scratch {
    dir: PathBuf,
    keep: bool,
}

impl Scratch {
    fn new(cfg: &Config) -> BoxResult<Scratch> {
        fs::create_dir_all(&cfg.base)?;
        let base = fs::canonicalize(&cfg.base)?;
        let repo = fs::canonicalize(env!("CARGO_MANIFEST_DIR"))?;
        if base.starts_with(&repo) {
            return Err(format!(
                "OMNISTORAGE_BENCH_DIR {} is inside the repository; choose a directory outside it",
                base.display()
            )
            .into());
        }
        let mut name = format!("omnistorage-bench-{}", std::process::id());
        if base.join(&name).exists() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            name.push_str(&format!("-{nanos}"));
        }
        let dir = base.join(name);
        fs::create_dir(&dir)?;
        fs::create_dir(dir.join("src"))?;
        Ok(Scratch {
            dir,
            keep: cfg.keep,
        })
    }

    fn src(&self) -> PathBuf {
        self.dir.join("src")
    }

    fn dst(&self, side: &str) -> PathBuf {
        self.dir.join(format!("dst-{side}"))
    }

    /// A fresh, empty destination directory for `side`.
    fn fresh_dst(&self, side: &str) -> io::Result<PathBuf> {
        let dst = self.dst(side);
        remove_if_present(&dst)?;
        fs::create_dir(&dst)?;
        Ok(dst)
    }

    /// Takes both destinations away. Trees of many small files are moved into `trash/`, to be
    /// deleted at the end, instead of deleted now: on ext4 without a journal (as on the VMs
    /// this was written on), the inode allocator skips inodes deleted in the last minute and
    /// reads each one's inode-table block to find out (`recently_deleted()` in
    /// `fs/ext4/ialloc.c`). Deleting 10,000 files just before creating 10,000 made both sides
    /// several times slower, the one that ran first most: the measurement would have been of
    /// that scan, not of the copy.
    fn clear_dsts(&self, many_files: bool) -> io::Result<()> {
        for side in ["ours", "peer"] {
            let dst = self.dst(side);
            if many_files && dst.exists() {
                let trash = self.dir.join("trash");
                fs::create_dir_all(&trash)?;
                let n = fs::read_dir(&trash)?.count();
                fs::rename(&dst, trash.join(format!("{n}-{side}")))?;
            } else {
                remove_if_present(&dst)?;
            }
        }
        Ok(())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("kept the scratch directory {}", self.dir.display());
            return;
        }
        eprintln!("removing the scratch directory {} ...", self.dir.display());
        if let Err(e) = fs::remove_dir_all(&self.dir) {
            eprintln!("could not remove {}: {e}", self.dir.display());
        }
    }
}

fn remove_if_present(dir: &FsPath) -> io::Result<()> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Flushes dirty pages and the journal so that no write-back from one measurement lands in
/// the next. Untimed.
fn sync() {
    let _ = Command::new("sync").status();
}

// ---------------------------------------------------------------------------------------------
// The cases

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    LargeCopy,
    SmallCopy,
    LargeStream,
    SmallStream,
    LargeRead,
    SmallRead,
    LargeWrite,
    SmallWrite,
}

const OPS: [Op; 8] = [
    Op::LargeCopy,
    Op::SmallCopy,
    Op::LargeStream,
    Op::SmallStream,
    Op::LargeRead,
    Op::SmallRead,
    Op::LargeWrite,
    Op::SmallWrite,
];

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::LargeCopy => "large copy",
            Op::SmallCopy => "small copy",
            Op::LargeStream => "large stream copy",
            Op::SmallStream => "small stream copy",
            Op::LargeRead => "large read",
            Op::SmallRead => "small read",
            Op::LargeWrite => "large write",
            Op::SmallWrite => "small write",
        }
    }

    fn from_name(s: &str) -> Option<Op> {
        OPS.into_iter()
            .find(|op| op.name().replace(' ', "-") == s || op.name() == s)
    }

    /// The goal for `ours / peer`, if the issue sets one.
    fn goal(self) -> Option<f64> {
        match self {
            Op::LargeCopy => Some(1.0),
            Op::SmallCopy => Some(1.5),
            _ => None,
        }
    }

    fn is_large(self) -> bool {
        matches!(
            self,
            Op::LargeCopy | Op::LargeStream | Op::LargeRead | Op::LargeWrite
        )
    }

    fn writes(self) -> bool {
        !matches!(self, Op::LargeRead | Op::SmallRead)
    }

    /// The peer's command line and working directory.
    fn peer(self, src: &FsPath, dst: &FsPath) -> Peer {
        let os = |p: PathBuf| p.into_os_string();
        let (program, args, cwd): (&str, Vec<OsString>, Option<PathBuf>) = match self {
            Op::LargeCopy | Op::LargeStream | Op::LargeWrite => {
                ("cp", vec![os(src.join("big")), os(dst.join("big"))], None)
            }
            Op::SmallCopy | Op::SmallStream | Op::SmallWrite => (
                "cp",
                vec!["-r".into(), os(src.join("small")), os(dst.join("small"))],
                None,
            ),
            Op::LargeRead => ("cat", vec![os(src.join("big"))], None),
            Op::SmallRead => (
                "find",
                ["small", "-type", "f", "-exec", "cat", "{}", "+"]
                    .map(OsString::from)
                    .to_vec(),
                Some(src.to_path_buf()),
            ),
        };
        Peer {
            program: program.into(),
            args,
            cwd,
        }
    }

    /// Runs omnistorage's side once; returns the bytes it moved.
    fn ours(self, src: &FsPath, dst: &FsPath, data: &Data) -> BoxResult<u64> {
        let big = Path::parse("big")?;
        let small = Path::parse("small")?;
        match self {
            Op::LargeCopy => {
                let (from, to) = (FileBackend::new(src)?, FileBackend::new(dst)?);
                Ok(copy_path(&from, &big, &to, &big)?.size)
            }
            Op::SmallCopy => {
                let (from, to) = (FileBackend::new(src)?, FileBackend::new(dst)?);
                let mut total = 0;
                for entry in from.list(&small, &omnistorage::ListOptions::new())? {
                    let entry = entry?;
                    total += copy_path(&from, &entry.path, &to, &entry.path)?.size;
                }
                Ok(total)
            }
            Op::LargeStream => {
                let (from, to) = (FileBackend::new(src)?, FileBackend::new(dst)?);
                let entry = from.info(&big)?;
                Ok(copy_entry(&from, &entry, &to, &big, None)?.size)
            }
            Op::SmallStream => {
                let (from, to) = (FileBackend::new(src)?, FileBackend::new(dst)?);
                let mut total = 0;
                for entry in from.list(&small, &omnistorage::ListOptions::new())? {
                    let entry = entry?;
                    total += copy_entry(&from, &entry, &to, &entry.path, None)?.size;
                }
                Ok(total)
            }
            Op::LargeRead => {
                let from = FileBackend::new(src)?;
                let mut buf = vec![0u8; READ_BUFFER];
                drain(&mut from.open_reader(&big)?, &mut buf)
            }
            Op::SmallRead => {
                let from = FileBackend::new(src)?;
                let mut buf = vec![0u8; READ_BUFFER];
                let mut total = 0;
                for entry in from.list(&small, &omnistorage::ListOptions::new())? {
                    total += drain(&mut from.open_reader(&entry?.path)?, &mut buf)?;
                }
                Ok(total)
            }
            Op::LargeWrite => {
                let to = FileBackend::new(dst)?;
                let mut w = to.writer(&big, &WriteOptions::new())?;
                for chunk in data.big.chunks(WRITE_CHUNK) {
                    w.write_all(chunk)?;
                }
                Ok(w.finish()?.size)
            }
            Op::SmallWrite => {
                let to = FileBackend::new(dst)?;
                let mut total = 0;
                for (path, bytes) in &data.small {
                    total += to.write_all(path.as_str(), bytes)?.size;
                }
                Ok(total)
            }
        }
    }

    fn bytes(self, data: &Data) -> u64 {
        if self.is_large() {
            data.big.len() as u64
        } else {
            data.small_bytes
        }
    }

    fn objects(self, data: &Data) -> u64 {
        if self.is_large() {
            1
        } else {
            data.small.len() as u64
        }
    }

    /// Checks that what this case wrote into `dst` is what the source holds.
    fn verify(self, src: &FsPath, dst: &FsPath) -> BoxResult<()> {
        match self {
            Op::LargeCopy | Op::LargeStream | Op::LargeWrite => {
                same_file(&src.join("big"), &dst.join("big"))
            }
            Op::SmallCopy | Op::SmallStream | Op::SmallWrite => {
                let n = same_tree(&src.join("small"), &dst.join("small"))?;
                eprintln!("  verified {n} files under {}", dst.join("small").display());
                Ok(())
            }
            Op::LargeRead | Op::SmallRead => Ok(()),
        }
    }
}

/// Reads `reader` to its end into `io::sink()`.
fn drain(reader: &mut impl Read, buf: &mut [u8]) -> BoxResult<u64> {
    let mut sink = io::sink();
    let mut total = 0;
    loop {
        match reader.read(buf) {
            Ok(0) => return Ok(total),
            Ok(n) => {
                sink.write_all(&buf[..n])?;
                total += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
}

fn same_file(a: &FsPath, b: &FsPath) -> BoxResult<()> {
    if fs::read(a)? != fs::read(b)? {
        return Err(format!("{} differs from {}", b.display(), a.display()).into());
    }
    Ok(())
}

/// Checks that the trees hold the same names, types and file contents; returns the file count.
fn same_tree(a: &FsPath, b: &FsPath) -> BoxResult<u64> {
    let names = |dir: &FsPath| -> io::Result<Vec<OsString>> {
        let mut v = fs::read_dir(dir)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<io::Result<Vec<_>>>()?;
        v.sort();
        Ok(v)
    };
    let (na, nb) = (names(a)?, names(b)?);
    if na != nb {
        return Err(format!("{} and {} hold different names", a.display(), b.display()).into());
    }
    let mut files = 0;
    for name in na {
        let (pa, pb) = (a.join(&name), b.join(&name));
        let (ta, tb) = (fs::symlink_metadata(&pa)?, fs::symlink_metadata(&pb)?);
        if ta.is_dir() && tb.is_dir() {
            files += same_tree(&pa, &pb)?;
        } else if ta.is_file() && tb.is_file() {
            same_file(&pa, &pb)?;
            files += 1;
        } else {
            return Err(format!("{} and {} differ in type", pa.display(), pb.display()).into());
        }
    }
    Ok(files)
}

struct Peer {
    program: OsString,
    args: Vec<OsString>,
    cwd: Option<PathBuf>,
}

impl Peer {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if let Some(cwd) = &self.cwd {
            cmd.current_dir(cwd);
        }
        cmd
    }

    fn line(&self) -> String {
        let mut s = self.program.to_string_lossy().into_owned();
        for a in &self.args {
            s.push(' ');
            s.push_str(&a.to_string_lossy());
        }
        s
    }
}

// ---------------------------------------------------------------------------------------------
// Measuring

#[derive(Clone, Copy, Default)]
struct Sample {
    wall: Duration,
    /// User and system CPU time, in clock ticks.
    user: u64,
    sys: u64,
}

/// (utime, stime, cutime, cstime) of this process, in clock ticks.
fn proc_times() -> (u64, u64, u64, u64) {
    let stat = fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces; the first
    // of them is field 3 (state), so utime (14) is index 11.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let at = |i: usize| f.get(i).copied().unwrap_or(0);
    (at(11), at(12), at(13), at(14))
}

fn measure_ours(f: impl FnOnce() -> BoxResult<u64>) -> BoxResult<(Sample, u64)> {
    let (u0, s0, _, _) = proc_times();
    let start = Instant::now();
    let bytes = f()?;
    let wall = start.elapsed();
    let (u1, s1, _, _) = proc_times();
    Ok((
        Sample {
            wall,
            user: u1 - u0,
            sys: s1 - s0,
        },
        bytes,
    ))
}

fn measure_peer(mut cmd: Command) -> BoxResult<Sample> {
    let (_, _, u0, s0) = proc_times();
    let start = Instant::now();
    let status = cmd.status()?;
    let wall = start.elapsed();
    let (_, _, u1, s1) = proc_times();
    if !status.success() {
        return Err(format!("{cmd:?} failed: {status}").into());
    }
    Ok(Sample {
        wall,
        user: u1 - u0,
        sys: s1 - s0,
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[derive(Default)]
struct Results {
    ours: Vec<Sample>,
    peer: Vec<Sample>,
}

/// Runs one repetition of `op`: both sides, in the given order, each on a fresh destination.
fn run_pair(
    op: Op,
    scratch: &Scratch,
    data: &Data,
    ours_first: bool,
    check: bool,
) -> BoxResult<(Sample, Sample)> {
    let src = scratch.src();
    let mut ours = Sample::default();
    let mut peer = Sample::default();
    for turn in 0..2 {
        let our_turn = (turn == 0) == ours_first;
        let side = if our_turn { "ours" } else { "peer" };
        let dst = scratch.fresh_dst(side)?;
        sync();
        if our_turn {
            let (sample, bytes) = measure_ours(|| op.ours(&src, &dst, data))?;
            if bytes != op.bytes(data) {
                return Err(format!(
                    "{}: omnistorage moved {bytes} bytes, expected {}",
                    op.name(),
                    op.bytes(data)
                )
                .into());
            }
            ours = sample;
        } else {
            peer = measure_peer(op.peer(&src, &dst).command())?;
        }
        if check && op.writes() {
            op.verify(&src, &dst)?;
        }
    }
    scratch.clear_dsts(!op.is_large() && op.writes())?;
    sync();
    Ok((ours, peer))
}

// ---------------------------------------------------------------------------------------------
// Reporting

fn first_line(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn print_header(cfg: &Config, scratch: &Scratch, data: &Data) -> BoxResult<()> {
    let src = FileBackend::new(scratch.src())?;
    let dst = FileBackend::new(scratch.dst("ours"))?;
    println!("omnistorage file backend vs cp/cat, side by side");
    println!(
        "  machine: {} CPUs, kernel {}, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim(),
        first_line("cp", &["--version"]),
    );
    println!(
        "  scratch: {} ({})",
        scratch.dir.display(),
        first_line("stat", &["-f", "-c", "%T", &scratch.dir.to_string_lossy()]),
    );
    println!(
        "  data: large object {} MiB; {} small objects, {:.1} MiB in total, 1 B-{} KiB, in {} directories",
        data.big.len() >> 20,
        data.small.len(),
        data.small_bytes as f64 / (1024.0 * 1024.0),
        SMALL_MAX / 1024,
        small_dirs().len(),
    );
    println!(
        "  source backend {:?}, destination {:?}: same store, different roots: copy_path copies server-side (copy_from), copy_entry streams",
        src.location().map(|l| l.to_string()).unwrap_or_default(),
        dst.location().map(|l| l.to_string()).unwrap_or_default(),
    );
    println!(
        "  {} counted repetitions after 1 warm-up (which also verifies every copy), sides alternating",
        cfg.reps
    );
    println!("  small copy is single-threaded: the parallel sync engine does not exist yet");
    Ok(())
}

fn print_tables(ops: &[Op], results: &[Results], data: &Data) {
    println!();
    println!(
        "{:<12} | {:>21} | {:>21} | {:>19} | {:>6} | peer",
        "case", "omnistorage ms", "peer ms", "ratio ours/peer", "goal"
    );
    println!(
        "{:<12} | {:>10} {:>10} | {:>10} {:>10} | {:>5} {:>5} {:>7} | {:>6} |",
        "", "median", "min", "median", "min", "med", "min", "paired", ""
    );
    println!("{}", "-".repeat(112));
    let src = PathBuf::from("SRC");
    let dst = PathBuf::from("DST");
    for (op, r) in ops.iter().zip(results) {
        let ours: Vec<f64> = r.ours.iter().map(|s| ms(s.wall)).collect();
        let peer: Vec<f64> = r.peer.iter().map(|s| ms(s.wall)).collect();
        let paired: Vec<f64> = ours.iter().zip(&peer).map(|(o, p)| o / p).collect();
        let (om, pm) = (median(ours.clone()), median(peer.clone()));
        let ratio = om / pm;
        let goal = match op.goal() {
            Some(g) if ratio <= g => format!("{g:.1} ok"),
            Some(g) => format!("{g:.1} MISS"),
            None => "info".to_string(),
        };
        println!(
            "{:<12} | {:>10.1} {:>10.1} | {:>10.1} {:>10.1} | {:>5.2} {:>5.2} {:>7.2} | {:>6} | {}",
            op.name(),
            om,
            min(&ours),
            pm,
            min(&peer),
            ratio,
            min(&ours) / min(&peer),
            median(paired),
            goal,
            op.peer(&src, &dst).line(),
        );
    }
    println!();
    println!("ratio: med = median(ours) / median(peer); min = min(ours) / min(peer);");
    println!("       paired = median over repetitions of ours/peer (the two ran back to back).");
    println!();
    println!(
        "{:<12} | {:>9} {:>9} | {:>10} | {:>21} | {:>21} | {:>9}",
        "case",
        "ours MB/s",
        "peer MB/s",
        "ours obj/s",
        "ours CPU user+sys ms",
        "peer CPU user+sys ms",
        "CPU ratio"
    );
    println!("{}", "-".repeat(112));
    for (op, r) in ops.iter().zip(results) {
        let mb = op.bytes(data) as f64 / 1e6;
        let om = median(r.ours.iter().map(|s| s.wall.as_secs_f64()).collect());
        let pm = median(r.peer.iter().map(|s| s.wall.as_secs_f64()).collect());
        let cpu = |v: &[Sample]| {
            let u = median(v.iter().map(|s| s.user as f64 * TICK_MS).collect());
            let s = median(v.iter().map(|s| s.sys as f64 * TICK_MS).collect());
            format!("{u:.0} + {s:.0}")
        };
        let total = |v: &[Sample]| median(v.iter().map(|s| (s.user + s.sys) as f64).collect());
        let (ot, pt) = (total(&r.ours), total(&r.peer));
        let ratio = if pt > 0.0 {
            format!("{:.2}", ot / pt)
        } else {
            "-".to_string()
        };
        println!(
            "{:<12} | {:>9.0} {:>9.0} | {:>10.0} | {:>21} | {:>21} | {:>9}",
            op.name(),
            mb / om,
            mb / pm,
            op.objects(data) as f64 / om,
            cpu(&r.ours),
            cpu(&r.peer),
            ratio,
        );
    }
    println!();
    println!("MB/s = 10^6 bytes per second of wall time (median). CPU: medians in 10 ms ticks;");
    println!(
        "CPU ratio = median(ours user+sys) / median(peer user+sys). Everything here runs on a"
    );
    println!("warm cache, so when other work competes for the CPUs, wall time stretches by that");
    println!("competition and CPU time does not: then the CPU ratio is the steadier figure.");
}

// ---------------------------------------------------------------------------------------------
// The syscall profile (--syscalls): one run of each side under `strace -c -f`.

/// Parses `strace -c` output into (syscall, calls).
fn parse_strace(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if !(5..=6).contains(&f.len()) || f[0].starts_with('%') || f[0].starts_with('-') {
                return None;
            }
            let name = *f.last()?;
            if name == "total" {
                return None;
            }
            Some((name.to_owned(), f[3].parse().ok()?))
        })
        .collect()
}

fn strace(scratch: &Scratch, side: &str, cmd: &Command) -> BoxResult<Vec<(String, u64)>> {
    let out = scratch.dir.join(format!("strace-{side}.txt"));
    let mut wrapped = Command::new("strace");
    wrapped
        .env_remove("LD_LIBRARY_PATH")
        .args(["-c", "-f", "-o"])
        .arg(&out)
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    if let Some(cwd) = cmd.get_current_dir() {
        wrapped.current_dir(cwd);
    }
    let status = wrapped.status()?;
    if !status.success() {
        return Err(format!("strace of {side} failed: {status}").into());
    }
    let text = fs::read_to_string(&out)?;
    fs::remove_file(&out)?;
    Ok(parse_strace(&text))
}

fn syscall_profile(ops: &[Op], scratch: &Scratch, data: &Data) -> BoxResult<()> {
    let exe = std::env::current_exe()?;
    let src = scratch.src();
    for &op in ops {
        let dst = scratch.fresh_dst("ours")?;
        let mut ours = Command::new(&exe);
        ours.arg("--op")
            .arg(op.name().replace(' ', "-"))
            .arg(&src)
            .arg(&dst);
        let ours = strace(scratch, "ours", &ours)?;
        if op.writes() {
            op.verify(&src, &dst)?;
        }
        let dst = scratch.fresh_dst("peer")?;
        let peer = op.peer(&src, &dst);
        let peer_calls = strace(scratch, "peer", &peer.command())?;
        scratch.clear_dsts(!op.is_large() && op.writes())?;
        sync();

        let objects = op.objects(data) as f64;
        let mut names: Vec<&str> = ours
            .iter()
            .chain(&peer_calls)
            .map(|(n, _)| n.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        let count =
            |v: &[(String, u64)], n: &str| v.iter().find(|(m, _)| m == n).map_or(0, |(_, c)| *c);
        let mut rows: Vec<(&str, u64, u64)> = names
            .into_iter()
            .map(|n| (n, count(&ours, n), count(&peer_calls, n)))
            .collect();
        rows.sort_by_key(|&(n, o, p)| (std::cmp::Reverse(o.max(p)), n));
        println!();
        println!(
            "{}: syscalls of one run (process start-up included), per object over {} object(s)",
            op.name(),
            objects
        );
        println!("  peer: {}", peer.line());
        println!(
            "  {:<20} {:>10} {:>10} {:>12} {:>12}",
            "syscall", "ours", "peer", "ours/object", "peer/object"
        );
        let (mut to, mut tp) = (0, 0);
        for (n, o, p) in rows {
            to += o;
            tp += p;
            if o.max(p) as f64 >= objects.min(50.0) {
                println!(
                    "  {n:<20} {o:>10} {p:>10} {:>12.2} {:>12.2}",
                    o as f64 / objects,
                    p as f64 / objects
                );
            }
        }
        println!(
            "  {:<20} {to:>10} {tp:>10} {:>12.2} {:>12.2}",
            "total",
            to as f64 / objects,
            tp as f64 / objects
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------

fn run() -> BoxResult<()> {
    let mut args = std::env::args_os().skip(1);
    let mut filters = Vec::new();
    let mut syscalls = false;
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--bench") => {}
            Some("--syscalls") => syscalls = true,
            Some("--op") => {
                // Internal: one run of our side, for `--syscalls`.
                let name = args.next().ok_or("--op NAME SRC DST")?;
                let op = Op::from_name(&name.to_string_lossy()).ok_or("unknown --op")?;
                let src = PathBuf::from(args.next().ok_or("--op NAME SRC DST")?);
                let dst = PathBuf::from(args.next().ok_or("--op NAME SRC DST")?);
                let cfg = Config::from_env()?;
                // Only what the write cases need, made in memory (no syscalls to count).
                let mut data = Data {
                    big: Vec::new(),
                    small: Vec::new(),
                    small_bytes: 0,
                };
                match op {
                    Op::LargeWrite => data.big = big_content(cfg.big_bytes),
                    Op::SmallWrite => data.small = small_content(cfg.small_count),
                    _ => {}
                }
                op.ours(&src, &dst, &data)?;
                return Ok(());
            }
            Some(s) if !s.starts_with('-') => filters.push(s.to_owned()),
            _ => return Err(format!("unknown argument {arg:?}").into()),
        }
    }
    let ops: Vec<Op> = OPS
        .into_iter()
        .filter(|op| filters.is_empty() || filters.iter().any(|f| op.name().contains(f.as_str())))
        .collect();
    if ops.is_empty() {
        return Err(format!("no case matches {filters:?}").into());
    }

    let cfg = Config::from_env()?;
    let scratch = Scratch::new(&cfg)?;
    eprintln!("generating the data set in {} ...", scratch.src().display());
    let data = Data::generate(&cfg);
    data.write_to(&scratch.src())?;
    sync();
    print_header(&cfg, &scratch, &data)?;
    println!("  load average at start: {}", loadavg());

    if syscalls {
        syscall_profile(&ops, &scratch, &data)?;
        return Ok(());
    }

    let mut results: Vec<Results> = ops.iter().map(|_| Results::default()).collect();
    for rep in 0..=cfg.reps {
        let warmup = rep == 0;
        for (i, &op) in ops.iter().enumerate() {
            let ours_first = (rep + i) % 2 == 0;
            let (ours, peer) = run_pair(op, &scratch, &data, ours_first, warmup)?;
            eprintln!(
                "{:<9} {:<12} ours {:>9.1} ms   peer {:>9.1} ms   ({} first)",
                if warmup {
                    "warm-up".to_string()
                } else {
                    format!("rep {rep}/{}", cfg.reps)
                },
                op.name(),
                ms(ours.wall),
                ms(peer.wall),
                if ours_first { "ours" } else { "peer" },
            );
            if !warmup {
                results[i].ours.push(ours);
                results[i].peer.push(peer);
            }
        }
    }
    print_tables(&ops, &results, &data);
    println!("  load average at end: {}", loadavg());
    Ok(())
}
