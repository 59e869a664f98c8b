//! The fast YAML reader: one pass over the bytes for the block YAML that manifests,
//! values files and CI configs are written in — block mappings and sequences, plain
//! and quoted one-line scalars, `|`/`>` block scalars, flow collections, anchors,
//! aliases, comments, `---` documents, LF or CRLF. It builds the same [`Tree`] as the
//! complete reader (tests hold the two to that over the corpus and over generated and
//! mutated YAML), several times faster. Anything else — tags, `?` keys, directives,
//! tabs in indentation, multi-line plain or quoted scalars, odd indentation, and every
//! syntax error — makes it decline with `None`, and the complete reader (`full`)
//! takes the text.

mod flow;
#[cfg(test)]
mod tests;

use std::cell::{Cell, RefCell};

use crate::yaml::scalar::{self, Style};
use crate::yaml::tree::{Builder, Kind, Tree, plain_is_string};

/// The reader declined the file.
struct Decline;

type Read<T> = Result<T, Decline>;

/// Nesting deeper than this is left to the complete reader.
const MAX_DEPTH: usize = 128;

/// Bytes from an implicit key's start to its `:` past which it is left to the
/// complete reader (YAML allows 1024 characters).
const MAX_KEY: usize = 1024;

/// Read a text (a whole stream, or one document of one), or decline.
pub fn read(src: &str) -> Option<Tree> {
    read_noting_leniency(src).map(|(tree, _)| tree)
}

/// [`read`], and whether the text has a flow collection closed at the column of the
/// block collection holding it (`key: [` … a line `]` under `key`): outside YAML's
/// letter, so the complete reader refuses it, but real files do it and the YAML
/// libraries their tools use (libyaml, Go's yaml) accept it, so this reader does too.
pub fn read_noting_leniency(src: &str) -> Option<(Tree, bool)> {
    let mut r = Reader::new(src)?;
    r.stream().ok()?;
    for at in r.comments.take() {
        r.b.comment(r.s, at);
    }
    let lenient = r.lenient.get();
    Some((r.b.finish(), lenient))
}

impl<'s> Reader<'s> {
    fn new(src: &'s str) -> Option<Reader<'s>> {
        // Characters YAML does not allow in a stream (C0 and C1 controls, DEL, U+FFFE,
        // U+FFFF, a byte-order mark past the start) and a `\r` that does not end a
        // line are the complete reader's business.
        let bytes = src.as_bytes();
        let unprintable = bytes.iter().enumerate().any(|(i, &b)| match b {
            b'\t' | b'\n' | b'\r' => false,
            0..0x20 | 0x7f => true,
            0xc2 => bytes.get(i + 1).is_some_and(|n| (0x80..0xa0).contains(n)),
            0xef => matches!(
                bytes.get(i + 1..i + 3),
                Some([0xbb, 0xbf] | [0xbf, 0xbe] | [0xbf, 0xbf])
            ),
            _ => false,
        });
        let lone_cr = memchr::memchr_iter(b'\r', bytes).any(|i| bytes.get(i + 1) != Some(&b'\n'));
        if unprintable || lone_cr {
            return None;
        }
        Some(Reader {
            s: bytes,
            src,
            b: Builder::default(),
            depth: 0,
            comments: RefCell::new(Vec::new()),
            lenient: Cell::new(false),
            anchors: RefCell::new(Vec::new()),
        })
    }
}

struct Reader<'s> {
    s: &'s [u8],
    src: &'s str,
    b: Builder,
    depth: usize,
    /// Where each comment starts (lookahead may meet one twice).
    comments: RefCell<Vec<usize>>,
    /// A flow collection was closed at its block parent's column.
    lenient: Cell<bool>,
    /// The anchors of the current document so far.
    anchors: RefCell<Vec<&'s str>>,
}

