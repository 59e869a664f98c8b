//! `.imagepin.yaml`: found as git finds its files (from each scanned path upward to
//! the repository root), the same whatever the argument order or current directory;
//! `--config` overrides; `ignore:` matches an image however it is written; the messages
//! a bad config gets.

mod support;

use std::fs;
use std::path::Path;
use std::process::Output;

use serde_json::Value;
use support::git::git;
use support::golden::{imagepin, stderr};

fn references(o: &Output) -> Vec<String> {
    let doc: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("json ({e}): {}", stderr(o)));
    let mut refs: Vec<String> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["reference"].as_str().expect("reference").to_string())
        .collect();
    refs.sort();
    refs
}

/// repo/.imagepin.yaml ignores redis; repo/sub and repo/other hold references.
fn repo() -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    let repo = t.path();
    git(repo, &["init", "--quiet"]);
    fs::write(repo.join(".imagepin.yaml"), "ignore: [\"redis*\"]\n").expect("write");
    for dir in ["sub", "other"] {
        fs::create_dir(repo.join(dir)).expect("mkdir");
        fs::write(
            repo.join(dir).join("app.yaml"),
            format!("a:\n  image: nginx:{dir}\nb:\n  image: redis:7\n"),
        )
        .expect("write");
    }
    t
}

#[test]
fn the_config_is_found_upward_from_each_scanned_path_to_the_repository_root() {
    let t = repo();
    let repo = t.path();
    for (cwd, args) in [
        (repo.to_path_buf(), vec!["."]),
        (repo.to_path_buf(), vec!["other", "."]),
        (repo.to_path_buf(), vec!["sub/app.yaml"]),
        (repo.join("sub"), vec![]),
        (repo.join("sub"), vec!["app.yaml", "../other"]),
    ] {
        let mut all = vec!["check", "--format", "json"];
        all.extend(args.iter().copied());
        let o = imagepin(&cwd, &all);
        let refs = references(&o);
        assert!(
            !refs.iter().any(|r| r.starts_with("redis")),
            "{cwd:?} {args:?}: the repository's config applies: {refs:?}"
        );
        assert!(!refs.is_empty(), "{cwd:?} {args:?}");
    }
}

