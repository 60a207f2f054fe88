//! Concurrency, capabilities that tell the truth, and `close`.

use std::collections::BTreeSet;
use std::io::Write;
use std::time::{Duration, SystemTime};

use super::support::*;
use crate::{
    Backend, BackendExt, ErrorKind, ListOptions, Location, Path, PendingUpload, Presign, Result,
};

/// Eight threads writing 25 objects each, in interleaved pieces, never interfere.
pub fn concurrent_writers_on_distinct_paths(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    std::thread::scope(|s| {
        for t in 0..8u64 {
            s.spawn(move || {
                for i in 0..25u64 {
                    let path = format!("c/t{t}/o{i}");
                    let data = pattern(1000 + (i as usize) * 37, t * 100 + i);
                    let mut w = b.open_writer(path.as_str()).expect("writer");
                    for chunk in data.chunks(333) {
                        w.write_all(chunk).expect("write");
                        std::thread::yield_now();
                    }
                    w.finish().expect("finish");
                }
            });
        }
    });
    for t in 0..8u64 {
        for i in 0..25u64 {
            let path = format!("c/t{t}/o{i}");
            let data = pattern(1000 + (i as usize) * 37, t * 100 + i);
            assert!(get(b, &path) == data, "content of {path}");
        }
    }
    if caps(b).list {
        let listed: BTreeSet<String> = names(b, "c").into_iter().collect();
        assert_eq!(listed.len(), 200);
    }
    Ok(())
}

/// `usage`, where the capabilities grant it, answers, and what it knows adds up: `used` and
/// `free` are each at most `total`.
pub fn usage_adds_up(b: &dyn Backend) -> Outcome {
    need(caps(b).usage, "Capabilities::usage")?;
    let u = b.usage().expect("usage");
    if let Some(total) = u.total {
        for (name, value) in [("used", u.used), ("free", u.free)] {
            if let Some(v) = value {
                assert!(v <= total, "usage: {name} {v} is more than total {total}");
            }
        }
    }
    Ok(())
}

/// What the capabilities deny answers `Unsupported`; what they grant does not. The optional
/// operations included: `stat` (and the directory operations that need it), server-side
/// `copy` / `rename` and their `_from` forms, `set_modified`, `presign`, and
/// `pending_uploads` / `abort_upload`, and `usage`.
pub fn capabilities_tell_the_truth(b: &dyn Backend) -> Outcome {
    let c = caps(b);
    if !c.read {
        unsupported(b.open_reader("x").map(drop), "reader");
    }
    if !c.write {
        unsupported(b.open_writer("x").map(drop), "writer");
    }
    if !c.list {
        unsupported(
            b.list(&Path::root(), &ListOptions::default()).map(drop),
            "list",
        );
    }
    if !c.delete {
        unsupported(b.remove("x"), "delete");
    }
    if !c.stat {
        unsupported(b.stat(&p("x")), "stat");
        unsupported(b.create_dir(&p("d")), "create_dir");
        unsupported(b.remove_dir(&p("d")), "remove_dir");
    }
    let here = b.location();
    let elsewhere = Location::new("conformance-nowhere", "no store", "");
    if !c.server_side_copy {
        unsupported(b.copy(&p("x"), &p("y")), "copy");
        if let Some(here) = &here {
            unsupported(b.copy_from(here, &p("x"), &p("y")), "copy_from itself");
        }
    }
    if !c.server_side_move {
        unsupported(b.rename(&p("x"), &p("y")), "rename");
        if let Some(here) = &here {
            unsupported(b.rename_from(here, &p("x"), &p("y")), "rename_from itself");
        }
    }
    unsupported(
        b.copy_from(&elsewhere, &p("x"), &p("y")),
        "copy_from another store",
    );
    unsupported(
        b.rename_from(&elsewhere, &p("x"), &p("y")),
        "rename_from another store",
    );
    if !c.set_modified {
        unsupported(b.set_modified(&p("x"), SystemTime::now()), "set_modified");
    }
    let expires = Duration::from_secs(600);
    if c.presign {
        let url = b.presign(&p("x"), Presign::Get, expires).expect("presign");
        assert!(url.contains("://"), "a presigned URL: {url:?}");
    } else {
        unsupported(b.presign(&p("x"), Presign::Get, expires), "presign GET");
        unsupported(b.presign(&p("x"), Presign::Put, expires), "presign PUT");
    }
    if !c.usage {
        unsupported(b.usage(), "usage");
    }
    let stray = PendingUpload::new(p("x"), "conformance-no-such-upload", None);
    if c.pending_uploads {
        let pending = b.pending_uploads(&Path::root()).expect("pending_uploads");
        for upload in pending {
            upload.expect("a pending upload");
        }
        b.abort_upload(&stray)
            .expect("aborting an upload that is gone is Ok");
    } else {
        unsupported(
            b.pending_uploads(&Path::root()).map(drop),
            "pending_uploads",
        );
        unsupported(b.abort_upload(&stray), "abort_upload");
    }
    if c.list {
        assert!(b.list(&Path::root(), &ListOptions::default()).is_ok());
    }
    if c.create_new {
        assert!(c.write, "create_new without write");
    }
    if c.set_modified {
        assert!(
            c.modified_time.is_some(),
            "set_modified without modified_time"
        );
    }
    if c.directories {
        assert!(c.stat, "directories without stat");
    }
    Ok(())
}

