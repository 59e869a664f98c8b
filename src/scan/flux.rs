//! Flux: a `HelmRelease` (`helm.toolkit.fluxcd.io`) carries Helm values in
//! `spec.values`, read with the Helm values rules, and may rewrite images after
//! rendering through `spec.postRenderers[].kustomize.images`; a `Kustomization`
//! (`kustomize.toolkit.fluxcd.io`) lists `spec.images`. Both image lists are
//! kustomize's entries, pinned by their `digest:` field. `valuesFrom` names
//! ConfigMaps and Secrets: not in the file, not read. An `OCIRepository`
//! (`source.toolkit.fluxcd.io`) pulls the artifact at `spec.url` (`oci://…`) by
//! `spec.ref`: its `tag`, pinned by filling in or adding `ref.digest` (which Flux
//! prefers to the tag); a `semver` range is Flux's to pick (templated).

use super::{Candidate, helm, kustomize};
use crate::finding::{DigestField, Format, PinSite, Status};
use crate::yaml::tree::{Node, assemble, field_text, get, is_mapping, items, scalar_span};

const OCI_SCHEME: &str = "oci://";

pub fn helm_release(root: Node<'_>, src: &str, out: &mut Vec<Candidate>) {
    let Some(spec) = get(root, src, "spec") else {
        return;
    };
    if let Some(values) = get(spec, src, "values").filter(|v| is_mapping(*v)) {
        helm::values(values, src, Format::Flux, out);
    }
    for renderer in get(spec, src, "postRenderers").into_iter().flat_map(items) {
        if let Some(images) = get(renderer, src, "kustomize").and_then(|k| get(k, src, "images")) {
            kustomize::entries(images, src, Format::Flux, out);
        }
    }
}

pub fn kustomization(root: Node<'_>, src: &str, out: &mut Vec<Candidate>) {
    if let Some(images) = get(root, src, "spec").and_then(|s| get(s, src, "images")) {
        kustomize::entries(images, src, Format::Flux, out);
    }
}

pub fn oci_repository(root: Node<'_>, src: &str, out: &mut Vec<Candidate>) {
    let Some(spec) = get(root, src, "spec") else {
        return;
    };
    let Some(url) = get(spec, src, "url").and_then(scalar_span) else {
        return;
    };
    if !src[url.clone()].starts_with(OCI_SCHEME) {
        return;
    }
    let span = url.start + OCI_SCHEME.len()..url.end;
    let reference = get(spec, src, "ref").filter(|r| is_mapping(*r));
    let field = |key: &str| reference.and_then(|r| field_text(r, src, key));
    let (tag, digest) = (field("tag"), field("digest"));
    let status = (field("semver").is_some() && digest.is_none()).then(|| {
        (
            Status::Templated,
            "a semver range: Flux picks the tag".to_string(),
        )
    });
    let pin = match reference {
        Some(r) => kustomize::digest_field(r, src),
        None => DigestField::Missing(
            "no `ref:`; add `ref: {tag: …}` to name what Flux pulls (imagepin does not invent keys)"
                .into(),
        ),
    };
    out.push(Candidate {
        text: Some(assemble(&src[span.clone()], tag, digest)),
        span,
        format: Format::Flux,
        pin: PinSite::Field(pin),
        status,
    });
}

#[cfg(test)]
mod tests {
    use crate::finding::{DigestField, Format, PinSite, Status};
    use crate::scan::testing::{candidates, texts};

    #[test]
    fn helm_release_values_and_post_renderers() {
        let src = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\n  annotations:\n    image: not-me:1\nspec:\n  chart:\n    spec: {chart: podinfo, version: '6.x'}\n  values:\n    image:\n      repository: ghcr.io/stefanprodan/podinfo\n      tag: 6.5.0\n      digest: \"\"\n    sidecarImage: busybox:1.36\n    imagePullPolicy: IfNotPresent\n    imageTag: \"2\"\n    redis:\n      image: redis:7\n  postRenderers:\n    - kustomize:\n        images:\n          - name: nginx\n            newTag: \"1.25\"\n        patches: []\n";
        let c = candidates(src, "release.yaml");
        assert_eq!(
            texts(src, &c),
            [
                "ghcr.io/stefanprodan/podinfo:6.5.0",
                "busybox:1.36",
                "redis:7",
                "nginx:1.25"
            ]
        );
        assert!(c.iter().all(|c| c.format == Format::Flux));
        let PinSite::Field(DigestField::Value(span)) = &c[0].pin else {
            panic!("{:?}", c[0].pin)
        };
        assert_eq!(span.start, src.find("\"\"").unwrap() + 1);
        assert!(matches!(
            c[3].pin,
            PinSite::Field(DigestField::Insert { .. })
        ));
    }

    #[test]
    fn kustomization_images() {
        let src = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps}\nspec:\n  path: ./apps\n  images:\n  - name: podinfo\n    newName: my-registry/podinfo\n    newTag: v1\n  - name: podinfo\n    newName: my-podinfo\n  - {name: redis, digest: 'sha256:aaaa'}\n";
        let c = candidates(src, "apps.yaml");
        assert_eq!(
            texts(src, &c),
            ["my-registry/podinfo:v1", "my-podinfo", "redis@sha256:aaaa"]
        );
        assert_eq!(c[1].status.as_ref().map(|s| s.0), Some(Status::Templated));
        assert!(c.iter().all(|c| c.format == Format::Flux));
    }

    #[test]
    fn other_groups_are_not_flux() {
        // kustomize's own Kustomization (kustomize.config.k8s.io) in another file name.
        let src = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n- name: nginx\n  newTag: '1'\nspec:\n  images:\n  - name: redis\n    newTag: '7'\n";
        assert!(candidates(src, "other.yaml").is_empty());
    }

    #[test]
    fn oci_repositories_by_tag_digest_and_range() {
        let src = "apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\nmetadata: {name: podinfo}\nspec:\n  interval: 5m\n  url: oci://ghcr.io/stefanprodan/manifests/podinfo\n  ref:\n    tag: 6.5.0 # release\n---\napiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\nspec:\n  url: oci://ghcr.io/acme/app\n  ref: {tag: v1, digest: 'sha256:aaaa'}\n---\napiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\nspec:\n  url: oci://ghcr.io/acme/range\n  ref:\n    semver: '>=1.0.0'\n---\napiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\nspec:\n  url: oci://ghcr.io/acme/none\n---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nspec:\n  url: https://github.com/acme/repo\n  ref: {tag: v1}\n";
        let c = candidates(src, "sources.yaml");
        assert_eq!(
            texts(src, &c),
            [
                "ghcr.io/stefanprodan/manifests/podinfo:6.5.0",
                "ghcr.io/acme/app:v1@sha256:aaaa",
                "ghcr.io/acme/range",
                "ghcr.io/acme/none"
            ]
        );
        assert_eq!(
            &src[c[0].span.clone()],
            "ghcr.io/stefanprodan/manifests/podinfo"
        );
        assert_eq!(
            c[0].pin,
            PinSite::Field(DigestField::Insert {
                at: src.find(" # release").unwrap() + " # release".len(),
                before: "\n    digest: ".into(),
                after: String::new()
            })
        );
        let PinSite::Field(DigestField::Value(d)) = &c[1].pin else {
            panic!("{:?}", c[1].pin)
        };
        assert_eq!(&src[d.clone()], "sha256:aaaa");
        assert_eq!(c[2].status.as_ref().map(|s| s.0), Some(Status::Templated));
        assert!(matches!(c[3].pin, PinSite::Field(DigestField::Missing(_))));
    }
}
