//! GitHub Actions: workflow files (`.github/workflows/*.yml`) name images in
//! `jobs.*.container` (a string, or `{image: …}` which the generic rule finds),
//! `jobs.*.services.*` (a string, or `{image: …}`) and `steps[*].uses: docker://IMAGE`;
//! actions (`action.yml`) in `runs.image: docker://IMAGE`, where any other value is a
//! Dockerfile to build. `uses: owner/repo@ref` is an action, not an image; a step's
//! `with: {image: …}` is an input to an action and `env:` holds variables: neither is
//! pulled by the workflow. `${{ … }}` is templated; when a job's container or service
//! is exactly `${{ matrix.KEY }}`, the values of `KEY` in the job's `strategy.matrix`
//! (its list, and `include` entries) are the images, and each is a finding.

use super::Candidate;
use crate::finding::Format;
use crate::yaml::tree::{Node, get, is_mapping, items, pairs, scalar_span};

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
        for (_, _, service) in get(job, src, "services")
            .into_iter()
            .flat_map(|s| pairs(s, src))
        {
            if let Some(span) = service.and_then(scalar_span) {
                out.push(Candidate::inline(span, Format::GithubActions));
            }
        }
        matrix_images(job, src, out);
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

/// The images a job takes from its matrix: for each `${{ matrix.KEY }}` that is a
/// container's or a service's image, the values of `KEY` in `strategy.matrix`.
fn matrix_images(job: Node<'_>, src: &str, out: &mut Vec<Candidate>) {
    let Some(matrix) = get(job, src, "strategy").and_then(|s| get(s, src, "matrix")) else {
        return;
    };
    let image_of = |node: Node<'_>| {
        if is_mapping(node) {
            get(node, src, "image").and_then(scalar_span)
        } else {
            scalar_span(node)
        }
    };
    let services = get(job, src, "services")
        .into_iter()
        .flat_map(|s| pairs(s, src));
    let images = get(job, src, "container")
        .into_iter()
        .chain(services.filter_map(|(_, _, v)| v))
        .filter_map(image_of);
    for key in images.filter_map(|span| matrix_key(&src[span])) {
        let listed = get(matrix, src, key).into_iter().flat_map(|v| {
            let items: Vec<_> = items(v).collect();
            if items.is_empty() { vec![v] } else { items }
        });
        let included = get(matrix, src, "include")
            .into_iter()
            .flat_map(items)
            .filter_map(|entry| get(entry, src, key));
        for span in listed.chain(included).filter_map(scalar_span) {
            out.push(Candidate::inline(span, Format::GithubActions));
        }
    }
}

/// `KEY` of an expression that is exactly `${{ matrix.KEY }}`.
fn matrix_key(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("${{")?.strip_suffix("}}")?.trim();
    let key = inner.strip_prefix("matrix.")?;
    key.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        .then_some(key)
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
        // As scan_source does: one finding per span.
        c.sort_by_key(|c| c.span.start);
        c.dedup_by(|a, b| a.span == b.span);
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
    fn services_as_strings_and_what_is_not_pulled() {
        let src = "on: push\nenv:\n  image: busybox:1\njobs:\n  a:\n    runs-on: ubuntu-latest\n    env: {image: alpine:3}\n    services:\n      postgres: postgres:10\n      redis:\n        image: redis:7\n      cache: ${{ matrix.cache }}\n    steps:\n      - uses: some/action@v1\n        with:\n          image: ghcr.io/acme/scan-me:1\n        env:\n          image: nope:1\n";
        assert_eq!(
            found(src, ".github/workflows/ci.yml"),
            ["postgres:10", "redis:7", "${{ matrix.cache }}"]
        );
    }

    #[test]
    fn images_from_the_job_matrix() {
        let src = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    container:\n      image: ${{ matrix.image }}\n    services:\n      db: ${{matrix.db}}\n      other: ${{ matrix.db || 'x' }}\n    strategy:\n      matrix:\n        image: [node:18, 'node:20']\n        db: postgres:16\n        os: [ubuntu-latest]\n        include:\n          - image: ubuntu:24.04\n            db: mysql:8\n          - os: windows-latest\n  b:\n    runs-on: ubuntu-latest\n    container: ${{ matrix.container }}\n    strategy:\n      matrix:\n        container: ['']\n        include: [{container: python:3.13}]\n  c:\n    runs-on: ubuntu-latest\n    container: {image: '${{ matrix.image }}'}\n    strategy: {matrix: '${{ fromJSON(vars.TARGETS) }}'}\n";
        assert_eq!(
            found(src, ".github/workflows/ci.yml"),
            [
                "${{ matrix.image }}",
                "${{matrix.db}}",
                "${{ matrix.db || 'x' }}",
                "node:18",
                "node:20",
                "postgres:16",
                "ubuntu:24.04",
                "mysql:8",
                "${{ matrix.container }}",
                "python:3.13",
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
