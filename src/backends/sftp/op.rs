//! The SFTP backend's operations, each with its name (in errors) and whether it is safe to
//! run again on a fresh session after a failure, which decides whether it is retried.

/// One operation of the backend, as run on a pooled session by
/// [`SftpBackend::run`](super::SftpBackend::run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    List,
    Lstat,
    Exists,
    Stat,
    Delete,
    CreateDir,
    RemoveDir,
    SetModified,
    Hash,
    PendingUploads,
    AbortUpload,
    /// A copy inside the server (`copy-data` into a staged file, then a rename).
    Copy,
    Rename,
    /// The file system's space (`statvfs@openssh.com`).
    Usage,
}

impl Op {
    /// The name errors give the operation (`"create_dir"`).
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Op::List => "list",
            Op::Lstat => "lstat",
            Op::Exists => "exists",
            Op::Stat => "stat",
            Op::Delete => "delete",
            Op::CreateDir => "create_dir",
            Op::RemoveDir => "remove_dir",
            Op::SetModified => "set_modified",
            Op::Hash => "hash",
            Op::PendingUploads => "pending_uploads",
            Op::AbortUpload => "abort_upload",
            Op::Copy => "copy",
            Op::Rename => "rename",
            Op::Usage => "usage",
        }
    }

    /// Whether running it twice leaves the server as running it once, so that it is run
    /// again after a temporary failure. Reads are; so are deletes and `create_dir` (what is
    /// already gone or there is success) and setting a time. A rename is not: run again
    /// after its answer was lost, it finds its source gone. Nor is a copy inside the
    /// server: it ends with a rename, and may be long; a failed one is left to the caller.
    pub(crate) fn idempotent(self) -> bool {
        !matches!(self, Op::Copy | Op::Rename)
    }
}

#[cfg(test)]
mod tests {
    use super::Op;

    #[test]
    fn renames_and_copies_are_not_repeated() {
        for op in [
            Op::List,
            Op::Stat,
            Op::Delete,
            Op::CreateDir,
            Op::SetModified,
        ] {
            assert!(op.idempotent(), "{}", op.name());
        }
        for op in [Op::Copy, Op::Rename] {
            assert!(!op.idempotent(), "{}", op.name());
        }
    }
}
