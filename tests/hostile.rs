//! Hostile or broken registries, simulated by the fault proxy in front of the real one:
//! each misbehaviour ends in a clear error for that reference, nothing is written for
//! it, other references are unaffected, and credentials never follow a redirect to
//! another host.

mod support;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use support::faults::{Fault, FaultProxy};
use support::registry::{TestRegistry, base64_encode};

/// `fix` one lookup at a time, so faults meet requests in a known order.
fn fix(proxy: &FaultProxy, dir: &Path, env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imagepin"));
    cmd.args(["fix", "--timeout", "5", "--concurrency", "1"])
        .args(["--mirror", &format!("docker.io={}", proxy.url())])
        .current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run imagepin")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Two references; lookups go in file order, so `alpine` (in `a.yaml`) meets the fault
/// first and `nginx` (in `b.yaml`) must still be pinned.
fn tree(reg: &TestRegistry) -> (tempfile::TempDir, String) {
    reg.push_image("library/nginx", "1.25", "n");
    let alpine = reg.push_image("library/alpine", "3.19", "a");
    let t = tempfile::tempdir().expect("tempdir");
    fs::write(t.path().join("a.yaml"), "image: alpine:3.19\n").expect("write");
    fs::write(t.path().join("b.yaml"), "image: nginx:1.25\n").expect("write");
    (t, alpine)
}

/// A proxy whose first manifest request meets `fault`.
fn faulty(reg: &TestRegistry, fault: Fault) -> FaultProxy {
    FaultProxy::start(&reg.host(), vec![(fault, 1)])
}

#[test]
fn a_digest_header_with_an_unknown_algorithm_or_bad_hex_is_refused() {
    for header in [
        "md5:0123456789abcdef0123456789abcdef",
        "sha256:XYZ",
        "sha256:../../etc/passwd",
    ] {
        let reg = TestRegistry::start();
        let (t, alpine) = tree(&reg);
        let proxy = FaultProxy::start(
            &reg.host(),
            vec![(
                Fault::Canned(
                    200,
                    format!("Docker-Content-Digest: {header}\r\n"),
                    Vec::new(),
                ),
                1,
            )],
        );
        let o = fix(&proxy, t.path(), &[]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("malformed or unsupported digest"),
            "{}",
            stderr(&o)
        );
        assert!(
            stderr(&o).contains("a.yaml:1:8: alpine:3.19"),
            "{}",
            stderr(&o)
        );
        assert_eq!(
            fs::read_to_string(t.path().join("a.yaml")).expect("read"),
            "image: alpine:3.19\n"
        );
        assert!(
            fs::read_to_string(t.path().join("b.yaml"))
                .expect("read")
                .contains("@sha256:")
        );
        let _ = alpine;
    }
}

#[test]
fn a_malformed_challenge_is_a_clear_error() {
    let reg = TestRegistry::start();
    let (t, _) = tree(&reg);
    let proxy = FaultProxy::start(
        &reg.host(),
        vec![(
            Fault::Ping(
                401,
                "WWW-Authenticate: Bearer realm=\"unterminated\r\n".into(),
            ),
            1,
        )],
    );
    let o = fix(&proxy, t.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unsupported authentication challenge"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        fs::read_to_string(t.path().join("b.yaml")).expect("read"),
        "image: nginx:1.25\n"
    );
}

#[test]
fn oversized_bodies_and_headers_are_bounded() {
    let reg = TestRegistry::start();
    let (t, _) = tree(&reg);
    // A digestless HEAD leads to a GET, which answers with 5 MiB.
    let proxy = FaultProxy::start(
        &reg.host(),
        vec![
            (Fault::Canned(200, String::new(), Vec::new()), 1),
            (Fault::Canned(200, String::new(), vec![b'x'; 5 << 20]), 1),
        ],
    );
    let o = fix(&proxy, t.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("larger than"), "{}", stderr(&o));

    let (t, _) = tree(&reg);
    let huge = format!("X-Junk: {}\r\n", "j".repeat(1 << 20));
    let proxy = FaultProxy::start(&reg.host(), vec![(Fault::Canned(200, huge, Vec::new()), 1)]);
    let o = fix(&proxy, t.path(), &[]);
    // The HTTP layer refuses a 1 MiB header; the lookup is retried and succeeds.
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 retried"), "{}", stderr(&o));
}

#[test]
fn credentials_never_follow_a_redirect_to_another_host() {
    let reg = TestRegistry::start_with_basic_auth("u", "p4ss");
    let (t, _) = tree(&reg);
    // Another host (127.0.0.2) that records what it receives.
    let evil = TcpListener::bind("127.0.0.2:0").expect("bind 127.0.0.2");
    let evil_port = evil.local_addr().expect("addr").port();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = seen.clone();
    std::thread::spawn(move || {
        for conn in evil.incoming().flatten() {
            let mut reader = BufReader::new(conn.try_clone().expect("clone"));
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            record.lock().expect("lock").push(head);
            let mut conn = conn;
            let _ = conn.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let config = tempfile::tempdir().expect("tempdir");
    let auth = base64_encode(b"u:p4ss");
    fs::write(
        config.path().join("config.json"),
        format!(
            r#"{{"auths": {{"127.0.0.1:{}": {{"auth": "{auth}"}}}}}}"#,
            reg.host().rsplit(':').next().unwrap_or("")
        ),
    )
    .expect("write");
    let proxy = faulty(
        &reg,
        Fault::Canned(
            307,
            format!("Location: http://127.0.0.2:{evil_port}/v2/library/nginx/manifests/1.25\r\n"),
            Vec::new(),
        ),
    );
    // The proxy has its own port: credentials are keyed by the proxy host.
    let proxy_host = proxy.url().trim_start_matches("http://").to_string();
    fs::write(
        config.path().join("config.json"),
        format!(r#"{{"auths": {{"{proxy_host}": {{"auth": "{auth}"}}}}}}"#),
    )
    .expect("write");
    let o = fix(&proxy, t.path(), &[("DOCKER_CONFIG", config.path())]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let seen = seen.lock().expect("lock");
    assert!(
        !seen.is_empty(),
        "the redirect was followed to the other host"
    );
    for head in seen.iter() {
        assert!(
            !head.to_ascii_lowercase().contains("authorization"),
            "credentials followed: {head}"
        );
    }
}
