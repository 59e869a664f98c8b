//! Property tests: YAML documents generated with image values in every style (plain,
//! single- and double-quoted, flow mappings, anchors and aliases, comments, CRLF, several
//! documents) are pinned by splicing at the scanned spans. The result re-scans to the
//! same references, all pinned; the bytes outside the edits are untouched; pinning again
//! is a no-op. And reference text round-trips through the parser.

use std::path::Path;

use imagepin::commands::fix::pin_edit;
use imagepin::finding::Status;
use imagepin::reference::Reference;
use imagepin::rewrite;
use imagepin::scan::{FileKind, scan_source};
use proptest::prelude::*;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn image() -> impl Strategy<Value = String> {
    let registry = prop::sample::select(vec![
        "",
        "ghcr.io/",
        "localhost:5000/",
        "registry.example.com:8443/",
    ]);
    let path = prop::sample::select(vec!["nginx", "org/app", "a/b-c/d_e", "library/redis"]);
    let tag = prop::option::of(prop::sample::select(vec![
        "1.25",
        "latest",
        "v1.2.3-rc_1",
        "3",
    ]));
    (registry, path, tag).prop_map(|(r, p, t)| match t {
        Some(t) => format!("{r}{p}:{t}"),
        None => format!("{r}{p}"),
    })
}

/// One `image:` entry in a random style.
fn entry() -> impl Strategy<Value = (u8, String, bool)> {
    (0u8..5, image(), any::<bool>())
}

fn render(entries: &[(u8, String, bool)], crlf: bool, docs: usize) -> String {
    let mut out = String::new();
    for d in 0..docs {
        if d > 0 {
            out.push_str("---\n");
        }
        out.push_str("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n");
        for (i, (style, img, comment)) in entries.iter().enumerate() {
            let c = if *comment {
                " # note: image: not-this"
            } else {
                ""
            };
            let line = match style {
                0 => format!("  - name: c{i}\n    image: {img}{c}\n"),
                1 => format!("  - name: c{i}\n    image: '{img}'{c}\n"),
                2 => format!("  - name: c{i}\n    image: \"{img}\"{c}\n"),
                3 => format!("  - {{name: c{i}, image: {img}}}{c}\n"),
                _ => format!(
                    "  - name: c{i}\n    image: &a{d}x{i} {img}{c}\n  - name: alias{i}\n    image: *a{d}x{i}\n"
                ),
            };
            out.push_str(&line);
        }
    }
    if crlf { out.replace('\n', "\r\n") } else { out }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn pinning_changes_only_the_spans_and_is_idempotent(
        entries in prop::collection::vec(entry(), 1..6),
        crlf in any::<bool>(),
        docs in 1usize..3,
    ) {
        let src = render(&entries, crlf, docs);
        let path = Path::new("pod.yaml");
        let findings = scan_source(path, &src, FileKind::Yaml).expect("parses");
        prop_assert_eq!(findings.len(), entries.len() * docs, "one finding per entry (aliases point at the anchor)");
        let edits: Vec<_> = findings
            .iter()
            .filter(|f| f.status.needs_pin())
            .map(|f| pin_edit(f, DIGEST).expect("inline").0)
            .collect();
        let pinned = rewrite::apply(&src, &edits).expect("edits apply");

        // Only insertions at the edit offsets: removing them gives the input back.
        let mut restored = pinned.clone();
        let mut sorted = edits.clone();
        sorted.sort_by_key(|e| std::cmp::Reverse(e.span.start));
        let mut shift: usize = edits.iter().map(|e| e.replacement.len()).sum();
        for e in &sorted {
            shift -= e.replacement.len();
            let at = e.span.start + shift;
            prop_assert_eq!(&restored[at..at + e.replacement.len()], e.replacement.as_str());
            restored.replace_range(at..at + e.replacement.len(), "");
        }
        prop_assert_eq!(&restored, &src);

        let again = scan_source(path, &pinned, FileKind::Yaml).expect("re-parses");
        prop_assert_eq!(again.len(), findings.len());
        prop_assert!(again.iter().all(|f| f.status == Status::Pinned));
        prop_assert_eq!(pinned.matches("\r\n").count(), src.matches("\r\n").count());
    }

    #[test]
    fn references_round_trip(img in image(), digest in any::<bool>()) {
        let text = if digest { format!("{img}@{DIGEST}") } else { img.clone() };
        let r = Reference::parse(&text).expect("valid");
        // The name ends where a tag's `:` stands (a `:` before the last `/` is a port).
        let name = match img.rfind(':') {
            Some(i) if !img[i..].contains('/') => &img[..i],
            _ => img.as_str(),
        };
        prop_assert_eq!(&text[..r.name_end], name);
        prop_assert_eq!(r.digest.as_deref(), digest.then_some(DIGEST));
        prop_assert_eq!(r.tag.as_deref(), r.tag_span.clone().map(|s| &text[s]));
    }
}
