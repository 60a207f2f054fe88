//! `omnistorage config` on a terminal: rclone's wizard. A menu (edit, new, delete, rename,
//! copy, quit); a new remote is a name, a type from [`remote::TYPES`] and the options its
//! builder lists (`S3Builder::OPTIONS`, ...), each checked by the builder as it is typed;
//! secrets are read without echo and typed twice. Every change is saved at once, through
//! [`Config::save`] (atomic, mode 0600).

use omnistorage::backends::OptionInfo;
use omnistorage::{Cancel, Error};

use super::tty::Terminal;
use super::{Config, obscure, remote};

/// Runs the wizard on `config` until the user quits.
pub fn run(mut config: Config, cancel: &Cancel) -> Result<(), Error> {
    let mut t = Terminal::open(cancel)?;
    loop {
        let names = config.stored_names();
        let choice = if names.is_empty() {
            println!("No remotes found, make a new one?");
            choose(&mut t, &[('n', "New remote"), ('q', "Quit config")], None)?
        } else {
            println!("\nCurrent remotes:\n");
            println!("{:<20} Type", "Name");
            println!("{:<20} ====", "====");
            for name in &names {
                println!("{name:<20} {}", kind_of(&config, name));
            }
            println!();
            choose(
                &mut t,
                &[
                    ('e', "Edit existing remote"),
                    ('n', "New remote"),
                    ('d', "Delete remote"),
                    ('r', "Rename remote"),
                    ('c', "Copy remote"),
                    ('q', "Quit config"),
                ],
                None,
            )?
        };
        match choice {
            'n' => new_remote(&mut t, &mut config)?,
            'e' => {
                let name = pick_remote(&mut t, &config)?;
                edit_remote(&mut t, &mut config, &name)?;
            }
            'd' => {
                let name = pick_remote(&mut t, &config)?;
                config.delete(&name)?;
                config.save()?;
                println!(); // rclone's blank line
            }
            'r' | 'c' => {
                let name = pick_remote(&mut t, &config)?;
                if choice == 'r' {
                    println!("\nEnter new name for {name:?} remote.");
                } else {
                    println!("\nEnter name for copy of {name:?} remote.");
                }
                println!("Enter name for new remote.");
                let new = new_name(&mut t, &config)?;
                if choice == 'r' {
                    config.rename(&name, &new)?;
                } else {
                    config.copy(&name, &new)?;
                }
                config.save()?;
            }
            _ => return Ok(()),
        }
    }
}

/// The type of a remote of the file (`?` if it has none).
fn kind_of(config: &Config, name: &str) -> String {
    config
        .stored_options(name)
        .and_then(|o| o.iter().find(|(k, _)| k == "type"))
        .map_or_else(|| "?".to_owned(), |(_, v)| v.clone())
}

/// Shows `options` as `x) what` lines and asks until one of their letters is typed (Enter
/// alone: `default`, if there is one).
fn choose(
    t: &mut Terminal,
    options: &[(char, &str)],
    default: Option<char>,
) -> Result<char, Error> {
    for (c, what) in options {
        let tail = if Some(*c) == default {
            " (default)"
        } else {
            ""
        };
        println!("{c}) {what}{tail}");
    }
    let letters: Vec<String> = options.iter().map(|(c, _)| c.to_string()).collect();
    let prompt = format!("{}> ", letters.join("/"));
    loop {
        let answer = t.line(&prompt)?;
        let answer = answer.trim();
        if answer.is_empty()
            && let Some(d) = default
        {
            return Ok(d);
        }
        let mut chars = answer.chars();
        if let (Some(c), None) = (chars.next().map(|c| c.to_ascii_lowercase()), chars.next())
            && options.iter().any(|(o, _)| *o == c)
        {
            return Ok(c);
        }
        println!(
            "This value must be a single character, one of the following: {}.",
            letters.join(", ")
        );
    }
}

