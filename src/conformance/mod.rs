//! The shared conformance suite: one function per contract of [`Backend`], for every backend.
//!
//! Each case takes a `&dyn Backend` that starts **empty** and panics (as a test does) when the
//! backend breaks a contract, and returns an [`Outcome`]: `Ok(())` when it ran, or
//! [`Skipped`] with the reason (`needs Capabilities::stat`). Cases read [`Capabilities`]
//! first and skip what a backend says it cannot do; [`capabilities_tell_the_truth`] checks
//! that all of that answers [`ErrorKind::Unsupported`]. The few cases that need a second
//! backend on the same store ([`copy_from_sibling`], [`rename_from_sibling`]) take the whole
//! [`Fixture`] and skip when it has no [sibling](Fixture::with_sibling).
//!
//! A backend of the six required methods of [`Backend`] (with the capabilities it has set)
//! passes the suite; the cases of what it lacks skip, `close`'s among them until it
//! implements [`close`](crate::Backend::close) and sets [`Capabilities::close`]. Skipped
//! cases are never reported as passed in silence: the tests of
//! [`conformance_tests!`](crate::conformance_tests) print `conformance case NAME skipped:
//! REASON` (`cargo test` shows it; nextest with `--success-output final`), and [`run`]
//! counts them.
//!
//! Backends of live streams ([`Capabilities::streams`]) differ in three documented ways, and
//! the few cases they touch check the streaming behaviour instead: a reader of a path not yet
//! written waits for its writer (no `NotFound` to check without blocking), a second writer of
//! a path is refused when it opens, and with [`StreamDelivery::Consume`] what was written
//! cannot be read back without a reader, so the read-back cases skip.
//!
//! Run the whole suite as one named `#[test]` per case with
//! [`conformance_tests!`](crate::conformance_tests), giving it an expression that makes a
//! fresh [`Fixture`] for each case:
//!
//! ```
//! mod memory {
//!     use omnistorage::{conformance::Fixture, MemoryBackend};
//!     omnistorage::conformance_tests!(|| Fixture::new(MemoryBackend::new()));
//! }
//! ```
//!
//! Or run them in a loop through [`CASES`], or one by one on a backend:
//!
//! ```
//! use omnistorage::conformance::{self, Fixture};
//! use omnistorage::MemoryBackend;
//!
//! for (name, case) in conformance::CASES {
//!     if let Err(skipped) = case(&Fixture::new(MemoryBackend::new())) {
//!         println!("{name} {skipped}"); // stored_hash_equals_computed skipped: needs ...
//!     }
//! }
//! conformance::list_one_level(&MemoryBackend::new())?;
//! // All of them, counted:
//! let report = conformance::run(|| Fixture::new(MemoryBackend::new()));
//! println!("{report}"); // 83 cases: 79 passed, 4 skipped, then why, one line each
//! # Ok::<(), conformance::Skipped>(())
//! ```
//!
//! This module is behind the `conformance` feature. Its files, one contract each: `write`,
//! `read`, `delete`, `list`, `list_options`, `names`, `metadata`, `hash`, `server_side`,
//! `directories`, `copy_helpers`, `lifecycle`; `support` holds what they share.
//!
//! [`Backend`]: crate::Backend
//! [`Capabilities`]: crate::Capabilities
//! [`Capabilities::streams`]: crate::Capabilities::streams
//! [`Capabilities::close`]: crate::Capabilities::close
//! [`ErrorKind::Unsupported`]: crate::ErrorKind::Unsupported
//! [`StreamDelivery::Consume`]: crate::StreamDelivery::Consume

mod copy_helpers;
mod delete;
mod directories;
mod fixture;
mod hash;
mod lifecycle;
mod list;
mod list_options;
mod metadata;
mod names;
mod outcome;
mod read;
mod server_side;
mod support;
mod write;

pub use copy_helpers::*;
pub use delete::*;
pub use directories::*;
pub use fixture::{Fixture, TempDir};
pub use hash::*;
pub use lifecycle::*;
pub use list::*;
pub use list_options::*;
pub use metadata::*;
pub use names::*;
pub use outcome::{Outcome, Skipped};
pub use read::*;
pub use server_side::*;
pub use write::*;

