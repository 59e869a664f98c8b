//! Dockerfile / Containerfile scanner: finds every image reference in a Dockerfile and
//! returns its exact byte span, so the caller can pin it by splicing bytes in place.
//!
//! It owns Docker's (BuildKit's) lexical rules: parser directives at the very top
//! (`# syntax=IMAGE` is itself an image, `# escape=` changes the escape character),
//! logical lines joined by the escape character with comment and blank lines inside,
//! CRLF endings and a leading BOM, heredoc bodies (skipped, never scanned),
//! `FROM [--flags] IMAGE [AS name]` with stage names and `scratch` (not images),
//! `COPY --from=IMAGE` and `RUN --mount=…,from=IMAGE` (also after `ONBUILD`), and
//! `ARG` with Docker's scoping: global ARGs (before the first `FROM`) are seen by
//! `FROM` lines, ARGs declared in a stage (or re-declared there, inheriting the global
//! default) by that stage's instructions. An `ARG NAME=IMAGE` whose every use is the
//! whole reference (`FROM $NAME`) is pinned in its `ARG` line; a reference built from
//! defaults (`node:${NODE_VERSION}-alpine`) is reported as the reference the defaults
//! make, which cannot be pinned in place.
//!
//! Hand-written rather than built on a dockerfile-parser crate: those crates fail a
//! whole file on `# escape=` and heredocs, and keep no byte spans, which pinning needs.
//! The scan works on `src.as_bytes()` and only ever splits at ASCII delimiters, so every
//! span falls on a char boundary.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::Candidate;
use super::variables::{self, Dialect, Lookup};
use crate::finding::{DigestField, Format, PinSite};

/// Where in a Dockerfile an image reference was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// `# syntax=IMAGE` parser directive (the BuildKit frontend image).
    Syntax,
    /// `FROM IMAGE`, as written (may contain `$` variables).
    From,
    /// `COPY --from=IMAGE`.
    CopyFrom,
    /// `RUN --mount=…,from=IMAGE,…`.
    MountFrom,
    /// The default of an `ARG NAME=IMAGE` used as the whole image (`FROM $NAME`).
    ArgDefault,
    /// `ONBUILD COPY --from=IMAGE` or `ONBUILD RUN --mount=…,from=IMAGE`: used by the
    /// builds based on this image. Only values that cannot be a stage name count.
    Onbuild,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerfileRef {
    /// Byte span of the reference text in `src` (without surrounding quotes).
    pub span: Range<usize>,
    pub site: Site,
    /// For a reference built from ARG defaults: the reference they make and why it
    /// cannot be pinned in place. `None`: the span holds the reference as written.
    pub expanded: Option<(String, String)>,
}

/// The scan as candidates for classification, and the span of every comment line.
pub fn candidates(src: &str, comments: &mut Vec<Range<usize>>) -> Vec<Candidate> {
    scan_with_comments(src, comments)
        .into_iter()
        .map(|r| match r.expanded {
            None => Candidate::inline(r.span, Format::Dockerfile),
            Some((text, why)) => Candidate {
                span: r.span,
                format: Format::Dockerfile,
                text: Some(text),
                pin: PinSite::Field(DigestField::Missing(why)),
                status: None,
            },
        })
        .collect()
}

/// Scan a whole Dockerfile. Never panics, on any input (fuzzed later).
///
/// Results are sorted by span start, without duplicate spans. A reference whose text
/// is not one contiguous run of bytes in `src` (a word split by a line continuation,
/// quotes in the middle of a word) cannot be spliced and is not reported.
pub fn scan(src: &str) -> Vec<DockerfileRef> {
    scan_with_comments(src, &mut Vec::new())
}

/// [`scan`], also collecting the span of every comment line (Dockerfiles have no
/// comments after an instruction; heredoc bodies hold none).
pub fn scan_with_comments(src: &str, comments: &mut Vec<Range<usize>>) -> Vec<DockerfileRef> {
    let b = src.as_bytes();
    let first = if b.starts_with(BOM) { BOM.len() } else { 0 };
    let mut scanner = Scanner {
        b,
        esc: b'\\',
        decls: Vec::new(),
        global: HashMap::new(),
        stage: None,
        stages: HashSet::new(),
        uses: Vec::new(),
        out: Vec::new(),
    };
    scanner.directives(first);

    let mut lines = Lines { b, pos: first };
    while let Some((s, e)) = lines.next() {
        let t = skip_space(b, s, e);
        if t == e || b[t] == b'#' {
            if t < e {
                comments.push(t..e);
            }
            continue;
        }
        // Gather the logical line: continuation segments, skipping comment and blank
        // lines inside it, as (byte, offset) pairs.
        let mut chars: Vec<Ch> = Vec::new();
        let (seg_end, mut more) = trim_continuation(b, t, e, scanner.esc);
        push_segment(&mut chars, b, t, seg_end);
        while more {
            let Some((s, e)) = lines.next() else { break };
            let t = skip_space(b, s, e);
            if t == e || b[t] == b'#' {
                if t < e {
                    comments.push(t..e);
                }
                continue;
            }
            let (seg_end, m) = trim_continuation(b, s, e, scanner.esc);
            push_segment(&mut chars, b, s, seg_end);
            more = m;
        }
        // Heredoc bodies follow the instruction's last line, one after another.
        for (name, chomp) in scanner.instruction(&chars) {
            for (s, e) in lines.by_ref() {
                let mut t = s;
                if chomp {
                    while t < e && b[t] == b'\t' {
                        t += 1;
                    }
                }
                if b[t..e] == name[..] {
                    break;
                }
            }
        }
    }

    let mut out = scanner.finish();
    out.sort_by_key(|r| (r.span.start, r.span.end));
    out.dedup_by(|a, b| a.span == b.span);
    out
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One byte of a logical line with its offset in `src`.
type Ch = (u8, usize);

/// A whitespace-delimited word of a logical line, quotes and escapes kept.
struct Word {
    /// Index of the word's first byte in the logical line.
    start: usize,
    chars: Vec<Ch>,
}

impl Word {
    fn bytes(&self) -> Vec<u8> {
        bytes(&self.chars)
    }
}

/// One `ARG NAME[=default]` declaration.
struct ArgDecl {
    name: String,
    /// The default with earlier ARGs expanded; `None` when there is none, or it uses a
    /// variable without a value.
    value: Option<String>,
    /// Where the default is written, when it holds no variable and is one contiguous
    /// run of bytes: the place a digest can go.
    literal: Option<Range<usize>>,
    /// Offset of the declaring instruction.
    at: usize,
    /// Offsets of instructions that use this ARG as part of a longer value.
    partial: Vec<usize>,
    /// The default is built from other variables (`ARG IMG=python:${TAG}`).
    built: bool,
}

/// A reference written with variables, decided once every use of every ARG is known.
struct Use {
    /// The reference's span as written, when contiguous.
    span: Option<Range<usize>>,
    site: Site,
    /// The text as written (quotes removed).
    text: String,
    /// The ARG it consists of as a whole (`$NAME`, `${NAME}`).
    whole: Option<usize>,
    /// What the defaults in scope make of it; `Err`: a variable without one.
    expansion: Result<String, String>,
    /// The ARGs it uses, for the note.
    args: Vec<usize>,
}

struct Scanner<'a> {
    b: &'a [u8],
    esc: u8,
    decls: Vec<ArgDecl>,
    /// Global ARGs (before the first `FROM`): name → declaration.
    global: HashMap<String, usize>,
    /// The current stage's ARGs; `None` before the first `FROM`.
    stage: Option<HashMap<String, usize>>,
    /// Stage names seen so far, lowercased.
    stages: HashSet<Vec<u8>>,
    uses: Vec<Use>,
    out: Vec<DockerfileRef>,
}

