//! References written with variables whose value the file itself says, decided before
//! classification so that no format's rules need to know: docker-compose's
//! `${VAR:-default}` / `${VAR-default}` (what every deployment without `VAR` pulls),
//! and GitLab's dependency-proxy prefixes, which stand for Docker Hub.
//!
//! - `image: ${REDIS_IMAGE:-redis:7}`: the whole reference is one default, so the
//!   digest goes inside it (`${REDIS_IMAGE:-redis:7@sha256:…}`).
//! - `image: ${REGISTRY:-docker.io}/app:${TAG:-1.2}`: every variable has a default; the
//!   reference they make is reported (mutable, failing `check`) with a note, and left
//!   alone, since no single place can hold the digest.
//! - `image: $CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX/node:20`: `node:20` is a Docker Hub
//!   reference, pinned after the prefix.

use super::Candidate;
use super::variables::{self, Dialect, Lookup};
use crate::finding::{DigestField, Format, PinSite};

/// GitLab's variables that expand to its dependency proxy for Docker Hub.
const GITLAB_PROXY_PREFIXES: [&str; 2] = [
    "CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX",
    "CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX",
];

/// Rewrite a candidate whose text holds variables the file gives values for. `src` is
/// the text the candidate's span points into.
pub fn refine(mut c: Candidate, src: &str) -> Candidate {
    if c.text.is_some() || c.status.is_some() || c.pin != PinSite::Inline {
        return c;
    }
    let Some(text) = src.get(c.span.clone()) else {
        return c;
    };
    match c.format {
        Format::Compose => {
            if let Some(default) = variables::sole_default(text, Dialect::Compose) {
                c.span = c.span.start + default.start..c.span.start + default.end;
            } else if variables::has_variables(text, Dialect::Compose)
                && let Ok(expanded) =
                    variables::expand(text, Dialect::Compose, &|_| Lookup::Unknown)
                && !expanded.is_empty()
            {
                let why = format!(
                    "`{text}` with the defaults written in it; a default cannot be pinned where it is only part of the reference: write the whole reference as one default (`${{IMAGE:-{expanded}}}`) to make it pinnable"
                );
                c.text = Some(expanded);
                c.pin = PinSite::Field(DigestField::Missing(why));
            }
        }
        Format::GitlabCi => {
            if let Some(rest) = after_gitlab_proxy(text) {
                c.span.start = c.span.end - rest.len();
            }
        }
        _ => {}
    }
    c
}

/// The reference after a dependency-proxy prefix (`$PREFIX/` or `${PREFIX}/`), when it
/// holds no variable of its own.
fn after_gitlab_proxy(text: &str) -> Option<&str> {
    let rest = GITLAB_PROXY_PREFIXES.iter().find_map(|name| {
        text.strip_prefix('$').and_then(|t| {
            t.strip_prefix(name)
                .or_else(|| t.strip_prefix('{')?.strip_prefix(name)?.strip_prefix('}'))
        })
    })?;
    let rest = rest.strip_prefix('/')?;
    (!rest.is_empty() && !rest.contains('$')).then_some(rest)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::finding::{PinSite, Status};
    use crate::scan::{FileKind, scan_source};

    fn found(path: &str, src: &str) -> Vec<(String, String, Status, bool)> {
        scan_source(Path::new(path), src, FileKind::Yaml)
            .expect("parses")
            .into_iter()
            .map(|f| {
                (
                    src[f.span.clone()].to_string(),
                    f.text,
                    f.status,
                    f.pin == PinSite::Inline,
                )
            })
            .collect()
    }

    #[test]
    fn compose_defaults() {
        let src = "services:\n  a:\n    image: ${REDIS_IMAGE:-redis:7}\n  b:\n    image: \"${REG-docker.io}/app:${TAG:-1.2}\"\n  c:\n    image: ${IMG}\n  d:\n    image: ${X:?set X}\n  e:\n    image: ${P:-nginx:1.25@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}\n";
        let got = found("compose.yaml", src);
        assert_eq!(
            got[0],
            ("redis:7".into(), "redis:7".into(), Status::Mutable, true)
        );
        assert_eq!(
            got[1],
            (
                "${REG-docker.io}/app:${TAG:-1.2}".into(),
                "docker.io/app:1.2".into(),
                Status::Mutable,
                false
            )
        );
        assert_eq!(got[2].2, Status::Templated);
        assert_eq!(got[3].2, Status::Templated);
        assert_eq!(got[4].2, Status::Pinned);
        assert!(got[4].0.starts_with("nginx:1.25@"));
        // Only compose reads these defaults.
        let src = "kind: Pod\napiVersion: v1\nspec:\n  containers:\n  - image: ${IMG:-redis:7}\n";
        assert_eq!(found("pod.yaml", src)[0].2, Status::Templated);
    }

    #[test]
    fn gitlab_dependency_proxy_is_docker_hub() {
        let src = "a:\n  image: $CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX/node:20\n  services:\n    - ${CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX}/postgres:16\n    - $CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX/redis:$TAG\n    - $CI_REGISTRY_IMAGE/app:1\n";
        let got = found(".gitlab-ci.yml", src);
        assert_eq!(
            got[0],
            ("node:20".into(), "node:20".into(), Status::Mutable, true)
        );
        assert_eq!(got[1].0, "postgres:16");
        assert_eq!(got[2].2, Status::Templated);
        assert_eq!(got[3].2, Status::Templated);
    }
}
