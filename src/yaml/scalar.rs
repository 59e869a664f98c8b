//! Scalar values as YAML reads them from their text: escapes in double-quoted scalars,
//! `''` in single-quoted ones, and line folding in every flow scalar written over
//! several lines. The complete reader proves each span it takes by decoding the text
//! there and comparing it with the parser's value; the fast reader records the value
//! of a one-line quoted scalar that has escapes, so a reference is classified on what
//! it says, not on how it is written.

/// How a flow scalar is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
}

/// The value of a flow scalar's text (quotes stripped). `None` when a double-quoted
/// text holds an escape YAML does not have.
pub fn decode(text: &str, style: Style) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    // Spaces and tabs seen since the last other character: dropped before a line
    // break, kept before anything else.
    let mut blanks = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => blanks.push(c),
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                blanks.clear();
                let empty = skip_folded_lines(&mut chars);
                if empty == 0 {
                    out.push(' ');
                } else {
                    out.extend(std::iter::repeat_n('\n', empty));
                }
            }
            '\'' if style == Style::SingleQuoted && chars.peek() == Some(&'\'') => {
                chars.next();
                out.push_str(&blanks);
                blanks.clear();
                out.push('\'');
            }
            '\\' if style == Style::DoubleQuoted => {
                out.push_str(&blanks);
                blanks.clear();
                let e = chars.next()?;
                let simple = match e {
                    '0' => '\0',
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    't' | '\t' => '\t',
                    'n' => '\n',
                    'v' => '\u{b}',
                    'f' => '\u{c}',
                    'r' => '\r',
                    'e' => '\u{1b}',
                    ' ' => ' ',
                    '"' => '"',
                    '/' => '/',
                    '\\' => '\\',
                    'N' => '\u{85}',
                    '_' => '\u{a0}',
                    'L' => '\u{2028}',
                    'P' => '\u{2029}',
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut code = 0u32;
                        for _ in 0..n {
                            code = code * 16 + chars.next()?.to_digit(16)?;
                        }
                        char::from_u32(code)?
                    }
                    '\r' | '\n' => {
                        // An escaped line break: the break and the next line's
                        // indentation vanish; empty lines after it still count.
                        if e == '\r' && chars.peek() == Some(&'\n') {
                            chars.next();
                        }
                        let empty = skip_folded_lines(&mut chars);
                        out.extend(std::iter::repeat_n('\n', empty));
                        continue;
                    }
                    _ => return None,
                };
                out.push(simple);
            }
            _ => {
                out.push_str(&blanks);
                blanks.clear();
                out.push(c);
            }
        }
    }
    out.push_str(&blanks);
    Some(out)
}

/// After a line break: skip the next lines' leading blanks and every line that holds
/// only blanks; returns how many such empty lines there were.
fn skip_folded_lines(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> usize {
    let mut empty = 0;
    loop {
        while matches!(chars.peek(), Some(' ' | '\t')) {
            chars.next();
        }
        match chars.peek() {
            Some('\r' | '\n') => {
                if chars.next() == Some('\r') && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                empty += 1;
            }
            _ => return empty,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_folding() {
        let d = |t: &str| decode(t, Style::DoubleQuoted);
        assert_eq!(
            d(r"a\x41\u00e9\U0001F600\t\\\/").as_deref(),
            Some("aAé😀\t\\/")
        );
        assert_eq!(
            d("amd64/node:10.0.0\\\n    @sha256:ab").as_deref(),
            Some("amd64/node:10.0.0@sha256:ab")
        );
        assert_eq!(d("a  \n  b").as_deref(), Some("a b"));
        assert_eq!(d("a \\\n  b").as_deref(), Some("a b"));
        assert_eq!(d("a\n\n  \n b").as_deref(), Some("a\n\nb"));
        assert_eq!(d("a\r\n b").as_deref(), Some("a b"));
        assert_eq!(d(r"\z"), None);
        assert_eq!(d(r"\x4"), None);
        assert_eq!(
            decode("it''s\n  x", Style::SingleQuoted).as_deref(),
            Some("it's x")
        );
        assert_eq!(
            decode("p1\n  p2\n\n  p3", Style::Plain).as_deref(),
            Some("p1 p2\np3")
        );
    }
}