/// Asks for a name that can name a new remote (valid, not taken).
fn new_name(t: &mut Terminal, config: &Config) -> Result<String, Error> {
    loop {
        let name = t.line("name> ")?;
        let name = name.trim();
        match config.check_new_name(name) {
            Ok(()) => return Ok(name.to_owned()),
            Err(e) => println!("{}", e.message().unwrap_or("not a name for a new remote")),
        }
    }
}

/// The item of a numbered list that `answer` names: by its number (from 1) or its name.
fn listed<'a, T>(items: &'a [T], answer: &str, name: impl Fn(&T) -> &str) -> Option<&'a T> {
    let by_number = answer
        .parse::<usize>()
        .ok()
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| items.get(i));
    by_number.or_else(|| items.iter().find(|item| name(item) == answer))
}

/// Asks for one of the file's remotes, by number or by name.
fn pick_remote(t: &mut Terminal, config: &Config) -> Result<String, Error> {
    let names = config.stored_names();
    println!("\nSelect remote.");
    println!("Choose a number from below, or type in an existing value.");
    for (i, name) in names.iter().enumerate() {
        println!("{:>2} > {name}", i + 1);
    }
    loop {
        let answer = t.line("remote> ")?;
        let answer = answer.trim();
        if let Some(name) = listed(&names, answer, |n| n) {
            return Ok((*name).to_owned());
        }
        println!("No remote {answer:?}: type its number or its name.");
    }
}

/// Asks for a type of remote, by number or by name.
fn pick_type(t: &mut Terminal) -> Result<&'static remote::RemoteType, Error> {
    println!("\nOption Storage.");
    println!("Type of storage to configure.");
    println!("Choose a number from below, or type in your own value.");
    for (i, kind) in remote::TYPES.iter().enumerate() {
        println!("{:>2} / {}\n   \\ ({})", i + 1, kind.help, kind.name);
    }
    loop {
        let answer = t.line("Storage> ")?;
        let answer = answer.trim();
        if let Some(kind) = listed(remote::TYPES, answer, |k| k.name) {
            return Ok(kind);
        }
        println!(
            "Unknown type {answer:?}: type a number or one of {}.",
            remote::type_names()
        );
    }
}

/// `n) New remote`: a name, a type, its options; then keep, edit again, or drop it.
fn new_remote(t: &mut Terminal, config: &mut Config) -> Result<(), Error> {
    println!("\nEnter name for new remote.");
    let name = new_name(t, config)?;
    let kind = pick_type(t)?;
    let values = ask_options(t, kind, &[])?;
    keep(t, config, &name, kind, values, false)
}

/// "Keep this remote?": y saves it (made anew, or its options replaced when `existing`),
/// e asks for its options again, d drops it (deletes it when `existing`).
fn keep(
    t: &mut Terminal,
    config: &mut Config,
    name: &str,
    kind: &remote::RemoteType,
    mut values: Vec<(String, String)>,
    existing: bool,
) -> Result<(), Error> {
    loop {
        println!("\nConfiguration complete.\nOptions:");
        summary(kind.name, &values);
        println!("Keep this {name:?} remote?");
        let choice = choose(
            t,
            &[
                ('y', "Yes this is OK"),
                ('e', "Edit this remote"),
                ('d', "Delete this remote"),
            ],
            Some('y'),
        )?;
        match (choice, existing) {
            ('y', false) => config.create(name, kind.name, &values)?,
            ('y', true) => config.update(name, &values)?,
            ('e', _) => {
                values = ask_options(t, kind, &values)?;
                continue;
            }
            (_, true) => config.delete(name)?,
            (_, false) => return Ok(()),
        }
        return config.save();
    }
}

