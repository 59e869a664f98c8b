//! YAML scanner: every document of a stream, every mapping key `image` whose value is a
//! string scalar (plain, quoted, flow or block context, anchored, or an alias — then the
//! anchor's definition is reported, once). Spans come from tree-sitter's concrete syntax
//! tree, which keeps exact byte offsets in LF and CRLF files alike; no serde round-trip
//! ever touches the text. A file with a syntax error is refused as a whole (with the line)
//! so a template that only becomes YAML after rendering is never rewritten.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use tree_sitter::{Node, Parser, Tree};

use super::Candidate;
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

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

fn parse(src: &str) -> Option<Tree> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut parser = Parser::new();
            parser
                .set_language(&tree_sitter_yaml::LANGUAGE.into())
                .ok()?;
            *slot = Some(parser);
        }
        slot.as_mut()?.parse(src, None)
    })
}

/// Whether the tree-sitter grammar reads `src` without error (tests prove fallbacks).
#[cfg(test)]
pub(super) fn grammar_accepts(src: &str) -> bool {
    parse(src).is_some_and(|t| !t.root_node().has_error())
}

/// Find the image references in a YAML (or JSON) text read from `path`.
pub fn scan(src: &str, path: &Path) -> Result<Vec<Candidate>, YamlError> {
    let tree = parse(src).ok_or_else(|| YamlError {
        line: 1,
        message: "the YAML parser gave up on this file".into(),
    })?;
    let root = tree.root_node();
    if root.has_error() {
        // Valid YAML the grammar cannot read still gets the generic rule.
        if let Some(found) = super::yaml_fallback::scan(src) {
            return Ok(found);
        }
        let line = first_error_line(root);
        return Err(YamlError {
            line,
            message: "does not parse as YAML (Helm templates must be rendered first); skipped"
                .into(),
        });
    }
    let flavor = Flavor::from_path(path);
    let mut out = Vec::new();
    let mut cursor = root.walk();
    for doc in root.named_children(&mut cursor) {
        if doc.kind() != "document" {
            continue;
        }
        let root = document_root(doc);
        // A workflow outside `.github/workflows/` (a template, a test fixture) still
        // says what it is: top-level `on` and `jobs`.
        let flavor = match flavor {
            Flavor::Plain if is_workflow(root, src) => Flavor::GithubWorkflow,
            f => f,
        };
        let format = flavor.format().unwrap_or_else(|| document_format(doc, src));
        let excluded: &[&str] = match flavor {
            Flavor::Circleci => &super::circleci::EXCLUDED_PARENTS,
            _ => &EXCLUDED_PARENTS,
        };
        let mut found = Vec::new();
        image_fields(doc, src, format, excluded, &mut found);
        match flavor {
            Flavor::GithubWorkflow => super::github::workflow(root, src, &mut found),
            Flavor::GithubAction => super::github::action(root, src, &mut found),
            Flavor::GitlabCi => super::gitlab::scan(doc, src, &mut found),
            Flavor::CloudBuild => super::cloudbuild::scan(root, src, &mut found),
            Flavor::Kustomization => super::kustomize::scan(root, src, &mut found),
            Flavor::HelmValues => super::helm::scan(doc, src, &mut found),
            Flavor::Circleci => {}
            Flavor::Plain | Flavor::Compose => {}
        }
        if format == Format::Compose {
            super::compose::mark_build_outputs(root, src, &mut found);
        }
        out.extend(found);
    }
    Ok(out)
}

/// Keys under which an `image` key is data about something else, never a pod's image.
const EXCLUDED_PARENTS: [&str; 2] = ["annotations", "labels"];

