//! The YAML layer: every reading of YAML in imagepin goes through here, and what it
//! guarantees is what the format rules rely on.
//!
//! - **Exact spans.** Every node of the document model ([`tree`]) carries the byte
//!   range it is written at in the file, LF or CRLF, so an edit touches only those
//!   bytes. No serde round-trip ever produces text that is written back.
//! - **Never a guess.** A text is read by a reader that knows YAML's syntax or not at
//!   all: the fast reader ([`fast`]) takes the block YAML nearly every manifest is
//!   written in and declines anything else; the complete reader ([`full`], a YAML 1.2
//!   event parser) takes the rest and proves every span it takes against the text.
//! - **One document at a time.** A stream is split at its document markers
//!   ([`split`]) before it is read, so a document that cannot be read (a template, a
//!   typo) is refused alone, with its line and the reason, and the others are read.
//!
//! Both readers build the same [`tree::Tree`]; tests hold them to identical trees over
//! the corpus and over generated and mutated YAML.

pub mod fast;
pub mod full;
pub mod scalar;
pub mod split;
pub mod tree;

use tree::Tree;

pub use full::MAX_DEPTH;

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum YamlError {
    /// Not YAML: the parser's reason.
    Syntax { line: usize, reason: String },
    /// Not YAML because it is a template: the first line of template syntax that
    /// stands where YAML cannot have it.
    Template { line: usize, syntax: Template },
    /// Nested deeper than [`MAX_DEPTH`], starting at this line.
    TooDeep { line: usize },
    /// The parser read a value that could not be placed exactly in the text.
    Unplaced { line: usize },
}

/// Which template language a document is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// `{{ … }}`: Go templates (Helm).
    Go,
    /// `{% … %}`: Jinja (Ansible, Salt).
    Jinja,
}

impl YamlError {
    /// The 1-based line the error points to.
    pub fn line(&self) -> usize {
        match self {
            YamlError::Syntax { line, .. }
            | YamlError::Template { line, .. }
            | YamlError::TooDeep { line }
            | YamlError::Unplaced { line } => *line,
        }
    }
}

/// Read `src` whole: each document's tree goes to `each`, in order; if any document
/// cannot be read, `restart` is called (discard what `each` collected) and the first
/// error is returned. For texts that are read all or nothing (a values string, a
/// file another one includes).
pub fn read_each(
    src: &str,
    restart: &mut dyn FnMut(),
    each: &mut dyn FnMut(&Tree),
) -> Result<(), YamlError> {
    match read_documents(src, each).into_iter().next() {
        Some(error) => {
            restart();
            Err(error)
        }
        None => Ok(()),
    }
}

/// Read `src` document by document, handing each document's tree (spans into `src`)
/// to `each`, in order. A document that cannot be read is skipped; the returned list
/// says which and why.
pub fn read_documents(src: &str, each: &mut dyn FnMut(&Tree)) -> Vec<YamlError> {
    let mut errors = Vec::new();
    for piece in split::documents(src) {
        let text = &src[piece.range.clone()];
        let tree = match fast::read(text) {
            Some(tree) => Ok(tree),
            None => full::read(text),
        };
        match tree {
            Ok(mut tree) => {
                tree.templates_as_strings(text);
                tree.shift(piece.range.start);
                each(&tree);
            }
            Err(refusal) => {
                let at = |line: usize| piece.line + line.max(1) - 1;
                errors.push(match refusal {
                    full::Refusal::Syntax { line, reason, .. } => match template_line(text, line) {
                        Some((line, syntax)) => YamlError::Template {
                            line: at(line),
                            syntax,
                        },
                        None => YamlError::Syntax {
                            line: at(line),
                            reason,
                        },
                    },
                    full::Refusal::TooDeep(line) => YamlError::TooDeep { line: at(line) },
                    full::Refusal::Unplaced(line) => YamlError::Unplaced { line: at(line) },
                });
            }
        }
    }
    errors
}

/// The line to blame in a document that does not parse, when it holds template
/// syntax: the first line that opens with a template tag (`{{- if … }}`, `{% for … %}`)
/// at or before the parser's error line; else the last line with a template tag
/// there. `None` when the text holds no template syntax up to the error.
fn template_line(text: &str, error_line: usize) -> Option<(usize, Template)> {
    let mut last = None;
    for (i, line) in text.lines().take(error_line.max(1)).enumerate() {
        let syntax = if line.contains("{{") {
            Template::Go
        } else if line.contains("{%") || line.contains("{#") {
            Template::Jinja
        } else {
            continue;
        };
        let opens = line.trim_start();
        if opens.starts_with("{{") || opens.starts_with("{%") || opens.starts_with("{#") {
            return Some((i + 1, syntax));
        }
        last = Some((i + 1, syntax));
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_lines() {
        let go = "a: 1\nimage: \"{{ .Values.image }}\"\n{{- if .Values.x }}\nb: [\n";
        assert_eq!(template_line(go, 4), Some((3, Template::Go)));
        assert_eq!(
            template_line("a: {{ x }}\nb: [\n", 2),
            Some((1, Template::Go))
        );
        assert_eq!(
            template_line("{% for x in y %}\n- a\n", 1),
            Some((1, Template::Jinja))
        );
        assert_eq!(template_line("a: [\nb: {{ x }}\n", 1), None);
    }

    #[test]
    fn a_template_that_parses_is_a_string() {
        let src = "image: {{ .Values.image }}\nb: {{a: 1}: 2}\nc: [{{ x }}]\n";
        let mut kinds = Vec::new();
        let errors = read_documents(src, &mut |tree| {
            for doc in tree.documents() {
                for pair in doc.pair_list() {
                    let v = pair.value().expect("value");
                    kinds.push((
                        src[v.start_byte()..v.end_byte()].to_string(),
                        v.kind().clone(),
                    ));
                }
            }
        });
        assert!(errors.is_empty());
        assert_eq!(
            kinds[0],
            (
                "{{ .Values.image }}".into(),
                tree::Kind::Plain { string: true }
            )
        );
        assert!(
            matches!(kinds[1].1, tree::Kind::Mapping { flow: true, .. }),
            "{kinds:?}"
        );
        assert!(
            matches!(kinds[2].1, tree::Kind::Sequence { flow: true, .. }),
            "{kinds:?}"
        );
    }
}
