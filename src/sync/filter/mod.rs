//! rclone's filter rules: which objects a sync looks at, and which directories it walks.
//!
//! A [`Filter`] is built once by a [`FilterBuilder`] from rclone-style rules, sizes and
//! ages, then queried for every listed object ([`Filter::include_file`]) and directory
//! ([`Filter::include_dir`]). It follows rclone (`fs/filter`):
//!
//! - **Patterns**: `*` matches any run of characters without `/`, `**` any run with `/`,
//!   `?` one character other than `/`, `[abc]`, `[a-z]`, `[[:alpha:]]` one of a set and
//!   `[!abc]` (or `[^abc]`) one not in it; `{a,b}` one of the alternatives (they may nest);
//!   `\` makes the next character literal. `***`, an unmatched `[`, `]`, `{` or `}` are
//!   errors.
//! - **Anchoring**: a leading `/` anchors a pattern at the transfer root (`/a.txt` matches
//!   `a.txt` only); otherwise it matches the end of the path on a segment boundary
//!   (`file.jpg` matches `dir/file.jpg`, not `afile.jpg`).
//! - **Order**: one list, the first rule that matches decides, no match includes. Rules are
//!   taken from `--include`, `--include-from`, `--exclude`, `--exclude-from`, `--filter`,
//!   `--filter-from` in that order (repeated calls in call order), whatever order the builder
//!   methods are called in. Any include adds a final `- /**` (exclude the rest); `--filter
//!   "+ x"` does not. In filter texts, `+ glob` includes, `- glob` excludes, `!` clears the
//!   rules so far; in every text, blank lines and lines starting with `#` or `;` are skipped
//!   and lines are trimmed.
//! - **Directories**: a rule ending in `/` is a directory rule: it decides only whether a
//!   directory is walked. Excluding `dir/` also excludes every file under it (it becomes
//!   `dir/**`); rules with `**` are file and directory rules; include rules imply directory
//!   rules (`+ /a/b/*.jpg` implies `+ /a/b/` and `+ /a/`), and so does `- *`.
//! - **Files from**: a list of paths (leading and trailing `/` removed) replaces every other
//!   filter; it cannot be combined with rules, sizes or ages. Its directories are those on
//!   the way to a listed path.
//! - **Sizes and ages**: `min_size`/`max_size` bound the size (both ends included);
//!   `min_age` keeps files at least that old, `max_age` files at most that old, measured
//!   from [`FilterBuilder::now`]. They apply to files, not directories.
//!
//! ```
//! use omnistorage::sync::filter::Filter;
//!
//! let rules = "\
//! ## photos only, but never the thumbnails (a comment)
//! - thumbs/
//! + *.{jpg,png}
//! - *
//! ";
//! let filter = Filter::builder()
//!     .filter_from(rules, "photos.rules")
//!     .min_size(1024)
//!     .build()?;
//!
//! assert!(filter.include_file("2024/beach.jpg", 50_000, None));
//! assert!(filter.include_file("logo.png", 2048, None));
//! assert!(!filter.include_file("2024/notes.txt", 50_000, None));
//! assert!(!filter.include_file("2024/thumbs/beach.jpg", 50_000, None));
//! assert!(!filter.include_file("tiny.jpg", 100, None)); // under min_size
//! assert!(filter.include_dir("2024"));
//! assert!(!filter.include_dir("2024/thumbs")); // never walked
//!
//! // An invalid rule names its source and line.
//! let err = Filter::builder().filter_from("+ *.jpg\n- a[b\n", "bad.rules").build().unwrap_err();
//! assert_eq!(err.kind(), omnistorage::ErrorKind::InvalidInput);
//! assert!(err.to_string().contains("bad.rules line 2"), "{err}");
//! # Ok::<(), omnistorage::Error>(())
//! ```
//!
//! # Differences from rclone
//!
//! Patterns are translated to the `glob` crate's, one per path segment, and the segments
//! matched by a small automaton (time linear in the path); what differs from rclone (whose
//! globs become Go regular expressions):
//!
//! - `{{regexp}}` sections are not supported: `{{` is an error.
//! - `\` always makes the next character literal; rclone hands `\d`, `\w`, ... to Go's
//!   regexp as character classes.
//! - A bracket expression never matches `/` (rclone's `[^a]` does); `[!...]` negates (in
//!   rclone's regexp it is a set containing `!`); POSIX classes are ASCII only.
//! - [`FilterBuilder::ignore_case`] folds ASCII letters only (rclone folds Unicode).
//! - A pattern expanding (braces, and `**` inside a path segment, which is read two ways) to
//!   more than 1024 alternatives, or with more than 127 path components, is an error.
//! - `**` between slashes (`a/**/b`) needs at least one directory there, as in rclone;
//!   directory and file names are taken as never empty, so `a//b` is not considered.
//! - The directory rules implied by an include are cut only at real `/` and `**` (rclone
//!   also cuts at escaped ones and inside `[...]`, where it fails or prunes too much); when
//!   one does not compile, the include implies `/**` (every directory is walked).
//! - With an age limit set, an object whose modification time is unknown is excluded.
//! - Not supported: `--files-from-raw`, `--exclude-if-present`, `--hash-filter`, metadata
//!   filters, absolute times for ages, `off` for sizes and ages (leave the limit unset).

