//! One step: an operation run on both subjects and the model, compared.

use super::*;

/// Runs one operation on both subjects and the model. The opcodes:
///
/// | op % 20 | operation | arguments |
/// | --- | --- | --- |
/// | 0 | write, `Overwrite` | path, data, modified |
/// | 1 | write, `CreateNew` | path, data, modified |
/// | 2 | write, then `abort` | path, data, flags (bit 0: `CreateNew`) |
/// | 3 | write, then drop | path, data, flags |
/// | 4 | open a writer, write part, leave it open | path, data, modified, flags |
/// | 5 | write the rest to an open writer and `finish` | which |
/// | 6 | `abort` (even) or drop (odd) an open writer | which |
/// | 7 | `delete` | any path |
/// | 8 | read whole | any path |
/// | 9 | read a range | any path, offset, length, form |
/// | 10 | `exists` | any path |
/// | 11 | `list` | any path, flags (bits 0-1: how many to take, 0: all; bit 2: one level; bit 3: a start point follows), [start: any path] |
/// | 12 | server-side `copy` (`as_extended`) | from, to |
/// | 13 | server-side `rename` (`as_extended`) | from, to |
/// | 14 | `copy_path` within one backend | from, to |
/// | 15 | `move_path` within one backend | from, to |
/// | 16 | `copy_path` memory → file and file → memory | from, to |
/// | 17 | `move_path` memory → file and file → memory | from, to |
/// | 18 | `stat` (`as_extended`) | any path |
/// | 19 | `info` (`BackendExt`) | any path |
pub(super) fn step(run: &mut Run, op: u8, input: &mut Input<'_>) {
    match op % 20 {
        0 | 1 => {
            let mode = if op.is_multiple_of(20) {
                WriteMode::Overwrite
            } else {
                WriteMode::CreateNew
            };
            let (p, data, modified) = (input.file_path(), input.data(), input.modified());
            write(run, p, mode, data, modified);
        }
        2 | 3 => {
            let (p, data) = (input.file_path(), input.data());
            let mode = write_mode(input.arg());
            write_and_discard(run, p, mode, data, op % 20 == 2);
        }
        4 => {
            let (p, data, modified) = (input.file_path(), input.data(), input.modified());
            let flags = input.arg();
            open_pending(
                run,
                p,
                write_mode(flags),
                data,
                modified,
                usize::from(flags >> 1),
            );
        }
        5 => {
            let which = input.arg();
            finish_pending(run, which);
        }
        6 => {
            let which = input.arg();
            discard_pending(run, which);
        }
        7 => {
            let p = input.any_path();
            delete(run, p);
        }
        8 => {
            let p = input.any_path();
            run.log.op(format_args!("read {p:?}"));
            for s in &run.subjects {
                s.check_content(&run.log, &run.model, &p);
            }
        }
        9 => {
            let p = input.any_path();
            let (offset, length, form) = (input.arg(), input.arg(), input.arg());
            read_range(run, p, offset, length, form);
        }
        10 => {
            let p = input.any_path();
            run.log.op(format_args!("exists {p:?}"));
            let want = run.model.get(&p).is_some();
            for s in &run.subjects {
                let got = outcome(&run.log, s.name, "exists", s.backend.exists(&p), Want::Ok);
                if got != Some(want) {
                    run.log
                        .fail(format!("{}: exists({p:?}) = {got:?}, want {want}", s.name));
                }
            }
        }
        11 => {
            let p = input.any_path();
            let flags = input.arg();
            let take = usize::from(flags % 4);
            let mut opts = ListOptions::new().recursive(flags & 4 == 0);
            if flags & 8 != 0 {
                opts = opts.start_after(input.any_path());
            }
            run.log.op(format_args!("list {p:?} take {take} {opts:?}"));
            for s in &run.subjects {
                check_listing(&run.log, &run.model, s, &p, take, &opts);
            }
        }
        12..=17 => {
            let (from, to) = (input.file_path(), input.file_path());
            transfer(run, op % 20, from, to);
        }
        18 => {
            let p = input.any_path();
            stat(run, p);
        }
        _ => {
            let p = input.any_path();
            info(run, p);
        }
    }
}

