//! The generic rule: in any YAML document, the value of every mapping key `image`
//! that is a string scalar (plain, quoted, flow or block context, anchored, or an
//! alias — then the anchor's definition is reported, once). Keys under `annotations`
//! and `labels` describe something else and are never images; each kind of document
//! adds its own such keys (environment variables, step inputs).

use std::collections::HashMap;
use std::ops::Range;

use super::Candidate;
use crate::finding::Format;
use crate::yaml::tree::{Node, Step, alias_name, anchor_name, scalar_span, scalar_text};

/// The generic rule: every `image` key with a string scalar value, anchors followed.
pub fn image_fields(
    root: Node<'_>,
    src: &str,
    format: Format,
    excluded_parents: &[&str],
    out: &mut Vec<Candidate>,
) {
    // Anchors seen so far in this document: name → span of the anchored scalar.
    let mut anchors: HashMap<&str, Range<usize>> = HashMap::new();
    // Depth-first, in document order. A pair is checked when the walk reaches it, so
    // an alias sees every anchor written before it; the flag says whether an excluded
    // key is above.
    let mut stack = vec![(Step::Node(root), false)];
    while let Some((step, excluded)) = stack.pop() {
        let mut below = excluded;
        match step {
            Step::Node(node) => {
                if let Some(name) = anchor_name(node, src)
                    && let Some(span) = scalar_span(node)
                {
                    anchors.insert(name, span);
                }
            }
            Step::Pair(pair) => {
                let key = pair.key().and_then(|k| scalar_text(k, src));
                below = excluded || key.is_some_and(|k| excluded_parents.contains(&k));
                if key == Some("image")
                    && !below
                    && let Some(value) = pair.value()
                {
                    let span = scalar_span(value)
                        .or_else(|| alias_name(value, src).and_then(|a| anchors.get(a).cloned()));
                    if let Some(span) = span
                        && !(format == Format::Yaml && looks_like_file(&src[span.clone()]))
                    {
                        out.push(Candidate::inline(span, format));
                    }
                }
            }
        }
        step.children_rev(|c| stack.push((c, below)));
    }
}

/// In YAML that is not a known container format, `image:` often names a picture or a
/// URL (site generators, docs tools). Those are not container images.
pub(super) fn looks_like_file(text: &str) -> bool {
    const PICTURES: [&str; 8] = [
        ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico", ".bmp",
    ];
    let lower = text.to_ascii_lowercase();
    lower.contains("://")
        || lower.starts_with('/')
        || lower.starts_with("./")
        || lower.starts_with("../")
        || PICTURES.iter().any(|ext| lower.ends_with(ext))
}