impl Scanner<'_> {
    /// Parser directives: only at the very top, each line `# key=value`; anything else
    /// (instruction, blank line, other comment, unknown key) ends them.
    fn directives(&mut self, first: usize) {
        let b = self.b;
        let mut seen: Vec<Vec<u8>> = Vec::new();
        for (s, e) in (Lines { b, pos: first }) {
            let Some((key, value)) = directive(b, s, e) else {
                break;
            };
            let key = b[key].to_ascii_lowercase();
            if !matches!(key.as_slice(), b"syntax" | b"escape" | b"check") {
                break;
            }
            // Docker rejects a repeated directive; keep the first.
            if seen.contains(&key) {
                continue;
            }
            match key.as_slice() {
                b"syntax" => {
                    let v = &b[value.clone()];
                    let len = v.iter().position(|&c| is_space(c)).unwrap_or(v.len());
                    self.push(value.start..value.start + len, Site::Syntax);
                }
                b"escape" => match &b[value] {
                    b"`" => self.esc = b'`',
                    b"\\" => self.esc = b'\\',
                    _ => {} // Docker rejects any other; keep the default
                },
                _ => {}
            }
            seen.push(key);
        }
    }

    fn push(&mut self, span: Range<usize>, site: Site) {
        self.out.push(DockerfileRef {
            span,
            site,
            expanded: None,
        });
    }

    /// Handle one logical line; returns the heredocs (terminator, `<<-`) it opens.
    fn instruction(&mut self, chars: &[Ch]) -> Vec<(Vec<u8>, bool)> {
        let words = split_words(chars, self.esc);
        let Some(first) = words.first() else {
            return Vec::new();
        };
        let onbuild = first.bytes().eq_ignore_ascii_case(b"onbuild");
        let at = usize::from(onbuild);
        let Some(keyword) = words.get(at) else {
            return Vec::new();
        };
        let keyword = keyword.bytes().to_ascii_lowercase();
        let (flags, args) = split_flags(&words[at + 1..]);
        let offset = first.chars.first().map_or(0, |c| c.1);
        match (onbuild, keyword.as_slice()) {
            (false, b"from") => self.from(args, offset),
            (false, b"arg") => self.arg(args, offset),
            (false, b"copy") => self.flag_refs(flags, b"--from=", Site::CopyFrom, offset),
            (false, b"run") => self.flag_refs(flags, b"--mount=", Site::MountFrom, offset),
            (true, b"copy") => self.flag_refs(flags, b"--from=", Site::Onbuild, offset),
            (true, b"run") => self.flag_refs(flags, b"--mount=", Site::Onbuild, offset),
            _ => {}
        }
        if !matches!(keyword.as_slice(), b"run" | b"copy" | b"add") {
            return Vec::new();
        }
        let args_at = args.first().map_or(chars.len(), |w| w.start);
        if is_json_array(&bytes(&chars[args_at..])) {
            return Vec::new();
        }
        // Docker finds heredocs among the shell words of the whole line, lexed with `\`.
        split_words(chars, b'\\')
            .iter()
            .filter_map(|w| heredoc(&w.chars))
            .collect()
    }

    fn from(&mut self, args: &[Word], at: usize) {
        self.stage = Some(HashMap::new());
        if let Some(image) = args.first() {
            let image = unquote(&image.chars, self.esc);
            // FROM sees the global ARGs only.
            self.image(&image, Site::From, at, true);
        }
        // `AS name` ends the instruction. Docker wants exactly `IMAGE AS name`; taking the
        // last two words also keeps stage names in templates (`FROM alpine:{{ v }} AS b`).
        if let [_, .., as_kw, name] = args
            && as_kw.bytes().eq_ignore_ascii_case(b"as")
        {
            self.stages.insert(name.bytes().to_ascii_lowercase());
        }
    }

    /// The ARGs visible to an instruction: the global ones for `FROM`, else the stage's.
    fn scope(&self, global: bool) -> &HashMap<String, usize> {
        match (&self.stage, global) {
            (Some(stage), false) => stage,
            _ => &self.global,
        }
    }

    fn lookup(&self, global: bool, name: &str) -> Lookup {
        match self.scope(global).get(name).map(|&d| &self.decls[d].value) {
            Some(Some(v)) => Lookup::Value(v.clone()),
            _ => Lookup::Unknown,
        }
    }

    /// An image written at an instruction: reported as written, or, when it holds
    /// variables, kept until every use of every ARG is known.
    fn image(&mut self, chars: &[Ch], site: Site, at: usize, global: bool) {
        let raw = bytes(chars);
        if raw.is_empty() || self.is_stage(&raw) {
            return;
        }
        let text = String::from_utf8_lossy(&raw).into_owned();
        if site == Site::Onbuild || !variables::has_variables(&text, Dialect::Dockerfile) {
            if let Some(span) = span_of(chars) {
                self.push(span, site);
            }
            return;
        }
        let expansion = variables::expand(&text, Dialect::Dockerfile, &|n| self.lookup(global, n));
        // A default naming a stage or `scratch` is not an image.
        if expansion
            .as_ref()
            .is_ok_and(|x| self.is_stage(x.as_bytes()))
        {
            return;
        }
        let scope = self.scope(global);
        let whole =
            variables::whole(&text, Dialect::Dockerfile).and_then(|n| scope.get(n).copied());
        let args: Vec<usize> = variables::names(&text, Dialect::Dockerfile)
            .into_iter()
            .filter_map(|n| scope.get(n).copied())
            .collect();
        if whole.is_none() {
            for &d in &args {
                self.decls[d].partial.push(at);
            }
        }
        self.uses.push(Use {
            span: span_of(chars),
            site,
            text,
            whole,
            expansion,
            args,
        });
    }

    /// `ARG NAME[=VALUE] …`: a global ARG before the first `FROM`, else one of the
    /// stage's (a bare `ARG NAME` in a stage takes the global default, as Docker does).
    fn arg(&mut self, args: &[Word], at: usize) {
        let global = self.stage.is_none();
        for word in args {
            let raw = word.bytes();
            let (name, value) = match raw.iter().position(|&c| c == b'=') {
                None => (raw, None),
                Some(eq) => (
                    raw[..eq].to_vec(),
                    Some(unquote(&word.chars[eq + 1..], self.esc)),
                ),
            };
            let name = String::from_utf8_lossy(&name).into_owned();
            if value.is_none()
                && !global
                && let Some(&d) = self.global.get(&name)
            {
                self.scope_mut().insert(name, d);
                continue;
            }
            let mut decl = ArgDecl {
                name: name.clone(),
                value: None,
                literal: None,
                at,
                partial: Vec::new(),
                built: false,
            };
            if let Some(value) = value {
                let text = String::from_utf8_lossy(&bytes(&value)).into_owned();
                decl.value =
                    variables::expand(&text, Dialect::Dockerfile, &|n| self.lookup(global, n)).ok();
                if variables::has_variables(&text, Dialect::Dockerfile) {
                    decl.built = true;
                    // An ARG default built from others uses them as part of a value.
                    let used: Vec<usize> = variables::names(&text, Dialect::Dockerfile)
                        .into_iter()
                        .filter_map(|n| self.scope(global).get(n).copied())
                        .collect();
                    for d in used {
                        self.decls[d].partial.push(at);
                    }
                } else {
                    decl.literal = span_of(&value);
                }
            }
            self.decls.push(decl);
            let d = self.decls.len() - 1;
            self.scope_mut().insert(name, d);
        }
    }

    fn scope_mut(&mut self) -> &mut HashMap<String, usize> {
        match &mut self.stage {
            Some(stage) => stage,
            None => &mut self.global,
        }
    }

    /// Decide every reference written with variables, now that all uses are known.
    fn finish(mut self) -> Vec<DockerfileRef> {
        let uses = std::mem::take(&mut self.uses);
        for u in uses {
            let pinnable = u.whole.map(|d| &self.decls[d]).and_then(|d| {
                let value = d.value.as_deref().filter(|v| !v.is_empty())?;
                (d.partial.is_empty() && !value.contains(char::is_whitespace))
                    .then(|| d.literal.clone())
                    .flatten()
            });
            if let Some(span) = pinnable {
                self.push(span, Site::ArgDefault);
                continue;
            }
            let Some(span) = u.span.clone() else { continue };
            // `FROM ${BASE:-nginx:1.25}` with no default for BASE in scope: the whole
            // reference is one default, and every build without BASE pulls it, so the
            // digest goes inside it, as for compose.
            let unset = u.args.iter().all(|&d| self.decls[d].value.is_none());
            if unset
                && let Some(written) = self.b.get(span.clone())
                && let Ok(written) = std::str::from_utf8(written)
                && written == u.text
                && let Some(default) = variables::sole_default(written, Dialect::Dockerfile)
            {
                self.out.push(DockerfileRef {
                    span: span.start + default.start..span.start + default.end,
                    site: u.site,
                    expanded: None,
                });
                continue;
            }
            let expanded = match &u.expansion {
                Ok(x) if !x.is_empty() => Some((x.clone(), self.why_not_pinnable(&u, x))),
                _ => None,
            };
            self.out.push(DockerfileRef {
                span,
                site: u.site,
                expanded,
            });
        }
        self.out
    }

    /// The note of a reference built from ARG defaults: what it is made of, why it is
    /// not pinned where it is written, and how to make it pinnable.
    fn why_not_pinnable(&self, u: &Use, expanded: &str) -> String {
        let line = |at: usize| self.b[..at].iter().filter(|&&c| c == b'\n').count() + 1;
        let mut defaults: Vec<String> = Vec::new();
        for &d in &u.args {
            let decl = &self.decls[d];
            let item = format!(
                "{}={} on line {}",
                decl.name,
                decl.value.as_deref().unwrap_or(""),
                line(decl.at)
            );
            if !defaults.contains(&item) {
                defaults.push(item);
            }
        }
        let made_of = if defaults.is_empty() {
            format!("`{}` with the defaults written in it", u.text)
        } else {
            format!("`{}` with ARG defaults {}", u.text, defaults.join(", "))
        };
        match u.whole.map(|d| &self.decls[d]) {
            Some(decl) if !decl.partial.is_empty() => {
                let mut lines: Vec<String> = decl
                    .partial
                    .iter()
                    .map(|&at| line(at).to_string())
                    .collect();
                lines.dedup();
                format!(
                    "{made_of}; not pinned: ARG {} is also used as part of a longer value on line {}, which a digest in its default would break. Give that use an ARG of its own to make this one pinnable",
                    decl.name,
                    lines.join(", ")
                )
            }
            Some(decl) if decl.built => format!(
                "{made_of}; not pinned: the default of ARG {name} is built from other variables, so no one default holds the whole reference. Write it in full (`ARG {name}={expanded}`) to make it pinnable",
                name = decl.name
            ),
            _ if defaults.is_empty() => format!(
                "{made_of}; each default is only part of the reference, so none can hold the digest: write the whole reference as one default (`${{IMAGE:-{expanded}}}`) or one ARG (`ARG IMAGE={expanded}`, then `${{IMAGE}}`) to make it pinnable"
            ),
            _ => format!(
                "{made_of}; a default cannot be pinned where it is only part of the reference: put the whole reference in one ARG (`ARG IMAGE={expanded}`, then `${{IMAGE}}`) to make it pinnable"
            ),
        }
    }

    /// `COPY --from=VALUE` (`prefix` `--from=`) or `RUN --mount=…,from=VALUE,…`
    /// (`prefix` `--mount=`).
    fn flag_refs(&mut self, flags: &[Word], prefix: &[u8], site: Site, at: usize) {
        for flag in flags {
            // Flag words lose their quotes and `\` escapes anywhere (BuildKit's flag lexer).
            let flag = unquote(&flag.chars, b'\\');
            if flag.len() < prefix.len() || bytes(&flag[..prefix.len()]) != prefix {
                continue;
            }
            let value = &flag[prefix.len()..];
            if prefix == b"--from=" {
                self.stage_or_image(value, site, at);
                continue;
            }
            for field in value.split(|c| c.0 == b',') {
                if let Some(eq) = field.iter().position(|c| c.0 == b'=')
                    && bytes(&field[..eq]).eq_ignore_ascii_case(b"from")
                {
                    self.stage_or_image(&field[eq + 1..], site, at);
                }
            }
        }
    }

    /// Report `value` unless it names a stage (by name or index) or `scratch`. After
    /// `ONBUILD`, stages are those of a build not written here: only a value no stage
    /// can be named (one with `/`, `:`, `@` or a variable) is an image.
    fn stage_or_image(&mut self, value: &[Ch], site: Site, at: usize) {
        let text = bytes(value);
        if text.is_empty() || text.iter().all(u8::is_ascii_digit) {
            return;
        }
        if site == Site::Onbuild && !text.iter().any(|c| b"/:@$".contains(c)) {
            return;
        }
        self.image(value, site, at, false);
    }

    fn is_stage(&self, name: &[u8]) -> bool {
        name.eq_ignore_ascii_case(b"scratch") || self.stages.contains(&name.to_ascii_lowercase())
    }
}

