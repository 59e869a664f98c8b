//! Format detection: which reader a file needs ([`FileKind`], from its name or, for a
//! file named on the command line, its first instruction), and which rules apply to
//! a YAML file ([`Flavor`], from its path) and to each of its documents (from its
//! top-level keys).

use std::path::Path;

use crate::finding::Format;
use crate::yaml::tree::{Node, pairs};

/// How a file is read, decided from its name (or its content for explicit arguments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Yaml,
    /// JSON is read with the YAML parser (JSON is a subset of YAML 1.2).
    Json,
    /// JSON with comments and trailing commas (`devcontainer.json`).
    Jsonc,
    Dockerfile,
}

/// Choose the scanner for a file by its name; `None` for files imagepin does not read.
pub fn kind_for(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    if lower == "devcontainer.json" || lower == ".devcontainer.json" {
        return Some(FileKind::Jsonc);
    }
    if lower == "dockerfile"
        || lower == "containerfile"
        || lower.starts_with("dockerfile.")
        || lower.starts_with("containerfile.")
        || lower.ends_with(".dockerfile")
        || lower.ends_with(".containerfile")
    {
        return Some(FileKind::Dockerfile);
    }
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        return Some(FileKind::Yaml);
    }
    if lower.ends_with(".json") {
        return Some(FileKind::Json);
    }
    None
}

/// For a file named explicitly on the command line whose name says nothing: a file
/// whose first instruction is `FROM` or `ARG` is a Dockerfile, anything else YAML.
pub fn sniff_kind(src: &str) -> FileKind {
    let first = src
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let word = first
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    if word == "FROM" || word == "ARG" {
        FileKind::Dockerfile
    } else {
        FileKind::Yaml
    }
}

/// What a file's name says about the documents in it: which CI system or packaging
/// tool reads it, and so which rules beyond the generic `image:` one apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Any other YAML: Kubernetes, compose, Tekton, Argo … (decided per document).
    Plain,
    /// Named like a docker-compose file.
    Compose,
    GithubWorkflow,
    GithubAction,
    GitlabCi,
    Circleci,
    CloudBuild,
    Kustomization,
    HelmValues,
}

impl Flavor {
    pub fn from_path(path: &Path) -> Flavor {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let parent = |n: usize| {
            path.parent()
                .and_then(|p| p.iter().rev().nth(n))
                .and_then(|c| c.to_str())
                .unwrap_or("")
        };
        let Some(stem) = name
            .strip_suffix(".yaml")
            .or_else(|| name.strip_suffix(".yml"))
        else {
            return Flavor::Plain;
        };
        if parent(0) == "workflows" && parent(1) == ".github" {
            Flavor::GithubWorkflow
        } else if stem == "action" {
            Flavor::GithubAction
        } else if stem == ".gitlab-ci" || stem == "gitlab-ci" || stem.ends_with(".gitlab-ci") {
            Flavor::GitlabCi
        } else if stem == "config" && parent(0) == ".circleci" {
            Flavor::Circleci
        } else if stem.starts_with("cloudbuild") {
            Flavor::CloudBuild
        } else if stem == "kustomization" {
            Flavor::Kustomization
        } else if stem.starts_with("values") {
            Flavor::HelmValues
        } else if stem.starts_with("docker-compose")
            || stem.starts_with("compose")
            || stem.ends_with(".compose")
            || stem.ends_with("-compose")
        {
            Flavor::Compose
        } else {
            Flavor::Plain
        }
    }

    /// The format every document of such a file is reported as.
    pub fn format(self) -> Option<Format> {
        match self {
            Flavor::Plain => None,
            Flavor::Compose => Some(Format::Compose),
            Flavor::GithubWorkflow | Flavor::GithubAction => Some(Format::GithubActions),
            Flavor::GitlabCi => Some(Format::GitlabCi),
            Flavor::Circleci => Some(Format::Circleci),
            Flavor::CloudBuild => Some(Format::CloudBuild),
            Flavor::Kustomization => Some(Format::Kustomize),
            Flavor::HelmValues => Some(Format::Helm),
        }
    }
}

/// Top-level keys decide what a document is: `apiVersion` + `kind` is Kubernetes,
/// `services` is docker-compose, anything else plain YAML.
pub fn document_format(root: Node<'_>, src: &str) -> Format {
    let has = |key: &str| pairs(root, src).any(|(k, _, _)| k == key);
    if has("apiVersion") && has("kind") {
        Format::Kubernetes
    } else if has("services") {
        Format::Compose
    } else {
        Format::Yaml
    }
}

pub fn is_workflow(root: Node<'_>, src: &str) -> bool {
    let has = |key: &str| pairs(root, src).any(|(k, _, _)| k == key);
    has("jobs") && has("on")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name() {
        let k = |n: &str| kind_for(Path::new(n));
        assert_eq!(k("Dockerfile"), Some(FileKind::Dockerfile));
        assert_eq!(k("Dockerfile.alpine"), Some(FileKind::Dockerfile));
        assert_eq!(k("api.Dockerfile"), Some(FileKind::Dockerfile));
        assert_eq!(k("Containerfile"), Some(FileKind::Dockerfile));
        assert_eq!(k("deploy.yaml"), Some(FileKind::Yaml));
        assert_eq!(k("compose.yml"), Some(FileKind::Yaml));
        assert_eq!(k("x.json"), Some(FileKind::Json));
        assert_eq!(k("main.rs"), None);
    }

    #[test]
    fn flavors_by_path() {
        let f = |p: &str| Flavor::from_path(Path::new(p));
        assert_eq!(f("docker-compose.prod.yml"), Flavor::Compose);
        assert_eq!(f("compose.yaml"), Flavor::Compose);
        assert_eq!(f("deploy.yaml"), Flavor::Plain);
        assert_eq!(f("x/.github/workflows/ci.yml"), Flavor::GithubWorkflow);
        assert_eq!(f("x/workflows/ci.yml"), Flavor::Plain);
        assert_eq!(f("action.yaml"), Flavor::GithubAction);
        assert_eq!(f(".gitlab-ci.yml"), Flavor::GitlabCi);
        assert_eq!(f("templates/Docker.gitlab-ci.yml"), Flavor::GitlabCi);
        assert_eq!(f(".circleci/config.yml"), Flavor::Circleci);
        assert_eq!(f("config.yml"), Flavor::Plain);
        assert_eq!(f("cloudbuild.yaml"), Flavor::CloudBuild);
        assert_eq!(f("base/kustomization.yaml"), Flavor::Kustomization);
        assert_eq!(f("values-prod.yaml"), Flavor::HelmValues);
        assert_eq!(f("values.json"), Flavor::Plain);
    }
}
