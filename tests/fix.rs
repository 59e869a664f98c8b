//! `imagepin check` and `imagepin fix` end to end: the built binary against a real
//! registry (Debian's docker-registry on loopback), standing in for Docker Hub and GHCR
//! through `--mirror`, over the golden trees in `testdata/fix/`.

mod support;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::registry::TestRegistry;

/// A registry seeded with every image the goldens use. Placeholders `<<repo:tag>>` in
/// expected files stand for the digest seeded under that repository and tag.
struct Seeded {
    registry: TestRegistry,
    digests: HashMap<String, String>,
    /// Child (per-platform) digests of the multi-arch tags.
    children: HashMap<String, Vec<String>>,
}

fn seed() -> Seeded {
    let registry = TestRegistry::start();
    let mut digests = HashMap::new();
    let mut children = HashMap::new();
    for (repo, tag) in [
        ("library/nginx", "1.25"),
        ("library/busybox", "1.36"),
        ("library/alpine", "3.19"),
        ("library/golang", "1.22"),
        ("library/redis", "7"),
        ("ghcr.io/acme/api", "v2"),
        ("docker/dockerfile", "1"),
    ] {
        let d = registry.push_image(repo, tag, &format!("{repo}:{tag}"));
        digests.insert(format!("{repo}:{tag}"), d);
    }
    let d = registry.push_docker_image("library/postgres", "16", "pg");
    digests.insert("library/postgres:16".into(), d);
    let (index, kids) = registry.push_index(
        "library/nginx",
        "latest",
        &["linux/amd64", "linux/arm64/v8"],
        "n",
    );
    digests.insert("library/nginx:latest".into(), index);
    children.insert("library/nginx:latest".into(), kids);
    let (list, kids) = registry.push_manifest_list(
        "library/redis",
        "latest",
        &["linux/amd64", "linux/arm/v7"],
        "r",
    );
    digests.insert("library/redis:latest".into(), list);
    children.insert("library/redis:latest".into(), kids);
    Seeded {
        registry,
        digests,
        children,
    }
}

impl Seeded {
    fn mirror_args(&self) -> Vec<String> {
        let url = self.registry.url();
        vec![
            "--mirror".into(),
            format!("docker.io={url}"),
            "--mirror".into(),
            format!("ghcr.io={url}/ghcr.io"),
        ]
    }

    /// Replace `<<repo:tag>>` placeholders with seeded digests.
    fn expand(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (key, digest) in &self.digests {
            out = out.replace(&format!("<<{key}>>"), digest);
        }
        assert!(
            !out.contains("@<<"),
            "unknown placeholder in expected file:\n{out}"
        );
        out
    }
}

fn imagepin(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imagepin"))
        .args(args)
        .current_dir(dir)
        .env_remove("DOCKER_CONFIG")
        .output()
        .expect("run imagepin")
}

fn fix(seeded: &Seeded, dir: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<String> = vec!["fix".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(seeded.mirror_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    imagepin(dir, &args)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn golden(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/fix")
        .join(case)
}

/// Copy a directory tree (files only) into a fresh temporary directory.
fn copy_tree(src: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_into(src, tmp.path());
    tmp
}

fn copy_into(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).expect("mkdir");
    for entry in fs::read_dir(src).expect("read_dir") {
        let entry = entry.expect("entry");
        let to = dst.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_into(&entry.path(), &to);
        } else {
            fs::copy(entry.path(), &to).expect("copy");
        }
    }
}

/// Every file under `dir`, relative path → bytes.
fn snapshot(dir: &Path) -> HashMap<PathBuf, Vec<u8>> {
    let mut out = HashMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).expect("read_dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("prefix").to_path_buf();
                out.insert(rel, fs::read(&p).expect("read"));
            }
        }
    }
    out
}

