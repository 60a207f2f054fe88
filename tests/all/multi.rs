//! Fan-out writers, the concatenating reader and the tee, over real backends.

use std::io::{self, Read, Write};

use omnistorage::conformance::TempDir;
use omnistorage::multi::{ConcatReader, FanOut, MultiWriter, Tee};
use omnistorage::{
    Backend, BackendExt, Entry, ErrorKind, FileBackend, MemoryBackend, Path, Result, WriteSink,
    Writer,
};

/// A sink that accepts `limit` bytes and then fails: injects a write failure (a disk that
/// fills up, a connection that drops) where a real backend cannot be made to fail on cue.
struct FailAfter {
    limit: usize,
    written: usize,
}

impl Write for FailAfter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written + buf.len() > self.limit {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "injected: no space",
            ));
        }
        self.written += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl WriteSink for FailAfter {
    fn finish(self: Box<Self>) -> Result<Entry> {
        Ok(Entry::file(
            Path::parse("fail-after").unwrap(),
            self.written as u64,
        ))
    }
    fn abort(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

fn failing(limit: usize) -> Writer {
    Writer::new(FailAfter { limit, written: 0 })
}

#[test]
fn all_commits_every_sink_on_different_backends() {
    let dir = TempDir::new().unwrap();
    let file = FileBackend::new(dir.path()).unwrap();
    let mem = MemoryBackend::new();
    let mut w = MultiWriter::new(
        FanOut::All,
        vec![
            file.open_writer("a/x").unwrap(),
            mem.open_writer("x").unwrap(),
            mem.open_writer("y").unwrap(),
        ],
    )
    .unwrap();
    for i in 0..1000 {
        writeln!(w, "line {i}").unwrap();
    }
    assert!(!mem.contains("x").unwrap(), "nothing visible before finish");
    let report = w.finish_with_report().unwrap();
    let committed: Vec<usize> = report.committed.iter().map(|(i, _)| *i).collect();
    assert_eq!(committed, [0, 1, 2]);
    assert!(report.failed.is_empty());
    let expected = file.read_to_vec("a/x").unwrap();
    assert_eq!(expected.len(), report.committed[0].1.size as usize);
    assert_eq!(mem.read_to_vec("x").unwrap(), expected);
    assert_eq!(mem.read_to_vec("y").unwrap(), expected);
}

#[test]
fn all_aborts_every_sink_when_one_write_fails() {
    let mem = MemoryBackend::new();
    mem.write_all("x", b"old").unwrap();
    let mut w = MultiWriter::new(
        FanOut::All,
        vec![
            mem.open_writer("x").unwrap(),
            failing(10),
            mem.open_writer("y").unwrap(),
        ],
    )
    .unwrap();
    w.write_all(b"12345").unwrap();
    let err = omnistorage::Error::from(w.write_all(b"678901").unwrap_err());
    assert!(err.to_string().contains("sink 1"), "{err}");
    assert_eq!(w.live(), 0);
    assert!(w.finish().is_err());
    assert_eq!(mem.read_to_vec("x").unwrap(), b"old");
    assert!(!mem.contains("y").unwrap());
}

#[test]
fn best_effort_survives_failures_and_reports_them() {
    let mem = MemoryBackend::new();
    let mut w = MultiWriter::new(
        FanOut::BestEffort,
        vec![failing(3), mem.open_writer("x").unwrap()],
    )
    .unwrap();
    w.write_all(b"more than three").unwrap();
    assert_eq!(w.failures().len(), 1);
    let report = w.finish_with_report().unwrap();
    assert_eq!(
        report.committed.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        [1]
    );
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].0, 0);
    assert_eq!(report.failed[0].1.io_kind(), io::ErrorKind::StorageFull);
    assert_eq!(mem.read_to_vec("x").unwrap(), b"more than three");
}

#[test]
fn best_effort_fails_when_every_sink_fails() {
    let mut w = MultiWriter::new(FanOut::BestEffort, vec![failing(1), failing(2)]).unwrap();
    assert!(w.write_all(b"abc").is_err());
}

#[test]
fn quorum_tolerates_failures_up_to_its_margin() {
    let mem = MemoryBackend::new();
    let mut w = MultiWriter::new(
        FanOut::Quorum(2),
        vec![
            mem.open_writer("a").unwrap(),
            failing(0),
            mem.open_writer("b").unwrap(),
        ],
    )
    .unwrap();
    w.write_all(b"q").unwrap();
    let report = w.finish_with_report().unwrap();
    assert_eq!(report.committed.len(), 2);
    assert_eq!(mem.read_to_vec("a").unwrap(), b"q");

    let mut w = MultiWriter::new(
        FanOut::Quorum(3),
        vec![
            mem.open_writer("c").unwrap(),
            failing(0),
            mem.open_writer("d").unwrap(),
        ],
    )
    .unwrap();
    assert!(w.write_all(b"q").is_err());
    drop(w);
    assert!(!mem.contains("c").unwrap());
    assert!(!mem.contains("d").unwrap());
}

