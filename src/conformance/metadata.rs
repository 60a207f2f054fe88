//! What an object carries besides its bytes: `stat`, modification times (kept and set),
//! content type and metadata, and what entries say they filled.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::support::*;
use crate::{Backend, BackendExt, ErrorKind, Fields, ListOptions, WriteOptions, lookup};

/// `stat` agrees with `list` on path, size, and every field both filled.
pub fn stat_agrees_with_list(b: &dyn Backend) -> Outcome {
    need_rwl(b)?;
    need(caps(b).stat, "Capabilities::stat")?;
    put(b, "st/a", b"abc");
    put(b, "st/b/c", &[0u8; 4096]);
    let listed = b.list_all("st").expect("list");
    assert_eq!(listed.len(), 2);
    for entry in listed {
        let stat = b.stat(&entry.path).expect("stat");
        assert!(!stat.is_dir);
        assert_agrees(&entry, &stat, "stat vs list");
    }
    Ok(())
}

/// `stat` of a missing path is `NotFound`.
pub fn stat_missing_is_not_found(b: &dyn Backend) -> Outcome {
    need(caps(b).stat, "Capabilities::stat")?;
    expect_kind(b.stat(&p("missing")), ErrorKind::NotFound, "stat missing");
    expect_kind(
        b.stat(&p("missing/deeper")),
        ErrorKind::NotFound,
        "stat missing",
    );
    Ok(())
}

/// With [`Capabilities::version_tags`](crate::Capabilities::version_tags), a rewrite with other
/// bytes of the same size and the same modification time gives a new tag, and `list`, when
/// it gives one (s3s-fs lists none), gives the same as `stat`.
pub fn version_tags_move_with_the_content(b: &dyn Backend) -> Outcome {
    let c = caps(b);
    need_rw(b)?;
    need(c.stat, "Capabilities::stat")?;
    need(c.version_tags, "Capabilities::version_tags")?;
    let opts = WriteOptions::new().modified(UNIX_EPOCH + Duration::from_secs(1_650_000_000));
    put_with(b, "tags/x", b"aaaa", &opts);
    let before = b.stat(&p("tags/x")).expect("stat").etag;
    assert!(before.is_some(), "version_tags, but no tag");
    put_with(b, "tags/x", b"bbbb", &opts);
    let after = b.stat(&p("tags/x")).expect("stat");
    assert!(after.etag.is_some(), "version_tags, but no tag");
    assert_ne!(
        before, after.etag,
        "new bytes, same size and time: a new tag"
    );
    if c.list {
        let entries = listing(b, "tags", &ListOptions::new());
        assert_eq!(entries.len(), 1);
        if entries[0].etag.is_some() {
            assert_eq!(entries[0].etag, after.etag, "list and stat: the same tag");
        }
    }
    Ok(())
}

/// Entries say what they filled, truthfully: a listing fills at least
/// [`Capabilities::listed`](crate::Capabilities::listed); `stat` fills every field the
/// backend stores; `finish` fills what it knows; and what two of them filled agrees.
pub fn entries_say_what_they_filled(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    let c = caps(b);
    let mut opts = WriteOptions::new().modified(UNIX_EPOCH + Duration::from_secs(1_650_000_000));
    if c.metadata {
        opts = opts.content_type("text/plain").metadata("k", "v");
    }
    let finished = put_with(b, "filled/x", b"filled", &opts);
    let precision = c.modified_time.unwrap_or(Duration::ZERO);
    let listed = if c.list {
        let entries = listing(b, "filled", &ListOptions::new());
        assert_eq!(entries.len(), 1);
        let entry = entries.into_iter().next().expect("one entry");
        assert!(
            entry.filled.contains(c.listed),
            "a listing fills {:?}, capabilities say {:?}",
            entry.filled,
            c.listed
        );
        assert_agrees_within(&entry, &finished, precision, "list vs finish");
        Some(entry)
    } else {
        None
    };
    if !c.stat {
        return Ok(());
    }
    let stat = b.stat(&p("filled/x")).expect("stat");
    let mut stored = Fields::NONE;
    if c.modified_time.is_some() {
        stored |= Fields::MODIFIED;
    }
    if c.metadata {
        stored |= Fields::CONTENT_TYPE | Fields::METADATA;
    }
    if !c.hashes.is_empty() {
        stored |= Fields::HASHES;
    }
    assert!(
        stat.filled.contains(stored),
        "stat fills {:?}, but the backend stores {stored:?}",
        stat.filled
    );
    assert_agrees_within(&stat, &finished, precision, "stat vs finish");
    if let Some(entry) = listed {
        assert_agrees(&entry, &stat, "list vs stat");
    }
    for kind in c.hashes.iter() {
        assert!(
            stat.hash(kind).is_some(),
            "the backend stores {kind} hashes, stat has none"
        );
    }
    Ok(())
}

