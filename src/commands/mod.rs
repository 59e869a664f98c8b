//! The commands: each plans its work over scanned findings and drives the stages. What
//! they share lives here: what they read (paths or stdin), a registry session (client,
//! resolver, runtime) and printing rows. Carrying out a file's planned edits is its own
//! stage, [`crate::apply`]; writing an edited stream back to stdout is [`stream`].

pub mod check;
pub mod fix;
pub mod stream;
pub mod update;
pub mod verify;

use std::collections::BTreeSet;
use std::future::Future;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::config::{RegistrySettings, ScanSettings};
use crate::error::RunError;
use crate::finding::{Finding, Skipped};
use crate::registry::Endpoint;
use crate::registry::endpoint::canonical_registry;
use crate::registry::{Client, RegistryError, Resolver};
use crate::report::{self, Action, Problem, Row};
use crate::stdin::Stream;
use crate::walk::{self, Scan};

/// What a command reads.
#[derive(Debug, Clone)]
pub enum Input {
    /// Files and directories to walk.
    Paths(Vec<PathBuf>),
    /// The stream on stdin (`-`), read once.
    Stdin(Stream),
}

impl Input {
    /// Scan the input. `keep_source` decides, per file, whether its text is kept for
    /// rewriting; the stream's always is (it is written back).
    pub fn scan(
        &self,
        settings: &ScanSettings,
        keep_source: &(dyn Fn(&[Finding]) -> bool + Sync),
    ) -> Scan {
        match self {
            Input::Paths(paths) => walk::scan_paths(paths, settings, keep_source),
            Input::Stdin(stream) => stream.read(settings),
        }
    }

    pub fn is_stdin(&self) -> bool {
        matches!(self, Input::Stdin(_))
    }

    /// Report what was not scanned. A file (or YAML document) that cannot be read is
    /// a warning, a problem only with `--strict`; from stdin it is an error (what
    /// cannot be read can be neither passed on pinned nor called clean). Returns
    /// whether it makes the outcome a problem. A config met below the paths given,
    /// which this run does not use, is a warning too.
    pub fn report_skipped(&self, scan: &Scan, strict: bool) -> bool {
        for config in &scan.unused_configs {
            let dir = config
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            report::warning(&format!(
                "{}: not used by this run: a config applies to the paths given under it; scan {} on its own to use it (or name one config with --config)",
                report::display_path(config),
                report::display_path(dir),
            ));
        }
        let skipped = &scan.skipped;
        if !self.is_stdin() {
            report::skipped(skipped, strict);
            return strict && !skipped.is_empty();
        }
        for s in skipped {
            report::error(&s.to_string());
        }
        !skipped.is_empty()
    }
}

/// The row of a reference whose lookup failed: the `platform` rule when the image has
/// no manifest for the platform asked for (or pinned), else `unresolved`.
pub fn lookup_failed<'a>(f: &'a Finding, e: &RegistryError) -> Row<'a> {
    let row = Row::new(f, Action::Failed).with_message(e.to_string());
    match e {
        RegistryError::Platform { .. } => row.failed_as(Problem::Platform),
        _ => row,
    }
}

/// A `--mirror` (or a config `mirrors:` key) for a registry none of the scanned
/// references is on stands in for nothing — most likely a misspelt registry
/// (`dockerhub=` for `docker.io=`), whose images then go to the registry itself: say
/// so. The same for a `registries:` host that no reference or mirror is on
/// (`127.0.0.1:5000` for references on `localhost:5000`).
pub fn warn_unused_routing(settings: &RegistrySettings, scan: &Scan) {
    let named: BTreeSet<String> = scan
        .files
        .iter()
        .flat_map(|f| f.findings.iter())
        .filter_map(|f| f.reference.as_ref())
        .map(|r| canonical_registry(&r.registry))
        .collect();
    if named.is_empty() {
        return;
    }
    let listed: Vec<&str> = named.iter().map(String::as_str).collect();
    let listed = listed.join(", ");
    for (unused, by) in [
        (&settings.flag_mirrors, "--mirror"),
        (&settings.config_mirrors, "the config's `mirrors:`"),
    ] {
        let unused: Vec<&str> = unused
            .iter()
            .filter(|m| !named.contains(*m))
            .map(String::as_str)
            .collect();
        let (them, on, mirrors) = match unused.as_slice() {
            [] => continue,
            [one] => (*one, (*one).to_string(), "that mirror is"),
            _ => ("those registries", unused.join(", "), "those mirrors are"),
        };
        report::warning(&format!(
            "{by} {on}: no reference here is on {them}, so {mirrors} not used (the references are on {listed})"
        ));
    }
    // A `registries:` entry applies to a registry the references name, or to the host
    // they are asked at (a mirror's), as the client looks it up.
    let hosts: BTreeSet<String> = named
        .iter()
        .flat_map(|r| {
            let asked_at = Endpoint::for_registry(r, &settings.routing).credential_host();
            [r.clone(), canonical_registry(&asked_at)]
        })
        .collect();
    for host in &settings.config_registries {
        if !hosts.contains(host) {
            report::warning(&format!(
                "the config's `registries: {{{host}: …}}` is not used: no reference or mirror here is on {host}, unless it is a token server's (a host is matched as written: `localhost` and `127.0.0.1` are different names; the references are on {listed})"
            ));
        }
    }
}

