//! Platforms against a real registry: `fix --platform` pins only a manifest of the
//! platform asked for (a single-platform image of another one is an error, an index
//! without it lists the platforms it has), `update` keeps a platform pin on its platform
//! whatever the tag becomes, and re-pins a pin whose digest was deleted. The requests
//! `verify`, `update` and `fix --platform` make are counted in the registry's own
//! access log: the fewest each answer needs.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use support::registry::TestRegistry;
use support::{err, out};

fn imagepin(dir: &Path, reg: &TestRegistry, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imagepin"))
        .args(args)
        .args(["--mirror", &format!("docker.io={}", reg.url())])
        .current_dir(dir)
        .output()
        .expect("run imagepin")
}

fn tree(dockerfile: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("Dockerfile"), dockerfile).expect("write");
    dir
}

fn dockerfile(dir: &tempfile::TempDir) -> String {
    fs::read_to_string(dir.path().join("Dockerfile")).expect("read")
}

/// (method, path) of the manifest and blob requests served since `mark`, sorted.
fn requests_since(reg: &TestRegistry, mark: usize) -> Vec<(String, String)> {
    let mut seen: Vec<(String, String)> = reg
        .requests_since(mark)
        .into_iter()
        .filter(|r| r.path.contains("/manifests/") || r.path.contains("/blobs/"))
        .map(|r| (r.method, r.path))
        .collect();
    seen.sort();
    seen
}

