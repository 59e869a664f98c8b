//! Golden-file testing against a seeded real registry: a registry holding every image
//! the goldens under `testdata/fix/` use, the binary run over a copy of a case's
//! `input/`, and the result compared byte for byte with its `expected/`.
//!
//! In expected files `<<repo:tag>>` stands for the digest seeded under that repository
//! and tag. `IMAGEPIN_UPDATE_GOLDEN=1` rewrites `expected/` from the actual output
//! (review the diff before committing it).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::registry::TestRegistry;

/// A registry seeded with every image the goldens use. Placeholders `<<repo:tag>>` in
/// expected files stand for the digest seeded under that repository and tag.
pub struct Seeded {
    pub registry: TestRegistry,
    pub digests: HashMap<String, String>,
    /// Child (per-platform) digests of the multi-arch tags.
    pub children: HashMap<String, Vec<String>>,
}

pub fn seed() -> Seeded {
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
        ("ghcr.io/acme/tools", "1"),
        ("docker/dockerfile", "1"),
        ("library/node", "20"),
        ("library/node", "18"),
        ("library/debian", "12"),
        ("library/ruby", "3.3"),
        ("library/docker", "24-dind"),
        ("gcr.io/kaniko-project/executor", "debug"),
        ("gcr.io/cloud-builders/docker", "latest"),
        ("cimg/node", "20.1"),
        ("cimg/postgres", "16.0"),
        ("bitnami/nginx", "1.25.3"),
        ("bitnami/exporter", "1.4"),
        ("mcr.microsoft.com/devcontainers/go", "1-1.22"),
        ("acme/app", "1.0"),
        ("xpkg.upbound.io/crossplane-contrib/provider-nop", "v0.2.0"),
        (
            "xpkg.upbound.io/crossplane-contrib/function-patch-and-transform",
            "v0.7.0",
        ),
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
    pub fn mirror_args(&self) -> Vec<String> {
        let url = self.registry.url();
        let mut args = vec!["--mirror".to_string(), format!("docker.io={url}")];
        for host in ["ghcr.io", "gcr.io", "mcr.microsoft.com", "xpkg.upbound.io"] {
            args.push("--mirror".into());
            args.push(format!("{host}={url}/{host}"));
        }
        args
    }

    /// Write `files` as the expected tree, digests turned back into placeholders.
    fn write_expected(&self, dir: &Path, files: &HashMap<PathBuf, Vec<u8>>) {
        for (rel, bytes) in files {
            let mut text = String::from_utf8(bytes.clone()).expect("utf8");
            for (key, digest) in &self.digests {
                text = text.replace(digest.as_str(), &format!("<<{key}>>"));
            }
            let path = dir.join(rel);
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            fs::write(path, text).expect("write expected");
        }
    }

    /// Replace `<<repo:tag>>` placeholders with seeded digests.
    pub fn expand(&self, text: &str) -> String {
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

pub fn imagepin(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imagepin"))
        .args(args)
        .current_dir(dir)
        .env_remove("DOCKER_CONFIG")
        .output()
        .expect("run imagepin")
}

pub fn fix(seeded: &Seeded, dir: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<String> = vec!["fix".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(seeded.mirror_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    imagepin(dir, &args)
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn golden(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/fix")
        .join(case)
}

/// Copy a directory tree (files only) into a fresh temporary directory.
pub fn copy_tree(src: &Path) -> tempfile::TempDir {
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
pub fn snapshot(dir: &Path) -> HashMap<PathBuf, Vec<u8>> {
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
pub fn assert_golden(seeded: &Seeded, case: &str) {
    let tree = copy_tree(&golden(case).join("input"));
    let first = fix(seeded, tree.path(), &[]);
    assert_eq!(first.status.code(), Some(0), "{case}: {}", stderr(&first));
    let expected_dir = golden(case).join("expected");
    let after = snapshot(tree.path());
    if std::env::var_os("IMAGEPIN_UPDATE_GOLDEN").is_some() {
        seeded.write_expected(&expected_dir, &after);
    }
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
