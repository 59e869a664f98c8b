//! The YAML document model the format rules read: mappings, sequences, scalars and
//! aliases with exact byte spans into the file, the comments between them, and the
//! decoded value of every scalar whose text is not its value (escapes, folded lines).
//! Two readers build it — `fast` for the block YAML nearly every manifest is written
//! in, and `full` (an event parser) for everything else — so the rules never depend
//! on which one read the file. The query helpers at the bottom are the rules' whole
//! vocabulary.

use std::fmt::Write;
use std::ops::Range;

/// One node: its content's span (quotes included; anchors and tags excluded), the
/// name span of an anchor on it, and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeData {
    pub start: usize,
    pub end: usize,
    pub anchor: Option<Range<usize>>,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Pairs are `pairs[first..first + len]`.
    Mapping {
        flow: bool,
        first: usize,
        len: usize,
    },
    /// Items are `items[first..first + len]`.
    Sequence {
        flow: bool,
        first: usize,
        len: usize,
    },
    /// A plain scalar; `string` is false for null, booleans and numbers (core schema).
    Plain {
        string: bool,
    },
    SingleQuoted,
    DoubleQuoted,
    /// A `|` or `>` scalar (the span runs from the indicator to its last content
    /// byte). `line`: the span of its content when that is one line (trimmed), the
    /// only shape in which it can hold a reference.
    Block {
        line: Option<Range<usize>>,
    },
    /// `*name`; the span is the alias's.
    Alias {
        name: Range<usize>,
    },
    /// An anchor with no content.
    Empty,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairData {
    pub key: Option<usize>,
    pub value: Option<usize>,
    /// Where the pair's text ends: its value's end, or just after the `:`.
    pub end: usize,
}

/// Every document of a stream that has content.
#[derive(Debug, Default)]
pub struct Tree {
    nodes: Vec<NodeData>,
    pairs: Vec<PairData>,
    items: Vec<usize>,
    docs: Vec<usize>,
    /// Every comment (`#` to the end of its line), in text order.
    comments: Vec<Range<usize>>,
    /// Scalars whose text is not their value (escapes, `''`, folded lines): the span
    /// inside the quotes and the value, in text order.
    decoded: Vec<(Range<usize>, String)>,
}

/// Builds a [`Tree`] bottom-up: children are added before the collection that holds
/// them is closed, so both parsers can build in a single pass.
#[derive(Default)]
pub struct Builder {
    tree: Tree,
    open_pairs: Vec<PairData>,
    open_items: Vec<usize>,
}

/// Marks where a collection's children begin on the builder's stacks.
#[derive(Clone, Copy)]
pub struct Mark(usize);

impl Builder {
    pub fn node(&mut self, start: usize, end: usize, kind: Kind) -> usize {
        self.tree.nodes.push(NodeData {
            start,
            end,
            anchor: None,
            kind,
        });
        self.tree.nodes.len() - 1
    }

    pub fn set_anchor(&mut self, id: usize, name: Range<usize>) {
        self.tree.nodes[id].anchor = Some(name);
    }

    pub fn is_alias(&self, id: usize) -> bool {
        matches!(self.tree.nodes[id].kind, Kind::Alias { .. })
    }

    pub fn end_of(&self, id: usize) -> usize {
        self.tree.nodes[id].end
    }

    pub fn pairs_mark(&self) -> Mark {
        Mark(self.open_pairs.len())
    }

    pub fn items_mark(&self) -> Mark {
        Mark(self.open_items.len())
    }

    pub fn pair(&mut self, key: Option<usize>, value: Option<usize>, end: usize) {
        self.open_pairs.push(PairData { key, value, end });
    }

    pub fn item(&mut self, id: usize) {
        self.open_items.push(id);
    }

    /// The end of the last pair opened since `mark`.
    pub fn last_pair_end(&self, mark: Mark) -> Option<usize> {
        self.open_pairs[mark.0..].last().map(|p| p.end)
    }

    pub fn last_item_end(&self, mark: Mark) -> Option<usize> {
        self.open_items[mark.0..]
            .last()
            .map(|&i| self.tree.nodes[i].end)
    }

