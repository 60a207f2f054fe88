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
/// an object back, and skip on them).
mod consumed {
    use super::*;
    macro_rules! cases {
        ($($case:ident),* $(,)?) => {$(
            #[test]
            fn $case() {
                let fixture = Fixture::new(ChannelBackend::new());
                omnistorage::conformance::$case(fixture.backend());
            }
        )*};
    }
    cases!(
        capabilities_tell_the_truth,
        root_is_not_an_object,
        delete_missing_is_ok,
        stat_missing_is_not_found,
        directories,
        server_side_copy_missing_source,
        server_side_rename_missing_source,
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

// ---------------------------------------------------------------------------------------------
// Modes and capabilities

#[test]
fn capabilities_follow_the_mode() {
    let consumed = ChannelBackend::new().capabilities();
    assert_eq!(consumed.streams, Some(StreamDelivery::Consume));
    assert!(!consumed.range_read);
    let replayed = persistent().capabilities();
    assert_eq!(replayed.streams, Some(StreamDelivery::Replay));
    assert!(replayed.range_read);
    for caps in [consumed, replayed] {
        assert!(caps.read && caps.write && caps.create_new && caps.list && caps.delete);
        assert!(caps.stat && caps.metadata && caps.modified_time.is_some());
        assert!(!caps.server_side_copy && !caps.server_side_move && !caps.directories);
    }
}

// ---------------------------------------------------------------------------------------------
// Readers and writers

#[test]
fn reader_attaches_before_the_writer() {
    for (mode, chan) in both() {
        let mut reader = chan.open_reader("early").expect("reader");
        assert!(
            !chan.contains("early").expect("exists"),
            "{mode}: a waiting stream is no object"
        );
        assert!(chan.list_all("").expect("list").is_empty(), "{mode}");
        let got = spawn(move || messages(&mut reader));
        let mut w = chan.open_writer("early").expect("writer");
        w.write_all(b"first").expect("write");
        w.write_all(b"second").expect("write");
        w.finish().expect("finish");
        let got = done(&got, mode).expect("read");
        assert_eq!(got, [b"first".to_vec(), b"second".to_vec()], "{mode}");
    }
}

#[test]
fn messages_arrive_whole_and_in_order() {
    for (mode, chan) in both() {
        let mut reader = chan.open_reader("ordered").expect("reader");
        let got = spawn(move || messages(&mut reader));
        let mut w = chan.open_writer("ordered").expect("writer");
        let sent: Vec<Vec<u8>> = (0..1000)
            .map(|i| format!("message {i} {}", "x".repeat(i % 17)).into_bytes())
            .collect();
        for message in &sent {
            w.write_all(message).expect("write");
        }
        w.finish().expect("finish");
        assert_eq!(done(&got, mode).expect("read"), sent, "{mode}");
    }
}

#[test]
fn finish_is_end_of_stream_and_wakes_a_waiting_reader() {
    for (mode, chan) in both() {
        let mut w = chan.open_writer("s").expect("writer");
        w.write_all(b"only").expect("write");
        let mut reader = chan.open_reader("s").expect("reader");
        let got = spawn(move || {
            let first = read_once(&mut reader);
            // This read waits: the stream has no more messages, and no end yet.
            let end = read_once(&mut reader);
            let again = read_once(&mut reader);
            (first, end, again)
        });
        let entry = w.finish().expect("finish");
        assert_eq!(entry.size, 4, "{mode}");
        let (first, end, again) = done(&got, mode);
        assert_eq!(first.expect("first"), b"only", "{mode}");
        assert_eq!(end.expect("end"), b"", "{mode}: end-of-stream");
        assert_eq!(again.expect("again"), b"", "{mode}: end-of-stream stays");
    }
}

#[test]
fn abort_is_an_error_not_end_of_stream() {
    for (mode, chan) in both() {
        for drop_it in [false, true] {
            let mut reader = chan.open_reader("a").expect("reader");
            let mut w = chan.open_writer("a").expect("writer");
            w.write_all(b"part one").expect("write");
            assert_eq!(read_once(&mut reader).expect("first"), b"part one");
            w.write_all(b"part two").expect("write");
            if drop_it {
                drop(w);
            } else {
                w.abort().expect("abort");
            }
            // The undelivered "part two" is discarded; the reader learns the stream failed.
            let err = read_once(&mut reader).expect_err("read after abort");
            assert_eq!(err.kind(), ErrorKind::Io, "{mode}: {err}");
            assert!(err.to_string().contains("aborted"), "{err}");
            let mut rest = Vec::new();
            assert!(
                reader.read_to_end(&mut rest).is_err(),
                "{mode}: never a clean end"
            );
            assert!(!chan.contains("a").expect("exists"), "{mode}");
        }
    }
}

#[test]
fn abort_wakes_a_waiting_reader_with_an_error() {
    for (mode, chan) in both() {
        let mut reader = chan.open_reader("w").expect("reader");
        let got = spawn(move || {
            let mut all = Vec::new();
            reader.read_to_end(&mut all).map_err(Error::from)
        });
        let mut w = chan.open_writer("w").expect("writer");
        w.write_all(b"half").expect("write");
        w.abort().expect("abort");
        let err = done(&got, mode).expect_err("aborted stream");
        assert_eq!(err.kind(), ErrorKind::Io, "{mode}");
    }
}

#[test]
fn aborted_overwrite_puts_the_finished_stream_back() {
    let chan = persistent();
    chan.write_all("k", b"v1").expect("write v1");
    let mut w = chan.open_writer("k").expect("writer");
    w.write_all(b"v2").expect("write");
    assert!(
        !chan.contains("k").expect("exists"),
        "being rewritten: not listed"
    );
    w.abort().expect("abort");
    assert_eq!(chan.read_to_vec("k").expect("read"), b"v1");
}

#[test]
fn path_is_free_after_an_abort() {
    let chan = ChannelBackend::new();
    let w = chan.open_writer("free").expect("writer");
    drop(w);
    let mut reader = chan.open_reader("free").expect("reader");
    let got = spawn(move || messages(&mut reader));
    let mut w = chan.open_writer("free").expect("a new writer");
    w.write_all(b"next").expect("write");
    w.finish().expect("finish");
    assert_eq!(done(&got, "reader").expect("read"), [b"next".to_vec()]);
}

#[test]
fn one_writer_at_a_time() {
    for (mode, chan) in both() {
        let first = chan.open_writer("one").expect("first writer");
        for opts in [
            WriteOptions::new(),
            WriteOptions::new().mode(WriteMode::CreateNew),
        ] {
            let err = chan.writer(&p("one"), &opts).expect_err("second writer");
            assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{mode}");
            assert!(
                err.is_temporary(),
                "{mode}: it may succeed once the first ends"
            );
        }
        first.finish().expect("finish");
        // Finished: an overwrite replaces it, CreateNew is refused.
        let create_new = WriteOptions::new().mode(WriteMode::CreateNew);
        let err = chan.writer(&p("one"), &create_new).expect_err("CreateNew");
        assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{mode}");
        chan.open_writer("one")
            .expect("overwrite")
            .finish()
            .expect("finish");
        // A stream that only readers wait on is free for CreateNew.
        let _reader = chan.open_reader("wanted").expect("reader");
        let w = chan.writer(&p("wanted"), &create_new).expect("CreateNew");
        w.finish().expect("finish");
    }
}

#[test]
fn an_overwrite_leaves_readers_of_the_old_stream_alone() {
    let chan = persistent();
    chan.write_all("doc", b"old").expect("write");
    let mut old_reader = chan.open_reader("doc").expect("reader of the old stream");
    let mut w = chan.open_writer("doc").expect("writer");
    w.write_all(b"new").expect("write");
    let mut new_reader = chan.open_reader("doc").expect("reader of the new stream");
    assert_eq!(messages(&mut old_reader).expect("old"), [b"old".to_vec()]);
    w.finish().expect("finish");
    assert_eq!(messages(&mut new_reader).expect("new"), [b"new".to_vec()]);
}

#[test]
fn a_consumed_stream_read_to_its_end_frees_the_path() {
    let chan = ChannelBackend::new();
    chan.write_all("once", b"data").expect("write");
    assert!(chan.contains("once").expect("exists"));
    assert_eq!(chan.read_to_vec("once").expect("read"), b"data");
    assert!(!chan.contains("once").expect("exists"), "consumed");
    assert!(chan.list_all("").expect("list").is_empty());
    // The next reader waits for the next stream.
    let mut reader = chan.open_reader("once").expect("reader");
    let got = spawn(move || messages(&mut reader));
    chan.write_all("once", b"again").expect("write");
    assert_eq!(done(&got, "reader").expect("read"), [b"again".to_vec()]);
}

#[test]
fn a_reader_that_gives_up_leaves_no_stream_behind() {
    let chan = ChannelBackend::new();
    drop(chan.open_reader("nobody/writes").expect("reader"));
    assert_eq!(chan.broadcast("", b"anyone?").expect("broadcast"), 0);
}

#[test]
fn range_reads_end_only_when_the_stream_does() {
    for (mode, chan) in both() {
        let chan = {
            // A timeout, so that "still waiting for the end" answers instead of blocking.
            let _ = chan;
            ChannelBackend::builder()
                .persistent(mode == "persistent")
                .timeout(SHORT)
                .build()
        };
        let mut w = chan.open_writer("r").expect("writer");
        w.write_all(b"abc").expect("write");
        w.write_all(b"defg").expect("write");
        let mut reader = chan
            .reader(&p("r"), &ReadOptions::new().range(2..5))
            .expect("range reader");
        let mut got = Vec::new();
        got.extend(read_once(&mut reader).expect("read"));
        got.extend(read_once(&mut reader).expect("read"));
        assert_eq!(got, b"cde", "{mode}");
        // The range is complete, but the writer has not finished: no end-of-stream yet.
        assert_eq!(kind(read_once(&mut reader), mode), ErrorKind::TimedOut);
        w.finish().expect("finish");
        assert_eq!(read_once(&mut reader).expect("end"), b"", "{mode}");
    }
}

#[test]
fn a_persistent_reader_knows_the_size_of_a_finished_stream() {
    let chan = persistent();
    chan.write_all("sized", [1u8; 100]).expect("write");
    assert_eq!(chan.open_reader("sized").expect("reader").size(), Some(100));
    let range = ReadOptions::new().range(90..200);
    assert_eq!(
        chan.reader(&p("sized"), &range).expect("reader").size(),
        Some(10)
    );
}

// ---------------------------------------------------------------------------------------------
// Backpressure and timeouts

#[test]
fn a_full_buffer_holds_the_writer_until_a_reader_makes_room() {
    let chan = ChannelBackend::builder().capacity(4).timeout(SHORT).build();
    let mut w = chan.open_writer("bp").expect("writer");
    for i in 0..4 {
        w.write_all(&numbered(i)).expect("room in the buffer");
    }
    // Full, and no reader: the fifth write can only wait, until the timeout.
    let err = Error::from(w.write_all(&numbered(4)).expect_err("full buffer"));
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert!(err.is_temporary());
    let mut reader = chan.open_reader("bp").expect("reader");
    assert_eq!(number(&read_once(&mut reader).expect("read")), 0);
    // One message out, one place free.
    w.write_all(&numbered(5)).expect("room again");
    let err = Error::from(w.write_all(&numbered(6)).expect_err("full again"));
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    let got: Vec<u64> = (0..4)
        .map(|_| number(&read_once(&mut reader).expect("read")))
        .collect();
    assert_eq!(got, [1, 2, 3, 5], "the timed-out messages were never sent");
}

#[test]
fn a_slow_reader_bounds_how_far_the_writer_gets_ahead() {
    const CAPACITY: usize = 4;
    const COUNT: u64 = 300;
    let chan = ChannelBackend::builder().capacity(CAPACITY).build();
    let mut reader = chan.open_reader("slow").expect("reader");
    let sent = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (chan, sent) = (chan.clone(), sent.clone());
        spawn(move || {
            let mut w = chan.open_writer("slow").expect("writer");
            for i in 0..COUNT {
                w.write_all(&numbered(i)).expect("write");
                sent.fetch_add(1, Ordering::SeqCst);
            }
            w.finish().expect("finish");
        })
    };
    for received in 1..=COUNT as usize {
        let message = read_once(&mut reader).expect("read");
        assert_eq!(number(&message), received as u64 - 1, "in order");
        // What the writer has sent is what was received plus what the buffer holds.
        let ahead = sent.load(Ordering::SeqCst);
        assert!(
            ahead <= received + CAPACITY,
            "{ahead} sent, {received} received"
        );
    }
    assert_eq!(read_once(&mut reader).expect("end"), b"");
    done(&writer, "writer");
}

#[test]
fn a_read_times_out_and_can_be_retried() {
    for persistent in [false, true] {
        let chan = ChannelBackend::builder()
            .persistent(persistent)
            .timeout(SHORT)
            .build();
        let mut reader = chan.open_reader("later").expect("reader");
        let err = read_once(&mut reader).expect_err("no writer yet");
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert!(err.is_temporary());
        assert_eq!(
            Error::from(std::io::Error::from(err)).kind(),
            ErrorKind::TimedOut
        );
        chan.write_all("later", b"here").expect("write");
        assert_eq!(messages(&mut reader).expect("retry"), [b"here".to_vec()]);
    }
}

// ---------------------------------------------------------------------------------------------
// Competing readers and persistent replay

#[test]
fn competing_readers_receive_disjoint_messages_that_add_up_to_all() {
    const READERS: usize = 4;
    const COUNT: u64 = 2000;
    let chan = ChannelBackend::builder().capacity(8).build();
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let mut reader = chan.open_reader("work").expect("reader");
            spawn(move || messages(&mut reader))
        })
        .collect();
    let mut w = chan.open_writer("work").expect("writer");
    for i in 0..COUNT {
        w.write_all(&numbered(i)).expect("write");
    }
    w.finish().expect("finish");
    let mut all = Vec::new();
    for (i, reader) in readers.iter().enumerate() {
        let got: Vec<u64> = done(reader, "reader")
            .expect("every reader ends cleanly")
            .iter()
            .map(|m| number(m))
            .collect();
        assert!(got.windows(2).all(|w| w[0] < w[1]), "reader {i} in order");
        all.extend(got);
    }
    assert_eq!(all.len() as u64, COUNT, "no message twice");
    let unique: BTreeSet<u64> = all.into_iter().collect();
    assert_eq!(unique, (0..COUNT).collect(), "no message lost");
}

