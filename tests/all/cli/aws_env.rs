//! The S3 endpoint from the environment, as the AWS SDKs read it: `AWS_ENDPOINT_URL_S3`, then
//! `AWS_ENDPOINT_URL`, for an `s3://` URL that names none — through the binary, whose
//! environment is its own.

use omnistorage::BackendExt;
use omnistorage::conformance::TempDir;

use super::{code, command, stderr, stdout};
use crate::s3::{builder, cleanup, unique_prefix};
use crate::support::{S3Env, require_server};

/// `lsf s3://bucket/prefix` with `vars` (and the server's keys and region) in the
/// environment, and nothing else of AWS's.
fn lsf(env: &S3Env, prefix: &str, vars: &[(&str, &str)]) -> std::process::Output {
    let home = TempDir::new().unwrap();
    let url = format!("s3://{}/{prefix}", env.bucket);
    let mut cmd = command(&["lsf", &url], home.path());
    for name in [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "AWS_PROFILE",
    ] {
        cmd.env_remove(name);
    }
    cmd.env("AWS_ACCESS_KEY_ID", &env.access_key)
        .env("AWS_SECRET_ACCESS_KEY", &env.secret_key)
        .env("AWS_REGION", &env.region);
    for (name, value) in vars {
        cmd.env(name, value);
    }
    cmd.output().expect("the binary runs")
}

#[test]
fn the_endpoint_comes_from_aws_endpoint_url_and_the_s3_one_wins() {
    let Some(env) = require_server("s3s") else {
        return;
    };
    let prefix = unique_prefix("awsenv");
    let store = builder(&env).prefix(&prefix).build().expect("backend");
    store.write_all("seen.txt", b"x").expect("write");
    let nowhere = "http://127.0.0.1:1";

    let general = lsf(&env, &prefix, &[("AWS_ENDPOINT_URL", &env.endpoint)]);
    assert_eq!(code(&general), 0, "{}", stderr(&general));
    assert_eq!(stdout(&general), "seen.txt\n");

    let both = lsf(
        &env,
        &prefix,
        &[
            ("AWS_ENDPOINT_URL", nowhere),
            ("AWS_ENDPOINT_URL_S3", &env.endpoint),
        ],
    );
    assert_eq!(code(&both), 0, "{}", stderr(&both));
    assert_eq!(stdout(&both), "seen.txt\n");

    // The URL's own endpoint wins over both.
    let home = TempDir::new().unwrap();
    let url = format!("s3://{}/{prefix}?endpoint={}", env.bucket, env.endpoint);
    let given = command(&["lsf", &url], home.path())
        .env("AWS_ENDPOINT_URL_S3", nowhere)
        .env("AWS_ACCESS_KEY_ID", &env.access_key)
        .env("AWS_SECRET_ACCESS_KEY", &env.secret_key)
        .env("AWS_REGION", &env.region)
        .output()
        .expect("the binary runs");
    assert_eq!(code(&given), 0, "{}", stderr(&given));
    assert_eq!(stdout(&given), "seen.txt\n");
    cleanup(&env, &prefix);
}
