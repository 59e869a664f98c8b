//! Jenkins pipelines (`Jenkinsfile`, `*.jenkinsfile`, `*.Jenkinsfile`, `Jenkinsfile.*`):
//! Groovy, of which only three forms name images:
//!
//! - declarative `agent { docker { image 'maven:3.9' … } }`,
//! - declarative `agent { docker 'maven:3.9' }`,
//! - scripted `docker.image('maven:3.9')` (then `.inside { … }`, `.pull()` …).
//!
//! A small lexer reads Groovy's comments and string literals — single-, double- and
//! triple-quoted, slashy and dollar-slashy — so that text inside comments and other
//! strings is never mistaken for code, and gives each literal's exact span. A
//! double-quoted GString with `${…}` or `$name` is `templated`. Inside
//! `docker.withRegistry('https://registry.example') { … }` an image name is relative to
//! that registry at run time: `templated`, with a note. Any other Groovy is never read
//! for images.

use std::ops::Range;

use super::Candidate;
use crate::finding::{Format, Status};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(Range<usize>),
    /// A string literal: its content's span.
    Str(Range<usize>),
    Punct(u8),
    /// A number or anything else that is not a name, a string or punctuation.
    Other,
}

/// Split Groovy source into tokens, whitespace dropped and comments (`//…`, `/*…*/`)
/// collected apart. Never panics.
fn tokens(src: &str, comments: &mut Vec<Range<usize>>) -> Vec<Token> {
    let b = src.as_bytes();
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    if b.starts_with(b"#!") {
        i = line_end(b, 0);
    }
    while i < b.len() {
        let c = b[i];
        match c {
            _ if c.is_ascii_whitespace() => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                comments.push(crate::yaml::tree::comment_at(b, i));
                i = line_end(b, i);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = find(b, i + 2, b"*/").map_or(b.len(), |j| j + 2);
                comments.push(i..end);
                i = end;
            }
            b'\'' | b'"' => {
                let triple = b[i..].starts_with(&[c, c, c]);
                let open = if triple { 3 } else { 1 };
                let start = i + open;
                let end = string_end(b, start, c, triple);
                out.push(Token::Str(start..end.min(b.len())));
                i = (end + open).min(b.len());
            }
            b'$' if b.get(i + 1) == Some(&b'/') => {
                // Dollar-slashy string `$/ … /$`; `$/` and `$$` escape inside.
                let mut j = i + 2;
                while j < b.len() && !(b[j] == b'/' && b.get(j + 1) == Some(&b'$')) {
                    j += if b[j] == b'$' { 2 } else { 1 };
                }
                out.push(Token::Str(i + 2..j.min(b.len())));
                i = (j + 2).min(b.len());
            }
            b'/' if slashy_may_start(out.last()) => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'/' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                out.push(Token::Str(i + 1..j.min(b.len())));
                i = (j + 1).min(b.len());
            }
            _ if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$')
                {
                    i += 1;
                }
                out.push(Token::Ident(start..i));
            }
            _ if c.is_ascii_punctuation() => {
                out.push(Token::Punct(c));
                i += 1;
            }
            _ => {
                out.push(Token::Other);
                i += 1;
                while i < b.len() && !src.is_char_boundary(i) {
                    i += 1;
                }
            }
        }
    }
    out
}

fn line_end(b: &[u8], i: usize) -> usize {
    b[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |n| i + n)
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|n| from + n)
}

/// Where a string literal's content ends (at its closing quote, or the end of text).
/// In double-quoted strings, `${ … }` is skipped as a unit (it may hold quotes).
fn string_end(b: &[u8], mut i: usize, quote: u8, triple: bool) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'$' if quote == b'"' && b.get(i + 1) == Some(&b'{') => {
                let mut depth = 0usize;
                i += 1;
                while i < b.len() {
                    match b[i] {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
            }
            c if c == quote && (!triple || b[i..].starts_with(&[quote, quote, quote])) => {
                return i;
            }
            b'\n' if !triple => return i,
            _ => i += 1,
        }
    }
    b.len()
}

/// A `/` starts a slashy string where a value may start, not after one (division).
fn slashy_may_start(prev: Option<&Token>) -> bool {
    match prev {
        None => true,
        Some(Token::Ident(_) | Token::Str(_) | Token::Other) => false,
        Some(Token::Punct(p)) => !matches!(p, b')' | b']' | b'}'),
    }
}

