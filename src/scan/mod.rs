//! Scanning: turn one file's text into `Finding`s. Each format has its own scanner
//! module that only reports byte spans (of references and of comments); this module
//! picks the scanner for a file, classifies the text at each span, applies inline
//! ignores (found among the scanner's comments, never by searching a line) and
//! computes line and column. Parts of a file that cannot be read (a YAML document that
//! is a template) come back as skipped. Nothing here touches the network or writes
//! files.

pub mod argocd;
pub mod azure;
pub mod bitbucket;
pub mod circleci;
pub mod cloudbuild;
pub mod compose;
pub mod crossplane;
pub mod defaults;
pub mod detect;
pub mod devcontainer;
pub mod dockerfile;
pub mod drone;
pub mod ecs;
pub mod embedded;
pub mod flux;
pub mod generic;
pub mod github;
pub mod gitlab;
pub mod hcl;
pub mod helm;
pub mod jenkinsfile;
pub mod kbld;
pub mod kubernetes;
pub mod kustomize;
pub mod quadlet;
pub mod rules;
pub mod skaffold;
pub mod tekton;
#[cfg(test)]
pub mod testing;
pub mod variables;
pub mod yaml;

use std::cell::Cell;
use std::ops::Range;
use std::path::Path;

use crate::finding::{DigestField, Finding, Format, PinSite, Skipped, Status, classify};

pub use detect::{FileKind, kind_for, sniff_kind};

/// A reference a format scanner found, before classification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Where the reference is written (for assembled references: the field that
    /// names the image, where the finding is reported).
    pub span: Range<usize>,
    pub format: Format,
    /// The reference text when it is assembled from several fields.
    pub text: Option<String>,
    pub pin: PinSite,
    /// A status decided by the scanner, with a note (local build outputs, tags the
    /// file cannot know); `None` classifies the text.
    pub status: Option<(Status, String)>,
}

impl Candidate {
    /// A complete reference written at `span`.
    pub fn inline(span: Range<usize>, format: Format) -> Candidate {
        Candidate {
            span,
            format,
            text: None,
            pin: PinSite::Inline,
            status: None,
        }
    }
}

/// Part of a file that was not read while the rest was (a values string that is not
/// YAML): where it is and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    /// Byte offset of what was not read.
    pub at: usize,
    pub message: String,
}

/// One file's findings and the parts of it that were not read.
#[derive(Debug, Default)]
pub struct Scanned {
    pub findings: Vec<Finding>,
    /// Parts skipped (a YAML document that does not parse, a values string that is not
    /// YAML), with their line; the file's other references are in `findings`.
    pub skipped: Vec<Skipped>,
    /// References left out by an `imagepin: ignore` comment (or, after the walk's
    /// filter, an `ignore:` pattern): counted, so that an ignore is never silent.
    pub ignored: usize,
}

/// Scan one file's text. Spans are byte offsets into `src`, which is the whole file
/// (a UTF-8 byte-order mark included).
pub fn scan_source(path: &Path, src: &str, kind: FileKind) -> Result<Vec<Finding>, Skipped> {
    scan_file(path, src, kind, &hcl::Scope::File).map(|s| s.findings)
}

