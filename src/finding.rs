//! The data every stage shares: a `Finding` is one image reference found in one file,
//! with the exact byte span it occupies, its parsed form and what state it is in.
//! Scanners produce findings; commands and reports only read them. A `Skipped` is
//! the other thing a scan can produce: a file (or part of one) that was not read.

use std::ops::Range;
use std::path::{Path, PathBuf};

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
/// are `/` too, as git writes paths and GitHub's annotations and SARIF's URIs need them,
/// so a report names a file the same way on every platform.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy();
    #[cfg(windows)]
    let s = s.replace('\\', "/");
    s.strip_prefix("./").unwrap_or(&s).to_string()
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
}
