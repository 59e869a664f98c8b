//! Crossplane packages (`pkg.crossplane.io`): a `Provider`, `Configuration` or
//! `Function` installs the OCI image named by `spec.package` (on `xpkg.upbound.io`
//! and other registries). Other kinds of the group (`DeploymentRuntimeConfig`) hold
//! pod templates, read by the generic rule.

use super::Candidate;
use crate::finding::Format;
use crate::yaml::tree::{Node, get, scalar_span, scalar_text};

pub fn scan(root: Node<'_>, src: &str, out: &mut Vec<Candidate>) {
    let kind = get(root, src, "kind").and_then(|k| scalar_text(k, src));
    if !matches!(kind, Some("Provider" | "Configuration" | "Function")) {
        return;
    }
    if let Some(span) = get(root, src, "spec")
        .and_then(|s| get(s, src, "package"))
        .and_then(scalar_span)
    {
        out.push(Candidate::inline(span, Format::Crossplane));
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Format;
    use crate::scan::testing::found;

    #[test]
    fn packages_of_providers_configurations_and_functions() {
        let src = "apiVersion: pkg.crossplane.io/v1\nkind: Provider\nmetadata: {name: provider-nop}\nspec:\n  package: xpkg.upbound.io/crossplane-contrib/provider-nop:v0.2.0\n  ignoreCrossplaneConstraints: true\n---\napiVersion: pkg.crossplane.io/v1beta1\nkind: Function\nspec:\n  package: \"xpkg.upbound.io/crossplane-contrib/function-patch-and-transform:v0.7.0\"\n---\napiVersion: pkg.crossplane.io/v1\nkind: Configuration\nspec: {package: 'xpkg.upbound.io/upbound/platform-ref-aws:v0.6.0'}\n---\napiVersion: pkg.crossplane.io/v1\nkind: Provider\nspec:\n  package: null\n---\napiVersion: pkg.crossplane.io/v1beta1\nkind: DeploymentRuntimeConfig\nspec:\n  package: not-a-package:1\n  deploymentTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: package-runtime\n            image: ghcr.io/acme/runtime:1\n---\napiVersion: v1\nkind: ConfigMap\ndata:\n  package: nope:1\n";
        assert_eq!(
            found(src, "packages.yaml", Format::Crossplane),
            [
                "xpkg.upbound.io/crossplane-contrib/provider-nop:v0.2.0",
                "xpkg.upbound.io/crossplane-contrib/function-patch-and-transform:v0.7.0",
                "xpkg.upbound.io/upbound/platform-ref-aws:v0.6.0",
                "ghcr.io/acme/runtime:1",
            ]
        );
    }
}