/// Scan one file's text, keeping the parts that were not read (see [`Scanned`]);
/// `scope` says how much of a Terraform module it is read for.
pub fn scan_file(
    path: &Path,
    src: &str,
    kind: FileKind,
    scope: &hcl::Scope,
) -> Result<Scanned, Skipped> {
    let bom = if src.starts_with('\u{feff}') { 3 } else { 0 };
    let body = &src[bom..];
    let refused = |line: usize, message: String| Skipped {
        path: path.to_path_buf(),
        line: Some(line),
        message,
    };
    // Comments come from each format's own reader, for inline ignores.
    let mut comments = Vec::new();
    let mut skipped = Vec::new();
    let mut yaml_as = |flavor: detect::Flavor| {
        let read = yaml::read(body, path, flavor);
        comments = read.comments;
        skipped = read
            .refused
            .into_iter()
            .map(|r| refused(r.line, r.message))
            .collect();
        (read.candidates, read.unread)
    };
    // Only YAML has parts that can be left unread while the rest is read.
    let whole = |found: Vec<Candidate>| (found, Vec::new());
    let (mut candidates, unread) = match kind {
        FileKind::Yaml | FileKind::Json => yaml_as(detect::Flavor::from_path(path)),
        FileKind::GitlabInclude => yaml_as(detect::Flavor::GitlabCi),
        FileKind::Dockerfile => whole(dockerfile::candidates(body, &mut comments)),
        FileKind::MaybeDockerfile if detect::looks_like_dockerfile(body) => {
            whole(dockerfile::candidates(body, &mut comments))
        }
        FileKind::MaybeDockerfile => whole(Vec::new()),
        FileKind::Jsonc => whole(devcontainer::scan_with_comments(body, &mut comments)),
        FileKind::Quadlet => {
            whole(quadlet::scan(body, &mut comments).map_err(|(l, m)| refused(l, m))?)
        }
        FileKind::Hcl(dialect) | FileKind::HclJson(dialect) => {
            let syntax = match kind {
                FileKind::HclJson(_) => hcl::Syntax::Json,
                _ => hcl::Syntax::Native,
            };
            let found = hcl::scan(body, path, syntax, dialect, scope, &mut comments);
            whole(found.map_err(|(l, m)| refused(l, m))?)
        }
        FileKind::Jenkinsfile => whole(jenkinsfile::scan(body, &mut comments)),
    };
    candidates.sort_by_key(|c| (c.span.start, c.span.end));
    candidates.dedup_by(|a, b| a.span == b.span);
    for c in &mut comments {
        *c = c.start + bom..c.end + bom;
    }
    let lines = LineIndex::new();
    let mut findings = Vec::with_capacity(candidates.len());
    let mut ignored = 0;
    for c in candidates {
        let c = defaults::refine(c, body);
        let span = c.span.start + bom..c.span.end + bom;
        if lines.is_ignored(src, &comments, &span) {
            ignored += 1;
            continue;
        }
        let text = c.text.unwrap_or_else(|| src[span.clone()].to_string());
        let (mut status, reference, mut note) = classify(&text);
        if let Some((forced, why)) = c.status {
            status = forced;
            note = Some(why);
        } else if let PinSite::Field(DigestField::Missing(why)) = &c.pin
            && status.needs_pin()
        {
            note = Some(why.clone());
        }
        let pin = match c.pin {
            PinSite::Field(DigestField::Value(r)) => {
                PinSite::Field(DigestField::Value(r.start + bom..r.end + bom))
            }
            PinSite::Field(DigestField::Insert { at, before, after }) => {
                PinSite::Field(DigestField::Insert {
                    at: at + bom,
                    before,
                    after,
                })
            }
            other => other,
        };
        let (line, column, column_utf16) = lines.position(src, span.start);
        findings.push(Finding {
            path: path.to_path_buf(),
            span,
            line,
            column,
            column_utf16,
            text,
            pin,
            format: c.format,
            status,
            reference,
            note,
        });
    }
    skipped.extend(unread.into_iter().map(|u| Skipped {
        path: path.to_path_buf(),
        line: Some(lines.position(src, u.at + bom).0),
        message: u.message,
    }));
    skipped.sort_by_key(|s| s.line);
    Ok(Scanned {
        findings,
        skipped,
        ignored,
    })
}

/// Turns byte offsets into lines by counting line breaks forward from the previous
/// question (findings come in file order), so even a huge file needs no index.
struct LineIndex {
    /// (start of the last line asked about, its 0-based number)
    at: Cell<(usize, usize)>,
}

const IGNORE_MARKERS: [&str; 2] = ["imagepin: ignore", "imagepin:ignore"];

impl LineIndex {
    fn new() -> Self {
        LineIndex {
            at: Cell::new((0, 0)),
        }
    }

    /// (0-based line number, line start) of the line holding `offset`.
    fn locate(&self, src: &str, offset: usize) -> (usize, usize) {
        let (mut start, mut line) = self.at.get();
        if offset < start {
            (start, line) = (0, 0);
        }
        let between = &src.as_bytes()[start..offset];
        line += memchr::memchr_iter(b'\n', between).count();
        start = memchr::memrchr(b'\n', between).map_or(start, |i| start + i + 1);
        self.at.set((start, line));
        (line, start)
    }

