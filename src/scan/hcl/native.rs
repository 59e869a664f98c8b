//! HCL native syntax into the [`Body`] model, read by `hcl-edit`: a parser made to
//! edit HCL without losing formatting, so every string keeps its exact byte span.
//! Comments are found outside the literals it places (see [`comments`]).

use std::ops::Range;

use hcl_edit::Span;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{self, BlockLabel, Structure};
use hcl_edit::template::{Element, StringTemplate};
use hcl_edit::visit::{self, Visit};

use super::{Block, Body, Expr, Part, Refusal};
use crate::scan::detect::HclDialect;

/// Read a file, collecting the span of every comment; a syntax error refuses it with
/// its line.
pub fn read(
    src: &str,
    dialect: HclDialect,
    comments: &mut Vec<Range<usize>>,
) -> Result<Body, Refusal> {
    let body = hcl_edit::parser::parse_body(src).map_err(|e| {
        (
            e.location().line(),
            format!("does not parse as HCL ({}); skipped", e.message()),
        )
    })?;
    find_comments(src, &body, comments);
    Ok(convert_body(&body, src, dialect))
}

/// Every comment of a parsed file: `#` or `//` to the end of its line, `/*` to `*/`.
/// Outside string literals and heredocs — whose spans the parser gives, quotes and
/// delimiters included — nothing in HCL's syntax holds a `#`, and a `/` followed by
/// `/` or `*` can only open a comment (a comment inside a template's `${…}` stays
/// unread, with the literal around it). If the parser left a literal unplaced, no
/// comment is taken rather than one that might be inside it.
fn find_comments(src: &str, body: &structure::Body, out: &mut Vec<Range<usize>>) {
    let mut literals = Literals::default();
    literals.visit_body(body);
    if literals.unplaced {
        return;
    }
    let mut spans = literals.spans;
    spans.sort_by_key(|r| r.start);
    let b = src.as_bytes();
    let mut spans = spans.into_iter().peekable();
    let mut i = 0;
    while i < b.len() {
        if let Some(r) = spans.next_if(|r| r.start <= i) {
            i = i.max(r.end);
            continue;
        }
        let limit = spans.peek().map_or(b.len(), |r| r.start);
        let Some(n) = memchr::memchr2(b'#', b'/', &b[i..limit]) else {
            i = limit;
            continue;
        };
        let at = i + n;
        let end = match (b[at], b.get(at + 1)) {
            (b'#', _) | (b'/', Some(b'/')) => crate::yaml::tree::comment_at(b, at).end,
            (b'/', Some(b'*')) => {
                memchr::memmem::find(&b[at + 2..], b"*/").map_or(b.len(), |n| at + 2 + n + 2)
            }
            _ => {
                i = at + 1; // division
                continue;
            }
        };
        out.push(at..end);
        i = end;
    }
}

/// The spans of a body's string literals, templates and heredocs.
#[derive(Default)]
struct Literals {
    spans: Vec<Range<usize>>,
    /// A literal without a span.
    unplaced: bool,
}

impl Literals {
    fn add(&mut self, span: Option<Range<usize>>) {
        match span {
            Some(span) => self.spans.push(span),
            None => self.unplaced = true,
        }
    }
}

impl Visit for Literals {
    fn visit_string(&mut self, node: &hcl_edit::Decorated<String>) {
        self.add(node.span());
    }

    fn visit_string_template(&mut self, node: &StringTemplate) {
        self.add(node.span());
    }

    fn visit_heredoc_template(&mut self, node: &hcl_edit::template::HeredocTemplate) {
        self.add(node.span());
    }
}

fn convert_body(body: &structure::Body, src: &str, dialect: HclDialect) -> Body {
    let mut out = Body::default();
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => out
                .attrs
                .push((a.key.as_str().to_string(), convert(&a.value, src, dialect))),
            Structure::Block(b) => out.blocks.push(Block {
                ident: b.ident.as_str().to_string(),
                labels: b
                    .labels
                    .iter()
                    .map(|l| match l {
                        BlockLabel::Ident(i) => i.as_str().to_string(),
                        BlockLabel::String(s) => s.value().to_string(),
                    })
                    .collect(),
                body: convert_body(&b.body, src, dialect),
            }),
        }
    }
    out
}

/// The content span of a quoted expression (its span minus the quotes).
fn inside_quotes(span: Option<Range<usize>>) -> Option<Range<usize>> {
    span.filter(|r| r.len() >= 2)
        .map(|r| r.start + 1..r.end - 1)
}

