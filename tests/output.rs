//! What imagepin says, in detail: counts in the singular, annotations in sentences, a
//! file not written said once, diffs that `git apply` and `patch -p1` take for files
//! outside the current directory, a hint for a loopback registry that speaks HTTPS, a
//! broken CA file named with its host, a missing digest naming the mirror that was
//! asked, `--concurrency` counted per host however the host is named, and SARIF and
//! annotations that name each file from the root of its git work tree, wherever the run
//! starts and however the path was given.

mod support;

use std::fs;
use std::io::Write;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
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

/// A temporary directory (by its real path) holding a git work tree `r1`, with
/// `k8s/deploy.yaml` and `compose.yaml` in it.
fn work_tree() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().expect("tempdir");
    let root = fs::canonicalize(t.path()).expect("canonical");
    let r1 = root.join("r1");
    fs::create_dir_all(r1.join("k8s")).expect("mkdir");
    support::git::git(&r1, &["init", "-q"]);
    fs::write(r1.join("k8s/deploy.yaml"), "image: nginx:1.25\n").expect("write");
    fs::write(
        r1.join("compose.yaml"),
        "services:\n  a:\n    image: redis:7\n",
    )
    .expect("write");
    (t, r1)
}

/// A SARIF run in `dir`, checked against the schema and our own rules for locations.
fn sarif(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["check", "--format", "sarif"];
    all.extend(args);
    let o = imagepin(dir, &all);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o))
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&o), stderr(&o)));
    support::sarif::assert_valid(&doc);
    doc
}

/// The run's stdout starts with `prefix`.
#[track_caller]
fn assert_starts(o: &std::process::Output, prefix: &str) {
    let out = stdout(o);
    assert!(out.starts_with(prefix), "{prefix}\n{out}{}", stderr(o));
}

