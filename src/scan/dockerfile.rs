//! Dockerfile / Containerfile scanner. Hand-written because the parser crates either fail
//! a whole file on `# escape=` and heredocs or keep no byte spans. It works on physical
//! byte offsets and knows Docker's rules: parser directives only at the top (`# syntax=`
//! is itself an image), logical lines joined by the escape character with comment and
//! blank lines inside, heredoc bodies (never scanned), `FROM [--flags] IMAGE [AS name]`,
//! stage names and `scratch` (not images), `ARG NAME=IMAGE` before the first `FROM` used
//! as `FROM $NAME`, `COPY --from=IMAGE` and `RUN --mount=…,from=IMAGE`.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

/// Where in a Dockerfile an image reference was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    Syntax,
    From,
    CopyFrom,
    MountFrom,
    ArgDefault,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerfileRef {
    /// Byte span of the reference text in `src` (without surrounding quotes).
    pub span: Range<usize>,
    pub site: Site,
}

/// A physical line: where its content starts and ends (line break excluded).
#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    end: usize,
}

fn physical_lines(src: &str) -> Vec<Line> {
    let bytes = src.as_bytes();
    let mut lines = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let nl = bytes[start..].iter().position(|&b| b == b'\n');
        let (end, next) = match nl {
            Some(i) => (start + i, start + i + 1),
            None => (bytes.len(), bytes.len()),
        };
        let end = if end > start && bytes[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        lines.push(Line { start, end });
        start = next;
    }
    lines
}

/// A word of a logical line with its span in the file; `None` span when the word is
/// split across a line continuation (it cannot be edited in place).
#[derive(Debug, Clone)]
struct Word {
    text: String,
    span: Option<Range<usize>>,
}

/// Split a logical line (made of byte ranges of `src`) into whitespace-separated words.
fn words(src: &str, segments: &[Range<usize>]) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    let mut current: Option<(String, usize, usize, bool)> = None; // text, start, end, contiguous
    for seg in segments {
        let mut seg_start_of_word = true;
        for (i, c) in src[seg.clone()].char_indices() {
            let at = seg.start + i;
            if c.is_whitespace() {
                if let Some((text, s, e, contiguous)) = current.take() {
                    out.push(Word {
                        text,
                        span: contiguous.then_some(s..e),
                    });
                }
                seg_start_of_word = false;
                continue;
            }
            match &mut current {
                Some((text, _, e, contiguous)) => {
                    if seg_start_of_word && *e != at {
                        *contiguous = false;
                    }
                    text.push(c);
                    *e = at + c.len_utf8();
                }
                None => current = Some((c.to_string(), at, at + c.len_utf8(), true)),
            }
            seg_start_of_word = false;
        }
    }
    if let Some((text, s, e, contiguous)) = current {
        out.push(Word {
            text,
            span: contiguous.then_some(s..e),
        });
    }
    out
}

fn is_comment(text: &str) -> bool {
    text.trim_start().starts_with('#')
}

/// Parse a directive line `# key=value`; returns (key lowercased, value span).
fn directive(src: &str, line: Line) -> Option<(String, Range<usize>)> {
    let text = &src[line.start..line.end];
    let rest = text.trim_start().strip_prefix('#')?;
    let (key, value) = rest.split_once('=')?;
    let key = key.trim();
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    // Offsets: where `rest` starts in the file, then past `key=`, then past spaces.
    let rest_at = line.start + (text.len() - rest.len());
    let value_at = rest_at + (rest.len() - value.len()) + (value.len() - value.trim_start().len());
    Some((
        key.to_ascii_lowercase(),
        value_at..value_at + value.trim().len(),
    ))
}

