//! Random trees: after `sync`, the destination equals the source; a second run changes
//! nothing; a dry run's counts equal the real run's.

use omnistorage::sync::{self, Options};
use omnistorage::{Backend, MemoryBackend, Path};

use super::{t, tree};

/// A small deterministic generator (xorshift), so every failure names its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A random tree (times from `times` to `times + 3` seconds) of up to 40 objects in up to 3 levels, with names that exercise the
/// ordering (`a`, `a.b`, `a-b`, `a0` as directories; `f`, `f.b`, `f-b`, `f0` as objects, so
/// that no path is an object on one side and a directory on the other).
fn random_tree(rng: &mut Rng, b: &dyn Backend, times: u64) {
    const DIRS: [&str; 4] = ["a", "a.b", "a-b", "a0"];
    const FILES: [&str; 4] = ["f", "f.b", "f-b", "f0"];
    let n = rng.below(40);
    for _ in 0..n {
        let depth = rng.below(3);
        let mut path: Vec<&str> = (0..depth).map(|_| DIRS[rng.below(4) as usize]).collect();
        path.push(FILES[rng.below(4) as usize]);
        let path = path.join("/");
        let len = rng.below(20) as usize;
        let data: Vec<u8> = (0..len).map(|_| rng.below(3) as u8).collect();
        // A path that is a directory already (or under an object) is skipped.
        let mut w = match b.writer(
            &Path::parse(&path).expect("path"),
            &omnistorage::WriteOptions::new().modified(t(times + rng.below(4))),
        ) {
            Ok(w) => w,
            Err(_) => continue,
        };
        let _ = std::io::Write::write_all(&mut w, &data);
        let _ = w.finish();
    }
}

#[test]
fn sync_makes_the_destination_equal_the_source_for_random_trees() {
    for seed in 1..=200u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let (src, dst) = (MemoryBackend::new(), MemoryBackend::new());
        // Other times on each side: every pair is decided by its data (equal size and time
        // mean equal, by rclone's rule, which the scenarios test on their own).
        random_tree(&mut rng, &src, 0);
        random_tree(&mut rng, &dst, 10);
        let opts = Options::new();
        let dry = sync::sync(
            &src,
            &Path::root(),
            &dst,
            &Path::root(),
            &opts.clone().dry_run(true),
        )
        .expect("dry run");
        let r = sync::sync(&src, &Path::root(), &dst, &Path::root(), &opts).expect("sync");
        assert!(r.is_ok(), "seed {seed}: {:?}", r.failures);
        assert_eq!(
            (dry.copied, dry.deleted, dry.set_modified, dry.unchanged),
            (r.copied, r.deleted, r.set_modified, r.unchanged),
            "seed {seed}: the dry run said something else"
        );
        assert_eq!(tree(&dst, ""), tree(&src, ""), "seed {seed}");
        let again = sync::sync(&src, &Path::root(), &dst, &Path::root(), &opts).expect("sync");
        assert!(!again.changed_anything(), "seed {seed}: {again:?}");
    }
}

#[test]
fn copy_keeps_extras_and_brings_every_source_object() {
    for seed in 1..=100u64 {
        let mut rng = Rng(seed.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1);
        let (src, dst) = (MemoryBackend::new(), MemoryBackend::new());
        // Other times on each side: every pair is decided by its data (equal size and time
        // mean equal, by rclone's rule, which the scenarios test on their own).
        random_tree(&mut rng, &src, 0);
        random_tree(&mut rng, &dst, 10);
        let before = tree(&dst, "");
        let r =
            sync::copy(&src, &Path::root(), &dst, &Path::root(), &Options::new()).expect("copy");
        assert!(r.is_ok(), "seed {seed}: {:?}", r.failures);
        let after = tree(&dst, "");
        for (name, data) in tree(&src, "") {
            assert_eq!(after.get(&name), Some(&data), "seed {seed}: {name}");
        }
        for name in before.keys() {
            assert!(after.contains_key(name), "seed {seed}: {name} lost");
        }
    }
}
