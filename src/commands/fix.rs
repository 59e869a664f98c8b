//! `imagepin fix`: resolve every mutable or untagged reference to the digest its tag
//! points to now and pin it in place (`nginx` → `nginx:latest@sha256:…`). Each unique
//! reference is looked up once; a reference that cannot be resolved is left exactly as
//! it was and makes the outcome a problem, while the others are still pinned.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::Outcome;
use crate::cli::{OutputFormat, RunError};
use crate::config::{ImageFilter, RegistrySettings, ScanSettings};
use crate::finding::{DigestField, Finding, PinSite, Status};
use crate::registry::{Client, Resolutions, Resolver, Target};
use crate::report::{self, Action, FixRow};
use crate::rewrite::{self, Edit};
use crate::scan;
use crate::walk::{self, ScannedFile};

/// What to do with the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Write,
    DryRun,
    Diff,
}

/// The lookup a finding needs: its tag (implicitly `latest`) in its repository.
pub fn target(f: &Finding) -> Option<Target> {
    let r = f.reference.as_ref()?;
    Some(Target {
        registry: r.registry.clone(),
        repository: r.repository.clone(),
        reference: r.effective_tag()?.to_string(),
    })
}

/// The edit that pins an unpinned finding to `digest`, and the reference it makes;
/// `Err` when the file has no place for a digest.
pub fn pin_edit(f: &Finding, digest: &str) -> Result<(Edit, String), String> {
    match &f.pin {
        PinSite::Inline => {
            // `nginx` means `nginx:latest`: write the tag out so the pin says what it is.
            let implicit_tag = f.reference.as_ref().is_some_and(|r| r.tag.is_none());
            let suffix = if implicit_tag {
                format!(":latest@{digest}")
            } else {
                format!("@{digest}")
            };
            let new = format!("{}{suffix}", f.text);
            let edit = Edit {
                span: f.span.end..f.span.end,
                replacement: suffix,
            };
            Ok((edit, new))
        }
        PinSite::Field(field) => {
            let edit = match field {
                DigestField::Value(span) => Edit {
                    span: span.clone(),
                    replacement: digest.to_string(),
                },
                DigestField::Insert { at, before, after } => Edit {
                    span: *at..*at,
                    replacement: format!("{before}{digest}{after}"),
                },
                DigestField::Missing(why) => return Err(why.clone()),
            };
            Ok((edit, format!("{}@{digest}", f.text)))
        }
    }
}

