//! Splitting a stream into its documents before anything reads it, so that one
//! document that does not parse (a Helm template, a typo) costs only itself. A line
//! that starts with `---` or `...` followed by a space, a tab or the line's end is a
//! document marker wherever it stands: YAML forbids such a line inside any scalar or
//! collection, so the split needs no parser.

use std::ops::Range;

/// One document's text: from its `---` line (if any) up to the next document's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub range: Range<usize>,
    /// 1-based line of the piece's first byte.
    pub line: usize,
}

/// The pieces of `src`, in order, covering it whole. A `---` line starts a piece; a
/// `...` line ends one (the directives of the next document follow it).
pub fn documents(src: &str) -> Vec<Piece> {
    let b = src.as_bytes();
    let is_marker = |at: usize| {
        let m = &b[at..];
        (m.starts_with(b"---") || m.starts_with(b"..."))
            && matches!(m.get(3), None | Some(b' ' | b'\t' | b'\r' | b'\n'))
    };
    let mut cuts = Vec::new();
    let mut consider = |at: usize| {
        if is_marker(at) {
            if b[at] == b'-' {
                cuts.push(with_directives(b, at));
            } else {
                // After the `...` line.
                cuts.push(memchr::memchr(b'\n', &b[at..]).map_or(b.len(), |n| at + n + 1));
            }
        }
    };
    consider(0);
    for finder in [b"\n---", b"\n..."] {
        for at in memchr::memmem::find_iter(b, finder) {
            consider(at + 1);
        }
    }
    cuts.push(b.len());
    cuts.sort_unstable();
    cuts.dedup();
    let mut pieces = Vec::with_capacity(cuts.len());
    let (mut start, mut line) = (0, 1);
    for cut in cuts {
        if cut > start {
            pieces.push(Piece {
                range: start..cut,
                line,
            });
            line += memchr::memchr_iter(b'\n', &b[start..cut]).count();
            start = cut;
        }
    }
    pieces
}

/// Where the document whose `---` is at `at` begins: at the first of the directive
/// lines (`%YAML`, `%TAG`) just before it, with comment and blank lines among them.
fn with_directives(b: &[u8], at: usize) -> usize {
    let mut begin = at;
    let mut p = at;
    while p > 0 {
        let line = memchr::memrchr(b'\n', &b[..p - 1]).map_or(0, |n| n + 1);
        let text = &b[line..p];
        if text.first() == Some(&b'%') {
            begin = line;
        } else if text.trim_ascii_start().first().is_some_and(|&c| c != b'#') {
            break;
        }
        p = line;
    }
    begin
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<(&str, usize)> {
        documents(src)
            .into_iter()
            .map(|p| (&src[p.range], p.line))
            .collect()
    }

    #[test]
    fn splits_at_markers_only() {
        assert_eq!(
            texts("a: 1\n---\nb: ---x\n--- # c\nc: 1\n...\n%YAML 1.2\n---\nd\n"),
            [
                ("a: 1\n", 1),
                ("---\nb: ---x\n", 2),
                ("--- # c\nc: 1\n...\n", 4),
                ("%YAML 1.2\n---\nd\n", 7),
            ]
        );
        assert_eq!(texts("---\r\na\r\n----\r\n"), [("---\r\na\r\n----\r\n", 1)]);
        assert_eq!(texts("x: |\n  ---\n"), [("x: |\n  ---\n", 1)]);
        assert!(texts("").is_empty());
        assert_eq!(texts("---"), [("---", 1)]);
        assert_eq!(
            texts("%TAG ! x\n# c\n\n---\na\n"),
            [("%TAG ! x\n# c\n\n---\na\n", 1)]
        );
    }
}
