//! `imagepin check`: offline. Lists every reference and its state; any reference
//! without a digest (mutable or untagged) makes the outcome a problem.

use std::path::PathBuf;

use super::Outcome;
use crate::config::ScanSettings;
use crate::error::RunError;
use crate::report::{self, Action, Command, OutputFormat, Row};
use crate::walk;

pub fn run(
    paths: &[PathBuf],
    settings: &ScanSettings,
    format: OutputFormat,
) -> Result<Outcome, RunError> {
    let scan = walk::scan_paths(paths, settings, &|_| false);
    report::skipped(&scan.skipped);
    let findings = || scan.files.iter().flat_map(|f| f.findings.iter());
    let rows: Vec<Row<'_>> = findings().map(|f| Row::new(f, Action::Reported)).collect();
    super::print(Command::Check, &rows, format, false, false)?;
    report::status_summary(findings());
    let unpinned = findings().any(|f| f.status.needs_pin());
    Ok(if unpinned {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}
