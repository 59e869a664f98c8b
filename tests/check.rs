//! `imagepin check`: offline listing, exit codes and the JSON shape, over golden trees
//! and the real-world corpus in `testdata/corpus/`.

use std::fs;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

mod support;

use support::golden::{imagepin, stderr};

fn testdata(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).expect("stdout is one JSON document")
}

#[test]
fn check_reports_every_reference_with_position_and_status_as_json() {
    let dir = testdata("fix/kubernetes/input");
    let out = imagepin(&dir, &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "unpinned references exit 1");
    let doc = json(&out);
    let findings = doc["findings"].as_array().expect("findings array");
    let by_ref = |r: &str| {
        findings
            .iter()
            .find(|f| f["reference"] == r)
            .unwrap_or_else(|| panic!("{r} missing from {findings:#?}"))
    };
    let web = by_ref("nginx:1.25");
    assert_eq!(web["path"], "workloads.yaml");
    assert_eq!(web["line"], 16);
    assert_eq!(web["column"], 18);
    assert_eq!(web["registry"], "docker.io");
    assert_eq!(web["repository"], "library/nginx");
    assert_eq!(web["tag"], "1.25");
    assert_eq!(web["digest"], Value::Null);
    assert_eq!(web["status"], "mutable");
    assert_eq!(web["format"], "kubernetes");

    let cache = by_ref("redis");
    assert_eq!(cache["status"], "untagged");
    assert_eq!(cache["tag"], Value::Null);

    let api = by_ref("ghcr.io/acme/api:v2");
    assert_eq!(api["registry"], "ghcr.io");
    assert_eq!(api["repository"], "acme/api");
    assert_eq!(api["column"], 19, "column of the text inside the quotes");

    let pinned = by_ref(&format!("nginx:1.25@sha256:{}", "0".repeat(64)));
    assert_eq!(pinned["status"], "pinned");
    assert_eq!(pinned["digest"], format!("sha256:{}", "0".repeat(64)));

    assert_eq!(by_ref("$(params.image)")["status"], "templated");
    let bad = by_ref("Not/A/Valid:Ref");
    assert_eq!(bad["status"], "invalid");
    assert!(
        bad["note"].as_str().is_some_and(|n| n.contains("invalid")),
        "{bad}"
    );

    // Annotations, env values and block scalars are never image fields.
    let refs: Vec<&str> = findings
        .iter()
        .filter_map(|f| f["reference"].as_str())
        .collect();
    assert_eq!(
        refs.iter().filter(|r| **r == "nginx").count(),
        0,
        "{refs:?}"
    );
    assert_eq!(findings.len(), 9, "{refs:?}");
}

