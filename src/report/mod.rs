//! Reporting: the only place that prints. Every command hands over the same kind of
//! data — one `Row` per finding with what the command did to it — and a renderer turns
//! rows into text for people, JSON for machines, SARIF for code-scanning dashboards or
//! GitHub workflow commands for annotations. Warnings, errors and summaries go to
//! stderr.

mod github;
mod json;
mod sarif;
mod text;

use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::finding::Skipped;
use crate::finding::{DigestField, Finding, PinSite, Status};

/// Output format.
#[derive(Debug, Clone, Copy, Default, clap::ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
}

/// What a command did (or found) for one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// `check`: listed, nothing done.
    Reported,
    Pinned,
    WouldPin,
    Updated,
    WouldUpdate,
    /// The pin is current (or was left alone).
    Unchanged,
    /// `verify`: the pinned digest exists (and its tag still points to it).
    Verified,
    /// `verify`: the pinned digest exists but its tag points elsewhere now.
    Drifted,
    /// `verify`: the pinned digest does not exist in its registry.
    Dangling,
    /// A lookup or write failed; the reference was left as it was.
    Failed,
    /// Resolved, but the file has no place for a digest.
    Skipped,
}

/// One finding and what happened to it.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub finding: &'a Finding,
    pub action: Action,
    pub old_digest: Option<String>,
    pub new_digest: Option<String>,
    /// The reference as it reads after the change.
    pub new_reference: Option<String>,
    /// Why it failed, was skipped or drifted.
    pub message: Option<String>,
    /// For a failed row, what failed when it was not the lookup: the file's write, or
    /// the platform asked for (or pinned) — they get their own rule and advice.
    pub failure: Option<Problem>,
    /// Advice for this row where its rule's would be wrong (a dangling pin whose tag
    /// is gone too has no tag for `update` to follow).
    pub advice: Option<&'static str>,
}

impl<'a> Row<'a> {
    pub fn new(finding: &'a Finding, action: Action) -> Row<'a> {
        Row {
            finding,
            action,
            old_digest: None,
            new_digest: None,
            new_reference: None,
            message: None,
            failure: None,
            advice: None,
        }
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Row<'a> {
        self.message = Some(message.into());
        self
    }

    /// A failed row whose cause was not the lookup (see [`Row::failure`]).
    pub fn failed_as(mut self, problem: Problem) -> Row<'a> {
        self.failure = Some(problem);
        self
    }
}

/// The kinds of problem imagepin reports; SARIF rules and annotation titles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Untagged,
    Mutable,
    Drifted,
    Dangling,
    Unresolved,
    /// From stdin: a templated reference in rendered output.
    Unrendered,
    /// Resolved, but the file could not be written.
    NotWritten,
    /// The image has no manifest for the platform asked for, or pinned.
    Platform,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
}