/// Physical lines: `(start, end)` of the content, line break (`\n`, and any `\r`
/// before it) excluded.
struct Lines<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Iterator for Lines<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let b = self.b;
        let start = self.pos;
        if start >= b.len() {
            return None;
        }
        let mut end = match b[start..].iter().position(|&c| c == b'\n') {
            Some(i) => {
                self.pos = start + i + 1;
                start + i
            }
            None => {
                self.pos = b.len();
                b.len()
            }
        };
        while end > start && b[end - 1] == b'\r' {
            end -= 1;
        }
        Some((start, end))
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn skip_space(b: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && is_space(b[i]) {
        i += 1;
    }
    i
}

/// A parser directive line `# key = value`: the key's and the value's ranges.
fn directive(b: &[u8], s: usize, e: usize) -> Option<(Range<usize>, Range<usize>)> {
    let mut i = skip_space(b, s, e);
    if i >= e || b[i] != b'#' {
        return None;
    }
    i = skip_space(b, i + 1, e);
    let key_start = i;
    if i >= e || !b[i].is_ascii_alphabetic() {
        return None;
    }
    while i < e && b[i].is_ascii_alphanumeric() {
        i += 1;
    }
    let key = key_start..i;
    i = skip_space(b, i, e);
    if i >= e || b[i] != b'=' {
        return None;
    }
    i = skip_space(b, i + 1, e);
    let mut end = e;
    while end > i && is_space(b[end - 1]) {
        end -= 1;
    }
    (end > i).then_some((key, i..end))
}

