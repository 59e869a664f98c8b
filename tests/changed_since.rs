//! `--changed-since REF` against git itself: in a temporary repository with committed,
//! modified, staged, renamed, deleted, untracked and ignored files, the files scanned
//! are exactly `git diff --name-only REF` plus `git ls-files --others
//! --exclude-standard` (those that exist and hold references), within the scan roots.

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use support::git::git;

fn imagepin(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imagepin"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run imagepin")
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

/// The files `check --format json` reported, relative to where it ran.
fn reported(o: &Output) -> BTreeSet<String> {
    assert_eq!(
        o.status.code(),
        Some(1),
        "mutable references fail check: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let p = f["path"].as_str().expect("path");
            p.strip_prefix("./").unwrap_or(p).to_string()
        })
        .collect()
}

const YAML: &str = "image: nginx:1.25\n";
const DOCKERFILE: &str = "FROM redis:7\n";

/// A repository with a first commit (the ref) and every kind of change after it.
fn repository() -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    git(dir, &["init", "--quiet"]);
    write(dir, ".gitignore", "ignored/\n");
    write(dir, "stable.yaml", YAML);
    write(dir, "k8s/app.yaml", YAML);
    write(dir, "k8s/stable.yaml", YAML);
    write(dir, "later.yaml", YAML);
    write(dir, "moved.Dockerfile", DOCKERFILE);
    write(dir, "plain-moved.Dockerfile", DOCKERFILE);
    write(dir, "gone.yaml", YAML);
    git(dir, &["add", "."]);
    git(dir, &["commit", "--quiet", "-m", "base"]);
    let base = git(dir, &["rev-parse", "HEAD"]).trim().to_string();

    // Committed after the ref.
    write(dir, "later.yaml", "image: nginx:1.26\n");
    git(dir, &["commit", "--quiet", "-am", "later"]);
    // Modified, not staged; staged new file; renamed with git and by hand; deleted.
    write(dir, "k8s/app.yaml", "image: nginx:1.27\n");
    write(dir, "staged.yaml", YAML);
    git(dir, &["add", "staged.yaml"]);
    fs::create_dir(dir.join("renamed")).expect("mkdir");
    git(dir, &["mv", "moved.Dockerfile", "renamed/moved.Dockerfile"]);
    fs::rename(
        dir.join("plain-moved.Dockerfile"),
        dir.join("k8s/plain-moved.Dockerfile"),
    )
    .expect("rename");
    fs::remove_file(dir.join("gone.yaml")).expect("rm");
    // Untracked, with an awkward name; ignored.
    write(
        dir,
        "new/compose with space.yaml",
        "services:\n  a:\n    image: redis:7\n",
    );
    write(dir, "ignored/x.yaml", YAML);
    (tmp, base)
}

/// What git says changed: diff plus untracked, existing files only.
fn git_changed(dir: &Path, base: &str) -> BTreeSet<String> {
    let diff = git(dir, &["diff", "--name-only", "-z", base]);
    let untracked = git(dir, &["ls-files", "--others", "--exclude-standard", "-z"]);
    diff.split('\0')
        .chain(untracked.split('\0'))
        .filter(|p| !p.is_empty() && dir.join(p).is_file())
        .map(str::to_string)
        .collect()
}

#[test]
fn check_scans_exactly_what_git_says_changed() {
    let (tmp, base) = repository();
    let dir = tmp.path();
    let o = imagepin(
        dir,
        &["check", "--format", "json", "--changed-since", &base],
    );
    let scanned = reported(&o);
    // .gitignore changed nothing scannable; every other changed file holds references.
    let mut expected = git_changed(dir, &base);
    expected.remove(".gitignore");
    assert_eq!(scanned, expected);
    let named: BTreeSet<String> = [
        "k8s/app.yaml",
        "k8s/plain-moved.Dockerfile",
        "later.yaml",
        "new/compose with space.yaml",
        "renamed/moved.Dockerfile",
        "staged.yaml",
    ]
    .map(String::from)
    .into();
    assert_eq!(scanned, named);

    // Without the flag, everything (but the ignored directory) is scanned.
    let all = reported(&imagepin(dir, &["check", "--format", "json"]));
    assert!(all.contains("stable.yaml") && all.contains("k8s/stable.yaml"));
}

#[test]
fn the_scan_roots_still_bound_the_scan() {
    let (tmp, base) = repository();
    let dir = tmp.path();
    let o = imagepin(
        dir,
        &[
            "check",
            "--format",
            "json",
            "--changed-since",
            &base,
            "k8s",
            "staged.yaml",
            "stable.yaml",
        ],
    );
    let expected: BTreeSet<String> = ["k8s/app.yaml", "k8s/plain-moved.Dockerfile", "staged.yaml"]
        .map(String::from)
        .into();
    assert_eq!(reported(&o), expected);

    // From a subdirectory, `.` is that subdirectory of the same repository.
    let o = imagepin(
        &dir.join("k8s"),
        &["check", "--format", "json", "--changed-since", &base],
    );
    let expected: BTreeSet<String> = ["app.yaml", "plain-moved.Dockerfile"]
        .map(String::from)
        .into();
    assert_eq!(reported(&o), expected);
}

#[test]
fn fix_update_and_verify_look_at_changed_files_only() {
    // The unchanged file needs a registry; the registry does not exist. Only if the
    // unchanged file is left out do the commands succeed.
    let (tmp, _) = repository();
    let dir = tmp.path();
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "--quiet", "-m", "all"]);
    let digest = format!("sha256:{}", "a".repeat(64));
    write(dir, "pinned.yaml", &format!("image: nginx:1.25@{digest}\n"));
    let mirror = "docker.io=http://127.0.0.1:9";
    for args in [
        &["fix", "--dry-run"][..],
        &["update", "--dry-run"][..],
        &["verify"][..],
    ] {
        let mut all = args.to_vec();
        all.extend([
            "--changed-since",
            "HEAD",
            "--mirror",
            mirror,
            "--timeout",
            "2",
        ]);
        let o = imagepin(dir, &all);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        if args[0] == "fix" {
            assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
            assert!(err.contains("would pin 0 references"), "{err}");
        } else {
            // pinned.yaml (untracked) is the one file: its pin needs the registry.
            assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
            assert!(err.contains("pinned.yaml:1:8"), "{args:?}: {err}");
            assert!(!err.contains("stable.yaml"), "{args:?}: {err}");
        }
    }
}

#[test]
fn an_unknown_ref_is_a_usage_error() {
    let (tmp, _) = repository();
    let o = imagepin(tmp.path(), &["check", "--changed-since", "no-such-ref"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "--changed-since no-such-ref: `git diff --name-only -z no-such-ref --` failed"
        ),
        "{err}"
    );
    let outside = tempfile::tempdir().expect("tempdir");
    let o = imagepin(outside.path(), &["check", "--changed-since", "HEAD"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("rev-parse --show-toplevel"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A ref that starts with `-` would reach git as an option: `--diff-filter=X` empties
/// the list (a false green), `--output=FILE` makes git write a file. Refused, nothing
/// written.
#[test]
fn a_ref_that_looks_like_an_option_is_refused() {
    let (tmp, _) = repository();
    let written = tmp.path().join("written-by-git.txt");
    for reference in [
        "--diff-filter=X".to_string(),
        format!("--output={}", written.display()),
    ] {
        let o = imagepin(
            tmp.path(),
            &["check", &format!("--changed-since={reference}")],
        );
        assert_eq!(o.status.code(), Some(2), "{reference}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("not a git ref"), "{err}");
    }
    assert!(!written.exists(), "git wrote {}", written.display());
}
