//! docker-compose specifics: a service that has `build:` builds its image locally and
//! only tags it with its `image:` name, so that name is reported as `local`, never
//! looked up or pinned. `build:` counts however the service gets it: written in the
//! service, merged in with `<<: *anchor` (or `<<: [*a, *b]`), or inherited through
//! `extends:` from a service of this file or of another compose file (read from
//! disk, relative to this one). Compose files of the first format have no `services:`
//! key: their services are the top-level mappings.

use std::path::Path;

use super::Candidate;
use crate::finding::Status;
use crate::yaml::tree::{
    Node, Step, alias_name, anchor_name, field_text, get, is_mapping, items, pairs, scalar_span,
};

/// How many `extends:` and merges are followed from one service.
const MAX_HOPS: usize = 16;
/// Bigger files named by `extends: file:` are not read.
const MAX_EXTENDED_FILE: u64 = 1 << 20;

/// Top-level keys of a compose file that are not services (first format).
const NOT_SERVICES: [&str; 6] = [
    "version", "services", "networks", "volumes", "secrets", "configs",
];

pub fn mark_build_outputs(root: Node<'_>, src: &str, path: &Path, found: &mut [Candidate]) {
    let file = File::new(root, src);
    for (_, service) in file.services() {
        if !file.builds(service, path, 0) {
            continue;
        }
        let Some(span) = file.lookup(service, "image").and_then(|v| file.scalar(v)) else {
            continue;
        };
        for c in found.iter_mut().filter(|c| c.span == span) {
            c.status = Some((
                Status::Local,
                "built by this compose file (`build:`); not a registry image".into(),
            ));
        }
    }
}

/// One compose document and its anchors, in document order.
struct File<'t, 's> {
    root: Node<'t>,
    src: &'s str,
    anchors: Vec<(&'s str, Node<'t>)>,
}

impl<'t, 's> File<'t, 's> {
    fn new(root: Node<'t>, src: &'s str) -> Self {
        let mut anchors = Vec::new();
        let mut stack = vec![Step::Node(root)];
        while let Some(step) = stack.pop() {
            if let Step::Node(node) = step
                && let Some(name) = anchor_name(node, src)
            {
                anchors.push((name, node));
            }
            step.children_rev(|c| stack.push(c));
        }
        File { root, src, anchors }
    }

    /// The services: under `services:`, or (first format) the top-level mappings.
    fn services(&self) -> Vec<(&'s str, Node<'t>)> {
        let (holder, first_format) = match get(self.root, self.src, "services") {
            Some(services) => (services, false),
            None => (self.root, true),
        };
        pairs(holder, self.src)
            .filter(|(k, _, _)| {
                !(first_format && (NOT_SERVICES.contains(k) || k.starts_with("x-")))
            })
            .filter_map(|(k, _, v)| Some((k, self.resolve(v?)?)))
            .filter(|(_, v)| is_mapping(*v))
            .collect()
    }

