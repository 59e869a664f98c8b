//! JSON output: one object `{"findings": [...], "skipped": [...]}`. Each finding has
//! the fields `check` prints, plus, for commands that act, `action`, `old_digest`,
//! `new_digest` and `error`; each skipped file or document its `path`, `line` (null
//! for a whole file without one) and `reason`.

use std::io::{self, Write};

use serde::Serialize;

use super::{Action, Row, display_path};
use crate::finding::{Format, Skipped, Status};

#[derive(Serialize)]
struct FindingJson<'a> {
    path: String,
    line: usize,
    column: usize,
    reference: &'a str,
    registry: Option<&'a str>,
    repository: Option<&'a str>,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
    status: Status,
    format: Format,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    #[serde(flatten)]
    outcome: Option<Outcome<'a>>,
}

#[derive(Serialize)]
struct Outcome<'a> {
    action: Action,
    old_digest: Option<&'a str>,
    new_digest: Option<&'a str>,
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct SkippedJson<'a> {
    path: String,
    line: Option<usize>,
    reason: &'a str,
}

#[derive(Serialize)]
struct Doc<'a> {
    findings: Vec<FindingJson<'a>>,
    skipped: Vec<SkippedJson<'a>>,
}

pub fn rows(out: &mut impl Write, rows: &[Row<'_>], skipped: &[Skipped]) -> io::Result<()> {
    let skipped = skipped
        .iter()
        .map(|s| SkippedJson {
            path: display_path(&s.path),
            line: s.line,
            reason: &s.message,
        })
        .collect();
    let findings = rows
        .iter()
        .map(|row| {
            let f = row.finding;
            let r = f.reference.as_ref();
            FindingJson {
                path: display_path(&f.path),
                line: f.line,
                column: f.column,
                reference: &f.text,
                registry: r.map(|r| r.registry.as_str()),
                repository: r.map(|r| r.repository.as_str()),
                tag: r.and_then(|r| r.tag.as_deref()),
                digest: r.and_then(|r| r.digest.as_deref()),
                status: f.status,
                format: f.format,
                note: f.note.as_deref(),
                outcome: (row.action != Action::Reported).then_some(Outcome {
                    action: row.action,
                    old_digest: row.old_digest.as_deref(),
                    new_digest: row.new_digest.as_deref(),
                    error: row.message.as_deref(),
                }),
            }
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &Doc { findings, skipped })?;
    writeln!(out)
}
