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
    /// Named like a Dockerfile variant (`Dockerfile.prod`, `Dockerfile-dev`) but it
    /// could be something else: read as a Dockerfile only when its content starts like
    /// one ([`looks_like_dockerfile`]), else it holds no references.
    MaybeDockerfile,
    /// A Podman Quadlet unit (`*.container`, `*.image`, `*.volume`, `*.build`, `*.pod`,
    /// or a drop-in `*.conf` in a `NAME.container.d/` folder).
    Quadlet,
    /// HCL native syntax.
    Hcl(HclDialect),
    /// HCL's JSON syntax (`*.tf.json`, `docker-bake.json`).
    HclJson(HclDialect),
    /// A Jenkins pipeline (Groovy).
    Jenkinsfile,
}

/// Which tool reads an HCL file, and so which blocks hold images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HclDialect {
    /// Terraform and OpenTofu (`*.tf`, `*.tofu`).
    Terraform,
    /// Nomad job files (`*.nomad`, `*.nomad.hcl`).
    Nomad,
    /// Docker Bake (`docker-bake.hcl`, `docker-bake.json`, their `.override` files).
    Bake,
}

/// Extensions after `Dockerfile.` (or `-`, `_`) that say the file is something else:
/// documentation, data, ignore files, editor leftovers.
const NOT_DOCKERFILE: [&str; 20] = [
    "md",
    "markdown",
    "txt",
    "rst",
    "adoc",
    "html",
    "json",
    "yaml",
    "yml",
    "toml",
    "xml",
    "dockerignore",
    "containerignore",
    "sh",
    "ps1",
    "py",
    "orig",
    "rej",
    "swp",
    "lock",
];

/// Extensions of Quadlet units that can name images (`.kube` and `.network` cannot).
const QUADLET_UNITS: [&str; 5] = ["container", "image", "volume", "build", "pod"];

/// Choose the scanner for a file by its name; `None` for files imagepin does not read.
pub fn kind_for(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    if lower == "devcontainer.json" || lower == ".devcontainer.json" {
        return Some(FileKind::Jsonc);
    }
    if let Some(kind) = dockerfile_kind(&lower) {
        return Some(kind);
    }
    if lower == "jenkinsfile"
        || lower.ends_with(".jenkinsfile")
        || variant_extension(&lower, "jenkinsfile").is_some_and(|ext| !is_not_code(ext))
    {
        return Some(FileKind::Jenkinsfile);
    }
    if let Some(kind) = hcl_kind(&lower) {
        return Some(kind);
    }
    if let Some((_, ext)) = lower.rsplit_once('.')
        && (QUADLET_UNITS.contains(&ext) || (ext == "conf" && in_quadlet_dropin_dir(path)))
    {
        return Some(FileKind::Quadlet);
    }
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        return Some(FileKind::Yaml);
    }
    if lower.ends_with(".json") {
        return Some(FileKind::Json);
    }
    None
}

/// `Dockerfile`, `Containerfile`, `*.Dockerfile`, `*.Containerfile`: Dockerfiles.
/// `Dockerfile.*`, `Dockerfile-*`, `Dockerfile_*` (and the same for `Containerfile`):
/// decided by content, unless the extension says they are something else.
fn dockerfile_kind(lower: &str) -> Option<FileKind> {
    const BASES: [&str; 2] = ["dockerfile", "containerfile"];
    if BASES.contains(&lower) || BASES.iter().any(|b| lower.ends_with(&format!(".{b}"))) {
        return Some(FileKind::Dockerfile);
    }
    let ext = BASES.iter().find_map(|b| variant_extension(lower, b))?;
    (!is_not_code(ext)).then_some(FileKind::MaybeDockerfile)
}

