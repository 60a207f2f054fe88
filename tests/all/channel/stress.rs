//! Stress: many threads writing, reading, deleting and closing at once.

use super::*;

/// A small deterministic generator, one per thread.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

const PATHS: [&str; 6] = ["s/a", "s/b", "s/b/c", "s/bc", "t", "t/u"];

/// Errors that the races of a stress test may honestly produce.
fn expected_race(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::TimedOut
            | ErrorKind::NotFound
            | ErrorKind::Closed
            | ErrorKind::AlreadyExists
            | ErrorKind::Io
    )
}

fn check(result: Result<(), Error>, who: &str) {
    if let Err(e) = result {
        assert!(expected_race(&e), "{who}: unexpected error {e}");
    }
}

/// Writers write `w:<thread>:<round>:<n>` messages and end with `end`, or abort; readers check
/// what they get; deleters, a broadcaster and a lister run alongside. The backend is closed
/// by a deleter halfway through (`close_early`), or once the writers are done; either way
/// the close must wake whatever still waits, and every thread must end.
fn stress(chan: ChannelBackend, close_early: bool) {
    let persistent = chan.capabilities().streams == Some(StreamDelivery::Replay);
    let mut threads = Vec::new();
    for t in 0..4u64 {
        let chan = chan.clone();
        threads.push(spawn(move || {
            let mut rng = Rng(t * 7919 + 1);
            for round in 0..40 {
                let path = PATHS[rng.below(PATHS.len() as u64) as usize];
                let result = chan.open_writer(path).and_then(|mut w| {
                    for n in 0..rng.below(6) {
                        w.write_all(format!("w:{t}:{round}:{n}").as_bytes())?;
                    }
                    match rng.below(3) {
                        0 => w.abort(),
                        1 => {
                            drop(w);
                            Ok(())
                        }
                        _ => {
                            w.write_all(b"end")?;
                            w.finish().map(drop)
                        }
                    }
                });
                check(result, "writer");
            }
        }));
    }
    for t in 0..4u64 {
        let chan = chan.clone();
        threads.push(spawn(move || {
            let mut rng = Rng(t * 104_729 + 3);
            for _ in 0..40 {
                let path = PATHS[rng.below(PATHS.len() as u64) as usize];
                let result = chan.open_reader(path).and_then(|mut r| {
                    let got = messages(&mut r)?;
                    // A clean end means the stream was finished: its writer's last message
                    // was `end`, and each writer's messages came in order.
                    let own: Vec<String> = got
                        .iter()
                        .map(|m| String::from_utf8_lossy(m).into_owned())
                        .filter(|m| !m.starts_with('b'))
                        .collect();
                    if persistent {
                        assert!(own.last().is_none_or(|m| m == "end"), "{own:?}");
                        let body = &own[..own.len().saturating_sub(1)];
                        for (n, m) in body.iter().enumerate() {
                            assert!(m.ends_with(&format!(":{n}")), "whole, in order: {own:?}");
                        }
                    }
                    Ok(())
                });
                check(result, "reader");
            }
        }));
    }
    for t in 0..2u64 {
        let chan = chan.clone();
        threads.push(spawn(move || {
            let mut rng = Rng(t * 31 + 5);
            for i in 0..100 {
                let path = PATHS[rng.below(PATHS.len() as u64) as usize];
                check(chan.remove(path), "deleter");
                if close_early && t == 0 && i == 50 {
                    check(chan.close(), "closer");
                }
            }
        }));
    }
    {
        let chan = chan.clone();
        threads.push(spawn(move || {
            let mut rng = Rng(11);
            for _ in 0..60 {
                let prefix = ["", "s", "s/b", "t"][rng.below(4) as usize];
                check(chan.broadcast(prefix, b"b").map(drop), "broadcaster");
            }
        }));
    }
    {
        let chan = chan.clone();
        threads.push(spawn(move || {
            for _ in 0..60 {
                let result = chan.list_all("").map(drop).and_then(|()| {
                    let ext = &chan;
                    for path in PATHS {
                        match ext.stat(&p(path)) {
                            Err(e) if e.kind() == ErrorKind::NotFound => {}
                            other => drop(other?),
                        }
                        chan.contains(path)?;
                    }
                    Ok(())
                });
                check(result, "lister");
            }
        }));
    }
    let (writers, rest) = threads.split_at(4);
    for w in writers {
        done(w, "writer");
    }
    if !close_early {
        // The writers ended by themselves (the timeout bounds every wait); close wakes the
        // readers still waiting for writers that will not come.
        chan.close().expect("close");
    }
    for t in rest {
        done(t, "stress thread");
    }
}

#[test]
fn stress_consumed_streams_closed_midway() {
    stress(ChannelBackend::builder().capacity(2).build(), true);
}

#[test]
fn stress_consumed_streams_with_timeouts() {
    stress(
        ChannelBackend::builder().capacity(2).timeout(SHORT).build(),
        false,
    );
}

#[test]
fn stress_persistent_streams_closed_midway() {
    stress(persistent(), true);
}

#[test]
fn stress_persistent_streams_with_timeouts() {
    stress(
        ChannelBackend::builder()
            .persistent(true)
            .timeout(SHORT)
            .build(),
        false,
    );
}
