//! A Terraform module scanned in part: files named on the command line, the files
//! `--changed-since` picks, a stream read as a file of the module. A variable declared
//! in one file and used in another must be found as a scan of the whole module finds
//! it — the default reported and pinned in the file that declares it, every other use
//! reported where it is — never lost because the other file was not named.

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Output;

use serde_json::Value;
use support::git::git;
use support::golden::{imagepin, stderr, stdout};
use support::pipe::imagepin_stdin;
use support::registry::TestRegistry;

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

/// The module: every way a variable is used across files.
/// - `web`: declared in variables.tf, used whole in main.tf and app.tf (pinned in
///   its default);
/// - `tag`: declared in variables.tf, used as part of a value in main.tf;
/// - `api`: declared in variables.tf, used whole in main.tf and as part in app.tf
///   (each use reported, not pinned);
/// - `none`: declared in variables.tf without a default, used in app.tf (templated);
/// - `tools`: declared in app.tf, used whole in tools.tf.json (pinned in app.tf);
///
/// and references that use no variable in main.tf and tools.tf.json. `other/` is
/// another module (it uses a `web` it does not declare).
const MODULE: [(&str, &str); 5] = [
    (
        "variables.tf",
        "variable \"web\" { default = \"nginx:1.25\" }\nvariable \"tag\" { default = \"7\" }\nvariable \"api\" { default = \"ghcr.io/acme/api:v2\" }\nvariable \"none\" {}\n",
    ),
    (
        "main.tf",
        "resource \"docker_container\" \"web\" { image = var.web }\nresource \"docker_container\" \"cache\" { image = \"redis:${var.tag}\" }\nresource \"docker_container\" \"api\" { image = var.api }\nresource \"docker_image\" \"box\" { name = \"busybox:1.36\" }\n",
    ),
    (
        "app.tf",
        "variable \"tools\" { default = \"ghcr.io/acme/tools:1\" }\nresource \"docker_container\" \"web2\" { image = \"${var.web}\" }\nresource \"docker_container\" \"debug\" { image = \"${var.api}-debug\" }\nresource \"docker_container\" \"none\" { image = var.none }\n",
    ),
    (
        "tools.tf.json",
        "{\n  \"resource\": {\n    \"docker_image\": { \"tools\": { \"name\": \"${var.tools}\" } },\n    \"docker_container\": { \"alpine\": { \"image\": \"alpine:3.19\" } }\n  }\n}\n",
    ),
    (
        "other/main.tf",
        "resource \"docker_container\" \"o\" { image = var.web }\n",
    ),
];

/// The variables each file of the module declares and mentions (as written above).
fn declares(file: &str) -> &'static [&'static str] {
    match file {
        "variables.tf" => &["web", "tag", "api", "none"],
        "app.tf" => &["tools"],
        _ => &[],
    }
}

fn mentions(file: &str) -> &'static [&'static str] {
    match file {
        "main.tf" => &["web", "tag", "api"],
        "app.tf" => &["web", "api", "none"],
        "tools.tf.json" => &["tools"],
        _ => &[],
    }
}

/// What a finding is about: the default of a variable (`true`) or a use of one.
fn about(module: &Path, finding: &Value) -> Option<(bool, String)> {
    let path = finding["path"].as_str().expect("path");
    let line = finding["line"].as_u64().expect("line") as usize;
    let text = fs::read_to_string(module.join(path)).expect("read");
    let line = text.lines().nth(line - 1).expect("line");
    let name = |after: &str| -> Option<String> {
        let rest = &line[line.find(after)? + after.len()..];
        Some(
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect(),
        )
    };
    name("variable \"")
        .map(|v| (true, v))
        .or_else(|| name("var.").map(|v| (false, v)))
}

