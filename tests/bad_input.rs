//! Bad input gets a clear message and loses nothing: binary and non-UTF-8 files are
//! skipped naming file (and line), symlink loops do not hang the walk, symlinks and
//! read-only files are never written (the rest of the run goes on), alias bombs and deep
//! nesting neither crash nor blow up.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;

use support::golden::{imagepin, stderr};
use support::registry::TestRegistry;

#[test]
fn binary_and_non_utf8_files_are_skipped_with_file_and_line() {
    let t = tempfile::tempdir().expect("tempdir");
    fs::write(t.path().join("bin.yaml"), b"image: nginx\0\x01\x02").expect("write");
    fs::write(
        t.path().join("latin1.yaml"),
        b"a: 1\nb: 2\nimage: caf\xe9\n",
    )
    .expect("write");
    // UTF-16 with a byte-order mark.
    let utf16: Vec<u8> = "\u{feff}image: nginx\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    fs::write(t.path().join("utf16.yaml"), utf16).expect("write");
    fs::write(t.path().join("ok.yaml"), "image: nginx:1.25\n").expect("write");
    let o = imagepin(t.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1), "the readable file still counts");
    let err = stderr(&o);
    assert!(err.contains("bin.yaml: binary file"), "{err}");
    assert!(err.contains("latin1.yaml:3: not valid UTF-8"), "{err}");
    assert!(err.contains("utf16.yaml"), "{err}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("ok.yaml:1:8: mutable"));
}

#[test]
fn symlink_loops_do_not_hang_and_links_are_not_followed_out_of_the_tree() {
    let outside = tempfile::tempdir().expect("tempdir");
    fs::write(outside.path().join("secret.yaml"), "image: outside:1\n").expect("write");
    let t = tempfile::tempdir().expect("tempdir");
    fs::create_dir(t.path().join("a")).expect("mkdir");
    std::os::unix::fs::symlink(t.path(), t.path().join("a/loop")).expect("symlink");
    std::os::unix::fs::symlink(outside.path(), t.path().join("out")).expect("symlink");
    fs::write(t.path().join("a/x.yaml"), "image: inside:1\n").expect("write");
    let o = imagepin(t.path(), &["check", "--format", "json"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("inside:1"), "{text}");
    assert!(
        !text.contains("outside:1"),
        "links are not followed: {text}"
    );
}

#[test]
fn symlinks_and_read_only_files_are_never_written_and_the_run_goes_on() {
    let reg = TestRegistry::start();
    let digest = reg.push_image("library/nginx", "1.25", "n");
    let outside = tempfile::tempdir().expect("tempdir");
    let target = outside.path().join("target.yaml");
    fs::write(&target, "image: nginx:1.25\n").expect("write");
    let t = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(&target, t.path().join("link.yaml")).expect("symlink");
    fs::write(t.path().join("ro.yaml"), "image: nginx:1.25\n").expect("write");
    fs::set_permissions(t.path().join("ro.yaml"), fs::Permissions::from_mode(0o444))
        .expect("chmod");
    fs::write(t.path().join("ok.yaml"), "image: nginx:1.25\n").expect("write");
    let mirror = format!("docker.io={}", reg.url());
    let o = imagepin(
        t.path(),
        &[
            "fix",
            "--mirror",
            &mirror,
            "link.yaml",
            "ro.yaml",
            "ok.yaml",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("link.yaml:1:8: nginx:1.25:") && err.contains("symbolic link"),
        "{err}"
    );
    assert!(
        err.contains("ro.yaml:1:8: nginx:1.25:") && err.contains("read-only"),
        "{err}"
    );
    assert_eq!(
        fs::read_to_string(&target).expect("read"),
        "image: nginx:1.25\n"
    );
    assert!(
        fs::symlink_metadata(t.path().join("link.yaml"))
            .expect("meta")
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        fs::read_to_string(t.path().join("ro.yaml")).expect("read"),
        "image: nginx:1.25\n"
    );
    assert_eq!(
        fs::read_to_string(t.path().join("ok.yaml")).expect("read"),
        format!("image: nginx:1.25@{digest}\n")
    );
}

#[test]
fn alias_bombs_and_deep_nesting_stay_bounded() {
    let t = tempfile::tempdir().expect("tempdir");
    // Billion laughs: aliases are never expanded by the scanner.
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let mut prev = 'a';
    for c in "bcdefghi".chars() {
        bomb.push_str(&format!(
            "{c}: &{c} [{}]\n",
            vec![format!("*{prev}"); 9].join(",")
        ));
        prev = c;
    }
    bomb.push_str("image: nginx:1.25\n");
    fs::write(t.path().join("bomb.yaml"), &bomb).expect("write");
    // The same bomb in a file the grammar refuses goes to the YAML fallback, whose
    // parser refuses the expansion.
    fs::write(
        t.path().join("bomb2.yaml"),
        format!("{bomb}args: [\"\n  x\n\"]\n"),
    )
    .expect("write");
    // Deep nesting.
    let deep = format!(
        "image: nginx:1.25\nx: {}{}\n",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    fs::write(t.path().join("deep.yaml"), deep).expect("write");
    let o = imagepin(t.path(), &["check"]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("bomb.yaml:10:8: mutable"), "{text}");
    // Nesting no manifest comes near is refused with its line, not read half-way.
    assert!(
        stderr(&o).contains("deep.yaml:2: nested deeper than 200 levels"),
        "{}",
        stderr(&o)
    );
}
