//! SARIF 2.1.0 output for code-scanning dashboards: one run, one rule per kind of
//! problem (untagged, mutable, drifted, dangling, unresolved, unrendered), one result
//! per problem with its file, line and column, and a tool execution notification per
//! skipped file or document. Only the fields used are emitted.
//!
//! A file is named as code scanning places it: by its path from the root of its git
//! work tree, relative to the base `%SRCROOT%` (`originalUriBaseIds` says where that
//! root was; a second work tree in the same run gets `%SRCROOT2%`, and so on), or, in
//! no work tree, by an absolute `file://` URI. Columns are UTF-16 code units, as
//! `columnKind` says: GitHub's example SARIF and CodeQL's own declare that unit.

use std::io::{self, Write};
use std::path::{Component, Path, PathBuf, Prefix};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};
use serde_json::{Map, Value, json};

use super::{Level, Problem, Row};
use crate::finding::{Place, STDIN, Skipped, WorkTrees};

pub fn rows(
    out: &mut impl Write,
    rows: &[Row<'_>],
    skipped: &[Skipped],
    strict: bool,
) -> io::Result<()> {
    let rules: Vec<Value> = Problem::ALL
        .iter()
        .map(|p| {
            json!({
                "id": p.id(),
                "shortDescription": {"text": p.description()},
                "fullDescription": {"text": p.description()},
                "help": {"text": p.help()},
                "defaultConfiguration": {"level": "error"},
            })
        })
        .collect();
    let mut places = Places::default();
    let results: Vec<Value> = rows
        .iter()
        .filter_map(|row| {
            let (problem, level) = row.problem(strict)?;
            let f = row.finding;
            let index = Problem::ALL.iter().position(|p| *p == problem).unwrap_or(0);
            let mut result = json!({
                "ruleId": problem.id(),
                "ruleIndex": index,
                "level": match level { Level::Error => "error", Level::Warning => "warning" },
                "message": {"text": row.problem_message(problem)},
            });
            if let Some(artifact) = places.artifact(&f.path) {
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": artifact,
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column_utf16,
                        },
                    },
                }]);
            }
            Some(result)
        })
        .collect();
    let notifications: Vec<Value> = skipped
        .iter()
        .map(|s| {
            let mut notification = json!({
                "level": if strict { "error" } else { "warning" },
                "message": {"text": s.message},
            });
            if let Some(artifact) = places.artifact(&s.path) {
                let mut location = json!({"artifactLocation": artifact});
                if let Some(line) = s.line {
                    location["region"] = json!({"startLine": line});
                }
                notification["locations"] = json!([{"physicalLocation": location}]);
            }
            notification
        })
        .collect();
    let mut run = json!({
        "tool": {"driver": {
            "name": "imagepin",
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://github.com/imagepin/imagepin",
            "rules": rules,
        }},
        "results": results,
        "columnKind": "utf16CodeUnits",
        "invocations": [{
            "executionSuccessful": true,
            "toolExecutionNotifications": notifications,
        }],
    });
    if let Some(bases) = places.bases() {
        run["originalUriBaseIds"] = bases;
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// The files of one run as SARIF names them, and the work-tree roots they are named
/// from, in the order first met.
#[derive(Default)]
struct Places {
    trees: WorkTrees,
    roots: Vec<PathBuf>,
}

impl Places {
    /// An `artifactLocation` for `path`, if it names anything.
    fn artifact(&mut self, path: &Path) -> Option<Value> {
        Some(match self.trees.place(path) {
            Place::WorkTree { root, path } => {
                let i = match self.roots.iter().position(|r| *r == root) {
                    Some(i) => i,
                    None => {
                        self.roots.push(root);
                        self.roots.len() - 1
                    }
                };
                json!({"uri": relative_uri(&path), "uriBaseId": base_id(i)})
            }
            Place::Outside(path) => json!({"uri": file_uri(&path)}),
            // No file: its name under the source root, as a name in a message would be.
            Place::Stdin => json!({"uri": encode(STDIN.as_ref()), "uriBaseId": base_id(0)}),
            Place::Nowhere => return None,
        })
    }

    /// `originalUriBaseIds`: where each base was on this machine.
    fn bases(&self) -> Option<Value> {
        if self.roots.is_empty() {
            return None;
        }
        let mut bases = Map::new();
        for (i, root) in self.roots.iter().enumerate() {
            let mut uri = file_uri(root);
            if !uri.ends_with('/') {
                uri.push('/');
            }
            bases.insert(
                base_id(i),
                json!({
                    "uri": uri,
                    "description": {"text": "The root of the git work tree holding these files."},
                }),
            );
        }
        Some(Value::Object(bases))
    }
}

/// `%SRCROOT%` for the first work tree, `%SRCROOT2%` for a second, and so on.
fn base_id(i: usize) -> String {
    match i {
        0 => "%SRCROOT%".to_string(),
        _ => format!("%SRCROOT{}%", i + 1),
    }
}

/// Everything but RFC 3986's unreserved characters is percent-encoded in a segment: a
/// `%`, a `:` or a backslash in a file name stays part of the name.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One path segment, percent-encoded from its bytes (UTF-8 for any name that is text).
fn encode(segment: &std::ffi::OsStr) -> String {
    percent_encode(segment.as_encoded_bytes(), SEGMENT).to_string()
}

/// A relative path (lexically normal: names only) as a relative reference.
fn relative_uri(path: &Path) -> String {
    let segments: Vec<String> = path.components().map(|c| encode(c.as_os_str())).collect();
    segments.join("/")
}

/// An absolute path as a `file://` URI: `file:///srv/a.yaml`, `file:///C:/a.yaml`,
/// `file://server/share/a.yaml`.
fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for c in path.components() {
        match c {
            Component::Prefix(p) => match p.kind() {
                Prefix::Disk(d) | Prefix::VerbatimDisk(d) => {
                    uri.push('/');
                    uri.push(char::from(d));
                    uri.push(':');
                }
                Prefix::UNC(server, share) | Prefix::VerbatimUNC(server, share) => {
                    uri.push_str(&encode(server));
                    uri.push('/');
                    uri.push_str(&encode(share));
                }
                _ => {
                    uri.push('/');
                    uri.push_str(&encode(p.as_os_str()));
                }
            },
            Component::Normal(name) => {
                uri.push('/');
                uri.push_str(&encode(name));
            }
            Component::RootDir | Component::CurDir | Component::ParentDir => {}
        }
    }
    if uri == "file://" {
        uri.push('/');
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_references_encode_all_but_unreserved_characters() {
        assert_eq!(
            relative_uri(Path::new("k8s/my deploy.yaml")),
            "k8s/my%20deploy.yaml"
        );
        assert_eq!(relative_uri(Path::new("ü.yaml")), "%C3%BC.yaml");
        assert_eq!(relative_uri(Path::new("a:b%c.yaml")), "a%3Ab%25c.yaml");
    }

    #[test]
    #[cfg(unix)]
    fn file_uris_keep_a_backslash_in_a_name() {
        assert_eq!(relative_uri(Path::new("tab\\tx.yaml")), "tab%5Ctx.yaml");
        assert_eq!(
            file_uri(Path::new("/srv/my app/tab\\tx.yaml")),
            "file:///srv/my%20app/tab%5Ctx.yaml"
        );
        assert_eq!(file_uri(Path::new("/")), "file:///");
    }

    #[test]
    #[cfg(windows)]
    fn file_uris_of_windows_paths() {
        assert_eq!(
            file_uri(Path::new(r"C:\Users\me\a b.yaml")),
            "file:///C:/Users/me/a%20b.yaml"
        );
        assert_eq!(
            file_uri(Path::new(r"\\server\share\a.yaml")),
            "file://server/share/a.yaml"
        );
        assert_eq!(relative_uri(Path::new(r"k8s\a.yaml")), "k8s/a.yaml");
    }
}
