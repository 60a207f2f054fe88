//! [`Usage`]: how much space a store has, what [`Backend::usage`](crate::Backend::usage)
//! answers.

/// The space of a store, as far as the backend knows: each field is `None` where it does not
/// (a store without a quota has no total). Bytes throughout.
///
/// Backends from other crates start from [`Usage::default`] (nothing known) and set fields:
///
/// ```
/// use omnistorage::Usage;
///
/// let mut u = Usage::default();
/// u.total = Some(100);
/// u.used = Some(60);
/// u.free = Some(30); // can be less than total - used (blocks kept for the superuser)
/// assert_eq!(u.objects, None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Usage {
    /// The size of the store (a file system's size, a quota).
    pub total: Option<u64>,
    /// What is used, by everyone.
    pub used: Option<u64>,
    /// What is still free, as rclone counts it for the backend: the file backend counts
    /// what an unprivileged user may still write (without the blocks kept for the
    /// superuser), SFTP every free block.
    pub free: Option<u64>,
    /// How many objects the store holds, where it counts them.
    pub objects: Option<u64>,
}

impl Usage {
    /// A file system's space from its `statvfs` counts (`blocks`, and the `free` ones, in
    /// units of `unit` bytes): total is its size, used what is not free. Which free count
    /// is rclone's differs by backend: its local backend counts the blocks available to an
    /// unprivileged user (`bavail`), its SFTP backend all free blocks (`bfree`).
    #[cfg(any(all(feature = "openat2", target_os = "linux"), feature = "sftp"))]
    pub(crate) fn of_file_system(unit: u64, blocks: u64, bfree: u64, free: u64) -> Usage {
        Usage {
            total: Some(blocks.saturating_mul(unit)),
            used: Some(blocks.saturating_sub(bfree).saturating_mul(unit)),
            free: Some(free.saturating_mul(unit)),
            objects: None,
        }
    }
}