#[test]
fn a_config_above_the_repository_root_is_not_used_and_different_configs_are_refused() {
    let t = tempfile::tempdir().expect("tempdir");
    fs::write(t.path().join(".imagepin.yaml"), "ignore: [\"nginx*\"]\n").expect("write");
    let inner = t.path().join("inner");
    fs::create_dir(&inner).expect("mkdir");
    git(&inner, &["init", "--quiet"]);
    fs::write(inner.join("app.yaml"), "image: nginx:1.25\n").expect("write");
    fs::write(t.path().join("top.yaml"), "image: nginx:1.25\n").expect("write");

    // Inside the repository, the config above it does not count.
    let o = imagepin(&inner, &["check", "--format", "json"]);
    assert_eq!(references(&o), ["nginx:1.25"]);
    // Outside any repository, the search goes up to the filesystem root.
    let o = imagepin(t.path(), &["check", "--format", "json", "top.yaml"]);
    assert_eq!(references(&o), Vec::<String>::new());
    // Paths under different configs in one run: refused, naming both.
    let o = imagepin(t.path(), &["check", "top.yaml", "inner"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("different configs"), "{err}");
    assert!(
        err.contains(".imagepin.yaml") && err.contains("inner"),
        "{err}"
    );
    // --config overrides the search.
    fs::write(t.path().join("none.yaml"), "").expect("write");
    let o = imagepin(
        t.path(),
        &[
            "check",
            "--format",
            "json",
            "--config",
            "none.yaml",
            "top.yaml",
            "inner",
        ],
    );
    assert_eq!(references(&o), ["nginx:1.25", "nginx:1.25"]);
}

#[test]
fn ignore_patterns_match_the_image_however_it_is_written() {
    let t = tempfile::tempdir().expect("tempdir");
    let digest = format!("sha256:{}", "a".repeat(64));
    fs::write(t.path().join(".imagepin.yaml"), "ignore: [\"redis:7\"]\n").expect("write");
    fs::write(
        t.path().join("app.yaml"),
        format!(
            "a: {{image: redis:7}}\nb: {{image: \"redis:7@{digest}\"}}\nc: {{image: docker.io/library/redis:7}}\nd: {{image: index.docker.io/library/redis:7@{digest}}}\ne: {{image: redis:8}}\n"
        ),
    )
    .expect("write");
    let o = imagepin(t.path(), &["check", "--format", "json"]);
    assert_eq!(references(&o), ["redis:8"]);

    // An ignore is never silent: the summary counts what ignores left out, inline
    // comments (here one in a file with nothing else) and patterns alike.
    fs::write(
        t.path().join("other.yaml"),
        "image: nginx:1.25 # imagepin: ignore\n",
    )
    .expect("write");
    let o = imagepin(t.path(), &["check"]);
    assert!(
        stderr(&o).contains("1 reference: 0 pinned, 1 mutable, 0 untagged, 0 templated, 0 invalid, 0 local; 5 more references ignored"),
        "{}",
        stderr(&o)
    );
}

fn check_with_config(dir: &Path, config: &str) -> Output {
    imagepin(dir, &["check", "--config", config])
}

#[test]
fn config_messages_say_what_is_wrong() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path();
    fs::write(dir.join("app.yaml"), "image: nginx:1.25\n").expect("write");

    let o = check_with_config(dir, ".");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--config .: is a directory"),
        "{}",
        stderr(&o)
    );

    // /dev/null is the empty config.
    let o = check_with_config(dir, "/dev/null");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));

    // Merge keys work as in any YAML.
    fs::write(
        dir.join("merge.yaml"),
        "x-ca: &tls {insecure: true}\nregistries:\n  legacy.internal:\n    <<: *tls\nignore: [\"nginx*\"]\n",
    )
    .expect("write");
    let o = imagepin(dir, &["check", "--config", "merge.yaml"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "x-ca is not a config key: {}",
        stderr(&o)
    );
    fs::write(
        dir.join("merge.yaml"),
        "registries:\n  a.internal: &tls {insecure: true}\n  legacy.internal:\n    <<: *tls\nignore: [\"nginx*\"]\n",
    )
    .expect("write");
    let o = imagepin(dir, &["check", "--config", "merge.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // Type errors speak of the config, not of internal type names.
    fs::write(
        dir.join("bad.yaml"),
        "registries:\n  legacy.internal: yes\n",
    )
    .expect("write");
    let o = check_with_config(dir, "bad.yaml");
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(!err.contains("struct"), "{err}");
    assert!(!err.contains("RegistryConfig"), "{err}");
    assert!(err.contains("registries"), "{err}");
    assert!(err.contains("`ca` and/or `insecure`"), "{err}");

    // A pattern YAML reads as a number or a boolean is refused, not made text.
    for (config, says) in [
        (
            "ignore: [5]\n",
            "ignore: a pattern YAML reads as the number 5; quote it",
        ),
        (
            "exclude: [0x10]\n",
            "exclude: a pattern YAML reads as the number 16; quote it as you wrote it",
        ),
        (
            "exclude: [true]\n",
            "exclude: the pattern true is a boolean",
        ),
    ] {
        fs::write(dir.join("bad.yaml"), config).expect("write");
        let o = check_with_config(dir, "bad.yaml");
        assert_eq!(o.status.code(), Some(2), "{config}");
        assert!(stderr(&o).contains(says), "{}", stderr(&o));
    }
}

/// A value that parses but cannot be used — a mirror URL, an exclude glob, a registry
/// key written as a URL, a CA file that is not there — is an error naming the config
/// file it is in, as the same message could come from a flag.
#[test]
fn unusable_values_name_the_config_file() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path();
    fs::write(dir.join("app.yaml"), "image: nginx:1.25\n").expect("write");
    for (config, says) in [
        (
            "mirrors:\n  docker.io: 127.0.0.1:5000\n",
            "mirror for docker.io: \"127.0.0.1:5000\" needs a scheme",
        ),
        ("exclude:\n  - \"[z\"\n", "exclude pattern \"[z\""),
        (
            "registries:\n  \"https://x.io\":\n    insecure: true\n",
            "registries.https://x.io: a registry is named by its host",
        ),
        (
            "registries:\n  x.io:\n    ca: missing.pem\n",
            "registries.x.io.ca: ",
        ),
        (
            "registries:\n  x.io: {ca: missing.pem, insecure: true}\n",
            "registries.x.io: `ca` and `insecure: true` contradict each other",
        ),
        (
            "registries:\n  \"\": {insecure: true}\n",
            "registries: an empty key",
        ),
        (
            "mirrors:\n  \"https://docker.io\": http://127.0.0.1:5000\n",
            "mirrors.https://docker.io: a registry is named by its host",
        ),
    ] {
        fs::write(dir.join(".imagepin.yaml"), config).expect("write");
        // `check` (offline) refuses what `fix` would, with the same message.
        for command in [&["fix", "--dry-run"][..], &["check"]] {
            let o = imagepin(dir, command);
            assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
            let err = stderr(&o);
            assert!(err.contains(".imagepin.yaml: "), "{err}");
            assert!(err.contains(says), "{err}");
        }
    }
}

/// A config below the paths given is not this run's — one run has one config — and is
/// said to be unused, rather than silently not applied: `check` at the root reports
/// what `check` in that directory ignores.
#[test]
fn a_config_below_the_paths_given_is_said_to_be_unused() {
    let t = repo();
    let repo = t.path();
    fs::write(repo.join("sub/.imagepin.yml"), "ignore: [\"nginx*\"]\n").expect("write");
    let o = imagepin(repo, &["check", "--format", "json"]);
    assert_eq!(
        references(&o),
        ["nginx:other", "nginx:sub"],
        "the root's config applies"
    );
    let err = stderr(&o);
    assert!(
        err.contains(
            "warning: sub/.imagepin.yml: not used by this run: a config applies to the paths given under it; scan sub on its own to use it"
        ),
        "{err}"
    );
    assert_eq!(err.matches("not used by this run").count(), 1, "{err}");
    // Scanned from where it applies, or with one config named for all: no warning.
    let o = imagepin(&repo.join("sub"), &["check"]);
    assert!(!stderr(&o).contains("not used"), "{}", stderr(&o));
    let o = imagepin(repo, &["check", "--config", ".imagepin.yaml"]);
    assert!(!stderr(&o).contains("not used"), "{}", stderr(&o));
}
