//! The documents against the code they describe: every feature of Cargo.toml is in the crate
//! docs' feature table and the README's, and every file ARCHITECTURE.md names exists.

use std::path::Path;

fn read(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The names of Cargo.toml's `[features]`, but `default`.
fn features() -> Vec<String> {
    let toml = read("Cargo.toml");
    let table = toml
        .split("\n[features]\n")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("a [features] table");
    let names: Vec<String> = table
        .lines()
        .filter_map(|l| l.split_once(" = "))
        .map(|(name, _)| name.trim().to_owned())
        .filter(|name| name != "default" && !name.starts_with('#'))
        .collect();
    assert!(names.len() > 10, "{names:?}");
    names
}

/// The first column of the markdown table after `heading` in `text`.
fn table_features(text: &str, heading: &str, prefix: &str) -> String {
    let section = text
        .split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("{heading}"));
    section
        .lines()
        .map(|l| l.strip_prefix(prefix).unwrap_or(l))
        .skip_while(|l| !l.starts_with("| feature"))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.split('|').nth(1))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn every_feature_is_in_both_feature_tables() {
    let lib = table_features(&read("src/lib.rs"), "# Crate features", "//! ");
    let readme = table_features(&read("README.md"), "## Features", "");
    for f in features() {
        let cell = format!("`{f}`");
        assert!(
            lib.contains(&cell),
            "src/lib.rs's feature table lacks {cell}"
        );
        assert!(
            readme.contains(&cell),
            "README's feature table lacks {cell}"
        );
    }
}

#[test]
fn every_file_the_architecture_map_names_exists() {
    let map = read("ARCHITECTURE.md");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The directory each part is under, for names given relative to it.
    let bases = [
        "",
        "src/",
        "src/backends/",
        "src/backends/s3/",
        "src/backends/sftp/",
        "src/backends/file/",
        "src/sync/",
        "src/sync/exec/",
        "src/sync/bisync/",
        "src/bin/omnistorage/",
        "src/bin/omnistorage/commands/",
        "tests/all/",
        "scripts/",
    ];
    let mut checked = 0;
    for quoted in map.split('`').skip(1).step_by(2) {
        let looks_like_file = quoted.ends_with(".rs") || quoted.ends_with('/');
        if !looks_like_file || quoted.contains(' ') {
            continue;
        }
        let found = bases.iter().any(|b| root.join(b).join(quoted).exists());
        assert!(found, "ARCHITECTURE.md names {quoted}, which is nowhere");
        checked += 1;
    }
    assert!(checked > 40, "only {checked} names checked");
}