/// Heredoc delimiters opened on a logical line, in order: (delimiter, strip tabs).
fn heredocs(line: &str) -> Vec<(String, bool)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'<'
            && b[i + 1] == b'<'
            && b.get(i + 2) != Some(&b'<')
            && (i == 0 || b[i - 1] != b'<')
        {
            let mut j = i + 2;
            let strip = b.get(j) == Some(&b'-');
            if strip {
                j += 1;
            }
            let quote = match b.get(j) {
                Some(&q @ (b'"' | b'\'')) => {
                    j += 1;
                    Some(q)
                }
                _ => None,
            };
            let start = j;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            let named = j > start && (b[start].is_ascii_alphabetic() || b[start] == b'_');
            let closed = quote.is_none() || b.get(j) == quote.as_ref();
            if named && closed {
                out.push((line[start..j].to_string(), strip));
            }
            i = j.max(i + 2);
        } else {
            i += 1;
        }
    }
    out
}

/// `$NAME` or `${NAME}` exactly: the variable's name.
fn whole_variable(text: &str) -> Option<&str> {
    let name = text
        .strip_prefix("${")
        .and_then(|t| t.strip_suffix('}'))
        .or_else(|| text.strip_prefix('$'))?;
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    valid.then_some(name)
}

/// Strip one pair of surrounding quotes from a span of `src`.
fn unquote(src: &str, span: Range<usize>) -> Range<usize> {
    let t = &src[span.clone()];
    if t.len() >= 2
        && ((t.starts_with('"') && t.ends_with('"')) || (t.starts_with('\'') && t.ends_with('\'')))
    {
        span.start + 1..span.end - 1
    } else {
        span
    }
}

/// Scan a whole Dockerfile. Never panics, on any input.
pub fn scan(src: &str) -> Vec<DockerfileRef> {
    let lines = physical_lines(src);
    let mut out = Vec::new();
    let mut escape = '\\';
    let mut i = 0;

    // Parser directives: only at the very top.
    while i < lines.len() {
        let Some((key, value)) = directive(src, lines[i]) else {
            break;
        };
        match key.as_str() {
            "syntax" if !value.is_empty() => out.push(DockerfileRef {
                span: value,
                site: Site::Syntax,
            }),
            "escape" if &src[value.clone()] == "`" => escape = '`',
            _ => {}
        }
        i += 1;
    }

    let mut stages: HashSet<String> = HashSet::new();
    let mut args: HashMap<String, Range<usize>> = HashMap::new();
    let mut seen_from = false;

    while i < lines.len() {
        let line = lines[i];
        let text = &src[line.start..line.end];
        i += 1;
        if text.trim().is_empty() || is_comment(text) {
            continue;
        }
        // Gather the logical line.
        let mut segments = Vec::new();
        let mut current = line;
        loop {
            let t = &src[current.start..current.end];
            let trimmed = t.trim_end();
            if let Some(body) = trimmed.strip_suffix(escape) {
                segments.push(current.start..current.start + body.len());
                // Skip comment and blank lines inside the continuation.
                while i < lines.len() {
                    let t = &src[lines[i].start..lines[i].end];
                    if t.trim().is_empty() || is_comment(t) {
                        i += 1;
                    } else {
                        break;
                    }
                }
                if i >= lines.len() {
                    break;
                }
                current = lines[i];
                i += 1;
            } else {
                segments.push(current.start..current.end);
                break;
            }
        }
        let logical: String = segments
            .iter()
            .map(|s| &src[s.clone()])
            .collect::<Vec<_>>()
            .join(" ");
        // Heredoc bodies follow the logical line; skip them unscanned.
        for (delimiter, strip_tabs) in heredocs(&logical) {
            while i < lines.len() {
                let t = &src[lines[i].start..lines[i].end];
                i += 1;
                let t = if strip_tabs {
                    t.trim_start_matches('\t')
                } else {
                    t
                };
                if t == delimiter {
                    break;
                }
            }
        }
        let ws = words(src, &segments);
        let Some(instruction) = ws.first().map(|w| w.text.to_ascii_uppercase()) else {
            continue;
        };
        let rest = &ws[1..];
        match instruction.as_str() {
            "ARG" if !seen_from => {
                for w in rest {
                    if let (Some((name, _)), Some(span)) = (w.text.split_once('='), &w.span) {
                        let value = span.start + name.len() + 1..span.end;
                        let value = unquote(src, value);
                        if !value.is_empty() {
                            args.insert(name.to_string(), value);
                        }
                    }
                }
            }
            "FROM" => {
                seen_from = true;
                let mut it = rest.iter().skip_while(|w| w.text.starts_with("--"));
                let Some(image) = it.next() else { continue };
                if let (Some(kw), Some(name)) = (it.next(), it.next())
                    && kw.text.eq_ignore_ascii_case("as")
                {
                    stages.insert(name.text.to_ascii_lowercase());
                }
                let Some(span) = image.span.clone() else {
                    continue;
                };
                if let Some(var) = whole_variable(&image.text)
                    && let Some(default) = args.get(var)
                {
                    out.push(DockerfileRef {
                        span: default.clone(),
                        site: Site::ArgDefault,
                    });
                    continue;
                }
                let lower = image.text.to_ascii_lowercase();
                // The stage being defined is added above, so check the name as written
                // against earlier stages only when it is not this line's own alias.
                if lower == "scratch" || is_stage(&stages, &lower, rest) {
                    continue;
                }
                out.push(DockerfileRef {
                    span,
                    site: Site::From,
                });
            }
            "COPY" | "ADD" => {
                for w in rest.iter().take_while(|w| w.text.starts_with("--")) {
                    let Some(span) = w.span.as_ref().filter(|_| w.text.starts_with("--from="))
                    else {
                        continue;
                    };
                    let value_span = unquote(src, span.start + "--from=".len()..span.end);
                    if is_image_value(src, &value_span, &stages) {
                        out.push(DockerfileRef {
                            span: value_span,
                            site: Site::CopyFrom,
                        });
                    }
                }
            }
            "RUN" => {
                for w in rest.iter().take_while(|w| w.text.starts_with("--")) {
                    let Some(span) = w.span.as_ref().filter(|_| w.text.starts_with("--mount="))
                    else {
                        continue;
                    };
                    let mut offset = span.start + "--mount=".len();
                    for part in src[offset..span.end].split(',') {
                        if let Some(v) = part.strip_prefix("from=") {
                            let value = unquote(src, offset + 5..offset + 5 + v.len());
                            if is_image_value(src, &value, &stages) {
                                out.push(DockerfileRef {
                                    span: value,
                                    site: Site::MountFrom,
                                });
                            }
                        }
                        offset += part.len() + 1;
                    }
                }
            }
            _ => {}
        }
    }
    out.sort_by_key(|r| (r.span.start, r.span.end));
    out.dedup_by(|a, b| a.span == b.span);
    out
}

