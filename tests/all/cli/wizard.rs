//! `omnistorage config` with no arguments: the interactive wizard, run on a pseudo-terminal
//! (rustix's `pty`) as a user runs it. Each test answers the prompts as they appear, checks
//! that what was typed shows on the terminal except the secrets, then checks the config
//! file written and that the new remote works (`omnistorage lsf NAME:`).

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path as FsPath;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use omnistorage::FileBackend;
use omnistorage::conformance::TempDir;
use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};

use super::{code, run, stderr, stdout};
use crate::sync::{put, t};

/// What the terminal showed so far, and whether the binary closed it.
type Screen = Arc<(Mutex<(Vec<u8>, bool)>, Condvar)>;

/// The binary running on a pseudo-terminal: its stdin, stdout and stderr are the terminal.
struct Session {
    keyboard: File,
    screen: Screen,
    /// How much of the screen `expect` has consumed.
    seen: usize,
    child: Child,
}

impl Session {
    /// The binary with `args`, its home under `home`.
    fn start(args: &[&str], home: &FsPath) -> Session {
        Session::run(super::command(args, home))
    }

    /// `cmd` on a new pseudo-terminal.
    fn run(mut cmd: Command) -> Session {
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("openpt");
        grantpt(&master).expect("grantpt");
        unlockpt(&master).expect("unlockpt");
        let name = ptsname(&master, Vec::new()).expect("ptsname");
        let terminal = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(std::ffi::OsStr::from_bytes(name.as_bytes()))
            .expect("the terminal side opens");
        cmd.stdin(Stdio::from(terminal.try_clone().unwrap()))
            .stdout(Stdio::from(terminal.try_clone().unwrap()))
            .stderr(Stdio::from(terminal));
        let child = cmd.spawn().expect("the binary runs");
        drop(cmd); // our copies of the terminal side: the binary's exit closes it
        let screen: Screen = Arc::default();
        let mut display = File::from(master.try_clone().unwrap());
        let shown = Arc::clone(&screen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                // EIO once the binary has exited and closed the terminal.
                let n = display.read(&mut buf).unwrap_or(0);
                let (lock, ready) = &*shown;
                let mut s = lock.lock().unwrap();
                if n == 0 {
                    s.1 = true;
                    ready.notify_all();
                    return;
                }
                s.0.extend_from_slice(&buf[..n]);
                ready.notify_all();
            }
        });
        Session {
            keyboard: File::from(master),
            screen,
            seen: 0,
            child,
        }
    }

    /// Everything shown so far, `\r` removed.
    fn transcript(&self) -> String {
        let s = self.screen.0.lock().unwrap();
        String::from_utf8_lossy(&s.0).replace('\r', "")
    }

    /// Waits (20 s at most) until `text` shows after what earlier calls consumed.
    fn expect(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let (lock, ready) = &*self.screen;
        let mut s = lock.lock().unwrap();
        loop {
            let shown = String::from_utf8_lossy(&s.0).replace('\r', "");
            if let Some(at) = shown.get(self.seen..).and_then(|rest| rest.find(text)) {
                self.seen += at + text.len();
                return;
            }
            let now = Instant::now();
            assert!(
                now < deadline && !s.1,
                "{text:?} never showed; the terminal showed:\n{shown}"
            );
            s = ready.wait_timeout(s, deadline - now).unwrap().0;
        }
    }

    /// Waits for `prompt`, then types `answer` and Enter.
    fn answer(&mut self, prompt: &str, answer: &str) {
        self.expect(prompt);
        self.keyboard
            .write_all(format!("{answer}\n").as_bytes())
            .unwrap();
    }

    /// Whether the terminal echoes what is typed (its settings, as the binary left them).
    fn echoes(&self) -> bool {
        let settings = rustix::termios::tcgetattr(&self.keyboard).expect("tcgetattr");
        settings
            .local_modes
            .contains(rustix::termios::LocalModes::ECHO)
    }

    /// Waits for the binary to end: its exit code and the whole transcript.
    fn finish(mut self) -> (i32, String) {
        let status = self.child.wait().unwrap();
        let (lock, ready) = &*self.screen;
        let mut s = lock.lock().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !s.1 && Instant::now() < deadline {
            s = ready.wait_timeout(s, Duration::from_secs(1)).unwrap().0;
        }
        drop(s);
        (status.code().unwrap_or(-1), self.transcript())
    }
}

fn config_file(home: &FsPath) -> String {
    std::fs::read_to_string(home.join("config/omnistorage/config.toml")).unwrap_or_default()
}

/// A directory with one file, `a.txt`.
fn data() -> TempDir {
    let dir = TempDir::new().unwrap();
    put(
        &FileBackend::new(dir.path()).unwrap(),
        "a.txt",
        b"hello",
        t(1),
    );
    dir
}

#[test]
fn without_a_terminal_it_says_it_needs_one() {
    let home = TempDir::new().unwrap();
    let o = run(&["config"], None, home.path());
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("needs a terminal"), "{}", stderr(&o));
    assert!(config_file(home.path()).is_empty());
}

