//! Campaign 1: cut connections. Transfers through the fault proxy
//! (`tests/all/support/tcp_proxy.rs`), each with one cut at a random offset, in a random
//! direction (the client's bytes or the server's), uploads and downloads, sizes from 0 B to
//! the maximum across the single-part/multipart boundary (5 MiB parts): S3 on Garage and on
//! s3s-fs, SFTP on OpenSSH. After each transfer the object is read directly (not through the
//! proxy) and compared with what was sent, and the store is searched for what a failed
//! transfer may have left: pending multipart uploads (Garage; s3s-fs cannot list them) and
//! staged files (SFTP).
//!
//! Counted, per backend: transfers, cuts that fired, successes (`resumed`: those that
//! succeeded although their connection was cut), failures by error kind, and the two counts
//! that must be 0: `differ` (an object visible at the destination, or a read handed to the
//! caller, that is neither what was sent nor the object it replaced) and `leftovers`.
//!
//! Sized by `OMNISTORAGE_CHAOS_CUTS` (transfers per backend, default 12) and
//! `OMNISTORAGE_CHAOS_CUT_MAX_MIB` (largest object, default 12); `scripts/chaos` runs 1,000
//! up to 64 MiB. `OMNISTORAGE_CHAOS_SEED` replays a run, `OMNISTORAGE_CHAOS_ONLY=N` only its
//! transfer N; `OMNISTORAGE_CHAOS_VERBOSE=1` prints every failure.

use std::collections::BTreeMap;
use std::io::Read;
use std::time::Instant;

use omnistorage::{Backend, BackendExt, Error};

use super::{Figures, seed, size};
use crate::support::rng::Rng;
use crate::support::tcp_proxy::TcpProxy;

const MIB: u64 = 1024 * 1024;
/// The S3 part size of the campaign (S3's smallest).
const PART: u64 = 5 * MIB;

/// Where the transfers go: a backend through the proxy, and direct access to check it.
trait Target {
    fn name(&self) -> &str;
    fn proxy(&self) -> &TcpProxy;
    fn through(&self) -> &dyn Backend;
    /// The object as stored, `None` when there is none.
    fn stored(&self, key: &str) -> Option<Vec<u8>>;
    fn put(&self, key: &str, data: &[u8]);
    fn remove(&self, key: &str);
    /// What failed transfers left behind: pending uploads, staged files.
    fn leftovers(&self) -> Vec<String>;
}

#[derive(Default)]
struct Tally {
    transfers: u64,
    uploads: u64,
    bytes: u64,
    cuts: u64,
    ok: u64,
    resumed: u64,
    failed: BTreeMap<String, u64>,
    failed_not_temporary: u64,
    /// Downloads that failed (a reader resumes after a cut, so this should stay low).
    failed_downloads: u64,
    differ: u64,
    leftovers: u64,
}

/// An object size: a fifth empty or tiny, a fifth within a few KiB of the part size (either
/// side of the single-part/multipart boundary), the rest spread evenly over the log scale up
/// to `max`.
fn object_size(rng: &mut Rng, max: u64) -> u64 {
    match rng.below(10) {
        0 => rng.below(2),
        1 => rng.below(64),
        2 | 3 if max > PART => PART - 4096 + rng.below(8192),
        _ => {
            let bits = 64 - max.max(2).leading_zeros() as u64;
            let top = 1u64 << rng.between(1, bits);
            rng.below(top.min(max + 1))
        }
    }
}

