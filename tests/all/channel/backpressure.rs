//! Backpressure and timeouts.

use super::*;

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
