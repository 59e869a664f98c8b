//! The bearer-token flow against a real registry with `auth: token:` and a token server
//! issuing signed JWTs: anonymous pulls of public repositories, one token for up to 50
//! repositories however many references use them (and one per repository from a token
//! server that grants only the first scope it is asked for), credentials from docker
//! `config.json` sent to the token realm, and an `identitytoken` exchanged as an OAuth2
//! refresh token.
//! A realm on another host gets the registry's credentials only as SECURITY.md says: a
//! loopback one does, a plain-HTTP one elsewhere never does.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use support::faults::FaultProxy;
use support::registry::{TestRegistry, base64_encode};
use support::token::{Caller, PASSWORD, REFRESH_TOKEN, TokenOptions, TokenRegistry, USER};

fn fix(reg: &TokenRegistry, docker_config: &Path, dir: &Path) -> Output {
    fix_with_env(reg, docker_config, dir, &[])
}

/// Proxy variables the HTTP client reads from the environment: none of the caller's
/// reach a test run.
const PROXY_VARS: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

fn fix_with_env(
    reg: &TokenRegistry,
    docker_config: &Path,
    dir: &Path,
    env: &[(&str, &str)],
) -> Output {
    fix_at(&reg.url(), docker_config, dir, env)
}

/// `fix -vv` with Docker Hub at `url`.
fn fix_at(url: &str, docker_config: &Path, dir: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imagepin"));
    cmd.args(["fix", "-vv", "--mirror", &format!("docker.io={url}")])
        .current_dir(dir)
        .env("DOCKER_CONFIG", docker_config)
        .env("REGISTRY_AUTH_FILE", docker_config.join("none.json"))
        .env_remove("XDG_RUNTIME_DIR");
    for var in PROXY_VARS {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("run imagepin")
}

/// A docker `config.json` holding the test user's password for `host`; returns the
/// `auth` value written (the base64 of `user:password`).
fn credentials_for(docker_config: &Path, host: &str) -> String {
    let auth = base64_encode(format!("{USER}:{PASSWORD}").as_bytes());
    fs::write(
        docker_config.join("config.json"),
        format!(r#"{{"auths": {{"{host}": {{"auth": "{auth}"}}}}}}"#),
    )
    .expect("write config");
    auth
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

    let auth = credentials_for(s.config.path(), &s.reg.host());
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
    fs::write(
        tree.path().join("Dockerfile"),
        "FROM acme/private:1\nFROM nginx:1.25\n",
    )
    .expect("write");
    let o = fix(&s.reg, s.config.path(), tree.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        fs::read_to_string(tree.path().join("Dockerfile")).expect("read"),
        format!(
            "FROM acme/private:1@{}\nFROM nginx:1.25@{}\n",
            s.private, s.nginx
        )
    );
    // One token for both repositories: OAuth2 puts the scopes in one field.
    let tokens = s.reg.token_requests();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(
        (tokens[0].method.as_str(), &tokens[0].caller),
        ("POST", &Caller::Refresh)
    );
    assert_eq!(
        tokens[0].scopes,
        [
            "repository:acme/private:pull",
            "repository:library/nginx:pull"
        ]
    );
    assert!(!text(&o).contains(REFRESH_TOKEN), "no secret at -vv");
}

#[test]
fn a_loopback_realm_on_another_host_gets_the_registrys_credentials() {
    // The registry listens on 127.0.0.1, its token server on 127.0.0.2: another host.
    // Credentials exist for the registry's host only.
    let seed = TestRegistry::start();
    let private = seed.push_image("acme/private", "1", "p");
    let reg = TokenRegistry::start_with_realm(&seed, "127.0.0.2", |server| {
        format!("http://{server}/token")
    });
    assert!(reg.token_server().starts_with("127.0.0.2:"));
    let config = tempfile::tempdir().expect("tempdir");
    let auth = credentials_for(config.path(), &reg.host());
    let tree = tempfile::tempdir().expect("tempdir");
    fs::write(tree.path().join("Dockerfile"), "FROM acme/private:1\n").expect("write");

    let o = fix(&reg, config.path(), tree.path());

    // SECURITY.md: credentials go to the token realm the registry's host names, and a
    // loopback realm may have them over plain HTTP. Only they open acme/private.
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        fs::read_to_string(tree.path().join("Dockerfile")).expect("read"),
        format!("FROM acme/private:1@{private}\n")
    );
    let tokens = reg.token_requests();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(
        (
            tokens[0].method.as_str(),
            tokens[0].scope.as_str(),
            &tokens[0].caller
        ),
        ("GET", "repository:acme/private:pull", &Caller::Basic),
        "{tokens:?}"
    );
    assert!(
        !text(&o).contains(PASSWORD) && !text(&o).contains(&auth),
        "no secret at -vv"
    );
}

#[test]
fn a_plain_http_realm_that_is_not_loopback_never_gets_credentials() {
    // The registry (loopback) names a realm on a host that is not loopback, over plain
    // HTTP. `.invalid` never resolves, and no connection leaves loopback: the client's
    // HTTP_PROXY is the token server, which answers for the realm; NO_PROXY keeps the
    // registry's own requests direct.
    const REALM: &str = "http://auth.imagepin-test.invalid/token";
    let seed = TestRegistry::start();
    let nginx = seed.push_image("library/nginx", "1.25", "n");
    seed.push_image("acme/private", "1", "p");
    let reg = TokenRegistry::start_with_realm(&seed, "127.0.0.1", |_| REALM.to_string());
    let config = tempfile::tempdir().expect("tempdir");
    let auth = credentials_for(config.path(), &reg.host());
    let tree = tempfile::tempdir().expect("tempdir");
    fs::write(
        tree.path().join("Dockerfile"),
        "FROM nginx:1.25\nFROM acme/private:1\n",
    )
    .expect("write");
    let proxy = format!("http://{}", reg.token_server());

    let o = fix_with_env(
        &reg,
        config.path(),
        tree.path(),
        &[("HTTP_PROXY", &proxy), ("NO_PROXY", "127.0.0.1,localhost")],
    );

    // Both token requests reached the realm, and neither carried credentials: the
    // public image is pinned with an anonymous token, the private one is refused. One
    // token was asked for both; the refused repository then asked for its own once, to
    // tell a refusal from a batched token that did not cover it.
    let tokens = reg.token_requests();
    let scopes: Vec<&str> = tokens.iter().map(|t| t.scope.as_str()).collect();
    assert_eq!(
        scopes,
        [
            "repository:acme/private:pull repository:library/nginx:pull",
            "repository:acme/private:pull"
        ],
        "{tokens:?}"
    );
    for t in &tokens {
        assert!(t.target.starts_with(&format!("{REALM}?")), "{tokens:?}");
        assert_eq!((t.method.as_str(), &t.caller), ("GET", &Caller::Anonymous));
    }
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(
        fs::read_to_string(tree.path().join("Dockerfile")).expect("read"),
        format!("FROM nginx:1.25@{nginx}\nFROM acme/private:1\n")
    );
    // The error says the credentials were withheld, not that they were refused.
    let out = text(&o);
    assert!(out.contains("access denied to acme/private"), "{out}");
    assert!(
        out.contains(&format!(
            "the credentials for {} were not sent to the token realm {REALM}",
            reg.host()
        )),
        "{out}"
    );
    assert!(!out.contains("were refused"), "{out}");
    assert!(
        !out.contains(PASSWORD) && !out.contains(&auth),
        "no secret at -vv"
    );
}

/// `n` public repositories `library/app{i}` with a tag `1`, and a Dockerfile naming each
/// once; returns the tree and each repository's digest.
fn many_repositories(seed: &TestRegistry, n: usize) -> (tempfile::TempDir, Vec<String>) {
    let digests = (0..n)
        .map(|i| seed.push_image(&format!("library/app{i}"), "1", &format!("a{i}")))
        .collect();
    let tree = tempfile::tempdir().expect("tempdir");
    let text: String = (0..n).map(|i| format!("FROM app{i}:1 AS s{i}\n")).collect();
    fs::write(tree.path().join("Dockerfile"), text).expect("write");
    (tree, digests)
}

fn assert_all_pinned(tree: &Path, digests: &[String]) {
    let expected: String = digests
        .iter()
        .enumerate()
        .map(|(i, d)| format!("FROM app{i}:1@{d} AS s{i}\n"))
        .collect();
    assert_eq!(
        fs::read_to_string(tree.join("Dockerfile")).expect("read"),
        expected
    );
}

/// How often each manifest path was asked for through `proxy`.
fn manifest_counts(proxy: &FaultProxy) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for (_, path) in proxy.seen() {
        if path.contains("/manifests/") {
            *counts.entry(path).or_insert(0) += 1;
        }
    }
    counts
}

