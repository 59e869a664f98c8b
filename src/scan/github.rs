//! GitHub Actions: workflow files (`.github/workflows/*.yml`) name images in
//! `jobs.*.container` (a string, or `{image: …}` which the generic rule finds),
//! `jobs.*.services.*.image` and `steps[*].uses: docker://IMAGE`; actions (`action.yml`)
//! in `runs.image: docker://IMAGE`, where any other value is a Dockerfile to build.
//! `uses: owner/repo@ref` is an action, not an image. `${{ … }}` is templated.

use super::Candidate;
use crate::finding::Format;
use crate::yaml::tree::{Node, get, items, pairs, scalar_span};

const DOCKER_SCHEME: &str = "docker://";

pub fn workflow(root: Option<Node<'_>>, src: &str, out: &mut Vec<Candidate>) {
    let Some(root) = root else { return };
    let Some(jobs) = get(root, src, "jobs") else {
        return;
    };
    for (_, _, job) in pairs(jobs, src) {
        let Some(job) = job else { continue };
        if let Some(span) = get(job, src, "container").and_then(scalar_span) {
            out.push(Candidate::inline(span, Format::GithubActions));
        }
        if let Some(steps) = get(job, src, "steps") {
            docker_steps(steps, src, out);
        }
    }
}

pub fn action(root: Option<Node<'_>>, src: &str, out: &mut Vec<Candidate>) {
    // `runs.image` is `docker://IMAGE` or a Dockerfile path to build.
    out.retain_mut(|c| match src[c.span.clone()].strip_prefix(DOCKER_SCHEME) {
        Some(_) => {
            c.span.start += DOCKER_SCHEME.len();
            true
        }
        None => false,
    });
    if let Some(steps) = root
        .and_then(|r| get(r, src, "runs"))
        .and_then(|runs| get(runs, src, "steps"))
    {
        docker_steps(steps, src, out);
    }
}

/// `uses: docker://IMAGE` steps.
fn docker_steps(steps: Node<'_>, src: &str, out: &mut Vec<Candidate>) {
    for step in items(steps) {
        if let Some(span) = get(step, src, "uses").and_then(scalar_span)
            && src[span.clone()].starts_with(DOCKER_SCHEME)
        {
            out.push(Candidate::inline(
                span.start + DOCKER_SCHEME.len()..span.end,
                Format::GithubActions,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::scan::yaml::scan;

    fn found<'s>(src: &'s str, path: &str) -> Vec<&'s str> {
        let mut c = scan(src, Path::new(path)).unwrap();
        c.sort_by_key(|c| c.span.start);
        c.into_iter().map(|c| &src[c.span]).collect()
    }

    #[test]
    fn workflow_images() {
        let src = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    container: node:20\n    services:\n      db:\n        image: postgres:16\n    steps:\n      - uses: actions/checkout@v4\n      - uses: docker://alpine:3.19\n      - uses: 'docker://ghcr.io/x/y:1'\n  b:\n    container:\n      image: ${{ matrix.image }}\n";
        assert_eq!(
            found(src, ".github/workflows/ci.yml"),
            [
                "node:20",
                "postgres:16",
                "alpine:3.19",
                "ghcr.io/x/y:1",
                "${{ matrix.image }}"
            ]
        );
    }

    #[test]
    fn action_images() {
        let docker = "name: x\nruns:\n  using: docker\n  image: docker://debian:12\n";
        assert_eq!(found(docker, "action.yml"), ["debian:12"]);
        let build = "name: x\nruns:\n  using: docker\n  image: Dockerfile\n";
        assert!(found(build, "action.yml").is_empty());
        let composite = "runs:\n  using: composite\n  steps:\n    - uses: docker://busybox:1\n    - uses: actions/cache@v4\n";
        assert_eq!(found(composite, "action.yaml"), ["busybox:1"]);
    }
}
