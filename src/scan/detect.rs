//! Format detection: which reader a file needs ([`FileKind`], from its name or, for a
//! file named on the command line, its first instruction), and which rules apply to
//! a YAML file ([`Flavor`], from its path) and to each of its documents (from its
//! top-level keys).

use std::path::Path;

use crate::finding::Format;
use crate::yaml::tree::{Node, get, is_mapping, pairs, scalar_text};

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
    /// YAML that a `.gitlab-ci.yml` includes (`include: local:`), whatever its name:
    /// read with the GitLab CI rules. Only the walk knows a file is one.
    GitlabInclude,
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
/// documentation, data, ignore files, editor leftovers, source code in other languages
/// (a scanner's own `jenkinsfile.rs` is not a Jenkinsfile; `Jenkinsfile.groovy` is).
const NOT_DOCKERFILE: [&str; 33] = [
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
    "rs",
    "go",
    "js",
    "ts",
    "java",
    "kt",
    "rb",
    "c",
    "h",
    "cc",
    "cpp",
    "cs",
    "php",
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
        || variant_extension(&lower, "jenkinsfile").is_some_and(|ext| !ext.is_some_and(is_not_code))
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
    (!ext.is_some_and(is_not_code)).then_some(FileKind::MaybeDockerfile)
}

/// For `BASE.x`, `BASE-x` or `BASE_x` (lowercase): `Some` with the last extension of
/// the name (`x` in `dockerfile.x`, `md` in `dockerfile-dev.md`, none in
/// `dockerfile-go`: what follows `-` or `_` names a variant, not a file type);
/// `None` for other names.
fn variant_extension<'a>(lower: &'a str, base: &str) -> Option<Option<&'a str>> {
    let rest = lower.strip_prefix(base)?;
    let (separator, rest) = rest.split_at_checked(1)?;
    if !matches!(separator, "." | "-" | "_") || rest.is_empty() {
        return None;
    }
    Some(match rest.rsplit_once('.') {
        Some((_, ext)) => Some(ext),
        None => (separator == ".").then_some(rest),
    })
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
    /// Any other YAML: Kubernetes, compose, Tekton, Flux, Argo CD … (decided per
    /// document).
    Plain,
    /// Named like a docker-compose file.
    Compose,
    GithubWorkflow,
    GithubAction,
    GitlabCi,
    /// YAML under a `.gitlab/` folder: GitLab CI where a document has the shape of
    /// one (jobs with `script`, `image`, `services` …), else plain.
    GitlabFolder,
    Circleci,
    CloudBuild,
    Kustomization,
    HelmValues,
    /// `bitbucket-pipelines.yml`.
    Bitbucket,
    /// `azure-pipelines*.yml`, or YAML under `.azure-pipelines/` or `.azuredevops/`.
    Azure,
    /// `.drone.yml`.
    Drone,
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
        let under = |folder: &str| {
            path.parent()
                .is_some_and(|p| p.iter().any(|c| c.eq_ignore_ascii_case(folder)))
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
        } else if stem == "bitbucket-pipelines" {
            Flavor::Bitbucket
        } else if stem == ".drone" {
            Flavor::Drone
        } else if stem.starts_with("azure-pipelines")
            || under(".azure-pipelines")
            || under(".azuredevops")
        {
            Flavor::Azure
        } else if stem.starts_with("docker-compose")
            || stem.starts_with("compose")
            || stem.ends_with(".compose")
            || stem.ends_with("-compose")
        {
            Flavor::Compose
        } else if under(".gitlab") {
            Flavor::GitlabFolder
        } else {
            Flavor::Plain
        }
    }
}

impl Flavor {
    /// The format a file of this flavor reports, when its name decides it (`None`: each
    /// document decides). A document that says what it is by `apiVersion` and `kind`
    /// overrides a kustomization's name (a Flux `Kustomization`).
    pub fn format(self) -> Option<Format> {
        match self {
            Flavor::Plain | Flavor::GitlabFolder => None,
            Flavor::Compose => Some(Format::Compose),
            Flavor::GithubWorkflow | Flavor::GithubAction => Some(Format::GithubActions),
            Flavor::GitlabCi => Some(Format::GitlabCi),
            Flavor::Circleci => Some(Format::Circleci),
            Flavor::CloudBuild => Some(Format::CloudBuild),
            Flavor::Kustomization => Some(Format::Kustomize),
            Flavor::HelmValues => Some(Format::Helm),
            Flavor::Bitbucket => Some(Format::BitbucketPipelines),
            Flavor::Azure => Some(Format::AzurePipelines),
            Flavor::Drone => Some(Format::Drone),
        }
    }
}

