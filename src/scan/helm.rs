//! Helm values (`values*.yaml`, and the values sections of Flux `HelmRelease`s and
//! Argo CD `Application`s): charts split an image into fields,
//! `image: {registry?, repository, tag, digest?}`, also nested (`image.busybox.*`) or
//! under keys ending in `image` (`initImage:`). The finding is the reference those fields
//! make. When a `digest` field exists (often `""`) it is filled in place; when none
//! exists the finding is reported with a note and left alone: a chart reads only the
//! keys its templates name, so imagepin never invents one. A key that names an image
//! (`sidecarImage:`, `inline_image:`) whose value is a whole reference with a tag or
//! digest is a finding too (`image:` itself is the generic rule's); `imagePullPolicy`,
//! `imagePullSecrets` and `imageTag` name no image.

use super::Candidate;
use super::generic::looks_like_file;
use crate::finding::{DigestField, Format, PinSite, Status, classify};
use crate::yaml::tree::{
    Kind, Node, Step, assemble, field_text, get, is_mapping, items, pairs, scalar_span,
    scalar_text, value_span,
};

/// Every Helm values rule over the values in `root`, reported as `format`.
pub fn values(root: Node<'_>, src: &str, format: Format, out: &mut Vec<Candidate>) {
    split_images(root, src, format, out);
    named_images(root, src, format, out);
}

/// Whether a key names an image: `image` (any case) or a name ending in `Image`,
/// `_image` or `-image`.
fn is_image_key(key: &str) -> bool {
    key.eq_ignore_ascii_case("image")
        || ["Image", "_image", "-image"]
            .iter()
            .any(|s| key.ends_with(s))
}

/// `image: {registry?, repository, tag, digest?}` and its nested forms.
fn split_images(root: Node<'_>, src: &str, format: Format, out: &mut Vec<Candidate>) {
    // (mapping node, whether it is the value of an image-like key)
    let mut stack = vec![(root, false)];
    while let Some((node, under_image)) = stack.pop() {
        if under_image && get(node, src, "repository").is_some() {
            if let Some(c) = split_image(node, src, format) {
                out.push(c);
            }
            continue;
        }
        for (key, _, value) in pairs(node, src) {
            let Some(value) = value else { continue };
            if is_mapping(value) {
                // Below an image-like key, any mapping with a `repository` is an image
                // (`image.busybox.repository`).
                stack.push((value, under_image || is_image_key(key)));
            } else {
                for item in items(value).filter(|i| is_mapping(*i)) {
                    stack.push((item, false));
                }
            }
        }
    }
}

/// Scalar values of keys that name an image (other than `image`), when they are a
/// whole reference: a tag or a digest says so (`sidecarImage: busybox:1.36`); a bare
/// word under such a key may be anything.
fn named_images(root: Node<'_>, src: &str, format: Format, out: &mut Vec<Candidate>) {
    let mut stack = vec![(Step::Node(root), false)];
    while let Some((step, excluded)) = stack.pop() {
        let mut below = excluded;
        if let Step::Pair(pair) = step {
            let key = pair.key().and_then(|k| scalar_text(k, src));
            // Metadata (`annotations`, `podLabels` …) describes something else.
            below = excluded
                || key.is_some_and(|k| {
                    ["annotations", "labels", "Annotations", "Labels"]
                        .iter()
                        .any(|m| k.ends_with(m))
                });
            if let Some(key) = key
                && !below
                && key != "image"
                && is_image_key(key)
                && let Some(span) = pair.value().and_then(scalar_span)
                && is_whole_reference(&src[span.clone()])
            {
                out.push(Candidate::inline(span, format));
            }
        }
        step.children_rev(|c| stack.push((c, below)));
    }
}

/// A reference with a tag or digest (or one built from variables), not a file or URL.
fn is_whole_reference(text: &str) -> bool {
    if looks_like_file(text) {
        return false;
    }
    matches!(
        classify(text).0,
        Status::Mutable | Status::Pinned | Status::Templated
    ) && text.contains([':', '@'])
}

fn split_image(node: Node<'_>, src: &str, format: Format) -> Option<Candidate> {
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
    // Some charts call the tag `version`.
    let tag_field = ["tag", "version"]
        .into_iter()
        .find_map(|key| text_of(key).map(|tag| (key, tag)));
    let tag = tag_field.map(|(_, tag)| tag);
    let digest = text_of("digest");
    let text = assemble(&name, tag, digest);
    let pin = match tag_field.and_then(|(key, tag)| misread_tag(node, src, key, tag)) {
        Some(why) => DigestField::Missing(why),
        None => digest_field(node, src),
    };
    let status = (tag.is_none() && digest.is_none()).then(|| {
        (
            Status::Templated,
            "no tag: the chart's appVersion decides it".to_string(),
        )
    });
    Some(Candidate {
        span,
        format,
        text: Some(text),
        pin: PinSite::Field(pin),
        status,
    })
}

/// Why a tag YAML reads as a number cannot be pinned: Helm renders it as Go prints a
/// float64, and where that is not the tag written (`tag: 1.10` deploys `:1.1`), the
/// digest of the tag written would not be the image deployed.
fn misread_tag(node: Node<'_>, src: &str, key: &str, tag: &str) -> Option<String> {
    let value = get(node, src, key)?;
    if !matches!(value.kind(), Kind::Plain { string: false }) {
        return None;
    }
    let rendered = helm_renders_number(tag)?;
    (rendered != tag).then(|| {
        format!(
            "`{key}: {tag}` is a number in YAML, which Helm renders as `{rendered}`: quote it (`{key}: \"{tag}\"`) so that the tag pinned is the tag deployed"
        )
    })
}

