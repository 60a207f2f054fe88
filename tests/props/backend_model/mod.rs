//! A random sequence of operations run on a `MemoryBackend` and on a `FileBackend` (in a fresh
//! temporary directory), each compared with a `BTreeMap` model after every operation.
//!
//! # Input
//!
//! A sequence of operations, each an opcode byte followed by its argument bytes; an argument
//! past the end of the input reads as 0. At most [`MAX_OPS`] operations run, so every run is
//! cheap. The opcodes are listed in [`step`].
//!
//! # Paths
//!
//! The file backend cannot hold an object `a` and an object `a/b` at once, so paths come from
//! a fixed structure in which directory names and object names are disjoint: `file`,
//! `dir/file` or `dir/dir/file`. The names are chosen so that byte order matters:
//! `d-x/…` < `d.x/…` < `d/…`, `A` < `a` < `a b` < `a%20` < `a-b` < `a.b`, and the
//! multi-byte `é` and `日` sort last.
//!
//! # What counts as a failure
//!
//! Every error from either backend, except those the model predicts (`NotFound` for what is
//! missing, `AlreadyExists` for `CreateNew` onto an object, and what reading, deleting or
//! describing a directory or the root answers), and every difference from the model: the
//! listing (paths, order, sizes, modification times given at write time), contents, ranges,
//! `exists`, `stat`, the entries returned by `finish`, `copy_path` and `move_path`, and at the
//! end the files and directories on disk (no staged file may be left behind).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use omnistorage::conformance::TempDir;
use omnistorage::{
    Backend, BackendExt, Entry, Error, ErrorKind, FileBackend, ListOptions, MemoryBackend, Path,
    ReadOptions, Result, WriteMode, WriteOptions, Writer, copy_path, move_path,
};

/// Directory names. Never used as object names.
const DIRS: [&str; 4] = ["d", "d.x", "d-x", "é"];
/// Object names. Never used as directory names.
const FILES: [&str; 7] = ["a", "a b", "a.b", "a-b", "A", "a%20", "日"];
/// The most operations one input runs.
const MAX_OPS: usize = 64;
/// The most writers left open at once.
const MAX_PENDING: usize = 3;

mod checks;
mod input;
mod model;
mod ops;
mod writes;

use checks::*;
use input::*;
use model::*;
use ops::*;
use writes::*;

/// Checks the property on one input; panics if it fails.
pub fn check(data: &[u8]) {
    let dir = TempDir::new().expect("a temporary directory");
    // A root that does not exist yet: the first write creates it.
    let file = FileBackend::new(dir.path().join("store")).expect("a file backend");
    let subjects = [
        Subject {
            name: "memory",
            backend: Box::new(MemoryBackend::new()),
            has_dirs: false,
        },
        Subject {
            name: "file",
            backend: Box::new(file.clone()),
            has_dirs: true,
        },
    ];
    let mut run = Run {
        subjects,
        model: Model::default(),
        pending: Vec::new(),
        log: Log::default(),
    };
    let mut input = Input { data, pos: 0 };
    while run.log.steps < MAX_OPS {
        let Some(op) = input.next() else { break };
        run.log.steps += 1;
        step(&mut run, op, &mut input);
        run.check_listings();
    }
    run.finish(&file);
}
