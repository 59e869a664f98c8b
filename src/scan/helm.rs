//! Helm values files (`values*.yaml`): charts split an image into fields,
//! `image: {registry?, repository, tag, digest?}`, also nested (`image.busybox.*`) or
//! under keys ending in `image` (`initImage:`). The finding is the reference those fields
//! make. When a `digest` field exists (often `""`) it is filled in place; when none
//! exists the finding is reported with a note and left alone: a chart reads only the
//! keys its templates name, so imagepin never invents one.

use super::Candidate;
use crate::finding::{DigestField, Format, PinSite, Status};
use crate::yaml::tree::{Node, assemble, field_text, get, is_mapping, items, pairs, value_span};

pub fn scan(root: Node<'_>, src: &str, out: &mut Vec<Candidate>) {
    // (mapping node, whether it is the value of an image-like key)
    let mut stack = vec![(root, false)];
    while let Some((node, under_image)) = stack.pop() {
        if under_image && get(node, src, "repository").is_some() {
            if let Some(c) = split_image(node, src) {
                out.push(c);
            }
            continue;
        }
        for (key, _, value) in pairs(node, src) {
            let Some(value) = value else { continue };
            if is_mapping(value) {
                // Below an image-like key, any mapping with a `repository` is an image
                // (`image.busybox.repository`).
                let imageish = key.eq_ignore_ascii_case("image")
                    || ["Image", "_image", "-image"]
                        .iter()
                        .any(|s| key.ends_with(s));
                stack.push((value, under_image || imageish));
            } else {
                for item in items(value).filter(|i| is_mapping(*i)) {
                    stack.push((item, false));
                }
            }
        }
    }
    out.sort_by_key(|c| c.span.start);
}

fn split_image(node: Node<'_>, src: &str) -> Option<Candidate> {
    let text_of = |key: &str| field_text(node, src, key);
    let span = get(node, src, "repository").and_then(value_span)?;
    let repository = &src[span.clone()];
    if repository.is_empty() {
        return None;
    }
    let name = match text_of("registry") {
        Some(registry) => format!("{registry}/{repository}"),
        None => repository.to_string(),
    };
    let tag = text_of("tag");
    let digest = text_of("digest");
    let text = assemble(&name, tag, digest);
    let fields: Vec<_> = pairs(node, src).collect();
    let pin = match fields.iter().find(|(k, _, _)| *k == "digest") {
        Some((_, _, Some(value))) => match value_span(*value) {
            Some(span) => DigestField::Value(span),
            None => DigestField::Missing("the `digest` field is not a plain value".into()),
        },
        Some((_, pair, None)) => DigestField::Insert {
            at: pair.end_byte(),
            before: " ".into(),
            after: String::new(),
        },
        None => DigestField::Missing(
            "these values have no `digest` field; add `digest: \"\"` if the chart reads one (imagepin does not invent keys)".into(),
        ),
    };
    let status = (tag.is_none() && digest.is_none()).then(|| {
        (
            Status::Templated,
            "no tag: the chart's appVersion decides it".to_string(),
        )
    });
    Some(Candidate {
        span,
        format: Format::Helm,
        text: Some(text),
        pin: PinSite::Field(pin),
        status,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scan::yaml::scan;

    #[test]
    fn split_images_with_and_without_digest_fields() {
        let src = "image:\n  registry: docker.io\n  repository: bitnami/nginx\n  tag: 1.25.3\n  digest: \"\"\nmetrics:\n  image:\n    repository: bitnami/exporter\n    tag: \"1.4\"\nsidecars:\n  image:\n    busybox:\n      repository: busybox\n      tag: 1.36\n      digest:\nappImage:\n  repository: acme/app\n  tag: \"\"\nnotanimage:\n  repository: x\nplain:\n  image: redis:7\n";
        let c = scan(src, Path::new("values.yaml")).unwrap();
        let texts: Vec<&str> = c
            .iter()
            .map(|c| c.text.as_deref().unwrap_or(&src[c.span.clone()]))
            .collect();
        assert_eq!(
            texts,
            [
                "docker.io/bitnami/nginx:1.25.3",
                "bitnami/exporter:1.4",
                "busybox:1.36",
                "acme/app",
                "redis:7"
            ]
        );
        let PinSite::Field(DigestField::Value(span)) = &c[0].pin else {
            panic!()
        };
        assert_eq!(span.start, src.find("\"\"").unwrap() + 1);
        assert!(span.is_empty());
        assert!(matches!(c[1].pin, PinSite::Field(DigestField::Missing(_))));
        let PinSite::Field(DigestField::Insert { at, .. }) = &c[2].pin else {
            panic!()
        };
        assert_eq!(
            &src[..*at],
            &src[..src.find("digest:\n").unwrap() + "digest:".len()]
        );
        assert_eq!(c[3].status.as_ref().map(|s| s.0), Some(Status::Templated));
    }
}