    pub fn mapping(&mut self, mark: Mark, flow: bool, start: usize, end: usize) -> usize {
        let first = self.tree.pairs.len();
        self.tree.pairs.extend(self.open_pairs.drain(mark.0..));
        let len = self.tree.pairs.len() - first;
        self.node(start, end, Kind::Mapping { flow, first, len })
    }

    pub fn sequence(&mut self, mark: Mark, flow: bool, start: usize, end: usize) -> usize {
        let first = self.tree.items.len();
        self.tree.items.extend(self.open_items.drain(mark.0..));
        let len = self.tree.items.len() - first;
        self.node(start, end, Kind::Sequence { flow, first, len })
    }

    pub fn document(&mut self, root: usize) {
        self.tree.docs.push(root);
    }

    /// A comment starting at `start` (a `#`), to the end of its line.
    pub fn comment(&mut self, src: &[u8], start: usize) {
        self.tree.comments.push(comment_at(src, start));
    }

    /// The value of a scalar whose text (at `span`, inside any quotes) is not its value.
    pub fn decoded(&mut self, span: Range<usize>, value: String) {
        self.tree.decoded.push((span, value));
    }

    pub fn finish(mut self) -> Tree {
        // Readers may meet a comment twice (looking ahead for the next line).
        self.tree.comments.sort_by_key(|c| c.start);
        self.tree.comments.dedup();
        self.tree.decoded.sort_by_key(|d| d.0.start);
        self.tree
    }
}

/// The span of a comment starting at `start`: to the end of its line (a `\r` before
/// the line break excluded).
pub fn comment_at(src: &[u8], start: usize) -> Range<usize> {
    let mut end = memchr::memchr(b'\n', &src[start..]).map_or(src.len(), |n| start + n);
    if end > start && src[end - 1] == b'\r' {
        end -= 1;
    }
    start..end
}

/// A node of a [`Tree`].
#[derive(Clone, Copy)]
pub struct Node<'t> {
    tree: &'t Tree,
    id: usize,
}

/// A mapping pair of a [`Tree`].
#[derive(Clone, Copy)]
pub struct Pair<'t> {
    tree: &'t Tree,
    data: &'t PairData,
}

impl Tree {
    /// The root node of each document, in order.
    pub fn documents(&self) -> impl Iterator<Item = Node<'_>> {
        self.docs.iter().map(|&id| Node { tree: self, id })
    }

    /// Every comment, in text order.
    pub fn comments(&self) -> &[Range<usize>] {
        &self.comments
    }

    /// The value of the scalar written at exactly `span` (inside any quotes), when it
    /// differs from the text there.
    pub fn decoded_at(&self, span: &Range<usize>) -> Option<&str> {
        let i = self.decoded.partition_point(|d| d.0.start < span.start);
        self.decoded
            .get(i)
            .filter(|d| d.0 == *span)
            .map(|d| d.1.as_str())
    }

    /// Whether `span` lies inside a scalar whose text is not its value.
    pub fn inside_decoded(&self, span: &Range<usize>) -> bool {
        let i = self.decoded.partition_point(|d| d.0.start <= span.start);
        i > 0 && self.decoded[i - 1].0.end >= span.end
    }

    /// Read every flow mapping written `{{ … }}` in `src` (the text the tree was read
    /// from) as the plain string a template engine sees there: `image: {{ .Values.image }}`
    /// is valid YAML (a mapping in a mapping), but it stands for a value that is only
    /// known once the template is rendered, so the rules see a string with `{{` in it
    /// (a `templated` reference) rather than a mapping that holds no image.
    pub fn templates_as_strings(&mut self, src: &str) {
        for n in &mut self.nodes {
            if matches!(n.kind, Kind::Mapping { flow: true, .. })
                && src
                    .get(n.start..n.end)
                    .is_some_and(|t| t.starts_with("{{") && t.ends_with("}}"))
            {
                n.kind = Kind::Plain { string: true };
            }
        }
    }

    /// Move every span `by` bytes on: a tree read from a slice of a text, placed in
    /// the whole text.
    pub fn shift(&mut self, by: usize) {
        if by != 0 {
            self.map_positions(|p| p + by);
        }
    }

    /// Move every position through `f` (which must keep their order).
    pub fn map_positions(&mut self, f: impl Fn(usize) -> usize) {
        let r = |r: &mut Range<usize>| {
            r.start = f(r.start);
            r.end = f(r.end);
        };
        for n in &mut self.nodes {
            n.start = f(n.start);
            n.end = f(n.end);
            n.anchor.as_mut().map(r);
            match &mut n.kind {
                Kind::Alias { name } => r(name),
                Kind::Block { line: Some(line) } => r(line),
                _ => {}
            }
        }
        for p in &mut self.pairs {
            p.end = f(p.end);
        }
        self.comments.iter_mut().for_each(r);
        self.decoded.iter_mut().for_each(|d| r(&mut d.0));
    }

    /// A canonical text of the whole tree, independent of build order: two parsers
    /// agree on a file exactly when their renderings are equal.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for doc in self.documents() {
            out.push_str("---\n");
            doc.render(0, &mut out);
        }
        for c in &self.comments {
            let _ = writeln!(out, "# {}..{}", c.start, c.end);
        }
        for (span, value) in &self.decoded {
            let _ = writeln!(out, "= {}..{} {value:?}", span.start, span.end);
        }
        out
    }
}

