//! Surviving real-world registry behaviour, with a fault-injecting proxy in front of the
//! real registry: rate limits are waited out with `HEAD`s only (a `GET` counts against
//! Docker Hub's pull limit), 5xx and dropped connections are retried, slow answers time
//! out cleanly, a `HEAD` without a digest falls back to one `GET` whose body is hashed,
//! a body cut off by a dropped connection is fetched again, and a body that does not
//! match its digest, or is not a manifest at all, is refused.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use support::faults::{Fault, FaultProxy};
use support::registry::TestRegistry;

/// `imagepin COMMAND EXTRA… --mirror docker.io=MIRROR` in `dir`.
fn imagepin(command: &str, mirror: &str, dir: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imagepin"))
        .arg(command)
        .args(extra)
        .args(["--mirror", &format!("docker.io={mirror}")])
        .current_dir(dir)
        .output()
        .expect("run imagepin")
}

fn fix(proxy: &FaultProxy, dir: &Path, extra: &[&str]) -> Output {
    imagepin("fix", &proxy.url(), dir, extra)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

struct Case {
    _reg: TestRegistry,
    digest: String,
    tree: tempfile::TempDir,
}

fn case() -> Case {
    let reg = TestRegistry::start();
    let digest = reg.push_image("library/nginx", "1.25", "n");
    let tree = tempfile::tempdir().expect("tempdir");
    fs::write(tree.path().join("Dockerfile"), "FROM nginx:1.25\n").expect("write");
    Case {
        _reg: reg,
        digest,
        tree,
    }
}

impl Case {
    fn proxy(&self, faults: Vec<(Fault, usize)>) -> FaultProxy {
        FaultProxy::start(&self._reg.host(), faults)
    }

    fn dockerfile(&self) -> String {
        fs::read_to_string(self.tree.path().join("Dockerfile")).expect("read")
    }

    fn assert_pinned(&self) {
        assert_eq!(
            self.dockerfile(),
            format!("FROM nginx:1.25@{}\n", self.digest)
        );
    }

    fn assert_untouched(&self) {
        assert_eq!(self.dockerfile(), "FROM nginx:1.25\n");
    }
}

#[test]
fn rate_limit_waits_retry_after_and_retries_the_head_never_a_get() {
    let c = case();
    let proxy = c.proxy(vec![(Fault::TooManyRequests(1), 2)]);
    let o = fix(&proxy, c.tree.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    c.assert_pinned();
    assert_eq!(proxy.manifest_requests("HEAD"), 3);
    assert_eq!(proxy.manifest_requests("GET"), 0);
    assert!(stderr(&o).contains("2 retried"), "{}", stderr(&o));
    // A short wait is not worth a line.
    assert!(!stderr(&o).contains("waiting"), "{}", stderr(&o));
}

/// A long wait is said, once, so that a CI log does not go quiet for minutes.
#[test]
fn a_long_wait_is_said_once() {
    let c = case();
    let proxy = c.proxy(vec![(Fault::TooManyRequests(5), 1)]);
    let o = fix(&proxy, c.tree.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    c.assert_pinned();
    let said: Vec<&str> = std::str::from_utf8(&o.stderr)
        .expect("utf-8")
        .lines()
        .filter(|l| l.contains("waiting"))
        .collect();
    assert_eq!(said.len(), 1, "{}", stderr(&o));
    assert!(
        said[0].contains("HTTP 429; waiting 5 s before asking again, as its Retry-After asks"),
        "{}",
        said[0]
    );
}

#[test]
fn persistent_rate_limit_fails_that_reference_clearly() {
    let c = case();
    let proxy = c.proxy(vec![(Fault::TooManyRequests(0), 100)]);
    let o = fix(&proxy, c.tree.path(), &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("rate limited (HTTP 429)"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("Dockerfile:1:6: nginx:1.25"),
        "{}",
        stderr(&o)
    );
    assert_eq!(proxy.manifest_requests("GET"), 0);
    assert_eq!(proxy.manifest_requests("HEAD"), 4, "bounded attempts");
    c.assert_untouched();
}

#[test]
fn server_errors_and_dropped_connections_are_retried() {
    let c = case();
    let proxy = c.proxy(vec![(Fault::Unavailable, 1), (Fault::Reset, 1)]);
    let o = fix(&proxy, c.tree.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    c.assert_pinned();
    assert_eq!(proxy.manifest_requests("HEAD"), 3);
}

/// A server error that outlasts the retries fails that reference saying how often it
/// was asked; the file is left as it was.
#[test]
fn a_server_error_that_outlasts_the_retries_says_so() {
    let c = case();
    let proxy = c.proxy(vec![(Fault::Unavailable, 10)]);
    let o = fix(&proxy, c.tree.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("HTTP 503 for") && stderr(&o).contains("after 4 attempts"),
        "{}",
        stderr(&o)
    );
    assert_eq!(proxy.manifest_requests("HEAD"), 4);
    c.assert_untouched();
}

#[test]
fn answers_slower_than_the_timeout_fail_cleanly() {
    let c = case();
    let proxy = c.proxy(vec![(Fault::Slow(Duration::from_secs(3)), 10)]);
    let o = fix(&proxy, c.tree.path(), &["--timeout", "1"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("timed out"), "{}", stderr(&o));
    c.assert_untouched();
}

#[test]
fn head_without_digest_falls_back_to_one_hashed_get() {
    let c = case();
    let proxy = c.proxy(vec![(Fault::StripDigest, 2)]);
    let o = fix(&proxy, c.tree.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    c.assert_pinned();
    assert_eq!(proxy.manifest_requests("HEAD"), 1);
    assert_eq!(proxy.manifest_requests("GET"), 1);
}

#[test]
fn a_body_that_does_not_match_its_digest_is_refused() {
    let c = case();
    let proxy = c.proxy(vec![(Fault::StripDigest, 1), (Fault::CorruptBody, 1)]);
    let o = fix(&proxy, c.tree.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("hashes to"), "{}", stderr(&o));
    c.assert_untouched();
}

#[test]
fn a_connection_dropped_in_the_middle_of_a_body_is_retried() {
    let c = case();
    let proxy = c.proxy(vec![(Fault::StripDigest, 1), (Fault::TruncateBody, 1)]);
    let o = fix(&proxy, c.tree.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    c.assert_pinned();
    assert_eq!(
        proxy.manifest_requests("GET"),
        2,
        "the cut-off GET, then one more"
    );
    assert!(stderr(&o).contains("1 retried"), "{}", stderr(&o));
}

#[test]
fn a_200_answer_that_is_not_a_manifest_is_never_pinned() {
    // A HEAD without a digest, then a login page where the manifest should be.
    let c = case();
    let page = b"<!DOCTYPE html><html><title>Sign in to continue</title></html>".to_vec();
    let proxy = c.proxy(vec![
        (Fault::StripDigest, 1),
        (
            Fault::Canned(
                200,
                "Content-Type: text/html; charset=utf-8\r\n".into(),
                page,
            ),
            1,
        ),
    ]);
    let o = fix(&proxy, c.tree.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    c.assert_untouched();
    let err = stderr(&o);
    assert!(err.contains("Dockerfile:1:6: nginx:1.25"), "{err}");
    assert!(
        err.contains("answered 200 with Content-Type text/html (62 bytes), not an image manifest"),
        "{err}"
    );
}

#[test]
fn a_manifest_under_a_generic_content_type_is_read_from_its_json() {
    // Some servers answer `application/json`: the body says what it is.
    let c = case();
    let body = c._reg.manifest_body("library/nginx", "1.25");
    let proxy = c.proxy(vec![
        (Fault::StripDigest, 1),
        (
            Fault::Canned(200, "Content-Type: application/json\r\n".into(), body),
            1,
        ),
    ]);
    let o = fix(&proxy, c.tree.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    c.assert_pinned();
}

#[test]
fn rate_limit_remaining_is_shown_in_the_summary() {
    let c = case();
    let proxy = c.proxy(vec![(
        Fault::AddHeader("RateLimit-Remaining: 99;w=21600".into()),
        1,
    )]);
    let o = fix(&proxy, c.tree.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("docker.io rate limit: 99 pulls left in 6 h"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn quiet_prints_results_only_and_verbose_logs_requests() {
    let c = case();
    let proxy = c.proxy(vec![]);
    let o = fix(&proxy, c.tree.path(), &["-q", "--dry-run"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stderr(&o), "", "-q: no summary");
    assert!(String::from_utf8_lossy(&o.stdout).contains("would pin nginx:1.25"));
    let o = fix(&proxy, c.tree.path(), &["-vv", "--dry-run"]);
    let err = stderr(&o);
    assert!(
        err.contains("method=HEAD") && err.contains("/v2/library/nginx/manifests/1.25"),
        "{err}"
    );
    assert!(err.contains("status=200"), "{err}");
}

/// Ctrl-C while imagepin waits on a registry: it stops at once with 130, and no file is
/// changed or left half-written (no temporary file anywhere). SIGTERM (what CI runners
/// and `timeout` send) and SIGHUP (a closed terminal) do the same.
#[test]
fn an_interrupt_leaves_every_file_whole() {
    for signal in ["INT", "TERM", "HUP"] {
        let c = case();
        let proxy = c.proxy(vec![(Fault::Slow(Duration::from_secs(30)), 1)]);
        let child = Command::new(env!("CARGO_BIN_EXE_imagepin"))
            .args(["fix", "--mirror", &format!("docker.io={}", proxy.url())])
            .current_dir(c.tree.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        // Wait until the lookup is under way (a condition, polled), then interrupt.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while proxy.manifest_requests("HEAD") == 0 {
            assert!(std::time::Instant::now() < deadline, "no lookup started");
            std::thread::sleep(Duration::from_millis(10));
        }
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let out = child.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "SIG{signal}: {err}");
        assert!(err.contains("interrupted"), "SIG{signal}: {err}");
        c.assert_untouched();
        let names: Vec<String> = fs::read_dir(c.tree.path())
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["Dockerfile"], "SIG{signal}: no temporary files");
    }
}

/// A pin whose tag cannot be asked (here a 404 for the tag; a 401 or a 503 after its
/// retries is the same) while its digest resolves: `verify` passes — the digest is
/// what it proves — but says drift is unknown, in text and in machine output, and
/// `--strict` fails it. It never passes silently.
#[test]
fn verify_says_when_a_tag_could_not_be_asked() {
    let c = case();
    fs::write(
        c.tree.path().join("Dockerfile"),
        format!("FROM nginx:1.25@{}\n", c.digest),
    )
    .expect("write");
    let verify = |extra: &[&str]| {
        let proxy = c.proxy(vec![(Fault::Canned(404, String::new(), Vec::new()), 1)]);
        imagepin("verify", &proxy.url(), c.tree.path(), extra)
    };
    let o = verify(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Dockerfile:1:6: nginx:1.25@")
            && stderr(&o).contains("whether its tag still points to it is unknown"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("(1 with drift unknown)"),
        "{}",
        stderr(&o)
    );
    let o = verify(&["--format", "github"]);
    let out = String::from_utf8_lossy(&o.stdout);
    // In no git work tree, the file is named by its absolute path.
    let file = fs::canonicalize(c.tree.path().join("Dockerfile")).expect("canonical");
    let expected = format!("::warning file={},line=1", file.display());
    assert!(out.starts_with(&expected), "{out}");
    let o = verify(&["--strict"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("tag lookup:"), "{}", stderr(&o));
}

/// A pin whose tag is missing too is not a garbage-collected pin whose tag moved on: the
/// tag went too, or the repository is not where it was asked (a wrong mirror path
/// here), and `imagepin update` has no tag to follow.
#[test]
fn verify_tells_a_missing_repository_from_a_dangling_pin() {
    let c = case();
    fs::write(
        c.tree.path().join("Dockerfile"),
        format!("FROM nginx:1.25@{}\n", c.digest),
    )
    .expect("write");
    let mirror = format!("http://{}/no-such-path", c._reg.host());
    let o = imagepin("verify", &mirror, c.tree.path(), &[]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(
        out.contains("nor its tag 1.25 exists in") && out.contains("mirror's path"),
        "{out}"
    );
    assert!(!stderr(&o).contains("imagepin update"), "{}", stderr(&o));
}
