//! Credentials the way docker users already have them, against a real registry that
//! demands HTTP basic auth (htpasswd): docker `config.json` `auths`, `credHelpers` and
//! `credsStore` (a credential helper script on PATH). Refusals say where imagepin looked;
//! no secret ever reaches the output.

// The credential helpers here are `#!/bin/sh` scripts, and every test needs the
// Debian registry: Unix only.
#![cfg(unix)]

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use support::registry::{TestRegistry, base64_encode};

const USER: &str = "ci-bot";
const PASSWORD: &str = "s3cret-Pa55word";

struct Env {
    _home: tempfile::TempDir,
    docker_config: std::path::PathBuf,
    bin: std::path::PathBuf,
}

fn env() -> Env {
    let home = tempfile::tempdir().expect("tempdir");
    let docker_config = home.path().join("docker");
    let bin = home.path().join("bin");
    fs::create_dir_all(&docker_config).expect("mkdir");
    fs::create_dir_all(&bin).expect("mkdir");
    Env {
        _home: home,
        docker_config,
        bin,
    }
}

fn fix(reg: &TestRegistry, env: &Env, dir: &Path) -> Output {
    fix_with(reg, env, dir, &[])
}

fn fix_with(reg: &TestRegistry, env: &Env, dir: &Path, extra: &[&str]) -> Output {
    command(reg, env, dir, extra)
        .output()
        .expect("run imagepin")
}

/// `imagepin fix` against `reg` with only this environment's credentials and helpers.
fn command(reg: &TestRegistry, env: &Env, dir: &Path, extra: &[&str]) -> Command {
    let path = format!(
        "{}:{}",
        env.bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imagepin"));
    cmd.args(["fix", "--mirror", &format!("docker.io={}", reg.url())])
        .args(extra)
        .current_dir(dir)
        .env("DOCKER_CONFIG", &env.docker_config)
        .env(
            "REGISTRY_AUTH_FILE",
            env.docker_config.join("no-such-auth.json"),
        )
        .env_remove("XDG_RUNTIME_DIR")
        .env("PATH", path);
    cmd
}

fn tree() -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    fs::write(t.path().join("Dockerfile"), "FROM nginx:1.25\n").expect("write");
    t
}