fn one_transfer(t: &dyn Target, rng: &mut Rng, i: u64, max: u64, tally: &mut Tally) {
    let key = format!("cut-{i}");
    let len = object_size(rng, max);
    let data = rng.bytes(len as usize);
    let upload = rng.chance(50);
    let cut_client_bytes = rng.chance(50);
    let proxy = t.proxy();
    let cuts_before = proxy.stats().cuts;
    let what = format!(
        "{} transfer {i}: {} of {len} B, cut in the {}",
        t.name(),
        if upload { "upload" } else { "download" },
        if cut_client_bytes {
            "request"
        } else {
            "response"
        }
    );
    // The bytes a cut may land in: the body in its direction, plus room for the headers and
    // the small messages of the other direction.
    let span = |body: bool| if body { len + 4096 } else { 4096 };
    let result: Result<(), Error> = if upload {
        let old_len = rng.below(65_536) as usize;
        let old = rng.chance(30).then(|| rng.bytes(old_len));
        match &old {
            Some(old) => t.put(&key, old),
            None => t.remove(&key),
        }
        let at = rng.below(span(cut_client_bytes));
        if cut_client_bytes {
            proxy.cut_next_upload_after(at);
        } else {
            proxy.cut_next_download_after(at);
        }
        let result = t.through().write_all(key.as_str(), &data).map(drop);
        proxy.clear_faults();
        let stored = t.stored(&key);
        let fine = match (&result, &stored) {
            (Ok(()), Some(s)) => *s == data,
            (Ok(()), None) => false,
            // A failed write leaves the old object, or none; or the new one when only the
            // answer to a request that took effect was lost.
            (Err(_), s) => s.as_ref() == old.as_ref() || s.as_ref() == Some(&data),
        };
        if !fine {
            tally.differ += 1;
            eprintln!(
                "DIFFER: {what}: {result:?}; stored {:?} B",
                stored.map(|s| s.len())
            );
        }
        tally.uploads += 1;
        result
    } else {
        t.put(&key, &data);
        let at = rng.below(span(!cut_client_bytes));
        if cut_client_bytes {
            proxy.cut_next_upload_after(at);
        } else {
            proxy.cut_next_download_after(at);
        }
        let mut back = Vec::new();
        let result = t
            .through()
            .open_reader(key.as_str())
            .and_then(|mut r| r.read_to_end(&mut back).map_err(Error::from));
        proxy.clear_faults();
        if result.is_ok() && back != data {
            tally.differ += 1;
            eprintln!("DIFFER: {what}: read {} B that differ", back.len());
        }
        result.map(drop)
    };
    let cut = proxy.stats().cuts > cuts_before;
    tally.transfers += 1;
    tally.bytes += len;
    tally.cuts += u64::from(cut);
    match result {
        Ok(()) => {
            tally.ok += 1;
            tally.resumed += u64::from(cut);
        }
        Err(e) => {
            if std::env::var_os("OMNISTORAGE_CHAOS_VERBOSE").is_some() {
                eprintln!("failed: {what}: {}", e.display_chain());
            }
            *tally.failed.entry(format!("{:?}", e.kind())).or_default() += 1;
            tally.failed_downloads += u64::from(!upload);
            if !e.is_temporary() {
                tally.failed_not_temporary += 1;
                eprintln!("not temporary: {what}: {}", e.display_chain());
            }
        }
    }
    let left = t.leftovers();
    if !left.is_empty() {
        tally.leftovers += left.len() as u64;
        eprintln!("LEFT BEHIND: {what}: {left:?}");
    }
    t.remove(&key);
}

fn campaign(t: &dyn Target) {
    let n = size("OMNISTORAGE_CHAOS_CUTS", 12);
    let max = size("OMNISTORAGE_CHAOS_CUT_MAX_MIB", 12) * MIB;
    let only = std::env::var("OMNISTORAGE_CHAOS_ONLY")
        .ok()
        .and_then(|v| v.parse::<u64>().ok());
    let seed = seed(&format!("cuts {}", t.name()));
    let started = Instant::now();
    let mut tally = Tally::default();
    for i in (0..n).filter(|i| only.is_none_or(|o| o == *i)) {
        let mut rng = Rng::new(seed ^ i.wrapping_mul(0x0100_0000_01b3));
        one_transfer(t, &mut rng, i, max, &mut tally);
    }
    Figures::new("cuts")
        .text("backend", t.name())
        .num("seed", seed)
        .num("transfers", tally.transfers)
        .num("uploads", tally.uploads)
        .num("mib", tally.bytes / MIB)
        .num("cuts", tally.cuts)
        .num("ok", tally.ok)
        .num("ok_after_cut", tally.resumed)
        .counts("failed", &tally.failed)
        .num("failed_downloads", tally.failed_downloads)
        .num("failed_not_temporary", tally.failed_not_temporary)
        .num("differ", tally.differ)
        .num("leftovers", tally.leftovers)
        .num("secs", started.elapsed().as_secs())
        .print();
    assert_eq!(tally.differ, 0, "{}: objects that differ", t.name());
    assert_eq!(tally.leftovers, 0, "{}: leftovers", t.name());
    assert_eq!(
        tally.failed_not_temporary,
        0,
        "{}: a cut connection is a temporary failure",
        t.name()
    );
    // Half the cuts land in a response or a request that the backend repeats; a campaign
    // in which nothing failed and nothing was cut did not test anything.
    assert!(tally.transfers == 0 || tally.cuts > 0, "no cut fired");
}

