//! The complete YAML reader: saphyr-parser's events, turned into the [`Tree`] the
//! rules read. saphyr-parser is a YAML 1.2 parser that passes the YAML test suite; it
//! reads every valid text (tags, `?` keys, directives, flow scalars over several
//! lines …) and says what is wrong with one that is not.
//!
//! Its events carry positions in characters, not bytes, and some of their ends are
//! not where the node ends (a quoted key's span takes the space after it, a block
//! scalar's the blank lines after it). So no span is taken on trust: each node's
//! start is found from its event's start (past any `&anchor` and `!tag`), its end is
//! found from the text by the node's own grammar, and every scalar's text is decoded
//! again and compared with the parser's value. A document where that comparison fails
//! is refused, never guessed at.

use std::ops::Range;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle};

use crate::yaml::scalar::{self, Style};
use crate::yaml::tree::{Builder, Kind, Mark, Tree, plain_is_string};

/// Deeper than this, a document is refused rather than read (no real manifest comes
/// close).
pub const MAX_DEPTH: usize = 200;

/// Why a text could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not YAML: the parser's reason, at this 1-based line (`at`: the byte it points
    /// to).
    Syntax {
        line: usize,
        reason: String,
        at: usize,
    },
    /// Nesting deeper than [`MAX_DEPTH`], starting at this line.
    TooDeep(usize),
    /// A value the parser read could not be placed exactly in the text, at this line.
    Unplaced(usize),
}

/// Read a text (a whole stream, or one document of one).
///
/// saphyr-parser refuses a `:` followed by tabs alone before a value starting with a
/// letter or `-` (it guards against a tab indenting a block collection there), though
/// after an implicit key — in flow context, or in a block mapping, where no collection
/// can start on the key's line — tabs are separation like spaces (libyaml reads them
/// so). Where it refuses that, after an implicit key, the tabs are read as spaces: the
/// same number of bytes, and never content, so values and spans are unchanged.
///
/// YAML's letter wants the lines of a flow collection or a quoted scalar indented past
/// the block collection holding them; libyaml and Go's yaml — what kubectl and docker
/// compose read with — do not, and real files rely on that (`args: ["` … `  "]`, a
/// `]` under its key). Where the parser refuses such a line, and only there (a line
/// that starts with `]` or `}`, or a line of a quoted scalar), the line is read as if
/// indented one space more: leading space in those places is never content, so the
/// values are the same, and every span is mapped back to the text as written.
pub fn read(src: &str) -> Result<Tree, Refusal> {
    let mut text = std::borrow::Cow::Borrowed(src);
    // Lines (0-based) read with one more space, in order of the fixes.
    let mut indented: Vec<usize> = Vec::new();
    let mut tabs_read_as_spaces = 0;
    loop {
        match read_exact(&text) {
            Ok(mut tree) => {
                if !indented.is_empty() {
                    let map = Unindent::new(&text, &indented);
                    tree.map_positions(|p| map.original(p));
                }
                return Ok(tree);
            }
            Err(Refusal::Syntax { line, reason, at })
                if indented.len() < MAX_INDENT_FIXES
                    && let Some(lines) = lenient_lines(&text, line, at, &reason) =>
            {
                // From the last line, so earlier line starts stay put.
                for (l, start) in lines.into_iter().rev() {
                    text.to_mut().insert(start, ' ');
                    indented.push(l);
                }
            }
            Err(Refusal::Syntax { reason, at, .. })
                if tabs_read_as_spaces < MAX_INDENT_FIXES
                    && let Some(tabs) = tabs_after_implicit_key(&text, at, &reason) =>
            {
                let spaces = " ".repeat(tabs.len());
                text.to_mut().replace_range(tabs, &spaces);
                tabs_read_as_spaces += 1;
            }
            Err(Refusal::Syntax { line, reason, .. }) => {
                return Err(Refusal::Syntax {
                    line,
                    reason,
                    at: 0,
                });
            }
            Err(e) => return Err(e),
        }
    }
}

