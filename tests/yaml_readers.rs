//! The fast YAML reader and the complete (event parser) reader must build the same tree
//! for every text the fast one accepts — otherwise a file would be read differently
//! depending on which reader took it. Generated documents nest block mappings and
//! sequences (compact and same-indentation), flow collections, block scalars, anchors,
//! aliases, comments and CRLF; mutated copies (a YAML-significant byte inserted or one
//! removed) probe the edges: the fast reader may decline them, never disagree.

use imagepin::yaml::{fast, full};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum V {
    Scalar(String),
    Map(Vec<(String, V)>, bool),
    Seq(Vec<V>, bool),
    Flow(String),
    Block(String, Vec<String>),
}

fn scalar() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "nginx:1.25",
        "1.25",
        "true",
        "~",
        "null",
        "\"quoted: yes\"",
        "'it''s'",
        "\"esc\\\"aped\"",
        "a#b",
        "http://x/y",
        "-1",
        ".5",
        "x y z",
        "0x1F",
        "''",
        "\"\"",
        "*anc",
        "&anc redis:7",
        "ghcr.io/a/b@sha256:00",
        "<<",
        "-dash",
        "\"{{x}}\"",
    ])
    .prop_map(str::to_string)
}

fn key() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "image",
        "name",
        "\"quoted key\"",
        "'k'",
        "<<",
        "a b",
        "x-y",
        "1",
        "containers",
        "k.v",
    ])
    .prop_map(str::to_string)
}

fn flow() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "[a, b]",
        "{a: 1, \"b\": [x, {c: d}]}",
        "[]",
        "{}",
        "[a, [b, c], {d: e}]",
        "{image: nginx, tag: \"1\"}",
        "[\n    a,\n    b\n  ]",
        "{a: , b: c}",
        "[*anc, &x y]",
    ])
    .prop_map(str::to_string)
}

fn value() -> impl Strategy<Value = V> {
    let leaf = prop_oneof![
        4 => scalar().prop_map(V::Scalar),
        1 => flow().prop_map(V::Flow),
        1 => (prop::sample::select(vec!["|", ">", "|-", ">+"]), prop::collection::vec(prop::sample::select(vec!["text", "more: x", "", "# not a comment", "- item"]), 0..4))
            .prop_map(|(h, lines)| V::Block(h.to_string(), lines.into_iter().map(str::to_string).collect())),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            (
                prop::collection::vec((key(), inner.clone()), 1..4),
                any::<bool>()
            )
                .prop_map(|(p, a)| V::Map(p, a)),
            (prop::collection::vec(inner, 1..4), any::<bool>())
                .prop_map(|(i, same)| V::Seq(i, same)),
        ]
    })
}

/// Render `v` as the value following `key:` or `- ` (`inline` = on the same line).
fn render(v: &V, indent: usize, out: &mut String, comment: bool, in_map: bool) {
    let pad = " ".repeat(indent);
    let c = if comment { " # c: x" } else { "" };
    match v {
        V::Scalar(s) => out.push_str(&format!(" {s}{c}\n")),
        V::Flow(f) => out.push_str(&format!(" {}{c}\n", f.replace('\n', &format!("\n{pad}")))),
        V::Block(h, lines) => {
            out.push_str(&format!(" {h}{c}\n"));
            for l in lines {
                if l.is_empty() {
                    out.push('\n');
                } else {
                    out.push_str(&format!("{pad}  {l}\n"));
                }
            }
        }
        V::Map(pairs, anchored) => {
            out.push_str(if *anchored { " &m\n" } else { "\n" });
            for (k, v) in pairs {
                out.push_str(&format!("{pad}  {k}:"));
                render(v, indent + 2, out, !comment, true);
            }
        }
        V::Seq(items, same) => {
            out.push_str(&format!("{c}\n"));
            // Only a mapping's value may sit at the mapping's own indentation.
            let ind = if *same && in_map { indent } else { indent + 2 };
            for item in items {
                out.push_str(&format!("{}-", " ".repeat(ind)));
                render(item, ind, out, comment, false);
            }
        }
    }
}

fn document(pairs: &[(String, V)], crlf: bool) -> String {
    // Aliases must follow their anchor: one is defined first.
    let mut out = String::from("# generated\n---\nx-base: &anc base\n");
    for (k, v) in pairs {
        out.push_str(&format!("{k}:"));
        render(v, 0, &mut out, false, true);
    }
    if crlf { out.replace('\n', "\r\n") } else { out }
}

fn check(src: &str) -> Result<bool, TestCaseError> {
    let Some((fast, lenient)) = fast::read_noting_leniency(src) else {
        return Ok(false);
    };
    let full = full::read(src).ok().map(|t| t.render());
    // The fast reader's one leniency (a flow collection closed at its parent's
    // column) is past YAML's letter: the complete reader may refuse it.
    if lenient && full.is_none() {
        return Ok(false);
    }
    prop_assert_eq!(Some(fast.render()), full, "readers disagree on:\n{:?}", src);
    Ok(true)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn readers_agree_on_generated_yaml(
        pairs in prop::collection::vec((key(), value()), 1..5),
        crlf in any::<bool>(),
    ) {
        let src = document(&pairs, crlf);
        prop_assert!(check(&src)?, "the fast reader declined valid block YAML:\n{}", src);
    }

    #[test]
    fn readers_agree_or_fast_declines_on_mutations(
        pairs in prop::collection::vec((key(), value()), 1..4),
        at in any::<prop::sample::Index>(),
        byte in prop::sample::select(b" \n:-#\"'{}[],&*|>\t\r!?%".to_vec()),
        insert in any::<bool>(),
    ) {
        let mut src = document(&pairs, false).into_bytes();
        let i = at.index(src.len());
        if insert { src.insert(i, byte) } else { src.remove(i); }
        let src = String::from_utf8(src).expect("ascii");
        check(&src)?;
    }
}

#[test]
fn the_fast_reader_takes_ordinary_manifests() {
    let src = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.25 # pinned later\n        args: [\"--port\", \"80\"]\n        env:\n        - name: A\n          value: |\n            multi\n            line\n";
    assert!(
        check(src).expect("agree"),
        "fast reader declined an ordinary manifest"
    );
}