/// What a backend that says it closes ([`Capabilities::close`]) must do, for the failure
/// messages.
///
/// [`Capabilities::close`]: crate::Capabilities::close
/// Why the `close` cases skip a backend that keeps `Backend::close`'s default.
const CLOSE_NEEDS: &str = "Capabilities::close (Backend::close's default does nothing: \
    implement close to make later operations answer Closed, and set the capability)";

const CLOSE_RULE: &str = "Capabilities::close is set, so after close every operation must \
    answer ErrorKind::Closed: keep a closed flag, set it in close, check it first in every \
    operation and in Writer::finish (Error::closed); or leave Capabilities::close false";

/// Closing twice is `Ok`. Where [`Capabilities::close`] is set, every operation after
/// `close` answers `Closed`.
///
/// [`Capabilities::close`]: crate::Capabilities::close
pub fn close_then_use_is_closed(b: &dyn Backend) -> Outcome {
    if rw(b) {
        put(b, "before-close", b"x");
    }
    b.close().expect("close");
    b.close().expect("close twice");
    need(caps(b).close, CLOSE_NEEDS)?;
    let closed = |r: Result<()>, what: &str| {
        expect_kind(
            r,
            ErrorKind::Closed,
            &format!("{what} after close ({CLOSE_RULE})"),
        );
    };
    if caps(b).read {
        closed(b.open_reader("before-close").map(|_| ()), "reader");
    }
    if caps(b).write {
        closed(b.open_writer("after").map(|_| ()), "writer");
    }
    if caps(b).list {
        closed(
            b.list(&Path::root(), &ListOptions::default()).map(|_| ()),
            "list",
        );
    }
    if caps(b).delete {
        closed(b.remove("before-close"), "delete");
    }
    closed(b.contains("before-close").map(|_| ()), "exists");
    if caps(b).stat {
        closed(b.stat(&p("before-close")).map(drop), "stat");
    }
    Ok(())
}

/// Where [`Capabilities::close`] is set, a writer finished after `close` fails with
/// `Closed` instead of committing.
///
/// [`Capabilities::close`]: crate::Capabilities::close
pub fn finish_after_close_fails(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    need(caps(b).close, CLOSE_NEEDS)?;
    let mut w = b.open_writer("late").expect("writer");
    w.write_all(b"late data").expect("write");
    b.close().expect("close");
    expect_kind(
        w.finish(),
        ErrorKind::Closed,
        &format!("finish after close ({CLOSE_RULE})"),
    );
    Ok(())
}
