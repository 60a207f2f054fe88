//! Pattern → path matching, pattern errors and implied directory globs.

use glob::MatchOptions;

use crate::sync::filter::glob::compile;
use crate::sync::filter::implied::dir_globs;

const EXACT: MatchOptions = MatchOptions {
    case_sensitive: true,
    require_literal_separator: false,
    require_literal_leading_dot: false,
};

/// `(pattern, path, whether it matches)`.
fn matches((pattern, path, want): (&str, &str, bool)) {
    let compiled = compile(pattern).unwrap_or_else(|e| panic!("{pattern:?}: {e}"));
    assert_eq!(
        compiled.matches(path, EXACT),
        want,
        "{pattern:?} against {path:?}"
    );
}

/// `(pattern, a fragment of the error)`.
fn fails((pattern, fragment): (&str, &str)) {
    match compile(pattern) {
        Ok(_) => panic!("{pattern:?} compiled"),
        Err(e) => assert!(
            e.contains(fragment),
            "{pattern:?}: {e:?} lacks {fragment:?}"
        ),
    }
}

/// `(file glob, the directory globs it implies)`.
fn implies((pattern, want): (&str, &[&str])) {
    compile(pattern).unwrap_or_else(|e| panic!("{pattern:?}: {e}"));
    assert_eq!(dir_globs(pattern), want, "{pattern:?}");
}

cases! { matches {
    empty_matches_empty: ("", "", true),
    empty_does_not_match_name: ("", "a", false),
    literal: ("potato", "potato", true),
    literal_at_segment_end: ("potato", "dir/potato", true),
    literal_not_mid_segment: ("potato", "dir/apotato", false),
    literal_not_prefix: ("potato", "potato/x", false),
    comma_outside_braces_is_literal: ("potato,sausage", "potato,sausage", true),
    anchored: ("/potato", "potato", true),
    anchored_not_deeper: ("/potato", "dir/potato", false),
    question_one_char: ("potato?sausage", "potatoXsausage", true),
    question_not_slash: ("potato?sausage", "potato/sausage", false),
    question_not_empty: ("l?ss", "lss", false),
    question_floss: ("l?ss", "floss", false),
    class_set: ("potat[oa]", "potata", true),
    class_set_miss: ("potat[oa]", "potatx", false),
    class_range: ("potat[a-z]or", "potatqor", true),
    class_posix: ("potat[[:alpha:]]or", "potatQor", true),
    class_posix_miss: ("potat[[:alpha:]]or", "potat1or", false),
    class_negated: ("h[!ae]llo", "hullo", true),
    class_negated_miss: ("h[!ae]llo", "hello", false),
    class_caret_negated: ("h[^ae]llo", "hullo", true),
    class_never_slash: ("a[!b]c", "a/c", false),
    class_escaped_brackets: (r"[\[\]]", "]", true),
    class_escaped_open: (r"[\[\]]", "[", true),
    class_close_first: ("[]a]", "]", true),
    class_bang_only: (r"[\!]", "!", true),
    class_bang_not_negation: (r"[\!]", "a", false),
    class_dash_last: ("[a-]", "-", true),
    class_range_over_close: ("[--b]", "B", true),
    class_range_over_close_hits_close: ("[--b]", "]", true),
    class_range_over_close_miss: ("[--b]", "c", false),
    class_negated_range_over_close: ("[!--b]", "]", false),
    class_negated_range_over_close_miss: ("[!--b]", "c", true),
    class_close_range: ("[]-a]", "^", true),
    regexp_metachars_literal: ("'.' '+' '(' ')' '|' '^' '$'", "'.' '+' '(' ')' '|' '^' '$'", true),
    dot_is_literal: ("*.jpg", "fileXjpg", false),
    star_suffix: ("*.jpg", "file.jpg", true),
    star_deep: ("*.jpg", "dir/file.jpg", true),
    star_not_across_slash: ("*.jpg", "file.jpg/another.png", false),
    star_anchored_top_only: ("/*.jpg", "dir/file.jpg", false),
    braces: ("a{b,c,d}e", "ace", true),
    braces_miss: ("a{b,c,d}e", "abce", false),
    braces_extension: ("*.{jpg,png,gif}", "x/y.gif", true),
    braces_empty_alternative: ("x{,y}", "x", true),
    braces_nested: ("{one,t{w,hre}o}_potato", "threo_potato", true),
    braces_nested_miss: ("{one,t{w,hre}o}_potato", "three_potato", false),
    braces_three_not_one: ("{one,two}_potato", "three_potato", false),
    braces_not_empty: ("{one,two}_potato", "_potato", false),
    double_star_suffix: ("potato**", "potato/a/b", true),
    double_star_mid: ("potato**sausage", "potato/x/ysausage", true),
    double_star_same_segment: ("potato**sausage", "potatoXsausage", true),
    double_star_dir_all: ("dir/**", "dir/d1/d2/file.jpg", true),
    double_star_dir_one: ("dir/**", "dir/file.jpg", true),
    double_star_dir_not_other: ("dir/**", "directory/file.jpg", false),
    double_star_dir_not_prefix: ("dir/**", "adir/file.jpg", false),
    double_star_dir_nested: ("dir/**", "x/dir/file", true),
    double_star_dir_trailing_slash: ("dir/**", "dir/", true),
    double_star_dir_not_itself: ("dir/**", "dir", false),
    double_star_between_needs_a_dir: ("a/**/b", "a/b", false),
    double_star_between_one: ("a/**/b", "a/x/b", true),
    double_star_between_two: ("a/**/b", "a/x/y/b", true),
    double_star_anchored_between: ("/var/**/ncw", "var/spool/ncw", true),
    double_star_anchored_not_deeper: ("/var/**/ncw", "x/var/spool/ncw", false),
    double_star_alone: ("**", "a/b/c", true),
    double_star_anchored_alone: ("/**", "a", true),
    double_star_leading: ("**.txt", "a/b.txt", true),
    double_star_leading_anchored_needs_dir: ("/**/x", "x", false),
    double_star_leading_anchored: ("/**/x", "a/b/x", true),
    star_then_double_by_braces: ("a*{x,**}b", "aq/rb", true),
    escaped_star: (r"a\*b", "a*b", true),
    escaped_star_not_wild: (r"a\*b", "axb", false),
    escaped_backslash: (r"a\\b", r"a\b", true),
    escaped_brackets: (r"\[one\].jpg", "[one].jpg", true),
    escaped_brace: (r"\{a,b\}", "{a,b}", true),
    escaped_question: (r"\?", "?", true),
    escaped_question_not_wild: (r"\?", "a", false),
    unicode: ("*.jpé", "dir/été.jpé", true),
    unicode_question: ("?", "é", true),
}}

