//! The modes and their capabilities; readers and writers, one stream at a time.

use super::*;

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