/// What one YAML document is: which rules read it and the format its findings carry.
/// Decided by the file's [`Flavor`] where its name is specific, else by the
/// document's `apiVersion`/`kind` or its top-level shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doc {
    Yaml,
    Kubernetes,
    Compose,
    GithubWorkflow,
    GithubAction,
    GitlabCi,
    Circleci,
    CloudBuild,
    Kustomization,
    HelmValues,
    /// `helm.toolkit.fluxcd.io` `HelmRelease`.
    FluxHelmRelease,
    /// `kustomize.toolkit.fluxcd.io` `Kustomization`.
    FluxKustomization,
    /// `source.toolkit.fluxcd.io` `OCIRepository`: an OCI artifact Flux pulls.
    FluxOciRepository,
    /// `argoproj.io` `Application`.
    ArgoApplication,
    /// `argoproj.io` `ApplicationSet`: its `spec.template` is an Application's.
    ArgoApplicationSet,
    /// `tekton.dev` and `triggers.tekton.dev` resources.
    Tekton,
    /// `pkg.crossplane.io` `Provider`, `Configuration`, `Function` (and the package
    /// group's other kinds, whose pod templates the generic rule reads).
    Crossplane,
    /// `kbld.k14s.io` configuration: image names there are matching rules.
    Kbld,
    /// `skaffold/*` `Config`.
    Skaffold,
    Bitbucket,
    Azure,
    Drone,
    /// An Amazon ECS task definition (JSON, as `aws ecs` writes and reads it).
    Ecs,
    /// A CloudFormation or SAM template.
    Cloudformation,
}

impl Doc {
    /// The format this document's findings are reported as.
    pub fn format(self) -> Format {
        match self {
            Doc::Yaml => Format::Yaml,
            Doc::Kubernetes => Format::Kubernetes,
            Doc::Compose => Format::Compose,
            Doc::GithubWorkflow | Doc::GithubAction => Format::GithubActions,
            Doc::GitlabCi => Format::GitlabCi,
            Doc::Circleci => Format::Circleci,
            Doc::CloudBuild => Format::CloudBuild,
            Doc::Kustomization => Format::Kustomize,
            Doc::HelmValues => Format::Helm,
            Doc::FluxHelmRelease | Doc::FluxKustomization | Doc::FluxOciRepository => Format::Flux,
            Doc::ArgoApplication | Doc::ArgoApplicationSet => Format::ArgoCd,
            Doc::Tekton => Format::Tekton,
            Doc::Crossplane => Format::Crossplane,
            // kbld documents report nothing; the format is never seen.
            Doc::Kbld => Format::Yaml,
            Doc::Skaffold => Format::Skaffold,
            Doc::Bitbucket => Format::BitbucketPipelines,
            Doc::Azure => Format::AzurePipelines,
            Doc::Drone => Format::Drone,
            Doc::Ecs => Format::Ecs,
            Doc::Cloudformation => Format::Cloudformation,
        }
    }

    /// Keys under which an `image` key is never an image this document pulls:
    /// metadata, environment variables and inputs handed to something else.
    pub fn excluded_parents(self) -> &'static [&'static str] {
        match self {
            Doc::Compose => &["annotations", "labels", "environment"],
            // `settings:` holds a plugin's inputs.
            Doc::Drone => &["annotations", "labels", "environment", "settings"],
            // `with:` holds a step's (or a reusable workflow's) inputs.
            Doc::GithubWorkflow | Doc::GithubAction => &["annotations", "labels", "env", "with"],
            Doc::GitlabCi | Doc::Bitbucket => &["annotations", "labels", "variables"],
            Doc::Azure => &["annotations", "labels", "variables", "env"],
            // `machine:` names a VM image.
            Doc::Circleci => &["annotations", "labels", "machine", "environment"],
            _ => &["annotations", "labels"],
        }
    }

    /// Whether the document is a Kubernetes object (pod specs may be in it).
    pub fn is_kubernetes(self) -> bool {
        matches!(
            self,
            Doc::Kubernetes
                | Doc::FluxHelmRelease
                | Doc::FluxKustomization
                | Doc::FluxOciRepository
                | Doc::ArgoApplication
                | Doc::ArgoApplicationSet
                | Doc::Tekton
                | Doc::Crossplane
        )
    }
}