impl<'t> Node<'t> {
    pub fn data(&self) -> &'t NodeData {
        &self.tree.nodes[self.id]
    }

    pub fn kind(&self) -> &'t Kind {
        &self.data().kind
    }

    pub fn start_byte(&self) -> usize {
        self.data().start
    }

    pub fn end_byte(&self) -> usize {
        self.data().end
    }

    /// The pair data of a mapping node (empty for anything else).
    pub fn pair_list(self) -> impl DoubleEndedIterator<Item = Pair<'t>> + 't {
        let tree = self.tree;
        let range = match self.data().kind {
            Kind::Mapping { first, len, .. } => first..first + len,
            _ => 0..0,
        };
        tree.pairs[range]
            .iter()
            .map(move |data| Pair { tree, data })
    }

    /// The items of a sequence node (empty for anything else).
    pub fn item_list(self) -> impl DoubleEndedIterator<Item = Node<'t>> + 't {
        let tree = self.tree;
        let range = match self.data().kind {
            Kind::Sequence { first, len, .. } => first..first + len,
            _ => 0..0,
        };
        tree.items[range].iter().map(move |&id| Node { tree, id })
    }

    fn render(&self, depth: usize, out: &mut String) {
        let d = self.data();
        let pad = "  ".repeat(depth);
        let anchor = d
            .anchor
            .as_ref()
            .map(|a| format!(" &{}..{}", a.start, a.end))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{pad}{:?} {}..{}{anchor}",
            d.kind_name(),
            d.start,
            d.end
        );
        for pair in self.pair_list() {
            let _ = writeln!(out, "{pad} pair ..{}", pair.data.end);
            match pair.key() {
                Some(k) => k.render(depth + 1, out),
                None => out.push_str(&format!("{pad}  (no key)\n")),
            }
            match pair.value() {
                Some(v) => v.render(depth + 1, out),
                None => out.push_str(&format!("{pad}  (no value)\n")),
            }
        }
        for item in self.item_list() {
            item.render(depth + 1, out);
        }
    }
}

impl NodeData {
    fn kind_name(&self) -> String {
        match &self.kind {
            Kind::Mapping { flow, .. } => format!("mapping flow={flow}"),
            Kind::Sequence { flow, .. } => format!("sequence flow={flow}"),
            Kind::Alias { name } => format!("alias {}..{}", name.start, name.end),
            other => format!("{other:?}"),
        }
    }
}

