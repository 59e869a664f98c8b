//! The complete YAML reader: tree-sitter-yaml's concrete syntax tree, which keeps exact
//! byte offsets in LF and CRLF files alike, turned into the [`Tree`] the rules read.
//! It reads everything the fast reader declines (flow scalars over several lines, tags,
//! complex keys, directives …) and decides which files are not YAML at all.

use std::cell::RefCell;

use tree_sitter::{Node, Parser};

use crate::yaml::tree::{Builder, Kind, Tree};

/// Deeper than this, a file is refused rather than read (no real manifest comes close).
pub const MAX_DEPTH: usize = 200;

/// Why tree-sitter could not give a tree.
pub enum Refusal {
    /// A syntax error at this 1-based line.
    Syntax(usize),
    /// Nesting deeper than [`MAX_DEPTH`], starting at this line.
    TooDeep(usize),
    /// The parser gave up.
    GaveUp,
}

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

fn parse(src: &str) -> Option<tree_sitter::Tree> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut parser = Parser::new();
            parser
                .set_language(&tree_sitter_yaml::LANGUAGE.into())
                .ok()?;
            *slot = Some(parser);
        }
        slot.as_mut()?.parse(src, None)
    })
}

/// Whether the tree-sitter grammar reads `src` without error (tests prove fallbacks).
#[cfg(test)]
pub fn grammar_accepts(src: &str) -> bool {
    parse(src).is_some_and(|t| !t.root_node().has_error())
}

/// Read a whole stream.
pub fn read(src: &str) -> Result<Tree, Refusal> {
    let tree = parse(src).ok_or(Refusal::GaveUp)?;
    let root = tree.root_node();
    if root.has_error() {
        return Err(Refusal::Syntax(first_error_line(root)));
    }
    let mut b = Builder::default();
    let mut cursor = root.walk();
    for doc in root.named_children(&mut cursor) {
        if doc.kind() != "document" {
            continue;
        }
        let mut c = doc.walk();
        let content = doc
            .named_children(&mut c)
            .find(|n| matches!(n.kind(), "block_node" | "flow_node"));
        if let Some(content) = content {
            let id = convert(content, src, &mut b, 0)?;
            b.document(id);
        }
    }
    Ok(b.finish())
}

/// Convert a `block_node` / `flow_node` (anchor, tag and content) into the tree.
fn convert(node: Node<'_>, src: &str, b: &mut Builder, depth: usize) -> Result<usize, Refusal> {
    if depth > MAX_DEPTH {
        return Err(Refusal::TooDeep(node.start_position().row + 1));
    }
    let mut anchor = None;
    let mut content = None;
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        match child.kind() {
            "anchor" => anchor = child.named_child(0).map(|n| n.byte_range()),
            "tag" | "comment" => {}
            _ if content.is_none() => content = Some(child),
            _ => {}
        }
    }
    let id = match content {
        None => {
            let at = anchor.as_ref().map_or(node.end_byte(), |a| a.end);
            b.node(at, at, Kind::Empty)
        }
        Some(c) => convert_content(c, src, b, depth)?,
    };
    if let Some(name) = anchor {
        b.set_anchor(id, name);
    }
    Ok(id)
}

fn convert_content(
    c: Node<'_>,
    src: &str,
    b: &mut Builder,
    depth: usize,
) -> Result<usize, Refusal> {
    let range = c.byte_range();
    let id = match c.kind() {
        "block_mapping" | "flow_mapping" => {
            let flow = c.kind() == "flow_mapping";
            let mark = b.pairs_mark();
            let mut cursor = c.walk();
            for pair in c.named_children(&mut cursor) {
                if !matches!(pair.kind(), "block_mapping_pair" | "flow_pair") {
                    continue;
                }
                let key = match pair.child_by_field_name("key") {
                    Some(k) => Some(convert(k, src, b, depth + 1)?),
                    None => None,
                };
                let value = match pair.child_by_field_name("value") {
                    Some(v) => Some(convert(v, src, b, depth + 1)?),
                    None => None,
                };
                let end = match value {
                    Some(v) => b.end_of(v),
                    None => colon_end(pair).unwrap_or_else(|| pair.end_byte()),
                };
                b.pair(key, value, end);
            }
            let end = if flow {
                range.end
            } else {
                b.last_pair_end(mark).unwrap_or(range.end)
            };
            b.mapping(mark, flow, range.start, end)
        }
        "block_sequence" | "flow_sequence" => {
            let flow = c.kind() == "flow_sequence";
            let mark = b.items_mark();
            let mut cursor = c.walk();
            for child in c.named_children(&mut cursor) {
                let item = match child.kind() {
                    "block_sequence_item" => {
                        let mut ic = child.walk();
                        child
                            .named_children(&mut ic)
                            .find(|n| matches!(n.kind(), "block_node" | "flow_node"))
                    }
                    "flow_node" => Some(child),
                    _ => None,
                };
                if let Some(item) = item {
                    let id = convert(item, src, b, depth + 1)?;
                    b.item(id);
                }
            }
            let end = if flow {
                range.end
            } else {
                b.last_item_end(mark).unwrap_or(range.end)
            };
            b.sequence(mark, flow, range.start, end)
        }
        "plain_scalar" => {
            let string = c
                .named_child(0)
                .is_none_or(|inner| inner.kind() == "string_scalar");
            b.node(range.start, range.end, Kind::Plain { string })
        }
        "double_quote_scalar" => b.node(range.start, range.end, Kind::DoubleQuoted),
        "single_quote_scalar" => b.node(range.start, range.end, Kind::SingleQuoted),
        "block_scalar" => {
            // Trailing line breaks belong to the scalar's chomping, not its text.
            let end = range.start + src[range.clone()].trim_end().len();
            b.node(range.start, end, Kind::Block)
        }
        "alias" => {
            let name = c.named_child(0).map_or(range.clone(), |n| n.byte_range());
            b.node(range.start, range.end, Kind::Alias { name })
        }
        _ => b.node(range.start, range.end, Kind::Empty),
    };
    Ok(id)
}

/// The end of a pair's `:` indicator.
fn colon_end(pair: Node<'_>) -> Option<usize> {
    let mut cursor = pair.walk();
    pair.children(&mut cursor)
        .find(|c| c.kind() == ":")
        .map(|c| c.end_byte())
}

/// The line of the innermost, first syntax error: an outer `ERROR` node often starts
/// at the top of the file, the inner one where the parser actually got stuck.
fn first_error_line(root: Node<'_>) -> usize {
    let mut node = root;
    'descend: loop {
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            if child.is_error() || child.is_missing() || child.has_error() {
                node = child;
                continue 'descend;
            }
        }
        return node.start_position().row + 1;
    }
}
