//! The dockerfile scanner never panics, and every finding's span is inside the text and
//! holds the reference as written.
#![no_main]
mod common;

use imagepin::scan::FileKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    common::spans_hold_references(&common::path("Dockerfile"), text, FileKind::Dockerfile);
});
