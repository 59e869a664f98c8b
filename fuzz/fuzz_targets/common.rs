//! What the scanner targets share: the check every scanner's findings pass, and the
//! files (name and kind) the scan-and-pin target reads its input as.
#![allow(dead_code)] // each target uses a part

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use imagepin::finding::PinSite;
use imagepin::scan::detect::HclDialect;
use imagepin::scan::{FileKind, scan_source};

/// Every file kind with a scanner of its own, with a name it is found by.
pub const KINDS: [(&str, FileKind); 10] = [
    ("x.yaml", FileKind::Yaml),
    ("Dockerfile", FileKind::Dockerfile),
    ("devcontainer.json", FileKind::Jsonc),
    ("x.container", FileKind::Quadlet),
    ("Jenkinsfile", FileKind::Jenkinsfile),
    ("main.tf", FileKind::Hcl(HclDialect::Terraform)),
    ("job.nomad", FileKind::Hcl(HclDialect::Nomad)),
    ("docker-bake.hcl", FileKind::Hcl(HclDialect::Bake)),
    ("main.tf.json", FileKind::HclJson(HclDialect::Terraform)),
    ("docker-bake.json", FileKind::HclJson(HclDialect::Bake)),
];

/// `name` in an empty folder: a Terraform file's module (its folder) is read for
/// variables, and must hold nothing but the text under test.
pub fn path(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("imagepin-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a folder for the fuzzed file");
        dir
    });
    dir.join(name)
}

/// The scanner never panics, and every finding's span is inside the text and holds the
/// reference as written (where it is pinned in place).
pub fn spans_hold_references(path: &Path, text: &str, kind: FileKind) {
    if let Ok(findings) = scan_source(path, text, kind) {
        for f in findings {
            assert!(f.span.end <= text.len());
            if f.pin == PinSite::Inline {
                assert_eq!(&text[f.span.clone()], f.text);
            }
        }
    }
}