/// Where the digest of split image fields goes: the `digest` field's value, or after
/// its key when it has none; never a field imagepin would have to invent.
fn digest_field(node: Node<'_>, src: &str) -> DigestField {
    match pairs(node, src).find(|(k, _, _)| *k == "digest") {
        Some((_, _, Some(value))) => match value_span(value) {
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
    }
}

/// The text Helm renders for a plain scalar YAML reads as a number: Helm's values
/// pass through JSON, so every number is a float64, printed as Go's `%v` prints one
/// (shortest digits; `1e+06` form from an exponent of 6 up or below -4). `None` when
/// the text is not a decimal number (hex, octal, `.inf`: left as written).
fn helm_renders_number(text: &str) -> Option<String> {
    let plain = text.strip_prefix('+').unwrap_or(text);
    if !plain
        .bytes()
        .all(|b| b.is_ascii_digit() || b"-.eE+".contains(&b))
    {
        return None;
    }
    let f: f64 = plain.parse().ok().filter(|f: &f64| f.is_finite())?;
    if f == 0.0 {
        return Some("0".into());
    }
    // Rust's `{:e}` gives the shortest digits that read back as `f`, as Go's does.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e')?;
    let exp: i32 = exp.parse().ok()?;
    Some(if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{f}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::testing::{candidates, texts};

    #[test]
    fn split_images_with_and_without_digest_fields() {
        let src = "image:\n  registry: docker.io\n  repository: bitnami/nginx\n  tag: 1.25.3\n  digest: \"\"\nmetrics:\n  image:\n    repository: bitnami/exporter\n    tag: \"1.4\"\nsidecars:\n  image:\n    busybox:\n      repository: busybox\n      tag: 1.36\n      digest:\nappImage:\n  repository: acme/app\n  tag: \"\"\nnotanimage:\n  repository: x\nplain:\n  image: redis:7\n";
        let c = candidates(src, "values.yaml");
        assert_eq!(
            texts(src, &c),
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

    #[test]
    fn a_tag_helm_renders_otherwise_is_not_pinned() {
        for (written, renders) in [
            ("1.10", Some("1.1")),
            ("20240101", Some("2.0240101e+07")),
            ("1.0", Some("1")),
            ("010", Some("10")),
            ("7", Some("7")),
            ("3.19", Some("3.19")),
            ("123456", Some("123456")),
            ("1000000", Some("1e+06")),
            ("0.00001", Some("1e-05")),
            ("0x1f", None),
            (".inf", None),
        ] {
            assert_eq!(
                helm_renders_number(written).as_deref(),
                renders,
                "{written}"
            );
        }
        let src = "a:\n  image:\n    repository: nginx\n    tag: 1.10\n    digest: \"\"\nb:\n  image:\n    repository: redis\n    tag: 7\n    digest: \"\"\nc:\n  image:\n    repository: alpine\n    tag: \"1.10\"\n    digest: \"\"\n";
        let c = candidates(src, "values.yaml");
        assert_eq!(texts(src, &c), ["nginx:1.10", "redis:7", "alpine:1.10"]);
        let PinSite::Field(DigestField::Missing(why)) = &c[0].pin else {
            panic!("{:?}", c[0].pin)
        };
        assert!(why.contains("renders as `1.1`"), "{why}");
        assert!(matches!(c[1].pin, PinSite::Field(DigestField::Value(_))));
        assert!(matches!(c[2].pin, PinSite::Field(DigestField::Value(_))));
    }

    #[test]
    fn keys_that_name_images_and_keys_that_do_not() {
        let src = "inline_image: docker.io/library/nginx:1.18-alpine\nsidecarImage: busybox:1.36\nkubectl-image: 'bitnami/kubectl:1.29'\nimagePullPolicy: IfNotPresent\nimagePullSecrets: [regcred]\nimageTag: '1.2'\nbareImage: bitnami/kubectl\nbackgroundImage: ./logo.png:1\ncoreImage:\n  registry: docker.io\n  repository: bitnami/harbor-core\n  version: 2.1.3\npinned:\n  - image:\n      repository: bitnami/postgresql\n      tag: 11.5.0@sha256:4762726f1471ef048dd807afdc0e19265e95ffdcc7cb4a34891f680290022809\npodAnnotations:\n  sidecarImage: nope:1\n";
        let c = candidates(src, "values.yaml");
        assert_eq!(
            texts(src, &c),
            [
                "docker.io/library/nginx:1.18-alpine",
                "busybox:1.36",
                "bitnami/kubectl:1.29",
                "docker.io/bitnami/harbor-core:2.1.3",
                "bitnami/postgresql:11.5.0@sha256:4762726f1471ef048dd807afdc0e19265e95ffdcc7cb4a34891f680290022809"
            ]
        );
        assert!(c.iter().all(|c| c.format == Format::Helm));
        // Only in values: the same keys elsewhere are not read.
        let other = candidates(src, "settings.yaml");
        assert!(other.is_empty(), "{other:?}");
    }
}
