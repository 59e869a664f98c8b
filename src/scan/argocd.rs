//! Argo CD: an `Application`'s `spec.source` and `spec.sources[]` (an
//! `ApplicationSet`'s under `spec.template.spec`) can override images two ways.
//! `kustomize.images` entries are strings `[ALIAS=]NAME[:TAG][@DIGEST]`, pinned by
//! appending `@sha256:…` to the part after `=`; one without a tag or digest keeps
//! each manifest's own tag (templated). Helm values come as `helm.valuesObject` (read
//! with the Helm values rules) or as `helm.values`, a string of YAML — usually a
//! literal block — read as YAML with its spans mapped back into the file
//! ([`super::embedded`]), so a pin lands inside the string.

use super::detect::Doc;
use super::embedded::{Embedded, string_text};
use super::generic::image_fields;
use super::{Candidate, Unread, helm};
use crate::finding::{DigestField, Format, PinSite, Status};
use crate::yaml::tree::{Node, get, is_mapping, items, pairs, scalar_span};

const FORMAT: Format = Format::ArgoCd;

pub fn scan(
    root: Node<'_>,
    src: &str,
    doc: Doc,
    out: &mut Vec<Candidate>,
    unread: &mut Vec<Unread>,
) {
    let mut spec = get(root, src, "spec");
    if doc == Doc::ArgoApplicationSet {
        spec = spec
            .and_then(|s| get(s, src, "template"))
            .and_then(|t| get(t, src, "spec"));
    }
    let Some(spec) = spec else { return };
    let sources = get(spec, src, "source")
        .into_iter()
        .chain(get(spec, src, "sources").into_iter().flat_map(items));
    for source in sources {
        if let Some(images) = get(source, src, "kustomize").and_then(|k| get(k, src, "images")) {
            kustomize_images(images, src, out);
        }
        let Some(helm) = get(source, src, "helm") else {
            continue;
        };
        if let Some(object) = get(helm, src, "valuesObject").filter(|v| is_mapping(*v)) {
            helm::values(object, src, FORMAT, out);
        }
        if let Some((key_start, values)) = pairs(helm, src)
            .find(|(k, _, _)| *k == "values")
            .and_then(|(_, pair, value)| Some((pair.start_byte()?, value?)))
        {
            values_string(values, src, key_start, out, unread);
        }
    }
}

/// `kustomize.images` strings: the reference is what follows `ALIAS=`.
fn kustomize_images(images: Node<'_>, src: &str, out: &mut Vec<Candidate>) {
    for span in items(images).filter_map(scalar_span) {
        let text = &src[span.clone()];
        let start = span.start + text.find('=').map_or(0, |i| i + 1);
        let reference = &src[start..span.end];
        let mut c = Candidate::inline(start..span.end, FORMAT);
        if !reference.contains([':', '@']) {
            c.status = Some((
                Status::Templated,
                "no tag: Argo CD keeps each manifest's own tag".into(),
            ));
        }
        out.push(c);
    }
}

/// `helm.values`: a string holding a values file.
fn values_string(
    values: Node<'_>,
    src: &str,
    key_start: usize,
    out: &mut Vec<Candidate>,
    unread: &mut Vec<Unread>,
) {
    let line_start = src[..key_start].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let not_read = |why: String| Unread {
        at: values.start_byte(),
        message: format!("`helm.values` not scanned: {why}"),
    };
    let embedded = match string_text(values, src, key_start - line_start) {
        Ok(e) => e,
        Err(why) => return unread.push(not_read(why)),
    };
    let mut found = Vec::new();
    let read = embedded.read(&mut |tree| {
        for root in tree.documents() {
            image_fields(
                root,
                &embedded.text,
                FORMAT,
                Doc::HelmValues.excluded_parents(),
                &mut found,
            );
            helm::values(root, &embedded.text, FORMAT, &mut found);
        }
    });
    if let Err(e) = read {
        let line = e.line();
        return unread.push(not_read(format!(
            "it does not parse as YAML (line {line} of the string)"
        )));
    }
    for c in found {
        match placed(c, &embedded) {
            Some(c) => out.push(c),
            None => unread.push(not_read("a reference in it runs over a line break".into())),
        }
    }
}

