//! `imagepin check`: offline. Lists every reference and its state; any reference
//! without a digest (mutable or untagged) makes the outcome a problem. From stdin, so
//! does a templated reference in rendered output, or a stream that cannot be read;
//! with `--strict`, so does any file or YAML document that could not be read.

use super::{Input, Outcome};
use crate::config::ScanSettings;
use crate::error::RunError;
use crate::report::{self, Action, Command, OutputFormat, Row};
use crate::stdin;

pub fn run(
    input: &Input,
    settings: &ScanSettings,
    format: OutputFormat,
    strict: bool,
) -> Result<Outcome, RunError> {
    let scan = input.scan(settings, &|_| false);
    let unread = input.report_skipped(&scan, strict);
    let findings = || scan.files.iter().flat_map(|f| f.findings.iter());
    let rows: Vec<Row<'_>> = findings()
        .map(|f| {
            if input.is_stdin() && stdin::unrendered(f) {
                Row::new(f, Action::Failed).with_message(stdin::UNRENDERED)
            } else {
                Row::new(f, Action::Reported)
            }
        })
        .collect();
    super::print(Command::Check, &rows, &scan.skipped, format, strict, false)?;
    report::status_summary(findings(), scan.ignored);
    let unpinned = findings().any(|f| f.status.needs_pin());
    let failed = rows.iter().any(|r| r.action == Action::Failed);
    Ok(if unpinned || failed || unread {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}