#[test]
fn persistent_late_readers_replay_everything_exactly_once() {
    let chan = persistent();
    let sent: Vec<Vec<u8>> = (0..6).map(|i| format!("m{i}").into_bytes()).collect();
    let mut early = chan.open_reader("log").expect("early reader");
    let early = spawn(move || messages(&mut early));
    let mut w = chan.open_writer("log").expect("writer");
    for message in &sent[..3] {
        w.write_all(message).expect("write");
    }
    // Attaches after three messages: replays them, then follows the writer live.
    let mut late = chan.open_reader("log").expect("late reader");
    let late_got = spawn(move || messages(&mut late));
    for message in &sent[3..] {
        w.write_all(message).expect("write");
    }
    w.finish().expect("finish");
    assert_eq!(done(&early, "early").expect("early"), sent, "early reader");
    assert_eq!(done(&late_got, "late").expect("late"), sent, "late reader");
    let mut after = chan.open_reader("log").expect("reader after finish");
    assert_eq!(
        messages(&mut after).expect("after"),
        sent,
        "reader after finish"
    );
}

// ---------------------------------------------------------------------------------------------
// Broadcast

#[test]
fn broadcast_reaches_every_open_stream_under_the_prefix() {
    for (mode, chan) in both() {
        chan.write_all("a/b/done", b"finished").expect("write");
        let readers: Vec<(&str, Reader)> = ["a/b", "a/b/c", "a/bc", "a/b/done", "x"]
            .into_iter()
            .map(|path| (path, chan.open_reader(path).expect("reader")))
            .collect();
        let mut writer_c = chan.open_writer("a/b/c").expect("writer");
        writer_c.write_all(b"before").expect("write");
        let writer_bc = chan.open_writer("a/bc").expect("writer");
        // Open: a/b (a reader waits) and a/b/c (being written). Not a/bc, not finished ones.
        assert_eq!(
            chan.broadcast("a/b", b"hello").expect("broadcast"),
            2,
            "{mode}"
        );
        writer_c.write_all(b"after").expect("write");
        writer_c.finish().expect("finish");
        writer_bc.finish().expect("finish");
        chan.open_writer("a/b")
            .expect("writer")
            .finish()
            .expect("finish");
        chan.open_writer("x")
            .expect("writer")
            .finish()
            .expect("finish");
        for (path, mut reader) in readers {
            let got = messages(&mut reader).expect("read");
            let expected: &[&[u8]] = match path {
                "a/b" => &[b"hello"],
                "a/b/c" => &[b"before", b"hello", b"after"],
                "a/b/done" => &[b"finished"],
                _ => &[],
            };
            assert_eq!(got, expected, "{mode}: {path}");
        }
        assert_eq!(chan.broadcast("", b"").expect("empty"), 0);
    }
}

