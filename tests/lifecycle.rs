//! The pin lifecycle against a real registry: `fix`, the upstream tag moves, `update`
//! moves exactly those pins (platform pins stay on their platform), `verify` passes,
//! drift is information unless `--strict`, a deleted manifest makes `verify` fail naming
//! every place that used it, and `update --commit` records exactly the changed files.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::git::{GIT_IDENTITY, git};
use support::registry::TestRegistry;
use support::{err, out};

fn imagepin(dir: &Path, reg: &TestRegistry, args: &[&str]) -> Output {
    let mirror = format!("docker.io={}", reg.url());
    let mut all: Vec<&str> = args.to_vec();
    if !matches!(args.first(), Some(&"check")) {
        all.extend(["--mirror", &mirror]);
    }
    Command::new(env!("CARGO_BIN_EXE_imagepin"))
        .args(&all)
        .current_dir(dir)
        .envs(GIT_IDENTITY)
        .output()
        .expect("run imagepin")
}

const DEPLOY: &str = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: nginx:1.25 # web\n  - image: nginx\n  - image: redis:7\n";
const COMPOSE: &str = "services:\n  a:\n    image: alpine:3.19\n  b:\n    image: \"nginx:1.25\"\n";
const ARM: &str = "FROM busybox:latest AS tools\n";