/// Fix a golden case, compare byte for byte, then prove a second run changes nothing
/// and `check` is clean.
fn assert_golden(seeded: &Seeded, case: &str) {
    let tree = copy_tree(&golden(case).join("input"));
    let first = fix(seeded, tree.path(), &[]);
    assert_eq!(first.status.code(), Some(0), "{case}: {}", stderr(&first));
    let expected_dir = golden(case).join("expected");
    let after = snapshot(tree.path());
    for (rel, want) in snapshot(&expected_dir) {
        let want = seeded.expand(&String::from_utf8(want).expect("utf8"));
        let got = String::from_utf8(after[&rel].clone()).expect("utf8");
        assert_eq!(got, want, "{case}/{}", rel.display());
    }
    let second = fix(seeded, tree.path(), &[]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert_eq!(
        snapshot(tree.path()),
        after,
        "{case}: second fix changed files"
    );
    assert!(
        stderr(&second).contains("pinned 0 references"),
        "{}",
        stderr(&second)
    );
    let check = imagepin(tree.path(), &["check"]);
    assert_eq!(check.status.code(), Some(0), "{case}: {}", stdout(&check));
}

#[test]
fn fix_pins_kubernetes_multi_document_streams_byte_exact() {
    assert_golden(&seed(), "kubernetes");
}

#[test]
fn fix_pins_compose_anchor_definitions_once_never_aliases() {
    assert_golden(&seed(), "compose");
}

#[test]
fn fix_keeps_crlf_bom_and_missing_final_newline() {
    assert_golden(&seed(), "crlf");
}

#[test]
fn fix_pins_dockerfile_from_arg_copy_and_syntax() {
    assert_golden(&seed(), "dockerfile");
}

#[test]
fn multi_arch_tags_pin_the_index_not_a_platform() {
    let seeded = seed();
    let tree = tempfile::tempdir().expect("tempdir");
    fs::write(
        tree.path().join("pod.yaml"),
        "kind: Pod\napiVersion: v1\nspec:\n  containers:\n  - image: nginx\n  - image: redis:latest\n",
    )
    .expect("write");
    let out = fix(&seeded, tree.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = fs::read_to_string(tree.path().join("pod.yaml")).expect("read");
    for key in ["library/nginx:latest", "library/redis:latest"] {
        assert!(
            text.contains(&seeded.digests[key]),
            "{key} index digest in\n{text}"
        );
        for child in &seeded.children[key] {
            assert!(
                !text.contains(child.as_str()),
                "{key} pinned a platform manifest"
            );
        }
    }
}

#[test]
fn templates_that_are_not_yaml_are_skipped_untouched_with_file_and_line() {
    let seeded = seed();
    let tree = copy_tree(&golden("untouched").join("input"));
    let before = snapshot(tree.path());
    let out = fix(&seeded, tree.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(snapshot(tree.path()), before);
    let err = stderr(&out);
    assert!(
        err.contains("warning: deployment.yaml:") && err.contains("not valid YAML"),
        "{err}"
    );
    let check = imagepin(tree.path(), &["check"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "a skipped file does not fail check"
    );
}

#[test]
fn diff_and_dry_run_write_nothing() {
    let seeded = seed();
    let tree = copy_tree(&golden("kubernetes").join("input"));
    let before = snapshot(tree.path());

    let diff = fix(&seeded, tree.path(), &["--diff"]);
    assert_eq!(diff.status.code(), Some(0), "{}", stderr(&diff));
    let text = stdout(&diff);
    let nginx = &seeded.digests["library/nginx:1.25"];
    assert!(text.contains("--- a/workloads.yaml"), "{text}");
    assert!(text.contains("+++ b/workloads.yaml"), "{text}");
    assert!(
        text.contains("\n-          image: nginx:1.25 # web server\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "\n+          image: nginx:1.25@{nginx} # web server\n"
        )),
        "{text}"
    );
    assert_eq!(snapshot(tree.path()), before, "--diff wrote");

    let dry = fix(&seeded, tree.path(), &["--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    assert!(
        stdout(&dry).contains("would pin nginx:1.25 -> nginx:1.25@"),
        "{}",
        stdout(&dry)
    );
    assert_eq!(snapshot(tree.path()), before, "--dry-run wrote");
}

#[test]
fn one_manifest_head_per_unique_reference_and_no_gets() {
    let seeded = seed();
    let tree = tempfile::tempdir().expect("tempdir");
    // 3 unique references, used 12 times across 4 files.
    for i in 0..4 {
        fs::write(
            tree.path().join(format!("d{i}.yaml")),
            "kind: Pod\napiVersion: v1\nspec:\n  containers:\n  - image: nginx:1.25\n  - image: docker.io/library/nginx:1.25\n  - image: alpine:3.19\n  - image: ghcr.io/acme/api:v2\n",
        )
        .expect("write");
    }
    let mark = seeded.registry.mark();
    let out = fix(&seeded, tree.path(), &["--concurrency", "8"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let requests = seeded.registry.requests_since(mark);
    let manifests: Vec<_> = requests
        .iter()
        .filter(|r| r.path.contains("/manifests/"))
        .collect();
    let heads = manifests.iter().filter(|r| r.method == "HEAD").count();
    let gets = manifests.iter().filter(|r| r.method == "GET").count();
    assert_eq!((heads, gets), (3, 0), "{manifests:?}");
    assert!(
        stderr(&out).contains("pinned 16 references in 4 files"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_failed_lookup_leaves_that_reference_and_exits_1() {
    let seeded = seed();
    let tree = tempfile::tempdir().expect("tempdir");
    let path = tree.path().join("compose.yaml");
    fs::write(
        &path,
        "services:\n  a:\n    image: nginx:1.25\n  b:\n    image: nginx:9.99-missing\n  c:\n    image: nosuchorg/nothing:1\n",
    )
    .expect("write");
    let out = fix(&seeded, tree.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = fs::read_to_string(&path).expect("read");
    let nginx = &seeded.digests["library/nginx:1.25"];
    assert_eq!(
        text,
        format!(
            "services:\n  a:\n    image: nginx:1.25@{nginx}\n  b:\n    image: nginx:9.99-missing\n  c:\n    image: nosuchorg/nothing:1\n"
        )
    );
    let err = stderr(&out);
    assert!(
        err.contains("compose.yaml:5:12: nginx:9.99-missing"),
        "{err}"
    );
    assert!(
        err.contains("compose.yaml:7:12: nosuchorg/nothing:1"),
        "{err}"
    );
    assert!(err.contains("not found"), "{err}");
    assert!(err.contains("2 failed"), "{err}");
}

#[test]
fn unreachable_registry_fails_cleanly() {
    let tree = tempfile::tempdir().expect("tempdir");
    fs::write(tree.path().join("Dockerfile"), "FROM nginx:1.25\n").expect("write");
    // A port nothing listens on: bind, read it, drop the listener.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let out = imagepin(
        tree.path(),
        &[
            "fix",
            "--mirror",
            &format!("docker.io=http://127.0.0.1:{port}"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot connect"), "{}", stderr(&out));
    assert_eq!(
        fs::read_to_string(tree.path().join("Dockerfile")).expect("read"),
        "FROM nginx:1.25\n"
    );
}
