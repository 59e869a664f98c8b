//! GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message`, one
//! per problem, and a `::warning` per skipped file or document (`::error` with
//! `--strict`), which GitHub shows as annotations on the pull request's files. GitHub
//! places an annotation by the file's path from the repository root, so `file=` is the
//! path from the root of the git work tree holding the file, wherever the run started;
//! for a file in no work tree it is the absolute path (which the runner makes relative
//! to the workspace).

use std::io::{self, Write};
use std::path::Path;

use super::{Level, Row, display_path};
use crate::finding::{Place, STDIN, Skipped, WorkTrees};

pub fn rows(
    out: &mut impl Write,
    rows: &[Row<'_>],
    skipped: &[Skipped],
    strict: bool,
) -> io::Result<()> {
    let mut trees = WorkTrees::default();
    let command = if strict { "error" } else { "warning" };
    for s in skipped {
        // Without a file, a line says nothing.
        let place = match file(&mut trees, &s.path) {
            Some(file) => {
                let line = s.line.map(|l| format!(",line={l}")).unwrap_or_default();
                format!("file={}{line},", escape_property(&file))
            }
            None => String::new(),
        };
        writeln!(
            out,
            "::{command} {place}title={}::{}",
            escape_property("imagepin: skipped"),
            escape_data(&s.message),
        )?;
    }
    for row in rows {
        let Some((problem, level)) = row.problem(strict) else {
            continue;
        };
        let f = row.finding;
        let command = match level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        writeln!(
            out,
            "::{command} file={},line={},col={},title={}::{}",
            escape_property(&file(&mut trees, &f.path).unwrap_or_default()),
            f.line,
            f.column,
            escape_property(&format!("imagepin: {}", problem.id())),
            escape_data(&sentences(&row.problem_message(problem), row.help(problem))),
        )?;
    }
    Ok(())
}

/// The `file=` of `path`: from the root of its work tree, else absolute; `/`-separated.
fn file(trees: &mut WorkTrees, path: &Path) -> Option<String> {
    match trees.place(path) {
        Place::WorkTree { path, .. } | Place::Outside(path) => Some(display_path(&path)),
        Place::Stdin => Some(STDIN.to_string()),
        Place::Nowhere => None,
    }
}

/// Two sentences: the first gets its full stop unless it already ends one.
fn sentences(first: &str, second: &str) -> String {
    if first.ends_with(['.', '!', '?']) {
        format!("{first} {second}")
    } else {
        format!("{first}. {second}")
    }
}

/// Message text: `%`, CR and LF are escaped so a value cannot end the command.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Property values also escape `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_and_help_are_two_sentences() {
        assert_eq!(sentences("a is bad", "Fix it."), "a is bad. Fix it.");
        assert_eq!(sentences("a is bad.", "Fix it."), "a is bad. Fix it.");
    }

    #[test]
    fn escapes() {
        assert_eq!(escape_data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
