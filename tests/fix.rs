//! `imagepin check` and `imagepin fix` end to end: the built binary against a real
//! registry (Debian's docker-registry on loopback), standing in for Docker Hub and GHCR
//! through `--mirror`, over the golden trees in `testdata/fix/`.

mod support;

use std::fs;

use support::golden::{
    assert_golden, copy_tree, fix, golden, imagepin, seed, snapshot, stderr, stdout,
};

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
        err.contains("warning: deployment.yaml:11: document skipped: a Go template")
            && err.contains("Helm templates must be rendered first"),
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

/// A reference `fix` resolves but has no place to pin (made of ARG defaults; Helm
/// values without a `digest` field) is recorded by `--lock` like the pinned ones, so a
/// run from the lock — the registry gone — reports it as the first run did (a
/// warning, exit 0) instead of failing it as "not in the lock".
#[test]
fn the_lock_holds_what_was_resolved_but_could_not_be_pinned_in_place() {
    let reg = support::registry::TestRegistry::start();
    reg.push_image("library/node", "20-alpine", "node");
    reg.push_image("library/redis", "7", "redis");
    reg.push_image("library/nginx", "1.25", "nginx");
    let t = tempfile::tempdir().expect("tempdir");
    fs::write(
        t.path().join("Dockerfile"),
        "ARG V=20\nFROM node:${V}-alpine\nFROM nginx:1.25\n",
    )
    .expect("write");
    fs::write(
        t.path().join("values.yaml"),
        "image:\n  repository: redis\n  tag: \"7\"\n",
    )
    .expect("write");
    let lock = t.path().join("lock.json");
    let lock = lock.to_str().expect("utf-8 path");
    let mirror = format!("docker.io={}", reg.url());
    let first = imagepin(
        t.path(),
        &["fix", "--dry-run", "--lock", lock, "--mirror", &mirror],
    );
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let recorded: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(lock).expect("lock")).expect("json");
    let mut keys: Vec<&String> = recorded["references"]
        .as_object()
        .expect("references")
        .keys()
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        ["nginx:1.25", "node:20-alpine", "redis:7"],
        "{recorded}"
    );

    drop(reg);
    let again = imagepin(t.path(), &["fix", "--from-lock", lock, "--mirror", &mirror]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let err = stderr(&again);
    assert!(!err.contains("not in the lock"), "{err}");
    assert!(
        err.contains("Dockerfile:2:6: node:20-alpine: not pinned"),
        "{err}"
    );
    assert!(
        err.contains("values.yaml:2:15: redis:7: not pinned"),
        "{err}"
    );
    assert!(
        fs::read_to_string(t.path().join("Dockerfile"))
            .expect("read")
            .contains("FROM nginx:1.25@sha256:"),
    );
}
