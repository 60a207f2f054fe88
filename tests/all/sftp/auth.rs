//! Connecting: each way to authenticate, each way a host key can be wrong, URLs and
//! `~/.ssh/config`, and secrets kept out of messages.

use std::path::{Path as FsPath, PathBuf};
use std::process::{Child, Command, Stdio};

use omnistorage::backends::sftp::{HostKeyCheck, HostKeyError, HostKeyProblem, SftpBackend};
use omnistorage::{BackendExt, ErrorKind};

use super::{base, builder, root, unique};
use crate::support::{SftpEnv, require_sftp};

/// A scratch directory for files a test writes (known_hosts, ssh config), removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(unique(&format!("omni-sftp-{tag}")));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).expect("write scratch file");
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `TYPE BASE64` of a public key file.
fn public_key(path: &FsPath) -> String {
    let text = std::fs::read_to_string(path).expect("public key");
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The server's host key fingerprint as `ssh-keygen -l` prints it (the second field).
fn fingerprint_by_ssh_keygen(env: &SftpEnv) -> String {
    let out = Command::new("ssh-keygen")
        .arg("-l")
        .arg("-f")
        .arg(&env.host_key_pub)
        .output()
        .expect("ssh-keygen -l");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .nth(1)
        .expect("fingerprint")
        .to_owned()
}

fn host_key_error(e: &omnistorage::Error) -> HostKeyError {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(h) = s.downcast_ref::<HostKeyError>() {
            return h.clone();
        }
        source = s.source();
    }
    panic!("no HostKeyError in {}", e.display_chain());
}

/// Connects and proves the session works with one write and read.
fn works(b: omnistorage::Result<SftpBackend>, what: &str) {
    let b = b.unwrap_or_else(|e| panic!("{what}: {}", e.display_chain()));
    b.write_all("hello.txt", b"hi")
        .unwrap_or_else(|e| panic!("{what}: write: {e}"));
    assert_eq!(b.read_to_vec("hello.txt").expect("read"), b"hi", "{what}");
}

fn refused(b: omnistorage::Result<SftpBackend>, kind: ErrorKind, what: &str) -> omnistorage::Error {
    let e = b.map(|_| ()).expect_err(what);
    assert_eq!(e.kind(), kind, "{what}: {}", e.display_chain());
    assert!(!e.is_temporary(), "{what}: not worth a retry");
    e
}

#[test]
fn a_key_with_and_without_its_passphrase() {
    let Some(env) = require_sftp() else { return };
    let dir = root(&env, "auth-pass");
    let b = |key: &FsPath| {
        SftpBackend::builder(env.host.clone())
            .port(env.port)
            .user(env.user.clone())
            .known_hosts(&env.known_hosts)
            .read_ssh_config(false)
            .agent(false)
            .root(dir.to_string_lossy())
            .key_file(key)
    };
    works(b(&env.key).build(), "key without a passphrase");
    works(
        b(&env.key_pass).passphrase(env.passphrase.clone()).build(),
        "key with its passphrase",
    );
    let e = refused(
        b(&env.key_pass).build(),
        ErrorKind::Unauthenticated,
        "no passphrase",
    );
    assert!(e.to_string().contains("needs a passphrase"), "{e}");
    let e = refused(
        b(&env.key_pass).passphrase("not-the-passphrase").build(),
        ErrorKind::Unauthenticated,
        "a wrong passphrase",
    );
    let shown = format!("{e} {e:?} {}", e.display_chain());
    assert!(!shown.contains("not-the-passphrase") && !shown.contains(&env.passphrase));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_wrong_key_is_refused_and_the_error_says_what_was_tried() {
    let Some(env) = require_sftp() else { return };
    let b = SftpBackend::builder(env.host.clone())
        .port(env.port)
        .user(env.user.clone())
        .known_hosts(&env.known_hosts)
        .read_ssh_config(false)
        .agent(false)
        .key_file(&env.wrong_key)
        .key_file("/nonexistent/key");
    let e = refused(b.build(), ErrorKind::Unauthenticated, "wrong key");
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("{} (refused)", env.wrong_key.display())),
        "{msg}"
    );
    assert!(msg.contains("/nonexistent/key (missing)"), "{msg}");
}