pub(super) fn delete(run: &mut Run, p: Path) {
    run.log.op(format_args!("delete {p:?}"));
    for s in &run.subjects {
        let want = if p.is_root() {
            Want::Err(&[ErrorKind::InvalidPath])
        } else {
            Want::Ok
        };
        match s.backend.delete(&p) {
            // "A directory is not deleted": the file backend says so with an error.
            Err(e)
                if s.has_dirs
                    && run.model.dirs.contains(p.as_str())
                    && e.kind() == ErrorKind::IsADirectory => {}
            got => {
                outcome(&run.log, s.name, "delete", got, want);
            }
        }
    }
    run.model.objects.remove(p.as_str());
    for s in &run.subjects {
        s.check_content(&run.log, &run.model, &p);
    }
}

/// Offsets and lengths around the interesting points of an object of `len` bytes.
pub(super) fn pick(b: u8, len: u64) -> u64 {
    match b % 8 {
        0 => 0,
        1 => 1,
        2 => len.saturating_sub(1),
        3 => len,
        4 => len + 1,
        5 => u64::MAX,
        6 => u64::MAX - 1,
        _ => u64::from(b >> 3),
    }
}

pub(super) fn read_range(run: &mut Run, p: Path, offset: u8, length: u8, form: u8) {
    let len = run.model.get(&p).map_or(0, |o| o.data.len() as u64);
    let a = pick(offset, len);
    let b = pick(length >> 1, len);
    // The expected bytes, computed here rather than with `ReadOptions::clamp`.
    let (opts, start, end) = match form % 4 {
        0 => {
            let mut opts = ReadOptions::new();
            opts.offset = a;
            opts.length = (length % 2 == 1).then_some(b);
            let end = opts.length.map_or(len, |l| a.saturating_add(l).min(len));
            (opts, a.min(len), end)
        }
        1 => (ReadOptions::new().range(a..b), a.min(len), b.min(len)),
        2 => (
            ReadOptions::new().range(a..=b),
            a.min(len),
            b.saturating_add(1).min(len),
        ),
        _ => (ReadOptions::new().range(a..), a.min(len), len),
    };
    let end = end.max(start);
    let bytewise = form & 4 != 0;
    run.log.op(format_args!(
        "read {p:?} offset {} length {:?}{}",
        opts.offset,
        opts.length,
        if bytewise { " a byte at a time" } else { "" }
    ));
    for s in &run.subjects {
        let what = format!("read {p:?} with {opts:?}");
        let got = s.backend.reader(&p, &opts);
        let Some(mut reader) = outcome(&run.log, s.name, &what, got, s.want_read(&run.model, &p))
        else {
            continue;
        };
        let want = &run.model.get(&p).expect("read ok").data[start as usize..end as usize];
        if let Some(size) = reader.size()
            && size != want.len() as u64
        {
            run.log.fail(format!(
                "{}: {what}: the reader's size is {size}; want {}",
                s.name,
                want.len()
            ));
        }
        let mut data = Vec::new();
        let read = if bytewise {
            let mut byte = [0u8];
            loop {
                match reader.read(&mut byte) {
                    Ok(0) => break Ok(0),
                    Ok(_) => data.push(byte[0]),
                    Err(e) => break Err(e),
                }
            }
        } else {
            reader.read_to_end(&mut data)
        };
        outcome(&run.log, s.name, &what, read.map_err(Error::from), Want::Ok);
        if data != want {
            run.log.fail(format!(
                "{}: {what} gave {data:?}; want {want:?} (bytes {start}..{end})",
                s.name
            ));
        }
    }
}

