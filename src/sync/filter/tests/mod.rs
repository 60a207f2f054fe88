//! Table-driven tests, one named test per case, re-derived from rclone's `glob_test.go` and
//! `filter_test.go` vectors and its filtering docs.

/// Defines one `#[test]` per `name: args` line, each calling `check(args)`.
macro_rules! cases {
    ($check:path { $($name:ident: $args:expr,)* }) => {
        $(
            #[test]
            fn $name() {
                $check($args);
            }
        )*
    };
}

mod filter_cases;
mod glob_cases;
