//! Carrying out a plan: each file's planned edits are applied to its text, the new text
//! is scanned again to prove that only the intended references changed, and then it
//! is written atomically, printed as a diff, or only reported. `fix` and `update` both
//! hand their plans here; with `fix`, files are written as their lookups are answered.

use std::collections::HashMap;
use std::io::Write;
use std::sync::mpsc;

use crate::config::ImageFilter;
use crate::finding::{Skipped, Status};
use crate::registry::{RegistryError, Resolutions, Resolved, Target};
use crate::report::{self, Action, Row};
use crate::rewrite::{self, Edit};
use crate::scan;
use crate::walk::ScannedFile;
use crate::yaml;

/// What to do with planned edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Write,
    DryRun,
    Diff,
}

/// A row and the edit that carries it out.
pub struct Planned<'a> {
    pub row: Row<'a>,
    pub edit: Option<Edit>,
}

/// How edits are carried out.
pub struct Apply<'s> {
    pub mode: Mode,
    pub ignore: &'s ImageFilter,
    /// Whether each edit pins a reference that was unpinned (`fix`) or changes a pin
    /// (`update`): the re-scan check expects that many more pinned references.
    pub edits_pin: bool,
}

/// Carry out every file's plan, in path order. Returns all rows and the files that
/// changed (or would).
pub fn carry_out_all<'a>(
    files: &'a [ScannedFile],
    apply: &Apply<'_>,
    plan: impl Fn(&'a ScannedFile) -> Vec<Planned<'a>>,
) -> (Vec<Row<'a>>, Vec<std::path::PathBuf>) {
    let mut out = std::io::stdout().lock();
    let mut rows = Vec::new();
    let mut changed_files = Vec::new();
    for file in files {
        if report::stdout_closed() {
            break;
        }
        let (file_rows, changed) = carry_out(file, plan(file), apply, &mut out);
        if changed {
            changed_files.push(file.path.clone());
        }
        rows.extend(file_rows);
    }
    (rows, changed_files)
}

/// Threads writing files while lookups are in flight.
const WRITERS: usize = 4;

/// `fix` in write mode: each file is carried out, on a thread of its own, as soon as
/// every lookup it needs is answered, while the others are still in flight, so the
/// writes hide behind the network's latency instead of following it. `needed[i]` is
/// what file `i` waits for (each once); `resolve` runs the lookups, telling its
/// callback about each as it ends. Rows come back in path order.
pub fn carry_out_as_answered<'a>(
    files: &'a [ScannedFile],
    apply: &Apply<'_>,
    needed: Vec<Vec<Target>>,
    resolve: impl FnOnce(&mut dyn FnMut(&Target, &Result<Resolved, RegistryError>)) -> Resolutions,
    plan: impl Fn(&'a ScannedFile, &Resolutions) -> Vec<Planned<'a>> + Sync,
) -> (Resolutions, Vec<Row<'a>>, Vec<std::path::PathBuf>) {
    let mut waiting: HashMap<&Target, Vec<usize>> = HashMap::new();
    let mut pending: Vec<usize> = needed.iter().map(Vec::len).collect();
    for (i, targets) in needed.iter().enumerate() {
        for t in targets {
            waiting.entry(t).or_default().push(i);
        }
    }
    let (ready, inbox) = mpsc::channel::<(usize, Resolutions)>();
    // Renaming over a file waits on the disk (ext4 flushes the new data first), so a
    // few writers overlap those waits.
    let inbox = std::sync::Mutex::new(inbox);
    let (results, mut done) = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|_| {
                scope.spawn(|| {
                    let mut sink = std::io::sink();
                    let mut done = Vec::new();
                    loop {
                        let next = inbox.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        let Ok((i, known)) = next else { break };
                        let file = &files[i];
                        done.push((i, carry_out(file, plan(file, &known), apply, &mut sink)));
                    }
                    done
                })
            })
            .collect();
        for (i, _) in pending.iter().enumerate().filter(|(_, n)| **n == 0) {
            let _ = ready.send((i, Resolutions::new()));
        }
        let mut answered: Resolutions = HashMap::new();
        let results = resolve(&mut |target, result| {
            answered.insert(target.clone(), result.clone());
            for &i in waiting.get(target).into_iter().flatten() {
                pending[i] -= 1;
                if pending[i] == 0 {
                    let known = needed[i]
                        .iter()
                        .filter_map(|t| Some((t.clone(), answered.get(t)?.clone())))
                        .collect();
                    let _ = ready.send((i, known));
                }
            }
        });
        drop(ready);
        let done: Vec<_> = writers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect();
        (results, done)
    });
    done.sort_by_key(|(i, _)| *i);
    let mut rows = Vec::new();
    let mut changed_files = Vec::new();
    for (i, (file_rows, changed)) in done {
        if changed {
            changed_files.push(files[i].path.clone());
        }
        rows.extend(file_rows);
    }
    (results, rows, changed_files)
}