/// For `BASE.x`, `BASE-x` or `BASE_x` (lowercase): the last extension of the name
/// (`x`, or `md` in `dockerfile-dev.md`); `None` for other names.
fn variant_extension<'a>(lower: &'a str, base: &str) -> Option<&'a str> {
    let rest = lower.strip_prefix(base)?;
    let rest = rest
        .strip_prefix('.')
        .or_else(|| rest.strip_prefix('-'))
        .or_else(|| rest.strip_prefix('_'))?;
    if rest.is_empty() {
        return None;
    }
    Some(rest.rsplit_once('.').map_or(rest, |(_, ext)| ext))
}

fn is_not_code(ext: &str) -> bool {
    NOT_DOCKERFILE.contains(&ext)
}

fn hcl_kind(lower: &str) -> Option<FileKind> {
    if lower.ends_with(".tf") || lower.ends_with(".tofu") {
        Some(FileKind::Hcl(HclDialect::Terraform))
    } else if lower.ends_with(".tf.json") || lower.ends_with(".tofu.json") {
        Some(FileKind::HclJson(HclDialect::Terraform))
    } else if lower.ends_with(".nomad") || lower.ends_with(".nomad.hcl") {
        Some(FileKind::Hcl(HclDialect::Nomad))
    } else if lower.starts_with("docker-bake") && lower.ends_with(".hcl") {
        Some(FileKind::Hcl(HclDialect::Bake))
    } else if lower.starts_with("docker-bake") && lower.ends_with(".json") {
        Some(FileKind::HclJson(HclDialect::Bake))
    } else {
        None
    }
}

/// A drop-in folder of a Quadlet unit: `NAME.container.d/`, `NAME.volume.d/` …
fn in_quadlet_dropin_dir(path: &Path) -> bool {
    path.parent()
        .and_then(Path::file_name)
        .and_then(|d| d.to_str())
        .and_then(|d| d.strip_suffix(".d"))
        .and_then(|d| d.rsplit_once('.'))
        .is_some_and(|(_, unit)| QUADLET_UNITS.contains(&unit.to_ascii_lowercase().as_str()))
}

/// Whether a text starts like a Dockerfile: its first line is a parser directive
/// (`# syntax=`, `# escape=`, `# check=`), or its first instruction (after comments and
/// blank lines) is `FROM` or `ARG`, as every Dockerfile's must be.
pub fn looks_like_dockerfile(src: &str) -> bool {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut lines = src.lines().map(str::trim).skip_while(|l| l.is_empty());
    let Some(first) = lines.next() else {
        return false;
    };
    if let Some(directive) = first.strip_prefix('#') {
        let key = directive
            .split('=')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if directive.contains('=') && matches!(key.as_str(), "syntax" | "escape" | "check") {
            return true;
        }
    }
    let instruction = std::iter::once(first)
        .chain(lines)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let word = instruction.split_whitespace().next().unwrap_or("");
    word.eq_ignore_ascii_case("FROM") || word.eq_ignore_ascii_case("ARG")
}