impl Problem {
    pub const ALL: [Problem; 8] = [
        Problem::Untagged,
        Problem::Mutable,
        Problem::Drifted,
        Problem::Dangling,
        Problem::Unresolved,
        Problem::Unrendered,
        Problem::NotWritten,
        Problem::Platform,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Problem::Untagged => "untagged",
            Problem::Mutable => "mutable",
            Problem::Drifted => "drifted",
            Problem::Dangling => "dangling",
            Problem::Unresolved => "unresolved",
            Problem::Unrendered => "unrendered",
            Problem::NotWritten => "not-written",
            Problem::Platform => "platform",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Problem::Untagged => {
                "Image reference without tag or digest: it means :latest and changes whenever latest does."
            }
            Problem::Mutable => {
                "Image reference with a tag but no digest: the tag can point to other content tomorrow."
            }
            Problem::Drifted => {
                "Pinned digest no longer matches what its tag points to: the tag moved since pinning, or the text was edited by hand."
            }
            Problem::Dangling => {
                "Pinned digest does not exist in its registry (garbage-collected or mistyped): pulls will fail."
            }
            Problem::Unresolved => "The registry could not be asked about this reference.",
            Problem::Unrendered => {
                "Templated image reference in rendered output: rendering should have replaced it."
            }
            Problem::NotWritten => {
                "The registry answered, but the file could not be written: the reference was left as it was."
            }
            Problem::Platform => {
                "The image has no manifest for the platform asked for, or no longer for the platform the pin was made for."
            }
        }
    }

    pub fn help(self) -> &'static str {
        match self {
            Problem::Untagged | Problem::Mutable => {
                "Run `imagepin fix` to pin it to the digest its tag points to now."
            }
            Problem::Drifted => {
                "Run `imagepin update` to move the pin to what its tag points to now (a pin of one platform to that platform's image, if the tag still has one)."
            }
            Problem::Dangling => {
                "Run `imagepin update` to re-pin it to what its tag points to now. If the message says the tag is gone too, check the repository name (and the mirror's path), or pin a tag that exists."
            }
            Problem::Unresolved => {
                "Check the registry name, credentials and network, then run again."
            }
            Problem::Unrendered => {
                "Render with every value set; an image that is a runtime parameter can be skipped with `# imagepin: ignore`."
            }
            Problem::NotWritten => {
                "The message says why the file was left as it was (its permissions, a read-only mount, a full disk, or an edit imagepin could not prove): fix that, then run again."
            }
            Problem::Platform => {
                "The message lists the platforms the image has. Choose one of them with `--platform`, or a tag that is built for the platform you need: the image this tag names cannot run there."
            }
        }
    }
}

impl Row<'_> {
    /// What to do about `problem` here: the rule's help, except for a reference `fix`
    /// has no place to pin (its note says how to make it pinnable).
    pub fn help(&self, problem: Problem) -> &'static str {
        if let Some(advice) = self.advice {
            return advice;
        }
        let unpinnable = matches!(self.finding.pin, PinSite::Field(DigestField::Missing(_)));
        match problem {
            Problem::Untagged | Problem::Mutable if unpinnable => {
                "`imagepin fix` cannot pin it where it is written: change it as this message says, then run `imagepin fix`."
            }
            _ => problem.help(),
        }
    }

    /// The problem this row shows, if any. `strict`: drift is an error.
    pub fn problem(&self, strict: bool) -> Option<(Problem, Level)> {
        let unpinned = || match self.finding.status {
            Status::Untagged => Some(Problem::Untagged),
            Status::Mutable => Some(Problem::Mutable),
            _ => None,
        };
        match self.action {
            Action::Reported => unpinned().map(|p| (p, Level::Error)),
            Action::Skipped => unpinned().map(|p| (p, Level::Warning)),
            Action::Drifted => Some((
                Problem::Drifted,
                if strict { Level::Error } else { Level::Warning },
            )),
            Action::Dangling => Some((Problem::Dangling, Level::Error)),
            // Only stdin mode fails a templated reference: rendering left it.
            Action::Failed if self.finding.status == Status::Templated => {
                Some((Problem::Unrendered, Level::Error))
            }
            Action::Failed => Some((self.failure.unwrap_or(Problem::Unresolved), Level::Error)),
            // `verify` without --strict: the digest exists, its tag could not be asked.
            Action::Verified if self.message.is_some() => {
                Some((Problem::Unresolved, Level::Warning))
            }
            _ => None,
        }
    }

    /// One sentence saying what is wrong, for annotations and SARIF: with why it failed,
    /// drifted or was not pinned, else the finding's own note (why `fix` cannot pin it
    /// where it is written, and how to make it pinnable).
    pub fn problem_message(&self, problem: Problem) -> String {
        let f = self.finding;
        let detail = self
            .message
            .as_deref()
            .or(f.note.as_deref())
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        match problem {
            Problem::Untagged => format!("{} has no tag or digest (means :latest){detail}", f.text),
            Problem::Mutable => format!("{} is not pinned to a digest{detail}", f.text),
            Problem::Drifted => format!("{} has drifted{detail}", f.text),
            Problem::Dangling => format!(
                "{}: pinned digest not found in the registry{detail}",
                f.text
            ),
            Problem::Unresolved | Problem::Unrendered | Problem::NotWritten | Problem::Platform => {
                format!("{}{detail}", f.text)
            }
        }
    }
}

