//! Stdin mode end to end: `imagepin fix -` pins a rendered stream on its way to a
//! cluster, byte-exact, against a real registry (Debian's docker-registry on loopback,
//! standing in for Docker Hub and GHCR through `--mirror`); `check -`, `verify -` and
//! `update -` read stdin too; nothing half-pinned ever reaches stdout; `--lock` records
//! what was resolved and `--from-lock` pins from it with no registry running.

mod support;

use std::fs;
use std::path::Path;
use std::process::Output;

use support::golden::{Seeded, imagepin, seed, stderr, stdout};
use support::pipe::imagepin_stdin;

/// A golden stream: (input, expected), placeholders expanded.
fn golden_stream(seeded: &Seeded, case: &str) -> (String, String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/stdin")
        .join(case);
    let read = |name: &str| {
        let text = fs::read_to_string(dir.join(name)).expect("read golden");
        seeded.expand(&text)
    };
    (read("input.yaml"), read("expected.yaml"))
}

/// `imagepin fix ARGS -` with the seeded mirrors, `input` on stdin.
fn fix_stdin(seeded: &Seeded, dir: &Path, extra: &[&str], input: &str) -> Output {
    let mut args: Vec<String> = vec!["fix".into(), "-".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(seeded.mirror_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    imagepin_stdin(dir, &args, input.as_bytes())
}

#[test]
fn fix_stdin_pins_a_rendered_stream_byte_exact_and_a_second_pass_is_a_no_op() {
    let seeded = seed();
    let dir = tempfile::tempdir().expect("tempdir");
    for case in ["rendered", "crlf"] {
        let (input, expected) = golden_stream(&seeded, case);
        let first = fix_stdin(&seeded, dir.path(), &[], &input);
        assert_eq!(first.status.code(), Some(0), "{case}: {}", stderr(&first));
        assert_eq!(stdout(&first), expected, "{case}");
        // What was done is reported on stderr, named <stdin>:LINE:COLUMN.
        let err = stderr(&first);
        assert!(err.contains("<stdin>:"), "{case}: {err}");
        assert_eq!(
            err.matches(": pinned nginx:1.25 -> nginx:1.25@sha256:")
                .count(),
            if case == "crlf" { 2 } else { 1 },
            "each row once: {err}"
        );

        let second = fix_stdin(&seeded, dir.path(), &[], &expected);
        assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
        assert_eq!(
            stdout(&second),
            expected,
            "{case}: second pass changed bytes"
        );
        assert!(
            stderr(&second).contains("pinned 0 references"),
            "{}",
            stderr(&second)
        );

        let check_before = imagepin_stdin(dir.path(), &["check", "-"], input.as_bytes());
        assert_eq!(
            check_before.status.code(),
            Some(1),
            "{}",
            stdout(&check_before)
        );
        assert!(
            stdout(&check_before).contains("<stdin>:"),
            "{}",
            stdout(&check_before)
        );
        let check_after = imagepin_stdin(dir.path(), &["check", "-"], expected.as_bytes());
        assert_eq!(
            check_after.status.code(),
            Some(0),
            "{}",
            stdout(&check_after)
        );
    }
    // Nothing was written next to the run: stdin mode writes no file.
    assert_eq!(fs::read_dir(dir.path()).expect("read_dir").count(), 0);
}

#[test]
fn check_stdin_exit_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let digest = format!("sha256:{}", "a".repeat(64));
    let check = |args: &[&str], input: &str| {
        let mut all = vec!["check", "-"];
        all.extend_from_slice(args);
        let o = imagepin_stdin(dir.path(), &all, input.as_bytes());
        (o.status.code(), stdout(&o), stderr(&o))
    };
    let pod = |image: &str| {
        format!("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: {image}\n")
    };

    let (code, out, _) = check(&[], &pod(&format!("nginx:1.25@{digest}")));
    assert_eq!(code, Some(0), "{out}");
    let (code, out, _) = check(&[], &pod("nginx:1.25"));
    assert_eq!(code, Some(1));
    assert_eq!(out, "<stdin>:5:12: mutable   nginx:1.25 (kubernetes)\n");
    assert_eq!(
        check(&[], "").0,
        Some(0),
        "an empty stream holds nothing unpinned"
    );
    assert_eq!(check(&[], "apiVersion: v1\nkind: ConfigMap\n").0, Some(0));

    // Rendering should have replaced a template: an error in rendered output.
    let (code, _, err) = check(&[], &pod("\"{{ .Values.image }}\""));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("<stdin>:5:13:") && err.contains("rendering should have replaced it"),
        "{err}"
    );
    let o = imagepin_stdin(
        dir.path(),
        &["check", "-", "--format", "sarif"],
        pod("'{{ .Values.image }}'").as_bytes(),
    );
    assert_eq!(o.status.code(), Some(1));
    let sarif: serde_json::Value = serde_json::from_slice(&o.stdout).expect("SARIF");
    support::sarif::assert_valid(&sarif);
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "unrendered", "{result}");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "%3Cstdin%3E"
    );
    // A Dockerfile's ARG without a default is the builder's to fill in: information, as
    // for files. (With a default, it is the reference the default makes: mutable.)
    let dockerfile = format!("ARG GO\nFROM golang:${{GO}}\nFROM nginx:1.25@{digest}\n");
    let (code, out, err) = check(&["--stdin-format", "dockerfile"], &dockerfile);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("<stdin>:2:6: templated golang:${GO} (dockerfile)"),
        "{out}"
    );

    // What cannot be read fails: it can be neither passed on nor called clean.
    let (code, _, err) = check(&[], "a: [unclosed\nimage: nginx:1.25\n");
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("error: <stdin>:2: document skipped: not valid YAML"),
        "{err}"
    );
    let o = imagepin_stdin(dir.path(), &["check", "-"], b"image: \xff\n");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("<stdin>:1: not valid UTF-8"),
        "{}",
        stderr(&o)
    );

    // --stdin-filename names the stream and decides its format.
    let workflow = "on: push\njobs:\n  a:\n    runs-on: x\n    container: node:20\n";
    let (code, out, _) = check(&["--stdin-filename", ".github/workflows/ci.yml"], workflow);
    assert_eq!(code, Some(1));
    assert_eq!(
        out,
        ".github/workflows/ci.yml:5:16: mutable   node:20 (github-actions)\n"
    );

    // `-` alone: mixing it with paths, or stdin flags without it, is a usage error.
    let o = imagepin(dir.path(), &["check", "-", "."]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot be combined with other paths"),
        "{}",
        stderr(&o)
    );
    let o = imagepin(dir.path(), &["check", "--stdin-format", "compose", "."]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_failed_lookup_writes_nothing_and_keep_going_writes_what_could_be_pinned() {
    let seeded = seed();
    let dir = tempfile::tempdir().expect("tempdir");
    let input = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: nginx:1.25\n  - image: nosuchorg/nothing:1\n";
    let out = fix_stdin(&seeded, dir.path(), &[], input);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        out.stdout.is_empty(),
        "half-pinned stream written: {}",
        stdout(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("<stdin>:6:12: nosuchorg/nothing:1"), "{err}");
    assert!(
        err.contains("nothing written to stdout: 1 reference failed"),
        "{err}"
    );
    assert!(
        err.contains("would pin nginx:1.25"),
        "not written, so not pinned: {err}"
    );
    assert!(err.contains("pinned 0 references"), "{err}");

    let out = fix_stdin(&seeded, dir.path(), &["--keep-going"], input);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let nginx = &seeded.digests["library/nginx:1.25"];
    assert_eq!(
        stdout(&out),
        format!(
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: nginx:1.25@{nginx}\n  - image: nosuchorg/nothing:1\n"
        )
    );

    // A template left in rendered output is a failure too.
    let templated = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: nginx:1.25\n  - image: '{{ .Values.sidecar }}'\n";
    let out = fix_stdin(&seeded, dir.path(), &[], templated);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains(
            "<stdin>:6:13: {{ .Values.sidecar }}: templated reference in rendered output"
        ),
        "{}",
        stderr(&out)
    );

    // So is a stream that cannot be read.
    let out = fix_stdin(
        &seeded,
        dir.path(),
        &[],
        "kind: Pod\nspec: {containers: [{image: nginx:1.25}\n",
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let out = fix_stdin(
        &seeded,
        dir.path(),
        &["--keep-going"],
        "kind: Pod\nspec: {containers: [{image: nginx:1.25}\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "kind: Pod\nspec: {containers: [{image: nginx:1.25}\n",
        "passed on unchanged"
    );
}

#[test]
fn diff_and_dry_run_on_stdin_write_no_stream() {
    let seeded = seed();
    let dir = tempfile::tempdir().expect("tempdir");
    let input = "kind: Pod\napiVersion: v1\nspec:\n  containers:\n  - image: nginx:1.25\n";
    let nginx = &seeded.digests["library/nginx:1.25"];
    let out = fix_stdin(&seeded, dir.path(), &["--diff"], input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let diff = stdout(&out);
    assert!(diff.contains("--- a/<stdin>\n+++ b/<stdin>\n"), "{diff}");
    assert!(diff.contains("-  - image: nginx:1.25\n"), "{diff}");
    assert!(
        diff.contains(&format!("+  - image: nginx:1.25@{nginx}\n")),
        "{diff}"
    );

    let out = fix_stdin(&seeded, dir.path(), &["--dry-run"], input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("<stdin>:5:12: would pin nginx:1.25 -> nginx:1.25@{nginx}\n")
    );
}

#[test]
fn dev_stdin_named_on_the_command_line_reads_stdin_once() {
    let seeded = seed();
    let dir = tempfile::tempdir().expect("tempdir");
    let input = "kind: Pod\napiVersion: v1\nspec:\n  containers:\n  - image: redis:7\n";
    let dash = fix_stdin(&seeded, dir.path(), &[], input);
    let mut args = vec!["fix".to_string(), "/dev/stdin".to_string()];
    args.extend(seeded.mirror_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let named = imagepin_stdin(dir.path(), &args, input.as_bytes());
    assert_eq!(named.status.code(), Some(0), "{}", stderr(&named));
    assert_eq!(stdout(&named), stdout(&dash));
    assert!(stdout(&named).contains(&seeded.digests["library/redis:7"]));
    let check = imagepin_stdin(dir.path(), &["check", "/dev/stdin"], input.as_bytes());
    assert_eq!(check.status.code(), Some(1));
    assert!(
        stdout(&check).contains("<stdin>:5:12: mutable   redis:7"),
        "{}",
        stdout(&check)
    );
}

#[test]
fn stdin_format_reads_the_stream_with_that_formats_rules() {
    let seeded = seed();
    let dir = tempfile::tempdir().expect("tempdir");
    // A kustomization's images: entry is pinned by adding its digest field.
    let input = "images:\n  - name: nginx\n    newTag: \"1.25\"\n";
    let out = fix_stdin(&seeded, dir.path(), &["--stdin-format", "kustomize"], input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let nginx = &seeded.digests["library/nginx:1.25"];
    assert_eq!(
        stdout(&out),
        format!("images:\n  - name: nginx\n    newTag: \"1.25\"\n    digest: {nginx}\n")
    );
    // Read as plain YAML, the same text holds no image.
    let out = fix_stdin(&seeded, dir.path(), &[], input);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), input);
    // Formats that are not YAML have their names too.
    for (format, input, image) in [
        (
            "terraform",
            "resource \"docker_image\" \"a\" {\n  name = \"nginx:1.25\"\n}\n",
            "nginx:1.25",
        ),
        (
            "quadlet",
            "[Container]\nImage=docker://redis:7\n",
            "redis:7",
        ),
        (
            "jenkinsfile",
            "docker.image('alpine:3.19').inside { }\n",
            "alpine:3.19",
        ),
    ] {
        let check = imagepin_stdin(
            dir.path(),
            &["check", "--stdin-format", format, "-"],
            input.as_bytes(),
        );
        assert_eq!(check.status.code(), Some(1), "{format}: {}", stderr(&check));
        assert!(
            stdout(&check).contains(&format!("mutable   {image}")),
            "{format}: {}",
            stdout(&check)
        );
    }
}

/// A Dockerfile piped in without `--stdin-format` is read as one — as a file named on
/// the command line whose name says nothing is — not as a YAML plain scalar that holds
/// no image ("0 references", exit 0: a false green).
#[test]
fn a_dockerfile_on_stdin_is_read_as_a_dockerfile_without_being_told() {
    let seeded = seed();
    let dir = tempfile::tempdir().expect("tempdir");
    let input = "# a comment\nARG V=1\nFROM nginx:1.25 AS web\nRUN true\n";
    let check = imagepin_stdin(dir.path(), &["check", "-"], input.as_bytes());
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    assert!(
        stdout(&check).contains("<stdin>:3:6: mutable   nginx:1.25 (dockerfile)"),
        "{}",
        stdout(&check)
    );
    let out = fix_stdin(&seeded, dir.path(), &[], input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let nginx = &seeded.digests["library/nginx:1.25"];
    assert_eq!(
        stdout(&out),
        input.replace("nginx:1.25", &format!("nginx:1.25@{nginx}"))
    );
    // Named a YAML format, it is YAML (a plain scalar: no image).
    let yaml = imagepin_stdin(
        dir.path(),
        &["check", "-", "--stdin-format", "yaml"],
        input.as_bytes(),
    );
    assert_eq!(yaml.status.code(), Some(0), "{}", stderr(&yaml));
}

#[test]
fn verify_and_update_read_stdin_too() {
    let seeded = seed();
    let dir = tempfile::tempdir().expect("tempdir");
    let mirrors = seeded.mirror_args();
    fn with<'a>(first: &[&'a str], mirrors: &'a [String]) -> Vec<&'a str> {
        let mut args: Vec<&str> = first.to_vec();
        args.extend(mirrors.iter().map(String::as_str));
        args
    }
    let with_mirrors = |first: &[&'static str]| with(first, &mirrors);
    let old = seeded.digests["library/nginx:1.25"].clone();
    let gone = format!("sha256:{}", "0".repeat(64));
    let input = format!(
        "kind: Pod\napiVersion: v1\nspec:\n  containers:\n  - image: nginx:1.25@{old}\n  - image: redis@{gone}\n"
    );
    let out = imagepin_stdin(
        dir.path(),
        &with_mirrors(&["verify", "-"]),
        input.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("<stdin>:6:12: dangling redis@"),
        "{}",
        stdout(&out)
    );

    // The tag moves: `update -` writes the stream with the pin moved.
    let new = seeded.registry.push_image("library/nginx", "1.25", "moved");
    assert_ne!(new, old);
    let current =
        format!("kind: Pod\napiVersion: v1\nspec:\n  containers:\n  - image: nginx:1.25@{old}\n");
    let out = imagepin_stdin(
        dir.path(),
        &with_mirrors(&["update", "-"]),
        current.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), current.replace(&old, &new));
    assert!(
        stderr(&out).contains("<stdin>:5:12: updated nginx:1.25"),
        "{}",
        stderr(&out)
    );
    let out = imagepin(dir.path(), &["update", "-", "--commit"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn lock_then_from_lock_with_the_registry_stopped_gives_identical_output() {
    let seeded = seed();
    let dir = tempfile::tempdir().expect("tempdir");
    let (input, expected) = golden_stream(&seeded, "rendered");
    let lock = dir.path().join("imagepin.lock.json");
    let lock_arg = lock.to_str().expect("utf-8 path");
    let first = fix_stdin(&seeded, dir.path(), &["--lock", lock_arg], &input);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(stdout(&first), expected);

    let recorded: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&lock).expect("lock written")).expect("JSON");
    assert_eq!(recorded["version"], 1);
    let references = recorded["references"].as_object().expect("references");
    let mut written: Vec<&str> = references.keys().map(String::as_str).collect();
    written.sort();
    // Each reference as written that was pinned; the one already pinned was not looked up.
    assert_eq!(
        written,
        [
            "busybox:1.36",
            "ghcr.io/acme/api:v2",
            "nginx:1.25",
            "postgres:16",
            "redis"
        ]
    );
    let redis = &references["redis"];
    assert_eq!(redis["registry"], "docker.io");
    assert_eq!(redis["repository"], "library/redis");
    assert_eq!(redis["tag"], "latest");
    assert_eq!(
        redis["digest"],
        seeded.digests["library/redis:latest"].as_str()
    );
    assert!(
        redis["resolved_at"].as_str().expect("time").ends_with('Z'),
        "{redis}"
    );

    // No registry from here on: the mirror flags point at a port nothing answers.
    let Seeded {
        registry, digests, ..
    } = seeded;
    let dead = registry.url();
    drop(registry);
    let offline = |args: &[&str], input: &str| {
        let mut all = vec!["fix", "-", "--mirror"];
        let mirror = format!("docker.io={dead}");
        all.push(&mirror);
        all.extend_from_slice(args);
        imagepin_stdin(dir.path(), &all, input.as_bytes())
    };
    let again = offline(&["--from-lock", lock_arg], &input);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(stdout(&again), expected);
    assert!(
        stderr(&again).contains("answered from the lock (no registry asked)"),
        "{}",
        stderr(&again)
    );
    // Without the lock, the same run fails: the registry really is gone.
    let without = offline(&[], &input);
    assert_eq!(without.status.code(), Some(1), "{}", stderr(&without));

    // A reference the lock does not hold fails, and nothing is written.
    let more = format!(
        "{input}---\nkind: Pod\napiVersion: v1\nspec:\n  containers:\n  - image: node:20\n"
    );
    let out = offline(&["--from-lock", lock_arg], &more);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("node:20: docker.io: library/node:20 is not in the lock"),
        "{}",
        stderr(&out)
    );

    // File mode pins from the same lock, identically.
    let tree = tempfile::tempdir().expect("tempdir");
    fs::write(tree.path().join("app.yaml"), &input).expect("write");
    let out = imagepin(tree.path(), &["fix", "--from-lock", lock_arg]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        fs::read_to_string(tree.path().join("app.yaml")).expect("read"),
        expected
    );
    assert!(expected.contains(&digests["library/postgres:16"]));
}
