//! Writes: whole, discarded, and writers left open across operations.

use super::*;

pub(super) fn write_mode(flags: u8) -> WriteMode {
    if flags & 1 == 1 {
        WriteMode::CreateNew
    } else {
        WriteMode::Overwrite
    }
}

pub(super) fn write_options(mode: WriteMode, modified: Option<SystemTime>) -> WriteOptions {
    let mut opts = WriteOptions::new().mode(mode);
    opts.modified = modified;
    opts
}

/// Opens a writer on every subject. `None` for a subject that refused with `AlreadyExists`,
/// which the contract allows when `conflict` (a `CreateNew` onto an object).
pub(super) fn open_writers(
    run: &Run,
    p: &Path,
    opts: &WriteOptions,
    conflict: bool,
) -> Vec<Option<Writer>> {
    run.subjects
        .iter()
        .map(|s| {
            let want = if conflict { ALREADY_EXISTS } else { Want::Ok };
            match s.backend.writer(p, opts) {
                Err(e) if conflict && e.kind() == ErrorKind::AlreadyExists => None,
                got => outcome(&run.log, s.name, "writer", got.map(Some), want).flatten(),
            }
        })
        .collect()
}

pub(super) fn write(
    run: &mut Run,
    p: Path,
    mode: WriteMode,
    data: Vec<u8>,
    modified: Option<SystemTime>,
) {
    run.log
        .op(format_args!("write {p:?} {data:?} {mode:?} {modified:?}"));
    let conflict = mode == WriteMode::CreateNew && run.model.get(&p).is_some();
    let obj = Obj { data, modified };
    let writers = open_writers(run, &p, &write_options(mode, modified), conflict);
    for (s, w) in run.subjects.iter().zip(writers) {
        let Some(mut w) = w else { continue };
        s.write_in_two(&run.log, &mut w, &obj.data, obj.data.len() / 2);
        let want = if conflict { ALREADY_EXISTS } else { Want::Ok };
        if let Some(entry) = outcome(&run.log, s.name, "finish", w.finish(), want) {
            s.check_entry(&run.log, "finish", &entry, p.as_str(), &obj);
        }
    }
    // `writer` makes the parent directories before it looks at the target.
    run.model.made_parents(&p);
    if !conflict {
        run.model.objects.insert(p.to_string(), obj);
    }
    for s in &run.subjects {
        s.check_content(&run.log, &run.model, &p);
    }
}

pub(super) fn write_and_discard(
    run: &mut Run,
    p: Path,
    mode: WriteMode,
    data: Vec<u8>,
    abort: bool,
) {
    let how = if abort { "abort" } else { "drop" };
    run.log
        .op(format_args!("write {p:?} {data:?} {mode:?} then {how}"));
    let conflict = mode == WriteMode::CreateNew && run.model.get(&p).is_some();
    let writers = open_writers(run, &p, &write_options(mode, None), conflict);
    for (s, w) in run.subjects.iter().zip(writers) {
        let Some(mut w) = w else { continue };
        s.write_in_two(&run.log, &mut w, &data, 1);
        if abort {
            outcome(&run.log, s.name, "abort", w.abort(), Want::Ok);
        } else {
            drop(w);
        }
    }
    run.model.made_parents(&p);
    for s in &run.subjects {
        s.check_content(&run.log, &run.model, &p);
    }
}

pub(super) fn open_pending(
    run: &mut Run,
    p: Path,
    mode: WriteMode,
    data: Vec<u8>,
    modified: Option<SystemTime>,
    split: usize,
) {
    run.log.op(format_args!(
        "open writer {p:?} {data:?} {mode:?} {modified:?}, write {split} bytes"
    ));
    if run.pending.len() == MAX_PENDING {
        return;
    }
    let conflict = mode == WriteMode::CreateNew && run.model.get(&p).is_some();
    let writers = open_writers(run, &p, &write_options(mode, modified), conflict);
    run.model.made_parents(&p);
    if conflict {
        // Refused now, or (as the contract allows) on `finish`: drop them either way.
        return;
    }
    let mut writers: Vec<Writer> = writers.into_iter().flatten().collect();
    for (s, w) in run.subjects.iter().zip(&mut writers) {
        s.write_in_two(&run.log, w, &data[..split.min(data.len())], 0);
    }
    run.pending.push(Pending {
        path: p,
        mode,
        obj: Obj { data, modified },
        split,
        writers,
    });
}

pub(super) fn finish_pending(run: &mut Run, which: u8) {
    if run.pending.is_empty() {
        run.log.op(format_args!("finish a writer: none open"));
        return;
    }
    let pending = run.pending.remove(usize::from(which) % run.pending.len());
    let Pending {
        path: p,
        mode,
        obj,
        split,
        writers,
    } = pending;
    run.log.op(format_args!("finish writer {p:?} {mode:?}"));
    let conflict = mode == WriteMode::CreateNew && run.model.get(&p).is_some();
    let rest = &obj.data[split.min(obj.data.len())..];
    for (s, mut w) in run.subjects.iter().zip(writers) {
        s.write_in_two(&run.log, &mut w, rest, rest.len());
        let want = if conflict { ALREADY_EXISTS } else { Want::Ok };
        if let Some(entry) = outcome(&run.log, s.name, "finish", w.finish(), want) {
            s.check_entry(&run.log, "finish", &entry, p.as_str(), &obj);
        }
    }
    if !conflict {
        run.model.objects.insert(p.to_string(), obj);
    }
    for s in &run.subjects {
        s.check_content(&run.log, &run.model, &p);
    }
}

pub(super) fn discard_pending(run: &mut Run, which: u8) {
    if run.pending.is_empty() {
        run.log.op(format_args!("discard a writer: none open"));
        return;
    }
    let pending = run.pending.remove(usize::from(which) % run.pending.len());
    let abort = which.is_multiple_of(2);
    run.log.op(format_args!(
        "{} writer {:?}",
        if abort { "abort" } else { "drop" },
        pending.path
    ));
    for (s, w) in run.subjects.iter().zip(pending.writers) {
        if abort {
            outcome(&run.log, s.name, "abort", w.abort(), Want::Ok);
        } else {
            drop(w);
        }
    }
    for s in &run.subjects {
        s.check_content(&run.log, &run.model, &pending.path);
    }
}