#[test]
fn check_text_lists_file_line_column_and_status() {
    let dir = testdata("fix/dockerfile/input");
    let out = imagepin(&dir, &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Dockerfile:5:6: mutable   alpine:3.19 (dockerfile)"),
        "{text}"
    );
    assert!(!text.contains("scratch"), "{text}");
    assert!(
        !text.contains(" build "),
        "stage names are not images: {text}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("references:"), "{err}");
}

#[test]
fn check_exit_codes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pinned = format!("FROM nginx:1.25@sha256:{}\n", "a".repeat(64));
    fs::write(tmp.path().join("Dockerfile"), pinned).expect("write");
    fs::write(tmp.path().join("notes.txt"), "image: nginx\n").expect("write");
    assert_eq!(
        imagepin(tmp.path(), &["check"]).status.code(),
        Some(0),
        "all pinned"
    );

    fs::write(tmp.path().join("tpl.yaml"), "image: ${IMAGE}\n").expect("write");
    assert_eq!(
        imagepin(tmp.path(), &["check"]).status.code(),
        Some(0),
        "templated is reported, not an error"
    );

    fs::write(tmp.path().join("Containerfile"), "FROM nginx\n").expect("write");
    assert_eq!(imagepin(tmp.path(), &["check"]).status.code(), Some(1));
    assert_eq!(
        imagepin(tmp.path(), &["check", "no-such-dir"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        imagepin(tmp.path(), &["check", "--format", "xml"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        imagepin(tmp.path(), &["fix", "--mirror", "docker.io"])
            .status
            .code(),
        Some(2),
        "bad mirror is a usage error"
    );
}

#[test]
fn hidden_folders_are_walked_but_git_and_gitignored_files_are_not() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let p = tmp.path();
    fs::create_dir_all(p.join(".github/workflows")).expect("mkdir");
    fs::create_dir_all(p.join(".git")).expect("mkdir");
    fs::create_dir_all(p.join("build")).expect("mkdir");
    fs::write(
        p.join(".github/workflows/ci.yml"),
        "jobs:\n  a:\n    container:\n      image: node:20\n",
    )
    .expect("w");
    fs::write(p.join(".git/config.yaml"), "image: git-internal\n").expect("w");
    fs::write(p.join("build/out.yaml"), "image: generated\n").expect("w");
    fs::write(p.join(".gitignore"), "build/\n").expect("w");
    fs::write(p.join("explicit.txt"), "image: explicit:1\n").expect("w");
    let out = imagepin(p, &["check", "--format", "json"]);
    let refs: Vec<String> = json(&out)["findings"]
        .as_array()
        .expect("array")
        .iter()
        .map(|f| f["reference"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(refs, ["node:20"]);

    let out = imagepin(
        p,
        &[
            "check",
            "--format",
            "json",
            "explicit.txt",
            "build/out.yaml",
        ],
    );
    let refs: Vec<String> = json(&out)["findings"]
        .as_array()
        .expect("array")
        .iter()
        .map(|f| f["reference"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        refs,
        ["generated", "explicit:1"],
        "explicit files are always scanned"
    );
}

#[test]
fn check_over_the_real_world_corpus_neither_panics_nor_errors() {
    let corpus = testdata("corpus");
    let out = imagepin(&corpus, &["check", "--format", "json"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("error:"), "{err}");
    let doc = json(&out);
    let findings = doc["findings"].as_array().expect("array");
    assert!(findings.len() > 400, "found only {}", findings.len());
    for f in findings {
        let path = corpus.join(f["path"].as_str().expect("path"));
        let text = fs::read_to_string(&path).expect("finding's file exists");
        let line = f["line"].as_u64().expect("line") as usize;
        let reference = f["reference"].as_str().expect("reference");
        let src_line = text.lines().nth(line - 1).expect("line exists");
        // Kustomize and Helm references (also in Flux and Argo CD resources) are
        // assembled from fields: the line holds the image's name. A reference made of
        // variable defaults is what they make; its note starts with the text as written.
        let from_defaults = f["note"]
            .as_str()
            .and_then(|n| n.strip_prefix('`')?.split('`').next());
        let written = match f["format"].as_str() {
            _ if from_defaults.is_some() => from_defaults.unwrap_or(reference),
            Some("kustomize" | "helm" | "flux" | "argo-cd") => reference
                .split(['@', ':'])
                .next()
                .and_then(|name| name.rsplit('/').next())
                .unwrap_or(reference),
            _ => reference,
        };
        assert!(
            src_line.contains(written),
            "{}:{line}: {reference:?} not on that line: {src_line:?}",
            path.display()
        );
    }
    // Every skip names a file and a line.
    for w in err.lines().filter(|l| l.starts_with("warning:")) {
        let loc = w
            .trim_start_matches("warning: ")
            .split(": ")
            .next()
            .unwrap_or("");
        assert!(
            loc.rsplit(':')
                .next()
                .is_some_and(|n| n.parse::<usize>().is_ok()),
            "{w}"
        );
    }
}

/// Each kind of file in the corpus is read by the right scanner, and none of the traps
/// (devcontainer feature keys, CircleCI machine images, Chart.yaml annotation blocks,
/// compose build outputs) is taken for a registry image.
#[test]
fn corpus_files_get_the_right_format_and_no_false_positives() {
    let corpus = testdata("corpus");
    let out = imagepin(&corpus, &["check", "--format", "json"]);
    let doc = json(&out);
    let findings = doc["findings"].as_array().expect("array");
    let formats_of = |pred: &dyn Fn(&str) -> bool| -> std::collections::BTreeSet<String> {
        findings
            .iter()
            .filter(|f| pred(f["path"].as_str().unwrap_or("")))
            .map(|f| f["format"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let name = |p: &str| p.rsplit('/').next().unwrap_or("").to_string();
    let expect = |pred: &dyn Fn(&str) -> bool, want: &str| {
        let got = formats_of(pred);
        assert!(!got.is_empty(), "no findings for {want}");
        assert_eq!(got.into_iter().collect::<Vec<_>>(), [want.to_string()]);
    };
    expect(&|p| name(p) == "kustomization.yaml", "kustomize");
    expect(&|p| name(p) == "values.yaml", "helm");
    expect(&|p| name(p) == "devcontainer.json", "devcontainer");
    expect(&|p| name(p) == "Dockerfile", "dockerfile");
    expect(&|p| name(p) == "compose.yaml", "compose");
    expect(&|p| p.contains(".gitlab-ci."), "gitlab-ci");
    expect(&|p| p.contains(".github/workflows/"), "github-actions");
    expect(&|p| p.contains("cloudbuild"), "cloud-build");
    expect(
        &|p| p.starts_with("kubernetes__examples/") && p.ends_with(".yaml"),
        "kubernetes",
    );

    assert!(
        formats_of(&|p| name(p) == "Chart.yaml").is_empty(),
        "Chart.yaml annotations"
    );
    for f in findings {
        let r = f["reference"].as_str().unwrap_or("");
        assert!(!r.contains("devcontainers/features/"), "feature key {r}");
        assert!(!r.starts_with("ubuntu-2"), "CircleCI machine image {r}");
    }
    let local: Vec<&Value> = findings.iter().filter(|f| f["status"] == "local").collect();
    assert!(local.len() > 10, "compose build outputs: {}", local.len());
    for f in local {
        let path = corpus.join(f["path"].as_str().expect("path"));
        let text = fs::read_to_string(path).expect("read");
        assert!(text.contains("build:"), "{f}");
    }
}

#[test]
fn check_formats_for_machines_sarif_and_github() {
    // In a work tree of its own: SARIF and annotations name files from its root.
    let tree = support::golden::copy_tree(&testdata("fix/kubernetes/input"));
    support::git::git(tree.path(), &["init", "-q"]);
    let dir = tree.path().to_path_buf();
    let out = imagepin(&dir, &["check", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let sarif = json(&out);
    support::sarif::assert_valid(&sarif);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let rules: Vec<&str> = results
        .iter()
        .filter_map(|r| r["ruleId"].as_str())
        .collect();
    assert_eq!(
        rules.iter().filter(|r| **r == "mutable").count(),
        5,
        "{rules:?}"
    );
    assert_eq!(
        rules.iter().filter(|r| **r == "untagged").count(),
        1,
        "{rules:?}"
    );
    assert_eq!(
        results.len(),
        6,
        "pinned, templated and invalid are not problems"
    );

    let out = imagepin(&dir, &["check", "--format", "github"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("::error file=workloads.yaml,line=16,col=18,title=imagepin%3A mutable::nginx:1.25 is not pinned to a digest"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 6, "{text}");
}

#[test]
fn completions_and_man_page() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = imagepin(tmp.path(), &["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("_imagepin()"));
    let out = imagepin(tmp.path(), &["man"]);
    assert_eq!(out.status.code(), Some(0));
    let man = String::from_utf8_lossy(&out.stdout);
    assert!(
        man.contains(".TH imagepin") && man.contains("verify"),
        "{man}"
    );
}

/// `imagepin man --dir DIR` writes every page the main page names (imagepin-check(1)
/// …), so `man imagepin-fix` shows fix's flags; no page names one that is not written.
#[test]
fn man_dir_writes_every_page_the_pages_name() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pages = tmp.path().join("man1");
    fs::create_dir(&pages).expect("mkdir");
    let out = imagepin(tmp.path(), &["man", "--dir", "man1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut written: Vec<String> = fs::read_dir(&pages)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            "imagepin-check.1",
            "imagepin-completions.1",
            "imagepin-fix.1",
            "imagepin-man.1",
            "imagepin-update.1",
            "imagepin-verify.1",
            "imagepin.1"
        ]
    );
    let fix = fs::read_to_string(pages.join("imagepin-fix.1")).expect("read");
    for flag in ["mirror", "lock", "from\\-lock", "platform", "diff"] {
        assert!(fix.contains(&format!("\\-\\-{flag}")), "--{flag} in\n{fix}");
    }
    // Every page a page names is there, whether printed or written.
    let printed = imagepin(tmp.path(), &["man"]);
    let mut texts = vec![String::from_utf8_lossy(&printed.stdout).into_owned()];
    for name in &written {
        texts.push(fs::read_to_string(pages.join(name)).expect("read"));
    }
    let mut named = 0;
    for text in &texts {
        for rest in text.split("imagepin\\-").skip(1) {
            let name: String = rest.chars().take_while(char::is_ascii_lowercase).collect();
            if rest[name.len()..].starts_with("(1)") {
                named += 1;
                assert!(
                    written.contains(&format!("imagepin-{name}.1")),
                    "imagepin-{name}(1) is named but not written"
                );
            }
        }
    }
    assert!(named >= 12, "the main pages name every command: {named}");
    let out = imagepin(tmp.path(), &["man", "--dir", "missing"]);
    assert_eq!(out.status.code(), Some(2));
}
