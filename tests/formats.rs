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
fn flux_helm_release_values_post_renderers_and_kustomization_images() {
    assert_golden(&seed(), "flux");
}

#[test]
fn argo_cd_kustomize_strings_values_objects_and_values_strings_in_place() {
    assert_golden(&seed(), "argocd");
}

#[test]
fn helm_values_keys_that_name_images() {
    assert_golden(&seed(), "helm-keys");
}

#[test]
fn kubernetes_image_volumes() {
    assert_golden(&seed(), "image-volumes");
}

#[test]
fn gitlab_ci_files_a_pipeline_includes_and_jobs_under_dot_gitlab() {
    assert_golden(&seed(), "gitlab-include");
}

#[test]
fn bitbucket_pipelines_images_names_and_docker_pipes() {
    assert_golden(&seed(), "bitbucket");
}

#[test]
fn azure_pipelines_containers_resources_and_services() {
    assert_golden(&seed(), "azure");
}

#[test]
fn tekton_bundles_and_resolver_params() {
    assert_golden(&seed(), "tekton");
}

#[test]
fn crossplane_packages() {
    assert_golden(&seed(), "crossplane");
}

#[test]
fn ecs_task_definitions_and_cloudformation() {
    assert_golden(&seed(), "ecs");
}

#[test]
fn drone_pipelines() {
    assert_golden(&seed(), "drone");
}

/// Compose services that build (through merges, `extends:`, the first file format) keep
/// their tags; `scratch` and environment variables are never looked up.
#[test]
fn compose_build_outputs_through_merges_extends_and_the_first_format_stay_local() {
    assert_golden(&seed(), "compose-local");
}

/// What other tools took for images: skaffold's build artifacts are `local`, kbld's
/// configuration and a GitHub step's `with:` inputs are not findings, environment
/// variables named `image` are not findings, and a Drone file is `drone`.
#[test]
fn false_positives_are_local_or_not_reported() {
    let tree = tempfile::tempdir().expect("tempdir");
    let write = |rel: &str, text: &str| {
        let path = tree.path().join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, text).expect("write");
    };
    write(
        "skaffold.yaml",
        "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n  - image: app\n  - image: ghcr.io/acme/worker\ntest:\n- image: app\n",
    );
    write(
        "kbld.yml",
        "apiVersion: kbld.k14s.io/v1alpha1\nkind: Config\noverrides:\n- image: unknown\n  newImage: nginx:1.25\nsearchRules:\n- valueMatcher: {image: redis}\n",
    );
    write(
        ".github/workflows/ci.yml",
        "on: push\nenv: {image: busybox}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n    - uses: docker/setup-qemu-action@v3\n      with:\n        image: tonistiigi/binfmt:latest\n",
    );
    write(
        ".drone.yml",
        "kind: pipeline\ntype: docker\nsteps:\n- name: t\n  image: golang:1.22\n  environment: {image: alpine}\nservices:\n- name: db\n  image: postgres:16\n",
    );
    write(
        "compose.yaml",
        "services:\n  a:\n    image: scratch\n    environment:\n      image: busybox\n",
    );
    write(".gitlab-ci.yml", "variables:\n  image: busybox\n");
    write(
        ".circleci/config.yml",
        "jobs:\n  t:\n    docker: [{image: cimg/node:20.1, environment: {image: alpine}}]\n",
    );
    let out = imagepin(tree.path(), &["check", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut got: Vec<String> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}",
                f["path"].as_str().unwrap_or(""),
                f["reference"].as_str().unwrap_or(""),
                f["status"].as_str().unwrap_or(""),
                f["format"].as_str().unwrap_or("")
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ".circleci/config.yml cimg/node:20.1 mutable circleci",
            ".drone.yml golang:1.22 mutable drone",
            ".drone.yml postgres:16 mutable drone",
            "skaffold.yaml app local skaffold",
            "skaffold.yaml app local skaffold",
            "skaffold.yaml ghcr.io/acme/worker local skaffold",
        ],
        "{}",
        stderr(&out)
    );
}

/// A folder of a git repository scanned on its own still knows what the repository's
/// `.gitlab-ci.yml` includes.
#[test]
fn included_files_are_gitlab_ci_when_the_pipeline_is_above_the_scanned_path() {
    let tree = tempfile::tempdir().expect("tempdir");
    let git = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(tree.path())
        .status()
        .expect("git");
    assert!(git.success());
    fs::write(
        tree.path().join(".gitlab-ci.yml"),
        "include:\n  - local: ci/**.yml\n",
    )
    .expect("write");
    fs::create_dir_all(tree.path().join("ci/deep")).expect("mkdir");
    fs::write(
        tree.path().join("ci/deep/jobs.yml"),
        "test:\n  services: [postgres:16]\n  script: [make]\n",
    )
    .expect("write");
    let out = imagepin(tree.path(), &["check", "ci", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let found: Vec<String> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["reference"].as_str().unwrap_or(""),
                f["format"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(found, ["postgres:16 gitlab-ci"], "{}", stderr(&out));
}

/// A values string that is not YAML is named (file and line) and left alone; the
/// file's other references are still pinned.
#[test]
fn an_unreadable_values_string_is_a_warning_and_the_rest_is_pinned() {
    let seeded = seed();
    let tree = tempfile::tempdir().expect("tempdir");
    let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  source:\n    helm:\n      values: |\n        image: {{ .Values.image }\n    kustomize:\n      images: [web=nginx:1.25]\n";
    fs::write(tree.path().join("app.yaml"), app).expect("write");
    let out = fix(&seeded, tree.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("warning: app.yaml:6: `helm.values` not scanned: it does not parse as YAML"),
        "{}",
        stderr(&out)
    );
    let text = fs::read_to_string(tree.path().join("app.yaml")).expect("read");
    let want = app.replace(
        "web=nginx:1.25",
        &format!("web=nginx:1.25@{}", seeded.digests["library/nginx:1.25"]),
    );
    assert_eq!(text, want);
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

/// Valid YAML that tree-sitter's grammar could not parse (a multi-line quoted scalar in
/// a flow sequence, as in Argo's examples) is read by the complete reader, with every
/// format rule, not skipped or guessed at.
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
    // compose's and the Dockerfile's whole defaults, the dependency proxy's image.
    assert_eq!(text.matches("pinned    ").count(), 4, "{text}");
    assert!(
        text.contains("Dockerfile:6:21: pinned    golang:1.22@"),
        "{text}"
    );
}