/// copy, rename, copy_path and move_path.
pub(super) fn transfer(run: &mut Run, op: u8, from: Path, to: Path) {
    let name = match op {
        12 => "copy",
        13 => "rename",
        14 => "copy_path",
        15 => "move_path",
        16 => "copy_path across",
        _ => "move_path across",
    };
    run.log.op(format_args!("{name} {from:?} -> {to:?}"));
    let source = run.model.get(&from).cloned();
    let want = if source.is_some() {
        Want::Ok
    } else {
        NOT_FOUND
    };
    let moves = op == 13 || op == 15 || op == 17;
    let log = &run.log;
    let [mem, file] = &run.subjects;
    let check = |s: &Subject, got: Result<Entry>| {
        if let Some(entry) = outcome(log, s.name, name, got, want) {
            s.check_entry(
                log,
                name,
                &entry,
                to.as_str(),
                source.as_ref().expect("found"),
            );
        }
    };
    match op {
        12 | 13 => {
            for s in &run.subjects {
                let ext = &s.backend;
                let got = if op == 12 {
                    ext.copy(&from, &to)
                } else {
                    ext.rename(&from, &to)
                };
                outcome(log, s.name, name, got, want);
            }
        }
        14 => {
            for s in &run.subjects {
                check(s, copy_path(&*s.backend, &from, &*s.backend, &to));
            }
        }
        15 => {
            for s in &run.subjects {
                check(s, move_path(&*s.backend, &from, &*s.backend, &to));
            }
        }
        // Both ways, so that both backends end as the model says.
        16 => {
            check(file, copy_path(&*mem.backend, &from, &*file.backend, &to));
            check(mem, copy_path(&*file.backend, &from, &*mem.backend, &to));
        }
        _ if from == to => {
            // Across two stores, moving `x` to `x` is a real move: the two calls would undo
            // each other's source. Move within each store instead (a no-op).
            for s in &run.subjects {
                check(s, move_path(&*s.backend, &from, &*s.backend, &to));
            }
        }
        _ => {
            // Memory's `from` goes to the file's `to`, then the file's `from` (still there,
            // as from != to) to memory's `to`.
            check(file, move_path(&*mem.backend, &from, &*file.backend, &to));
            check(mem, move_path(&*file.backend, &from, &*mem.backend, &to));
        }
    }
    if let Some(obj) = source {
        // Made by the file backend unless from == to, when they are there already.
        run.model.made_parents(&to);
        if moves {
            run.model.objects.remove(from.as_str());
        }
        run.model.objects.insert(to.to_string(), obj);
    }
    for s in &run.subjects {
        s.check_content(&run.log, &run.model, &from);
        s.check_content(&run.log, &run.model, &to);
    }
}

pub(super) fn stat(run: &mut Run, p: Path) {
    run.log.op(format_args!("stat {p:?}"));
    for s in &run.subjects {
        let ext = &s.backend;
        let got = ext.stat(&p);
        if let Some(obj) = run.model.get(&p) {
            let entry = outcome(&run.log, s.name, "stat", got, Want::Ok).expect("Ok");
            s.check_entry(&run.log, "stat", &entry, p.as_str(), obj);
            continue;
        }
        // Not an object: a directory or nothing.
        let is_dir = if s.has_dirs {
            run.model.dirs.contains(p.as_str())
        } else {
            p.is_root() || run.model.has_children(&p)
        };
        let want = if is_dir { Want::Ok } else { NOT_FOUND };
        if let Some(entry) = outcome(&run.log, s.name, "stat", got, want)
            && (!entry.is_dir || entry.path != p || entry.size != 0)
        {
            run.log.fail(format!(
                "{}: stat {p:?} gave {entry:?}; want a directory",
                s.name
            ));
        }
    }
}

pub(super) fn info(run: &mut Run, p: Path) {
    run.log.op(format_args!("info {p:?}"));
    let obj = run.model.get(&p);
    let want = if obj.is_some() { Want::Ok } else { NOT_FOUND };
    for s in &run.subjects {
        if let Some(entry) = outcome(&run.log, s.name, "info", s.backend.info(&p), want) {
            s.check_entry(&run.log, "info", &entry, p.as_str(), obj.expect("found"));
        }
    }
}