    /// The end of the line holding `at` (after its line break).
    fn line_end(src: &str, at: usize) -> usize {
        memchr::memchr(b'\n', &src.as_bytes()[at..]).map_or(src.len(), |i| at + i + 1)
    }

    /// 1-based (line, column in characters, column in UTF-16 code units).
    fn position(&self, src: &str, offset: usize) -> (usize, usize, usize) {
        let (line, start) = self.locate(src, offset);
        // A byte-order mark is invisible in every editor: do not count it.
        let start = if start == 0 && src.starts_with('\u{feff}') {
            3
        } else {
            start
        };
        let before = &src[start..offset];
        let column = before.chars().count() + 1;
        let column_utf16 = before.chars().map(char::len_utf16).sum::<usize>() + 1;
        (line + 1, column, column_utf16)
    }

    /// An `imagepin: ignore` comment (one of `comments`, the scanner's, in text
    /// order) after the reference on the line where it ends, or a comment line of its
    /// own just above the line where it starts.
    fn is_ignored(&self, src: &str, comments: &[Range<usize>], span: &Range<usize>) -> bool {
        if comments.is_empty() {
            return false;
        }
        let text = |c: &Range<usize>| &src[c.clone()];
        let end_line = Self::line_end(src, span.end);
        let i = comments.partition_point(|c| c.start < span.end);
        let trailing = comments
            .get(i)
            .is_some_and(|c| c.start < end_line && is_comment_marker(text(c)));
        let (line, start) = self.locate(src, span.start);
        let above = line > 0 && {
            let prev_start =
                memchr::memrchr(b'\n', &src.as_bytes()[..start - 1]).map_or(0, |i| i + 1);
            let j = comments.partition_point(|c| c.start < prev_start);
            comments.get(j).is_some_and(|c| {
                c.start < start
                    && src[prev_start..c.start].trim().is_empty()
                    && is_comment_marker(text(c))
            })
        };
        trailing || above
    }
}