/// Decide what a document of a file of `flavor` is.
pub fn document(root: Node<'_>, src: &str, flavor: Flavor) -> Doc {
    match flavor {
        Flavor::Compose => return Doc::Compose,
        Flavor::GithubWorkflow => return Doc::GithubWorkflow,
        Flavor::GithubAction => return Doc::GithubAction,
        Flavor::GitlabCi => return Doc::GitlabCi,
        Flavor::Circleci => return Doc::Circleci,
        Flavor::CloudBuild => return Doc::CloudBuild,
        Flavor::HelmValues => return Doc::HelmValues,
        Flavor::Bitbucket => return Doc::Bitbucket,
        Flavor::Azure => return Doc::Azure,
        Flavor::Drone => return Doc::Drone,
        Flavor::GitlabFolder if is_gitlab_ci(root, src) => return Doc::GitlabCi,
        Flavor::Plain | Flavor::Kustomization | Flavor::GitlabFolder => {}
    }
    let text = |key: &str| get(root, src, key).and_then(|v| scalar_text(v, src));
    let kind = text("kind");
    if let Some(api) = text("apiVersion") {
        let group = api.split('/').next().unwrap_or("");
        let doc = match (group, kind.unwrap_or("")) {
            ("helm.toolkit.fluxcd.io", "HelmRelease") => Some(Doc::FluxHelmRelease),
            ("kustomize.toolkit.fluxcd.io", "Kustomization") => Some(Doc::FluxKustomization),
            ("source.toolkit.fluxcd.io", "OCIRepository") => Some(Doc::FluxOciRepository),
            ("argoproj.io", "Application") => Some(Doc::ArgoApplication),
            ("argoproj.io", "ApplicationSet") => Some(Doc::ArgoApplicationSet),
            ("tekton.dev" | "triggers.tekton.dev", _) => Some(Doc::Tekton),
            ("pkg.crossplane.io", _) => Some(Doc::Crossplane),
            ("kbld.k14s.io", _) => Some(Doc::Kbld),
            ("skaffold", "Config") => Some(Doc::Skaffold),
            _ => None,
        };
        if let Some(doc) = doc {
            return doc;
        }
    }
    if flavor == Flavor::Kustomization {
        return Doc::Kustomization;
    }
    let has = |key: &str| get(root, src, key).is_some();
    if has("apiVersion") && has("kind") {
        Doc::Kubernetes
    } else if is_workflow(root, src) {
        // A workflow outside `.github/workflows/` (a template, a test fixture) still
        // says what it is.
        Doc::GithubWorkflow
    } else if kind == Some("pipeline") && (has("steps") || has("services")) {
        Doc::Drone
    } else if is_ecs_task_definition(root, src) {
        Doc::Ecs
    } else if is_cloudformation(root, src) {
        Doc::Cloudformation
    } else if has("services") {
        Doc::Compose
    } else {
        Doc::Yaml
    }
}

fn is_workflow(root: Node<'_>, src: &str) -> bool {
    let has = |key: &str| pairs(root, src).any(|(k, _, _)| k == key);
    has("jobs") && has("on")
}

/// Keys only a GitLab CI job (or hidden template job) has.
const GITLAB_JOB_KEYS: [&str; 8] = [
    "script",
    "before_script",
    "after_script",
    "stage",
    "extends",
    "trigger",
    "image",
    "services",
];

/// A document with GitLab CI's shape: top-level `stages`, `include` or `default`, or a
/// top-level mapping with a job's keys.
fn is_gitlab_ci(root: Node<'_>, src: &str) -> bool {
    pairs(root, src).any(|(key, _, value)| {
        matches!(key, "stages" | "include" | "default" | "workflow")
            || value.is_some_and(|v| {
                is_mapping(v) && pairs(v, src).any(|(k, _, _)| GITLAB_JOB_KEYS.contains(&k))
            })
    })
}

/// `containerDefinitions` at the top, or under `taskDefinition` (the shape
/// `aws ecs describe-task-definition` prints).
fn is_ecs_task_definition(root: Node<'_>, src: &str) -> bool {
    let defs = |node: Node<'_>| get(node, src, "containerDefinitions").is_some();
    defs(root) || get(root, src, "taskDefinition").is_some_and(defs)
}

