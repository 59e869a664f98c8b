//! A second reading for valid YAML that the tree-sitter grammar cannot parse (its known
//! gaps: multi-line quoted scalars in flow sequences, flow closers dedented past their
//! key — common in Argo examples). Skipping such a file would let `check` pass with its
//! images unseen. Instead the text is checked with a full YAML parser, the string
//! values of every `image` key are collected from the parsed documents, and only lines
//! of the form `image: VALUE` (outside block scalars) whose value is one of those are
//! reported. Format-specific rules are not applied here: only the generic one.

use std::collections::HashSet;

use serde::Deserialize;
use yaml_serde::Value;

use super::Candidate;
use crate::finding::Format;

/// Candidates for a text the grammar refused; `None` when it is not valid YAML.
pub fn scan(src: &str) -> Option<Vec<Candidate>> {
    let mut values = HashSet::new();
    let mut format = Format::Yaml;
    for doc in yaml_serde::Deserializer::from_str(src) {
        let value = Value::deserialize(doc).ok()?;
        if let Value::Mapping(m) = &value {
            let has = |k: &str| m.contains_key(Value::String(k.into()));
            if has("apiVersion") && has("kind") {
                format = Format::Kubernetes;
            } else if has("services") && format == Format::Yaml {
                format = Format::Compose;
            }
        }
        collect(&value, &mut values);
    }
    let mut out = Vec::new();
    let mut block: Option<usize> = None; // indentation of a block scalar's key
    let mut offset = 0;
    for line in src.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start().len();
        if let Some(key_indent) = block {
            if body.trim().is_empty() || indent > key_indent {
                continue;
            }
            block = None;
        }
        let trimmed = body.trim_start();
        let item = trimmed.strip_prefix("- ").map_or(trimmed, str::trim_start);
        let Some((key, rest)) = item.split_once(':') else {
            continue;
        };
        let value = rest.split(" #").next().unwrap_or("").trim();
        if value.starts_with('|') || value.starts_with('>') {
            block = Some(indent);
            continue;
        }
        if key.trim_matches(['"', '\'']) != "image" {
            continue;
        }
        let inner = strip_quotes(value);
        if inner.is_empty() || !values.contains(inner) {
            continue;
        }
        // The value's position in the line: after the key's colon.
        let colon = body.len() - item.len() + key.len() + 1;
        let Some(at) = body[colon..].find(inner) else {
            continue;
        };
        let begin = start + colon + at;
        out.push(Candidate::inline(begin..begin + inner.len(), format));
    }
    Some(out)
}

fn strip_quotes(v: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

/// Every string value of an `image` key, anywhere.
fn collect(value: &Value, out: &mut HashSet<String>) {
    match value {
        Value::Mapping(m) => {
            for (k, v) in m {
                if let (Value::String(key), Value::String(s)) = (k, v)
                    && key == "image"
                {
                    out.insert(s.clone());
                }
                collect(v, out);
            }
        }
        Value::Sequence(items) => items.iter().for_each(|v| collect(v, out)),
        Value::Tagged(t) => collect(&t.value, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_grammar_cannot() {
        let src = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: golang:1.22 # build\n    args: [\"\n      go build\n    \"]\n  - name: x\n    image: \"alpine:3.19\"\n  - name: y\n    command: |\n      image: golang:1.22\n";
        assert!(
            !crate::yaml::ts::grammar_accepts(src),
            "a case the grammar refuses"
        );
        let got = scan(src).expect("valid YAML");
        let texts: Vec<&str> = got.iter().map(|c| &src[c.span.clone()]).collect();
        assert_eq!(
            texts,
            ["golang:1.22", "alpine:3.19"],
            "not the block scalar line"
        );
        assert!(got.iter().all(|c| c.format == Format::Kubernetes));
    }

    #[test]
    fn invalid_yaml_is_refused() {
        assert!(scan("a: [\n{{ .Values.x }}\n").is_none());
    }
}
