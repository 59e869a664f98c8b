//! `imagepin fix`: resolve every mutable or untagged reference to the digest its tag
//! points to now and pin it in place (`nginx` → `nginx:latest@sha256:…`). Each unique
//! reference is looked up once; a reference that cannot be resolved is left exactly as
//! it was and makes the outcome a problem, while the others are still pinned. With
//! `--platform`, a multi-arch tag is pinned to that platform's manifest instead of the
//! index.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::{Input, Outcome, Session, stream};
use crate::apply::{Apply, Mode, Planned, carry_out_all, carry_out_as_answered, count};
use crate::config::{RegistrySettings, ScanSettings};
use crate::error::RunError;
use crate::finding::{DigestField, Finding, PinSite};
use crate::lock::{Lock, Record};
use crate::registry::platform::Platform;
use crate::registry::{RegistryError, Resolutions, Resolved, Target, pins};
use crate::report::{self, Action, Command, OutputFormat, Row};
use crate::rewrite::Edit;
use crate::walk::ScannedFile;

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

/// Look every target up: the digest its tag points to, or with `--platform`, that
/// platform's manifest of it. `answered` hears of each lookup as it ends.
async fn look_up(
    session: &Session,
    targets: Vec<Target>,
    platform: Option<&Platform>,
    answered: &mut dyn FnMut(&Target, &Result<Resolved, RegistryError>),
) -> Resolutions {
    match platform {
        None => session.resolver.resolve_each(targets, answered).await,
        Some(p) => {
            let lookup = |cx, target| pins::for_platform(cx, target, p.clone());
            session.resolver.each(targets, lookup, answered).await
        }
    }
}

/// How `fix` runs, beyond what it reads and which registries it asks.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    pub mode: Mode,
    pub format: OutputFormat,
    /// Pin multi-arch tags to this platform's manifest.
    pub platform: Option<&'a Platform>,
    /// Answer lookups from this lock instead of registries (offline).
    pub from_lock: Option<&'a Lock>,
    /// Record the resolutions used in this file.
    pub lock: Option<&'a Path>,
    /// Stdin: write the stream even when some references could not be pinned.
    pub keep_going: bool,
    /// Anything that could not be read fails the run.
    pub strict: bool,
}

