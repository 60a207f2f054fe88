//! gzip level 6 compress and decompress, in memory, with whichever flate2 backend this build
//! has. See `scripts/bench-flate2`.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

#[path = "../../support/datagen.rs"]
mod datagen;

#[cfg(all(feature = "miniz", not(feature = "zlib-rs")))]
const BACKEND: &str = "miniz_oxide";
#[cfg(feature = "zlib-rs")]
const BACKEND: &str = "zlib-rs";
#[cfg(not(any(feature = "miniz", feature = "zlib-rs")))]
compile_error!("build with --features miniz or --features zlib-rs");

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() -> std::io::Result<()> {
    let mib: u64 = std::env::var("OMNI_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let reps: usize = std::env::var("OMNI_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let data = datagen::sample(42, (mib << 20) as usize);
    let (mut ct, mut dt) = (Vec::new(), Vec::new());
    let mut packed = Vec::new();
    for _ in 0..reps.max(1) {
        let start = Instant::now();
        let mut enc = GzEncoder::new(Vec::with_capacity(data.len() / 4), Compression::new(6));
        for chunk in data.chunks(256 * 1024) {
            enc.write_all(chunk)?;
        }
        packed = enc.finish()?;
        ct.push(start.elapsed());

        let start = Instant::now();
        let mut dec = MultiGzDecoder::new(&packed[..]);
        let mut buf = vec![0u8; 256 * 1024];
        let mut total = 0usize;
        loop {
            let n = dec.read(&mut buf)?;
            if n == 0 {
                break;
            }
            total += n;
        }
        dt.push(start.elapsed());
        assert_eq!(total, data.len());
    }
    let mb = data.len() as f64 / 1e6;
    let (c, d) = (median(ct), median(dt));
    println!(
        "| {BACKEND} | {:.3} s | {:.1} MB/s | {:.3} s | {:.1} MB/s | {} | {:.3} |",
        c.as_secs_f64(),
        mb / c.as_secs_f64(),
        d.as_secs_f64(),
        mb / d.as_secs_f64(),
        packed.len(),
        data.len() as f64 / packed.len() as f64
    );
    Ok(())
}
