//! The walk's pre-pass for Terraform modules named in part. A module is the `.tf`,
//! `.tofu` and `.tf.json` files of one folder, and a variable declared in one of them
//! is used in others: the image a use pulls is pinned in the variable's default, in
//! whichever file declares it. A run that reaches only some files of a module (files
//! named on the command line, those `--changed-since` picks) would see a use without
//! its default, or a changed default without its uses. So the module's other files —
//! those a walk of its folder reaches, ignore files and `exclude:` counted — are
//! scanned too, as companions ([`Scope::Companion`]): only for what they share with the
//! named files, which is then found, reported and pinned where a scan of the whole
//! module finds it.

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::{Entry, walker};
use crate::config::Exclude;
use crate::scan::hcl::{Scope, terraform_syntax};
use crate::scan::kind_for;

/// The companions of the Terraform files among `entries`: the other files of their
/// modules that a walk of the module's folder reaches and `entries` lacks.
pub fn companions(entries: &[Entry], exclude: Option<&Exclude>) -> Vec<Entry> {
    let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    // Each module (by its real folder): the folder as given, and its files walked.
    let mut modules: BTreeMap<PathBuf, (PathBuf, Vec<OsString>)> = BTreeMap::new();
    let mut walked = HashSet::new();
    for e in entries {
        let (Some(name), Some(_)) = (e.path.file_name(), terraform_syntax(&e.path)) else {
            continue;
        };
        let given = e.path.parent().unwrap_or(Path::new("")).to_path_buf();
        let folder = real(&as_dir(&given));
        walked.insert(folder.join(name));
        let module = modules
            .entry(folder)
            .or_insert_with(|| (given.clone(), Vec::new()));
        // The same folder named two ways: one name, whatever order the walk met them in.
        if given < module.0 {
            module.0 = given;
        }
        module.1.push(name.to_os_string());
    }
    let mut out = Vec::new();
    for (folder, (given, named)) in modules {
        let missing = |name: &std::ffi::OsStr| {
            terraform_syntax(Path::new(name)).is_some() && !walked.contains(&folder.join(name))
        };
        // Most modules are walked whole: only then is the folder walked again.
        let Ok(listing) = std::fs::read_dir(&folder) else {
            continue;
        };
        if !listing.flatten().any(|f| missing(&f.file_name())) {
            continue;
        }
        let roots = [(as_dir(&given), folder.clone())];
        let walk = walker(&roots, exclude.cloned(), None)
            .max_depth(Some(1))
            .build();
        for file in walk.flatten() {
            let is_file = file.file_type().is_some_and(|t| t.is_file());
            if file.depth() != 1 || !is_file || !missing(file.file_name()) {
                continue;
            }
            let path = given.join(file.file_name());
            out.push(Entry {
                kind: kind_for(&path),
                path,
                scope: Scope::Companion {
                    named: named.clone(),
                },
            });
        }
    }
    out
}

/// A folder as given, `.` for the current one.
fn as_dir(given: &Path) -> PathBuf {
    if given.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        given.to_path_buf()
    }
}