/// `AWSTemplateFormatVersion`, or `Resources` whose entries have an `AWS::` `Type`.
fn is_cloudformation(root: Node<'_>, src: &str) -> bool {
    if get(root, src, "AWSTemplateFormatVersion").is_some() {
        return true;
    }
    get(root, src, "Resources").is_some_and(|resources| {
        pairs(resources, src).any(|(_, _, r)| {
            r.and_then(|r| get(r, src, "Type"))
                .and_then(|t| scalar_text(t, src))
                .is_some_and(|t| t.starts_with("AWS::"))
        })
    })
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
        // After `-` or `_` comes a variant's name, even one spelled like a file type.
        for name in [
            "Dockerfile-go",
            "Dockerfile_py",
            "Containerfile_c",
            "Dockerfile-java",
        ] {
            assert_eq!(k(name), Some(FileKind::MaybeDockerfile), "{name}");
        }
        assert_eq!(k("Dockerfile.py"), None);
        assert_eq!(k("Dockerfile-go.md"), None);
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
        assert_eq!(k("Jenkinsfile.groovy"), Some(FileKind::Jenkinsfile));
        // Source files named after what they handle (this repository's scanners).
        assert_eq!(k("jenkinsfile.rs"), None);
        assert_eq!(k("jenkinsfile_test.go"), None);
        assert_eq!(k("dockerfile.rs"), None);
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
        assert_eq!(f("bitbucket-pipelines.yml"), Flavor::Bitbucket);
        assert_eq!(f("azure-pipelines.yml"), Flavor::Azure);
        assert_eq!(f("azure-pipelines-release.yaml"), Flavor::Azure);
        assert_eq!(f(".azure-pipelines/templates/build.yml"), Flavor::Azure);
        assert_eq!(f(".drone.yml"), Flavor::Drone);
        assert_eq!(f(".gitlab/ci/test.yml"), Flavor::GitlabFolder);
        assert_eq!(f(".gitlab/ci/values.yaml"), Flavor::HelmValues);
    }

    fn doc_of(src: &str, path: &str) -> Doc {
        let mut doc = None;
        crate::yaml::read_each(src, &mut || {}, &mut |tree| {
            doc = tree
                .documents()
                .next()
                .map(|root| document(root, src, Flavor::from_path(Path::new(path))));
        })
        .expect("yaml");
        doc.expect("one document")
    }

    #[test]
    fn documents_by_api_version_kind_and_shape() {
        let d = |src: &str| doc_of(src, "x.yaml");
        let kube = |api: &str, kind: &str| d(&format!("apiVersion: {api}\nkind: {kind}\n"));
        assert_eq!(
            kube("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
            Doc::FluxHelmRelease
        );
        assert_eq!(
            kube("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
            Doc::FluxKustomization
        );
        assert_eq!(
            kube("kustomize.config.k8s.io/v1beta1", "Kustomization"),
            Doc::Kubernetes
        );
        assert_eq!(
            kube("argoproj.io/v1alpha1", "Application"),
            Doc::ArgoApplication
        );
        assert_eq!(
            kube("argoproj.io/v1alpha1", "ApplicationSet"),
            Doc::ArgoApplicationSet
        );
        assert_eq!(kube("argoproj.io/v1alpha1", "Workflow"), Doc::Kubernetes);
        assert_eq!(kube("tekton.dev/v1", "Task"), Doc::Tekton);
        assert_eq!(
            kube("triggers.tekton.dev/v1beta1", "TriggerTemplate"),
            Doc::Tekton
        );
        assert_eq!(kube("pkg.crossplane.io/v1", "Provider"), Doc::Crossplane);
        assert_eq!(kube("kbld.k14s.io/v1alpha1", "Config"), Doc::Kbld);
        assert_eq!(kube("skaffold/v4beta11", "Config"), Doc::Skaffold);
        assert_eq!(kube("apps/v1", "Deployment"), Doc::Kubernetes);
        assert_eq!(d("kind: pipeline\nsteps: []\n"), Doc::Drone);
        assert_eq!(d("kind: pipeline\nservices: []\n"), Doc::Drone);
        assert_eq!(d("services:\n  a: {image: x}\n"), Doc::Compose);
        assert_eq!(d("family: web\ncontainerDefinitions: []\n"), Doc::Ecs);
        assert_eq!(d("taskDefinition:\n  containerDefinitions: []\n"), Doc::Ecs);
        assert_eq!(
            d("AWSTemplateFormatVersion: '2010-09-09'\n"),
            Doc::Cloudformation
        );
        assert_eq!(
            d("Resources:\n  T: {Type: 'AWS::ECS::TaskDefinition'}\n"),
            Doc::Cloudformation
        );
        assert_eq!(d("Resources:\n  T: {Type: Other}\n"), Doc::Yaml);
        // A Flux Kustomization named like kustomize's file is still Flux.
        let flux = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n";
        assert_eq!(doc_of(flux, "kustomization.yaml"), Doc::FluxKustomization);
        assert_eq!(
            doc_of("images: []\n", "kustomization.yaml"),
            Doc::Kustomization
        );
    }

    #[test]
    fn gitlab_folder_files_by_job_shape() {
        let job = "test:\n  stage: test\n  script: [make]\n";
        assert_eq!(doc_of(job, ".gitlab/ci/test.yml"), Doc::GitlabCi);
        assert_eq!(
            doc_of(".docker:\n  image: docker:24\n", ".gitlab/ci/t.yml"),
            Doc::GitlabCi
        );
        assert_eq!(
            doc_of("stages: [build]\n", ".gitlab/ci/t.yml"),
            Doc::GitlabCi
        );
        // An agent configuration is not a pipeline.
        let agent = "gitops:\n  manifest_projects:\n  - id: group/project\n";
        assert_eq!(doc_of(agent, ".gitlab/agents/a/config.yaml"), Doc::Yaml);
        // The same job elsewhere is plain YAML (unless a pipeline includes it).
        assert_eq!(doc_of(job, "ci/test.yml"), Doc::Yaml);
    }
}
