//! Tekton (`tekton.dev`, `triggers.tekton.dev`): steps, sidecars and step templates
//! name images under `image:` (the generic rule). Tasks and pipelines can also come
//! from OCI bundles: `taskRef.bundle` and `pipelineRef.bundle`, or a `resolver:
//! bundles` reference whose `params` (or older `resource`) entry named `bundle`
//! holds the image in its `value` — wherever the reference is (pipeline tasks,
//! `finally`, inline `pipelineSpec`, trigger `resourcetemplates`, `List` items).

use super::Candidate;
use crate::finding::Format;
use crate::yaml::tree::{Node, all_pairs, field_text, get, items, scalar_span};

pub fn bundles(root: Node<'_>, src: &str, out: &mut Vec<Candidate>) {
    for (key, reference) in all_pairs(root, src) {
        if !matches!(key, "taskRef" | "pipelineRef" | "ref") {
            continue;
        }
        // `bundle:` itself is a task's or pipeline's field (a step's `ref` has none).
        if key != "ref"
            && let Some(span) = get(reference, src, "bundle").and_then(scalar_span)
        {
            out.push(Candidate::inline(span, Format::Tekton));
        }
        if field_text(reference, src, "resolver") != Some("bundles") {
            continue;
        }
        for list in ["params", "resource"] {
            for param in get(reference, src, list).into_iter().flat_map(items) {
                if field_text(param, src, "name") == Some("bundle")
                    && let Some(span) = get(param, src, "value").and_then(scalar_span)
                {
                    out.push(Candidate::inline(span, Format::Tekton));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Format;
    use crate::scan::testing;

    fn found(src: &str) -> Vec<&str> {
        testing::found(src, "pipeline.yaml", Format::Tekton)
    }

    #[test]
    fn bundles_everywhere_a_reference_can_be() {
        let src = "apiVersion: tekton.dev/v1\nkind: Pipeline\nspec:\n  tasks:\n  - name: a\n    taskRef:\n      bundle: gcr.io/tekton-releases/catalog/upstream/git-clone:0.9\n      name: git-clone\n  - name: b\n    taskRef:\n      resolver: bundles\n      params:\n      - {name: name, value: buildah}\n      - name: bundle\n        value: ghcr.io/acme/tools:1\n      - {name: kind, value: task}\n  - name: c\n    taskSpec:\n      steps:\n      - image: alpine:3.19\n      - ref:\n          resolver: bundles\n          params: [{name: bundle, value: 'ghcr.io/acme/step:2'}]\n  finally:\n  - name: d\n    taskRef: {resolver: git, params: [{name: bundle, value: not-a-bundle}]}\n";
        assert_eq!(
            found(src),
            [
                "gcr.io/tekton-releases/catalog/upstream/git-clone:0.9",
                "ghcr.io/acme/tools:1",
                "alpine:3.19",
                "ghcr.io/acme/step:2"
            ]
        );
    }

    #[test]
    fn bundles_in_a_list_of_objects() {
        let src = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: tekton.dev/v1\n  kind: PipelineRun\n  spec:\n    pipelineRef:\n      bundle: ghcr.io/acme/pipe:1\n";
        assert_eq!(found(src), ["ghcr.io/acme/pipe:1"]);
    }

    #[test]
    fn triggers_runs_and_old_resource_lists() {
        let src = "apiVersion: triggers.tekton.dev/v1beta1\nkind: TriggerTemplate\nspec:\n  resourcetemplates:\n  - apiVersion: tekton.dev/v1\n    kind: PipelineRun\n    spec:\n      pipelineRef:\n        bundle: ghcr.io/acme/pipe:1\n---\napiVersion: tekton.dev/v1beta1\nkind: TaskRun\nspec:\n  taskRef:\n    resolver: bundles\n    resource:\n    - name: bundle\n      value: ghcr.io/acme/old:3\n  podTemplate: {}\n---\napiVersion: tekton.dev/v1\nkind: Pipeline\nspec:\n  tasks:\n  - taskRef: {bundle: ''}\n  - taskRef: {bundle: true}\n";
        assert_eq!(found(src), ["ghcr.io/acme/pipe:1", "ghcr.io/acme/old:3"]);
    }
}
