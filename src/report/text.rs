//! Text output for people: `file:line:column: what` per row. Failures go to stderr as
//! errors so they stand out; results go to stdout.

use std::io::{self, Write};

use super::{Action, Command, Row, display_path, error, short_digest, warning};

pub fn rows(
    out: &mut impl Write,
    command: Command,
    rows: &[Row<'_>],
    strict: bool,
) -> io::Result<()> {
    for row in rows {
        let f = row.finding;
        let place = format!("{}:{}:{}", display_path(&f.path), f.line, f.column);
        let message = row.message.as_deref().unwrap_or("");
        match row.action {
            Action::Reported => {
                write!(
                    out,
                    "{place}: {:<9} {} ({})",
                    f.status.as_str(),
                    one_line(&f.text),
                    f.format.as_str()
                )?;
                if let Some(note) = &f.note {
                    write!(out, ": {note}")?;
                }
                writeln!(out)?;
            }
            Action::Pinned | Action::WouldPin => {
                let verb = if row.action == Action::Pinned {
                    "pinned"
                } else {
                    "would pin"
                };
                let new = row.new_reference.as_deref().unwrap_or("");
                writeln!(out, "{place}: {verb} {} -> {new}", f.text)?;
            }
            Action::Updated | Action::WouldUpdate => {
                let verb = if row.action == Action::Updated {
                    "updated"
                } else {
                    "would update"
                };
                let old = row.old_digest.as_deref().map(short_digest).unwrap_or("");
                let new = row.new_digest.as_deref().map(short_digest).unwrap_or("");
                let name = f.text.split('@').next().unwrap_or(&f.text);
                writeln!(out, "{place}: {verb} {name} {old} -> {new}")?;
            }
            Action::Drifted => {
                let how = if strict { "error" } else { "info" };
                writeln!(out, "{place}: drifted ({how}) {}: {message}", f.text)?;
            }
            Action::Dangling => writeln!(out, "{place}: dangling {}: {message}", f.text)?,
            Action::Failed => error(&format!("{place}: {}: {message}", f.text)),
            Action::Skipped => {
                let not = match command {
                    Command::Update => "not updated",
                    _ => "not pinned",
                };
                warning(&format!("{place}: {}: {not}: {message}", f.text))
            }
            // The digest exists, but something about the pin could not be learned.
            Action::Verified if command == Command::Verify && row.message.is_some() => {
                warning(&format!("{place}: {}: {message}", f.text))
            }
            Action::Unchanged | Action::Verified => {}
        }
    }
    Ok(())
}

/// A reference as written, on one line: an expression over several lines (a heredoc
/// seen but never pinned) shows its line breaks escaped.
fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(['\n', '\r']) {
        text.escape_debug().to_string().into()
    } else {
        text.into()
    }
}