/// A candidate found in a string's text, moved to where its bytes are in the file.
fn placed(mut c: Candidate, embedded: &Embedded) -> Option<Candidate> {
    c.span = embedded.to_file(&c.span)?;
    c.pin = match c.pin {
        PinSite::Field(DigestField::Value(r)) => {
            PinSite::Field(DigestField::Value(embedded.to_file(&r)?))
        }
        PinSite::Field(DigestField::Insert { at, before, after }) => {
            PinSite::Field(DigestField::Insert {
                at: embedded.offset_to_file(at)?,
                before,
                after,
            })
        }
        other => other,
    };
    Some(c)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scan::detect::Flavor;
    use crate::scan::testing::texts;
    use crate::scan::yaml::read;

    fn found(src: &str) -> (Vec<Candidate>, Vec<Unread>) {
        let read = read(src, Path::new("app.yaml"), Flavor::Plain);
        assert!(read.refused.is_empty(), "{:?}", read.refused);
        let (mut c, u) = (read.candidates, read.unread);
        c.sort_by_key(|c| c.span.start);
        (c, u)
    }

    #[test]
    fn kustomize_image_strings() {
        let src = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  source:\n    repoURL: https://git.example.com/foo/bar.git\n    kustomize:\n      images:\n        - someImage=ghcr.io/acme/api:v2\n        - 'other=quay.io/o/c@sha256:8be5de38826b494a8ad1565b8d1eb49183d736d0277a89191bd1100d78479a42'\n        - nginx:1.25\n        - onlyname=registry.example/app\n";
        let (c, u) = found(src);
        assert!(u.is_empty());
        assert_eq!(
            texts(src, &c),
            [
                "ghcr.io/acme/api:v2",
                "quay.io/o/c@sha256:8be5de38826b494a8ad1565b8d1eb49183d736d0277a89191bd1100d78479a42",
                "nginx:1.25",
                "registry.example/app"
            ]
        );
        assert!(c.iter().all(|c| c.format == Format::ArgoCd));
        assert_eq!(c[3].status.as_ref().map(|s| s.0), Some(Status::Templated));
    }

    #[test]
    fn values_string_is_read_in_place() {
        let src = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nspec:\n  template:\n    spec:\n      sources:\n        - chart: podinfo\n          helm:\n            values: |\n              image:\n                repository: ghcr.io/stefanprodan/podinfo\n                tag: 6.5.0\n                digest: \"\"\n              cache:\n                image: redis:7 # cache\n              sidecarImage: busybox:1.36\n            valuesObject:\n              metrics:\n                image: {repository: bitnami/exporter, tag: '1.4'}\n";
        let (c, u) = found(src);
        assert!(u.is_empty(), "{u:?}");
        assert_eq!(
            texts(src, &c),
            [
                "ghcr.io/stefanprodan/podinfo:6.5.0",
                "redis:7",
                "busybox:1.36",
                "bitnami/exporter:1.4"
            ]
        );
        // Spans and the digest field point at the file's bytes.
        assert_eq!(&src[c[0].span.clone()], "ghcr.io/stefanprodan/podinfo");
        assert_eq!(&src[c[1].span.clone()], "redis:7");
        let PinSite::Field(DigestField::Value(d)) = &c[0].pin else {
            panic!("{:?}", c[0].pin)
        };
        assert_eq!(d.start, src.find("\"\"").unwrap() + 1);
        assert!(matches!(c[3].pin, PinSite::Field(DigestField::Missing(_))));
    }

    #[test]
    fn values_strings_that_cannot_be_read_are_named() {
        let src = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  source:\n    helm:\n      values: |\n        image: {{ .Values.image }\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  source:\n    helm:\n      values: >\n        image: nginx:1.25\n";
        let (c, u) = found(src);
        assert!(c.is_empty(), "{:?}", texts(src, &c));
        assert_eq!(u.len(), 2, "{u:?}");
        assert!(u[0].message.contains("does not parse"), "{u:?}");
        assert!(u[1].message.contains("folded"), "{u:?}");
        assert_eq!(u[1].at, src.rfind('>').unwrap());
    }

    #[test]
    fn one_line_values_string() {
        let src = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  source:\n    helm:\n      values: 'image: nginx:1.25'\n";
        let (c, u) = found(src);
        assert!(u.is_empty());
        assert_eq!(texts(src, &c), ["nginx:1.25"]);
        assert_eq!(c[0].span.start, src.find("nginx").unwrap());
    }
}