#[test]
fn impossible_policies_are_invalid_input() {
    let mem = MemoryBackend::new();
    let cases: Vec<(FanOut, usize)> = vec![
        (FanOut::Quorum(0), 2),
        (FanOut::Quorum(3), 2),
        (FanOut::All, 0),
        (FanOut::BestEffort, 0),
    ];
    for (mode, n) in cases {
        let writers = (0..n)
            .map(|i| mem.open_writer(format!("w{i}")).unwrap())
            .collect();
        let err = MultiWriter::new(mode, writers).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{mode:?} with {n}");
    }
    assert!(mem.is_empty());
}

/// A real commit failure: the file backend's directory is removed under an open writer, so
/// the final rename fails.
fn doomed_file_writer(dir: &TempDir) -> (FileBackend, Writer) {
    let file = FileBackend::new(dir.path()).unwrap();
    let w = file.open_writer("sub/x").unwrap();
    std::fs::remove_dir_all(dir.path().join("sub")).unwrap();
    (file, w)
}

#[test]
fn all_commit_failure_first_aborts_the_rest() {
    let dir = TempDir::new().unwrap();
    let (_file, doomed) = doomed_file_writer(&dir);
    let mem = MemoryBackend::new();
    let mut w = MultiWriter::new(FanOut::All, vec![doomed, mem.open_writer("x").unwrap()]).unwrap();
    w.write_all(b"data").unwrap();
    let err = w.finish().unwrap_err();
    assert!(!err.to_string().contains("stay committed"), "{err}");
    assert!(!mem.contains("x").unwrap(), "the later sink was aborted");
}

#[test]
fn all_commit_failure_after_a_commit_names_what_stays_committed() {
    let dir = TempDir::new().unwrap();
    let (_file, doomed) = doomed_file_writer(&dir);
    let mem = MemoryBackend::new();
    let mut w = MultiWriter::new(FanOut::All, vec![mem.open_writer("x").unwrap(), doomed]).unwrap();
    w.write_all(b"data").unwrap();
    let err = w.finish().unwrap_err();
    assert!(
        err.to_string().contains("stay committed: sinks 0 (x)"),
        "{err}"
    );
    // The commit failure itself is the source, with its kind.
    let source = std::error::Error::source(&err)
        .and_then(|s| s.downcast_ref::<omnistorage::Error>())
        .expect("the sink's error is the source");
    assert_eq!(source.kind(), err.kind());
    assert_eq!(mem.read_to_vec("x").unwrap(), b"data");
}

#[test]
fn dropping_aborts_every_sink() {
    let mem = MemoryBackend::new();
    let mut w = MultiWriter::new(
        FanOut::All,
        vec![mem.open_writer("x").unwrap(), mem.open_writer("y").unwrap()],
    )
    .unwrap();
    w.write_all(b"data").unwrap();
    drop(w);
    assert!(mem.is_empty());
}

#[test]
fn into_writer_is_a_plain_writer() {
    let mem = MemoryBackend::new();
    let multi = MultiWriter::new(
        FanOut::All,
        vec![mem.open_writer("x").unwrap(), mem.open_writer("y").unwrap()],
    )
    .unwrap();
    let mut w = multi.into_writer();
    w.write_all(b"data").unwrap();
    let entry = w.finish().unwrap();
    assert_eq!(entry.path.as_str(), "x");
    assert_eq!(mem.read_to_vec("y").unwrap(), b"data");
}

#[test]
fn concat_reader_reads_objects_in_order_across_backends_files() {
    let dir = TempDir::new().unwrap();
    let file = FileBackend::new(dir.path()).unwrap();
    let mut expected = Vec::new();
    let mut paths = Vec::new();
    for i in 0..5 {
        let data = vec![b'a' + i as u8; 1000 * i + 1];
        file.write_all(format!("p/{i}"), &data).unwrap();
        expected.extend_from_slice(&data);
        paths.push(Path::parse(format!("p/{i}")).unwrap());
    }
    file.write_all("p/empty", b"").unwrap();
    paths.insert(2, Path::parse("p/empty").unwrap());
    let mut out = Vec::new();
    ConcatReader::new(&file, paths)
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out, expected);
}

#[test]
fn concat_reader_reports_a_missing_object_when_reached() {
    let mem = MemoryBackend::new();
    mem.write_all("a", b"first").unwrap();
    let paths = vec![Path::parse("a").unwrap(), Path::parse("gone").unwrap()];
    let mut r = ConcatReader::new(&mem, paths);
    let mut buf = [0u8; 5];
    r.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"first");
    let err = omnistorage::Error::from(r.read(&mut buf).unwrap_err());
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let mut empty = ConcatReader::new(&mem, Vec::new());
    assert_eq!(empty.read(&mut buf).unwrap(), 0);
}

struct BrokenPipe;

impl Write for BrokenPipe {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::new(
            io::ErrorKind::BrokenPipe,
            "injected: reader went away",
        ))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn tee_writes_both_sides() {
    let dir = TempDir::new().unwrap();
    let file = FileBackend::new(dir.path()).unwrap();
    let mut tee = Tee::new(file.open_writer("t").unwrap(), Vec::new());
    for _ in 0..100 {
        tee.write_all(b"0123456789").unwrap();
    }
    let (entry, copy) = tee.finish_with_other().unwrap();
    assert_eq!(entry.size, 1000);
    assert_eq!(file.read_to_vec("t").unwrap(), copy);
}

