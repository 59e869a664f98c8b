//! The data every stage shares: a `Finding` is one image reference found in one file,
//! with the exact byte span it occupies, its parsed form and what state it is in.
//! Scanners produce findings; commands and reports only read them. A `Skipped` is
//! the other thing a scan can produce: a file (or part of one) that was not read.
//! Every stage names files the same two ways: as the user gave them ([`display_path`])
//! and, for reports that place results in a repository, by their [`Place`] in the git
//! work tree that holds them.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::reference::Reference;

/// The kind of file (or document) a reference was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Kubernetes,
    Compose,
    Dockerfile,
    Yaml,
    GithubActions,
    GitlabCi,
    Circleci,
    CloudBuild,
    Kustomize,
    Helm,
    Devcontainer,
    Quadlet,
    Terraform,
    Nomad,
    DockerBake,
    Jenkinsfile,
    Flux,
    ArgoCd,
    Tekton,
    Crossplane,
    Skaffold,
    BitbucketPipelines,
    AzurePipelines,
    Drone,
    Ecs,
    Cloudformation,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Kubernetes => "kubernetes",
            Format::Compose => "compose",
            Format::Dockerfile => "dockerfile",
            Format::Yaml => "yaml",
            Format::GithubActions => "github-actions",
            Format::GitlabCi => "gitlab-ci",
            Format::Circleci => "circleci",
            Format::CloudBuild => "cloud-build",
            Format::Kustomize => "kustomize",
            Format::Helm => "helm",
            Format::Devcontainer => "devcontainer",
            Format::Quadlet => "quadlet",
            Format::Terraform => "terraform",
            Format::Nomad => "nomad",
            Format::DockerBake => "docker-bake",
            Format::Jenkinsfile => "jenkinsfile",
            Format::Flux => "flux",
            Format::ArgoCd => "argo-cd",
            Format::Tekton => "tekton",
            Format::Crossplane => "crossplane",
            Format::Skaffold => "skaffold",
            Format::BitbucketPipelines => "bitbucket-pipelines",
            Format::AzurePipelines => "azure-pipelines",
            Format::Drone => "drone",
            Format::Ecs => "ecs",
            Format::Cloudformation => "cloudformation",
        }
    }
}

/// Where a new digest goes when a reference is pinned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinSite {
    /// The finding's span holds the whole reference: a digest is appended to it (or
    /// replaces the one it carries).
    Inline,
    /// The reference is assembled from fields (Kustomize `images:`, Helm values) and
    /// its digest lives in a field of its own.
    Field(DigestField),
}

/// The digest field of a reference assembled from fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestField {
    /// Replace these bytes (the field's value, inside any quotes) with the digest.
    Value(std::ops::Range<usize>),
    /// No field yet: insert `before`, the digest, then `after` at `at`.
    Insert {
        at: usize,
        before: String,
        after: String,
    },
    /// No field, and none may be invented: the reference cannot be pinned in place.
    Missing(String),
}

/// What state a reference is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Carries a digest: immutable.
    Pinned,
    /// A tag without a digest: may point to other content tomorrow.
    Mutable,
    /// Neither tag nor digest: means `:latest`, the most mutable of all.
    Untagged,
    /// Built from variables or templates: cannot be known without rendering.
    Templated,
    /// Not a valid reference by the Docker grammar.
    Invalid,
    /// Built locally (a compose service's `build:` output): never looked up.
    Local,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pinned => "pinned",
            Status::Mutable => "mutable",
            Status::Untagged => "untagged",
            Status::Templated => "templated",
            Status::Invalid => "invalid",
            Status::Local => "local",
        }
    }

    /// Whether `fix` should pin a reference in this state.
    pub fn needs_pin(self) -> bool {
        matches!(self, Status::Mutable | Status::Untagged)
    }
}

/// One image reference in one file.
#[derive(Debug, Clone)]
pub struct Finding {
    pub path: PathBuf,
    /// Byte span of the reference text in the file.
    pub span: Range<usize>,
    /// 1-based line of the span's start.
    pub line: usize,
    /// 1-based column of the span's start, counted in characters.
    pub column: usize,
    /// The same column counted in UTF-16 code units, as SARIF consumers count them: it
    /// differs after a character outside the Basic Multilingual Plane (an emoji).
    pub column_utf16: usize,
    /// The reference exactly as written (for references assembled from fields, the
    /// reference those fields produce).
    pub text: String,
    /// Where a digest goes when this reference is pinned.
    pub pin: PinSite,
    pub format: Format,
    pub status: Status,
    /// The parsed reference (absent for templated and invalid text).
    pub reference: Option<Reference>,
    /// Why a reference is invalid, or other context for the reader.
    pub note: Option<String>,
}

