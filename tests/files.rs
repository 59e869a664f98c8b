//! Files and processes: which ignore files count (only those inside the repository
//! being scanned), what a replaced file keeps (owner, group, mode), two runs at once
//! (no lost write), a reader that goes away (a quiet end), and named paths that are
//! not files or directories (a clear error). Signals: `tests/faults.rs`.

mod support;

use std::collections::BTreeSet;
use std::fs;
#[cfg(unix)]
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use support::faults::{Fault, FaultProxy};
use support::git::git;
#[cfg(unix)]
use support::golden::stdout;
use support::golden::{imagepin, stderr};
use support::registry::TestRegistry;

fn references(o: &Output) -> Vec<String> {
    let doc: Value = serde_json::from_slice(&o.stdout).expect("json");
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["reference"].as_str().expect("reference").to_string())
        .collect()
}

/// A `~/.gitignore`-style file above the repository (`*`, then `!*/`) hides nothing:
/// only ignore files inside the repository count, as with git. Inside it they do.
#[test]
fn gitignore_files_above_the_repository_do_not_count() {
    let home = tempfile::tempdir().expect("tempdir");
    fs::write(home.path().join(".gitignore"), "*\n!*/\n").expect("write");
    let repo = home.path().join("work/repo");
    fs::create_dir_all(repo.join("deploy")).expect("mkdir");
    git(&repo, &["init", "--quiet"]);
    fs::write(repo.join("deploy/app.yaml"), "image: nginx:1.25\n").expect("write");
    fs::write(repo.join("deploy/gen.yaml"), "image: generated:1\n").expect("write");
    fs::write(repo.join(".gitignore"), "gen.yaml\n").expect("write");
    for dir in [repo.clone(), repo.join("deploy")] {
        let o = imagepin(&dir, &["check", "--format", "json"]);
        assert_eq!(references(&o), ["nginx:1.25"], "{}", stderr(&o));
    }
}

#[cfg(unix)]
fn is_root() -> bool {
    fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(1) == 0
}

/// `fix` as root keeps the owner, group and mode of the file it replaces.
#[test]
#[cfg(unix)]
fn a_replaced_file_keeps_its_owner_group_and_mode() {
    if !is_root() {
        eprintln!("not root: ownership cannot be given away here; test not run");
        return;
    }
    let reg = TestRegistry::start();
    let digest = reg.push_image("library/nginx", "1.25", "n");
    let t = tempfile::tempdir().expect("tempdir");
    let p = t.path().join("app.yaml");
    fs::write(&p, "image: nginx:1.25\n").expect("write");
    std::os::unix::fs::chown(&p, Some(65534), Some(65534)).expect("chown");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).expect("chmod");
    let mirror = format!("docker.io={}", reg.url());
    let o = imagepin(t.path(), &["fix", "--mirror", &mirror]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(&p).expect("read"),
        format!("image: nginx:1.25@{digest}\n")
    );
    let meta = fs::metadata(&p).expect("meta");
    assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
    assert_eq!(meta.mode() & 0o7777, 0o640);
}

/// A user who may write a file but cannot give the replacement its owner (here:
/// nobody, in a world-writable directory, over a root-owned file) does not replace it:
/// the file keeps its owner and text, and the run says why.
#[test]
#[cfg(unix)]
fn a_file_whose_owner_cannot_be_kept_is_not_replaced() {
    if !is_root() {
        eprintln!("not root: cannot run imagepin as another user here; test not run");
        return;
    }
    let reg = TestRegistry::start();
    reg.push_image("library/nginx", "1.25", "n");
    let t = tempfile::tempdir().expect("tempdir");
    fs::set_permissions(t.path(), fs::Permissions::from_mode(0o777)).expect("chmod");
    let p = t.path().join("app.yaml");
    fs::write(&p, "image: nginx:1.25\n").expect("write");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o666)).expect("chmod");
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_imagepin"))
        .args(["fix", "--mirror", &format!("docker.io={}", reg.url())])
        .current_dir(t.path())
        .env("HOME", t.path())
        .env_remove("DOCKER_CONFIG")
        .output()
        .expect("setpriv");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("app.yaml: not written: its owner 0:0 cannot be kept"),
        "{}",
        stderr(&o)
    );
    assert_eq!(fs::read_to_string(&p).expect("read"), "image: nginx:1.25\n");
    let meta = fs::metadata(&p).expect("meta");
    assert_eq!((meta.uid(), meta.gid()), (0, 0));
    let names: Vec<_> = fs::read_dir(t.path()).expect("read_dir").collect();
    assert_eq!(names.len(), 1, "no temporary file left");
}

