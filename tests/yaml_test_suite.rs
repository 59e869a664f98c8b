//! The YAML test suite's valid cases (`testdata/yaml-test-suite/`, with its licence):
//! the YAML layer reads every one of them, document by document as it reads files,
//! and every scalar it places is exactly the suite's value: decoded from the bytes of
//! its span, it is what the suite's event tree says, in order. An `image:` value is
//! such a scalar, so its span covers exactly the value's bytes. Where the fast reader
//! takes a case, it builds the same tree as the complete reader.

use imagepin::yaml::tree::{Kind, Node, Tree};
use imagepin::yaml::{self, fast, full};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    id: String,
    #[serde(default)]
    name: String,
    yaml: String,
    tree: String,
}

fn cases() -> Vec<Case> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/yaml-test-suite/valid.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

/// The suite's escapes in event values.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('0') => out.push('\0'),
            Some('a') => out.push('\u{7}'),
            Some('v') => out.push('\u{b}'),
            Some('f') => out.push('\u{c}'),
            Some('e') => out.push('\u{1b}'),
            Some('N') => out.push('\u{85}'),
            Some('_') => out.push('\u{a0}'),
            Some('L') => out.push('\u{2028}'),
            Some('P') => out.push('\u{2029}'),
            Some(x @ ('x' | 'u' | 'U')) => {
                let n = match x {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = chars.by_ref().take(n).collect();
                let code = u32::from_str_radix(&hex, 16).expect("hex escape");
                out.push(char::from_u32(code).expect("char"));
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// (style, value) of each scalar and alias event with content, in order.
fn expected(tree: &str) -> Vec<(char, String)> {
    let mut out = Vec::new();
    for line in tree.lines().map(str::trim_start) {
        if let Some(name) = line.strip_prefix("=ALI *") {
            out.push(('*', name.to_string()));
            continue;
        }
        let Some(mut rest) = line.strip_prefix("=VAL ") else {
            continue;
        };
        // Properties: `&anchor ` and `<tag> `.
        while rest.starts_with('&') || rest.starts_with('<') {
            rest = rest.split_once(' ').map_or("", |(_, r)| r);
        }
        let mut chars = rest.chars();
        let style = chars.next().expect("style");
        let value = unescape(chars.as_str());
        // An empty plain value is no node at all (or an anchor alone).
        if style == ':' && value.is_empty() {
            continue;
        }
        out.push((style, value));
    }
    out
}

fn non_blank(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
        .collect()
}

/// (style, value read from the span) of each scalar and alias node, in order. A block
/// scalar's value is given by its non-blank characters (its content is verbatim but
/// for indentation and line breaks).
fn actual(tree: &Tree, src: &str, out: &mut Vec<(char, String)>) {
    fn walk(n: Node<'_>, tree: &Tree, src: &str, out: &mut Vec<(char, String)>) {
        let d = n.data();
        let text = |r: std::ops::Range<usize>| {
            tree.decoded_at(&r)
                .map_or_else(|| src[r].to_string(), str::to_string)
        };
        match &d.kind {
            Kind::Mapping { .. } => {
                for p in n.pair_list() {
                    if let Some(k) = p.key() {
                        walk(k, tree, src, out);
                    }
                    if let Some(v) = p.value() {
                        walk(v, tree, src, out);
                    }
                }
            }
            Kind::Sequence { .. } => n.item_list().for_each(|i| walk(i, tree, src, out)),
            Kind::Plain { .. } => out.push((':', text(d.start..d.end))),
            Kind::SingleQuoted => out.push(('\'', text(d.start + 1..d.end - 1))),
            Kind::DoubleQuoted => out.push(('"', text(d.start + 1..d.end - 1))),
            Kind::Block { .. } => {
                let header = src.as_bytes()[d.start] as char;
                let content = src[d.start..d.end].split_once('\n').map_or("", |(_, c)| c);
                out.push((header, non_blank(content)));
            }
            Kind::Alias { name } => out.push(('*', src[name.clone()].to_string())),
            Kind::Empty => {}
        }
    }
    for doc in tree.documents() {
        walk(doc, tree, src, out);
    }
}

#[test]
fn every_valid_case_is_read_with_exact_spans() {
    let cases = cases();
    assert!(
        cases.len() > 300,
        "the fixture holds the suite's valid cases"
    );
    let mut failures = Vec::new();
    let mut fast_taken = 0;
    for case in &cases {
        let src = case.yaml.as_str();
        let mut got = Vec::new();
        let errors = yaml::read_documents(src, &mut |tree| actual(tree, src, &mut got));
        let mut want = expected(&case.tree);
        for (style, value) in want.iter_mut() {
            if matches!(style, '|' | '>') {
                *value = non_blank(value);
            }
        }
        if !errors.is_empty() {
            failures.push(format!("{} ({}): refused: {errors:?}", case.id, case.name));
        } else if got != want {
            failures.push(format!(
                "{} ({}):\n  read {got:?}\n  want {want:?}",
                case.id, case.name
            ));
        }
        if let Some((tree, lenient)) = fast::read_noting_leniency(src) {
            let complete = full::read(src).ok().map(|t| t.render());
            if !(lenient && complete.is_none()) {
                fast_taken += 1;
                if Some(tree.render()) != complete {
                    failures.push(format!("{}: the fast reader reads it otherwise", case.id));
                }
            }
        }
    }
    eprintln!(
        "{} valid cases read; the fast reader took {fast_taken}",
        cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