/// A file that could not be scanned, or one document of it: skipped, never written.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

/// How the message of a [`Skipped`] document (not a whole file) begins.
pub const DOCUMENT_SKIPPED: &str = "document skipped";

impl Skipped {
    /// Whether one document of a file was skipped (the rest of it was read).
    pub fn is_document(&self) -> bool {
        self.message.starts_with(DOCUMENT_SKIPPED)
    }
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = display_path(&self.path);
        match self.line {
            Some(line) => write!(f, "{path}:{line}: {}", self.message),
            None => write!(f, "{path}: {}", self.message),
        }
    }
}

/// A path as the user should see it: without a leading `./`. On Windows its separators
/// are `/` too, as git writes paths and GitHub's annotations need them, so a report
/// names a file the same way on every platform.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy();
    #[cfg(windows)]
    let s = s.replace('\\', "/");
    s.strip_prefix("./").unwrap_or(&s).to_string()
}

/// How stdin is named when no `--stdin-filename` names it: a name, not a path.
pub const STDIN: &str = "<stdin>";

/// Where a file is, for reports that place results in a repository (SARIF, GitHub
/// annotations): GitHub places them by their path from the repository's root, wherever
/// the run started and however the path was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// In a git work tree: its root, and the file's path from there. Both come from the
    /// file's absolute path with `.` and `..` resolved as text (not through symbolic
    /// links), so the path from the root has neither.
    WorkTree { root: PathBuf, path: PathBuf },
    /// In no work tree: its absolute path, `.` and `..` resolved the same way.
    Outside(PathBuf),
    /// Stdin without `--stdin-filename`: no file at all.
    Stdin,
    /// No path (an error the walk could not tie to a file).
    Nowhere,
}

/// Finds the git work tree holding each file the way git does: the nearest directory
/// above it with a `.git` — the repository's directory, or the file git writes in a
/// linked worktree or a submodule — and remembers every directory's answer, so a
/// thousand files in one folder cost one look upward.
#[derive(Debug, Default)]
pub struct WorkTrees {
    /// A directory (absolute, lexically normal) → the root of the work tree holding it.
    roots: HashMap<PathBuf, Option<PathBuf>>,
}

impl WorkTrees {
    /// Where `path` (as the walk or the user named it) is.
    pub fn place(&mut self, path: &Path) -> Place {
        if path.as_os_str().is_empty() {
            return Place::Nowhere;
        }
        if path == Path::new(STDIN) {
            return Place::Stdin;
        }
        // A relative path is taken from the current directory; should that be gone, the
        // path is used as given (and its `.git` looked for from there).
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let path = lexically_normal(&path);
        let root = path.parent().and_then(|dir| self.root_of(dir));
        match root {
            Some(root) => match path.strip_prefix(&root) {
                Ok(inside) => Place::WorkTree {
                    path: inside.to_path_buf(),
                    root,
                },
                Err(_) => Place::Outside(path),
            },
            None => Place::Outside(path),
        }
    }

    fn root_of(&mut self, dir: &Path) -> Option<PathBuf> {
        let mut asked = Vec::new();
        let mut found = None;
        for d in dir.ancestors() {
            if let Some(known) = self.roots.get(d) {
                found = known.clone();
                break;
            }
            asked.push(d.to_path_buf());
            if holds_git(d) {
                found = Some(superproject(d).unwrap_or_else(|| d.to_path_buf()));
                break;
            }
        }
        for d in asked {
            self.roots.insert(d, found.clone());
        }
        found
    }
}

/// The outermost superproject of a submodule checked out at `dir`, whose work tree
/// holds the submodule's files where GitHub places them (a checkout with submodules
/// is one tree): a submodule's `.git` is a file, `gitdir: …/.git/modules/NAME`, and
/// the superproject's work tree is above that `.git` (nested submodules live under
/// `modules/A/modules/B` of the outermost one). `None` for anything else — a
/// repository, or a linked worktree (`gitdir: …/.git/worktrees/NAME`), a checkout of
/// its own.
fn superproject(dir: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(dir.join(".git")).ok()?;
    let gitdir = text.lines().next()?.strip_prefix("gitdir:")?.trim();
    let gitdir = lexically_normal(&dir.join(gitdir));
    let parts: Vec<Component> = gitdir.components().collect();
    let at = parts
        .windows(2)
        .position(|w| w[0].as_os_str() == ".git" && w[1].as_os_str() == "modules")?;
    let root: PathBuf = parts[..at].iter().collect();
    (dir.starts_with(&root) && holds_git(&root)).then_some(root)
}

