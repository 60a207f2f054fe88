//! Where S3 credentials and the region come from.

use std::path::PathBuf;

use crate::error::{Error, ErrorKind, Result};

pub(crate) use crate::backends::secret::Secret;

/// Resolved credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Creds {
    pub(crate) key: String,
    pub(crate) secret: Secret,
    pub(crate) token: Option<Secret>,
    /// Where they came from, for messages (never the values).
    pub(crate) origin: String,
}

/// What the builder was told about credentials.
#[derive(Clone, Debug, Default)]
pub(crate) struct CredsConfig {
    /// The key id and secret given (both, or neither: [`resolve`] checks), and a session
    /// token to go with them; set in any order.
    pub(crate) key_id: Option<String>,
    pub(crate) secret: Option<Secret>,
    pub(crate) token: Option<Secret>,
    pub(crate) profile: Option<String>,
    pub(crate) anonymous: bool,
}

/// An environment to read from (the process's, or a fixed map in tests).
pub(crate) trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

pub(crate) struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

fn home(env: &dyn Env) -> Option<PathBuf> {
    env.var("HOME")
        .or_else(|| env.var("USERPROFILE"))
        .map(PathBuf::from)
}

fn credentials_file(env: &dyn Env) -> Option<PathBuf> {
    env.var("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| home(env).map(|h| h.join(".aws").join("credentials")))
}

fn config_file(env: &dyn Env) -> Option<PathBuf> {
    env.var("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| home(env).map(|h| h.join(".aws").join("config")))
}

fn profile_name(cfg: &CredsConfig, env: &dyn Env) -> String {
    cfg.profile
        .clone()
        .or_else(|| env.var("AWS_PROFILE"))
        .unwrap_or_else(|| "default".to_owned())
}

/// The `key = value` pairs of section `[section]` of an INI file.
pub(crate) fn ini_section(text: &str, section: &str) -> Option<Vec<(String, String)>> {
    let mut found = None;
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.trim().to_owned());
            if current.as_deref() == Some(section) {
                found.get_or_insert_with(Vec::new);
            }
            continue;
        }
        if current.as_deref() == Some(section)
            && let Some((k, v)) = line.split_once('=')
        {
            found
                .get_or_insert_with(Vec::new)
                .push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    found
}

fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn from_pairs(pairs: &[(String, String)], origin: String) -> Option<Creds> {
    let key = get(pairs, "aws_access_key_id")?;
    let secret = get(pairs, "aws_secret_access_key")?;
    Some(Creds {
        key: key.to_owned(),
        secret: Secret(secret.to_owned()),
        token: get(pairs, "aws_session_token").map(|t| Secret(t.to_owned())),
        origin,
    })
}

/// Resolves credentials: explicit, then the environment, then the shared files (with
/// `AWS_PROFILE`), then anonymous if asked for. `Ok(None)` means anonymous.
pub(crate) fn resolve(cfg: &CredsConfig, env: &dyn Env) -> Result<Option<Creds>> {
    match (&cfg.key_id, &cfg.secret) {
        (Some(key), Some(secret)) => {
            return Ok(Some(Creds {
                key: key.clone(),
                secret: secret.clone(),
                token: cfg.token.clone(),
                origin: "the configuration".into(),
            }));
        }
        (None, None) => {}
        _ => {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "give both access_key_id and secret_access_key, or neither",
            )
            .with_backend(super::client::NAME));
        }
    }
    if cfg.anonymous {
        return Ok(None);
    }
    if let (Some(key), Some(secret)) = (
        env.var("AWS_ACCESS_KEY_ID"),
        env.var("AWS_SECRET_ACCESS_KEY"),
    ) {
        return Ok(Some(Creds {
            key,
            secret: Secret(secret),
            token: env.var("AWS_SESSION_TOKEN").map(Secret),
            origin: "the environment (AWS_ACCESS_KEY_ID)".into(),
        }));
    }
    let profile = profile_name(cfg, env);
    let mut looked = vec![
        "the configuration".to_owned(),
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY".to_owned(),
    ];
    if let Some(path) = credentials_file(env) {
        if let Ok(text) = std::fs::read_to_string(&path)
            && let Some(pairs) = ini_section(&text, &profile)
            && let Some(c) = from_pairs(&pairs, format!("{} [{profile}]", path.display()))
        {
            return Ok(Some(c));
        }
        looked.push(format!("{} [{profile}]", path.display()));
    }
    if let Some(path) = config_file(env) {
        let section = if profile == "default" {
            "default".to_owned()
        } else {
            format!("profile {profile}")
        };
        if let Ok(text) = std::fs::read_to_string(&path)
            && let Some(pairs) = ini_section(&text, &section)
            && let Some(c) = from_pairs(&pairs, format!("{} [{section}]", path.display()))
        {
            return Ok(Some(c));
        }
        looked.push(format!("{} [{section}]", path.display()));
    }
    Err(Error::new(
        ErrorKind::Unauthenticated,
        format!(
            "no S3 credentials found (looked in: {}); set them, or ask for anonymous access",
            looked.join(", ")
        ),
    )
    .with_backend("s3"))
}

