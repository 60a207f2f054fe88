//! The shared conformance suite over every backend and forwarding wrapper.

use omnistorage::conformance::{Fixture, TempDir};
use omnistorage::{Backend, FileBackend, MemoryBackend};
use std::sync::Arc;

fn temp_file_backend() -> (FileBackend, TempDir) {
    let dir = TempDir::new().expect("temp dir");
    let backend = FileBackend::new(dir.path().join("main")).expect("file backend");
    (backend, dir)
}

/// A file backend on `dir/main`, with siblings on `dir/other` (the same file system).
fn file_fixture(backend: impl Backend + 'static, dir: TempDir) -> Fixture {
    let other = dir.path().join("other");
    Fixture::new(backend)
        .with_sibling(move || Box::new(FileBackend::new(&other).expect("sibling")))
        .with_guard(dir)
}

mod file {
    use super::*;
    omnistorage::conformance_tests!(|| {
        let (backend, dir) = temp_file_backend();
        file_fixture(backend, dir)
    });
}

/// The root does not exist until the first write.
mod file_missing_root {
    use super::*;
    omnistorage::conformance_tests!(|| {
        let dir = TempDir::new().expect("temp dir");
        let backend = FileBackend::new(dir.path().join("not/yet")).expect("file backend");
        Fixture::new(backend).with_guard(dir)
    });
}

mod memory {
    use super::*;
    omnistorage::conformance_tests!(|| Fixture::new(MemoryBackend::new()));
}

/// A memory store seen from `main`, with siblings seen from `other` (one store, two roots).
mod memory_scoped {
    use super::*;
    omnistorage::conformance_tests!(|| {
        let store = MemoryBackend::new();
        let main = store.scoped("main").expect("scoped");
        Fixture::new(main).with_sibling(move || Box::new(store.scoped("other").expect("scoped")))
    });
}

mod arc_file {
    use super::*;
    omnistorage::conformance_tests!(|| {
        let (backend, dir) = temp_file_backend();
        file_fixture(Arc::new(backend), dir)
    });
}

mod box_memory {
    use super::*;
    omnistorage::conformance_tests!(|| Fixture::new(Box::new(MemoryBackend::new())));
}

mod dyn_box_memory {
    use super::*;
    omnistorage::conformance_tests!(|| {
        let inner: Box<dyn Backend> = Box::new(MemoryBackend::new());
        Fixture::new(inner)
    });
}

mod ref_memory {
    use super::*;
    // `&T` forwarding needs a `'static` borrow: leak one small store per case.
    omnistorage::conformance_tests!(|| {
        let store: &'static MemoryBackend = Box::leak(Box::new(MemoryBackend::new()));
        Fixture::new(store)
    });
}

#[test]
fn suite_has_at_least_forty_cases() {
    assert!(omnistorage::conformance::CASES.len() >= 40);
}