/// Where a line's content ends once a trailing continuation (escape character, then
/// only spaces or tabs, not itself escaped) is cut, and whether there was one.
fn trim_continuation(b: &[u8], s: usize, e: usize, esc: u8) -> (usize, bool) {
    let mut k = e;
    while k > s && matches!(b[k - 1], b' ' | b'\t') {
        k -= 1;
    }
    if k > s && b[k - 1] == esc && (k - 1 == s || b[k - 2] != esc) {
        (k - 1, true)
    } else {
        (e, false)
    }
}

fn push_segment(chars: &mut Vec<Ch>, b: &[u8], s: usize, e: usize) {
    chars.extend((s..e).map(|i| (b[i], i)));
}

fn bytes(chars: &[Ch]) -> Vec<u8> {
    chars.iter().map(|c| c.0).collect()
}

/// Split a logical line into words as Docker does: whitespace outside quotes separates
/// words; quotes and escapes stay in the word; an escape character protects the next.
fn split_words(chars: &[Ch], esc: u8) -> Vec<Word> {
    let mut words = Vec::new();
    let mut word: Vec<Ch> = Vec::new();
    let mut start = 0;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].0;
        match quote {
            None if is_space(c) => {
                if !word.is_empty() {
                    words.push(Word {
                        start,
                        chars: std::mem::take(&mut word),
                    });
                }
                i += 1;
                continue;
            }
            None => {
                if word.is_empty() {
                    start = i;
                }
                if c == b'\'' || c == b'"' {
                    quote = Some(c);
                } else if c == esc {
                    if i + 1 < chars.len() {
                        word.push(chars[i]);
                        word.push(chars[i + 1]);
                    }
                    i += 2;
                    continue;
                }
            }
            Some(q) => {
                if c == q {
                    quote = None;
                } else if c == esc && q != b'\'' {
                    if i + 1 < chars.len() {
                        word.push(chars[i]);
                        word.push(chars[i + 1]);
                    } else {
                        quote = None;
                    }
                    i += 2;
                    continue;
                }
            }
        }
        word.push(chars[i]);
        i += 1;
    }
    if !word.is_empty() {
        words.push(Word { start, chars: word });
    }
    words
}

/// Builder flags (`--name[=value]` words) at the start of an instruction's arguments;
/// a bare `--` ends them. Returns (flags, remaining arguments).
fn split_flags(words: &[Word]) -> (&[Word], &[Word]) {
    for (i, w) in words.iter().enumerate() {
        let raw = w.bytes();
        if raw == b"--" {
            return (&words[..i], &words[i + 1..]);
        }
        if !raw.starts_with(b"--") {
            return (&words[..i], &words[i..]);
        }
    }
    (words, &[])
}

/// Remove quotes and escape characters the way a shell word is processed (escapes are
/// inert in single quotes).
fn unquote(chars: &[Ch], esc: u8) -> Vec<Ch> {
    let mut out = Vec::with_capacity(chars.len());
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].0;
        match quote {
            None if c == b'"' || c == b'\'' => quote = Some(c),
            Some(q) if c == q => quote = None,
            Some(b'\'') => out.push(chars[i]),
            _ if c == esc => {
                if let Some(&next) = chars.get(i + 1) {
                    out.push(next);
                }
                i += 1;
            }
            _ => out.push(chars[i]),
        }
        i += 1;
    }
    out
}

/// The span of `chars` when they are one contiguous run of bytes in `src` without
/// whitespace (a quoted value can hold some; no image reference does).
fn span_of(chars: &[Ch]) -> Option<Range<usize>> {
    let first = chars.first()?.1;
    let ok = chars
        .iter()
        .enumerate()
        .all(|(k, c)| c.1 == first + k && !is_space(c.0));
    ok.then(|| first..first + chars.len())
}