#[test]
fn fix_update_verify_commit_lifecycle() {
    let reg = TestRegistry::start();
    let nginx = reg.push_image("library/nginx", "1.25", "n1");
    let (latest, _) = reg.push_index(
        "library/nginx",
        "latest",
        &["linux/amd64", "linux/arm64"],
        "l1",
    );
    let redis = reg.push_image("library/redis", "7", "r1");
    let alpine = reg.push_image("library/alpine", "3.19", "a1");
    let (_, bb_kids) = reg.push_index(
        "library/busybox",
        "latest",
        &["linux/amd64", "linux/arm64/v8"],
        "b1",
    );

    let tree = tempfile::tempdir().expect("tempdir");
    let dir = tree.path();
    fs::write(dir.join("deploy.yaml"), DEPLOY).expect("write");
    fs::write(dir.join("compose.yaml"), COMPOSE).expect("write");
    fs::create_dir(dir.join("tools")).expect("mkdir");
    fs::write(dir.join("tools/Dockerfile"), ARM).expect("write");
    git(dir, &["init", "--quiet"]);

    // 1. fix: everything pinned; the Dockerfile to one platform.
    let o = imagepin(dir, &reg, &["fix", "deploy.yaml", "compose.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let o = imagepin(dir, &reg, &["fix", "--platform", "linux/arm64", "tools"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(err(&o).contains("no longer multi-arch"), "{}", err(&o));
    let deploy = fs::read_to_string(dir.join("deploy.yaml")).expect("read");
    let compose = fs::read_to_string(dir.join("compose.yaml")).expect("read");
    let arm = fs::read_to_string(dir.join("tools/Dockerfile")).expect("read");
    assert_eq!(
        deploy,
        format!(
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: nginx:1.25@{nginx} # web\n  - image: nginx:latest@{latest}\n  - image: redis:7@{redis}\n"
        )
    );
    assert_eq!(
        compose,
        format!(
            "services:\n  a:\n    image: alpine:3.19@{alpine}\n  b:\n    image: \"nginx:1.25@{nginx}\"\n"
        )
    );
    assert_eq!(
        arm,
        format!("FROM busybox:latest@{} AS tools\n", bb_kids[1])
    );
    git(dir, &["add", "."]);
    git(dir, &["commit", "--quiet", "-m", "pinned"]);

    // 2. Nothing moved: update changes nothing and makes no commit.
    let o = imagepin(dir, &reg, &["update", "--commit"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(err(&o).contains("nothing to commit"), "{}", err(&o));
    assert_eq!(git(dir, &["rev-list", "--count", "HEAD"]).trim(), "1");

    // 3. Upstream moves nginx:1.25, nginx:latest and busybox:latest.
    let nginx2 = reg.push_image("library/nginx", "1.25", "n2");
    let (latest2, _) = reg.push_index(
        "library/nginx",
        "latest",
        &["linux/amd64", "linux/arm64"],
        "l2",
    );
    let (_, bb_kids2) = reg.push_index(
        "library/busybox",
        "latest",
        &["linux/amd64", "linux/arm64/v8"],
        "b2",
    );

    // verify: pins still exist; drift is information without --strict.
    let o = imagepin(dir, &reg, &["verify"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert!(
        out(&o).contains("deploy.yaml:5:12: drifted (info) nginx:1.25@"),
        "{}",
        out(&o)
    );
    let o = imagepin(dir, &reg, &["verify", "--strict"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));

    // 4. update --dry-run writes nothing; with --message-file it is refused (a message
    // for changes not made), and nothing is written either.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let msg = elsewhere.path().join("imagepin-msg.txt");
    let o = imagepin(dir, &reg, &["update", "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let o = imagepin(
        dir,
        &reg,
        &[
            "update",
            "--dry-run",
            "--message-file",
            msg.to_str().expect("utf8"),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert_eq!(
        fs::read_to_string(dir.join("deploy.yaml")).expect("read"),
        deploy
    );
    assert!(!msg.exists());

    // 5. update --commit: exactly the moved digests change, in one commit.
    let o = imagepin(dir, &reg, &["update", "--commit"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(
        fs::read_to_string(dir.join("deploy.yaml")).expect("read"),
        deploy.replace(&nginx, &nginx2).replace(&latest, &latest2)
    );
    assert_eq!(
        fs::read_to_string(dir.join("compose.yaml")).expect("read"),
        compose.replace(&nginx, &nginx2)
    );
    assert_eq!(
        fs::read_to_string(dir.join("tools/Dockerfile")).expect("read"),
        arm.replace(&bb_kids[1], &bb_kids2[1]),
        "a platform pin stays on its platform"
    );
    let text = out(&o);
    assert!(
        text.contains(&format!(
            "deploy.yaml:5:12: updated nginx:1.25 {} -> {}",
            &nginx[..19],
            &nginx2[..19]
        )),
        "{text}"
    );
    assert!(
        text.contains("compose.yaml:5:13: updated nginx:1.25"),
        "{text}"
    );
    assert_eq!(git(dir, &["rev-list", "--count", "HEAD"]).trim(), "2");
    let files = git(dir, &["show", "--name-only", "--format=", "HEAD"]);
    let mut files: Vec<&str> = files.lines().collect();
    files.sort();
    assert_eq!(files, ["compose.yaml", "deploy.yaml", "tools/Dockerfile"]);
    let body = git(dir, &["log", "-1", "--format=%B"]);
    assert!(
        body.starts_with("Update pinned image digests\n\n"),
        "{body}"
    );
    assert!(body.contains("busybox:latest  "), "{body}");
    assert!(
        !body.contains("redis"),
        "unchanged images are not listed: {body}"
    );
    assert_eq!(git(dir, &["status", "--porcelain"]).trim(), "");

    // 6. verify passes; a second update changes nothing.
    let o = imagepin(dir, &reg, &["verify", "--strict"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    assert!(!err(&o).contains("next:"), "{}", err(&o));
    let o = imagepin(dir, &reg, &["update"]);
    assert!(err(&o).contains("updated 0 pins"), "{}", err(&o));

    // 7. Delete the pinned nginx:1.25 manifest: verify names every place using it.
    reg.delete_manifest("library/nginx", &nginx2);
    let o = imagepin(dir, &reg, &["verify"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let text = out(&o);
    assert!(
        text.contains("deploy.yaml:5:12: dangling nginx:1.25@"),
        "{text}"
    );
    assert!(
        text.contains("compose.yaml:5:13: dangling nginx:1.25@"),
        "{text}"
    );
    assert_eq!(text.matches("dangling").count(), 2, "{text}");
    // Deleting the manifest deleted its tag too: there is no tag for update to follow,
    // so verify does not send the user there (a run with nothing wrong does not either).
    assert!(text.contains("nor its tag 1.25 exists"), "{text}");
    assert!(!err(&o).contains("next:"), "{}", err(&o));

    // Machine-readable forms of the same result.
    let o = imagepin(dir, &reg, &["verify", "--format", "github"]);
    let text = out(&o);
    assert!(
        text.contains("::error file=deploy.yaml,line=5,col=12,title=imagepin%3A dangling::"),
        "{text}"
    );
    // Its advice does not send the user to `update` either.
    assert!(
        text.contains("Check the repository name (and the mirror's path)"),
        "{text}"
    );
    assert!(!text.contains("Run `imagepin update`"), "{text}");
    let o = imagepin(dir, &reg, &["verify", "--format", "json"]);
    let doc: Value = serde_json::from_slice(&o.stdout).expect("json");
    let dangling: Vec<&Value> = doc["findings"]
        .as_array()
        .expect("array")
        .iter()
        .filter(|f| f["action"] == "dangling")
        .collect();
    assert_eq!(dangling.len(), 2);
    assert_eq!(dangling[0]["digest"], nginx2.as_str());
    let o = imagepin(dir, &reg, &["verify", "--format", "sarif"]);
    let sarif: Value = serde_json::from_slice(&o.stdout).expect("sarif json");
    support::sarif::assert_valid(&sarif);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["ruleId"], "dangling");
}

#[test]
fn update_outside_a_work_tree_refuses_to_commit() {
    let reg = TestRegistry::start();
    let tree = tempfile::tempdir().expect("tempdir");
    fs::write(tree.path().join("Dockerfile"), "FROM nginx:1.25\n").expect("write");
    let o = imagepin(tree.path(), &reg, &["update", "--commit"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        err(&o).contains("not inside a git work tree"),
        "{}",
        err(&o)
    );
}
