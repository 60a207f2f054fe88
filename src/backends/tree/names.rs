//! The names a tree backend reserves: staged files,
//! `.omnistorage-tmp-PID-N-TIME~OWNER.TARGET`.
//!
//! A writer stages its bytes in a file beside its target and renames it over the target on
//! commit. The staged file's name says which process made it, when, and for which target
//! name (when that fits in a file name), so that a reclaimer can tell what a file left by a
//! crash was, and a human can too. On Linux, `OWNER` names the process beyond its id: the
//! boot it runs in and its start time, so that a reclaimer running on the same machine can
//! tell a dead writer's file from a live one's without locks (SFTP has none) — see
//! [`StagedName::liveness`]. Every path segment that starts with [`TEMP_PREFIX`] is
//! reserved: it can be neither written, read nor listed as an object.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, ErrorKind, Result};
use crate::path::Path;

/// The prefix of staged files. Path segments starting with it are reserved.
pub const TEMP_PREFIX: &str = ".omnistorage-tmp-";

/// The longest target name recorded in a staged file's name, in bytes: the whole name stays
/// within the 255 bytes that Linux, macOS and Windows allow for one name.
const MAX_TARGET: usize = 150;

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
    /// name is at most 150 bytes).
    pub(crate) target: Option<String>,
    /// Who made it, beyond the process id, when the name records it (Linux).
    pub(crate) owner: Option<Owner>,
}

/// The process that staged a file: the boot it ran in (a hash of the kernel's boot id) and
/// its start time (in clock ticks since that boot), which together with its id name it
/// uniquely on one machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Owner {
    boot: u32,
    start: u64,
}

/// Whether the process that staged a file still runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Liveness {
    Alive,
    Dead,
    /// Another machine's (or another boot's), or not recorded: only its age can tell.
    Unknown,
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
        if let Some(Owner { boot, start }) = own_owner() {
            name.push_str(&format!("~{boot:08x}{start:x}"));
        }
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
        let (time, owner) = match time.split_once('~') {
            Some((time, owner)) => (time, Some(Owner::parse(owner)?)),
            None => (time, None),
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
            owner,
        })
    }

    /// Whether the process that staged this file still runs, as far as this machine can
    /// tell: only a name made on this machine in this boot, on Linux, is ever `Alive` or
    /// `Dead`.
    pub(crate) fn liveness(&self) -> Liveness {
        let (Some(owner), Some(ours)) = (self.owner, own_owner()) else {
            return Liveness::Unknown;
        };
        if owner.boot != ours.boot {
            return Liveness::Unknown;
        }
        match start_ticks(self.pid) {
            Ok(Some(start)) if start == owner.start => Liveness::Alive,
            // Gone, or its id taken by a later process.
            Ok(_) => Liveness::Dead,
            Err(()) => Liveness::Unknown,
        }
    }
}

impl Owner {
    fn parse(s: &str) -> Option<Owner> {
        if s.len() < 9 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let (boot, start) = s.split_at(8);
        Some(Owner {
            boot: u32::from_str_radix(boot, 16).ok()?,
            start: u64::from_str_radix(start, 16).ok()?,
        })
    }
}

/// This process's [`Owner`], read once; `None` where `/proc` does not tell (not Linux).
fn own_owner() -> Option<Owner> {
    static OWNER: std::sync::OnceLock<Option<Owner>> = std::sync::OnceLock::new();
    *OWNER.get_or_init(|| {
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        let boot = boot.trim().bytes().fold(0x811c_9dc5_u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        let start = start_ticks(pid()).ok()??;
        Some(Owner { boot, start })
    })
}

/// The start time of process `pid` in clock ticks since boot (field 22 of
/// `/proc/PID/stat`): `Ok(None)` when no such process runs, `Err` when `/proc` cannot tell.
fn start_ticks(pid: u32) -> std::result::Result<Option<u64>, ()> {
    let stat = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // No such process, if /proc is there at all.
            return match std::fs::metadata("/proc/self/stat") {
                Ok(_) => Ok(None),
                Err(_) => Err(()),
            };
        }
        Err(_) => return Err(()),
    };
    // The command name (field 2) is in parentheses and may hold spaces and parentheses.
    let after = stat.rsplit_once(')').ok_or(())?.1;
    // Fields from 3 on; the start time is field 22.
    let start = after.split_whitespace().nth(19).ok_or(())?;
    start.parse().map(Some).map_err(|_| ())
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
        if cfg!(target_os = "linux") {
            assert!(parsed.owner.is_some(), "{name}");
            assert_eq!(parsed.liveness(), Liveness::Alive, "this process runs");
        }
    }

    #[test]
    fn a_dead_processs_name_is_dead_and_a_foreign_one_unknown() {
        let name = StagedName::make("x");
        let mut parsed = StagedName::parse(&name).unwrap();
        let Some(owner) = parsed.owner else {
            return; // not Linux: no owner, nothing to tell
        };
        // The same process id with another start time: a later process took the id.
        parsed.owner = Some(Owner {
            start: owner.start.wrapping_add(1),
            ..owner
        });
        assert_eq!(parsed.liveness(), Liveness::Dead);
        // A process id that no process has (above the kernel's pid_max, 2^22).
        parsed.pid = (1 << 22) + 7;
        assert_eq!(parsed.liveness(), Liveness::Dead);
        // Another boot (or machine): only age can tell.
        parsed.owner = Some(Owner {
            boot: owner.boot.wrapping_add(1),
            ..owner
        });
        assert_eq!(parsed.liveness(), Liveness::Unknown);
        parsed.owner = None;
        assert_eq!(parsed.liveness(), Liveness::Unknown);
        // A child that ran and exited left a name that reads as dead.
        let child = std::process::Command::new("true")
            .spawn()
            .and_then(|mut c| {
                let pid = c.id();
                c.wait().map(|_| pid)
            });
        if let Ok(pid) = child {
            parsed.pid = pid;
            parsed.owner = Some(owner);
            assert_eq!(parsed.liveness(), Liveness::Dead);
        }
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
        // Before the owner was recorded.
        let before = StagedName::parse(".omnistorage-tmp-42-7-0000000000000001.a").unwrap();
        assert_eq!((before.owner, before.target.as_deref()), (None, Some("a")));
        let owned = StagedName::parse(".omnistorage-tmp-42-7-0000000000000001~0000000a1f.a");
        assert_eq!(
            owned.unwrap().owner,
            Some(Owner {
                boot: 10,
                start: 31
            })
        );
        for bad in [
            "report.csv",
            ".omnistorage-tmp-",
            ".omnistorage-tmp-x-1-00",
            ".omnistorage-tmp-1-2-zz",
            ".omnistorage-tmp-1-2",
            ".omnistorage-tmp-1-2-0000000000000001~",
            ".omnistorage-tmp-1-2-0000000000000001~0000000z1",
        ] {
            assert_eq!(StagedName::parse(bad), None, "{bad}");
        }
    }
}
