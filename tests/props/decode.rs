//! What `gzip_decode` and `zstd_decode` share: decoding arbitrary bytes gives data or
//! `Corrupt`, never a panic; the result does not depend on how the input arrives; and an
//! error of the reader underneath comes out as itself, not as `Corrupt`.

use std::io::{self, Read};

use omnistorage::compress::Compression;
use omnistorage::{Error, ErrorKind};

/// At most this much output is read (a small input can expand a thousandfold).
const OUTPUT_CAP: u64 = 64 << 20;

const INJECTED: &str = "injected by the fuzz property";

/// Hands out its bytes in pieces of the sizes `steps` cycles through, then, if `fail_at_end`,
/// fails with `TimedOut` instead of ending.
struct Pieces {
    data: Vec<u8>,
    pos: usize,
    steps: Vec<usize>,
    turn: usize,
    fail_at_end: bool,
}

impl Pieces {
    fn new(data: &[u8], steps: Vec<usize>, fail_at_end: bool) -> Pieces {
        Pieces {
            data: data.to_vec(),
            pos: 0,
            steps,
            turn: 0,
            fail_at_end,
        }
    }
}

impl Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = &self.data[self.pos..];
        if rest.is_empty() {
            if self.fail_at_end {
                return Err(Error::new(ErrorKind::TimedOut, INJECTED).into());
            }
            return Ok(0);
        }
        let step = self.steps[self.turn % self.steps.len()];
        self.turn += 1;
        let n = step.min(buf.len()).min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

/// The decoded bytes (at most `OUTPUT_CAP`), or the error's kind. Panics on an error that is
/// neither `Corrupt` (naming the format) nor the injected `TimedOut`.
fn decode(c: Compression, input: Pieces) -> Result<Vec<u8>, ErrorKind> {
    let reader = c.reader(input).expect("reader");
    let mut out = Vec::new();
    match reader.take(OUTPUT_CAP).read_to_end(&mut out) {
        Ok(_) => Ok(out),
        Err(e) => {
            let err = Error::from(e);
            match err.kind() {
                ErrorKind::Corrupt => {
                    assert!(
                        err.to_string().contains(c.name()),
                        "{c}: message names the format: {err}"
                    );
                }
                ErrorKind::TimedOut => assert_eq!(err.message(), Some(INJECTED), "{c}: {err}"),
                kind => panic!("{c}: unexpected error kind {kind:?}: {err}"),
            }
            Err(err.kind())
        }
    }
}

/// Checks the property for `c` on one input. The first byte (if any) picks the piece sizes
/// of the second reading; the rest is the compressed input.
pub fn check(c: Compression, data: &[u8]) {
    let (head, body) = match data.split_first() {
        Some((&h, rest)) => (h, rest),
        None => (0, data),
    };
    let whole = decode(c, Pieces::new(body, vec![usize::MAX], false));
    if let Err(kind) = whole {
        assert_eq!(
            kind,
            ErrorKind::Corrupt,
            "{c}: a clean input cannot time out"
        );
    }
    let capped = matches!(&whole, Ok(out) if out.len() as u64 >= OUTPUT_CAP);

    // The same input in small pieces: the same result, for gzip. For zstd, the results agree
    // wherever both readings decode, but libzstd's structural checks differ between the input
    // it buffers itself (pieces) and the input it sees whole, on malformed frames whose
    // content still matches their declared size and checksum: it accepts a compressed block of
    // size 0 as empty when buffering, and rejects an RLE block of size 0 in a 0-byte window.
    // Both readings stay safe because the reader checks every frame's declared content size
    // itself (the first finding of this target: pieces accepted a frame that declares 9 bytes
    // and holds none) and libzstd checks the checksum. Those inputs are in the regressions.
    let steps = vec![1 + usize::from(head & 7), 1, 1 + usize::from(head >> 3)];
    let pieces = decode(c, Pieces::new(body, steps, false));
    let libzstd_strictness = c == Compression::Zstd
        && matches!(
            (&whole, &pieces),
            (Ok(_), Err(ErrorKind::Corrupt)) | (Err(ErrorKind::Corrupt), Ok(_))
        );
    if !capped && !libzstd_strictness {
        assert_eq!(
            whole, pieces,
            "{c}: the result depends on how the input arrives"
        );
    }

    // The reader underneath fails where the input ends. A decoder must look past the end of
    // the last member or frame, so a good input gives that error, as it was.
    let failing = decode(c, Pieces::new(body, vec![usize::MAX], true));
    match (&whole, &failing) {
        _ if capped => {}
        (Ok(_), Err(kind)) => assert_eq!(*kind, ErrorKind::TimedOut, "{c}: inner error replaced"),
        (Ok(_), Ok(_)) => panic!("{c}: the decoder ended without reaching the end of its input"),
        (Err(_), _) => {}
    }
}
