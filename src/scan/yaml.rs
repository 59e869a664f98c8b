//! YAML files: each document read by the YAML layer ([`crate::yaml`]) gets the generic
//! `image:` rule and the rules of its format (from the file's path and the document's
//! top-level keys). A document that cannot be read is refused alone, with its line and
//! the reason, so a template that only becomes YAML after rendering is never
//! rewritten, while the documents around it are read as usual.

use std::ops::Range;
use std::path::Path;

use super::detect::Flavor;
use super::{Candidate, Unread};
use crate::finding::{DOCUMENT_SKIPPED, DigestField, PinSite};
use crate::yaml::{self, MAX_DEPTH, Template, YamlError, tree::Tree};

/// A document that was not scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// 1-based line: where the parser stopped, or the template line.
    pub line: usize,
    pub message: String,
}

/// What a YAML text holds: references, the parts of documents that could not be read
/// (a values string that is not YAML), comments (for inline ignores) and the
/// documents that could not be read.
#[derive(Debug, Default)]
pub struct Read {
    pub candidates: Vec<Candidate>,
    pub unread: Vec<Unread>,
    pub comments: Vec<Range<usize>>,
    pub refused: Vec<Refused>,
}

/// Find the image references in a YAML (or JSON) text read from `path`; refused as a
/// whole if any document could not be read (for tests).
pub fn scan(src: &str, path: &Path) -> Result<Vec<Candidate>, Refused> {
    let read = read(src, path, Flavor::from_path(path));
    match read.refused.into_iter().next() {
        Some(refused) => Err(refused),
        None => Ok(read.candidates),
    }
}

/// Read a YAML (or JSON) text from `path` with the rules of `flavor`, document by
/// document.
pub fn read(src: &str, path: &Path, flavor: Flavor) -> Read {
    let mut out = Read::default();
    // Cheap prefilter: a plain YAML file that names no image, bundle, package or OCI
    // URL has no image field (CI formats name images under other keys too), so it is
    // not read at all.
    if flavor == Flavor::Plain && !mentions_images(src) {
        return out;
    }
    let errors = yaml::read_documents(src, &mut |tree| {
        out.comments.extend_from_slice(tree.comments());
        let mut found = Vec::new();
        for root in tree.documents() {
            super::rules::apply(root, src, path, flavor, &mut found, &mut out.unread);
        }
        use_values(tree, &mut found);
        out.candidates.extend(found);
    });
    out.refused = errors.iter().map(refusal).collect();
    out
}

/// What to say about a document that could not be read.
fn refusal(e: &YamlError) -> Refused {
    let why = match e {
        YamlError::Syntax { reason, .. } => format!("not valid YAML: {reason}"),
        YamlError::Template { syntax, .. } => match syntax {
            Template::Go => "a Go template ({{ … }}), not YAML until rendered; Helm templates must be rendered first (`helm template … | imagepin fix -`)".to_string(),
            Template::Jinja => "a Jinja template ({% … %}), not YAML until rendered; render it first and pin the result".to_string(),
        },
        YamlError::TooDeep { .. } => format!("nested deeper than {MAX_DEPTH} levels"),
        YamlError::Unplaced { .. } => "a value of it could not be placed exactly in the text (please report this file)".to_string(),
    };
    Refused {
        line: e.line(),
        message: format!("{DOCUMENT_SKIPPED}: {why}"),
    }
}

/// A reference written with escapes or over several lines (`"nginx:1.25\\` + line
/// break + `@sha256:…"`) is classified on its value; a digest cannot be spliced into
/// such text safely, so it is never edited.
fn use_values(tree: &Tree, found: &mut [Candidate]) {
    for c in found.iter_mut() {
        if c.text.is_some() || c.pin != PinSite::Inline || !tree.inside_decoded(&c.span) {
            continue;
        }
        if let Some(value) = tree.decoded_at(&c.span) {
            c.text = Some(value.to_string());
        }
        c.pin = PinSite::Field(DigestField::Missing(
            "written with escapes or over several lines, so a digest cannot be added in place; write it on one line without escapes".into(),
        ));
    }
}

/// Whether a text says `image` (any case: CloudFormation writes `Image`), `bundle`
/// (Tekton), `package` (Crossplane) or `oci://` (Flux): every word a plain YAML file's
/// rules look for.
fn mentions_images(src: &str) -> bool {
    let b = src.as_bytes();
    [&b"mage"[..], b"bundle", b"package", b"oci://"]
        .iter()
        .any(|word| memchr::memmem::find(b, word).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Format;

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
        let refused = read(src, Path::new("t.yaml"), Flavor::Plain).refused;
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].line, 3, "{refused:?}");
        assert!(
            refused[0]
                .message
                .contains("Helm templates must be rendered first")
        );
    }

    /// Issue 12, item 7: a reference written over two lines with an escaped line break
    /// is classified on its value; one that would need a pin is never edited.
    #[test]
    fn escaped_line_breaks_are_read_as_their_value() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let src = format!(
            "a:\n  image: \"amd64/node:10.0.0\\\n    @{digest}\"\nb:\n  image: \"amd64/node:\\\n    10.0.0\"\n"
        );
        let f = crate::scan::scan_source(Path::new("t.yaml"), &src, crate::scan::FileKind::Yaml)
            .expect("reads");
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].text, format!("amd64/node:10.0.0@{digest}"));
        assert_eq!(f[0].status, crate::finding::Status::Pinned);
        assert_eq!(f[1].text, "amd64/node:10.0.0");
        assert_eq!(f[1].status, crate::finding::Status::Mutable);
        assert!(matches!(f[1].pin, PinSite::Field(DigestField::Missing(_))));
        assert!(f[1].note.as_deref().is_some_and(|n| n.contains("escapes")));
    }

    /// Issue 12, item 8: a block scalar as the whole value, and a single pair in a flow
    /// sequence.
    #[test]
    fn block_scalar_values_and_pairs_in_flow_sequences() {
        let src = "a:\n  image: >-\n    nginx:1.25\nb: [image: redis:7]\nc:\n  image: |\n    two\n    lines\n";
        assert_eq!(
            texts(src),
            [("nginx:1.25", Format::Yaml), ("redis:7", Format::Yaml)]
        );
    }

    #[test]
    fn one_bad_document_costs_only_itself() {
        let src = "image: a:1\n---\nb: [\n---\nimage: c:1\n";
        let scanned = read(src, Path::new("t.yaml"), Flavor::Plain);
        let texts: Vec<_> = scanned
            .candidates
            .iter()
            .map(|c| &src[c.span.clone()])
            .collect();
        assert_eq!(texts, ["a:1", "c:1"]);
        assert_eq!(scanned.refused.len(), 1);
        assert_eq!(scanned.refused[0].line, 4, "{:?}", scanned.refused);
        assert!(scanned.refused[0].message.contains("not valid YAML"));
        assert!(!scanned.refused[0].message.contains("Helm"));
    }

    #[test]
    fn json_is_yaml() {
        let src = "{\n  \"kind\": \"Pod\", \"apiVersion\": \"v1\",\n  \"spec\": {\"containers\": [{\"image\": \"mongo\"}]}\n}\n";
        assert_eq!(texts(src), [("mongo", Format::Kubernetes)]);
    }
}
