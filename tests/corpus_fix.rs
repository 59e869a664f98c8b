//! The whole real-world corpus, fixed for real: `check --format json` lists what is
//! unpinned, a real registry is seeded with every one of those images (one path prefix
//! per upstream registry, mirrored with `--mirror HOST=URL/HOST`), `fix` runs over a copy
//! of `testdata/corpus/`, and then, in every file:
//! - the only differences are inserted pins (`@sha256:…`, `:latest` before it where the
//!   tag was implicit, or a Kustomize/Helm digest field filled or added);
//! - a second `fix` changes nothing;
//! - after moving some tags, `update` changes only digests, and a second `update`
//!   changes nothing.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::registry::TestRegistry;

fn imagepin(dir: &Path, args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_imagepin"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run imagepin")
}

fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).expect("prefix").to_path_buf(),
                    fs::read(&p).expect("read"),
                );
            }
        }
    }
    out
}

fn copy(from: &Path, to: &Path) {
    for (rel, bytes) in files(from) {
        let dst = to.join(rel);
        fs::create_dir_all(dst.parent().expect("parent")).expect("mkdir");
        fs::write(dst, bytes).expect("write");
    }
}

fn is_hex64(s: &str) -> bool {
    s.len() >= 64
        && s.as_bytes()[..64]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

/// Whether `new` differs from `old` only by inserted pins: `@sha256:HEX` (with
/// `:latest` first where no tag was written), a digest filled into an empty Kustomize or
/// Helm field (`""`, `null`, `~` or nothing), or a whole `digest:` line added. Compared
/// line by line; changed lines character by character.
fn only_pins_inserted(old: &str, new: &str) -> Result<(), String> {
    let diff = similar::TextDiff::from_lines(old, new);
    for op in diff.ops() {
        let removed: Vec<&str> = diff
            .iter_changes(op)
            .filter(|c| c.tag() == similar::ChangeTag::Delete)
            .map(|c| c.value())
            .collect();
        let mut added: Vec<&str> = diff
            .iter_changes(op)
            .filter(|c| c.tag() == similar::ChangeTag::Insert)
            .map(|c| c.value())
            .collect();
        // Lines that are only a new `digest:` field are insertions of their own.
        if added.len() > removed.len() {
            added.retain(|line| !is_digest_line(line));
        }
        if removed.len() != added.len() {
            return Err(format!("lines {removed:?} became {added:?}"));
        }
        for (before, after) in removed.iter().zip(&added) {
            line_only_gains_a_pin(before, after)?;
        }
    }
    Ok(())
}

/// A `digest: sha256:HEX` line of its own (Kustomize).
fn is_digest_line(line: &str) -> bool {
    line.trim_end_matches(['\r', '\n'])
        .trim_start_matches(' ')
        .strip_prefix("digest: sha256:")
        .is_some_and(|hex| hex.len() == 64 && is_hex64(hex))
}

fn line_only_gains_a_pin(before: &str, after: &str) -> Result<(), String> {
    let diff = similar::TextDiff::from_chars(before, after);
    let (mut deleted, mut inserted) = (String::new(), String::new());
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Delete => deleted.push_str(change.value()),
            similar::ChangeTag::Insert => inserted.push_str(change.value()),
            similar::ChangeTag::Equal => {}
        }
    }
    // One line gains one pin: all that is inserted, taken together, is one pin.
    if matches!(deleted.as_str(), "" | "null" | "~") && is_pin_insertion(&inserted) {
        return Ok(());
    }
    // Characters of the digest may align with the line's own text: compare by removing
    // the pin instead (an emptied `null`/`~` digest value counts as empty).
    let stripped = strip_one_pin(after);
    let emptied = before
        .replace("digest: null", "digest: ")
        .replace("digest: ~", "digest: ");
    if stripped.as_deref() == Some(before) || stripped.as_deref() == Some(emptied.as_str()) {
        Ok(())
    } else {
        Err(format!("{before:?} became {after:?}"))
    }
}

/// `after` with its one pin removed, in whichever form it was inserted.
fn strip_one_pin(after: &str) -> Option<String> {
    let i = after.find("sha256:")?;
    let hex = &after[i + 7..];
    if !is_hex64(hex) {
        return None;
    }
    let head = &after[..i];
    let tail = &hex[64..];
    let head = head
        .strip_suffix(":latest@")
        .or_else(|| head.strip_suffix('@'))
        .or_else(|| head.strip_suffix(", digest: "))
        .unwrap_or(head);
    Some(format!("{head}{tail}"))
}

fn is_pin_insertion(s: &str) -> bool {
    // A whole added `digest:` line: the diff may put its line break first or last.
    let breaks = |c: char| c == '\r' || c == '\n';
    let s = if s.starts_with(breaks) || s.ends_with(breaks) {
        let line = s.trim_matches(breaks).trim_start_matches(' ');
        match line.strip_prefix("digest: ") {
            Some(rest) => rest,
            None => return false,
        }
    } else {
        s
    };
    let s = s.strip_prefix(":latest").unwrap_or(s);
    let s = s.strip_prefix('@').unwrap_or(s);
    let s = s.strip_prefix(", digest: ").unwrap_or(s);
    let s = s.strip_prefix(' ').unwrap_or(s);
    s.strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && is_hex64(hex))
}

