//! Whole filters: rule order, directory rules, files-from, sizes and ages, errors.

use std::time::{Duration, SystemTime};

use crate::ErrorKind;
use crate::sync::filter::{Filter, FilterBuilder};

fn build(builder: FilterBuilder) -> Filter {
    builder.build().unwrap_or_else(|e| panic!("{e}"))
}

/// rclone's `TestNewFilterMatches` rules: `!` first clears `+ cleared`.
fn matches_filter() -> Filter {
    let mut builder = Filter::builder();
    for rule in [
        "+ cleared",
        "!",
        "- /file1.jpg",
        "+ /file2.png",
        "+ /*.jpg",
        "- /*.png",
        "- /potato",
        "+ /sausage1",
        "+ /sausage2*",
        "+ /sausage3**",
        "+ /a/*.jpg",
        "- *",
    ] {
        builder = builder.filter(rule);
    }
    build(builder)
}

fn file((path, want): (&str, bool)) {
    assert_eq!(
        matches_filter().include_file(path, 100, None),
        want,
        "{path:?}"
    );
}

fn dir((path, want): (&str, bool)) {
    assert_eq!(matches_filter().include_dir(path), want, "{path:?}");
}

cases! { file {
    cleared_by_bang: ("cleared", false),
    anchored_exclude: ("file1.jpg", false),
    anchored_include: ("file2.png", true),
    case_matters: ("FILE2.png", false),
    anchored_not_suffix: ("afile2.png", false),
    star_include: ("file3.jpg", true),
    star_exclude: ("file4.png", false),
    potato: ("potato", false),
    sausage1: ("sausage1", true),
    sausage1_not_below: ("sausage1/potato", false),
    sausage2_prefix: ("sausage2potato", true),
    sausage2_not_below: ("sausage2/potato", false),
    sausage3_below: ("sausage3/potato", true),
    a_jpg: ("a/one.jpg", true),
    a_png: ("a/one.png", false),
    unicorn: ("unicorn", false),
}}

cases! { dir {
    dir_sausage1: ("sausage1", false),
    dir_sausage2: ("sausage2", false),
    dir_sausage2_sub: ("sausage2/sub", false),
    dir_sausage2_sub_dir: ("sausage2/sub/dir", false),
    dir_sausage3: ("sausage3", true),
    dir_sausage3_case: ("SAUSAGE3", false),
    dir_sausage3_sub: ("sausage3/sub", true),
    dir_sausage3_sub_dir: ("sausage3/sub/dir", true),
    dir_sausage4: ("sausage4", false),
    dir_a: ("a", true),
    dir_root: ("", true),
}}

/// rclone's docs table: `+ glob` then `- *`, then `(path, included)`.
fn docs((glob, path, want): (&str, &str, bool)) {
    let filter = build(Filter::builder().filter(&format!("+ {glob}")).filter("- *"));
    assert_eq!(
        filter.include_file(path, 0, None),
        want,
        "{glob:?} {path:?}"
    );
}

cases! { docs {
    docs_name: ("file.jpg", "file.jpg", true),
    docs_name_deep: ("file.jpg", "directory/file.jpg", true),
    docs_name_not_suffix: ("file.jpg", "afile.jpg", false),
    docs_name_not_suffix_deep: ("file.jpg", "directory/afile.jpg", false),
    docs_anchored: ("/file.jpg", "file.jpg", true),
    docs_anchored_not_suffix: ("/file.jpg", "afile.jpg", false),
    docs_anchored_not_deep: ("/file.jpg", "directory/file.jpg", false),
    docs_star: ("*.jpg", "file.jpg", true),
    docs_star_deep: ("*.jpg", "directory/file.jpg", true),
    docs_star_not_dir: ("*.jpg", "file.jpg/anotherfile.png", false),
    docs_dir_all: ("dir/**", "dir/file.jpg", true),
    docs_dir_deep: ("dir/**", "dir/dir1/dir2/file.jpg", true),
    docs_dir_other: ("dir/**", "directory/file.jpg", false),
    docs_dir_prefix: ("dir/**", "adir/file.jpg", false),
    docs_question: ("l?ss", "lass", true),
    docs_class: ("h[ae]llo", "hallo", true),
    docs_class_miss: ("h[ae]llo", "hullo", false),
    docs_braces: ("{one,two}_potato", "two_potato", true),
    docs_escaped_star: (r"\*.jpg", "*.jpg", true),
    docs_escaped_backslash: (r"\\.jpg", r"\.jpg", true),
    docs_escaped_brackets: (r"\[one\].jpg", "[one].jpg", true),
    docs_case: ("potato", "POTATO", false),
}}

/// `(filter rules, directory, whether it is walked)`.
fn dir_rule((rules, path, want): (&[&str], &str, bool)) {
    let filter = build(rules.iter().fold(Filter::builder(), |b, r| b.filter(r)));
    assert_eq!(filter.include_dir(path), want, "{rules:?} {path:?}");
}