/// What a wizard showed, as rclone's and ours can be compared: colours, `\r` and rclone's
/// log lines dropped, and rclone's "s) Set configuration password" (we have no encrypted
/// config) taken out of its menus.
fn comparable(transcript: &str) -> String {
    let mut out = String::new();
    let mut rest = transcript;
    while let Some(at) = rest.find('\u{1b}') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        rest = tail.find('m').map_or("", |m| &tail[m + 1..]);
    }
    out.push_str(rest);
    out.lines()
        .filter(|l| !l.contains("NOTICE:") && *l != "s) Set configuration password")
        .map(|l| l.replace("/s/q> ", "/q> "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Answers each prompt as it shows; the transcript, [`comparable`].
fn drive(mut s: Session, answers: &[(&str, &str)]) -> String {
    for (prompt, answer) in answers {
        s.answer(prompt, answer);
    }
    let (rc, transcript) = s.finish();
    assert_eq!(rc, 0, "{transcript}");
    comparable(&transcript)
}

#[test]
fn memory_remotes_are_made_renamed_copied_deleted_and_edited_as_with_rclone() {
    if crate::sync::parity::rclone().is_none() {
        return;
    }
    let answers = [
        ("n/q> ", "n"),
        ("name> ", "mem1"),
        ("Storage> ", "memory"),
        ("y/e/d> ", "y"),
        ("e/n/d/r/c/q> ", "r"),
        ("remote> ", "1"),
        ("name> ", "mem2"),
        ("e/n/d/r/c/q> ", "c"),
        ("remote> ", "mem2"),
        ("name> ", "mem3"),
        ("e/n/d/r/c/q> ", "d"),
        ("remote> ", "mem3"),
        ("e/n/d/r/c/q> ", "e"),
        ("remote> ", "mem2"),
        ("y/e/d> ", "y"),
        ("e/n/d/r/c/q> ", "q"),
    ];
    let home = TempDir::new().unwrap();
    let rclone_conf = home.path().join("rclone.conf");
    let mut rclone = Command::new("rclone");
    rclone.arg("--config").arg(&rclone_conf).arg("config");
    let rclone_answers = answers.map(|(prompt, answer)| match prompt {
        "n/q> " => ("n/s/q> ", answer),
        "e/n/d/r/c/q> " => ("e/n/d/r/c/s/q> ", answer),
        _ => (prompt, answer),
    });
    let theirs = drive(Session::run(rclone), &rclone_answers);
    let ours = drive(Session::start(&["config"], home.path()), &answers);
    // The list of types differs (rclone has 46); all before and after it is the same.
    let split = |t: &str| -> (String, String) {
        let start = t.find(" 1 / ").expect("a list of types");
        let end = t.find("Storage> ").expect("the type prompt");
        (t[..start].to_owned(), t[end..].to_owned())
    };
    assert_eq!(
        split(&ours),
        split(&theirs),
        "ours:\n{ours}\n\nrclone's:\n{theirs}"
    );
    // Both remotes work: ours, and rclone's file read as it is.
    let o = run(&["lsf", "mem2:"], None, home.path());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let conf = rclone_conf.to_string_lossy().into_owned();
    let o = run(&["--config", &conf, "lsf", "mem2:"], None, home.path());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn end_of_input_at_a_secret_stops_with_echo_back_on_and_nothing_saved() {
    let home = TempDir::new().unwrap();
    let mut s = Session::start(&["config"], home.path());
    s.answer("n/q> ", "n");
    s.answer("name> ", "box");
    s.answer("Storage> ", "sftp");
    s.answer("host> ", "example.com");
    s.answer("user> ", "");
    s.answer("port> ", "");
    s.expect("password> ");
    assert!(!s.echoes(), "echo is off while a secret is typed");
    s.keyboard.write_all(b"\x04").unwrap(); // Ctrl-D on an empty line: end of input
    let status = s.child.wait().unwrap();
    assert!(s.echoes(), "the terminal's echo was not put back");
    let (_, transcript) = s.finish();
    assert_eq!(status.code(), Some(130), "{transcript}");
    assert!(transcript.contains("end of input"), "{transcript}");
    assert!(
        config_file(home.path()).is_empty(),
        "{}",
        config_file(home.path())
    );
}

#[test]
fn new_local_remote_then_rename_copy_delete() {
    let home = TempDir::new().unwrap();
    let dir = data();
    let d = dir.path().to_string_lossy().into_owned();
    let mut s = Session::start(&["config"], home.path());
    s.expect("No remotes found, make a new one?");
    s.answer("n/q> ", "n");
    s.answer("name> ", "bad:name");
    s.expect("cannot name a remote");
    s.answer("name> ", "here");
    s.answer("Storage> ", "nosuchtype");
    s.expect("Unknown type");
    s.answer("Storage> ", "local");
    s.expect("- type: local");
    s.answer("y/e/d> ", "");
    s.expect("here                 local");
    s.answer("e/n/d/r/c/q> ", "r");
    s.answer("remote> ", "1");
    s.answer("name> ", "disk");
    s.answer("e/n/d/r/c/q> ", "c");
    s.answer("remote> ", "disk");
    s.answer("name> ", "disk2");
    s.expect("disk2                local");
    s.answer("e/n/d/r/c/q> ", "d");
    s.answer("remote> ", "disk2");
    s.answer("e/n/d/r/c/q> ", "q");
    let (rc, transcript) = s.finish();
    assert_eq!(rc, 0, "{transcript}");
    // What was typed shows (the terminal echoes it): the secrets' tests rely on this.
    assert!(transcript.contains("name> here\n"), "{transcript}");
    let file = config_file(home.path());
    assert!(file.contains("[disk]\ntype = \"local\""), "{file}");
    assert!(
        !file.contains("[here]") && !file.contains("[disk2]"),
        "{file}"
    );
    let lsf = run(&["lsf", &format!("disk:{d}")], None, home.path());
    assert_eq!(
        (code(&lsf), stdout(&lsf).as_str()),
        (0, "a.txt\n"),
        "{}",
        stderr(&lsf)
    );
}

#[test]
fn s3_secret_is_read_without_echo_and_the_remote_works() {
    let Some(env) = crate::support::require_server("s3s") else {
        return;
    };
    let home = TempDir::new().unwrap();
    let mut s = Session::start(&["config"], home.path());
    s.answer("n/q> ", "n");
    s.answer("name> ", "store");
    s.answer("Storage> ", "4");
    s.answer("provider> ", "nosuchcloud");
    s.expect("unknown S3 provider");
    s.answer("provider> ", "Other");
    s.answer("env_auth> ", "");
    s.answer("access_key_id> ", &env.access_key);
    s.answer("secret_access_key> ", &env.secret_key);
    s.answer("Confirm> ", "not the same");
    s.expect("do not match");
    s.answer("secret_access_key> ", &env.secret_key);
    s.answer("Confirm> ", &env.secret_key);
    s.answer("region> ", &env.region);
    s.answer("endpoint> ", &env.endpoint);
    s.answer("y/n> ", "");
    s.expect("- secret_access_key: ***");
    s.answer("y/e/d> ", "y");
    s.answer("e/n/d/r/c/q> ", "q");
    let (rc, transcript) = s.finish();
    assert_eq!(rc, 0, "{transcript}");
    assert!(
        transcript.contains(&env.access_key),
        "typed text shows: {transcript}"
    );
    assert!(
        !transcript.contains(&env.secret_key) && !transcript.contains("not the same"),
        "a secret was echoed:\n{transcript}"
    );
    let file = config_file(home.path());
    assert!(
        file.contains("[store]\ntype = \"s3\"\nprovider = \"Other\""),
        "{file}"
    );
    let lsf = run(
        &["lsf", &format!("store:{}", env.bucket)],
        None,
        home.path(),
    );
    assert_eq!(code(&lsf), 0, "{}", stderr(&lsf));
}

#[test]
fn sftp_password_is_read_without_echo_stored_obscured_and_kept_on_edit() {
    let Some(env) = crate::support::require_sftp() else {
        return;
    };
    let Some(login) = env.require_password() else {
        return;
    };
    let home = TempDir::new().unwrap();
    let known_hosts = env.known_hosts.to_string_lossy().into_owned();
    let mut s = Session::start(&["config"], home.path());
    s.answer("n/q> ", "n");
    s.answer("name> ", "box");
    s.answer("Storage> ", "sftp");
    s.answer("host> ", "");
    s.expect("This value is required.");
    s.answer("host> ", &env.host);
    s.answer("user> ", &login.user);
    s.answer("port> ", "twenty-two");
    s.expect("not a port number");
    s.answer("port> ", &env.port.to_string());
    s.answer("password> ", &login.password);
    s.answer("Confirm> ", &login.password);
    s.answer("key_file> ", "");
    s.answer("passphrase> ", "");
    s.answer("known_hosts_file> ", &known_hosts);
    s.answer("host_key_check> ", "");
    s.answer("y/n> ", "n");
    s.answer("y/e/d> ", "y");
    // Edit it: Enter everywhere keeps every value, the password too.
    s.answer("e/n/d/r/c/q> ", "e");
    s.answer("remote> ", "box");
    s.expect(&format!("keep the current value ({})", env.host));
    for prompt in ["host> ", "user> ", "port> ", "password> ", "key_file> "] {
        s.answer(prompt, "");
    }
    for prompt in [
        "passphrase> ",
        "known_hosts_file> ",
        "host_key_check> ",
        "y/n> ",
    ] {
        s.answer(prompt, "");
    }
    s.expect("Keep this \"box\" remote?");
    s.answer("y/e/d> ", "");
    s.answer("e/n/d/r/c/q> ", "q");
    let (rc, transcript) = s.finish();
    assert_eq!(rc, 0, "{transcript}");
    assert!(
        transcript.contains(&login.user),
        "typed text shows: {transcript}"
    );
    assert!(
        !transcript.contains(&login.password),
        "the password was echoed:\n{transcript}"
    );
    let file = config_file(home.path());
    assert!(
        file.contains("\npass = \""),
        "stored as rclone's obscured pass: {file}"
    );
    assert!(!file.contains(&login.password), "stored in clear: {file}");
    let o = run(&["lsf", "box:"], None, home.path());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}