#[test]
fn fix_platform_refuses_a_single_platform_image_of_another_platform() {
    let reg = TestRegistry::start();
    let redis = reg.push_image("library/redis", "7", "r"); // linux/amd64 only
    let dir = tree("FROM redis:7\n");

    let o = imagepin(dir.path(), &reg, &["fix", "--platform", "linux/arm64"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(dockerfile(&dir), "FROM redis:7\n");
    assert!(
        err(&o).contains(
            "Dockerfile:1:6: redis:7: docker.io (mirror 127.0.0.1:"
        ) && err(&o).contains(
            "docker.io/library/redis:7 has no linux/arm64 image: it is a single-platform image for linux/amd64"
        ),
        "{}",
        err(&o)
    );

    // Its own platform pins it, as it is.
    let o = imagepin(dir.path(), &reg, &["fix", "--platform", "linux/amd64"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(dockerfile(&dir), format!("FROM redis:7@{redis}\n"));
}

#[test]
fn an_index_without_the_platform_says_which_it_has() {
    let reg = TestRegistry::start();
    reg.push_index(
        "library/nginx",
        "1.25",
        &["linux/amd64", "linux/arm64/v8"],
        "n",
    );
    let dir = tree("FROM nginx:1.25\n");
    let o = imagepin(dir.path(), &reg, &["fix", "--platform", "linux/s390x"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(
        err(&o).contains(
            "docker.io/library/nginx:1.25 has no linux/s390x image; its index has linux/amd64, linux/arm64/v8"
        ),
        "{}",
        err(&o)
    );
    assert!(
        !err(&o).contains("does the tag or repository exist"),
        "{}",
        err(&o)
    );
    assert_eq!(dockerfile(&dir), "FROM nginx:1.25\n");
}

#[test]
fn fix_platform_takes_one_get_per_tag() {
    let reg = TestRegistry::start();
    let (_, kids) = reg.push_index(
        "library/nginx",
        "1.25",
        &["linux/amd64", "linux/arm64"],
        "n",
    );
    let (_, bb) = reg.push_index("library/busybox", "1", &["linux/amd64", "linux/arm64"], "b");
    let dir = tree("FROM nginx:1.25\nFROM busybox:1 AS b\nFROM nginx:1.25 AS c\n");
    let mark = reg.mark();
    let lock = dir.path().join("lock.json");
    let lock_arg = lock.to_str().expect("utf-8 path");
    let o = imagepin(
        dir.path(),
        &reg,
        &[
            "fix",
            "Dockerfile",
            "--platform",
            "linux/arm64",
            "--lock",
            lock_arg,
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(
        dockerfile(&dir),
        format!(
            "FROM nginx:1.25@{}\nFROM busybox:1@{} AS b\nFROM nginx:1.25@{} AS c\n",
            kids[1], bb[1], kids[1]
        )
    );
    // The lock records the platform manifest's media type, as its index gives it.
    let lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lock).expect("lock")).expect("json");
    let types: Vec<&str> = lock["references"]
        .as_object()
        .expect("references")
        .values()
        .map(|e| e["media_type"].as_str().unwrap_or("null"))
        .collect();
    assert_eq!(
        types, ["application/vnd.oci.image.manifest.v1+json"; 2],
        "{lock}"
    );
    let seen = requests_since(&reg, mark);
    assert_eq!(
        seen,
        [
            ("GET".into(), "/v2/library/busybox/manifests/1".into()),
            ("GET".into(), "/v2/library/nginx/manifests/1.25".into()),
        ]
    );
}

#[test]
fn update_keeps_a_platform_pin_on_its_platform_or_fails() {
    let reg = TestRegistry::start();
    let (_, kids) = reg.push_index(
        "library/nginx",
        "1.25",
        &["linux/amd64", "linux/arm64"],
        "n1",
    );
    let pinned = format!("FROM nginx:1.25@{}\n", kids[1]);
    let dir = tree(&pinned);

    // The tag becomes a single-platform amd64 image: the arm64 pin cannot follow it.
    reg.push_image("library/nginx", "1.25", "n2");
    let o = imagepin(dir.path(), &reg, &["update"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert_eq!(dockerfile(&dir), pinned, "the pin stays where it was");
    assert!(
        err(&o).contains(
            "docker.io/library/nginx:1.25 no longer has a linux/arm64 image: it is now a single-platform image for linux/amd64"
        ),
        "{}",
        err(&o)
    );
    // Annotated under the platform rule, with advice about platforms, not networks.
    let o = imagepin(dir.path(), &reg, &["update", "--format", "github"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let annotation = out(&o);
    assert!(
        annotation.contains("title=imagepin%3A platform::"),
        "{annotation}"
    );
    assert!(
        annotation.contains("The message lists the platforms the image has."),
        "{annotation}"
    );
    assert!(!annotation.contains("network"), "{annotation}");
    // Never the advice to drop the digest and pin what the tag is now: an amd64-only
    // image, for an arm64 pin.
    assert!(!annotation.contains("remove the digest"), "{annotation}");

    // A single-platform arm64 image it may follow.
    let arm = reg.push_platform_image("library/nginx", "1.25", "linux/arm64", "n3");
    let o = imagepin(dir.path(), &reg, &["update"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(dockerfile(&dir), format!("FROM nginx:1.25@{arm}\n"));

    // An index again: its arm64 entry, never the index.
    let (index, kids) = reg.push_index(
        "library/nginx",
        "1.25",
        &["linux/amd64", "linux/arm64"],
        "n4",
    );
    let o = imagepin(dir.path(), &reg, &["update"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(dockerfile(&dir), format!("FROM nginx:1.25@{}\n", kids[1]));
    assert!(!dockerfile(&dir).contains(&index));
}

#[test]
fn update_repins_a_pin_whose_digest_was_deleted() {
    let reg = TestRegistry::start();
    let (old, _) = reg.push_index(
        "library/nginx",
        "1.25",
        &["linux/amd64", "linux/arm64"],
        "n1",
    );
    let (new, kids) = reg.push_index(
        "library/nginx",
        "1.25",
        &["linux/amd64", "linux/arm64"],
        "n2",
    );
    reg.delete_manifest("library/nginx", &old);
    let pinned = format!("FROM nginx:1.25@{old}\n");

    // verify finds it dangling, its tag alive: update is what to run.
    let dir = tree(&pinned);
    let o = imagepin(dir.path(), &reg, &["verify"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(out(&o).contains("dangling nginx:1.25@"), "{}", out(&o));
    assert!(
        err(&o).contains("next: `imagepin update` moves dangling and drifted pins"),
        "{}",
        err(&o)
    );

    // To what the tag points to now: the index, with a warning.
    let o = imagepin(dir.path(), &reg, &["update"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(dockerfile(&dir), format!("FROM nginx:1.25@{new}\n"));
    assert!(
        out(&o).contains(&format!(
            "updated nginx:1.25 {} -> {}",
            &old[..19],
            &new[..19]
        )),
        "{}",
        out(&o)
    );
    assert!(
        err(&o).contains(&format!(
            "warning: Dockerfile:1:6: nginx:1.25@{old}: the pinned {} no longer exists, so the platform it pinned (if it pinned one) cannot be learned; re-pinned to the tag's multi-arch index",
            &old[..19]
        )),
        "{}",
        err(&o)
    );

    // Or to the platform given.
    let dir = tree(&pinned);
    let o = imagepin(dir.path(), &reg, &["update", "--platform", "linux/arm64"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(dockerfile(&dir), format!("FROM nginx:1.25@{}\n", kids[1]));
    assert!(
        err(&o).contains("re-pinned to the tag's linux/arm64 image (--platform)"),
        "{}",
        err(&o)
    );
}

#[test]
fn verify_and_update_ask_only_what_the_answer_needs() {
    let reg = TestRegistry::start();
    let (nginx, _) = reg.push_index(
        "library/nginx",
        "1.25",
        &["linux/amd64", "linux/arm64"],
        "n",
    );
    let (_, bb) = reg.push_index("library/busybox", "1", &["linux/amd64", "linux/arm64"], "b");
    let redis = reg.push_image("library/redis", "7", "r");
    // An index pin twice, a platform pin twice (one tag), a single-platform pin.
    let dir = tree(&format!(
        "FROM nginx:1.25@{nginx}\nFROM nginx:1.25@{nginx} AS a\nFROM busybox:1@{} AS b\nFROM busybox:1@{} AS c\nFROM redis:7@{redis} AS d\n",
        bb[1], bb[1]
    ));

    // Nothing drifted: one HEAD of each tag; for the platform pin (once), a HEAD says
    // it is one, and its tag's index lists it.
    let mark = reg.mark();
    let o = imagepin(dir.path(), &reg, &["verify", "--strict"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    let busybox_index = reg.head_digest("library/busybox", "1").expect("index");
    let unmoved: [(String, String); 5] = [
        (
            "GET".into(),
            format!("/v2/library/busybox/manifests/{busybox_index}"),
        ),
        ("HEAD".into(), "/v2/library/busybox/manifests/1".into()),
        (
            "HEAD".into(),
            format!("/v2/library/busybox/manifests/{}", bb[1]),
        ),
        ("HEAD".into(), "/v2/library/nginx/manifests/1.25".into()),
        ("HEAD".into(), "/v2/library/redis/manifests/7".into()),
    ];
    assert_eq!(requests_since(&reg, mark), unmoved);

    // With --platform the pins are known to be platform pins: one GET of each tag
    // answers (the index pins' too: their tag's own digest).
    let mark = reg.mark();
    let o = imagepin(
        dir.path(),
        &reg,
        &["verify", "--strict", "--platform", "linux/arm64"],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    let seen = requests_since(&reg, mark);
    assert_eq!(
        seen,
        [
            ("GET".into(), "/v2/library/busybox/manifests/1".into()),
            ("GET".into(), "/v2/library/nginx/manifests/1.25".into()),
            ("GET".into(), "/v2/library/redis/manifests/7".into()),
        ]
    );

    // update with nothing moved asks the same: the tags' HEADs; for the platform pin,
    // a HEAD says it is one, and its tag's index still lists it.
    let mark = reg.mark();
    let o = imagepin(dir.path(), &reg, &["update"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(requests_since(&reg, mark), unmoved);

    // nginx moves: its index pin costs one HEAD of the old digest, and no GET.
    let (nginx2, _) = reg.push_index(
        "library/nginx",
        "1.25",
        &["linux/amd64", "linux/arm64"],
        "n2",
    );
    let dir = tree(&format!(
        "FROM nginx:1.25@{nginx}\nFROM nginx:1.25@{nginx} AS a\nFROM redis:7@{redis} AS d\n"
    ));
    let mark = reg.mark();
    let o = imagepin(dir.path(), &reg, &["update", "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o).matches(&nginx2[..19]).count(), 2, "{}", out(&o));
    let heads: [(String, String); 3] = [
        ("HEAD".into(), "/v2/library/nginx/manifests/1.25".into()),
        (
            "HEAD".into(),
            format!("/v2/library/nginx/manifests/{nginx}"),
        ),
        ("HEAD".into(), "/v2/library/redis/manifests/7".into()),
    ];
    assert_eq!(requests_since(&reg, mark), heads);
    // verify: a drifted index pin costs the same, a HEAD of the tag and of the pin.
    let mark = reg.mark();
    let o = imagepin(dir.path(), &reg, &["verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(
        out(&o).matches("drifted (info) nginx:1.25@").count(),
        2,
        "{}",
        out(&o)
    );
    assert_eq!(requests_since(&reg, mark), heads);
    // verify --platform sees the moved tag too: drifted, the old digest still there.
    let o = imagepin(dir.path(), &reg, &["verify", "--platform", "linux/arm64"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(
        out(&o).matches("drifted (info) nginx:1.25@").count(),
        2,
        "{}",
        out(&o)
    );
}

/// `update --platform`: each tag's manifest is fetched at once, so a platform pin its
/// index still lists costs one GET; a moved one its own manifest and image config too,
/// which keep it on its own platform even when that is not the one given; a moved index
/// pin follows its tag.
#[test]
fn update_platform_fetches_each_tag_once_and_keeps_pins_on_their_platform() {
    let reg = TestRegistry::start();
    let (_, bb) = reg.push_index("library/busybox", "1", &["linux/amd64", "linux/arm64"], "b");
    let (_, old) = reg.push_index(
        "library/nginx",
        "1.25",
        &["linux/amd64", "linux/arm64"],
        "n",
    );
    let (redis_old, _) = reg.push_index("library/redis", "7", &["linux/amd64", "linux/arm64"], "r");
    // nginx and redis move; busybox does not.
    let (_, new) = reg.push_index(
        "library/nginx",
        "1.25",
        &["linux/amd64", "linux/arm64"],
        "n2",
    );
    let (redis_new, _) =
        reg.push_index("library/redis", "7", &["linux/amd64", "linux/arm64"], "r2");
    // busybox's arm64 pin, nginx's arm64 pin (not the platform given), redis's index pin.
    let dir = tree(&format!(
        "FROM busybox:1@{}\nFROM nginx:1.25@{} AS a\nFROM redis:7@{redis_old} AS b\n",
        bb[1], old[1]
    ));
    let mark = reg.mark();
    let o = imagepin(dir.path(), &reg, &["update", "--platform", "linux/amd64"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(
        dockerfile(&dir),
        format!(
            "FROM busybox:1@{}\nFROM nginx:1.25@{} AS a\nFROM redis:7@{redis_new} AS b\n",
            bb[1], new[1]
        )
    );
    let mut seen: Vec<String> = requests_since(&reg, mark)
        .into_iter()
        .filter(|(_, path)| path.contains("/manifests/") || path.contains("/blobs/"))
        .map(|(method, path)| {
            let kind = if path.contains("/blobs/") {
                "blob"
            } else {
                "manifest"
            };
            let repo = path.split('/').nth(3).unwrap_or("").to_string();
            format!("{method} {repo} {kind}")
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            "GET busybox manifest",
            "GET nginx blob",
            "GET nginx manifest",
            "GET nginx manifest",
            "GET redis manifest",
            "GET redis manifest",
        ]
    );
}

/// Without `--platform`, once most of a registry's pins looked up so far (at least
/// four) were platform pins, the lookups still to start there fetch the tag's manifest
/// at once, as with the flag: asked one at a time, the first four platform pins cost
/// three requests each (the tag's HEAD, the pin's HEAD, the index), every later one a
/// single GET. The answers are the same whichever way a pin is asked.
#[test]
fn platform_pins_seen_make_later_lookups_fetch_the_tag_at_once() {
    let reg = TestRegistry::start();
    let platforms = ["linux/amd64", "linux/arm64"];
    let mut lines = String::new();
    for i in 0..7 {
        let (_, children) =
            reg.push_index(&format!("library/p{i}"), "1", &platforms, &format!("p{i}"));
        lines.push_str(&format!("FROM p{i}:1@{} AS s{i}\n", children[i % 2]));
    }
    let dir = tree(&lines);
    let count =
        |seen: &[(String, String)], method: &str| seen.iter().filter(|(m, _)| m == method).count();

    let mark = reg.mark();
    let o = imagepin(
        dir.path(),
        &reg,
        &["verify", "--strict", "--concurrency", "1"],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    let seen = requests_since(&reg, mark);
    assert_eq!(
        (count(&seen, "HEAD"), count(&seen, "GET")),
        (8, 7),
        "{seen:?}"
    );

    let mark = reg.mark();
    let o = imagepin(dir.path(), &reg, &["update", "--concurrency", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(dockerfile(&dir), lines, "nothing moved");
    let seen = requests_since(&reg, mark);
    assert_eq!(
        (count(&seen, "HEAD"), count(&seen, "GET")),
        (8, 7),
        "{seen:?}"
    );

    // Add an index pin, a single-platform pin and, after the tags move, every kind must
    // come out right whichever way it is asked: platform pins stay on their platform,
    // the index pin follows its tag, the single-platform pin moves to the new image.
    let (idx_old, _) = reg.push_index("library/idx", "1", &platforms, "i");
    let single_old = reg.push_image("library/single", "1", "s");
    let mut with_others = lines.clone();
    with_others.push_str(&format!(
        "FROM idx:1@{idx_old} AS i\nFROM single:1@{single_old} AS s\n"
    ));
    let mut expected = String::new();
    for i in 0..7 {
        let (_, children) = reg.push_index(
            &format!("library/p{i}"),
            "1",
            &platforms,
            &format!("p{i}-2"),
        );
        expected.push_str(&format!("FROM p{i}:1@{} AS s{i}\n", children[i % 2]));
    }
    let (idx_new, _) = reg.push_index("library/idx", "1", &platforms, "i2");
    let single_new = reg.push_image("library/single", "1", "s2");
    expected.push_str(&format!(
        "FROM idx:1@{idx_new} AS i\nFROM single:1@{single_new} AS s\n"
    ));
    fs::write(dir.path().join("Dockerfile"), &with_others).expect("write");
    let o = imagepin(dir.path(), &reg, &["update", "--concurrency", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(dockerfile(&dir), expected);
}