fn all_output(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn assert_no_secret(o: &Output) {
    let text = all_output(o);
    assert!(!text.contains(PASSWORD), "password leaked: {text}");
    let b64 = base64_encode(format!("{USER}:{PASSWORD}").as_bytes());
    assert!(!text.contains(&b64), "encoded credentials leaked: {text}");
}

#[test]
fn anonymous_requests_are_refused_with_a_note_on_where_imagepin_looked() {
    let reg = TestRegistry::start_with_basic_auth(USER, PASSWORD);
    reg.push_image("library/nginx", "1.25", "n");
    let env = env();
    let t = tree();
    let o = fix(&reg, &env, t.path());
    assert_eq!(o.status.code(), Some(1), "{}", all_output(&o));
    let text = all_output(&o);
    assert!(
        text.contains("access denied to library/nginx (HTTP 401)"),
        "{text}"
    );
    assert!(
        text.contains(&format!("no credentials for {}", reg.host())),
        "{text}"
    );
    assert!(text.contains("config.json"), "{text}");
    assert_eq!(
        fs::read_to_string(t.path().join("Dockerfile")).expect("read"),
        "FROM nginx:1.25\n"
    );
}

#[test]
fn docker_config_auths_are_used_and_never_printed() {
    let reg = TestRegistry::start_with_basic_auth(USER, PASSWORD);
    let digest = reg.push_image("library/nginx", "1.25", "n");
    let env = env();
    let auth = base64_encode(format!("{USER}:{PASSWORD}").as_bytes());
    fs::write(
        env.docker_config.join("config.json"),
        format!(r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#, reg.host()),
    )
    .expect("write config");
    let t = tree();
    let o = fix_with(&reg, &env, t.path(), &["-vv"]);
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    assert_eq!(
        fs::read_to_string(t.path().join("Dockerfile")).expect("read"),
        format!("FROM nginx:1.25@{digest}\n")
    );
    let text = all_output(&o);
    assert!(
        text.contains("authorization=\"<redacted>\""),
        "the header was sent: {text}"
    );
    assert_no_secret(&o);
}

#[test]
fn wrong_credentials_are_refused_naming_the_user_not_the_password() {
    let reg = TestRegistry::start_with_basic_auth(USER, PASSWORD);
    reg.push_image("library/nginx", "1.25", "n");
    let env = env();
    fs::write(
        env.docker_config.join("config.json"),
        format!(
            r#"{{"auths": {{"{}": {{"username": "{USER}", "password": "{PASSWORD}-wrong"}}}}}}"#,
            reg.host()
        ),
    )
    .expect("write config");
    let o = fix(&reg, &env, tree().path());
    assert_eq!(o.status.code(), Some(1));
    let text = all_output(&o);
    assert!(
        text.contains(&format!("(user {USER}) were refused")),
        "{text}"
    );
    assert!(!text.contains("-wrong"), "{text}");
    assert_no_secret(&o);
}

/// A `docker-credential-NAME` helper on PATH, as `credHelpers` and `credsStore` run it.
fn install_helper(env: &Env) {
    install_script(
        env,
        "imagepintest",
        &format!(
            "[ \"$1\" = get ] || exit 1\nread server\necho \"$server\" >> \"$(dirname \"$0\")/asked\"\nprintf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}' \"$server\""
        ),
    );
}

#[test]
fn cred_helpers_and_creds_store_run_the_helper() {
    for config in [
        r#"{"credHelpers": {"HOST": "imagepintest"}}"#,
        r#"{"credsStore": "imagepintest"}"#,
    ] {
        let reg = TestRegistry::start_with_basic_auth(USER, PASSWORD);
        let digest = reg.push_image("library/nginx", "1.25", "n");
        let env = env();
        install_helper(&env);
        fs::write(
            env.docker_config.join("config.json"),
            config.replace("HOST", &reg.host()),
        )
        .expect("write config");
        let t = tree();
        let o = fix(&reg, &env, t.path());
        assert_eq!(o.status.code(), Some(0), "{config}: {}", all_output(&o));
        assert_eq!(
            fs::read_to_string(t.path().join("Dockerfile")).expect("read"),
            format!("FROM nginx:1.25@{digest}\n")
        );
        let asked = fs::read_to_string(env.bin.join("asked")).expect("helper ran");
        assert_eq!(
            asked.trim(),
            reg.host(),
            "asked once, for the registry host"
        );
        assert_no_secret(&o);
    }
}

/// Install `docker-credential-NAME` with this shell body on the test PATH.
fn install_script(env: &Env, name: &str, body: &str) {
    let script = env.bin.join(format!("docker-credential-{name}"));
    fs::write(&script, format!("#!/bin/sh\n{body}\n")).expect("write helper");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// A helper that never answers is killed when the request timeout runs out, with what
/// it started, and the lookup fails saying so; the run does not hang.
#[test]
fn a_credential_helper_that_hangs_is_killed_after_the_timeout() {
    let reg = TestRegistry::start_with_basic_auth(USER, PASSWORD);
    reg.push_image("library/nginx", "1.25", "n");
    let env = env();
    let pidfile = env.bin.join("pid");
    let started = env.bin.join("started");
    install_script(
        &env,
        "hang",
        &format!(
            "sleep 600 &\necho $! > {}\necho $$ > {}\nexec sleep 600",
            started.display(),
            pidfile.display()
        ),
    );
    fs::write(
        env.docker_config.join("config.json"),
        r#"{"credsStore": "hang"}"#,
    )
    .expect("write config");
    let t = tree();
    let mut child = command(&reg, &env, t.path(), &["--timeout", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Bounded: a run that hangs fails the test instead of hanging it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().expect("try_wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("imagepin still waiting for the helper after 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let o = child.wait_with_output().expect("wait");
    assert_eq!(o.status.code(), Some(1), "{}", all_output(&o));
    let text = all_output(&o);
    assert!(
        text.contains("credential helper docker-credential-hang did not answer in 1 s"),
        "{text}"
    );
    for file in [&pidfile, &started] {
        let pid = fs::read_to_string(file).expect("helper ran");
        let stat = fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
        let state = stat.rsplit(')').next().unwrap_or("").trim().chars().next();
        assert!(
            matches!(state, None | Some('Z' | 'X')),
            "{} was killed: {stat}",
            file.display()
        );
    }
}

/// A helper that fails, a config.json that is not JSON and an `auth` that is not
/// base64 each get their own message naming the helper or the file.
#[test]
fn broken_credential_sources_each_say_what_is_wrong() {
    let reg = TestRegistry::start_with_basic_auth(USER, PASSWORD);
    reg.push_image("library/nginx", "1.25", "n");
    let cases = [
        (
            r#"{"credHelpers": {"HOST": "broken"}}"#.to_string(),
            vec![
                "credential helper docker-credential-broken failed",
                "exit status 3",
                "keychain is locked",
            ],
        ),
        (
            "{\"auths\": {".to_string(),
            vec!["config.json", "is not valid JSON"],
        ),
        (
            r#"{"auths": {"HOST": {"auth": "%%%not-base64"}}}"#.to_string(),
            vec!["config.json", "`auth` for HOST is not base64"],
        ),
    ];
    for (config, expected) in cases {
        let env = env();
        install_script(
            &env,
            "broken",
            "echo 'error: keychain is locked' >&2\nexit 3",
        );
        fs::write(
            env.docker_config.join("config.json"),
            config.replace("HOST", &reg.host()),
        )
        .expect("write config");
        let t = tree();
        let o = fix(&reg, &env, t.path());
        assert_eq!(o.status.code(), Some(1), "{config}: {}", all_output(&o));
        let text = all_output(&o);
        for e in expected {
            assert!(
                text.contains(&e.replace("HOST", &reg.host())),
                "{config}: {e}: {text}"
            );
        }
        assert!(!text.contains("no credentials"), "{config}: {text}");
        assert_eq!(
            fs::read_to_string(t.path().join("Dockerfile")).expect("read"),
            "FROM nginx:1.25\n"
        );
    }
}
