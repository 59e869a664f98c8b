//! `imagepin update`: for every `name:tag@digest` pin, resolve the tag again; where it
//! now points elsewhere, replace only the digest. A pin of one platform's manifest (made
//! with `--platform`, or by hand) stays a pin of that platform: the matching entry of the
//! tag's new index is taken, never the index itself, nor another platform's image. A pin
//! whose digest is gone is re-pinned to what the tag points to now. Each unique pin is
//! one lookup on the resolver's concurrent path ([`crate::registry::pins::follow`]).
//! Digest-only pins have no tag to follow; unpinned references are left to `fix`.
//! `--commit` records the change in git.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use super::{Input, Outcome, Session, stream};
use crate::apply::{Apply, Mode, Planned, carry_out_all, count};
use crate::config::{RegistrySettings, ScanSettings};
use crate::error::RunError;
use crate::finding::{DigestField, Finding, PinSite, Status};
use crate::registry::RegistryError;
use crate::registry::pins::{self, Move, Pin};
use crate::registry::platform::Platform;
use crate::report::{self, Action, Command, OutputFormat, Row, short_digest};
use crate::rewrite::Edit;
use crate::walk::ScannedFile;

pub mod git;

/// What to do with the change in git.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    /// Make one commit of exactly the changed files.
    pub commit: bool,
    /// Write the commit message here instead of committing.
    pub message_file: Option<PathBuf>,
}

/// A pin `update` can follow: one with a tag.
fn followed(f: &Finding) -> Option<Pin> {
    let r = f.reference.as_ref()?;
    Some(Pin {
        registry: r.registry.clone(),
        repository: r.repository.clone(),
        tag: Some(r.tag.clone()?),
        digest: r.digest.clone()?,
    })
}

/// The edit replacing a pin's digest.
fn digest_edit(f: &Finding, digest: &str) -> Option<Edit> {
    let span = match &f.pin {
        PinSite::Inline => {
            let d = f.reference.as_ref()?.digest_span.clone()?;
            f.span.start + d.start..f.span.start + d.end
        }
        PinSite::Field(DigestField::Value(span)) => span.clone(),
        PinSite::Field(_) => return None,
    };
    Some(Edit {
        span,
        replacement: digest.to_string(),
    })
}

