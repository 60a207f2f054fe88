//! `omnistorage completion bash|zsh|fish`: shell completions for the commands and their flags,
//! made from the command table and the parser's flags (so they never drift). Before the
//! command they offer the commands and the global flags; after it, its own flags too.

use super::{COMMANDS, Call, Command};
use crate::Outcome;
use crate::args::{GLOBAL, Kind, Spec, Usage};

/// The shells there is a script for.
pub const SHELLS: &[&str] = &["bash", "zsh", "fish"];

/// `omnistorage completion SHELL`.
pub fn run(c: &Call<'_>) -> Result<Outcome, Usage> {
    match c.args.rest.first().and_then(|s| script(s)) {
        Some(script) => {
            print!("{script}");
            Ok(Outcome::Code(crate::exit::OK))
        }
        None => Err(Usage(format!(
            "completion: give one of {}",
            SHELLS.join(", ")
        ))),
    }
}

/// `--a --b ...` for `specs`.
fn longs(specs: &[Spec]) -> String {
    let v: Vec<String> = specs.iter().map(|f| format!("--{}", f.long)).collect();
    v.join(" ")
}

/// Every name a command is called by, space-separated.
fn command_names() -> String {
    let v: Vec<&str> = COMMANDS.iter().flat_map(Command::names).collect();
    v.join(" ")
}

/// The flags that take a value, as a shell `case` pattern (`--transfers|--checkers|...`):
/// the word after one is its value, not the command.
fn value_pattern() -> String {
    let v: Vec<String> = crate::args::every_flag()
        .filter(|f| matches!(f.kind, Kind::Value | Kind::Many))
        .map(|f| match f.short {
            Some(c) => format!("--{}|-{c}", f.long),
            None => format!("--{}", f.long),
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    v.join("|")
}

/// One `case` arm per command with flags of its own: `name|alias) FLAGS+=... ;;`.
fn flag_arms(indent: &str, add: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    for c in COMMANDS.iter().filter(|c| !c.flags.is_empty()) {
        let names: Vec<&str> = c.names().collect();
        out.push_str(&format!(
            "{indent}{}) {} ;;\n",
            names.join("|"),
            add(&longs(c.flags))
        ));
    }
    out
}

fn bash() -> String {
    let arms = flag_arms("        ", |f| format!("flags+=\" {f}\""));
    format!(
        "# omnistorage completion for bash: source it, or put it in\n\
         # /etc/bash_completion.d/omnistorage\n\
         _omnistorage() {{\n\
         \x20   local cur=${{COMP_WORDS[COMP_CWORD]}} cmd=\"\" skip=0 i\n\
         \x20   for ((i = 1; i < COMP_CWORD; i++)); do\n\
         \x20       if ((skip)); then skip=0; continue; fi\n\
         \x20       case ${{COMP_WORDS[i]}} in\n\
         \x20       {values}) skip=1 ;;\n\
         \x20       -*) ;;\n\
         \x20       *) cmd=${{COMP_WORDS[i]}}; break ;;\n\
         \x20       esac\n\
         \x20   done\n\
         \x20   if [[ $cur == -* ]]; then\n\
         \x20       local flags=\"{global}\"\n\
         \x20       case $cmd in\n\
         {arms}\
         \x20       esac\n\
         \x20       COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n\
         \x20   elif [[ -z $cmd ]]; then\n\
         \x20       COMPREPLY=($(compgen -W \"{commands}\" -- \"$cur\"))\n\
         \x20   else\n\
         \x20       COMPREPLY=($(compgen -f -- \"$cur\"))\n\
         \x20   fi\n\
         }}\n\
         complete -o filenames -F _omnistorage omnistorage\n",
        values = value_pattern(),
        global = longs(GLOBAL),
        commands = command_names(),
    )
}

fn zsh() -> String {
    let arms = flag_arms("    ", |f| format!("flags+=({f})"));
    format!(
        "#compdef omnistorage\n\
         _omnistorage() {{\n\
         \x20 local cmd=\"\" skip=0 i\n\
         \x20 for ((i = 2; i < CURRENT; i++)); do\n\
         \x20   if ((skip)); then skip=0; continue; fi\n\
         \x20   case $words[i] in\n\
         \x20   {values}) skip=1 ;;\n\
         \x20   -*) ;;\n\
         \x20   *) cmd=$words[i]; break ;;\n\
         \x20   esac\n\
         \x20 done\n\
         \x20 if [[ $words[CURRENT] == -* ]]; then\n\
         \x20   local -a flags\n\
         \x20   flags=({global})\n\
         \x20   case $cmd in\n\
         {arms}\
         \x20   esac\n\
         \x20   compadd -- $flags\n\
         \x20 elif [[ -z $cmd ]]; then\n\
         \x20   compadd -- {commands}\n\
         \x20 else\n\
         \x20   _files\n\
         \x20 fi\n\
         }}\n\
         compdef _omnistorage omnistorage\n",
        values = value_pattern(),
        global = longs(GLOBAL),
        commands = command_names(),
    )
}

/// A fish string: single-quoted, with `\` and `'` escaped.
fn fish_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// `complete` lines for `specs`, under `condition` (none: everywhere).
fn fish_flags(out: &mut String, specs: &[Spec], condition: Option<&str>) {
    for f in specs {
        out.push_str("complete -c omnistorage");
        if let Some(cond) = condition {
            out.push_str(&format!(" -n {}", fish_quote(cond)));
        }
        if let Some(c) = f.short {
            out.push_str(&format!(" -s {c}"));
        }
        out.push_str(&format!(" -l {}", f.long));
        if matches!(f.kind, Kind::Value | Kind::Many) {
            out.push_str(" -r");
        }
        out.push_str(&format!(" -d {}\n", fish_quote(f.help)));
    }
}

fn fish() -> String {
    let mut s = String::new();
    for c in COMMANDS {
        for name in c.names() {
            s.push_str(&format!(
                "complete -c omnistorage -n __fish_use_subcommand -f -a {name} -d {}\n",
                fish_quote(c.summary)
            ));
        }
    }
    fish_flags(&mut s, GLOBAL, None);
    for c in COMMANDS.iter().filter(|c| !c.flags.is_empty()) {
        let names: Vec<&str> = c.names().collect();
        let cond = format!("__fish_seen_subcommand_from {}", names.join(" "));
        fish_flags(&mut s, c.flags, Some(&cond));
    }
    s
}

/// The script for `shell`, or `None` for a shell we do not know.
pub fn script(shell: &str) -> Option<String> {
    match shell {
        "bash" => Some(bash()),
        "zsh" => Some(zsh()),
        "fish" => Some(fish()),
        _ => None,
    }
}