/// Whether `dir` is the root of a git work tree: it holds `.git`, a directory (the
/// repository) or a file (a linked worktree's or a submodule's pointer to it).
pub fn holds_git(dir: &Path) -> bool {
    std::fs::metadata(dir.join(".git")).is_ok_and(|m| m.is_dir() || m.is_file())
}

/// `path` with `.` dropped and each `..` taking away the name before it, as text: never
/// above the root, and kept at the start of a relative path.
fn lexically_normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}

/// Decide the status of reference text as written.
pub fn classify(text: &str) -> (Status, Option<Reference>, Option<String>) {
    if is_templated(text) {
        return (Status::Templated, None, None);
    }
    match Reference::parse(text) {
        Ok(r) => {
            let status = if r.digest.is_some() {
                Status::Pinned
            } else if r.tag.is_some() {
                Status::Mutable
            } else {
                Status::Untagged
            };
            (status, Some(r), None)
        }
        Err(e) => (Status::Invalid, None, Some(e.to_string())),
    }
}

/// Text built from variables or templates: `${X}`, `$(x)`, `{{ x }}` or `$X`.
/// A `$` can never appear in a valid reference, so any variable form counts.
pub fn is_templated(text: &str) -> bool {
    if text.contains("{{") {
        return true;
    }
    let b = text.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c == b'$'
            && b.get(i + 1)
                .is_some_and(|&n| n == b'{' || n == b'(' || n == b'_' || n.is_ascii_alphabetic())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_states() {
        assert_eq!(classify("nginx").0, Status::Untagged);
        assert_eq!(classify("nginx:1.25").0, Status::Mutable);
        let pinned = format!("nginx:1.25@sha256:{}", "a".repeat(64));
        assert_eq!(classify(&pinned).0, Status::Pinned);
        assert_eq!(classify("golang:${GO_VERSION}").0, Status::Templated);
        assert_eq!(classify("$(params.image)").0, Status::Templated);
        assert_eq!(classify("{{inputs.parameters.image}}").0, Status::Templated);
        assert_eq!(classify("$IMAGE").0, Status::Templated);
        let (status, _, note) = classify("Nginx/Foo");
        assert_eq!(status, Status::Invalid);
        assert!(note.is_some());
    }

    #[test]
    fn dot_and_dot_dot_resolve_as_text() {
        let n = |p: &str| lexically_normal(Path::new(p));
        assert_eq!(
            n("/r/k8s/../k8s/./deploy.yaml"),
            Path::new("/r/k8s/deploy.yaml")
        );
        assert_eq!(n("/../x"), Path::new("/x"));
        assert_eq!(n("../a/../../b"), Path::new("../../b"));
        assert_eq!(n("./a/.."), Path::new(""));
    }

    #[test]
    fn a_file_is_placed_in_the_nearest_work_tree() {
        let t = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(t.path()).expect("canonical");
        let repo = root.join("repo");
        let inner = repo.join("vendor/inner");
        std::fs::create_dir_all(repo.join(".git")).expect("mkdir");
        std::fs::create_dir_all(&inner).expect("mkdir");
        // A submodule's (or linked worktree's) `.git` is a file.
        std::fs::write(inner.join(".git"), "gitdir: ../../.git/modules/inner\n").expect("write");
        assert!(holds_git(&repo) && holds_git(&inner) && !holds_git(&repo.join("vendor")));

        let mut trees = WorkTrees::default();
        assert_eq!(
            trees.place(&repo.join("k8s/../k8s/./a.yaml")),
            Place::WorkTree {
                root: repo.clone(),
                path: PathBuf::from("k8s/a.yaml")
            }
        );
        // A submodule's files are placed in its superproject, as a checkout with
        // submodules holds them.
        assert_eq!(
            trees.place(&inner.join("x/b.yaml")),
            Place::WorkTree {
                root: repo.clone(),
                path: PathBuf::from("vendor/inner/x/b.yaml")
            }
        );
        // A linked worktree is a checkout of its own, wherever it is.
        let linked = repo.join("wt");
        std::fs::create_dir_all(&linked).expect("mkdir");
        std::fs::write(
            linked.join(".git"),
            format!("gitdir: {}\n", repo.join(".git/worktrees/wt").display()),
        )
        .expect("write");
        assert_eq!(
            trees.place(&linked.join("c.yaml")),
            Place::WorkTree {
                root: linked.clone(),
                path: PathBuf::from("c.yaml")
            }
        );
        // Asked again, from what was learned: the same answer.
        assert_eq!(
            trees.place(&repo.join("vendor/c.yaml")),
            Place::WorkTree {
                root: repo.clone(),
                path: PathBuf::from("vendor/c.yaml")
            }
        );
        assert_eq!(trees.place(Path::new("")), Place::Nowhere);
        assert_eq!(trees.place(Path::new(STDIN)), Place::Stdin);
    }
}