/// How a command ended, before it becomes an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing wrong: exit 0.
    Clean,
    /// Findings or failures: exit 1.
    Problems,
}

/// One registry conversation per run: a client whose connections, challenges and tokens
/// every lookup shares, on a small runtime.
pub struct Session {
    pub resolver: Resolver,
    pub client: Arc<Client>,
    runtime: tokio::runtime::Runtime,
}

impl Session {
    pub fn new(settings: &RegistrySettings) -> Result<Session, RunError> {
        let client =
            Arc::new(Client::new(settings.timeout, &settings.routing).map_err(RunError::Usage)?);
        let mut resolver = Resolver::new(
            client.clone(),
            settings.routing.clone(),
            settings.concurrency,
        );
        if let Some(bar) = report::progress_bar("resolving") {
            resolver = resolver.with_progress(bar);
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Session {
            resolver,
            client,
            runtime,
        })
    }

    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// `, N registry requests (…)` for summaries, with any rate limit left.
    pub fn requests(&self) -> String {
        let s = &self.client.stats;
        let mut text = format!(
            ", {} ({} manifest HEAD, {} GET, {} token, {} ping, {} retried)",
            report::plural(s.total(), "registry request"),
            s.heads.load(Ordering::Relaxed),
            s.gets.load(Ordering::Relaxed),
            s.tokens.load(Ordering::Relaxed),
            s.pings.load(Ordering::Relaxed),
            s.retries.load(Ordering::Relaxed),
        );
        for (registry, remaining) in self.client.rate_limits() {
            text.push_str(&format!(
                "; {registry} rate limit: {}",
                rate_limit_text(&remaining)
            ));
        }
        text
    }
}

/// A `RateLimit-Remaining` value for people: `100;w=21600` is "100 pulls left in 6 h"
/// (the window, `w=`, in seconds); a value that does not read so is shown as sent.
fn rate_limit_text(raw: &str) -> String {
    let mut parts = raw.split(';').map(str::trim);
    let Some(Ok(left)) = parts.next().map(str::parse::<u64>) else {
        return format!("{raw:?} remaining");
    };
    let noun = if left == 1 { "pull" } else { "pulls" };
    let window = parts.find_map(|p| p.strip_prefix("w=")?.parse::<u64>().ok());
    match window {
        Some(secs) if secs > 0 && secs % 3600 == 0 => {
            format!("{left} {noun} left in {} h", secs / 3600)
        }
        Some(secs) if secs > 0 && secs % 60 == 0 => {
            format!("{left} {noun} left in {} min", secs / 60)
        }
        Some(secs) => format!("{left} {noun} left in {secs} s"),
        None => format!("{left} {noun} left"),
    }
}

/// Print rows; a reader that went away (`imagepin check | head`) does not change the
/// outcome, and rows are all computed before printing.
/// `skipped`: what could not be read (machine formats list it; text has said it on
/// stderr). `strict`: drift and skipping are errors.
pub fn print(
    command: report::Command,
    rows: &[Row<'_>],
    skipped: &[Skipped],
    format: report::OutputFormat,
    strict: bool,
    diff_mode: bool,
) -> Result<(), RunError> {
    print_to(
        &mut std::io::stdout().lock(),
        command,
        rows,
        skipped,
        format,
        strict,
        diff_mode,
    )
}

/// [`print`] to `out` (stderr when stdout carries a stream).
pub fn print_to(
    out: &mut impl Write,
    command: report::Command,
    rows: &[Row<'_>],
    skipped: &[Skipped],
    format: report::OutputFormat,
    strict: bool,
    diff_mode: bool,
) -> Result<(), RunError> {
    if report::stdout_closed() {
        // Ends the run quietly (exit 0): `main` treats a broken pipe as the reader's
        // choice to stop.
        return Err(RunError::Io(std::io::ErrorKind::BrokenPipe.into()));
    }
    let result = if diff_mode && format == report::OutputFormat::Text {
        // The diff is the output; failures and skips still need saying (on stderr).
        let problems: Vec<Row<'_>> = rows
            .iter()
            .filter(|r| matches!(r.action, Action::Failed | Action::Skipped))
            .cloned()
            .collect();
        report::rows(out, command, &problems, skipped, format, strict)
    } else {
        report::rows(out, command, rows, skipped, format, strict)
    };
    match result.and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

#[cfg(test)]
mod tests {
    use super::rate_limit_text;

    #[test]
    fn rate_limits_read_as_text() {
        assert_eq!(rate_limit_text("100;w=21600"), "100 pulls left in 6 h");
        assert_eq!(rate_limit_text("1;w=90"), "1 pull left in 90 s");
        assert_eq!(rate_limit_text("7; w=600"), "7 pulls left in 10 min");
        assert_eq!(rate_limit_text("42"), "42 pulls left");
        assert_eq!(rate_limit_text("lots"), "\"lots\" remaining");
    }
}