mod glob;
mod implied;
mod matcher;
mod rules;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ::glob::MatchOptions;

use crate::{Error, ErrorKind, Result};
use rules::{RuleSet, lines};

/// A compiled set of filter rules; see the [module docs](self) for the rules.
///
/// Cheap to clone (shared) and to query: patterns are compiled once, at
/// [`FilterBuilder::build`], and queries do not allocate (except
/// [`include_dir`](Filter::include_dir), once per call, when directory rules exist).
#[derive(Clone)]
pub struct Filter {
    inner: Arc<Inner>,
}

struct Inner {
    rules: RuleSet,
    options: MatchOptions,
    files_from: Option<FilesFrom>,
    min_size: Option<u64>,
    max_size: Option<u64>,
    /// Files modified after this are excluded (`min_age`); `None` inside: all are.
    not_after: Option<Option<SystemTime>>,
    /// Files modified before this are excluded (`max_age`).
    not_before: Option<SystemTime>,
    /// Objects deeper than this many levels are excluded (`max_depth`).
    max_depth: Option<usize>,
}

#[derive(Debug)]
struct FilesFrom {
    /// Sorted, without duplicates.
    files: Vec<String>,
    /// Every directory on the way to a file, sorted, without duplicates.
    dirs: Vec<String>,
}

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("Filter")
            .field("rules", &inner.rules)
            .field("ignore_case", &!inner.options.case_sensitive)
            .field(
                "files_from",
                &inner.files_from.as_ref().map(|f| f.files.len()),
            )
            .field("min_size", &inner.min_size)
            .field("max_size", &inner.max_size)
            .field("not_after", &inner.not_after)
            .field("not_before", &inner.not_before)
            .field("max_depth", &inner.max_depth)
            .finish()
    }
}

impl Filter {
    /// A builder with no rules: what it builds includes everything.
    pub fn builder() -> FilterBuilder {
        FilterBuilder::default()
    }

    /// Whether an object at `path` (relative to the transfer root, no leading `/`, segments
    /// separated by `/`) with this size and modification time takes part.
    pub fn include_file(&self, path: &str, size: u64, modified: Option<SystemTime>) -> bool {
        let inner = &*self.inner;
        if inner.max_depth.is_some_and(|max| depth(path) > max) {
            return false;
        }
        if let Some(list) = &inner.files_from {
            return contains(&list.files, path);
        }
        if inner.min_size.is_some_and(|min| size < min)
            || inner.max_size.is_some_and(|max| size > max)
        {
            return false;
        }
        if inner.not_after.is_some() || inner.not_before.is_some() {
            let Some(modified) = modified else {
                return false;
            };
            match inner.not_after {
                Some(None) => return false,
                Some(Some(limit)) if modified > limit => return false,
                _ => {}
            }
            if inner.not_before.is_some_and(|limit| modified < limit) {
                return false;
            }
        }
        inner.rules.files.include(path, inner.options)
    }

    /// Whether the directory at `path` (relative, no trailing `/`) may be descended into:
    /// false only when rclone would prune it (directory rules, and those implied by file
    /// rules). The root (`""`) always may.
    pub fn include_dir(&self, path: &str) -> bool {
        let inner = &*self.inner;
        let path = path.trim_matches('/');
        if path.is_empty() {
            return true;
        }
        if inner.max_depth.is_some_and(|max| depth(path) > max) {
            return false;
        }
        if let Some(list) = &inner.files_from {
            return contains(&list.dirs, path);
        }
        if inner.rules.dirs.is_empty() {
            return true;
        }
        // rclone matches directory rules against the path with a trailing '/'.
        let mut with_slash = String::with_capacity(path.len() + 1);
        with_slash.push_str(path);
        with_slash.push('/');
        inner.rules.dirs.include(&with_slash, inner.options)
    }

    /// True when no rule, size, age or files-from is set (every object is included).
    pub fn is_empty(&self) -> bool {
        let inner = &*self.inner;
        inner.rules.files.is_empty()
            && inner.rules.dirs.is_empty()
            && inner.files_from.is_none()
            && inner.min_size.is_none()
            && inner.max_size.is_none()
            && inner.not_after.is_none()
            && inner.not_before.is_none()
            && inner.max_depth.is_none()
    }