impl<'t> Pair<'t> {
    pub fn key(&self) -> Option<Node<'t>> {
        self.data.key.map(|id| Node {
            tree: self.tree,
            id,
        })
    }

    pub fn value(&self) -> Option<Node<'t>> {
        self.data.value.map(|id| Node {
            tree: self.tree,
            id,
        })
    }

    /// Where the pair's text ends (its value's end, or just after the `:`).
    pub fn end_byte(&self) -> usize {
        self.data.end
    }

    /// Where the pair begins: its key's first byte.
    pub fn start_byte(&self) -> Option<usize> {
        self.key().map(|k| k.start_byte())
    }
}

/// The span of a string scalar's text (quotes stripped; a block scalar's one line of
/// content; empty strings, numbers, booleans and null are not references).
pub fn scalar_span(node: Node<'_>) -> Option<Range<usize>> {
    let d = node.data();
    let span = match &d.kind {
        Kind::Plain { string: true } => d.start..d.end,
        Kind::SingleQuoted | Kind::DoubleQuoted if d.end >= d.start + 2 => d.start + 1..d.end - 1,
        Kind::Block { line: Some(line) } => line.clone(),
        _ => return None,
    };
    (!span.is_empty()).then_some(span)
}

/// The text of a string scalar key (quotes stripped).
pub fn scalar_text<'s>(node: Node<'_>, src: &'s str) -> Option<&'s str> {
    scalar_span(node).map(|r| &src[r])
}

/// The span of any scalar value (inside quotes; numbers and empty quoted strings
/// too), for fields such as `newTag: 1.25` or `digest: ""`.
pub fn value_span(node: Node<'_>) -> Option<Range<usize>> {
    let d = node.data();
    match d.kind {
        Kind::Plain { .. } => Some(d.start..d.end),
        Kind::SingleQuoted | Kind::DoubleQuoted if d.end >= d.start + 2 => {
            Some(d.start + 1..d.end - 1)
        }
        _ => None,
    }
}

/// The anchor name on a node.
pub fn anchor_name<'s>(node: Node<'_>, src: &'s str) -> Option<&'s str> {
    node.data().anchor.clone().map(|r| &src[r])
}

/// The name an alias node refers to.
pub fn alias_name<'s>(node: Node<'_>, src: &'s str) -> Option<&'s str> {
    match &node.data().kind {
        Kind::Alias { name } => Some(&src[name.clone()]),
        _ => None,
    }
}

/// The pairs of a mapping node with a string key: (key text, pair, value node).
pub fn pairs<'t, 's>(
    node: Node<'t>,
    src: &'s str,
) -> impl DoubleEndedIterator<Item = (&'s str, Pair<'t>, Option<Node<'t>>)> + use<'t, 's> {
    node.pair_list()
        .filter_map(move |p| Some((scalar_text(p.key()?, src)?, p, p.value())))
}

/// The value node of `key` in a mapping node.
pub fn get<'t>(node: Node<'t>, src: &str, key: &str) -> Option<Node<'t>> {
    node.pair_list()
        .find(|p| p.key().and_then(|k| scalar_text(k, src)) == Some(key))
        .and_then(|p| p.value())
}

