//! The listings after every step, and the files on disk at the end, against the model.

use super::*;

/// Lists `prefix` with `opts` (the first `take` entries, or all if 0) and compares with the
/// model. A file backend may also list the empty directories it made (the model's `dirs`)
/// in a one-level listing; those are set aside before comparing.
pub(super) fn check_listing(
    log: &Log,
    model: &Model,
    s: &Subject,
    prefix: &Path,
    take: usize,
    opts: &ListOptions,
) {
    let what = format!("list {prefix:?} {opts:?}");
    let list = outcome(log, s.name, &what, s.backend.list(prefix, opts), Want::Ok)
        .expect("Want::Ok gives a value");
    let mut want = model.listing(prefix, opts);
    let got: Vec<Entry> = list
        .filter(|e| {
            let empty_dir = |e: &Entry| {
                s.has_dirs
                    && e.is_dir
                    && model.dirs.contains(e.path.as_str())
                    && !model.has_children(&e.path)
            };
            !e.as_ref().is_ok_and(empty_dir)
        })
        .take(if take == 0 { usize::MAX } else { take })
        .collect::<Result<_>>()
        .unwrap_or_else(|e| log.fail(format!("{}: {what}: an entry failed: {e}", s.name)));
    if take != 0 {
        want.truncate(take);
    }
    let key = |path: &str, dir: bool| format!("{path}{}", if dir { "/" } else { "" });
    let got_keys: Vec<String> = got.iter().map(|e| key(e.path.as_str(), e.is_dir)).collect();
    let want_keys: Vec<String> = want.iter().map(|(k, o)| key(k, o.is_none())).collect();
    if got_keys != want_keys {
        log.fail(format!(
            "{}: {what} gave {got_keys:?}; the model has {want_keys:?}",
            s.name
        ));
    }
    for (entry, (k, obj)) in got.iter().zip(&want) {
        if let Some(obj) = obj {
            s.check_entry(log, &what, entry, k, obj);
        }
    }
}

impl Run {
    pub(super) fn check_listings(&self) {
        for s in &self.subjects {
            check_listing(
                &self.log,
                &self.model,
                s,
                &Path::root(),
                0,
                &ListOptions::new(),
            );
        }
    }

    /// Drops the open writers, then compares everything: listings, contents, `stat` against
    /// `list`, and the files and directories on disk.
    pub(super) fn finish(mut self, file: &FileBackend) {
        self.log
            .op(format_args!("drop every open writer and check all"));
        self.pending.clear();
        self.check_listings();
        for s in &self.subjects {
            let listed = s
                .backend
                .list_all(Path::root())
                .unwrap_or_else(|e| self.log.fail(format!("{}: list: {e}", s.name)));
            let ext = &s.backend;
            for entry in listed {
                s.check_content(&self.log, &self.model, &entry.path);
                let stat = outcome(&self.log, s.name, "stat", ext.stat(&entry.path), Want::Ok)
                    .expect("Ok");
                if stat != entry {
                    self.log.fail(format!(
                        "{}: stat gave {stat:?} but list gave {entry:?}",
                        s.name
                    ));
                }
            }
        }

        let (mut files, mut dirs) = (BTreeSet::new(), BTreeSet::new());
        let root = file.root();
        if root.exists() {
            dirs.insert(String::new());
            walk(root, "", &mut files, &mut dirs);
        }
        let want_files: BTreeSet<String> = self.model.objects.keys().cloned().collect();
        if files != want_files || dirs != self.model.dirs {
            self.log.fail(format!(
                "on disk: files {files:?}, directories {dirs:?}; the model has files \
                 {want_files:?}, directories {:?}",
                self.model.dirs
            ));
        }
    }
}

/// Gathers the files and directories under `dir` (`rel` is its path from the root).
pub(super) fn walk(
    dir: &std::path::Path,
    rel: &str,
    files: &mut BTreeSet<String>,
    dirs: &mut BTreeSet<String>,
) {
    for item in std::fs::read_dir(dir).expect("read_dir") {
        let item = item.expect("read_dir entry");
        let name = item.file_name().into_string().expect("UTF-8 names");
        let rel = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if item.file_type().expect("file type").is_dir() {
            walk(&item.path(), &rel, files, dirs);
            dirs.insert(rel);
        } else {
            files.insert(rel);
        }
    }
}