/// A line that is not blank and not only a comment.
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    /// Columns of indentation (spaces only).
    indent: usize,
    /// The first byte after the indentation.
    first: usize,
    marker: Marker,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Marker {
    Content,
    /// `---` or `...` at column 0.
    Document,
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// Bytes that cannot start a plain scalar (or can only when followed by a non-space).
fn is_indicator(c: u8) -> bool {
    matches!(
        c,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

fn is_flow_indicator(c: u8) -> bool {
    matches!(c, b',' | b'[' | b']' | b'{' | b'}')
}

impl<'s> Reader<'s> {
    fn at(&self, i: usize) -> u8 {
        self.s.get(i).copied().unwrap_or(b'\n')
    }

    /// End of the line holding `i` (the `\n`, or the end of the text).
    fn line_end(&self, i: usize) -> usize {
        memchr::memchr(b'\n', &self.s[i.min(self.s.len())..]).map_or(self.s.len(), |n| i + n)
    }

    /// Whether `i` is at the end of a line's content (`\n`, `\r\n` or end of text).
    fn is_eol(&self, i: usize) -> bool {
        i >= self.s.len() || self.s[i] == b'\n' || (self.s[i] == b'\r' && self.at(i + 1) == b'\n')
    }

    /// Whether `i` begins a separating space, a comment or the end of the line.
    fn is_break_or_space(&self, i: usize) -> bool {
        self.is_eol(i) || is_blank(self.s[i])
    }

    /// `end` moved back over trailing spaces, tabs and a `\r`, not past `start`.
    fn trim_end(&self, start: usize, mut end: usize) -> usize {
        while end > start && matches!(self.s[end - 1], b' ' | b'\t' | b'\r') {
            end -= 1;
        }
        end
    }

    /// The start of the line after the one holding `i`.
    fn next_line(&self, i: usize) -> usize {
        (self.line_end(i) + 1).min(self.s.len())
    }

    /// From a line start: the next line with content, skipping blank and comment lines.
    fn next_content(&self, mut p: usize) -> Read<Option<Line>> {
        while p < self.s.len() {
            let mut i = p;
            while self.at(i) == b' ' {
                i += 1;
            }
            if self.at(i) == b'\t' {
                // Tabs after the indentation are fine on blank lines only.
                let mut j = i;
                while is_blank(self.at(j)) {
                    j += 1;
                }
                if !self.is_eol(j) {
                    return Err(Decline);
                }
            }
            let c = self.at(i);
            if self.is_eol(i) || is_blank(c) {
                if c == b'\r' && self.at(i + 1) != b'\n' {
                    return Err(Decline);
                }
                p = self.next_line(i);
                continue;
            }
            if c == b'#' {
                self.comments.borrow_mut().push(i);
                p = self.next_line(i);
                continue;
            }
            let marker = if i == p
                && (self.s[p..].starts_with(b"---") || self.s[p..].starts_with(b"..."))
                && self.is_break_or_space(p + 3)
            {
                Marker::Document
            } else if i == p && c == b'%' {
                return Err(Decline);
            } else {
                Marker::Content
            };
            return Ok(Some(Line {
                start: p,
                indent: i - p,
                first: i,
                marker,
            }));
        }
        Ok(None)
    }

    /// After a token: optional spaces, an optional comment, the end of the line.
    /// Returns the start of the next line.
    fn finish_line(&self, mut i: usize) -> Read<usize> {
        let token_end = i;
        while is_blank(self.at(i)) {
            i += 1;
        }
        if self.at(i) == b'#' && (i > token_end || self.at(i.wrapping_sub(1)) == b' ') {
            self.comments.borrow_mut().push(i);
            return Ok(self.next_line(i));
        }
        if !self.is_eol(i) {
            return Err(Decline);
        }
        if i < self.s.len() && self.s[i] == b'\r' && self.at(i + 1) != b'\n' {
            return Err(Decline);
        }
        Ok(self.next_line(i))
    }

    /// Whether a plain scalar may start at `i`: not at an indicator, except `-`, `?`
    /// and `:` followed by a character that could continue it.
    fn plain_can_start(&self, i: usize, flow: bool) -> bool {
        let c = self.at(i);
        if !is_indicator(c) {
            return true;
        }
        let next = self.at(i + 1);
        matches!(c, b'-' | b'?' | b':')
            && !self.is_break_or_space(i + 1)
            && !(flow && is_flow_indicator(next))
    }

    /// Skip the spaces separating an indicator (`-`, `:`, an anchor) from what follows;
    /// tabs there are rare, so they are left to the complete reader.
    fn spaces(&self, mut i: usize) -> Read<usize> {
        while is_blank(self.at(i)) {
            if self.s[i] == b'\t' {
                return Err(Decline);
            }
            i += 1;
        }
        Ok(i)
    }

    fn column(&self, i: usize) -> usize {
        i - memchr::memrchr(b'\n', &self.s[..i]).map_or(0, |n| n + 1)
    }

    /// Every document.
    fn stream(&mut self) -> Read<()> {
        let mut p = 0;
        let mut open = true; // a document may begin here
        while let Some(line) = self.next_content(p)? {
            if line.marker == Marker::Document {
                // `--- ` followed by content on the same line is left to the complete reader.
                p = self.finish_line(line.start + 3)?;
                open = true;
                self.anchors.borrow_mut().clear();
                continue;
            }
            if !open {
                return Err(Decline);
            }
            let (id, next) = self.block_on_line(line, None)?;
            self.b.document(id);
            p = next;
            open = false;
        }
        Ok(())
    }

    /// A block node whose first token is the first of `line`; `parent` is the
    /// indentation of the collection holding it (`None` at the top).
    fn block_on_line(&mut self, line: Line, parent: Option<usize>) -> Read<(usize, usize)> {
        let at = line.first;
        if self.at(at) == b'-' && self.is_break_or_space(at + 1) {
            return self.guard(|r| r.block_sequence(line.indent, at));
        }
        if self.implicit_key(at)?.is_some() {
            return self.guard(|r| r.block_mapping(line.indent, at));
        }
        // A scalar or flow collection alone on its line, as a value or a document.
        let (id, next) = self.inline_value(at, parent)?;
        Ok((id, next))
    }

    fn guard<T>(&mut self, f: impl FnOnce(&mut Self) -> Read<T>) -> Read<T> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Decline);
        }
        let out = f(self);
        self.depth -= 1;
        out
    }

    /// If a simple key starts at `at` (a one-line plain or quoted scalar followed by
    /// `:` and a space or line end): (key start, key end, kind, position after `:`).
    fn implicit_key(&self, at: usize) -> Read<Option<(usize, usize, Kind, usize)>> {
        let c = self.at(at);
        let (start, end, kind, mut i) = match c {
            b'"' | b'\'' => {
                let (close, kind) = self.quoted(at)?;
                (at, close, kind, close)
            }
            _ => {
                // `-x:`-style keys are valid YAML, rare enough to leave to the complete reader.
                if is_indicator(c) {
                    return Ok(None);
                }
                let (i, at_colon) = self.plain_stop(at, false);
                if !at_colon {
                    return Ok(None);
                }
                let (end, kind) = self.plain_span(at, i)?;
                (at, end, kind, i)
            }
        };
        while is_blank(self.at(i)) {
            i += 1;
        }
        if self.at(i) == b':' && self.is_break_or_space(i + 1) {
            // YAML limits an implicit key to 1024 characters: the complete reader
            // refuses a longer one.
            if i - start > MAX_KEY {
                return Err(Decline);
            }
            Ok(Some((start, end, kind, i + 1)))
        } else {
            Ok(None)
        }
    }

    /// The end (after the closing quote) of a quoted scalar starting at `at`, which
    /// must close on its line.
    fn quoted_end(&self, at: usize) -> Read<usize> {
        let q = self.s[at];
        let mut i = at + 1;
        loop {
            if self.is_eol(i) {
                return Err(Decline);
            }
            let c = self.s[i];
            if q == b'"' && c == b'\\' {
                // Only YAML's escapes; anything else is the complete reader's to refuse.
                let hex = match self.at(i + 1) {
                    b'0' | b'a' | b'b' | b't' | b'\t' | b'n' | b'v' | b'f' | b'r' | b'e' | b' '
                    | b'"' | b'/' | b'\\' | b'N' | b'_' | b'L' | b'P' => 0,
                    b'x' => 2,
                    b'u' => 4,
                    b'U' => 8,
                    _ => return Err(Decline),
                };
                let digits = self.s.get(i + 2..i + 2 + hex).ok_or(Decline)?;
                if !digits.iter().all(u8::is_ascii_hexdigit) {
                    return Err(Decline);
                }
                i += 2 + hex;
                continue;
            }
            if c == q {
                if q == b'\'' && self.at(i + 1) == b'\'' {
                    i += 2;
                    continue;
                }
                return Ok(i + 1);
            }
            i += 1;
        }
    }

    /// A block mapping whose first key starts at `at`, in column `indent`.
    fn block_mapping(&mut self, indent: usize, first: usize) -> Read<(usize, usize)> {
        let mark = self.b.pairs_mark();
        let mut at = first;
        let next = loop {
            let Some((ks, ke, kind, after_colon)) = self.implicit_key(at)? else {
                return Err(Decline);
            };
            let key = self.scalar_node(ks, ke, kind)?;
            let (value, next) = self.value_after(after_colon, indent, true)?;
            let end = value.map_or(after_colon, |v| self.b.end_of(v));
            self.b.pair(Some(key), value, end);
            match self.next_content(next)? {
                Some(line) if line.marker == Marker::Content && line.indent == indent => {
                    if self.at(line.first) == b'-' && self.is_break_or_space(line.first + 1) {
                        // A sequence at a mapping's indentation ends it only where the
                        // mapping is itself a value; a parent decides that.
                        break line.start;
                    }
                    at = line.first;
                }
                Some(line) if line.marker == Marker::Content && line.indent > indent => {
                    return Err(Decline);
                }
                _ => break next,
            }
        };
        let end = self.b.last_pair_end(mark).unwrap_or(first);
        Ok((self.b.mapping(mark, false, first, end), next))
    }

    /// A block sequence whose first `-` is at `first`, in column `indent`.
    fn block_sequence(&mut self, indent: usize, first: usize) -> Read<(usize, usize)> {
        let mark = self.b.items_mark();
        let mut dash = first;
        let next = loop {
            let p = self.spaces(dash + 1)?;
            let c = self.at(p);
            let (item, next) = if c == b'-' && self.is_break_or_space(p + 1) {
                let col = self.column(p);
                let (id, next) = self.guard(|r| r.block_sequence(col, p))?;
                (Some(id), next)
            } else if c != b'&' && !self.is_eol(p) && c != b'#' && self.implicit_key(p)?.is_some() {
                let col = self.column(p);
                let (id, next) = self.guard(|r| r.block_mapping(col, p))?;
                (Some(id), next)
            } else {
                self.value_after(p, indent, false)?
            };
            // An empty item is left to the complete reader (its span is not worth a rule).
            let Some(item) = item else {
                return Err(Decline);
            };
            self.b.item(item);
            match self.next_content(next)? {
                Some(line) if line.marker == Marker::Content && line.indent == indent => {
                    if self.at(line.first) == b'-' && self.is_break_or_space(line.first + 1) {
                        dash = line.first;
                    } else {
                        break line.start;
                    }
                }
                Some(line) if line.marker == Marker::Content && line.indent > indent => {
                    return Err(Decline);
                }
                _ => break next,
            }
        };
        let end = self.b.last_item_end(mark).unwrap_or(first + 1);
        Ok((self.b.sequence(mark, false, first, end), next))
    }

    /// The value after `key:` or `- ` (spaces already skipped or not), in a block
    /// collection at column `indent`. `same_indent_sequence`: a mapping's value may be
    /// a sequence at the mapping's own indentation.
    fn value_after(
        &mut self,
        mut p: usize,
        indent: usize,
        same_indent_sequence: bool,
    ) -> Read<(Option<usize>, usize)> {
        let spaced = is_blank(self.at(p)) || (p > 0 && is_blank(self.s[p - 1]));
        p = self.spaces(p)?;
        let mut anchor = None;
        if self.at(p) == b'&' {
            let name = self.anchor(p)?;
            p = self.spaces(name.end)?;
            // An alias has no anchor of its own: an error the complete reader reports.
            if self.at(p) == b'*' {
                return Err(Decline);
            }
            anchor = Some(name);
        }
        if self.is_eol(p) || (self.at(p) == b'#' && (spaced || anchor.is_some())) {
            // The value, if any, is on the following lines.
            let next = self.finish_line(p)?;
            let line = match self.next_content(next)? {
                Some(line)
                    if line.marker == Marker::Content
                        && (line.indent > indent
                            || (same_indent_sequence
                                && line.indent == indent
                                && self.at(line.first) == b'-'
                                && self.is_break_or_space(line.first + 1))) =>
                {
                    line
                }
                _ => {
                    if anchor.is_some() {
                        return Err(Decline);
                    }
                    return Ok((None, next));
                }
            };
            let (id, next) = self.block_on_line(line, Some(indent))?;
            if let Some(name) = anchor {
                self.anchor_node(id, name)?;
            }
            return Ok((Some(id), next));
        }
        let (id, next) = self.inline_value(p, Some(indent))?;
        if let Some(name) = anchor {
            self.anchor_node(id, name)?;
        }
        Ok((Some(id), next))
    }

    /// Gives node `id` its anchor. An alias has no anchor of its own (`&a *b`, or the
    /// alias on the line after the anchor): an error the complete reader reports.
    fn anchor_node(&mut self, id: usize, name: std::ops::Range<usize>) -> Read<()> {
        if self.b.is_alias(id) {
            return Err(Decline);
        }
        self.b.set_anchor(id, name);
        Ok(())
    }

    /// A value written on the current line from `p`: alias, block scalar header,
    /// quoted or plain scalar, or a flow collection (which may continue on lines
    /// indented past `indent`). Checks that nothing more-indented follows.
    fn inline_value(&mut self, p: usize, indent: Option<usize>) -> Read<(usize, usize)> {
        let c = self.at(p);
        let (id, next) = match c {
            b'*' => {
                let (id, end) = self.alias(p)?;
                (id, self.finish_line(end)?)
            }
            b'|' | b'>' => return self.block_scalar(p, indent),
            b'"' | b'\'' => {
                let (end, kind) = self.quoted(p)?;
                (self.scalar_node(p, end, kind)?, self.finish_line(end)?)
            }
            b'{' | b'[' => {
                let (id, end) = self.guard(|r| r.flow(p, indent))?;
                (id, self.finish_line(end)?)
            }
            _ => {
                if !self.plain_can_start(p, false) {
                    return Err(Decline);
                }
                // `a: b: c` is an error: the complete reader says so.
                let (stop, at_colon) = self.plain_stop(p, false);
                if at_colon {
                    return Err(Decline);
                }
                let (id, end) = self.plain(p, stop)?;
                (id, self.finish_line(end)?)
            }
        };
        // Anything more indented after a one-line value would continue it.
        if let Some(line) = self.next_content(next)?
            && line.marker == Marker::Content
            && indent.is_none_or(|n| line.indent > n)
        {
            return Err(Decline);
        }
        Ok((id, next))
    }

    /// The name of an anchor or alias whose indicator is at `p` (up to a space, a
    /// line end or a flow indicator).
    fn name_end(&self, p: usize) -> Read<usize> {
        let mut i = p + 1;
        while !self.is_break_or_space(i) && !is_flow_indicator(self.s[i]) {
            i += 1;
        }
        if i == p + 1 { Err(Decline) } else { Ok(i) }
    }

    /// `&name`, followed by a space or line end: the name's span.
    fn anchor(&self, p: usize) -> Read<std::ops::Range<usize>> {
        let end = self.name_end(p)?;
        if !self.is_break_or_space(end) {
            return Err(Decline);
        }
        self.anchors.borrow_mut().push(&self.src[p + 1..end]);
        Ok(p + 1..end)
    }

    /// `*name`: (node, end). An alias of no anchor before it in its document is an
    /// error: the complete reader says so.
    fn alias(&mut self, p: usize) -> Read<(usize, usize)> {
        let end = self.name_end(p)?;
        let name = &self.src[p + 1..end];
        if !self.anchors.borrow().contains(&name) {
            return Err(Decline);
        }
        Ok((self.b.node(p, end, Kind::Alias { name: p + 1..end }), end))
    }

    /// Where a plain scalar starting at `p` stops: at a line end, a comment, or a `:`
    /// followed by a space (in flow context also by a flow indicator, and at a flow
    /// indicator). `true` when it stopped at such a `:`.
    pub(super) fn plain_stop(&self, p: usize, flow: bool) -> (usize, bool) {
        let mut i = p;
        while !self.is_eol(i) {
            let b = self.s[i];
            if (flow && is_flow_indicator(b)) || (b == b'#' && i > p && is_blank(self.s[i - 1])) {
                return (i, false);
            }
            if b == b':'
                && (self.is_break_or_space(i + 1) || (flow && is_flow_indicator(self.at(i + 1))))
            {
                return (i, true);
            }
            i += 1;
        }
        (i, false)
    }

    /// A plain scalar from `p` to `stop` less trailing blanks: (end, kind).
    fn plain_span(&self, p: usize, stop: usize) -> Read<(usize, Kind)> {
        let mut end = stop;
        while end > p && is_blank(self.s[end - 1]) {
            end -= 1;
        }
        // A plain scalar followed by a tab is rare: left to the complete reader.
        if end == p || self.s[end..stop].contains(&b'\t') {
            return Err(Decline);
        }
        let string = plain_is_string(&self.src[p..end]);
        Ok((end, Kind::Plain { string }))
    }

    /// A plain scalar node from `p` to `stop` less trailing blanks: (node, end).
    pub(super) fn plain(&mut self, p: usize, stop: usize) -> Read<(usize, usize)> {
        let (end, kind) = self.plain_span(p, stop)?;
        Ok((self.b.node(p, end, kind), end))
    }

    /// A scalar node; a quoted one whose text is not its value (escapes, `''`) has
    /// its value recorded.
    pub(super) fn scalar_node(&mut self, p: usize, end: usize, kind: Kind) -> Read<usize> {
        let style = match kind {
            Kind::DoubleQuoted => Style::DoubleQuoted,
            Kind::SingleQuoted => Style::SingleQuoted,
            _ => return Ok(self.b.node(p, end, kind)),
        };
        let inner = p + 1..end - 1;
        let text = &self.src[inner.clone()];
        if text.contains(['\\', '\'']) {
            let value = scalar::decode(text, style).ok_or(Decline)?;
            if value != text {
                self.b.decoded(inner, value);
            }
        }
        Ok(self.b.node(p, end, kind))
    }

    /// A quoted scalar starting at `p`: (end after the closing quote, kind).
    pub(super) fn quoted(&self, p: usize) -> Read<(usize, Kind)> {
        let kind = if self.s[p] == b'"' {
            Kind::DoubleQuoted
        } else {
            Kind::SingleQuoted
        };
        Ok((self.quoted_end(p)?, kind))
    }

    /// A `|` or `>` scalar in a block collection at column `indent`: the header, then
    /// every following line that is blank or indented like the first content line.
    fn block_scalar(&mut self, p: usize, indent: Option<usize>) -> Read<(usize, usize)> {
        let indent = indent.ok_or(Decline)?;
        let mut i = p + 1;
        while matches!(self.at(i), b'+' | b'-') {
            i += 1;
        }
        if self.at(i).is_ascii_digit() || i > p + 2 {
            return Err(Decline);
        }
        let mut next = self.finish_line(i)?;
        // Without content the scalar ends with its header line (a comment included).
        let mut end = self.trim_end(i, self.line_end(i));
        let mut content_indent = None;
        // The first content line, and whether there is another.
        let mut line = None;
        let mut lines = 0;
        while next < self.s.len() {
            let mut j = next;
            while self.at(j) == b' ' {
                j += 1;
            }
            let mut k = j;
            while is_blank(self.at(k)) {
                k += 1;
            }
            if self.is_eol(k) {
                // A blank line; spaces past the content's indentation before any
                // content are left to the complete reader, and so is a tab where
                // the indentation is (YAML's blank lines there have spaces only).
                if content_indent.is_none() && j - next > indent + 1 {
                    return Err(Decline);
                }
                if k > j && j - next < content_indent.unwrap_or(indent + 1) {
                    return Err(Decline);
                }
                next = self.next_line(k);
                continue;
            }
            let col = j - next;
            if col < content_indent.unwrap_or(indent + 1) {
                if col > indent {
                    return Err(Decline);
                }
                break;
            }
            // A tab after the spaces of the first content line is left to the complete reader.
            if k != j && content_indent.is_none() {
                return Err(Decline);
            }
            content_indent.get_or_insert(col);
            end = self.trim_end(j, self.line_end(j));
            line.get_or_insert(j..end);
            lines += 1;
            next = self.next_line(j);
        }
        let line = line.filter(|_| lines == 1);
        let id = self.b.node(p, end, Kind::Block { line });
        Ok((id, next))
    }
}
