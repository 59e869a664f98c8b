//! Which rules read a YAML document: the generic `image:` rule (with the keys under
//! which an `image` is never one this document pulls) and the rules of what the
//! document is ([`Doc`], decided in [`super::detect`]). Each format's rules live in
//! a file of their own; this is the one place that says which apply where.

use std::path::Path;

use super::detect::{Doc, Flavor, document};
use super::generic::image_fields;
use super::{Candidate, Unread};
use crate::yaml::tree::Node;

/// Find the references in one document of a file at `path` of `flavor`.
pub fn apply(
    root: Node<'_>,
    src: &str,
    path: &Path,
    flavor: Flavor,
    out: &mut Vec<Candidate>,
    unread: &mut Vec<Unread>,
) {
    let doc = document(root, src, flavor);
    if doc == Doc::Kbld {
        // kbld's configuration names images to match and rewrite; it pulls none.
        return;
    }
    let format = doc.format();
    let mut found = Vec::new();
    image_fields(root, src, format, doc.excluded_parents(), &mut found);
    if doc.is_kubernetes() {
        super::kubernetes::image_volumes(root, src, format, &mut found);
        // Tekton resources also come inside other objects (a `v1` `List`).
        super::tekton::bundles(root, src, &mut found);
    }
    match doc {
        Doc::GithubWorkflow => super::github::workflow(Some(root), src, &mut found),
        Doc::GithubAction => super::github::action(Some(root), src, &mut found),
        Doc::GitlabCi => super::gitlab::scan(root, src, &mut found),
        Doc::CloudBuild => super::cloudbuild::scan(Some(root), src, &mut found),
        Doc::Kustomization => super::kustomize::scan(Some(root), src, &mut found),
        Doc::HelmValues => super::helm::values(root, src, format, &mut found),
        Doc::FluxHelmRelease => super::flux::helm_release(root, src, &mut found),
        Doc::FluxKustomization => super::flux::kustomization(root, src, &mut found),
        Doc::FluxOciRepository => super::flux::oci_repository(root, src, &mut found),
        Doc::ArgoApplication | Doc::ArgoApplicationSet => {
            super::argocd::scan(root, src, doc, &mut found, unread)
        }
        Doc::Crossplane => super::crossplane::scan(root, src, &mut found),
        Doc::Skaffold => super::skaffold::mark_artifacts(root, src, &mut found),
        Doc::Bitbucket => super::bitbucket::scan(root, src, &mut found),
        Doc::Azure => super::azure::scan(root, src, &mut found),
        Doc::Cloudformation => super::ecs::cloudformation(root, src, &mut found),
        Doc::Compose => super::compose::mark_build_outputs(root, src, path, &mut found),
        Doc::Yaml
        | Doc::Kubernetes
        | Doc::Tekton
        | Doc::Circleci
        | Doc::Drone
        | Doc::Ecs
        | Doc::Kbld => {}
    }
    // `scratch` is Docker's name for "no base image": nothing to pull.
    found.retain(|c| c.text.is_some() || &src[c.span.clone()] != "scratch");
    out.extend(found);
}
