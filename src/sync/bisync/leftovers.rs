//! Leftovers of an interrupted run: staged files (the file backend's, left by a kill
//! mid-copy) and unfinished multipart uploads (S3), reclaimed at the start of the next run
//! on each side that lists them ([`Capabilities::pending_uploads`]).
//!
//! A backend reclaims its own leftovers when a writer stages into their directory, but a run
//! that fails before it writes there (or writes nothing) would leave them for good. So every
//! run that finds the "pending" marker of an interrupted run (kept until a run succeeds)
//! reclaims, before anything else, the pending uploads under each root that began after that
//! marker was written: the interrupted runs' own. A file backend refuses to abort one a live
//! writer holds; on S3 an upload another tool began under the root meanwhile would be
//! aborted too.
//!
//! [`Capabilities::pending_uploads`]: crate::Capabilities::pending_uploads

use std::time::{Duration, SystemTime};

use crate::{Backend, Cancel, Path};

/// Aborts the pending uploads under `root` that began at `since` or later (or whose start
/// is unknown). Best effort: what cannot be listed or aborted stays. Returns how many went.
pub(crate) fn reclaim(
    backend: &dyn Backend,
    root: &Path,
    since: SystemTime,
    cancel: Option<&Cancel>,
) -> u64 {
    if !backend.capabilities().pending_uploads {
        return 0;
    }
    // Clocks of file systems and stores are coarse: a second of slack.
    let since = since.checked_sub(Duration::from_secs(1)).unwrap_or(since);
    let Ok(list) = backend.pending_uploads(root) else {
        return 0;
    };
    let mut reclaimed = 0;
    for upload in list.flatten() {
        if cancel.is_some_and(|c| c.check().is_err()) {
            break;
        }
        if upload.started.is_some_and(|t| t < since) {
            continue;
        }
        if backend.abort_upload(&upload).is_ok() {
            reclaimed += 1;
        }
    }
    reclaimed
}
