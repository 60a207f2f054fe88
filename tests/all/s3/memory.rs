//! The part-upload pool's memory budget: many concurrent writers through one backend share it.

use std::io::Write;

use omnistorage::BackendExt;

use super::{MIB, builder, cleanup, pattern, unique_prefix};
use crate::support::require_server;

/// 16 concurrent 64 MiB uploads through one backend never hold more part memory than its
/// budget (measured inside the pool: its high-water mark), and every object arrives whole.
#[test]
fn concurrent_uploads_stay_within_the_memory_budget() {
    let Some(env) = require_server("s3s") else {
        return;
    };
    const WRITERS: usize = 16;
    const SIZE: usize = 64 * MIB;
    const BUDGET: usize = 20 * MIB;
    let prefix = unique_prefix("memory");
    let b = builder(&env)
        .prefix(&prefix)
        .concurrency(4)
        .upload_memory(BUDGET)
        .build()
        .unwrap();
    let chunk = |i: usize| pattern(MIB, i as u8);
    std::thread::scope(|s| {
        for i in 0..WRITERS {
            let b = &b;
            s.spawn(move || {
                let piece = chunk(i);
                let mut w = b.open_writer(format!("big-{i:02}")).unwrap();
                for _ in 0..SIZE / MIB {
                    w.write_all(&piece).unwrap();
                }
                w.finish().unwrap();
            });
        }
    });
    let peak = b.upload_memory_peak();
    eprintln!("part memory high-water mark: {peak} bytes (budget {BUDGET})");
    assert!(peak <= BUDGET, "peak part memory {peak} > budget {BUDGET}");
    assert!(peak >= 5 * MIB, "parts went through the pool: {peak}");
    for i in 0..WRITERS {
        assert_eq!(b.info(format!("big-{i:02}")).unwrap().size, SIZE as u64);
    }
    let back = b.read_to_vec("big-07").unwrap();
    let piece = chunk(7);
    assert!(back.chunks(MIB).all(|c| c == piece), "content of big-07");
    cleanup(&env, &prefix);
}
