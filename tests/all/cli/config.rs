//! Named remotes: our config file through `omnistorage config`, and rclone's own
//! rclone.conf, written by `rclone config create`, used unchanged.

use std::process::Command;

use omnistorage::FileBackend;
use omnistorage::conformance::TempDir;

use super::{code, run, stderr, stdout};
use crate::sync::{put, t};

#[test]
fn config_create_show_use_and_delete() {
    let home = TempDir::new().unwrap();
    let data = TempDir::new().unwrap();
    put(
        &FileBackend::new(data.path()).unwrap(),
        "x/a.txt",
        b"hello",
        t(1),
    );
    let h = home.path();
    assert_eq!(
        code(&run(&["config", "create", "here", "local"], None, h)),
        0
    );
    let secret = run(
        &[
            "config",
            "create",
            "bucket",
            "s3",
            "provider=Other",
            "endpoint=http://127.0.0.1:1",
            "access_key_id=AK",
            "secret_access_key=TOPSECRET",
        ],
        None,
        h,
    );
    assert_eq!(code(&secret), 0, "{}", stderr(&secret));
    assert_eq!(
        stdout(&run(&["config", "list"], None, h)),
        "bucket:\nhere:\n"
    );
    let show = stdout(&run(&["config", "show", "bucket"], None, h));
    assert!(
        show.contains("access_key_id = AK") && !show.contains("TOPSECRET"),
        "{show}"
    );
    let spec = format!("here:{}", data.path().join("x").display());
    let ls = run(&["ls", &spec], None, h);
    assert_eq!(stdout(&ls), "        5 a.txt\n", "{}", stderr(&ls));
    assert_eq!(code(&run(&["config", "delete", "here"], None, h)), 0);
    let gone = run(&["ls", &spec], None, h);
    assert_eq!(code(&gone), 1);
    assert!(
        stderr(&gone).contains("no remote named \"here\""),
        "{}",
        stderr(&gone)
    );
    assert_eq!(code(&run(&["config", "show", "nope"], None, h)), 3);
}

#[test]
fn a_malformed_config_is_one_clear_line_and_does_not_stop_local_paths() {
    let home = TempDir::new().unwrap();
    let file = home.path().join("bad.toml");
    std::fs::write(&file, "[x]\ntype = \"local\nbroken\n").unwrap();
    let f = file.to_string_lossy().into_owned();
    let o = run(&["--config", &f, "ls", "x:/tmp"], None, home.path());
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("line"), "{err}");
    let local = run(
        &["--config", &f, "lsf", &home.path().to_string_lossy()],
        None,
        home.path(),
    );
    assert_eq!(code(&local), 0, "{}", stderr(&local));
}

/// `rclone config create` into `conf` (rclone's own writer), for the tests below.
fn rclone_create(conf: &std::path::Path, args: &[&str]) -> bool {
    if crate::sync::parity::rclone().is_none() {
        return false;
    }
    let o = Command::new("rclone")
        .arg("--config")
        .arg(conf)
        .args(["config", "create"])
        .args(args)
        .output()
        .expect("rclone runs");
    assert!(
        o.status.success(),
        "rclone config create: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    true
}

#[test]
fn an_rclone_conf_is_used_unchanged() {
    let home = TempDir::new().unwrap();
    let data = TempDir::new().unwrap();
    put(
        &FileBackend::new(data.path()).unwrap(),
        "d/f.txt",
        b"from rclone",
        t(1),
    );
    // rclone's default location when ours is absent: $XDG_CONFIG_HOME/rclone/rclone.conf.
    let conf = home.path().join("config/rclone/rclone.conf");
    std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
    if !rclone_create(&conf, &["mine", "local"]) {
        return;
    }
    let before = std::fs::read(&conf).unwrap();
    let spec = format!("mine:{}", data.path().join("d").display());
    let o = run(&["cat", &format!("{spec}/f.txt")], None, home.path());
    assert_eq!(stdout(&o), "from rclone", "{}", stderr(&o));
    let path = run(&["config", "path"], None, home.path());
    assert_eq!(stdout(&path).trim(), conf.to_string_lossy());
    // Never rewritten.
    let refused = run(&["config", "create", "other", "local"], None, home.path());
    assert_ne!(code(&refused), 0);
    assert_eq!(std::fs::read(&conf).unwrap(), before);
}

#[cfg(feature = "s3")]
#[test]
fn an_rclone_s3_remote_reaches_the_server() {
    let Some(env) = crate::support::require_server("garage") else {
        return;
    };
    let home = TempDir::new().unwrap();
    let conf = home.path().join("rclone.conf");
    let created = rclone_create(
        &conf,
        &[
            "g",
            "s3",
            "provider",
            "Other",
            "endpoint",
            &env.endpoint,
            "region",
            &env.region,
            "access_key_id",
            &env.access_key,
            "secret_access_key",
            &env.secret_key,
        ],
    );
    if !created {
        return;
    }
    let src = TempDir::new().unwrap();
    put(
        &FileBackend::new(src.path()).unwrap(),
        "a/b.txt",
        b"to garage",
        t(1),
    );
    let prefix = crate::s3::unique_prefix("clirc");
    let remote = format!("g:{}/{prefix}", env.bucket);
    let c = conf.to_string_lossy().into_owned();
    let o = run(
        &[
            "--config",
            &c,
            "copy",
            &src.path().to_string_lossy(),
            &remote,
        ],
        None,
        home.path(),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let ls = run(&["--config", &c, "lsf", "-R", &remote], None, home.path());
    assert_eq!(stdout(&ls), "a/\na/b.txt\n", "{}", stderr(&ls));
    crate::s3::cleanup(&env, &prefix);
}

/// A misspelt option of a configured remote is an error naming the option meant, when the
/// remote is created and when a config file with it is used.
#[test]
fn a_misspelt_remote_option_names_the_one_meant() {
    let home = TempDir::new().unwrap();
    let h = home.path();
    let create = run(
        &[
            "config",
            "create",
            "typo",
            "s3",
            "provider=Other",
            "regoin=eu-west-1",
        ],
        None,
        h,
    );
    assert_ne!(code(&create), 0);
    assert!(
        stderr(&create).contains("did you mean \"region\"?"),
        "{}",
        stderr(&create)
    );
    let file = h.join("typo.conf");
    std::fs::write(
        &file,
        "[typo]\ntype = s3\nprovider = Other\npart_sise = 16M\n",
    )
    .unwrap();
    let f = file.to_string_lossy().into_owned();
    let ls = run(&["--config", &f, "lsf", "typo:bucket"], None, h);
    assert_ne!(code(&ls), 0);
    assert!(
        stderr(&ls).contains("did you mean \"part_size\"?"),
        "{}",
        stderr(&ls)
    );
}
