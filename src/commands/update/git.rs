//! Recording an update in git through the `git` command line, which exists wherever CI
//! runs: one commit of exactly the files imagepin changed.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

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