/// Resolve targets on a small runtime; the only place `fix` touches the network.
pub fn resolve(
    targets: Vec<Target>,
    settings: &RegistrySettings,
) -> Result<(Resolutions, Arc<Client>), RunError> {
    let client = Arc::new(Client::new(settings.timeout).map_err(RunError::Usage)?);
    let resolver = Resolver::new(
        client.clone(),
        settings.mirrors.clone(),
        settings.concurrency,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let results = runtime.block_on(resolver.resolve_all(targets));
    Ok((results, client))
}

pub fn run(
    paths: &[PathBuf],
    scan_settings: &ScanSettings,
    mode: Mode,
    format: OutputFormat,
    settings: &RegistrySettings,
) -> Result<Outcome, RunError> {
    let scan = walk::scan_paths(paths, scan_settings, &|fs| {
        fs.iter().any(|f| f.status.needs_pin())
    });
    report::skipped(&scan.skipped);

    let targets: Vec<Target> = scan
        .files
        .iter()
        .flat_map(|file| &file.findings)
        .filter(|f| f.status.needs_pin())
        .filter_map(target)
        .collect();
    let unique = {
        let mut t = targets.clone();
        t.sort();
        t.dedup();
        t.len()
    };
    let (results, client) = if targets.is_empty() {
        (HashMap::new(), None)
    } else {
        let (r, c) = resolve(targets, settings)?;
        (r, Some(c))
    };

    let mut out = io::stdout().lock();
    let mut rows = Vec::new();
    let mut failed = 0usize;
    let mut changed_files = 0usize;
    for file in &scan.files {
        let file_rows = plan_file(file, &results);
        let edits: Vec<Edit> = file_rows
            .iter()
            .filter_map(|(row, edit)| {
                (row.action == Action::Pinned)
                    .then(|| edit.clone())
                    .flatten()
            })
            .collect();
        let mut file_rows: Vec<FixRow<'_>> = file_rows.into_iter().map(|(row, _)| row).collect();
        if !edits.is_empty() {
            match apply_file(file, &edits, mode, &scan_settings.ignore, &mut out) {
                Ok(()) => changed_files += 1,
                Err(message) => {
                    for row in file_rows.iter_mut().filter(|r| r.action == Action::Pinned) {
                        row.action = Action::Failed;
                        row.error = Some(message.clone());
                    }
                }
            }
        }
        if mode != Mode::Write {
            for row in file_rows.iter_mut().filter(|r| r.action == Action::Pinned) {
                row.action = Action::WouldPin;
            }
        }
        failed += file_rows
            .iter()
            .filter(|r| r.action == Action::Failed)
            .count();
        rows.extend(file_rows);
    }
    if mode != Mode::Diff || format == OutputFormat::Json {
        report::fix(&mut out, &rows, format)?;
    }
    out.flush()?;

    let pinned = rows
        .iter()
        .filter(|r| matches!(r.action, Action::Pinned | Action::WouldPin))
        .count();
    let verb = if mode == Mode::Write {
        "pinned"
    } else {
        "would pin"
    };
    let requests = client.map_or_else(String::new, |c| {
        let s = &c.stats;
        format!(
            ", {} registry requests ({} manifest HEAD, {} manifest GET, {} token, {} ping, {} retried)",
            s.total(),
            s.heads.load(Ordering::Relaxed),
            s.gets.load(Ordering::Relaxed),
            s.tokens.load(Ordering::Relaxed),
            s.pings.load(Ordering::Relaxed),
            s.retries.load(Ordering::Relaxed),
        )
    });
    report::summary(&format!(
        "{verb} {pinned} references in {changed_files} files; {failed} failed; {unique} unique references{requests}"
    ));
    Ok(if failed > 0 {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}

/// One row per unpinned finding in a file, with the edit that pins it when resolved.
fn plan_file<'a>(file: &'a ScannedFile, results: &Resolutions) -> Vec<(FixRow<'a>, Option<Edit>)> {
    let mut rows = Vec::new();
    for f in file.findings.iter().filter(|f| f.status.needs_pin()) {
        let Some(target) = target(f) else { continue };
        let row = match results.get(&target) {
            Some(Ok(resolved)) => match pin_edit(f, &resolved.digest) {
                Ok((edit, new_reference)) => {
                    let row = FixRow {
                        finding: f,
                        action: Action::Pinned,
                        new_reference: Some(new_reference),
                        new_digest: Some(resolved.digest.clone()),
                        error: None,
                    };
                    (row, Some(edit))
                }
                Err(why) => {
                    let row = FixRow {
                        finding: f,
                        action: Action::Skipped,
                        new_reference: None,
                        new_digest: Some(resolved.digest.clone()),
                        error: Some(why),
                    };
                    (row, None)
                }
            },
            Some(Err(e)) => (failed_row(f, e.to_string()), None),
            None => (failed_row(f, "not resolved".into()), None),
        };
        rows.push(row);
    }
    rows
}

fn failed_row(f: &Finding, error: String) -> FixRow<'_> {
    FixRow {
        finding: f,
        action: Action::Failed,
        new_reference: None,
        new_digest: None,
        error: Some(error),
    }
}

/// Apply a file's edits, check the result, and write, diff or merely compute it.
fn apply_file(
    file: &ScannedFile,
    edits: &[Edit],
    mode: Mode,
    ignore: &ImageFilter,
    out: &mut impl Write,
) -> Result<(), String> {
    let path = report::display_path(&file.path);
    let Some(source) = file.source.as_deref() else {
        return Err(format!("{path}: text was not kept for rewriting (bug)"));
    };
    let new = rewrite::apply(source, edits).map_err(|e| format!("{path}: {e}"))?;
    verify_rescan(file, &new, edits.len(), ignore)?;
    match mode {
        Mode::Write => rewrite::write_atomic(&file.path, source.as_bytes(), new.as_bytes())
            .map_err(|e| format!("{path}: not written: {e}")),
        Mode::Diff => report::diff(out, &file.path, source, &new)
            .map_err(|e| format!("cannot write diff: {e}")),
        Mode::DryRun => Ok(()),
    }
}

/// Re-scan the edited text: it must hold the same references, with exactly the
/// edited ones now pinned. Anything else means a span was wrong: refuse to write.
fn verify_rescan(
    file: &ScannedFile,
    new: &str,
    edited: usize,
    ignore: &ImageFilter,
) -> Result<(), String> {
    let path = report::display_path(&file.path);
    let kind = scan::kind_for(&file.path).unwrap_or_else(|| scan::sniff_kind(new));
    let mut after = scan::scan_source(&file.path, new, kind)
        .map_err(|e| format!("{path}: edited text no longer parses ({e}); not written"))?;
    after.retain(|f| !ignore.matches(f));
    let pinned_before = file
        .findings
        .iter()
        .filter(|f| f.status == Status::Pinned)
        .count();
    let pinned_after = after.iter().filter(|f| f.status == Status::Pinned).count();
    if after.len() != file.findings.len() || pinned_after != pinned_before + edited {
        return Err(format!(
            "{path}: edited text does not scan as expected ({} references before, {} after); not written",
            file.findings.len(),
            after.len()
        ));
    }
    Ok(())
}
