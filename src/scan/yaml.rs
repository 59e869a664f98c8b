//! YAML scanner: every document of a stream, every mapping key `image` whose value is a
//! string scalar (plain, quoted, flow or block context, anchored, or an alias — then the
//! anchor's definition is reported, once), then each format's own rules. Spans come
//! from the document model (`yaml_tree`) that the fast reader builds document by
//! document, or tree-sitter when the fast reader declines; both keep exact byte offsets
//! in LF and CRLF files alike, and no serde round-trip ever touches the text. A file
//! with a syntax error is refused as a whole (with the line) so a template that only
//! becomes YAML after rendering is never rewritten.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use super::Candidate;
use super::yaml_tree::{
    Node, Step, Tree, alias_name, anchor_name, pairs, scalar_span, scalar_text,
};
use super::yaml_ts::{MAX_DEPTH, Refusal};
use crate::finding::Format;

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
    fn format(self) -> Option<Format> {
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

/// Why a file was not scanned.
#[derive(Debug, Clone)]
pub struct YamlError {
    /// 1-based line of the first syntax error.
    pub line: usize,
    pub message: String,
}

/// Find the image references in a YAML (or JSON) text read from `path`.
pub fn scan(src: &str, path: &Path) -> Result<Vec<Candidate>, YamlError> {
    let flavor = Flavor::from_path(path);
    // Cheap prefilter: a plain YAML file that never says `image` has no image field
    // (CI formats name images under other keys too).
    if flavor == Flavor::Plain && !src.contains("image") {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    // Document by document: memory follows the largest document, not the file.
    let fast = super::yaml_fast::read_each(src, &mut |tree| {
        scan_tree(tree, src, flavor, &mut out);
    });
    if fast.is_some() {
        return Ok(out);
    }
    out.clear();
    let tree = match super::yaml_ts::read(src) {
        Ok(tree) => tree,
        Err(Refusal::Syntax(line)) => {
            // Valid YAML the grammar cannot read still gets the generic rule.
            if let Some(found) = super::yaml_fallback::scan(src) {
                return Ok(found);
            }
            return Err(YamlError {
                line,
                message: "does not parse as YAML (Helm templates must be rendered first); skipped"
                    .into(),
            });
        }
        Err(Refusal::TooDeep(line)) => {
            return Err(YamlError {
                line,
                message: format!("nested deeper than {MAX_DEPTH} levels; skipped"),
            });
        }
        Err(Refusal::GaveUp) => {
            return Err(YamlError {
                line: 1,
                message: "the YAML parser gave up on this file".into(),
            });
        }
    };
    scan_tree(&tree, src, flavor, &mut out);
    Ok(out)
}

/// Apply the generic rule and the file's format rules to every document.
fn scan_tree(tree: &Tree, src: &str, flavor: Flavor, out: &mut Vec<Candidate>) {
    for root in tree.documents() {
        // A workflow outside `.github/workflows/` (a template, a test fixture) still
        // says what it is: top-level `on` and `jobs`.
        let flavor = match flavor {
            Flavor::Plain if is_workflow(root, src) => Flavor::GithubWorkflow,
            f => f,
        };
        let format = flavor
            .format()
            .unwrap_or_else(|| document_format(root, src));
        let excluded: &[&str] = match flavor {
            Flavor::Circleci => &super::circleci::EXCLUDED_PARENTS,
            _ => &EXCLUDED_PARENTS,
        };
        let mut found = Vec::new();
        image_fields(root, src, format, excluded, &mut found);
        match flavor {
            Flavor::GithubWorkflow => super::github::workflow(Some(root), src, &mut found),
            Flavor::GithubAction => super::github::action(Some(root), src, &mut found),
            Flavor::GitlabCi => super::gitlab::scan(root, src, &mut found),
            Flavor::CloudBuild => super::cloudbuild::scan(Some(root), src, &mut found),
            Flavor::Kustomization => super::kustomize::scan(Some(root), src, &mut found),
            Flavor::HelmValues => super::helm::scan(root, src, &mut found),
            Flavor::Circleci => {}
            Flavor::Plain | Flavor::Compose => {}
        }
        if format == Format::Compose {
            super::compose::mark_build_outputs(Some(root), src, &mut found);
        }
        out.extend(found);
    }
}

/// Keys under which an `image` key is data about something else, never a pod's image.
const EXCLUDED_PARENTS: [&str; 2] = ["annotations", "labels"];

/// The generic rule: every `image` key with a string scalar value, anchors followed.
fn image_fields(
    root: Node<'_>,
    src: &str,
    format: Format,
    excluded_parents: &[&str],
    out: &mut Vec<Candidate>,
) {
    // Anchors seen so far in this document: name → span of the anchored scalar.
    let mut anchors: HashMap<&str, Range<usize>> = HashMap::new();
    // Depth-first, in document order. A pair is checked when the walk reaches it, so
    // an alias sees every anchor written before it; the flag says whether an excluded
    // key is above.
    let mut stack = vec![(Step::Node(root), false)];
    while let Some((step, excluded)) = stack.pop() {
        let mut below = excluded;
        match step {
            Step::Node(node) => {
                if let Some(name) = anchor_name(node, src)
                    && let Some(span) = scalar_span(node)
                {
                    anchors.insert(name, span);
                }
            }
            Step::Pair(pair) => {
                let key = pair.key().and_then(|k| scalar_text(k, src));
                below = excluded || key.is_some_and(|k| excluded_parents.contains(&k));
                if key == Some("image")
                    && !below
                    && let Some(value) = pair.value()
                {
                    let span = scalar_span(value)
                        .or_else(|| alias_name(value, src).and_then(|a| anchors.get(a).cloned()));
                    if let Some(span) = span
                        && !(format == Format::Yaml && looks_like_file(&src[span.clone()]))
                    {
                        out.push(Candidate::inline(span, format));
                    }
                }
            }
        }
        step.children_rev(|c| stack.push((c, below)));
    }
}

/// Top-level keys decide what a document is: `apiVersion` + `kind` is Kubernetes,
/// `services` is docker-compose, anything else plain YAML.
fn document_format(root: Node<'_>, src: &str) -> Format {
    let has = |key: &str| pairs(root, src).any(|(k, _, _)| k == key);
    if has("apiVersion") && has("kind") {
        Format::Kubernetes
    } else if has("services") {
        Format::Compose
    } else {
        Format::Yaml
    }
}

fn is_workflow(root: Node<'_>, src: &str) -> bool {
    let has = |key: &str| pairs(root, src).any(|(k, _, _)| k == key);
    has("jobs") && has("on")
}

/// In YAML that is not a known container format, `image:` often names a picture or a
/// URL (site generators, docs tools). Those are not container images.
fn looks_like_file(text: &str) -> bool {
    const PICTURES: [&str; 8] = [
        ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico", ".bmp",
    ];
    let lower = text.to_ascii_lowercase();
    lower.contains("://")
        || lower.starts_with('/')
        || lower.starts_with("./")
        || lower.starts_with("../")
        || PICTURES.iter().any(|ext| lower.ends_with(ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<(&str, Format)> {
        scan(src, Path::new("t.yaml"))
            .expect("parses")
            .into_iter()
            .map(|c| (&src[c.span], c.format))
            .collect()
    }

    #[test]
    fn styles_of_scalars() {
        let src = "a:\n  image: nginx:1.25\nb:\n  image: \"redis:7\"\nc:\n  image: 'alpine'\nd: {image: busybox:1}\n";
        let got: Vec<_> = texts(src).into_iter().map(|t| t.0).collect();
        assert_eq!(got, ["nginx:1.25", "redis:7", "alpine", "busybox:1"]);
    }

    #[test]
    fn multi_document_kubernetes_and_crlf() {
        let src = "apiVersion: v1\r\nkind: Pod\r\nspec:\r\n  containers:\r\n  - image: nginx # web\r\n---\r\nfoo:\r\n  image: redis\r\n";
        assert_eq!(
            texts(src),
            [("nginx", Format::Kubernetes), ("redis", Format::Yaml)]
        );
    }

    #[test]
    fn anchors_report_the_definition_once() {
        let src = "x-base: &base\n  image: &img nginx:1.25\nservices:\n  a:\n    <<: *base\n  b:\n    image: *img\n";
        let got = scan(src, Path::new("t.yaml")).unwrap();
        assert_eq!(
            got.len(),
            2,
            "definition plus alias resolved to the same span"
        );
        assert_eq!(got[0].span, got[1].span);
        assert_eq!(&src[got[0].span.clone()], "nginx:1.25");
        assert_eq!(got[0].format, Format::Compose);
    }

    #[test]
    fn alias_sees_anchors_in_earlier_siblings() {
        let src = "x:\n  a: &img nginx:1.25\nimage: *img\n";
        let got = texts(src);
        assert_eq!(got, [("nginx:1.25", Format::Yaml)]);
    }

    #[test]
    fn alias_to_extension_field_pins_definition() {
        let src = "x-img: &img \"postgres:16\"\nservices:\n  db:\n    image: *img\n";
        let got = texts(src);
        assert_eq!(got, [("postgres:16", Format::Compose)]);
    }

    #[test]
    fn not_images() {
        let src = "metadata:\n  annotations:\n    image: nginx\n  labels: {image: x}\ndata:\n  cfg: |\n    image: nginx\n# image: nginx\nenv:\n- name: IMAGE\n  value: nginx\nimage: 1.5\nother:\n  image: null\n  image2: nginx\n";
        assert!(texts(src).is_empty(), "{:?}", texts(src));
    }

    #[test]
    fn pictures_in_plain_yaml_are_not_images() {
        let src = "author:\n  image: /img/me.png\nsite:\n  image: https://example.com/a\n";
        assert!(texts(src).is_empty());
    }

    #[test]
    fn syntax_errors_name_a_line() {
        let src = "a: 1\nb: [\n{{- if .Values.x }}\nimage: {{ .Values.image }}\n";
        let err = scan(src, Path::new("t.yaml")).unwrap_err();
        assert!(err.line >= 2, "line {}", err.line);
    }

    #[test]
    fn json_is_yaml() {
        let src = "{\n  \"kind\": \"Pod\", \"apiVersion\": \"v1\",\n  \"spec\": {\"containers\": [{\"image\": \"mongo\"}]}\n}\n";
        assert_eq!(texts(src), [("mongo", Format::Kubernetes)]);
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
