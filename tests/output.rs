//! What imagepin says, in detail: counts in the singular, annotations in sentences, a
//! file not written said once, diffs that `git apply` and `patch -p1` take for files
//! outside the current directory, a hint for a loopback registry that speaks HTTPS, a
//! broken CA file named with its host, a missing digest naming the mirror that was
//! asked, and `--concurrency` counted per host however the host is named.

mod support;

use std::fs;
use std::io::Write;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::faults::FaultProxy;
use support::golden::{imagepin, stderr, stdout};
use support::registry::TestRegistry;

#[test]
fn counts_are_singular_for_one_and_annotations_are_sentences() {
    let reg = TestRegistry::start();
    reg.push_image("library/nginx", "1.25", "n");
    let t = tempfile::tempdir().expect("tempdir");
    fs::write(t.path().join("app.yaml"), "image: nginx:1.25\n").expect("write");
    let o = imagepin(t.path(), &["check", "--format", "github"]);
    assert!(
        stdout(&o).contains("nginx:1.25 is not pinned to a digest. Run `imagepin fix`"),
        "{}",
        stdout(&o)
    );
    assert!(
        stderr(&o).contains("1 reference: 0 pinned, 1 mutable"),
        "{}",
        stderr(&o)
    );
    let mirror = format!("docker.io={}", reg.url());
    let o = imagepin(t.path(), &["fix", "--mirror", &mirror]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("pinned 1 reference in 1 file; 0 failed; 1 unique reference ("),
        "{}",
        stderr(&o)
    );
}

