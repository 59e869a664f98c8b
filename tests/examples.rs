//! The stdin-mode examples, run as their hosts run them against a real registry
//! (Debian's docker-registry on loopback, found through an `.imagepin.yaml` with
//! mirrors in the working directory, as a user's repository would have):
//!
//! - `examples/helm/`: the Helm 3 post-renderer wrapper, the wrapper-less
//!   `--post-renderer imagepin --post-renderer-args …` form the README documents, and
//!   the Helm 4 plugin — each started the way Helm starts a post-renderer (rendered
//!   manifests on stdin from another thread, stdout and stderr read to the end);
//! - `examples/kustomize/deploy.sh` (`kustomize build | imagepin fix - | kubectl apply
//!   -f -`), with `kubectl` replaced by `cat`;
//! - `examples/argocd/plugin.yaml`, its `generate` command run in an application's
//!   directory as Argo CD's CMP server runs it;
//! - `examples/github-actions/deploy.yml`, its deploy step run as GitHub runs a
//!   `shell: bash` step.
//!
//! `kustomize` is the real one when installed; otherwise `kubectl kustomize` (the same
//! code, built into kubectl) stands in for `kustomize build`.

// The examples are shell scripts and the hosts that run them (Helm, kustomize, Argo CD's
// plugin server, a `shell: bash` step) on Unix.
#![cfg(unix)]

mod support;

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::golden::{Seeded, copy_tree, seed, stderr, stdout};
use support::pipe::run_with_stdin;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A working directory whose `.imagepin.yaml` sends every registry the goldens use to
/// the seeded one.
fn configured_dir(seeded: &Seeded, dir: &Path) {
    let url = seeded.registry.url();
    let mut config = format!("mirrors:\n  docker.io: {url}\n");
    for host in ["ghcr.io", "gcr.io", "mcr.microsoft.com"] {
        config.push_str(&format!("  {host}: {url}/{host}\n"));
    }
    fs::write(dir.join(".imagepin.yaml"), config).expect("write config");
}

/// The golden rendered stream (a Helm-style release: `---` and `# Source:` before
/// each manifest) and what it pins to.
fn rendered(seeded: &Seeded) -> (String, String) {
    let read = |name: &str| {
        let text = fs::read_to_string(repo("testdata/stdin/rendered").join(name)).expect("read");
        seeded.expand(&text)
    };
    (read("input.yaml"), read("expected.yaml"))
}

/// Executables that stand in for the deploy tools, first on PATH, then imagepin's
/// directory, then the system's.
struct Tools {
    bin: tempfile::TempDir,
}

impl Tools {
    fn new() -> Tools {
        let bin = tempfile::tempdir().expect("tempdir");
        // `kubectl apply -f -` prints what it would apply instead.
        let kubectl = "#!/bin/sh\n[ \"$*\" = \"apply -f -\" ] || { echo \"kubectl stand-in: $*\" >&2; exit 64; }\nexec cat\n";
        write_executable(&bin.path().join("kubectl"), kubectl);
        if which("kustomize").is_none() {
            let real = which("kubectl").expect(
                "neither kustomize nor kubectl is installed: scripts/test installs Debian's \
                 kubernetes-client (as root), or: apt-get install -y kubernetes-client",
            );
            let shim = format!(
                "#!/bin/sh\n[ \"$1\" = build ] || exit 64\nshift\nexec '{}' kustomize \"$@\"\n",
                real.display()
            );
            write_executable(&bin.path().join("kustomize"), &shim);
        }
        Tools { bin }
    }

