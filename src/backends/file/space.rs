//! The file system's space (`usage`, rclone's `about`): `statvfs` on the root, through
//! rustix, on Linux with feature `openat2` (the feature that already brings rustix; the
//! default build stays without crates, and answers `Unsupported` as other systems do).

use crate::error::Result;
use crate::usage::Usage;

use super::FileBackend;

impl FileBackend {
    /// The space of the file system the root is on, as rclone's local backend counts it
    /// ([`Usage::of_file_system`]). A root that does not exist yet is on its nearest
    /// ancestor's file system.
    pub(super) fn space(&self) -> Result<Usage> {
        const OP: &str = "usage";
        self.check_open(OP)?;
        statvfs(self)
    }
}

#[cfg(all(feature = "openat2", target_os = "linux"))]
fn statvfs(b: &FileBackend) -> Result<Usage> {
    use crate::error::Error;
    // A root not made yet (the first write makes it) is on its nearest ancestor's file
    // system.
    let mut at = b.inner.root.as_path();
    let s = loop {
        match (rustix::fs::statvfs(at), at.parent()) {
            (Err(rustix::io::Errno::NOENT), Some(up)) => at = up,
            (r, _) => {
                break r.map_err(|e| {
                    Error::from(std::io::Error::from(e)).context("usage", "", super::NAME)
                })?;
            }
        }
    };
    Ok(Usage::of_file_system(
        s.f_frsize, s.f_blocks, s.f_bfree, s.f_bavail,
    ))
}

#[cfg(not(all(feature = "openat2", target_os = "linux")))]
fn statvfs(_: &FileBackend) -> Result<Usage> {
    Err(crate::error::Error::unsupported("usage"))
}