// ---------------------------------------------------------------------------------------------
// Delete and close

#[test]
fn delete_ends_a_stream() {
    for (mode, chan) in both() {
        let mut reader = chan.open_reader("d").expect("reader");
        let mut w = chan.open_writer("d").expect("writer");
        w.write_all(b"one").expect("write");
        w.write_all(b"two").expect("write");
        assert_eq!(read_once(&mut reader).expect("read"), b"one");
        chan.remove("d").expect("delete");
        chan.remove("d").expect("delete again");
        // "two" was never received: it is discarded, and the reader told.
        assert_eq!(kind(read_once(&mut reader), mode), ErrorKind::NotFound);
        assert_eq!(kind(w.finish(), mode), ErrorKind::NotFound);
        assert!(!chan.contains("d").expect("exists"));

        let mut w = chan.open_writer("d").expect("a new writer");
        chan.remove("d").expect("delete");
        let err = Error::from(w.write_all(b"late").expect_err("write after delete"));
        assert_eq!(err.kind(), ErrorKind::NotFound, "{mode}");
    }
}

#[test]
fn delete_wakes_a_waiting_reader_and_spares_one_at_the_end() {
    for (mode, chan) in both() {
        let mut waiting = chan.open_reader("gone").expect("reader");
        let got = spawn(move || read_once(&mut waiting));
        chan.remove("gone").expect("delete");
        assert_eq!(kind(done(&got, mode), mode), ErrorKind::NotFound);

        chan.write_all("kept", b"whole").expect("write");
        let mut reader = chan.open_reader("kept").expect("reader");
        assert_eq!(messages(&mut reader).expect("read"), [b"whole".to_vec()]);
        chan.remove("kept").expect("delete");
        assert_eq!(read_once(&mut reader).expect("end stays"), b"", "{mode}");
    }
}

