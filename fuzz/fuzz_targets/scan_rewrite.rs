//! Scan, pin every unpinned reference, re-scan: the edited text must scan to the same
//! number of references with exactly the edited ones pinned (what `fix` checks before
//! writing), and pinning again must find nothing to do.
#![no_main]
use std::path::Path;

use imagepin::commands::fix::pin_edit;
use imagepin::finding::Status;
use imagepin::rewrite;
use imagepin::scan::{FileKind, scan_source};
use libfuzzer_sys::fuzz_target;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fuzz_target!(|input: (u8, &str)| {
    let (which, text) = input;
    let (name, kind) = match which % 3 {
        0 => ("x.yaml", FileKind::Yaml),
        1 => ("Dockerfile", FileKind::Dockerfile),
        _ => ("devcontainer.json", FileKind::Jsonc),
    };
    let path = Path::new(name);
    let Ok(before) = scan_source(path, text, kind) else { return };
    let edits: Vec<_> = before
        .iter()
        .filter(|f| f.status.needs_pin())
        .filter_map(|f| pin_edit(f, DIGEST).ok().map(|(e, _)| e))
        .collect();
    let Ok(after_text) = rewrite::apply(text, &edits) else {
        panic!("edits from one scan overlap");
    };
    let after = scan_source(path, &after_text, kind).expect("pinned text still scans");
    let pinned = |fs: &[imagepin::finding::Finding]| fs.iter().filter(|f| f.status == Status::Pinned).count();
    assert_eq!(after.len(), before.len(), "{after_text:?}");
    assert_eq!(pinned(&after), pinned(&before) + edits.len(), "{after_text:?}");
});