#[cfg(feature = "s3")]
mod s3 {
    use omnistorage::backends::s3::S3Backend;
    use omnistorage::{Backend, BackendExt, Path};

    use super::{Target, TcpProxy, campaign};
    use crate::s3::{builder, cleanup, unique_prefix};
    use crate::support::{S3Env, require_server};

    struct S3Target {
        env: S3Env,
        prefix: String,
        proxy: TcpProxy,
        through: S3Backend,
        direct: S3Backend,
    }

    impl Target for S3Target {
        fn name(&self) -> &str {
            &self.env.server
        }
        fn proxy(&self) -> &TcpProxy {
            &self.proxy
        }
        fn through(&self) -> &dyn Backend {
            &self.through
        }
        fn stored(&self, key: &str) -> Option<Vec<u8>> {
            match self.direct.read_to_vec(key) {
                Ok(v) => Some(v),
                Err(e) if e.kind() == omnistorage::ErrorKind::NotFound => None,
                Err(e) => panic!("reading {key} directly: {e}"),
            }
        }
        fn put(&self, key: &str, data: &[u8]) {
            self.direct.write_all(key, data).expect("direct write");
        }
        fn remove(&self, key: &str) {
            match self.direct.remove(key) {
                Ok(()) => {}
                Err(e) if e.kind() == omnistorage::ErrorKind::NotFound => {}
                Err(e) => panic!("removing {key}: {e}"),
            }
        }
        fn leftovers(&self) -> Vec<String> {
            if !self.direct.capabilities().pending_uploads || self.env.server == "s3s" {
                return Vec::new(); // s3s-fs answers ListMultipartUploads with 501
            }
            self.direct
                .pending_uploads(&Path::root())
                .expect("pending uploads")
                .map(|u| format!("pending upload {}", u.expect("pending upload").path))
                .collect()
        }
    }

    fn run(server: &str) {
        let Some(env) = require_server(server) else {
            return;
        };
        let prefix = unique_prefix("chaos-cuts");
        let upstream = env
            .endpoint
            .trim_start_matches("http://")
            .parse()
            .expect("endpoint is host:port");
        let proxy = TcpProxy::start(upstream).expect("proxy");
        let target = S3Target {
            through: builder(&env)
                .endpoint(format!("http://{}", proxy.addr()))
                .prefix(&prefix)
                .build()
                .expect("backend through the proxy"),
            direct: builder(&env).prefix(&prefix).build().expect("backend"),
            proxy,
            prefix,
            env,
        };
        campaign(&target);
        cleanup(&target.env, &target.prefix);
    }

    #[test]
    fn cut_connections_on_garage() {
        run("garage");
    }

    #[test]
    fn cut_connections_on_s3s_fs() {
        run("s3s");
    }
}

#[cfg(feature = "sftp")]
mod sftp {
    use std::path::PathBuf;

    use omnistorage::Backend;

    use super::{Target, TcpProxy, campaign};
    use crate::sftp::faults::{Through, staged_in, through};
    use crate::sftp::root;
    use crate::support::require_sftp;

    struct SftpTarget {
        dir: PathBuf,
        t: Through,
    }

    impl Target for SftpTarget {
        fn name(&self) -> &str {
            "sshd"
        }
        fn proxy(&self) -> &TcpProxy {
            &self.t.proxy
        }
        fn through(&self) -> &dyn Backend {
            &self.t.backend
        }
        fn stored(&self, key: &str) -> Option<Vec<u8>> {
            match std::fs::read(self.dir.join(key)) {
                Ok(v) => Some(v),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => panic!("reading {key}: {e}"),
            }
        }
        fn put(&self, key: &str, data: &[u8]) {
            std::fs::write(self.dir.join(key), data).expect("write");
        }
        fn remove(&self, key: &str) {
            match std::fs::remove_file(self.dir.join(key)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => panic!("removing {key}: {e}"),
            }
        }
        fn leftovers(&self) -> Vec<String> {
            staged_in(&self.dir)
        }
    }

    #[test]
    fn cut_connections_on_sftp() {
        let Some(env) = require_sftp() else {
            return;
        };
        let dir = root(&env, "chaos-cuts");
        std::fs::create_dir_all(&dir).expect("dir");
        let target = SftpTarget {
            t: through(&env, &dir, 2),
            dir,
        };
        campaign(&target);
        let _ = std::fs::remove_dir_all(&target.dir);
    }
}