#[test]
fn tokens_for_many_repositories_come_in_batches_of_fifty() {
    let seed = TestRegistry::start();
    let (tree, digests) = many_repositories(&seed, 75);
    let reg = TokenRegistry::start(&seed);
    let proxy = FaultProxy::start(&reg.host(), vec![]);
    let config = tempfile::tempdir().expect("tempdir");

    let o = fix_at(&proxy.url(), config.path(), tree.path(), &[]);

    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_all_pinned(tree.path(), &digests);
    // Two token requests: 50 scopes, then 25; every repository in exactly one.
    let tokens = reg.token_requests();
    let mut sizes: Vec<usize> = tokens.iter().map(|t| t.scopes.len()).collect();
    sizes.sort();
    assert_eq!(sizes, [25, 50], "{tokens:?}");
    let mut scopes: Vec<&str> = tokens
        .iter()
        .flat_map(|t| t.scopes.iter().map(String::as_str))
        .collect();
    scopes.sort();
    let mut expected: Vec<String> = (0..75)
        .map(|i| format!("repository:library/app{i}:pull"))
        .collect();
    expected.sort();
    assert_eq!(scopes, expected);
    assert!(tokens.iter().all(|t| t.caller == Caller::Anonymous));
    // Every manifest request was authorized the first time: one HEAD per repository.
    let counts = manifest_counts(&proxy);
    assert_eq!(counts.len(), 75, "{counts:?}");
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
    assert!(
        text(&o).contains("75 manifest HEAD, 0 GET, 2 token, 1 ping"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_token_server_that_grants_only_the_first_scope_gets_one_request_per_repository() {
    let seed = TestRegistry::start();
    let (tree, digests) = many_repositories(&seed, 75);
    let options = TokenOptions {
        first_scope_only: true,
        ..TokenOptions::default()
    };
    let reg = TokenRegistry::start_with_options(&seed, &options);
    let proxy = FaultProxy::start(&reg.host(), vec![]);
    let config = tempfile::tempdir().expect("tempdir");

    let o = fix_at(&proxy.url(), config.path(), tree.path(), &[]);

    // Every reference is still resolved, and -v says why the requests doubled.
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_all_pinned(tree.path(), &digests);
    assert!(
        text(&o).contains("asking one token per repository for the rest of the run"),
        "{}",
        text(&o)
    );
    assert_eq!(
        text(&o).matches("asking one token per repository").count(),
        1,
        "said once"
    );
    // Beyond the batched tokens, each repository asked for its own at most once, and
    // each manifest request was repeated at most once (after a refusal).
    let tokens = reg.token_requests();
    let batched = tokens.iter().filter(|t| t.scopes.len() > 1).count();
    assert_eq!(batched, 2, "{tokens:?}");
    let mut own: Vec<&str> = tokens
        .iter()
        .filter(|t| t.scopes.len() == 1)
        .map(|t| t.scope.as_str())
        .collect();
    let asked = own.len();
    own.sort();
    own.dedup();
    assert_eq!(own.len(), asked, "no repository asked twice: {tokens:?}");
    let counts = manifest_counts(&proxy);
    assert_eq!(counts.len(), 75, "{counts:?}");
    assert!(counts.values().all(|&n| n <= 2), "{counts:?}");
    let repeated = counts.values().filter(|&&n| n == 2).count();
    assert!(
        repeated >= 1,
        "the fallback was found by a refusal: {counts:?}"
    );
}
