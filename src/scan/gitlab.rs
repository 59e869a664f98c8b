//! GitLab CI (`.gitlab-ci.yml`, `*.gitlab-ci.yml`): `image:` as a string (the generic
//! rule) or `{name: …}`, and `services:` items as strings or `{name: …, alias: …}`, at
//! the top level, under `default:` and in jobs. `$VARIABLE` values are templated.

use super::Candidate;
use crate::finding::Format;
use crate::yaml::tree::{Node, all_pairs, get, is_mapping, items, scalar_span};

pub fn scan(root: Node<'_>, src: &str, out: &mut Vec<Candidate>) {
    for (key, value) in all_pairs(root, src) {
        match key {
            "image" if is_mapping(value) => {
                if let Some(span) = get(value, src, "name").and_then(scalar_span) {
                    out.push(Candidate::inline(span, Format::GitlabCi));
                }
            }
            "services" => {
                for item in items(value) {
                    let span = if is_mapping(item) {
                        get(item, src, "name").and_then(scalar_span)
                    } else {
                        scalar_span(item)
                    };
                    if let Some(span) = span {
                        out.push(Candidate::inline(span, Format::GitlabCi));
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::scan::yaml::scan;

    #[test]
    fn gitlab_images_and_services() {
        let src = "image: ruby:3.3\ndefault:\n  services:\n    - postgres:16\n    - name: redis:7\n      alias: cache\nbuild:\n  image:\n    name: gcr.io/kaniko-project/executor:debug\n    entrypoint: [\"\"]\n  services: [docker:24-dind]\n  script: [\"echo image: nope\"]\nsast:\n  image: $SAST_IMAGE\n";
        let mut c = scan(src, Path::new(".gitlab-ci.yml")).unwrap();
        c.sort_by_key(|c| c.span.start);
        let texts: Vec<&str> = c.iter().map(|c| &src[c.span.clone()]).collect();
        assert_eq!(
            texts,
            [
                "ruby:3.3",
                "postgres:16",
                "redis:7",
                "gcr.io/kaniko-project/executor:debug",
                "docker:24-dind",
                "$SAST_IMAGE"
            ]
        );
    }
}