/// Which command produced the rows: decides the wording of text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Check,
    Fix,
    Update,
    Verify,
}

/// Render rows, and what was skipped, on stdout in the chosen format (text output
/// leaves the skipped to the warnings on stderr). `strict`: drift and skipping are
/// errors.
pub fn rows(
    out: &mut impl Write,
    command: Command,
    rows: &[Row<'_>],
    skipped: &[Skipped],
    format: OutputFormat,
    strict: bool,
) -> io::Result<()> {
    match format {
        OutputFormat::Text => text::rows(out, command, rows, strict),
        OutputFormat::Json => json::rows(out, rows, skipped),
        OutputFormat::Sarif => sarif::rows(out, rows, skipped, strict),
        OutputFormat::Github => github::rows(out, rows, skipped, strict),
    }
}

static QUIET: AtomicBool = AtomicBool::new(false);
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// The reader of stdout went away (`imagepin fix --diff | head -1`): what is left to
/// print has no reader, so the command ends quietly.
pub fn set_stdout_closed() {
    STDOUT_CLOSED.store(true, Ordering::Relaxed);
}

pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// `-q`: no warnings, summaries or progress; results and errors only.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Whether to draw a progress bar: only for a person watching — stderr is a terminal,
/// not `-q`, and not in CI (`CI` set to anything but empty, `0` or `false`, as CI
/// systems set it), whose logs would fill with redraws.
pub fn progress_wanted(stderr_is_terminal: bool, quiet: bool, ci: Option<&str>) -> bool {
    let in_ci = ci.is_some_and(|v| !matches!(v.trim(), "" | "0" | "false" | "FALSE" | "False"));
    stderr_is_terminal && !quiet && !in_ci
}

/// A progress bar on stderr when [`progress_wanted`] says so: lookups done of the total,
/// with the registry last answering. It draws no colour (so `NO_COLOR` holds by
/// construction) and is cleared before results print.
pub fn progress_bar(what: &str) -> Option<indicatif::ProgressBar> {
    let ci = std::env::var("CI").ok();
    if !progress_wanted(io::stderr().is_terminal(), quiet(), ci.as_deref()) {
        return None;
    }
    // Hidden until set up, so no empty frame is drawn.
    let bar =
        indicatif::ProgressBar::with_draw_target(Some(0), indicatif::ProgressDrawTarget::hidden());
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{prefix} {pos}/{len} [{bar:30}] {msg} {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(what.to_string());
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    Some(bar)
}

/// `error: …` on stderr.
pub fn error(message: &str) {
    let _ = writeln!(io::stderr().lock(), "error: {message}");
}

/// `warning: …` on stderr (not with `-q`).
pub fn warning(message: &str) {
    if !quiet() {
        let _ = writeln!(io::stderr().lock(), "warning: {message}");
    }
}

/// A line of summary on stderr (not with `-q`).
pub fn summary(message: &str) {
    if !quiet() {
        let _ = writeln!(io::stderr().lock(), "{message}");
    }
}

/// Files that were not scanned, one warning each — or, with `--strict`, where they fail
/// the run, one error each (shown with `-q` too, so a failed run always says why).
pub fn skipped(skipped: &[Skipped], strict: bool) {
    for s in skipped {
        if strict {
            error(&s.to_string());
        } else {
            warning(&s.to_string());
        }
    }
    if let Some(counts) = skipped_counts(skipped) {
        let outcome = if strict {
            "which fails the run (--strict)"
        } else {
            "(`--strict` fails the run)"
        };
        summary(&format!(
            "skipped {counts}: their images were not read {outcome}"
        ));
    }
}

/// `1 file and 2 YAML documents`, or `None` when nothing was skipped (a part of a
/// file that was not read counts as a file).
pub fn skipped_counts(skipped: &[Skipped]) -> Option<String> {
    let documents = skipped.iter().filter(|s| s.is_document()).count();
    let files = skipped.len() - documents;
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    match (files, documents) {
        (0, 0) => None,
        (f, 0) => Some(plural(f, "file")),
        (0, d) => Some(plural(d, "YAML document")),
        (f, d) => Some(format!(
            "{} and {}",
            plural(f, "file"),
            plural(d, "YAML document")
        )),
    }
}

pub use crate::finding::display_path;

/// `1 file`, `2 files`: a count with its noun (English `-s` plurals).
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `sha256:0123456789ab`: enough to tell digests apart in a line of text.
pub fn short_digest(digest: &str) -> &str {
    let end = digest.find(':').map_or(0, |i| i + 13).min(digest.len());
    &digest[..end]
}

/// The name of a file in diff headers: its path as shown, when that is relative and
/// stays inside the current directory; otherwise (an absolute path, or one through
/// `..`) its real path from the filesystem root without the leading `/`, so the diff
/// applies from `/` — never `a//tmp/…` or `a/../…`, which both tools refuse.
fn diff_name(path: &Path) -> String {
    use std::path::Component;
    let inside = path
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if inside {
        return display_path(path);
    }
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let cwd = std::env::current_dir().and_then(std::fs::canonicalize);
    if let Ok(cwd) = cwd
        && let Ok(rel) = real.strip_prefix(&cwd)
    {
        return rel.display().to_string();
    }
    real.strip_prefix("/")
        .unwrap_or(&real)
        .display()
        .to_string()
}

/// A count of findings by status, on stderr, and of the references ignores left out
/// (said whenever there are any: an ignore that hides more than meant shows here).
pub fn status_summary<'a>(findings: impl Iterator<Item = &'a Finding>, ignored: usize) {
    let findings: Vec<&Finding> = findings.collect();
    let count = |s: Status| findings.iter().filter(|f| f.status == s).count();
    let ignored = match ignored {
        0 => String::new(),
        n => format!(
            "; {} ignored (`imagepin: ignore` comments, `ignore:` patterns)",
            plural(n, "more reference")
        ),
    };
    summary(&format!(
        "{}: {} pinned, {} mutable, {} untagged, {} templated, {} invalid, {} local{ignored}",
        plural(findings.len(), "reference"),
        count(Status::Pinned),
        count(Status::Mutable),
        count(Status::Untagged),
        count(Status::Templated),
        count(Status::Invalid),
        count(Status::Local),
    ));
}

/// The stream on stdout (stdin mode): the edited text, byte for byte.
pub fn stream(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// A unified diff of one file's change, with `a/…` and `b/…` headers that `git apply`
/// and `patch -p1` take.
pub fn diff(out: &mut impl Write, path: &Path, old: &str, new: &str) -> io::Result<()> {
    let name = diff_name(path);
    let text = similar::TextDiff::from_lines(old, new);
    let unified = text
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string();
    out.write_all(unified.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_bar_is_for_a_person_at_a_terminal() {
        assert!(progress_wanted(true, false, None));
        assert!(!progress_wanted(false, false, None), "not in a pipe");
        assert!(!progress_wanted(true, true, None), "not with -q");
        assert!(!progress_wanted(true, false, Some("true")), "not in CI");
        assert!(!progress_wanted(true, false, Some("1")));
        assert!(progress_wanted(true, false, Some("")));
        assert!(progress_wanted(true, false, Some("false")));
    }

    #[test]
    fn counts_take_the_singular_for_one() {
        assert_eq!(plural(1, "file"), "1 file");
        assert_eq!(plural(0, "file"), "0 files");
        assert_eq!(plural(2, "pin"), "2 pins");
    }
}