/// Each result's (uri, uriBaseId), in order.
fn uris(doc: &serde_json::Value) -> Vec<(String, Option<String>)> {
    doc["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let a = &r["locations"][0]["physicalLocation"]["artifactLocation"];
            (
                a["uri"].as_str().expect("uri").to_string(),
                a["uriBaseId"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn rel(uri: &str) -> (String, Option<String>) {
    (uri.to_string(), Some("%SRCROOT%".to_string()))
}

/// A directory as a `file://` URI ending in `/`; the test's paths need no escapes.
fn dir_uri(dir: &Path) -> String {
    let s = dir.to_str().expect("utf-8");
    assert!(
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b)),
        "a path the test can write as a URI as it is: {s}"
    );
    format!("file://{s}/")
}

/// Code scanning and annotations place a result by its path from the repository root:
/// so does imagepin, from a subdirectory, through `..`, for an absolute path and from
/// above the work tree; text and JSON keep naming files as the user gave them.
#[test]
fn sarif_and_annotations_name_files_from_the_work_tree_root() {
    let (_t, r1) = work_tree();
    let k8s = r1.join("k8s");
    let abs = k8s.to_str().expect("utf-8");
    let above = r1.parent().expect("parent");
    for (dir, args, expected) in [
        (&k8s, vec![], vec![rel("k8s/deploy.yaml")]),
        (&k8s, vec!["../compose.yaml"], vec![rel("compose.yaml")]),
        (&r1, vec![abs], vec![rel("k8s/deploy.yaml")]),
        (
            &above.to_path_buf(),
            vec!["r1/k8s"],
            vec![rel("k8s/deploy.yaml")],
        ),
        (
            &k8s,
            vec!["./../k8s/./deploy.yaml"],
            vec![rel("k8s/deploy.yaml")],
        ),
        (
            &r1,
            vec![],
            vec![rel("compose.yaml"), rel("k8s/deploy.yaml")],
        ),
    ] {
        let doc = sarif(dir, &args);
        assert_eq!(uris(&doc), expected, "{dir:?} {args:?}\n{doc:#}");
        let base = &doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"];
        assert_eq!(base["uri"], dir_uri(&r1), "{doc:#}");
    }

    for (dir, arg) in [
        (&r1, "./k8s/../k8s/deploy.yaml"),
        (&k8s, "deploy.yaml"),
        (&k8s, abs),
    ] {
        let o = imagepin(dir, &["check", "--format", "github", arg]);
        assert_starts(&o, "::error file=k8s/deploy.yaml,line=1,col=8,");
    }

    // People and scripts get paths as they gave them.
    let o = imagepin(&k8s, &["check", "../compose.yaml", "deploy.yaml"]);
    assert!(
        stdout(&o).contains("../compose.yaml:3:12: mutable")
            && stdout(&o).contains("\ndeploy.yaml:1:8: mutable"),
        "{}",
        stdout(&o)
    );
    let o = imagepin(&k8s, &["check", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(doc["findings"][0]["path"], "deploy.yaml", "{doc:#}");
}

/// The work tree holding a file is the nearest directory above it with a `.git` — a
/// directory, or the file git writes for a linked worktree or a submodule — as git
/// finds it; two work trees in one run get a base each.
#[test]
fn each_file_is_named_from_the_nearest_work_tree() {
    let (_t, r1) = work_tree();
    support::git::git(&r1, &["add", "-A"]);
    support::git::git(&r1, &["commit", "-qm", "init"]);
    let linked = r1.parent().expect("parent").join("linked");
    support::git::git(
        &r1,
        &["worktree", "add", "-q", linked.to_str().expect("utf-8")],
    );
    assert!(
        linked.join(".git").is_file(),
        "a linked worktree's .git is a file"
    );
    // A work tree inside another (as a submodule is): its files are its own.
    let inner = r1.join("vendor/inner");
    fs::create_dir_all(&inner).expect("mkdir");
    support::git::git(&inner, &["init", "-q"]);
    fs::write(inner.join("app.yaml"), "image: alpine:3\n").expect("write");

    let doc = sarif(&r1.join("k8s"), &["../../linked/k8s", "../vendor"]);
    let mut found = uris(&doc);
    found.sort();
    assert_eq!(
        found,
        vec![
            ("app.yaml".to_string(), Some("%SRCROOT2%".to_string())),
            rel("k8s/deploy.yaml"),
        ],
        "{doc:#}"
    );
    let bases = &doc["runs"][0]["originalUriBaseIds"];
    assert_eq!(bases["%SRCROOT%"]["uri"], dir_uri(&linked), "{doc:#}");
    assert_eq!(bases["%SRCROOT2%"]["uri"], dir_uri(&inner), "{doc:#}");

    let o = imagepin(&linked, &["check", "--format", "github", "../r1/vendor"]);
    assert_starts(&o, "::error file=app.yaml,line=1,col=8,");
}

/// A submodule's files are where a checkout with submodules holds them: under the
/// superproject's root (`vendor/sub/d/s.yaml`), never `d/s.yaml`, which would be the
/// superproject's own file of that name.
#[test]
fn a_submodule_file_is_named_from_the_superproject() {
    let t = tempfile::tempdir().expect("tempdir");
    let root = fs::canonicalize(t.path()).expect("canonical");
    let sub = root.join("sub");
    fs::create_dir_all(sub.join("d")).expect("mkdir");
    support::git::git(&sub, &["init", "-q"]);
    fs::write(sub.join("d/s.yaml"), "image: redis:7\n").expect("write");
    support::git::git(&sub, &["add", "-A"]);
    support::git::git(&sub, &["commit", "-qm", "sub"]);
    let top = root.join("top");
    fs::create_dir_all(top.join("d")).expect("mkdir");
    support::git::git(&top, &["init", "-q"]);
    support::git::git(
        &top,
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            sub.to_str().expect("utf-8"),
            "vendor/sub",
        ],
    );
    assert!(
        top.join("vendor/sub/.git").is_file(),
        "a submodule's .git is a file"
    );
    fs::write(top.join("d/s.yaml"), "image: busybox:1.36\n").expect("write");

    let doc = sarif(&top, &[]);
    let mut found = uris(&doc);
    found.sort();
    assert_eq!(
        found,
        vec![rel("d/s.yaml"), rel("vendor/sub/d/s.yaml")],
        "{doc:#}"
    );
    assert!(
        doc["runs"][0]["originalUriBaseIds"]
            .get("%SRCROOT2%")
            .is_none(),
        "{doc:#}"
    );
    // From inside the submodule too.
    let o = imagepin(&top.join("vendor/sub/d"), &["check", "--format", "github"]);
    assert_starts(&o, "::error file=vendor/sub/d/s.yaml,line=1,col=8,");
}

/// A file in no work tree has no path from a repository root: SARIF names it by an
/// absolute `file://` URI (without a base), annotations by its absolute path.
#[test]
fn a_file_outside_any_work_tree_is_named_absolutely() {
    let t = tempfile::tempdir().expect("tempdir");
    let root = fs::canonicalize(t.path()).expect("canonical");
    assert!(
        !root.ancestors().any(|d| d.join(".git").exists()),
        "the temporary directory must be outside any git work tree: {root:?}"
    );
    let dir = root.join("my app");
    fs::create_dir(&dir).expect("mkdir");
    fs::write(dir.join("ü.yaml"), "image: nginx:1.25\n").expect("write");
    fs::create_dir(root.join("sub")).expect("mkdir");

    let doc = sarif(&root.join("sub"), &["../my app"]);
    let expected = format!("{}my%20app/%C3%BC.yaml", dir_uri(&root));
    assert_eq!(uris(&doc), vec![(expected, None)], "{doc:#}");
    assert!(
        doc["runs"][0].get("originalUriBaseIds").is_none(),
        "no work tree, no base: {doc:#}"
    );

    let o = imagepin(
        &root.join("sub"),
        &["check", "--format", "github", "../my app"],
    );
    let expected = format!(
        "::error file={}/my app/ü.yaml,line=1,col=8,",
        root.display()
    );
    assert_starts(&o, &expected);
}

/// A backslash is a character of a file name on Unix, not a separator: SARIF encodes
/// it (`%5C`), annotations keep it, as JSON does.
#[test]
#[cfg(unix)]
fn a_backslash_in_a_file_name_stays_part_of_the_name() {
    let (_t, r1) = work_tree();
    fs::write(r1.join("tab\\tx.yaml"), "image: redis:7\n").expect("write");
    let doc = sarif(&r1, &["tab\\tx.yaml"]);
    assert_eq!(uris(&doc), vec![rel("tab%5Ctx.yaml")], "{doc:#}");
    let o = imagepin(&r1, &["check", "--format", "github", "tab\\tx.yaml"]);
    assert_starts(&o, "::error file=tab\\tx.yaml,line=1,");
}

/// SARIF columns are UTF-16 code units, as `columnKind` says and as GitHub counts
/// them; text, JSON and annotations count characters.
#[test]
fn sarif_columns_are_utf16_code_units() {
    let (_t, r1) = work_tree();
    let k8s = r1.join("k8s");
    fs::write(
        k8s.join("deploy.yaml"),
        "a: {name: \"\u{1F600}\u{1F600}\", image: nginx:1.25}\n",
    )
    .expect("write");
    let doc = sarif(&k8s, &[]);
    assert_eq!(doc["runs"][0]["columnKind"], "utf16CodeUnits", "{doc:#}");
    let region = &doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startColumn"], 26, "{doc:#}");
    let o = imagepin(&k8s, &["check"]);
    assert_starts(&o, "deploy.yaml:1:24: ");
}

/// Stdin named with `--stdin-filename` is placed as a file of that name would be;
/// without a name it stays `<stdin>`.
#[test]
fn stdin_is_placed_by_the_name_it_is_given() {
    let (_t, r1) = work_tree();
    let k8s = r1.join("k8s");
    let pod = b"image: nginx:1.25\n";
    let run = |args: &[&str]| {
        let mut all = vec!["check", "-", "--format", "sarif"];
        all.extend(args);
        let o = support::pipe::imagepin_stdin(&k8s, &all, pod);
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("sarif");
        support::sarif::assert_valid(&doc);
        doc
    };
    let doc = run(&["--stdin-filename", "rendered/pod.yaml"]);
    assert_eq!(uris(&doc), vec![rel("k8s/rendered/pod.yaml")], "{doc:#}");
    let doc = run(&[]);
    assert_eq!(uris(&doc), vec![rel("%3Cstdin%3E")], "{doc:#}");
}