cases! { dir_rule {
    exclude_dir_prunes: (&["- potato/"], "potato", false),
    exclude_dir_prunes_deep: (&["- potato/"], "a/potato/b", false),
    exclude_dir_not_prefix: (&["- potato/"], "potatoes", true),
    include_dir_rule: (&["+ potato/", "- **"], "potato", true),
    include_dir_rule_other: (&["+ potato/", "- **"], "other", false),
    exclude_file_keeps_dirs: (&["- potato"], "potato", true),
    exclude_star_prunes_all: (&["- *"], "any", false),
    include_file_implies_parents: (&["+ a/b/c/d", "- **"], "x/a/b", true),
    include_file_implies_parents_top: (&["+ a/b/c/d", "- **"], "a", true),
    include_file_prunes_others: (&["+ /a/b/*.jpg", "- **"], "c", false),
    include_file_prunes_siblings: (&["+ /a/b/*.jpg", "- **"], "a/c", false),
    include_file_keeps_path: (&["+ /a/b/*.jpg", "- **"], "a/b", true),
    include_any_name_keeps_all: (&["+ *.jpg", "- *"], "x/y", true),
    hidden_excluded: (&["- .*{,/**}"], ".git", false),
    hidden_excluded_deep: (&["- .*{,/**}"], "a/.git/objects", false),
}}

/// `(rules, whether a directory can be pruned)`, from rclone's `UsesDirectoryFilters`.
fn prunes((rules, want): (&[&str], bool)) {
    let filter = build(rules.iter().fold(Filter::builder(), |b, r| b.filter(r)));
    assert_eq!(filter.prunes_dirs(), want, "{rules:?} {filter:?}");
}

cases! { prunes {
    prunes_nothing: (&[], false),
    prunes_include_all: (&["+ *"], false),
    prunes_include_ext: (&["+ *.jpg", "- *"], false),
    prunes_exclude_ext: (&["- *.jpg"], false),
    prunes_exclude_then_include: (&["- *.jpg", "+ *"], false),
    prunes_include_in_dir: (&["+ dir/*.jpg", "- *"], true),
    prunes_include_dir_tree: (&["+ dir/**"], true),
    prunes_exclude_dir_tree: (&["- dir/**"], true),
    prunes_exclude_anchored_tree: (&["- /dir/**"], true),
}}

#[test]
fn include_adds_exclude_everything_else() {
    let filter = build(Filter::builder().include("*.jpg"));
    assert!(filter.include_file("a/b.jpg", 0, None));
    assert!(!filter.include_file("a/b.png", 0, None));
}

#[test]
fn filter_include_adds_nothing() {
    let filter = build(Filter::builder().filter("+ *.jpg"));
    assert!(filter.include_file("a/b.png", 0, None));
}

#[test]
fn sources_in_rclone_order_not_call_order() {
    // Exclude is called first, but includes come first: "a.jpg" is included.
    let filter = build(Filter::builder().exclude("*.jpg").include("a.jpg"));
    assert!(filter.include_file("a.jpg", 0, None));
    assert!(!filter.include_file("b.jpg", 0, None));
    // Filter rules come after excludes.
    let filter = build(Filter::builder().filter("+ b.jpg").exclude("*.jpg"));
    assert!(!filter.include_file("b.jpg", 0, None));
}

#[test]
fn bang_clears_earlier_sources() {
    let filter = build(Filter::builder().exclude("*.jpg").filter("!"));
    assert!(filter.include_file("a.jpg", 0, None));
    assert!(filter.is_empty());
}

#[test]
fn from_texts_skip_comments_and_blanks_and_trim() {
    let text = "; comment\n# another\n\n  *.jpg  \n\t*.png\r\n";
    let filter = build(Filter::builder().include_from(text, "list"));
    assert!(filter.include_file("x.png", 0, None));
    assert!(filter.include_file("x.jpg", 0, None));
    assert!(!filter.include_file("comment", 0, None));
    let filter = build(Filter::builder().exclude_from(text, "list"));
    assert!(!filter.include_file("x.png", 0, None));
    assert!(filter.include_file("x.gif", 0, None));
}

#[test]
fn filter_from_rules_and_reset() {
    let text = "+ keep\n- *\n!\n- drop\n";
    let filter = build(Filter::builder().filter_from(text, "rules"));
    assert!(filter.include_file("other", 0, None));
    assert!(!filter.include_file("drop", 0, None));
}

/// `(builder, a fragment of the error message)`.
fn error((builder, fragment): (FilterBuilder, &str)) {
    match builder.build() {
        Ok(filter) => panic!("built {filter:?}"),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
            assert!(e.to_string().contains(fragment), "{e} lacks {fragment:?}");
        }
    }
}

