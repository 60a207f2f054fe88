//! The command table as a user meets it: every command `help` lists runs, has its own help,
//! and is in every completion script; a flag of another command is refused, naming both.

use omnistorage::conformance::TempDir;

use super::{code, run, stderr, stdout};

/// The commands `omnistorage help` lists (aliases too: `cryptcheck/verify`).
fn listed(home: &std::path::Path) -> Vec<String> {
    let o = run(&["help"], None, home);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let block = text
        .split("Commands:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("a Commands: block");
    let names: Vec<String> = block
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .flat_map(|w| w.split('/').map(str::to_owned).collect::<Vec<_>>())
        .collect();
    assert!(names.len() > 30, "{names:?}");
    names
}

#[test]
fn every_listed_command_runs_and_has_its_own_help() {
    let home = TempDir::new().unwrap();
    for name in listed(home.path()) {
        let o = run(&[name.as_str(), "--help"], None, home.path());
        assert_eq!(code(&o), 0, "{name} --help: {}", stderr(&o));
        assert!(
            stdout(&o).starts_with("Usage: omnistorage "),
            "{name}: {}",
            stdout(&o)
        );
        let topic = run(&["help", name.as_str()], None, home.path());
        assert_eq!(stdout(&topic), stdout(&o), "help {name}");
        // Nine arguments: more than any command takes but the ones that take any; each
        // answers for itself, none is an unknown command.
        let mut line = vec![name.as_str()];
        line.extend(["x"; 9]);
        let o = run(&line, None, home.path());
        let err = stderr(&o);
        assert!(!err.contains("unknown command"), "{name}: {err}");
        if name != "version" {
            assert_eq!(code(&o), 1, "{name}: {err}");
            assert!(err.starts_with("Error: "), "{name}: {err}");
        }
    }
}

#[test]
fn every_listed_command_is_in_every_completion_script() {
    let home = TempDir::new().unwrap();
    let names = listed(home.path());
    for shell in ["bash", "zsh", "fish"] {
        let o = run(&["completion", shell], None, home.path());
        assert_eq!(code(&o), 0, "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        let words: std::collections::BTreeSet<&str> = script
            .split(|c: char| c.is_whitespace() || "\"'()|;".contains(c))
            .collect();
        for name in &names {
            assert!(words.contains(name.as_str()), "{shell}: {name}");
        }
    }
    let o = run(&["completion", "tcsh"], None, home.path());
    assert_eq!(code(&o), 1);
}

#[test]
fn a_flag_of_another_command_is_refused_naming_both() {
    let home = TempDir::new().unwrap();
    let src = TempDir::new().unwrap();
    let dst = TempDir::new().unwrap();
    std::fs::write(src.path().join("a.txt"), b"alpha").unwrap();
    let (s, d) = (
        src.path().to_string_lossy().into_owned(),
        dst.path().to_string_lossy().into_owned(),
    );
    // --format is lsf's: sync refuses it and copies nothing.
    let o = run(&["sync", &s, &d, "--format", "p"], None, home.path());
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains("--format") && err.contains("\"sync\""),
        "{err}"
    );
    assert!(!dst.path().join("a.txt").exists());
    // Before the command too, and by its short name.
    let o = run(&["-R", "ls", &s], None, home.path());
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(
        err.contains("--recursive") && err.contains("\"ls\""),
        "{err}"
    );
    // Its own flags and the global ones pass.
    let o = run(
        &["lsf", "-R", "--format", "ps", "-q", &s],
        None,
        home.path(),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), "a.txt;5\n");
    // A flag no command knows is still the parser's error.
    let o = run(&["ls", "--no-such-flag", &s], None, home.path());
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("unknown flag: --no-such-flag"));
}