/// How many spaces a document's lines may be read deeper, in all.
const MAX_INDENT_FIXES: usize = 64;

/// The lines (0-based, with their starts) to read one space deeper when the parser's
/// refusal at `line` / byte `at` is only about indentation: of a flow closer (that
/// line), or of the lines of a quoted scalar (the parser points at its quote: every
/// line after its first).
fn lenient_lines(text: &str, line: usize, at: usize, reason: &str) -> Option<Vec<(usize, usize)>> {
    if !reason.starts_with("invalid indentation") || line == 0 {
        return None;
    }
    let b = text.as_bytes();
    let starts: Vec<usize> = std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', b).map(|n| n + 1))
        .collect();
    if reason.contains("quoted scalar") {
        let q = *b.get(at)?;
        if q != b'"' && q != b'\'' {
            return None;
        }
        let mut i = at + 1;
        let end = loop {
            match *b.get(i)? {
                b'\\' if q == b'"' => i += 2,
                b'\'' if q == b'\'' && b.get(i + 1) == Some(&b'\'') => i += 2,
                c if c == q => break i,
                _ => i += 1,
            }
        };
        let lines: Vec<(usize, usize)> = starts
            .iter()
            .enumerate()
            .filter(|(_, s)| **s > at && **s <= end)
            .map(|(l, s)| (l, *s))
            .collect();
        return (!lines.is_empty()).then_some(lines);
    }
    let start = *starts.get(line - 1)?;
    let rest = text[start..].trim_start_matches(' ');
    rest.starts_with([']', '}'])
        .then_some(vec![(line - 1, start)])
}

/// The tabs between a `:` and the value at byte `at`, where the parser's refusal there
/// is only about them (see [`read`]): the `:` ends an implicit key, because something
/// stands before it on its line. A `:` first on its line may be an explicit entry's
/// value indicator (after `? key`), where a compact collection may follow and a tab
/// would indent it: left refused.
fn tabs_after_implicit_key(text: &str, at: usize, reason: &str) -> Option<Range<usize>> {
    if reason != "':' must be followed by a valid YAML whitespace" {
        return None;
    }
    let b = text.as_bytes();
    let start = b[..at].iter().rposition(|&c| c != b'\t')? + 1;
    let colon = start.checked_sub(1)?;
    let before = b[..colon].iter().rposition(|&c| c != b' ' && c != b'\t')?;
    let implicit = b[colon] == b':' && !matches!(b[before], b'\r' | b'\n');
    (implicit && start < at).then_some(start..at)
}

/// Maps positions in a text with spaces added at some line starts back to the text as
/// written.
struct Unindent {
    /// (start of a line in the padded text, spaces added there, spaces added before).
    lines: Vec<(usize, usize, usize)>,
}

impl Unindent {
    fn new(padded: &str, indented: &[usize]) -> Unindent {
        let mut counts = std::collections::BTreeMap::new();
        for &l in indented {
            *counts.entry(l).or_insert(0) += 1;
        }
        let starts: Vec<usize> = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', padded.as_bytes()).map(|n| n + 1))
            .collect();
        let mut before = 0;
        let mut lines = Vec::new();
        for (l, n) in counts {
            if let Some(&start) = starts.get(l) {
                lines.push((start, n, before));
                before += n;
            }
        }
        Unindent { lines }
    }

    fn original(&self, p: usize) -> usize {
        let i = self.lines.partition_point(|l| l.0 <= p);
        match i.checked_sub(1).map(|i| self.lines[i]) {
            None => p,
            Some((start, n, before)) => p - before - n.min(p - start),
        }
    }
}

