//! The fast reader against the complete one: the corpus, small cases, what it
//! declines.

use std::path::{Path, PathBuf};

use super::*;
use crate::yaml::full;

/// Both readers, rendered; `None` where the fast one declines, or where the complete
/// one refuses what the fast one reads only by its one leniency.
fn both(src: &str) -> (Option<String>, Option<String>) {
    let full = full::read(src).ok().map(|t| t.render());
    let fast = match read_noting_leniency(src) {
        Some((_, true)) if full.is_none() => None,
        other => other.map(|(t, _)| t.render()),
    };
    (fast, full)
}

fn agree(src: &str) -> bool {
    match both(src) {
        (Some(fast), full) => {
            assert_eq!(Some(&fast), full.as_ref(), "readers disagree on:\n{src}");
            true
        }
        (None, _) => false,
    }
}

fn corpus_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("corpus dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            corpus_files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(path);
        }
    }
}

#[test]
fn agrees_with_the_complete_reader_on_the_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut files = Vec::new();
    corpus_files(&root, &mut files);
    let (mut read_bytes, mut declined_bytes) = (0usize, 0usize);
    let mut declined = Vec::new();
    for path in &files {
        let Ok(src) = std::fs::read_to_string(path) else {
            continue;
        };
        let src = src.strip_prefix('\u{feff}').unwrap_or(&src);
        let (fast, full) = both(src);
        match fast {
            Some(fast) => {
                assert_eq!(
                    Some(&fast),
                    full.as_ref(),
                    "readers disagree on {}",
                    path.display()
                );
                read_bytes += src.len();
            }
            None if full.is_some() => {
                declined_bytes += src.len();
                declined.push(path.display().to_string());
            }
            None => {}
        }
    }
    eprintln!(
        "fast reader declined {} files ({declined_bytes} bytes): {declined:#?}",
        declined.len()
    );
    // The point of the fast reader: it must take nearly all real YAML.
    assert!(
        declined_bytes * 10 < read_bytes,
        "fast reader read {read_bytes} bytes, declined {declined_bytes}"
    );
}

#[test]
fn small_cases_agree() {
    let cases = [
        "a: 1\nb: [x, \"y\", 'z']\nc: {d: e, \"f\": g}\n",
        "containers:\n- name: a\n  image: nginx:1.25 # web\n  args:\n  - x\n- name: b\n",
        "x: &a nginx\ny: *a\nz: &m\n  k: v\n",
        "a: |\n  text\n   more\n\nb: >-\n  folded\n",
        "a:\r\n  - b: c\r\n    d: 'e'\r\n",
        "---\na: 1\n---\n# c\nb: 2\n...\n",
        "{\"a\": {\"b\": [1, 2, {\"c\": \"d\"}]},\n \"e\": null}\n",
        "k: v\n  # indented comment\nl: ''\n",
        "- - a\n  - b\n- c\n",
        "a: \"x\\\"y\"\nb: 'it''s'\n",
        "a: \"tab\\t nl\\n \\x41 \\u00e9 \\U0001F600 \\\\ \\/\"\n",
        "empty:\nnext: 1\n",
        // Found by fuzzing: block scalar content ending in U+00A0 (not YAML white space).
        "a: |\n  x\u{a0}\nb: 1\n",
        // Found by fuzzing: a sequence opening the document after a `...`.
        "a:\n...\n  - b\n",
        // Found by fuzzing: block scalar content that starts like an anchor or a tag.
        "a: >-\n  &&& x\nb: |\n  !t y\n",
        // Found by fuzzing: tabs alone after `:` in a flow mapping.
        "- {a:\tb}\n",
        "{\n= :\t0+ k}\n",
    ];
    for src in cases {
        assert!(agree(src), "fast reader declined:\n{src}");
    }
}

#[test]
fn declines_what_it_does_not_read() {
    for src in [
        "a: !!str x\n",
        "? complex\n: key\n",
        "%YAML 1.2\n---\na: 1\n",
        "a:\n\tb: 1\n",
        "a: multi\n  line\n",
        "a: \"open\n  quote\"\n",
        "--- a: 1\n",
        "{{- if .Values.x }}\na: 1\n{{- end }}\n",
        "a: b: c\n",
        "a:\n  b: 1\n c: 2\n",
        // Found by fuzzing: characters YAML does not allow, which tree-sitter refuses.
        "a: x\u{7f}y\n",
        "a: x\u{85}y\n",
        "a: x\u{9f}y\n",
        "a: x\u{feff}y\n",
        "a: x\u{fffe}\n",
        "-\t -\t +",
        "{a: 1, image:{ reference: x }}\n",
        "a:\n  TRUE\t: po\n",
        "a: [\"f\\zrom\"]\n",
        "a: \"\\x4\"\n",
        // Found by fuzzing: a tab where a block scalar's indentation is.
        "a: |\n  x\n\t\n  y\n",
        // Found by fuzzing: an implicit key longer than YAML's 1024 characters.
        &format!("{}: 1\n", "k ".repeat(600)),
        &format!("{{{}: 1}}\n", "k ".repeat(600)),
        // Found by fuzzing: ` -` ending a plain scalar in flow context.
        "a: [40- -, 41]\n",
        // Found by fuzzing: an anchor on an alias.
        "x: &b\n  k: v\ny: &a *b\nz: [&c *b]\n",
        "x: &b\n  k: v\ny: &a\n  *b\n",
        "x: &b\n  k: v\ny:\n- &a\n  *b\n",
    ] {
        assert!(read(src).is_none(), "should decline:\n{src}");
    }
}
