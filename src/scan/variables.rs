//! Variables inside references, as shells, Dockerfiles and docker-compose write them:
//! `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:+alt}`,
//! `${NAME+alt}` (and `$$`, a literal `$`, in compose). This module says which
//! variables a text uses, whether it is one variable as a whole, and what it expands
//! to when every variable has a value or a default — the reference a build pulls
//! unless someone overrides it, which `check` must not call unknowable.

use std::ops::Range;

/// What a variable is worth where a text is expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Declared with this value (a Dockerfile `ARG NAME=value`).
    Value(String),
    /// No value known here: unset, or set only at build or deploy time.
    Unknown,
}

/// How `$` is escaped in the text's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Dockerfile: the escape character was already removed; `$` alone is literal.
    Dockerfile,
    /// docker-compose: `$$` is a literal `$`.
    Compose,
}

/// One part of a text: literal bytes, or a variable with its operator and word.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Literal(&'a str),
    Var {
        name: &'a str,
        op: Op,
        /// The operator's word (`default` in `${N:-default}`), itself expandable.
        word: &'a str,
        /// Where the word is in the text.
        word_at: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `$N`, `${N}`
    Plain,
    /// `${N:-w}`: `w` when unset or empty.
    DefaultIfEmpty,
    /// `${N-w}`: `w` when unset.
    DefaultIfUnset,
    /// `${N:+w}`: `w` when set and not empty, else empty.
    AltIfNonEmpty,
    /// `${N+w}`: `w` when set.
    AltIfSet,
    /// `${N:?msg}`, `${N?msg}`: required, no default.
    Required,
}

/// Split a text into pieces; `None` when it uses a form this module does not know
/// (`${N#pattern}`, an unclosed brace …).
fn pieces(text: &str, dialect: Dialect) -> Option<Vec<Piece<'_>>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut lit = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        if dialect == Dialect::Compose && b.get(i + 1) == Some(&b'$') {
            out.push(Piece::Literal(&text[lit..=i]));
            i += 2;
            lit = i;
            continue;
        }
        let (piece, end) = match b.get(i + 1) {
            Some(b'{') => braced(text, i + 2)?,
            Some(&c) if is_name_start(c) => {
                let end = name_end(b, i + 1);
                let piece = Piece::Var {
                    name: &text[i + 1..end],
                    op: Op::Plain,
                    word: "",
                    word_at: end,
                };
                (piece, end)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        if lit < i {
            out.push(Piece::Literal(&text[lit..i]));
        }
        out.push(piece);
        i = end;
        lit = end;
    }
    if lit < b.len() {
        out.push(Piece::Literal(&text[lit..]));
    }
    Some(out)
}

/// `${…}` starting after the `{` at `start`: the piece and the offset after `}`.
fn braced(text: &str, start: usize) -> Option<(Piece<'_>, usize)> {
    let b = text.as_bytes();
    if !b.get(start).copied().is_some_and(is_name_start) {
        return None;
    }
    let name_end = name_end(b, start);
    let name = &text[start..name_end];
    let rest = &text[name_end..];
    let (op, len) = [
        ("}", Op::Plain),
        (":-", Op::DefaultIfEmpty),
        ("-", Op::DefaultIfUnset),
        (":+", Op::AltIfNonEmpty),
        ("+", Op::AltIfSet),
        (":?", Op::Required),
        ("?", Op::Required),
    ]
    .into_iter()
    .find(|(p, _)| rest.starts_with(p))
    .map(|(p, op)| (op, p.len()))?;
    if op == Op::Plain {
        let piece = Piece::Var {
            name,
            op,
            word: "",
            word_at: name_end,
        };
        return Some((piece, name_end + 1));
    }
    // The word runs to the matching `}`; nested `${…}` may appear inside it.
    let word_at = name_end + len;
    let mut depth = 0usize;
    let mut j = word_at;
    while j < b.len() {
        match b[j] {
            b'$' if b.get(j + 1) == Some(&b'{') => {
                depth += 1;
                j += 1;
            }
            b'}' if depth == 0 => {
                let piece = Piece::Var {
                    name,
                    op,
                    word: &text[word_at..j],
                    word_at,
                };
                return Some((piece, j + 1));
            }
            b'}' => depth -= 1,
            _ => {}
        }
        j += 1;
    }
    None
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn name_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
        i += 1;
    }
    i
}

/// Whether a text holds a variable at all.
pub fn has_variables(text: &str, dialect: Dialect) -> bool {
    match pieces(text, dialect) {
        Some(p) => p.iter().any(|p| matches!(p, Piece::Var { .. })),
        None => true,
    }
}

/// The variable a text consists of, when it is exactly `$NAME` or `${NAME}`.
pub fn whole(text: &str, dialect: Dialect) -> Option<&str> {
    match pieces(text, dialect)?.as_slice() {
        [
            Piece::Var {
                name,
                op: Op::Plain,
                ..
            },
        ] => Some(name),
        _ => None,
    }
}

/// Every variable name a text mentions, defaults' words included.
pub fn names(text: &str, dialect: Dialect) -> Vec<&str> {
    let mut out = Vec::new();
    for piece in pieces(text, dialect).unwrap_or_default() {
        if let Piece::Var { name, word, .. } = piece {
            out.push(name);
            out.extend(names(word, dialect));
        }
    }
    out
}