fn read_exact(src: &str) -> Result<Tree, Refusal> {
    let mut r = Reader {
        s: src.as_bytes(),
        src,
        pos: Positions {
            src,
            ascii: src.is_ascii(),
            at: (0, 0),
        },
        b: Builder::default(),
        open: Vec::new(),
        root: None,
        skip: Vec::new(),
        last_end: 0,
    };
    let mut parser = Parser::new_from_str(src);
    while let Some(next) = parser.next_event() {
        let (event, span) = match next {
            Ok(next) => next,
            // Its flow-level counter stops at 255, past MAX_DEPTH.
            Err(e) if e.info() == "recursion limit exceeded" => {
                return Err(Refusal::TooDeep(e.marker().line()));
            }
            Err(e) => {
                return Err(Refusal::Syntax {
                    line: e.marker().line(),
                    reason: e.info().to_string(),
                    at: r.pos.byte(e.marker()),
                });
            }
        };
        let start = r.pos.byte(&span.start);
        let end = r.pos.byte(&span.end);
        r.event(event, start, end)?;
    }
    r.comments();
    Ok(r.b.finish())
}

/// Character positions to byte offsets, walking from the last one asked about (events
/// come in text order, so the walk is short).
struct Positions<'s> {
    src: &'s str,
    ascii: bool,
    /// (characters, bytes) of the last position.
    at: (usize, usize),
}

impl Positions<'_> {
    fn byte(&mut self, m: &Marker) -> usize {
        let want = m.index();
        if self.ascii {
            return want.min(self.src.len());
        }
        let (mut c, mut b) = self.at;
        if want >= c {
            for ch in self.src[b..].chars() {
                if c == want {
                    break;
                }
                c += 1;
                b += ch.len_utf8();
            }
        } else {
            for ch in self.src[..b].chars().rev() {
                if c == want {
                    break;
                }
                c -= 1;
                b -= ch.len_utf8();
            }
        }
        self.at = (c, b);
        b
    }
}

/// A collection being read.
struct Open {
    map: bool,
    /// Written in flow context (inside `[]` or `{}`).
    flow: bool,
    /// Its own brackets (not a single `key: value` pair inside a flow sequence).
    bracketed: bool,
    start: usize,
    anchor: Option<Range<usize>>,
    mark: Mark,
    /// A mapping's key waiting for its value, and where the key ends.
    key: Option<(Option<usize>, usize)>,
}

/// A node's `&anchor` and `!tag`.
struct Properties {
    anchor: Option<Range<usize>>,
    tag: bool,
    /// Where the last property ends.
    end: usize,
    /// Where the content starts (past the space, comments and line breaks after the
    /// properties).
    content: usize,
}

struct Reader<'s> {
    s: &'s [u8],
    src: &'s str,
    pos: Positions<'s>,
    b: Builder,
    open: Vec<Open>,
    /// The current document's root: `Some` once read (`Some(None)`: empty).
    root: Option<Option<usize>>,
    /// Text that belongs to tokens (scalars, properties, aliases), where a `#` is not
    /// a comment.
    skip: Vec<Range<usize>>,
    /// Where the last node (or collection start) read ends.
    last_end: usize,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_flow_indicator(c: u8) -> bool {
    matches!(c, b',' | b'[' | b']' | b'{' | b'}')
}