/// The generic rule: every `image` key with a string scalar value, anchors followed.
fn image_fields(
    doc: Node<'_>,
    src: &str,
    format: Format,
    excluded_parents: &[&str],
    out: &mut Vec<Candidate>,
) {
    // Anchors seen so far in this document: name → span of the anchored scalar.
    let mut anchors: HashMap<&str, Range<usize>> = HashMap::new();
    let kinds = Kinds::of(doc);
    // Depth-first, in document order, with a cursor: no recursion (deeply nested input
    // is fine) and no allocation per node. `excluded_at` holds the depths at which an
    // excluded key's subtree began.
    let mut cursor = doc.walk();
    let mut excluded_at: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    'walk: loop {
        let node = cursor.node();
        let kind = node.kind_id();
        let mut excludes = false;
        if (kind == kinds.flow_node || kind == kinds.block_node) && node.child_count() > 1 {
            if let Some(name) = anchor_name(node, src)
                && let Some(span) = scalar_span(node)
            {
                anchors.insert(name, span);
            }
        } else if kind == kinds.block_pair || kind == kinds.flow_pair {
            let key = node
                .child_by_field_name("key")
                .and_then(|k| scalar_text(k, src));
            if let Some(key) = key {
                if excluded_parents.contains(&key) {
                    excludes = true;
                } else if key == "image"
                    && excluded_at.is_empty()
                    && let Some(value) = node.child_by_field_name("value")
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
        if cursor.goto_first_child() {
            depth += 1;
            if excludes {
                excluded_at.push(depth);
            }
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
            if excluded_at.last() == Some(&depth) {
                excluded_at.pop();
            }
            depth -= 1;
        }
    }
}

/// Node kind ids the walk compares, looked up once per document.
struct Kinds {
    flow_node: u16,
    block_node: u16,
    block_pair: u16,
    flow_pair: u16,
}

impl Kinds {
    fn of(node: Node<'_>) -> Kinds {
        let lang = node.language();
        let id = |name: &str| lang.id_for_node_kind(name, true);
        Kinds {
            flow_node: id("flow_node"),
            block_node: id("block_node"),
            block_pair: id("block_mapping_pair"),
            flow_pair: id("flow_pair"),
        }
    }
}

/// The scalar child of a flow node, with quotes stripped: only string scalars count
/// (`image: 1.0`, `image: null` or `image: true` are not references).
pub(super) fn scalar_span(node: Node<'_>) -> Option<Range<usize>> {
    if node.kind() != "flow_node" {
        return None;
    }
    let mut cursor = node.walk();
    let result = node
        .named_children(&mut cursor)
        .find_map(|c| match c.kind() {
            "plain_scalar" => {
                let inner = c.named_child(0)?;
                (inner.kind() == "string_scalar").then(|| c.byte_range())
            }
            "double_quote_scalar" | "single_quote_scalar" => {
                let r = c.byte_range();
                (r.end >= r.start + 2).then(|| r.start + 1..r.end - 1)
            }
            _ => None,
        });
    result.filter(|r| !r.is_empty())
}

/// The text of a scalar key (quotes stripped).
pub(super) fn scalar_text<'s>(node: Node<'_>, src: &'s str) -> Option<&'s str> {
    scalar_span(node).map(|r| &src[r])
}

fn anchor_name<'s>(node: Node<'_>, src: &'s str) -> Option<&'s str> {
    let mut cursor = node.walk();
    let anchor = node
        .named_children(&mut cursor)
        .find(|c| c.kind() == "anchor")?;
    let name = anchor.named_child(0)?;
    Some(&src[name.byte_range()])
}

fn alias_name<'s>(node: Node<'_>, src: &'s str) -> Option<&'s str> {
    let mut cursor = node.walk();
    let alias = node
        .named_children(&mut cursor)
        .find(|c| c.kind() == "alias")?;
    let name = alias.named_child(0)?;
    Some(&src[name.byte_range()])
}

/// Top-level keys decide what a document is: `apiVersion` + `kind` is Kubernetes,
/// `services` is docker-compose, anything else plain YAML.
fn document_format(doc: Node<'_>, src: &str) -> Format {
    let keys: Vec<&str> = document_root(doc)
        .map(|r| pairs(r, src).into_iter().map(|(k, _, _)| k).collect())
        .unwrap_or_default();
    if keys.contains(&"apiVersion") && keys.contains(&"kind") {
        Format::Kubernetes
    } else if keys.contains(&"services") {
        Format::Compose
    } else {
        Format::Yaml
    }
}

fn is_workflow(root: Option<Node<'_>>, src: &str) -> bool {
    let Some(root) = root else { return false };
    let keys: Vec<&str> = pairs(root, src).into_iter().map(|(k, _, _)| k).collect();
    keys.contains(&"jobs") && keys.contains(&"on")
}

/// The content node (block or flow node) of a document.
pub(super) fn document_root(doc: Node<'_>) -> Option<Node<'_>> {
    let mut cursor = doc.walk();
    doc.named_children(&mut cursor)
        .find(|c| matches!(c.kind(), "block_node" | "flow_node"))
}

/// The content of a block or flow node: its mapping, sequence, scalar or alias.
pub(super) fn content(node: Node<'_>) -> Option<Node<'_>> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor)
        .find(|c| !matches!(c.kind(), "anchor" | "tag" | "comment"))
}

/// The pairs of a mapping node: (key text, pair node, value node).
pub(super) fn pairs<'t, 's>(
    node: Node<'t>,
    src: &'s str,
) -> Vec<(&'s str, Node<'t>, Option<Node<'t>>)> {
    let Some(mapping) =
        content(node).filter(|c| matches!(c.kind(), "block_mapping" | "flow_mapping"))
    else {
        return Vec::new();
    };
    let mut cursor = mapping.walk();
    mapping
        .named_children(&mut cursor)
        .filter(|p| matches!(p.kind(), "block_mapping_pair" | "flow_pair"))
        .filter_map(|p| {
            let key = p
                .child_by_field_name("key")
                .and_then(|k| scalar_text(k, src))?;
            Some((key, p, p.child_by_field_name("value")))
        })
        .collect()
}

/// The value node of `key` in a mapping node.
pub(super) fn get<'t>(node: Node<'t>, src: &str, key: &str) -> Option<Node<'t>> {
    pairs(node, src)
        .into_iter()
        .find(|(k, _, _)| *k == key)
        .and_then(|(_, _, v)| v)
}

