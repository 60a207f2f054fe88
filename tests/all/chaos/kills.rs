//! Campaign 2: `kill -9` during `omnistorage sync`. The binary syncs a local tree (small
//! files in directories, a few of 1–3 MiB and one of 12 MiB: three 5 MiB parts on S3) to a
//! destination and is killed with SIGKILL at a random moment (uniform over the last complete
//! run's duration, so most kills land mid-run); the source changes a little
//! before each run. After each kill the destination is read in full: every object there
//! must be a version its source path had (no partial or corrupt object). Then a complete
//! run must succeed, leave the destination an exact copy of the source, and leave nothing
//! behind: no staged files (file backend, SFTP) and no pending multipart uploads (S3): what
//! the killed run left is reclaimed by the next run.
//!
//! Destinations: a local directory, S3 on Garage and on moto, SFTP on OpenSSH. Sized by
//! `OMNISTORAGE_CHAOS_KILLS` (kills per destination, default 3; `scripts/chaos` runs 100);
//! seeded by `OMNISTORAGE_CHAOS_SEED`.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::hash::{Hash as _, Hasher};
use std::path::{Path as FsPath, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use omnistorage::conformance::TempDir;
use omnistorage::{Backend, BackendExt, FileBackend, ListOptions, Path};

use super::{Figures, seed, size};
use crate::support::rng::Rng;

const MIB: usize = 1024 * 1024;

fn digest(data: &[u8]) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    data.hash(&mut h);
    h.finish()
}

/// The source tree on disk, and every version each path has had.
struct Source {
    dir: TempDir,
    live: BTreeMap<String, u64>,
    versions: BTreeMap<String, BTreeSet<u64>>,
}

impl Source {
    fn new() -> Source {
        Source {
            dir: TempDir::new().expect("tmp"),
            live: BTreeMap::new(),
            versions: BTreeMap::new(),
        }
    }

    fn write(&mut self, path: &str, data: &[u8]) {
        let full = self.dir.path().join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&full, data).expect("write");
        let d = digest(data);
        self.live.insert(path.to_owned(), d);
        self.versions.entry(path.to_owned()).or_default().insert(d);
    }

    fn delete(&mut self, path: &str) {
        let _ = std::fs::remove_file(self.dir.path().join(path));
        self.live.remove(path);
    }

    fn small(rng: &mut Rng) -> Vec<u8> {
        let len = rng.below(32 * 1024) as usize;
        rng.bytes(len)
    }

    /// The first tree: 150 small files in 10 directories, 3 of 1–3 MiB, one of 12 MiB.
    fn fill(&mut self, rng: &mut Rng) {
        for i in 0..150 {
            let data = Source::small(rng);
            self.write(&format!("d{}/f{i}", i % 10), &data);
        }
        for i in 0..3 {
            let len = rng.between(MIB as u64, 3 * MIB as u64) as usize;
            let data = rng.bytes(len);
            self.write(&format!("m/medium{i}"), &data);
        }
        let data = rng.bytes(12 * MIB);
        self.write("big", &data);
    }

    /// A little change: 15 files rewritten, 3 added, 3 deleted, the big one rewritten half
    /// the time.
    fn change(&mut self, rng: &mut Rng, round: u64) {
        let paths: Vec<String> = self.live.keys().filter(|p| *p != "big").cloned().collect();
        for _ in 0..15 {
            let p = &paths[rng.below(paths.len() as u64) as usize];
            let data = Source::small(rng);
            self.write(p, &data);
        }
        for i in 0..3 {
            let data = Source::small(rng);
            self.write(&format!("d{}/new{round}-{i}", rng.below(10)), &data);
        }
        for _ in 0..3 {
            let p = &paths[rng.below(paths.len() as u64) as usize];
            self.delete(p);
        }
        if rng.chance(50) {
            // Not always the same size: an SFTP store keeps whole seconds, so a same-size
            // rewrite within the second of the last copy looks unchanged to size and time
            // (as to rclone); that is the comparison's known limit, not what is tested here.
            let len = 12 * MIB + rng.below(64 * 1024) as usize;
            let data = rng.bytes(len);
            self.write("big", &data);
        }
    }
}

/// A destination: its URL for the binary, and a backend to inspect it directly.
struct Dest {
    name: &'static str,
    url: String,
    inspect: Box<dyn Backend>,
    cleanup: Box<dyn Fn()>,
}

/// What is at the destination: path → digest.
fn contents(b: &dyn Backend) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let list = b
        .list(&Path::root(), &ListOptions::new().recursive(true))
        .expect("list the destination");
    for e in list {
        let e = e.expect("listing item");
        let data = b.read_to_vec(&e.path).expect("read");
        out.insert(e.path.to_string(), digest(&data));
    }
    out
}

/// Staged files or pending uploads at the destination.
fn leftovers(b: &dyn Backend) -> Vec<String> {
    if !b.capabilities().pending_uploads {
        return Vec::new();
    }
    b.pending_uploads(&Path::root())
        .expect("pending uploads")
        .map(|u| {
            u.map(|u| u.path.to_string())
                .unwrap_or_else(|e| e.to_string())
        })
        .collect()
}