/// How many rows ended in one of `actions`.
pub fn count(rows: &[Row<'_>], actions: &[Action]) -> usize {
    rows.iter().filter(|r| actions.contains(&r.action)).count()
}

/// Carry out one file's planned edits. Rows whose edit could not be applied or written
/// become failures; in dry-run and diff modes done actions become "would" actions.
/// Returns the rows and whether the file changed (or would).
pub fn carry_out<'a>(
    file: &'a ScannedFile,
    planned: Vec<Planned<'a>>,
    apply: &Apply<'_>,
    out: &mut impl Write,
) -> (Vec<Row<'a>>, bool) {
    let (mut rows, new) = edit(file, planned, apply);
    let mut changed = false;
    if let Some(new) = new {
        let path = report::display_path(&file.path);
        let source = file.source.as_deref().unwrap_or_default();
        let done = match apply.mode {
            Mode::Write => rewrite::write_atomic(&file.path, source.as_bytes(), new.as_bytes())
                .map_err(|e| format!("{path}: not written: {e}")),
            Mode::Diff => match report::diff(out, &file.path, source, &new) {
                // `imagepin fix --diff | head`: the reader went away; the run stops (the
                // command sees `report::stdout_closed`), quietly, having written nothing.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    report::set_stdout_closed();
                    Ok(())
                }
                other => other.map_err(|e| format!("cannot write diff: {e}")),
            },
            Mode::DryRun => Ok(()),
        };
        match done {
            Ok(()) => changed = true,
            Err(message) => fail_done(&mut rows, &message),
        }
    }
    if apply.mode != Mode::Write {
        not_done(&mut rows);
    }
    (rows, changed)
}

/// Changes that were not written become changes that would be made.
pub fn not_done(rows: &mut [Row<'_>]) {
    for row in rows.iter_mut() {
        row.action = match row.action {
            Action::Pinned => Action::WouldPin,
            Action::Updated => Action::WouldUpdate,
            a => a,
        };
    }
}

/// Apply one file's planned edits to its text and prove them by scanning the result
/// again. Returns the rows (those whose edit could not be applied become failures)
/// and the new text, when there was something to change and it holds.
pub fn edit<'a>(
    file: &'a ScannedFile,
    planned: Vec<Planned<'a>>,
    apply: &Apply<'_>,
) -> (Vec<Row<'a>>, Option<String>) {
    let edits: Vec<Edit> = planned
        .iter()
        .filter(|p| is_done(p.row.action))
        .filter_map(|p| p.edit.clone())
        .collect();
    let mut rows: Vec<Row<'a>> = planned.into_iter().map(|p| p.row).collect();
    if edits.is_empty() {
        return (rows, None);
    }
    match edited_text(file, &edits, apply) {
        Ok(new) => (rows, Some(new)),
        Err(message) => {
            fail_done(&mut rows, &message);
            (rows, None)
        }
    }
}

