//! This repository's own supply chain: every `uses:` in `action.yml`, `.github/` and
//! `examples/` is pinned to a full commit SHA with its version in a comment, and
//! `imagepin check` over the repository exits 0 with the Dockerfile's `FROM` pinned.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_serde::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every YAML file under `dir`, recursively.
fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yml" | "yaml")
        ) {
            out.push(path);
        }
    }
}

/// The files whose `uses:` this repository answers for.
fn ci_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("action.yml")];
    yaml_files(&root().join(".github"), &mut files);
    yaml_files(&root().join("examples"), &mut files);
    files
}

/// Every string value of a `uses` key, at any depth (steps, jobs calling workflows).
fn uses_values(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Mapping(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    (Some("uses"), Value::String(s)) => out.push(s.clone()),
                    _ => uses_values(v, out),
                }
            }
        }
        Value::Sequence(s) => s.iter().for_each(|v| uses_values(v, out)),
        Value::Tagged(t) => uses_values(&t.value, out),
        _ => {}
    }
}

/// The project's own action in the copy-paste examples: the reader fills in the commit of
/// the release they choose (README "Recipes for CI"); nothing here can know it.
const OWN_ACTION_PLACEHOLDER: &str = "imagepin/imagepin@<release-commit-sha>";

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Why `uses` (on `line` of `file`) is not pinned, if it is not.
fn unpinned(file: &Path, uses: &str, line: &str) -> Option<String> {
    if uses.starts_with("./") {
        return None; // an action or workflow in this repository, at this commit
    }
    if let Some(image) = uses.strip_prefix("docker://") {
        return match image.rsplit_once("@sha256:") {
            Some((_, digest)) if is_hex(digest, 64) => None,
            _ => Some("a docker:// image without a sha256 digest".into()),
        };
    }
    if uses == OWN_ACTION_PLACEHOLDER {
        return (!file.starts_with(root().join("examples")))
            .then(|| "the release placeholder belongs in examples/ only".into());
    }
    let Some((_, git_ref)) = uses.rsplit_once('@') else {
        return Some("no @ref".into());
    };
    if !is_hex(git_ref, 40) {
        return Some(format!("{git_ref:?} is not a full (40-hex) commit SHA"));
    }
    // The SHA says what runs; the comment says which release that is, for readers and
    // for update tools.
    let comment = line.split_once(" # ").map(|(_, c)| c.trim());
    match comment {
        Some(c) if c.starts_with('v') && c[1..].starts_with(|ch: char| ch.is_ascii_digit()) => None,
        _ => Some("no `# vX.Y.Z` comment naming the version".into()),
    }
}

#[test]
fn every_uses_is_pinned_to_a_commit_sha_with_its_version() {
    let files = ci_files();
    for expected in [
        "action.yml",
        ".github/workflows/ci.yml",
        ".github/workflows/release.yml",
        ".github/workflows/container.yml",
        ".github/workflows/audit.yml",
        "examples/github-actions/check.yml",
        "examples/github-actions/pin-update.yml",
    ] {
        assert!(files.contains(&root().join(expected)), "{expected} missing");
    }
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = fs::read_to_string(file).expect("readable");
        let doc: Value = yaml_serde::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not YAML: {e}", file.display()));
        let mut uses = Vec::new();
        uses_values(&doc, &mut uses);
        for u in uses {
            checked += 1;
            // The line that holds this `uses:` value, for its comment.
            let line = text
                .lines()
                .find(|l| {
                    l.trim_start()
                        .trim_start_matches("- ")
                        .strip_prefix("uses:")
                        .is_some_and(|rest| rest.trim_start().starts_with(u.as_str()))
                })
                .unwrap_or_else(|| panic!("{}: no line holds uses: {u}", file.display()));
            if let Some(why) = unpinned(file, &u, line) {
                let rel = file.strip_prefix(root()).unwrap_or(file);
                problems.push(format!("{}: uses: {u}: {why}", rel.display()));
            }
        }
    }
    assert!(
        checked >= 20,
        "only {checked} uses: found; is the walk broken?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_pin_rules_refuse_tags_branches_short_shas_and_missing_comments() {
    let wf = root().join(".github/workflows/x.yml");
    let sha = "3d3c42e5aac5ba805825da76410c181273ba90b1";
    let ok = |u: &str, line: &str| unpinned(&wf, u, line).is_none();
    assert!(ok(
        &format!("actions/checkout@{sha}"),
        &format!("- uses: actions/checkout@{sha} # v7.0.1")
    ));
    assert!(ok("./", "- uses: ./"));
    assert!(!ok("actions/checkout@v4", "- uses: actions/checkout@v4"));
    assert!(!ok(
        "actions/checkout@main",
        "- uses: actions/checkout@main # v4"
    ));
    assert!(!ok(
        "actions/checkout@3d3c42e",
        "- uses: actions/checkout@3d3c42e # v7.0.1"
    ));
    assert!(!ok(
        &format!("actions/checkout@{}", sha.to_uppercase()),
        "# v7"
    ));
    assert!(!ok(
        &format!("actions/checkout@{sha}"),
        &format!("- uses: actions/checkout@{sha}")
    ));
    assert!(!ok("docker://alpine:3.24", "- uses: docker://alpine:3.24"));
    assert!(ok(
        &format!("docker://alpine@sha256:{}", "a".repeat(64)),
        "uses: docker://alpine@sha256:…"
    ));
    assert!(
        !ok(OWN_ACTION_PLACEHOLDER, ""),
        "the placeholder is for examples/"
    );
    let example = root().join("examples/github-actions/check.yml");
    assert!(unpinned(&example, OWN_ACTION_PLACEHOLDER, "").is_none());
}

#[test]
fn the_repository_passes_its_own_check_with_the_dockerfile_pinned() {
    let out = Command::new(env!("CARGO_BIN_EXE_imagepin"))
        .args(["check", "--format", "json"])
        .current_dir(root())
        .output()
        .expect("imagepin runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let findings = doc["findings"].as_array().expect("findings");
    let from = findings
        .iter()
        .find(|f| f["path"] == "Dockerfile")
        .unwrap_or_else(|| panic!("the Dockerfile's FROM was not scanned: {findings:#?}"));
    assert_eq!(from["status"], "pinned", "{from:#?}");
    assert_eq!(from["format"], "dockerfile");
    assert!(
        findings.iter().all(|f| {
            let p = f["path"].as_str().unwrap_or("");
            !p.starts_with("testdata/") && !p.starts_with("examples/quickstart/")
        }),
        ".imagepin.yaml excludes the test inputs and the quick start"
    );
}
