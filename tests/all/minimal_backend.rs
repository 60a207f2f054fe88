//! A backend of the six required methods alone, as an embedder writes one first, through the
//! whole public conformance suite: it passes, and what it cannot do is skipped and counted.

use std::collections::BTreeMap;
use std::io::{self, Cursor, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use omnistorage::conformance::{self, Fixture};
use omnistorage::{
    Backend, Capabilities, Entry, Error, ErrorKind, List, ListOptions, Path, ReadOptions, Reader,
    Result, WriteMode, WriteOptions, WriteSink, Writer, listing,
};

type Objects = Arc<Mutex<BTreeMap<String, Vec<u8>>>>;

/// Objects in a sorted map (so a listing of it is in byte order of the full path).
#[derive(Debug, Default)]
struct Minimal {
    objects: Objects,
}

fn lock(objects: &Objects) -> MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
    objects.lock().unwrap_or_else(|e| e.into_inner())
}

fn not_the_root(path: &Path) -> Result<()> {
    if path.is_root() {
        return Err(Error::new(
            ErrorKind::InvalidPath,
            "the root is not an object",
        ));
    }
    Ok(())
}

impl Backend for Minimal {
    fn reader(&self, path: &Path, opts: &ReadOptions) -> Result<Reader> {
        not_the_root(path)?;
        let objects = lock(&self.objects);
        let Some(data) = objects.get(path.as_str()) else {
            return Err(Error::new(ErrorKind::NotFound, "no such object").with_path(path.as_str()));
        };
        let (start, end) = opts.clamp(data.len() as u64);
        Ok(Reader::new(Cursor::new(
            data[start as usize..end as usize].to_vec(),
        )))
    }

    fn writer(&self, path: &Path, opts: &WriteOptions) -> Result<Writer> {
        not_the_root(path)?;
        if opts.mode == WriteMode::CreateNew && lock(&self.objects).contains_key(path.as_str()) {
            return Err(Error::new(ErrorKind::AlreadyExists, "exists").with_path(path.as_str()));
        }
        Ok(Writer::new(Staged {
            objects: self.objects.clone(),
            path: path.clone(),
            data: Vec::new(),
        }))
    }

    fn exists(&self, path: &Path) -> Result<bool> {
        Ok(lock(&self.objects).contains_key(path.as_str()))
    }

    fn delete(&self, path: &Path) -> Result<()> {
        not_the_root(path)?;
        lock(&self.objects).remove(path.as_str());
        Ok(())
    }

    fn list(&self, prefix: &Path, opts: &ListOptions) -> Result<List> {
        let under = |key: &str| {
            prefix.is_root()
                || key == prefix.as_str()
                || key
                    .strip_prefix(prefix.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        };
        let entries: Vec<Result<Entry>> = lock(&self.objects)
            .iter()
            .filter(|(key, _)| under(key))
            .map(|(key, data)| Ok(Entry::file(Path::parse(key)?, data.len() as u64)))
            .collect();
        // Start points, one level, cancellation: served by the listing adapter.
        Ok(listing::adapt(Box::new(entries.into_iter()), prefix, opts))
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::default();
        caps.read = true;
        caps.range_read = true;
        caps.write = true;
        caps.list = true;
        caps.delete = true;
        caps
    }
}

/// A write in progress: the bytes, kept aside until `finish`.
struct Staged {
    objects: Objects,
    path: Path,
    data: Vec<u8>,
}

impl Write for Staged {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.data.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl WriteSink for Staged {
    fn finish(self: Box<Self>) -> Result<Entry> {
        let size = self.data.len() as u64;
        lock(&self.objects).insert(self.path.as_str().to_string(), self.data);
        Ok(Entry::file(self.path, size))
    }