    /// Whether some directory may be pruned ([`include_dir`](Filter::include_dir) can answer
    /// false), so that walking directory by directory can pay off: true with a files-from
    /// list, or directory rules other than a first one that includes everything.
    pub fn prunes_dirs(&self) -> bool {
        let inner = &*self.inner;
        inner.files_from.is_some()
            || inner.max_depth.is_some()
            || !(inner.rules.dirs.is_empty() || inner.rules.dirs.first_includes_all())
    }

    /// The files-from list, sorted and without duplicates, if one was given.
    pub fn files_from_list(&self) -> Option<&[String]> {
        self.inner.files_from.as_ref().map(|f| f.files.as_slice())
    }
}

/// How many levels down `path` is: `a` is 1, `a/b` 2.
fn depth(path: &str) -> usize {
    path.trim_matches('/').split('/').count()
}

fn contains(sorted: &[String], path: &str) -> bool {
    sorted
        .binary_search_by(|item| item.as_str().cmp(path))
        .is_ok()
}

/// Builds a [`Filter`]; from [`Filter::builder`]. Nothing is parsed until
/// [`build`](FilterBuilder::build), which reports the first invalid rule.
#[derive(Clone, Debug, Default)]
pub struct FilterBuilder {
    include: Vec<String>,
    include_from: Vec<(String, String)>,
    exclude: Vec<String>,
    exclude_from: Vec<(String, String)>,
    filter: Vec<String>,
    filter_from: Vec<(String, String)>,
    files_from: Vec<(String, String)>,
    min_size: Option<u64>,
    max_size: Option<u64>,
    min_age: Option<Duration>,
    max_age: Option<Duration>,
    now: Option<SystemTime>,
    ignore_case: bool,
    max_depth: Option<usize>,
}

impl FilterBuilder {
    /// `--include pattern`: include what matches. Any include also excludes, after all other
    /// rules, everything not included (`- /**`).
    pub fn include(mut self, pattern: &str) -> Self {
        self.include.push(pattern.to_owned());
        self
    }

    /// `--exclude pattern`: exclude what matches.
    pub fn exclude(mut self, pattern: &str) -> Self {
        self.exclude.push(pattern.to_owned());
        self
    }

    /// `--filter rule`: `+ pattern` includes, `- pattern` excludes, `!` clears the rules so
    /// far (those of earlier sources too).
    pub fn filter(mut self, rule: &str) -> Self {
        self.filter.push(rule.to_owned());
        self
    }

    /// `--include-from`: one include pattern per line of `text`; `source` names it in errors.
    pub fn include_from(mut self, text: &str, source: &str) -> Self {
        self.include_from.push((text.to_owned(), source.to_owned()));
        self
    }

    /// `--exclude-from`: one exclude pattern per line of `text`.
    pub fn exclude_from(mut self, text: &str, source: &str) -> Self {
        self.exclude_from.push((text.to_owned(), source.to_owned()));
        self
    }

    /// `--filter-from`: one `+ pattern`, `- pattern` or `!` per line of `text`.
    pub fn filter_from(mut self, text: &str, source: &str) -> Self {
        self.filter_from.push((text.to_owned(), source.to_owned()));
        self
    }

    /// `--files-from`: one path per line of `text`; only these files take part. Cannot be
    /// combined with rules, sizes or ages ([`build`](FilterBuilder::build) fails).
    pub fn files_from(mut self, text: &str, source: &str) -> Self {
        self.files_from.push((text.to_owned(), source.to_owned()));
        self
    }

    /// `--min-size`: only files of at least this many bytes. Default: no limit.
    pub fn min_size(mut self, bytes: u64) -> Self {
        self.min_size = Some(bytes);
        self
    }

    /// `--max-size`: only files of at most this many bytes. Default: no limit.
    pub fn max_size(mut self, bytes: u64) -> Self {
        self.max_size = Some(bytes);
        self
    }

    /// `--min-age`: only files modified at least this long before [`now`](Self::now).
    pub fn min_age(mut self, age: Duration) -> Self {
        self.min_age = Some(age);
        self
    }