    /// PATH with the stand-ins and imagepin in front.
    fn path(&self) -> String {
        let imagepin = Path::new(env!("CARGO_BIN_EXE_imagepin"))
            .parent()
            .expect("bin dir");
        format!(
            "{}:{}:{}",
            self.bin.path().display(),
            imagepin.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// `kustomize build DIR`, as the examples' renderer runs it.
    fn kustomize_build(&self, dir: &Path) -> String {
        let o = Command::new("kustomize")
            .args(["build"])
            .arg(dir)
            .env("PATH", self.path())
            .output()
            .expect("run kustomize");
        assert!(o.status.success(), "kustomize build: {}", stderr(&o));
        stdout(&o)
    }
}

/// An example's YAML (a plugin or workflow definition), parsed.
fn example_yaml(rel: &str) -> yaml_serde::Value {
    let text = fs::read_to_string(repo(rel)).expect("read example");
    yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn write_executable(path: &Path, text: &str) {
    fs::write(path, text).expect("write");
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// An executable on the system's PATH (outside the stand-ins).
fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The rendered stream as `kustomize` wrote it, with each image pinned: `image: X`
/// becomes `image: X@digest` (untagged: `X:latest@digest`).
fn pinned(seeded: &Seeded, rendered: &str, pins: &[(&str, &str)]) -> String {
    let mut out = rendered.to_string();
    for (written, key) in pins {
        let from = format!("image: {written}\n");
        assert_eq!(out.matches(&from).count(), 1, "{from} in\n{rendered}");
        let tag = if written.contains(':') { "" } else { ":latest" };
        let to = format!("image: {written}{tag}@{}\n", seeded.digests[*key]);
        out = out.replace(&from, &to);
    }
    out
}

/// Start a post-renderer as Helm does: the executable, its arguments, Helm's working
/// directory and environment; the rendered manifests on stdin; stdout is the result.
fn post_render(tools: &Tools, cwd: &Path, program: &Path, args: &[String], input: &str) -> Output {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(cwd)
        .env("PATH", tools.path())
        .env_remove("DOCKER_CONFIG");
    run_with_stdin(command, input.as_bytes())
}

#[test]
fn the_helm_post_renderer_wrapper_pins_a_release_as_helm_runs_it() {
    let seeded = seed();
    let tools = Tools::new();
    let cwd = tempfile::tempdir().expect("tempdir");
    configured_dir(&seeded, cwd.path());
    let wrapper = repo("examples/helm/imagepin-post-renderer");
    let (input, expected) = rendered(&seeded);
    let out = post_render(&tools, cwd.path(), &wrapper, &[], &input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), expected);

    // One image that cannot be resolved: Helm gets an error and no manifests.
    let broken = format!(
        "{input}---\n# Source: shop/templates/extra.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: extra\nspec:\n  containers:\n    - name: x\n      image: nosuchorg/nothing:1\n"
    );
    let out = post_render(&tools, cwd.path(), &wrapper, &[], &broken);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    assert!(stderr(&out).contains("<stdin>:"), "{}", stderr(&out));

    // Arguments given with --post-renderer-args reach imagepin through the wrapper.
    let out = post_render(
        &tools,
        cwd.path(),
        &wrapper,
        &["--keep-going".to_string()],
        &broken,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with(&expected), "{}", stdout(&out));
}

/// The README's wrapper-less command line, and the arguments Helm (3.9 and later)
/// passes to the post-renderer for it: each `--post-renderer-args` value in order.
fn documented_post_renderer() -> (String, Vec<String>) {
    let readme = fs::read_to_string(repo("README.md")).expect("README");
    let line = readme
        .lines()
        .find(|l| l.contains("--post-renderer imagepin --post-renderer-args"))
        .expect("the README documents the wrapper-less form");
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = |flag: &str| {
        words
            .iter()
            .enumerate()
            .filter(|(_, w)| **w == flag)
            .map(|(i, _)| words[i + 1].to_string())
            .collect::<Vec<String>>()
    };
    let program = at("--post-renderer").pop().expect("program");
    (program, at("--post-renderer-args"))
}

#[test]
fn the_documented_post_renderer_args_need_no_wrapper() {
    let seeded = seed();
    let tools = Tools::new();
    let cwd = tempfile::tempdir().expect("tempdir");
    configured_dir(&seeded, cwd.path());
    let (program, args) = documented_post_renderer();
    assert_eq!(program, "imagepin");
    assert_eq!(args, ["fix", "-"]);
    // Helm looks a bare name up on PATH, as Command does.
    let (input, expected) = rendered(&seeded);
    let out = post_render(&tools, cwd.path(), Path::new(&program), &args, &input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), expected);
}

#[test]
fn the_helm_4_plugin_runs_imagepin_as_its_post_renderer() {
    let seeded = seed();
    let tools = Tools::new();
    let cwd = tempfile::tempdir().expect("tempdir");
    configured_dir(&seeded, cwd.path());
    let dir = repo("examples/helm/imagepin-plugin");
    let plugin = example_yaml("examples/helm/imagepin-plugin/plugin.yaml");
    assert_eq!(plugin["apiVersion"].as_str(), Some("v1"));
    assert_eq!(plugin["type"].as_str(), Some("postrenderer/v1"));
    assert_eq!(plugin["runtime"].as_str(), Some("subprocess"));
    // Helm 4 takes the platform command with no os/arch, splits it on spaces, expands
    // ${VARS} (HELM_PLUGIN_DIR among them) and appends its args.
    let commands = plugin["runtimeConfig"]["platformCommand"]
        .as_sequence()
        .expect("platformCommand");
    let command = commands
        .iter()
        .find(|c| c.get("os").is_none() && c.get("arch").is_none())
        .expect("a command for every platform");
    let env = HashMap::from([("HELM_PLUGIN_DIR", dir.display().to_string())]);
    let expand = |s: &str| {
        env.iter().fold(s.to_string(), |s, (k, v)| {
            s.replace(&format!("${{{k}}}"), v)
        })
    };
    let mut parts = command["command"].as_str().expect("command").split(' ');
    let program = expand(parts.next().expect("program"));
    let mut args: Vec<String> = parts.map(expand).collect();
    for a in command["args"].as_sequence().into_iter().flatten() {
        args.push(expand(a.as_str().expect("string arg")));
    }
    let (input, expected) = rendered(&seeded);
    let out = post_render(&tools, cwd.path(), Path::new(&program), &args, &input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), expected);
}

/// The pins the kustomize example renders to.
const RENDERED_PINS: [(&str, &str); 3] = [
    ("nginx:1.25", "library/nginx:1.25"),
    ("redis:7", "library/redis:7"),
    ("ghcr.io/acme/api:v2", "ghcr.io/acme/api:v2"),
];

#[test]
fn kustomize_build_into_imagepin_into_kubectl_apply() {
    let seeded = seed();
    let tools = Tools::new();
    let tree = copy_tree(&repo("examples/kustomize"));
    configured_dir(&seeded, tree.path());
    let expected = pinned(
        &seeded,
        &tools.kustomize_build(&tree.path().join("prod")),
        &RENDERED_PINS,
    );

    let out = Command::new(tree.path().join("deploy.sh"))
        .arg("prod")
        .current_dir(tree.path())
        .env("PATH", tools.path())
        .env_remove("DOCKER_CONFIG")
        .output()
        .expect("run deploy.sh");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), expected, "what kubectl apply got");

    // An image that cannot be resolved: kubectl gets nothing and the script fails.
    let base = tree.path().join("prod/deployment.yaml");
    let text = fs::read_to_string(&base).expect("read");
    fs::write(&base, text.replace("redis:7", "nosuchorg/nothing:1")).expect("write");
    let out = Command::new(tree.path().join("deploy.sh"))
        .arg("prod")
        .current_dir(tree.path())
        .env("PATH", tools.path())
        .output()
        .expect("run deploy.sh");
    assert_ne!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "kubectl applied: {}", stdout(&out));
}

