//! Delete and close.

use super::*;

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