#[test]
fn tee_failure_on_either_side_commits_nothing() {
    let mem = MemoryBackend::new();
    mem.write_all("t", b"old").unwrap();
    let mut tee = Tee::new(mem.open_writer("t").unwrap(), BrokenPipe);
    assert!(tee.write_all(b"new").is_err());
    // The first error itself, not a summary of it.
    let err = tee.finish().unwrap_err();
    assert_eq!(err.io_kind(), io::ErrorKind::BrokenPipe);
    assert!(err.is_temporary(), "a broken pipe is temporary: {err:?}");
    assert_eq!(mem.read_to_vec("t").unwrap(), b"old");

    let mut tee = Tee::new(failing(2), Vec::new());
    assert!(tee.write_all(b"abc").is_err());
    assert!(tee.finish().is_err());

    let mut tee = Tee::new(mem.open_writer("u").unwrap(), Vec::new());
    tee.write_all(b"x").unwrap();
    drop(tee);
    assert!(!mem.contains("u").unwrap());
}

/// A sink whose writes fail with a temporary error of a given kind.
struct Refuses(ErrorKind, bool);

impl Write for Refuses {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(omnistorage::Error::new(self.0, "injected")
            .with_temporary(self.1)
            .into())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl WriteSink for Refuses {
    fn finish(self: Box<Self>) -> Result<Entry> {
        Ok(Entry::file(Path::root(), 0))
    }
    fn abort(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

#[test]
fn a_fan_out_error_is_the_first_failure_with_its_kind_and_temporariness() {
    let mem = MemoryBackend::new();
    let mut w = MultiWriter::new(
        FanOut::All,
        vec![
            mem.open_writer("x").unwrap(),
            Writer::new(Refuses(ErrorKind::TimedOut, true)),
        ],
    )
    .unwrap();
    let err = omnistorage::Error::from(w.write_all(b"data").unwrap_err());
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert!(err.is_temporary(), "every failure was temporary: {err:?}");
    let source = std::error::Error::source(&err)
        .and_then(|s| s.downcast_ref::<omnistorage::Error>())
        .expect("the first failure is the source");
    assert_eq!(source.message(), Some("injected"));
    assert!(source.is_temporary());
    assert!(err.display_chain().to_string().ends_with("injected"));
    assert!(!mem.contains("x").unwrap());

    // One permanent failure among them: the whole is permanent, of the first's kind.
    let mut w = MultiWriter::new(
        FanOut::Quorum(1),
        vec![
            Writer::new(Refuses(ErrorKind::RateLimited, true)),
            Writer::new(Refuses(ErrorKind::PermissionDenied, false)),
        ],
    )
    .unwrap();
    let err = omnistorage::Error::from(w.write_all(b"data").unwrap_err());
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(!err.is_temporary());
    assert!(err.to_string().contains("sink 1: "), "{err}");
}

#[test]
fn undo_takes_back_commits_when_a_later_sink_fails() {
    let dir = TempDir::new().unwrap();
    let (_file, doomed) = doomed_file_writer(&dir);
    let mem = MemoryBackend::new();
    let undo_mem = mem.clone();
    let mut w = MultiWriter::new(
        FanOut::All,
        vec![
            mem.open_writer("x").unwrap(),
            doomed,
            mem.open_writer("y").unwrap(),
        ],
    )
    .unwrap()
    .with_undo(0, move |entry| undo_mem.delete(&entry.path));
    w.write_all(b"data").unwrap();
    let err = w.finish_with_report().unwrap_err();
    assert!(!err.to_string().contains("stay committed"), "{err}");
    assert!(mem.is_empty(), "x undone, y aborted");
}

#[test]
fn commits_aborted_because_of_others_are_not_failures() {
    let mem = MemoryBackend::new();
    let mut w = MultiWriter::new(
        FanOut::BestEffort,
        vec![failing(0), mem.open_writer("x").unwrap()],
    )
    .unwrap();
    w.write_all(b"x").unwrap();
    let report = w.finish_with_report().unwrap();
    assert_eq!(report.failed.len(), 1);
    assert!(report.aborted.is_empty() && report.undone.is_empty());
}

#[test]
fn tee_over_any_finish_layer() {
    use omnistorage::{HashKind, HashKinds, HashingWriter};
    let mem = MemoryBackend::new();
    let kinds = HashKinds::NONE.with(HashKind::Crc32c);
    let hashing = HashingWriter::new(mem.open_writer("t").unwrap(), kinds).unwrap();
    let mut tee = Tee::new(hashing, Vec::new());
    tee.write_all(b"123456789").unwrap();
    let entry = omnistorage::Finish::finish(tee).unwrap();
    assert_eq!(
        entry.hash(HashKind::Crc32c).map(|h| h.to_hex()).as_deref(),
        Some("e3069283")
    );
    assert_eq!(mem.read_to_vec("t").unwrap(), b"123456789");
}