/// `keep_going`: from stdin, write the stream even when some pins could not be
/// followed. `platform`: where pins whose digest is gone go. `strict`: anything that
/// could not be read fails the run.
#[allow(clippy::too_many_arguments)]
pub fn run(
    input: &Input,
    scan_settings: &ScanSettings,
    mode: Mode,
    format: OutputFormat,
    settings: &RegistrySettings,
    recording: &Recording,
    keep_going: bool,
    platform: Option<&Platform>,
    strict: bool,
) -> Result<Outcome, RunError> {
    // Every precondition of recording the change is checked before anything is written.
    if recording.commit {
        git::ensure_work_tree().map_err(RunError::Usage)?;
        git::ensure_identity().map_err(RunError::Usage)?;
    }
    if let Some(path) = &recording.message_file {
        ensure_writable_dir(path)?;
    }
    let scan = input.scan(scan_settings, &|fs| {
        fs.iter().any(|f| followed(f).is_some())
    });
    let unread = input.report_skipped(&scan, strict);
    super::warn_unused_routing(settings, &scan);
    let findings = || scan.files.iter().flat_map(|f| f.findings.iter());
    let pins: Vec<Pin> = findings().filter_map(followed).collect();

    let session = (!pins.is_empty())
        .then(|| Session::new(settings))
        .transpose()?;
    let moves: HashMap<Pin, Result<Move, RegistryError>> = match &session {
        None => HashMap::new(),
        Some(s) => {
            let seen = pins::Seen::default();
            let follow = |cx, pin| pins::follow(cx, pin, platform.cloned(), seen.clone());
            s.block_on(s.resolver.each(pins, follow, &mut |_, _| {}))
        }
    };

    let apply = Apply {
        mode,
        ignore: &scan_settings.ignore,
        edits_pin: false,
    };
    if recording.commit && mode == Mode::Write {
        let to_change: Vec<&std::path::Path> = scan
            .files
            .iter()
            .filter(|file| {
                plan_file(file, &moves)
                    .iter()
                    .any(|p| p.edit.is_some() && p.row.action == Action::Updated)
            })
            .map(|file| file.path.as_path())
            .collect();
        git::ensure_committable(&to_change).map_err(RunError::Usage)?;
        if !to_change.is_empty() && git::head_is_detached() {
            report::warning(
                "HEAD is detached: the commit will be on no branch (check out a branch to keep it)",
            );
        }
    }
    let to_stream = stream::rows_to_stderr(input, mode);
    let (rows, changed_files) = if to_stream {
        let (rows, changed) = stream::carry_out(
            &scan,
            &apply,
            |file| plan_file(file, &moves),
            (unread, keep_going),
            &stream::Reporting {
                command: Command::Update,
                format,
            },
        )?;
        let changed = scan.files.iter().take(changed.into());
        (rows, changed.map(|f| f.path.clone()).collect())
    } else {
        let done = carry_out_all(&scan.files, &apply, |file| plan_file(file, &moves));
        super::print(
            Command::Update,
            &done.0,
            &scan.skipped,
            format,
            strict,
            mode == Mode::Diff,
        )?;
        done
    };
    for row in rows
        .iter()
        .filter(|r| matches!(r.action, Action::Updated | Action::WouldUpdate))
    {
        let f = row.finding;
        if let Some(Ok(Move {
            warning: Some(warning),
            ..
        })) = followed(f).and_then(|p| moves.get(&p))
        {
            report::warning(&format!(
                "{}:{}:{}: {}: {warning}",
                report::display_path(&f.path),
                f.line,
                f.column,
                f.text
            ));
        }
    }

    let count = |a: &[Action]| count(&rows, a);
    let updated = count(if mode == Mode::Write {
        &[Action::Updated]
    } else {
        &[Action::WouldUpdate]
    });
    let failed = count(&[Action::Failed]);
    let not_written = match count(&[Action::Skipped]) {
        0 => String::new(),
        n => format!(
            "; {} moved but not written where it is (warnings say why)",
            report::plural(n, "pin")
        ),
    };
    let unpinned = findings().filter(|f| f.status.needs_pin()).count();
    let digest_only = findings()
        .filter(|f| f.status == Status::Pinned && followed(f).is_none())
        .count();
    let verb = if mode == Mode::Write {
        "updated"
    } else {
        "would update"
    };
    let requests = session.as_ref().map(Session::requests).unwrap_or_default();
    report::summary(&format!(
        "{verb} {} in {}; {} current{not_written}; {failed} failed; {} no tag to follow; {} left to `imagepin fix`{requests}",
        report::plural(updated, "pin"),
        report::plural(changed_files.len(), "file"),
        count(&[Action::Unchanged]),
        if digest_only == 1 {
            "1 digest-only pin has".to_string()
        } else {
            format!("{digest_only} digest-only pins have")
        },
        report::plural(unpinned, "unpinned reference"),
    ));

    let message = commit_message(&rows);
    if let Some(path) = &recording.message_file {
        if updated == 0 {
            report::summary(&format!(
                "nothing changed: no commit message written to {}",
                path.display()
            ));
        } else {
            std::fs::write(path, &message)
                .map_err(|e| RunError::Usage(format!("--message-file {}: {e}", path.display())))?;
        }
    }
    if recording.commit && mode == Mode::Write {
        if changed_files.is_empty() {
            report::summary("nothing to commit");
        } else {
            let id = git::commit(&changed_files, &message).map_err(RunError::Usage)?;
            report::summary(&format!(
                "committed {id}: {}",
                message.lines().next().unwrap_or("")
            ));
        }
    }
    Ok(if failed > 0 || unread {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}

/// `--message-file FILE` must be writable where it is: its directory must exist (found
/// before any file is rewritten, not after).
fn ensure_writable_dir(path: &std::path::Path) -> Result<(), RunError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    if path.is_dir() {
        return Err(RunError::Usage(format!(
            "--message-file {}: is a directory",
            path.display()
        )));
    }
    if !dir.is_dir() {
        return Err(RunError::Usage(format!(
            "--message-file {}: the directory {} does not exist",
            path.display(),
            dir.display()
        )));
    }
    Ok(())
}

/// One row per followed pin, with the edit that moves it.
fn plan_file<'a>(
    file: &'a ScannedFile,
    moves: &HashMap<Pin, Result<Move, RegistryError>>,
) -> Vec<Planned<'a>> {
    let mut planned = Vec::new();
    for f in &file.findings {
        let Some(key) = followed(f) else { continue };
        let old = key.digest.clone();
        let (row, edit) = match moves.get(&key).map(|m| m.as_ref().map(|m| &m.digest)) {
            Some(Ok(new)) if *new == old => (Row::new(f, Action::Unchanged), None),
            Some(Ok(new)) => match digest_edit(f, new) {
                Some(edit) => {
                    let mut row = Row::new(f, Action::Updated);
                    row.old_digest = Some(old.clone());
                    row.new_digest = Some(new.clone());
                    row.new_reference = Some(f.text.replacen(&old, new, 1));
                    (row, Some(edit))
                }
                // Why there is no place for the digest, where the reader said (a
                // stream's use of a default in a module file, which stdin mode never
                // writes); otherwise a Helm-style value without a digest field.
                None => {
                    let why = match &f.pin {
                        PinSite::Field(DigestField::Missing(why)) => why.as_str(),
                        _ => "no digest field to update",
                    };
                    (Row::new(f, Action::Skipped).with_message(why), None)
                }
            },
            Some(Err(e)) => (super::lookup_failed(f, e), None),
            None => continue,
        };
        let mut row = row;
        row.old_digest.get_or_insert(old);
        planned.push(Planned { row, edit });
    }
    planned
}

/// `Update pinned image digests`, then one line per image: `name:tag  old → new`.
pub fn commit_message(rows: &[Row<'_>]) -> String {
    let mut changes: BTreeMap<String, (String, String)> = BTreeMap::new();
    for row in rows
        .iter()
        .filter(|r| matches!(r.action, Action::Updated | Action::WouldUpdate))
    {
        let name = row.finding.text.split('@').next().unwrap_or("").to_string();
        let old = row.old_digest.as_deref().map(short_digest).unwrap_or("");
        let new = row.new_digest.as_deref().map(short_digest).unwrap_or("");
        changes.insert(format!("{name}  {old} → {new}"), (old.into(), new.into()));
    }
    let mut message = String::from("Update pinned image digests\n");
    if !changes.is_empty() {
        message.push('\n');
        for line in changes.keys() {
            message.push_str(line);
            message.push('\n');
        }
    }
    message
}