/// Whether a comment (a span a scanner reported, `#`, `;`, `//` or `/*` included)
/// carries the ignore marker as a word of its own.
fn is_comment_marker(comment: &str) -> bool {
    IGNORE_MARKERS.iter().any(|m| {
        comment.match_indices(m).any(|(i, _)| {
            comment[i + m.len()..]
                .chars()
                .next()
                .is_none_or(|c| c.is_whitespace() || c == '*')
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_and_crlf_lines() {
        let src = "a: 1\r\nimage: \"ü\" nginx\r\n";
        let idx = LineIndex::new();
        let off = src.find("nginx").unwrap();
        assert_eq!(idx.position(src, off), (2, 12, 12));
        // Asking about an earlier offset after a later one starts counting over.
        assert_eq!(idx.position(src, 2), (1, 3, 3));
        assert_eq!(idx.position(src, off), (2, 12, 12));
        // A character outside the Basic Multilingual Plane is two UTF-16 code units.
        let src = "a: \u{1F600} nginx\n";
        let off = src.find("nginx").unwrap();
        assert_eq!(LineIndex::new().position(src, off), (1, 6, 7));
    }

    #[test]
    fn bom_shifts_spans() {
        let src = "\u{feff}image: nginx:1.25\n";
        let f = scan_source(Path::new("a.yaml"), src, FileKind::Yaml).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(&src[f[0].span.clone()], "nginx:1.25");
        assert_eq!(f[0].column, 9 - 1);
    }

    #[test]
    fn inline_ignore_is_a_comment_word_never_the_next_line() {
        let src = "- image: a:1  # imagepin: ignore\n- image: redis:7\n- image: b:1 # imagepin:ignore-not\n- image: 'c # imagepin: ignore'\n";
        let f = scan_source(Path::new("a.yaml"), src, FileKind::Yaml).unwrap();
        let texts: Vec<_> = f.iter().map(|f| f.text.as_str()).collect();
        assert_eq!(texts, ["redis:7", "b:1", "c # imagepin: ignore"]);
    }

    #[test]
    fn inline_ignore_comes_from_the_scanners_comments() {
        // A `/` in a value before the comment (issue 12, item 6).
        let src = "- {image: nginx:1.25, name: a/b} # imagepin: ignore\n- {image: redis:7, name: 'x # imagepin: ignore'}\n";
        let f = scan_source(Path::new("a.yaml"), src, FileKind::Yaml).unwrap();
        let texts: Vec<_> = f.iter().map(|f| f.text.as_str()).collect();
        assert_eq!(texts, ["redis:7"], "a quoted `#` is no comment");
        let json =
            "{\n  \"image\": \"a/b:1\", // imagepin: ignore\n  \"x\": \"// imagepin: ignore\"\n}\n";
        assert!(
            scan_source(Path::new("devcontainer.json"), json, FileKind::Jsonc)
                .unwrap()
                .is_empty()
        );
        let docker =
            "# imagepin: ignore\nFROM nginx:1.25\nRUN echo '# imagepin: ignore'\nFROM redis:7\n";
        let f = scan_source(Path::new("Dockerfile"), docker, FileKind::Dockerfile).unwrap();
        let texts: Vec<_> = f.iter().map(|f| f.text.as_str()).collect();
        assert_eq!(texts, ["redis:7"]);
    }

    #[test]
    fn inline_ignore_in_hcl_jenkinsfiles_and_quadlet_comes_from_their_lexers() {
        let texts = |name: &str, src: &str, kind: FileKind| -> Vec<String> {
            let dir = tempfile::tempdir().expect("tempdir");
            let f = scan_source(&dir.path().join(name), src, kind).expect("reads");
            f.into_iter().map(|f| f.text).collect()
        };
        // A `#` or `//` inside a string is no comment; real ones are, of every kind.
        let tf = r#"resource "docker_container" "a" {
  image = "registry.example/a#b:1"
}
resource "aws_ecs_task_definition" "t" {
  container_definitions = jsonencode([
    { image = "busybox:1.36", name = "x // imagepin: ignore " },
    { image = "nginx:1.25", name = "y" }, # imagepin: ignore
    /* imagepin: ignore */
    { image = "redis:7" },
    { image = <<EOT
alpine:3.19
EOT
    }, // imagepin: ignore
  ])
}
"#;
        assert_eq!(
            texts("main.tf", tf, FileKind::Hcl(detect::HclDialect::Terraform)),
            // The heredoc is no quoted string: seen, never pinned (templated).
            [
                "registry.example/a#b:1",
                "busybox:1.36",
                "<<EOT\nalpine:3.19\nEOT"
            ]
        );
        let groovy = r#"pipeline {
  agent { docker { image 'maven:3.9' } } // imagepin: ignore
}
node {
  docker.image('a/b#c:1').withRun('-e X=a#b // imagepin: ignore ') { }
  docker.image("nginx:1.25").inside("-v /x:/y") // imagepin: ignore
  /* imagepin: ignore */
  docker.image('redis:7').pull()
  def s = '''
// imagepin: ignore
'''
  docker.image('busybox:1.36').pull()
}
"#;
        assert_eq!(
            texts("Jenkinsfile", groovy, FileKind::Jenkinsfile),
            ["a/b#c:1", "busybox:1.36"]
        );
        // systemd has comment lines only: a `#` after a value is part of it.
        let unit = "[Container]\n; imagepin: ignore\nImage=nginx:1.25\n[Volume]\nLabel=x=# imagepin: ignore\nImage=registry.example/a#b:1\n[Image]\nImage=redis:7 # imagepin: ignore\n";
        assert_eq!(
            texts("a.container", unit, FileKind::Quadlet),
            ["registry.example/a#b:1", "redis:7 # imagepin: ignore"]
        );
    }

    #[test]
    fn inline_ignore_on_line_or_above() {
        let src = "a:\n  image: nginx # imagepin: ignore\nb:\n  # imagepin:ignore\n  image: redis\nc:\n  image: alpine\n";
        let f = scan_source(Path::new("a.yaml"), src, FileKind::Yaml).unwrap();
        let texts: Vec<_> = f.iter().map(|f| f.text.as_str()).collect();
        assert_eq!(texts, ["alpine"]);
    }
}