    /// An alias's anchored node (the last anchor of that name written before it).
    fn resolve(&self, node: Node<'t>) -> Option<Node<'t>> {
        let Some(name) = alias_name(node, self.src) else {
            return Some(node);
        };
        self.anchors
            .iter()
            .rev()
            .find(|(n, def)| *n == name && def.start_byte() < node.start_byte())
            .map(|(_, def)| *def)
    }

    /// The mappings merged into `node` with `<<:`, in order.
    fn merged(&self, node: Node<'t>) -> Vec<Node<'t>> {
        let mut out = Vec::new();
        for (key, _, value) in pairs(node, self.src) {
            let Some(value) = value.filter(|_| key == "<<") else {
                continue;
            };
            let sources: Vec<Node<'t>> = if items(value).next().is_some() {
                items(value).collect()
            } else {
                vec![value]
            };
            out.extend(sources.into_iter().filter_map(|s| self.resolve(s)));
        }
        out
    }

    /// `key`'s value in a mapping, its own or merged in.
    fn lookup(&self, node: Node<'t>, key: &str) -> Option<Node<'t>> {
        let mut seen = 0;
        let mut queue = vec![node];
        while let Some(n) = queue.pop() {
            if let Some(v) = get(n, self.src, key) {
                return Some(v);
            }
            seen += 1;
            if seen > MAX_HOPS {
                return None;
            }
            queue.extend(self.merged(n).into_iter().rev());
        }
        None
    }

    /// The span of a string scalar, through an alias.
    fn scalar(&self, node: Node<'t>) -> Option<std::ops::Range<usize>> {
        scalar_span(self.resolve(node)?)
    }

    /// Whether a service builds: `build:` of its own, merged in, or inherited.
    fn builds(&self, service: Node<'t>, path: &Path, hops: usize) -> bool {
        if hops > MAX_HOPS {
            return false;
        }
        if self.lookup(service, "build").is_some() {
            return true;
        }
        let Some(extends) = self
            .lookup(service, "extends")
            .and_then(|e| self.resolve(e))
        else {
            return false;
        };
        // `extends: NAME` or `extends: {service: NAME, file: PATH}`.
        let (name, file) = match scalar_span(extends) {
            Some(span) => (&self.src[span], None),
            None => match field_text(extends, self.src, "service") {
                Some(name) => (name, field_text(extends, self.src, "file")),
                None => return false,
            },
        };
        match file {
            None => self
                .services()
                .into_iter()
                .find(|(n, _)| *n == name)
                .is_some_and(|(_, base)| self.builds(base, path, hops + 1)),
            Some(file) => {
                let other = path.parent().unwrap_or(Path::new("")).join(file);
                extended_builds(&other, name, hops + 1)
            }
        }
    }
}

/// Whether service `name` of the compose file at `path` builds. A file that is not a
/// regular file, too big, or not YAML says nothing.
fn extended_builds(path: &Path, name: &str, hops: usize) -> bool {
    let readable =
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() <= MAX_EXTENDED_FILE);
    let Some(text) = readable
        .then(|| std::fs::read_to_string(path).ok())
        .flatten()
    else {
        return false;
    };
    let builds = std::cell::Cell::new(false);
    let _ = crate::yaml::read_each(&text, &mut || builds.set(false), &mut |tree| {
        for root in tree.documents() {
            let file = File::new(root, &text);
            if let Some((_, service)) = file.services().into_iter().find(|(n, _)| *n == name) {
                builds.set(builds.get() || file.builds(service, path, hops));
            }
        }
    });
    builds.get()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::finding::Status;
    use crate::scan::yaml::scan;

    /// (reference, whether it is local) for each finding.
    fn locals(src: &str, path: &Path) -> Vec<(String, bool)> {
        let mut c = scan(src, path).unwrap();
        c.sort_by_key(|c| c.span.start);
        c.iter()
            .map(|c| {
                let local = c.status.as_ref().is_some_and(|s| s.0 == Status::Local);
                (src[c.span.clone()].to_string(), local)
            })
            .collect()
    }

    fn owned(want: &[(&str, bool)]) -> Vec<(String, bool)> {
        want.iter().map(|(r, l)| (r.to_string(), *l)).collect()
    }

    #[test]
    fn build_outputs_are_local() {
        let src = "services:\n  app:\n    build: .\n    image: acme/app:dev\n  db:\n    image: postgres:16\n";
        assert_eq!(
            locals(src, Path::new("compose.yaml")),
            owned(&[("acme/app:dev", true), ("postgres:16", false)])
        );
    }

    #[test]
    fn build_through_merge_keys() {
        let src = "x-build: &b\n  build: .\nx-more: &m\n  restart: always\nservices:\n  one:\n    <<: *b\n    image: acme/one:dev\n  list:\n    <<: [*m, *b]\n    image: acme/list:dev\n  pulled:\n    <<: *m\n    image: redis:7\n";
        assert_eq!(
            locals(src, Path::new("compose.yaml")),
            owned(&[
                ("acme/one:dev", true),
                ("acme/list:dev", true),
                ("redis:7", false)
            ])
        );
    }

    #[test]
    fn build_through_extends_in_this_file() {
        let src = "services:\n  base:\n    build: ./app\n  web:\n    extends: base\n    image: acme/web:dev\n  worker:\n    extends:\n      service: base\n    image: acme/worker:dev\n  cache:\n    extends: {service: redis}\n    image: redis:7\n  redis:\n    image: redis:6\n";
        assert_eq!(
            locals(src, Path::new("compose.yaml")),
            owned(&[
                ("acme/web:dev", true),
                ("acme/worker:dev", true),
                ("redis:7", false),
                ("redis:6", false)
            ])
        );
    }

    #[test]
    fn build_through_extends_from_another_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("common.yml"),
            "services:\n  app:\n    build: .\n  plain:\n    image: nginx:1.25\n",
        )
        .unwrap();
        let src = "services:\n  web:\n    extends: {file: common.yml, service: app}\n    image: acme/web:dev\n  proxy:\n    extends: {file: common.yml, service: plain}\n    image: nginx:1.26\n  gone:\n    extends: {file: missing.yml, service: app}\n    image: acme/gone:1\n";
        assert_eq!(
            locals(src, &dir.path().join("compose.yaml")),
            owned(&[
                ("acme/web:dev", true),
                ("nginx:1.26", false),
                ("acme/gone:1", false)
            ])
        );
    }

    #[test]
    fn first_format_services_at_the_top() {
        let src =
            "web:\n  build: .\n  image: acme/web:dev\n  links: [db]\ndb:\n  image: postgres:16\n";
        assert_eq!(
            locals(src, Path::new("docker-compose.yml")),
            owned(&[("acme/web:dev", true), ("postgres:16", false)])
        );
    }

    #[test]
    fn scratch_and_environment_are_not_images() {
        let src = "services:\n  a:\n    image: scratch\n  b:\n    image: redis:7\n    environment:\n      image: busybox\n      IMAGE: nginx:1.25\n";
        assert_eq!(
            locals(src, Path::new("compose.yaml")),
            owned(&[("redis:7", false)])
        );
    }
}
