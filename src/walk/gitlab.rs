//! The walk's pre-pass for GitLab CI includes. A file that `.gitlab-ci.yml` brings in
//! with `include: local:` (or a bare path) is CI configuration whatever its name, so
//! it must get the GitLab rules — but nothing in that file says so: only the file
//! that includes it does. Before any file is scanned, the walk hands this pass every
//! `.gitlab-ci.yml` it found and the one at the root of each git repository a scanned
//! path is in; each one's includes are followed from its folder (the project root),
//! through included files that include others, and the files they name (wildcards
//! matched against the walked files) are the ones read as GitLab CI.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use crate::scan::gitlab::{include_matches, local_includes};

/// An included file bigger than this is not read for further includes.
const MAX_FILE: u64 = 4 << 20;

/// The real paths of the files the pipelines in `pipelines` (real paths of
/// `.gitlab-ci.yml` files) include, directly or through other included files.
/// `walked` holds the real path of every walked YAML file, for wildcards.
pub fn included(pipelines: &[PathBuf], walked: &[PathBuf]) -> HashSet<PathBuf> {
    let mut out = HashSet::new();
    let mut visited = HashSet::new();
    let mut queue: Vec<(PathBuf, PathBuf)> = pipelines
        .iter()
        .filter_map(|p| Some((p.parent()?.to_path_buf(), p.clone())))
        .collect();
    while let Some((project, file)) = queue.pop() {
        if !visited.insert(file.clone()) {
            continue;
        }
        let Some(text) = read(&file) else { continue };
        for include in local_includes(&text) {
            let targets: Vec<PathBuf> = if include.contains('*') {
                walked
                    .iter()
                    .filter(|w| {
                        w.strip_prefix(&project)
                            .is_ok_and(|rel| include_matches(&include, &slashed(rel)))
                    })
                    .cloned()
                    .collect()
            } else {
                // A local include is a file of this repository: `..` cannot leave it.
                let target = normal(&project.join(include.trim_start_matches('/')));
                target
                    .starts_with(&project)
                    .then_some(target)
                    .into_iter()
                    .collect()
            };
            for target in targets {
                out.insert(target.clone());
                queue.push((project.clone(), target));
            }
        }
    }
    out
}

/// The `.gitlab-ci.yml` at the root of the git work tree holding `path` (a real
/// path), if there is one. Outside a work tree: none.
pub fn repository_pipeline(path: &Path) -> Option<PathBuf> {
    let root = path.ancestors().find(|dir| dir.join(".git").exists())?;
    let pipeline = root.join(".gitlab-ci.yml");
    pipeline.is_file().then_some(pipeline)
}

fn read(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_FILE {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

/// A relative path with `/` between its parts.
fn slashed(rel: &Path) -> String {
    let parts: Vec<_> = rel.iter().map(|c| c.to_string_lossy()).collect();
    parts.join("/")
}

/// `.` and `..` taken out of a path without asking the filesystem.
fn normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn includes_are_followed_through_files_and_wildcards() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |rel: &str, text: &str| {
            let p = root.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        };
        write(
            ".gitlab-ci.yml",
            "include:\n  - local: /ci/build.yml\n  - 'ci/jobs/*.yml'\n  - project: g/p\n    file: x.yml\n  - missing.yml\n",
        );
        write(
            "ci/build.yml",
            "include: ./templates/../ci/shared.yml\nbuild: {script: [make]}\n",
        );
        write(
            "ci/shared.yml",
            "include: ci/build.yml\n.shared: {image: ruby:3.3}\n",
        );
        write("ci/jobs/a.yml", "a: {script: [x]}\n");
        write("ci/jobs/deep/b.yml", "b: {script: [x]}\n");
        write("ci/jobs/up.yml", "include: ../../outside.yml\n");
        write("other.yml", "c: {script: [x]}\n");
        let walked: Vec<PathBuf> = [
            "ci/jobs/up.yml",
            "ci/build.yml",
            "ci/shared.yml",
            "ci/jobs/a.yml",
            "ci/jobs/deep/b.yml",
            "other.yml",
        ]
        .iter()
        .map(|r| root.join(r))
        .collect();
        let got = included(&[root.join(".gitlab-ci.yml")], &walked);
        let mut got: Vec<_> = got
            .iter()
            .map(|p| slashed(p.strip_prefix(root).unwrap()))
            .collect();
        got.sort();
        // A missing file is named but not read; nothing outside the project is.
        assert_eq!(
            got,
            [
                "ci/build.yml",
                "ci/jobs/a.yml",
                "ci/jobs/up.yml",
                "ci/shared.yml",
                "missing.yml"
            ]
        );
    }

    #[test]
    fn the_repository_pipeline_is_at_the_work_tree_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("a/b")).unwrap();
        fs::write(root.join(".gitlab-ci.yml"), "x: 1\n").unwrap();
        assert_eq!(
            repository_pipeline(&root.join("a/b")),
            None,
            "not a work tree"
        );
        fs::create_dir(root.join(".git")).unwrap();
        assert_eq!(
            repository_pipeline(&root.join("a/b")),
            Some(root.join(".gitlab-ci.yml"))
        );
    }
}
