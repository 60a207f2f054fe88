//! The helpers built on the trait, within one backend: [`copy_path`] and [`move_path`].

use super::support::*;
use crate::{Backend, BackendExt, ErrorKind, copy_path, move_path};

/// [`copy_path`] within one backend copies (server-side or streamed) and keeps the source.
pub fn copy_path_within_backend(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    put(b, "orig", b"data");
    let entry = copy_path(b, &p("orig"), b, &p("dup/orig")).expect("copy_path");
    assert_eq!(entry.size, 4);
    assert_eq!(get(b, "orig"), b"data");
    assert_eq!(get(b, "dup/orig"), b"data");
    Ok(())
}

/// [`copy_path`] of an object onto itself keeps it.
pub fn copy_path_onto_itself_keeps_data(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    put(b, "self", b"precious");
    copy_path(b, &p("self"), b, &p("self")).expect("copy onto itself");
    assert_eq!(get(b, "self"), b"precious");
    Ok(())
}

/// [`copy_path`] of a missing source is `NotFound` and creates nothing.
pub fn copy_path_missing_source_creates_nothing(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    expect_kind(
        copy_path(b, &p("ghost"), b, &p("target")),
        ErrorKind::NotFound,
        "copy_path missing",
    );
    assert!(!b.contains("target").expect("exists"));
    Ok(())
}

/// [`move_path`] within one backend moves.
pub fn move_path_within_backend(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    need(caps(b).delete, "Capabilities::delete")?;
    put(b, "mv/src", b"data");
    move_path(b, &p("mv/src"), b, &p("mv/dst")).expect("move_path");
    assert!(!b.contains("mv/src").expect("exists"));
    assert_eq!(get(b, "mv/dst"), b"data");
    Ok(())
}

/// [`move_path`] of an object onto itself keeps it (it is never deleted).
pub fn move_path_onto_itself_keeps_data(b: &dyn Backend) -> Outcome {
    need_rw(b)?;
    put(b, "self", b"precious");
    move_path(b, &p("self"), b, &p("self")).expect("move onto itself");
    assert_eq!(get(b, "self"), b"precious");
    Ok(())
}