/// `check --format json ARGS` in `dir`: the findings, each whole.
fn findings(dir: &Path, args: &[&str]) -> (Output, BTreeSet<String>) {
    let mut all = vec!["check", "--format", "json"];
    all.extend(args);
    let o = imagepin(dir, &all);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        stderr(&o)
    );
    let doc: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(doc["skipped"], Value::Array(Vec::new()), "{args:?}");
    let found = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(Value::to_string)
        .collect();
    (o, found)
}

/// For every set of the module's files named on the command line, the findings are
/// exactly those of a scan of the whole folder that concern the files named: theirs,
/// the defaults (elsewhere) of the variables they use, and the uses (elsewhere) of the
/// variables they declare — never fewer, and nothing of the module next door.
#[test]
fn any_files_of_a_module_named_are_checked_as_the_whole_module_checks_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    for (name, text) in MODULE {
        write(dir, name, text);
    }
    let (o, full) = findings(dir, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(full.len(), 9, "{full:#?}");
    let files = ["variables.tf", "main.tf", "app.tf", "tools.tf.json"];
    for mask in 1..(1u32 << files.len()) {
        let named: Vec<&str> = (0..files.len())
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| files[i])
            .collect();
        let expected: BTreeSet<String> = full
            .iter()
            .filter(|f| {
                let f: Value = serde_json::from_str(f).expect("finding");
                let path = f["path"].as_str().expect("path");
                if path.contains('/') {
                    return false; // another module
                }
                if named.contains(&path) {
                    return true;
                }
                match about(dir, &f) {
                    Some((true, v)) => named.iter().any(|n| mentions(n).contains(&v.as_str())),
                    Some((false, v)) => named.iter().any(|n| declares(n).contains(&v.as_str())),
                    None => false,
                }
            })
            .cloned()
            .collect();
        let (_, got) = findings(dir, &named);
        assert_eq!(got, expected, "named: {named:?}");
    }
}

/// A stream read as a file of the module reports its use of a default declared in a
/// file of the module, which it never writes.
#[test]
fn a_stream_reports_its_use_of_a_default_declared_in_the_module() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(
        tmp.path(),
        "variables.tf",
        "variable \"img\" {\n  default = \"nginx:1.25\"\n}\n",
    );
    let stream = "resource \"docker_container\" \"c\" {\n  image = var.img\n}\n";
    let o = imagepin_stdin(
        tmp.path(),
        &["check", "-", "--stdin-format", "terraform"],
        stream.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("<stdin>:2:11: mutable   nginx:1.25 (terraform): `var.img` with the default of var.img in variables.tf; not pinned there:"),
        "{out}"
    );
}

/// A repository whose first commit is the ref; `changes` are written after it.
fn repository(base: &[(&str, &str)], changes: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    git(dir, &["init", "--quiet"]);
    for (name, text) in base {
        write(dir, name, text);
    }
    git(dir, &["add", "."]);
    git(dir, &["commit", "--quiet", "-m", "base"]);
    for (name, text) in changes {
        write(dir, name, text);
    }
    tmp
}

/// The places `check --changed-since HEAD` reported, as `path:line:column`, in order.
fn changed_since(dir: &Path) -> (Option<i32>, BTreeSet<String>) {
    let (o, found) = findings(dir, &["--changed-since", "HEAD"]);
    let places = found
        .iter()
        .map(|f| {
            let f: Value = serde_json::from_str(f).expect("finding");
            format!(
                "{}:{}:{}",
                f["path"].as_str().expect("path"),
                f["line"],
                f["column"]
            )
        })
        .collect();
    (o.status.code(), places)
}

const VARS: &str = "variable \"img\" {\n  default = \"nginx:1.25\"\n}\n";
const USE_WHOLE: &str =
    "resource \"docker_container\" \"c\" {\n  name  = \"c\"\n  image = var.img\n}\n";

