//! The config as a whole: locating, loading, saving, the environment's overrides, and the
//! rclone remote types mapped to URLs.

use std::path::{Path, PathBuf};

use omnistorage::ErrorKind;

use omnistorage::backends::s3::S3Builder;
use omnistorage::backends::sftp::SftpBuilder;

use super::remote::{Kind, Spec, Target, parse_spec_for, resolve_with};
use super::store::Env;
use super::{Config, Source, obscure};

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "omnistorage-cliconfig-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn env(vars: &[(&str, &str)]) -> Env {
    Env {
        vars: vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A config read from `text` (TOML, or INI when `rclone`) with `vars` as the environment.
fn config(text: &str, rclone: bool, vars: &[(&str, &str)]) -> (TempDir, Config) {
    let dir = TempDir::new("cfg");
    let path = dir.0.join(if rclone { "rclone.conf" } else { "c.toml" });
    write(&path, text);
    let cfg = Config::load_with(Some(&path), env(vars)).unwrap();
    (dir, cfg)
}

/// What a spec opens, as text to compare: a local path as it is, a URL as parsed (secrets
/// hidden), a configured remote as its builder's `Debug` (secrets hidden).
fn opened(cfg: &Config, spec: &str) -> String {
    let r = resolve_with(spec, cfg, false).unwrap_or_else(|e| panic!("{spec}: {e}"));
    describe(&r.target)
}

fn describe(t: &Target) -> String {
    match t {
        Target::Local(p) => p.clone(),
        Target::Url(u) => u.to_string(),
        Target::Remote(c) => match c.kind {
            Kind::S3 => format!("{:?}", c.s3().unwrap()),
            Kind::Sftp => format!("{:?}", c.sftp().unwrap()),
        },
    }
}

/// The options a configured remote gives its builder.
fn options(cfg: &Config, spec: &str) -> Vec<(String, String)> {
    match resolve_with(spec, cfg, false).unwrap().target {
        Target::Remote(c) => c.options,
        other => panic!("{spec}: {other:?}"),
    }
}

/// The builder a URL makes, as its `Debug`.
fn from_url(url: &str) -> String {
    let parsed = omnistorage::Url::parse(url).unwrap();
    match parsed.scheme.as_str() {
        "s3" => format!("{:?}", S3Builder::from_url(&parsed).unwrap()),
        "sftp" => format!("{:?}", SftpBuilder::from_url(&parsed).unwrap()),
        other => panic!("{other}"),
    }
}

#[test]
fn locate_prefers_flag_then_env_then_ours_then_rclone() {
    let home = TempDir::new("home");
    let h = home.0.to_str().unwrap();
    let ours = home.0.join(".config/omnistorage/config.toml");
    let rclone = home.0.join(".config/rclone/rclone.conf");
    let vars = [("HOME", h)];
    // Nothing exists: ours, to be written.
    let cfg = Config::load_with(None, env(&vars)).unwrap();
    assert_eq!(cfg.path(), &Source::Ours(ours.clone()));
    assert!(cfg.names().is_empty());
    // rclone's exists: read it.
    write(&rclone, "[r]\ntype = local\n");
    let cfg = Config::load_with(None, env(&vars)).unwrap();
    assert_eq!(cfg.path(), &Source::Rclone(rclone.clone()));
    assert_eq!(cfg.names(), ["r"]);
    // $RCLONE_CONFIG wins over rclone's default.
    let other = home.0.join("elsewhere.conf");
    write(&other, "[e]\ntype = local\n");
    let with = [("HOME", h), ("RCLONE_CONFIG", other.to_str().unwrap())];
    assert_eq!(Config::load_with(None, env(&with)).unwrap().names(), ["e"]);
    // Ours exists: it wins.
    write(&ours, "[o]\ntype = \"local\"\n");
    assert_eq!(Config::load_with(None, env(&with)).unwrap().names(), ["o"]);
    // $XDG_CONFIG_HOME moves ours.
    let xdg = home.0.join("xdg");
    write(
        &xdg.join("omnistorage/config.toml"),
        "[x]\ntype = \"local\"\n",
    );
    let vars = [("HOME", h), ("XDG_CONFIG_HOME", xdg.to_str().unwrap())];
    assert_eq!(Config::load_with(None, env(&vars)).unwrap().names(), ["x"]);
    // $OMNISTORAGE_CONFIG, then --config, win; `.conf` is read as INI.
    let vars = [("HOME", h), ("OMNISTORAGE_CONFIG", other.to_str().unwrap())];
    let cfg = Config::load_with(None, env(&vars)).unwrap();
    assert_eq!(
        (cfg.path(), cfg.names()),
        (&Source::Rclone(other.clone()), vec!["e"])
    );
    let cfg = Config::load_with(Some(&ours), env(&vars)).unwrap();
    assert_eq!(cfg.names(), ["o"]);
    // No home at all: nowhere to save.
    let cfg = Config::load_with(None, env(&[])).unwrap();
    assert_eq!(cfg.path(), &Source::None);
    assert_eq!(cfg.save().unwrap_err().kind(), ErrorKind::InvalidConfig);
}

#[test]
fn malformed_files_name_the_file_and_line() {
    let dir = TempDir::new("bad");
    let path = dir.0.join("c.toml");
    write(&path, "[a]\ntype = local\n");
    let e = Config::load_with(Some(&path), env(&[])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    let shown = e.to_string();
    assert!(
        shown.contains("line 2") && shown.contains("c.toml"),
        "{shown}"
    );
}

#[test]
fn create_delete_save_round_trip() {
    let dir = TempDir::new("save");
    let path = dir.0.join("sub/config.toml");
    let mut cfg = Config::load_with(Some(&path), env(&[])).unwrap();
    let kv = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    cfg.create("box", "sftp", &[kv("host", "h"), kv("pass", "hunter2")])
        .unwrap();
    cfg.create(
        "my s3",
        "s3",
        &[kv("provider", "Minio"), kv("profile", "a \"quoted\"\nline")],
    )
    .unwrap();
    assert_eq!(
        cfg.create("box", "local", &[]).unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    assert_eq!(
        cfg.create("x", "drive", &[]).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        cfg.create("-x", "local", &[]).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        cfg.create("y", "local", &[kv("type", "s3")])
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    cfg.create("gone", "local", &[]).unwrap();
    cfg.delete("gone").unwrap();
    assert_eq!(cfg.delete("gone").unwrap_err().kind(), ErrorKind::NotFound);
    cfg.save().unwrap();

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains("hunter2"),
        "pass is stored obscured:\n{text}"
    );
    let again = Config::load_with(Some(&path), env(&[])).unwrap();
    assert_eq!(again.names(), ["box", "my s3"]);
    assert_eq!(again.remotes, cfg.remotes);
    let pass = again.options("box").unwrap();
    let pass = &pass.iter().find(|(k, _)| k == "pass").unwrap().1;
    assert_eq!(obscure::reveal(pass).unwrap(), "hunter2");
    assert!(options(&again, "box:x").contains(&("password".into(), "hunter2".into())));
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left");
}

#[test]
fn update_rename_copy_keep_places_and_obscure_secrets() {
    let dir = TempDir::new("edit");
    let path = dir.0.join("config.toml");
    let mut cfg = Config::load_with(Some(&path), env(&[])).unwrap();
    let kv = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    cfg.create("a", "local", &[]).unwrap();
    cfg.create("box", "sftp", &[kv("host", "h"), kv("password", "hunter2")])
        .unwrap();
    cfg.create("z", "memory", &[]).unwrap();
    let stored = cfg.stored_options("box").unwrap().to_vec();
    assert_eq!(
        stored[2].0, "pass",
        "the builder's password is kept as rclone's pass"
    );
    assert_eq!(obscure::reveal(&stored[2].1).unwrap(), "hunter2");
    cfg.update("box", &[kv("host", "h2"), kv("passphrase", "pp")])
        .unwrap();
    let stored = cfg.stored_options("box").unwrap().to_vec();
    assert_eq!((stored[0].1.as_str(), stored[1].1.as_str()), ("sftp", "h2"));
    assert_eq!(stored[2].0, "key_file_pass");
    assert_eq!(obscure::reveal(&stored[2].1).unwrap(), "pp");
    assert_eq!(
        cfg.update("box", &[kv("pass", "x"), kv("password", "y")])
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput,
        "the same option twice"
    );
    assert_eq!(
        cfg.update("nosuch", &[]).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    cfg.rename("box", "server").unwrap();
    assert_eq!(
        cfg.rename("a", "z").unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    assert_eq!(
        cfg.rename("nosuch", "q").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    cfg.copy("server", "server2").unwrap();
    assert_eq!(
        cfg.copy("a", "bad:name").unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(cfg.stored_names(), ["a", "server", "z", "server2"]);
    assert_eq!(cfg.stored_options("server"), cfg.stored_options("server2"));
}

#[test]
fn memory_remotes_share_one_store_and_options_are_checked_one_by_one() {
    use super::remote::check_option;
    let (_dir, cfg) = config("[m]\ntype = memory\n[n]\ntype = memory\n", true, &[]);
    let m = resolve_with("m:dir/x", &cfg, false).unwrap();
    let n = resolve_with("n:dir/x", &cfg, false).unwrap();
    assert_eq!(m.target, n.target);
    let Target::Url(url) = m.target else {
        panic!("{m:?}");
    };
    assert_eq!((url.scheme.as_str(), url.path.as_str()), ("mem", "/dir/x"));
    assert!(check_option("s3", "region", "eu-west-1").is_ok());
    assert!(check_option("s3", "chunk_size", "5X").is_err());
    assert!(check_option("s3", "colour", "blue").is_err());
    assert!(check_option("sftp", "port", "22").is_ok());
    assert!(check_option("sftp", "port", "many").is_err());
    assert!(check_option("alias", "remote", "other:dir").is_ok());
    assert!(check_option("alias", "remote", "").is_err());
}

#[test]
fn rclone_files_are_never_rewritten() {
    let (_dir, mut cfg) = config("[r]\ntype = local\n", true, &[]);
    cfg.delete("r").unwrap();
    let e = cfg.save().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.to_string().contains("never rewrites"), "{e}");
}

#[test]
fn show_redacts_secrets() {
    let text = "[s]\naccess_key_id = AKID\nsecret_access_key = S1\nsession_token = S2\ntype = s3\n\
                [b]\ntype = sftp\npass = S3\nkey_file_pass = S4\nkey_file = /k\n";
    let (_dir, cfg) = config(text, true, &[]);
    let shown = cfg.show("s").unwrap();
    assert_eq!(shown[0], ("type".to_owned(), "s3".to_owned()), "type first");
    let b = cfg.show("b").unwrap();
    let all = format!("{shown:?} {b:?}");
    for secret in ["S1", "S2", "S3", "S4"] {
        assert!(!all.contains(secret), "{all}");
    }
    assert!(all.contains("AKID") && all.contains("/k"), "{all}");
    assert_eq!(cfg.show("nope").unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn environment_overrides_and_defines_remotes() {
    let vars = [
        ("RCLONE_CONFIG_MY_S3_REGION", "from-rclone-env"),
        ("RCLONE_CONFIG_MY_S3_ENDPOINT", "http://rclone:1"),
        ("OMNISTORAGE_CONFIG_MY_S3_ENDPOINT", "http://ours:2"),
        ("RCLONE_CONFIG_ENVONLY_TYPE", "local"),
        ("OMNISTORAGE_CONFIG_OTHER_TYPE", "alias"),
        ("OMNISTORAGE_CONFIG_OTHER_REMOTE", "envonly:/base"),
    ];
    let (_dir, mut cfg) = config("[my-s3]\ntype = s3\nregion = file\n", true, &vars);
    assert_eq!(cfg.names(), ["my-s3", "ENVONLY", "OTHER"]);
    let o = options(&cfg, "my-s3:b");
    assert!(
        o.contains(&("region".into(), "from-rclone-env".into())),
        "{o:?}"
    );
    assert!(
        o.contains(&("endpoint".into(), "http://ours:2".into())),
        "ours beats rclone's: {o:?}"
    );
    assert_eq!(opened(&cfg, "envonly:/tmp/x"), "/tmp/x");
    assert_eq!(opened(&cfg, "other:sub"), "/base/sub");
    assert_eq!(
        cfg.delete("envonly").unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn specs_split_as_rclone_does() {
    use Spec::*;
    for (spec, windows, want) in [
        ("/abs/dir", false, Local("/abs/dir")),
        ("rel", false, Local("rel")),
        ("./a:b", false, Local("./a:b")),
        ("dir/a:b", false, Local("dir/a:b")),
        (
            "a:b",
            false,
            Remote {
                name: "a",
                path: "b",
            },
        ),
        (
            "a:",
            false,
            Remote {
                name: "a",
                path: "",
            },
        ),
        (
            "my remote:x/y",
            false,
            Remote {
                name: "my remote",
                path: "x/y",
            },
        ),
        (
            "C:\\x",
            false,
            Remote {
                name: "C",
                path: "\\x",
            },
        ),
        ("C:\\x", true, Local("C:\\x")),
        ("C:", true, Local("C:")),
        (
            "ab:x",
            true,
            Remote {
                name: "ab",
                path: "x",
            },
        ),
        ("s3://b/p", false, Url("s3://b/p")),
        ("file:///abs", false, Url("file:///abs")),
        ("mem://", false, Url("mem://")),
        ("-x:y", false, Local("-x:y")),
    ] {
        assert_eq!(
            parse_spec_for(spec, windows).unwrap(),
            want,
            "{spec} windows={windows}"
        );
    }
    for bad in ["", ":s3:bucket"] {
        assert_eq!(
            parse_spec_for(bad, false).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
}

#[test]
fn s3_remotes_take_several_endpoints_and_a_bound() {
    let text = "[cluster]\ntype = s3\nprovider = Other\nenv_auth = true\n\
                endpoint = http://127.0.0.1:3910, 127.0.0.1:3920\nendpoint_down_after = 5s\n";
    let (_dir, cfg) = config(text, true, &[]);
    assert_eq!(
        opened(&cfg, "cluster:b"),
        from_url(
            "s3://b/?provider=other&env_auth=true&endpoint=http://127.0.0.1:3910,https://127.0.0.1:3920&endpoint_down_after=5s"
        )
    );
}

#[test]
fn rclone_remotes_build_what_their_urls_build() {
    let pass = obscure::obscure("pw");
    let kfp = obscure::obscure("kp");
    let text = format!(
        "[loc]\ntype = local\n\
         [aws]\ntype = s3\nprovider = AWS\naccess_key_id = AK\nsecret_access_key = SK\nregion = eu-west-1\n\
         [tagged]\ntype = s3\nprovider = AWS\nacl = private\nstorage_class = GLACIER\n\
         [mini]\ntype = s3\nprovider = Minio\nendpoint = http://127.0.0.1:9000\nforce_path_style = true\nenv_auth = true\n\
         [anon]\ntype = s3\nprovider = Other\nendpoint = s3.example.net\n\
         [r2]\ntype = s3\nprovider = Cloudflare\nendpoint = https://acct.r2.cloudflarestorage.com\naccess_key_id = a\nsecret_access_key = b\n\
         [tuned]\ntype = s3\nenv_auth = true\nchunk_size = 8M\nupload_concurrency = 8\nsession_token = T\nprofile = p\n\
         [box]\ntype = sftp\nhost = example.com\nuser = me\nport = 2222\npass = {pass}\nkey_file = /k\nkey_file_pass = {kfp}\n\
         known_hosts_file = /kh\nshell_type = unix\nmd5sum_command = md5sum\ndisable_hashcheck = true\nkey_use_agent = true\n\
         [plainbox]\ntype = sftp\nhost = example.com\nuser = me\nport = 2222\npass = {pass}\nkey_file = /k\nkey_file_pass = {kfp}\n\
         known_hosts_file = /kh\ndisable_hashcheck = true\nkey_use_agent = true\n\
         [v6]\ntype = sftp\nhost = ::1\n\
         [al]\ntype = alias\nremote = mini:bucket/base\n\
         [al2]\ntype = alias\nremote = al:deeper\n\
         [dir]\ntype = alias\nremote = /srv/data\n\
         [u]\ntype = alias\nremote = mem://named/x\n"
    );
    let (_dir, cfg) = config(&text, true, &[]);
    for (spec, want) in [
        ("loc:/tmp/x", "/tmp/x"),
        ("loc:rel/x", "./rel/x"),
        ("loc:", "."),
        ("dir:sub", "/srv/data/sub"),
        ("u:y", "mem://named/x/y"),
    ] {
        assert_eq!(opened(&cfg, spec), want, "{spec}");
    }
    for (spec, url) in [
        (
            "aws:bucket/dir/f",
            "s3://bucket/dir/f?provider=aws&region=eu-west-1&access_key_id=AK&secret_access_key=SK&env_auth=false",
        ),
        (
            "mini:b",
            "s3://b/?provider=minio&endpoint=http://127.0.0.1:9000&path_style=true&env_auth=true",
        ),
        (
            "anon:b/p q",
            "s3://b/p%20q?provider=other&endpoint=https://s3.example.net&env_auth=false",
        ),
        (
            "r2:b",
            "s3://b/?provider=r2&endpoint=https://acct.r2.cloudflarestorage.com&access_key_id=a&secret_access_key=b&env_auth=false",
        ),
        (
            "tuned:b",
            "s3://b/?session_token=T&profile=p&part_size=8Mi&concurrency=8&env_auth=true",
        ),
        (
            "plainbox:rel",
            "sftp://me@example.com:2222/~/rel?password=pw&key=/k&passphrase=kp&known_hosts=/kh&agent=true&hashes=false",
        ),
        ("v6:/abs", "sftp://[::1]/abs"),
        (
            "al:x",
            "s3://bucket/base/x?provider=minio&endpoint=http://127.0.0.1:9000&path_style=true&env_auth=true",
        ),
        (
            "al2:x",
            "s3://bucket/base/deeper/x?provider=minio&endpoint=http://127.0.0.1:9000&path_style=true&env_auth=true",
        ),
    ] {
        assert_eq!(opened(&cfg, spec), from_url(url), "{spec}");
    }
    let aws = resolve_with("aws:bucket", &cfg, false).unwrap();
    assert_eq!(aws.display, "aws:bucket");
    assert!(!format!("{aws:?} {}", opened(&cfg, "aws:bucket")).contains("SK"));
    assert_eq!(aws.ignored, Vec::<String>::new());
    let tagged = resolve_with("tagged:b", &cfg, false).unwrap();
    assert_eq!(tagged.ignored, ["acl", "storage_class"]);
    let b = resolve_with("box:", &cfg, false).unwrap();
    let shown = format!("{b:?} {} {}", b.display, opened(&cfg, "box:"));
    assert!(!shown.contains("pw") && !shown.contains("kp"), "{shown}");
    assert_eq!(b.ignored, ["shell_type", "md5sum_command"]);
}

#[test]
fn the_same_keys_build_the_same_backend_from_a_url_rclone_conf_and_toml() {
    let secret = "SECRETVALUE";
    let pass = obscure::obscure(secret);
    let ini = format!(
        "[s]\ntype = s3\nprovider = Minio\nendpoint = http://127.0.0.1:9000\n\
         access_key_id = AK\nsecret_access_key = {secret}\nregion = r\nchunk_size = 5Mi\n\
         upload_concurrency = 3\nforce_path_style = true\nenv_auth = false\n\
         [f]\ntype = sftp\nhost = example.com\nuser = me\nport = 2222\npass = {pass}\n\
         key_file = /k\nknown_hosts_file = /kh\n"
    );
    let toml = format!(
        "[s]\ntype = \"s3\"\nprovider = \"Minio\"\nendpoint = \"http://127.0.0.1:9000\"\n\
         access_key_id = \"AK\"\nsecret_access_key = \"{secret}\"\nregion = \"r\"\nchunk_size = \"5Mi\"\n\
         upload_concurrency = 3\nforce_path_style = true\nenv_auth = false\n\
         [f]\ntype = \"sftp\"\nhost = \"example.com\"\nuser = \"me\"\nport = 2222\npass = \"{pass}\"\n\
         key_file = \"/k\"\nknown_hosts_file = \"/kh\"\n"
    );
    let (_a, rclone) = config(&ini, true, &[]);
    let (_b, ours) = config(&toml, false, &[]);
    let s3 = from_url(&format!(
        "s3://bkt/dir?provider=Minio&endpoint=http://127.0.0.1:9000&access_key_id=AK&secret_access_key={secret}&region=r&chunk_size=5Mi&upload_concurrency=3&force_path_style=true&env_auth=false"
    ));
    let sftp = from_url(&format!(
        "sftp://me:{secret}@example.com:2222/~/dir?key_file=/k&known_hosts_file=/kh"
    ));
    for cfg in [&rclone, &ours] {
        assert_eq!(opened(cfg, "s:bkt/dir"), s3);
        assert_eq!(opened(cfg, "f:dir"), sftp);
    }
    // The secrets were there (the builders differ without them), and never show.
    assert_ne!(
        s3,
        from_url(
            "s3://bkt/dir?provider=Minio&endpoint=http://127.0.0.1:9000&region=r&chunk_size=5Mi&upload_concurrency=3&force_path_style=true&env_auth=false"
        )
    );
    assert!(options(&rclone, "f:dir").contains(&("password".into(), secret.into())));
    for shown in [&s3, &sftp] {
        assert!(!shown.contains(secret), "{shown}");
    }
    for spec in ["s:bkt/dir", "f:dir"] {
        let r = resolve_with(spec, &rclone, false).unwrap();
        assert!(!format!("{r:?} {}", r.display).contains(secret));
    }
}

#[test]
fn bad_remotes_are_clear_errors() {
    let text = "[drive]\ntype = drive\n[notype]\nx = 1\n\
                [s]\ntype = s3\nforce_path_style = maybe\n\
                [p]\ntype = sftp\nhost = h\npass = plain\n[nohost]\ntype = sftp\n\
                [port]\ntype = sftp\nhost = h\nport = 99999\n[pem]\ntype = sftp\nhost = h\nkey_pem = x\n\
                [a]\ntype = alias\nremote = b:x\n[b]\ntype = alias\nremote = c:\n[c]\ntype = alias\nremote = a:y\n\
                [noremote]\ntype = alias\n";
    let (_dir, cfg) = config(text, true, &[]);
    for (spec, kind, words) in [
        (
            "drive:x",
            ErrorKind::Unsupported,
            "supported: alias, local, memory, s3, sftp",
        ),
        ("notype:x", ErrorKind::InvalidConfig, "no type"),
        ("s:b", ErrorKind::InvalidConfig, "force_path_style"),
        ("s:", ErrorKind::InvalidInput, "bucket"),
        ("p:x", ErrorKind::InvalidConfig, "is it obscured"),
        ("nohost:x", ErrorKind::InvalidConfig, "needs host"),
        ("port:x", ErrorKind::InvalidConfig, "port"),
        ("pem:x", ErrorKind::Unsupported, "key_file"),
        (
            "a:x",
            ErrorKind::InvalidConfig,
            "alias loop: a -> b -> c -> a",
        ),
        ("noremote:x", ErrorKind::InvalidConfig, "needs remote"),
        (
            "nosuch:x",
            ErrorKind::InvalidConfig,
            "no remote named \"nosuch\"",
        ),
        ("nosuch2:x", ErrorKind::InvalidConfig, "./"),
        ("s3://b/p%zz", ErrorKind::InvalidConfig, "percent"),
    ] {
        let e = resolve_with(spec, &cfg, false).unwrap_err();
        assert_eq!(e.kind(), kind, "{spec}: {e}");
        assert!(e.to_string().contains(words), "{spec}: {e}");
    }
}
