//! GitLab CI (`.gitlab-ci.yml`, `*.gitlab-ci.yml`, job-shaped YAML under `.gitlab/`,
//! and files a pipeline includes): `image:` as a string (the generic rule) or
//! `{name: …}`, and `services:` items as strings or `{name: …, alias: …}`, at the top
//! level, under `default:` and in jobs. `$VARIABLE` values are templated; `variables:`
//! are never images. [`local_includes`] and [`include_matches`] read what a pipeline
//! includes from its repository (the walk follows them; see `walk::gitlab`).

use super::Candidate;
use crate::finding::Format;
use crate::yaml::tree::{Node, all_pairs, get, is_mapping, items, scalar_span, scalar_text};

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

/// The files a GitLab CI file includes from its own repository: `include: PATH`,
/// `include: [PATH, …]` and `{local: PATH}` entries, as written (a leading `/` is the
/// repository root; `*` and `**` are wildcards). Remote URLs, other projects,
/// templates, components and paths built from variables are not local files.
pub fn local_includes(src: &str) -> Vec<String> {
    let out = std::cell::RefCell::new(Vec::new());
    let _ = crate::yaml::read_each(src, &mut || out.borrow_mut().clear(), &mut |tree| {
        for root in tree.documents() {
            let Some(include) = get(root, src, "include") else {
                continue;
            };
            let entries: Vec<Node<'_>> = if is_mapping(include) || scalar_span(include).is_some() {
                vec![include]
            } else {
                items(include).collect()
            };
            for entry in entries {
                let path = if is_mapping(entry) {
                    get(entry, src, "local").and_then(|l| scalar_text(l, src))
                } else {
                    scalar_text(entry, src)
                };
                if let Some(path) = path.filter(|p| !p.contains("://") && !p.contains('$')) {
                    out.borrow_mut().push(path.to_string());
                }
            }
        }
    });
    out.into_inner()
}

/// Whether `path` (relative to the repository root, `/`-separated) is what the include
/// `pattern` names, by GitLab's wildcard grammar: `**/` is any run of folders (or
/// none), `**` any characters, `*` any characters but `/`; every other character is
/// itself. A leading `/` (the repository root) is dropped.
pub fn include_matches(pattern: &str, path: &str) -> bool {
    enum Part<'p> {
        Text(&'p str),
        Folders,
        Any,
        Star,
    }
    let pattern = pattern.trim_start_matches('/');
    let mut parts = Vec::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        let (part, len) = if rest.starts_with("**/") {
            (Part::Folders, 3)
        } else if rest.starts_with("**") {
            (Part::Any, 2)
        } else if rest.starts_with('*') {
            (Part::Star, 1)
        } else {
            let len = rest.find('*').unwrap_or(rest.len());
            (Part::Text(&rest[..len]), len)
        };
        parts.push(part);
        rest = &rest[len..];
    }
    // ok[i][j]: parts[i..] match path[j..] (bytes; wildcards stop only at `/`).
    let b = path.as_bytes();
    let mut ok = vec![vec![false; b.len() + 1]; parts.len() + 1];
    ok[parts.len()][b.len()] = true;
    for i in (0..parts.len()).rev() {
        for j in (0..=b.len()).rev() {
            ok[i][j] = match parts[i] {
                Part::Text(t) => b[j..].starts_with(t.as_bytes()) && ok[i + 1][j + t.len()],
                Part::Any => (j..=b.len()).any(|k| ok[i + 1][k]),
                Part::Star => (j..=b.len())
                    .take_while(|&k| k == j || b[k - 1] != b'/')
                    .any(|k| ok[i + 1][k]),
                Part::Folders => {
                    ok[i + 1][j] || (j..b.len()).any(|k| b[k] == b'/' && ok[i + 1][k + 1])
                }
            };
        }
    }
    ok[0][0]
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::finding::Format;
    use crate::scan::testing::found;
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

    #[test]
    fn variables_named_image_are_not_images() {
        let src = "variables:\n  image: busybox\n  IMAGE: nginx:1.25\njob:\n  image: ruby:3.3\n  variables:\n    image: alpine:3\n    nested: {value: x, image: y}\n  script: [make]\n";
        assert_eq!(found(src, ".gitlab-ci.yml", Format::GitlabCi), ["ruby:3.3"]);
    }

    #[test]
    fn jobs_under_the_gitlab_folder_get_the_gitlab_rules() {
        let src = "include: []\n.db:\n  services:\n    - postgres:16\n    - name: redis:7\n";
        assert_eq!(
            found(src, ".gitlab/ci/db.yml", Format::GitlabCi),
            ["postgres:16", "redis:7"]
        );
    }

    #[test]
    fn local_includes_in_every_form() {
        use super::local_includes;
        let one = "include: '/templates/a.yml'\n";
        assert_eq!(local_includes(one), ["/templates/a.yml"]);
        let many = "spec:\n  inputs: {}\n---\ninclude:\n  - ci/b.yml\n  - local: 'ci/*.yml'\n    rules: [{if: $X}]\n  - remote: https://example.com/c.yml\n  - https://example.com/d.yml\n  - project: group/other\n    file: /e.yml\n  - template: Auto-DevOps.gitlab-ci.yml\n  - component: gitlab.com/g/c@1.0\n  - local: $DIR/f.yml\n";
        assert_eq!(local_includes(many), ["ci/b.yml", "ci/*.yml"]);
        assert_eq!(local_includes("include: {local: x.yml}\n"), ["x.yml"]);
        assert!(local_includes("include: [\n").is_empty());
    }

    #[test]
    fn gitlab_wildcards() {
        use super::include_matches as m;
        assert!(m("/ci/build.yml", "ci/build.yml"));
        assert!(m("ci/build.yml", "ci/build.yml"));
        assert!(!m("ci/build.yml", "ci/build.yaml"));
        assert!(m("configs/*.yml", "configs/a.yml"));
        assert!(!m("configs/*.yml", "configs/sub/a.yml"));
        assert!(m("configs/**.yml", "configs/sub/deeper/a.yml"));
        assert!(m("configs/**.yml", "configs/a.yml"));
        assert!(m(".gitlab/ci/**/*.yml", ".gitlab/ci/a.yml"));
        assert!(m(".gitlab/ci/**/*.yml", ".gitlab/ci/x/y/a.yml"));
        assert!(!m(".gitlab/ci/**/*.yml", ".gitlab/cia.yml"));
        assert!(m("libs/*/ci.yml", "libs/one/ci.yml"));
        assert!(!m("libs/*/ci.yml", "libs/ci.yml"));
        // Brackets and question marks are plain characters in GitLab's grammar.
        assert!(m("ci/[ab].yml", "ci/[ab].yml"));
        assert!(!m("ci/[ab].yml", "ci/a.yml"));
        assert!(!m("ci/?.yml", "ci/a.yml"));
    }
}