cases! { fails {
    too_many_stars_leading: ("***potato", "too many stars"),
    too_many_stars: ("***", "too many stars"),
    stray_close_bracket: ("ab]c", "mismatched ']'"),
    unclosed_bracket: ("ab[c", "mismatched '[' and ']'"),
    regexp_section: ("ab{{cd", "regexp"),
    stray_close_brace_after_pair: ("ab{}}cd", "mismatched '{' and '}'"),
    stray_close_brace: ("ab}c", "mismatched '{' and '}'"),
    unclosed_brace: ("ab{c", "mismatched '{' and '}'"),
    unclosed_nested_brace: ("a{b,{c}", "mismatched '{' and '}'"),
    bad_range: ("[a--b]", "bad range"),
    reversed_range: ("[z-a]", "bad range"),
    unknown_posix_class: ("[[:nope:]]", "unknown character class"),
    unclosed_posix_class: ("[[:alpha", "mismatched '['"),
    trailing_backslash: ("abc\\", "trailing"),
    empty_class: ("[]", "mismatched '['"),
    brace_bomb: ("{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}", "alternatives"),
}}

cases! { implies {
    star: ("*", &["/**"]),
    anchored_star: ("/*", &["/"]),
    extension: ("*.jpg", &["/**"]),
    anchored_extension: ("/*.jpg", &["/"]),
    double_slash: ("//*.jpg", &["/"]),
    triple_slash: ("///*.jpg", &["/"]),
    one_dir: ("/a/*.jpg", &["/a/", "/"]),
    one_dir_double_slash: ("/a//*.jpg", &["/a/", "/"]),
    two_dirs: ("/a/b/*.jpg", &["/a/b/", "/a/", "/"]),
    unanchored_dir: ("a/*.jpg", &["a/"]),
    unanchored_two_dirs: ("a/b/*.jpg", &["a/b/", "a/"]),
    star_dirs: ("*/*/*.jpg", &["*/*/", "*/"]),
    dir_rule: ("a/b/", &["a/b/", "a/"]),
    file_in_dir: ("a/b", &["a/"]),
    braces_in_name: ("a/b/*.{jpg,png,gif}", &["a/b/", "a/"]),
    braces_in_dir: ("/a/{jpg,png,gif}/*.{jpg,png,gif}", &["/a/{jpg,png,gif}/", "/a/", "/"]),
    double_star_in_braces: ("a/{a,a*b,a**c}/d/", &["/**"]),
    slash_in_braces: ("/a/{a,a*b,a/c,d}/d/", &["/**"]),
    nested_braces: ("a/{b,{c,d}}/e", &["/**"]),
    double_star: ("**", &["**/"]),
    prefix_double_star: ("a**", &["a**/"]),
    inner_double_star: ("a**b", &["a**/"]),
    many_double_stars: ("a**b**c**d", &["a**b**c**/", "a**b**/", "a**/"]),
    double_stars_and_dirs: ("a**b/c**d", &["a**b/c**/", "a**b/", "a**/"]),
    mixed: ("/A/a**b/B/c**d/C/", &[
        "/A/a**b/B/c**d/C/", "/A/a**b/B/c**d/", "/A/a**b/B/c**/", "/A/a**b/B/",
        "/A/a**b/", "/A/a**/", "/A/", "/",
    ]),
    spool: ("/var/spool/**/ncw", &["/var/spool/**/", "/var/spool/", "/var/", "/"]),
    spool_dir: ("var/spool/**/ncw/", &["var/spool/**/ncw/", "var/spool/**/", "var/spool/", "var/"]),
    anchored_file: ("/file1.jpg", &["/"]),
    anchored_prefix_star: ("/sausage2*", &["/"]),
    anchored_prefix_double_star: ("/sausage3**", &["/sausage3**/", "/"]),
    escaped_stars_do_not_split: (r"a\**b", &["/**"]),
    escaped_slash_does_not_split: (r"/x/a\/b", &["/x/", "/"]),
    class_does_not_split: ("aa[[\\*,**]", &["/**"]),
    class_slash_does_not_split: ("/d/a[/]b", &["/d/", "/"]),
    escaped_double_slash_kept: (r"/d\//x", &[r"/d\//", "/"]),
}}

#[test]
fn ignore_case_folds_ascii() {
    let options = MatchOptions {
        case_sensitive: false,
        ..EXACT
    };
    let compiled = compile("potato[a-c]").unwrap_or_else(|e| panic!("{e}"));
    assert!(compiled.matches("POTATOB", options));
    assert!(!compiled.matches("POTATOB", EXACT));
}