/// Whether a FROM image names an earlier stage (not the alias this FROM defines).
fn is_stage(stages: &HashSet<String>, lower: &str, rest: &[Word]) -> bool {
    if !stages.contains(lower) {
        return false;
    }
    // `FROM x AS x` defines x from an image x: only an earlier stage makes it a stage.
    let own_alias = rest
        .iter()
        .skip_while(|w| !w.text.eq_ignore_ascii_case("as"))
        .nth(1)
        .is_some_and(|w| w.text.eq_ignore_ascii_case(lower));
    !own_alias
}

/// A `--from` value is an image unless it is a stage name or a stage index.
fn is_image_value(src: &str, span: &Range<usize>, stages: &HashSet<String>) -> bool {
    let text = &src[span.clone()];
    !text.is_empty()
        && !text.bytes().all(|b| b.is_ascii_digit())
        && !stages.contains(&text.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(src: &str) -> Vec<(&str, Site)> {
        scan(src)
            .into_iter()
            .map(|r| (&src[r.span], r.site))
            .collect()
    }

    #[test]
    fn from_with_flags_stages_and_scratch() {
        let src = "FROM --platform=$BUILDPLATFORM golang:1.22 AS builder\nfrom alpine:3.19\nFROM builder\nFROM Builder AS again\nFROM scratch\nFrom nginx AS final\n";
        assert_eq!(
            found(src),
            [
                ("golang:1.22", Site::From),
                ("alpine:3.19", Site::From),
                ("nginx", Site::From)
            ]
        );
    }

    #[test]
    fn continuation_with_comment_inside_and_crlf() {
        let src =
            "FROM \\\r\n# a comment\r\n\r\n  nginx:1.25 \\\r\n  AS web\r\nCOPY --from=web / /\r\n";
        let refs = scan(src);
        assert_eq!(refs.len(), 1);
        assert_eq!(&src[refs[0].span.clone()], "nginx:1.25");
        assert_eq!(refs[0].span.start, src.find("nginx").unwrap());
    }

    #[test]
    fn escape_directive_and_syntax() {
        let src = "# syntax=docker/dockerfile:1.7\n# escape=`\nFROM `\n  mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir c:\\\n";
        assert_eq!(
            found(src),
            [
                ("docker/dockerfile:1.7", Site::Syntax),
                ("mcr.microsoft.com/windows/servercore:ltsc2022", Site::From)
            ]
        );
        let late = "FROM a:1\n# syntax=docker/dockerfile:1\n";
        assert_eq!(found(late), [("a:1", Site::From)]);
        let after_comment = "# hello\n# syntax=docker/dockerfile:1\nFROM a:1\n";
        assert_eq!(found(after_comment), [("a:1", Site::From)]);
    }

    #[test]
    fn arg_defaults_used_as_the_whole_image() {
        let src = "ARG BASE=golang:1.22\nARG OTHER=\"alpine:3.19\" PLAIN\nARG NODEF\nFROM $BASE AS a\nFROM ${BASE}\nFROM ${OTHER} AS b\nFROM $NODEF\nFROM golang:${GO}\nFROM ${BASE:-x}\n";
        assert_eq!(
            found(src),
            [
                ("golang:1.22", Site::ArgDefault),
                ("alpine:3.19", Site::ArgDefault),
                ("$NODEF", Site::From),
                ("golang:${GO}", Site::From),
                ("${BASE:-x}", Site::From)
            ]
        );
    }

    #[test]
    fn copy_and_mount_from() {
        let src = "FROM golang:1.22 AS build\nCOPY --from=build /a /b\nCOPY --from=0 /a /b\nCOPY --chown=1:1 --from=nginx:1.25 /a /b\nCOPY --from=BUILD /x /y\nRUN --mount=type=cache,from=golang:1.22,target=/x --mount=from=build,target=/y go build\nRUN --network=none --mount=type=bind,target=/s,from=\"alpine:3\" true\n";
        assert_eq!(
            found(src),
            [
                ("golang:1.22", Site::From),
                ("nginx:1.25", Site::CopyFrom),
                ("golang:1.22", Site::MountFrom),
                ("alpine:3", Site::MountFrom)
            ]
        );
    }

    #[test]
    fn heredocs_are_skipped() {
        let src = "FROM a:1\nRUN <<EOF\nFROM evil:1\nEOF\nRUN <<-'END' cat <<\"TWO\"\n\tFROM evil:2\n\tEND\nFROM evil:3\nTWO\nCOPY <<X /f\nFROM evil:4\nX\nFROM b:2\nRUN cat <<< \"FROM x\"\n";
        assert_eq!(found(src), [("a:1", Site::From), ("b:2", Site::From)]);
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let src = "\u{feff}# syntax=x\n# escape=`\nARG A=\"é:1\"\nFROM $A `\n\nRUN <<EOF\nFROM é\nEOF\nCOPY --from= x\nRUN --mount=from=,x\nFROM";
        for (i, _) in src.char_indices() {
            let _ = scan(&src[..i]);
        }
        assert!(scan("").is_empty());
        assert!(scan("# only\n# comments\n").is_empty());
        assert!(scan("FROM\\").is_empty());
    }

    #[test]
    fn split_word_across_continuation_is_not_reported() {
        let src = "FROM ngi\\\nnx:1\n";
        assert!(scan(src).is_empty());
    }
}
