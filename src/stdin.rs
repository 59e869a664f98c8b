//! Stdin mode: `-` (or `/dev/stdin`) as the only path. The stream is read once, whole,
//! and scanned as if it were a file — of the name given with `--stdin-filename`, or
//! one standing for the `--stdin-format` asked for (plain YAML, so Kubernetes and
//! compose by their documents, when neither is given). Findings are shown as
//! `<stdin>:LINE:COLUMN` (or under the given name). Nothing is walked and no file is
//! written: the commands that edit put the stream on stdout instead (see
//! [`crate::commands::stream`]).
//!
//! What stdin carries is rendered output on its way to a cluster, so two things that
//! are information for files are errors here: a stream (or part of one) that cannot be
//! read, and a templated reference in a Kubernetes, compose or plain YAML document —
//! rendering should have replaced it.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::config::ScanSettings;
use crate::finding::{Finding, Format, STDIN, Skipped, Status};
use crate::scan;
use crate::scan::hcl::Scope;
use crate::walk::{self, Scan, ScannedFile};

/// What the stream on stdin is (`--stdin-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StdinFormat {
    /// Kubernetes manifests (as `yaml`: each document by its keys).
    Kubernetes,
    /// Any YAML stream: Kubernetes and compose documents are told by their keys.
    Yaml,
    Compose,
    Dockerfile,
    GithubActions,
    GitlabCi,
    Circleci,
    CloudBuild,
    Kustomize,
    Helm,
    Devcontainer,
    Json,
    BitbucketPipelines,
    AzurePipelines,
    Drone,
    Terraform,
    Nomad,
    DockerBake,
    Quadlet,
    Jenkinsfile,
}

impl StdinFormat {
    /// A file name that is read this way.
    fn file_name(self) -> &'static str {
        match self {
            StdinFormat::Kubernetes | StdinFormat::Yaml => "stdin.yaml",
            StdinFormat::Compose => "compose.yaml",
            StdinFormat::Dockerfile => "Dockerfile",
            StdinFormat::GithubActions => ".github/workflows/stdin.yaml",
            StdinFormat::GitlabCi => ".gitlab-ci.yml",
            StdinFormat::Circleci => ".circleci/config.yml",
            StdinFormat::CloudBuild => "cloudbuild.yaml",
            StdinFormat::Kustomize => "kustomization.yaml",
            StdinFormat::Helm => "values.yaml",
            StdinFormat::Devcontainer => "devcontainer.json",
            StdinFormat::Json => "stdin.json",
            StdinFormat::BitbucketPipelines => "bitbucket-pipelines.yml",
            StdinFormat::AzurePipelines => "azure-pipelines.yml",
            StdinFormat::Drone => ".drone.yml",
            StdinFormat::Terraform => "stdin.tf",
            StdinFormat::Nomad => "stdin.nomad",
            StdinFormat::DockerBake => "docker-bake.hcl",
            StdinFormat::Quadlet => "stdin.container",
            StdinFormat::Jenkinsfile => "Jenkinsfile",
        }
    }
}

/// Whether a path given on the command line names stdin.
pub fn names_stdin(path: &Path) -> bool {
    path == Path::new("-") || path == Path::new("/dev/stdin")
}

/// The stream on stdin: how it is shown and what it is scanned as.
#[derive(Debug, Clone)]
pub struct Stream {
    /// The name in messages: `<stdin>`, or the `--stdin-filename`.
    pub shown: PathBuf,
    /// The name whose kind and rules the text is read with.
    pub scanned_as: PathBuf,
    /// Neither a format nor a file name given: the text decides, as for a file named
    /// on the command line whose name says nothing (a Dockerfile if it starts like one,
    /// else YAML).
    sniff: bool,
}

impl Stream {
    /// `--stdin-filename` names the stream in messages and decides how it is read;
    /// `--stdin-format` only decides how it is read. Neither: plain YAML, unless the
    /// text starts like a Dockerfile.
    pub fn new(format: Option<StdinFormat>, filename: Option<PathBuf>) -> Stream {
        match filename {
            Some(name) => Stream {
                shown: name.clone(),
                scanned_as: name,
                sniff: false,
            },
            None => Stream {
                shown: PathBuf::from(STDIN),
                scanned_as: PathBuf::from(format.unwrap_or(StdinFormat::Yaml).file_name()),
                sniff: format.is_none(),
            },
        }
    }

    /// Read stdin once, whole, and scan it. The one file of the result is there even
    /// without findings, and always keeps its text: it is what gets written back.
    pub fn read(&self, settings: &ScanSettings) -> Scan {
        let mut bytes = Vec::new();
        if let Err(e) = std::io::stdin().lock().read_to_end(&mut bytes) {
            return self.skipped(None, format!("cannot read stdin: {e}"));
        }
        let source = match walk::text(&self.shown, bytes) {
            Ok(s) => s,
            Err(s) => return self.skipped(s.line, s.message),
        };
        let kind = match scan::kind_for(&self.scanned_as) {
            Some(kind) if !self.sniff => kind,
            _ => scan::sniff_kind(&source),
        };
        let (findings, skipped, ignored) = match walk::scan_text(
            &self.shown,
            &self.scanned_as,
            &source,
            kind,
            &Scope::Stream,
            settings,
        ) {
            Ok(scanned) => (scanned.findings, scanned.skipped, scanned.ignored),
            // Kept all the same: `--keep-going` passes it on as it was.
            Err(skipped) => (Vec::new(), vec![skipped], 0),
        };
        Scan {
            files: vec![ScannedFile {
                path: self.shown.clone(),
                findings,
                source: Some(source),
                kind,
                scope: Scope::Stream,
                scanned_as: Some(self.scanned_as.clone()),
                skipped: skipped.clone(),
            }],
            skipped,
            unused_configs: Vec::new(),
            ignored,
        }
    }