fn convert(e: &Expression, src: &str, dialect: HclDialect) -> Expr {
    match e {
        Expression::String(s) => {
            let Some(span) = inside_quotes(s.span()) else {
                return Expr::Other {
                    vars: Vec::new(),
                    span: None,
                };
            };
            let value = s.value().as_str();
            let raw = (src.get(span.clone()) == Some(value)).then(|| span.clone());
            let parts = if value.is_empty() {
                Vec::new()
            } else {
                vec![Part::Lit(value.to_string(), raw)]
            };
            Expr::Str { span, parts }
        }
        Expression::StringTemplate(t) => match inside_quotes(t.span()) {
            Some(span) => Expr::Str {
                span,
                parts: template_parts(t, src, dialect),
            },
            None => Expr::Other {
                vars: variables(e, dialect),
                span: None,
            },
        },
        Expression::Array(a) => Expr::Array(a.iter().map(|x| convert(x, src, dialect)).collect()),
        Expression::Object(o) => Expr::Object(
            o.iter()
                .filter_map(|(k, v)| {
                    let key = match k {
                        ObjectKey::Ident(i) => i.as_str().to_string(),
                        ObjectKey::Expression(Expression::String(s)) => s.value().to_string(),
                        ObjectKey::Expression(_) => return None,
                    };
                    Some((key, convert(v.expr(), src, dialect)))
                })
                .collect(),
        ),
        Expression::FuncCall(f) => Expr::Call {
            name: f.name.name.as_str().to_string(),
            args: f.args.iter().map(|x| convert(x, src, dialect)).collect(),
            span: f.span(),
        },
        Expression::Parenthesis(p) => convert(p.inner(), src, dialect),
        _ => match (variable(e, dialect), e.span()) {
            (Some(name), Some(span)) => Expr::Var { name, span },
            _ => Expr::Other {
                vars: variables(e, dialect),
                // `docker_image.app.image_id`: the image is read where that resource
                // declares it, not here.
                span: e.span().filter(|_| !is_resource_attribute(e, dialect)),
            },
        },
    }
}

fn template_parts(t: &StringTemplate, src: &str, dialect: HclDialect) -> Vec<Part> {
    t.iter()
        .map(|el| match el {
            Element::Literal(l) => {
                let raw = l.span().filter(|r| src.get(r.clone()) == Some(l.as_str()));
                Part::Lit(l.as_str().to_string(), raw)
            }
            Element::Interpolation(i) => match variable(&i.expr, dialect) {
                Some(name) => Part::Var(name),
                None => Part::Other(variables(&i.expr, dialect)),
            },
            Element::Directive(_) => {
                let mut v = Vars {
                    dialect,
                    out: Vec::new(),
                };
                v.visit_element(el);
                Part::Other(v.out)
            }
        })
        .collect()
}

/// The variable an expression is as a whole: `var.NAME` (Terraform, Nomad) or a bare
/// `NAME` (Bake).
fn variable(e: &Expression, dialect: HclDialect) -> Option<String> {
    match (e, dialect) {
        (Expression::Variable(v), HclDialect::Bake) => Some(v.as_str().to_string()),
        (Expression::Traversal(t), HclDialect::Terraform | HclDialect::Nomad) => {
            var_attr(&t.expr, &t.operators)
        }
        _ => None,
    }
}

fn var_attr(root: &Expression, ops: &[hcl_edit::Decorated<TraversalOperator>]) -> Option<String> {
    match (root, ops) {
        (Expression::Variable(v), [op]) if v.as_str() == "var" => match op.value() {
            TraversalOperator::GetAttr(name) => Some(name.as_str().to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `e` is an attribute of a managed resource (`TYPE.NAME.attr`): a
/// traversal from a name that is none of Terraform's own (`var`, `local`, `module`,
/// `data`, `each`, `count`, `path`, `terraform`, `self`).
fn is_resource_attribute(e: &Expression, dialect: HclDialect) -> bool {
    const OWN: [&str; 9] = [
        "var",
        "local",
        "module",
        "data",
        "each",
        "count",
        "path",
        "terraform",
        "self",
    ];
    matches!(
        (e, dialect),
        (Expression::Traversal(t), HclDialect::Terraform)
            if matches!(&t.expr, Expression::Variable(v) if !OWN.contains(&v.as_str()))
    )
}

/// Every variable an expression mentions.
fn variables(e: &Expression, dialect: HclDialect) -> Vec<String> {
    let mut v = Vars {
        dialect,
        out: Vec::new(),
    };
    v.visit_expr(e);
    v.out
}

struct Vars {
    dialect: HclDialect,
    out: Vec<String>,
}

impl Visit for Vars {
    fn visit_traversal(&mut self, node: &hcl_edit::expr::Traversal) {
        if self.dialect != HclDialect::Bake
            && let Expression::Variable(v) = &node.expr
            && v.as_str() == "var"
            && let Some(TraversalOperator::GetAttr(name)) =
                node.operators.first().map(|o| o.value())
        {
            self.out.push(name.as_str().to_string());
        }
        visit::visit_traversal(self, node);
    }

    fn visit_expr(&mut self, node: &Expression) {
        if self.dialect == HclDialect::Bake
            && let Expression::Variable(v) = node
        {
            self.out.push(v.as_str().to_string());
        }
        visit::visit_expr(self, node);
    }
}
