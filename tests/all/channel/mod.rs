//! Tests of the channel backend: the conformance suite (persistent), the capabilities of the
//! default (consumed) mode, and each stream semantic with real threads.
//!
//! No test sleeps. Timeouts appear in two roles only: a backend timeout whose expiry is the
//! answer under test (nothing else can happen in that state), and an upper bound on how long
//! a thread may take, which fails the test if it is hit.
#![cfg(feature = "channel")]

use omnistorage::conformance::Fixture;
use omnistorage::{
    Backend, BackendExt, ChannelBackend, Error, ErrorKind, Path, ReadOptions, Reader,
    StreamDelivery, WriteMode, WriteOptions, open,
};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::panic;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

/// The longest any thread of a test may take; hitting it fails the test (a deadlock).
const LIMIT: Duration = Duration::from_secs(60);
/// A backend timeout for states in which waiting can only end by timing out.
const SHORT: Duration = Duration::from_millis(50);

mod persistent {
    use super::*;
    omnistorage::conformance_tests!(|| Fixture::new(
        ChannelBackend::builder().persistent(true).build()
    ));
}

/// The cases of the suite that say something about consumed streams (the others need to read
/// an object back, or server-side operations, and skip on them: each of these must run).
mod consumed {
    use super::*;
    macro_rules! cases {
        ($($case:ident),* $(,)?) => {$(
            #[test]
            fn $case() {
                let fixture = Fixture::new(ChannelBackend::new());
                omnistorage::conformance::$case(fixture.backend())
                    .expect("the case runs on consumed streams");
            }
        )*};
    }
    cases!(
        capabilities_tell_the_truth,
        root_is_not_an_object,
        delete_missing_is_ok,
        stat_missing_is_not_found,
        directories,
        close_then_use_is_closed,
    );
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn p(s: &str) -> Path {
    Path::parse(s).expect("test path")
}

fn persistent() -> ChannelBackend {
    ChannelBackend::builder().persistent(true).build()
}

/// Both modes, named, for tests that hold in each.
fn both() -> [(&'static str, ChannelBackend); 2] {
    [
        ("consumed", ChannelBackend::new()),
        ("persistent", persistent()),
    ]
}

/// Runs `f` on a new thread; [`done`] gets its result, or its panic.
fn spawn<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> mpsc::Receiver<thread::Result<T>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(panic::catch_unwind(panic::AssertUnwindSafe(f)));
    });
    rx
}

/// The result of a thread from [`spawn`], within [`LIMIT`]; its panic, as this thread's.
fn done<T>(rx: &mpsc::Receiver<thread::Result<T>>, what: &str) -> T {
    match rx.recv_timeout(LIMIT) {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            panic!("{what}: the thread panicked: {message}")
        }
        Err(e) => panic!("{what}: no result after {LIMIT:?} ({e})"),
    }
}

/// One `read` call: with a buffer larger than any test message, one whole message.
fn read_once(r: &mut Reader) -> Result<Vec<u8>, Error> {
    let mut buf = [0u8; 256];
    let n = r.read(&mut buf).map_err(Error::from)?;
    Ok(buf[..n].to_vec())
}

/// Every message until end-of-stream, one per `read`.
fn messages(r: &mut Reader) -> Result<Vec<Vec<u8>>, Error> {
    let mut out = Vec::new();
    loop {
        let message = read_once(r)?;
        if message.is_empty() {
            return Ok(out);
        }
        out.push(message);
    }
}

fn kind<T: std::fmt::Debug>(result: Result<T, Error>, what: &str) -> ErrorKind {
    match result {
        Ok(v) => panic!("{what}: expected an error, got Ok({v:?})"),
        Err(e) => e.kind(),
    }
}

fn numbered(i: u64) -> [u8; 8] {
    i.to_be_bytes()
}

fn number(message: &[u8]) -> u64 {
    u64::from_be_bytes(message.try_into().expect("an 8-byte message"))
}

mod backpressure;
mod close;
mod readers;
mod registry;
mod streams;
mod stress;
