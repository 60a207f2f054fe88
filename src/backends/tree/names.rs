//! The names a tree backend reserves: staged files, `.omnistorage-tmp-PID-N-TIME.TARGET`.
//!
//! A writer stages its bytes in a file beside its target and renames it over the target on
//! commit. The staged file's name says which process made it, when, and for which target
//! name (when that fits in a file name), so that a reclaimer can tell what a file left by a
//! crash was, and a human can too. Every path segment that starts with [`TEMP_PREFIX`] is
//! reserved: it can be neither written, read nor listed as an object.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, ErrorKind, Result};
use crate::path::Path;

/// The prefix of staged files. Path segments starting with it are reserved.
pub const TEMP_PREFIX: &str = ".omnistorage-tmp-";

/// The longest target name recorded in a staged file's name, in bytes: the whole name stays
/// within the 255 bytes that Linux, macOS and Windows allow for one name.
const MAX_TARGET: usize = 180;

/// Refuses a path with a reserved segment ([`ErrorKind::InvalidPath`]).
pub(crate) fn check_reserved(op: &'static str, path: &Path, backend: &'static str) -> Result<()> {
    if path.segments().any(is_reserved) {
        return Err(Error::new(
            ErrorKind::InvalidPath,
            "names starting with .omnistorage-tmp- are reserved for staged writes",
        )
        .context(op, path.as_str(), backend));
    }
    Ok(())
}

/// Whether a name is reserved (a staged file, or one that could be mistaken for it).
pub(crate) fn is_reserved(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX)
}

/// A staged file's name, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StagedName {
    /// The process that staged it.
    pub(crate) pid: u32,
    /// When it was staged, if the name says (older names did not).
    pub(crate) started: Option<SystemTime>,
    /// The name of the object it was for, if the name records it (it does when the target's
    /// name is at most 180 bytes).
    pub(crate) target: Option<String>,
}

impl StagedName {
    /// A fresh, unique name for a file staged by this process for `target` now.
    pub(crate) fn make(target: &str) -> String {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        let mut name = format!("{TEMP_PREFIX}{}-{n}-{nanos:016x}", pid());
        if target.len() <= MAX_TARGET {
            name.push('.');
            name.push_str(target);
        }
        name
    }

    /// Parses a name made by [`make`](StagedName::make) (or by an older version, which
    /// recorded neither the time nor the target); `None` for any other name.
    pub(crate) fn parse(name: &str) -> Option<StagedName> {
        let rest = name.strip_prefix(TEMP_PREFIX)?;
        let (pid, rest) = rest.split_once('-')?;
        let pid: u32 = pid.parse().ok()?;
        let (counter, rest) = rest.split_once('-')?;
        counter.parse::<u64>().ok()?;
        let (time, target) = match rest.split_once('.') {
            Some((time, target)) => (time, Some(target)),
            None => (rest, None),
        };
        if time.is_empty() || !time.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let started = match time.len() {
            16 => u64::from_str_radix(time, 16)
                .ok()
                .map(|n| UNIX_EPOCH + Duration::from_nanos(n)),
            _ => None,
        };
        let target = target.filter(|t| !t.is_empty() && !t.contains('/') && !is_reserved(t));
        Some(StagedName {
            pid,
            started,
            target: target.map(str::to_owned),
        })
    }
}

/// The process id, read once (it is part of every staging file's name).
fn pid() -> u32 {
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *PID.get_or_init(std::process::id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_names_parse_back() {
        let before = SystemTime::now();
        let name = StagedName::make("report.csv");
        assert!(is_reserved(&name));
        let parsed = StagedName::parse(&name).unwrap();
        assert_eq!(parsed.pid, std::process::id());
        assert_eq!(parsed.target.as_deref(), Some("report.csv"));
        let started = parsed.started.unwrap();
        assert!(started >= before - Duration::from_secs(1), "{started:?}");
        assert_ne!(StagedName::make("report.csv"), name, "names are unique");
    }

    #[test]
    fn long_targets_are_left_out_and_old_names_still_parse() {
        let long = "x".repeat(MAX_TARGET + 1);
        let name = StagedName::make(&long);
        assert!(name.len() <= 255);
        assert_eq!(StagedName::parse(&name).unwrap().target, None);
        // The format before the time and target were recorded.
        let old = StagedName::parse(".omnistorage-tmp-42-7-0badcafe").unwrap();
        assert_eq!((old.pid, old.started, old.target), (42, None, None));
        for bad in [
            "report.csv",
            ".omnistorage-tmp-",
            ".omnistorage-tmp-x-1-00",
            ".omnistorage-tmp-1-2-zz",
            ".omnistorage-tmp-1-2",
        ] {
            assert_eq!(StagedName::parse(bad), None, "{bad}");
        }
    }
}