/// A heredoc word (`^\d*<<-?WORD$`, WORD without `<`): its terminator and whether
/// it is `<<-` (leading tabs allowed before the terminator).
fn heredoc(word: &[Ch]) -> Option<(Vec<u8>, bool)> {
    let digits = word.iter().take_while(|c| c.0.is_ascii_digit()).count();
    let rest = &word[digits..];
    if rest.len() < 2 || rest[0].0 != b'<' || rest[1].0 != b'<' {
        return None;
    }
    let mut rest = &rest[2..];
    let chomp = rest.first().is_some_and(|c| c.0 == b'-');
    if chomp {
        rest = &rest[1..];
    }
    if rest.is_empty() || rest.iter().any(|c| c.0 == b'<') {
        return None;
    }
    let name = bytes(&unquote(rest, b'\\'));
    (!name.is_empty()).then_some((name, chomp))
}

/// Whether `text` starts (after whitespace) with a JSON array of strings, the exec
/// form of RUN/COPY/ADD, which cannot hold heredocs.
fn is_json_array(text: &[u8]) -> bool {
    let skip = |mut i: usize| {
        while i < text.len() && is_space(text[i]) {
            i += 1;
        }
        i
    };
    let mut i = skip(0);
    if text.get(i) != Some(&b'[') {
        return false;
    }
    i = skip(i + 1);
    if text.get(i) == Some(&b']') {
        return true;
    }
    loop {
        if text.get(i) != Some(&b'"') {
            return false;
        }
        i += 1;
        loop {
            match text.get(i) {
                None => return false,
                Some(b'"') => break,
                Some(b'\\') => i += 2,
                Some(_) => i += 1,
            }
        }
        i = skip(i + 1);
        match text.get(i) {
            Some(b']') => return true,
            Some(b',') => i = skip(i + 1),
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(src: &str) -> Vec<(&str, Site)> {
        scan(src)
            .into_iter()
            .map(|r| (&src[r.span], r.site))
            .collect()
    }

    #[test]
    fn simple_from() {
        let src = "FROM alpine:3.19\n";
        let r = scan(src);
        assert_eq!(
            r,
            vec![DockerfileRef {
                span: 5..16,
                site: Site::From,
                expanded: None,
            }]
        );
        assert_eq!(&src[r[0].span.clone()], "alpine:3.19");
        assert_eq!(refs("FROM alpine:3.19"), vec![("alpine:3.19", Site::From)]);
    }

    #[test]
    fn platform_flag() {
        let src = "FROM --platform=$BUILDPLATFORM golang:1.22-alpine AS build\n";
        assert_eq!(refs(src), vec![("golang:1.22-alpine", Site::From)]);
        let src = "FROM --platform=linux/amd64 -- alpine\n";
        assert_eq!(refs(src), vec![("alpine", Site::From)]);
    }

    #[test]
    fn stages_are_not_images() {
        let src = "FROM golang:1.22 AS builder\nRUN go build\nFROM builder AS test\n\
                   FROM Builder\nFROM alpine:3 as Final\nFROM final\n";
        assert_eq!(
            refs(src),
            vec![("golang:1.22", Site::From), ("alpine:3", Site::From)]
        );
        // A stage is only known after it is defined.
        let src = "FROM builder\nFROM golang AS builder\n";
        assert_eq!(
            refs(src),
            vec![("builder", Site::From), ("golang", Site::From)]
        );
    }

    #[test]
    fn stage_name_in_template() {
        let src = "FROM alpine:{{ alpine_version }} AS build\nCOPY --from=build / /\n";
        assert_eq!(refs(src), vec![("alpine:{{", Site::From)]);
    }

    #[test]
    fn lowercase_instructions() {
        let src = "from alpine\nFrom debian:12 as base\nfROM base\n";
        assert_eq!(
            refs(src),
            vec![("alpine", Site::From), ("debian:12", Site::From)]
        );
    }

    #[test]
    fn scratch_is_not_an_image() {
        assert_eq!(refs("FROM scratch\nFROM SCRATCH AS x\n"), vec![]);
        assert_eq!(
            refs("FROM alpine\nCOPY --from=scratch / /\n"),
            vec![("alpine", Site::From)]
        );
    }

    #[test]
    fn multi_line_from() {
        let src = "FROM \\\n  # a comment inside\n\n  --platform=linux/amd64 \\\n\
                   \talpine:3.19 \\   \n  AS base\nFROM base\n";
        let r = scan(src);
        assert_eq!(r.len(), 1);
        assert_eq!(&src[r[0].span.clone()], "alpine:3.19");
        assert_eq!(r[0].span.start, src.find("alpine").unwrap_or(0));
        assert_eq!(r[0].site, Site::From);
    }

    #[test]
    fn word_split_by_continuation_is_not_reported() {
        assert_eq!(refs("FROM alp\\\nine:3\n"), vec![]);
    }

    #[test]
    fn crlf() {
        let src = "# syntax=docker/dockerfile:1\r\nFROM alpine:3.19 AS a\r\n\
                   COPY --from=nginx:1.25 \\\r\n  /x /y\r\nFROM \\\r\n  # c\r\n  debian:12\r\n\
                   RUN <<EOF\r\nFROM evil\r\nEOF\r\nFROM ubuntu\r\n";
        let r = scan(src);
        let texts: Vec<&str> = r.iter().map(|r| &src[r.span.clone()]).collect();
        assert_eq!(
            texts,
            vec![
                "docker/dockerfile:1",
                "alpine:3.19",
                "nginx:1.25",
                "debian:12",
                "ubuntu"
            ]
        );
        for (r, t) in r.iter().zip(&texts) {
            assert!(!t.contains('\r'));
            assert_eq!(r.span.start, src.find(t).unwrap_or(usize::MAX));
        }
        assert_eq!(r[2].site, Site::CopyFrom);
    }

    #[test]
    fn backtick_escape() {
        let src = "# escape=`\nFROM `\n  mcr.microsoft.com/windows/servercore:ltsc2022 AS build\n\
                   RUN dir c:\\\nFROM alpine\nCOPY --from=build `\n  C:\\out C:\\out\n";
        assert_eq!(
            refs(src),
            vec![
                ("mcr.microsoft.com/windows/servercore:ltsc2022", Site::From),
                ("alpine", Site::From),
            ]
        );
        // With the default escape, the backslash continues the RUN onto `FROM alpine`.
        let src = "FROM a\nRUN dir c:\\\nFROM alpine\n";
        assert_eq!(refs(src), vec![("a", Site::From)]);
        // An escaped escape at the end of a line is not a continuation.
        let src = "FROM a\nRUN echo \\\\\nFROM alpine\n";
        assert_eq!(refs(src), vec![("a", Site::From), ("alpine", Site::From)]);
    }

    #[test]
    fn syntax_directive() {
        let src = "# syntax=docker/dockerfile:1.7\nFROM alpine\n";
        assert_eq!(
            refs(src),
            vec![
                ("docker/dockerfile:1.7", Site::Syntax),
                ("alpine", Site::From)
            ]
        );
        let src = "#Syntax = docker/dockerfile:1  \n# escape=`\nFROM alpine\n";
        assert_eq!(refs(src)[0], ("docker/dockerfile:1", Site::Syntax));
        let src = "  # escape=\\\n# syntax=docker/dockerfile:1\nFROM a";
        assert_eq!(refs(src)[0], ("docker/dockerfile:1", Site::Syntax));
        // Not at the top: after an instruction, a comment, a blank line, an unknown key.
        for src in [
            "FROM alpine\n# syntax=docker/dockerfile:1\n",
            "# hello\n# syntax=docker/dockerfile:1\nFROM alpine\n",
            "\n# syntax=docker/dockerfile:1\nFROM alpine\n",
            "# foo=bar\n# syntax=docker/dockerfile:1\nFROM alpine\n",
        ] {
            assert_eq!(refs(src), vec![("alpine", Site::From)], "{src:?}");
        }
        // An escape directive after a comment is a plain comment too.
        let src = "# hi\n# escape=`\nFROM a\nRUN x \\\nFROM b\n";
        assert_eq!(refs(src), vec![("a", Site::From)]);
    }

    #[test]
    fn arg_defaults() {
        let src = "ARG BASE=alpine:3.19\nARG OTHER=\"debian:12\" THIRD='ubuntu:24.04' X\n\
                   FROM $BASE\nFROM ${BASE} AS x\nFROM ${OTHER}\nFROM --platform=linux/arm64 $THIRD AS y\n";
        let r = scan(src);
        assert_eq!(
            r.iter()
                .map(|r| (&src[r.span.clone()], r.site))
                .collect::<Vec<_>>(),
            vec![
                ("alpine:3.19", Site::ArgDefault),
                ("debian:12", Site::ArgDefault),
                ("ubuntu:24.04", Site::ArgDefault),
            ]
        );
        assert_eq!(r[0].span, 9..20);
        assert_eq!(r[1].span.start, src.find("debian").unwrap_or(0));
    }

    #[test]
    fn arg_without_default() {
        assert_eq!(refs("ARG BASE\nFROM $BASE\n"), vec![("$BASE", Site::From)]);
        assert_eq!(refs("FROM ${BASE} AS b\n"), vec![("${BASE}", Site::From)]);
        assert_eq!(
            refs("ARG BASE=\nFROM ${BASE}\n"),
            vec![("${BASE}", Site::From)]
        );
        // An ARG after the first FROM is not a global default.
        assert_eq!(
            refs("FROM alpine\nARG BASE=debian\nFROM $BASE\n"),
            vec![("alpine", Site::From), ("$BASE", Site::From)]
        );
        // A later bare ARG clears the default.
        assert_eq!(
            refs("ARG BASE=debian\nARG BASE\nFROM $BASE\n"),
            vec![("$BASE", Site::From)]
        );
    }

    #[test]
    fn partial_variables_report_from_text() {
        let src = "ARG GO_VERSION=1.22\nFROM golang:${GO_VERSION}\nFROM ${PREFIX}golang:1.22\n\
                   ARG BASE=alpine\nFROM ${BASE:-alpine}\n";
        assert_eq!(
            refs(src),
            vec![
                ("golang:${GO_VERSION}", Site::From),
                ("${PREFIX}golang:1.22", Site::From),
                // The stage's ARG BASE is not seen by the next FROM: its default is the
                // reference, pinned where written.
                ("alpine", Site::From),
            ]
        );
    }

    /// What each reference is reported as: its text as written, or the reference its
    /// ARG defaults make (then it cannot be pinned in place).
    fn reported(src: &str) -> Vec<(&str, Site, Option<String>)> {
        scan(src)
            .into_iter()
            .map(|r| (&src[r.span], r.site, r.expanded.map(|e| e.0)))
            .collect()
    }

    #[test]
    fn templated_arg_default() {
        // The default is built from another ARG: the reference it makes is reported at
        // the use; the digest has no single place to go.
        let src = "ARG REG=docker.io\nARG BASE=${REG}/library/alpine:3\nFROM $BASE\n";
        assert_eq!(
            reported(src),
            vec![(
                "$BASE",
                Site::From,
                Some("docker.io/library/alpine:3".into())
            )]
        );
    }

    /// Issue 12.2: an ARG used whole by one FROM and as part of another is not pinned
    /// (a digest in its default would land inside `nginx:1.25@sha256:…-slim`).
    #[test]
    fn arg_used_partly_elsewhere_is_not_pinned() {
        let src = "ARG BASE=nginx:1.25\nFROM $BASE AS a\nFROM ${BASE}-slim AS b\n";
        assert_eq!(
            reported(src),
            vec![
                ("$BASE", Site::From, Some("nginx:1.25".into())),
                ("${BASE}-slim", Site::From, Some("nginx:1.25-slim".into())),
            ]
        );
        let r = scan(src);
        let why = &r[0]
            .expanded
            .as_ref()
            .map(|e| e.1.clone())
            .unwrap_or_default();
        assert!(why.contains("line 3"), "{why}");
        // Used whole everywhere: pinned in the ARG line, once.
        let src = "ARG BASE=nginx:1.25\nFROM $BASE AS a\nFROM ${BASE} AS b\n";
        assert_eq!(reported(src), vec![("nginx:1.25", Site::ArgDefault, None)]);
        // A partial use in another ARG's default counts too.
        let src = "ARG BASE=nginx:1.25\nARG DEBUG=${BASE}-debug\nFROM $BASE\n";
        assert_eq!(
            reported(src),
            vec![("$BASE", Site::From, Some("nginx:1.25".into()))]
        );
    }

    /// Issue 12.3: a reference whose every variable has a default is the reference the
    /// defaults make (mutable), not unknowable.
    #[test]
    fn defaults_expand_with_docker_scoping() {
        let src = "ARG NODE_VERSION=20\nFROM node:${NODE_VERSION}-alpine\n";
        assert_eq!(
            reported(src),
            vec![(
                "node:${NODE_VERSION}-alpine",
                Site::From,
                Some("node:20-alpine".into())
            )]
        );
        // `${V:-default}` needs no ARG; a bare ARG has no default; unknown stays templated.
        let src = "FROM golang:${GO:-1.22}\nARG X\nFROM alpine:${X}\nFROM a:${NOPE}\n";
        assert_eq!(
            reported(src),
            vec![
                ("golang:${GO:-1.22}", Site::From, Some("golang:1.22".into())),
                ("alpine:${X}", Site::From, None),
                ("a:${NOPE}", Site::From, None),
            ]
        );
        // A global ARG is not seen inside a stage until it is re-declared there, which
        // inherits its default; a stage ARG is not seen by the next FROM.
        let src = "ARG IMG=busybox:1.36\nFROM alpine\nCOPY --from=${IMG} / /\nARG IMG\n\
                   COPY --from=${IMG} / /\nARG TAG=3\nCOPY --from=redis:${TAG} / /\nFROM debian:${TAG}\n";
        assert_eq!(
            reported(src),
            vec![
                ("busybox:1.36", Site::ArgDefault, None),
                ("alpine", Site::From, None),
                ("${IMG}", Site::CopyFrom, None),
                ("redis:${TAG}", Site::CopyFrom, Some("redis:3".into())),
                ("debian:${TAG}", Site::From, None),
            ]
        );
        // A stage ARG used whole is pinned in its own line.
        let src = "FROM alpine\nARG TOOLS=busybox:1.36\nRUN --mount=from=$TOOLS,target=/t true\n";
        assert_eq!(
            reported(src),
            vec![
                ("alpine", Site::From, None),
                ("busybox:1.36", Site::ArgDefault, None)
            ]
        );
    }

    /// The note says why each reference made of defaults is not pinned, and the way
    /// it gives to make it pinnable is not what the file already does.
    #[test]
    fn notes_name_the_reason_a_default_is_not_pinned() {
        let notes = |src: &str| -> Vec<String> {
            scan(src)
                .into_iter()
                .filter_map(|r| r.expanded.map(|e| e.1))
                .collect()
        };
        let n = notes("ARG TAG=3.12\nARG IMG=python:${TAG}\nFROM ${IMG}\n");
        assert!(
            n[0].contains("the default of ARG IMG is built from other variables"),
            "{n:?}"
        );
        assert!(n[0].contains("`ARG IMG=python:3.12`"), "{n:?}");
        let n = notes("FROM ${D:-node}:${V:-20}\n");
        assert!(
            n[0].contains("each default is only part of the reference"),
            "{n:?}"
        );
        assert!(n[0].contains("`${IMAGE:-node:20}`"), "{n:?}");
        let n = notes("ARG V=20\nFROM node:${V}-alpine\n");
        assert!(n[0].contains("only part of the reference"), "{n:?}");
    }

    /// Issue 12.3: where the whole reference is one default and no ARG in scope gives
    /// the variable a value, every build without it pulls the default: pinned inside.
    #[test]
    fn a_whole_default_is_pinned_inside() {
        let src = "ARG G=redis:7\nFROM ${X:-busybox:1.36}\nARG B\nFROM ${B:-nginx:1.25} AS b\n\
                   FROM ${G:-alpine:3.19} AS c\nCOPY --from=\"${T:-golang:1.22}\" / /\n";
        assert_eq!(
            reported(src),
            vec![
                ("busybox:1.36", Site::From, None),
                ("nginx:1.25", Site::From, None),
                ("${G:-alpine:3.19}", Site::From, Some("redis:7".into())),
                ("golang:1.22", Site::CopyFrom, None),
            ]
        );
    }

    #[test]
    fn onbuild_copy_from_images_but_not_stage_names() {
        let src = "FROM alpine\nONBUILD COPY --from=nginx:1.25 /a /b\nONBUILD COPY --from=builder /a /b\n\
                   onbuild run --mount=type=bind,from=ghcr.io/acme/tools:1,target=/t true\n\
                   ONBUILD COPY --from=0 / /\nONBUILD COPY --from=$IMG / /\n";
        assert_eq!(
            refs(src),
            vec![
                ("alpine", Site::From),
                ("nginx:1.25", Site::Onbuild),
                ("ghcr.io/acme/tools:1", Site::Onbuild),
                ("$IMG", Site::Onbuild),
            ]
        );
    }

    #[test]
    fn arg_default_naming_a_stage_or_scratch() {
        let src = "ARG A=builder\nARG B=scratch\nFROM golang AS builder\nFROM $A\nFROM $B\n";
        assert_eq!(refs(src), vec![("golang", Site::From)]);
    }

    #[test]
    fn copy_from() {
        let src = "FROM golang:1.22 AS build\nCOPY --from=build /a /b\nCOPY --from=Build /a /b\n\
                   COPY --from=0 /a /b\nCOPY --from=nginx:1.25 /a /b\n\
                   COPY --chown=1:1 --from=alpine:3 a b\nCOPY --link --from=\"busybox:1\" a b\n\
                   COPY a --from=notaflag:1 b\nADD --from=nope:1 a b\nCOPY --from=$IMG a b\n";
        assert_eq!(
            refs(src),
            vec![
                ("golang:1.22", Site::From),
                ("nginx:1.25", Site::CopyFrom),
                ("alpine:3", Site::CopyFrom),
                ("busybox:1", Site::CopyFrom),
                ("$IMG", Site::CopyFrom),
            ]
        );
    }

    #[test]
    fn run_mount_from() {
        let src = "FROM golang:1.22 AS builder\n\
                   RUN --mount=type=cache,from=golang:1.22,target=/x go build\n\
                   RUN --mount=from=builder,source=/a,target=/b --mount=type=bind,FROM=alpine:3.19 \\\n  true\n\
                   RUN --network=none --mount=\"type=bind,from=busybox:1\" true\n\
                   RUN --mount=type=cache,target=/x echo --mount=from=nope:1 from=nope:2\n\
                   RUN --mount=type=bind,from=1,target=/y true\n";
        let r = refs(src);
        assert_eq!(
            r,
            vec![
                ("golang:1.22", Site::From),
                ("golang:1.22", Site::MountFrom),
                ("alpine:3.19", Site::MountFrom),
                ("busybox:1", Site::MountFrom),
            ]
        );
    }

    #[test]
    fn heredocs_are_skipped() {
        let src = "FROM alpine\nRUN <<EOF\nFROM evil:1\nEOF\n\
                   RUN <<-EOT\n\tFROM evil:2\n\t\tEOT\n\
                   COPY <<A <<\"B\" /dst/\nFROM evil:3\nA\nFROM evil:4\nB\n\
                   RUN <<'EOF' cat > /x\nFROM evil:5\n  EOF\nEOF\n\
                   RUN [ -f /x ] && cat <<EOF\nFROM evil:6\nEOF\n\
                   RUN 2<<E\\OF\nFROM evil:7\nEOF\n\
                   FROM debian:12\n";
        assert_eq!(
            refs(src),
            vec![("alpine", Site::From), ("debian:12", Site::From)]
        );
    }

    #[test]
    fn not_heredocs() {
        // Exec form, other instructions, here-strings, quoted `<<`: no body follows.
        let src = "FROM a\nRUN [\"sh\", \"-c\", \"cat <<EOF\"]\nFROM b\n\
                   ENV X=<<EOF\nFROM c\nRUN cat <<<EOF\nFROM d\nRUN echo \"<<EOF\"\nFROM e\n\
                   RUN cat<<EOF\nFROM f\n";
        let texts: Vec<&str> = refs(src).into_iter().map(|r| r.0).collect();
        assert_eq!(texts, vec!["a", "b", "c", "d", "e", "f"]);
    }

    #[test]
    fn heredoc_on_continued_line_and_onbuild() {
        let src = "FROM a\nRUN --mount=type=cache,target=/x \\\n  <<EOF\nFROM evil\nEOF\n\
                   ONBUILD RUN <<EOF\nFROM evil2\nEOF\nFROM b\n";
        assert_eq!(refs(src), vec![("a", Site::From), ("b", Site::From)]);
    }

    #[test]
    fn unterminated_heredoc_swallows_the_rest() {
        assert_eq!(refs("FROM a\nRUN <<EOF\nFROM b\n"), vec![("a", Site::From)]);
    }

    #[test]
    fn bom() {
        let src = "\u{feff}# syntax=docker/dockerfile:1\nFROM alpine\n";
        let r = scan(src);
        assert_eq!(
            refs(src),
            vec![
                ("docker/dockerfile:1", Site::Syntax),
                ("alpine", Site::From)
            ]
        );
        assert_eq!(r[0].span.start, 12);
        assert_eq!(refs("\u{feff}FROM alpine"), vec![("alpine", Site::From)]);
    }

    #[test]
    fn empty_and_comments_only() {
        assert_eq!(scan(""), vec![]);
        assert_eq!(scan("\u{feff}"), vec![]);
        assert_eq!(scan("# a comment\n  # another\n\n#FROM alpine\n"), vec![]);
        assert_eq!(scan("# syntax=\n"), vec![]);
    }

    #[test]
    fn non_ascii_text() {
        let src = "# syntax=docker/dockerfile:1\nLABEL x=\"héllo ✓\"\nFROM ✓image:1 AS é\n\
                   COPY --from=é a b\nFROM alpine\n";
        assert_eq!(
            refs(src),
            vec![
                ("docker/dockerfile:1", Site::Syntax),
                ("✓image:1", Site::From),
                ("alpine", Site::From)
            ]
        );
    }

    const COMPLEX: &str = "\u{feff}# syntax = docker/dockerfile:1.7\r\n# escape=\\\r\n\
        ARG BASE=\"alpine:3.19\" GO=1.22 EMPTY=\r\nARG RUNTIME='gcr.io/distroless/static:nonroot'\n\
        FROM --platform=$BUILDPLATFORM golang:${GO} AS build\n\
        COPY --chown=1:1 --from=nginx:1.25 /a /b\n\
        RUN --mount=type=cache,target=/root/.cache \\\n    # comment\n\n    --mount=from=busybox:1.36,target=/bb \\\n    go build ./... \n\
        RUN <<EOF bash\nFROM evil\nEOF\n\
        RUN <<-A <<'B'\n\tFROM evil\n\tA\nFROM evil\nB\n\
        FROM ${BASE} AS base\nFROM $RUNTIME\nCOPY --from=build /out /out\nCOPY --from=0 / /\n\
        LABEL note=\"héllo ✓ ünïcode\"\nFROM base\nFROM ✓\nFROM \"quoted:1\"\n";

    #[test]
    fn complex_file() {
        assert_eq!(
            refs(COMPLEX),
            vec![
                ("docker/dockerfile:1.7", Site::Syntax),
                ("alpine:3.19", Site::ArgDefault),
                ("gcr.io/distroless/static:nonroot", Site::ArgDefault),
                ("golang:${GO}", Site::From),
                ("nginx:1.25", Site::CopyFrom),
                ("busybox:1.36", Site::MountFrom),
                ("✓", Site::From),
                ("quoted:1", Site::From),
            ]
        );
    }

    fn check_invariants(src: &str) {
        let r = scan(src);
        for w in r.windows(2) {
            assert!(w[0].span.start <= w[1].span.start, "{src:?}");
            assert_ne!(w[0].span, w[1].span, "{src:?}");
        }
        for x in &r {
            let text = src.get(x.span.clone());
            assert!(text.is_some_and(|t| !t.is_empty()), "{src:?} {x:?}");
            assert!(
                text.is_some_and(|t| !t.contains(['\r', '\n'])),
                "{src:?} {x:?}"
            );
        }
    }

    #[test]
    fn every_prefix_no_panic() {
        for (i, _) in COMPLEX.char_indices() {
            check_invariants(&COMPLEX[..i]);
            check_invariants(&COMPLEX[i..]);
        }
        check_invariants(COMPLEX);
    }

    #[test]
    fn random_token_soup_no_panic() {
        const TOKENS: &[&str] = &[
            "FROM ",
            "from ",
            "ARG ",
            "COPY ",
            "RUN ",
            "ONBUILD ",
            "AS ",
            "as ",
            "alpine",
            "x",
            "$B",
            "${B}",
            "B=",
            "=",
            "\"",
            "'",
            "\\",
            "`",
            "\n",
            "\r\n",
            "\r",
            " ",
            "\t",
            "#",
            "# syntax=",
            "# escape=`",
            "<<",
            "<<-",
            "EOF",
            "--from=",
            "--mount=",
            "from=",
            ",",
            "--",
            "[",
            "]",
            "é",
            "✓",
            "\u{feff}",
            "0",
            "scratch",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            let src: String = (0..len)
                .map(|_| TOKENS[(next() % TOKENS.len() as u64) as usize])
                .collect();
            check_invariants(&src);
        }
    }
}
