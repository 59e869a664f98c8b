//! Dev containers (`devcontainer.json`, `.devcontainer.json`): JSON with comments and
//! trailing commas, which neither a JSON nor the YAML parser accepts. A small lexer finds
//! the top-level `"image"` string; keys of `"features"` (OCI feature references) and
//! anything nested are not images. Comments and tabs stay untouched: only the span of
//! the value is ever edited.

use std::ops::Range;

use super::Candidate;
use crate::finding::Format;

/// The top-level `"image"` value of a JSONC document. Never panics.
pub fn scan(src: &str) -> Vec<Candidate> {
    scan_with_comments(src, &mut Vec::new())
}

/// [`scan`], also collecting the span of every comment (`//…` and `/*…*/`).
pub fn scan_with_comments(src: &str, comments: &mut Vec<Range<usize>>) -> Vec<Candidate> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut expect_key = false;
    let mut key: Option<(usize, usize)> = None;
    let mut after_colon = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = crate::yaml::tree::comment_at(b, i).end;
                comments.push(i..end);
                i = end;
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = src[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
                comments.push(i..end);
                i = end;
                continue;
            }
            b'{' | b'[' => {
                depth += 1;
                expect_key = depth == 1 && b[i] == b'{';
                after_colon = false;
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => {
                expect_key = true;
                after_colon = false;
            }
            b':' if depth == 1 => after_colon = true,
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let end = j.min(b.len());
                if depth == 1 && expect_key {
                    key = Some((start, end));
                    expect_key = false;
                } else if depth == 1 && after_colon {
                    if key.is_some_and(|(s, e)| &src[s..e] == "image") && j < b.len() {
                        out.push(Candidate::inline(start..end, Format::Devcontainer));
                    }
                    after_colon = false;
                }
                i = end + 1;
                continue;
            }
            c if !c.is_ascii_whitespace() && depth == 1 => after_colon = false,
            _ => {}
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_image_only() {
        let src = "// comment with \"image\": \"x\"\n{\n\t\"name\": \"Go\",\n\t/* \"image\": \"no\" */\n\t\"image\": \"mcr.microsoft.com/devcontainers/go:1-1.22\", // trailing\n\t\"features\": {\n\t\t\"ghcr.io/devcontainers/features/docker-in-docker:2\": {},\n\t\t\"x\": {\"image\": \"nested\"}\n\t},\n}\n";
        let c = scan(src);
        let texts: Vec<&str> = c.iter().map(|c| &src[c.span.clone()]).collect();
        assert_eq!(texts, ["mcr.microsoft.com/devcontainers/go:1-1.22"]);
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let src = "{\"image\": \"a\\\"b\", \"image\": \"é\", /* open";
        for (i, _) in src.char_indices() {
            let _ = scan(&src[..i]);
        }
        assert!(scan("").is_empty());
        assert!(scan("{\"image\": 1}").is_empty());
    }
}
