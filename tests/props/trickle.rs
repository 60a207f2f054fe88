//! What the record readers' properties (`lengthprefix`, `ndjson_read`) share: a reader that
//! hands out its input a few bytes at a time, and the reading shape they decode from the
//! first two bytes of an input.

use std::io::{self, Read};

/// A reader that returns at most `step` bytes per read.
pub struct Trickle<'a> {
    pub data: &'a [u8],
    pub step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Bytes 0 and 1 of the input: the size of each read, the reader's buffer (`None`: the
/// default), the maximum record size (`None`: the default).
pub fn read_shape(a: u8, b: u8) -> (usize, Option<usize>, Option<usize>) {
    let step = if a == 0 {
        usize::MAX
    } else {
        usize::from(a % 64) + 1
    };
    let capacity = [None, Some(1), Some(5), Some(16)][usize::from(a >> 6)];
    let max = if b >= 63 { None } else { Some(usize::from(b)) };
    (step, capacity, max)
}
