//! HCL's JSON syntax (`*.tf.json`, `docker-bake.json`) into the [`Body`] model, read by
//! the YAML layer (JSON is YAML), which keeps exact spans. JSON does not say which
//! keys are blocks: an object value is taken as a block (labels are the keys of the
//! levels a block type has: `resource` → type → name, `variable` and `target` → name),
//! except the one object attribute the rules read (Bake's `contexts`). A string with
//! `${…}` is a template.

use std::ops::Range;

use super::{Block, Body, Expr, Part, Refusal};
use crate::scan::detect::HclDialect;
use crate::yaml;
use crate::yaml::tree::{Node, is_mapping, items, pairs, scalar_span};

/// Read a file, collecting the span of every comment (JSON has none, but the YAML
/// layer reads `#` ones); a syntax error refuses it with its line.
pub fn read(
    src: &str,
    dialect: HclDialect,
    comments: &mut Vec<Range<usize>>,
) -> Result<Body, Refusal> {
    let mut found: Option<Body> = None;
    let read = yaml::read_each(src, &mut || {}, &mut |tree| {
        comments.extend_from_slice(tree.comments());
        if let Some(root) = tree.documents().next() {
            found = Some(object_body(root, src, dialect, 0));
        }
    });
    match read {
        Ok(()) => Ok(found.unwrap_or_default()),
        Err(e) => Err((e.line(), "does not parse as JSON; skipped".into())),
    }
}

/// How many label levels a top-level block type has.
fn label_levels(ident: &str, dialect: HclDialect) -> usize {
    match (dialect, ident) {
        (HclDialect::Terraform, "resource" | "data") => 2,
        (HclDialect::Terraform, "variable" | "module" | "output" | "provider") => 1,
        (HclDialect::Bake, "target" | "variable" | "group" | "function") => 1,
        _ => 0,
    }
}

fn object_body(node: Node<'_>, src: &str, dialect: HclDialect, depth: usize) -> Body {
    let mut body = Body::default();
    for (key, _, value) in pairs(node, src) {
        let Some(value) = value else { continue };
        let levels = if depth == 0 {
            label_levels(key, dialect)
        } else {
            0
        };
        if is_mapping(value) && !(dialect == HclDialect::Bake && key == "contexts") {
            blocks(
                key,
                value,
                src,
                dialect,
                depth,
                levels,
                Vec::new(),
                &mut body,
            );
        } else {
            let e = expr(value, src, dialect);
            if let Expr::Array(list) = &e
                && !list.is_empty()
                && items(value).all(is_mapping)
            {
                for item in items(value) {
                    blocks(key, item, src, dialect, depth, 0, Vec::new(), &mut body);
                }
            } else {
                body.attrs.push((key.to_string(), e));
            }
        }
    }
    body
}

#[allow(clippy::too_many_arguments)]
fn blocks(
    ident: &str,
    node: Node<'_>,
    src: &str,
    dialect: HclDialect,
    depth: usize,
    levels: usize,
    labels: Vec<String>,
    out: &mut Body,
) {
    if levels == 0 {
        out.blocks.push(Block {
            ident: ident.to_string(),
            labels,
            body: object_body(node, src, dialect, depth + 1),
        });
        return;
    }
    for (label, _, value) in pairs(node, src) {
        if let Some(value) = value.filter(|v| is_mapping(*v)) {
            let mut labels = labels.clone();
            labels.push(label.to_string());
            blocks(ident, value, src, dialect, depth, levels - 1, labels, out);
        }
    }
}

fn expr(node: Node<'_>, src: &str, dialect: HclDialect) -> Expr {
    if is_mapping(node) {
        return Expr::Object(
            pairs(node, src)
                .filter_map(|(k, _, v)| Some((k.to_string(), expr(v?, src, dialect))))
                .collect(),
        );
    }
    if let Some(span) = scalar_span(node) {
        return Expr::Str {
            parts: template(&src[span.clone()], span.start, dialect),
            span,
        };
    }
    let list: Vec<Expr> = items(node).map(|i| expr(i, src, dialect)).collect();
    if list.is_empty() {
        Expr::Other {
            vars: Vec::new(),
            span: None,
        }
    } else {
        Expr::Array(list)
    }
}

/// The parts of a JSON string: literal text and `${…}` interpolations. Text with a
/// backslash is not as written (JSON escapes), so it gets no span.
fn template(text: &str, at: usize, dialect: HclDialect) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = text;
    let mut offset = at;
    while let Some(open) = rest.find("${") {
        if open > 0 {
            parts.push(lit(&rest[..open], offset));
        }
        let Some(close) = rest[open..].find('}') else {
            parts.push(Part::Other(Vec::new()));
            return parts;
        };
        let inner = rest[open + 2..open + close].trim();
        let var = match dialect {
            HclDialect::Bake => Some(inner),
            _ => inner.strip_prefix("var."),
        }
        .filter(|v| {
            !v.is_empty()
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
        parts.push(match var {
            Some(v) => Part::Var(v.to_string()),
            None => Part::Other(mentioned(inner, dialect)),
        });
        offset += open + close + 1;
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        parts.push(lit(rest, offset));
    }
    parts
}

/// The variables an interpolation's text mentions (`var.NAME`; in Bake any name).
fn mentioned(inner: &str, dialect: HclDialect) -> Vec<String> {
    let words =
        inner.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'));
    words
        .filter_map(|w| match dialect {
            HclDialect::Bake => Some(w),
            _ => w.strip_prefix("var.")?.split('.').next(),
        })
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn lit(text: &str, at: usize) -> Part {
    let span: Option<Range<usize>> = (!text.contains('\\')).then(|| at..at + text.len());
    Part::Lit(text.to_string(), span)
}