    fn skipped(&self, line: Option<usize>, message: String) -> Scan {
        Scan {
            files: Vec::new(),
            skipped: vec![Skipped {
                path: self.shown.clone(),
                line,
                message,
            }],
            unused_configs: Vec::new(),
            ignored: 0,
        }
    }
}

/// A templated reference where rendering should have left none: in a Kubernetes,
/// compose or plain YAML document. (Dockerfile `ARG`s and CI variables are filled in
/// by the builder or the CI system, after imagepin: there they stay information.)
pub fn unrendered(f: &Finding) -> bool {
    f.status == Status::Templated
        && matches!(
            f.format,
            Format::Kubernetes | Format::Compose | Format::Yaml
        )
}

/// Why an unrendered reference is an error.
pub const UNRENDERED: &str =
    "templated reference in rendered output: rendering should have replaced it; not pinned";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dash_and_dev_stdin_name_stdin() {
        assert!(names_stdin(Path::new("-")));
        assert!(names_stdin(Path::new("/dev/stdin")));
        assert!(!names_stdin(Path::new("./-")));
        assert!(!names_stdin(Path::new("stdin")));
    }

    #[test]
    fn a_filename_names_the_stream_a_format_does_not() {
        let s = Stream::new(Some(StdinFormat::Kustomize), None);
        assert_eq!(s.shown, Path::new("<stdin>"));
        assert_eq!(
            scan::detect::Flavor::from_path(&s.scanned_as),
            scan::detect::Flavor::Kustomization
        );
        let s = Stream::new(None, Some(PathBuf::from("ci/.gitlab-ci.yml")));
        assert_eq!(s.shown, s.scanned_as);
        let s = Stream::new(None, None);
        assert_eq!(
            scan::detect::Flavor::from_path(&s.scanned_as),
            scan::detect::Flavor::Plain
        );
        assert_eq!(scan::kind_for(&s.scanned_as), Some(scan::FileKind::Yaml));
    }

    #[test]
    fn every_format_is_read_as_itself() {
        use crate::scan::detect::HclDialect;
        use clap::ValueEnum;
        for format in StdinFormat::value_variants() {
            let s = Stream::new(Some(*format), None);
            let kind = scan::kind_for(&s.scanned_as);
            let flavor = scan::detect::Flavor::from_path(&s.scanned_as).format();
            let expected = match format {
                StdinFormat::Dockerfile => (Some(scan::FileKind::Dockerfile), None),
                StdinFormat::Devcontainer => (Some(scan::FileKind::Jsonc), None),
                StdinFormat::Json => (Some(scan::FileKind::Json), None),
                StdinFormat::Kubernetes | StdinFormat::Yaml => (Some(scan::FileKind::Yaml), None),
                StdinFormat::Compose => (Some(scan::FileKind::Yaml), Some(Format::Compose)),
                StdinFormat::GithubActions => {
                    (Some(scan::FileKind::Yaml), Some(Format::GithubActions))
                }
                StdinFormat::GitlabCi => (Some(scan::FileKind::Yaml), Some(Format::GitlabCi)),
                StdinFormat::Circleci => (Some(scan::FileKind::Yaml), Some(Format::Circleci)),
                StdinFormat::CloudBuild => (Some(scan::FileKind::Yaml), Some(Format::CloudBuild)),
                StdinFormat::Kustomize => (Some(scan::FileKind::Yaml), Some(Format::Kustomize)),
                StdinFormat::Helm => (Some(scan::FileKind::Yaml), Some(Format::Helm)),
                StdinFormat::BitbucketPipelines => {
                    (Some(scan::FileKind::Yaml), Some(Format::BitbucketPipelines))
                }
                StdinFormat::AzurePipelines => {
                    (Some(scan::FileKind::Yaml), Some(Format::AzurePipelines))
                }
                StdinFormat::Drone => (Some(scan::FileKind::Yaml), Some(Format::Drone)),
                StdinFormat::Terraform => (Some(scan::FileKind::Hcl(HclDialect::Terraform)), None),
                StdinFormat::Nomad => (Some(scan::FileKind::Hcl(HclDialect::Nomad)), None),
                StdinFormat::DockerBake => (Some(scan::FileKind::Hcl(HclDialect::Bake)), None),
                StdinFormat::Quadlet => (Some(scan::FileKind::Quadlet), None),
                StdinFormat::Jenkinsfile => (Some(scan::FileKind::Jenkinsfile), None),
            };
            assert_eq!((kind, flavor), expected, "{format:?}");
        }
    }
}
