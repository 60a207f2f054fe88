//! `omnistorage completion bash|zsh|fish`: shell completions for the commands and flags,
//! generated from the parser's own tables (so they never drift).

use crate::args::FLAGS;

/// Every command, as `dispatch` knows them.
pub const COMMANDS: &[&str] = &[
    "config",
    "sync",
    "copy",
    "move",
    "copyto",
    "moveto",
    "check",
    "cryptcheck",
    "verify",
    "bisync",
    "dedupe",
    "ls",
    "lsl",
    "lsd",
    "lsf",
    "lsjson",
    "size",
    "tree",
    "cat",
    "rcat",
    "delete",
    "deletefile",
    "purge",
    "mkdir",
    "rmdir",
    "rmdirs",
    "touch",
    "md5sum",
    "sha1sum",
    "sha256sum",
    "hashsum",
    "link",
    "cleanup",
    "about",
    "version",
    "help",
    "completion",
];

fn long_flags() -> Vec<String> {
    FLAGS.iter().map(|f| format!("--{}", f.long)).collect()
}

/// The script for `shell`, or `None` for a shell we do not know.
pub fn script(shell: &str) -> Option<String> {
    let commands = COMMANDS.join(" ");
    let flags = long_flags().join(" ");
    Some(match shell {
        "bash" => format!(
            "# omnistorage completion for bash: source it, or put it in\n\
             # /etc/bash_completion.d/omnistorage\n\
             _omnistorage() {{\n\
             \x20   local cur=${{COMP_WORDS[COMP_CWORD]}}\n\
             \x20   if [[ $cur == -* ]]; then\n\
             \x20       COMPREPLY=($(compgen -W \"{flags}\" -- \"$cur\"))\n\
             \x20   elif [[ $COMP_CWORD == 1 ]]; then\n\
             \x20       COMPREPLY=($(compgen -W \"{commands}\" -- \"$cur\"))\n\
             \x20   else\n\
             \x20       COMPREPLY=($(compgen -f -- \"$cur\"))\n\
             \x20   fi\n\
             }}\n\
             complete -o filenames -F _omnistorage omnistorage\n"
        ),
        "zsh" => format!(
            "#compdef omnistorage\n\
             _omnistorage() {{\n\
             \x20 if [[ $words[CURRENT] == -* ]]; then\n\
             \x20   compadd -- {flags}\n\
             \x20 elif (( CURRENT == 2 )); then\n\
             \x20   compadd -- {commands}\n\
             \x20 else\n\
             \x20   _files\n\
             \x20 fi\n\
             }}\n\
             compdef _omnistorage omnistorage\n"
        ),
        "fish" => {
            let mut s = String::new();
            s.push_str(&format!(
                "complete -c omnistorage -n __fish_use_subcommand -f -a '{commands}'\n"
            ));
            for f in FLAGS {
                s.push_str(&format!(
                    "complete -c omnistorage -l {} -d '{}'\n",
                    f.long,
                    f.help.replace('\'', "")
                ));
            }
            s
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_lists_commands_and_flags() {
        for shell in ["bash", "zsh", "fish"] {
            let s = script(shell).unwrap();
            assert!(s.contains("lsjson") && s.contains("bwlimit"), "{shell}");
        }
        assert!(script("tcsh").is_none());
    }

    #[test]
    fn bash_script_is_valid_bash() {
        let s = script("bash").unwrap();
        let out = std::process::Command::new("bash")
            .args(["-n", "-c", &s])
            .output();
        if let Ok(out) = out {
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