/// A change that adds a use of a variable declared in a file it does not touch is
/// checked at the default (the new user's trial: this passed as "0 references").
#[test]
fn changed_since_checks_a_new_use_at_its_default() {
    let repo = repository(
        &[("variables.tf", VARS), ("main.tf", "# empty\n")],
        &[("main.tf", USE_WHOLE)],
    );
    assert_eq!(
        changed_since(repo.path()),
        (Some(1), BTreeSet::from(["variables.tf:2:14".to_string()]))
    );
}

/// A change to a default alone is checked where the default is used, in files the
/// change leaves alone: one use as part of a value (reported there), one whole (with
/// the other, nothing to pin at the default, so reported too); an unrelated reference
/// in those files is not this change's.
#[test]
fn changed_since_checks_a_changed_default_at_its_uses() {
    let use_part = "resource \"docker_container\" \"d\" {\n  image = \"${var.img}-debug\"\n}\nresource \"docker_image\" \"x\" {\n  name = \"alpine:3.19\"\n}\n";
    let repo = repository(
        &[
            ("variables.tf", VARS),
            ("main.tf", USE_WHOLE),
            ("debug.tf", use_part),
        ],
        &[("variables.tf", &VARS.replace("1.25", "1.26"))],
    );
    assert_eq!(
        changed_since(repo.path()),
        (
            Some(1),
            BTreeSet::from(["debug.tf:2:12".to_string(), "main.tf:3:11".to_string()])
        )
    );
}

/// `fix FILE` pins the default its use pulls in the file of the module that declares
/// it, as a scan of the whole module would, and touches nothing else there.
#[test]
fn fix_of_one_file_pins_the_default_in_the_file_that_declares_it() {
    let reg = TestRegistry::start();
    let digest = reg.push_image("library/nginx", "1.25", "n");
    reg.push_image("library/alpine", "3.19", "a");
    let mirror = format!("docker.io={}", reg.url());
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let vars =
        "variable \"img\" {\n  # the web image\n  default = \"nginx:1.25\" # pinned here\n}\n";
    let main = "resource \"docker_container\" \"c\" {\n  image = var.img\n}\n";
    let other = "resource \"docker_image\" \"a\" {\n  name = \"alpine:3.19\"\n}\n";
    write(dir, "tf/variables.tf", vars);
    write(dir, "tf/main.tf", main);
    write(dir, "tf/other.tf", other);

    let o = imagepin(dir, &["fix", "--mirror", &mirror, "tf/main.tf"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("tf/variables.tf:3:14: pinned nginx:1.25 -> nginx:1.25@sha256:"),
        "{}",
        stdout(&o)
    );
    let read = |name: &str| fs::read_to_string(dir.join("tf").join(name)).expect("read");
    assert_eq!(
        read("variables.tf"),
        vars.replace("nginx:1.25", &format!("nginx:1.25@{digest}"))
    );
    assert_eq!(read("main.tf"), main);
    assert_eq!(read("other.tf"), other, "not what main.tf uses");

    let again = imagepin(dir, &["fix", "--mirror", &mirror, "tf/main.tf"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(
        read("variables.tf"),
        vars.replace("nginx:1.25", &format!("nginx:1.25@{digest}"))
    );
    let check = imagepin(dir, &["check", "tf/main.tf"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));

    // The tag moves; `update -` of main.tf's text cannot move a pin written in
    // variables.tf (stdin mode writes only the stream): it says so, and counts it.
    reg.push_image("library/nginx", "1.25", "n2");
    let o = imagepin_stdin(
        &dir.join("tf"),
        &[
            "update",
            "-",
            "--stdin-filename",
            "main.tf",
            "--mirror",
            &mirror,
        ],
        main.as_bytes(),
    );
    assert_eq!(stdout(&o), main, "the stream passes through unchanged");
    let err = stderr(&o);
    assert!(
        err.contains(
            "imagepin writes only the stream when it reads stdin, never the module's files"
        ),
        "{err}"
    );
    assert!(!err.contains("no digest field"), "{err}");
    assert!(
        err.contains("0 current; 1 pin moved but not written where it is"),
        "{err}"
    );
}
