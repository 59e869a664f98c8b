//! `update --commit` and `--message-file` against a real registry and real git: the
//! commit holds only imagepin's digest changes (a file with other uncommitted changes
//! is refused, before anything is written), every precondition is checked before any
//! file is written, a detached HEAD is warned about, and nothing changed writes no
//! message.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use support::err;
use support::git::{GIT_IDENTITY, git};
use support::registry::TestRegistry;

/// A repository whose `deploy.yaml` pins nginx:1.25 to a digest the tag has since
/// moved away from.
struct Moved {
    reg: TestRegistry,
    old: String,
    new: String,
    repo: tempfile::TempDir,
}

const DEPLOY: &str = "# web\nimage: nginx:1.25@OLD\nreplicas: 1\n";

fn moved() -> Moved {
    let reg = TestRegistry::start();
    let old = reg.push_image("library/nginx", "1.25", "n1");
    let new = reg.push_image("library/nginx", "1.25", "n2");
    let repo = tempfile::tempdir().expect("tempdir");
    git(repo.path(), &["init", "--quiet"]);
    fs::write(repo.path().join("deploy.yaml"), DEPLOY.replace("OLD", &old)).expect("write");
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "--quiet", "-m", "pinned"]);
    Moved {
        reg,
        old,
        new,
        repo,
    }
}

impl Moved {
    fn update(&self, dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_imagepin"))
            .arg("update")
            .args(args)
            .args(["--mirror", &format!("docker.io={}", self.reg.url())])
            .current_dir(dir)
            .env_remove("DOCKER_CONFIG")
            .envs(envs.iter().copied())
            .output()
            .expect("run imagepin")
    }

    fn deploy(&self) -> String {
        fs::read_to_string(self.repo.path().join("deploy.yaml")).expect("read")
    }

    fn commits(&self) -> String {
        git(self.repo.path(), &["rev-list", "--count", "HEAD"])
            .trim()
            .to_string()
    }
}

/// Another uncommitted edit in a file the update would change: refused before anything
/// is written, naming the file; nothing is committed.
#[test]
fn a_file_with_other_uncommitted_changes_is_refused_before_writing() {
    let m = moved();
    let edited = DEPLOY
        .replace("OLD", &m.old)
        .replace("replicas: 1", "replicas: 3");
    fs::write(m.repo.path().join("deploy.yaml"), &edited).expect("write");
    let o = m.update(m.repo.path(), &["--commit"], &GIT_IDENTITY);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        err(&o).contains("deploy.yaml has uncommitted changes"),
        "{}",
        err(&o)
    );
    assert_eq!(m.deploy(), edited, "nothing written");
    assert_eq!(m.commits(), "1");

    // Committed first, the same update commits exactly the digest change.
    git(m.repo.path(), &["commit", "--quiet", "-am", "scale"]);
    let o = m.update(m.repo.path(), &["--commit"], &GIT_IDENTITY);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let diff = git(m.repo.path(), &["show", "--format=", "-U0", "HEAD"]);
    let changed: Vec<&str> = diff
        .lines()
        .filter(|l| l.starts_with(['+', '-']) && !l.starts_with("+++") && !l.starts_with("---"))
        .collect();
    assert_eq!(
        changed,
        [
            format!("-image: nginx:1.25@{}", m.old),
            format!("+image: nginx:1.25@{}", m.new)
        ]
    );
}

/// A changed file outside the repository, a `--message-file` in a missing directory and
/// a missing git identity are each found before any file is written (exit 2).
#[test]
fn commit_preconditions_are_checked_before_any_file_is_written() {
    let m = moved();
    let outside = tempfile::tempdir().expect("tempdir");
    let stray = outside.path().join("stray.yaml");
    fs::write(&stray, DEPLOY.replace("OLD", &m.old)).expect("write");
    let before = m.deploy();

    let o = m.update(
        m.repo.path(),
        &["--commit", ".", stray.to_str().expect("utf8")],
        &GIT_IDENTITY,
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("outside the git work tree"), "{}", err(&o));
    assert_eq!(m.deploy(), before);
    assert_eq!(fs::read_to_string(&stray).expect("read"), before);

    let o = m.update(
        m.repo.path(),
        &["--commit", "--message-file", "no/such/dir/msg.txt"],
        &GIT_IDENTITY,
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("no/such/dir"), "{}", err(&o));
    assert_eq!(m.deploy(), before);

    let home = tempfile::tempdir().expect("tempdir");
    let home = home.path().to_str().expect("utf8");
    let no_identity = [
        ("HOME", home),
        ("XDG_CONFIG_HOME", home),
        ("GIT_CONFIG_NOSYSTEM", "1"),
        ("GIT_CONFIG_COUNT", "1"),
        ("GIT_CONFIG_KEY_0", "user.useConfigOnly"),
        ("GIT_CONFIG_VALUE_0", "true"),
    ];
    let o = m.update(m.repo.path(), &["--commit"], &no_identity);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("git identity"), "{}", err(&o));
    assert_eq!(m.deploy(), before);
    assert_eq!(m.commits(), "1");
}

/// On a detached HEAD the commit is made, with a warning that it is on no branch.
#[test]
fn a_detached_head_is_warned_about() {
    let m = moved();
    let head = git(m.repo.path(), &["rev-parse", "HEAD"]);
    git(m.repo.path(), &["checkout", "--quiet", head.trim()]);
    let o = m.update(m.repo.path(), &["--commit"], &GIT_IDENTITY);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(err(&o).contains("warning: HEAD is detached"), "{}", err(&o));
    assert_eq!(m.commits(), "2");
}

/// Nothing moved: `--message-file` writes nothing, and says so.
#[test]
fn message_file_with_nothing_changed_is_not_written() {
    let m = moved();
    let o = m.update(m.repo.path(), &[], &GIT_IDENTITY);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let msg = m.repo.path().join("msg.txt");
    let o = m.update(
        m.repo.path(),
        &["--message-file", msg.to_str().expect("utf8")],
        &GIT_IDENTITY,
    );
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(!msg.exists(), "no message for no change");
    assert!(
        err(&o).contains("nothing changed: no commit message written"),
        "{}",
        err(&o)
    );
    assert!(
        err(&o).contains("updated 0 pins in 0 files; 1 current"),
        "{}",
        err(&o)
    );
}

/// `--dry-run` and `--diff` write nothing: `--message-file` with either is refused
/// (exit 2), as `--commit` is, and neither the message nor the file is written.
#[test]
fn message_file_with_dry_run_or_diff_is_refused() {
    let m = moved();
    let msg = m.repo.path().join("msg.txt");
    for preview in ["--dry-run", "--diff"] {
        let o = m.update(
            m.repo.path(),
            &[preview, "--message-file", msg.to_str().expect("utf8")],
            &GIT_IDENTITY,
        );
        assert_eq!(o.status.code(), Some(2), "{preview}: {}", err(&o));
        assert!(err(&o).contains("cannot be used with"), "{}", err(&o));
        assert!(!msg.exists(), "{preview} wrote the message");
        assert_eq!(m.deploy(), DEPLOY.replace("OLD", &m.old));
    }
}
