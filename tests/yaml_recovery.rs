//! YAML that guessing got wrong, and streams with a document that does not parse
//! (issue 11): only real image fields are pinned; a Go-template, Jinja or broken
//! document costs only itself — skipped with its own line, never written, made visible
//! in every output format and fatal with `--strict` — while the documents around it
//! are pinned byte for byte.

mod support;

use std::fs;

use support::golden::{assert_golden, copy_tree, fix, golden, imagepin, seed, stderr, stdout};

#[test]
fn text_that_is_not_an_image_field_is_never_pinned() {
    assert_golden(&seed(), "not-images");
}

#[test]
fn flow_mappings_anchors_and_tags_beside_multi_line_flow_scalars_are_all_read() {
    let check = imagepin(&golden("unseen").join("input"), &["check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    assert!(
        stderr(&check).starts_with("3 references"),
        "{}",
        stderr(&check)
    );
    assert_golden(&seed(), "unseen");
}

#[test]
fn block_scalar_values_pairs_in_flow_sequences_and_ignores_after_a_slash() {
    assert_golden(&seed(), "yaml-forms");
}

const POD: &str = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: nginx:1.25\n";
const COMPOSE: &str = "services:\n  db:\n    image: redis:7 # cache\n";

/// A bad document, the line in it to blame, and what the warning must say.
struct Bad {
    name: &'static str,
    text: &'static str,
    line: usize,
    says: &'static str,
}

const BAD: [Bad; 3] = [
    Bad {
        name: "go",
        text: "kind: Pod\n{{- if .Values.enabled }}\nspec:\n  containers:\n  - image: alpine:3.19\n{{- end }}\n",
        line: 2,
        says: "Helm templates must be rendered first (`helm template … | imagepin fix -`)",
    },
    Bad {
        name: "jinja",
        text: "{% for x in items %}\n- image: alpine:3.19\n{% endfor %}\n",
        line: 1,
        says: "a Jinja template",
    },
    Bad {
        name: "broken",
        text: "kind: Pod\nimage: alpine:3.19\nbad: key: value\n",
        line: 3,
        says: "not valid YAML: mapping values are not allowed",
    },
];

/// Nine streams: each bad document at the start, in the middle and at the end.
fn streams() -> Vec<(String, String, usize, &'static Bad)> {
    let mut out = Vec::new();
    for bad in &BAD {
        for at in 0..3 {
            let mut docs = vec![POD, COMPOSE];
            docs.insert(at, bad.text);
            let text = docs.join("---\n");
            // `---` lines before the bad document, and its own lines before it.
            let before: usize = docs[..at].iter().map(|d| d.lines().count() + 1).sum();
            let name = format!("{}-{at}.yaml", bad.name);
            out.push((name, text, before + bad.line, bad));
        }
    }
    out
}

#[test]
fn a_bad_document_is_skipped_with_its_line_and_the_others_are_pinned() {
    let seeded = seed();
    let tree = tempfile::tempdir().expect("tempdir");
    let streams = streams();
    for (name, text, _, _) in &streams {
        fs::write(tree.path().join(name), text).expect("write");
    }
    let out = fix(&seeded, tree.path(), &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let pin = |text: &str, reference: &str, key: &str| {
        text.replacen(
            reference,
            &format!("{reference}@{}", seeded.digests[key]),
            1,
        )
    };
    for (name, text, line, bad) in &streams {
        let want = pin(
            &pin(text, "nginx:1.25", "library/nginx:1.25"),
            "redis:7",
            "library/redis:7",
        );
        let got = fs::read_to_string(tree.path().join(name)).expect("read");
        assert_eq!(
            got, want,
            "{name}: the bad document untouched, the others pinned"
        );
        let warning = err
            .lines()
            .find(|l| l.starts_with(&format!("warning: {name}:")))
            .unwrap_or_else(|| panic!("{name}: no warning in\n{err}"));
        assert!(
            warning.starts_with(&format!("warning: {name}:{line}: document skipped")),
            "{name}: {warning}"
        );
        assert!(warning.contains(bad.says), "{name}: {warning}");
        let helm_hint = warning.contains("Helm templates");
        assert_eq!(helm_hint, bad.name == "go", "{warning}");
    }
    assert!(err.contains("skipped 9 YAML documents"), "{err}");

    // Pinned now, so only the skipped documents can fail a run: with --strict.
    let check = imagepin(tree.path(), &["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    for args in [
        &["check", "--strict"][..],
        &["fix", "--strict", "--dry-run"],
        &["update", "--strict", "--dry-run"],
        &["verify", "--strict"],
    ] {
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        if args[0] != "check" {
            args.extend(seeded.mirror_args());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = imagepin(tree.path(), &args);
        assert_eq!(run.status.code(), Some(1), "{args:?}: {}", stderr(&run));
    }
}

#[test]
fn skipped_documents_reach_json_sarif_and_github_output() {
    let tree = copy_tree(&golden("not-images").join("input"));
    // A work tree: SARIF and annotations name files from its root.
    support::git::git(tree.path(), &["init", "-q"]);
    fs::write(
        tree.path().join("chart.yaml"),
        "image: nginx:1.25\n---\n{{- if .Values.x }}\nimage: redis:7\n{{- end }}\n",
    )
    .expect("write");

    let json = imagepin(tree.path(), &["check", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("json");
    let skipped = doc["skipped"].as_array().expect("skipped list");
    assert_eq!(skipped.len(), 1, "{doc}");
    assert_eq!(skipped[0]["path"], "chart.yaml");
    assert_eq!(skipped[0]["line"], 3);
    assert!(
        skipped[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("Helm templates must be rendered first")),
        "{doc}"
    );
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(2));

    let sarif = imagepin(tree.path(), &["check", "--format", "sarif"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&sarif)).expect("sarif");
    support::sarif::assert_valid(&doc);
    let notes = &doc["runs"][0]["invocations"][0]["toolExecutionNotifications"];
    assert_eq!(notes.as_array().map(Vec::len), Some(1), "{doc}");
    assert_eq!(notes[0]["level"], "warning");
    let location = &notes[0]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "chart.yaml");
    assert_eq!(location["region"]["startLine"], 3);

    let github = imagepin(tree.path(), &["check", "--format", "github", "--strict"]);
    assert_eq!(github.status.code(), Some(1));
    assert!(
        stdout(&github)
            .contains("::error file=chart.yaml,line=3,title=imagepin%3A skipped::document skipped"),
        "{}",
        stdout(&github)
    );
    let github = imagepin(tree.path(), &["check", "--format", "github"]);
    assert!(
        stdout(&github).contains("::warning file=chart.yaml,line=3,"),
        "{}",
        stdout(&github)
    );
}

/// A run that `--strict` fails for a skipped document says why: the document is an
/// error, not a warning, and `-q` (results and errors only) keeps it.
#[test]
fn strict_says_why_it_failed_even_when_quiet() {
    let t = tempfile::tempdir().expect("tempdir");
    fs::write(
        t.path().join("chart.yaml"),
        "image: nginx:1.25@sha256:0000000000000000000000000000000000000000000000000000000000000000\n---\n{{- if .Values.x }}\nimage: redis:7\n{{- end }}\n",
    )
    .expect("write");
    for quiet in [false, true] {
        let mut args = vec!["check", "--strict"];
        if quiet {
            args.push("-q");
        }
        let run = imagepin(t.path(), &args);
        assert_eq!(run.status.code(), Some(1), "{args:?}");
        let err = stderr(&run);
        assert!(
            err.contains("error: chart.yaml:3: document skipped"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("warning:"), "{args:?}: {err}");
    }
    let run = imagepin(t.path(), &["check"]);
    assert_eq!(run.status.code(), Some(0));
    assert!(
        stderr(&run).contains("warning: chart.yaml:3: document skipped"),
        "{}",
        stderr(&run)
    );
    let run = imagepin(t.path(), &["check", "-q"]);
    assert!(!stderr(&run).contains("skipped"), "{}", stderr(&run));
}
