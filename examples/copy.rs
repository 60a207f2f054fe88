//! Copies every object under one URL to another, between any two backends, with parallel
//! transfers: a small `cp -r` for object stores.
//!
//! ```text
//! cargo run --release --features s3,sftp --example copy -- [--transfers N] SRC DST
//!
//! # a local tree into a bucket (credentials from the URL, the environment or ~/.aws):
//! cargo run --release --features s3 --example copy -- ./photos \
//!     's3://my-bucket/photos?endpoint=http://127.0.0.1:3900&provider=garage'
//! # and back
//! cargo run --release --features s3 --example copy -- \
//!     's3://my-bucket/photos?endpoint=http://127.0.0.1:3900&provider=garage' ./restored
//! # a local tree to an SSH server (`pool`: how many idle sessions are kept)
//! cargo run --release --features sftp --example copy -- --transfers 4 ./photos \
//!     'sftp://me@host:22/srv/photos?key=/home/me/.ssh/id_ed25519&pool=4'
//! ```
//!
//! SRC and DST are anything `omnistorage::open` takes with the features built in: local
//! paths, `file://`, `mem://`, `s3://`, `sftp://`; SRC is listed from its root, and each
//! object lands at the same relative path under DST. Modification times, content types and
//! metadata are kept. Prints a summary (and each object with `COPY_VERBOSE=1`); exits 1 if
//! anything failed.

use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use omnistorage::{Backend, Path, copy_entry};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut transfers = 4usize;
    if let Some(i) = args.iter().position(|a| a == "--transfers") {
        let value = args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .filter(|&n| n > 0);
        let Some(n) = value else {
            eprintln!("--transfers needs a number above 0");
            return ExitCode::from(2);
        };
        transfers = n;
        args.drain(i..i + 2);
    }
    let [src, dst] = args.as_slice() else {
        eprintln!("usage: copy [--transfers N] SRC DST");
        return ExitCode::from(2);
    };
    match run(src, dst, transfers) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(failed) => {
            eprintln!("{failed} object(s) failed");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(src: &str, dst: &str, transfers: usize) -> omnistorage::Result<usize> {
    let source = omnistorage::open(src)?;
    let target = omnistorage::open(dst)?;
    let start = Instant::now();
    // The listing streams; the workers take entries from it one at a time.
    let list = Mutex::new(source.list(&Path::root(), &omnistorage::ListOptions::new())?);
    let bytes = AtomicU64::new(0);
    let copied = AtomicU64::new(0);
    let failed = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..transfers {
            s.spawn(|| {
                loop {
                    let next = list.lock().unwrap_or_else(|e| e.into_inner()).next();
                    let Some(item) = next else { return };
                    // The listed entry already has the size, time and metadata: no second
                    // lookup of the source.
                    let result = item.and_then(|entry| {
                        copy_entry(&*source, &entry, &*target, &entry.path, None)
                            .map(|e| (entry.path, e.size))
                    });
                    match result {
                        Ok((path, size)) => {
                            bytes.fetch_add(size, Ordering::Relaxed);
                            copied.fetch_add(1, Ordering::Relaxed);
                            if std::env::var_os("COPY_VERBOSE").is_some() {
                                println!("copied {path} ({size} bytes)");
                            }
                        }
                        Err(e) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            eprintln!("failed: {e}");
                        }
                    }
                }
            });
        }
    });
    let secs = start.elapsed().as_secs_f64();
    let bytes = bytes.into_inner();
    println!(
        "{} objects, {:.1} MB in {secs:.2} s ({:.1} MB/s), {} failed",
        copied.into_inner(),
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / secs.max(1e-9),
        failed.load(Ordering::Relaxed)
    );
    Ok(failed.into_inner() as usize)
}
