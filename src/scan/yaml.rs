//! YAML files: each document read by the YAML layer ([`crate::yaml`]) gets the generic
//! `image:` rule and the rules of its format (from the file's path and the document's
//! top-level keys). A file that cannot be read is refused as a whole with the line, so
//! a template that only becomes YAML after rendering is never rewritten.

use std::path::Path;

use super::detect::Flavor;
use super::{Candidate, Unread};
use crate::yaml::{self, MAX_DEPTH, YamlError};

/// Why a file was not scanned.
#[derive(Debug, Clone)]
pub struct Refused {
    /// 1-based line of the first syntax error.
    pub line: usize,
    pub message: String,
}

/// Find the image references in a YAML (or JSON) text read from `path`.
pub fn scan(src: &str, path: &Path) -> Result<Vec<Candidate>, Refused> {
    read(src, path, Flavor::from_path(path)).map(|(found, _)| found)
}

/// Find the image references in a YAML (or JSON) text read from `path` with the rules
/// of `flavor`, and the parts of it that could not be read (the rest was).
pub fn read(
    src: &str,
    path: &Path,
    flavor: Flavor,
) -> Result<(Vec<Candidate>, Vec<Unread>), Refused> {
    // Cheap prefilter: a plain YAML file that names no image, bundle, package or OCI
    // URL has no image field (CI formats name images under other keys too).
    if flavor == Flavor::Plain && !mentions_images(src) {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut out = Vec::new();
    let mut unread = Vec::new();
    let read = {
        let found = std::cell::RefCell::new((&mut out, &mut unread));
        yaml::read_each(
            src,
            &mut || {
                let mut f = found.borrow_mut();
                f.0.clear();
                f.1.clear();
            },
            &mut |tree| {
                let mut f = found.borrow_mut();
                let (out, unread) = &mut *f;
                for root in tree.documents() {
                    super::rules::apply(root, src, path, flavor, out, unread);
                }
            },
        )
    };
    match read {
        Ok(()) => Ok((out, unread)),
        Err(YamlError::Syntax { line }) => {
            // Valid YAML the grammar cannot read still gets the generic rule.
            if let Some(found) = super::yaml_fallback::scan(src) {
                return Ok((found, Vec::new()));
            }
            Err(Refused {
                line,
                message: "does not parse as YAML (Helm templates must be rendered first); skipped"
                    .into(),
            })
        }
        Err(YamlError::TooDeep { line }) => Err(Refused {
            line,
            message: format!("nested deeper than {MAX_DEPTH} levels; skipped"),
        }),
        Err(YamlError::GaveUp) => Err(Refused {
            line: 1,
            message: "the YAML parser gave up on this file".into(),
        }),
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
        let err = scan(src, Path::new("t.yaml")).unwrap_err();
        assert!(err.line >= 2, "line {}", err.line);
    }

    #[test]
    fn json_is_yaml() {
        let src = "{\n  \"kind\": \"Pod\", \"apiVersion\": \"v1\",\n  \"spec\": {\"containers\": [{\"image\": \"mongo\"}]}\n}\n";
        assert_eq!(texts(src), [("mongo", Format::Kubernetes)]);
    }
}