    fn abort(self: Box<Self>) -> Result<()> {
        Ok(())
    }
}

fn fixture() -> Fixture {
    Fixture::new(Minimal::default())
}

/// Every case, one test each: they pass, or print why they were skipped.
mod cases {
    omnistorage::conformance_tests!(super::fixture);
}

/// The whole suite passes, and the cases it skipped are the ones the six methods cannot
/// serve, each with its reason: the `close` cases among them (the default `close` does
/// nothing, and `Capabilities::close` says so).
#[test]
fn the_whole_suite_passes_and_counts_its_skips() {
    let report = conformance::run(fixture);
    eprintln!("{report}");
    assert_eq!(
        report.passed().len() + report.skipped().len(),
        conformance::CASES.len()
    );
    let skipped: BTreeMap<&str, &str> = report
        .skipped()
        .iter()
        .map(|(name, why)| (*name, why.reason()))
        .collect();
    assert!(
        skipped["close_then_use_is_closed"].starts_with("needs Capabilities::close"),
        "{report}"
    );
    assert!(skipped["finish_after_close_fails"].starts_with("needs Capabilities::close"));
    assert_eq!(skipped["stat_agrees_with_list"], "needs Capabilities::stat");
    assert_eq!(
        skipped["server_side_copy"],
        "needs Capabilities::server_side_copy"
    );
    assert_eq!(
        skipped["create_new_race_has_one_winner"],
        "needs Capabilities::create_new"
    );
    assert!(
        skipped.values().all(|why| why.starts_with("needs ")),
        "{report}"
    );
    for ran in [
        "roundtrip_empty",
        "list_one_level",
        "list_cancelled_ends_with_one_error",
        "capabilities_tell_the_truth",
        "copy_path_within_backend",
    ] {
        assert!(report.passed().contains(&ran), "{ran} ran: {report}");
    }
}

/// A backend that says it closes, and does not, fails the `close` case with a message that
/// says what to implement.
#[test]
fn claiming_close_without_keeping_it_fails_with_what_to_implement() {
    #[derive(Debug, Default)]
    struct Claims(Minimal);
    impl omnistorage::Wrap for Claims {
        type Inner = Minimal;
        fn inner(&self) -> &Minimal {
            &self.0
        }
        fn capabilities(&self) -> Capabilities {
            let mut caps = self.0.capabilities();
            caps.close = true;
            caps
        }
    }
    let failure =
        std::panic::catch_unwind(|| conformance::close_then_use_is_closed(&Claims::default()))
            .expect_err("the case fails");
    let message = failure
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("reader after close"), "{message}");
    assert!(message.contains("keep a closed flag"), "{message}");
}

/// A broken contract is reported at the line of the case that found it, not inside the
/// suite's helpers (they are `#[track_caller]`).
#[test]
fn a_failure_names_the_line_of_the_case() {
    /// Reads back nothing, whatever was written.
    #[derive(Debug, Default)]
    struct Forgets(Minimal);
    impl omnistorage::Wrap for Forgets {
        type Inner = Minimal;
        fn inner(&self) -> &Minimal {
            &self.0
        }
        fn reader(&self, _: &Path, _: &ReadOptions) -> Result<Reader> {
            Ok(Reader::new(Cursor::new(Vec::new())))
        }
    }
    const THREAD: &str = "a_failure_names_the_line_of_the_case";
    let seen: Arc<Mutex<Option<String>>> = Arc::default();
    let previous = Arc::new(std::panic::take_hook());
    let (record, fallback) = (seen.clone(), previous.clone());
    // Only this test's own thread is recorded; every other panic goes to the usual hook.
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some(THREAD) {
            let place = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()));
            *record.lock().unwrap_or_else(|e| e.into_inner()) = place;
        } else {
            fallback(info);
        }
    }));
    let outcome = std::thread::Builder::new()
        .name(THREAD.into())
        .spawn(|| conformance::roundtrip_one_byte(&Forgets::default()))
        .expect("thread")
        .join();
    let _ = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| previous(info)));
    assert!(outcome.is_err(), "the case fails");
    let place = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let place = place.expect("a panic location");
    assert!(place.starts_with("src/conformance/write.rs:"), "{place}");
}
