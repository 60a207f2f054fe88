//! Competing readers, persistent replay and broadcast.

use super::*;

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
