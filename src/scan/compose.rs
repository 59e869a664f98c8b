//! docker-compose specifics: a service with both `build:` and `image:` builds that image
//! locally and only tags it with the name, so the name is reported as `local`, never
//! looked up or pinned.

use super::Candidate;
use crate::finding::Status;
use crate::yaml::tree::{Node, get, pairs, scalar_span};

pub fn mark_build_outputs(root: Option<Node<'_>>, src: &str, found: &mut [Candidate]) {
    let Some(services) = root.and_then(|r| get(r, src, "services")) else {
        return;
    };
    for (_, _, service) in pairs(services, src) {
        let Some(service) = service else { continue };
        if get(service, src, "build").is_none() {
            continue;
        }
        let Some(span) = get(service, src, "image").and_then(scalar_span) else {
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::finding::Status;
    use crate::scan::yaml::scan;

    #[test]
    fn build_outputs_are_local() {
        let src = "services:\n  app:\n    build: .\n    image: acme/app:dev\n  db:\n    image: postgres:16\n";
        let c = scan(src, Path::new("compose.yaml")).unwrap();
        let app = c
            .iter()
            .find(|c| &src[c.span.clone()] == "acme/app:dev")
            .unwrap();
        assert_eq!(app.status.as_ref().map(|s| s.0), Some(Status::Local));
        let db = c
            .iter()
            .find(|c| &src[c.span.clone()] == "postgres:16")
            .unwrap();
        assert!(db.status.is_none());
    }
}