impl Reader<'_> {
    fn at(&self, i: usize) -> u8 {
        self.s.get(i).copied().unwrap_or(b'\n')
    }

    fn line_of(&self, i: usize) -> usize {
        memchr::memchr_iter(b'\n', &self.s[..i.min(self.s.len())]).count() + 1
    }

    fn unplaced(&self, i: usize) -> Refusal {
        Refusal::Unplaced(self.line_of(i))
    }

    /// The end of an anchor, alias or tag name starting at `i`.
    fn name_end(&self, mut i: usize) -> usize {
        while i < self.s.len() && !is_space(self.s[i]) && !is_flow_indicator(self.s[i]) {
            i += 1;
        }
        i
    }

    /// Spaces, line breaks and comments.
    fn separation(&self, mut i: usize) -> usize {
        while i < self.s.len() {
            match self.s[i] {
                c if is_space(c) => i += 1,
                b'#' => i = memchr::memchr(b'\n', &self.s[i..]).map_or(self.s.len(), |n| i + n),
                _ => break,
            }
        }
        i
    }

    /// The properties of a node whose event starts at `at` and whose properties end by
    /// `limit`.
    /// `any`: whether the parser says the node has any (a block scalar's content may
    /// start with `&` or `!`).
    fn properties(&mut self, at: usize, limit: usize, any: bool) -> Properties {
        let mut p = Properties {
            anchor: None,
            tag: false,
            end: at,
            content: at,
        };
        let mut i = at;
        while any && i < limit {
            let end = match self.s[i] {
                b'&' if p.anchor.is_none() => {
                    let end = self.name_end(i + 1);
                    p.anchor = Some(i + 1..end);
                    end
                }
                b'!' if !p.tag => {
                    p.tag = true;
                    if self.at(i + 1) == b'<' {
                        memchr::memchr(b'>', &self.s[i..]).map_or(self.s.len(), |n| i + n + 1)
                    } else {
                        self.name_end(i + 1)
                    }
                }
                _ => break,
            };
            self.skip.push(i..end);
            p.end = end;
            i = self.separation(end);
            p.content = i;
        }
        p
    }

    fn event(&mut self, event: Event<'_>, start: usize, end: usize) -> Result<(), Refusal> {
        match event {
            Event::DocumentStart(_) => self.root = None,
            Event::DocumentEnd => {
                if let Some(Some(id)) = self.root.take() {
                    self.b.document(id);
                }
            }
            Event::Scalar(value, style, anchor_id, tag) => {
                let p = self.properties(start, end, anchor_id != 0 || tag.is_some());
                if (anchor_id != 0) != p.anchor.is_some() || tag.is_some() != p.tag {
                    return Err(self.unplaced(start));
                }
                let id = self.scalar(&value, style, &p, end)?;
                self.last_end = id.map_or(p.end, |id| self.b.end_of(id));
                if let (Some(id), Some(name)) = (id, p.anchor) {
                    self.b.set_anchor(id, name);
                }
                self.attach(id, start)?;
            }
            Event::Alias(_) => {
                if self.at(start) != b'*' {
                    return Err(self.unplaced(start));
                }
                let end = self.name_end(start + 1);
                self.skip.push(start..end);
                self.last_end = end;
                let id = self.b.node(
                    start,
                    end,
                    Kind::Alias {
                        name: start + 1..end,
                    },
                );
                self.attach(Some(id), start)?;
            }
            Event::MappingStart(anchor_id, ref tag) | Event::SequenceStart(anchor_id, ref tag) => {
                let map = matches!(event, Event::MappingStart(..));
                let p = self.properties(start, end, anchor_id != 0 || tag.is_some());
                if (anchor_id != 0) != p.anchor.is_some() || tag.is_some() != p.tag {
                    return Err(self.unplaced(start));
                }
                if self.open.len() >= MAX_DEPTH {
                    return Err(Refusal::TooDeep(self.line_of(start)));
                }
                let open = if map { b'{' } else { b'[' };
                let bracketed = end > p.content && self.at(p.content) == open;
                let at = if bracketed {
                    p.content
                } else if map {
                    end
                } else {
                    self.block_sequence_start(end, &p)?
                };
                // Past a bracket or a sequence's first `-`; at a mapping's first key.
                self.last_end = if bracketed || !map { at + 1 } else { at };
                let flow = bracketed || self.open.last().is_some_and(|o| o.flow);
                let mark = if map {
                    self.b.pairs_mark()
                } else {
                    self.b.items_mark()
                };
                self.open.push(Open {
                    map,
                    flow,
                    bracketed,
                    start: at,
                    anchor: p.anchor,
                    mark,
                    key: None,
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let Some(o) = self.open.pop() else {
                    return Err(self.unplaced(start));
                };
                let end = if o.bracketed {
                    // After the last entry: space, comments, a `,`, then the bracket.
                    let close = if o.map { b'}' } else { b']' };
                    let last = if o.map {
                        self.b.last_pair_end(o.mark)
                    } else {
                        self.b.last_item_end(o.mark)
                    };
                    let mut i = self.separation(last.unwrap_or(o.start + 1));
                    if last.is_some() && self.at(i) == b',' {
                        i = self.separation(i + 1);
                    }
                    if self.at(i) != close {
                        return Err(self.unplaced(start));
                    }
                    i + 1
                } else if o.map {
                    self.b.last_pair_end(o.mark).unwrap_or(o.start)
                } else {
                    self.b.last_item_end(o.mark).unwrap_or(o.start)
                };
                self.last_end = end;
                let id = if o.map {
                    self.b.mapping(o.mark, o.flow, o.start, end)
                } else {
                    self.b.sequence(o.mark, o.flow, o.start, end)
                };
                if let Some(name) = o.anchor {
                    self.b.set_anchor(id, name);
                }
                self.attach(Some(id), start)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
        Ok(())
    }

    /// Where a block sequence starts: its first `-`, the first thing after the tokens
    /// before it — or the second, when the first begins an enclosing sequence's next
    /// item (the parser may put the start at the first item instead).
    fn block_sequence_start(&self, end: usize, p: &Properties) -> Result<usize, Refusal> {
        let dash = |i: usize| self.at(i) == b'-' && is_space(self.at(i + 1));
        let props = p.anchor.is_some() || p.tag;
        let from = if props { p.end } else { self.last_end };
        let mut at = self.next_token(from, &dash);
        // A new item of an enclosing block sequence: its `-` comes first (before any
        // properties of this one).
        if let Some(parent) = self.open.last()
            && !props
            && !parent.map
            && !parent.flow
            && self.b.last_item_end(parent.mark).is_some()
        {
            at = at.and_then(|i| self.next_token(i + 1, &dash));
        }
        match at {
            Some(at) if at <= end => Ok(at),
            _ => Err(self.unplaced(end)),
        }
    }

    /// The first place from `i` where `stop` holds, past space, comments,
    /// directives, document markers and `-`, `?`, `:` indicators; `None` at anything
    /// else.
    fn next_token(&self, mut i: usize, stop: &dyn Fn(usize) -> bool) -> Option<usize> {
        loop {
            if stop(i) {
                return Some(i);
            }
            let line_start = i == 0 || self.s[i - 1] == b'\n';
            match self.at(i) {
                b'-' | b'?' | b':' if is_space(self.at(i + 1)) => i += 1,
                b'-' | b'.'
                    if line_start
                        && (self.s[i..].starts_with(b"---") || self.s[i..].starts_with(b"...")) =>
                {
                    i += 3
                }
                b'%' if line_start => {
                    i = memchr::memchr(b'\n', &self.s[i..]).map_or(self.s.len(), |n| i + n)
                }
                c if is_space(c) || c == b'#' => {
                    let next = self.separation(i);
                    if next == i || next >= self.s.len() {
                        return None;
                    }
                    i = next;
                }
                _ => return None,
            }
        }
    }

    /// A scalar node (`None`: no node at all, an absent value).
    fn scalar(
        &mut self,
        value: &str,
        style: ScalarStyle,
        p: &Properties,
        event_end: usize,
    ) -> Result<Option<usize>, Refusal> {
        let c = p.content;
        let style = match style {
            ScalarStyle::Plain if value.is_empty() => {
                if p.anchor.is_none() && !p.tag {
                    return Ok(None);
                }
                let at = p.anchor.as_ref().map_or(p.end, |a| a.end);
                return Ok(Some(self.b.node(at, at, Kind::Empty)));
            }
            ScalarStyle::Literal | ScalarStyle::Folded => {
                // The event starts at the properties, or else at the content.
                let header = if p.end > c || p.anchor.is_some() || p.tag {
                    c
                } else {
                    self.block_header().ok_or_else(|| self.unplaced(c))?
                };
                return self.block_scalar(value, header);
            }
            ScalarStyle::Plain => Style::Plain,
            ScalarStyle::SingleQuoted => Style::SingleQuoted,
            ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
        };
        let (end, inner, kind) = match style {
            Style::Plain => {
                let mut end = event_end.max(c);
                while end > c && is_space(self.s[end - 1]) {
                    end -= 1;
                }
                let text = &self.src[c..end];
                (
                    end,
                    c..end,
                    Kind::Plain {
                        string: plain_is_string(text),
                    },
                )
            }
            Style::SingleQuoted | Style::DoubleQuoted => {
                let end = self.quoted_end(c).ok_or_else(|| self.unplaced(c))?;
                let kind = if style == Style::DoubleQuoted {
                    Kind::DoubleQuoted
                } else {
                    Kind::SingleQuoted
                };
                (end, c + 1..end - 1, kind)
            }
        };
        let text = &self.src[inner.clone()];
        let decoded = scalar::decode(text, style);
        if decoded.as_deref() != Some(value) {
            return Err(self.unplaced(c));
        }
        if text != value {
            self.b.decoded(inner, value.to_string());
        }
        self.skip.push(c..end);
        Ok(Some(self.b.node(c, end, kind)))
    }

    /// The end (after the closing quote) of a quoted scalar starting at `at`.
    fn quoted_end(&self, at: usize) -> Option<usize> {
        let q = *self.s.get(at)?;
        if q != b'"' && q != b'\'' {
            return None;
        }
        let mut i = at + 1;
        while i < self.s.len() {
            match self.s[i] {
                b'\\' if q == b'"' => i += 2,
                b'\'' if q == b'\'' && self.at(i + 1) == b'\'' => i += 2,
                c if c == q => return Some(i + 1),
                _ => i += 1,
            }
        }
        None
    }

    /// The `|` or `>` of a block scalar without properties.
    fn block_header(&self) -> Option<usize> {
        self.next_token(self.last_end, &|i| matches!(self.at(i), b'|' | b'>'))
    }

    /// A `|` or `>` scalar whose indicator is at `c`. Its content is verbatim apart
    /// from indentation and line breaks, so it ends after as many non-blank
    /// characters as its value has — each of which must match.
    fn block_scalar(&mut self, value: &str, c: usize) -> Result<Option<usize>, Refusal> {
        if !matches!(self.at(c), b'|' | b'>') {
            return Err(self.unplaced(c));
        }
        let mut header_end = c + 1;
        while matches!(self.at(header_end), b'+' | b'-' | b'0'..=b'9') {
            header_end += 1;
        }
        self.skip.push(c..header_end);
        let header_line_end = memchr::memchr(b'\n', &self.s[c..]).map_or(self.s.len(), |n| c + n);
        let content_start = (header_line_end + 1).min(self.s.len());
        // YAML's white space: space, tab and line breaks (not U+00A0 and the like).
        let blank = |ch: char| matches!(ch, ' ' | '\t' | '\r' | '\n');
        let mut want = value.chars().filter(|&ch| !blank(ch));
        let mut first = None;
        let mut end = None;
        for (at, ch) in self.src[content_start..].char_indices() {
            if blank(ch) {
                continue;
            }
            match want.next() {
                None => break,
                Some(w) if w == ch => {
                    first.get_or_insert(content_start + at);
                    end = Some(content_start + at + ch.len_utf8());
                }
                Some(_) => return Err(self.unplaced(content_start + at)),
            }
        }
        if want.next().is_some() {
            return Err(self.unplaced(c));
        }
        let (end, line) = match (first, end) {
            (Some(first), Some(end)) => {
                self.skip.push(content_start..end);
                let one_line = memchr::memchr(b'\n', &self.s[first..end]).is_none();
                (end, one_line.then_some(first..end))
            }
            // No content: the scalar ends with its header line (as the fast reader has it).
            _ => {
                let mut end = header_line_end;
                while end > header_end && is_space(self.s[end - 1]) {
                    end -= 1;
                }
                (end, None)
            }
        };
        Ok(Some(self.b.node(c, end, Kind::Block { line })))
    }

    /// Hand a finished node (or an absent one) to the collection holding it.
    fn attach(&mut self, id: Option<usize>, at: usize) -> Result<(), Refusal> {
        let Some(parent) = self.open.last_mut() else {
            if self.root.is_some() {
                return Err(self.unplaced(at));
            }
            self.root = Some(id);
            return Ok(());
        };
        if !parent.map {
            if let Some(id) = id {
                self.b.item(id);
            }
            return Ok(());
        }
        match parent.key.take() {
            None => {
                let key_end = id.map_or(at, |k| self.b.end_of(k));
                parent.key = Some((id, key_end));
            }
            Some((key, key_end)) => {
                let end = match id {
                    Some(v) => self.b.end_of(v),
                    None => self.colon_end(key_end, at),
                };
                self.b.pair(key, id, end);
            }
        }
        Ok(())
    }

    /// Just after the `:` of a pair without a value (the parser puts the empty value
    /// at the `:`); the key's end when there is no `:`.
    fn colon_end(&self, key_end: usize, empty_at: usize) -> usize {
        if self.at(empty_at) == b':' && empty_at >= key_end {
            return empty_at + 1;
        }
        let mut i = key_end;
        while matches!(self.at(i), b' ' | b'\t') {
            i += 1;
        }
        if self.at(i) == b':' { i + 1 } else { key_end }
    }

    /// Every comment: a `#` after a space or a line break, outside any token.
    fn comments(&mut self) {
        let mut skip = std::mem::take(&mut self.skip);
        skip.sort_by_key(|r| r.start);
        let mut from = 0;
        for r in skip
            .iter()
            .chain(std::iter::once(&(self.s.len()..self.s.len())))
        {
            let to = r.start.max(from);
            let mut i = from;
            while let Some(n) = memchr::memchr2(b'#', b'%', &self.s[i..to]) {
                let at = i + n;
                let after_space = at == 0 || is_space(self.s[at - 1]);
                let line_start = at == 0 || self.s[at - 1] == b'\n';
                i = if self.s[at] == b'#' && after_space {
                    self.b.comment(self.s, at);
                    memchr::memchr(b'\n', &self.s[at..to]).map_or(to, |n| at + n)
                } else if self.s[at] == b'%' && line_start {
                    // A directive: its text is not a comment.
                    memchr::memchr(b'\n', &self.s[at..to]).map_or(to, |n| at + n)
                } else {
                    at + 1
                };
            }
            from = from.max(r.end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_after_an_implicit_key_separate_like_spaces() {
        // Found by fuzzing yaml_readers: saphyr-parser refused these.
        for (tabs, spaces) in [
            ("- {a:\tb}\n", "- {a: b}\n"),
            ("{\n= :\t0+ k}\n", "{\n= : 0+ k}\n"),
            ("a:\tb\nc: [d:\t\t-1]\n", "a: b\nc: [d:  -1]\n"),
        ] {
            let read = read(tabs).map(|t| t.render());
            assert_eq!(read, read_exact(spaces).map(|t| t.render()), "{tabs:?}");
            assert!(read.is_ok());
        }
        // After an explicit `?` entry's `:` a tab would indent a compact collection;
        // after a mapping's value a sequence cannot start on the key's line.
        assert!(read("? a\n:\t- b\n").is_err());
        assert!(read("? a\n  :\t- b\n").is_err());
        assert!(read("a:\t- b\n").is_err());
    }

    #[test]
    fn debug_file() {
        if let Ok(path) = std::env::var("FULL_DEBUG") {
            let src = std::fs::read_to_string(path).unwrap();
            match read(&src) {
                Ok(t) => eprintln!("{}", t.render()),
                Err(e) => eprintln!("{e:?}"),
            }
        }
    }
}
