//! The bearer-token flow against a real registry with `auth: token:` and a token server
//! issuing signed JWTs: anonymous pulls of public repositories, one token per
//! repository however many references use it, credentials from docker `config.json`
//! sent to the token realm, and an `identitytoken` exchanged as an OAuth2 refresh token.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use support::registry::{TestRegistry, base64_encode};
use support::token::{Caller, PASSWORD, REFRESH_TOKEN, TokenRegistry, USER};

fn fix(reg: &TokenRegistry, docker_config: &Path, dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imagepin"))
        .args([
            "fix",
            "-vv",
            "--mirror",
            &format!("docker.io={}", reg.url()),
        ])
        .current_dir(dir)
        .env("DOCKER_CONFIG", docker_config)
        .env("REGISTRY_AUTH_FILE", docker_config.join("none.json"))
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .expect("run imagepin")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

struct Setup {
    _seed: TestRegistry,
    reg: TokenRegistry,
    nginx: String,
    nginx_latest: String,
    private: String,
    config: tempfile::TempDir,
}

fn setup() -> Setup {
    let seed = TestRegistry::start();
    let nginx = seed.push_image("library/nginx", "1.25", "n");
    let nginx_latest = seed.push_image("library/nginx", "latest", "l");
    let private = seed.push_image("acme/private", "1", "p");
    let reg = TokenRegistry::start(&seed);
    Setup {
        _seed: seed,
        reg,
        nginx,
        nginx_latest,
        private,
        config: tempfile::tempdir().expect("tempdir"),
    }
}

#[test]
fn anonymous_bearer_tokens_one_per_repository() {
    let s = setup();
    let tree = tempfile::tempdir().expect("tempdir");
    fs::write(
        tree.path().join("Dockerfile"),
        "FROM nginx:1.25\nFROM nginx AS b\nFROM nginx:1.25 AS c\n",
    )
    .expect("write");
    let o = fix(&s.reg, s.config.path(), tree.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        fs::read_to_string(tree.path().join("Dockerfile")).expect("read"),
        format!(
            "FROM nginx:1.25@{}\nFROM nginx:latest@{} AS b\nFROM nginx:1.25@{} AS c\n",
            s.nginx, s.nginx_latest, s.nginx
        )
    );
    let tokens = s.reg.token_requests();
    assert_eq!(tokens.len(), 1, "one token for library/nginx: {tokens:?}");
    assert_eq!(tokens[0].scope, "repository:library/nginx:pull");
    assert_eq!(tokens[0].caller, Caller::Anonymous);
}

#[test]
fn private_repositories_need_credentials_sent_to_the_realm() {
    let s = setup();
    let tree = tempfile::tempdir().expect("tempdir");
    fs::write(tree.path().join("Dockerfile"), "FROM acme/private:1\n").expect("write");
    let o = fix(&s.reg, s.config.path(), tree.path());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("access denied to acme/private"),
        "{}",
        text(&o)
    );

    let auth = base64_encode(format!("{USER}:{PASSWORD}").as_bytes());
    fs::write(
        s.config.path().join("config.json"),
        format!(
            r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
            s.reg.host()
        ),
    )
    .expect("write config");
    let o = fix(&s.reg, s.config.path(), tree.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        fs::read_to_string(tree.path().join("Dockerfile")).expect("read"),
        format!("FROM acme/private:1@{}\n", s.private)
    );
    assert!(
        s.reg
            .token_requests()
            .iter()
            .any(|t| t.caller == Caller::Basic)
    );
    assert!(
        !text(&o).contains(PASSWORD) && !text(&o).contains(&auth),
        "no secret at -vv"
    );
}

#[test]
fn identity_tokens_are_exchanged_as_refresh_tokens() {
    let s = setup();
    fs::write(
        s.config.path().join("config.json"),
        format!(
            r#"{{"auths": {{"{}": {{"identitytoken": "{REFRESH_TOKEN}"}}}}}}"#,
            s.reg.host()
        ),
    )
    .expect("write config");
    let tree = tempfile::tempdir().expect("tempdir");
    fs::write(tree.path().join("Dockerfile"), "FROM acme/private:1\n").expect("write");
    let o = fix(&s.reg, s.config.path(), tree.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let tokens = s.reg.token_requests();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(
        (tokens[0].method.as_str(), &tokens[0].caller),
        ("POST", &Caller::Refresh)
    );
    assert!(!text(&o).contains(REFRESH_TOKEN), "no secret at -vv");
}
