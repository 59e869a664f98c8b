//! Bitbucket Pipelines (`bitbucket-pipelines.yml`): `image:` as a string (the generic
//! rule) or `{name: …, username: …}` at the top level, per step and under
//! `definitions.services.*`; `pipe: docker://NAME:TAG` runs an image, pinned after the
//! scheme. `pipe: atlassian/…` without `docker://` is a Bitbucket pipe (a repository
//! tag), not an image. `variables:` (a pipe's inputs) are never images.

use super::Candidate;
use crate::finding::Format;
use crate::yaml::tree::{Node, all_pairs, get, is_mapping, scalar_span};

const DOCKER_SCHEME: &str = "docker://";

pub fn scan(root: Node<'_>, src: &str, out: &mut Vec<Candidate>) {
    for (key, value) in all_pairs(root, src) {
        match key {
            "image" if is_mapping(value) => {
                if let Some(span) = get(value, src, "name").and_then(scalar_span) {
                    out.push(Candidate::inline(span, Format::BitbucketPipelines));
                }
            }
            "pipe" => {
                if let Some(span) = scalar_span(value)
                    && src[span.clone()].starts_with(DOCKER_SCHEME)
                {
                    out.push(Candidate::inline(
                        span.start + DOCKER_SCHEME.len()..span.end,
                        Format::BitbucketPipelines,
                    ));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Format;
    use crate::scan::testing::found;

    #[test]
    fn images_names_services_and_docker_pipes() {
        let src = "image: node:20\ndefinitions:\n  services:\n    db:\n      image: postgres:16\n      variables: {POSTGRES_DB: test}\n    cache:\n      image:\n        name: redis:7\n        username: $USER\n  steps:\n    - step: &build\n        name: Build\n        image:\n          # private\n          name: ghcr.io/acme/tools:1\n\n          password: $PASS\n        script: [make]\n    - step:\n        image:\n          username: only-credentials\n        script: [true]\npipelines:\n  default:\n    - step: *build\n    - step:\n        image: 'alpine:3.19'\n        script:\n          - pipe: docker://jfrogecosystem/jfrog-setup-cli:2.0.2\n          - pipe: atlassian/aws-s3-deploy:0.2.1\n            variables:\n              image: not-an-image:1\n";
        assert_eq!(
            found(src, "bitbucket-pipelines.yml", Format::BitbucketPipelines),
            [
                "node:20",
                "postgres:16",
                "redis:7",
                "ghcr.io/acme/tools:1",
                "alpine:3.19",
                "jfrogecosystem/jfrog-setup-cli:2.0.2"
            ]
        );
    }
}