/// The image references of a Jenkinsfile, and the span of every comment.
pub fn scan(src: &str, comments: &mut Vec<Range<usize>>) -> Vec<Candidate> {
    let toks = tokens(src, comments);
    let word = |t: Option<&Token>| match t {
        Some(Token::Ident(r)) => Some(&src[r.clone()]),
        _ => None,
    };
    // The first string argument at `i`: `'x'` or `('x'`.
    let argument = |i: usize| match (toks.get(i), toks.get(i + 1)) {
        (Some(Token::Str(r)), _) => Some(r.clone()),
        (Some(Token::Punct(b'(')), Some(Token::Str(r))) => Some(r.clone()),
        _ => None,
    };
    let mut out = Vec::new();
    // Owners of the open blocks (`agent`, `docker`, `stage`, `withRegistry` …).
    let mut blocks: Vec<Option<&str>> = Vec::new();
    // Names of the calls whose parentheses are open, and of the last one closed.
    let mut calls: Vec<Option<&str>> = Vec::new();
    let mut closed_call: Option<&str> = None;
    for (i, t) in toks.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|p| toks.get(p));
        match t {
            Token::Punct(b'(') => calls.push(word(prev)),
            Token::Punct(b')') => closed_call = calls.pop().flatten(),
            Token::Punct(b'{') => {
                let owner = match prev {
                    Some(Token::Ident(r)) => Some(&src[r.clone()]),
                    Some(Token::Punct(b')')) => closed_call,
                    _ => None,
                };
                blocks.push(owner);
            }
            Token::Punct(b'}') => {
                blocks.pop();
            }
            Token::Ident(r) => {
                let name = &src[r.clone()];
                let owner = blocks.last().copied().flatten();
                let parent = blocks.len().checked_sub(2).and_then(|p| blocks[p]);
                let declarative = match name {
                    "image" => owner == Some("docker") && parent == Some("agent"),
                    "docker" => owner == Some("agent"),
                    _ => false,
                };
                let scripted = name == "image"
                    && prev == Some(&Token::Punct(b'.'))
                    && word(i.checked_sub(2).and_then(|p| toks.get(p))) == Some("docker")
                    && toks.get(i + 1) == Some(&Token::Punct(b'('));
                let Some(span) = (declarative || scripted).then(|| argument(i + 1)).flatten()
                else {
                    continue;
                };
                let mut c = Candidate::inline(span, Format::Jenkinsfile);
                if scripted && blocks.contains(&Some("withRegistry")) {
                    c.status = Some((
                        Status::Templated,
                        "inside docker.withRegistry(…): the name is relative to that registry at run time".into(),
                    ));
                }
                out.push(c);
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(src: &str) -> Vec<&str> {
        scan(src, &mut Vec::new())
            .into_iter()
            .map(|c| &src[c.span])
            .collect()
    }

    #[test]
    fn declarative_and_scripted_forms() {
        let src = r#"pipeline {
  agent { docker { image 'maven:3.9'; args '-v /tmp:/tmp' } }
  stages {
    stage('a') {
      agent { docker "node:20" }
      steps { sh 'echo image "nope:1"' }
    }
    stage('b') {
      agent {
        docker {
          image '''golang:1.22'''
          label 'linux'
        }
      }
      steps {
        script {
          docker.image('redis:7').inside('-u root') { sh 'true' }
          def img = docker.image("ghcr.io/acme/api:${TAG}")
          docker.build('acme/app:1')
        }
      }
    }
  }
}
"#;
        assert_eq!(
            found(src),
            [
                "maven:3.9",
                "node:20",
                "golang:1.22",
                "redis:7",
                "ghcr.io/acme/api:${TAG}"
            ]
        );
    }

    #[test]
    fn strings_and_comments_elsewhere_are_never_images() {
        let src = r#"// agent { docker { image 'a:1' } }
/* docker.image('b:1') */
def x = "docker.image('c:1')"
def y = '''agent { docker 'd:1' }'''
def z = /docker.image('e:1')/
def w = $/docker.image('f:1')/$
def q = 4 / 2 / 1
image 'g:1'
node { docker 'h:1' }
agent { dockerfile { filename 'Dockerfile' } }
docker.image('ok:1').pull()
"#;
        assert_eq!(found(src), ["ok:1"]);
    }

    #[test]
    fn comments_are_the_lexers() {
        let src = "#!/usr/bin/env groovy\ndef u = 'https://x' // real\r\ndef v = \"/* no */\" /* yes\n */\ndef w = /a\\/\\/b/ + $/c//d/$\n/* open";
        let mut comments = Vec::new();
        scan(src, &mut comments);
        let comments: Vec<_> = comments.into_iter().map(|c| &src[c]).collect();
        assert_eq!(comments, ["// real", "/* yes\n */", "/* open"]);
    }

    #[test]
    fn with_registry_is_templated_and_crlf_spans() {
        let src = "node {\r\n  docker.withRegistry('https://registry.example.com', 'creds') {\r\n    docker.image('app:1').pull()\r\n  }\r\n  docker.image(\"busybox:1.36\").inside { }\r\n}\r\n";
        let c = scan(src, &mut Vec::new());
        assert_eq!(c.len(), 2);
        assert_eq!(&src[c[0].span.clone()], "app:1");
        assert_eq!(c[0].status.as_ref().map(|s| s.0), Some(Status::Templated));
        assert_eq!(&src[c[1].span.clone()], "busybox:1.36");
        assert!(c[1].status.is_none());
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let src = "agent { docker { image '''a\n\"${x\n}'/ $/ \"é\" /* ";
        for (i, _) in src.char_indices() {
            for c in scan(&src[..i], &mut Vec::new()) {
                assert!(src.get(c.span).is_some());
            }
        }
        assert!(scan("", &mut Vec::new()).is_empty());
    }
}