/// The item nodes of a sequence node.
pub fn items(node: Node<'_>) -> impl DoubleEndedIterator<Item = Node<'_>> {
    node.item_list()
}

/// One step of a depth-first walk in document order: a node, or a mapping pair (met
/// before its key and value). Walks keep a stack of steps, so deep nesting is fine.
#[derive(Clone, Copy)]
pub enum Step<'t> {
    Node(Node<'t>),
    Pair(Pair<'t>),
}

impl<'t> Step<'t> {
    /// Hand the steps that follow this one, last first, to `push` (onto a stack).
    pub fn children_rev(self, mut push: impl FnMut(Step<'t>)) {
        match self {
            Step::Node(node) => {
                node.pair_list().rev().for_each(|p| push(Step::Pair(p)));
                node.item_list().rev().for_each(|i| push(Step::Node(i)));
            }
            Step::Pair(pair) => {
                pair.value().into_iter().for_each(|v| push(Step::Node(v)));
                pair.key().into_iter().for_each(|k| push(Step::Node(k)));
            }
        }
    }
}

/// Every mapping pair with a string key in a subtree, in document order: (key text,
/// value).
pub fn all_pairs<'t, 's>(root: Node<'t>, src: &'s str) -> Vec<(&'s str, Node<'t>)> {
    let mut out = Vec::new();
    let mut stack = vec![Step::Node(root)];
    while let Some(step) = stack.pop() {
        if let Step::Pair(pair) = step
            && let (Some(key), Some(value)) =
                (pair.key().and_then(|k| scalar_text(k, src)), pair.value())
        {
            out.push((key, value));
        }
        step.children_rev(|c| stack.push(c));
    }
    out
}

/// The text of a mapping's scalar field, unless empty or null (`""`, `null`, `~`).
pub fn field_text<'s>(node: Node<'_>, src: &'s str, key: &str) -> Option<&'s str> {
    get(node, src, key)
        .and_then(value_span)
        .map(|s| &src[s])
        .filter(|t| !t.is_empty() && !matches!(*t, "null" | "Null" | "NULL" | "~"))
}

/// Whether a node is a mapping.
pub fn is_mapping(node: Node<'_>) -> bool {
    matches!(node.kind(), Kind::Mapping { .. })
}

/// Whether a node is a `{…}` mapping.
pub fn is_flow_mapping(node: Node<'_>) -> bool {
    matches!(node.kind(), Kind::Mapping { flow: true, .. })
}

/// `name[:tag][@digest]`: the reference that split fields (Helm, Kustomize) make.
pub fn assemble(name: &str, tag: Option<&str>, digest: Option<&str>) -> String {
    let mut text = name.to_string();
    if let Some(tag) = tag {
        text.push(':');
        text.push_str(tag);
    }
    if let Some(digest) = digest {
        text.push('@');
        text.push_str(digest);
    }
    text
}

/// Whether a plain scalar is a string in the YAML 1.2 core schema (not null, a
/// boolean, an integer or a float).
pub fn plain_is_string(text: &str) -> bool {
    // Most plain scalars are words: only these first bytes can start anything else.
    let Some(&first) = text.as_bytes().first() else {
        return false;
    };
    if !matches!(
        first,
        b'0'..=b'9' | b'+' | b'-' | b'.' | b'~' | b'n' | b'N' | b't' | b'T' | b'f' | b'F'
    ) {
        return true;
    }
    !(is_null(text) || is_bool(text) || is_int(text) || is_float(text))
}

fn is_null(t: &str) -> bool {
    matches!(t, "~" | "null" | "Null" | "NULL")
}

fn is_bool(t: &str) -> bool {
    matches!(t, "true" | "True" | "TRUE" | "false" | "False" | "FALSE")
}

fn digits(t: &str, radix: u32) -> bool {
    !t.is_empty() && t.chars().all(|c| c.is_digit(radix))
}

fn is_int(t: &str) -> bool {
    if let Some(oct) = t.strip_prefix("0o") {
        return digits(oct, 8);
    }
    if let Some(hex) = t.strip_prefix("0x") {
        return digits(hex, 16);
    }
    digits(t.strip_prefix(['-', '+']).unwrap_or(t), 10)
}

fn is_float(t: &str) -> bool {
    if matches!(t, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let unsigned = t.strip_prefix(['-', '+']).unwrap_or(t);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    // (\.[0-9]+ | [0-9]+(\.[0-9]*)?) ([eE][-+]?[0-9]+)?
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac, 10),
        Some((int, frac)) => digits(int, 10) && (frac.is_empty() || digits(frac, 10)),
        None => digits(mantissa, 10),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e), 10));
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_schema() {
        for s in [
            "nginx",
            "1.25-alpine",
            "v1",
            "yes",
            "0x",
            "1.2.3",
            "+",
            ".",
            "e5",
            "0o9",
        ] {
            assert!(plain_is_string(s), "{s}");
        }
        for s in [
            "", "~", "null", "True", "12", "-3", "0o17", "0xFF", "1.25", "1.", ".5", "1e3",
            "-1.5E-3", ".inf", "-.Inf", ".NaN",
        ] {
            assert!(!plain_is_string(s), "{s}");
        }
    }
}