/// `e) Edit existing remote`: its options asked again, the current values kept on Enter.
fn edit_remote(t: &mut Terminal, config: &mut Config, name: &str) -> Result<(), Error> {
    let kind_name = kind_of(config, name);
    let Some(kind) = remote::remote_type(&kind_name) else {
        println!("Remote {name:?} has type {kind_name:?}, which this wizard cannot edit.");
        return Ok(());
    };
    // The options as the builder takes them: rclone's obscured secrets revealed.
    let mut current = Vec::new();
    for (k, v) in config.stored_options(name).unwrap_or_default() {
        if k == "type" {
            continue;
        }
        let obscured = remote::OBSCURED
            .iter()
            .find(|(t, _, rclone)| *t == kind.name && rclone == k);
        match obscured {
            Some((_, ours, _)) => match obscure::reveal(v) {
                Ok(plain) => current.push(((*ours).to_owned(), plain)),
                Err(_) => println!("{k}: not an obscured value; it is asked for again"),
            },
            None => current.push((k.clone(), v.clone())),
        }
    }
    println!("\nEditing existing {name:?} remote with options:");
    summary(kind.name, &current);
    let values = ask_options(t, kind, &current)?;
    keep(t, config, name, kind, values, true)
}

/// Prints a remote's options as `- key: value` lines, secrets as `***`.
fn summary(kind: &str, values: &[(String, String)]) {
    println!("- type: {kind}");
    for (k, v) in values {
        let v = if remote::is_secret(k) { "***" } else { v };
        println!("- {k}: {v}");
    }
}

/// Asks for the options of `kind` (the advanced ones only if wanted), starting from
/// `current`; options `current` has that the list does not (rclone's that omnistorage
/// ignores) are kept as they are.
fn ask_options(
    t: &mut Terminal,
    kind: &remote::RemoteType,
    current: &[(String, String)],
) -> Result<Vec<(String, String)>, Error> {
    let mut values: Vec<(String, String)> = current.to_vec();
    let mut ask = |t: &mut Terminal, o: &OptionInfo| -> Result<(), Error> {
        let at = values.iter().position(|(k, _)| o.is(k));
        let now = at.map(|i| values[i].1.clone());
        match (ask_one(t, kind.name, o, now.as_deref())?, at) {
            (Some(v), Some(i)) => values[i] = (o.name.to_owned(), v),
            (Some(v), None) => values.push((o.name.to_owned(), v)),
            (None, _) => {}
        }
        Ok(())
    };
    for o in kind.options.iter().filter(|o| !o.advanced) {
        ask(t, o)?;
    }
    if kind.options.iter().any(|o| o.advanced) {
        println!("\nEdit advanced config?");
        if choose(t, &[('y', "Yes"), ('n', "No")], Some('n'))? == 'y' {
            for o in kind.options.iter().filter(|o| o.advanced) {
                ask(t, o)?;
            }
        }
    }
    Ok(values)
}

/// Asks for one option until its builder takes the answer: `None` leaves it as it was
/// (unset, or `current`).
fn ask_one(
    t: &mut Terminal,
    kind: &str,
    o: &OptionInfo,
    current: Option<&str>,
) -> Result<Option<String>, Error> {
    println!("\nOption {}.", o.name);
    println!("{}", o.help);
    let hint = match (current, o.secret) {
        (Some(_), true) => "Press Enter to keep the current value (not shown).".to_owned(),
        (Some(v), false) => format!("Press Enter to keep the current value ({v})."),
        (None, _) if o.required => "Enter a value.".to_owned(),
        (None, _) if !o.default.is_empty() => {
            format!("Press Enter for the default ({}).", o.default)
        }
        (None, _) => "Press Enter to leave empty.".to_owned(),
    };
    let echo = if o.secret {
        " It is not shown as you type."
    } else {
        ""
    };
    println!("{hint}{echo}");
    let prompt = format!("{}> ", o.name);
    loop {
        let answer = if o.secret {
            t.secret(&prompt)?
        } else {
            t.line(&prompt)?.trim().to_owned()
        };
        if answer.is_empty() {
            if current.is_none() && o.required {
                println!("This value is required.");
                continue;
            }
            return Ok(None);
        }
        if let Err(e) = remote::check_option(kind, o.name, &answer) {
            println!("{}", e.message().unwrap_or("not a valid value"));
            continue;
        }
        if o.secret && t.secret("Confirm> ")? != answer {
            println!("The two do not match: type it again.");
            continue;
        }
        return Ok(Some(answer));
    }
}