#[test]
fn password_authentication() {
    let Some(env) = require_sftp() else { return };
    let Some(pw) = env.require_password() else {
        return;
    };
    let b = |password: &str| {
        SftpBackend::builder(env.host.clone())
            .port(env.port)
            .user(pw.user.clone())
            .known_hosts(&env.known_hosts)
            .read_ssh_config(false)
            .agent(false)
            .root(format!("{}/{}", pw.root, unique("pw")))
            .password(password)
    };
    works(b(&pw.password).build(), "the right password");
    let e = refused(
        b("not-it").build(),
        ErrorKind::Unauthenticated,
        "a wrong password",
    );
    assert!(e.to_string().contains("password (refused)"), "{e}");
    let shown = format!("{e:?} {}", e.display_chain());
    assert!(!shown.contains("not-it"), "{shown}");
    // The login directory is the user's own (relative roots are under it).
    let home = SftpBackend::builder(env.host.clone())
        .port(env.port)
        .user(pw.user.clone())
        .known_hosts(&env.known_hosts)
        .read_ssh_config(false)
        .agent(false)
        .password(pw.password.clone())
        .build()
        .expect("no root: the login directory");
    assert_eq!(home.root(), pw.root.trim_end_matches('/'));
}

/// An ssh-agent of the test's own, on its own socket, killed on drop.
struct Agent {
    child: Child,
    socket: PathBuf,
    _dir: Scratch,
}

