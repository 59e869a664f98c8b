//! HCL: Terraform and OpenTofu (`*.tf`, `*.tofu`, `*.tf.json`), Nomad job files
//! (`*.nomad`, `*.nomad.hcl`) and Docker Bake (`docker-bake.hcl`, `docker-bake.json`).
//!
//! Files are read into a small model ([`Body`]: attributes, blocks, and expressions
//! whose strings keep their exact spans) — native syntax by `hcl-edit` ([`native`]),
//! the JSON syntax by the YAML layer ([`json`]) — and the rules of each tool run on it:
//!
//! - Terraform: `image` in `container` / `init_container` blocks of the Kubernetes
//!   workload resources, `docker_image.name`, `docker_container.image`, `image` in the
//!   `containers` blocks of `google_cloud_run_*`, and `image` in the objects of an ECS
//!   task definition's `container_definitions = jsonencode([…])`.
//! - Nomad: `config { image = … }` of tasks whose `driver` is `docker` or `podman`.
//! - Bake: `contexts = { name = "docker-image://REF" }` (pinned after the scheme);
//!   `tags` name what is built and are never findings.
//!
//! A string with interpolation is `templated` unless every variable in it has a
//! default (then it is the mutable reference the defaults make, which cannot be pinned
//! in place). A value that is one variable as a whole (`var.image`, `"${var.image}"`,
//! Bake's `"docker-image://${BASE}"`) is pinned in the variable's `default` — in
//! whichever file of the Terraform module declares it — when every use of that
//! variable anywhere in the module is such a whole value, the rule Dockerfile ARGs
//! follow.
//!
//! A run that names only some files of a module reads the others too, for what they
//! share with the named ones ([`Scope::Companion`]); a stream read as a file of a
//! module reports its uses of defaults declared in the module's files ([`Scope::Stream`]).

mod json;
mod native;

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::Candidate;
use super::detect::HclDialect;
use crate::finding::{DigestField, Format, PinSite, Status};

/// A body: attributes and blocks, in order.
#[derive(Debug, Default, Clone)]
pub struct Body {
    pub attrs: Vec<(String, Expr)>,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone)]
pub struct Block {
    pub ident: String,
    pub labels: Vec<String>,
    pub body: Body,
}

/// An expression, as far as image rules need to see it.
#[derive(Debug, Clone)]
pub enum Expr {
    /// A quoted string: its content's span (inside the quotes) and its parts.
    Str {
        span: Range<usize>,
        parts: Vec<Part>,
    },
    /// A variable as a whole (`var.NAME`; in Bake, `NAME`).
    Var {
        name: String,
        span: Range<usize>,
    },
    Object(Vec<(String, Expr)>),
    Array(Vec<Expr>),
    Call {
        name: String,
        args: Vec<Expr>,
        /// The whole call's span, where the reader gives one.
        span: Option<Range<usize>>,
    },
    /// Anything else (`local.img`, `module.x.image`, a conditional …): the variables
    /// it mentions, and its span where the reader gives one.
    Other {
        vars: Vec<String>,
        span: Option<Range<usize>>,
    },
}

/// A piece of a quoted string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Literal text; its span when the text is written as is (no escapes).
    Lit(String, Option<Range<usize>>),
    /// `${var.NAME}` (Bake: `${NAME}`).
    Var(String),
    /// Any other interpolation or directive: the variables it mentions.
    Other(Vec<String>),
}

impl Body {
    fn attr(&self, name: &str) -> Option<&Expr> {
        self.attrs
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e)
    }

    fn blocks<'a>(&'a self, ident: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.blocks.iter().filter(move |b| b.ident == ident)
    }

    /// Blocks named `ident` at any depth below this body.
    fn nested<'a>(&'a self, ident: &str, out: &mut Vec<&'a Block>) {
        for b in &self.blocks {
            if b.ident == ident {
                out.push(b);
            }
            b.body.nested(ident, out);
        }
    }
}

/// Where an image is written: the expression and a scheme to skip (`docker-image://`).
struct Site<'a> {
    expr: &'a Expr,
    scheme: &'static str,
    /// A transport naming a local store or file (Nomad's podman driver): never resolved.
    local: Option<&'static str>,
}

impl<'a> Site<'a> {
    /// An image written as is: no scheme, no transport.
    fn plain(expr: &'a Expr) -> Self {
        Site {
            expr,
            scheme: "",
            local: None,
        }
    }
}