#[test]
fn close_wakes_blocked_readers_and_writers_with_closed() {
    for persistent in [false, true] {
        let chan = ChannelBackend::builder()
            .persistent(persistent)
            .capacity(1)
            .build();
        let (ready_tx, ready_rx) = mpsc::channel();
        let mut threads = 1;
        let reader = {
            let (chan, ready) = (chan.clone(), ready_tx.clone());
            spawn(move || {
                let mut r = chan.open_reader("idle").expect("reader");
                ready.send(()).expect("main thread");
                read_once(&mut r) // waits: nobody writes "idle"
            })
        };
        // Only a consumed stream makes a writer wait (for room that no reader makes).
        let writer = (!persistent).then(|| {
            threads += 1;
            let (chan, ready) = (chan.clone(), ready_tx.clone());
            spawn(move || {
                let mut w = chan.open_writer("full").expect("writer");
                w.write_all(b"fits").expect("write");
                ready.send(()).expect("main thread");
                let blocked = w.write_all(b"waits").map_err(Error::from);
                (blocked, w.finish())
            })
        });
        for _ in 0..threads {
            ready_rx.recv_timeout(LIMIT).expect("threads started");
        }
        // The threads wait, or are about to: either way they must end with `Closed`.
        chan.close().expect("close");
        assert_eq!(kind(done(&reader, "reader"), "reader"), ErrorKind::Closed);
        if let Some(writer) = writer {
            let (blocked, finish) = done(&writer, "writer");
            assert_eq!(kind(blocked, "blocked write"), ErrorKind::Closed);
            // The failed write poisoned the writer: `finish` does not commit.
            assert!(finish.is_err(), "finish after a failed write");
        }
        assert_eq!(kind(chan.open_reader("idle"), "reader"), ErrorKind::Closed);
        assert_eq!(kind(chan.open_writer("full"), "writer"), ErrorKind::Closed);
        assert_eq!(
            kind(chan.broadcast("", b"x"), "broadcast"),
            ErrorKind::Closed
        );
        chan.close().expect("close twice");
    }
}