/// The text with every digest's hex replaced by a placeholder.
fn without_digests(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("sha256:") {
        out.push_str(&rest[..i + 7]);
        rest = &rest[i + 7..];
        if is_hex64(rest) {
            out.push_str("<hex>");
            rest = &rest[64..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn fix_and_update_over_the_whole_corpus_only_insert_and_move_pins() {
    let tree = tempfile::tempdir().expect("tempdir");
    copy(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/corpus"),
        tree.path(),
    );
    let dir = tree.path();

    let check = imagepin(dir, &["check".into(), "--format".into(), "json".into()]);
    let doc: Value = serde_json::from_slice(&check.stdout).expect("json");
    let mut wanted: BTreeSet<(String, String, String)> = BTreeSet::new();
    for f in doc["findings"].as_array().expect("findings") {
        if matches!(f["status"].as_str(), Some("mutable" | "untagged")) {
            wanted.insert((
                f["registry"].as_str().expect("registry").to_string(),
                f["repository"].as_str().expect("repository").to_string(),
                f["tag"].as_str().unwrap_or("latest").to_string(),
            ));
        }
    }
    assert!(wanted.len() > 200, "{} unpinned references", wanted.len());

    let reg = TestRegistry::start();
    let mut hosts = BTreeSet::new();
    let mut seeded = Vec::new();
    for (registry, repository, tag) in &wanted {
        // Registry paths must be lowercase; names the grammar allows with upper case
        // (placeholders such as CONTAINER_IMAGES_REGISTRY) stay unseeded and must fail.
        let path = format!("{registry}/{repository}");
        if path.chars().any(|c| c.is_ascii_uppercase()) {
            continue;
        }
        reg.push_image(&path, tag, &format!("{path}:{tag}"));
        hosts.insert(registry.clone());
        seeded.push((path, tag.clone()));
    }
    let mut mirror_args: Vec<String> = Vec::new();
    for host in &hosts {
        mirror_args.push("--mirror".into());
        mirror_args.push(format!("{host}={}/{host}", reg.url()));
    }
    let with_mirrors = |cmd: &str| {
        let mut a = vec![cmd.to_string()];
        a.extend(mirror_args.iter().cloned());
        a
    };

    let before = files(dir);
    let fix = imagepin(dir, &with_mirrors("fix"));
    let err = String::from_utf8_lossy(&fix.stderr).into_owned();
    assert!(matches!(fix.status.code(), Some(0 | 1)), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // Every failure is explained on a line of its own.
    let summary = err.lines().last().unwrap_or("");
    let failed: usize = summary
        .split("; ")
        .find_map(|p| p.strip_suffix(" failed"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("summary: {summary}"));
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error: ")).count(),
        failed,
        "{err}"
    );
    assert!(failed < 30, "{err}");

    let after = files(dir);
    let mut changed = 0;
    for (rel, old) in &before {
        let new = &after[rel];
        if old == new {
            continue;
        }
        changed += 1;
        let (old, new) = (String::from_utf8_lossy(old), String::from_utf8_lossy(new));
        if let Err(e) = only_pins_inserted(&old, &new) {
            panic!("{}: fix changed more than pins: {e}", rel.display());
        }
    }
    assert!(changed > 150, "only {changed} files changed");

    let again = imagepin(dir, &with_mirrors("fix"));
    assert!(matches!(again.status.code(), Some(0 | 1)));
    assert_eq!(files(dir), after, "a second fix changed files");

    // Move a tenth of the tags upstream; update moves exactly those digests.
    for (path, tag) in seeded.iter().step_by(10) {
        reg.push_image(path, tag, &format!("moved {path}:{tag}"));
    }
    let update = imagepin(dir, &with_mirrors("update"));
    let uerr = String::from_utf8_lossy(&update.stderr).into_owned();
    assert!(matches!(update.status.code(), Some(0 | 1)), "{uerr}");
    let updated = files(dir);
    let mut moved = 0;
    for (rel, old) in &after {
        let new = &updated[rel];
        if old != new {
            moved += 1;
            let (old, new) = (String::from_utf8_lossy(old), String::from_utf8_lossy(new));
            assert_eq!(
                without_digests(&old),
                without_digests(&new),
                "{}: update changed more than digests",
                rel.display()
            );
        }
    }
    assert!(moved > 10, "only {moved} files moved: {uerr}");
    let again = imagepin(dir, &with_mirrors("update"));
    assert!(matches!(again.status.code(), Some(0 | 1)));
    assert_eq!(files(dir), updated, "a second update changed files");
}

#[test]
fn the_pin_check_sees_only_pins() {
    let d = "a".repeat(64);
    let ok = |old: &str, new: &str| only_pins_inserted(old, new).is_ok();
    assert!(ok(
        "image: nginx # x",
        &format!("image: nginx:latest@sha256:{d} # x")
    ));
    assert!(ok(
        "image: nginx:latest\n",
        &format!("image: nginx:latest@sha256:{d}\n")
    ));
    assert!(ok(
        "- name: a\n  newTag: \"1\"\n",
        &format!("- name: a\n  newTag: \"1\"\n  digest: sha256:{d}\n")
    ));
    assert!(ok("{name: a}", &format!("{{name: a, digest: sha256:{d}}}")));
    assert!(ok("digest: \"\"", &format!("digest: \"sha256:{d}\"")));
    assert!(ok("digest: null", &format!("digest: sha256:{d}")));
    assert!(!ok("image: nginx:1", "image: nginx:2"));
    assert!(!ok("image: nginx", &format!("image: nginx@sha256:{d} ")));
    assert_eq!(without_digests(&format!("x@sha256:{d}")), "x@sha256:<hex>");
}
