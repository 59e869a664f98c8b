//! Recording an update in git through the `git` command line, which exists wherever CI
//! runs: one commit of exactly the files imagepin changed, holding only imagepin's
//! changes. Everything that could make the commit fail or take in more is checked
//! before any file is written: the work tree, a git identity, files outside the work
//! tree, untracked files and files with other uncommitted changes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Run git with `args`; its stdout, or its last stderr line as the error.
fn git(args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("--commit needs the git command line: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("failed")
            .trim()
            .to_string())
    }
}

/// Refuse early without a git identity: the commit would fail after the files were
/// rewritten.
pub fn ensure_identity() -> Result<(), String> {
    for var in ["GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"] {
        git(&["var", var]).map_err(|e| {
            format!(
                "--commit: no git identity to commit with ({e}); set user.name and user.email (git config) or GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL and GIT_COMMITTER_NAME/GIT_COMMITTER_EMAIL"
            )
        })?;
    }
    Ok(())
}

/// Whether HEAD is detached (a commit there is on no branch).
pub fn head_is_detached() -> bool {
    git(&["symbolic-ref", "-q", "HEAD"]).is_err()
}

/// Refuse, before anything is written, files the commit could not hold or would hold
/// more of than imagepin's change: outside the work tree, untracked, or with other
/// changes (staged or not) against HEAD.
pub fn ensure_committable(files: &[&Path]) -> Result<(), String> {
    if files.is_empty() {
        return Ok(());
    }
    let top = git(&["rev-parse", "--show-toplevel"])?;
    let top = std::fs::canonicalize(top.trim()).unwrap_or_else(|_| PathBuf::from(top.trim()));
    for f in files {
        let real = std::fs::canonicalize(f).unwrap_or_else(|_| f.to_path_buf());
        if !real.starts_with(&top) {
            return Err(format!(
                "--commit: {} is outside the git work tree ({}); nothing was written",
                f.display(),
                top.display()
            ));
        }
    }
    let paths: Vec<String> = files
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["ls-files", "-z", "--full-name", "--"];
    args.extend(paths.iter().map(String::as_str));
    let tracked = git(&args)?;
    let tracked: Vec<&str> = tracked.split('\0').filter(|s| !s.is_empty()).collect();
    if tracked.len() < files.len() {
        let mut args = vec!["ls-files", "-z", "--full-name", "--others", "--"];
        args.extend(paths.iter().map(String::as_str));
        let untracked = git(&args)?;
        let name = untracked
            .split('\0')
            .find(|s| !s.is_empty())
            .unwrap_or("a file");
        return Err(format!(
            "--commit: {name} is not tracked by git; commit it first (imagepin commits only its own changes); nothing was written"
        ));
    }
    let mut args = vec![
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=no",
        "--",
    ];
    args.extend(paths.iter().map(String::as_str));
    let status = git(&args)?;
    if let Some(entry) = status.split('\0').find(|s| s.len() > 3) {
        return Err(format!(
            "--commit: {} has uncommitted changes; commit or stash them first (imagepin commits only its own digest changes); nothing was written",
            &entry[3..]
        ));
    }
    Ok(())
}

/// Refuse early, with a clear error, outside a git work tree.
pub fn ensure_work_tree() -> Result<(), String> {
    let out = Command::new("git")
        .args(["rev-parse", "--is-inside-work-tree"])
        .output()
        .map_err(|e| format!("--commit needs the git command line: {e}"))?;
    if out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "true" {
        Ok(())
    } else {
        Err("--commit: the current directory is not inside a git work tree".into())
    }
}

/// Stage and commit exactly `files` with `message`; returns the short commit id.
pub fn commit(files: &[PathBuf], message: &str) -> Result<String, String> {
    let run = |args: &[&str], input: Option<&str>| -> Result<String, String> {
        let mut child = Command::new("git")
            .args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("git {}: {e}", args[0]))?;
        if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin
                .write_all(text.as_bytes())
                .map_err(|e| format!("git {}: {e}", args[0]))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| format!("git {}: {e}", args[0]))?;
        if !out.status.success() {
            return Err(format!(
                "git {} failed: {}",
                args[0],
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let paths: Vec<String> = files
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let mut add = vec!["add", "--"];
    add.extend(paths.iter().map(String::as_str));
    run(&add, None)?;
    let mut commit = vec!["commit", "--quiet", "--file", "-", "--"];
    commit.extend(paths.iter().map(String::as_str));
    run(&commit, Some(message))?;
    run(&["rev-parse", "--short", "HEAD"], None)
}