cases! { error {
    error_include_names_rule: (Filter::builder().include("a[b"), "--include \"a[b\""),
    error_exclude_names_rule: (Filter::builder().exclude("***"), "--exclude \"***\""),
    error_filter_malformed: (Filter::builder().filter("x"), "--filter \"x\": malformed"),
    error_filter_needs_space: (Filter::builder().filter("+x"), "malformed"),
    error_filter_from_line: (
        Filter::builder().filter_from("# c\n+ a\n\n- b{\n", "f.txt"),
        "filter rule \"- b{\" (f.txt line 4)",
    ),
    error_include_from_line: (Filter::builder().include_from("a\nb]\n", "inc"), "(inc line 2)"),
    error_exclude_from_line: (Filter::builder().exclude_from("{{x}}", "exc"), "(exc line 1)"),
    error_files_from_with_rules: (
        Filter::builder().files_from("a", "list").exclude("b"),
        "files_from",
    ),
    error_files_from_with_size: (Filter::builder().files_from("a", "list").min_size(1), "files_from"),
    error_min_age_over_max_age: (
        Filter::builder().min_age(Duration::from_secs(2)).max_age(Duration::from_secs(1)),
        "min_age",
    ),
}}

#[test]
fn files_from_lists_and_dirs() {
    let text = "#comment\npath/to/dir/file1.png\n/path/to/dir/file2.png\n/path/to/file3.png\n\
                path/to/dir2/file4.png \npath/to/file3.png\n";
    let filter = build(Filter::builder().files_from(text, "list"));
    assert_eq!(
        filter.files_from_list(),
        Some(
            &[
                "path/to/dir/file1.png".to_owned(),
                "path/to/dir/file2.png".to_owned(),
                "path/to/dir2/file4.png".to_owned(),
                "path/to/file3.png".to_owned(),
            ][..]
        )
    );
    assert!(filter.include_file("path/to/file3.png", 0, None));
    assert!(!filter.include_file("path/to/file5.png", 0, None));
    assert!(!filter.include_file("#comment", 0, None));
    for (path, want) in [
        ("path", true),
        ("path/to", true),
        ("path/to/", true),
        ("/path/to", true),
        ("path/to/dir", true),
        ("path/to/dir2", true),
        ("path/too", false),
        ("four", false),
    ] {
        assert_eq!(filter.include_dir(path), want, "{path:?}");
    }
    assert!(filter.prunes_dirs());
    assert!(!filter.is_empty());
}

#[test]
fn empty_files_from_includes_nothing() {
    let filter = build(Filter::builder().files_from("# nothing\n", "list"));
    assert_eq!(filter.files_from_list(), Some(&[][..]));
    assert!(!filter.include_file("a", 0, None));
}

#[test]
fn sizes_bound_both_ends() {
    let filter = build(Filter::builder().min_size(100).max_size(200));
    assert!(!filter.include_file("a", 99, None));
    assert!(filter.include_file("a", 100, None));
    assert!(filter.include_file("a", 200, None));
    assert!(!filter.include_file("a", 201, None));
    assert!(!filter.prunes_dirs());
    assert!(!filter.is_empty());
}

#[test]
fn ages_bound_both_ends() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_000_010);
    let at = |secs| Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
    // Older than 7 s and newer than 8 s: modified in [now-8, now-7] = [1440000002, 1440000003].
    let filter = build(
        Filter::builder()
            .now(now)
            .min_age(Duration::from_secs(7))
            .max_age(Duration::from_secs(8)),
    );
    assert!(!filter.include_file("a", 0, at(1_440_000_001)));
    assert!(filter.include_file("a", 0, at(1_440_000_002)));
    assert!(filter.include_file("a", 0, at(1_440_000_003)));
    assert!(!filter.include_file("a", 0, at(1_440_000_004)));
    assert!(
        !filter.include_file("a", 0, None),
        "unknown time with an age limit"
    );
}

#[test]
fn min_age_beyond_the_epoch_excludes_all() {
    let filter = build(
        Filter::builder()
            .now(SystemTime::UNIX_EPOCH)
            .min_age(Duration::from_secs(u64::MAX)),
    );
    assert!(!filter.include_file("a", 0, Some(SystemTime::UNIX_EPOCH)));
}

#[test]
fn ignore_case() {
    let filter = build(
        Filter::builder()
            .filter("+ /file2.png")
            .filter("+ /sausage3**")
            .filter("- *")
            .ignore_case(true),
    );
    assert!(filter.include_file("FILE2.png", 0, None));
    assert!(filter.include_dir("SAUSAGE3"));
}

#[test]
fn empty_filter() {
    let filter = build(Filter::builder());
    assert!(filter.is_empty());
    assert!(!filter.prunes_dirs());
    assert_eq!(filter.files_from_list(), None);
    assert!(filter.include_file("anything/at/all", u64::MAX, None));
    assert!(filter.include_dir("any/dir"));
}

#[test]
fn filter_is_send_sync_clone() {
    fn check<T: Send + Sync + Clone + std::fmt::Debug>() {}
    check::<Filter>();
    check::<FilterBuilder>();
}