fn sync_cmd(src: &FsPath, dest: &str, home: &FsPath) -> Command {
    let src = src.as_os_str();
    let mut cmd = crate::cli::command::<&OsStr>(&["sync".as_ref(), src, dest.as_ref()], home);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

fn campaign(dest: Dest) {
    let kills = size("OMNISTORAGE_CHAOS_KILLS", 3);
    let seed = seed(&format!("kills {}", dest.name));
    let mut rng = Rng::new(seed);
    let home = TempDir::new().expect("tmp");
    let mut src = Source::new();
    src.fill(&mut rng);
    let complete = |src: &Source| -> Duration {
        let started = Instant::now();
        let out = sync_cmd(src.dir.path(), &dest.url, home.path())
            .output()
            .expect("the binary runs");
        assert!(
            out.status.success(),
            "{}: a complete run failed: {}",
            dest.name,
            String::from_utf8_lossy(&out.stderr)
        );
        started.elapsed()
    };
    let mut last = complete(&src);
    let started = Instant::now();
    let (mut mid_run, mut partial, mut left_after_kill, mut left_after_next) = (0, 0, 0, 0);
    let mut differ_after_next = 0;
    for round in 0..kills {
        src.change(&mut rng, round);
        let mut child = sync_cmd(src.dir.path(), &dest.url, home.path())
            .spawn()
            .expect("the binary runs");
        let window = last.as_millis() as u64;
        std::thread::sleep(Duration::from_millis(rng.below(window.max(1))));
        let finished = child.try_wait().expect("wait").is_some();
        child.kill().expect("SIGKILL");
        child.wait().expect("wait");
        mid_run += u64::from(!finished);
        // Every object at the destination is a version its path had.
        for (path, d) in contents(&*dest.inspect) {
            if !src.versions.get(&path).is_some_and(|v| v.contains(&d)) {
                partial += 1;
                eprintln!("PARTIAL: {} round {round}: {path}", dest.name);
            }
        }
        left_after_kill += leftovers(&*dest.inspect).len() as u64;
        // The next run reclaims what the killed one left, and converges.
        last = complete(&src);
        let now = contents(&*dest.inspect);
        if now != src.live {
            differ_after_next += 1;
            let a: BTreeSet<_> = now.keys().collect();
            let b: BTreeSet<_> = src.live.keys().collect();
            let changed: Vec<&String> = now
                .iter()
                .filter(|(p, d)| src.live.get(*p).is_some_and(|s| s != *d))
                .map(|(p, _)| p)
                .collect();
            eprintln!(
                "DIFFER: {} round {round}: only at dest {:?}, only at source {:?}, other content {changed:?}",
                dest.name,
                a.difference(&b).collect::<Vec<_>>(),
                b.difference(&a).collect::<Vec<_>>()
            );
        }
        let left = leftovers(&*dest.inspect);
        if !left.is_empty() {
            eprintln!("LEFT BEHIND: {} round {round}: {left:?}", dest.name);
            left_after_next += left.len() as u64;
        }
    }
    Figures::new("kills")
        .text("destination", dest.name)
        .num("seed", seed)
        .num("kills", kills)
        .num("killed_mid_run", mid_run)
        .num("partial_objects", partial)
        .num("leftovers_after_kill", left_after_kill)
        .num("leftovers_after_next_run", left_after_next)
        .num("next_run_not_exact", differ_after_next)
        .num("secs", started.elapsed().as_secs())
        .print();
    (dest.cleanup)();
    assert_eq!(partial, 0, "{}: partial objects", dest.name);
    assert_eq!(
        differ_after_next, 0,
        "{}: runs that did not converge",
        dest.name
    );
    assert_eq!(left_after_next, 0, "{}: leftovers not reclaimed", dest.name);
}

#[test]
fn kill_9_during_sync_to_a_local_directory() {
    let dir = TempDir::new().expect("tmp");
    let root: PathBuf = dir.path().join("dest");
    std::fs::create_dir_all(&root).expect("mkdir");
    campaign(Dest {
        name: "local",
        url: root.to_string_lossy().into_owned(),
        inspect: Box::new(FileBackend::new(&root).expect("backend")),
        cleanup: Box::new(move || drop(std::fs::remove_dir_all(dir.path()))),
    });
}

#[cfg(feature = "s3")]
#[test]
fn kill_9_during_sync_to_s3_on_garage() {
    kill_9_during_sync_to_s3("garage");
}

/// Moto keeps every pending upload (Garage drops an unfinished upload once a later one of
/// the same key completes), so what the next run reclaims shows here.
#[cfg(feature = "s3")]
#[test]
fn kill_9_during_sync_to_s3_on_moto() {
    kill_9_during_sync_to_s3("moto");
}

#[cfg(feature = "s3")]
fn kill_9_during_sync_to_s3(server: &'static str) {
    let Some(env) = crate::support::require_server(server) else {
        return;
    };
    let prefix = crate::s3::unique_prefix("chaos-kills");
    let url = format!(
        "s3://{}/{prefix}?endpoint={}&region={}&access_key_id={}&secret_access_key={}&part_size=5MiB",
        env.bucket, env.endpoint, env.region, env.access_key, env.secret_key
    );
    let inspect = crate::s3::builder(&env)
        .prefix(&prefix)
        .build()
        .expect("backend");
    campaign(Dest {
        name: server,
        url,
        inspect: Box::new(inspect),
        cleanup: Box::new(move || crate::s3::cleanup(&env, &prefix)),
    });
}

#[cfg(feature = "sftp")]
#[test]
fn kill_9_during_sync_to_sftp() {
    let Some(env) = crate::support::require_sftp() else {
        return;
    };
    let dir = crate::sftp::root(&env, "chaos-kills");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let url = format!(
        "sftp://{}@{}:{}{}?key={}&known_hosts={}&ssh_config=false&agent=false",
        env.user,
        env.host,
        env.port,
        dir.display(),
        env.key.display(),
        env.known_hosts.display()
    );
    // The server is on this machine: its files are inspected directly, staged ones included.
    let inspect = FileBackend::new(&dir).expect("backend");
    campaign(Dest {
        name: "sftp",
        url,
        inspect: Box::new(inspect),
        cleanup: Box::new(move || drop(std::fs::remove_dir_all(&dir))),
    });
}
