//! Every place images hide, end to end: each format's golden tree under `testdata/fix/`
//! pinned by the binary against a real registry, byte for byte, idempotently, with
//! `check` clean afterwards (unless the case leaves something unpinned on purpose).

mod support;

use std::fs;

use support::golden::{assert_golden, copy_tree, fix, golden, imagepin, seed, stderr};

#[test]
fn github_actions_job_containers_services_docker_steps_and_actions() {
    assert_golden(&seed(), "github");
}

#[test]
fn gitlab_ci_images_and_services_as_strings_and_names() {
    assert_golden(&seed(), "gitlab");
}

#[test]
fn circleci_docker_images_but_never_machine_images() {
    assert_golden(&seed(), "circleci");
}

#[test]
fn cloud_build_step_names() {
    assert_golden(&seed(), "cloudbuild");
}

#[test]
fn kustomize_images_get_digest_fields_keeping_new_tag_and_line_endings() {
    assert_golden(&seed(), "kustomize");
}

#[test]
fn devcontainer_json_with_comments_tabs_and_trailing_commas() {
    assert_golden(&seed(), "devcontainer");
}

#[test]
fn dockerfile_syntax_arg_mount_copy_heredoc_and_escape() {
    assert_golden(&seed(), "dockerfile-depth");
}

#[test]
fn config_excludes_ignores_and_inline_ignores() {
    assert_golden(&seed(), "ignores");
}

/// Helm values: digest fields are filled, values without one are reported and left.
#[test]
fn helm_values_fill_existing_digest_fields_and_never_invent_keys() {
    let seeded = seed();
    let tree = copy_tree(&golden("helm").join("input"));
    let out = fix(&seeded, tree.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("chart/values.yaml:11:17: bitnami/exporter:1.4: not pinned: these values have no `digest` field"),
        "{err}"
    );
    let want = seeded.expand(
        &fs::read_to_string(golden("helm").join("expected/chart/values.yaml")).expect("expected"),
    );
    let got = fs::read_to_string(tree.path().join("chart/values.yaml")).expect("read");
    assert_eq!(got, want);
    let chart = fs::read(tree.path().join("chart/Chart.yaml")).expect("read");
    assert_eq!(
        chart,
        fs::read(golden("helm").join("input/chart/Chart.yaml")).expect("read")
    );
    // The one without a digest field stays unpinned, so check still says so.
    let check = imagepin(tree.path(), &["check"]);
    assert_eq!(check.status.code(), Some(1));
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(
        text.contains("mutable   bitnami/exporter:1.4 (helm)"),
        "{text}"
    );
    assert_eq!(text.matches("pinned ").count(), 3, "{text}");
}

#[test]
fn unknown_config_keys_are_a_usage_error_naming_the_key() {
    let tree = tempfile::tempdir().expect("tempdir");
    fs::write(
        tree.path().join(".imagepin.yaml"),
        "ignore: []\nexclued: [x]\n",
    )
    .expect("write");
    let out = imagepin(tree.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("exclued"), "{}", stderr(&out));
}

/// Valid YAML that the tree-sitter grammar cannot parse (a multi-line quoted scalar in a
/// flow sequence, as in Argo's examples) is read by the fallback, not skipped.
#[test]
fn valid_yaml_outside_the_grammar_is_still_pinned() {
    let check = imagepin(&golden("grammar-gap").join("input"), &["check"]);
    assert!(!stderr(&check).contains("warning"), "{}", stderr(&check));
    assert!(
        stderr(&check).contains("2 references"),
        "{}",
        stderr(&check)
    );
    assert_golden(&seed(), "grammar-gap");
}

#[test]
fn dockerfiles_by_any_name_but_not_notes_or_ignore_files() {
    assert_golden(&seed(), "dockerfile-names");
}

#[test]
fn quadlet_units_transports_drop_ins_and_continuations() {
    assert_golden(&seed(), "quadlet");
}

#[test]
fn terraform_resources_ecs_json_syntax_and_variable_defaults_across_files() {
    assert_golden(&seed(), "terraform");
}

#[test]
fn nomad_docker_and_podman_tasks() {
    assert_golden(&seed(), "nomad");
}

#[test]
fn bake_contexts_but_never_tags() {
    assert_golden(&seed(), "bake");
}

#[test]
fn jenkinsfile_declarative_and_scripted_docker_images() {
    assert_golden(&seed(), "jenkinsfile");
}

/// Issue 12.2 and 12.3: defaults decide what a reference with variables pulls. A whole
/// reference that is one default is pinned inside it; references made of defaults fail
/// `check` (mutable) with a note and stay as written; an ARG used as part of another
/// reference is never pinned; GitLab's dependency proxy is Docker Hub.
#[test]
fn defaults_are_pinned_where_whole_and_reported_mutable_where_partial() {
    let seeded = seed();
    let case = golden("defaults");
    let tree = copy_tree(&case.join("input"));
    let out = fix(&seeded, tree.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for name in ["compose.yaml", ".gitlab-ci.yml", "Dockerfile"] {
        let want =
            seeded.expand(&fs::read_to_string(case.join("expected").join(name)).expect("expected"));
        let got = fs::read_to_string(tree.path().join(name)).expect("read");
        assert_eq!(got, want, "{name}");
    }
    let err = stderr(&out);
    assert!(
        err.contains("Dockerfile:3:6: nginx: not pinned: `$BASE` with ARG defaults BASE=nginx on line 1; not pinned: ARG BASE is also used as part of a longer value on line 4"),
        "{err}"
    );
    let second = fix(&seeded, tree.path(), &[]);
    assert!(
        stderr(&second).contains("pinned 0 references"),
        "{}",
        stderr(&second)
    );
    let check = imagepin(tree.path(), &["check"]);
    assert_eq!(check.status.code(), Some(1));
    let text = String::from_utf8_lossy(&check.stdout);
    for line in [
        "Dockerfile:3:6: untagged  nginx (dockerfile)",
        "Dockerfile:4:6: mutable   nginx:1.25 (dockerfile)",
        "Dockerfile:5:6: mutable   node:20 (dockerfile): `node:${NODE_VERSION}` with ARG defaults NODE_VERSION=20 on line 2",
        "compose.yaml:5:13: mutable   node:20 (compose): `node:${NODE_TAG:-20}` with the defaults written in it",
        "compose.yaml:7:12: templated ${APP_IMAGE} (compose)",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    assert_eq!(text.matches("pinned    ").count(), 3, "{text}");
}