pub fn run(
    input: &Input,
    scan_settings: &ScanSettings,
    settings: &RegistrySettings,
    opts: &Options<'_>,
) -> Result<Outcome, RunError> {
    let (mode, platform) = (opts.mode, opts.platform);
    let scan = input.scan(scan_settings, &|fs| fs.iter().any(|f| f.status.needs_pin()));
    let unread = input.report_skipped(&scan, opts.strict);
    super::warn_unused_routing(settings, &scan);

    // Each file's lookups, and all of them in file order (each once): with pipelined
    // writes, early files finish early.
    let needed: Vec<Vec<Target>> = scan.files.iter().map(file_targets).collect();
    let mut seen = HashSet::new();
    let targets: Vec<Target> = needed
        .iter()
        .flatten()
        .filter(|t| seen.insert(*t))
        .cloned()
        .collect();
    let unique = targets.len();
    let session = (!targets.is_empty() && opts.from_lock.is_none())
        .then(|| Session::new(settings))
        .transpose()?;
    let apply = Apply {
        mode,
        ignore: &scan_settings.ignore,
        edits_pin: true,
    };
    let stdin = input.is_stdin();
    let lookup_all = |targets: Vec<Target>| match (opts.from_lock, &session) {
        (Some(lock), _) => lock.resolve_each(targets, platform, &mut |_, _| {}),
        (None, Some(s)) => s.block_on(look_up(s, targets, platform, &mut |_, _| {})),
        (None, None) => HashMap::new(),
    };
    let to_stream = stream::rows_to_stderr(input, mode);
    let (results, rows, changed) = match &session {
        _ if to_stream => {
            let results = lookup_all(targets);
            let (rows, changed) = stream::carry_out(
                &scan,
                &apply,
                |file| plan_file(file, &results, stdin),
                (unread, opts.keep_going),
                &stream::Reporting {
                    command: Command::Fix,
                    format: opts.format,
                },
            )?;
            let changed = scan
                .files
                .iter()
                .take(changed.into())
                .map(|f| f.path.clone());
            (results, rows, changed.collect())
        }
        // Writing with every answer final: each file is written as soon as its
        // lookups are answered, while the rest are still in flight.
        Some(s) if mode == Mode::Write => carry_out_as_answered(
            &scan.files,
            &apply,
            needed,
            |answered| s.block_on(look_up(s, targets, platform, answered)),
            |file, results| plan_file(file, results, stdin),
        ),
        _ => {
            let results = lookup_all(targets);
            let (rows, changed) =
                carry_out_all(&scan.files, &apply, |file| plan_file(file, &results, stdin));
            (results, rows, changed)
        }
    };
    if let Some(p) = platform
        && results.values().any(|r| r.is_ok())
    {
        report::warning(&format!(
            "--platform {p}: multi-arch tags are pinned to the {p} manifest; those pins are no longer multi-arch"
        ));
    }
    // The stream's rows were reported on stderr with it.
    if !to_stream {
        super::print(
            Command::Fix,
            &rows,
            &scan.skipped,
            opts.format,
            opts.strict,
            mode == Mode::Diff,
        )?;
    }
    if let Some(path) = opts.lock {
        // Every resolution the plan used: what was pinned, and what was resolved but has
        // no place for a digest (so that `--from-lock` answers it too, and a run from
        // the lock reports it as this one did instead of failing it).
        let mut record = Record::new(platform);
        for row in rows.iter().filter(|r| {
            matches!(
                r.action,
                Action::Pinned | Action::WouldPin | Action::Skipped
            )
        }) {
            if let Some(t) = target(row.finding)
                && let Some(Ok(resolved)) = results.get(&t)
            {
                record.add(&row.finding.text, &t, resolved);
            }
        }
        record.write(path).map_err(RunError::Usage)?;
        report::summary(&format!(
            "recorded {} in {}",
            report::plural(record.len(), "resolution"),
            path.display()
        ));
    }

    let pinned = if mode == Mode::Write {
        count(&rows, &[Action::Pinned])
    } else {
        count(&rows, &[Action::WouldPin])
    };
    let failed = count(&rows, &[Action::Failed]);
    let changed_files = changed.len();
    let verb = if mode == Mode::Write {
        "pinned"
    } else {
        "would pin"
    };
    let requests = match (opts.from_lock, &session) {
        (Some(_), _) => ", answered from the lock (no registry asked)".to_string(),
        (None, s) => s.as_ref().map(Session::requests).unwrap_or_default(),
    };
    let looked_up = rows.iter().filter(|r| r.finding.status.needs_pin()).count();
    let cached = looked_up.saturating_sub(unique);
    report::summary(&format!(
        "{verb} {} in {}; {failed} failed; {} ({cached} answered from this run's cache){requests}",
        report::plural(pinned, "reference"),
        report::plural(changed_files, "file"),
        report::plural(unique, "unique reference"),
    ));
    Ok(if failed > 0 || unread {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}

/// From stdin: templated references in rendered output, each a failure.
fn unrendered(file: &ScannedFile) -> impl Iterator<Item = Planned<'_>> {
    file.findings
        .iter()
        .filter(|f| crate::stdin::unrendered(f))
        .map(|f| Planned {
            row: Row::new(f, Action::Failed).with_message(crate::stdin::UNRENDERED),
            edit: None,
        })
}

/// The lookups a file's unpinned findings need.
fn file_targets(file: &ScannedFile) -> Vec<Target> {
    let mut targets: Vec<Target> = file
        .findings
        .iter()
        .filter(|f| f.status.needs_pin())
        .filter_map(target)
        .collect();
    targets.sort();
    targets.dedup();
    targets
}

/// One row per unpinned finding in a file, with the edit that pins it when resolved.
/// From stdin, a templated reference in rendered output is a failure too.
fn plan_file<'a>(file: &'a ScannedFile, results: &Resolutions, stdin: bool) -> Vec<Planned<'a>> {
    let mut planned = Vec::new();
    for f in file.findings.iter().filter(|f| f.status.needs_pin()) {
        let Some(target) = target(f) else { continue };
        let (row, edit) = match results.get(&target) {
            Some(Ok(resolved)) => match pin_edit(f, &resolved.digest) {
                Ok((edit, new_reference)) => {
                    let mut row = Row::new(f, Action::Pinned);
                    row.new_reference = Some(new_reference);
                    row.new_digest = Some(resolved.digest.clone());
                    (row, Some(edit))
                }
                Err(why) => {
                    let mut row = Row::new(f, Action::Skipped).with_message(why);
                    row.new_digest = Some(resolved.digest.clone());
                    (row, None)
                }
            },
            Some(Err(e)) => (super::lookup_failed(f, e), None),
            None => (
                Row::new(f, Action::Failed).with_message("not resolved"),
                None,
            ),
        };
        planned.push(Planned { row, edit });
    }
    if stdin {
        planned.extend(unrendered(file));
        planned.sort_by_key(|p| p.row.finding.span.start);
    }
    planned
}