#[test]
fn the_argo_cd_plugin_generates_pinned_manifests() {
    let seeded = seed();
    let tools = Tools::new();
    let plugin = example_yaml("examples/argocd/plugin.yaml");
    assert_eq!(plugin["kind"].as_str(), Some("ConfigManagementPlugin"));
    let generate = &plugin["spec"]["generate"];
    let argv: Vec<String> = generate["command"]
        .as_sequence()
        .into_iter()
        .chain(generate["args"].as_sequence())
        .flatten()
        .map(|v| v.as_str().expect("string").to_string())
        .collect();
    // Argo CD runs command + args in the application's directory (here also where
    // its .imagepin.yaml is), with its ARGOCD_APP_* variables.
    let tree = copy_tree(&repo("examples/kustomize"));
    configured_dir(&seeded, &tree.path().join("prod"));
    let app = tree.path().join("prod");
    let discover = plugin["spec"]["discover"]["fileName"]
        .as_str()
        .expect("discover");
    assert!(
        app.join(discover).is_file(),
        "the plugin is discovered for {discover}"
    );
    let expected = pinned(&seeded, &tools.kustomize_build(&app), &RENDERED_PINS);
    let generate = |app: &Path| {
        Command::new(&argv[0])
            .args(&argv[1..])
            .current_dir(app)
            .env("PATH", tools.path())
            .env("ARGOCD_APP_NAME", "web")
            .env("ARGOCD_APP_NAMESPACE", "shop")
            .env_remove("DOCKER_CONFIG")
            .output()
            .expect("run generate")
    };
    let out = generate(&app);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), expected);

    // A render that fails fails generate, with nothing for Argo CD to sync.
    fs::write(
        app.join("kustomization.yaml"),
        "resources: [missing.yaml]\n",
    )
    .expect("write");
    let out = generate(&app);
    assert_ne!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
}

#[test]
fn the_github_deploy_job_renders_pins_applies_and_keeps_the_lock() {
    let seeded = seed();
    let tools = Tools::new();
    let workflow = example_yaml("examples/github-actions/deploy.yml");
    let steps = workflow["jobs"]["deploy"]["steps"]
        .as_sequence()
        .expect("steps");
    let step = steps
        .iter()
        .find(|s| s["id"].as_str() == Some("deploy"))
        .expect("the deploy step");
    assert_eq!(step["shell"].as_str(), Some("bash"));
    let script = step["run"].as_str().expect("run");

    // A checkout of a repository whose deploy/ is the kustomize example.
    let checkout = tempfile::tempdir().expect("tempdir");
    let deploy = checkout.path().join("deploy");
    copy_dir(&repo("examples/kustomize"), &deploy).expect("lay out deploy/");
    configured_dir(&seeded, checkout.path());
    let file = checkout.path().join(".step.sh");
    fs::write(&file, script).expect("write step");
    // GitHub runs `shell: bash` steps as `bash --noprofile --norc -eo pipefail FILE`.
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail"])
        .arg(&file)
        .current_dir(checkout.path())
        .env("PATH", tools.path())
        .env_remove("DOCKER_CONFIG")
        .output()
        .expect("run the step");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let expected = pinned(
        &seeded,
        &tools.kustomize_build(&deploy.join("prod")),
        &RENDERED_PINS,
    );
    assert_eq!(stdout(&out), expected);
    let lock: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(checkout.path().join("imagepin.lock.json")).expect("the lock"),
    )
    .expect("JSON");
    for (written, key) in RENDERED_PINS {
        assert_eq!(
            lock["references"][written]["digest"],
            seeded.digests[key].as_str(),
            "{written}"
        );
    }
}

/// Copy a tree, keeping modes (deploy.sh stays executable).
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
