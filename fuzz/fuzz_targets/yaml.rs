//! The yaml scanner never panics, and every finding's span is inside the text and
//! holds the reference as written.
#![no_main]
use std::path::Path;

use imagepin::finding::PinSite;
use imagepin::scan::{FileKind, scan_source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(findings) = scan_source(Path::new("x.yaml"), text, FileKind::Yaml) {
        for f in findings {
            assert!(f.span.end <= text.len());
            if f.pin == PinSite::Inline {
                assert_eq!(&text[f.span.clone()], f.text);
            }
        }
    }
});