/// Expands to one `#[test]` per conformance case. The argument is an expression that makes a
/// fresh [`Fixture`] each time it is called (a closure or a function name).
///
/// ```
/// use omnistorage::conformance::{Fixture, TempDir};
/// use omnistorage::FileBackend;
///
/// fn fixture() -> Fixture {
///     let dir = TempDir::new().expect("temp dir");
///     let backend = FileBackend::new(dir.path()).expect("backend");
///     Fixture::new(backend).with_guard(dir)
/// }
///
/// omnistorage::conformance_tests!(fixture);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($setup:expr) => {
        $crate::__conformance_for_each!(__conformance_test_fns($setup));
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_test_fns {
    ($setup:expr; backend: [$($case:ident,)*] fixture: [$($fcase:ident,)*]) => {
        $(
            #[test]
            fn $case() {
                $crate::conformance::__test(stringify!($case), ($setup)(), |f| {
                    $crate::conformance::$case(f.backend())
                });
            }
        )*
        $(
            #[test]
            fn $fcase() {
                $crate::conformance::__test(
                    stringify!($fcase),
                    ($setup)(),
                    $crate::conformance::$fcase,
                );
            }
        )*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases_table {
    (; backend: [$($case:ident,)*] fixture: [$($fcase:ident,)*]) => {
        /// Every case, by name: the ones on one backend in the order they are listed, then the
        /// ones that need the whole fixture.
        pub const CASES: &[(&str, fn(&Fixture) -> Outcome)] = &[
            $((stringify!($case), |f: &Fixture| $case(f.backend())),)*
            $((stringify!($fcase), $fcase),)*
        ];
    };
}

/// Runs `case` on `fixture` unless the fixture skips it.
fn run_case(name: &str, fixture: &Fixture, case: fn(&Fixture) -> Outcome) -> Outcome {
    if let Some(reason) = fixture.skip_reason(name) {
        return Err(Skipped::new(reason));
    }
    case(fixture)
}

/// The test [`conformance_tests!`](crate::conformance_tests) makes of a case: runs it, and
/// when it is skipped says so where the test runner shows it, as
/// `conformance case NAME skipped: needs Capabilities::list`. That line goes to the process's
/// standard error itself, which `cargo test` does not capture (nextest keeps a passing
/// test's output, and shows it with `--success-output final`).
#[doc(hidden)]
pub fn __test(name: &str, fixture: Fixture, case: fn(&Fixture) -> Outcome) {
    if let Err(skipped) = run_case(name, &fixture, case) {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "conformance case {name} {skipped}");
    }
}

/// Runs every case, each on a fresh fixture from `setup`, and reports which ran and which
/// were skipped (and why). A case that finds a broken contract panics, as in a test.
///
/// ```
/// use omnistorage::conformance::{self, Fixture};
/// use omnistorage::MemoryBackend;
///
/// let report = conformance::run(|| Fixture::new(MemoryBackend::new()));
/// assert_eq!(report.passed().len(), conformance::CASES.len() - report.skipped().len());
/// // The memory backend stores no hashes and has no space to report, and no sibling
/// // store was given:
/// let skipped: Vec<&str> = report.skipped().iter().map(|(name, _)| *name).collect();
/// assert_eq!(
///     skipped,
///     [
///         "stored_hash_equals_computed",
///         "usage_adds_up",
///         "copy_from_sibling",
///         "rename_from_sibling"
///     ]
/// );
/// println!("{report}"); // "N cases: M passed, 4 skipped", then one line per skipped case
/// ```
pub fn run(setup: impl Fn() -> Fixture) -> Report {
    let mut report = Report::default();
    for (name, case) in CASES {
        match run_case(name, &setup(), *case) {
            Ok(()) => report.passed.push(name),
            Err(skipped) => report.skipped.push((name, skipped)),
        }
    }
    report
}

/// What [`run`] found: the cases that ran and passed, and the ones skipped with their
/// reasons. Its `Display` is a summary line (`83 cases: 60 passed, 23 skipped`) and one line
/// per skipped case.
#[derive(Clone, Debug, Default)]
pub struct Report {
    passed: Vec<&'static str>,
    skipped: Vec<(&'static str, Skipped)>,
}

impl Report {
    /// The cases that ran, in the order of [`CASES`].
    pub fn passed(&self) -> &[&'static str] {
        &self.passed
    }

    /// The cases that were skipped, and why, in the order of [`CASES`].
    pub fn skipped(&self) -> &[(&'static str, Skipped)] {
        &self.skipped
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} cases: {} passed, {} skipped",
            self.passed.len() + self.skipped.len(),
            self.passed.len(),
            self.skipped.len()
        )?;
        for (name, skipped) in &self.skipped {
            write!(f, "\n  {name}: {skipped}")?;
        }
        Ok(())
    }
}

/// The one list of cases; [`CASES`] and [`conformance_tests!`](crate::conformance_tests) are
/// generated from it. `backend:` cases take `&dyn Backend`, `fixture:` cases `&Fixture`.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_for_each {
    ($callback:ident ( $($args:tt)* )) => {
        $crate::$callback!($($args)*;
        backend: [
            // write
            roundtrip_empty,
            roundtrip_one_byte,
            roundtrip_multi_mib_in_small_pieces,
            roundtrip_binary_all_byte_values,
            overwrite_replaces_content,
            overwrite_with_shorter_content,
            create_new_on_missing_path,
            create_new_on_existing_path_fails,
            create_new_race_has_one_winner,
            abort_leaves_nothing,
            drop_without_finish_leaves_nothing,
            abort_keeps_old_object,
            drop_keeps_old_object,
            nothing_visible_before_finish,
            finish_returns_entry,
            // read
            missing_object_is_not_found,
            missing_object_is_io_not_found,
            reader_reports_its_size,
            reader_works_with_tiny_reads,
            root_is_not_an_object,
            range_read_middle,
            range_read_open_ended,
            range_read_past_end_is_cut,
            range_read_starting_past_end_is_empty,
            // delete
            delete_removes_object,
            delete_missing_is_ok,
            delete_many_answers_each_path,
            remove_all_removes_the_prefix,
            remove_empty_dirs_leaves_the_full_ones,
            exists_reports_objects_only,
            // list
            list_root_lists_everything,
            list_prefix_matches_by_segment,
            list_prefix_naming_an_object,
            list_missing_prefix_is_empty,
            list_is_in_byte_order,
            list_nested_names_sort_by_full_path,
            list_reports_sizes,
            list_many_objects,
            // list_options
            list_start_after_is_strict,
            list_start_after_resumes,
            list_start_after_under_a_prefix,
            list_one_level,
            list_one_level_prefix_itself_and_missing,
            list_one_level_start_after,
            list_cancelled_ends_with_one_error,
            // names
            names_with_spaces,
            names_with_percent,
            names_with_hash_and_query_characters,
            names_with_unicode,
            names_with_punctuation,
            deep_paths,
            // metadata
            stat_agrees_with_list,
            stat_missing_is_not_found,
            entries_say_what_they_filled,
            version_tags_move_with_the_content,
            modified_time_is_kept,
            metadata_is_kept,
            set_modified_changes_only_the_time,
            set_modified_missing_is_not_found,
            // hash
            hash_equals_hasher_over_the_bytes,
            stored_hash_equals_computed,
            hash_missing_is_not_found,
            // server_side
            server_side_copy,
            server_side_copy_returns_the_new_entry,
            server_side_copy_missing_source,
            server_side_copy_onto_itself,
            server_side_rename,
            server_side_rename_returns_the_new_entry,
            server_side_rename_missing_source,
            server_side_rename_onto_itself,
            // directories
            directories,
            // copy_helpers
            copy_path_within_backend,
            copy_path_onto_itself_keeps_data,
            copy_path_missing_source_creates_nothing,
            move_path_within_backend,
            move_path_onto_itself_keeps_data,
            // lifecycle
            concurrent_writers_on_distinct_paths,
            capabilities_tell_the_truth,
            usage_adds_up,
            close_then_use_is_closed,
            finish_after_close_fails,
        ]
        fixture: [
            copy_from_sibling,
            rename_from_sibling,
        ]);
    };
}

crate::__conformance_for_each!(__conformance_cases_table());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_names_are_unique() {
        let mut names: Vec<&str> = CASES.iter().map(|(name, _)| *name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before);
    }

    #[test]
    fn a_skip_names_a_case() {
        let fixture = Fixture::new(crate::MemoryBackend::new()).skip("list_one_level", "why");
        assert_eq!(fixture.skip_reason("list_one_level"), Some("why"));
        assert_eq!(fixture.skip_reason("list_many_objects"), None);
        let typo = std::panic::catch_unwind(|| {
            Fixture::new(crate::MemoryBackend::new()).skip("no_such_case", "why")
        });
        assert!(typo.is_err());
    }
}
