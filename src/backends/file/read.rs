//! Readers: the file opened once its path is checked, positioned at the range's start, and
//! handed out as a [`Reader::from_file`] so that a copy into another local file can be done
//! by the kernel.

use std::io::{Seek, SeekFrom};

use super::{FileBackend, os_err};
use crate::error::Result;
use crate::io::Reader;
use crate::options::ReadOptions;
use crate::path::Path;

impl FileBackend {
    /// The reader behind [`Backend::reader`](crate::Backend::reader).
    pub(super) fn open_reader(&self, path: &Path, opts: &ReadOptions) -> Result<Reader> {
        const OP: &str = "read";
        self.object_path(OP, path)?;
        let (mut file, meta) = self.open_file(OP, path)?;
        let (start, end) = opts.clamp(meta.len());
        if start > 0 {
            file.seek(SeekFrom::Start(start))
                .map_err(|e| os_err(e, OP, path))?;
        }
        Ok(Reader::from_file(file, end - start))
    }
}