/// The image sites of one file.
fn sites<'a>(body: &'a Body, dialect: HclDialect) -> Vec<Site<'a>> {
    let mut out = Vec::new();
    match dialect {
        HclDialect::Terraform => {
            for r in body.blocks("resource") {
                let kind = r.labels.first().map(String::as_str).unwrap_or("");
                let mut found = Vec::new();
                if is_kubernetes_workload(kind) {
                    r.body.nested("container", &mut found);
                    r.body.nested("init_container", &mut found);
                } else if kind.starts_with("google_cloud_run_") {
                    r.body.nested("containers", &mut found);
                }
                out.extend(
                    found
                        .iter()
                        .filter_map(|b| b.body.attr("image"))
                        .map(Site::plain),
                );
                match kind {
                    "docker_image" => out.extend(r.body.attr("name").map(Site::plain)),
                    "docker_container" => out.extend(r.body.attr("image").map(Site::plain)),
                    "aws_ecs_task_definition" => {
                        if let Some(Expr::Call { name, args, .. }) =
                            r.body.attr("container_definitions")
                            && name == "jsonencode"
                        {
                            for arg in args {
                                ecs_images(arg, &mut out);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        HclDialect::Nomad => {
            let mut tasks = Vec::new();
            body.nested("task", &mut tasks);
            for task in tasks {
                let driver = match task.body.attr("driver") {
                    Some(Expr::Str { parts, .. }) => literal(parts),
                    _ => None,
                };
                let podman = driver.as_deref() == Some("podman");
                if podman || driver.as_deref() == Some("docker") {
                    for config in task.body.blocks("config") {
                        out.extend(config.body.attr("image").map(|expr| {
                            if podman {
                                podman_site(expr)
                            } else {
                                Site::plain(expr)
                            }
                        }));
                    }
                }
            }
        }
        HclDialect::Bake => {
            for target in body.blocks("target") {
                if let Some(Expr::Object(contexts)) = target.body.attr("contexts") {
                    for (_, value) in contexts {
                        if let Expr::Str { parts, .. } = value
                            && matches!(parts.first(), Some(Part::Lit(t, _)) if t.starts_with(BAKE_SCHEME))
                        {
                            out.push(Site {
                                expr: value,
                                scheme: BAKE_SCHEME,
                                local: None,
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

const BAKE_SCHEME: &str = "docker-image://";

/// An image of Nomad's podman driver: `docker://REF` (pinned after the scheme), a
/// local transport (`containers-storage:`, `oci-archive:` …), or a bare reference.
fn podman_site(expr: &Expr) -> Site<'_> {
    let lead = match expr {
        Expr::Str { parts, .. } => match parts.first() {
            Some(Part::Lit(t, _)) => t.as_str(),
            _ => "",
        },
        _ => "",
    };
    Site {
        expr,
        scheme: if lead.starts_with(super::quadlet::DOCKER_SCHEME) {
            super::quadlet::DOCKER_SCHEME
        } else {
            ""
        },
        local: super::quadlet::LOCAL_TRANSPORTS
            .iter()
            .find(|t| lead.starts_with(*t))
            .copied(),
    }
}

fn is_kubernetes_workload(kind: &str) -> bool {
    const WORKLOADS: [&str; 8] = [
        "deployment",
        "pod",
        "job",
        "cron_job",
        "stateful_set",
        "daemon_set",
        "replication_controller",
        "replica_set",
    ];
    let Some(rest) = kind.strip_prefix("kubernetes_") else {
        return false;
    };
    let base = rest
        .strip_suffix("_v1")
        .or_else(|| rest.strip_suffix("_v2"))
        .unwrap_or(rest);
    WORKLOADS.contains(&base)
}

/// `image` in the objects of `jsonencode([{ … }, …])`.
fn ecs_images<'a>(arg: &'a Expr, out: &mut Vec<Site<'a>>) {
    match arg {
        Expr::Array(items) => items.iter().for_each(|i| ecs_images(i, out)),
        Expr::Object(fields) => out.extend(
            fields
                .iter()
                .filter(|(k, _)| k == "image")
                .map(|(_, expr)| Site::plain(expr)),
        ),
        _ => {}
    }
}

/// The text of a string without interpolation.
fn literal(parts: &[Part]) -> Option<String> {
    match parts {
        [Part::Lit(t, _)] => Some(t.clone()),
        [] => Some(String::new()),
        _ => None,
    }
}

/// Every variable an expression mentions (each mention once per place).
fn mentions(expr: &Expr, out: &mut Vec<String>) {
    match expr {
        Expr::Str { parts, .. } => {
            for p in parts {
                match p {
                    Part::Var(v) => out.push(v.clone()),
                    Part::Other(vs) => out.extend(vs.iter().cloned()),
                    Part::Lit(..) => {}
                }
            }
        }
        Expr::Var { name, .. } => out.push(name.clone()),
        Expr::Object(fields) => fields.iter().for_each(|(_, e)| mentions(e, out)),
        Expr::Array(items) | Expr::Call { args: items, .. } => {
            items.iter().for_each(|e| mentions(e, out))
        }
        Expr::Other { vars, .. } => out.extend(vars.iter().cloned()),
    }
}

fn body_mentions(body: &Body, out: &mut Vec<String>) {
    for (_, e) in &body.attrs {
        mentions(e, out);
    }
    for b in &body.blocks {
        body_mentions(&b.body, out);
    }
}

/// The variable a site consists of as a whole, after its scheme.
fn whole_var<'a>(site: &Site<'a>) -> Option<&'a str> {
    match site.expr {
        Expr::Var { name, .. } => Some(name),
        Expr::Str { parts, .. } => match parts.as_slice() {
            [Part::Var(v)] if site.scheme.is_empty() => Some(v),
            [Part::Lit(t, _), Part::Var(v)] if !site.scheme.is_empty() && t == site.scheme => {
                Some(v)
            }
            _ => None,
        },
        _ => None,
    }
}

/// A variable declaration: its default when that is a plain string, and where.
#[derive(Debug, Clone)]
struct Default {
    value: String,
    /// The default's span when written as is.
    span: Option<Range<usize>>,
    /// The file that declares it (`None`: the file being scanned).
    file: Option<PathBuf>,
}

/// Variable declarations of a body: `variable "NAME" { default = "…" }`, and in Bake
/// also `variable "NAME" { default = … }` (the same block).
fn declarations(body: &Body, file: Option<&Path>, out: &mut HashMap<String, Option<Default>>) {
    for v in body.blocks("variable") {
        let Some(name) = v.labels.first() else {
            continue;
        };
        let default = match v.body.attr("default") {
            Some(Expr::Str { parts, .. }) => match parts.as_slice() {
                [Part::Lit(t, span)] if !t.is_empty() => Some(Default {
                    value: t.clone(),
                    span: span.clone(),
                    file: file.map(Path::to_path_buf),
                }),
                _ => None,
            },
            _ => None,
        };
        out.insert(name.clone(), default);
    }
}

/// What the module around a file says about its variables.
struct Module {
    defaults: HashMap<String, Option<Default>>,
    /// Mentions of each variable anywhere in the module.
    mentions: HashMap<String, usize>,
    /// Mentions of each variable as a whole image value.
    whole: HashMap<String, usize>,
    /// A sibling file could not be read: its uses are unknown.
    incomplete: bool,
    /// For a companion: what the named files mention and declare.
    named_mentions: HashSet<String>,
    named_declares: HashSet<String>,
}

impl Module {
    fn new() -> Self {
        Module {
            defaults: HashMap::new(),
            mentions: HashMap::new(),
            whole: HashMap::new(),
            incomplete: false,
            named_mentions: HashSet::new(),
            named_declares: HashSet::new(),
        }
    }

    /// Add a file's declarations and uses; `named`: it is one of the files the run
    /// named, which a companion is read for.
    fn add(&mut self, body: &Body, dialect: HclDialect, file: Option<&Path>, named: bool) {
        let mut declared = HashMap::new();
        declarations(body, file, &mut declared);
        let mut all = Vec::new();
        body_mentions(body, &mut all);
        if named {
            self.named_declares.extend(declared.keys().cloned());
            self.named_mentions.extend(all.iter().cloned());
        }
        self.defaults.extend(declared);
        for v in all {
            *self.mentions.entry(v).or_default() += 1;
        }
        for site in sites(body, dialect) {
            if let Some(v) = whole_var(&site) {
                *self.whole.entry(v.to_string()).or_default() += 1;
            }
        }
    }

    /// Whether a variable's default may take the digest: every use is a whole value.
    fn pinnable(&self, name: &str) -> bool {
        !self.incomplete
            && self.whole.get(name).copied().unwrap_or(0) > 0
            && self.whole.get(name) == self.mentions.get(name)
    }

    fn lookup(&self, name: &str) -> Option<&Default> {
        self.defaults.get(name).and_then(Option::as_ref)
    }
}

/// How much of its Terraform module a file is read for. Other dialects have no
/// modules: for them every scope reads the file alone, as `File` does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Scope {
    /// A file the run named or walked to: every reference in it.
    #[default]
    File,
    /// A file of a module the run named only some files of (`named`: their file names,
    /// in the same folder), read for what it shares with them: the defaults they use as
    /// whole values (pinned here) and the uses here of the variables they declare.
    /// Its other references are not this run's.
    Companion { named: Vec<OsString> },
    /// A stream read as a file of the module: the module's files are read, never
    /// written, so the stream's use of a default declared in one of them is reported
    /// at the use instead of being pinned there.
    Stream,
}

/// Parse failures: (1-based line, message).
pub type Refusal = (usize, String);

/// Which of HCL's two syntaxes a file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Native,
    /// `*.tf.json`, `docker-bake.json`.
    Json,
}

impl Syntax {
    fn read(
        self,
        src: &str,
        dialect: HclDialect,
        comments: &mut Vec<Range<usize>>,
    ) -> Result<Body, Refusal> {
        match self {
            Syntax::Native => native::read(src, dialect, comments),
            Syntax::Json => json::read(src, dialect, comments),
        }
    }
}

/// Scan an HCL file, collecting the span of every comment; `scope` says how much of
/// its module it is read for.
pub fn scan(
    src: &str,
    path: &Path,
    syntax: Syntax,
    dialect: HclDialect,
    scope: &Scope,
    comments: &mut Vec<Range<usize>>,
) -> Result<Vec<Candidate>, Refusal> {
    let body = syntax.read(src, dialect, comments)?;
    let mut module = Module::new();
    module.add(&body, dialect, None, false);
    if dialect != HclDialect::Terraform {
        return Ok(candidates(&body, dialect, &module, src, &Scope::File));
    }
    siblings(path, scope, &mut module);
    Ok(candidates(&body, dialect, &module, src, scope))
}

/// The other files of a Terraform module (its folder), for variables declared in one
/// file and used in another.
fn siblings(path: &Path, scope: &Scope, module: &mut Module) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        module.incomplete = true;
        return;
    };
    let name = path.file_name();
    let named = |n: Option<&std::ffi::OsStr>| match scope {
        Scope::Companion { named } => n.is_some_and(|n| named.iter().any(|m| m == n)),
        _ => false,
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.file_name() == name {
            continue;
        }
        let Some(syntax) = terraform_syntax(&p) else {
            continue;
        };
        let read = std::fs::read_to_string(&p)
            .ok()
            .and_then(|s| syntax.read(&s, HclDialect::Terraform, &mut Vec::new()).ok());
        match read {
            Some(body) => module.add(&body, HclDialect::Terraform, Some(&p), named(p.file_name())),
            None => module.incomplete = true,
        }
    }
}

/// The syntax of a file of a Terraform module, by its name; `None` for any other file.
pub fn terraform_syntax(path: &Path) -> Option<Syntax> {
    match super::detect::kind_for(path) {
        Some(super::FileKind::Hcl(HclDialect::Terraform)) => Some(Syntax::Native),
        Some(super::FileKind::HclJson(HclDialect::Terraform)) => Some(Syntax::Json),
        _ => None,
    }
}

fn format_of(dialect: HclDialect) -> Format {
    match dialect {
        HclDialect::Terraform => Format::Terraform,
        HclDialect::Nomad => Format::Nomad,
        HclDialect::Bake => Format::DockerBake,
    }
}

/// The candidates of one file: its image sites, and the defaults of its variables
/// that its module's sites use as whole values — for a companion, only those it
/// shares with the named files.
fn candidates(
    body: &Body,
    dialect: HclDialect,
    module: &Module,
    src: &str,
    scope: &Scope,
) -> Vec<Candidate> {
    let format = format_of(dialect);
    let mut out = Vec::new();
    let var_ref = |v: &str| match dialect {
        HclDialect::Bake => v.to_string(),
        _ => format!("var.{v}"),
    };
    let companion = matches!(scope, Scope::Companion { .. });
    // Defaults declared here whose every use is a whole image value.
    let mut declared = HashMap::new();
    declarations(body, None, &mut declared);
    for (name, default) in &declared {
        if let Some(Default {
            span: Some(span), ..
        }) = default
            && module.pinnable(name)
            && (!companion || module.named_mentions.contains(name))
        {
            out.push(Candidate::inline(span.clone(), format));
        }
    }
    for site in sites(body, dialect) {
        if companion {
            let mut vars = Vec::new();
            mentions(site.expr, &mut vars);
            if !vars.iter().any(|v| module.named_declares.contains(v)) {
                continue; // not what the named files share with this one
            }
        }
        if let Some(name) = whole_var(&site) {
            // A stream is never written to the module's files.
            let writable = |d: &Default| d.file.is_none() || *scope != Scope::Stream;
            if module.pinnable(name)
                && module
                    .lookup(name)
                    .is_some_and(|d| d.span.is_some() && writable(d))
            {
                continue; // pinned at the default
            }
            let span = site_span(&site);
            let written = &src[span.clone()];
            let c = match module.lookup(name) {
                Some(d) => {
                    let where_ = match &d.file {
                        Some(f) => format!(" in {}", crate::finding::display_path(f)),
                        None => String::new(),
                    };
                    let why = if module.incomplete {
                        "another file of this module could not be read, so not every use is known"
                            .to_string()
                    } else if d.span.is_none() {
                        "it is written with escapes".to_string()
                    } else if module.pinnable(name) {
                        "imagepin writes only the stream when it reads stdin, never the module's files".to_string()
                    } else {
                        format!(
                            "{} is also used elsewhere as part of a value, which a digest in its default would break",
                            var_ref(name)
                        )
                    };
                    missing(
                        span,
                        format,
                        d.value.clone(),
                        format!(
                            "`{written}` with the default of {}{where_}; not pinned there: {why}",
                            var_ref(name)
                        ),
                    )
                }
                None => Candidate {
                    status: Some((
                        Status::Templated,
                        format!("{} has no default", var_ref(name)),
                    )),
                    ..Candidate::inline(span, format)
                },
            };
            out.push(c);
            continue;
        }
        let (span, parts) = match site.expr {
            Expr::Str { span, parts } => (span, parts),
            // An expression imagepin does not evaluate: seen, never pinned.
            Expr::Other {
                span: Some(span), ..
            }
            | Expr::Call {
                span: Some(span), ..
            } => {
                out.push(Candidate {
                    status: Some((
                        Status::Templated,
                        "an expression (a local, a module output, a function call, a condition, a heredoc …) that imagepin does not evaluate".to_string(),
                    )),
                    ..Candidate::inline(span.clone(), format)
                });
                continue;
            }
            _ => continue,
        };
        match parts.as_slice() {
            // Written as is: the reference.
            [Part::Lit(_, Some(_))] => {
                let mut c = Candidate::inline(span.start + site.scheme.len()..span.end, format);
                if let Some(t) = site.local {
                    c.status = Some((
                        Status::Local,
                        format!("`{t}` is a local image store or file, not a registry"),
                    ));
                }
                out.push(c);
                continue;
            }
            // Empty, or written with escapes: no reference as written.
            [] | [Part::Lit(_, None)] => continue,
            _ => {}
        }
        // Interpolated: the reference the defaults make, or templated.
        let span = span.start + site.scheme.len()..span.end;
        match expand(parts, module) {
            Some(expanded) if !expanded.is_empty() => {
                let expanded = expanded
                    .strip_prefix(site.scheme)
                    .unwrap_or(&expanded)
                    .to_string();
                let written = &src[span.clone()];
                out.push(missing(
                    span,
                    format,
                    expanded.clone(),
                    format!(
                        "`{written}` with the variables' defaults; a default cannot be pinned where it is only part of the reference: give the whole reference one variable (default = \"{expanded}\") to make it pinnable"
                    ),
                ));
            }
            _ => out.push(Candidate {
                status: Some((Status::Templated, "built by interpolation".to_string())),
                ..Candidate::inline(span, format)
            }),
        }
    }
    out
}

fn missing(span: Range<usize>, format: Format, text: String, why: String) -> Candidate {
    Candidate {
        span,
        format,
        text: Some(text),
        pin: PinSite::Field(DigestField::Missing(why)),
        status: None,
    }
}

/// The span of a site's value after its scheme.
fn site_span(site: &Site<'_>) -> Range<usize> {
    match site.expr {
        Expr::Str { span, .. } => span.start + site.scheme.len()..span.end,
        Expr::Var { span, .. } => span.clone(),
        _ => 0..0,
    }
}

/// A string with every interpolated variable replaced by its default.
fn expand(parts: &[Part], module: &Module) -> Option<String> {
    let mut out = String::new();
    for p in parts {
        match p {
            Part::Lit(t, _) => out.push_str(t),
            Part::Var(v) => out.push_str(&module.lookup(v)?.value),
            Part::Other(_) => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (text as written at the span, reported text, status forced or by the note kind)
    fn found(
        src: &str,
        name: &str,
        dialect: HclDialect,
    ) -> Vec<(String, Option<String>, Option<Status>)> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(name);
        let syntax = if name.ends_with(".json") {
            Syntax::Json
        } else {
            Syntax::Native
        };
        let mut c =
            scan(src, &path, syntax, dialect, &Scope::File, &mut Vec::new()).expect("parses");
        c.sort_by_key(|c| c.span.start);
        c.into_iter()
            .map(|c| (src[c.span].to_string(), c.text, c.status.map(|s| s.0)))
            .collect()
    }

    fn texts(src: &str, name: &str, dialect: HclDialect) -> Vec<String> {
        found(src, name, dialect).into_iter().map(|f| f.0).collect()
    }

    const TF: &str = r#"# comment: image = "no:1"
variable "registry" {
  default = "ghcr.io/acme"
}
variable "tag" { default = "v2" }
resource "kubernetes_deployment_v1" "web" {
  metadata { labels = { image = "not-an-image:1" } }
  spec {
    template {
      spec {
        init_container { image = "busybox:1.36" }
        container {
          name  = "web"
          image = "nginx:1.25" // pinned below
        }
        container { image = "${var.registry}/api:${var.tag}" }
        container { image = "redis:7@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }
      }
    }
  }
}
resource "docker_image" "app" { name = "ghcr.io/acme/tools:1" }
resource "docker_container" "app" { image = docker_image.app.image_id }
resource "google_cloud_run_v2_service" "s" {
  template {
    containers { image = "gcr.io/cloud-builders/docker:latest" }
  }
}
resource "aws_ecs_task_definition" "t" {
  container_definitions = jsonencode([
    { name = "a", image = "alpine:3.19" },
    { "name" = "b", "image" = "debian:12" },
  ])
}
resource "helm_release" "x" {
  set { image = "nope:1" }
}
locals { image = "nope:2" }
"#;

    #[test]
    fn terraform_sites() {
        assert_eq!(
            texts(TF, "main.tf", HclDialect::Terraform),
            [
                "busybox:1.36",
                "nginx:1.25",
                "${var.registry}/api:${var.tag}",
                "redis:7@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "ghcr.io/acme/tools:1",
                "gcr.io/cloud-builders/docker:latest",
                "alpine:3.19",
                "debian:12",
            ]
        );
        let f = found(TF, "main.tf", HclDialect::Terraform);
        assert_eq!(f[2].1.as_deref(), Some("ghcr.io/acme/api:v2"));
    }

    #[test]
    fn variable_defaults_used_whole_are_pinned_where_written() {
        let src = "variable \"image\" {\n  default = \"nginx:1.25\"\n}\nresource \"kubernetes_pod\" \"p\" {\n  spec {\n    container { image = var.image }\n    container { image = \"${var.image}\" }\n  }\n}\n";
        assert_eq!(
            found(src, "main.tf", HclDialect::Terraform),
            [("nginx:1.25".into(), None, None)]
        );
        // Used once as part of a longer value: not pinned; each use is reported.
        let partial = src.replace(
            "container { image = \"${var.image}\" }",
            "container { image = \"${var.image}-debug\" }",
        );
        let f = found(&partial, "main.tf", HclDialect::Terraform);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0], ("var.image".into(), Some("nginx:1.25".into()), None));
        assert_eq!(f[1].1.as_deref(), Some("nginx:1.25-debug"));
        // No default: templated.
        let src =
            "variable \"image\" {}\nresource \"docker_container\" \"c\" { image = var.image }\n";
        assert_eq!(
            found(src, "main.tf", HclDialect::Terraform),
            [("var.image".into(), None, Some(Status::Templated))]
        );
        // Interpolation of something else: templated.
        let src = "resource \"docker_container\" \"c\" { image = \"${local.reg}/x:1\" }\n";
        assert_eq!(
            found(src, "main.tf", HclDialect::Terraform)[0].2,
            Some(Status::Templated)
        );
    }

    #[test]
    fn variables_across_the_files_of_a_module() {
        let dir = tempfile::tempdir().expect("tempdir");
        let vars = "variable \"image\" {\n  default = \"nginx:1.25\"\n}\n";
        let main = "resource \"kubernetes_pod\" \"p\" {\n  spec {\n    container { image = var.image }\n  }\n}\n";
        std::fs::write(dir.path().join("variables.tf"), vars).expect("write");
        std::fs::write(dir.path().join("main.tf"), main).expect("write");
        let read = |src: &str, name: &str| {
            let path = dir.path().join(name);
            scan(
                src,
                &path,
                Syntax::Native,
                HclDialect::Terraform,
                &Scope::File,
                &mut Vec::new(),
            )
            .expect("parses")
        };
        let v = read(vars, "variables.tf");
        assert_eq!(v.len(), 1);
        assert_eq!(&vars[v[0].span.clone()], "nginx:1.25");
        let m = read(main, "main.tf");
        assert!(m.is_empty(), "the use is pinned at the default: {m:?}");
        // Another file uses it partly: neither pins it.
        std::fs::write(
            dir.path().join("debug.tf"),
            "locals { dbg = \"${var.image}-debug\" }\n",
        )
        .expect("write");
        assert!(read(vars, "variables.tf").is_empty());
        let m = read(main, "main.tf");
        assert_eq!(m[0].text.as_deref(), Some("nginx:1.25"));
        assert!(matches!(m[0].pin, PinSite::Field(DigestField::Missing(_))));
    }

    #[test]
    fn a_companion_holds_only_what_it_shares_with_the_files_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let vars = "variable \"web\" { default = \"nginx:1.25\" }\nvariable \"tag\" { default = \"7\" }\nresource \"docker_image\" \"x\" { name = \"alpine:3.19\" }\n";
        let main = "resource \"docker_container\" \"w\" { image = var.web }\n";
        let app = "resource \"docker_container\" \"r\" { image = \"redis:${var.tag}\" }\nresource \"docker_image\" \"b\" { name = \"busybox:1.36\" }\n";
        for (name, text) in [("variables.tf", vars), ("main.tf", main), ("app.tf", app)] {
            std::fs::write(dir.path().join(name), text).expect("write");
        }
        let read = |src: &str, name: &str, scope: &Scope| -> Vec<String> {
            let path = dir.path().join(name);
            let found = scan(
                src,
                &path,
                Syntax::Native,
                HclDialect::Terraform,
                scope,
                &mut Vec::new(),
            )
            .expect("parses");
            found.into_iter().map(|c| src[c.span].to_string()).collect()
        };
        let named = |names: &[&str]| Scope::Companion {
            named: names.iter().map(OsString::from).collect(),
        };
        // For main.tf: the default it uses, not the rest of variables.tf.
        assert_eq!(
            read(vars, "variables.tf", &named(&["main.tf"])),
            ["nginx:1.25"]
        );
        assert!(read(app, "app.tf", &named(&["main.tf"])).is_empty());
        // For variables.tf: the uses of what it declares, not the rest of app.tf; a
        // use pinned at the default is nothing here.
        assert_eq!(
            read(app, "app.tf", &named(&["variables.tf"])),
            ["redis:${var.tag}"]
        );
        assert!(read(main, "main.tf", &named(&["variables.tf"])).is_empty());
        // A stream standing for main.tf reports its use: the default is not its to pin.
        let stream = read(main, "stdin.tf", &Scope::Stream);
        assert_eq!(stream, ["var.web"]);
    }

    #[test]
    fn nomad_docker_and_podman_tasks() {
        let src = r#"job "web" {
  group "g" {
    task "a" {
      driver = "docker"
      config { image = "redis:7" }
    }
    task "b" {
      driver = "podman"
      config {
        image = "docker.io/library/nginx:1.25"
      }
    }
    task "c" {
      driver = "exec"
      config { image = "not:1" }
    }
    task "d" {
      driver = "docker"
      config { image = "ghcr.io/acme/api:${NOMAD_META_version}" }
    }
    task "e" {
      driver = "podman"
      config { image = "docker://quay.io/acme/worker:2" }
    }
    task "f" {
      driver = "podman"
      config { image = "oci-archive:/srv/app.tar" }
    }
    task "g" {
      driver = "docker"
      config { image = "docker://not-a-scheme-for-docker:1" }
    }
  }
}
"#;
        assert_eq!(
            texts(src, "web.nomad", HclDialect::Nomad),
            [
                "redis:7",
                "docker.io/library/nginx:1.25",
                "ghcr.io/acme/api:${NOMAD_META_version}",
                "quay.io/acme/worker:2",
                "oci-archive:/srv/app.tar",
                "docker://not-a-scheme-for-docker:1"
            ]
        );
        let found = found(src, "web.nomad", HclDialect::Nomad);
        assert_eq!(found[3].2, None, "docker:// is pinned after the scheme");
        assert_eq!(found[4].2, Some(Status::Local));
    }

    #[test]
    fn bake_contexts_never_tags() {
        let src = r#"variable "BASE" { default = "alpine:3.19" }
target "app" {
  tags = ["acme/app:1", "docker-image://nope:1"]
  contexts = {
    base = "docker-image://${BASE}"
    tools = "docker-image://busybox:1.36"
    src = "../src"
    other = "target:base"
  }
}
"#;
        assert_eq!(
            found(src, "docker-bake.hcl", HclDialect::Bake),
            [
                ("alpine:3.19".into(), None, None),
                ("busybox:1.36".into(), None, None),
            ]
        );
        let json = r#"{
  "target": {
    "app": {
      "tags": ["acme/app:1"],
      "contexts": { "tools": "docker-image://busybox:1.36", "x": "docker-image://${TAG}" }
    }
  }
}
"#;
        assert_eq!(
            found(json, "docker-bake.json", HclDialect::Bake),
            [
                ("busybox:1.36".into(), None, None),
                ("${TAG}".into(), None, Some(Status::Templated)),
            ]
        );
    }

    #[test]
    fn terraform_json() {
        let src = r#"{
  "variable": { "image": { "default": "nginx:1.25" } },
  "resource": {
    "kubernetes_pod": {
      "p": { "spec": [{ "container": [{ "image": "${var.image}" }, { "image": "redis:7" }] }] }
    },
    "docker_image": { "i": { "name": "busybox:1.36" } }
  }
}
"#;
        assert_eq!(
            texts(src, "main.tf.json", HclDialect::Terraform),
            ["nginx:1.25", "redis:7", "busybox:1.36"]
        );
    }

    #[test]
    fn comments_are_found_outside_literals() {
        let src = "a \"l#b\" { # c1\n  x = <<-EOT\n   h # no\n   ${y} // no\n  EOT // c2\n  y = \"s${\"q\" # z\n}\"\n  z = {\"k#\" = 1 /* c3\n */, k2 = [4 / 2] // c4\r\n  }\n}\n# c5";
        let mut comments = Vec::new();
        native::read(src, HclDialect::Terraform, &mut comments).expect("parses");
        let comments: Vec<_> = comments.into_iter().map(|c| &src[c]).collect();
        assert_eq!(comments, ["# c1", "// c2", "/* c3\n */", "// c4", "# c5"]);
        let json = "{\"a\": \"x#y\"} # c\n";
        let mut comments = Vec::new();
        json::read(json, HclDialect::Terraform, &mut comments).expect("parses");
        assert_eq!(
            comments.into_iter().map(|c| &json[c]).collect::<Vec<_>>(),
            ["# c"]
        );
    }

    #[test]
    fn expressions_at_image_sites_are_templated_never_dropped() {
        let src = "locals { img = \"nginx:1.25\" }\nresource \"docker_container\" \"a\" {\n  image = local.img # c\n}\nresource \"docker_container\" \"b\" {\n  image = module.m.image\n}\nresource \"docker_image\" \"c\" {\n  name = format(\"%s:%s\", \"nginx\", \"1.25\")\n}\nresource \"docker_container\" \"d\" {\n  image = var.x != \"\" ? var.x : \"redis:7\"\n}\n";
        let found = found(src, "main.tf", HclDialect::Terraform);
        let texts: Vec<_> = found.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(
            texts,
            [
                "local.img",
                "module.m.image",
                "format(\"%s:%s\", \"nginx\", \"1.25\")",
                "var.x != \"\" ? var.x : \"redis:7\""
            ]
        );
        assert!(
            found.iter().all(|f| f.2 == Some(Status::Templated)),
            "{found:?}"
        );
    }

    #[test]
    fn syntax_errors_name_a_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = scan(
            "a = 1\nb = {\n",
            &dir.path().join("x.tf"),
            Syntax::Native,
            HclDialect::Terraform,
            &Scope::File,
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(err.0 >= 2, "{err:?}");
        assert!(err.1.contains("HCL"));
    }
}