#[test]
#[cfg(unix)]
fn a_file_that_is_not_written_says_so_once() {
    let reg = TestRegistry::start();
    reg.push_image("library/nginx", "1.25", "n");
    let t = tempfile::tempdir().expect("tempdir");
    let p = t.path().join("ro.yaml");
    fs::write(&p, "image: nginx:1.25\n").expect("write");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o444)).expect("chmod");
    let mirror = format!("docker.io={}", reg.url());
    let o = imagepin(t.path(), &["fix", "--mirror", &mirror]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("ro.yaml: not written: is read-only"), "{err}");
    assert_eq!(err.matches("not written").count(), 1, "{err}");

    // The registry answered: annotations and SARIF say the write failed, under its own
    // rule, with no advice about registries or networks.
    let o = imagepin(
        t.path(),
        &["fix", "--mirror", &mirror, "--format", "github"],
    );
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains(
            "title=imagepin%3A not-written::nginx:1.25: ro.yaml: not written: is read-only."
        ),
        "{out}"
    );
    assert!(!out.contains("network"), "{out}");
    let o = imagepin(t.path(), &["fix", "--mirror", &mirror, "--format", "sarif"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("sarif");
    assert_eq!(
        doc["runs"][0]["results"][0]["ruleId"], "not-written",
        "{doc}"
    );
}

/// A diff of files named by absolute or `../` paths applies with `git apply` (and
/// `patch -p1`): those files are named from the filesystem root, never `a//tmp/…` or
/// `a/../…`.
#[test]
fn diffs_of_files_outside_the_current_directory_apply() {
    let reg = TestRegistry::start();
    let digest = reg.push_image("library/nginx", "1.25", "n");
    let mirror = format!("docker.io={}", reg.url());
    for tool in ["git", "patch"] {
        let t = tempfile::tempdir().expect("tempdir");
        let root = fs::canonicalize(t.path()).expect("canonical");
        for dir in ["work", "other", "abs"] {
            fs::create_dir(root.join(dir)).expect("mkdir");
        }
        fs::write(root.join("work/here.yaml"), "image: nginx:1.25\n").expect("write");
        fs::write(root.join("other/f.yaml"), "image: nginx:1.25\n").expect("write");
        fs::write(root.join("abs/g.yaml"), "image: nginx:1.25\n").expect("write");
        let abs = root.join("abs/g.yaml");
        let o = imagepin(
            &root.join("work"),
            &[
                "fix",
                "--diff",
                "--mirror",
                &mirror,
                "../other/f.yaml",
                abs.to_str().expect("utf8"),
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let diff = stdout(&o);
        assert!(!diff.contains("a//") && !diff.contains("/../"), "{diff}");
        let mut apply = match tool {
            "git" => Command::new("git")
                .arg("apply")
                .current_dir("/")
                .stdin(Stdio::piped())
                .spawn(),
            _ => Command::new("patch")
                .args(["-p1", "-d", "/", "--quiet"])
                .stdin(Stdio::piped())
                .spawn(),
        }
        .expect("spawn");
        apply
            .stdin
            .take()
            .expect("stdin")
            .write_all(diff.as_bytes())
            .expect("write diff");
        assert!(apply.wait().expect("wait").success(), "{tool}: {diff}");
        for f in ["other/f.yaml", "abs/g.yaml"] {
            assert_eq!(
                fs::read_to_string(root.join(f)).expect("read"),
                format!("image: nginx:1.25@{digest}\n"),
                "{tool}: {f}"
            );
        }
    }
}

#[test]
fn a_loopback_registry_that_speaks_https_gets_a_hint() {
    let reg = TestRegistry::start_tls();
    reg.push_image("team/app", "2.0", "app");
    let t = tempfile::tempdir().expect("tempdir");
    fs::write(
        t.path().join("Dockerfile"),
        format!("FROM {}/team/app:2.0\n", reg.host()),
    )
    .expect("write");
    let o = imagepin(t.path(), &["fix"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("speaks HTTPS"), "{err}");
    assert!(err.contains("ca:"), "{err}");
}

#[test]
fn a_malformed_ca_certificate_names_the_file_and_the_host() {
    let reg = TestRegistry::start_tls();
    let t = tempfile::tempdir().expect("tempdir");
    // PEM armour around bytes that are no certificate.
    fs::write(
        t.path().join("bad.pem"),
        "-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    fs::write(
        t.path().join(".imagepin.yaml"),
        format!("registries:\n  \"{}\": {{ca: bad.pem}}\n", reg.host()),
    )
    .expect("write");
    fs::write(
        t.path().join("Dockerfile"),
        format!("FROM {}/team/app:2.0\n", reg.host()),
    )
    .expect("write");
    let o = imagepin(t.path(), &["fix"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("bad.pem"), "{err}");
    assert!(err.contains(&reg.host()), "{err}");
}

#[test]
fn a_digest_missing_from_a_mirror_names_the_mirror_and_the_registry() {
    let reg = TestRegistry::start();
    reg.push_image("library/nginx", "1.25", "n");
    let t = tempfile::tempdir().expect("tempdir");
    fs::write(
        t.path().join("app.yaml"),
        format!("image: nginx@sha256:{}\n", "1".repeat(64)),
    )
    .expect("write");
    let mirror = format!("docker.io={}", reg.url());
    let o = imagepin(t.path(), &["verify", "--mirror", &mirror]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains(&format!(
            "does not exist in the mirror {} (asked for docker.io",
            reg.host()
        )),
        "{out}"
    );
}

/// `localhost:PORT` and `127.0.0.1:PORT` are one host: `--concurrency 1` allows one
/// request to it at a time, however many names reach it.
#[test]
fn concurrency_is_counted_per_host() {
    let reg = TestRegistry::start();
    reg.push_image("team/a", "1", "a");
    reg.push_image("team/b", "1", "b");
    let proxy = FaultProxy::start_with_latency(&reg.host(), vec![], Duration::from_millis(100));
    let port = proxy.url().rsplit(':').next().expect("port").to_string();
    let t = tempfile::tempdir().expect("tempdir");
    fs::write(
        t.path().join("app.yaml"),
        format!("a:\n  image: localhost:{port}/team/a:1\nb:\n  image: 127.0.0.1:{port}/team/b:1\n"),
    )
    .expect("write");
    let o = imagepin(t.path(), &["fix", "--dry-run", "--concurrency", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(proxy.max_in_flight(), 1, "{:?}", proxy.seen());
}

/// A reference `fix` has no place to pin (made of ARG defaults, Helm values without a
/// `digest` field) keeps its note in annotations and SARIF, and is never told to run
/// `imagepin fix` as if that would pin it.
#[test]
fn annotations_and_sarif_carry_the_note_of_a_reference_fix_cannot_pin() {
    let t = tempfile::tempdir().expect("tempdir");
    fs::write(
        t.path().join("Dockerfile"),
        "ARG V=20\nFROM node:${V}-alpine\n",
    )
    .expect("write");
    fs::write(
        t.path().join("values.yaml"),
        "image:\n  repository: redis\n  tag: \"7\"\n",
    )
    .expect("write");
    let o = imagepin(t.path(), &["check", "--format", "github"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("::error")).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains(
            "node:20-alpine is not pinned to a digest: `node:${V}-alpine` with ARG defaults"
        ),
        "{out}"
    );
    assert!(
        lines[1].contains("redis:7 is not pinned to a digest: these values have no `digest` field"),
        "{out}"
    );
    for line in &lines {
        assert!(
            line.ends_with(
                "`imagepin fix` cannot pin it where it is written: change it as this message says, then run `imagepin fix`."
            ),
            "{line}"
        );
        assert!(
            !line.contains("to pin it to the digest its tag points to now"),
            "{line}"
        );
    }

    let o = imagepin(t.path(), &["check", "--format", "sarif"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("sarif");
    let results = doc["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2, "{doc}");
    assert!(
        results[0]["message"]["text"]
            .as_str()
            .is_some_and(|m| m.contains("put the whole reference in one ARG")),
        "{doc}"
    );
    assert!(
        results[1]["message"]["text"]
            .as_str()
            .is_some_and(|m| m.contains("add `digest: \"\"` if the chart reads one")),
        "{doc}"
    );
}

/// Counts of one are singular in the stream's refusal and the lock's summary too.
#[test]
fn one_failed_reference_and_one_resolution_are_singular() {
    let t = tempfile::tempdir().expect("tempdir");
    fs::write(
        t.path().join("empty.lock.json"),
        r#"{"version": 1, "references": {}}"#,
    )
    .expect("write");
    let o = support::pipe::imagepin_stdin(
        t.path(),
        &["fix", "-", "--from-lock", "empty.lock.json"],
        b"image: nginx:1.25\n",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("nothing written to stdout: 1 reference failed ("),
        "{}",
        stderr(&o)
    );

    let reg = TestRegistry::start();
    reg.push_image("library/nginx", "1.25", "n");
    let mirror = format!("docker.io={}", reg.url());
    let o = support::pipe::imagepin_stdin(
        t.path(),
        &["fix", "-", "--lock", "one.lock.json", "--mirror", &mirror],
        b"image: nginx:1.25\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("recorded 1 resolution in one.lock.json"),
        "{}",
        stderr(&o)
    );
}

/// A `--mirror` for a registry no reference is on — a misspelt registry name — is
/// said to be unused: otherwise the lookups quietly go to the registry itself.
#[test]
fn a_mirror_for_a_registry_no_reference_is_on_is_said_to_be_unused() {
    let t = tempfile::tempdir().expect("tempdir");
    fs::write(t.path().join("app.yaml"), "image: nginx:1.25\n").expect("write");
    // verify looks nothing up here (nothing is pinned): no registry is needed.
    let o = imagepin(
        t.path(),
        &["verify", "--mirror", "dockerhub=http://127.0.0.1:9"],
    );
    assert!(
        stderr(&o).contains(
            "warning: --mirror dockerhub: no reference here is on dockerhub, so that mirror is not used (the references are on docker.io)"
        ),
        "{}",
        stderr(&o)
    );
    for registry in ["docker.io", "index.docker.io"] {
        let mirror = format!("{registry}=http://127.0.0.1:9");
        let o = imagepin(t.path(), &["verify", "--mirror", &mirror]);
        assert!(!stderr(&o).contains("not used"), "{}", stderr(&o));
    }
    // The config's mirrors and registries are held to the same: a `registries:` host
    // is used when a reference, or a mirror standing in for one, is on it.
    fs::write(
        t.path().join(".imagepin.yaml"),
        "mirrors:\n  dockerhub: http://127.0.0.1:9\n  docker.io: http://localhost:9\nregistries:\n  127.0.0.1:9: {insecure: true}\n  localhost:9: {insecure: true}\n",
    )
    .expect("write config");
    let o = imagepin(t.path(), &["verify"]);
    let err = stderr(&o);
    assert!(
        err.contains(
            "warning: the config's `mirrors:` dockerhub: no reference here is on dockerhub"
        ),
        "{err}"
    );
    assert!(
        err.contains("warning: the config's `registries: {127.0.0.1:9: …}` is not used"),
        "{err}"
    );
    assert!(!err.contains("{localhost:9: …}"), "{err}");
    // A registry named with a scheme is refused, naming the host to write.
    fs::write(
        t.path().join(".imagepin.yaml"),
        "registries:\n  \"https://localhost:9/\": {insecure: true}\n",
    )
    .expect("write config");
    let o = imagepin(t.path(), &["verify"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("`localhost:9`"), "{}", stderr(&o));
}

/// An https:// mirror URL for a registry that speaks plain HTTP gets a hint, once: the
/// TLS handshake answered with `HTTP/1.1 400` is not worth three more tries.
#[test]
fn an_https_url_for_a_plain_http_registry_gets_a_hint_and_no_retries() {
    let reg = TestRegistry::start();
    reg.push_image("library/nginx", "1.25", "n");
    let t = tempfile::tempdir().expect("tempdir");
    fs::write(t.path().join("app.yaml"), "image: nginx:1.25\n").expect("write");
    let mirror = format!("docker.io=https://{}", reg.host());
    let o = imagepin(t.path(), &["fix", "--dry-run", "--mirror", &mirror]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "{} does not speak TLS: it probably speaks plain HTTP; use an http:// URL",
            reg.host()
        )),
        "{err}"
    );
    assert!(err.contains("1 ping, 0 retried)"), "{err}");
}
