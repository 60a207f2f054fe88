//! The reliability campaigns of issue 15: faults injected into real transfers against real
//! servers, counted. Each campaign is a test sized by environment variables with small
//! defaults, so the normal suite (and `.ci/run`) runs a short version of each;
//! `scripts/chaos` runs them at full size and collects the figures each one prints as a line
//! `CHAOS {json}` on stdout (seen with `--no-capture`).
//!
//! Every campaign is seeded: `OMNISTORAGE_CHAOS_SEED` replays a run (the seed is printed at
//! the start of each campaign and in its `CHAOS` line).
//!
//! - [`cuts`]: connections cut at random offsets, both directions, through the fault proxy.
//! - [`kills`]: `kill -9` of `omnistorage sync` at random moments, then a converging run.
//! - [`resume`]: S3 uploads killed mid-way resume from their stored parts on the next run.
//! - [`node_loss`]: a three-node Garage cluster loses a node, then the endpoint's node, mid-sync.
//! - [`load`]: 64 threads through one S3 backend, descriptors and memory sampled each second.
//!
//! Bisync under interruptions is `sync::bisync::props` (`OMNISTORAGE_CHAOS_BISYNC_RUNS`).

#[cfg(any(feature = "s3", feature = "sftp"))]
mod cuts;
#[cfg(all(feature = "cli", unix))]
mod kills;
#[cfg(all(feature = "s3", target_os = "linux"))]
mod load;
#[cfg(all(feature = "s3", feature = "sync"))]
mod node_loss;
#[cfg(feature = "s3")]
mod resume;

use std::fmt::Write as _;

pub(crate) use crate::support::env_size as size;

/// The campaign's seed: `OMNISTORAGE_CHAOS_SEED`, or one from the clock; printed.
pub(crate) fn seed(campaign: &str) -> u64 {
    let seed = match std::env::var("OMNISTORAGE_CHAOS_SEED") {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("OMNISTORAGE_CHAOS_SEED={v:?} is not a whole number")),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    };
    eprintln!("chaos {campaign}: OMNISTORAGE_CHAOS_SEED={seed}");
    seed
}

/// One campaign's figures, printed as `CHAOS {"campaign":..., ...}`.
pub(crate) struct Figures(String);

impl Figures {
    pub(crate) fn new(campaign: &str) -> Figures {
        let mut f = Figures(String::from("{"));
        f.text("campaign", campaign);
        f
    }

    fn key(&mut self, key: &str) {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        let _ = write!(self.0, "\"{key}\":");
    }

    pub(crate) fn num(&mut self, key: &str, value: impl std::fmt::Display) -> &mut Figures {
        self.key(key);
        let _ = write!(self.0, "{value}");
        self
    }

    pub(crate) fn text(&mut self, key: &str, value: &str) -> &mut Figures {
        self.key(key);
        self.0.push('"');
        for c in value.chars() {
            match c {
                '"' => self.0.push_str("\\\""),
                '\\' => self.0.push_str("\\\\"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(self.0, "\\u{:04x}", c as u32);
                }
                c => self.0.push(c),
            }
        }
        self.0.push('"');
        self
    }

    /// A map of counts, as a JSON object.
    pub(crate) fn counts<'a>(
        &mut self,
        key: &str,
        counts: impl IntoIterator<Item = (&'a String, &'a u64)>,
    ) -> &mut Figures {
        self.key(key);
        self.0.push('{');
        for (i, (k, v)) in counts.into_iter().enumerate() {
            if i > 0 {
                self.0.push(',');
            }
            let _ = write!(self.0, "\"{k}\":{v}");
        }
        self.0.push('}');
        self
    }

    pub(crate) fn print(&mut self) {
        self.0.push('}');
        println!("CHAOS {}", self.0);
    }
}