/// Rows whose action is a change made (or to be made).
fn is_done(a: Action) -> bool {
    matches!(a, Action::Pinned | Action::Updated)
}

/// The changes of these rows did not happen, for `message`: the file was not written.
fn fail_done(rows: &mut [Row<'_>], message: &str) {
    for row in rows.iter_mut().filter(|r| is_done(r.action)) {
        row.action = Action::Failed;
        row.message = Some(message.to_string());
        row.failure = Some(report::Problem::NotWritten);
    }
}

/// The file's text with `edits` applied, proven by a re-scan.
fn edited_text(file: &ScannedFile, edits: &[Edit], apply: &Apply<'_>) -> Result<String, String> {
    let path = report::display_path(&file.path);
    let Some(source) = file.source.as_deref() else {
        return Err(format!("{path}: text was not kept for rewriting (bug)"));
    };
    skipped_untouched(file, source, edits)?;
    let new = rewrite::apply(source, edits).map_err(|e| format!("{path}: {e}"))?;
    let pins_added = if apply.edits_pin { edits.len() } else { 0 };
    verify_rescan(file, &new, pins_added, apply.ignore)?;
    Ok(new)
}

/// A document that was skipped is never written: no edit may touch its bytes.
fn skipped_untouched(file: &ScannedFile, source: &str, edits: &[Edit]) -> Result<(), String> {
    if !file.skipped.iter().any(Skipped::is_document) {
        return Ok(());
    }
    let pieces = yaml::split::documents(source);
    for (i, piece) in pieces.iter().enumerate() {
        let next_line = pieces.get(i + 1).map_or(usize::MAX, |p| p.line);
        let skipped = file.skipped.iter().any(|s| {
            s.is_document() && s.line.is_some_and(|l| (piece.line..next_line).contains(&l))
        });
        let touched = edits
            .iter()
            .any(|e| e.span.start < piece.range.end && e.span.end >= piece.range.start);
        if skipped && touched {
            return Err(format!(
                "{}:{}: an edit falls in a skipped document (bug); not written",
                report::display_path(&file.path),
                piece.line
            ));
        }
    }
    Ok(())
}

/// Re-scan the edited text: it must hold the same number of references, with exactly
/// `pins_added` more of them pinned, and the same skipped documents at the same lines.
/// Anything else means a span was wrong: refuse.
fn verify_rescan(
    file: &ScannedFile,
    new: &str,
    pins_added: usize,
    ignore: &ImageFilter,
) -> Result<(), String> {
    let path = report::display_path(&file.path);
    let scanned = scan::scan_file(file.scan_path(), new, file.kind, &file.scope)
        .map_err(|e| format!("{path}: edited text no longer parses ({e}); not written"))?;
    let skips = |s: &[Skipped]| {
        s.iter()
            .map(|s| (s.line, s.message.clone()))
            .collect::<Vec<_>>()
    };
    if skips(&scanned.skipped) != skips(&file.skipped) {
        let what = scanned
            .skipped
            .first()
            .map_or_else(|| "a skipped part now reads".to_string(), |s| s.to_string());
        return Err(format!(
            "{path}: edited text does not read as the original did ({what}); not written"
        ));
    }
    let mut after = scanned.findings;
    after.retain(|f| !ignore.matches(f));
    let pinned = |fs: &mut dyn Iterator<Item = Status>| fs.filter(|s| *s == Status::Pinned).count();
    let before_pinned = pinned(&mut file.findings.iter().map(|f| f.status));
    let after_pinned = pinned(&mut after.iter().map(|f| f.status));
    if after.len() != file.findings.len() || after_pinned != before_pinned + pins_added {
        return Err(format!(
            "{path}: edited text does not scan as expected ({} references, {before_pinned} pinned before; {} and {after_pinned} after); not written",
            file.findings.len(),
            after.len()
        ));
    }
    Ok(())
}
