//! Reporting: the only place that prints. Findings and results are rendered as text for
//! people or JSON for machines on stdout; warnings, errors and summaries go to stderr.
//! Renderers only read the data the commands hand them.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use crate::cli::OutputFormat;
use crate::finding::{Finding, Status};
use crate::scan::Skipped;

/// `error: …` on stderr.
pub fn error(message: &str) {
    let _ = writeln!(io::stderr().lock(), "error: {message}");
}

/// `warning: …` on stderr.
pub fn warning(message: &str) {
    let _ = writeln!(io::stderr().lock(), "warning: {message}");
}

/// A line of summary on stderr.
pub fn summary(message: &str) {
    let _ = writeln!(io::stderr().lock(), "{message}");
}

/// Files that were not scanned, one warning each.
pub fn skipped(skipped: &[Skipped]) {
    for s in skipped {
        warning(&s.to_string());
    }
}

/// A path as the user should see it: without a leading `./`.
pub fn display_path(path: &Path) -> String {
    crate::scan::display_path(path)
}

/// The JSON shape of a finding, shared by every command.
#[derive(Serialize)]
pub struct FindingJson<'a> {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub reference: &'a str,
    pub registry: Option<&'a str>,
    pub repository: Option<&'a str>,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
    pub status: Status,
    pub format: crate::finding::Format,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'a str>,
}

impl<'a> FindingJson<'a> {
    pub fn new(f: &'a Finding) -> Self {
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
        }
    }
}

/// `check`: every finding, then a count by status on stderr.
pub fn check<'a>(
    out: &mut impl Write,
    findings: impl Iterator<Item = &'a Finding>,
    format: OutputFormat,
) -> io::Result<()> {
    let findings: Vec<&Finding> = findings.collect();
    match format {
        OutputFormat::Json => {
            #[derive(Serialize)]
            struct Doc<'a> {
                findings: Vec<FindingJson<'a>>,
            }
            let doc = Doc {
                findings: findings.iter().map(|f| FindingJson::new(f)).collect(),
            };
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            for f in &findings {
                write!(
                    out,
                    "{}:{}:{}: {:<9} {} ({})",
                    display_path(&f.path),
                    f.line,
                    f.column,
                    f.status.as_str(),
                    f.text,
                    f.format.as_str()
                )?;
                if let Some(note) = &f.note {
                    write!(out, ": {note}")?;
                }
                writeln!(out)?;
            }
        }
    }
    let count = |s: Status| findings.iter().filter(|f| f.status == s).count();
    summary(&format!(
        "{} references: {} pinned, {} mutable, {} untagged, {} templated, {} invalid",
        findings.len(),
        count(Status::Pinned),
        count(Status::Mutable),
        count(Status::Untagged),
        count(Status::Templated),
        count(Status::Invalid),
    ));
    Ok(())
}

/// What `fix` did (or would do) with one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Pinned,
    WouldPin,
    Failed,
    /// Resolved, but the file has no place for a digest (Helm values without one).
    Skipped,
    Unchanged,
}

/// One row of a `fix` report.
pub struct FixRow<'a> {
    pub finding: &'a Finding,
    pub action: Action,
    pub new_reference: Option<String>,
    pub new_digest: Option<String>,
    pub error: Option<String>,
}

/// `fix`: one line per reference it pinned, would pin, or failed on.
pub fn fix(out: &mut impl Write, rows: &[FixRow<'_>], format: OutputFormat) -> io::Result<()> {
    match format {
        OutputFormat::Json => {
            #[derive(Serialize)]
            struct Row<'a> {
                #[serde(flatten)]
                finding: FindingJson<'a>,
                action: Action,
                new_digest: Option<&'a str>,
                error: Option<&'a str>,
            }
            #[derive(Serialize)]
            struct Doc<'a> {
                findings: Vec<Row<'a>>,
            }
            let doc = Doc {
                findings: rows
                    .iter()
                    .map(|r| Row {
                        finding: FindingJson::new(r.finding),
                        action: r.action,
                        new_digest: r.new_digest.as_deref(),
                        error: r.error.as_deref(),
                    })
                    .collect(),
            };
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            for r in rows {
                let f = r.finding;
                let place = format!("{}:{}:{}", display_path(&f.path), f.line, f.column);
                match r.action {
                    Action::Pinned | Action::WouldPin => {
                        let verb = if r.action == Action::Pinned {
                            "pinned"
                        } else {
                            "would pin"
                        };
                        writeln!(
                            out,
                            "{place}: {verb} {} -> {}",
                            f.text,
                            r.new_reference.as_deref().unwrap_or("")
                        )?;
                    }
                    Action::Failed => {
                        error(&format!(
                            "{place}: {}: {}",
                            f.text,
                            r.error.as_deref().unwrap_or("failed")
                        ));
                    }
                    Action::Skipped => warning(&format!(
                        "{place}: {}: not pinned: {}",
                        f.text,
                        r.error.as_deref().unwrap_or("no place for a digest")
                    )),
                    Action::Unchanged => {}
                }
            }
        }
    }
    Ok(())
}

/// A unified diff of one file's change.
pub fn diff(out: &mut impl Write, path: &Path, old: &str, new: &str) -> io::Result<()> {
    let name = display_path(path);
    let text = similar::TextDiff::from_lines(old, new);
    let unified = text
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string();
    out.write_all(unified.as_bytes())
}