/// The item nodes of a sequence node.
pub(super) fn items(node: Node<'_>) -> Vec<Node<'_>> {
    let Some(seq) =
        content(node).filter(|c| matches!(c.kind(), "block_sequence" | "flow_sequence"))
    else {
        return Vec::new();
    };
    let mut cursor = seq.walk();
    let children: Vec<Node<'_>> = seq.named_children(&mut cursor).collect();
    children
        .into_iter()
        .filter_map(|c| match c.kind() {
            "block_sequence_item" => {
                let mut cursor = c.walk();
                c.named_children(&mut cursor)
                    .find(|n| matches!(n.kind(), "block_node" | "flow_node"))
            }
            "flow_node" => Some(c),
            _ => None,
        })
        .collect()
}

/// Every mapping pair in a document, depth first: (key text, value node).
pub(super) fn all_pairs<'t, 's>(doc: Node<'t>, src: &'s str) -> Vec<(&'s str, Node<'t>)> {
    let mut out = Vec::new();
    let mut stack = vec![doc];
    while let Some(node) = stack.pop() {
        if matches!(node.kind(), "block_mapping_pair" | "flow_pair")
            && let (Some(key), Some(value)) = (
                node.child_by_field_name("key")
                    .and_then(|k| scalar_text(k, src)),
                node.child_by_field_name("value"),
            )
        {
            out.push((key, value));
        }
        let mut cursor = node.walk();
        let children: Vec<Node<'t>> = node.named_children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    out
}

/// The text of a mapping's scalar field, unless empty or null (`""`, `null`, `~`).
pub(super) fn field_text<'s>(node: Node<'_>, src: &'s str, key: &str) -> Option<&'s str> {
    get(node, src, key)
        .and_then(value_span)
        .map(|s| &src[s])
        .filter(|t| !t.is_empty() && !matches!(*t, "null" | "Null" | "NULL" | "~"))
}

/// `name[:tag][@digest]`: the reference that split fields (Helm, Kustomize) make.
pub(super) fn assemble(name: &str, tag: Option<&str>, digest: Option<&str>) -> String {
    let mut text = name.to_string();
    if let Some(tag) = tag {
        text.push(':');
        text.push_str(tag);
    }
    if let Some(digest) = digest {
        text.push('@');
        text.push_str(digest);
    }
    text
}

/// Whether a node holds a mapping.
pub(super) fn is_mapping(node: Node<'_>) -> bool {
    content(node).is_some_and(|c| matches!(c.kind(), "block_mapping" | "flow_mapping"))
}

/// The span of any scalar value (inside quotes; numbers and empty quoted strings
/// too), for fields such as `newTag: 1.25` or `digest: ""`.
pub(super) fn value_span(node: Node<'_>) -> Option<Range<usize>> {
    let c = content(node)?;
    match c.kind() {
        "plain_scalar" => Some(c.byte_range()),
        "double_quote_scalar" | "single_quote_scalar" => {
            let r = c.byte_range();
            (r.end >= r.start + 2).then(|| r.start + 1..r.end - 1)
        }
        _ => None,
    }
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

/// The line of the innermost, first syntax error: an outer `ERROR` node often starts
/// at the top of the file, the inner one where the parser actually got stuck.
fn first_error_line(root: Node<'_>) -> usize {
    let mut node = root;
    'descend: loop {
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            if child.is_error() || child.is_missing() || child.has_error() {
                node = child;
                continue 'descend;
            }
        }
        return node.start_position().row + 1;
    }
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