/// For a file named explicitly on the command line whose name says nothing: a file
/// that starts like a Dockerfile is one, anything else YAML.
pub fn sniff_kind(src: &str) -> FileKind {
    if looks_like_dockerfile(src) {
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
        assert_eq!(k("Dockerfile.alpine"), Some(FileKind::MaybeDockerfile));
        assert_eq!(k("api.Dockerfile"), Some(FileKind::Dockerfile));
        assert_eq!(k("Containerfile"), Some(FileKind::Dockerfile));
        assert_eq!(k("deploy.yaml"), Some(FileKind::Yaml));
        assert_eq!(k("compose.yml"), Some(FileKind::Yaml));
        assert_eq!(k("x.json"), Some(FileKind::Json));
        assert_eq!(k("main.rs"), None);
    }

    #[test]
    fn dockerfiles_by_any_name() {
        let k = |n: &str| kind_for(Path::new(n));
        for name in [
            "Dockerfile",
            "Containerfile",
            "dockerfile",
            "api.Dockerfile",
            "api.dockerfile",
            "web.Containerfile",
        ] {
            assert_eq!(k(name), Some(FileKind::Dockerfile), "{name}");
        }
        for name in [
            "Dockerfile.prod",
            "Dockerfile-prod",
            "Dockerfile_dev",
            "Containerfile-x",
            "Containerfile.fedora",
            "Dockerfile.alpine.j2",
            "dockerfile-dev",
        ] {
            assert_eq!(k(name), Some(FileKind::MaybeDockerfile), "{name}");
        }
        assert_eq!(k("Dockerfile.md"), None);
        assert_eq!(k("Dockerfile.txt"), None);
        assert_eq!(k("Dockerfile-prod.md"), None);
        assert_eq!(k("Dockerfile.dockerignore"), None);
        assert_eq!(k(".dockerignore"), None);
        assert_eq!(k("Dockerfile."), None);
        assert_eq!(k("Dockerfiles"), None);
        assert_eq!(k("Dockerfile.yaml"), Some(FileKind::Yaml));
        assert_eq!(k("Dockerfile.json"), Some(FileKind::Json));
    }

    #[test]
    fn other_formats_by_name() {
        let k = |n: &str| kind_for(Path::new(n));
        assert_eq!(k("app.container"), Some(FileKind::Quadlet));
        assert_eq!(k("data.volume"), Some(FileKind::Quadlet));
        assert_eq!(k("x.image"), Some(FileKind::Quadlet));
        assert_eq!(k("x.build"), Some(FileKind::Quadlet));
        assert_eq!(k("x.pod"), Some(FileKind::Quadlet));
        assert_eq!(k("app.container.d/10-image.conf"), Some(FileKind::Quadlet));
        assert_eq!(k("etc/app.conf"), None);
        assert_eq!(k("x.kube"), None);
        let tf = Some(FileKind::Hcl(HclDialect::Terraform));
        assert_eq!(k("main.tf"), tf);
        assert_eq!(k("main.tofu"), tf);
        assert_eq!(
            k("main.tf.json"),
            Some(FileKind::HclJson(HclDialect::Terraform))
        );
        assert_eq!(k("job.nomad"), Some(FileKind::Hcl(HclDialect::Nomad)));
        assert_eq!(k("job.nomad.hcl"), Some(FileKind::Hcl(HclDialect::Nomad)));
        assert_eq!(k("docker-bake.hcl"), Some(FileKind::Hcl(HclDialect::Bake)));
        assert_eq!(
            k("docker-bake.override.hcl"),
            Some(FileKind::Hcl(HclDialect::Bake))
        );
        assert_eq!(
            k("docker-bake.json"),
            Some(FileKind::HclJson(HclDialect::Bake))
        );
        assert_eq!(k("other.hcl"), None);
        assert_eq!(k("Jenkinsfile"), Some(FileKind::Jenkinsfile));
        assert_eq!(k("deploy.jenkinsfile"), Some(FileKind::Jenkinsfile));
        assert_eq!(k("Deploy.Jenkinsfile"), Some(FileKind::Jenkinsfile));
        assert_eq!(k("Jenkinsfile.release"), Some(FileKind::Jenkinsfile));
        assert_eq!(k("Jenkinsfile.md"), None);
    }

    #[test]
    fn dockerfile_content() {
        assert!(looks_like_dockerfile("FROM alpine\n"));
        assert!(looks_like_dockerfile(
            "\u{feff}\n# a comment\n\narg BASE=x\nFROM $BASE\n"
        ));
        assert!(looks_like_dockerfile(
            "# syntax=docker/dockerfile:1\nRUN x\n"
        ));
        assert!(looks_like_dockerfile("#escape=`\n"));
        assert!(!looks_like_dockerfile(""));
        assert!(!looks_like_dockerfile(
            "# Building\nThis file explains FROM lines\n"
        ));
        assert!(!looks_like_dockerfile("{% if x %}\nFROM a\n"));
        assert!(!looks_like_dockerfile("RUN echo\nFROM a\n"));
        assert_eq!(sniff_kind("# syntax=x\nFROM a\n"), FileKind::Dockerfile);
        assert_eq!(sniff_kind("a: b\n"), FileKind::Yaml);
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
