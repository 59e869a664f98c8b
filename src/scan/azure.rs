//! Azure Pipelines (`azure-pipelines*.yml`, YAML under `.azure-pipelines/` or
//! `.azuredevops/`): `resources.containers[].image` and `container: {image: …}` (the
//! generic rule), and a job's `container:` or a `services:` entry given as a string.
//! Such a string is either the name of a container resource (`container: linux`,
//! `services: {redis: redis}`) or an image; Azure looks the name up first, and a name
//! can be defined in a template imagepin does not see, so only a string that cannot
//! be a resource name (it has a `:`, `/`, `.` or `@`) is taken as an image. A step's
//! `target:` names a container resource too. `variables:` and `env:` are never images.

use super::Candidate;
use crate::finding::Format;
use crate::yaml::tree::{Node, Step, get, is_mapping, pairs, scalar_span, scalar_text};

pub fn scan(root: Node<'_>, src: &str, out: &mut Vec<Candidate>) {
    let mut stack = vec![Step::Node(root)];
    while let Some(step) = stack.pop() {
        if let Step::Node(node) = step
            && is_mapping(node)
        {
            // A container resource (`container: NAME` beside `image:`) defines a name.
            let defines_name = get(node, src, "image").is_some();
            for (key, _, value) in pairs(node, src) {
                let Some(value) = value else { continue };
                match key {
                    "container" if !defines_name => image_string(value, src, out),
                    "services" => pairs(value, src)
                        .filter_map(|(_, _, v)| v)
                        .for_each(|v| image_string(v, src, out)),
                    _ => {}
                }
            }
        }
        let below_target = matches!(step, Step::Pair(p)
            if p.key().and_then(|k| scalar_text(k, src)) == Some("target"));
        if !below_target {
            step.children_rev(|c| stack.push(c));
        }
    }
}

/// A `container:` or service string that names an image rather than a resource.
fn image_string(value: Node<'_>, src: &str, out: &mut Vec<Candidate>) {
    if let Some(span) = scalar_span(value)
        && src[span.clone()].contains([':', '/', '.', '@', '$'])
    {
        out.push(Candidate::inline(span, Format::AzurePipelines));
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Format;
    use crate::scan::testing;

    fn found<'s>(src: &'s str, path: &str) -> Vec<&'s str> {
        testing::found(src, path, Format::AzurePipelines)
    }

    #[test]
    fn containers_resources_and_services() {
        let src = "resources:\n  containers:\n  - container: linux\n    image: ubuntu:22.04\n  - container: redis\n    image: redis:7\n    env: {image: not-an-image:1}\nvariables:\n  image: not-an-image:2\njobs:\n- job: a\n  container: linux\n  services:\n    cache: redis\n    db: postgres:16\n    mq: {image: rabbitmq:3}\n  steps:\n  - script: make\n    target:\n      container: linux\n- job: b\n  container: mcr.microsoft.com/dotnet/sdk:8.0\n- job: c\n  container:\n    image: node:20\n    options: --cpus 2\n- job: d\n  container: ${{ parameters.image }}\n";
        assert_eq!(
            found(src, "azure-pipelines.yml"),
            [
                "ubuntu:22.04",
                "redis:7",
                "postgres:16",
                "rabbitmq:3",
                "mcr.microsoft.com/dotnet/sdk:8.0",
                "node:20",
                "${{ parameters.image }}"
            ]
        );
    }

    #[test]
    fn templates_under_the_pipelines_folder() {
        let src = "jobs:\n- job: build\n  container: golang:1.22\n  steps: [{script: go build}]\n";
        assert_eq!(
            found(src, ".azure-pipelines/templates/build.yml"),
            ["golang:1.22"]
        );
    }
}
