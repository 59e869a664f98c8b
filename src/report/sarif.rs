//! SARIF 2.1.0 output for code-scanning dashboards: one run, one rule per kind of
//! problem (untagged, mutable, drifted, dangling, unresolved, unrendered), one result
//! per problem with its file, line and column, and a tool execution notification per
//! skipped file or document. Only the fields used are emitted.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::{Level, Problem, Row, display_path};
use crate::finding::Skipped;

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
                "help": {"text": p.help()},
                "defaultConfiguration": {"level": "error"},
            })
        })
        .collect();
    let results: Vec<Value> = rows
        .iter()
        .filter_map(|row| {
            let (problem, level) = row.problem(strict)?;
            let f = row.finding;
            let index = Problem::ALL.iter().position(|p| *p == problem).unwrap_or(0);
            Some(json!({
                "ruleId": problem.id(),
                "ruleIndex": index,
                "level": match level { Level::Error => "error", Level::Warning => "warning" },
                "message": {"text": row.problem_message(problem)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {
                            "uri": uri(&display_path(&f.path)),
                            "uriBaseId": "%SRCROOT%",
                        },
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                        },
                    },
                }],
            }))
        })
        .collect();
    let notifications: Vec<Value> = skipped
        .iter()
        .map(|s| {
            let mut location = json!({
                "artifactLocation": {"uri": uri(&display_path(&s.path)), "uriBaseId": "%SRCROOT%"},
            });
            if let Some(line) = s.line {
                location["region"] = json!({"startLine": line});
            }
            json!({
                "level": if strict { "error" } else { "warning" },
                "message": {"text": s.message},
                "locations": [{"physicalLocation": location}],
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "imagepin",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/imagepin/imagepin",
                "rules": rules,
            }},
            "results": results,
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// A relative path as a URI reference: `/` separators, everything outside the
/// unreserved set percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(uri("k8s/my deploy.yaml"), "k8s/my%20deploy.yaml");
        assert_eq!(uri("ü.yaml"), "%C3%BC.yaml");
    }
}
