//! The helpers that work between any two backends: `copy_entry` completes a sparse listing
//! entry once, `copy_path`/`move_path` go server-side between two roots of one store, the
//! default `Backend::hash` reads and hashes, and a cancelled copy commits nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use omnistorage::{
    Backend, BackendExt, Cancel, Capabilities, Entry, ErrorKind, Fields, FileBackend, HashKind,
    HashKinds, Hasher, List, ListOptions, Location, MemoryBackend, Path, ReadOptions, Reader,
    Result, WriteOptions, Writer, copy_entry, copy_path, move_path,
};

fn p(s: &str) -> Path {
    Path::parse(s).expect("valid path")
}

/// A memory store seen under a root (`root/` prepended to every path), whose listings fill
/// no optional field (like an S3 listing), and which counts `stat` and server-side calls.
#[derive(Debug, Clone)]
struct Rooted {
    store: MemoryBackend,
    root: Path,
    stats: Arc<AtomicUsize>,
    server_side: Arc<AtomicUsize>,
}

impl Rooted {
    fn new(store: &MemoryBackend, root: &str) -> Rooted {
        Rooted {
            store: store.clone(),
            root: p(root),
            stats: Arc::default(),
            server_side: Arc::default(),
        }
    }

    fn full(&self, path: &Path) -> Path {
        self.root.join(path)
    }

    fn local(&self, mut entry: Entry) -> Entry {
        entry.path = entry.path.strip_prefix(&self.root).unwrap_or_default();
        entry
    }
}

impl Backend for Rooted {
    fn reader(&self, path: &Path, opts: &ReadOptions) -> Result<Reader> {
        self.store.reader(&self.full(path), opts)
    }
    fn writer(&self, path: &Path, opts: &WriteOptions) -> Result<Writer> {
        self.store.writer(&self.full(path), opts)
    }
    fn exists(&self, path: &Path) -> Result<bool> {
        self.store.exists(&self.full(path))
    }
    fn delete(&self, path: &Path) -> Result<()> {
        self.store.delete(&self.full(path))
    }
    fn list(&self, prefix: &Path, opts: &ListOptions) -> Result<List> {
        let this = self.clone();
        let inner = self.store.list(&self.full(prefix), opts)?;
        // Path and size only: what a sparse listing gives.
        Ok(Box::new(inner.map(move |item| {
            item.map(|e| Entry::file(this.local(e.clone()).path, e.size))
        })))
    }
    fn capabilities(&self) -> Capabilities {
        let mut caps = self.store.capabilities();
        caps.listed = Fields::NONE;
        caps
    }
    fn location(&self) -> Option<Location> {
        let inner = self.store.location()?;
        Some(Location::new(
            inner.scheme(),
            inner.store(),
            self.root.as_str(),
        ))
    }
    fn stat(&self, path: &Path) -> Result<Entry> {
        self.stats.fetch_add(1, Ordering::SeqCst);
        self.store.stat(&self.full(path)).map(|e| self.local(e))
    }
    fn copy_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        let here = self.location().expect("a location");
        if !here.same_store(src) {
            return Err(omnistorage::Error::unsupported("copy_from"));
        }
        self.server_side.fetch_add(1, Ordering::SeqCst);
        let from = p(&src.key(from));
        self.store
            .copy(&from, &self.full(to))
            .map(|e| self.local(e))
    }
    fn rename_from(&self, src: &Location, from: &Path, to: &Path) -> Result<Entry> {
        let here = self.location().expect("a location");
        if !here.same_store(src) {
            return Err(omnistorage::Error::unsupported("rename_from"));
        }
        self.server_side.fetch_add(1, Ordering::SeqCst);
        let from = p(&src.key(from));
        self.store
            .rename(&from, &self.full(to))
            .map(|e| self.local(e))
    }
}

