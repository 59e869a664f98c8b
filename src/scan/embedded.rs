//! YAML written inside a YAML string: Argo CD's `helm.values` holds a Helm values file
//! as text, usually a literal block scalar (`values: |`). The string's text is cut out
//! of the file — each content line without the block's indentation — read with the
//! YAML layer like any file, and every span found in it is mapped back to the bytes
//! it came from, so a pin lands inside the string byte-exact.
//!
//! Only texts whose characters are the string's value are read: a literal block
//! scalar (`|`, `|-`, `|+`, `|2`), or a one-line quoted or plain scalar without
//! escapes. A folded block (`>`) or a quoted string with escapes or line breaks means
//! something other than what is written; such a string is reported as not read.

use std::ops::Range;

use crate::yaml::tree::{Kind, Node, Tree, value_span};

/// The text of a YAML string and where each of its lines came from.
#[derive(Debug)]
pub struct Embedded {
    pub text: String,
    /// Per line of `text`: (its start in `text`, its end, where it starts in the file).
    lines: Vec<(usize, usize, usize)>,
}

impl Embedded {
    /// The file span of a span of the string's text; `None` when it runs over a line
    /// break (its bytes are not together in the file).
    pub fn to_file(&self, span: &Range<usize>) -> Option<Range<usize>> {
        let i = self
            .lines
            .partition_point(|&(start, _, _)| start <= span.start)
            .checked_sub(1)?;
        let (start, end, file) = self.lines[i];
        (span.end <= end).then(|| file + span.start - start..file + span.end - start)
    }

    /// The file offset of one position in the string's text.
    pub fn offset_to_file(&self, at: usize) -> Option<usize> {
        self.to_file(&(at..at)).map(|r| r.start)
    }

    /// Read the string's text as YAML and hand each document tree to `each`.
    pub fn read(&self, each: &mut dyn FnMut(&Tree)) -> Result<(), crate::yaml::YamlError> {
        crate::yaml::read_each(&self.text, &mut || {}, each)
    }
}

/// The YAML text of the string `node`, whose key starts at column `key_column`.
/// `Err` says why the string is not read.
pub fn string_text(node: Node<'_>, src: &str, key_column: usize) -> Result<Embedded, String> {
    let start = node.start_byte();
    match src.as_bytes().get(start) {
        Some(b'|') => literal_block(src, start, node.end_byte(), key_column),
        Some(b'>') => Err(
            "a folded (`>`) string is not read as YAML; write it as a literal block (`|`)".into(),
        ),
        _ => one_line(node, src),
    }
}

/// A plain or quoted scalar on one line whose text is its value.
fn one_line(node: Node<'_>, src: &str) -> Result<Embedded, String> {
    let span = value_span(node).ok_or("not a string")?;
    let text = &src[span.clone()];
    let escaped = match node.kind() {
        Kind::SingleQuoted => text.contains('\''),
        Kind::DoubleQuoted => text.contains('\\'),
        _ => false,
    };
    if escaped || text.contains(['\n', '\r']) {
        return Err(
            "a string with escapes or line breaks is not read as YAML; write it as a literal block (`|`)"
                .into(),
        );
    }
    Ok(Embedded {
        text: text.to_string(),
        lines: vec![(0, text.len(), span.start)],
    })
}

/// A `|` block scalar from its indicator at `start` to its last content byte at `end`.
fn literal_block(
    src: &str,
    start: usize,
    end: usize,
    key_column: usize,
) -> Result<Embedded, String> {
    let header_end = src[start..].find('\n').map_or(src.len(), |i| start + i + 1);
    let header = src[start + 1..header_end].trim_end();
    let header = header.split('#').next().unwrap_or("").trim_end();
    let explicit = header.chars().find_map(|c| c.to_digit(10));
    if header.chars().any(|c| !matches!(c, '+' | '-' | '1'..='9')) {
        return Err("unreadable block scalar header".into());
    }
    // Every line from the one after the header to the one holding the last byte.
    let body_end = src[end..].find('\n').map_or(src.len(), |i| end + i + 1);
    let body = src.get(header_end..body_end).unwrap_or("");
    let indent = match explicit {
        Some(m) => key_column + m as usize,
        None => body
            .split_inclusive('\n')
            .map(|l| l.trim_end_matches(['\n', '\r']))
            .find(|l| !l.trim_start_matches(' ').is_empty())
            .map_or(0, |l| l.len() - l.trim_start_matches(' ').len()),
    };
    let mut text = String::with_capacity(body.len());
    let mut lines = Vec::new();
    let mut at = header_end;
    for line in body.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        if content.len() >= indent && content.as_bytes()[..indent].iter().all(|&b| b == b' ') {
            lines.push((text.len(), text.len() + line.len() - indent, at + indent));
            text.push_str(&line[indent..]);
        } else if content.bytes().all(|b| b == b' ') {
            // A blank line shorter than the indentation: only its line break counts.
            let brk = &line[content.len()..];
            lines.push((text.len(), text.len() + brk.len(), at + content.len()));
            text.push_str(brk);
        } else {
            return Err("a block scalar line is indented less than its content".into());
        }
        at += line.len();
    }
    Ok(Embedded { text, lines })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(src: &str, key_column: usize) -> Embedded {
        let start = src.find('|').unwrap();
        let end = src.trim_end().len();
        literal_block(src, start, end, key_column).unwrap()
    }

    #[test]
    fn lines_lose_their_indentation_and_map_back() {
        let src = "values: |\n  image:\n    repository: nginx\n\n  x: 1 # c\nnext: 2\n";
        let start = src.find('|').unwrap();
        let end = src.find("# c").unwrap() + 3;
        let e = literal_block(src, start, end, 0).unwrap();
        assert_eq!(e.text, "image:\n  repository: nginx\n\nx: 1 # c\n");
        let inner = e.text.find("nginx").unwrap();
        let file = e.to_file(&(inner..inner + 5)).unwrap();
        assert_eq!(&src[file], "nginx");
        let x = e.text.find("x:").unwrap();
        assert_eq!(&src[e.to_file(&(x..x + 4)).unwrap()], "x: 1");
        // A span over a line break has no place in the file.
        assert!(e.to_file(&(0..10)).is_none());
    }

    #[test]
    fn crlf_and_explicit_indentation() {
        let src = "  values: |2\r\n      a: b\r\n    c: d\r\n";
        let e = block(src, 2);
        assert_eq!(e.text, "  a: b\r\nc: d\r\n");
        let d = e.text.find('d').unwrap();
        assert_eq!(e.offset_to_file(d), Some(src.find('d').unwrap()));
    }

    #[test]
    fn less_indented_content_is_refused() {
        let src = "values: |\n    a: 1\n  b: 2\n";
        let start = src.find('|').unwrap();
        assert!(literal_block(src, start, src.len() - 1, 0).is_err());
    }
}
