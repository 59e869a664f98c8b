//! Only what changed: the files `git diff --name-only REF` lists, plus untracked files
//! git does not ignore (`git ls-files --others --exclude-standard`), in the repository
//! of each scanned path, for pre-commit hooks and pull-request jobs on large
//! repositories (`--changed-since REF`). The walk then visits only directories on the
//! way to such a file, so the cost follows the change, not the tree.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The changed files, as real (canonical) paths, and every directory above them.
#[derive(Debug, Clone, Default)]
pub struct ChangedFiles {
    files: HashSet<PathBuf>,
    dirs: HashSet<PathBuf>,
}

impl ChangedFiles {
    /// What changed since `reference` in the repositories holding `roots`. An error
    /// (no git, not a repository, an unknown ref) says which and why.
    pub fn since(reference: &str, roots: &[PathBuf]) -> Result<ChangedFiles, String> {
        // git would read it as an option (`--output=FILE` writes a file, a filter
        // empties the list): no ref or revision starts with `-`.
        if reference.starts_with('-') {
            return Err(format!(
                "--changed-since {reference}: not a git ref (a ref never starts with `-`)"
            ));
        }
        let mut tops = Vec::new();
        for root in roots {
            let top = toplevel(root, reference)?;
            if !tops.contains(&top) {
                tops.push(top);
            }
        }
        let mut changed = ChangedFiles::default();
        for top in &tops {
            let diff = git(
                top,
                &["diff", "--name-only", "-z", reference, "--"],
                reference,
            )?;
            let untracked = git(
                top,
                &["ls-files", "--others", "--exclude-standard", "-z"],
                reference,
            )?;
            for name in diff.split(|&b| b == 0).chain(untracked.split(|&b| b == 0)) {
                if !name.is_empty() {
                    changed.add(top.join(path_from_bytes(name)));
                }
            }
        }
        Ok(changed)
    }

    fn add(&mut self, file: PathBuf) {
        let mut dir = file.parent();
        while let Some(d) = dir {
            if !self.dirs.insert(d.to_path_buf()) {
                break;
            }
            dir = d.parent();
        }
        self.files.insert(file);
    }

    /// Whether this real path is a changed file.
    pub fn has_file(&self, real: &Path) -> bool {
        self.files.contains(real)
    }

    /// Whether a changed file lies somewhere below this real directory.
    pub fn has_below(&self, real: &Path) -> bool {
        self.dirs.contains(real)
    }
}

/// The work tree `path` is in, as a real path.
fn toplevel(path: &Path, reference: &str) -> Result<PathBuf, String> {
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    };
    let out = git(&dir, &["rev-parse", "--show-toplevel"], reference)?;
    let top = PathBuf::from(String::from_utf8_lossy(&out).trim_end_matches('\n'));
    std::fs::canonicalize(&top).map_err(|e| format!("--changed-since: {}: {e}", top.display()))
}

/// Run git in `dir`; its output, or an error naming the command and what git said.
fn git(dir: &Path, args: &[&str], reference: &str) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("--changed-since {reference}: cannot run git: {e}"))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        let said = said.lines().next().unwrap_or("").trim();
        return Err(format!(
            "--changed-since {reference}: `git {}` failed in {}: {said}",
            args.join(" "),
            dir.display()
        ));
    }
    Ok(out.stdout)
}

#[cfg(unix)]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}