    /// `--max-age`: only files modified at most this long before [`now`](Self::now).
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }

    /// `--max-depth N`: only objects at most `N` levels down take part (`1`: the root's
    /// own objects), and no directory deeper than that is descended into; `0` is no limit,
    /// as rclone's. Like any filter, what it leaves out is not deleted by a sync unless
    /// [`delete_excluded`](crate::sync::Options::delete_excluded) says so.
    ///
    /// ```
    /// use omnistorage::sync::filter::Filter;
    ///
    /// let f = Filter::builder().max_depth(2).build()?;
    /// assert!(f.include_file("a/b", 1, None));
    /// assert!(!f.include_file("a/b/c", 1, None));
    /// assert!(f.include_dir("a/b") && !f.include_dir("a/b/c"));
    /// # Ok::<(), omnistorage::Error>(())
    /// ```
    pub fn max_depth(mut self, levels: usize) -> Self {
        self.max_depth = (levels > 0).then_some(levels);
        self
    }

    /// The time ages are measured from. Default: the time of [`build`](Self::build).
    pub fn now(mut self, now: SystemTime) -> Self {
        self.now = Some(now);
        self
    }

    /// `--ignore-case`: patterns match ASCII letters of either case. Default: off.
    pub fn ignore_case(mut self, on: bool) -> Self {
        self.ignore_case = on;
        self
    }

    /// Parses and compiles everything. Fails with [`ErrorKind::InvalidInput`] naming the first
    /// invalid rule (and its source and line for texts), when `min_age` is larger than
    /// `max_age`, or when files-from is combined with other filters.
    pub fn build(self) -> Result<Filter> {
        let mut rules = RuleSet::default();
        let mut any_include = false;
        for pattern in &self.include {
            rules
                .add(true, pattern)
                .map_err(|e| invalid("--include", pattern, None, &e))?;
            any_include = true;
        }
        for (text, source) in &self.include_from {
            for (n, line) in lines(text) {
                rules
                    .add(true, line)
                    .map_err(|e| invalid("include pattern", line, Some((source, n)), &e))?;
            }
            any_include = true;
        }
        for pattern in &self.exclude {
            rules
                .add(false, pattern)
                .map_err(|e| invalid("--exclude", pattern, None, &e))?;
        }
        for (text, source) in &self.exclude_from {
            for (n, line) in lines(text) {
                rules
                    .add(false, line)
                    .map_err(|e| invalid("exclude pattern", line, Some((source, n)), &e))?;
            }
        }
        for rule in &self.filter {
            rules
                .add_rule(rule)
                .map_err(|e| invalid("--filter", rule, None, &e))?;
        }
        for (text, source) in &self.filter_from {
            for (n, line) in lines(text) {
                rules
                    .add_rule(line)
                    .map_err(|e| invalid("filter rule", line, Some((source, n)), &e))?;
            }
        }
        if any_include {
            rules
                .add(false, "/**")
                .map_err(|e| invalid("implied rule", "- /**", None, &e))?;
        }

        let now = self.now.unwrap_or_else(SystemTime::now);
        if let (Some(min), Some(max)) = (self.min_age, self.max_age)
            && min > max
        {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("filter: min_age {min:?} is larger than max_age {max:?}: nothing passes"),
            ));
        }
        let not_after = self.min_age.map(|age| now.checked_sub(age));
        let not_before = self.max_age.and_then(|age| now.checked_sub(age));

        let files_from = if self.files_from.is_empty() {
            None
        } else {
            let others = !(rules.files.is_empty() && rules.dirs.is_empty())
                || self.min_size.is_some()
                || self.max_size.is_some()
                || not_after.is_some()
                || self.max_age.is_some();
            if others {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    "filter: files_from replaces all other filters and cannot be combined with \
                     rules, sizes or ages",
                ));
            }
            Some(files_from(&self.files_from))
        };

        Ok(Filter {
            inner: Arc::new(Inner {
                rules,
                options: MatchOptions {
                    case_sensitive: !self.ignore_case,
                    // Matched one segment at a time: there is no '/' to keep `*` from (and on
                    // Windows, `glob` would take a '\\' in a name for one).
                    require_literal_separator: false,
                    require_literal_leading_dot: false,
                },
                files_from,
                min_size: self.min_size,
                max_size: self.max_size,
                not_after,
                not_before,
                max_depth: self.max_depth,
            }),
        })
    }
}

/// The files and their directories from files-from texts.
fn files_from(texts: &[(String, String)]) -> FilesFrom {
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for (text, _source) in texts {
        for (_, line) in lines(text) {
            let path = line.trim_matches('/');
            if path.is_empty() {
                continue;
            }
            files.push(path.to_owned());
            dirs.extend(path.match_indices('/').map(|(i, _)| path[..i].to_owned()));
        }
    }
    files.sort_unstable();
    files.dedup();
    dirs.sort_unstable();
    dirs.dedup();
    FilesFrom { files, dirs }
}

/// The error for an invalid rule: `what "rule" (source line n): why`.
fn invalid(what: &str, rule: &str, at: Option<(&String, usize)>, why: &str) -> Error {
    let at = at.map_or_else(String::new, |(source, n)| format!(" ({source} line {n})"));
    Error::new(
        ErrorKind::InvalidInput,
        format!("filter: {what} {rule:?}{at}: {why}"),
    )
}
