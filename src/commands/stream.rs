//! Writing an edited stream back (`fix -`, `update -`): the stream goes to stdout whole,
//! and only when all of it was read and every reference in it was handled, so a
//! pipeline never carries a half-pinned stream (nothing on stdout makes the next step,
//! `kubectl apply -f -` or Helm, fail loudly). `--keep-going` writes what could be
//! done. What happened is reported on stderr: stdout is the stream's.

use std::io::Write;

use super::Input;
use crate::apply::{self, Apply, Planned};
use crate::error::RunError;
use crate::report::{self, Action, Command, OutputFormat, Row};
use crate::walk::{Scan, ScannedFile};

/// How the stream's rows are reported (on stderr).
pub struct Reporting {
    pub command: Command,
    pub format: OutputFormat,
}

/// Carry out the plan of the stream `scan` read from stdin and write the result to
/// stdout, or nothing; then report the rows on stderr, and why nothing was written.
/// `unread`: part of the stream could not be read. Returns the rows and whether the
/// stream written differs from the one read.
pub fn carry_out<'a>(
    scan: &'a Scan,
    apply: &Apply<'_>,
    plan: impl Fn(&'a ScannedFile) -> Vec<Planned<'a>>,
    (unread, keep_going): (bool, bool),
    reporting: &Reporting,
) -> Result<(Vec<Row<'a>>, bool), RunError> {
    let Some(file) = scan.files.first() else {
        report::error("nothing written to stdout: the stream could not be read");
        return Ok((Vec::new(), false));
    };
    let (mut rows, new) = apply::edit(file, plan(file), apply);
    let failed = apply::count(&rows, &[Action::Failed]);
    let write = (failed == 0 && !unread) || keep_going;
    if write {
        let text = new
            .as_deref()
            .or(file.source.as_deref())
            .unwrap_or_default();
        report::stream(text)?;
    } else {
        apply::not_done(&mut rows);
    }
    let mut stderr = std::io::stderr().lock();
    super::print_to(
        &mut stderr,
        reporting.command,
        &rows,
        &scan.skipped,
        reporting.format,
        false,
        false,
    )?;
    let _ = stderr.flush();
    drop(stderr);
    if write {
        return Ok((rows, new.is_some()));
    }
    let mut why = Vec::new();
    if failed > 0 {
        why.push(format!("{} failed", report::plural(failed, "reference")));
    }
    if unread {
        why.push("part of it could not be read".to_string());
    }
    report::error(&format!(
        "{}: nothing written to stdout: {} (--keep-going writes what could be done)",
        report::display_path(&file.path),
        why.join(" and ")
    ));
    Ok((rows, false))
}

/// Whether stdout carries the stream (`fix -`, `update -` writing): rows go to stderr.
pub fn rows_to_stderr(input: &Input, mode: apply::Mode) -> bool {
    input.is_stdin() && mode == apply::Mode::Write
}