/// Where the default is, when the whole text is one variable with a default that holds
/// no variable of its own: `${NAME:-redis:7}` or `${NAME-redis:7}` → the range of
/// `redis:7`. A digest written there is what every use without the variable pulls.
pub fn sole_default(text: &str, dialect: Dialect) -> Option<Range<usize>> {
    match pieces(text, dialect)?.as_slice() {
        [
            Piece::Var {
                op: Op::DefaultIfEmpty | Op::DefaultIfUnset,
                word,
                word_at,
                ..
            },
        ] if !word.is_empty() && !has_variables(word, dialect) && !word.contains('$') => {
            Some(*word_at..word_at + word.len())
        }
        _ => None,
    }
}

/// The text with every variable replaced by its value or default; `Err(name)` names
/// the first variable that has neither.
pub fn expand(
    text: &str,
    dialect: Dialect,
    lookup: &dyn Fn(&str) -> Lookup,
) -> Result<String, String> {
    let Some(parts) = pieces(text, dialect) else {
        return Err(text.to_string());
    };
    let mut out = String::new();
    for piece in parts {
        match piece {
            Piece::Literal(s) => out.push_str(s),
            Piece::Var { name, op, word, .. } => {
                let value = lookup(name);
                let word = || expand(word, dialect, lookup);
                let part = match (op, value) {
                    (Op::Plain | Op::Required, Lookup::Value(v)) => v,
                    (Op::DefaultIfEmpty, Lookup::Value(v)) if !v.is_empty() => v,
                    (Op::DefaultIfEmpty | Op::DefaultIfUnset, Lookup::Unknown)
                    | (Op::DefaultIfEmpty, Lookup::Value(_)) => word()?,
                    (Op::DefaultIfUnset, Lookup::Value(v)) => v,
                    (Op::AltIfNonEmpty, Lookup::Value(v)) if v.is_empty() => String::new(),
                    (Op::AltIfNonEmpty | Op::AltIfSet, Lookup::Value(_)) => word()?,
                    (_, Lookup::Unknown) => return Err(name.to_string()),
                };
                out.push_str(&part);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Lookup {
        match name {
            "V" => Lookup::Value("20".into()),
            "E" => Lookup::Value(String::new()),
            _ => Lookup::Unknown,
        }
    }

    fn x(text: &str) -> Result<String, String> {
        expand(text, Dialect::Compose, &env)
    }

    #[test]
    fn expansions() {
        assert_eq!(x("node:${V}-alpine"), Ok("node:20-alpine".into()));
        assert_eq!(x("node:$V"), Ok("node:20".into()));
        assert_eq!(x("${U:-redis:7}"), Ok("redis:7".into()));
        assert_eq!(x("${U-redis:7}"), Ok("redis:7".into()));
        assert_eq!(x("${E:-a}"), Ok("a".into()));
        assert_eq!(x("${E-a}"), Ok(String::new()));
        assert_eq!(x("${V:-a}"), Ok("20".into()));
        assert_eq!(x("a${V:+-x}"), Ok("a-x".into()));
        assert_eq!(x("a${E:+-x}"), Ok("a".into()));
        assert_eq!(x("${U:-${V}}"), Ok("20".into()));
        assert_eq!(x("${U:-${W:-x}}/y"), Ok("x/y".into()));
        assert_eq!(x("$$V"), Ok("$V".into()));
        assert_eq!(x("a:${U}"), Err("U".into()));
        assert_eq!(x("${U:?required}"), Err("U".into()));
        assert_eq!(x("${U+x}"), Err("U".into()));
        assert!(x("${U#x}").is_err());
        assert!(x("${U:-x").is_err());
        assert_eq!(expand("$$", Dialect::Dockerfile, &env), Ok("$$".into()));
    }

    #[test]
    fn shapes() {
        assert_eq!(whole("$BASE", Dialect::Dockerfile), Some("BASE"));
        assert_eq!(whole("${BASE}", Dialect::Dockerfile), Some("BASE"));
        assert_eq!(whole("${BASE}-slim", Dialect::Dockerfile), None);
        assert_eq!(whole("${BASE:-x}", Dialect::Dockerfile), None);
        assert_eq!(
            names("${A}/x:${B:-${C}}", Dialect::Compose),
            ["A", "B", "C"]
        );
        let t = "${REDIS_IMAGE:-redis:7}";
        assert_eq!(
            sole_default(t, Dialect::Compose).map(|r| &t[r]),
            Some("redis:7")
        );
        assert_eq!(sole_default("${A-b}", Dialect::Compose), Some(4..5));
        assert_eq!(sole_default("${A:-}", Dialect::Compose), None);
        assert_eq!(sole_default("${A:-${B}}", Dialect::Compose), None);
        assert_eq!(sole_default("x${A:-b}", Dialect::Compose), None);
        assert_eq!(sole_default("${A:+b}", Dialect::Compose), None);
        assert!(has_variables("a$B", Dialect::Compose));
        assert!(!has_variables("a$$B", Dialect::Compose));
        assert!(!has_variables("a:1", Dialect::Compose));
    }
}
