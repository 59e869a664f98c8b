//! Flow context for the fast reader: `{…}` and `[…]` collections, which may run over
//! several lines (JSON files are one), with their scalars, anchors and aliases.

use super::{Decline, Read, Reader, is_blank, is_flow_indicator};

impl Reader<'_> {
    /// Skip spaces, comments and line breaks inside a flow collection; lines must be
    /// indented past the block collection holding it.
    pub(super) fn flow_space(&self, mut i: usize, indent: Option<usize>) -> Read<usize> {
        loop {
            match self.at(i) {
                b' ' | b'\t' => i += 1,
                b'#' if i == 0 || matches!(self.s[i - 1], b' ' | b'\t' | b'\n') => {
                    self.comments.borrow_mut().push(i);
                    i = self.line_end(i);
                }
                _ if self.is_eol(i) => {
                    if i >= self.s.len() {
                        return Err(Decline);
                    }
                    if self.s[i] == b'\r' {
                        i += 1;
                    }
                    i += 1;
                    let line = i;
                    while self.at(i) == b' ' {
                        i += 1;
                    }
                    if self.at(i) == b'\t' {
                        return Err(Decline);
                    }
                    let blank = self.is_eol(i) || self.at(i) == b'#';
                    if !blank {
                        // Continuation lines are indented past the block
                        // collection; a closing bracket may stand at its column.
                        let closer = matches!(self.at(i), b']' | b'}');
                        if indent.is_some_and(|n| i - line < n || (i - line == n && !closer)) {
                            return Err(Decline);
                        }
                        if indent == Some(i - line) {
                            // Past YAML's letter (the complete reader refuses it), but
                            // what libyaml and Go's yaml (docker compose) accept.
                            self.lenient.set(true);
                        }
                        if i == line
                            && (self.s[line..].starts_with(b"---")
                                || self.s[line..].starts_with(b"..."))
                        {
                            return Err(Decline);
                        }
                    }
                }
                _ => return Ok(i),
            }
        }
    }

    /// A flow node at `p` (after any space): returns (node, end of its last token).
    fn flow_node(&mut self, p: usize, indent: Option<usize>) -> Read<(usize, usize)> {
        let mut p = p;
        let mut anchor = None;
        if self.at(p) == b'&' {
            let name = self.anchor(p)?;
            p = self.flow_space(name.end, indent)?;
            if self.at(p) == b'*' {
                return Err(Decline);
            }
            anchor = Some(name);
        }
        let c = self.at(p);
        let (id, end) = match c {
            b'{' | b'[' => self.guard(|r| r.flow(p, indent))?,
            b'"' | b'\'' => {
                let (end, kind) = self.quoted(p)?;
                (self.scalar_node(p, end, kind)?, end)
            }
            b'*' => self.alias(p)?,
            _ => {
                if !self.plain_can_start(p, true) {
                    return Err(Decline);
                }
                let stop = self.plain_stop(p, true).0;
                // `a -,`: the complete reader (saphyr-parser) refuses a ` -` just before
                // a flow indicator, though YAML allows it; left to it.
                if stop >= p + 2
                    && self.s[stop - 1] == b'-'
                    && is_blank(self.s[stop - 2])
                    && is_flow_indicator(self.at(stop))
                {
                    return Err(Decline);
                }
                self.plain(p, stop)?
            }
        };
        if let Some(name) = anchor {
            self.anchor_node(id, name)?;
        }
        Ok((id, end))
    }

    /// A `{…}` or `[…]` collection at `p`: (node, end after the closing bracket).
    pub(super) fn flow(&mut self, p: usize, indent: Option<usize>) -> Read<(usize, usize)> {
        let mapping = self.s[p] == b'{';
        let close = if mapping { b'}' } else { b']' };
        let mark = if mapping {
            self.b.pairs_mark()
        } else {
            self.b.items_mark()
        };
        let mut i = self.flow_space(p + 1, indent)?;
        loop {
            if self.at(i) == close {
                i += 1;
                break;
            }
            if mapping {
                if matches!(self.at(i), b'{' | b'[' | b'?' | b',' | b'}' | b']') {
                    return Err(Decline);
                }
                let (key, key_end) = self.flow_node(i, indent)?;
                // The `:` must follow on the key's line.
                let mut j = key_end;
                while is_blank(self.at(j)) {
                    j += 1;
                }
                if self.at(j) != b':' || j - i > super::MAX_KEY {
                    return Err(Decline);
                }
                let colon_end = j + 1;
                let quoted = matches!(self.at(i), b'"' | b'\'');
                // After a plain key, a value needs a space (`a:{` is refused by
                // the complete reader); `{a:}` and `{a:, …}` have none.
                if !(quoted
                    || self.is_break_or_space(colon_end)
                    || matches!(self.at(colon_end), b',' | b'}'))
                {
                    return Err(Decline);
                }
                let v = self.flow_space(colon_end, indent)?;
                let (value, end) = if matches!(self.at(v), b',' | b'}') {
                    (None, colon_end)
                } else {
                    let (id, end) = self.flow_node(v, indent)?;
                    (Some(id), end)
                };
                self.b.pair(Some(key), value, end);
                i = self.flow_space(if value.is_some() { end } else { v }, indent)?;
            } else {
                if matches!(self.at(i), b',' | b']' | b'}') {
                    return Err(Decline);
                }
                let (item, end) = self.flow_node(i, indent)?;
                self.b.item(item);
                i = self.flow_space(end, indent)?;
                if self.at(i) == b':' {
                    return Err(Decline);
                }
            }
            match self.at(i) {
                b',' => i = self.flow_space(i + 1, indent)?,
                c if c == close => {}
                _ => return Err(Decline),
            }
        }
        let id = if mapping {
            self.b.mapping(mark, true, p, i)
        } else {
            self.b.sequence(mark, true, p, i)
        };
        Ok((id, i))
    }
}
