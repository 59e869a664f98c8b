//! Kustomize (`kustomization.yaml`): each `images:` entry (`name`, optional `newName`,
//! `newTag`, `digest`) describes the image kustomize will write into the manifests:
//! `newName` (or `name`) with `newTag`. It is pinned by filling in or adding the entry's
//! `digest:` field, keeping `newTag` for readers. An `images:` key in any other file is
//! not kustomize. Flux reads the same entries (a `Kustomization`'s `spec.images`, a
//! `HelmRelease`'s post-renderer): [`entries`] serves them too.

use super::Candidate;
use crate::finding::{DigestField, Format, PinSite, Status};
use crate::yaml::tree::{
    Node, assemble, field_text, get, is_flow_mapping, is_mapping, items, pairs, value_span,
};

pub fn scan(root: Option<Node<'_>>, src: &str, out: &mut Vec<Candidate>) {
    if let Some(images) = root.and_then(|r| get(r, src, "images")) {
        entries(images, src, Format::Kustomize, out);
    }
}

/// The entries of an `images:` list, reported as `format`.
pub fn entries(images: Node<'_>, src: &str, format: Format, out: &mut Vec<Candidate>) {
    for entry in items(images).filter(|e| is_mapping(*e)) {
        let field = |key: &str| get(entry, src, key).and_then(value_span);
        let Some(span) = field("newName")
            .or_else(|| field("name"))
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        let tag = field_text(entry, src, "newTag");
        let digest = field_text(entry, src, "digest");
        let text = assemble(&src[span.clone()], tag, digest);
        let status = (tag.is_none() && digest.is_none()).then(|| {
            (
                Status::Templated,
                "no newTag: kustomize keeps each manifest's own tag".to_string(),
            )
        });
        out.push(Candidate {
            span,
            format,
            text: Some(text),
            pin: PinSite::Field(digest_field(entry, src)),
            status,
        });
    }
}

/// Where a mapping's digest goes: its `digest:` value, or a new `digest:` field after
/// its last field, indented like the others and with the file's line ending (Flux's
/// `OCIRepository` `ref:` takes one the same way).
pub(super) fn digest_field(entry: Node<'_>, src: &str) -> DigestField {
    let fields: Vec<_> = pairs(entry, src).collect();
    if let Some((_, pair, value)) = fields.iter().find(|(k, _, _)| *k == "digest") {
        return match value.and_then(value_span) {
            // `digest: null` (or `~`): the value is replaced by the digest.
            Some(span) => DigestField::Value(span),
            None => DigestField::Insert {
                at: pair.end_byte(),
                before: " ".into(),
                after: String::new(),
            },
        };
    }
    let (Some((_, first, _)), Some((_, last, _))) = (fields.first(), fields.last()) else {
        return DigestField::Missing("empty images entry".into());
    };
    if is_flow_mapping(entry) {
        return DigestField::Insert {
            at: last.end_byte(),
            before: ", digest: ".into(),
            after: String::new(),
        };
    }
    // YAML's line breaks: LF, CRLF, or a CR alone.
    let at = src[last.end_byte()..]
        .find(['\n', '\r'])
        .map_or(src.len(), |i| last.end_byte() + i);
    let eol = match &src.as_bytes()[at..] {
        [b'\r', b'\n', ..] => "\r\n",
        [b'\r', ..] => "\r",
        [] if src.contains("\r\n") => "\r\n",
        _ => "\n",
    };
    let first_start = first.start_byte().unwrap_or(last.end_byte());
    let line_start = src[..first_start].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let indent = " ".repeat(first_start - line_start);
    DigestField::Insert {
        at,
        before: format!("{eol}{indent}digest: "),
        after: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scan::yaml::scan;

    fn entries(src: &str) -> Vec<Candidate> {
        scan(src, Path::new("kustomization.yaml")).unwrap()
    }

    #[test]
    fn entries_become_the_image_kustomize_writes() {
        let src = "images:\n- name: nginx\n  newTag: 1.25 # keep\n- name: quay.io/a/b\n  newName: ghcr.io/c/d\n  newTag: \"v1\"\n  digest: sha256:aaaa\n- {name: redis, newTag: '7'}\n- name: only\n  newName: other\nresources: [a.yaml]\n";
        let c = entries(src);
        let texts: Vec<&str> = c.iter().map(|c| c.text.as_deref().unwrap()).collect();
        assert_eq!(
            texts,
            [
                "nginx:1.25",
                "ghcr.io/c/d:v1@sha256:aaaa",
                "redis:7",
                "other"
            ]
        );
        assert_eq!(
            c[0].pin,
            PinSite::Field(DigestField::Insert {
                at: src.find(" # keep").unwrap() + " # keep".len(),
                before: "\n  digest: ".into(),
                after: String::new()
            })
        );
        let PinSite::Field(DigestField::Value(span)) = &c[1].pin else {
            panic!("{:?}", c[1].pin)
        };
        assert_eq!(&src[span.clone()], "sha256:aaaa");
        let PinSite::Field(DigestField::Insert { at, before, .. }) = &c[2].pin else {
            panic!()
        };
        assert_eq!((&src[*at..*at + 1], before.as_str()), ("}", ", digest: "));
        assert_eq!(c[3].status.as_ref().map(|s| s.0), Some(Status::Templated));
    }

    #[test]
    fn crlf_files_get_crlf_fields() {
        let src = "images:\r\n  - name: nginx\r\n    newTag: \"1.25\"\r\n";
        let c = entries(src);
        assert_eq!(
            c[0].pin,
            PinSite::Field(DigestField::Insert {
                at: src.len() - 2,
                before: "\r\n    digest: ".into(),
                after: String::new()
            })
        );
        // Found by fuzzing: a CR alone is a YAML line break too; the field is indented
        // from it and ends its line with it.
        let src = "images:\n\r  - name: nginx\r    newTag: \"1.25\"\r  - name: redis\r";
        let c = entries(src);
        let tag_end = src.find("\"1.25\"").unwrap() + "\"1.25\"".len();
        assert_eq!(
            c[0].pin,
            PinSite::Field(DigestField::Insert {
                at: tag_end,
                before: "\r    digest: ".into(),
                after: String::new()
            })
        );
    }

    #[test]
    fn images_key_elsewhere_is_not_kustomize() {
        let src = "images:\n- name: nginx\n  newTag: 1.25\n";
        assert!(scan(src, Path::new("other.yaml")).unwrap().is_empty());
    }
}
