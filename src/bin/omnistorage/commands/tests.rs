//! The command table against what is made from it: dispatch, help, flag checks, completions.

use std::collections::BTreeSet;

use super::completion::{SHELLS, script};
use super::{COMMANDS, check_flags, dispatch, find, help};
use crate::args::{GLOBAL, Usage, every_flag, parse};

fn args(line: &[&str]) -> crate::args::Args {
    parse(line.iter().map(|s| (*s).to_owned())).expect("parses")
}

#[test]
fn every_name_finds_its_command_and_names_are_unique() {
    let mut seen = BTreeSet::new();
    for c in COMMANDS {
        for name in c.names() {
            assert!(seen.insert(name), "{name} is in the table twice");
            assert_eq!(find(name).map(|f| f.name), Some(c.name), "{name}");
        }
    }
    assert!(find("frobnicate").is_none());
}

#[test]
fn every_command_is_dispatched_to_its_own_entry() {
    // Too many arguments: each command answers for itself (by name), so the dispatcher
    // reached its entry; `version` takes anything and prints.
    let cancel = omnistorage::Cancel::new();
    let out = crate::output::Output::new(crate::output::OutputConfig::default()).expect("output");
    let many = ["x"; 9];
    for c in COMMANDS {
        for name in c.names() {
            let mut line = vec![name];
            line.extend(many);
            let a = args(&line);
            match dispatch(c, &a, &cancel, &out) {
                Err(Usage(msg)) => assert!(msg.starts_with(&format!("{}:", c.name)), "{msg}"),
                Ok(_) => assert_eq!(c.name, "version", "{name} ran with 9 arguments"),
            }
        }
    }
}

#[test]
fn help_lists_every_command_and_help_command_its_flags() {
    let usage = help::usage();
    for c in COMMANDS {
        for name in c.names() {
            let listed = usage
                .lines()
                .any(|l| l.trim_start().split([' ', '/']).any(|w| w == name));
            assert!(listed, "{name} is not in help");
        }
        let own = help::command(c);
        assert!(
            own.starts_with(&format!(
                "Usage: omnistorage {} [flags] {}",
                c.name, c.usage
            )),
            "{own}"
        );
        for f in c.flags {
            assert!(
                own.contains(&format!("--{}", f.long)),
                "{}: {}",
                c.name,
                f.long
            );
        }
    }
    let flags = help::flags();
    for f in every_flag() {
        assert!(flags.contains(&format!("--{}", f.long)), "{}", f.long);
    }
}

#[test]
fn every_completion_script_has_every_command_and_flag() {
    for shell in SHELLS {
        let s = script(shell).expect("a known shell");
        let words: BTreeSet<&str> = s
            .split(|c: char| c.is_whitespace() || "\"'()|=;".contains(c))
            .collect();
        for c in COMMANDS {
            for name in c.names() {
                assert!(words.contains(name), "{shell}: command {name}");
            }
        }
        for f in every_flag() {
            let found = words.contains(format!("--{}", f.long).as_str()) || words.contains(f.long);
            assert!(found, "{shell}: flag {}", f.long);
        }
    }
    assert!(script("tcsh").is_none());
}

#[test]
fn a_command_own_flags_are_offered_after_it_only() {
    // bash: the arm of `lsf` adds --format; the global list does not have it.
    let s = script("bash").expect("bash");
    let arm = s
        .lines()
        .find(|l| l.trim_start().starts_with("lsf)"))
        .expect("an arm for lsf");
    assert!(arm.contains("--format"), "{arm}");
    let global = s
        .lines()
        .find(|l| l.contains("local flags="))
        .expect("the global flags");
    assert!(
        global.contains("--transfers") && !global.contains("--format"),
        "{global}"
    );
}

/// Runs `script` with `shell -n` (syntax only), where that shell is installed.
fn syntax_ok(shell: &str, script: &str) {
    let out = std::process::Command::new(shell)
        .args(["-n", "-c", script])
        .output();
    if let Ok(out) = out {
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_scripts_parse_in_their_shells() {
    for shell in SHELLS {
        syntax_ok(shell, &script(shell).expect("a known shell"));
    }
}

#[test]
fn a_flag_of_another_command_is_an_error_naming_both() {
    let ls = find("ls").expect("ls");
    let err = check_flags(ls, &args(&["ls", "--one-way", "x"])).expect_err("ls --one-way");
    assert!(
        err.0.contains("--one-way") && err.0.contains("\"ls\""),
        "{err}"
    );
    // A short flag is named by its long name.
    let err = check_flags(ls, &args(&["ls", "-R", "x"])).expect_err("ls -R");
    assert!(err.0.contains("--recursive"), "{err}");
    // Its own flags and the global ones are fine.
    let lsf = find("lsf").expect("lsf");
    let a = args(&[
        "-v",
        "lsf",
        "-R",
        "--format",
        "ps",
        "--exclude",
        "*.tmp",
        "x",
    ]);
    assert_eq!(check_flags(lsf, &a), Ok(()));
}

#[test]
fn every_command_takes_its_own_and_the_global_flags() {
    for c in COMMANDS {
        for f in GLOBAL.iter().chain(c.flags) {
            assert!(c.takes(f.long), "{} --{}", c.name, f.long);
        }
    }
}

#[test]
fn a_flag_means_one_thing_for_each_command() {
    // A name may mean two things in two commands where rclone's does (`lsf --hash MD5`,
    // `lsjson --hash`): the parser looks in the command's own flags first, so each command
    // gets its own meaning; no command's flag shadows a global one, and within a command
    // (its own and the global flags) a short letter names one flag.
    for c in COMMANDS {
        for f in c.flags {
            assert!(!crate::args::is_global(f.long), "{}: --{}", c.name, f.long);
            let found = crate::args::spec_long(f.long, Some(c.name)).expect("found");
            assert!(
                found.kind == f.kind && found.short == f.short && found.help == f.help,
                "{}: --{} is parsed as another command's",
                c.name,
                f.long
            );
        }
        for f in GLOBAL.iter().chain(c.flags) {
            if let Some(letter) = f.short {
                let owners: BTreeSet<&str> = GLOBAL
                    .iter()
                    .chain(c.flags)
                    .filter(|g| g.short == Some(letter))
                    .map(|g| g.long)
                    .collect();
                assert_eq!(owners.len(), 1, "{}: -{letter}: {owners:?}", c.name);
            }
        }
    }
}
