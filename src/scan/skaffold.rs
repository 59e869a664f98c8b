//! Skaffold (`skaffold/*` `Config`): `build.artifacts[].image` names an image skaffold
//! builds (also in `profiles`), and every other `image:` that names one of those
//! artifacts (`test`, `requires`) is the same local build output: `local`, never
//! looked up. Other images (`verify` containers, custom actions) are pulled.

use std::collections::HashSet;

use super::Candidate;
use crate::finding::Status;
use crate::yaml::tree::{Node, all_pairs, get, items, scalar_text};

pub fn mark_artifacts(root: Node<'_>, src: &str, found: &mut [Candidate]) {
    let built: HashSet<&str> = all_pairs(root, src)
        .into_iter()
        .filter(|(key, _)| *key == "artifacts")
        .flat_map(|(_, artifacts)| items(artifacts))
        .filter_map(|a| get(a, src, "image").and_then(|i| scalar_text(i, src)))
        .collect();
    for c in found.iter_mut() {
        if c.text.is_none() && built.contains(&src[c.span.clone()]) {
            c.status = Some((
                Status::Local,
                "built by skaffold (`build.artifacts`); not a registry image".into(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::{Format, Status};
    use crate::scan::testing::{candidates, statuses, texts};

    #[test]
    fn artifacts_are_local_other_images_are_pulled() {
        let src = "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n  - image: app\n    context: .\n  - image: ghcr.io/acme/worker\n    requires:\n    - image: app\n      alias: BASE\ntest:\n- image: app\n  structureTests: [./test/*]\nverify:\n- name: smoke\n  container:\n    name: curl\n    image: curlimages/curl:8.5.0\nprofiles:\n- name: dev\n  build:\n    artifacts:\n    - image: app-dev\n";
        let c = candidates(src, "skaffold.yaml");
        assert_eq!(
            texts(src, &c),
            [
                "app",
                "ghcr.io/acme/worker",
                "app",
                "app",
                "curlimages/curl:8.5.0",
                "app-dev"
            ]
        );
        let local = Some(Status::Local);
        assert_eq!(statuses(&c), [local, local, local, local, None, local]);
        assert!(c.iter().all(|c| c.format == Format::Skaffold));
    }
}