fn rich_options() -> WriteOptions {
    WriteOptions::new()
        .content_type("text/csv")
        .metadata("owner", "ops")
        .modified(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
}

#[test]
fn copy_entry_fetches_what_a_sparse_listing_lacks_once_per_object() {
    let store = MemoryBackend::new();
    let src = Rooted::new(&store, "src");
    for name in ["a.csv", "b.csv", "c.csv"] {
        src.writer(&p(name), &rich_options())
            .and_then(|mut w| {
                std::io::Write::write_all(&mut w, b"x,y\n")?;
                w.finish()
            })
            .expect("write");
    }
    let dst = MemoryBackend::new();
    for entry in src.list_at("").expect("list") {
        let entry = entry.expect("entry");
        assert_eq!(entry.filled, Fields::NONE);
        copy_entry(&src, &entry, &dst, &entry.path, None).expect("copy");
    }
    // One stat per object, and the copies lost nothing.
    assert_eq!(src.stats.load(Ordering::SeqCst), 3);
    for name in ["a.csv", "b.csv", "c.csv"] {
        let got = dst.info(name).expect("copied");
        assert_eq!(got.content_type.as_deref(), Some("text/csv"));
        assert_eq!(got.metadata.get("owner").map(String::as_str), Some("ops"));
        assert_eq!(got.modified, rich_options().modified);
    }
}

#[test]
fn copy_entry_asks_nothing_when_the_entry_is_complete_or_the_destination_keeps_nothing_more() {
    let store = MemoryBackend::new();
    let src = Rooted::new(&store, "src");
    src.writer(&p("a"), &rich_options())
        .and_then(|mut w| {
            std::io::Write::write_all(&mut w, b"1")?;
            w.finish()
        })
        .expect("write");
    // A complete entry (from stat): no second question.
    let full = src.stat(&p("a")).expect("stat");
    let before = src.stats.load(Ordering::SeqCst);
    copy_entry(&src, &full, &MemoryBackend::new(), &p("a"), None).expect("copy");
    assert_eq!(src.stats.load(Ordering::SeqCst), before);

    // A file destination keeps the time but no metadata: the sparse entry needs the time,
    // so one stat; a complete one, none.
    let dir = tempdir("fill");
    let files = FileBackend::new(&dir).expect("file backend");
    let sparse = src
        .list_at("a")
        .expect("list")
        .next()
        .expect("one")
        .expect("entry");
    copy_entry(&src, &sparse, &files, &p("a"), None).expect("copy");
    assert_eq!(src.stats.load(Ordering::SeqCst), before + 1);
    assert_eq!(
        files.info("a").expect("copied").modified,
        rich_options().modified
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn copy_and_move_go_server_side_between_two_roots_of_one_store() {
    let store = MemoryBackend::new();
    let a = Rooted::new(&store, "photos/2025");
    let b = Rooted::new(&store, "archive");
    a.write_all("x.jpg", b"jpeg").expect("write");

    let copied = copy_path(&a, &p("x.jpg"), &b, &p("old/x.jpg")).expect("copy");
    assert_eq!(copied.path, p("old/x.jpg"));
    assert_eq!(b.server_side.load(Ordering::SeqCst), 1);
    assert_eq!(
        store.read_to_vec("archive/old/x.jpg").expect("read"),
        b"jpeg"
    );
    assert!(
        a.contains("x.jpg").expect("exists"),
        "a copy keeps the source"
    );

    let moved = move_path(&a, &p("x.jpg"), &b, &p("moved.jpg")).expect("move");
    assert_eq!(moved.size, 4);
    assert_eq!(b.server_side.load(Ordering::SeqCst), 2);
    assert!(
        !a.contains("x.jpg").expect("exists"),
        "a move removes the source"
    );
    assert!(store.contains("archive/moved.jpg").expect("exists"));

    // Another store: streamed, never server-side.
    let other = Rooted::new(&MemoryBackend::new(), "archive");
    a.write_all("y.jpg", b"y").expect("write");
    copy_path(&a, &p("y.jpg"), &other, &p("y.jpg")).expect("copy");
    assert_eq!(other.server_side.load(Ordering::SeqCst), 0);
    assert_eq!(other.read_to_vec("y.jpg").expect("read"), b"y");
}

#[test]
fn default_hash_reads_the_object_and_agrees_with_hasher() {
    let store = MemoryBackend::new();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    store.write_all("blob", &data).expect("write");
    for kind in Hasher::available().iter() {
        let mut h = Hasher::new(HashKinds::NONE.with(kind)).expect("hasher");
        h.update(&data);
        let expected = h.finish()[0];
        let got = store.hash(&p("blob"), kind, None).expect("hash");
        assert_eq!(got, expected, "{kind}");
    }
    let err = store
        .hash(&p("missing"), HashKind::Crc32c, None)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let cancel = Cancel::new();
    cancel.cancel();
    let err = store
        .hash(&p("blob"), HashKind::Crc32c, Some(&cancel))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
}

#[test]
fn a_cancelled_copy_commits_nothing() {
    let src = MemoryBackend::new();
    src.write_all("big", vec![7u8; 4 << 20]).expect("write");
    let entry = src.info("big").expect("info");
    let dst = MemoryBackend::new();
    let cancel = Cancel::new();
    cancel.cancel();
    let err = copy_entry(&src, &entry, &dst, &p("big"), Some(&cancel)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert!(!dst.contains("big").expect("exists"));
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "omnistorage-helpers-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