#[test]
fn close_fails_an_open_writer() {
    for (mode, chan) in both() {
        let mut w = chan.open_writer("w").expect("writer");
        w.write_all(b"before").expect("write");
        chan.close().expect("close");
        let err = Error::from(w.write_all(b"after").expect_err("write after close"));
        assert_eq!(err.kind(), ErrorKind::Closed, "{mode}");
    }
}

#[test]
fn close_ends_readers_of_finished_streams_too() {
    let chan = persistent();
    chan.write_all("f", b"abc").expect("write");
    let mut reader = chan.open_reader("f").expect("reader");
    chan.close().expect("close");
    assert_eq!(kind(read_once(&mut reader), "read"), ErrorKind::Closed);
}

// ---------------------------------------------------------------------------------------------
// Stress

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

// ---------------------------------------------------------------------------------------------
// Registry

#[test]
fn chan_urls_open_channel_backends() {
    let fresh = open("chan://").expect("chan://");
    assert_eq!(fresh.capabilities().streams, Some(StreamDelivery::Consume));
    let replay = open("chan://?persistent=true&capacity=8&timeout=2s").expect("with settings");
    assert_eq!(replay.capabilities().streams, Some(StreamDelivery::Replay));
    assert_ne!(
        fresh.location(),
        open("chan://").expect("chan://").location()
    );

    let a = open("chan://registry-test?persistent=true").expect("named");
    a.write_all("k", b"v").expect("write");
    let b = open("chan://registry-test").expect("the same named backend");
    assert_eq!(b.read_to_vec("k").expect("read"), b"v");
    assert_eq!(a.location(), b.location());
    let err = open("chan://registry-test?persistent=false").expect_err("other settings");
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);

    // A closed named backend is replaced by a new one.
    a.close().expect("close");
    let c = open("chan://registry-test").expect("reopened");
    assert!(!c.contains("k").expect("exists"));
}

#[test]
fn bad_chan_urls_are_invalid_config() {
    for url in [
        "chan://?capacity=lots",
        "chan://?timeout=5x",
        "chan://?persistent=maybe",
        "chan://?colour=blue",
        "chan://name/a/path",
        "chan://user@name",
        "chan://name:99",
    ] {
        let err = open(url).expect_err(url);
        assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{url}: {err}");
    }
}