/// The endpoint from the environment, as the AWS SDKs read it: `AWS_ENDPOINT_URL_S3` (the
/// service's own) before `AWS_ENDPOINT_URL` (every service's); none when
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true.
pub(crate) fn env_endpoint(env: &dyn Env) -> Option<String> {
    if env
        .var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return None;
    }
    env.var("AWS_ENDPOINT_URL_S3")
        .or_else(|| env.var("AWS_ENDPOINT_URL"))
}

/// The region from the environment or the shared config file, if any.
pub(crate) fn env_region(cfg: &CredsConfig, env: &dyn Env) -> Option<String> {
    if let Some(r) = env
        .var("AWS_REGION")
        .or_else(|| env.var("AWS_DEFAULT_REGION"))
    {
        return Some(r);
    }
    let profile = profile_name(cfg, env);
    let section = if profile == "default" {
        "default".to_owned()
    } else {
        format!("profile {profile}")
    };
    let text = std::fs::read_to_string(config_file(env)?).ok()?;
    get(&ini_section(&text, &section)?, "region").map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct MapEnv(HashMap<&'static str, String>);
    impl Env for MapEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
    }

    #[test]
    fn the_endpoint_from_the_environment_prefers_the_s3_one() {
        let env = |pairs: &[(&'static str, &str)]| {
            MapEnv(pairs.iter().map(|(k, v)| (*k, v.to_string())).collect())
        };
        assert_eq!(env_endpoint(&env(&[])), None);
        let all = env(&[("AWS_ENDPOINT_URL", "http://all:1")]);
        assert_eq!(env_endpoint(&all).as_deref(), Some("http://all:1"));
        let both = env(&[
            ("AWS_ENDPOINT_URL", "http://all:1"),
            ("AWS_ENDPOINT_URL_S3", "http://s3:2"),
        ]);
        assert_eq!(env_endpoint(&both).as_deref(), Some("http://s3:2"));
        let ignored = env(&[
            ("AWS_ENDPOINT_URL_S3", "http://s3:2"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        ]);
        assert_eq!(env_endpoint(&ignored), None);
    }

    fn env(pairs: &[(&'static str, &str)]) -> MapEnv {
        MapEnv(pairs.iter().map(|(k, v)| (*k, v.to_string())).collect())
    }

    fn temp_files(creds: &str, config: &str) -> (PathBuf, PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!("omni-creds-{}-{}", std::process::id(), {
            static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        }));
        std::fs::create_dir_all(&dir).unwrap();
        let c = dir.join("credentials");
        let f = dir.join("config");
        std::fs::write(&c, creds).unwrap();
        std::fs::write(&f, config).unwrap();
        (dir, c, f)
    }

    #[test]
    fn explicit_wins() {
        let cfg = CredsConfig {
            key_id: Some("K".into()),
            secret: Some(Secret("S".into())),
            ..Default::default()
        };
        let e = env(&[
            ("AWS_ACCESS_KEY_ID", "envkey"),
            ("AWS_SECRET_ACCESS_KEY", "envsecret"),
        ]);
        assert_eq!(resolve(&cfg, &e).unwrap().unwrap().key, "K");
    }

    #[test]
    fn environment_then_files_then_error() {
        let (dir, c, f) = temp_files(
            "[default]\naws_access_key_id = filekey\naws_secret_access_key = filesecret\n\n[work]\naws_access_key_id=workkey\naws_secret_access_key=worksecret\naws_session_token=tok\n",
            "[profile cfgonly]\naws_access_key_id = cfgkey\naws_secret_access_key = cfgsecret\nregion = eu-west-3\n",
        );
        let files = [
            ("AWS_SHARED_CREDENTIALS_FILE", c.to_str().unwrap()),
            ("AWS_CONFIG_FILE", f.to_str().unwrap()),
        ];
        let cfg = CredsConfig::default();

        let mut with_env = files.to_vec();
        with_env.extend([
            ("AWS_ACCESS_KEY_ID", "envkey"),
            ("AWS_SECRET_ACCESS_KEY", "envsecret"),
            ("AWS_SESSION_TOKEN", "envtok"),
        ]);
        let got = resolve(&cfg, &env(&with_env)).unwrap().unwrap();
        assert_eq!(
            (got.key.as_str(), got.token.map(|t| t.0)),
            ("envkey", Some("envtok".to_string()))
        );

        assert_eq!(resolve(&cfg, &env(&files)).unwrap().unwrap().key, "filekey");

        let mut work = files.to_vec();
        work.push(("AWS_PROFILE", "work"));
        let got = resolve(&cfg, &env(&work)).unwrap().unwrap();
        assert_eq!(got.key, "workkey");
        assert_eq!(got.token, Some(Secret("tok".into())));

        let mut cfgonly = files.to_vec();
        cfgonly.push(("AWS_PROFILE", "cfgonly"));
        assert_eq!(
            resolve(&cfg, &env(&cfgonly)).unwrap().unwrap().key,
            "cfgkey"
        );
        assert_eq!(
            env_region(&cfg, &env(&cfgonly)).as_deref(),
            Some("eu-west-3")
        );

        let mut missing = files.to_vec();
        missing.push(("AWS_PROFILE", "nosuch"));
        let err = resolve(&cfg, &env(&missing)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthenticated);
        assert!(err.to_string().contains("[nosuch]"), "{err}");
        assert!(!err.to_string().contains("secret"), "{err}");

        let anon = CredsConfig {
            anonymous: true,
            ..Default::default()
        };
        assert_eq!(resolve(&anon, &env(&missing)).unwrap(), None);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn secrets_never_print() {
        let c = Creds {
            key: "AKID".into(),
            secret: Secret("hunter2".into()),
            token: Some(Secret("tok3n".into())),
            origin: "test".into(),
        };
        let s = format!("{c:?}");
        assert!(
            s.contains("AKID") && !s.contains("hunter2") && !s.contains("tok3n"),
            "{s}"
        );
    }

    #[test]
    fn ini_parsing() {
        let text = "# c\n[a]\nx = 1\n; c\n[b]\nX=2\n[a]\ny= 3 \n";
        assert_eq!(
            ini_section(text, "a").unwrap(),
            [("x".into(), "1".into()), ("y".into(), "3".into())]
        );
        assert_eq!(
            ini_section(text, "b").unwrap(),
            [("x".to_string(), "2".to_string())]
        );
        assert!(ini_section(text, "c").is_none());
    }
}
