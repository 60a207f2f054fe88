//! Reading the input an operation at a time: opcodes, paths, data, times.

use super::*;

/// Reads the input an operation at a time.
pub(super) struct Input<'a> {
    pub(super) data: &'a [u8],
    pub(super) pos: usize,
}

impl Input<'_> {
    pub(super) fn next(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    /// An argument byte; 0 past the end.
    pub(super) fn arg(&mut self) -> u8 {
        self.next().unwrap_or(0)
    }

    /// An object path: `file`, `dir/file` or `dir/dir/file`, 147 in all: bytes 0 to 6 are
    /// the 7 at depth 1, 7 to 34 the 28 at depth 2, 35 to 146 the 112 at depth 3, and from
    /// 147 on the count starts again.
    pub(super) fn file_path(&mut self) -> Path {
        let mut i = usize::from(self.arg()) % 147;
        let mut segs = Vec::with_capacity(3);
        if i >= 35 {
            i -= 35;
            segs.push(DIRS[i / 28]);
            i %= 28;
        } else if i >= 7 {
            i -= 7;
        } else {
            return parse(FILES[i]);
        }
        segs.push(DIRS[i / 7]);
        segs.push(FILES[i % 7]);
        parse(&segs.join("/"))
    }

    /// A directory path: `dir` or `dir/dir`.
    pub(super) fn dir_path(&mut self) -> Path {
        let b = usize::from(self.arg());
        let mut segs = vec![DIRS[(b / 2) % 4]];
        if b % 2 == 1 {
            segs.push(DIRS[(b / 8) % 4]);
        }
        parse(&segs.join("/"))
    }

    /// Any path: an object, a directory, the root, or a byte prefix of one of those that
    /// ends inside a segment (`d.`, `a `, `d/a%2`), which names nothing.
    pub(super) fn any_path(&mut self) -> Path {
        match self.arg() % 8 {
            0 => Path::root(),
            1 | 2 => self.dir_path(),
            3 => {
                let p = if self.arg().is_multiple_of(2) {
                    self.dir_path()
                } else {
                    self.file_path()
                };
                cut_last_char(&p)
            }
            _ => self.file_path(),
        }
    }

    /// A few bytes of content: 0 to 7 bytes that depend on the argument.
    pub(super) fn data(&mut self) -> Vec<u8> {
        let b = self.arg();
        let len = usize::from(b & 7);
        (0..len)
            .map(|i| (b >> 3).wrapping_mul(37).wrapping_add(i as u8))
            .collect()
    }

    /// A modification time to give at write time, or `None` (the time of writing).
    pub(super) fn modified(&mut self) -> Option<SystemTime> {
        match self.arg() {
            0 => None,
            b => Some(
                UNIX_EPOCH
                    + Duration::new(
                        1_600_000_000 + u64::from(b) * 86_413,
                        u32::from(b) * 3_900_001 % 1_000_000_000,
                    ),
            ),
        }
    }
}

/// `p` without the last character of its last segment (`p` itself if that is one character).
pub(super) fn cut_last_char(p: &Path) -> Path {
    let s = p.as_str();
    match s.char_indices().next_back() {
        Some((i, _)) if i > 0 && !s[..i].ends_with('/') => parse(&s[..i]),
        _ => p.clone(),
    }
}

/// A time at a backend's precision (truncated, as file systems store it).
pub(super) fn at_precision(t: SystemTime, precision: Duration) -> SystemTime {
    let since = t.duration_since(UNIX_EPOCH).expect("times after 1970");
    let step = precision.as_nanos().max(1);
    let nanos = since.as_nanos() / step * step;
    UNIX_EPOCH
        + Duration::new(
            (nanos / 1_000_000_000) as u64,
            (nanos % 1_000_000_000) as u32,
        )
}
