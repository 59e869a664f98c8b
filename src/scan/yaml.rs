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

/// What the file's name says about its documents.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hint {
    /// Named like a docker-compose file.
    pub compose_name: bool,
}

impl Hint {
    pub fn from_path(path: &Path) -> Hint {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let stem = name
            .strip_suffix(".yaml")
            .or_else(|| name.strip_suffix(".yml"))
            .unwrap_or("");
        Hint {
            compose_name: stem.starts_with("docker-compose")
                || stem.starts_with("compose")
                || stem.ends_with(".compose")
                || stem.ends_with("-compose"),
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

/// Find the image references in a YAML (or JSON) text.
pub fn scan(src: &str, hint: Hint) -> Result<Vec<Candidate>, YamlError> {
    let tree = parse(src).ok_or_else(|| YamlError {
        line: 1,
        message: "the YAML parser gave up on this file".into(),
    })?;
    let root = tree.root_node();
    if root.has_error() {
        let line = first_error_line(root);
        return Err(YamlError {
            line,
            message: "not valid YAML (a template must be rendered first); skipped".into(),
        });
    }
    let mut out = Vec::new();
    let mut cursor = root.walk();
    for doc in root.named_children(&mut cursor) {
        if doc.kind() == "document" {
            let format = document_format(doc, src, hint);
            scan_document(doc, src, format, &mut out);
        }
    }
    Ok(out)
}

/// Keys under which an `image` key is data about something else, never a pod's image.
const EXCLUDED_PARENTS: [&str; 2] = ["annotations", "labels"];

fn scan_document(doc: Node<'_>, src: &str, format: Format, out: &mut Vec<Candidate>) {
    // Anchors seen so far in this document: name → span of the anchored scalar.
    let mut anchors: HashMap<&str, Range<usize>> = HashMap::new();
    // Depth-first, in document order, without recursion (deeply nested input is fine).
    let mut stack: Vec<(Node<'_>, bool)> = vec![(doc, false)];
    while let Some((node, excluded)) = stack.pop() {
        let mut child_excluded = excluded;
        match node.kind() {
            "flow_node" | "block_node" => {
                if let Some(name) = anchor_name(node, src)
                    && let Some(span) = scalar_span(node)
                {
                    anchors.insert(name, span);
                }
            }
            "block_mapping_pair" | "flow_pair" => {
                let key = node
                    .child_by_field_name("key")
                    .and_then(|k| scalar_text(k, src));
                if let Some(key) = key {
                    if EXCLUDED_PARENTS.contains(&key) {
                        child_excluded = true;
                    } else if key == "image"
                        && !excluded
                        && let Some(value) = node.child_by_field_name("value")
                    {
                        let span = scalar_span(value).or_else(|| {
                            alias_name(value, src).and_then(|a| anchors.get(a).cloned())
                        });
                        if let Some(span) = span
                            && !(format == Format::Yaml && looks_like_file(&src[span.clone()]))
                        {
                            out.push(Candidate { span, format });
                        }
                    }
                }
            }
            _ => {}
        }
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        for child in children.into_iter().rev() {
            stack.push((child, child_excluded));
        }
    }
}

/// The scalar child of a flow node, with quotes stripped: only string scalars count
/// (`image: 1.0`, `image: null` or `image: true` are not references).
fn scalar_span(node: Node<'_>) -> Option<Range<usize>> {
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
fn scalar_text<'s>(node: Node<'_>, src: &'s str) -> Option<&'s str> {
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
/// `services` (or a compose file name) is docker-compose, anything else plain YAML.
fn document_format(doc: Node<'_>, src: &str, hint: Hint) -> Format {
    let keys = top_level_keys(doc, src);
    if keys.contains(&"apiVersion") && keys.contains(&"kind") {
        Format::Kubernetes
    } else if hint.compose_name || keys.contains(&"services") {
        Format::Compose
    } else {
        Format::Yaml
    }
}

fn top_level_keys<'s>(doc: Node<'_>, src: &'s str) -> Vec<&'s str> {
    let mut cursor = doc.walk();
    let Some(content) = doc
        .named_children(&mut cursor)
        .find(|c| matches!(c.kind(), "block_node" | "flow_node"))
    else {
        return Vec::new();
    };
    let mut cursor = content.walk();
    let Some(mapping) = content
        .named_children(&mut cursor)
        .find(|c| matches!(c.kind(), "block_mapping" | "flow_mapping"))
    else {
        return Vec::new();
    };
    let mut cursor = mapping.walk();
    mapping
        .named_children(&mut cursor)
        .filter_map(|pair| pair.child_by_field_name("key"))
        .filter_map(|k| scalar_text(k, src))
        .collect()
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
        scan(src, Hint::default())
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
        let got = scan(src, Hint::default()).unwrap();
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
        let err = scan(src, Hint::default()).unwrap_err();
        assert!(err.line >= 2, "line {}", err.line);
    }

    #[test]
    fn json_is_yaml() {
        let src = "{\n  \"kind\": \"Pod\", \"apiVersion\": \"v1\",\n  \"spec\": {\"containers\": [{\"image\": \"mongo\"}]}\n}\n";
        assert_eq!(texts(src), [("mongo", Format::Kubernetes)]);
    }

    #[test]
    fn compose_by_name() {
        assert!(Hint::from_path(Path::new("docker-compose.prod.yml")).compose_name);
        assert!(Hint::from_path(Path::new("compose.yaml")).compose_name);
        assert!(!Hint::from_path(Path::new("deploy.yaml")).compose_name);
    }
}
