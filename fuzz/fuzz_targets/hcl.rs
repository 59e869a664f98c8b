//! The HCL scanners (native syntax and JSON, Terraform, Nomad and Bake) never panic,
//! and every finding's span is inside the text and holds the reference as written.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u8, &str)| {
    let (which, text) = input;
    let hcl = &common::KINDS[5..];
    let (name, kind) = hcl[usize::from(which) % hcl.len()];
    common::spans_hold_references(&common::path(name), text, kind);
});