/// Two `fix` runs over the same files at the same moment (one per platform): each file
/// is pinned by exactly one of them, and the other says it changed on disk — never
/// both "pinned", the last writer silently winning.
#[test]
fn two_concurrent_runs_never_both_pin_a_file() {
    const FILES: usize = 300;
    let reg = TestRegistry::start();
    let (_, kids) = reg.push_index(
        "library/nginx",
        "1.25",
        &["linux/amd64", "linux/arm64"],
        "n",
    );
    // Both runs' first manifest request waits for the other's: they write together.
    let proxy = FaultProxy::start(&reg.host(), vec![(Fault::Barrier(2), 2)]);
    let t = tempfile::tempdir().expect("tempdir");
    for i in 0..FILES {
        fs::write(
            t.path().join(format!("f{i:03}.yaml")),
            "image: nginx:1.25\n",
        )
        .expect("write");
    }
    let run = |platform: &str| {
        Command::new(env!("CARGO_BIN_EXE_imagepin"))
            .args(["fix", "--format", "json", "--platform", platform])
            .args(["--mirror", &format!("docker.io={}", proxy.url())])
            .current_dir(t.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let (amd, arm) = (run("linux/amd64"), run("linux/arm64"));
    let outputs = [
        amd.wait_with_output().expect("wait"),
        arm.wait_with_output().expect("wait"),
    ];
    let mut pinned_by: Vec<BTreeSet<String>> = Vec::new();
    for o in &outputs {
        let doc: Value = serde_json::from_slice(&o.stdout).expect("json");
        let mut pinned = BTreeSet::new();
        for f in doc["findings"].as_array().expect("findings") {
            let path = f["path"].as_str().expect("path").to_string();
            match f["action"].as_str() {
                Some("pinned") => {
                    pinned.insert(path);
                }
                Some("failed") => assert!(
                    f["error"]
                        .as_str()
                        .unwrap_or("")
                        .contains("changed on disk"),
                    "{f}"
                ),
                other => panic!("unexpected action {other:?}: {f}"),
            }
        }
        pinned_by.push(pinned);
    }
    let both: Vec<&String> = pinned_by[0].intersection(&pinned_by[1]).collect();
    assert!(
        both.is_empty(),
        "{} files reported pinned by both runs",
        both.len()
    );
    assert_eq!(pinned_by[0].len() + pinned_by[1].len(), FILES);
    for (run, digest) in [(0, &kids[0]), (1, &kids[1])] {
        for path in &pinned_by[run] {
            assert_eq!(
                fs::read_to_string(t.path().join(path)).expect("read"),
                format!("image: nginx:1.25@{digest}\n"),
                "{path}: the run that reported it pinned wrote it"
            );
        }
    }
}

/// `imagepin fix --diff | head -1`: the reader goes away, the run ends quietly.
#[test]
fn a_closed_stdout_ends_diff_and_dry_run_quietly() {
    let reg = TestRegistry::start();
    reg.push_image("library/nginx", "1.25", "n");
    let t = tempfile::tempdir().expect("tempdir");
    for i in 0..40 {
        fs::write(
            t.path().join(format!("f{i:02}.yaml")),
            "image: nginx:1.25\n",
        )
        .expect("write");
    }
    let mirror = format!("docker.io={}", reg.url());
    for mode in ["--diff", "--dry-run"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_imagepin"))
            .args(["fix", mode, "--mirror", &mirror])
            .current_dir(t.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take());
        let o = child.wait_with_output().expect("wait");
        assert_eq!(o.status.code(), Some(0), "{mode}: {}", stderr(&o));
        assert!(
            !stderr(&o).to_lowercase().contains("broken pipe"),
            "{}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("error"), "{}", stderr(&o));
    }
    assert_eq!(
        fs::read_to_string(t.path().join("f00.yaml")).expect("read"),
        "image: nginx:1.25\n"
    );
}

/// A FIFO, a device and a symbolic link loop named on the command line: each a clear
/// error (exit 2), never "0 references" or "no such file".
#[test]
#[cfg(unix)]
fn named_paths_that_are_not_files_or_directories_are_refused() {
    let t = tempfile::tempdir().expect("tempdir");
    let fifo = t.path().join("pipe.yaml");
    let o = Command::new("mkfifo").arg(&fifo).output().expect("mkfifo");
    assert!(o.status.success());
    std::os::unix::fs::symlink("b.yaml", t.path().join("a.yaml")).expect("symlink");
    std::os::unix::fs::symlink("a.yaml", t.path().join("b.yaml")).expect("symlink");
    for (path, expected) in [
        ("pipe.yaml", "pipe.yaml: is a FIFO"),
        ("/dev/null", "/dev/null: is a character device"),
        ("a.yaml", "a.yaml: symbolic link loop"),
    ] {
        let o = imagepin(t.path(), &["check", path]);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{path}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        assert!(stderr(&o).contains(expected), "{path}: {}", stderr(&o));
    }
}

/// A file reached both through a directory and through a symbolic link named beside
/// it is read once, under its own name, in whichever order the paths are given: `fix`
/// pins it rather than refusing to write "a symbolic link" whose target it was also
/// given.
#[test]
#[cfg(unix)]
fn a_file_named_through_a_link_and_a_directory_is_read_under_its_own_name() {
    let reg = TestRegistry::start();
    reg.push_image("library/alpine", "3.19", "a");
    let mirror = format!("docker.io={}", reg.url());
    for order in [["ro", "link.Dockerfile"], ["link.Dockerfile", "ro"]] {
        let t = tempfile::tempdir().expect("tempdir");
        fs::create_dir(t.path().join("ro")).expect("mkdir");
        fs::write(t.path().join("ro/Dockerfile"), "FROM alpine:3.19\n").expect("write");
        std::os::unix::fs::symlink("ro/Dockerfile", t.path().join("link.Dockerfile"))
            .expect("symlink");
        let check = imagepin(t.path(), &["check", "--format", "json", order[0], order[1]]);
        let doc: Value = serde_json::from_slice(&check.stdout).expect("json");
        let paths: Vec<&str> = doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| f["path"].as_str().expect("path"))
            .collect();
        assert_eq!(paths, ["ro/Dockerfile"], "{order:?}");
        let o = imagepin(t.path(), &["fix", "--mirror", &mirror, order[0], order[1]]);
        assert_eq!(o.status.code(), Some(0), "{order:?}: {}", stderr(&o));
        assert!(
            fs::read_to_string(t.path().join("ro/Dockerfile"))
                .expect("read")
                .starts_with("FROM alpine:3.19@sha256:"),
            "{order:?}"
        );
    }
}