impl Agent {
    fn start() -> Agent {
        let dir = Scratch::new("agent");
        let socket = dir.0.join("agent.sock");
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ssh-agent (openssh-client)");
        // The socket exists once the agent listens: wait on that event, bounded.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !socket.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "ssh-agent did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Agent {
            child,
            socket,
            _dir: dir,
        }
    }

    fn add(&self, key: &FsPath) {
        let status = Command::new("ssh-add")
            .arg(key)
            .env("SSH_AUTH_SOCK", &self.socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("ssh-add");
        assert!(status.success(), "ssh-add {}", key.display());
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn agent_authentication() {
    let Some(env) = require_sftp() else { return };
    let agent = Agent::start();
    let dir = root(&env, "agent");
    let b = || {
        SftpBackend::builder(env.host.clone())
            .port(env.port)
            .user(env.user.clone())
            .known_hosts(&env.known_hosts)
            .read_ssh_config(false)
            .root(dir.to_string_lossy())
            .agent_socket(&agent.socket)
    };
    // An agent without keys: nothing to offer.
    let e = refused(b().build(), ErrorKind::Unauthenticated, "an empty agent");
    assert!(e.to_string().contains("ssh-agent"), "{e}");
    agent.add(&env.wrong_key);
    agent.add(&env.key);
    works(b().build(), "the agent's second key");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unknown_host_is_refused_with_its_fingerprint() {
    let Some(env) = require_sftp() else { return };
    let scratch = Scratch::new("unknown");
    let empty = scratch.file("known_hosts", "# nothing here\n");
    let e = refused(
        base(&env).known_hosts(&empty).build(),
        ErrorKind::Unauthenticated,
        "unknown host",
    );
    let h = host_key_error(&e);
    assert_eq!(h.problem, HostKeyProblem::Unknown);
    assert_eq!(h.host, format!("[{}]:{}", env.host, env.port));
    assert_eq!(h.fingerprint, fingerprint_by_ssh_keygen(&env));
    assert_eq!(h.key_type, "ssh-ed25519");
    assert!(e.to_string().contains(&h.fingerprint), "{e}");
    // A missing file knows no host either.
    let e = refused(
        base(&env).known_hosts(scratch.0.join("absent")).build(),
        ErrorKind::Unauthenticated,
        "no known_hosts file",
    );
    assert_eq!(host_key_error(&e).problem, HostKeyProblem::Unknown);
}

#[test]
fn a_changed_host_key_is_refused() {
    let Some(env) = require_sftp() else { return };
    let scratch = Scratch::new("changed");
    let other = public_key(&env.wrong_key.with_extension("pub"));
    let kh = scratch.file(
        "known_hosts",
        &format!("# line 1\n[{}]:{} {other}\n", env.host, env.port),
    );
    let e = refused(
        base(&env).known_hosts(&kh).build(),
        ErrorKind::Unauthenticated,
        "changed key",
    );
    let h = host_key_error(&e);
    assert_eq!(
        h.problem,
        HostKeyProblem::Changed {
            file: kh.display().to_string(),
            line: 2
        }
    );
    assert_eq!(h.fingerprint, fingerprint_by_ssh_keygen(&env));
    // Revoked: the right key, marked @revoked.
    let key = public_key(&env.host_key_pub);
    let kh = scratch.file(
        "revoked",
        &format!("@revoked * {key}\n[{}]:{} {key}\n", env.host, env.port),
    );
    let e = refused(
        base(&env).known_hosts(&kh).build(),
        ErrorKind::Unauthenticated,
        "revoked key",
    );
    assert!(matches!(
        host_key_error(&e).problem,
        HostKeyProblem::Revoked { line: 1, .. }
    ));
}

#[test]
fn hashed_known_hosts_entries_match() {
    let Some(env) = require_sftp() else { return };
    let scratch = Scratch::new("hashed");
    let kh = scratch.file(
        "known_hosts",
        &std::fs::read_to_string(&env.known_hosts).unwrap(),
    );
    let status = Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(&kh)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("ssh-keygen -H");
    assert!(status.success());
    let text = std::fs::read_to_string(&kh).unwrap();
    assert!(text.starts_with("|1|"), "hashed: {text}");
    works(
        base(&env)
            .known_hosts(&kh)
            .root(root(&env, "hashed").to_string_lossy())
            .build(),
        "hashed entry",
    );
}

#[test]
fn explicit_ways_around_the_check() {
    let Some(env) = require_sftp() else { return };
    let scratch = Scratch::new("relaxed");
    let dir = root(&env, "relaxed");
    let kh = scratch.0.join("new_known_hosts");
    // accept-new records the key, and a strict check then finds it.
    works(
        base(&env)
            .known_hosts(&kh)
            .host_key_check(HostKeyCheck::AcceptNew)
            .root(dir.to_string_lossy())
            .build(),
        "accept-new",
    );
    assert!(
        std::fs::read_to_string(&kh)
            .unwrap()
            .contains("ssh-ed25519")
    );
    works(
        base(&env)
            .known_hosts(&kh)
            .root(dir.to_string_lossy())
            .build(),
        "recorded key",
    );
    // accept-new still refuses a changed key.
    let other = public_key(&env.wrong_key.with_extension("pub"));
    let changed = scratch.file("changed", &format!("[{}]:{} {other}\n", env.host, env.port));
    refused(
        base(&env)
            .known_hosts(&changed)
            .host_key_check(HostKeyCheck::AcceptNew)
            .build(),
        ErrorKind::Unauthenticated,
        "accept-new and a changed key",
    );
    // Off: anything goes.
    works(
        base(&env)
            .known_hosts(&changed)
            .host_key_check(HostKeyCheck::InsecureOff)
            .root(dir.to_string_lossy())
            .build(),
        "off",
    );
    // A pinned fingerprint wins over the files, both ways.
    let fp = fingerprint_by_ssh_keygen(&env);
    works(
        base(&env)
            .known_hosts(&changed)
            .host_key_fingerprint(fp.clone())
            .root(dir.to_string_lossy())
            .build(),
        "pinned",
    );
    let e = refused(
        builder(&env)
            .host_key_fingerprint("SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .build(),
        ErrorKind::Unauthenticated,
        "another pin",
    );
    assert!(matches!(
        host_key_error(&e).problem,
        HostKeyProblem::NotPinned { .. }
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn urls_and_ssh_config_connect() {
    let Some(env) = require_sftp() else { return };
    let dir = root(&env, "url");
    let url = format!(
        "sftp://{}@{}:{}{}?key={}&known_hosts={}&ssh_config=false&agent=false",
        env.user,
        env.host,
        env.port,
        dir.display(),
        env.key.display(),
        env.known_hosts.display()
    );
    let b = omnistorage::open(&url).unwrap_or_else(|e| panic!("{url}: {}", e.display_chain()));
    b.write_all("via-url", b"u").unwrap();
    assert_eq!(std::fs::read(dir.join("via-url")).unwrap(), b"u");
    // An ~/.ssh/config alias carries host, port, user, key and known_hosts.
    let scratch = Scratch::new("config");
    let config = scratch.file(
        "config",
        &format!(
            "Host omni-test-box\n  HostName {}\n  Port {}\n  User {}\n  IdentityFile {}\n  UserKnownHostsFile {}\n",
            env.host,
            env.port,
            env.user,
            env.key.display(),
            env.known_hosts.display()
        ),
    );
    let url = format!(
        "sftp://omni-test-box{}?ssh_config={}&agent=false",
        dir.display(),
        config.display()
    );
    let b = omnistorage::open(&url).unwrap_or_else(|e| panic!("{url}: {}", e.display_chain()));
    assert_eq!(b.read_to_vec("via-url").unwrap(), b"u");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unreachable_server_is_a_temporary_error() {
    let Some(env) = require_sftp() else { return };
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let started = std::time::Instant::now();
    let e = builder(&env).port(port).build().map(|_| ()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{}", e.display_chain());
    assert!(e.is_temporary());
    assert!(e.to_string().contains(&port.to_string()), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn secrets_never_show() {
    let Some(env) = require_sftp() else { return };
    let b = builder(&env)
        .password("pw-hunter2")
        .passphrase("pp-hunter3");
    assert!(!format!("{b:?}").contains("hunter"));
    let backend = b.build().expect("connects by key");
    assert!(!format!("{backend:?}").contains("hunter"));
    let url = format!(
        "sftp://{}:pw-hunter4@{}:{}/?passphrase=pp-hunter5&nosuch=1",
        env.user, env.host, env.port
    );
    let e = omnistorage::open(&url).map(|_| ()).unwrap_err();
    let shown = format!("{e} {e:?} {}", e.display_chain());
    assert!(!shown.contains("hunter"), "{shown}");
}