/// A modification time given to the writer is kept to the backend's precision, in `finish`,
/// `list` (where listed) and `stat`.
pub fn modified_time_is_kept(b: &dyn Backend) -> Outcome {
    let precision = caps(b).modified_time;
    need(precision.is_some(), "Capabilities::modified_time")?;
    let precision = precision.unwrap_or_default();
    need_rw(b)?;
    let when = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
    let entry = put_with(b, "timed", b"t", &WriteOptions::new().modified(when));
    assert_time(entry.modified, when, precision, "finish");
    if caps(b).list && caps(b).listed.contains(Fields::MODIFIED) {
        let listed = b.list_all("timed").expect("list");
        assert_time(listed[0].modified, when, precision, "list");
    }
    if caps(b).stat {
        let stat = b.stat(&p("timed")).expect("stat");
        assert_time(stat.modified, when, precision, "stat");
    }
    Ok(())
}

/// Content type and user metadata given to the writer come back from `stat` (or `lookup`).
pub fn metadata_is_kept(b: &dyn Backend) -> Outcome {
    need(caps(b).metadata, "Capabilities::metadata")?;
    need_rw(b)?;
    let opts = WriteOptions::new()
        .content_type("text/plain; charset=utf-8")
        .metadata("owner", "ops team")
        .metadata("build", "42");
    put_with(b, "meta", b"m", &opts);
    let entry = lookup(b, &p("meta")).expect("lookup").expect("object");
    assert_eq!(
        entry.content_type.as_deref(),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(
        entry.metadata.get("owner").map(String::as_str),
        Some("ops team")
    );
    assert_eq!(entry.metadata.get("build").map(String::as_str), Some("42"));
    Ok(())
}

/// `set_modified` changes the stored time (kept to the backend's precision) and returns the
/// new entry, which `stat` and `list` agree with; content, content type and metadata stay.
pub fn set_modified_changes_only_the_time(b: &dyn Backend) -> Outcome {
    let c = caps(b);
    need(c.set_modified, "Capabilities::set_modified")?;
    need_rw(b)?;
    let Some(precision) = c.modified_time else {
        panic!("set_modified without modified_time: there is no time to set");
    };
    let first = UNIX_EPOCH + Duration::from_secs(1_500_000_000);
    let mut opts = WriteOptions::new().modified(first);
    if c.metadata {
        opts = opts
            .content_type("application/x-test")
            .metadata("keep", "me");
    }
    put_with(b, "touch/x", b"unchanged", &opts);
    let before = c.stat.then(|| b.stat(&p("touch/x")).expect("stat before"));
    let when = UNIX_EPOCH + Duration::new(1_710_000_000, 987_654_321);
    let entry = b.set_modified(&p("touch/x"), when).expect("set_modified");
    assert_eq!(entry.path, p("touch/x"));
    assert_eq!(entry.size, 9);
    assert_time(entry.modified, when, precision, "set_modified's entry");
    assert_eq!(get(b, "touch/x"), b"unchanged");
    if c.stat {
        let after = b.stat(&p("touch/x")).expect("stat after");
        assert_time(after.modified, when, precision, "stat after set_modified");
        assert_agrees(&entry, &after, "set_modified vs stat");
        if let Some(before) = before {
            assert_eq!(after.content_type, before.content_type, "content type kept");
            assert_eq!(after.metadata, before.metadata, "metadata kept");
        }
    }
    if c.metadata {
        let after = lookup(b, &p("touch/x")).expect("lookup").expect("object");
        assert_eq!(after.content_type.as_deref(), Some("application/x-test"));
        assert_eq!(after.metadata.get("keep").map(String::as_str), Some("me"));
    }
    if c.list && c.listed.contains(Fields::MODIFIED) {
        let listed = b.list_all("touch").expect("list");
        assert_time(
            listed[0].modified,
            when,
            precision,
            "list after set_modified",
        );
    }
    Ok(())
}

/// `set_modified` of a missing object is `NotFound` and creates nothing.
pub fn set_modified_missing_is_not_found(b: &dyn Backend) -> Outcome {
    need(caps(b).set_modified, "Capabilities::set_modified")?;
    expect_kind(
        b.set_modified(&p("ghost"), SystemTime::now()),
        ErrorKind::NotFound,
        "set_modified missing",
    );
    assert!(!b.contains("ghost").expect("exists"));
    Ok(())
}
