//! Scan, pin every unpinned reference, re-scan: the edited text must scan to the same
//! number of references with exactly the edited ones pinned (what `fix` checks before
//! writing), and pinning again must find nothing to do.
#![no_main]
mod common;

use imagepin::commands::fix::pin_edit;
use imagepin::finding::{Finding, Status};
use imagepin::rewrite;
use imagepin::scan::scan_source;
use libfuzzer_sys::fuzz_target;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fuzz_target!(|input: (u8, &str)| {
    let (which, text) = input;
    let (name, kind) = common::KINDS[usize::from(which) % common::KINDS.len()];
    let path = &common::path(name);
    let Ok(before) = scan_source(path, text, kind) else {
        return;
    };
    let pin_all = |fs: &[Finding]| -> Vec<_> {
        fs.iter()
            .filter(|f| f.status.needs_pin())
            .filter_map(|f| pin_edit(f, DIGEST).ok().map(|(e, _)| e))
            .collect()
    };
    let edits = pin_all(&before);
    let Ok(after_text) = rewrite::apply(text, &edits) else {
        panic!("edits from one scan overlap");
    };
    let after = scan_source(path, &after_text, kind).expect("pinned text still scans");
    let pinned = |fs: &[Finding]| fs.iter().filter(|f| f.status == Status::Pinned).count();
    assert_eq!(after.len(), before.len(), "{after_text:?}");
    assert_eq!(
        pinned(&after),
        pinned(&before) + edits.len(),
        "{after_text:?}"
    );
    assert!(pin_all(&after).is_empty(), "{after_text:?}");
});
