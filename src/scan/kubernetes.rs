//! Kubernetes pod specs: the generic rule finds `containers[].image` (and init and
//! ephemeral containers); an image volume (`volumes[].image.reference`, Kubernetes
//! 1.31+) mounts the content of an OCI image, pulled like a container's, so its
//! `reference` is a finding in every pod spec of every Kubernetes object.

use super::Candidate;
use crate::finding::Format;
use crate::yaml::tree::{Node, all_pairs, get, is_mapping, items, scalar_span};

pub fn image_volumes(root: Node<'_>, src: &str, format: Format, out: &mut Vec<Candidate>) {
    for (key, value) in all_pairs(root, src) {
        if key != "volumes" {
            continue;
        }
        for volume in items(value) {
            if let Some(image) = get(volume, src, "image").filter(|i| is_mapping(*i))
                && let Some(span) = get(image, src, "reference").and_then(scalar_span)
            {
                out.push(Candidate::inline(span, format));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Format;
    use crate::scan::testing::found;

    #[test]
    fn image_volume_references_in_pods_and_templates() {
        let src = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - image: nginx:1.25\n        volumeMounts: [{name: data, mountPath: /data}]\n      volumes:\n      - name: data\n        image:\n          reference: quay.io/crio/artifact:v2\n          pullPolicy: IfNotPresent\n      - name: cfg\n        configMap: {name: cfg}\n      - {name: tools, image: {reference: 'busybox:1.36'}}\n";
        assert_eq!(
            found(src, "deploy.yaml", Format::Kubernetes),
            ["nginx:1.25", "quay.io/crio/artifact:v2", "busybox:1.36"]
        );
    }

    #[test]
    fn compose_volumes_are_not_image_volumes() {
        let src =
            "services:\n  a:\n    image: redis:7\nvolumes:\n  - image:\n      reference: nope:1\n";
        assert_eq!(found(src, "compose.yaml", Format::Compose), ["redis:7"]);
    }
}
